"""Catalog pages: products, categories, the price book, discount limits and the price check (SAL-4)."""

from datetime import date
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.catalog import exports, pricing, selectors, services
from kehu.catalog.forms import (
    CategoryForm,
    PriceCheckForm,
    PriceItemForm,
    PriceListForm,
    PricingSettingsForm,
    ProductFilterForm,
    ProductForm,
    SpecificationForm,
)
from kehu.catalog.models import Category, PriceListKind, PricingSettings, Product, Specification
from kehu.core.export_pages import handles_export_refusal, reason_of
from kehu.core.forms import apply_errors
from kehu.core.params import page_param, text_param
from kehu.customers.models import Customer
from kehu.customers.selectors import customer_qs_visible_to

PAGE_SIZE = 25
ITEMS_PAGE_SIZE = 50


def _require_view(user) -> None:
    if not selectors.may_view(user):
        raise PermissionDenied


def _require_manage(user) -> None:
    if not selectors.may_view(user) or not selectors.may_manage(user):
        raise PermissionDenied


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _category(pk) -> Category | None:
    if pk is None:
        return None
    category = Category.objects.filter(pk=pk).first()
    if category is None:
        raise ValidationError({"category": [_("Choose a category from the list.")]})
    return category


# ---- products --------------------------------------------------------------------------------


def product_list(request):
    _require_view(request.user)
    form = ProductFilterForm(request.GET or None)
    filters = selectors.ProductFilters()
    if form.is_valid():
        data = form.cleaned_data
        filters = selectors.ProductFilters(q=data["q"].strip(), category_id=data["category"], status=data["status"])
    page_number = page_param(request, last=400)
    page = selectors.product_list(request.user, filters, offset=(page_number - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    context = {
        "form": form,
        "page": page,
        "page_number": page_number,
        "query": _query_without_page(request),
        "may_manage": selectors.may_manage(request.user),
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "catalog/products/list.html#results", context)
    return render(request, "catalog/products/list.html", context)


def product_detail(request, pk):
    _require_view(request.user)
    product = selectors.product_get(request.user, pk)
    return render(
        request,
        "catalog/products/detail.html",
        {
            "product": product,
            "category_label": selectors.category_path_labels().get(product.category_id, "")
            if product.category_id
            else "",
            "price_lists": selectors.price_lists_pricing(request.user, product),
            "may_manage": selectors.may_manage(request.user),
            "spec_form": SpecificationForm(),
            "today": timezone.localdate(),
        },
    )


def product_image(request, pk):
    _require_view(request.user)
    product = selectors.product_get(request.user, pk)
    if not product.image:
        raise Http404
    try:
        return FileResponse(product.image.open("rb"))
    except (FileNotFoundError, OSError):
        raise Http404 from None


def _product_fields(data: dict) -> dict:
    return {
        "code": data["code"],
        "name": data["name"],
        "category": _category(data["category"]),
        "unit": data["unit"],
        "status": data["status"],
        "tax_rate": data["tax_rate"],
        "cost": data["cost"],
        "floor_price": data["floor_price"],
        "description": data["description"],
    }


def product_create(request):
    _require_manage(request.user)
    form = ProductForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            # One transaction: a picture refused after the product was saved leaves no product behind.
            with transaction.atomic():
                fields = _product_fields(form.cleaned_data)
                product = services.product_create(
                    actor=request.user, specifications=form.cleaned_data["specifications"] or None, **fields
                )
                if form.cleaned_data.get("image"):
                    services.product_image_set(product=product, actor=request.user, image=form.cleaned_data["image"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Product %(code)s added.") % {"code": product.code})
            return redirect("catalog:product-detail", product.pk)
    return render(request, "catalog/products/form.html", {"form": form, "product": None})


def product_edit(request, pk):
    _require_manage(request.user)
    product = selectors.product_get(request.user, pk)
    initial = {
        "code": product.code,
        "name": product.name,
        "category": product.category_id,
        "unit": product.unit,
        "status": product.status,
        "tax_rate": f"{product.tax_rate:.2f}",
        "cost": product.cost,
        "floor_price": product.floor_price,
        "description": product.description,
        "version": product.version,
    }
    form = ProductForm(request.POST or None, request.FILES or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                version = form.cleaned_data["version"] or product.version
                services.product_update(
                    product=product, actor=request.user, expected_version=version, **_product_fields(form.cleaned_data)
                )
                if form.cleaned_data.get("image"):
                    services.product_image_set(product=product, actor=request.user, image=form.cleaned_data["image"])
                elif request.POST.get("image_remove") and product.image:
                    services.product_image_set(product=product, actor=request.user, image=None)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Product saved."))
            return redirect("catalog:product-detail", product.pk)
    return render(request, "catalog/products/form.html", {"form": form, "product": product})


@require_POST
def product_delete(request, pk):
    _require_manage(request.user)
    product = selectors.product_get(request.user, pk)
    services.product_delete(product=product, actor=request.user)
    messages.success(request, _("%(code)s is in the recycle bin.") % {"code": product.code})
    return redirect("catalog:product-list")


@require_POST
def product_restore(request, pk):
    _require_manage(request.user)
    product = selectors.product_get(request.user, pk, deleted=True)
    services.product_restore(product=product, actor=request.user)
    messages.success(request, _("%(code)s is back in the catalog.") % {"code": product.code})
    return redirect("catalog:product-detail", product.pk)


def recycle_bin(request):
    _require_manage(request.user)
    page_number = page_param(request, last=400)
    page = selectors.product_list(
        request.user,
        selectors.ProductFilters(deleted=True),
        offset=(page_number - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
    )
    return render(request, "catalog/products/recycle_bin.html", {"page": page, "page_number": page_number})


# ---- specifications --------------------------------------------------------------------------


@require_POST
def specification_create(request, pk):
    _require_manage(request.user)
    product = selectors.product_get(request.user, pk)
    form = SpecificationForm(request.POST)
    if form.is_valid():
        try:
            services.specification_create(product=product, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("Specification added."))
    else:
        messages.error(request, _("Give the specification a code and a name or model."))
    return redirect("catalog:product-detail", product.pk)


def _spec(request, pk) -> Specification:
    return selectors.specification_get(request.user, pk)


def specification_edit(request, pk):
    _require_manage(request.user)
    spec = _spec(request, pk)
    form = SpecificationForm(request.POST or None, initial={"code": spec.code, "name": spec.name})
    if request.method == "POST" and form.is_valid():
        try:
            services.specification_update(
                specification=spec,
                actor=request.user,
                is_active=bool(request.POST.get("is_active")),
                **form.cleaned_data,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Specification saved."))
            return redirect("catalog:product-detail", spec.product_id)
    return render(request, "catalog/products/specification_form.html", {"form": form, "spec": spec})


@require_POST
def specification_delete(request, pk):
    _require_manage(request.user)
    spec = _spec(request, pk)
    try:
        outcome = services.specification_delete(specification=spec, actor=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        if outcome == "deactivated":
            messages.info(
                request,
                _("%(code)s was quoted before, so it is switched off rather than deleted.") % {"code": spec.code},
            )
        else:
            messages.success(request, _("Specification %(code)s deleted.") % {"code": spec.code})
    return redirect("catalog:product-detail", spec.product_id)


def spec_search(request):
    """The quote line editor's typeahead: up to 20 specifications for ?q=, as JSON, or as a list of
    options for htmx."""
    _require_view(request.user)
    q = text_param(request, "q", 60)
    rows = selectors.specification_search(q, limit=20)
    if request.htmx:
        return render(request, "catalog/products/_spec_options.html", {"rows": rows, "q": q})
    return JsonResponse(
        {"items": [{**r, "list_price": str(r["list_price"]) if r["list_price"] is not None else None} for r in rows]},
        json_dumps_params={"ensure_ascii": False},
    )


@handles_export_refusal
def product_export(request):
    _require_view(request.user)
    if not exports.may_export(request.user):
        raise PermissionDenied
    fmt = request.GET.get("format", "xlsx")
    if fmt not in ("xlsx", "csv"):
        fmt = "xlsx"
    form = ProductFilterForm(request.GET or None)
    filters = selectors.ProductFilters()
    if form.is_valid():
        data = form.cleaned_data
        filters = selectors.ProductFilters(q=data["q"].strip(), category_id=data["category"], status=data["status"])
    try:
        content, _count = exports.products_export(
            actor=request.user, filters=filters, fmt=fmt, reason=reason_of(request)
        )
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("catalog:product-list")
    response = HttpResponse(content, content_type=exports.CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{exports.file_name(fmt)}"'
    return response


# ---- categories ------------------------------------------------------------------------------


def category_list(request):
    _require_view(request.user)
    may_manage = selectors.may_manage(request.user)
    form = CategoryForm(request.POST or None)
    if request.method == "POST":
        _require_manage(request.user)
        if form.is_valid():
            try:
                services.category_create(
                    name=form.cleaned_data["name"],
                    parent=_category(form.cleaned_data["parent"]),
                    actor=request.user,
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Category added."))
                return redirect("catalog:category-list")
    return render(
        request,
        "catalog/categories/list.html",
        {"categories": selectors.categories_all(), "form": form, "may_manage": may_manage},
    )


def category_edit(request, pk):
    _require_manage(request.user)
    try:
        category = Category.objects.get(pk=pk)
    except Category.DoesNotExist:
        raise Http404 from None
    form = CategoryForm(request.POST or None, initial={"name": category.name, "parent": category.parent_id})
    if request.method == "POST" and form.is_valid():
        try:
            parent = _category(form.cleaned_data["parent"])
            if parent != category.parent:
                services.category_move(category=category, parent=parent, actor=request.user)
            services.category_update(category=category, actor=request.user, name=form.cleaned_data["name"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Category saved."))
            return redirect("catalog:category-list")
    return render(request, "catalog/categories/form.html", {"form": form, "category": category})


@require_POST
def category_delete(request, pk):
    _require_manage(request.user)
    try:
        category = Category.objects.get(pk=pk)
    except Category.DoesNotExist:
        raise Http404 from None
    try:
        services.category_delete(category=category, actor=request.user)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, _("Category deleted."))
    return redirect("catalog:category-list")


# ---- price lists -----------------------------------------------------------------------------


def price_list_list(request):
    _require_view(request.user)
    kind = request.GET.get("kind", "")
    if kind not in PriceListKind.values:
        kind = ""
    page_number = page_param(request, last=400)
    page = selectors.price_list_list(
        request.user, selectors.PriceListFilters(kind=kind), offset=(page_number - 1) * 50, limit=50
    )
    return render(
        request,
        "catalog/pricelists/list.html",
        {
            "page": page,
            "page_number": page_number,
            "kind": kind,
            "kinds": PriceListKind.choices,
            "may_manage": selectors.may_manage(request.user),
            "query": _query_without_page(request),
        },
    )


def customer_lookup(user, text: str) -> Customer:
    """The visible customer named by its number or name (whole, or a part only one customer has)."""
    text = (text or "").strip()
    visible = customer_qs_visible_to(user)
    if text.isdigit():
        found = visible.filter(pk=int(text)).first() if int(text) < 2**53 else None
        if found is not None:
            return found
    exact = list(visible.filter(name=text)[:2])
    if len(exact) == 1:
        return exact[0]
    some = list(visible.filter(name__icontains=text).order_by("name")[:6]) if text else []
    if len(some) == 1:
        return some[0]
    if some:
        names = "、".join(c.name for c in some[:5])
        raise ValidationError(
            {"customer": [_("Several customers match: %(names)s. Give the full name.") % {"names": names}]}
        )
    raise ValidationError({"customer": [_("No customer of yours is called “%(name)s”.") % {"name": text}]})


def _price_list_fields(user, data: dict) -> dict:
    customer = None
    if data["kind"] == PriceListKind.CUSTOMER and data["customer"]:
        customer = customer_lookup(user, data["customer"])
    return {
        "name": data["name"],
        "kind": data["kind"],
        "channel_level": data["channel_level"],
        "tier": data["tier"],
        "customer": customer,
        "valid_from": data["valid_from"],
        "valid_until": data["valid_until"],
        "is_active": data["is_active"],
        "notes": data["notes"],
    }


def price_list_create(request):
    _require_manage(request.user)
    form = PriceListForm(request.POST or None, initial={"valid_from": timezone.localdate(), "is_active": True})
    if request.method == "POST" and form.is_valid():
        try:
            price_list = services.price_list_create(
                actor=request.user, **_price_list_fields(request.user, form.cleaned_data)
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Price list added."))
            return redirect("catalog:pricelist-detail", price_list.pk)
    return render(request, "catalog/pricelists/form.html", {"form": form, "price_list": None})


def price_list_edit(request, pk):
    _require_manage(request.user)
    price_list = selectors.price_list_get(request.user, pk)
    initial = {
        "name": price_list.name,
        "kind": price_list.kind,
        "channel_level": price_list.channel_level,
        "tier": price_list.tier,
        "customer": price_list.customer.name if price_list.customer_id else "",
        "valid_from": price_list.valid_from,
        "valid_until": price_list.valid_until,
        "is_active": price_list.is_active,
        "notes": price_list.notes,
        "version": price_list.version,
    }
    form = PriceListForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            fields = _price_list_fields(request.user, form.cleaned_data)
            if (
                fields["kind"] == PriceListKind.CUSTOMER
                and price_list.customer_id
                and form.cleaned_data["customer"] == price_list.customer.name
            ):
                fields["customer"] = price_list.customer  # kept, even if no longer in the editor's scope
            services.price_list_update(
                price_list=price_list,
                actor=request.user,
                expected_version=form.cleaned_data["version"] or price_list.version,
                **fields,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Price list saved."))
            return redirect("catalog:pricelist-detail", price_list.pk)
    return render(request, "catalog/pricelists/form.html", {"form": form, "price_list": price_list})


@require_POST
def price_list_delete(request, pk):
    _require_manage(request.user)
    price_list = selectors.price_list_get(request.user, pk)
    try:
        services.price_list_delete(price_list=price_list, actor=request.user)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("catalog:pricelist-detail", price_list.pk)
    messages.success(request, _("Price list deleted."))
    return redirect("catalog:pricelist-list")


def _items_context(request, price_list, form=None, editing=None) -> dict:
    q = text_param(request, "q", 60)
    page_number = page_param(request, last=1000)
    page = selectors.price_items(price_list, q=q, offset=(page_number - 1) * ITEMS_PAGE_SIZE, limit=ITEMS_PAGE_SIZE)
    query = request.GET.copy()
    query.pop("page", None)
    return {
        "price_list": price_list,
        "page": page,
        "page_number": page_number,
        "q": q,
        "query": query.urlencode(),
        "may_manage": selectors.may_manage(request.user),
        "item_form": form or PriceItemForm(),
        "editing": editing,
    }


def price_list_detail(request, pk):
    _require_view(request.user)
    price_list = selectors.price_list_get(request.user, pk)
    context = _items_context(request, price_list)
    if request.htmx and not request.htmx.boosted:
        return render(request, "catalog/pricelists/detail.html#items", context)
    return render(request, "catalog/pricelists/detail.html", context)


def _item_target(code: str):
    """(product, specification or None) for a specification or product code."""
    code = code.strip()
    spec = selectors.specifications_by_code([code]).get(code)
    if spec is not None and not (spec.code == spec.product.code and spec.product.specifications.count() == 1):
        return spec.product, spec
    product = Product.objects.filter(code__in=[code, code.upper()], deleted_at__isnull=True).first()
    if product is not None:
        return product, None
    if spec is not None:
        return spec.product, spec
    raise ValidationError({"code": [_("No specification or product has the code “%(code)s”.") % {"code": code}]})


def _item_fields(data: dict) -> dict:
    product, spec = _item_target(data["code"])
    return {
        "product": product,
        "specification": spec,
        "min_quantity": data["min_quantity"] if data["min_quantity"] is not None else Decimal("1"),
        "price": data["price"],
        "percent_of_list": data["percent_of_list"],
        "valid_from": data["valid_from"],
        "valid_until": data["valid_until"],
    }


@require_POST
def price_item_add(request, pk):
    _require_manage(request.user)
    price_list = selectors.price_list_get(request.user, pk)
    form = PriceItemForm(request.POST)
    if form.is_valid():
        try:
            services.price_item_create(price_list=price_list, actor=request.user, **_item_fields(form.cleaned_data))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            if not request.htmx:
                messages.success(request, _("Price added."))
                return redirect("catalog:pricelist-detail", price_list.pk)
            form = PriceItemForm()
    context = _items_context(request, price_list, form=form)
    context["added"] = form.is_bound is False
    if request.htmx:
        return render(request, "catalog/pricelists/detail.html#items", context)
    return render(request, "catalog/pricelists/detail.html", context)


def price_item_edit(request, pk):
    _require_manage(request.user)
    item = selectors.price_item_get(request.user, pk)
    code = item.specification.code if item.specification_id else item.product.code
    initial = {
        "code": code,
        "min_quantity": item.min_quantity,
        "price": item.price,
        "percent_of_list": item.percent_of_list,
        "valid_from": item.valid_from,
        "valid_until": item.valid_until,
    }
    form = PriceItemForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.price_item_update(item=item, actor=request.user, **_item_fields(form.cleaned_data))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Price saved."))
            return redirect(reverse("catalog:pricelist-detail", args=[item.price_list_id]))
    return render(request, "catalog/pricelists/item_form.html", {"form": form, "item": item})


@require_POST
def price_item_delete(request, pk):
    _require_manage(request.user)
    item = selectors.price_item_get(request.user, pk)
    price_list = item.price_list
    services.price_item_delete(item=item, actor=request.user)
    if request.htmx:
        return render(request, "catalog/pricelists/detail.html#items", _items_context(request, price_list))
    messages.success(request, _("Price removed."))
    return redirect("catalog:pricelist-detail", price_list.pk)


# ---- discount limits and pricing settings ----------------------------------------------------


def pricing_settings(request):
    _require_manage(request.user)
    limits = {role: format(value.normalize(), "f") for role, value in selectors.discount_limits().items()}
    current = PricingSettings.load()
    form = PricingSettingsForm(
        request.POST or None, limits=limits, initial={"floor_approver_roles": current.floor_approver_roles}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.discount_limits_set(actor=request.user, limits=form.limits())
            services.pricing_settings_update(
                actor=request.user, floor_approver_roles=form.cleaned_data["floor_approver_roles"]
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Discount limits and floor approvers saved."))
            return redirect("catalog:pricing-settings")
    return render(request, "catalog/settings.html", {"form": form})


# ---- the price check -------------------------------------------------------------------------


def price_check(request):
    """A rep asks: which price does this customer get for this specification and quantity, from
    which list, and how far may I go down without asking anyone?"""
    _require_view(request.user)
    form = PriceCheckForm(request.GET or None, initial={"quantity": 1})
    result = None
    if request.GET and form.is_valid():
        data = form.cleaned_data
        try:
            customer = customer_lookup(request.user, data["customer"])
            spec = selectors.specifications_by_code([data["code"]]).get(data["code"].strip())
            if spec is None:
                raise ValidationError(
                    {"code": [_("No specification has the code “%(code)s”.") % {"code": data["code"]}]}
                )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            on = data["on"] or timezone.localdate()
            resolved = pricing.prices_resolve(customer=customer, lines=[(spec.pk, data["quantity"])], on=on)[0]
            result = _check_result(request.user, customer, spec, resolved, on)
    return render(request, "catalog/price_check.html", {"form": form, "result": result})


def _check_result(user, customer, spec, resolved, on: date) -> dict:
    limit = pricing.discount_limit(user)
    lowest = None
    if resolved.price is not None:
        lowest = (resolved.price * (Decimal("100") - limit) / Decimal("100")).quantize(Decimal("0.01"))
        if resolved.floor_price is not None and lowest < resolved.floor_price:
            lowest = resolved.floor_price
    discount_from_list = None
    if resolved.price is not None and resolved.list_price:
        discount_from_list = ((1 - resolved.price / resolved.list_price) * 100).quantize(Decimal("0.1"))
    return {
        "customer": customer,
        "spec": spec,
        "resolved": resolved,
        "on": on,
        "limit": limit,
        "lowest": lowest,
        "discount_from_list": discount_from_list,
        "price_list_url": reverse("catalog:pricelist-detail", args=[resolved.price_list_id])
        if resolved.price_list_id
        else "",
    }
