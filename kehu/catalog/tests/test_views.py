"""Catalog pages: who may open and change what (a denied write changes nothing), the forms, the
price book's inline items, the settings page, the price check and the typeahead."""

import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from kehu.catalog import services
from kehu.catalog.models import DiscountLimit, PriceItem, PricingSettings, Product, Specification
from kehu.users.roles import Role

D = Decimal
PAGES = [
    ("catalog:product-list", None),
    ("catalog:product-detail", "pump"),
    ("catalog:category-list", None),
    ("catalog:pricelist-list", None),
    ("catalog:pricelist-detail", "sub"),
    ("catalog:price-check", None),
]
MANAGE_PAGES = [
    ("catalog:product-create", None),
    ("catalog:product-edit", "pump"),
    ("catalog:pricelist-create", None),
    ("catalog:pricelist-edit", "sub"),
    ("catalog:pricing-settings", None),
    ("catalog:recycle-bin", None),
]


def url(book, name, record):
    return reverse(name, args=[getattr(book, record).pk]) if record else reverse(name)


@pytest.mark.parametrize(("name", "record"), PAGES + MANAGE_PAGES)
def test_anonymous_visitors_are_sent_to_log_in(client, book, name, record):
    response = client.get(url(book, name, record))
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


@pytest.mark.parametrize("username", ["rep1", "manager1", "service1", "admin"])
@pytest.mark.parametrize(("name", "record"), PAGES)
def test_everyone_who_works_with_customers_reads_the_catalog(client, team, book, username, name, record):
    client.force_login(getattr(team, username))
    assert client.get(url(book, name, record)).status_code == 200


@pytest.mark.parametrize("username", ["rep1", "manager1"])
@pytest.mark.parametrize(("name", "record"), MANAGE_PAGES)
def test_only_catalog_managers_open_the_forms(client, team, book, username, name, record):
    client.force_login(getattr(team, username))
    assert client.get(url(book, name, record)).status_code == 403


@pytest.mark.parametrize("username", ["admin", "gm"])
@pytest.mark.parametrize(("name", "record"), MANAGE_PAGES)
def test_catalog_managers_open_the_forms(client, team, book, username, name, record):
    client.force_login(getattr(team, username))
    assert client.get(url(book, name, record)).status_code == 200


def snapshot():
    return (
        list(Product.objects.order_by("pk").values_list("code", "name", "deleted_at", "version")),
        list(Specification.objects.order_by("pk").values_list("code", "name", "is_active")),
        list(PriceItem.objects.order_by("pk").values_list("price", "percent_of_list")),
        list(DiscountLimit.objects.values_list("role", "max_discount")),
    )


@pytest.mark.parametrize("username", ["rep1", "manager1"])
def test_a_denied_write_changes_nothing(client, team, book, username):
    client.force_login(getattr(team, username))
    before = snapshot()
    item = PriceItem.objects.filter(price_list=book.sub).first()
    posts = [
        (
            reverse("catalog:product-create"),
            {"code": "NEW", "name": "新", "unit": "台", "status": "active", "tax_rate": "13.00"},
        ),
        (
            reverse("catalog:product-edit", args=[book.pump.pk]),
            {"code": "IS", "name": "改名", "unit": "台", "status": "active", "tax_rate": "13.00"},
        ),
        (reverse("catalog:product-delete", args=[book.pump.pk]), {}),
        (reverse("catalog:spec-create", args=[book.pump.pk]), {"code": "IS-200", "name": "大"}),
        (reverse("catalog:spec-delete", args=[book.is50.pk]), {}),
        (reverse("catalog:item-add", args=[book.sub.pk]), {"code": "IS-50", "min_quantity": "1", "price": "1"}),
        (reverse("catalog:item-delete", args=[item.pk]), {}),
        (reverse("catalog:pricing-settings"), {"limit_sales_rep": "50", "floor_approver_roles": ["sales_rep"]}),
        (reverse("catalog:category-list"), {"name": "新类"}),
        (reverse("catalog:category-delete", args=[book.valves.pk]), {}),
    ]
    for path, data in posts:
        assert client.post(path, data).status_code == 403, path
    assert snapshot() == before


def test_a_manager_creates_edits_deletes_and_restores_a_product(client, team, book):
    client.force_login(team.admin)
    response = client.post(
        reverse("catalog:product-create"),
        {
            "code": "CDL",
            "name": "立式多级泵",
            "category": book.pumps.pk,
            "unit": "台",
            "status": "active",
            "tax_rate": "13.00",
            "floor_price": "3000",
            "specifications": "CDL-4, CDL4-10\nCDL-8，CDL8-12",
        },
    )
    product = Product.objects.get(code="CDL")
    assert response.status_code == 302 and response.url == reverse("catalog:product-detail", args=[product.pk])
    assert list(product.specifications.values_list("code", "name")) == [("CDL-4", "CDL4-10"), ("CDL-8", "CDL8-12")]
    response = client.post(
        reverse("catalog:product-create"),
        {"code": "CDL", "name": "重复", "unit": "台", "status": "active", "tax_rate": "13.00"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {"code": ["The product code “CDL” is already used."]}
    response = client.post(
        reverse("catalog:product-edit", args=[product.pk]),
        {"code": "CDL", "name": "CDL 立式多级泵", "unit": "台", "status": "active", "tax_rate": "9.00", "version": "1"},
    )
    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.name, product.tax_rate, product.version) == ("CDL 立式多级泵", D("9.00"), 2)
    stale = client.post(
        reverse("catalog:product-edit", args=[product.pk]),
        {"code": "CDL", "name": "旧版本", "unit": "台", "status": "active", "tax_rate": "9.00", "version": "1"},
    )
    assert stale.status_code == 200 and "Someone else changed this record" in stale.content.decode()
    client.post(reverse("catalog:product-delete", args=[product.pk]))
    assert client.get(reverse("catalog:product-detail", args=[product.pk])).status_code == 404
    assert "CDL" in client.get(reverse("catalog:recycle-bin")).content.decode()
    client.post(reverse("catalog:product-restore", args=[product.pk]))
    assert client.get(reverse("catalog:product-detail", args=[product.pk])).status_code == 200


def test_a_picture_that_is_not_one_leaves_no_product_behind(client, team, book, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    client.force_login(team.admin)
    response = client.post(
        reverse("catalog:product-create"),
        {
            "code": "PIC",
            "name": "带图产品",
            "unit": "台",
            "status": "active",
            "tax_rate": "13.00",
            "image": SimpleUploadedFile("a.png", b"not a picture"),
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {"image": ["Upload a JPEG, PNG, WebP or GIF picture."]}
    assert not Product.objects.filter(code="PIC").exists()


def test_prices_are_added_and_removed_inline(client, team, book):
    client.force_login(team.admin)
    add = reverse("catalog:item-add", args=[book.sub.pk])
    response = client.post(add, {"code": "IS-50", "min_quantity": "50", "price": "2100"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="item-table"' in html and "<html" not in html and "¥2,100.00" in html
    item = PriceItem.objects.get(price_list=book.sub, specification=book.is50)
    assert (item.min_quantity, item.price) == (D("50.000"), D("2100.0000"))
    response = client.post(
        add, {"code": "IS-50", "min_quantity": "60", "price": "1", "percent_of_list": "80"}, HTTP_HX_REQUEST="true"
    )
    assert "Give a fixed price or a percentage of the list price, not both." in response.content.decode()
    response = client.post(add, {"code": "NOPE", "min_quantity": "1", "price": "1"}, HTTP_HX_REQUEST="true")
    assert "No specification or product has the code “NOPE”." in response.content.decode()
    response = client.post(reverse("catalog:item-delete", args=[item.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and not PriceItem.objects.filter(pk=item.pk).exists()


def test_filtering_the_items_by_product(client, team, book):
    client.force_login(team.rep1)
    html = client.get(reverse("catalog:pricelist-detail", args=[book.list.pk]), {"q": "D71"}).content.decode()
    assert "对夹蝶阀" in html and "单级离心泵" not in html


def test_the_settings_page_saves_limits_and_floor_approvers(client, team, book):
    client.force_login(team.admin)
    response = client.post(
        reverse("catalog:pricing-settings"),
        {
            "limit_sales_rep": "5",
            "limit_sales_manager": "15",
            "limit_general_manager": "30",
            "floor_approver_roles": ["general_manager", "administrator"],
        },
    )
    assert response.status_code == 302
    assert dict(DiscountLimit.objects.values_list("role", "max_discount")) == {
        Role.SALES_REP: D("5.00"),
        Role.SALES_MANAGER: D("15.00"),
        Role.GENERAL_MANAGER: D("30.00"),
    }
    assert PricingSettings.load().floor_approver_roles == ["general_manager", "administrator"]
    html = client.get(reverse("catalog:pricing-settings")).content.decode()
    assert 'value="15"' in html
    response = client.post(reverse("catalog:pricing-settings"), {"limit_sales_rep": "120"})
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "floor_approver_roles": ["This field is required."],
        "limit_sales_rep": ["Ensure this value is less than or equal to 100."],
    }


def test_the_price_check_answers_a_reps_question(client, team, book):
    services.discount_limits_set(actor=team.admin, limits={Role.SALES_REP: "5"})
    client.force_login(team.rep1)
    page = reverse("catalog:price-check")
    response = client.get(page, {"customer": book.dealer.name, "code": "IS-50", "quantity": "25"})
    result = response.context["result"]
    assert result["resolved"].price == D("2278.00")  # 85% of 2680 from 20 units
    assert result["resolved"].source == "二批价目表, from 20 台 (85% of the list price)"
    assert result["limit"] == D("5.00")
    assert result["lowest"] == D("2164.10")  # 5% off, above the 2000 floor
    html = response.content.decode()
    assert "¥2,278.00" in html and "二批价目表, from 20 台" in html
    # Another rep's customer is not this rep's to ask about.
    response = client.get(page, {"customer": book.other.name, "code": "IS-50", "quantity": "1"})
    assert response.context["result"] is None
    assert response.context["form"].errors == {"customer": ["No customer of yours is called “广州南方机电有限公司”."]}
    response = client.get(page, {"customer": book.dealer.pk, "code": "XX", "quantity": "1"})
    assert response.context["form"].errors == {"code": ["No specification has the code “XX”."]}


def test_the_price_check_falls_to_the_floor(client, team, book):
    services.discount_limits_set(actor=team.admin, limits={Role.SALES_REP: "30"})
    client.force_login(team.rep1)
    response = client.get(
        reverse("catalog:price-check"), {"customer": book.dealer.pk, "code": "IS-50", "quantity": "1"}
    )
    assert response.context["result"]["lowest"] == D("2000")


def test_the_typeahead_answers_json_and_htmx(client, team, book):
    client.force_login(team.rep1)
    data = client.get(reverse("catalog:spec-search"), {"q": "IS-5"}).json()
    assert data == {
        "items": [
            {
                "id": book.is50.pk,
                "code": "IS-50",
                "name": "单级离心泵",
                "specification": "IS50-32-160",
                "unit": "台",
                "list_price": "2680.0000",
                "product_id": book.pump.pk,
                "product_code": "IS",
            }
        ]
    }
    html = client.get(reverse("catalog:spec-search"), {"q": "蝶阀"}, HTTP_HX_REQUEST="true").content.decode()
    assert 'data-code="D71"' in html and "¥420.00" in html


def test_the_product_list_page_runs_a_fixed_number_of_queries(client, team, book, django_assert_max_num_queries):
    for n in range(30):
        services.product_create(actor=team.admin, code=f"X{n:02d}", name=f"产品{n}", category=book.valves)
    client.force_login(team.rep1)
    client.get(reverse("catalog:product-list"))
    # session, user, categories, count, page, specifications, their products, list prices, the bell
    with django_assert_max_num_queries(10):
        response = client.get(reverse("catalog:product-list"))
    assert len(response.context["page"].rows) == 25


def test_the_export_downloads_one_row_per_specification(client, team, book):
    # Costs and floor prices are in the file: managers export, reps do not (ADR 0007).
    client.force_login(team.rep1)
    assert client.get(reverse("catalog:product-export"), {"format": "xlsx"}).status_code == 403
    client.force_login(team.manager1)
    response = client.get(reverse("catalog:product-export"), {"format": "xlsx", "q": "IS"})
    assert response["Content-Disposition"].startswith('attachment; filename="products-')
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0][:3] == ["Product code", "Product name", "Category"]
    assert [r[5] for r in rows[1:]] == ["IS-50", "IS-80", "IS-100"]
    assert rows[1][2] == "泵/离心泵" and rows[1][7] == "2680"


def test_categories_page_adds_and_refuses_to_delete_a_full_one(client, team, book):
    client.force_login(team.admin)
    client.post(reverse("catalog:category-list"), {"name": "潜水泵", "parent": book.pumps.pk})
    html = client.get(reverse("catalog:category-list")).content.decode()
    assert "潜水泵" in html
    response = client.post(reverse("catalog:category-delete", args=[book.valves.pk]), follow=True)
    assert "“阀门” still holds products" in response.content.decode()


def test_a_customers_own_prices_are_seen_by_who_sees_the_customer(client, team, book):
    from datetime import date

    own = services.price_list_create(
        actor=team.admin, name="宏远协议价", kind="customer", customer=book.dealer, valid_from=date(2020, 1, 1)
    )
    services.price_item_create(
        price_list=own, actor=team.admin, product=book.pump, specification=book.is50, price=D("2100")
    )
    detail = reverse("catalog:product-detail", args=[book.pump.pk])
    for user, sees in ((team.rep1, True), (team.manager1, True), (team.rep3, False), (team.admin, True)):
        client.force_login(user)
        assert ("宏远协议价" in client.get(detail).content.decode()) is sees, user
        assert ("宏远协议价" in client.get(reverse("catalog:pricelist-list")).content.decode()) is sees, user
        status = client.get(reverse("catalog:pricelist-detail", args=[own.pk])).status_code
        assert status == (200 if sees else 404), user
