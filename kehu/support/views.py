"""Ticket pages (SRV-1): the queue, phone intake, a ticket with its clock, history and actions.
Each parses input, calls a selector or a service, renders."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core.forms import apply_errors
from kehu.core.pagination import page_of
from kehu.core.params import id_param, page_param, parse_id, text_param
from kehu.customers.search import search_candidates
from kehu.customers.selectors import contacts_of, customer_get, customer_qs_visible_to
from kehu.support import selectors, services
from kehu.support.forms import AssignForm, RespondForm, TicketFilterForm, TicketForm, TransitionForm
from kehu.support.models import TicketState
from kehu.support.workhours import WorkCalendar

PAGE_SIZE = 50


def _require(user, perm):
    if not user.has_perm(perm):
        raise PermissionDenied


def ticket_list(request):
    _require(request.user, "support.view_ticket")
    form = TicketFilterForm(request.GET or None)
    filters = {}
    if form.is_valid():
        data = form.cleaned_data
        filters = {
            "state_group": data["state"] or "open",
            "mine": data["mine"],
            "priority": data["priority"],
            "category_id": data["category"].pk if data["category"] else None,
            "sla": data["sla"],
            "customer_id": data["customer"],
        }
    now = timezone.now()
    page = page_param(request)
    result = page_of(
        selectors.ticket_queue(request.user, now=now, **filters), offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    calendar = WorkCalendar.load()
    for ticket in result.rows:
        ticket.sla = selectors.sla_cell(ticket, calendar, now)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "support/tickets/ticket_list.html",
        {"filter": form, "result": result, "tickets": result.rows, "page": page, "query": query.urlencode()},
    )


def customer_search(request):
    """Customers the user sees whose name matches (htmx: the intake's customer search)."""
    _require(request.user, "support.add_ticket")
    q = text_param(request, "q", 50).strip()
    found = []
    if q:
        candidates, _complete, _every = search_candidates(q, cap=200)
        found = list(customer_qs_visible_to(request.user).filter(candidates, name__icontains=q).order_by("name")[:10])
    return render(request, "support/tickets/_customer_choices.html", {"customers": found, "q": q})


def ticket_create(request):
    _require(request.user, "support.add_ticket")
    user = request.user
    source = request.POST if request.method == "POST" else request.GET
    customer_id = id_param(request, "customer") if request.method == "GET" else parse_id(source.get("customer", ""))
    if customer_id is None:
        return render(request, "support/tickets/ticket_pick_customer.html", {"q": text_param(request, "q", 50)})
    customer = customer_get(user, customer_id)
    units = selectors.unit_qs_visible_to(user).filter(customer=customer).select_related("product")
    form = TicketForm(request.POST or None, contacts=contacts_of(customer), units=units)
    if request.method == "POST" and form.is_valid():
        try:
            ticket = services.ticket_open(actor=user, customer=customer, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Ticket %(number)s opened.") % {"number": ticket.number})
            return redirect("support:ticket-detail", pk=ticket.pk)
    return render(request, "support/tickets/ticket_form.html", {"form": form, "customer": customer})


def ticket_detail(request, pk):
    user = request.user
    ticket = selectors.ticket_get(user, pk)
    now = timezone.now()
    calendar = WorkCalendar.load()
    can_change = services.may_change(user, ticket)
    can_dispatch = ticket.is_open and user.has_perm("support.dispatch_ticket")
    assign_form = None
    if can_change and ticket.is_open:
        owners = selectors.people_who_may("support.change_ticket")
        engineers = selectors.people_who_may("support.change_ticket") if can_dispatch else owners.none()
        assign_form = AssignForm(owners=owners, engineers=engineers, initial={"version": ticket.version})
    moves = [TicketState(s) for s in TicketState.values if s in services.TRANSITIONS.get(ticket.state, set())]
    return render(
        request,
        "support/tickets/ticket_detail.html",
        {
            "ticket": ticket,
            "clocks": selectors.sla_clocks(ticket, calendar, now),
            "history": selectors.ticket_history(ticket),
            "conversation": selectors.ticket_messages(ticket),
            "can_change": can_change,
            "can_dispatch": can_dispatch,
            "moves": moves if can_change else [],
            "respond_form": RespondForm() if can_change and ticket.is_open else None,
            "assign_form": assign_form,
        },
    )


@require_POST
def ticket_transition(request, pk):
    ticket = selectors.ticket_get(request.user, pk)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a state the ticket can move to."))
        return redirect("support:ticket-detail", pk=ticket.pk)
    data = form.cleaned_data
    try:
        services.ticket_move(
            ticket=ticket, actor=request.user, to=data["to"], note=data["note"], expected_version=data["version"]
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The ticket is now %(state)s.") % {"state": TicketState(data["to"]).label})
    return redirect("support:ticket-detail", pk=ticket.pk)


@require_POST
def ticket_respond(request, pk):
    ticket = selectors.ticket_get(request.user, pk)
    form = RespondForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        services.ticket_answer(ticket=ticket, actor=request.user, note=note)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Response recorded."))
    return redirect("support:ticket-detail", pk=ticket.pk)


@require_POST
def ticket_assign(request, pk):
    user = request.user
    ticket = selectors.ticket_get(user, pk)
    services.check_may_change(user, ticket)
    owners = selectors.people_who_may("support.change_ticket")
    engineers = selectors.people_who_may("support.change_ticket")
    form = AssignForm(request.POST, owners=owners, engineers=engineers)
    if not form.is_valid():
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
        return redirect("support:ticket-detail", pk=ticket.pk)
    data = form.cleaned_data
    try:
        services.ticket_assign(
            ticket=ticket,
            actor=user,
            owner=data["owner"],
            engineer=data["engineer"],
            expected_version=data["version"],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Assignment saved."))
    return redirect("support:ticket-detail", pk=ticket.pk)
