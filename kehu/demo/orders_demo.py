"""Orders and sell-through in the demo (SAL-5): for each rep an order from each accepted quote,
one from each contract in force (when the contracts demo made some), and a few entered directly,
confirmed and partly or fully delivered (one completed, one left as a draft, one cancelled); and
sell-through for the dealers (总经销 / 一批) over the last three months. Written through the services,
so amounts, rollups, timelines and events are real. Tolerates an empty catalog or no contracts."""

import random
from datetime import timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from kehu.approvals.services import open_request, request_act
from kehu.catalog.models import ProductStatus, Specification
from kehu.contracts.models import IN_FORCE, Contract
from kehu.customers.models import ChannelLevel, Customer
from kehu.orders import services
from kehu.orders.models import DeliveryStatus, Order, OrderLine, OrderState
from kehu.quotes.models import Quote, QuoteState
from kehu.users.models import User

S = OrderState
CARRIERS = ["顺丰速运", "德邦物流", "中通快运", "安能物流", "自提"]
BUYERS = [
    ("慈溪五金二批商行", "二批"),
    ("余姚机电门市部", "零售"),
    ("奉化建材二批", "二批"),
    ("象山小王水暖店", "零售"),
]
ADDRESS = "浙江省宁波市鄞州区首南街道日丽中路 188 号 仓库收"


def _specs() -> list[Specification]:
    return list(
        Specification.objects.filter(
            is_active=True, product__status=ProductStatus.ACTIVE, product__deleted_at__isnull=True
        )
        .select_related("product")
        .order_by("pk")
    )


def confirm_in_demo(order: Order, actor: User, *, keep_held: bool = False) -> Order:
    """Confirm the order; one held for credit (CLS-4) has its exception approved by finance, unless it
    is the one the demo leaves waiting in finance's approval inbox."""
    try:
        services.order_transition(order=order, to=S.CONFIRMED, actor=actor)
    except ValidationError:
        pass
    order.refresh_from_db()
    if order.credit_hold and not keep_held:
        request = open_request("order.credit", order.pk)
        for approver in User.objects.filter(username__in=["finance1", "admin", "gm"]).order_by("username"):
            if request is None:
                break
            try:
                request_act(request=request, actor=approver, action="approve", comment="已核实回款计划")
            except (PermissionDenied, ValidationError):
                continue
            request = open_request("order.credit", order.pk)
        order.refresh_from_db()
    return order


def _deliver(order: Order, actor: User, rng: random.Random, *, full: bool) -> None:
    if order.state != S.CONFIRMED:
        return
    lines = list(OrderLine.objects.filter(order=order).order_by("position"))
    today = timezone.localdate()
    first_day = min(order.ordered_on + timedelta(days=rng.randint(2, 10)), today)
    chosen = [
        (line.pk, line.quantity if full else max(Decimal(1), (line.quantity / 2).quantize(Decimal(1))))
        for line in lines
    ]
    if not full:
        chosen = [(pk, q) for (pk, q), line in zip(chosen, lines, strict=True) if q < line.quantity] or chosen[:1]
    try:
        services.delivery_record(
            order=order,
            actor=actor,
            lines=chosen,
            delivered_on=first_day,
            carrier=rng.choice(CARRIERS),
            tracking_number=f"SF{rng.randint(10**11, 10**12 - 1)}",
        )
    except ValidationError:
        return


def _direct(customer: Customer, rep: User, specs: list, rng: random.Random, ordered_on) -> Order | None:
    for _attempt in range(4):
        picks = rng.sample(specs, min(len(specs), rng.randint(2, 4)))
        try:
            return services.order_create(
                customer=customer,
                actor=rep,
                ordered_on=ordered_on,
                delivery_address=ADDRESS,
                payment_terms="货到 30 天内付款",
                lines=[(spec.pk, rng.choice([2, 4, 5, 10, 20])) for spec in picks],
            )
        except ValidationError:
            continue  # a specification without a price for this customer: try others
    return None


def _sell_through(users: dict[str, User], specs: list, rng: random.Random) -> int:
    made = 0
    month = timezone.localdate().replace(day=1)
    months = [month]
    for _n in range(2):
        months.append((months[-1] - timedelta(days=1)).replace(day=1))
    dealers = []
    for username in ("rep1", "rep2", "rep3"):  # two dealers of each rep, so every team sees some
        dealers += list(
            Customer.objects.filter(
                channel_level=ChannelLevel.GENERAL_DEALER, deleted_at__isnull=True, owner=users.get(username)
            )
            .select_related("owner")
            .order_by("pk")[:2]
        )
    for dealer in dealers:
        for when in months:
            for buyer, level in rng.sample(BUYERS, 2):
                spec = rng.choice(specs)
                quantity = Decimal(rng.choice([3, 5, 8, 12, 20]))
                services.sell_through_create(
                    actor=dealer.owner,
                    seller=dealer,
                    month=when,
                    specification=spec,
                    quantity=quantity,
                    amount=quantity * Decimal(rng.choice([180, 260, 420, 980])),
                    buyer_name=buyer,
                    buyer_level=level,
                    record_event=False,
                )
                made += 1
    return made


@transaction.atomic
def seed(users: dict[str, User] | None = None, seed: int = 23) -> int:
    """Make the demo's orders and sell-through; returns how many orders were made."""
    users = users or {u.username: u for u in User.objects.filter(username__in=["rep1", "rep2", "rep3"])}
    specs = _specs()
    if not specs:
        return 0
    rng = random.Random(seed)
    today = timezone.localdate()
    made = 0
    for username in ("rep1", "rep2", "rep3"):
        rep = users.get(username)
        if rep is None:
            continue
        for quote in Quote.objects.filter(owner=rep, state=QuoteState.ACCEPTED, deleted_at__isnull=True):
            order = services.order_create(quote=quote, actor=rep, ordered_on=today - timedelta(days=rng.randint(5, 20)))
            _deliver(confirm_in_demo(order, rep), rep, rng, full=False)
            made += 1
        for contract in Contract.objects.filter(owner=rep, stage__in=IN_FORCE, deleted_at__isnull=True)[:2]:
            try:
                order = services.order_create(contract=contract, actor=rep)
            except ValidationError:
                continue
            _deliver(confirm_in_demo(order, rep), rep, rng, full=False)
            made += 1
        customers = list(Customer.objects.filter(owner=rep, deleted_at__isnull=True).order_by("-pk")[:5])
        for index, customer in enumerate(customers):
            order = _direct(customer, rep, specs, rng, today - timedelta(days=rng.randint(10, 80)))
            if order is None:
                continue
            made += 1
            if index == 4:
                continue  # a draft
            order = confirm_in_demo(order, rep, keep_held=username == "rep1" and index == 2)
            if index == 3 and order.state == S.CONFIRMED:
                services.order_transition(order=order, to=S.CANCELLED, actor=rep, note="客户取消采购计划")
                continue
            _deliver(order, rep, rng, full=index in (0, 1))
            order.refresh_from_db()
            if index == 0 and order.delivery_status == DeliveryStatus.FULL:
                services.order_transition(order=order, to=S.COMPLETED, actor=rep)
    _sell_through(users, specs, rng)
    return made
