"""The customer map (电子地图, CUS-8): points for the customers in a user's scope, and the list of
those whose address has no coordinates yet. Read-only; the pages are in `map_views.py`.

Scale: a scope may hold a million customers. The points endpoint answers at most `MAP_CAP`
points — the most recently updated customers that match the filters, read newest-first along the
`(updated_at, id)` index, so it stops after `MAP_CAP + 1` rows — and says when there were more
(`truncated`). Narrowing the filters (tier, owner, region) shows the rest.
"""

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from kehu.customers.models import Customer, Tier
from kehu.customers.selectors import customer_qs_visible_to
from kehu.users.models import User

MAP_CAP = 5_000
# One colour per tier (Tabler's red, blue and green): key accounts stand out.
TIER_COLOURS = {Tier.KEY: "#d63939", Tier.ORDINARY: "#206bc4", Tier.PROSPECT: "#2fb344"}
NO_COORDINATES = Q(latitude__isnull=True) | Q(longitude__isnull=True)


@dataclass
class MapFilters:
    tier: str = ""
    owner: int | None = None
    region: str = ""


def _filtered(user: User, filters: MapFilters) -> QuerySet[Customer]:
    qs = customer_qs_visible_to(user)
    if filters.tier:
        qs = qs.filter(tier=filters.tier)
    if filters.owner:
        qs = qs.filter(owner_id=filters.owner)
    if filters.region:
        qs = qs.filter(region=filters.region)
    return qs


def tier_legend() -> list[dict]:
    return [{"value": t.value, "label": str(t.label), "color": TIER_COLOURS[t]} for t in Tier]


def map_points(user: User, filters: MapFilters, *, cap: int = MAP_CAP) -> dict:
    """{"points": [[longitude, latitude, id, name, tier], …], "truncated", "cap", "tiers"} — one query."""
    rows = list(
        _filtered(user, filters)
        .filter(latitude__isnull=False, longitude__isnull=False)
        .order_by("-updated_at", "-id")
        .values_list("longitude", "latitude", "id", "name", "tier")[: cap + 1]
    )
    return {
        "points": [[float(lon), float(lat), pk, name, tier] for lon, lat, pk, name, tier in rows[:cap]],
        "truncated": len(rows) > cap,
        "cap": cap,
        "tiers": tier_legend(),
    }


def customers_without_coordinates(user: User, filters: MapFilters) -> QuerySet[Customer]:
    """Visible customers to geocode, newest change first (a page is read with one query)."""
    return (
        _filtered(user, filters)
        .filter(NO_COORDINATES)
        .select_related("owner")
        .only(
            "id",
            "name",
            "region",
            "city",
            "address",
            "tier",
            "updated_at",
            "owner_id",
            "owner__username",
            "owner__first_name",
            "owner__last_name",
        )
        .order_by("-updated_at", "-id")
    )
