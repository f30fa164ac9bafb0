"""The customer map page (CUS-8), its points as JSON, and the customers still without coordinates."""

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kehu.core.params import page_param
from kehu.customers import geo
from kehu.customers.models import Tier
from kehu.users.selectors import assignable_owners

PAGE_SIZE = 25


class MapFilterForm(forms.Form):
    tier = forms.ChoiceField(label=_("Tier"), required=False, choices=[("", _("All tiers")), *Tier.choices])
    owner = forms.IntegerField(label=_("Owner"), required=False, min_value=1, max_value=2**53, widget=forms.Select)
    region = forms.CharField(label=_("Region"), required=False, max_length=50)


def _filters(request) -> tuple[MapFilterForm, geo.MapFilters, int]:
    if not request.user.has_perm("customers.view_customer"):
        raise PermissionDenied
    form = MapFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    filters = geo.MapFilters(tier=data.get("tier", ""), owner=data.get("owner"), region=data.get("region", ""))
    return form, filters, page_param(request, last=400)


def _owners(user):
    return assignable_owners(user) if user.has_perm("customers.view_sensitive") else []


def customer_map(request):
    form, filters, _page = _filters(request)
    config = {
        "points_url": reverse("customers:customer-map-points"),
        "detail_url": reverse("workspace:customer-detail", args=[0]),
        "tiers": geo.tier_legend(),
        "labels": {
            "loading": str(_("Loading customers…")),
            "shown": str(_("%(n)s customers on the map")),
            "truncated": str(
                _("Showing the %(n)s most recently updated customers; narrow the filters to see the others.")
            ),
            "failed": str(_("The customers could not be loaded.")),
        },
    }
    return render(
        request,
        "customers/customer_map.html",
        {"form": form, "filters": filters, "owners": _owners(request.user), "config": config},
    )


def customer_map_points(request):
    _form, filters, _page = _filters(request)
    return JsonResponse(geo.map_points(request.user, filters))


def customer_map_missing(request):
    form, filters, page = _filters(request)
    qs = geo.customers_without_coordinates(request.user, filters)
    rows = list(qs[(page - 1) * PAGE_SIZE : page * PAGE_SIZE + 1])
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "customers/customer_map_missing.html",
        {
            "form": form,
            "filters": filters,
            "owners": _owners(request.user),
            "customers": rows[:PAGE_SIZE],
            "has_next": len(rows) > PAGE_SIZE,
            "page": page,
            "query": query.urlencode(),
        },
    )
