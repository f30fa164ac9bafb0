"""get_<field>_display() with the choices table built once per field (kehu.core.choice_labels)."""

from django.utils import translation

from kehu.customers.models import Customer


def test_labels_in_the_active_language():
    customer = Customer(industry="machinery", tier="key")
    with translation.override("en"):
        assert (customer.get_industry_display(), customer.get_tier_display()) == ("Machinery & equipment", "Key")
    with translation.override("zh-hans"):
        assert (customer.get_industry_display(), customer.get_tier_display()) == ("机械设备", "重点客户")


def test_a_value_without_a_choice_is_shown_as_it_is():
    assert Customer(industry="").get_industry_display() == ""
    assert Customer(industry="unknown").get_industry_display() == "unknown"
    assert Customer(tier=None).get_tier_display() is None


def test_every_field_with_choices_has_ours():
    from django.apps import apps

    fields = [
        (model, field)
        for model in apps.get_models(include_auto_created=True)
        for field in model._meta.concrete_fields
        if field.choices is not None
    ]
    assert len(fields) > 100
    for model, field in fields:
        assert getattr(model, f"get_{field.name}_display").__qualname__.startswith("_display"), (model, field)
