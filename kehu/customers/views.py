"""Customer list, forms, contacts, facts and the recycle bin (CUS-1, CUS-2, CUS-4, PLT-5)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core.forms import apply_errors
from kehu.customers import selectors, services
from kehu.customers.forms import ContactForm, CustomerFilterForm, CustomerForm, FactForm
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
    page = data.get("page") or 1
    result = selectors.customer_page(
        request.user, filters, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE, columns=selectors.LIST_COLUMNS
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "customers": result.rows,
        "page": page,
        "has_next": result.has_next,
        "total": result.count,
        "total_is_capped": result.count_is_capped,
        "query": query.urlencode(),
        "nav_active": "customers",
        "owners": assignable_owners(request.user) if request.user.has_perm("customers.view_sensitive") else [],
        "filters": filters,
    }
    template = "customers/customer_list.html"
    if request.htmx and not request.htmx.boosted:
        template += "#results"
    return render(request, template, context)


def customer_create(request):
    _require(request.user, "customers.add_customer")
    form = CustomerForm(request.POST or None, user=request.user, initial={"owner": request.user.pk})
    if request.method == "POST" and form.is_valid():
        fields = {k: v for k, v in form.cleaned_data.items() if k != "version"}
        fields["owner"] = fields.get("owner") or request.user
        try:
            customer = services.customer_create(actor=request.user, **fields)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Customer %(name)s created.") % {"name": customer.name})
            return redirect("workspace:customer-detail", pk=customer.pk)
    return render(request, "customers/customer_form.html", {"form": form, "nav_active": "customers"})


def customer_edit(request, pk):
    customer = selectors.customer_get(request.user, pk)
    _require(request.user, "customers.change_customer")
    form = CustomerForm(
        request.POST or None,
        instance=customer,
        user=request.user,
        sensitive=selectors.can_see_sensitive(request.user, customer),
    )
    if request.method == "POST" and form.is_valid():
        fresh = selectors.customer_get(request.user, pk)
        fields = {name: form.cleaned_data[name] for name in form.changed_data if name != "version"}
        try:
            services.customer_update(
                customer=fresh, actor=request.user, expected_version=form.cleaned_data.get("version") or 0, **fields
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("workspace:customer-detail", pk=pk)
    return render(
        request, "customers/customer_form.html", {"form": form, "customer": customer, "nav_active": "customers"}
    )


@require_POST
def customer_delete(request, pk):
    customer = selectors.customer_get(request.user, pk)
    services.customer_delete(customer=customer, actor=request.user)
    messages.success(
        request, _("%(name)s is in the recycle bin; it can be restored from there.") % {"name": customer.name}
    )
    return redirect("customers:customer-list")


def recycle_bin(request):
    return render(
        request,
        "customers/recycle_bin.html",
        {"customers": selectors.deleted_customers_for(request.user)[:200], "nav_active": "recycle"},
    )


@require_POST
def customer_restore(request, pk):
    customer = selectors.deleted_customers_for(request.user).filter(pk=pk).first()
    if customer is None:
        raise Http404
    services.customer_restore(customer=customer, actor=request.user)
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


def contact_create(request, pk):
    customer = selectors.customer_get(request.user, pk)
    _require(request.user, "customers.change_customer")
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        fields = {k: v for k, v in form.cleaned_data.items() if k != "version"}
        try:
            services.contact_create(customer=customer, actor=request.user, **fields)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return redirect(reverse("workspace:customer-detail", args=[customer.pk]) + "#contacts")
    return render(
        request, "customers/contact_form.html", {"form": form, "customer": customer, "nav_active": "customers"}
    )


def contact_edit(request, pk):
    contact = selectors.contact_get(request.user, pk)
    _require(request.user, "customers.change_customer")
    if not selectors.can_see_sensitive(request.user, contact.customer):
        raise PermissionDenied
    form = ContactForm(request.POST or None, instance=contact)
    if request.method == "POST" and form.is_valid():
        fresh = selectors.contact_get(request.user, pk)
        fields = {name: form.cleaned_data[name] for name in form.changed_data if name != "version"}
        try:
            services.contact_update(
                contact=fresh, actor=request.user, expected_version=form.cleaned_data.get("version") or 0, **fields
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return redirect(reverse("workspace:customer-detail", args=[contact.customer_id]) + "#contacts")
    return render(
        request,
        "customers/contact_form.html",
        {"form": form, "customer": contact.customer, "contact": contact, "nav_active": "customers"},
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
    return render(request, "customers/fact_form.html", {"form": form, "customer": customer, "nav_active": "customers"})
