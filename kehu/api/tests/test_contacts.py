"""Contacts through /api/v1/contacts/."""

from kehu.customers.models import Contact

URL = "/api/v1/contacts/"


def test_list_shape_and_filter_by_customer(team, customer_of, contact_of, rep1_api):
    first = customer_of(team.rep1, name="甲公司")
    second = customer_of(team.rep1, name="乙公司")
    contact_of(first, name="张伟")
    contact_of(first, name="李娜")
    contact_of(second, name="王芳")
    body = rep1_api.get(URL).json()
    assert set(body) == {"items", "count", "count_is_capped", "has_next"}
    assert body["count"] == 3 and body["count_is_capped"] is False
    body = rep1_api.get(f"{URL}?customer_id={first.pk}").json()
    assert {c["name"] for c in body["items"]} == {"张伟", "李娜"}
    assert body["count"] == 2


def test_pagination(team, customer_of, contact_of, rep1_api):
    customer = customer_of(team.rep1)
    for i in range(5):
        contact_of(customer, name=f"联系人{i}")
    first = rep1_api.get(URL + "?limit=2").json()
    rest = rep1_api.get(URL + "?limit=2&offset=2").json()
    last = rep1_api.get(URL + "?limit=2&offset=4").json()
    assert first["count"] == 5
    ids = [c["id"] for page in (first, rest, last) for c in page["items"]]
    assert len(ids) == len(set(ids)) == 5
    assert rep1_api.get(URL + "?limit=500").status_code == 422


def test_create_read_patch_delete(team, customer_of, rep1_api):
    customer = customer_of(team.rep1)
    response = rep1_api.post(
        URL,
        {
            "customer_id": customer.pk,
            "name": "张伟",
            "position": "采购经理",
            "buying_role": "decision_maker",
            "mobile": "13912345678",
            "hobbies": "钓鱼",
            "birthday": "1980-05-01",
            "gender": "m",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    contact = Contact.objects.get(pk=body["id"])
    assert contact.customer == customer and contact.name == "张伟" and contact.buying_role == "decision_maker"
    assert body["mobile"] == "13912345678" and body["hobbies"] == "钓鱼"

    response = rep1_api.get(f"{URL}{contact.pk}")
    assert response.status_code == 200
    assert response.json()["birthday"] == "1980-05-01"

    response = rep1_api.patch(f"{URL}{contact.pk}", {"position": "总经理", "version": 1})
    assert response.status_code == 200, response.content
    assert response.json()["position"] == "总经理" and response.json()["version"] == 2
    contact.refresh_from_db()
    assert contact.position == "总经理" and contact.hobbies == "钓鱼"

    assert rep1_api.delete(f"{URL}{contact.pk}").status_code == 204
    contact.refresh_from_db()
    assert contact.deleted_at is not None
    assert rep1_api.get(f"{URL}{contact.pk}").status_code == 404
    assert rep1_api.get(URL).json()["count"] == 0


def test_contact_name_is_searchable_from_customers(team, customer_of, rep1_api):
    customer = customer_of(team.rep1, name="甲公司")
    assert rep1_api.post(URL, {"customer_id": customer.pk, "name": "欧阳建国"}).status_code == 201
    items = rep1_api.get("/api/v1/customers/?q=欧阳建").json()["items"]
    assert [c["id"] for c in items] == [customer.pk]


def test_patch_with_stale_version_is_409(team, customer_of, contact_of, rep1_api):
    contact = contact_of(customer_of(team.rep1), position="采购")
    assert rep1_api.patch(f"{URL}{contact.pk}", {"position": "经理", "version": 1}).status_code == 200
    response = rep1_api.patch(f"{URL}{contact.pk}", {"position": "总监", "name": "改坏了", "version": 1})
    assert response.status_code == 409
    contact.refresh_from_db()
    assert (contact.position, contact.name, contact.version) == ("经理", "张伟", 2)


def test_contacts_of_deleted_customers_are_gone(team, customer_of, contact_of, rep1_api):
    customer = customer_of(team.rep1)
    contact = contact_of(customer)
    assert rep1_api.delete(f"/api/v1/customers/{customer.pk}").status_code == 204
    assert rep1_api.get(f"{URL}{contact.pk}").status_code == 404
    assert rep1_api.get(URL).json()["count"] == 0


def test_create_on_an_unknown_customer_is_404(team, rep1_api):
    assert rep1_api.post(URL, {"customer_id": 999999, "name": "张伟"}).status_code == 404
    assert not Contact.objects.exists()
