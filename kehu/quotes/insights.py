"""What a quote's owner should know while pricing it (SAL-4, SAL-10): reads only.

- **Price history**: for the quote's customer and each specification on the quote, the earlier quote
  lines (and, through `lookups.CUSTOMER_PRODUCT_PRICES`, orders once they exist), newest first,
  a few per product, with the last accepted price picked out — the answer to "what price keeps
  this old customer?". The quote's own revisions and superseded revisions are left out.
- **Conflicting prices**: another rep's open quote to the same customer with a different unit
  price for the same specification. It is named even when the viewer may not open it (then
  without a link): the customer sees both prices, so both reps must know.
- **Cross-sell**: products often on the same quotes as these, preferring what customers of the
  same industry, segment or channel level accepted, read from the nightly `ProductAffinity` table.

Every function reads a fixed number of queries whatever the number of lines.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache

from django.db.models import F, Max, Q, QuerySet, Sum, Value, Window
from django.db.models.functions import Coalesce, RowNumber
from django.http import Http404
from django.urls import NoReverseMatch
from django.utils.translation import ngettext

from kehu.catalog.models import ProductStatus
from kehu.core import lookups
from kehu.core.links import link_for
from kehu.customers.models import ChannelLevel, Customer, Industry, Segment
from kehu.quotes.models import (
    OPEN_STATES,
    AffinityScope,
    ProductAffinity,
    Quote,
    QuoteLine,
    QuoteState,
)
from kehu.quotes.selectors import quote_get, quote_qs_visible_to
from kehu.users.models import User

HISTORY_PER_PRODUCT = 5
SUGGESTIONS = 8
# A similar customer who accepted a pair weighs as much as this many quotes holding it.
SIMILAR_WEIGHT = 3


def quotes_visible_to(user: User) -> QuerySet[Quote]:
    """The quotes `user` may open (the quotes app's one door)."""
    return quote_qs_visible_to(user)


def quote_for_insights(user: User, pk) -> Quote:
    """The quote, if `user` may open it; 404 otherwise."""
    return quote_get(user, pk)


def line_for_insights(user: User, pk) -> QuoteLine:
    """A line of a quote `user` may open; 404 otherwise."""
    try:
        return QuoteLine.objects.filter(quote__in=quotes_visible_to(user)).select_related("quote").get(pk=int(pk))
    except (QuoteLine.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def quote_link(pk: int) -> str:
    """The quote's page (reversed once: a panel links hundreds of rows)."""
    return _quote_link()(pk)


@lru_cache(maxsize=1)
def _quote_link():
    try:
        return link_for("quotes:quote-detail")
    except NoReverseMatch:  # the quote pages live in another part of the app
        return lambda pk: f"/quotes/{int(pk)}/"


def _who(user_row: dict, prefix: str) -> str:
    full = f"{user_row.get(prefix + 'last_name') or ''}{user_row.get(prefix + 'first_name') or ''}".strip()
    return full or user_row.get(prefix + "username") or ""


def _reference(number: str, revision: int) -> str:
    return f"{number}-{revision}" if revision > 1 else number


@dataclass(frozen=True)
class Line:
    """What the insights need of one line of the quote."""

    product_id: int
    specification_id: int
    code: str
    name: str
    specification_name: str
    unit_price: Decimal


def quote_line_facts(quote: Quote) -> list[Line]:
    """The quote's lines, as the insights read them (one query)."""
    rows = (
        QuoteLine.objects.filter(quote=quote)
        .order_by("position", "id")
        .values_list("product_id", "specification_id", "code", "name", "specification_name", "unit_price")
    )
    return [Line(*row) for row in rows]


# ---- price history ---------------------------------------------------------------------------


@dataclass
class HistoryEntry:
    on: date
    reference: str
    state: str
    state_label: str
    quantity: Decimal | None
    unit_price: Decimal
    discount: Decimal
    who: str
    is_accepted: bool
    kind: str = "quote"  # or "order"
    quote_id: int | None = None
    link: str = ""  # empty when the viewer may not open it


@dataclass
class PriceHistory:
    """The earlier prices of one specification (规格/型号) of the quote for its customer."""

    specification_id: int
    product_id: int
    code: str
    name: str
    specification_name: str
    entries: list[HistoryEntry] = field(default_factory=list)
    last_accepted: HistoryEntry | None = None

    @property
    def last_accepted_shown(self) -> bool:
        return self.last_accepted is not None and self.last_accepted in self.entries


def price_history(
    quote: Quote,
    user: User,
    *,
    lines: list[Line] | None = None,
    specification_ids=None,
    per_product: int = HISTORY_PER_PRODUCT,
) -> list[PriceHistory]:
    """For each specification on the quote (in the order of its lines), this customer's earlier
    prices: newest first, at most `per_product`, plus the last accepted one when it is older.
    Read on the (customer, product) index of the lines; three queries (lines, history, which
    quotes the viewer may open) whatever the quote's size."""
    lines = quote_line_facts(quote) if lines is None else lines
    found: dict[int, PriceHistory] = {}
    for line in lines:
        if specification_ids is None or line.specification_id in specification_ids:
            found.setdefault(
                line.specification_id,
                PriceHistory(line.specification_id, line.product_id, line.code, line.name, line.specification_name),
            )
    if not found:
        return []
    product_ids = sorted({h.product_id for h in found.values()})
    order = [F("quote__quoted_on").desc(), F("quote_id").desc(), F("position").asc()]
    spec = F("specification_id")
    rows = list(
        QuoteLine.objects.filter(
            customer_id=quote.customer_id, product_id__in=product_ids, specification_id__in=list(found)
        )
        .filter(quote__deleted_at__isnull=True)
        .exclude(quote__state=QuoteState.SUPERSEDED)
        .exclude(quote__number=quote.number)
        .annotate(
            newest=Window(RowNumber(), partition_by=[spec], order_by=order),
            newest_in_state=Window(RowNumber(), partition_by=[spec, F("quote__state")], order_by=order),
        )
        .filter(Q(newest__lte=per_product) | Q(quote__state=QuoteState.ACCEPTED, newest_in_state=1))
        .values(
            "specification_id",
            "quantity",
            "unit_price",
            "discount",
            "quote_id",
            "quote__number",
            "quote__revision",
            "quote__state",
            "quote__quoted_on",
            "quote__owner__username",
            "quote__owner__first_name",
            "quote__owner__last_name",
            "newest",
        )
        .order_by("specification_id", "newest")
    )
    may_open = set()
    if rows:
        may_open = set(
            quotes_visible_to(user).filter(pk__in={r["quote_id"] for r in rows}).values_list("pk", flat=True)
        )
    states = dict(QuoteState.choices)
    for row in rows:
        entry = HistoryEntry(
            on=row["quote__quoted_on"],
            reference=_reference(row["quote__number"], row["quote__revision"]),
            state=row["quote__state"],
            state_label=str(states.get(row["quote__state"], row["quote__state"])),
            quantity=row["quantity"],
            unit_price=row["unit_price"],
            discount=row["discount"],
            who=_who(row, "quote__owner__"),
            is_accepted=row["quote__state"] == QuoteState.ACCEPTED,
            quote_id=row["quote_id"],
            link=quote_link(row["quote_id"]) if row["quote_id"] in may_open else "",
        )
        history = found[row["specification_id"]]
        if row["newest"] <= per_product:
            history.entries.append(entry)
        if entry.is_accepted and history.last_accepted is None:
            history.last_accepted = entry
    by_product: dict[int, list[PriceHistory]] = defaultdict(list)
    for history in found.values():
        by_product[history.product_id].append(history)
    for row in lookups.ask_rows(lookups.CUSTOMER_PRODUCT_PRICES, quote.customer_id, product_ids, per_product):
        # An order line names its specification; a row without one speaks for the whole product.
        for history in by_product.get(row.product_id, ()):
            if row.specification_id is not None and row.specification_id != history.specification_id:
                continue
            entry = HistoryEntry(
                on=row.on,
                reference=row.reference,
                state=row.state,
                state_label=row.state,
                quantity=row.quantity,
                unit_price=row.unit_price,
                discount=row.discount,
                who=row.who,
                is_accepted=row.is_accepted,
                kind="order",
                link=row.link,
            )
            history.entries.append(entry)
            if entry.is_accepted and (history.last_accepted is None or entry.on > history.last_accepted.on):
                history.last_accepted = entry
    for history in found.values():
        history.entries.sort(key=lambda e: e.on, reverse=True)  # stable: same-day quotes keep their order
        del history.entries[per_product:]
    return list(found.values())


# ---- conflicting prices ----------------------------------------------------------------------


@dataclass
class ConflictLine:
    specification_id: int
    code: str
    name: str
    specification_name: str
    price_here: Decimal
    price_there: Decimal


@dataclass
class Conflict:
    """Another rep's open quote to the same customer, with the specifications priced differently."""

    quote_id: int
    reference: str
    state_label: str
    owner_id: int
    who: str
    lines: list[ConflictLine] = field(default_factory=list)
    link: str = ""  # empty when the viewer may not open it


def price_conflicts(quote: Quote, user: User | None = None, *, lines: list[Line] | None = None) -> list[Conflict]:
    """Other reps' open quotes to this customer pricing a specification of this quote differently
    (none when this quote is closed). Two or three queries. With `user`, links to the quotes
    that user may open."""
    if quote.state not in OPEN_STATES or quote.deleted_at is not None:
        return []
    lines = quote_line_facts(quote) if lines is None else lines
    prices_here: dict[int, list[Decimal]] = {}
    for line in lines:
        prices_here.setdefault(line.specification_id, []).append(line.unit_price)
    if not prices_here:
        return []
    rows = (
        QuoteLine.objects.filter(
            customer_id=quote.customer_id,
            product_id__in={line.product_id for line in lines},
            specification_id__in=list(prices_here),
            quote__state__in=OPEN_STATES,
            quote__deleted_at__isnull=True,
        )
        .exclude(quote__owner_id=quote.owner_id)
        .exclude(quote__number=quote.number)
        .order_by("quote_id", "position", "id")
        .values(
            "quote_id",
            "quote__number",
            "quote__revision",
            "quote__state",
            "quote__owner_id",
            "quote__owner__username",
            "quote__owner__first_name",
            "quote__owner__last_name",
            "specification_id",
            "code",
            "name",
            "specification_name",
            "unit_price",
        )
    )
    states = dict(QuoteState.choices)
    found: dict[int, Conflict] = {}
    seen: set[tuple[int, int, Decimal]] = set()
    for row in rows:
        mine = prices_here[row["specification_id"]]
        theirs = row["unit_price"]
        if theirs in mine or (row["quote_id"], row["specification_id"], theirs) in seen:
            continue
        seen.add((row["quote_id"], row["specification_id"], theirs))
        conflict = found.get(row["quote_id"])
        if conflict is None:
            conflict = found[row["quote_id"]] = Conflict(
                quote_id=row["quote_id"],
                reference=_reference(row["quote__number"], row["quote__revision"]),
                state_label=str(states.get(row["quote__state"], row["quote__state"])),
                owner_id=row["quote__owner_id"],
                who=_who(row, "quote__owner__"),
            )
        conflict.lines.append(
            ConflictLine(
                specification_id=row["specification_id"],
                code=row["code"],
                name=row["name"],
                specification_name=row["specification_name"],
                price_here=mine[0],
                price_there=theirs,
            )
        )
    if found and user is not None:
        may_open = set(quotes_visible_to(user).filter(pk__in=list(found)).values_list("pk", flat=True))
        for conflict in found.values():
            if conflict.quote_id in may_open:
                conflict.link = quote_link(conflict.quote_id)
    return list(found.values())


# ---- cross-sell ------------------------------------------------------------------------------


@dataclass
class Suggestion:
    product_id: int
    code: str
    name: str
    unit: str
    score: int
    quotes_together: int = 0
    together_with: str = ""  # the product on this quote it is most often quoted with
    similar_customers: int = 0
    similar_label: str = ""  # "Machinery & equipment": the group of customers like this one

    @property
    def reasons(self) -> list[str]:
        said = []
        if self.quotes_together:
            said.append(
                ngettext(
                    "on %(count)s quote together with %(product)s",
                    "on %(count)s quotes together with %(product)s",
                    self.quotes_together,
                )
                % {"count": self.quotes_together, "product": self.together_with}
            )
        if self.similar_customers:
            said.append(
                ngettext(
                    "accepted by %(count)s customer in %(group)s like this one",
                    "accepted by %(count)s customers in %(group)s like this one",
                    self.similar_customers,
                )
                % {"count": self.similar_customers, "group": self.similar_label}
            )
        return said


def similar_scopes(customer: Customer) -> list[tuple[str, str, str]]:
    """(scope, value, label) of the groups of customers like this one."""
    found = []
    # "Other" is no likeness: such customers share nothing but the lack of a better word.
    if customer.industry and customer.industry != Industry.OTHER:
        found.append((AffinityScope.INDUSTRY, customer.industry, Industry(customer.industry).label))
    if customer.segment and customer.segment != Segment.OTHER:
        found.append((AffinityScope.SEGMENT, customer.segment, Segment(customer.segment).label))
    if customer.channel_level:
        found.append((AffinityScope.CHANNEL, customer.channel_level, ChannelLevel(customer.channel_level).label))
    return found


def cross_sell(
    quote: Quote, *, lines: list[Line] | None = None, limit: int = SUGGESTIONS, customer: Customer | None = None
) -> list[Suggestion]:
    """Products to offer with this quote's, best first, with why. Two queries on the precomputed
    `ProductAffinity` table (the quote's lines are read once more when not given)."""
    lines = quote_line_facts(quote) if lines is None else lines
    on_quote = {line.product_id for line in lines}
    if not on_quote:
        return []
    customer = customer or quote.customer
    scopes = similar_scopes(customer)
    labels = {(scope, value): str(label) for scope, value, label in scopes}
    # On a tie the nearer likeness names the group: industry before segment before channel.
    nearness = {(scope, value): i for i, (scope, value, _label) in enumerate(scopes)}
    in_scope = Q(scope=AffinityScope.ALL)
    for scope, value, _label in scopes:
        in_scope |= Q(scope=scope, value=value)
    base = (
        ProductAffinity.objects.filter(in_scope, product_id__in=list(on_quote))
        .exclude(other_id__in=list(on_quote))
        .filter(other__status=ProductStatus.ACTIVE, other__deleted_at__isnull=True)
    )
    ranked = list(
        base.values("other_id")
        .annotate(
            together=Coalesce(Sum("quotes", filter=Q(scope=AffinityScope.ALL)), Value(0)),
            similar=Coalesce(Max("customers", filter=~Q(scope=AffinityScope.ALL)), Value(0)),
        )
        .annotate(score=F("together") + SIMILAR_WEIGHT * F("similar"))
        .order_by("-score", "other_id")[:limit]
    )
    if not ranked:
        return []
    suggestions = {
        r["other_id"]: Suggestion(product_id=r["other_id"], code="", name="", unit="", score=r["score"]) for r in ranked
    }
    details = (
        base.filter(other_id__in=list(suggestions))
        .order_by("other_id", "-quotes", "-customers", "product_id")
        .values(
            "other_id",
            "other__code",
            "other__name",
            "other__unit",
            "product__name",
            "scope",
            "value",
            "quotes",
            "customers",
        )
    )
    best_together: dict[int, int] = defaultdict(int)
    best_scope: dict[int, int] = {}
    for row in details:
        s = suggestions[row["other_id"]]
        s.code, s.name, s.unit = row["other__code"], row["other__name"], row["other__unit"]
        if row["scope"] == AffinityScope.ALL:
            s.quotes_together += row["quotes"]
            if row["quotes"] > best_together[s.product_id]:
                best_together[s.product_id] = row["quotes"]
                s.together_with = row["product__name"]
        else:
            near = nearness.get((row["scope"], row["value"]), len(nearness))
            if (row["customers"], -near) > (s.similar_customers, -best_scope.get(s.product_id, len(nearness))):
                s.similar_customers = row["customers"]
                s.similar_label = labels.get((row["scope"], row["value"]), row["value"])
                best_scope[s.product_id] = near
    return [suggestions[r["other_id"]] for r in ranked]


# ---- everything for the panel ----------------------------------------------------------------


@dataclass
class QuoteInsights:
    quote: Quote
    history: list[PriceHistory]
    conflicts: list[Conflict]
    suggestions: list[Suggestion]

    @property
    def history_count(self) -> int:
        return sum(1 for h in self.history if h.entries)

    @property
    def first_with_history(self) -> int | None:
        """The specification whose history the panel shows open (the others are one click away)."""
        return next((h.specification_id for h in self.history if h.entries), None)


def quote_insights(quote: Quote, user: User) -> QuoteInsights:
    """The three sections of the panel, in a fixed number of queries (about eight)."""
    lines = quote_line_facts(quote)
    return QuoteInsights(
        quote=quote,
        history=price_history(quote, user, lines=lines),
        conflicts=price_conflicts(quote, user, lines=lines),
        suggestions=cross_sell(quote, lines=lines),
    )
