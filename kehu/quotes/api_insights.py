"""A quote's insights (SAL-4, SAL-10): the customer's earlier prices per product, other reps' open
quotes with different prices, and cross-sell suggestions. Read only."""

from datetime import date, datetime
from decimal import Decimal

from ninja import Router, Schema

from kehu.core.api import Id
from kehu.quotes import insights
from kehu.quotes.affinity import affinity_computed_at

router = Router(tags=["quotes"])


class QuoteInsightPriceOut(Schema):
    on: date
    kind: str  # "quote" or "order"
    reference: str
    quote_id: int | None
    state: str
    state_label: str
    quantity: Decimal | None
    unit_price: Decimal
    discount: Decimal
    who: str
    is_accepted: bool
    link: str  # empty when the caller may not open the quote


class QuoteInsightHistoryOut(Schema):
    specification_id: int
    product_id: int
    code: str  # the specification's code
    name: str
    specification_name: str
    entries: list[QuoteInsightPriceOut]
    last_accepted: QuoteInsightPriceOut | None


class QuoteInsightConflictLineOut(Schema):
    specification_id: int
    code: str
    name: str
    specification_name: str
    price_here: Decimal
    price_there: Decimal


class QuoteInsightConflictOut(Schema):
    quote_id: int
    reference: str
    state_label: str
    owner_id: int
    who: str
    link: str  # empty when the caller may not open the other quote
    lines: list[QuoteInsightConflictLineOut]


class QuoteInsightSuggestionOut(Schema):
    product_id: int
    code: str
    name: str
    unit: str
    score: int
    quotes_together: int
    together_with: str
    similar_customers: int
    similar_label: str
    reasons: list[str]


class QuoteInsightsOut(Schema):
    quote_id: int
    history: list[QuoteInsightHistoryOut]
    conflicts: list[QuoteInsightConflictOut]
    suggestions: list[QuoteInsightSuggestionOut]
    suggestions_counted_at: datetime | None


@router.get("/{quote_id}/insights", response=QuoteInsightsOut)
def quote_insights_read(request, quote_id: Id):
    """Only the specifications with earlier prices are listed in `history`."""
    quote = insights.quote_for_insights(request.user, quote_id)
    found = insights.quote_insights(quote, request.user)
    return {
        "quote_id": quote.pk,
        "history": [h for h in found.history if h.entries],
        "conflicts": found.conflicts,
        "suggestions": found.suggestions,
        "suggestions_counted_at": affinity_computed_at(),
    }
