"""Pages of returns (退换货, SRV-3) under /service/returns/: the list, a new return from a delivered
order line, the return with its steps and the forms of the next one, the stock notes and their PDF.
Each parses input, calls a selector or a service, renders."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from kehu.core.forms import apply_errors
from kehu.core.pagination import page_of
from kehu.core.params import id_param, page_param, text_param
from kehu.support import rma_approval, rma_selectors, rma_services
from kehu.support.models_returns import Responsibility, ReturnRemedy, ReturnState, StockNote

PAGE_SIZE = 50
S = ReturnState
# The steps a return goes through, as the page shows them.
STEPS = [S.DRAFT, S.PENDING, S.APPROVED, S.RECEIVED, S.INSPECTED, S.REMEDIED, S.CLOSED]


def _require(user, perm):
    if not user.has_perm(perm):
        raise PermissionDenied


class ReturnForm(forms.Form):
    quantity = forms.DecimalField(label=gettext_lazy("Quantity"), min_value=0, max_digits=14, decimal_places=3)
    remedy = forms.ChoiceField(label=gettext_lazy("Requested remedy"), choices=ReturnRemedy.choices)
    reason = forms.CharField(label=gettext_lazy("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)
    ticket = forms.ModelChoiceField(label=gettext_lazy("Ticket"), queryset=None, required=False)
    unit = forms.ModelChoiceField(label=gettext_lazy("Installed unit"), queryset=None, required=False)

    def __init__(self, *args, tickets, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ticket"].queryset = tickets
        self.fields["unit"].queryset = units


class ReceiveForm(forms.Form):
    received_quantity = forms.DecimalField(label=gettext_lazy("Quantity received"), max_digits=14, decimal_places=3)
    received_on = forms.DateField(
        label=gettext_lazy("Received on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    freight_cost = forms.DecimalField(label=gettext_lazy("Freight"), required=False, max_digits=12, decimal_places=2)
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=500)


class InspectForm(forms.Form):
    finding = forms.CharField(label=gettext_lazy("Finding"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)
    responsibility = forms.ChoiceField(
        label=gettext_lazy("Responsibility"), choices=[("", "—"), *Responsibility.choices]
    )


class RemedyForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("What was done"), widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=4000
    )
    refund_amount = forms.DecimalField(
        label=gettext_lazy("Refund amount"), required=False, max_digits=16, decimal_places=2
    )
    replacement_shipped_on = forms.DateField(
        label=gettext_lazy("Replacement shipped on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    labour_cost = forms.DecimalField(
        label=gettext_lazy("Repair labour"), required=False, max_digits=12, decimal_places=2
    )
    parts_cost = forms.DecimalField(label=gettext_lazy("Repair parts"), required=False, max_digits=12, decimal_places=2)
    replacement_cost = forms.DecimalField(
        label=gettext_lazy("Replacement's cost"), required=False, max_digits=12, decimal_places=2
    )

    def __init__(self, *args, remedy: str, **kwargs):
        super().__init__(*args, **kwargs)
        if remedy != ReturnRemedy.REFUND:
            del self.fields["refund_amount"]
        if remedy != ReturnRemedy.REPLACE:
            del self.fields["replacement_shipped_on"]
            del self.fields["replacement_cost"]


class CostsForm(forms.Form):
    freight_cost = forms.DecimalField(label=gettext_lazy("Freight"), required=False, max_digits=12, decimal_places=2)
    labour_cost = forms.DecimalField(
        label=gettext_lazy("Repair labour"), required=False, max_digits=12, decimal_places=2
    )
    parts_cost = forms.DecimalField(label=gettext_lazy("Repair parts"), required=False, max_digits=12, decimal_places=2)
    replacement_cost = forms.DecimalField(
        label=gettext_lazy("Replacement's cost"), required=False, max_digits=12, decimal_places=2
    )


STEP_FORMS = {S.RECEIVED: ReceiveForm, S.INSPECTED: InspectForm, S.REMEDIED: RemedyForm}


def _step_form(rma, to, data=None):
    form_class = STEP_FORMS.get(to)
    if form_class is None:
        return None
    kwargs = {"prefix": to}
    if to == S.REMEDIED:
        kwargs["remedy"] = rma.remedy
    if to == S.RECEIVED and data is None:
        kwargs["initial"] = {"received_quantity": rma.quantity.normalize(), "received_on": timezone.localdate()}
    return form_class(data, **kwargs)


@require_GET
def rma_list(request):
    _require(request.user, "support.view_returnrequest")
    state = text_param(request, "state", 20)
    group = text_param(request, "group", 10) or ("" if state else "open")
    customer_id = id_param(request, "customer")
    page = page_param(request)
    result = page_of(
        rma_selectors.rma_list(request.user, state_group=group, state=state, customer_id=customer_id),
        offset=(page - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "support/returns/list.html",
        {
            "result": result,
            "rmas": result.rows,
            "page": page,
            "query": query.urlencode(),
            "group": group,
            "state": state,
            "states": S.choices,
        },
    )


def rma_create(request):
    _require(request.user, "support.add_returnrequest")
    user = request.user
    line_id = id_param(request, "line")
    if line_id is None:
        q = text_param(request, "q", 60).strip()
        lines = rma_selectors.returnable_lines(user, order_id=id_param(request, "order"))
        if q:
            lines = lines.filter(Q(order__number__icontains=q) | Q(customer__name__icontains=q) | Q(code__icontains=q))
        page = page_param(request)
        result = page_of(lines, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
        query = request.GET.copy()
        query.pop("page", None)
        return render(
            request,
            "support/returns/pick_line.html",
            {"result": result, "lines": result.rows, "q": q, "page": page, "query": query.urlencode()},
        )
    line = rma_selectors.line_get(user, line_id)
    from kehu.support.selectors import ticket_qs_visible_to, unit_qs_visible_to

    form = ReturnForm(
        request.POST or None,
        tickets=ticket_qs_visible_to(user).filter(customer_id=line.customer_id).order_by("-created_at")[:50],
        units=unit_qs_visible_to(user).filter(customer_id=line.customer_id).select_related("product"),
        initial={"ticket": id_param(request, "ticket")},
    )
    left, taken = rma_services.returnable(line)
    if request.method == "POST" and form.is_valid():
        try:
            rma = rma_services.rma_create(actor=user, order_line=line, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Return %(number)s opened.") % {"number": rma.number})
            return redirect("support:rma-detail", pk=rma.pk)
    return render(
        request,
        "support/returns/form.html",
        {
            "form": form,
            "line": line,
            "left": left,
            "taken": taken,
            "threshold": rma_approval.GENERAL_MANAGER_ABOVE,
        },
    )


def _detail_context(request, rma, forms_bound=None):
    user = request.user
    can_change = user.has_perm("support.change_returnrequest")
    moves = rma_services.allowed_moves(rma) if can_change else []
    forms_bound = forms_bound or {}
    step_forms = [
        {"to": S(to), "form": forms_bound.get(to) or _step_form(rma, to)}
        for to in moves
        if to not in (S.CANCELLED, S.DRAFT)
    ]
    reached = {c.to_state for c in rma_selectors.rma_history(rma)}
    steps = [{"state": s, "done": s in reached, "current": s == rma.state} for s in STEPS]
    request_row = rma_approval.open_request(rma) if rma.state == S.PENDING else None
    return {
        "rma": rma,
        "steps": steps,
        "history": rma_selectors.rma_history(rma),
        "notes": list(rma.notes.order_by("day", "pk")),
        "step_forms": step_forms,
        "can_cancel": S.CANCELLED in moves,
        "can_change": can_change,
        "costs_form": CostsForm(initial={k: getattr(rma, k) for k in rma_services.COST_FIELDS}, prefix="costs")
        if can_change and rma.state not in (S.CLOSED, S.CANCELLED, S.REJECTED)
        else None,
        "approval_request": request_row,
        "approvers": rma_approval.approvers_needed(rma.amount),
    }


@require_GET
def rma_detail(request, pk):
    rma = rma_selectors.rma_get(request.user, pk)
    return render(request, "support/returns/detail.html", _detail_context(request, rma))


@require_POST
def rma_move(request, pk):
    user = request.user
    rma = rma_selectors.rma_get(user, pk)
    rma_services.check_may_change(user)
    to = request.POST.get("to", "")
    version = request.POST.get("version", "")
    expected = int(version) if version.isdigit() else None
    form = _step_form(rma, to, request.POST) if to in STEP_FORMS else None
    if form is not None and not form.is_valid():
        messages.error(request, _("Check the fields of this step."))
        return render(request, "support/returns/detail.html", _detail_context(request, rma, {to: form}), status=400)
    data = {k: v for k, v in (form.cleaned_data.items() if form is not None else []) if v not in (None, "")}
    if to == S.CLOSED or to == S.CANCELLED:
        data["note"] = request.POST.get("note", "")[:500]
    try:
        rma_services.rma_transition(rma=rma, actor=user, to=to, expected_version=expected, **data)
    except ValidationError as exc:
        if form is not None and hasattr(exc, "error_dict"):
            apply_errors(form, exc)
            return render(request, "support/returns/detail.html", _detail_context(request, rma, {to: form}), status=400)
        messages.error(request, " ".join(exc.messages))
    else:
        label = S(to).label if to in S.values else to
        messages.success(request, _("The return is now %(state)s.") % {"state": label})
    return redirect("support:rma-detail", pk=rma.pk)


@require_POST
def rma_costs(request, pk):
    user = request.user
    rma = rma_selectors.rma_get(user, pk)
    rma_services.check_may_change(user)
    form = CostsForm(request.POST, prefix="costs")
    if not form.is_valid():
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
        return redirect("support:rma-detail", pk=rma.pk)
    try:
        rma_services.rma_costs_update(rma=rma, actor=user, **form.cleaned_data)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Costs saved."))
    return redirect("support:rma-detail", pk=rma.pk)


@require_GET
def stock_note_list(request):
    _require(request.user, "support.view_returnrequest")
    kind = text_param(request, "kind", 3)
    notes = rma_selectors.stock_notes_visible_to(request.user).order_by("-day", "-pk")
    if kind in StockNote.Kind.values:
        notes = notes.filter(kind=kind)
    page = page_param(request)
    result = page_of(notes, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "support/returns/stock_notes.html",
        {"result": result, "notes": result.rows, "kind": kind, "page": page, "query": query.urlencode()},
    )


def stock_note_html(note: StockNote, *, language: str | None = None) -> str:
    from django.template.loader import render_to_string

    from kehu.users.models import CompanySettings

    with translation.override(language or translation.get_language()):
        return render_to_string(
            "support/returns/stock_note_pdf.html",
            {"note": note, "rma": note.rma, "line": note.rma.order_line, "company": CompanySettings.load()},
        )


@require_GET
def stock_note_pdf(request, pk):
    from kehu.quotes.document import pdf_from_html
    from kehu.quotes.document_views import pdf_response

    note = rma_selectors.stock_note_get(request.user, pk)
    return pdf_response(pdf_from_html(stock_note_html(note)), f"{note.number}.pdf")
