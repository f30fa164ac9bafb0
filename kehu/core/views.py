from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core.forms import OutboxFilterForm
from kehu.core.http import back_to
from kehu.core.mail import MAX_ATTEMPTS, SENT_KEPT_FOR, outbox_mail_retry
from kehu.core.models import MailStatus, OutboxMail
from kehu.core.navigation import settings_for
from kehu.core.selectors import outbox_counts, outbox_page

OUTBOX_PAGE = 50


@login_not_required
def healthz(request):
    """For load balancers: answers 200 when the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


@login_not_required
def favicon(request):
    """Clients that ask for /favicon.ico without reading the page's <link rel="icon">."""
    return redirect(static("kehu/favicon.ico"), permanent=True)


def settings_home(request):
    """Every administrative page under one entry: those this user may open."""
    areas = settings_for(request.user)
    if not areas:
        raise PermissionDenied
    return render(request, "core/settings.html", {"areas": areas})


manage_mail = permission_required("core.manage_mail", raise_exception=True)


@manage_mail
def outbox_list(request):
    """Every mail Kehu sends, newest first: queued, sending, sent or failed with the error."""
    form = OutboxFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    mails = outbox_page(
        status=data.get("status", ""),
        recipient=data.get("to", "").strip(),
        before_id=data.get("before"),
        limit=OUTBOX_PAGE + 1,
    )
    query = request.GET.copy()
    query.pop("before", None)
    counts = outbox_counts()
    return render(
        request,
        "core/outbox.html",
        {
            "form": form,
            "mails": mails[:OUTBOX_PAGE],
            "older": mails[OUTBOX_PAGE - 1].pk if len(mails) > OUTBOX_PAGE else None,
            "query": query.urlencode(),
            "status": data.get("status", ""),
            "tabs": [("", _("All"), sum(counts.values()))]
            + [(value, label, counts.get(value, 0)) for value, label in MailStatus.choices],
            "max_attempts": MAX_ATTEMPTS,
            "kept_days": SENT_KEPT_FOR.days,
        },
    )


@manage_mail
@require_POST
def outbox_retry(request, pk):
    mail = get_object_or_404(OutboxMail, pk=pk)
    try:
        outbox_mail_retry(mail=mail, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, _("The mail to %(to)s is queued for another attempt.") % {"to": ", ".join(mail.recipients)}
        )
    return redirect(back_to(request, reverse("core:outbox")))
