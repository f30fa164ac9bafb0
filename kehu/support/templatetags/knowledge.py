"""Template helpers of the knowledge base: an article's title and text in the reader's language (the
other language as the fallback), the text rendered safely, and the ticket page's "suggested articles"
panel."""

import re

from django import template
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

register = template.Library()

BULLET = re.compile(r"^\s*[-*•]\s+(.*)$")
NUMBERED = re.compile(r"^\s*\d+[.)、]\s*(.*)$")
HEADING = re.compile(r"^#{1,3}\s+(.*)$")


def _lang() -> str:
    return get_language() or "zh-hans"


@register.filter
def kb_title(article) -> str:
    return article.title_for(_lang())


@register.filter
def kb_body(article) -> str:
    return article.body_for(_lang())


@register.filter
def kb_category(category) -> str:
    return category.name_for(_lang()) if category is not None else ""


@register.filter
def kb_excerpt(article, length: int = 120) -> str:
    text = " ".join(article.body_for(_lang()).split())
    return text if len(text) <= length else text[:length].rstrip() + "…"


@register.filter
def kb_lang_fallback(article) -> bool:
    """True when the article is shown in the other language (no text in the reader's)."""
    lang = _lang()
    return not (article.title_en if lang.startswith("en") else article.title_zh)


@register.filter
def kb_render(text: str) -> str:
    """Plain text as HTML: everything escaped; blank lines part paragraphs, lines starting with "-", "*"
    or "•" become a bulleted list, "1." a numbered one, "# " a heading; other line breaks stay."""
    blocks: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []
    kind = ""

    def flush_paragraph():
        if paragraph:
            blocks.append("<p>" + "<br>".join(conditional_escape(line) for line in paragraph) + "</p>")
            paragraph.clear()

    def flush_list():
        nonlocal kind
        if items:
            tag = "ol" if kind == "ol" else "ul"
            blocks.append(f"<{tag}>" + "".join(f"<li>{conditional_escape(i)}</li>" for i in items) + f"</{tag}>")
            items.clear()
        kind = ""

    for line in (text or "").replace("\r\n", "\n").split("\n"):
        bullet, numbered, heading = BULLET.match(line), NUMBERED.match(line), HEADING.match(line)
        if not line.strip():
            flush_paragraph()
            flush_list()
        elif heading:
            flush_paragraph()
            flush_list()
            blocks.append(str(format_html("<h4>{}</h4>", heading.group(1))))
        elif bullet or numbered:
            flush_paragraph()
            wanted = "ul" if bullet else "ol"
            if kind and kind != wanted:
                flush_list()
            kind = wanted
            items.append((bullet or numbered).group(1))
        else:
            flush_list()
            paragraph.append(line.strip())
    flush_paragraph()
    flush_list()
    return mark_safe("".join(blocks))  # noqa: S308 - every piece of text above is escaped


@register.inclusion_tag("support/kb/_ticket_panel_body.html", takes_context=True)
def ticket_kb_panel(context, ticket):
    """Articles matching the ticket's subject (and description), the customer's follow links."""
    from kehu.support import kb_selectors
    from kehu.support.models import FollowLink
    from kehu.support.services import may_change

    request = context.get("request")
    user = getattr(request, "user", None)
    found = []
    if kb_selectors.may_read(user):
        found = kb_selectors.suggestions(
            kb_selectors.article_qs_visible_to(user).filter(state="published"), f"{ticket.subject}", limit=5
        )
    can_change = bool(user and may_change(user, ticket))
    links = list(FollowLink.objects.filter(ticket=ticket).order_by("-created_at")[:5]) if can_change else []
    return {
        "ticket": ticket,
        "articles": found,
        "can_send": can_change and ticket.is_open,
        "links": links,
        "csrf_token": context.get("csrf_token"),
        "request": request,
    }
