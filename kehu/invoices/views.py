"""Invoice pages (发票): the list, a request from an order, a contract or a customer, the invoice with
its lines, approval, issue (finance) and red-letter reversal, the customer's invoice titles, and the
order's invoices as an htmx partial the order page loads."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.approvals.selectors import only_visible, requests_of_record
from kehu.contracts.models import Contract
from kehu.core.forms import apply_errors
from kehu.core.money import capital_amount
from kehu.core.params import page_param, parse_id
from kehu.customers.selectors import customer_get
from kehu.invoices import approval, selectors, services
from kehu.invoices.forms import FilterForm, IssueForm, LogisticsForm, RequestForm, ReverseForm, TitleForm
from kehu.invoices.models import InvoiceState, InvoiceTitle
from kehu.orders.selectors import order_get
from kehu.users.models import User
from kehu.users.selectors import scope_users_q

PAGE_SIZE = 25
TYPED_ROWS = 8
DETAIL = "invoices/detail.html"


def _require(user, perm: str) -> None:
    if not user.is_authenticated or not user.has_perm(perm):
        raise PermissionDenied


def _text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


# -- the list -------------------------------------------------------------------------------------


def invoice_list(request):
    _require(request.user, "invoices.view_invoice")
    user = request.user
    owners = User.objects.filter(scope_users_q(user), is_active=True).order_by("username")
    form = FilterForm(request.GET or None, owners=owners)
    filters = selectors.InvoiceFilters()
    customer = None
    if form.is_valid():
        data = form.cleaned_data
        if data["customer"]:
            try:
                customer = customer_get(user, data["customer"])
            except Http404:
                customer = None
        filters = selectors.InvoiceFilters(
            q=data["q"].strip(),
            state=data["state"],
            invoice_type=data["invoice_type"],
            owner_id=data["owner"].pk if data["owner"] else None,
            customer_id=customer.pk if customer else (-1 if data["customer"] else None),
            issued_from=data["issued_from"],
            issued_to=data["issued_to"],
        )
    page_number = page_param(request, last=400)
    page = selectors.invoice_list(user, filters, limit=PAGE_SIZE, offset=(page_number - 1) * PAGE_SIZE)
    query = request.GET.copy()
    query.pop("page", None)
    without_customer = query.copy()
    without_customer.pop("customer", None)
    return render(
        request,
        "invoices/list.html",
        {
            "form": form,
            "page": page,
            "rows": page.rows,
            "page_number": page_number,
            "query": query.urlencode(),
            "query_without_customer": without_customer.urlencode(),
            "customer": customer,
            "show_owner": getattr(user, "data_scope", "own") != "own",
        },
    )


# -- requesting -----------------------------------------------------------------------------------


def _typed_rows(post) -> list[dict]:
    rows = []
    for index in range(TYPED_ROWS):
        row = {
            "name": post.get(f"name-{index}", ""),
            "specification_name": post.get(f"spec-{index}", ""),
            "unit": post.get(f"unit-{index}", ""),
            "quantity": post.get(f"quantity-{index}", ""),
            "unit_price": post.get(f"price-{index}", ""),
            "tax_rate": post.get(f"rate-{index}", ""),
        }
        if any(str(v).strip() for v in row.values()):
            rows.append(row)
    return rows


def _order_rows(post, remaining) -> list[tuple[int, str]]:
    rows = []
    for line, _left in remaining:
        value = (post.get(f"qty-{line.pk}") or "").strip()
        if value and value not in ("0", "0.0", "0.000"):
            rows.append((line.pk, value))
    return rows


def _form_context(request, *, customer, order, contract, form, invoice=None, lines=None, errors=None) -> dict:
    remaining = services.remaining_of(order, exclude_invoice_id=invoice.pk if invoice else None) if order else []
    if invoice is not None and order is not None and lines is None:
        current = {line.order_line_id: line.quantity for line in selectors.invoice_lines(invoice)}
        lines = {f"qty-{pk}": q for pk, q in current.items()}
    typed = [dict(index=i) for i in range(TYPED_ROWS)]
    if invoice is not None and order is None and lines is None:
        for index, line in enumerate(selectors.invoice_lines(invoice)[:TYPED_ROWS]):
            typed[index].update(
                name=line.name,
                spec=line.specification_name,
                unit=line.unit,
                quantity=line.quantity,
                price=line.unit_price,
                rate=line.tax_rate,
            )
    elif lines is not None and order is None:
        for index in range(TYPED_ROWS):
            typed[index].update(
                name=lines.get(f"name-{index}", ""),
                spec=lines.get(f"spec-{index}", ""),
                unit=lines.get(f"unit-{index}", ""),
                quantity=lines.get(f"quantity-{index}", ""),
                price=lines.get(f"price-{index}", ""),
                rate=lines.get(f"rate-{index}", ""),
            )
    chosen = lines or {}
    order_rows = [
        {
            "line": line,
            "left": left,
            "value": chosen.get(f"qty-{line.pk}", left if invoice is None and not chosen else ""),
        }
        for line, left in remaining
    ]
    return {
        "customer": customer,
        "order": order,
        "contract": contract,
        "form": form,
        "invoice": invoice,
        "order_rows": order_rows,
        "typed_rows": typed,
        "line_errors": errors or [],
        "titles_url": reverse("invoices:titles", args=[customer.pk]),
    }


def invoice_create(request):
    """A request of an order's lines (?order=), of a contract (?contract=) or of a customer (?customer=)."""
    _require(request.user, "invoices.request_invoice")
    user = request.user
    source = request.POST if request.method == "POST" else request.GET
    order = contract = None
    try:
        if source.get("order"):
            order = order_get(user, source.get("order"))
            customer = order.customer
            contract = order.contract
        elif source.get("contract"):
            contract = (
                Contract.objects.filter(
                    pk=parse_id(source.get("contract")) or 0,
                    customer__in=_visible_customers(user),
                    deleted_at__isnull=True,
                )
                .select_related("customer")
                .first()
            )
            if contract is None:
                raise Http404
            customer = contract.customer
        else:
            customer = customer_get(user, source.get("customer"))
    except (Http404, ValueError, TypeError):
        messages.info(request, _("Open an order, a contract or a customer and ask for the invoice from there."))
        return redirect("invoices:list")
    titles = InvoiceTitle.objects.filter(customer=customer, deleted_at__isnull=True).order_by("-is_default", "name")
    if not titles.exists():
        messages.warning(request, _("Add an invoice title (抬头) for this customer first."))
        return redirect("invoices:titles", pk=customer.pk)
    form = RequestForm(request.POST or None, titles=titles, initial={"title": titles.first()})
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        lines = _order_rows(request.POST, services.remaining_of(order)) if order else _typed_rows(request.POST)
        try:
            invoice = services.invoice_request(
                customer=customer,
                actor=user,
                order=order,
                contract=contract,
                title=form.cleaned_data["title"],
                invoice_type=form.cleaned_data["invoice_type"],
                notes=form.cleaned_data["notes"],
                lines=lines or ([] if order else None),
                submit="submit" in request.POST,
            )
        except ValidationError as exc:
            errors = _line_errors(form, exc)
        else:
            if invoice.state == InvoiceState.DRAFT:
                messages.success(
                    request, _("Invoice request %(number)s saved as a draft.") % {"number": invoice.number}
                )
            else:
                messages.success(request, _("Invoice request %(number)s sent.") % {"number": invoice.number})
            return redirect("invoices:detail", pk=invoice.pk)
    return render(
        request,
        "invoices/form.html",
        _form_context(
            request,
            customer=customer,
            order=order,
            contract=contract,
            form=form,
            lines=request.POST if request.method == "POST" else None,
            errors=errors,
        ),
    )


def _line_errors(form, exc: ValidationError) -> list[str]:
    """Field errors go on the form; the lines' problems are listed above the lines."""
    if not hasattr(exc, "error_dict"):
        return exc.messages
    lines = exc.message_dict.get("lines", [])
    rest = {k: v for k, v in exc.message_dict.items() if k != "lines"}
    if rest:
        apply_errors(form, ValidationError(rest))
    return lines


def _visible_customers(user):
    from kehu.customers.selectors import customer_qs_visible_to

    return customer_qs_visible_to(user).values("pk")


def invoice_edit(request, pk):
    invoice = selectors.invoice_get(request.user, pk)
    _require(request.user, "invoices.request_invoice")
    if not services.may_change(request.user, invoice) or invoice.state != InvoiceState.DRAFT:
        messages.error(request, _("Only a draft request can be changed."))
        return redirect("invoices:detail", pk=pk)
    titles = InvoiceTitle.objects.filter(customer=invoice.customer, deleted_at__isnull=True).order_by(
        "-is_default", "name"
    )
    form = RequestForm(
        request.POST or None,
        titles=titles,
        initial={
            "title": invoice.title_id,
            "invoice_type": invoice.invoice_type,
            "notes": invoice.notes,
            "version": invoice.version,
        },
    )
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        order = invoice.order
        lines = (
            _order_rows(request.POST, services.remaining_of(order, exclude_invoice_id=invoice.pk))
            if order
            else _typed_rows(request.POST)
        )
        try:
            services.invoice_update(
                invoice=invoice,
                actor=request.user,
                expected_version=form.cleaned_data.get("version"),
                title=form.cleaned_data["title"],
                invoice_type=form.cleaned_data["invoice_type"],
                notes=form.cleaned_data["notes"],
                lines=lines,
                replace_lines=True,
            )
            if "submit" in request.POST:
                services.invoice_submit(invoice=invoice, actor=request.user)
        except ValidationError as exc:
            errors = _line_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("invoices:detail", pk=pk)
    return render(
        request,
        "invoices/form.html",
        _form_context(
            request,
            customer=invoice.customer,
            order=invoice.order,
            contract=invoice.contract,
            form=form,
            invoice=invoice,
            lines=request.POST if request.method == "POST" else None,
            errors=errors,
        ),
    )


# -- the invoice ----------------------------------------------------------------------------------


def _actions(user, invoice) -> dict:
    change = services.may_change(user, invoice)
    issue = services.may_issue(user)
    state = invoice.state
    actions = {
        "edit": change and state == InvoiceState.DRAFT,
        "submit": change and state == InvoiceState.DRAFT,
        "withdraw": change and state == InvoiceState.PENDING,
        "cancel": (change and state == InvoiceState.DRAFT) or ((change or issue) and state == InvoiceState.APPROVED),
        "issue": issue and state == InvoiceState.APPROVED,
        "reverse": issue and state == InvoiceState.ISSUED and not invoice.is_red,
        "logistics": issue and state in (InvoiceState.ISSUED, InvoiceState.REVERSED),
    }
    actions["any"] = any(actions.values())
    return actions


def invoice_detail(request, pk):
    invoice = selectors.invoice_get(request.user, pk)
    approvals = list(requests_of_record(approval.CODE, invoice.pk)[:3]) + list(
        requests_of_record(approval.CREDIT_CODE, invoice.pk)[:3]
    )
    approvals = only_visible(request.user, approvals)
    approvals.sort(key=lambda r: (r.created_at, r.pk), reverse=True)
    return render(
        request,
        DETAIL,
        {
            "invoice": invoice,
            "lines": selectors.invoice_lines(invoice),
            "capital": capital_amount(invoice.amount),
            "reversal": selectors.reversal_of(invoice) if invoice.state == InvoiceState.REVERSED else None,
            "approvals": approvals,
            "actions": _actions(request.user, invoice),
            "logistics_form": LogisticsForm(initial={"logistics_number": invoice.logistics_number}),
        },
    )


def _act(request, pk, act, done: str):
    invoice = selectors.invoice_get(request.user, pk)
    try:
        act(invoice)
    except ValidationError as exc:
        messages.error(request, _text(exc))
    else:
        messages.success(request, done)
    return redirect("invoices:detail", pk=pk)


@require_POST
def invoice_submit(request, pk):
    _require(request.user, "invoices.request_invoice")
    return _act(
        request, pk, lambda i: services.invoice_submit(invoice=i, actor=request.user), _("Invoice request sent.")
    )


@require_POST
def invoice_withdraw(request, pk):
    _require(request.user, "invoices.request_invoice")
    return _act(
        request,
        pk,
        lambda i: services.invoice_withdraw(invoice=i, actor=request.user),
        _("Taken back out of approval: the request is a draft again."),
    )


@require_POST
def invoice_cancel(request, pk):
    _require(request.user, "invoices.view_invoice")
    return _act(
        request, pk, lambda i: services.invoice_cancel(invoice=i, actor=request.user), _("Invoice request cancelled.")
    )


@require_POST
def invoice_logistics(request, pk):
    _require(request.user, "invoices.issue_invoice")
    form = LogisticsForm(request.POST)
    number = form.cleaned_data["logistics_number"] if form.is_valid() else ""
    return _act(
        request,
        pk,
        lambda i: services.invoice_logistics_set(invoice=i, actor=request.user, logistics_number=number),
        _("Saved."),
    )


def invoice_issue(request, pk):
    invoice = selectors.invoice_get(request.user, pk)
    _require(request.user, "invoices.issue_invoice")
    form = IssueForm(
        request.POST or None, initial={"invoice_type": invoice.invoice_type, "issued_on": timezone.localdate()}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.invoice_issue(invoice=invoice, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            if hasattr(exc, "error_dict") and set(exc.message_dict) <= set(form.fields):
                apply_errors(form, exc)
            else:
                messages.error(request, _text(exc))
                return redirect("invoices:detail", pk=pk)
        else:
            messages.success(request, _("Invoice %(number)s issued.") % {"number": invoice.invoice_number})
            return redirect("invoices:detail", pk=pk)
    return render(
        request,
        "invoices/issue.html",
        {"invoice": invoice, "form": form, "lines": selectors.invoice_lines(invoice), "reverse": False},
    )


def invoice_reverse(request, pk):
    invoice = selectors.invoice_get(request.user, pk)
    _require(request.user, "invoices.issue_invoice")
    form = ReverseForm(request.POST or None, initial={"issued_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            red = services.invoice_reverse(invoice=invoice, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            if hasattr(exc, "error_dict") and set(exc.message_dict) <= set(form.fields):
                apply_errors(form, exc)
            else:
                messages.error(request, _text(exc))
                return redirect("invoices:detail", pk=pk)
        else:
            messages.success(
                request, _("Invoice reversed by the red-letter invoice %(number)s.") % {"number": red.number}
            )
            return redirect("invoices:detail", pk=red.pk)
    return render(
        request,
        "invoices/issue.html",
        {"invoice": invoice, "form": form, "lines": selectors.invoice_lines(invoice), "reverse": True},
    )


def invoices_for_order(request, pk):
    """The order's invoices, for the order page to load (htmx)."""
    _require(request.user, "invoices.view_invoice")
    order = order_get(request.user, pk)
    return render(
        request,
        "invoices/for_order.html",
        {
            "order": order,
            "rows": selectors.invoices_of_order(request.user, order.pk),
            "may_request": request.user.has_perm("invoices.request_invoice"),
        },
    )


# -- titles ---------------------------------------------------------------------------------------


def _titles_customer(request, pk):
    _require(request.user, "invoices.view_invoice")
    return customer_get(request.user, pk)


def titles(request, pk):
    """The customer's invoice titles (抬头) and a form to add one."""
    customer = _titles_customer(request, pk)
    may_manage = services.may_manage_titles(request.user, customer)
    form = TitleForm(request.POST or None, initial={"kind": "company", "name": customer.name})
    if request.method == "POST":
        if not may_manage:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.invoice_title_create(customer=customer, actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Invoice title saved."))
                return redirect("invoices:titles", pk=pk)
    return render(
        request,
        "invoices/titles.html",
        {"customer": customer, "titles": selectors.titles_of(customer), "form": form, "may_manage": may_manage},
    )


def title_edit(request, pk, title_pk):
    customer = _titles_customer(request, pk)
    title = selectors.title_get(customer, title_pk)
    if not services.may_manage_titles(request.user, customer):
        raise PermissionDenied
    form = TitleForm(request.POST or None, instance=title)
    if request.method == "POST" and form.is_valid():
        fresh = selectors.title_get(customer, title_pk)
        try:
            services.invoice_title_update(title=fresh, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Invoice title saved."))
            return redirect("invoices:titles", pk=pk)
    return render(request, "invoices/title_form.html", {"customer": customer, "title": title, "form": form})


@require_POST
def title_default(request, pk, title_pk):
    customer = _titles_customer(request, pk)
    title = selectors.title_get(customer, title_pk)
    services.invoice_title_set_default(title=title, actor=request.user)
    messages.success(request, _("%(name)s is the default title now.") % {"name": title.name})
    return redirect("invoices:titles", pk=pk)


@require_POST
def title_delete(request, pk, title_pk):
    customer = _titles_customer(request, pk)
    title = selectors.title_get(customer, title_pk)
    services.invoice_title_delete(title=title, actor=request.user)
    messages.success(request, _("Invoice title removed."))
    return redirect("invoices:titles", pk=pk)
