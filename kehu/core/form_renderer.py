"""The form renderer: Django's, with the commonest widget templates written out in Python.

Every `<select>` and `<input>` went through the template engine, an include per option and per
attribute list: the customer list's four filter menus took about 1.3 ms of each page. These
functions give the same HTML, byte for byte (kehu/core/tests/test_form_renderer.py compares them
with Django's templates); any other template is rendered by Django as before.
"""

from django.forms.renderers import DjangoTemplates
from django.template import Context
from django.template.base import render_value_in_context
from django.utils.html import escape
from django.utils.safestring import SafeData

WIDGETS = "django/forms/widgets/"
INPUTS = {
    f"{WIDGETS}{name}.html"
    for name in (
        "input",
        "text",
        "number",
        "email",
        "url",
        "password",
        "hidden",
        "date",
        "datetime",
        "time",
        "search",
        "tel",
        "color",
        "checkbox",
        "file",
    )
}
SELECT = f"{WIDGETS}select.html"
OPTION = f"{WIDGETS}select_option.html"
_PLAIN = Context()  # autoescape on, localisation as the settings say: as in Django's own templates


def _formatted(value) -> str:
    """`{{ value|stringformat:'s' }}`: the text of the value, escaped unless already safe."""
    text = "%s" % (str(value) if isinstance(value, tuple) else value)
    return text if isinstance(value, SafeData) else escape(text)


def _shown(value) -> str:
    """`{{ value }}`: localised and escaped."""
    return render_value_in_context(value, _PLAIN)


def _attrs(attrs: dict) -> str:
    return "".join(
        f" {escape(name)}" if value is True else f' {escape(name)}="{_formatted(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def _input(widget: dict) -> str:
    value = f' value="{_formatted(widget["value"])}"' if widget["value"] is not None else ""
    return f'<input type="{_shown(widget["type"])}" name="{_shown(widget["name"])}"{value}{_attrs(widget["attrs"])}>'


def _select(widget: dict) -> str:
    parts = [f'<select name="{_shown(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_shown(group_name)}">')
        for option in options:
            parts.append(
                f'\n  <option value="{_formatted(option["value"])}"{_attrs(option["attrs"])}>'
                f"{_shown(option['label'])}</option>\n"
            )
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


def _plain_options(widget: dict) -> bool:
    return all(
        option["template_name"] == OPTION for _name, options, _index in widget["optgroups"] for option in options
    )


class FormRenderer(DjangoTemplates):
    def render(self, template_name, context, request=None):
        widget = context.get("widget")
        if widget is not None:
            if template_name in INPUTS:
                return _input(widget)
            if template_name == SELECT and _plain_options(widget):
                return _select(widget)
        return super().render(template_name, context, request)
