"""The customer self-service page under /help/ (no login): the public knowledge base with its search
and "did this solve it?", the request form with article suggestions (and deflection), the page that
follows a ticket through a signed link. And the service desk's list of requests to match."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kehu.core.forms import apply_errors
from kehu.core.http import client_ip
from kehu.core.pagination import page_of, slice_page
from kehu.core.params import id_param, page_param, parse_id, text_param
from kehu.customers.search import search_candidates
from kehu.customers.selectors import customer_get, customer_qs_visible_to
from kehu.support import kb_selectors, kb_services, portal_services
from kehu.support.kb_views import attachment_response
from kehu.support.models import (
    ArticleFeedback,
    FollowLink,
    MessageDirection,
    PortalRequest,
    PortalRequestState,
    TicketState,
)

PAGE_SIZE = 20
REQUESTS_PAGE = 25


def _public(response: HttpResponse) -> HttpResponse:
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "same-origin"  # forms post back here (no-referrer makes the Origin "null")
    response["Cache-Control"] = "private, no-store"
    return response


def _session_key(request) -> str:
    if not request.session.session_key:
        request.session.save()
    return request.session.session_key


class RequestForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Your name"), max_length=100, required=False)
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=40, required=False)
    email = forms.EmailField(label=gettext_lazy("E-mail"), required=False)
    subject = forms.CharField(label=gettext_lazy("What is the problem?"), max_length=200)
    description = forms.CharField(
        label=gettext_lazy("Describe it"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    serial_number = forms.CharField(
        label=gettext_lazy("Serial number of the machine (optional)"), max_length=100, required=False
    )


# --- the public knowledge base ------------------------------------------------------------------------


@login_not_required
@require_GET
def help_home(request):
    q = text_param(request, "q", 100)
    category_id = id_param(request, "category")
    qs = kb_selectors.public_articles()
    if category_id:
        qs = qs.filter(category_id=category_id)
    qs = kb_selectors.article_search(qs, q)
    page = page_param(request, last=200)
    # No count: a common word matches most articles, and counting them would scan the table a second time.
    rows, has_next = slice_page(qs.select_related("category"), (page - 1) * PAGE_SIZE, PAGE_SIZE)
    query = request.GET.copy()
    query.pop("page", None)
    return _public(
        render(
            request,
            "support/portal/home.html",
            {
                "q": q,
                "articles": rows,
                "has_next": has_next,
                "page": page,
                "query": query.urlencode(),
                "categories": kb_selectors.categories(),
                "category_id": category_id,
            },
        )
    )


@login_not_required
@require_GET
def help_article(request, pk):
    article = kb_selectors.public_article_get(pk)
    answer = None
    if request.session.session_key:
        answer = (
            ArticleFeedback.objects.filter(article=article, session_key=request.session.session_key)
            .values_list("helpful", flat=True)
            .first()
        )
    return _public(
        render(
            request,
            "support/portal/article.html",
            {"article": article, "attachments": kb_selectors.attachments_of(article), "answer": answer},
        )
    )


@login_not_required
@require_POST
def help_feedback(request, pk):
    article = kb_selectors.public_article_get(pk)
    helpful = request.POST.get("helpful") == "yes"
    status = 200
    try:
        portal_services.attempt("feedback_ip", client_ip(request))
    except portal_services.RateLimitedError:
        status = 429
    else:
        kb_services.feedback_record(article=article, session_key=_session_key(request), helpful=helpful)
    context = {"article": article, "answer": helpful if status == 200 else None, "limited": status == 429}
    if request.htmx:
        return _public(render(request, "support/portal/_feedback.html", context, status=status))
    if status == 429:
        return _public(render(request, "support/portal/limited.html", status=429))
    return redirect("portal:article", pk=article.pk)


@login_not_required
@require_GET
def help_attachment(request, pk, attachment_pk):
    """Only an attachment of a published public article."""
    article = kb_selectors.public_article_get(pk)
    return _public(attachment_response(kb_selectors.attachment_get(article, attachment_pk)))


# --- the request form -------------------------------------------------------------------------------------


@login_not_required
def help_request(request):
    form = RequestForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            portal_services.request_submit(
                intake=portal_services.Intake(
                    name=d["name"],
                    phone=d["phone"],
                    email=d["email"],
                    subject=d["subject"],
                    description=d["description"],
                    serial_number=d["serial_number"],
                ),
                ip=client_ip(request),
                base_url=request.build_absolute_uri("/"),
                language=get_language() or "",
            )
        except portal_services.RateLimitedError:
            return _public(render(request, "support/portal/limited.html", status=429))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return redirect("portal:request-sent")
    if request.method == "POST":
        status = 400
    return _public(render(request, "support/portal/request.html", {"form": form}, status=status))


@login_not_required
@require_GET
def help_request_sent(request):
    return _public(render(request, "support/portal/request_sent.html"))


@login_not_required
@require_GET
def help_suggest(request):
    """htmx: published public articles matching what the visitor typed so far."""
    text = " ".join(text_param(request, name, 300) for name in ("subject", "description")).strip()
    try:
        portal_services.attempt("suggest_ip", client_ip(request))
    except portal_services.RateLimitedError:
        return _public(HttpResponse("", status=429))
    found = kb_selectors.suggestions(kb_selectors.public_articles(), text) if text else []
    return _public(render(request, "support/portal/_suggestions.html", {"articles": found, "text": text}))


@login_not_required
@require_POST
def help_deflect(request, pk):
    """The visitor read a suggested article and says it solved the problem (no ticket): a deflection."""
    article = kb_selectors.public_article_get(pk)
    try:
        portal_services.attempt("feedback_ip", client_ip(request))
    except portal_services.RateLimitedError:
        return _public(render(request, "support/portal/limited.html", status=429))
    session_key = _session_key(request)
    kb_services.deflection_record(article=article, session_key=session_key)
    kb_services.feedback_record(article=article, session_key=session_key, helpful=True)
    return _public(render(request, "support/portal/deflected.html", {"article": article}))


# --- following a ticket ----------------------------------------------------------------------------------

# What the customer reads for a ticket's state.
CUSTOMER_STATES = {
    TicketState.NEW: gettext_lazy("Request received"),
    TicketState.ASSIGNED: gettext_lazy("An engineer has been assigned"),
    TicketState.IN_PROGRESS: gettext_lazy("We are working on it"),
    TicketState.WAITING_CUSTOMER: gettext_lazy("Waiting for your answer"),
    TicketState.WAITING_PARTS: gettext_lazy("Waiting for parts"),
    TicketState.RESOLVED: gettext_lazy("Solved — please confirm"),
    TicketState.CLOSED: gettext_lazy("Closed"),
    TicketState.CANCELLED: gettext_lazy("Cancelled"),
}


def _gone(request, *, unknown: bool) -> HttpResponse:
    status = 404 if unknown else 410
    return _public(render(request, "support/portal/gone.html", {"status": status}, status=status))


def _link(request, token):
    try:
        return portal_services.follow_link_find(token), None
    except FollowLink.DoesNotExist:
        return None, _gone(request, unknown=True)
    except portal_services.LinkGoneError:
        return None, _gone(request, unknown=False)


def _follow_page(request, link, token, *, error: str = "", status: int = 200):
    ticket = link.ticket
    conversation = (
        ticket.messages.exclude(direction=MessageDirection.NOTE).select_related("author").order_by("at", "pk")
    )
    return _public(
        render(
            request,
            "support/portal/follow.html",
            {
                "ticket": ticket,
                "token": token,
                "state_text": CUSTOMER_STATES.get(ticket.state, ticket.state),
                "conversation": list(conversation),
                "can_write": ticket.state not in (TicketState.CLOSED, TicketState.CANCELLED),
                "can_confirm": ticket.state not in (TicketState.CLOSED, TicketState.CANCELLED),
                "can_reopen": ticket.state == TicketState.RESOLVED,
                "error": error,
            },
            status=status,
        )
    )


@login_not_required
@require_GET
def follow(request, token):
    link, gone = _link(request, token)
    if gone:
        return gone
    return _follow_page(request, link, token)


@login_not_required
@require_POST
def follow_message(request, token):
    link, gone = _link(request, token)
    if gone:
        return gone
    try:
        portal_services.follow_message_add(link=link, body=request.POST.get("body", "")[:5000], ip=client_ip(request))
    except portal_services.RateLimitedError:
        return _public(render(request, "support/portal/limited.html", status=429))
    except ValidationError as exc:
        return _follow_page(request, link, token, error=" ".join(exc.messages), status=400)
    return redirect("portal:follow", token=token)


@login_not_required
@require_POST
def follow_confirm(request, token):
    link, gone = _link(request, token)
    if gone:
        return gone
    solved = request.POST.get("solved") == "yes"
    try:
        portal_services.follow_confirm(link=link, solved=solved, ip=client_ip(request))
    except portal_services.RateLimitedError:
        return _public(render(request, "support/portal/limited.html", status=429))
    except ValidationError as exc:
        return _follow_page(request, link, token, error=" ".join(exc.messages), status=400)
    return redirect("portal:follow", token=token)


# --- the service desk: requests to match ------------------------------------------------------------------


def _require_desk(user):
    if not user.has_perm("support.add_ticket"):
        raise PermissionDenied


def request_list(request):
    user = request.user
    _require_desk(user)
    state = request.GET.get("state", PortalRequestState.UNMATCHED)
    if state not in PortalRequestState.values:
        state = PortalRequestState.UNMATCHED
    page = page_param(request)
    result = page_of(
        PortalRequest.objects.filter(state=state).select_related("ticket", "handled_by").order_by("-created_at", "-pk"),
        offset=(page - 1) * REQUESTS_PAGE,
        limit=REQUESTS_PAGE,
    )
    return render(
        request,
        "support/portal/request_list.html",
        {
            "result": result,
            "requests": result.rows,
            "page": page,
            "query": f"state={state}",
            "state": state,
            "states": PortalRequestState.choices,
        },
    )


def _request_get(pk) -> PortalRequest:
    from django.http import Http404

    try:
        return PortalRequest.objects.get(pk=int(pk))
    except (PortalRequest.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def request_match(request, pk):
    """Find the customer (by name, among those the user sees) and open the ticket, or dismiss."""
    user = request.user
    _require_desk(user)
    found = _request_get(pk)
    if request.method == "POST":
        try:
            if request.POST.get("dismiss"):
                portal_services.request_dismiss(request=found, actor=user)
                messages.success(request, _("Request dismissed."))
                return redirect("support:portal-requests")
            customer = customer_get(user, parse_id(request.POST.get("customer", "")) or 0)
            ticket = portal_services.request_match(
                request=found, customer=customer, actor=user, base_url=request.build_absolute_uri("/")
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("support:portal-request-match", pk=found.pk)
        messages.success(request, _("Ticket %(number)s opened.") % {"number": ticket.number})
        return redirect("support:ticket-detail", pk=ticket.pk)
    q = text_param(request, "q", 50).strip()
    customers = []
    if q:
        candidates, _complete, _every = search_candidates(q, cap=200)
        customers = list(customer_qs_visible_to(user).filter(candidates, name__icontains=q).order_by("name")[:10])
    return render(request, "support/portal/request_match.html", {"found": found, "customers": customers, "q": q})
