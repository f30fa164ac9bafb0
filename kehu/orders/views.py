"""Order pages (订单, SAL-5): the list, a new order from a customer, a quote or a contract, the order
with its lines (the quotes' line editor: keyboard entry with a typeahead, paste from Excel,
in-place edits through htmx), deliveries, the money from invoices and payments, its timeline;
the recycle bin; sell-through records."""

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from kehu.approvals.selectors import only_visible, requests_of_record
from kehu.catalog.pricing import discount_limit
from kehu.contracts.selectors import contract_get
from kehu.core import events
from kehu.core.forms import apply_errors
from kehu.core.money import capital_amount
from kehu.core.params import page_param
from kehu.customers.models import ChannelLevel, TimelineEntry
from kehu.customers.selectors import customer_get, customer_qs_visible_to
from kehu.orders import approval, selectors, services
from kehu.orders.forms import (
    DeliveryForm,
    LineAddForm,
    LineEditForm,
    OrderFilterForm,
    OrderHeaderForm,
    PasteForm,
    SellThroughForm,
)
from kehu.orders.models import Delivery, OrderState
from kehu.quotes.selectors import quote_get
from kehu.users.models import User
from kehu.users.selectors import scope_users_q

PAGE_SIZE = 25
PLAIN_TEXT = "text/plain; charset=utf-8"
DETAIL = "orders/order_detail.html"
S = OrderState


def _require(user, perm: str) -> None:
    if not user.is_authenticated or not user.has_perm(perm):
        raise PermissionDenied


def _text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


# -- The list ------------------------------------------------------------------------------------


def order_list(request):
    _require(request.user, "orders.view_order")
    user = request.user
    owners = User.objects.filter(scope_users_q(user), is_active=True).order_by("username")
    form = OrderFilterForm(request.GET or None, owners=owners)
    filters = selectors.OrderFilters()
    customer = None
    if form.is_valid():
        data = form.cleaned_data
        if data["customer"]:
            try:
                customer = customer_get(user, data["customer"])
            except Http404:
                customer = None
        filters = selectors.OrderFilters(
            q=data["q"].strip(),
            state=data["state"],
            delivery=data["delivery"],
            settlement=data["settlement"],
            owner_id=data["owner"].pk if data["owner"] else None,
            customer_id=customer.pk if customer else (-1 if data["customer"] else None),
            ordered_from=data["ordered_from"],
            ordered_to=data["ordered_to"],
            contract_id=data["contract"],
            quote_id=data["quote"],
        )
    page_number = page_param(request, last=400)
    page = selectors.order_list(user, filters, limit=PAGE_SIZE, offset=(page_number - 1) * PAGE_SIZE)
    query = request.GET.copy()
    query.pop("page", None)
    without_customer = query.copy()
    without_customer.pop("customer", None)
    return render(
        request,
        "orders/order_list.html",
        {
            "form": form,
            "page": page,
            "rows": page.rows,
            "page_number": page_number,
            "query": query.urlencode(),
            "query_without_customer": without_customer.urlencode(),
            "customer": customer,
            "show_owner": getattr(user, "data_scope", "own") != "own",
            "may_delete": user.has_perm("orders.delete_order"),
        },
    )


# -- Creating and editing the header --------------------------------------------------------------


def _header_fields(form) -> dict:
    data = dict(form.cleaned_data)
    data.pop("version", None)
    return data


def order_create(request):
    """A new order: ?customer= (direct), ?quote= (its lines) or ?contract= (what is left of it)."""
    _require(request.user, "orders.add_order")
    user = request.user
    source = request.POST if request.method == "POST" else request.GET
    quote = contract = None
    try:
        if source.get("quote"):
            quote = quote_get(user, source.get("quote"))
            customer = quote.customer
        elif source.get("contract"):
            contract = contract_get(user, source.get("contract"))
            customer = contract.customer
        else:
            customer = customer_get(user, source.get("customer"))
    except (Http404, ValueError, TypeError):
        messages.info(request, _("Open a customer, a quote or a contract and start the order from there."))
        return redirect("customers:customer-list")
    initial = {"ordered_on": timezone.localdate()}
    if quote is not None:
        initial["payment_terms"] = quote.payment_terms
    if contract is not None:
        initial["payment_terms"] = contract.payment_terms
    form = OrderHeaderForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            order = services.order_create(
                customer=customer, quote=quote, contract=contract, actor=user, **_header_fields(form)
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            if order.line_count:
                messages.success(request, _("Order %(number)s created with its lines.") % {"number": order.number})
            else:
                messages.success(request, _("Order %(number)s started: add its lines.") % {"number": order.number})
            return redirect("orders:detail", pk=order.pk)
    return render(
        request,
        "orders/order_form.html",
        {"form": form, "customer": customer, "quote": quote, "contract": contract},
    )


def order_edit(request, pk):
    order = selectors.order_get(request.user, pk)
    _require(request.user, "orders.change_order")
    form = OrderHeaderForm(request.POST or None, instance=order)
    if request.method == "POST" and form.is_valid():
        fresh = selectors.order_get(request.user, pk)
        fields = {n: form.cleaned_data[n] for n in form.changed_data if n != "version"}
        try:
            services.order_update(
                order=fresh, actor=request.user, expected_version=form.cleaned_data.get("version") or 0, **fields
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("orders:detail", pk=pk)
    return render(request, "orders/order_form.html", {"form": form, "order": order, "customer": order.customer})


# -- The order ------------------------------------------------------------------------------------


def _editable(user, order) -> bool:
    return order.state == S.DRAFT and services.may_change(user, order)


def _actions(user, order, requests) -> dict:
    change = services.may_change(user, order)
    state = order.state
    open_requests = [r for r in requests if r.state == "pending"]
    actions = {
        "edit": change and state == S.DRAFT,
        "confirm": change and state == S.DRAFT,
        "withdraw": change
        and state == S.PENDING
        and any(r.requester_id == user.pk or user.has_perm("orders.approve_order") for r in open_requests),
        "deliver": state == S.CONFIRMED and services.may_change(user, order, "orders.deliver_order"),
        "complete": change and state == S.CONFIRMED and order.delivery_status == "full",
        "cancel": change and (state == S.DRAFT or (state == S.CONFIRMED and order.delivered_amount == 0)),
        "delete": change and user.has_perm("orders.delete_order") and state in (S.DRAFT, S.CANCELLED),
    }
    actions["any"] = any(actions.values())
    return actions


def _line_base(order) -> str:
    return reverse("orders:line-update", args=[order.pk, 0]).removesuffix("0/")


def _spec_search_url() -> str:
    try:
        return reverse("catalog:spec-search")
    except NoReverseMatch:
        return ""


def _limit(order) -> Decimal:
    return discount_limit(order.owner)


def _timeline(order) -> list:
    labels = events.labels()
    rows = list(
        TimelineEntry.objects.filter(customer_id=order.customer_id, subject_type="orders.order", subject_id=order.pk)
        .select_related("actor")
        .order_by("-occurred_at", "-id")[:30]
    )
    for row in rows:
        row.label = labels.get(row.kind, row.kind)
    return rows


def _link(name: str, *args) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _detail_context(request, order, **extra) -> dict:
    user = request.user
    lines = selectors.order_lines(order)
    editable = _editable(user, order)
    requests = list(requests_of_record(approval.CODE, order.pk)[:3]) + list(
        requests_of_record(approval.CREDIT_CODE, order.pk)[:3]
    )
    # The page links only to the requests the reader may open (the others are named, not linked).
    open_request = next(iter(only_visible(user, [next((r for r in requests if r.state == "pending"), None)])), None)
    context = {
        "order": order,
        "lines": lines,
        "limit": _limit(order),
        "capital": capital_amount(order.total),
        "requests": requests,
        "open_request": open_request,
        "actions": _actions(user, order, requests),
        "editable": editable,
        "deliveries": selectors.order_deliveries(order),
        "timeline": _timeline(order),
        "line_base": _line_base(order),
        "spec_search_url": _spec_search_url() if editable else "",
        "paste_form": PasteForm(),
        "contract_link": _link("contracts:detail", order.contract_id) if order.contract_id else "",
        "invoice_link": _link("invoices:new") if order.state in (S.CONFIRMED, S.COMPLETED) else "",
    }
    context.update(extra)
    return context


def order_detail(request, pk):
    order = selectors.order_get(request.user, pk)
    return render(request, DETAIL, _detail_context(request, order))


def _changed(request, order, new_lines, *, status=200):
    """The htmx answer to a line edit: the changed rows and, out of band, the totals."""
    order = selectors.order_get(request.user, order.pk)
    return render(
        request,
        f"{DETAIL}#changed",
        {
            "order": order,
            "new_lines": new_lines,
            "limit": _limit(order),
            "capital": capital_amount(order.total),
            "editable": _editable(request.user, order),
            "line_base": _line_base(order),
        },
        status=status,
    )


def _refused(request, order, exc: ValidationError, *, status=400):
    if request.htmx:
        return HttpResponse(_text(exc), status=status, content_type=PLAIN_TEXT)
    messages.error(request, _text(exc))
    return redirect("orders:detail", pk=order.pk)


# -- State changes --------------------------------------------------------------------------------


@require_POST
def order_transition(request, pk):
    order = selectors.order_get(request.user, pk)
    _require(request.user, "orders.change_order")
    to = request.POST.get("to", "")
    try:
        order = services.order_transition(order=order, to=to, actor=request.user, note=request.POST.get("note", ""))
    except ValidationError as exc:
        messages.error(request, _text(exc))
        return redirect("orders:detail", pk=pk)
    if order.state == S.PENDING and order.credit_hold:
        messages.warning(request, _("The order is held for credit: a credit exception was requested."))
    elif order.state == S.PENDING:
        messages.info(request, _("The order's prices were sent for approval."))
    else:
        messages.success(request, _("The order is now %(state)s.") % {"state": order.get_state_display().lower()})
    return redirect("orders:detail", pk=pk)


@require_POST
def order_delete(request, pk):
    order = selectors.order_get(request.user, pk)
    _require(request.user, "orders.delete_order")
    try:
        services.order_delete(order=order, actor=request.user)
    except ValidationError as exc:
        messages.error(request, _text(exc))
        return redirect("orders:detail", pk=pk)
    messages.success(request, _("Order %(number)s moved to the recycle bin.") % {"number": order.number})
    return redirect("orders:list")


def recycle_bin(request):
    _require(request.user, "orders.delete_order")
    page_number = page_param(request, last=400)
    from kehu.core.pagination import page_of

    page = page_of(selectors.deleted_orders_for(request.user), offset=(page_number - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    return render(request, "orders/recycle_bin.html", {"page": page, "rows": page.rows, "page_number": page_number})


@require_POST
def order_restore(request, pk):
    order = selectors.deleted_order_get(request.user, pk)
    try:
        services.order_restore(order=order, actor=request.user)
    except ValidationError as exc:
        messages.error(request, _text(exc))
        return redirect("orders:recycle-bin")
    messages.success(request, _("Order %(number)s restored.") % {"number": order.number})
    return redirect("orders:detail", pk=pk)


# -- Lines ----------------------------------------------------------------------------------------


def _draft(request, pk):
    order = selectors.order_get(request.user, pk)
    _require(request.user, "orders.change_order")
    return order


def _added(request, order, lines: list):
    if request.htmx:
        return _changed(request, order, lines)
    count = len(lines)
    messages.success(request, ngettext("%(count)s line added.", "%(count)s lines added.", count) % {"count": count})
    return redirect(reverse("orders:detail", args=[order.pk]) + "#quote-lines")


@require_POST
def line_add(request, pk):
    """One line from the keyboard: a code (or a specification chosen in the typeahead) and a quantity."""
    order = _draft(request, pk)
    form = LineAddForm(request.POST)
    if not form.is_valid():
        return _refused(request, order, ValidationError([e for errors in form.errors.values() for e in errors]))
    quantity = form.cleaned_data["quantity"] or Decimal(1)
    try:
        lines = services.order_lines_paste(
            order=order, actor=request.user, text=f"{form.cleaned_data['code']}\t{quantity}"
        )
    except ValidationError as exc:
        return _refused(request, order, exc)
    return _added(request, order, lines)


@require_POST
def lines_paste(request, pk):
    order = _draft(request, pk)
    form = PasteForm(request.POST)
    errors: list[str] = []
    if form.is_valid():
        try:
            lines = services.order_lines_paste(order=order, actor=request.user, text=form.cleaned_data["text"])
        except ValidationError as exc:
            errors = exc.messages
        else:
            return _added(request, order, lines)
    order = selectors.order_get(request.user, pk)
    if not _editable(request.user, order):
        for error in errors:
            messages.error(request, error)
        return redirect("orders:detail", pk=pk)
    return render(request, DETAIL, _detail_context(request, order, paste_form=form, paste_errors=errors))


def _edited_fields(line, data: dict) -> dict:
    changed = {}
    for name in ("quantity", "discount", "unit_price"):
        value = data.get(name)
        if value is not None and value != getattr(line, name):
            changed[name] = value
    if "unit_price" in changed and "discount" in changed:
        del changed["discount"]
    return changed


@require_POST
def line_update(request, pk, line_pk):
    line = selectors.order_line_get(request.user, pk, line_pk)
    _require(request.user, "orders.change_order")
    form = LineEditForm(request.POST)
    if not form.is_valid():
        return _refused(request, line.order, ValidationError([e for errors in form.errors.values() for e in errors]))
    fields = _edited_fields(line, form.cleaned_data)
    if fields:
        try:
            line = services.order_line_update(line=line, actor=request.user, **fields)
        except ValidationError as exc:
            return _refused(request, line.order, exc)
    if not request.htmx:
        return redirect("orders:detail", pk=line.order_id)
    return _changed(request, line.order, [selectors.order_line_get(request.user, pk, line.pk)])


@require_POST
def line_remove(request, pk, line_pk):
    line = selectors.order_line_get(request.user, pk, line_pk)
    _require(request.user, "orders.change_order")
    order = line.order
    try:
        services.order_line_remove(line=line, actor=request.user)
    except ValidationError as exc:
        return _refused(request, order, exc)
    if not request.htmx:
        messages.success(request, _("Line removed."))
        return redirect("orders:detail", pk=order.pk)
    return _changed(request, order, [])


# -- Deliveries -----------------------------------------------------------------------------------


def delivery_create(request, pk):
    """Record a (partial) delivery: a quantity per line, what is left offered."""
    order = selectors.order_get(request.user, pk)
    _require(request.user, "orders.deliver_order")
    if not services.may_change(request.user, order, "orders.deliver_order"):
        raise PermissionDenied
    lines = selectors.order_lines(order)
    held = dict.fromkeys((line.pk for line in lines), Decimal(0))
    for delivery in Delivery.objects.filter(order=order, is_held=True).prefetch_related("lines"):
        for row in delivery.lines.all():
            held[row.order_line_id] = held.get(row.order_line_id, Decimal(0)) + row.quantity
    for line in lines:
        line.left = line.quantity - line.delivered_quantity - held.get(line.pk, Decimal(0))
        line.typed = request.POST.get(f"line-{line.pk}", "") if request.method == "POST" else ""
    form = DeliveryForm(request.POST or None, initial={"delivered_on": timezone.localdate()})
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        chosen = [(line.pk, line.typed.strip()) for line in lines if line.typed.strip() not in ("", "0")]
        try:
            delivery = services.delivery_record(order=order, actor=request.user, lines=chosen, **form.cleaned_data)
        except ValidationError as exc:
            if hasattr(exc, "error_dict") and set(exc.message_dict) <= {"lines"}:
                problems = exc.messages
            else:
                apply_errors(form, exc)
        else:
            if delivery.is_held:
                messages.warning(request, _("The delivery is held for credit: a credit exception was requested."))
            else:
                messages.success(
                    request, _("Delivery of ¥%(amount)s recorded.") % {"amount": f"{delivery.amount:,.2f}"}
                )
            return redirect("orders:detail", pk=pk)
    return render(
        request, "orders/delivery_form.html", {"order": order, "lines": lines, "form": form, "problems": problems}
    )


# -- Sell-through ---------------------------------------------------------------------------------


def sell_through_list(request):
    _require(request.user, "orders.view_order")
    user = request.user
    seller = None
    if request.GET.get("seller"):
        try:
            seller = customer_get(user, request.GET.get("seller"))
        except (Http404, ValueError):
            seller = None
    page_number = page_param(request, last=400)
    filters = selectors.SellThroughFilters(seller_id=seller.pk if seller else None)
    page = selectors.sell_through_list(user, filters, limit=PAGE_SIZE, offset=(page_number - 1) * PAGE_SIZE)
    query = request.GET.copy()
    query.pop("page", None)
    form = SellThroughForm(
        initial={"month": timezone.localdate().replace(day=1), "seller": seller.pk if seller else None}
    )
    return render(
        request,
        "orders/sell_through_list.html",
        {
            "page": page,
            "rows": page.rows,
            "page_number": page_number,
            "query": query.urlencode(),
            "seller": seller,
            "form": form,
            "may_add": user.has_perm("orders.add_order") and seller is not None,
            "dealers": list(
                customer_qs_visible_to(user)
                .filter(channel_level=ChannelLevel.GENERAL_DEALER)
                .order_by("name", "pk")
                .values_list("pk", "name")[:200]
            ),
            "import_link": _link("integrations:home") if user.has_perm("orders.import_orders") else "",
        },
    )


@require_POST
def sell_through_create(request):
    _require(request.user, "orders.add_order")
    form = SellThroughForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(
            reverse("orders:sell-through")
            + (f"?seller={request.POST.get('seller')}" if request.POST.get("seller", "").isdigit() else "")
        )
    data = form.cleaned_data
    seller = customer_get(request.user, data["seller"])
    spec = services.specifications_by_code([data["code"]])
    spec = spec.get(data["code"]) or spec.get(data["code"].upper())
    try:
        if spec is None:
            raise ValidationError({"code": _("No product has the code %(code)s.") % {"code": data["code"]}})
        services.sell_through_create(
            actor=request.user,
            seller=seller,
            month=data["month"],
            specification=spec,
            quantity=data["quantity"],
            amount=data["amount"] or 0,
            buyer_name=data["buyer_name"],
            buyer_level=data["buyer_level"],
        )
    except ValidationError as exc:
        messages.error(request, _text(exc))
    else:
        messages.success(request, _("Sell-through recorded."))
    return redirect(reverse("orders:sell-through") + f"?seller={seller.pk}")
