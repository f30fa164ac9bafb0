"""Quote pages (报价单, SAL-3/SAL-4): the list, a new quote from a customer or an opportunity, the
quote with its state, versions and totals, and the line editor (keyboard entry with a typeahead,
paste from Excel, import from a file, in-place edits through htmx).

A quote of hundreds of lines is one page rendered in one pass: the lines come from one query, the
row is one small partial (`quote_detail.html#row`) reused by the htmx answers, and a row edit
answers with that row and the totals only.
"""

from datetime import timedelta
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
from kehu.core.forms import apply_errors
from kehu.core.money import capital_amount
from kehu.core.params import page_param
from kehu.customers.selectors import contacts_of, customer_get
from kehu.quotes import followups, selectors, services
from kehu.quotes.approval import CODE as APPROVAL_CODE
from kehu.quotes.forms import (
    DecisionForm,
    ImportForm,
    LineAddForm,
    LineEditForm,
    PasteForm,
    QuoteFilterForm,
    QuoteHeaderForm,
)
from kehu.quotes.models import QuoteState
from kehu.sales.selectors import opportunity_get
from kehu.users.models import User
from kehu.users.selectors import scope_users_q

PAGE_SIZE = 25
EXPIRING_DAYS = 7
PLAIN_TEXT = "text/plain; charset=utf-8"
DETAIL = "quotes/quotes/quote_detail.html"


def _require(user, perm: str) -> None:
    if not user.is_authenticated or not user.has_perm(perm):
        raise PermissionDenied


def _text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


# -- The list ------------------------------------------------------------------------------------


def quote_list(request):
    _require(request.user, "quotes.view_quote")
    user = request.user
    owners = User.objects.filter(scope_users_q(user), is_active=True).order_by("username")
    form = QuoteFilterForm(request.GET or None, owners=owners)
    today = timezone.localdate()
    filters = selectors.QuoteFilters()
    customer = None
    if form.is_valid():
        data = form.cleaned_data
        if data["customer"]:
            try:
                customer = customer_get(user, data["customer"])
            except Http404:
                customer = None
        filters = selectors.QuoteFilters(
            q=data["q"].strip(),
            state=data["state"],
            owner_id=data["owner"].pk if data["owner"] else None,
            customer_id=customer.pk if customer else (-1 if data["customer"] else None),
            # Expiring: what the customer holds (approved or sent) and may still accept.
            states=(QuoteState.APPROVED, QuoteState.SENT) if data["expiring"] else (),
            valid_from=today if data["expiring"] else None,
            valid_to=today + timedelta(days=EXPIRING_DAYS) if data["expiring"] else None,
        )
    page_number = page_param(request, last=400)
    page = selectors.quote_list(user, filters, limit=PAGE_SIZE, offset=(page_number - 1) * PAGE_SIZE)
    query = request.GET.copy()
    query.pop("page", None)
    without_customer = query.copy()
    without_customer.pop("customer", None)
    return render(
        request,
        "quotes/quotes/quote_list.html",
        {
            "form": form,
            "page": page,
            "rows": page.rows,
            "page_number": page_number,
            "query": query.urlencode(),
            "query_without_customer": without_customer.urlencode(),
            "customer": customer,
            "show_owner": getattr(user, "data_scope", "own") != "own",
            "soon": today + timedelta(days=EXPIRING_DAYS),
        },
    )


# -- Creating and editing the header --------------------------------------------------------------


def _header_fields(form) -> dict:
    data = dict(form.cleaned_data)
    data.pop("version", None)
    return data


def quote_create(request):
    _require(request.user, "quotes.add_quote")
    user = request.user
    opportunity = None
    source = request.POST if request.method == "POST" else request.GET
    try:
        if source.get("opportunity"):
            opportunity = opportunity_get(user, source.get("opportunity"))
            customer = opportunity.customer
        else:
            customer = customer_get(user, source.get("customer"))
    except (Http404, ValueError, TypeError):
        messages.info(request, _("Open a customer or an opportunity and start the quote from there."))
        return redirect("customers:customer-list")
    form = QuoteHeaderForm(request.POST or None, contacts=contacts_of(customer))
    if request.method == "POST" and form.is_valid():
        try:
            quote = services.quote_create(
                customer=customer, opportunity=opportunity, actor=user, **_header_fields(form)
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Quote %(number)s started: add its lines.") % {"number": quote})
            return redirect("quotes:quote-detail", pk=quote.pk)
    return render(
        request,
        "quotes/quotes/quote_form.html",
        {"form": form, "customer": customer, "opportunity": opportunity},
    )


def quote_edit(request, pk):
    quote = selectors.quote_get(request.user, pk)
    _require(request.user, "quotes.change_quote")
    form = QuoteHeaderForm(request.POST or None, instance=quote, contacts=contacts_of(quote.customer))
    if request.method == "POST" and form.is_valid():
        fresh = selectors.quote_get(request.user, pk)
        fields = {n: form.cleaned_data[n] for n in form.changed_data if n != "version"}
        try:
            services.quote_update(
                quote=fresh, actor=request.user, expected_version=form.cleaned_data.get("version") or 0, **fields
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("quotes:quote-detail", pk=pk)
    return render(
        request,
        "quotes/quotes/quote_form.html",
        {"form": form, "quote": quote, "customer": quote.customer, "opportunity": quote.opportunity},
    )


# -- The quote ------------------------------------------------------------------------------------


def _editable(user, quote) -> bool:
    return quote.state == QuoteState.DRAFT and services.may_change(user, quote)


def _actions(user, quote, approval) -> dict:
    # The owner and the managers over the owner change a quote; account team members only read it.
    change = services.may_change(user, quote)
    state = quote.state
    actions = {
        "edit": change and state == QuoteState.DRAFT,
        # Offered on an empty draft too: lines added through htmx do not redraw the buttons, and
        # the service says what is missing.
        "submit": change and state == QuoteState.DRAFT,
        # Only who submitted it takes it back (the approvers approve or reject).
        "withdraw": change and state == QuoteState.PENDING and (approval is None or approval.requester_id == user.pk),
        "send": change and state in (QuoteState.APPROVED, QuoteState.SENT),
        "decide": change and state in (QuoteState.APPROVED, QuoteState.SENT),
        "revise": change and state in (QuoteState.APPROVED, QuoteState.SENT, QuoteState.REJECTED, QuoteState.EXPIRED),
        "delete": change
        and user.has_perm("quotes.delete_quote")
        and state not in (QuoteState.ACCEPTED, QuoteState.PENDING, QuoteState.SUPERSEDED),
    }
    actions["any"] = any(actions.values())
    return actions


def _line_base(quote) -> str:
    """The address of the quote's line 0 without its id: each row adds its own (a reverse() per
    row would cost more than the rest of the row)."""
    return reverse("quotes:line-update", args=[quote.pk, 0]).removesuffix("0/")


def _spec_search_url() -> str:
    try:
        return reverse("catalog:spec-search")
    except NoReverseMatch:
        return ""


def _limit(quote) -> Decimal:
    return discount_limit(quote.owner)


def _followups(user, quote) -> list[tuple[str, str]]:
    """What the apps above offer after an accepted quote (see `followups`): (label, URL)."""
    if quote.state != QuoteState.ACCEPTED or quote.deleted_at is not None:
        return []
    found = []
    for followup in followups.for_user(user):
        try:
            found.append((str(followup.label), f"{reverse(followup.url_name)}?quote={quote.pk}"))
        except NoReverseMatch:
            continue  # the app is not installed (or not mounted)
    return found


def _detail_context(request, quote, **extra) -> dict:
    user = request.user
    lines = list(selectors.quote_lines(quote))
    limit = _limit(quote)
    versions = list(selectors.quote_versions(user, quote))
    newer = next((v for v in versions if v.previous_id == quote.pk), None)
    editable = _editable(user, quote)
    approval = (
        requests_of_record(APPROVAL_CODE, quote.pk).first()
        if quote.state == QuoteState.PENDING or quote.approved_at
        else None
    )
    context = {
        "quote": quote,
        "lines": lines,
        "limit": limit,
        "capital": capital_amount(quote.total),
        "versions": versions,
        "newer": newer,
        "approval": next(iter(only_visible(user, [approval])), None),  # linked only when the reader may open it
        "actions": _actions(user, quote, approval),
        "editable": editable,
        "may_share": quote.state in (QuoteState.APPROVED, QuoteState.SENT, QuoteState.ACCEPTED)
        and services.may_change(user, quote),
        "line_base": _line_base(quote),
        "spec_search_url": _spec_search_url() if editable else "",
        "today": timezone.localdate(),
        "paste_form": PasteForm(),
        "followups": _followups(user, quote),
    }
    context.update(extra)
    return context


def quote_detail(request, pk):
    quote = selectors.quote_get(request.user, pk)
    return render(request, DETAIL, _detail_context(request, quote))


def _changed(request, quote, new_lines, *, status=200):
    """The htmx answer to a line edit: the changed rows and, out of band, the totals."""
    quote = selectors.quote_get(request.user, quote.pk)
    limit = _limit(quote)
    return render(
        request,
        f"{DETAIL}#changed",
        {
            "quote": quote,
            "new_lines": new_lines,
            "limit": limit,
            "capital": capital_amount(quote.total),
            "editable": _editable(request.user, quote),
            "line_base": _line_base(quote),
        },
        status=status,
    )


def _refused(request, quote, exc: ValidationError, *, status=400):
    if request.htmx:
        return HttpResponse(_text(exc), status=status, content_type=PLAIN_TEXT)
    messages.error(request, _text(exc))
    return redirect("quotes:quote-detail", pk=quote.pk)


# -- State changes --------------------------------------------------------------------------------


def _transition(request, pk, perm: str, act, done: str):
    quote = selectors.quote_get(request.user, pk)
    _require(request.user, perm)
    try:
        result = act(quote)
    except ValidationError as exc:
        messages.error(request, _text(exc))
        return redirect("quotes:quote-detail", pk=pk)
    messages.success(request, done)
    target = result if getattr(result, "pk", None) and result.pk != pk else quote
    if getattr(target, "deleted_at", None):
        return redirect("quotes:quote-list")
    return redirect("quotes:quote-detail", pk=target.pk)


@require_POST
def quote_submit(request, pk):
    return _transition(
        request,
        pk,
        "quotes.change_quote",
        lambda quote: services.quote_submit(quote=quote, actor=request.user),
        _("Quote submitted."),
    )


@require_POST
def quote_withdraw(request, pk):
    return _transition(
        request,
        pk,
        "quotes.change_quote",
        lambda quote: services.quote_withdraw(quote=quote, actor=request.user),
        _("Taken back out of approval: the quote is a draft again."),
    )


@require_POST
def quote_send(request, pk):
    return _transition(
        request,
        pk,
        "quotes.change_quote",
        lambda quote: services.quote_mark_sent(quote=quote, actor=request.user, how="manual"),
        _("Marked as sent to the customer."),
    )


def _note(request) -> str:
    form = DecisionForm(request.POST)
    return form.cleaned_data["note"] if form.is_valid() else ""


@require_POST
def quote_accept(request, pk):
    return _transition(
        request,
        pk,
        "quotes.change_quote",
        lambda quote: services.quote_accept(quote=quote, actor=request.user, note=_note(request)),
        _("The customer accepted the quote."),
    )


@require_POST
def quote_reject(request, pk):
    return _transition(
        request,
        pk,
        "quotes.change_quote",
        lambda quote: services.quote_reject(quote=quote, actor=request.user, note=_note(request)),
        _("The customer rejected the quote."),
    )


@require_POST
def quote_revise(request, pk):
    return _transition(
        request,
        pk,
        "quotes.change_quote",
        lambda quote: services.quote_revise(quote=quote, actor=request.user),
        _("A new version was started; the earlier one stays readable."),
    )


@require_POST
def quote_delete(request, pk):
    quote = selectors.quote_get(request.user, pk)
    _require(request.user, "quotes.delete_quote")
    try:
        services.quote_delete(quote=quote, actor=request.user)
    except ValidationError as exc:
        messages.error(request, _text(exc))
        return redirect("quotes:quote-detail", pk=pk)
    messages.success(request, _("Quote %(number)s moved to the recycle bin.") % {"number": quote})
    return redirect("quotes:quote-list")


@require_POST
def quote_reprice(request, pk):
    return _transition(
        request,
        pk,
        "quotes.change_quote",
        lambda quote: services.quote_reprice(quote=quote, actor=request.user),
        _("Every line was priced again from the price book."),
    )


# -- Lines ----------------------------------------------------------------------------------------


def _draft(request, pk):
    quote = selectors.quote_get(request.user, pk)
    _require(request.user, "quotes.change_quote")
    return quote


def _added(request, quote, lines: list):
    if request.htmx:
        return _changed(request, quote, lines)
    count = len(lines)
    messages.success(request, ngettext("%(count)s line added.", "%(count)s lines added.", count) % {"count": count})
    return redirect(reverse("quotes:quote-detail", args=[quote.pk]) + "#quote-lines")


@require_POST
def line_add(request, pk):
    """One line from the keyboard: a code (or a specification chosen in the typeahead) and a quantity."""
    quote = _draft(request, pk)
    form = LineAddForm(request.POST)
    if not form.is_valid():
        return _refused(request, quote, ValidationError([e for errors in form.errors.values() for e in errors]))
    quantity = form.cleaned_data["quantity"] or Decimal(1)
    try:
        lines = services.quote_lines_paste(
            quote=quote, actor=request.user, text=f"{form.cleaned_data['code']}\t{quantity}"
        )
    except ValidationError as exc:
        return _refused(request, quote, exc)
    return _added(request, quote, lines)


@require_POST
def lines_paste(request, pk):
    quote = _draft(request, pk)
    form = PasteForm(request.POST)
    errors: list[str] = []
    if form.is_valid():
        try:
            lines = services.quote_lines_paste(quote=quote, actor=request.user, text=form.cleaned_data["text"])
        except ValidationError as exc:
            errors = exc.messages
        else:
            return _added(request, quote, lines)
    return _line_errors(request, pk, paste_form=form, paste_errors=errors)


@require_POST
def lines_import(request, pk):
    quote = _draft(request, pk)
    form = ImportForm(request.POST, request.FILES)
    errors: list[str] = []
    if form.is_valid():
        try:
            lines = services.quote_lines_paste(quote=quote, actor=request.user, text=form.cleaned_data["text"])
        except ValidationError as exc:
            errors = exc.messages
        else:
            request.htmx = False  # a file is always sent by the browser's own form
            return _added(request, quote, lines)
    else:
        errors = [e for field_errors in form.errors.values() for e in field_errors]
    return _line_errors(request, pk, import_errors=errors)


def _line_errors(request, pk, **errors):
    """The quote again with what was wrong under the paste box or the file field (the pasted text
    kept); when the quote is no longer a draft, the reason on top."""
    quote = selectors.quote_get(request.user, pk)
    if not _editable(request.user, quote):
        for field_errors in errors.values():
            for error in field_errors if isinstance(field_errors, list) else []:
                messages.error(request, error)
        return redirect("quotes:quote-detail", pk=pk)
    return render(request, DETAIL, _detail_context(request, quote, **errors))


def _edited_fields(line, data: dict) -> dict:
    """The numbers the person changed (the row posts all three; the one that differs counts)."""
    changed = {}
    for name in ("quantity", "discount", "unit_price"):
        value = data.get(name)
        if value is not None and value != getattr(line, name):
            changed[name] = value
    if "unit_price" in changed and "discount" in changed:
        del changed["discount"]  # the price decides the discount
    return changed


@require_POST
def line_update(request, pk, line_pk):
    line = selectors.quote_line_get(request.user, pk, line_pk)
    _require(request.user, "quotes.change_quote")
    form = LineEditForm(request.POST)
    if not form.is_valid():
        return _refused(request, line.quote, ValidationError([e for errors in form.errors.values() for e in errors]))
    fields = _edited_fields(line, form.cleaned_data)
    if fields:
        try:
            line = services.quote_line_update(line=line, actor=request.user, **fields)
        except ValidationError as exc:
            return _refused(request, line.quote, exc)
    if not request.htmx:
        return redirect("quotes:quote-detail", pk=line.quote_id)
    return _changed(request, line.quote, [selectors.quote_line_get(request.user, pk, line.pk)])


@require_POST
def line_remove(request, pk, line_pk):
    line = selectors.quote_line_get(request.user, pk, line_pk)
    _require(request.user, "quotes.change_quote")
    quote = line.quote
    try:
        services.quote_line_remove(line=line, actor=request.user)
    except ValidationError as exc:
        return _refused(request, quote, exc)
    if not request.htmx:
        messages.success(request, _("Line removed."))
        return redirect("quotes:quote-detail", pk=quote.pk)
    return _changed(request, quote, [])
