"""The customer list's rows, written in Python.

Through the template engine the 25 rows cost ~2.3 ms (~90 µs a row: the variable lookups, the
filters, the URL), a sixth of the page's CPU time. Every value is escaped as the template did it.
"""

from django.utils import timezone
from django.utils.html import conditional_escape as esc
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from kehu.core.links import link_for
from kehu.core.masking import mask


def customer_rows(customers, *, overdue, over_limit, in_service, complaining) -> SafeString:
    """The `<tr>`s of `customers/customer_list.html`: each customer has `sensitive` set by
    `customer_page`; the four sets hold the ids that get a warning badge."""
    if not customers:
        nothing = esc(_("No customers match."))
        return mark_safe(f'<tr><td colspan="7" class="text-secondary">{nothing}</td></tr>')
    detail = link_for("workspace:customer-detail")
    badges = [
        (ids, f' <span class="badge {tone} text-nowrap">{esc(label)}</span>')
        for ids, tone, label in (
            (overdue, "bg-red-lt", _("overdue")),
            (over_limit, "bg-orange-lt", _("over credit limit")),
            (in_service, "bg-yellow-lt", _("open ticket")),
            (complaining, "bg-pink-lt", _("open complaint")),
        )
    ]
    rows = []
    for c in customers:
        warnings = "".join(badge for ids, badge in badges if c.pk in ids)
        phone = esc(c.phone) if c.sensitive else f'<span class="masked">{esc(mask(c.phone))}</span>'
        owner = esc(c.owner.display_name) if c.owner and c.owner.display_name else "—"
        rows.append(
            f'<tr><td><a href="{esc(detail(c.pk))}">{esc(c.name)}</a>{warnings}</td>'
            f'<td><span class="badge tier-{esc(c.tier)}">{esc(c.get_tier_display())}</span></td>'
            f'<td class="hide-sm">{esc(c.region)} {esc(c.city)}</td>'
            f'<td class="hide-sm">{esc(c.get_industry_display())}</td>'
            f'<td class="text-nowrap">{phone}</td>'
            f'<td class="hide-sm">{owner}</td>'
            f'<td class="hide-sm">{timezone.localtime(c.updated_at):%Y-%m-%d}</td></tr>\n    '
        )
    return mark_safe("".join(rows))
