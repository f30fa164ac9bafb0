import unicodedata

from django import forms, template
from django.template.loader import render_to_string
from django.urls import get_script_prefix
from django.utils.translation import get_language

from kehu.core.masking import mask
from kehu.core.weburl import web_href

register = template.Library()

_MENUS: dict[tuple, str] = {}


@register.simple_tag(takes_context=True)
def main_menu(context):
    """The main menu, rendered once per distinct menu (what the person may open, the page, the
    language): most pages show one of a few dozen, and its template cost about 1 ms a page."""
    menu = context.get("menu")
    if not menu:
        return ""
    key = (get_language(), get_script_prefix(), menu["signature"])
    if (html := _MENUS.get(key)) is None:
        if len(_MENUS) >= 500:  # ~5 KB each
            _MENUS.clear()
        html = _MENUS[key] = render_to_string("core/_main_menu.html", {"menu": menu})
    return html


@register.filter
def styled(field):
    """Render a bound field's widget with Tabler's classes (and the error state)."""
    widget = field.field.widget
    if isinstance(widget, (forms.CheckboxInput,)):
        css = "form-check-input"
    elif isinstance(widget, (forms.Select, forms.SelectMultiple)):
        css = "form-select"
    else:
        css = "form-control"
    if field.errors:
        css += " is-invalid"
    return field.as_widget(attrs={"class": css})


@register.filter
def is_checkbox(field):
    return isinstance(field.field.widget, forms.CheckboxInput)


@register.filter
def is_choice_list(field):
    """Check boxes or radio buttons, one per choice: drawn as a labelled group, not one input."""
    return isinstance(field.field.widget, forms.RadioSelect)  # CheckboxSelectMultiple is one too


@register.filter(name="mask")
def mask_filter(value):
    return mask(value)


@register.filter(name="web_href")
def web_href_filter(value):
    """The address a link may point to: http(s) only, else "" (show the text without a link)."""
    return web_href(value)


@register.filter
def tel_href(value) -> str:
    """A number as a tel: link a phone dials: "+86 571 8812-3456 转 8" → "tel:+865718812345;ext=8"."""
    text = unicodedata.normalize("NFKC", str(value or ""))
    main, _sep, ext = text.partition("转") if "转" in text else text.lower().partition("ext")
    digits = "".join(ch for ch in main if ch in "0123456789")
    if main.strip().startswith("+"):
        digits = "+" + digits
    ext_digits = "".join(ch for ch in ext if ch in "0123456789")
    return f"tel:{digits}" + (f";ext={ext_digits}" if ext_digits else "")


@register.inclusion_tag("core/_open_service.html", takes_context=True)
def open_service(context, customer_id):
    """The customer's open tickets and complaints, above a sales view of it ("my earlier purchase is
    still broken and you come selling again"); links only where the reader may follow them."""
    from kehu.core import lookups

    user = context["request"].user
    items = lookups.ask_items(lookups.OPEN_SERVICE, [customer_id]).get(customer_id, []) if customer_id else []
    return {"items": [(item, not item.perm or user.has_perm(item.perm)) for item in items]}
