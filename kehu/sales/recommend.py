"""Who should take it (SAL-8): rank the people a manager may give a deal to, with the reasons.

For each candidate (active, in the manager's scope, in a role that may own opportunities):
  similar   won deals with customers of the same industry and in the same amount band
  win rate  won / (won + lost) over all their closed deals
  load      their open deals now
  relation  they own the customer, or had deals with it before
score = 3·similar + 5·win rate + 4·(owns the customer) + 2·min(earlier deals with it, 3) − 0.5·load;
ties go to the lighter load, then the name. The customers have no size of their own, so the size
band is the deal's amount band (below 100,000; below 1,000,000; below 10,000,000; more)."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from kehu.sales.models import Opportunity, StageKind
from kehu.users.models import User
from kehu.users.roles import ROLE_POLICY
from kehu.users.selectors import scope_users_q

BANDS = (Decimal("100000"), Decimal("1000000"), Decimal("10000000"))
OWNER_ROLES = [role for role, (_scope, perms) in ROLE_POLICY.items() if "sales.add_opportunity" in perms]


def amount_band(amount: Decimal) -> tuple[Decimal | None, Decimal | None]:
    low = None
    for edge in BANDS:
        if amount < edge:
            return low, edge
        low = edge
    return low, None


def _band_label(band) -> str:
    low, high = band
    if low is None:
        return _("below ¥%(high)s") % {"high": f"{high:,.0f}"}
    if high is None:
        return _("¥%(low)s or more") % {"low": f"{low:,.0f}"}
    return f"¥{low:,.0f}–{high:,.0f}"


@dataclass
class Candidate:
    user: User
    similar_won: int = 0
    won: int = 0
    lost: int = 0
    open_load: int = 0
    owns_customer: bool = False
    earlier_deals: int = 0
    reasons: list[str] = field(default_factory=list)

    @property
    def win_rate(self) -> Decimal | None:
        closed = self.won + self.lost
        return Decimal(self.won) / closed if closed else None

    @property
    def score(self) -> Decimal:
        return (
            3 * self.similar_won
            + 5 * (self.win_rate or 0)
            + (4 if self.owns_customer else 0)
            + 2 * min(self.earlier_deals, 3)
            - Decimal("0.5") * self.open_load
        ).quantize(Decimal("0.01"))


def recommend(actor: User, opportunity: Opportunity) -> list[Candidate]:
    """The candidates, best first (two queries)."""
    customer = opportunity.customer
    users = list(
        User.objects.filter(scope_users_q(actor), is_active=True, role__in=OWNER_ROLES).order_by("username", "id")
    )
    low, high = amount_band(opportunity.amount)
    in_band = Q(amount__gte=low) if low is not None else Q()
    if high is not None:
        in_band &= Q(amount__lt=high)
    similar = (
        Q(status=StageKind.WON, customer__industry=customer.industry) & in_band if customer.industry else Q(pk__in=[])
    )
    stats = {
        row["owner_id"]: row
        for row in Opportunity.objects.filter(deleted_at__isnull=True, owner__in=users)
        .exclude(pk=opportunity.pk)
        .values("owner_id")
        .annotate(
            similar_won=Count("id", filter=similar),
            won=Count("id", filter=Q(status=StageKind.WON)),
            lost=Count("id", filter=Q(status=StageKind.LOST)),
            open_load=Count("id", filter=Q(status=StageKind.OPEN)),
            earlier=Count("id", filter=Q(customer_id=customer.pk)),
        )
        .order_by()
    }
    industry = customer.get_industry_display() if customer.industry else ""
    band = _band_label((low, high))
    result = []
    for user in users:
        s = stats.get(user.pk, {})
        c = Candidate(
            user=user,
            similar_won=s.get("similar_won", 0),
            won=s.get("won", 0),
            lost=s.get("lost", 0),
            open_load=s.get("open_load", 0),
            owns_customer=customer.owner_id == user.pk,
            earlier_deals=s.get("earlier", 0),
        )
        if c.similar_won:
            c.reasons.append(
                _("%(n)d won deals in %(industry)s, %(band)s")
                % {"n": c.similar_won, "industry": industry, "band": band}
            )
        if c.win_rate is not None:
            c.reasons.append(
                _("win rate %(rate)d%% (%(won)d of %(closed)d)")
                % {"rate": int(c.win_rate * 100), "won": c.won, "closed": c.won + c.lost}
            )
        if c.owns_customer:
            c.reasons.append(_("owns this customer"))
        if c.earlier_deals:
            c.reasons.append(_("%(n)d other deals with this customer") % {"n": c.earlier_deals})
        c.reasons.append(_("%(n)d open deals now") % {"n": c.open_load})
        result.append(c)
    result.sort(key=lambda c: (-c.score, c.open_load, c.user.username))
    return result
