"""Customer list, forms, contacts, facts and the recycle bin (CUS-1, CUS-2, CUS-4, PLT-5)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core import lookups
from kehu.core.forms import apply_errors
from kehu.core.masking import mask
from kehu.core.params import clean_text, page_param, parse_id, text_param
from kehu.customers import selectors, services
from kehu.customers.dedupe import duplicate_query
from kehu.customers.forms import (
    ContactForm,
    CustomerFilterForm,
    CustomerForm,
    FactForm,
    point_formsets,
    point_formsets_valid,
    points_from_formsets,
)
from kehu.customers.list_html import customer_rows
from kehu.customers.merge import MERGE_FIELDS, contact_merge, customer_merge
from kehu.customers.models import Contact, Customer
from kehu.customers.points import points_of
from kehu.users.selectors import assignable_owners

PAGE_SIZE = 25


def _require(user, perm):
    if not user.has_perm(perm):
        raise PermissionDenied


def customer_list(request):
    _require(request.user, "customers.view_customer")
    form = CustomerFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    filters = selectors.CustomerFilters(
        q=data.get("q", ""),
        owner=data.get("owner"),
        region=data.get("region", ""),
        industry=data.get("industry", ""),
        tier=data.get("tier", ""),
        status=data.get("status", ""),
        sort=data.get("sort") or "updated",
    )
    page = page_param(request, last=400)
    result = selectors.customer_page(
        request.user, filters, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE, columns=selectors.LIST_COLUMNS
    )
    query = request.GET.copy()
    query.pop("page", None)
    # The warning badges (overdue and over the credit limit: WRN-1, CLS-4; an open ticket or complaint),
    # each answered by its app through the lookup registry: once per page.
    shown = [c.pk for c in result.rows]
    warnings = {
        "overdue": lookups.ask(lookups.OVERDUE_RECEIVABLE, shown),
        "over_limit": lookups.ask(lookups.OVER_CREDIT_LIMIT, shown),
        "in_service": lookups.ask(lookups.OPEN_TICKET, shown),
        "complaining": lookups.ask(lookups.OPEN_COMPLAINT, shown),
    }
    context = {
        **warnings,
        "rows": customer_rows(result.rows, **warnings),
        "form": form,
        "customers": result.rows,
        "page": page,
        "has_next": result.has_next,
        "total": result.count,
        "total_is_capped": result.count_is_capped,
        "query": query.urlencode(),
        "owners": assignable_owners(request.user) if request.user.has_perm("customers.view_sensitive") else [],
        "filters": filters,
    }
    template = "customers/customer_list.html"
    if request.htmx and not request.htmx.boosted:
        template += "#results"
    return render(request, template, context)


def _allow_duplicate(request) -> bool:
    """The user ticked "Save anyway (not a duplicate)" under the list of likely duplicates."""
    return request.POST.get("allow_duplicate") == "on"


def customer_create(request):
    _require(request.user, "customers.add_customer")
    form = CustomerForm(request.POST or None, user=request.user, initial={"owner": request.user.pk})
    duplicates = []
    if request.method == "POST" and form.is_valid():
        fields = {k: v for k, v in form.cleaned_data.items() if k != "version"}
        fields["owner"] = fields.get("owner") or request.user
        try:
            customer = services.customer_create(actor=request.user, allow_duplicate=_allow_duplicate(request), **fields)
        except services.DuplicateCustomerError as exc:
            duplicates = exc.matches
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Customer %(name)s created.") % {"name": customer.name})
            return redirect("workspace:customer-detail", pk=customer.pk)
    return render(request, "customers/customer_form.html", {"form": form, "duplicates": duplicates})


def customer_edit(request, pk):
    customer = selectors.customer_get(request.user, pk, to_change=True)
    _require(request.user, "customers.change_customer")
    form = CustomerForm(
        request.POST or None,
        instance=customer,
        user=request.user,
        sensitive=selectors.can_see_sensitive(request.user, customer),
    )
    duplicates = []
    if request.method == "POST" and form.is_valid():
        fresh = selectors.customer_get(request.user, pk, to_change=True)
        fields = {name: form.cleaned_data[name] for name in form.changed_data if name != "version"}
        try:
            services.customer_update(
                customer=fresh,
                actor=request.user,
                expected_version=form.cleaned_data.get("version") or 0,
                allow_duplicate=_allow_duplicate(request),
                **fields,
            )
        except services.DuplicateCustomerError as exc:
            duplicates = exc.matches
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("workspace:customer-detail", pk=pk)
    return render(
        request,
        "customers/customer_form.html",
        {"form": form, "customer": customer, "duplicates": duplicates},
    )


@require_POST
def customer_delete(request, pk):
    customer = selectors.customer_get(request.user, pk, to_change=True)
    services.customer_delete(customer=customer, actor=request.user)
    messages.success(
        request, _("%(name)s is in the recycle bin; it can be restored from there.") % {"name": customer.name}
    )
    return redirect("customers:customer-list")


def recycle_bin(request):
    return render(
        request,
        "customers/recycle_bin.html",
        {"customers": selectors.deleted_customers_for(request.user)[:200]},
    )


@require_POST
def customer_restore(request, pk):
    customer = selectors.deleted_customers_for(request.user).filter(pk=pk).first()
    if customer is None:
        raise Http404
    try:
        services.customer_restore(customer=customer, actor=request.user)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("customers:recycle-bin")
    messages.success(request, _("%(name)s is restored.") % {"name": customer.name})
    return redirect("workspace:customer-detail", pk=customer.pk)


@require_POST
def contact_restore(request, pk):
    contact = selectors.deleted_contacts_for(request.user).filter(pk=pk).first()
    if contact is None:
        raise Http404
    services.contact_restore(contact=contact, actor=request.user)
    messages.success(request, _("%(name)s is restored.") % {"name": contact.name})
    return redirect(reverse("workspace:customer-detail", args=[contact.customer_id]) + "#contacts")


def _apply_contact_errors(form, formsets: dict, exc: ValidationError) -> None:
    """A service's errors: those of a list of phones, e-mails or handles above that list, the rest on the form."""
    if hasattr(exc, "error_dict"):
        rest = {}
        for name, errors in exc.message_dict.items():
            if name in formsets:
                formsets[name].non_form_errors().extend(errors)
            else:
                rest[name] = errors
        if not rest:
            return
        exc = ValidationError(rest)
    apply_errors(form, exc)


def _contact_form(request, customer, contact=None):
    """The contact form with its lists of phones, e-mails and handles. A press on "add another"
    (`add`) shows the same form with one more blank row of that list, saving nothing."""
    data = request.POST if request.method == "POST" else None
    add = data.get("add", "") if data is not None else ""
    points = points_of(contact) if contact is not None else None
    if add:
        initial = {k: v for k, v in data.items() if k in ContactForm.base_fields}
        initial["is_primary"] = "is_primary" in data  # an unticked box is not posted
        form = ContactForm(instance=contact, initial=initial)
    else:
        form = ContactForm(data, instance=contact)
    formsets = point_formsets(data, points=points, add=add)
    if data is not None and not add and form.is_valid() and point_formsets_valid(formsets):
        lists = points_from_formsets(formsets)
        try:
            if contact is None:
                fields = {k: v for k, v in form.cleaned_data.items() if k != "version"}
                services.contact_create(customer=customer, actor=request.user, **fields, **lists)
            else:
                fresh = selectors.contact_get(request.user, contact.pk)
                fields = {name: form.cleaned_data[name] for name in form.changed_data if name != "version"}
                services.contact_update(
                    contact=fresh,
                    actor=request.user,
                    expected_version=form.cleaned_data.get("version") or 0,
                    **fields,
                    **lists,
                )
        except ValidationError as exc:
            _apply_contact_errors(form, formsets, exc)
        else:
            return redirect(reverse("workspace:customer-detail", args=[customer.pk]) + "#contacts")
    return render(
        request,
        "customers/contact_form.html",
        {
            "form": form,
            "formsets": formsets,
            "adding": bool(add),
            "customer": customer,
            "contact": contact,
        },
    )


def contact_create(request, pk):
    customer = selectors.customer_get(request.user, pk)
    _require(request.user, "customers.change_customer")
    return _contact_form(request, customer)


def contact_edit(request, pk):
    contact = selectors.contact_get(request.user, pk)
    _require(request.user, "customers.change_customer")
    if not selectors.can_see_sensitive(request.user, contact.customer):
        raise PermissionDenied
    return _contact_form(request, contact.customer, contact)


MOVE_SEARCH_ROWS = 20


def contact_move(request, pk):
    """Move a contact to another customer in the user's scope, with the reason (CUS-2)."""
    contact = selectors.contact_get(request.user, pk)
    _require(request.user, "customers.change_customer")
    if request.method == "POST":
        to_customer = selectors.customer_get(request.user, request.POST.get("to"))
        try:
            services.contact_move(
                contact=contact,
                to_customer=to_customer,
                actor=request.user,
                reason=clean_text(request.POST.get("reason", ""), 500),
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request, _("%(name)s now works at %(customer)s.") % {"name": contact.name, "customer": to_customer.name}
            )
            return redirect(reverse("workspace:customer-detail", args=[to_customer.pk]) + "#contacts")
    q = text_param(request, "q")
    found = []
    if q:
        page = selectors.customer_page(
            request.user,
            selectors.CustomerFilters(q=q),
            offset=0,
            limit=MOVE_SEARCH_ROWS,
            columns=selectors.LIST_COLUMNS,
        )
        found = [c for c in page.rows if c.pk != contact.customer_id]
    return render(
        request,
        "customers/contact_move.html",
        {"contact": contact, "customer": contact.customer, "q": q, "found": found},
    )


@require_POST
def contact_delete(request, pk):
    contact = selectors.contact_get(request.user, pk)
    services.contact_delete(contact=contact, actor=request.user)
    return redirect(reverse("workspace:customer-detail", args=[contact.customer_id]) + "#contacts")


def fact_create(request, pk):
    customer = selectors.customer_get(request.user, pk)
    _require(request.user, "customers.change_customer")
    form = FactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.fact_create(customer=customer, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return redirect(reverse("workspace:customer-detail", args=[customer.pk]) + "#facts")
    return render(request, "customers/fact_form.html", {"form": form, "customer": customer})


MERGE_SEARCH_ROWS = 20


def _ids(values) -> list[int]:
    ids = [parse_id(value) for value in values]
    if None in ids:  # not an id, so no such record
        raise Http404
    return list(dict.fromkeys(ids))


def _field_choices(post, fields) -> dict[str, int]:
    """The merge form's radio buttons: {field: id of the record whose value is kept}."""
    return {name: _ids([raw])[0] for name in fields if (raw := post.get(f"field_{name}"))}


def _display(customer, name: str, sensitive: bool) -> str:
    if name == "owner":
        return customer.owner.display_name if customer.owner else ""
    if name == "latitude":
        return f"{customer.latitude}, {customer.longitude}" if customer.latitude is not None else ""
    field = customer._meta.get_field(name)
    value = getattr(customer, f"get_{name}_display")() if field.choices else getattr(customer, name)
    value = "" if value is None else str(value)
    return mask(value) if name == "phone" and not sensitive else value


def _comparison(user, target, sources) -> list[dict]:
    """The fields whose values differ, each with the values and the preselected customer."""
    everyone = [target, *sources]
    # All of them are in the user's scope (checked by the caller), so this is can_see_sensitive without a query each.
    sees_all = user.is_superuser or user.has_perm("customers.view_sensitive")
    sensitive = {c.pk: sees_all or c.owner_id == user.pk for c in everyone}
    rows = []
    for name in MERGE_FIELDS:
        raw = [(getattr(c, name), c.longitude if name == "latitude" else None) for c in everyone]
        if len({str(r) for r in raw}) == 1:
            continue
        blank = [r[0] in (None, "") for r in raw]
        chosen = target.pk
        if blank[0] and name != "owner":
            chosen = next((c.pk for c, b in zip(everyone, blank, strict=True) if not b), target.pk)
        rows.append(
            {
                "name": name,
                "label": Customer._meta.get_field(name).verbose_name,
                "values": [(c.pk, _display(c, name, sensitive[c.pk])) for c in everyone],
                "chosen": chosen,
            }
        )
    return rows


def customer_merge_view(request, pk):
    """Merge duplicates into this customer: pick them, choose the differing values, confirm."""
    target = selectors.customer_get(request.user, pk, to_change=True)
    _require(request.user, "customers.change_customer")
    source_ids = _ids(request.POST.getlist("sources") if request.method == "POST" else request.GET.getlist("sources"))
    visible = selectors.customer_qs_visible_to(request.user).select_related("owner")
    sources = []
    if source_ids:
        by_pk = {c.pk: c for c in visible.filter(pk__in=source_ids).exclude(pk=target.pk)}
        if len(by_pk) != len(source_ids):
            raise Http404
        sources = [by_pk[i] for i in source_ids]
    if request.method == "POST" and sources:
        choices = _field_choices(request.POST, MERGE_FIELDS)
        try:
            customer_merge(target=target, sources=sources, actor=request.user, field_choices=choices)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(
                request,
                _("Merged %(names)s into %(name)s.")
                % {"names": ", ".join(s.name for s in sources), "name": target.name},
            )
            return redirect("workspace:customer-detail", pk=target.pk)
    context = {"customer": target, "sources": sources}
    if sources:
        context["comparison"] = _comparison(request.user, target, sources)
    else:
        duplicates = [m for m in selectors.customer_duplicates(request.user, **duplicate_query(target)) if m.in_scope]
        context["duplicates"] = duplicates
        q = text_param(request, "q")
        found = []
        if q:
            page = selectors.customer_page(
                request.user,
                selectors.CustomerFilters(q=q),
                offset=0,
                limit=MERGE_SEARCH_ROWS,
                columns=selectors.LIST_COLUMNS,
            )
            found = [c for c in page.rows if c.pk != target.pk]
        context.update(q=q, found=found)
    return render(request, "customers/customer_merge.html", context)


def _contact_display(contact, name: str, sensitive: bool) -> str:
    if name == "is_primary":
        return "★" if contact.is_primary else ""
    field = contact._meta.get_field(name)
    value = getattr(contact, f"get_{name}_display")() if field.choices else getattr(contact, name)
    value = "" if value is None else str(value)
    return mask(value) if name in Contact.PRIVATE_FIELDS and not sensitive else value


def _contact_comparison(target, sources, sensitive: bool) -> list[dict]:
    """The contact fields whose values differ, with the values and the preselected contact."""
    everyone = [target, *sources]
    rows = []
    for name in services.CONTACT_FIELDS:
        raw = [getattr(c, name) for c in everyone]
        if len({str(r) for r in raw}) == 1:
            continue
        blank = [r in (None, "", False) for r in raw]
        chosen = target.pk
        if blank[0]:
            chosen = next((c.pk for c, b in zip(everyone, blank, strict=True) if not b), target.pk)
        rows.append(
            {
                "name": name,
                "label": Contact._meta.get_field(name).verbose_name,
                "values": [(c.pk, _contact_display(c, name, sensitive)) for c in everyone],
                "chosen": chosen,
            }
        )
    return rows


def contact_merge_view(request, pk):
    """Merge duplicate contacts of this customer: ?keep=<id>&merge=<id>…, choose values, confirm (CUS-5)."""
    customer = selectors.customer_get(request.user, pk)
    _require(request.user, "customers.change_customer")
    data = request.POST if request.method == "POST" else request.GET
    keep = _ids(data.getlist("keep"))
    merge_ids = [i for i in _ids(data.getlist("merge")) if i not in keep]
    if len(keep) != 1 or not merge_ids:
        raise Http404
    by_pk = {
        c.pk: c
        for c in selectors.contact_qs_visible_to(request.user).filter(customer=customer, pk__in=[*keep, *merge_ids])
    }
    if len(by_pk) != len(merge_ids) + 1:
        raise Http404
    target, sources = by_pk[keep[0]], [by_pk[i] for i in merge_ids]
    if request.method == "POST":
        choices = _field_choices(request.POST, services.CONTACT_FIELDS)
        try:
            contact_merge(target=target, sources=sources, actor=request.user, field_choices=choices)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(
                request,
                _("Merged %(names)s into %(name)s.")
                % {"names": ", ".join(s.name for s in sources), "name": target.name},
            )
            return redirect(reverse("workspace:customer-detail", args=[customer.pk]) + "#contacts")
    sensitive = selectors.can_see_sensitive(request.user, customer)
    return render(
        request,
        "customers/contact_merge.html",
        {
            "customer": customer,
            "target": target,
            "sources": sources,
            "comparison": _contact_comparison(target, sources, sensitive),
        },
    )
