"""Catalog services: categories, products, specifications, price lists and items, limits."""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from kehu.catalog import services
from kehu.catalog.models import (
    Category,
    DiscountLimit,
    PriceItem,
    PriceList,
    PriceListKind,
    PricingSettings,
    Product,
    Specification,
)
from kehu.core.exceptions import ConcurrentEditError
from kehu.core.models import AuditEntry
from kehu.customers.models import ChannelLevel
from kehu.users.roles import Role

D = Decimal


def errors(exc_info) -> dict:
    return exc_info.value.message_dict


# ---- categories ------------------------------------------------------------------------------


def test_category_paths_and_move(team):
    pumps = services.category_create(name="泵", actor=team.admin)
    centrifugal = services.category_create(name="离心泵", parent=pumps, actor=team.admin)
    deep = services.category_create(name="多级离心泵", parent=centrifugal, actor=team.admin)
    valves = services.category_create(name="阀门", actor=team.admin)
    assert pumps.path == f"{pumps.pk:04d}/"
    assert deep.path == f"{pumps.pk:04d}/{centrifugal.pk:04d}/{deep.pk:04d}/"

    services.category_move(category=centrifugal, parent=valves, actor=team.admin)
    deep.refresh_from_db()
    assert deep.path == f"{valves.pk:04d}/{centrifugal.pk:04d}/{deep.pk:04d}/"

    with pytest.raises(ValidationError) as exc:
        services.category_move(category=valves, parent=deep, actor=team.admin)
    assert errors(exc) == {"parent": ["A category cannot move under itself or one of its subcategories."]}


def test_category_names_unique_among_siblings(team):
    pumps = services.category_create(name="泵", actor=team.admin)
    with pytest.raises(ValidationError) as exc:
        services.category_create(name="泵", actor=team.admin)
    assert errors(exc) == {"name": ["There is already a category “泵” here."]}
    services.category_create(name="泵", parent=pumps, actor=team.admin)  # another level: fine


def test_category_delete_only_when_empty(team):
    pumps = services.category_create(name="泵", actor=team.admin)
    child = services.category_create(name="离心泵", parent=pumps, actor=team.admin)
    with pytest.raises(ValidationError) as exc:
        services.category_delete(category=pumps, actor=team.admin)
    assert exc.value.messages == ["“泵” has subcategories: move or delete them first."]
    product = services.product_create(actor=team.admin, code="P1", name="泵一", category=child)
    services.product_delete(product=product, actor=team.admin)
    with pytest.raises(ValidationError) as exc:
        services.category_delete(category=child, actor=team.admin)
    assert exc.value.messages == [
        "“离心泵” still holds products (perhaps in the recycle bin): move them to another category first."
    ]
    Product.objects.all().delete()
    services.category_delete(category=child, actor=team.admin)
    assert list(Category.objects.values_list("name", flat=True)) == ["泵"]


def test_category_for_path_creates_missing_levels(team):
    leaf = services.category_for_path("泵/离心泵", actor=team.admin)
    again = services.category_for_path(" 泵 / 离心泵 ", actor=team.admin)
    assert leaf == again
    assert leaf.parent.name == "泵"
    assert Category.objects.count() == 2


# ---- products --------------------------------------------------------------------------------


def test_product_without_specification_gets_a_standard_one(team):
    product = services.product_create(actor=team.admin, code="XJ-50", name="离心泵", unit="台")
    specs = list(product.specifications.values_list("code", "name"))
    assert specs == [("XJ-50", "Standard")]
    assert product.search_text == "xj-50 离心泵 xj-50 standard"
    assert AuditEntry.objects.filter(target_type="catalog.product", target_id=product.pk, action="create").exists()


def test_product_code_unique_and_required_fields(team):
    services.product_create(actor=team.admin, code="XJ-50", name="离心泵")
    with pytest.raises(ValidationError) as exc:
        services.product_create(actor=team.admin, code=" XJ-50 ", name="另一个")
    assert errors(exc) == {"code": ["The product code “XJ-50” is already used."]}
    with pytest.raises(ValidationError) as exc:
        services.product_create(actor=team.admin, code="", name="", unit="")
    assert errors(exc) == {
        "code": ["Give the product a code."],
        "name": ["Give the product a name."],
        "unit": ["Give the unit it is sold in (台, 套, 件, kg, m …)."],
    }
    with pytest.raises(ValidationError) as exc:
        services.product_create(actor=team.admin, code="X2", name="x", tax_rate="abc")
    assert errors(exc) == {"tax_rate": ["Enter a number."]}
    assert Product.objects.count() == 1


def test_product_specification_codes_unique_everywhere(team):
    services.product_create(actor=team.admin, code="A", name="甲", specifications=[{"code": "A-1", "name": "1"}])
    with pytest.raises(ValidationError) as exc:
        services.product_create(actor=team.admin, code="B", name="乙", specifications=[{"code": "A-1", "name": "1"}])
    assert errors(exc) == {"code": ["The specification code “A-1” is already used."]}
    assert not Product.objects.filter(code="B").exists()  # nothing half-written


def test_product_update_checks_version_and_keeps_search_text(team):
    product = services.product_create(actor=team.admin, code="A", name="甲")
    services.product_update(product=product, actor=team.admin, expected_version=1, name="甲型泵")
    assert Product.objects.get(pk=product.pk).search_text == "a 甲型泵 a standard"
    stale = Product.objects.get(pk=product.pk)
    stale.version = 1
    with pytest.raises(ConcurrentEditError):
        services.product_update(product=stale, actor=team.admin, expected_version=1, name="乙")
    assert Product.objects.get(pk=product.pk).name == "甲型泵"


def test_product_delete_and_restore(team):
    product = services.product_create(actor=team.admin, code="A", name="甲")
    services.product_delete(product=product, actor=team.admin)
    assert Product.objects.get(pk=product.pk).deleted_by == team.admin
    services.product_restore(product=product, actor=team.admin)
    assert Product.objects.get(pk=product.pk).deleted_at is None


def test_only_catalog_managers_write(team):
    with pytest.raises(PermissionDenied):
        services.product_create(actor=team.rep1, code="A", name="甲")
    with pytest.raises(PermissionDenied):
        services.product_create(actor=team.manager1, code="A", name="甲")
    services.product_create(actor=team.gm, code="A", name="甲")
    assert Product.objects.count() == 1


def _png(size=(4, 4)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "red").save(out, "PNG")
    return out.getvalue()


def test_product_image_type_and_size(team, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    product = services.product_create(actor=team.admin, code="A", name="甲")
    fake = SimpleUploadedFile("pump.png", b"<html>not a picture</html>", content_type="image/png")
    with pytest.raises(ValidationError) as exc:
        services.product_image_set(product=product, actor=team.admin, image=fake)
    assert errors(exc) == {"image": ["Upload a JPEG, PNG, WebP or GIF picture."]}
    big = SimpleUploadedFile("big.png", b"0" * (services.IMAGE_MAX_BYTES + 1))
    with pytest.raises(ValidationError) as exc:
        services.product_image_set(product=product, actor=team.admin, image=big)
    assert errors(exc) == {"image": ["The picture is larger than 2 MB; make it smaller."]}
    services.product_image_set(product=product, actor=team.admin, image=SimpleUploadedFile("p.png", _png()))
    assert Product.objects.get(pk=product.pk).image.name == f"products/{product.pk}.png"


# ---- specifications --------------------------------------------------------------------------


def test_specifications_keep_at_least_one(team):
    product = services.product_create(actor=team.admin, code="A", name="甲")
    only = product.specifications.get()
    with pytest.raises(ValidationError) as exc:
        services.specification_delete(specification=only, actor=team.admin)
    assert exc.value.messages == ["A product keeps at least one specification; add another before removing this one."]
    second = services.specification_create(product=product, actor=team.admin, code="A-2", name="大号")
    assert "a-2 大号" in Product.objects.get(pk=product.pk).search_text
    assert services.specification_delete(specification=only, actor=team.admin) == "deleted"
    assert list(product.specifications.all()) == [second]
    with pytest.raises(ValidationError) as exc:
        services.specification_update(specification=second, actor=team.admin, is_active=False)
    assert exc.value.messages == ["A product keeps at least one active specification."]


# ---- price lists and items -------------------------------------------------------------------


@pytest.fixture
def pump(team):
    return services.product_create(
        actor=team.admin,
        code="P-100",
        name="离心泵",
        specifications=[{"code": "P-100-A", "name": "220V"}, {"code": "P-100-B", "name": "380V"}],
    )


def test_price_list_kind_needs_its_field(team):
    with pytest.raises(ValidationError) as exc:
        services.price_list_create(
            actor=team.admin, name="二批", kind=PriceListKind.CHANNEL, valid_from=date(2026, 1, 1)
        )
    assert errors(exc) == {"channel_level": ["Choose the channel level this price list is for."]}
    with pytest.raises(ValidationError) as exc:
        services.price_list_create(actor=team.admin, name="重点", kind=PriceListKind.TIER, valid_from=date(2026, 1, 1))
    assert errors(exc) == {"tier": ["Choose the customer tier this price list is for."]}
    with pytest.raises(ValidationError) as exc:
        services.price_list_create(
            actor=team.admin, name="某客户", kind=PriceListKind.CUSTOMER, valid_from=date(2026, 1, 1)
        )
    assert errors(exc) == {"customer": ["Choose the customer this price list is for."]}
    with pytest.raises(ValidationError) as exc:
        services.price_list_create(
            actor=team.admin,
            name="目录价",
            kind=PriceListKind.LIST,
            valid_from=date(2026, 6, 1),
            valid_until=date(2026, 1, 1),
        )
    assert errors(exc) == {"valid_until": ["The end date lies before the start date."]}
    channel = services.price_list_create(
        actor=team.admin,
        name="二批",
        kind=PriceListKind.CHANNEL,
        channel_level=ChannelLevel.SUB_DEALER,
        tier="key",  # not this kind's field: dropped
        valid_from=date(2026, 1, 1),
    )
    assert (channel.channel_level, channel.tier) == ("sub_dealer", "")


def test_price_items_fixed_xor_percent_and_validity(team, pump):
    spec = pump.specifications.get(code="P-100-A")
    book = services.price_list_create(
        actor=team.admin, name="目录价", kind=PriceListKind.LIST, valid_from=date(2026, 1, 1)
    )
    with pytest.raises(ValidationError) as exc:
        services.price_item_create(price_list=book, actor=team.admin, product=pump, percent_of_list="90")
    assert errors(exc) == {"percent_of_list": ["The list price is a fixed price, not a percentage."]}
    sub = services.price_list_create(
        actor=team.admin,
        name="二批",
        kind=PriceListKind.CHANNEL,
        channel_level=ChannelLevel.SUB_DEALER,
        valid_from=date(2026, 1, 1),
        valid_until=date(2026, 12, 31),
    )
    with pytest.raises(ValidationError) as exc:
        services.price_item_create(price_list=sub, actor=team.admin, product=pump)
    assert errors(exc) == {"price": ["Give either a fixed price or a percentage of the list price."]}
    with pytest.raises(ValidationError) as exc:
        services.price_item_create(price_list=sub, actor=team.admin, product=pump, price="10", percent_of_list="90")
    assert errors(exc) == {"price": ["Give a fixed price or a percentage of the list price, not both."]}
    with pytest.raises(ValidationError) as exc:
        services.price_item_create(
            price_list=sub, actor=team.admin, product=pump, price="10", valid_from=date(2025, 12, 1)
        )
    assert errors(exc) == {"valid_from": ["The price cannot start before its price list (2026-01-01)."]}
    with pytest.raises(ValidationError) as exc:
        services.price_item_create(
            price_list=sub, actor=team.admin, product=pump, price="10", valid_until=date(2027, 1, 1)
        )
    assert errors(exc) == {"valid_until": ["The price cannot end after its price list (2026-12-31)."]}
    other = services.product_create(actor=team.admin, code="Q", name="阀")
    with pytest.raises(ValidationError) as exc:
        services.price_item_create(price_list=sub, actor=team.admin, product=other, specification=spec, price="10")
    assert errors(exc) == {"specification": ["This specification belongs to another product."]}
    services.price_item_create(price_list=sub, actor=team.admin, product=pump, percent_of_list="85")
    with pytest.raises(ValidationError) as exc:
        services.price_item_create(price_list=sub, actor=team.admin, product=pump, percent_of_list="80")
    assert errors(exc) == {
        "min_quantity": ["This list already has a price for it from this quantity; change that one instead."]
    }
    services.price_item_create(
        price_list=sub, actor=team.admin, product=pump, specification=spec, min_quantity="100", price="800"
    )
    assert PriceItem.objects.filter(price_list=sub).count() == 2


def test_list_price_list_refuses_percent_kind_change(team, pump):
    sub = services.price_list_create(
        actor=team.admin,
        name="二批",
        kind=PriceListKind.CHANNEL,
        channel_level=ChannelLevel.SUB_DEALER,
        valid_from=date(2026, 1, 1),
    )
    services.price_item_create(price_list=sub, actor=team.admin, product=pump, percent_of_list="85")
    with pytest.raises(ValidationError) as exc:
        services.price_list_update(price_list=sub, actor=team.admin, expected_version=1, kind=PriceListKind.LIST)
    assert errors(exc) == {"kind": ["A list-price list holds fixed prices only; its items use percentages."]}
    assert PriceList.objects.get(pk=sub.pk).kind == "channel"


# ---- limits and settings ---------------------------------------------------------------------


def test_discount_limits_and_floor_approvers(team):
    services.discount_limits_set(actor=team.admin, limits={Role.SALES_REP: "5", Role.SALES_MANAGER: "15"})
    services.discount_limits_set(actor=team.admin, limits={Role.SALES_REP: "6", Role.SALES_MANAGER: None})
    assert dict(DiscountLimit.objects.values_list("role", "max_discount")) == {"sales_rep": D("6.00")}
    with pytest.raises(ValidationError) as exc:
        services.discount_limits_set(actor=team.admin, limits={Role.SALES_REP: "120"})
    assert errors(exc) == {"sales_rep": ["A discount lies between 0 and 100%."]}
    with pytest.raises(ValidationError) as exc:
        services.pricing_settings_update(actor=team.admin, floor_approver_roles=[])
    assert errors(exc) == {
        "floor_approver_roles": ["Name at least one role, or no price below a floor could ever be approved."]
    }
    services.pricing_settings_update(actor=team.admin, floor_approver_roles=[Role.GENERAL_MANAGER, Role.ADMINISTRATOR])
    assert PricingSettings.load().floor_approver_roles == ["general_manager", "administrator"]
    with pytest.raises(PermissionDenied):
        services.discount_limits_set(actor=team.manager1, limits={Role.SALES_REP: "50"})
    assert DiscountLimit.objects.get(role=Role.SALES_REP).max_discount == D("6.00")


def test_spec_count_is_kept(team, pump):
    assert Specification.objects.filter(product=pump).count() == 2


def test_a_quoted_specification_is_switched_off_rather_than_deleted(team, customer_of):
    from datetime import date

    from kehu.quotes.models import Quote, QuoteLine

    product = services.product_create(
        actor=team.admin,
        code="A",
        name="甲",
        specifications=[{"code": "A-1", "name": "小"}, {"code": "A-2", "name": "大"}],
    )
    quoted, other = product.specifications.order_by("code")
    customer = customer_of(team.rep1)
    quote = Quote.objects.create(number="Q-1", customer=customer, owner=team.rep1, valid_until=date(2030, 1, 1))
    QuoteLine.objects.create(
        quote=quote, position=1, customer=customer, product=product, specification=quoted, code="A-1", name="甲",
        unit="台", quantity=1, base_price=10, unit_price=10, tax_rate=13, amount=10, amount_net=8.85, tax=1.15,
    )  # fmt: skip
    assert services.specification_delete(specification=quoted, actor=team.admin) == "deactivated"
    assert Specification.objects.get(pk=quoted.pk).is_active is False
    with pytest.raises(ValidationError) as exc:
        services.specification_delete(specification=other, actor=team.admin)
    assert exc.value.messages == ["A product keeps at least one active specification."]
