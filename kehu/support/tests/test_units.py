"""The installed base: units entered by hand and registered from a confirmed order's lines;
validation, visibility through the customer, permissions (a denied write changes nothing)."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from kehu.core.models import AuditEntry
from kehu.customers.models import TimelineEntry
from kehu.support import setup_services as setup
from kehu.support.models import InstalledUnit
from kehu.support.tests.setup_fixtures import book, confirmed_order, customer, custrep  # noqa: F401


def test_warranty_months_end_the_day_before(db):
    assert setup.warranty_until(date(2026, 3, 1), 12) == date(2027, 2, 28)
    assert setup.warranty_until(date(2026, 1, 31), 1) == date(2026, 2, 27)
    assert setup.warranty_until(date(2026, 12, 6), 24) == date(2028, 12, 5)


def test_a_unit_is_entered_with_audit_and_a_timeline_entry(team, book, customer):  # noqa: F811
    unit = setup.unit_create(
        actor=team.service1,
        customer=customer,
        product=book.lathe,
        specification=book.lathe_a,
        serial_number=" SN-001 ",
        warranty_starts_on=date(2026, 1, 1),
        warranty_ends_on=date(2026, 12, 31),
    )
    assert unit.serial_number == "SN-001"
    assert unit.under_warranty(date(2026, 6, 1)) and not unit.under_warranty(date(2027, 1, 1))
    assert AuditEntry.objects.get(target_type="support.installedunit").action == "create"
    assert TimelineEntry.objects.filter(customer=customer, kind="unit_registered").count() == 1


def test_unit_rules(team, book, customer):  # noqa: F811
    setup.unit_create(actor=team.service1, customer=customer, product=book.lathe, serial_number="SN-1")

    def attempt(**fields):
        with pytest.raises(ValidationError) as e:
            setup.unit_create(actor=team.service1, customer=customer, **{"product": book.lathe, **fields})
        return e.value.message_dict

    assert attempt(serial_number="SN-1") == {
        "serial_number": ["Serial number SN-1 is registered for this product already."]
    }
    assert attempt(specification=book.oil_46) == {"specification": ["This specification belongs to another product."]}
    assert attempt(warranty_starts_on=date(2026, 5, 1), warranty_ends_on=date(2026, 4, 30)) == {
        "warranty_ends_on": ["The warranty cannot end before it starts."]
    }
    # The same serial number on another product is another unit.
    setup.unit_create(actor=team.service1, customer=customer, product=book.oil, serial_number="SN-1")
    assert InstalledUnit.objects.count() == 2


def test_units_from_an_order_with_serials_and_warranty(team, confirmed_order):  # noqa: F811
    lathe_line, oil_line = confirmed_order.lines.order_by("position")
    created = setup.units_from_order(
        actor=team.service1,
        order=confirmed_order,
        lines=[setup.LineUnits(lathe_line, ["L-1", "", "L-3"]), setup.LineUnits(oil_line, ["OIL-1"])],
        installed_on=date(2026, 12, 1),
        warranty_months=18,
    )
    assert [(u.specification.code, u.serial_number) for u in created] == [
        ("CK6140-A", "L-1"),
        ("CK6140-A", ""),
        ("CK6140-A", "L-3"),
        ("YY-46-200L", "OIL-1"),
    ]
    assert {(u.warranty_starts_on, u.warranty_ends_on, u.order_line_id) for u in created[:3]} == {
        (date(2026, 12, 1), date(2028, 5, 31), lathe_line.pk)
    }
    # 2.5 barrels: two whole units; one registered, one more at most. Three lathes: all registered.
    with pytest.raises(ValidationError) as e:
        setup.units_from_order(
            actor=team.service1,
            order=confirmed_order,
            lines=[setup.LineUnits(oil_line, ["OIL-2", "OIL-3"]), setup.LineUnits(lathe_line, ["L-4"])],
        )
    assert e.value.messages == [
        "Line 2 (YY-46-200L): at most 1 more units can be registered.",
        "Line 1 (CK6140-A): at most 0 more units can be registered.",
    ]
    assert InstalledUnit.objects.count() == 4


def test_from_an_order_is_all_or_nothing(team, confirmed_order):  # noqa: F811
    lathe_line, oil_line = confirmed_order.lines.order_by("position")
    with pytest.raises(ValidationError) as e:
        setup.units_from_order(
            actor=team.service1,
            order=confirmed_order,
            lines=[setup.LineUnits(oil_line, ["X-1"]), setup.LineUnits(lathe_line, ["L-1", "L-1"])],
        )
    assert e.value.messages == ["Line 1 (CK6140-A): Serial number L-1 is registered for this product already."]
    assert InstalledUnit.objects.count() == 0


def test_a_draft_order_registers_nothing(team, book, customer):  # noqa: F811
    from kehu.orders.tests.factories import make_order

    draft = make_order(customer, team.rep1, [(book.lathe_a.pk, 1)])
    with pytest.raises(ValidationError) as e:
        setup.units_from_order(actor=team.service1, order=draft, lines=[setup.LineUnits(draft.lines.get(), ["A"])])
    assert e.value.messages == ["Only a confirmed or completed order's products can be registered."]


@pytest.mark.parametrize("username", ["rep1", "manager1", "marketing1"])
def test_who_may_not_add_units_adds_none(team, book, customer, username):  # noqa: F811
    with pytest.raises(PermissionDenied):
        setup.unit_create(actor=getattr(team, username), customer=customer, product=book.lathe)
    assert InstalledUnit.objects.count() == 0


# ---- pages ---------------------------------------------------------------------------------------


@pytest.fixture
def unit(team, book, customer):  # noqa: F811
    return setup.unit_create(
        actor=team.service1, customer=customer, product=book.lathe, specification=book.lathe_a, serial_number="SN-9"
    )


def test_the_customers_units_page(client, team, unit, customer, django_assert_max_num_queries):  # noqa: F811
    for n in range(5):
        setup.unit_create(actor=team.service1, customer=customer, product=unit.product, serial_number=f"X-{n}")
    client.force_login(team.service1)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("support:unit-list"), {"customer": customer.pk})
    html = page.content.decode()
    assert page.status_code == 200
    assert "SN-9" in html and "X-4" in html and "6 units" in html
    assert f'href="/service/units/{unit.pk}/edit/"' in html
    assert (
        client.get(reverse("support:unit-list"), {"customer": customer.pk, "q": "SN-"}).content.decode().count("/edit/")
        == 1
    )


def test_units_follow_the_customers_visibility(client, team, unit, customer):  # noqa: F811
    client.force_login(team.rep3)  # another department: the customer is not theirs
    assert client.get(reverse("support:unit-list"), {"customer": customer.pk}).status_code == 404
    assert "SN-9" not in client.get(reverse("support:unit-list")).content.decode()
    client.force_login(team.rep1)  # the owner reads the units, changes none
    assert "SN-9" in client.get(reverse("support:unit-list"), {"customer": customer.pk}).content.decode()
    assert client.get(reverse("support:unit-edit", args=[unit.pk])).status_code == 403
    response = client.post(reverse("support:unit-edit", args=[unit.pk]), {"code": "CK6140-A", "serial_number": "Z"})
    assert response.status_code == 403
    unit.refresh_from_db()
    assert unit.serial_number == "SN-9"


def test_anonymous_visitors_are_sent_to_sign_in(client, unit, customer):  # noqa: F811
    response = client.get(reverse("support:unit-list"), {"customer": customer.pk})
    assert response.status_code == 302 and "/login/" in response["Location"]
    response = client.post(reverse("support:unit-new") + f"?customer={customer.pk}", {"code": "CK6140-A"})
    assert response.status_code == 302 and InstalledUnit.objects.count() == 1


def test_a_unit_is_added_and_edited_through_the_form(client, team, book, customer):  # noqa: F811
    client.force_login(team.service1)
    url = reverse("support:unit-new") + f"?customer={customer.pk}"
    assert 'list="spec-options"' in client.get(url).content.decode()
    bad = client.post(url, {"code": "NOPE", "warranty_starts_on": "2026-05-01", "warranty_ends_on": "2026-04-01"})
    assert "No product in the catalog has the code NOPE." in bad.content.decode()
    assert "The warranty cannot end before it starts." in bad.content.decode()
    ok = client.post(url, {"code": "CK6140-B", "serial_number": "B-1", "installed_on": "2026-11-02"})
    assert ok.status_code == 302
    unit = InstalledUnit.objects.get()
    assert (unit.specification, unit.product, unit.installed_on) == (book.lathe_b, book.lathe, date(2026, 11, 2))
    again = client.post(url, {"code": "CK6140-A", "serial_number": "B-1"})
    assert "Serial number B-1 is registered for this product already." in again.content.decode()
    edit = client.post(reverse("support:unit-edit", args=[unit.pk]), {"code": "CK6140-A", "serial_number": "B-2"})
    assert edit.status_code == 302
    unit.refresh_from_db()
    assert (unit.specification, unit.serial_number) == (book.lathe_a, "B-2")


def test_the_typeahead_lists_catalog_codes(client, team, book):  # noqa: F811
    client.force_login(team.service1)
    html = client.get(reverse("support:unit-spec-options"), {"code": "CK61"}).content.decode()
    assert html.count("<option") == 2 and 'value="CK6140-A"' in html


def test_registering_units_from_an_order_page(client, team, confirmed_order, custrep):  # noqa: F811
    lathe_line, oil_line = confirmed_order.lines.order_by("position")
    url = reverse("support:units-from-order", args=[confirmed_order.pk])
    client.force_login(custrep)  # the customer is not theirs
    assert client.get(url).status_code == 404
    client.force_login(team.service1)
    html = client.get(url).content.decode()
    assert html.count('name="serial-') == 5  # 3 lathes, 2 whole barrels
    data = {
        "warranty_months": "12",
        "installed_on": "2026-12-01",
        f"line-{lathe_line.pk}": "on",
        f"serial-{lathe_line.pk}-1": "L-1",
        f"serial-{lathe_line.pk}-2": "L-1",
    }
    bad = client.post(url, data)
    assert "Nothing was registered." in bad.content.decode()
    assert 'value="L-1"' in bad.content.decode()  # what was typed stays
    assert InstalledUnit.objects.count() == 0
    data[f"serial-{lathe_line.pk}-2"] = "L-2"
    assert client.post(url, data).status_code == 302
    assert sorted(InstalledUnit.objects.values_list("serial_number", flat=True)) == ["", "L-1", "L-2"]
    assert set(InstalledUnit.objects.values_list("warranty_ends_on", flat=True)) == {date(2027, 11, 30)}
    html = client.get(url).content.decode()
    assert html.count('name="serial-') == 2 and "Every unit of this line is registered." in html


def test_who_may_not_register_units_from_an_order_changes_nothing(client, team, confirmed_order):  # noqa: F811
    line = confirmed_order.lines.order_by("position").first()
    client.force_login(team.rep1)  # sees the order's customer, may not add units
    url = reverse("support:units-from-order", args=[confirmed_order.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"warranty_months": "12", f"line-{line.pk}": "on"}).status_code == 403
    assert InstalledUnit.objects.count() == 0
