"""Kehu's form renderer writes <select> and <input> in Python: the HTML must be Django's, byte for byte."""

import datetime
from decimal import Decimal

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from kehu.core.form_renderer import FormRenderer

WIDGETS = [
    ("text, no value", forms.TextInput(), None),
    ("text with markup and quotes", forms.TextInput(attrs={"placeholder": 'a "b" <c>'}), "x < y & \"z\" 'w'"),
    ("text, safe value", forms.TextInput(), mark_safe("<b>kept</b>")),
    ("text, empty string", forms.TextInput(attrs={"required": True, "disabled": False}), ""),
    ("number", forms.NumberInput(attrs={"min": 0, "step": Decimal("0.01")}), Decimal("1234.50")),
    ("number, zero", forms.NumberInput(), 0),
    ("email", forms.EmailInput(attrs={"autocomplete": "email"}), "wang@example.cn"),
    ("url", forms.URLInput(), "https://example.cn/?a=1&b=2"),
    ("password", forms.PasswordInput(render_value=True), "s3cret"),
    ("hidden", forms.HiddenInput(), 7),
    ("date", forms.DateInput(attrs={"type": "date"}), datetime.date(2026, 12, 7)),
    ("datetime", forms.DateTimeInput(), datetime.datetime(2026, 12, 7, 9, 30)),
    ("time", forms.TimeInput(), datetime.time(14, 5)),
    ("checkbox, on", forms.CheckboxInput(attrs={"class": "form-check-input"}), True),
    ("checkbox, off", forms.CheckboxInput(), False),
    ("file", forms.FileInput(attrs={"accept": ".xlsx,.csv"}), None),
    ("select", forms.Select(choices=[("", "—"), ("A", "A 级"), ("b&c", 'B "& C"')]), "b&c"),
    ("select, lazy labels", forms.Select(choices=[("en", gettext_lazy("English")), ("x", gettext_lazy("Name"))]), "x"),
    ("select, numbers", forms.Select(choices=[(1, 1000), (2, Decimal("2.5")), (3, datetime.date(2026, 1, 2))]), 2),
    (
        "select, groups",
        forms.Select(choices=[("East", [("sh", "上海"), ("hz", "杭州")]), ("West", [("cd", "成都")]), ("x", "other")]),
        "hz",
    ),
    ("select multiple", forms.SelectMultiple(choices=[(1, "one"), (2, "two"), (3, "three")]), [1, 3]),
    ("null boolean", forms.NullBooleanSelect(), None),
    ("null boolean, yes", forms.NullBooleanSelect(), True),
]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize(("widget", "value"), [w[1:] for w in WIDGETS], ids=[w[0] for w in WIDGETS])
def test_same_html_as_djangos_templates(widget, value, language):
    attrs = {"id": "id_field", "class": "form-control"}
    with translation.override(language):
        ours = widget.render("field", value, attrs=attrs, renderer=FormRenderer())
        djangos = widget.render("field", value, attrs=attrs, renderer=DjangoTemplates())
    assert ours == djangos


def test_the_faster_paths_are_taken():
    """The comparison above must compare our code with Django's, not Django's with itself."""
    calls = []

    class Watching(FormRenderer):
        def get_template(self, template_name):
            calls.append(template_name)
            return super().get_template(template_name)

    forms.Select(choices=[("a", "A")]).render("f", "a", renderer=Watching())
    forms.TextInput().render("f", "x", renderer=Watching())
    forms.Textarea().render("f", "x", renderer=Watching())
    assert calls == ["django/forms/widgets/textarea.html"]


def test_a_whole_form_of_the_project(rf, django_user_model):
    from kehu.customers.forms import CustomerFilterForm

    form = CustomerFilterForm({"tier": "A", "q": "<script>"})
    form.is_valid()
    for name in form.fields:
        widget = form[name].field.widget
        args = (form[name].html_name, form[name].value())
        assert widget.render(*args, renderer=FormRenderer()) == widget.render(*args, renderer=DjangoTemplates()), name
