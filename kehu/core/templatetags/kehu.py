from django import forms, template

from kehu.core.masking import mask
from kehu.core.weburl import web_href

register = template.Library()


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
