"""Pages of e-mail intake: the service mailbox settings with a connection test (support.manage_service),
the received mail with the to-match list (support.add_ticket), matching a mail to a customer, and
a mail's attachments."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kehu.core.forms import apply_errors
from kehu.core.pagination import page_of
from kehu.core.params import page_param, parse_id, text_param
from kehu.customers.search import search_candidates
from kehu.customers.selectors import customer_get, customer_qs_visible_to
from kehu.support import mail_intake, mail_settings
from kehu.support.models import InboundStatus, MailAttachment, Mailbox, TicketCategory
from kehu.support.selectors import people_who_may, ticket_qs_visible_to

PAGE_SIZE = 25
INLINE_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf"}
TABS = [
    ("to_match", gettext_lazy("To match")),
    ("automatic", gettext_lazy("Automatic replies")),
    ("", gettext_lazy("All mail")),
]


class MailboxForm(forms.ModelForm):
    password = forms.CharField(
        label=gettext_lazy("Password"),
        required=False,
        max_length=200,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )

    class Meta:
        model = Mailbox
        fields = [
            "is_active",
            "address",
            "host",
            "port",
            "security",
            "username",
            "folder",
            "default_category",
            "default_priority",
            "default_owner",
            "send_acknowledgement",
        ]
        help_texts = {
            "address": gettext_lazy("Customers write here; answers carry it as the reply address."),
            "folder": gettext_lazy("Usually INBOX."),
        }

    def __init__(self, *args, has_password: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["default_category"].queryset = TicketCategory.objects.filter(is_active=True)
        self.fields["default_owner"].queryset = people_who_may("support.change_ticket")
        self.fields["password"].help_text = (
            _("A password is saved. Leave empty to keep it.") if has_password else _("Not set yet.")
        )
        order = ["is_active", "address", "host", "port", "security", "username", "password", "folder"]
        self.order_fields(order)


def _require(user, perm: str) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied


def _require_desk(user) -> None:
    if not mail_settings.may_handle_mail(user):
        raise PermissionDenied


def mailbox_edit(request):
    """The mailbox settings; "Test the connection" logs in with what was saved and says what happened."""
    _require(request.user, "support.manage_service")
    box = Mailbox.load()
    if request.method == "POST" and request.POST.get("action") == "test":
        try:
            messages.success(request, mail_intake.mailbox_test(box))
        except mail_intake.MailboxError as exc:
            messages.error(request, str(exc))
        return redirect("support:mailbox")
    form = MailboxForm(request.POST or None, instance=box, has_password=box.has_password)
    if request.method == "POST" and form.is_valid():
        values = {name: form.cleaned_data[name] for name in mail_settings.MAILBOX_FIELDS}
        try:
            mail_settings.mailbox_update(actor=request.user, password=form.cleaned_data["password"], **values)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Mailbox settings saved."))
            return redirect("support:mailbox")
    box.refresh_from_db()
    return render(request, "support/mail/mailbox_form.html", {"form": form, "box": box})


def inbound_list(request):
    """Received mail: the to-match list first; automatic replies and everything on other tabs."""
    _require_desk(request.user)
    status = text_param(request, "status", 20) if "status" in request.GET else "to_match"
    if status and status not in InboundStatus.values:
        status = "to_match"
    page = page_param(request)
    result = page_of(
        mail_settings.inbound_list(request.user, status=status), offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    counts = mail_settings.inbound_counts(request.user)
    tabs = [
        {"status": key, "label": label, "count": counts.get(key) if key else sum(counts.values())}
        for key, label in TABS
    ]
    return render(
        request,
        "support/mail/inbound_list.html",
        {
            "result": result,
            "mails": result.rows,
            "page": page,
            "status": status,
            "tabs": tabs,
            "query": f"status={status}",
            "box": Mailbox.load(),
        },
    )


def _mail_or_404(user, pk):
    found = mail_settings.inbound_qs_visible_to(user).filter(pk=pk).select_related("ticket").first()
    if found is None:
        raise Http404
    return found


def inbound_detail(request, pk):
    """One mail as received, with its files; a mail to match gets the customer search."""
    _require_desk(request.user)
    mail = _mail_or_404(request.user, pk)
    ticket_visible = bool(mail.ticket_id) and ticket_qs_visible_to(request.user).filter(pk=mail.ticket_id).exists()
    return render(
        request,
        "support/mail/inbound_detail.html",
        {
            "mail": mail,
            "attachments": list(mail.attachments.all()),
            "ticket_visible": ticket_visible,
            "q": text_param(request, "q", 50),
        },
    )


def inbound_customers(request, pk):
    """htmx: customers the user sees whose name matches, each a button that opens the ticket."""
    _require_desk(request.user)
    mail = _mail_or_404(request.user, pk)
    q = text_param(request, "q", 50).strip()
    found = []
    if q:
        candidates, _complete, _every = search_candidates(q, cap=200)
        found = list(customer_qs_visible_to(request.user).filter(candidates, name__icontains=q).order_by("name")[:10])
    return render(request, "support/mail/_customer_choices.html", {"customers": found, "q": q, "mail": mail})


@require_POST
def inbound_match(request, pk):
    _require_desk(request.user)
    mail = _mail_or_404(request.user, pk)
    customer_id = parse_id(request.POST.get("customer", ""))
    if customer_id is None:
        messages.error(request, _("Choose the customer who wrote."))
        return redirect("support:mail-detail", pk=mail.pk)
    customer = customer_get(request.user, customer_id)
    try:
        ticket = mail_intake.inbound_match(mail=mail, customer=customer, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("support:mail-detail", pk=mail.pk)
    messages.success(request, _("Ticket %(number)s opened.") % {"number": ticket.number})
    return redirect("support:ticket-detail", pk=ticket.pk)


@require_POST
def inbound_dismiss(request, pk):
    _require_desk(request.user)
    mail = _mail_or_404(request.user, pk)
    try:
        mail_settings.inbound_dismiss(mail=mail, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The mail was taken off the list."))
    return redirect("support:mail-list")


def attachment_download(request, pk):
    """A file that came by mail: for whoever sees its ticket, or the desk while it waits to be matched."""
    found = MailAttachment.objects.filter(pk=pk).select_related("mail").first()
    if found is None or not request.user.is_authenticated:
        raise Http404
    ticket_id = found.mail.ticket_id
    if ticket_id is not None:
        if not ticket_qs_visible_to(request.user).filter(pk=ticket_id).exists():
            raise Http404
    elif not mail_settings.may_handle_mail(request.user):
        raise Http404
    # Shown in the browser only when it cannot carry a script (an SVG or an HTML file is downloaded).
    inline = found.content_type in INLINE_TYPES
    response = FileResponse(
        found.file.open("rb"), content_type=found.content_type, as_attachment=not inline, filename=found.filename
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    return response
