"""Which engineer for this ticket? (SRV-1) `rank_engineers` scores every engineer for a ticket and
says why, in the reader's language, so the service manager assigns from the list.

The score is a sum of points; all weights are in WEIGHTS:

- skill with the ticket's product (its installed unit's product): a valid certificate for the
  product itself `certified_product` + `per_level` × level, for its category (or a parent of it)
  `certified_category` + `per_level` × level; a skill without a valid certificate (none, or
  expired: an expired certificate does not count) `skilled`; nothing for no skill;
- region: covers the customer's city `city`, their whole province `province`, else nothing;
- load: `open_ticket` per open ticket sent to them, `visit_today` per visit planned today (negative);
- first-time fix: `first_time_fix` × the share of tickets, among those whose first finished visit in
  the last `FIRST_FIX_DAYS` days was theirs, that this visit fixed (none: nothing).

Engineers on leave are listed last, excluded, with the reason. The ranking costs a fixed number of
queries whatever the number of engineers."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kehu.support.models import (
    OPEN_STATES,
    EngineerRegion,
    EngineerSkill,
    ServiceVisit,
    Ticket,
    VisitState,
)
from kehu.users.models import User
from kehu.users.roles import Role

WEIGHTS = {
    "certified_product": 40,
    "certified_category": 30,
    "per_level": 4,
    "skilled": 10,
    "city": 20,
    "province": 10,
    "open_ticket": -3,
    "visit_today": -5,
    "first_time_fix": 30,
}
FIRST_FIX_DAYS = 180


@dataclass
class Candidate:
    engineer: User
    score: int = 0
    reasons: list[str] = field(default_factory=list)
    excluded: bool = False
    open_tickets: int = 0
    visits_today: int = 0
    first_fixed: int = 0
    first_visits: int = 0

    @property
    def engineer_id(self) -> int:
        return self.engineer.pk


def engineers_qs():
    """Who may be sent: active service engineers and anyone with an engineer profile."""
    return (
        User.objects.filter(Q(role=Role.SERVICE_ENGINEER) | Q(engineer_profile__isnull=False), is_active=True)
        .select_related("engineer_profile")
        .order_by("username")
    )


def _month(day) -> str:
    return day.strftime("%Y-%m")


def _skill_points(skills: list[EngineerSkill], product, today) -> tuple[int, str]:
    if product is None:
        return 0, _("the ticket names no product")
    category_path = product.category.path if product.category_id else None

    def matches(skill):
        if skill.product_id is not None:
            return skill.product_id == product.pk
        return category_path is not None and category_path.startswith(skill.category.path)

    found = [s for s in skills if matches(s)]
    if not found:
        return 0, _("no skill for %(product)s") % {"product": product.name}
    # The best first: certified before not, the product before its category, the higher level.
    found.sort(key=lambda s: (not s.certified_on(today), s.product_id is None, -s.level))
    best = found[0]
    subject = best.product.name if best.product_id else best.category.name
    if best.certified_on(today):
        base = WEIGHTS["certified_product"] if best.product_id else WEIGHTS["certified_category"]
        points = base + WEIGHTS["per_level"] * best.level
        if best.valid_until:
            reason = _("certified for %(what)s (level %(level)d, until %(until)s)") % {
                "what": subject,
                "level": best.level,
                "until": _month(best.valid_until),
            }
        else:
            reason = _("certified for %(what)s (level %(level)d)") % {"what": subject, "level": best.level}
        return points, reason
    if best.certificate_number and best.valid_until:
        return WEIGHTS["skilled"], _("certificate for %(what)s expired %(when)s (level %(level)d, not counted)") % {
            "what": subject,
            "when": _month(best.valid_until),
            "level": best.level,
        }
    return WEIGHTS["skilled"], _("knows %(what)s (level %(level)d), not certified") % {
        "what": subject,
        "level": best.level,
    }


def _region_points(regions: list[EngineerRegion], province: str, city: str) -> tuple[int, str]:
    if not province:
        return 0, _("the customer's region is not known")
    place = f"{province} {city}".strip()
    if city and any(r.province == province and r.city == city for r in regions):
        return WEIGHTS["city"], _("covers %(place)s") % {"place": place}
    if any(r.province == province and not r.city for r in regions):
        return WEIGHTS["province"], _("covers %(place)s") % {"place": place}
    return 0, _("does not cover %(place)s") % {"place": place}


def first_time_fixes(engineer_ids, now: datetime) -> dict[int, tuple[int, int]]:
    """Per engineer (fixed, counted): the tickets whose first finished visit, in the last
    FIRST_FIX_DAYS days, was the engineer's, and how many of them that visit fixed. One query."""
    since = now - timedelta(days=FIRST_FIX_DAYS)
    recent = ServiceVisit.objects.filter(state=VisitState.DONE, finished_at__gte=since).values("ticket_id")
    rows = (
        ServiceVisit.objects.filter(state=VisitState.DONE, ticket_id__in=recent, finished_at__isnull=False)
        .order_by("ticket_id", "finished_at", "pk")
        .values_list("ticket_id", "engineer_id", "fixed", "finished_at")
    )
    wanted = set(engineer_ids)
    result: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    seen: set[int] = set()
    for ticket_id, engineer_id, fixed, finished_at in rows:
        if ticket_id in seen:
            continue
        seen.add(ticket_id)
        if engineer_id in wanted and finished_at >= since:
            result[engineer_id][1] += 1
            result[engineer_id][0] += int(fixed)
    return {pk: (fixed, total) for pk, (fixed, total) in result.items()}


def rank_engineers(ticket: Ticket, *, now: datetime | None = None) -> list[Candidate]:
    now = now or timezone.now()
    today = timezone.localdate(now)
    facts = (
        Ticket.objects.filter(pk=ticket.pk)
        .select_related("unit__product__category", "customer")
        .only("unit__product__name", "unit__product__category__path", "unit__product__category__name", "customer")
        .get()
    )
    product = facts.unit.product if facts.unit_id else None
    province, city = facts.customer.region.strip(), facts.customer.city.strip()
    engineers = list(engineers_qs())
    ids = [e.pk for e in engineers]
    skills: dict[int, list[EngineerSkill]] = defaultdict(list)
    for skill in EngineerSkill.objects.filter(profile__user_id__in=ids).select_related(
        "profile", "product", "category"
    ):
        skills[skill.profile.user_id].append(skill)
    regions: dict[int, list[EngineerRegion]] = defaultdict(list)
    for region in EngineerRegion.objects.filter(profile__user_id__in=ids).select_related("profile"):
        regions[region.profile.user_id].append(region)
    open_counts = dict(
        Ticket.objects.filter(engineer_id__in=ids, state__in=OPEN_STATES, deleted_at__isnull=True)
        .values("engineer_id")
        .annotate(n=Count("pk"))
        .values_list("engineer_id", "n")
    )
    start = timezone.make_aware(datetime.combine(today, datetime.min.time()))
    visit_counts = dict(
        ServiceVisit.objects.filter(
            engineer_id__in=ids,
            state__in=[VisitState.PLANNED, VisitState.ON_SITE],
            planned_for__gte=start,
            planned_for__lt=start + timedelta(days=1),
        )
        .values("engineer_id")
        .annotate(n=Count("pk"))
        .values_list("engineer_id", "n")
    )
    fixes = first_time_fixes(ids, now)

    ranked, away = [], []
    for engineer in engineers:
        candidate = Candidate(engineer)
        profile = getattr(engineer, "engineer_profile", None)
        if profile is not None and profile.on_leave and (profile.leave_until is None or profile.leave_until >= today):
            candidate.excluded = True
            candidate.reasons.append(
                _("on leave until %(day)s") % {"day": profile.leave_until.isoformat()}
                if profile.leave_until
                else _("on leave")
            )
            away.append(candidate)
            continue
        points, reason = _skill_points(skills[engineer.pk], product, today)
        candidate.score += points
        candidate.reasons.append(reason)
        points, reason = _region_points(regions[engineer.pk], province, city)
        candidate.score += points
        candidate.reasons.append(reason)
        candidate.open_tickets = open_counts.get(engineer.pk, 0)
        candidate.visits_today = visit_counts.get(engineer.pk, 0)
        candidate.score += WEIGHTS["open_ticket"] * candidate.open_tickets
        candidate.score += WEIGHTS["visit_today"] * candidate.visits_today
        candidate.reasons.append(
            ngettext("%(n)d open ticket", "%(n)d open tickets", candidate.open_tickets) % {"n": candidate.open_tickets}
            + _(", ")
            + ngettext("%(n)d visit today", "%(n)d visits today", candidate.visits_today)
            % {"n": candidate.visits_today}
        )
        fixed, total = fixes.get(engineer.pk, (0, 0))
        candidate.first_fixed, candidate.first_visits = fixed, total
        if total:
            candidate.score += round(WEIGHTS["first_time_fix"] * fixed / total)
            candidate.reasons.append(
                _("fixed %(fixed)d of %(total)d on the first visit in the last %(days)d days")
                % {"fixed": fixed, "total": total, "days": FIRST_FIX_DAYS}
            )
        else:
            candidate.reasons.append(_("no first visits in the last %(days)d days") % {"days": FIRST_FIX_DAYS})
        ranked.append(candidate)
    ranked.sort(key=lambda c: (-c.score, c.open_tickets + c.visits_today, c.engineer.username))
    return ranked + away
