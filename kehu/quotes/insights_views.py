"""The insights panel on a quote (price history, conflicting prices, cross-sell) and a line's
price history for its popover; both read only."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from kehu.quotes import insights
from kehu.quotes.affinity import affinity_computed_at

PANEL = "quotes/insights/_panel.html"


@require_GET
def panel(request, pk):
    """The panel alone for htmx (the quote page loads it); a plain request gets it on a page of its own."""
    quote = insights.quote_for_insights(request.user, pk)
    context = {
        "quote": quote,
        "insights": insights.quote_insights(quote, request.user),
        "computed_at": affinity_computed_at(),
    }
    if request.htmx:
        return render(request, PANEL, context)
    return render(request, "quotes/insights/page.html", context)


@require_GET
def line_history(request, pk):
    """One line's price history (the popover of the line editor)."""
    line = insights.line_for_insights(request.user, pk)
    quote = line.quote
    history = insights.price_history(quote, request.user, specification_ids={line.specification_id})
    return render(
        request,
        "quotes/insights/_line_history.html",
        {"quote": quote, "history": history[0] if history else None, "line": line},
    )
