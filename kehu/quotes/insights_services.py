"""Telling two reps that they quote one customer different prices (SAL-4).

`price_conflicts_tell` is called by the quote services after lines change (added, pasted,
repriced, a price or discount edited) and on submit. For each other rep's open quote that prices
a specification of this quote differently, both owners are told once (`QuoteEvent.PRICE_CONFLICT`,
each with a link to their own quote); the pair is told again only when the differing prices
change, and forgotten once the prices agree or a quote closes.
"""

import hashlib

from django.db import transaction
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kehu.core import events
from kehu.quotes.events import QuoteEvent
from kehu.quotes.insights import Conflict, price_conflicts, quote_link
from kehu.quotes.models import PriceConflictNotice, Quote


def _fingerprint(quote: Quote, conflict: Conflict) -> str:
    """The differing prices of a pair, the same whichever of the two quotes is asked."""
    here_first = quote.pk < conflict.quote_id
    prices = sorted(
        (
            line.specification_id,
            *((line.price_here, line.price_there) if here_first else (line.price_there, line.price_here)),
        )
        for line in conflict.lines
    )
    text = ";".join(f"{spec}:{a.normalize()}:{b.normalize()}" for spec, a, b in prices)
    return hashlib.sha256(text.encode()).hexdigest()


def _money(value) -> str:
    return f"¥{value:,.2f}"


def _summary(*, own: Quote, other_reference: str, other_who: str, conflict: Conflict, own_is_here: bool) -> str:
    first = conflict.lines[0]
    yours, theirs = (first.price_here, first.price_there) if own_is_here else (first.price_there, first.price_here)
    text = _("%(other)s by %(who)s quotes %(customer)s %(code)s at %(theirs)s; your %(own)s says %(yours)s.") % {
        "other": other_reference,
        "who": other_who,
        "customer": own.customer.name,
        "code": first.code,
        "theirs": _money(theirs),
        "own": str(own),
        "yours": _money(yours),
    }
    more = len(conflict.lines) - 1
    if more:
        text += " " + ngettext("%(count)s more product differs.", "%(count)s more products differ.", more) % {
            "count": more
        }
    return text


def _who(user) -> str:
    return str(user)


def price_conflicts_tell(quote: Quote, actor=None) -> int:
    """Tell both owners of each newly conflicting pair of quotes; returns the pairs told."""
    with transaction.atomic():
        conflicts = {c.quote_id: c for c in price_conflicts(quote)}
        notices = {
            (n.quote_id, n.other_id): n
            for n in PriceConflictNotice.objects.select_for_update().filter(Q(quote=quote) | Q(other=quote))
        }
        gone = [n.pk for pair, n in notices.items() if (pair[1] if pair[0] == quote.pk else pair[0]) not in conflicts]
        if gone:
            PriceConflictNotice.objects.filter(pk__in=gone).delete()
        new = {}
        for other_id, conflict in conflicts.items():
            pair = (min(quote.pk, other_id), max(quote.pk, other_id))
            fingerprint = _fingerprint(quote, conflict)
            notice = notices.get(pair)
            if notice is not None and notice.fingerprint == fingerprint:
                continue
            new[other_id] = (pair, fingerprint, notice)
        if not new:
            return 0
        others = {q.pk: q for q in Quote.objects.filter(pk__in=list(new)).select_related("owner", "customer")}
        own = Quote.objects.select_related("owner", "customer").get(pk=quote.pk)
        told = []
        for other_id, (pair, fingerprint, notice) in new.items():
            other = others[other_id]
            conflict = conflicts[other_id]
            if notice is None:
                PriceConflictNotice.objects.create(quote_id=pair[0], other_id=pair[1], fingerprint=fingerprint)
            else:
                PriceConflictNotice.objects.filter(pk=notice.pk).update(fingerprint=fingerprint)
            for mine, theirs, own_is_here in ((own, other, True), (other, own, False)):
                with translation.override(getattr(mine.owner, "language", None) or translation.get_language()):
                    summary = _summary(
                        own=mine,
                        other_reference=str(theirs),
                        other_who=_who(theirs.owner),
                        conflict=conflict,
                        own_is_here=own_is_here,
                    )
                told.append(
                    events.build(
                        QuoteEvent.PRICE_CONFLICT,
                        # Nobody is told of what they did: the rep whose change made the conflict
                        # is told by the system, so both owners hear of it.
                        actor=None if getattr(actor, "pk", None) == mine.owner_id else actor,
                        subject=mine,
                        summary=summary,
                        payload={
                            "other_quote": theirs.pk,
                            "specifications": [c.specification_id for c in conflict.lines],
                        },
                        notify=[mine.owner_id],
                        link=quote_link(mine.pk),
                    )
                )
        events.record_many(told)
        return len(new)
