"""Pages of the service setup (categories, SLA policies, service hours: support.manage_service) and
of the installed base (a customer's units, entering one, registering an order's products)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core.forms import apply_errors
from kehu.core.pagination import page_of
from kehu.core.params import id_param, page_param, text_param
from kehu.customers.selectors import customer_get, customer_qs_visible_to
from kehu.support import setup_services as services
from kehu.support.models import InstalledUnit, Priority, ServiceSettings, SlaPolicy, TicketCategory
from kehu.support.selectors import unit_qs_visible_to
from kehu.support.setup_forms import CategoryEditForm, CategoryForm, FromOrderForm, HoursForm, PolicyForm, UnitForm

PAGE_SIZE = 25


def _require_manage(user) -> None:
    if not user.has_perm("support.manage_service"):
        raise PermissionDenied


def _object_or_404(queryset, pk):
    try:
        return queryset.get(pk=int(pk))
    except (queryset.model.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def _policies_by_category() -> list[dict]:
    """The policy table: the defaults first, then each category; a row per category, a cell per priority."""
    policies = list(SlaPolicy.objects.select_related("category"))
    rows: dict[int | None, dict] = {None: {"category": None, "cells": {}}}
    for category in TicketCategory.objects.order_by("name"):
        rows[category.pk] = {"category": category, "cells": {}}
    for policy in policies:
        rows.setdefault(policy.category_id, {"category": policy.category, "cells": {}})["cells"][policy.priority] = (
            policy
        )
    return [
        {"category": row["category"], "cells": [(p, row["cells"].get(p)) for p in Priority.values]}
        for row in rows.values()
    ]


def setup_home(request):
    """One page: the categories, the policy table, the service hours."""
    _require_manage(request.user)
    categories = TicketCategory.objects.annotate(policy_count=Count("slapolicy")).order_by("-is_active", "name")
    return render(
        request,
        "support/setup/home.html",
        {
            "categories": categories,
            "category_form": CategoryForm(),
            "policy_rows": _policies_by_category(),
            "priorities": Priority.choices,
            "hours": ServiceSettings.load(),
        },
    )


@require_POST
def category_add(request):
    _require_manage(request.user)
    form = CategoryForm(request.POST)
    if form.is_valid():
        try:
            category = services.category_create(actor=request.user, name=form.cleaned_data["name"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Category %(name)s added.") % {"name": category.name})
            return redirect("support:setup")
    for error in [*form.non_field_errors(), *form["name"].errors]:
        messages.error(request, error)
    return redirect("support:setup")


def category_edit(request, pk):
    _require_manage(request.user)
    category = _object_or_404(TicketCategory.objects.all(), pk)
    form = CategoryEditForm(request.POST or None, initial={"name": category.name, "is_active": category.is_active})
    if request.method == "POST" and form.is_valid():
        try:
            services.category_update(
                actor=request.user,
                category=category,
                name=form.cleaned_data["name"],
                is_active=form.cleaned_data["is_active"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Category saved."))
            return redirect("support:setup")
    return render(request, "support/setup/category_form.html", {"form": form, "category": category})


def policy_edit(request, pk=None):
    """A new policy (pk None; ?category= and ?priority= fill the form) or a change to one."""
    _require_manage(request.user)
    policy = _object_or_404(SlaPolicy.objects.select_related("category"), pk) if pk is not None else None
    initial = None
    if policy is None:
        priority = text_param(request, "priority", 10)
        initial = {
            "category": id_param(request, "category"),
            "priority": priority if priority in Priority.values else Priority.NORMAL,
        }
    form = PolicyForm(request.POST or None, policy=policy, **({"initial": initial} if initial else {}))
    if request.method == "POST" and form.is_valid():
        try:
            services.policy_save(actor=request.user, policy=policy, **form.service_values())
        except ValidationError as exc:
            form.apply_service_errors(exc)
        else:
            messages.success(request, _("SLA policy saved. Open tickets are being recomputed."))
            return redirect("support:setup")
    return render(request, "support/setup/policy_form.html", {"form": form, "policy": policy})


@require_POST
def policy_delete(request, pk):
    _require_manage(request.user)
    policy = _object_or_404(SlaPolicy.objects.select_related("category"), pk)
    services.policy_delete(actor=request.user, policy=policy)
    messages.success(request, _("SLA policy removed. Open tickets are being recomputed."))
    return redirect("support:setup")


def hours_edit(request):
    _require_manage(request.user)
    hours = ServiceSettings.load()
    form = HoursForm(request.POST or None, instance=hours)
    if request.method == "POST" and form.is_valid():
        values = {name: form.cleaned_data[name] for name in services.HOURS_FIELDS}
        try:
            services.service_hours_update(actor=request.user, **values)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Service hours saved. Open tickets are being recomputed."))
            return redirect("support:setup")
    return render(request, "support/setup/hours_form.html", {"form": form})


# ---- the installed base ----------------------------------------------------------------------


def _require_units(user) -> None:
    if not user.has_perm("support.view_installedunit"):
        raise PermissionDenied


def unit_list(request):
    """The units the user may see, of one customer (?customer=) or of all, newest first; ?q= finds
    a serial number or a product code."""
    _require_units(request.user)
    customer = None
    units = unit_qs_visible_to(request.user)
    customer_id = id_param(request, "customer")
    if customer_id is not None:
        customer = customer_get(request.user, customer_id)
        units = units.filter(customer=customer)
    q = text_param(request, "q", 100)
    if q:
        units = units.filter(serial_number__icontains=q) | units.filter(specification__code__icontains=q)
    page = page_param(request)
    found = page_of(
        units.select_related("customer", "product", "specification", "order_line__order").order_by("-pk"),
        offset=(page - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
    )
    query = "&".join(part for part in (f"customer={customer.pk}" if customer else "", f"q={q}" if q else "") if part)
    return render(
        request,
        "support/units/list.html",
        {
            "customer": customer,
            "units": found.rows,
            "count": found.count,
            "has_next": found.has_next,
            "page": page,
            "q": q,
            "query": query,
            "may_add": request.user.has_perm("support.add_installedunit"),
            "may_change": request.user.has_perm("support.change_installedunit"),
            "orders": _orders_to_register(request.user, customer) if customer else [],
        },
    )


def _orders_to_register(user, customer) -> list:
    """The customer's confirmed or completed orders (newest ten), for "Register units from order"."""
    if not user.has_perm("support.add_installedunit"):
        return []
    from kehu.orders.models import BOOKED_STATES, Order

    return list(
        Order.objects.filter(customer=customer, state__in=BOOKED_STATES, deleted_at__isnull=True)
        .only("pk", "number", "ordered_on", "state")
        .order_by("-ordered_on", "-pk")[:10]
    )


def spec_options(request):
    """The unit form's typeahead: <option>s of catalog codes for ?code= (a datalist)."""
    from kehu.catalog.selectors import specification_search

    _require_units(request.user)
    rows = specification_search(text_param(request, "code", 60), limit=15)
    return render(request, "support/units/_spec_options.html", {"rows": rows})


def unit_new(request):
    if not request.user.has_perm("support.add_installedunit"):
        raise PermissionDenied
    customer_id = id_param(request, "customer")
    if customer_id is None:
        raise Http404
    customer = customer_get(request.user, customer_id)
    form = UnitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.unit_create(actor=request.user, customer=customer, **form.service_values())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Unit registered."))
            return redirect(reverse("support:unit-list") + f"?customer={customer.pk}")
    return render(request, "support/units/form.html", {"form": form, "customer": customer, "unit": None})


def unit_edit(request, pk):
    if not request.user.has_perm("support.change_installedunit"):
        raise PermissionDenied
    unit = _object_or_404(unit_qs_visible_to(request.user).select_related("customer", "specification"), pk)
    initial = {
        "code": unit.specification.code if unit.specification_id else "",
        "serial_number": unit.serial_number,
        "installed_on": unit.installed_on,
        "warranty_starts_on": unit.warranty_starts_on,
        "warranty_ends_on": unit.warranty_ends_on,
    }
    form = UnitForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.unit_update(actor=request.user, unit=unit, **form.service_values())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Unit saved."))
            return redirect(reverse("support:unit-list") + f"?customer={unit.customer_id}")
    return render(request, "support/units/form.html", {"form": form, "customer": unit.customer, "unit": unit})


def _order_for_units(user, pk):
    from kehu.orders.models import Order

    return _object_or_404(
        Order.objects.filter(
            deleted_at__isnull=True, customer__in=customer_qs_visible_to(user).values("pk")
        ).select_related("customer"),
        pk,
    )


def units_from_order(request, pk):
    """One row per unit still to register from each line of a confirmed or completed order, with its
    serial number; the warranty runs from the installation day (else the order date)."""
    from kehu.orders.models import BOOKED_STATES, OrderLine

    if not request.user.has_perm("support.add_installedunit"):
        raise PermissionDenied
    order = _order_for_units(request.user, pk)
    lines = list(OrderLine.objects.filter(order=order).select_related("specification").order_by("position", "pk"))
    registered = dict(
        InstalledUnit.objects.filter(order_line__order=order)
        .values_list("order_line_id")
        .annotate(n=Count("pk"))
        .values_list("order_line_id", "n")
    )
    rows = []
    for line in lines:
        room = services.units_open_on_line(line, registered.get(line.pk, 0))
        rows.append(
            {
                "line": line,
                "registered": registered.get(line.pk, 0),
                "room": room,
                "capped": int(line.quantity) > services.MAX_UNITS_PER_LINE,
                "slots": [
                    (n, request.POST.get(f"serial-{line.pk}-{n}", "") if request.method == "POST" else "")
                    for n in range(1, room + 1)
                ],
                "chosen": request.method != "POST" or f"line-{line.pk}" in request.POST,
            }
        )
    form = FromOrderForm(request.POST or None)
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        chosen = [
            services.LineUnits(
                line=row["line"],
                serial_numbers=[request.POST.get(f"serial-{row['line'].pk}-{n}", "").strip() for n, _v in row["slots"]],
            )
            for row in rows
            if row["chosen"] and row["room"]
        ]
        try:
            created = services.units_from_order(
                actor=request.user,
                order=order,
                lines=chosen,
                installed_on=form.cleaned_data["installed_on"],
                warranty_months=form.cleaned_data["warranty_months"],
            )
        except ValidationError as exc:
            errors = exc.messages
        else:
            messages.success(request, _("%(count)s units registered.") % {"count": len(created)})
            return redirect(reverse("support:unit-list") + f"?customer={order.customer_id}")
    return render(
        request,
        "support/units/from_order.html",
        {
            "order": order,
            "rows": rows,
            "form": form,
            "errors": errors,
            "booked": order.state in BOOKED_STATES,
            "cap": services.MAX_UNITS_PER_LINE,
        },
    )
