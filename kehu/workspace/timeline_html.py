"""The 360° page's timeline rows, written in Python.

Through the template engine the page's 30 rows cost ~4.4 ms (145 µs a row: its variable lookups and
the date filter), a seventh of the page. Every value is escaped here as the template did it.
"""

from django.template.defaultfilters import linebreaksbr
from django.utils import timezone
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from kehu.core.links import link_for


def timeline_rows(entries) -> SafeString:
    """The entries as `workspace/customer_detail.html` shows them; each has `kind_label`,
    `mail_status` and `may_edit` set by the view."""
    if not entries:
        nothing = conditional_escape(_("Nothing has happened yet."))  # outside the f-string: xgettext finds it
        return mark_safe(f'<p class="text-secondary">{nothing}</p>')
    edit_link = link_for("activities:activity-edit")
    due_word, minutes = conditional_escape(_("due")), _("%(m)s min")
    rows = []
    for e in entries:
        payload = e.payload if isinstance(e.payload, dict) else {}
        head = f"{timezone.localtime(e.occurred_at):%Y-%m-%d %H:%M} · {conditional_escape(e.kind_label)}"
        if e.actor:
            head += f" · {conditional_escape(e.actor.display_name)}"
        summary = conditional_escape(e.summary)
        if e.may_edit:
            link = conditional_escape(edit_link(e.subject_id))
            summary = f'<a href="{link}" class="text-reset">{summary}</a>'
        if payload.get("due_on"):
            summary += f' <span class="badge">{due_word} {conditional_escape(payload["due_on"])}</span>'
        if payload.get("duration_minutes"):
            spent = minutes % {"m": conditional_escape(payload["duration_minutes"])}
            summary += f' <span class="text-secondary small">{spent}</span>'
        if e.mail_status:
            state = e.mail_status
            tone = "bg-red-lt" if state["failed"] else "bg-green-lt" if state["sent"] else "bg-secondary-lt"
            summary += f' <span class="badge {tone}">{conditional_escape(state["label"])}</span>'
        content = payload.get("content")
        more = f'<div class="small">{linebreaksbr(content, autoescape=True)}</div>' if content else ""
        rows.append(
            f'<div class="timeline-entry kind-{conditional_escape(e.kind)}">\n'
            f'    <div class="small text-secondary">{head}</div>\n'
            f"    <div>{summary}</div>\n"
            f"    {more}\n"
            "  </div>"
        )
    return mark_safe("".join(rows))
