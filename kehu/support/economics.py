"""Service economics (SRV-6): what service cost in a period against what the serviced customers
brought in.

- Cost of service: the engineers' time on the visits finished in the period (the visit's labour
  cost when it is set, else its minutes at the hourly rate of the quality settings), the parts used
  that were not charged to the customer (quantity × the unit cost of the time), travel, and the
  costs of the returns remedied in the period (freight, repair labour and parts, the replacement's
  cost, refunds).
- Serviced customers: customers with a ticket opened in the period or in the N months before it
  (N, "service counts for this many months", default 12).
- Revenue retained: booked orders dated in the period from serviced customers (payments live in the
  receivables app, beside this one: not counted here); follow-on sales: those of the orders placed
  after one of the customer's tickets (within the N months before the order).

A team narrows everything to the customers owned by people of a department and its sub-departments.
Every figure is one grouped query; nothing loops over customers."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, DecimalField, Exists, ExpressionWrapper, F, OuterRef, Q, Sum
from django.utils import timezone

from kehu.orders.models import BOOKED_STATES, Order
from kehu.support.models import Ticket, TicketState
from kehu.support.models_quality import QualitySettings
from kehu.support.models_returns import ReturnRequest, ReturnState
from kehu.support.models_visits import ServiceVisit, VisitPart, VisitState

ZERO = Decimal("0")
CENT = Decimal("0.01")
PERIODS = ("month", "quarter", "year")


def period_bounds(kind: str, day: date) -> tuple[date, date]:
    """[start, end) of the month / quarter / year holding `day`."""
    if kind == "year":
        return date(day.year, 1, 1), date(day.year + 1, 1, 1)
    months = 3 if kind == "quarter" else 1
    first_month = (day.month - 1) // months * months + 1
    start = date(day.year, first_month, 1)
    end_month = first_month + months
    end = date(day.year + (end_month - 1) // 12, (end_month - 1) % 12 + 1, 1)
    return start, end


def months_before(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1) if day.day == 1 else date(index // 12, index % 12 + 1, min(day.day, 28))


def _moment(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


@dataclass
class Economics:
    start: date
    end: date
    hourly_rate: Decimal
    retained_months: int
    visits: int = 0
    minutes: int = 0
    labour: Decimal = ZERO
    parts: Decimal = ZERO
    travel: Decimal = ZERO
    rma_count: int = 0
    rma_costs: Decimal = ZERO
    serviced_customers: int = 0
    retained_orders: Decimal = ZERO
    retained_order_count: int = 0
    retained_customers: int = 0
    follow_on: Decimal = ZERO
    follow_on_orders: int = 0
    follow_on_customers: int = 0
    rma_parts: dict = field(default_factory=dict)

    @property
    def cost(self) -> Decimal:
        return self.labour + self.parts + self.travel + self.rma_costs

    @property
    def ratio(self) -> Decimal | None:
        """Revenue retained per yuan of service cost."""
        return (self.retained_orders / self.cost).quantize(CENT) if self.cost else None


def _customer_filter(department, prefix: str) -> Q:
    if department is None:
        return Q()
    return Q(**{f"{prefix}owner__department__path__startswith": department.path})


def economics(*, start: date, end: date, department=None, quality: QualitySettings | None = None) -> Economics:
    quality = quality or QualitySettings.load()
    result = Economics(start, end, quality.hourly_rate, quality.retained_months)
    begin, finish = _moment(start), _moment(end)
    # Costs: the visits finished in the period, their parts, the returns remedied in it.
    visits = ServiceVisit.objects.filter(
        _customer_filter(department, "ticket__customer__"),
        state=VisitState.DONE,
        finished_at__gte=begin,
        finished_at__lt=finish,
    )
    v = visits.aggregate(
        n=Count("pk"),
        minutes=Sum("minutes_spent"),
        set_labour=Sum("labour_cost", filter=Q(labour_cost__gt=0)),
        rated_minutes=Sum("minutes_spent", filter=Q(labour_cost=0)),
        travel=Sum("travel_cost"),
    )
    result.visits, result.minutes = v["n"], v["minutes"] or 0
    rated = Decimal(v["rated_minutes"] or 0) * quality.hourly_rate / 60
    result.labour = ((v["set_labour"] or ZERO) + rated).quantize(CENT)
    result.travel = (v["travel"] or ZERO).quantize(CENT)
    parts = VisitPart.objects.filter(visit__in=visits.values("pk"), charged=False).aggregate(
        s=Sum(
            ExpressionWrapper(
                F("quantity") * F("unit_cost"), output_field=DecimalField(max_digits=24, decimal_places=5)
            )
        )
    )
    result.parts = Decimal(str(parts["s"] or 0)).quantize(CENT)
    rmas = ReturnRequest.objects.filter(
        _customer_filter(department, "customer__"),
        state__in=[ReturnState.REMEDIED, ReturnState.CLOSED],
        remedied_at__gte=begin,
        remedied_at__lt=finish,
    ).aggregate(n=Count("pk"), **{name: Sum(name) for name in ReturnRequest.COST_FIELDS})
    result.rma_count = rmas.pop("n")
    result.rma_parts = {name: (value or ZERO) for name, value in rmas.items()}
    result.rma_costs = sum(result.rma_parts.values(), ZERO)
    # Revenue: the serviced customers' orders in the period.
    window = _moment(months_before(start, quality.retained_months))
    serviced = Ticket.objects.filter(
        _customer_filter(department, "customer__"),
        created_at__gte=window,
        created_at__lt=finish,
        deleted_at__isnull=True,
    ).exclude(state=TicketState.CANCELLED)
    result.serviced_customers = serviced.values("customer_id").distinct().count()
    serviced_ids = serviced.values("customer_id")
    orders = Order.objects.filter(
        customer_id__in=serviced_ids,
        state__in=BOOKED_STATES,
        ordered_on__gte=start,
        ordered_on__lt=end,
        deleted_at__isnull=True,
    )
    o = orders.aggregate(s=Sum("total"), n=Count("pk"), c=Count("customer_id", distinct=True))
    result.retained_orders, result.retained_order_count, result.retained_customers = o["s"] or ZERO, o["n"], o["c"]
    # Follow-on: an order placed after a ticket of its customer (within the counted months before it).
    earlier_ticket = Ticket.objects.filter(
        customer_id=OuterRef("customer_id"),
        created_at__gte=window,
        created_at__date__lt=OuterRef("ordered_on"),
        deleted_at__isnull=True,
    ).exclude(state=TicketState.CANCELLED)
    f = orders.filter(Exists(earlier_ticket)).aggregate(
        s=Sum("total"), n=Count("pk"), c=Count("customer_id", distinct=True)
    )
    result.follow_on, result.follow_on_orders, result.follow_on_customers = f["s"] or ZERO, f["n"], f["c"]
    return result


def chart(result: Economics, labels: dict) -> dict:
    """The page's bar chart: the cost parts against the revenue figures."""
    return {
        "names": [labels[k] for k in ("labour", "parts", "travel", "rma", "retained", "follow_on")],
        "values": [
            str(v)
            for v in (
                result.labour,
                result.parts,
                result.travel,
                result.rma_costs,
                result.retained_orders,
                result.follow_on,
            )
        ],
        "kinds": ["cost", "cost", "cost", "cost", "revenue", "revenue"],
    }


def previous_day() -> date:
    return timezone.localdate() - timedelta(days=1)
