"""Reading leads: what a user may see, the list page, and the detail with its history."""

from dataclasses import dataclass

from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from kehu.core.pagination import COUNT_CAP
from kehu.leads.models import Lead, LeadEvent, LeadStatus
from kehu.users.models import User
from kehu.users.scopes import scope_q

SORTS = {"score": ("-score", "-id"), "sla": ("sla_due_at", "id"), "new": ("-created_at", "-id")}


def lead_qs_visible_to(user: User):
    """Leads whose owner is in the user's scope; unassigned ones for those who assign leads."""
    if not user.is_authenticated or not user.has_perm("leads.view_lead"):
        return Lead.objects.none()
    q = scope_q(user)
    # An empty Q is "everyone"; OR-ing it with the unassigned would keep only the unassigned.
    if q and user.has_perm("leads.assign_lead"):
        q |= Q(owner__isnull=True)
    return Lead.objects.filter(q, deleted_at__isnull=True)


def lead_get(user: User, pk: int) -> Lead:
    lead = lead_qs_visible_to(user).select_related("owner").filter(pk=pk).first()
    if lead is None:
        raise Http404
    return lead


@dataclass(frozen=True)
class LeadFilters:
    q: str = ""
    status: str = ""
    source: str = ""
    region: str = ""
    owner_id: int | None = None
    overdue: bool = False
    sort: str = "score"


def lead_list(user: User, filters: LeadFilters, *, offset: int = 0, limit: int = 25):
    """One page of leads and the total (capped at COUNT_CAP + 1): two queries, whatever the page size."""
    qs = lead_qs_visible_to(user)
    if filters.q:
        qs = qs.filter(
            Q(company_name__icontains=filters.q) | Q(contact_name__icontains=filters.q) | Q(phone__contains=filters.q)
        )
    if filters.status:
        qs = qs.filter(status=filters.status)
    else:
        qs = qs.exclude(status__in=[LeadStatus.CONVERTED, LeadStatus.DISQUALIFIED])
    if filters.source:
        qs = qs.filter(source=filters.source)
    if filters.region:
        qs = qs.filter(region=filters.region)
    if filters.owner_id:
        qs = qs.filter(owner_id=filters.owner_id)
    if filters.overdue:
        qs = qs.filter(first_responded_at__isnull=True, sla_due_at__lt=timezone.now())
    total = qs.values("pk")[: COUNT_CAP + 1].count()
    rows = list(qs.select_related("owner").order_by(*SORTS.get(filters.sort, SORTS["score"]))[offset : offset + limit])
    return rows, total


def lead_events(lead: Lead):
    return LeadEvent.objects.filter(lead=lead).select_related("actor").order_by("at", "id")
