"""Quotes in the demo (SAL-3/SAL-4): a handful per rep priced from the demo price book, in every
state — drafts, approved and sent ones, an accepted quote that won its opportunity, a rejected one
revised into a second version, one waiting for the sales manager (a discount beyond the rep's limit)
and one below the floor waiting for the general manager. Written through the services, so the lines
carry the price book's prices and the timelines, approvals and notifications are real.
Nothing is made when the catalog is empty (the catalog demo runs first)."""

import random
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from kehu.catalog.models import ProductStatus, Specification
from kehu.customers.models import Customer
from kehu.quotes import services
from kehu.quotes.models import Quote, QuoteLine
from kehu.sales.models import Opportunity, StageKind
from kehu.users.models import User

TITLES = ["水泵及配件报价", "年度备件报价", "改造项目设备报价", "泵站设备报价", "阀门及管件报价"]
TERMS = "合同签订后预付 30%，发货前付清余款。"
DELIVERY = "款到后 15 个工作日内发货，运费由我方承担。"
# What happens to each rep's quotes, in turn.
PLAN = ["draft", "sent", "accepted", "revised", "discount", "floor", "approved", "draft"]


def _specifications() -> list[Specification]:
    return list(
        Specification.objects.filter(
            is_active=True, product__status=ProductStatus.ACTIVE, product__deleted_at__isnull=True
        )
        .select_related("product")
        .order_by("pk")
    )


def _priced_lines(quote: Quote, rep: User, specs: list, rng: random.Random, count: int) -> None:
    """Add `count` lines one at a time, skipping specifications without a price for this customer."""
    added = 0
    for spec in rng.sample(specs, min(len(specs), count * 3)):
        if added == count:
            break
        try:
            services.quote_lines_add(quote=quote, actor=rep, lines=[(spec.pk, rng.choice([1, 2, 3, 5, 10, 20]))])
        except ValidationError:
            continue
        added += 1


def _discount_all(quote: Quote, rep: User, percent: str) -> None:
    for line in QuoteLine.objects.filter(quote=quote):
        services.quote_line_update(line=line, actor=rep, discount=Decimal(percent))


def _below_floor(quote: Quote, rep: User) -> bool:
    line = QuoteLine.objects.filter(quote=quote, floor_price__isnull=False).first()
    if line is None:
        return False
    services.quote_line_update(
        line=line, actor=rep, unit_price=(line.floor_price * Decimal("0.97")).quantize(Decimal("1"))
    )
    return True


@transaction.atomic
def load(users: dict[str, User], seed: int = 11) -> int:
    specs = _specifications()
    if not specs:
        return 0
    rng = random.Random(seed)
    made = 0
    for username in ("rep1", "rep2", "rep3"):
        rep = users.get(username)
        if rep is None:
            continue
        customers = list(Customer.objects.filter(owner=rep, deleted_at__isnull=True).order_by("pk")[: len(PLAN)])
        for customer, plan in zip(customers, PLAN, strict=False):
            deal = (
                Opportunity.objects.filter(customer=customer, status=StageKind.OPEN, deleted_at__isnull=True)
                .order_by("pk")
                .first()
            )
            quote = services.quote_create(
                customer=customer,
                opportunity=deal if plan == "accepted" else None,
                actor=rep,
                title=rng.choice(TITLES),
                payment_terms=TERMS,
                delivery_terms=DELIVERY,
            )
            _priced_lines(quote, rep, specs, rng, rng.randint(3, 8))
            quote.refresh_from_db()
            made += 1
            if quote.line_count == 0 or plan == "draft":
                continue
            if plan == "discount":
                _discount_all(quote, rep, "12")
            elif plan == "floor" and not _below_floor(quote, rep):
                continue
            else:
                _discount_all(quote, rep, rng.choice(["0", "2", "3", "5"]))
            quote.refresh_from_db()
            services.quote_submit(quote=quote, actor=rep)  # discount / floor: waits for approval
            quote.refresh_from_db()
            if plan in ("sent", "accepted", "revised"):
                services.quote_mark_sent(quote=quote, actor=rep, how=rng.choice(["manual", "email"]))
            if plan == "accepted":
                services.quote_accept(quote=quote, actor=rep, note="客户已回传盖章报价单")
            elif plan == "revised":
                services.quote_reject(quote=quote, actor=rep, note="客户认为价格偏高，希望再优惠")
                revision = services.quote_revise(quote=quote, actor=rep)
                _discount_all(revision, rep, "4")
                made += 1
    return made
