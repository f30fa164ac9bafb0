"""The ageing report (账龄分析, SAL-9): who owes how much and for how long.

Columns as Chinese finance reads them: total owed, due (the due date has come), not yet due, not yet
invoiced, and what is due split by days past the due date — 0–30, 31–60, 61–90, 91–180, over 180
(a plan due today is 0 days overdue; 30 days falls in 0–30, 31 in 31–60, and so on) — and the
outstanding amounts by year of their due date.

Where the figures come from (aggregates kept current in the transaction of every plan, payment and
allocation change by `balances.py`, and rolled each night):
- department and rep rows (the whole company, or the reader's scope): `DueDay` — the outstanding
  amount of each responsible person's plans per due date — summed into buckets by SQL in one query,
  plus `CustomerBalance.not_invoiced` summed per customer owner;
- customer rows: `CustomerBalance` (owed, not invoiced), a page at a time, largest first, and the
  open plans of that page's customers for their buckets (one query);
- the plans of one customer: its open plans (the customer-money page).

The scope is the reader's data scope (`kehu.users.scopes`): a manager sees the owners in it.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import Case, DecimalField, F, Q, Sum, When
from django.db.models.functions import ExtractYear
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.core.money import FEN
from kehu.core.pagination import PageOf, capped_count, slice_page
from kehu.receivables.models import OPEN_PLAN_STATES, CustomerBalance, DueDay, PaymentPlan
from kehu.users.models import Department, User
from kehu.users.roles import DataScope
from kehu.users.scopes import scope_for

ZERO = Decimal("0")
VIEW_PERM = "receivables.view_ageing"

# (key, label, first day overdue, last day overdue or None)
BUCKETS = (
    ("d0_30", gettext_lazy("0–30 days"), 0, 30),
    ("d31_60", gettext_lazy("31–60 days"), 31, 60),
    ("d61_90", gettext_lazy("61–90 days"), 61, 90),
    ("d91_180", gettext_lazy("91–180 days"), 91, 180),
    ("d181", gettext_lazy("Over 180 days"), 181, None),
)
BUCKET_KEYS = tuple(key for key, *_rest in BUCKETS)
LEVELS = ("department", "rep", "customer")
NO_DEPARTMENT = 0


def fen(value) -> Decimal:
    """Sums read back from the database to the fen (SQLite drops the scale)."""
    return Decimal(value or 0).quantize(FEN)


def bucket_of(due_on: date | None, today: date) -> str | None:
    """The bucket of an amount due on `due_on`, or None when it is not due yet (or has no date)."""
    if due_on is None or due_on > today:
        return None
    days = (today - due_on).days
    for key, _label, first, last in BUCKETS:
        if days >= first and (last is None or days <= last):
            return key
    return BUCKET_KEYS[-1]


def bucket_labels() -> list[tuple[str, str]]:
    return [(key, str(label)) for key, label, *_rest in BUCKETS]


@dataclass
class AgeingRow:
    key: int
    label: str
    owed: Decimal = ZERO
    due: Decimal = ZERO
    not_due: Decimal = ZERO
    not_invoiced: Decimal = ZERO
    buckets: dict = field(default_factory=lambda: dict.fromkeys(BUCKET_KEYS, ZERO))
    plans: int = 0
    overdue: bool = False

    def add(self, other: "AgeingRow") -> None:
        self.owed += other.owed
        self.due += other.due
        self.not_due += other.not_due
        self.not_invoiced += other.not_invoiced
        self.plans += other.plans
        for key in BUCKET_KEYS:
            self.buckets[key] += other.buckets[key]

    @property
    def bucket_list(self) -> list[Decimal]:
        return [self.buckets[key] for key in BUCKET_KEYS]

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "label": self.label,
            "owed": self.owed,
            "due": self.due,
            "not_due": self.not_due,
            "not_invoiced": self.not_invoiced,
            **{key: self.buckets[key] for key in BUCKET_KEYS},
        }


@dataclass
class AgeingSummary:
    level: str
    today: date
    rows: list[AgeingRow]
    total: AgeingRow
    years: list[tuple[int, Decimal]]


def may_view(user: User) -> bool:
    return user.is_authenticated and user.is_active and user.has_perm(VIEW_PERM)


def check_view(user: User) -> None:
    if not may_view(user):
        raise PermissionDenied


def owner_ids_in_scope(user: User) -> tuple[int, ...] | None:
    """The owners whose money the user sees; None for everyone."""
    scope = scope_for(user)
    if scope.kind == DataScope.ALL:
        return None
    return scope.owner_ids or (user.pk,)


def _owners_filter(user: User, *, department: int | None = None, owner: int | None = None, field: str = "owner_id"):
    q = Q()
    ids = owner_ids_in_scope(user)
    if ids is not None:
        q &= Q(**{f"{field}__in": ids})
    if owner is not None:
        q &= Q(**{field: owner})
    if department is not None:
        if department == NO_DEPARTMENT:
            people = User.objects.filter(department__isnull=True)
        else:
            people = User.objects.filter(department_id=department)
        q &= Q(**{f"{field}__in": people.values("pk")})
    return q


def _sum_when(condition: Q):
    return Sum(Case(When(condition, then="outstanding"), default=ZERO, output_field=DecimalField()))


def bucket_aggregates(today: date) -> dict:
    """SQL sums of DueDay.outstanding into not-yet-due and the overdue buckets."""
    sums = {"not_due": _sum_when(Q(due_on__gt=today))}
    for key, _label, first, last in BUCKETS:
        condition = Q(due_on__lte=today - timedelta(days=first))
        if last is not None:
            condition &= Q(due_on__gte=today - timedelta(days=last))
        sums[key] = _sum_when(condition)
    return sums


def _rep_rows(user: User, today: date, *, department: int | None = None, owner: int | None = None):
    """{owner id: AgeingRow} from DueDay and the balances' not-invoiced amounts (two queries)."""
    rows: dict[int, AgeingRow] = {}
    where = _owners_filter(user, department=department, owner=owner)
    for found in (
        DueDay.objects.filter(where).values("owner_id").annotate(plans=Sum("plans"), **bucket_aggregates(today))
    ):
        row = rows.setdefault(found["owner_id"], AgeingRow(key=found["owner_id"], label=""))
        row.not_due = fen(found["not_due"])
        for key in BUCKET_KEYS:
            row.buckets[key] = fen(found[key])
        row.due = sum(row.buckets.values(), ZERO)
        row.owed = row.due + row.not_due
        row.plans = found["plans"] or 0
    invoiced = (
        CustomerBalance.objects.filter(where, not_invoiced__gt=0)
        .values("owner_id")
        .annotate(amount=Sum("not_invoiced"))
        .values_list("owner_id", "amount")
    )
    for owner_id, amount in invoiced:
        if owner_id is None:
            continue
        rows.setdefault(owner_id, AgeingRow(key=owner_id, label="")).not_invoiced = fen(amount)
    return rows


def _years(user: User, today: date, *, department=None, owner=None) -> list[tuple[int, Decimal]]:
    where = _owners_filter(user, department=department, owner=owner)
    rows = (
        DueDay.objects.filter(where)
        .annotate(year=ExtractYear("due_on"))
        .values("year")
        .annotate(amount=Sum("outstanding"))
        .order_by("year")
        .values_list("year", "amount")
    )
    return [(year, fen(amount)) for year, amount in rows if amount]


def ageing_summary(
    user: User, *, level: str = "department", department: int | None = None, today: date | None = None
) -> AgeingSummary:
    """The department or rep rows in the reader's scope (a department's reps when `department`)."""
    check_view(user)
    today = today or timezone.localdate()
    level = level if level in ("department", "rep") else "department"
    reps = _rep_rows(user, today, department=department)
    people = {
        u.pk: u
        for u in User.objects.filter(pk__in=list(reps))
        .select_related("department")
        .only("pk", "username", "first_name", "last_name", "department__name", "department__path")
    }
    total = AgeingRow(key=0, label=_("Total"))
    rows: list[AgeingRow]
    if level == "rep":
        for pk, row in reps.items():
            person = people.get(pk)
            row.label = person.display_name if person else str(pk)
            total.add(row)
        rows = sorted(reps.values(), key=lambda r: (-r.owed, r.label))
    else:
        by_department: dict[int, AgeingRow] = {}
        for pk, row in reps.items():
            person = people.get(pk)
            dept = person.department if person and person.department_id else None
            key = dept.pk if dept else NO_DEPARTMENT
            group = by_department.setdefault(key, AgeingRow(key=key, label=dept.name if dept else _("No department")))
            group.add(row)
            total.add(row)
        rows = sorted(by_department.values(), key=lambda r: (-r.owed, r.label))
    return AgeingSummary(level, today, rows, total, _years(user, today, department=department))


def customer_page(
    user: User,
    *,
    department: int | None = None,
    owner: int | None = None,
    offset: int = 0,
    limit: int = 50,
    today: date | None = None,
) -> tuple[PageOf, list[AgeingRow]]:
    """One page of customers, largest balance first, with their buckets (three queries and a count)."""
    check_view(user)
    today = today or timezone.localdate()
    qs = (
        CustomerBalance.objects.filter(_owners_filter(user, department=department, owner=owner))
        .filter(Q(owed__gt=0) | Q(not_invoiced__gt=0))
        .order_by("-owed", "customer_id")
    )
    balances, has_next = slice_page(
        qs.select_related("customer").only("customer__name", "customer__id", *BALANCE_FIELDS), offset, limit
    )
    count, capped = capped_count(qs)
    rows = customer_rows(balances, today)
    return PageOf(rows, count, capped, has_next), rows


BALANCE_FIELDS = ("owed", "overdue", "not_due", "not_invoiced", "exposure", "oldest_due_on", "owner_id")


def customer_rows(balances: list[CustomerBalance], today: date) -> list[AgeingRow]:
    """Rows for these balances, their buckets from the customers' open plans (one query)."""
    rows = {
        b.customer_id: AgeingRow(
            key=b.customer_id, label=b.customer.name, owed=b.owed, not_invoiced=b.not_invoiced, overdue=b.overdue > 0
        )
        for b in balances
    }
    plans = PaymentPlan.objects.filter(
        customer_id__in=list(rows), state__in=OPEN_PLAN_STATES, due_on__lte=today
    ).values_list("customer_id", "due_on", "amount", "received_amount")
    for customer_id, due_on, amount, received in plans:
        outstanding = max(amount - received, ZERO)
        key = bucket_of(due_on, today)
        if key and outstanding:
            row = rows[customer_id]
            row.buckets[key] += outstanding
            row.due += outstanding
            row.plans += 1
    for row in rows.values():
        row.not_due = max(row.owed - row.due, ZERO)
    return list(rows.values())


def customer_buckets(customer_id: int, balance: CustomerBalance | None, today: date) -> AgeingRow:
    """One customer's row: owed and not invoiced from its balance, the buckets summed by SQL over
    its open plans (one query)."""
    row = AgeingRow(key=customer_id, label="")
    if balance is not None:
        row.owed, row.not_invoiced = balance.owed, balance.not_invoiced
    outstanding = F("amount") - F("received_amount")
    sums = {}
    for key, _label, first, last in BUCKETS:
        condition = Q(due_on__lte=today - timedelta(days=first))
        if last is not None:
            condition &= Q(due_on__gte=today - timedelta(days=last))
        sums[key] = Sum(Case(When(condition, then=outstanding), default=ZERO, output_field=DecimalField()))
    found = PaymentPlan.objects.filter(customer_id=customer_id, state__in=OPEN_PLAN_STATES).aggregate(**sums)
    for key in BUCKET_KEYS:
        row.buckets[key] = max(fen(found[key]), ZERO)
    row.due = sum(row.buckets.values(), ZERO)
    row.not_due = max(row.owed - row.due, ZERO)
    return row


def plan_buckets(plans, today: date) -> AgeingRow:
    """One customer's open plans summed into a row (the customer-money page)."""
    row = AgeingRow(key=0, label="")
    for plan in plans:
        outstanding = plan.outstanding
        key = bucket_of(plan.due_on, today)
        row.owed += outstanding
        if key:
            row.buckets[key] += outstanding
            row.due += outstanding
        else:
            row.not_due += outstanding
        row.plans += 1
    return row


def scope_label(user: User) -> str:
    return _("The whole company") if owner_ids_in_scope(user) is None else _("Your team")


def department_name(pk: int | None) -> str:
    if pk is None:
        return ""
    if pk == NO_DEPARTMENT:
        return _("No department")
    return Department.objects.filter(pk=pk).values_list("name", flat=True).first() or ""


def years_of_plans(plans) -> list[tuple[int, Decimal]]:
    years: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for plan in plans:
        if plan.due_on:
            years[plan.due_on.year] += plan.outstanding
    return sorted((y, a) for y, a in years.items() if a)
