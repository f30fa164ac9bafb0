"""Pages of payment plans and payments: lists, details, the instalment generator, the phone-first
"record a payment" page with its allocation preview, allocation by hand, reversal, and the
customer's plans and payments as a panel for the 360° page. Each parses input, calls a selector or
a service, renders."""

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core.forms import apply_errors
from kehu.core.pagination import page_of
from kehu.core.params import id_param, page_param, text_param
from kehu.customers.models import Customer
from kehu.customers.search import search_candidates
from kehu.customers.selectors import customer_get, customer_qs_visible_to
from kehu.receivables import selectors, services
from kehu.receivables.forms import (
    PaymentFilterForm,
    PaymentForm,
    PlanFilterForm,
    PlanForm,
    ReverseForm,
    TermsForm,
    VoidForm,
)
from kehu.receivables.models import OPEN_PLAN_STATES, PaymentState, PlanBasis, PlanState

PAGE_SIZE = 25


def _require_view(user):
    if not selectors.may_use_receivables(user):
        raise PermissionDenied


def _require_record(user):
    if not services.may_record(user):
        raise PermissionDenied


def _query(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _filter_customer(request, form):
    pk = form.cleaned_data.get("customer") if form.is_valid() else None
    return Customer.objects.filter(pk=pk).only("pk", "name").first() if pk else None


# --- plans ---------------------------------------------------------------------------------------


def plan_list(request):
    _require_view(request.user)
    form = PlanFilterForm(request.GET or None)
    filters = selectors.PlanFilters()
    if form.is_valid():
        filters = selectors.PlanFilters(
            **{k: v for k, v in form.cleaned_data.items() if v not in (None, "")},
        )
    page = page_param(request)
    result = page_of(selectors.plans_filtered(request.user, filters), offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    return render(
        request,
        "receivables/plan_list.html",
        {
            "filter": form,
            "result": result,
            "plans": result.rows,
            "page": page,
            "query": _query(request),
            "customer": _filter_customer(request, form),
            "today": timezone.localdate(),
        },
    )


def plan_detail(request, pk):
    plan = selectors.plan_get(request.user, pk)
    return render(
        request,
        "receivables/plan_detail.html",
        {
            "plan": plan,
            "allocations": selectors.plan_allocations(plan),
            "may_record": services.may_record(request.user),
            "void_form": VoidForm(),
            "today": timezone.localdate(),
        },
    )


def plan_edit(request, pk):
    _require_record(request.user)
    plan = selectors.plan_get(request.user, pk)
    if plan.state == PlanState.VOID:
        raise PermissionDenied
    form = PlanForm(
        request.POST or None,
        initial={
            "amount": plan.amount,
            "basis": plan.basis,
            "days_after": plan.days_after,
            "due_on": plan.due_on,
            "notes": plan.notes,
            "version": plan.version,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.plan_update(
                plan=plan,
                actor=request.user,
                version=data.get("version"),
                amount=data["amount"],
                basis=data["basis"],
                days_after=data.get("days_after"),
                due_on=data.get("due_on"),
                notes=data.get("notes") or "",
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Instalment saved."))
            return redirect("receivables:detail", pk=plan.pk)
    return render(request, "receivables/plan_form.html", {"plan": plan, "form": form})


@require_POST
def plan_void(request, pk):
    _require_record(request.user)
    plan = selectors.plan_get(request.user, pk)
    form = VoidForm(request.POST)
    try:
        services.plan_void(plan=plan, actor=request.user, reason=form.data.get("reason", "")[:200])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Instalment voided."))
    return redirect("receivables:detail", pk=plan.pk)


def _record_for_terms(request):
    """The order (?order=) or contract (?contract=) plans are made for, if the user sees it."""
    from kehu.contracts.selectors import contract_qs_visible_to
    from kehu.orders.selectors import order_qs_visible_to

    order_id, contract_id = id_param(request, "order"), id_param(request, "contract")
    if order_id:
        order = order_qs_visible_to(request.user).select_related("customer", "contract").filter(pk=order_id).first()
        if order is None:
            raise PermissionDenied
        return order, None
    if contract_id:
        contract = contract_qs_visible_to(request.user).select_related("customer").filter(pk=contract_id).first()
        if contract is None:
            raise PermissionDenied
        return None, contract
    return None, None


DEFAULT_TERMS = [
    {"share": "30", "basis": PlanBasis.SIGNING, "days": 0},
    {"share": "60", "basis": PlanBasis.DELIVERY, "days": 30},
    {"share": "10", "basis": PlanBasis.INVOICE, "days": 90},
]


def plans_new(request):
    """The instalment generator: "30 % on signing, 60 % 30 days after delivery, 10 % 90 days after
    the invoice" as rows the user edits; a preview of the amounts before saving."""
    _require_record(request.user)
    order, contract = _record_for_terms(request)
    record = order or contract
    if record is None:
        return _pick_record(request)
    total = order.total if order else contract.amount
    initial = {"by": "percent"}
    for i, row in enumerate(DEFAULT_TERMS):
        initial.update({f"share_{i}": row["share"], f"basis_{i}": row["basis"], f"days_{i}": row["days"]})
    form = TermsForm(request.POST or None, initial=initial)
    preview = None
    existing = list(
        selectors.plan_qs_visible_to(request.user)
        .filter(state__in=OPEN_PLAN_STATES, **({"order": order} if order else {"contract": contract}))
        .order_by("sequence")
    )
    if request.method == "POST" and form.is_valid():
        terms = form.terms()
        try:
            amounts = services.instalments_split(total, terms)
            if "save" in request.POST:
                services.plans_from_terms(
                    actor=request.user,
                    order=order,
                    contract=contract if order is None else None,
                    terms=terms,
                    replace=form.cleaned_data.get("replace", False),
                )
                messages.success(request, _("Payment plan saved."))
                return redirect(reverse("receivables:list") + f"?{'order' if order else 'contract'}={record.pk}")
            preview = list(zip(terms, amounts, strict=True))
        except ValidationError as exc:
            apply_errors(form, exc)
    return render(
        request,
        "receivables/plans_new.html",
        {
            "form": form,
            "order": order,
            "contract": contract,
            "record": record,
            "total": total,
            "preview": preview,
            "existing": existing,
        },
    )


def _pick_record(request):
    """No order or contract given: the user's open orders and contracts in force to choose from."""
    from kehu.contracts.models import IN_FORCE
    from kehu.contracts.selectors import contract_qs_visible_to
    from kehu.orders.models import BOOKED_STATES
    from kehu.orders.selectors import order_qs_visible_to

    orders = list(
        order_qs_visible_to(request.user)
        .filter(state__in=BOOKED_STATES)
        .exclude(payment_plans__state__in=OPEN_PLAN_STATES)
        .select_related("customer")
        .order_by("-ordered_on", "-pk")[:20]
    )
    contracts = list(
        contract_qs_visible_to(request.user)
        .filter(stage__in=IN_FORCE)
        .exclude(payment_plans__state__in=OPEN_PLAN_STATES)
        .select_related("customer")
        .order_by("-signed_on", "-pk")[:20]
    )
    return render(request, "receivables/plans_pick.html", {"orders": orders, "contracts": contracts})


# --- payments ------------------------------------------------------------------------------------


def payment_list(request):
    _require_view(request.user)
    form = PaymentFilterForm(request.GET or None)
    filters = selectors.PaymentFilters()
    if form.is_valid():
        filters = selectors.PaymentFilters(**{k: v for k, v in form.cleaned_data.items() if v not in (None, "")})
    page = page_param(request)
    result = page_of(selectors.payments_filtered(request.user, filters), offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    return render(
        request,
        "receivables/payment_list.html",
        {
            "filter": form,
            "result": result,
            "payments": result.rows,
            "page": page,
            "query": _query(request),
            "customer": _filter_customer(request, form),
            "may_record": services.may_record(request.user),
        },
    )


def payment_detail(request, pk):
    payment = selectors.payment_get(request.user, pk)
    may = services.may_record(request.user)
    live = payment.state == PaymentState.CONFIRMED and not payment.reverses_id
    return render(
        request,
        "receivables/payment_detail.html",
        {
            "payment": payment,
            "allocations": selectors.payment_allocations(payment),
            "may_allocate": may and live and not payment.is_refund and payment.unallocated > 0,
            "may_deallocate": may and live and payment.allocated_amount > 0,
            "may_reverse": may and live and not hasattr_reversal(payment),
            "reverse_form": ReverseForm(),
        },
    )


def hasattr_reversal(payment) -> bool:
    try:
        return payment.reversal is not None
    except payment.__class__.reversal.RelatedObjectDoesNotExist:
        return False


def _customer_for_payment(request, pk):
    customer = customer_qs_visible_to(request.user).filter(pk=pk).first() if pk else None
    if pk and customer is None:
        raise PermissionDenied
    return customer


def payment_new(request):
    """Phone-first: find the customer, type the amount, pick the method and date; the allocation
    preview follows what is typed (htmx)."""
    _require_record(request.user)
    customer = _customer_for_payment(request, id_param(request, "customer"))
    initial = {"received_on": timezone.localdate(), "customer": customer.pk if customer else None}
    form = PaymentForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            customer = _customer_for_payment(request, data["customer"])
            try:
                payment = services.payment_record(
                    actor=request.user,
                    customer=customer,
                    amount=data["amount"],
                    received_on=data["received_on"],
                    method=data["method"],
                    bank_account=data.get("bank_account") or "",
                    payer_name=data.get("payer_name") or "",
                    reference=data.get("reference") or "",
                    notes=data.get("notes") or "",
                    is_refund=data.get("is_refund", False),
                    auto_allocate=data.get("allocation") != "none",
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                if payment.state == PaymentState.PENDING:
                    messages.info(
                        request, _("Payment %(number)s recorded; it waits for approval.") % {"number": payment.number}
                    )
                else:
                    messages.success(request, _("Payment %(number)s recorded.") % {"number": payment.number})
                return redirect("receivables:payment-detail", pk=payment.pk)
        elif form.data.get("customer"):
            try:
                customer = _customer_for_payment(request, int(form.data["customer"]))
            except (TypeError, ValueError):
                customer = None
    preview = _preview(customer, form.data.get("amount") if request.method == "POST" else None)
    return render(request, "receivables/payment_new.html", {"form": form, "customer": customer, **preview})


def _preview(customer, raw_amount) -> dict:
    if customer is None:
        return {"preview": None, "open_plans": []}
    plans = services.open_plans(customer.pk)
    try:
        amount = Decimal(str(raw_amount).replace(",", "").strip()) if raw_amount not in (None, "") else None
    except InvalidOperation:
        amount = None
    preview = None
    if amount is not None and amount.is_finite() and amount > 0:
        chosen = dict((p.pk, a) for p, a in services.allocation_preview(customer.pk, amount))
        left = amount - sum(chosen.values(), Decimal("0"))
        preview = {"rows": [(p, chosen.get(p.pk)) for p in plans], "left": max(left, Decimal("0"))}
    return {
        "preview": preview,
        "open_plans": plans,
        "owed": sum((p.amount - p.received_amount for p in plans), Decimal("0")),
        "balance": selectors.balance_of(customer.pk),
    }


def payment_preview(request):
    """The allocation preview of the record page (htmx: customer and amount as typed)."""
    _require_record(request.user)
    customer = _customer_for_payment(request, id_param(request, "customer"))
    return render(
        request,
        "receivables/_allocation_preview.html",
        {"customer": customer, **_preview(customer, request.GET.get("amount"))},
    )


def customer_search(request):
    """Customers the user sees whose name matches (htmx, the record page's search box)."""
    _require_record(request.user)
    q = text_param(request, "q", 50).strip()
    found = []
    if q:
        candidates, _complete, _every = search_candidates(q, cap=200)
        found = list(
            customer_qs_visible_to(request.user)
            .filter(candidates, name__icontains=q)
            .select_related("balance")
            .order_by("name")[:10]
        )
    return render(request, "receivables/_customer_choices.html", {"customers": found, "q": q})


def payment_allocate(request, pk):
    """Allocate by hand: the customer's open plans with an amount box each (or oldest first)."""
    _require_record(request.user)
    payment = selectors.payment_get(request.user, pk)
    plans = services.open_plans(payment.customer_id)
    errors = []
    if request.method == "POST":
        try:
            if "auto" in request.POST:
                services.payment_allocate(payment=payment, actor=request.user)
            else:
                pairs = [(p.pk, request.POST.get(f"plan_{p.pk}", "").strip() or "0") for p in plans]
                services.payment_allocate(payment=payment, actor=request.user, allocations=pairs)
        except ValidationError as exc:
            errors = exc.messages
        else:
            messages.success(request, _("Allocation saved."))
            return redirect("receivables:payment-detail", pk=payment.pk)
    return render(
        request,
        "receivables/payment_allocate.html",
        {"payment": payment, "plans": plans, "errors": errors, "posted": request.POST},
    )


@require_POST
def payment_deallocate(request, pk):
    _require_record(request.user)
    payment = selectors.payment_get(request.user, pk)
    try:
        services.payment_deallocate(payment=payment, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The allocations were taken back; the money is unallocated."))
    return redirect("receivables:payment-detail", pk=payment.pk)


@require_POST
def payment_reverse(request, pk):
    _require_record(request.user)
    payment = selectors.payment_get(request.user, pk)
    form = ReverseForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_("Say why the payment is reversed."))
        reversal = services.payment_reverse(payment=payment, actor=request.user, reason=form.cleaned_data["reason"])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("receivables:payment-detail", pk=payment.pk)
    messages.success(request, _("Reversed by %(number)s.") % {"number": reversal.number})
    return redirect("receivables:payment-detail", pk=payment.pk)


# --- the 360° page's panel ----------------------------------------------------------------------


def customer_panel(request, pk):
    """A customer's open and recent plans and its latest payments (a partial for the 360° page)."""
    _require_view(request.user)
    customer = customer_get(request.user, pk)
    plans = list(
        selectors.plan_qs_visible_to(request.user)
        .filter(customer=customer)
        .filter(Q(state__in=OPEN_PLAN_STATES) | Q(state=PlanState.PAID))
        .select_related("order", "contract")
        .order_by("due_on", "pk")[:10]
    )
    payments = list(
        selectors.payment_qs_visible_to(request.user).filter(customer=customer).order_by("-received_on", "-pk")[:5]
    )
    return render(
        request,
        "receivables/_customer_panel.html",
        {
            "customer": customer,
            "plans": plans,
            "payments": payments,
            "balance": selectors.balance_of(customer.pk),
            "may_record": services.may_record(request.user),
            "today": timezone.localdate(),
        },
    )
