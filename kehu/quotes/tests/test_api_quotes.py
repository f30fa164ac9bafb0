"""/api/v1/quotes: the quote, its lines and its lifecycle; 4xx with useful bodies; permissions."""

import pytest

from kehu.quotes.models import Quote, QuoteLine, QuoteState

BASE = "/api/v1/quotes"


@pytest.fixture
def rep1(api_client, team):
    return api_client(team.rep1)


def test_create_add_paste_edit_submit_send_accept(rep1, team, customer, book):
    response = rep1.post(BASE, {"customer_id": customer.pk, "title": "车床报价", "valid_until": "2099-01-31"})
    assert response.status_code == 201, response.json()
    quote = response.json()
    assert quote["state"] == "draft" and quote["lines"] == [] and quote["may_change"] is True
    assert quote["customer_name"] == customer.name and quote["number"].startswith("Q")
    url = f"{BASE}/{quote['id']}"

    response = rep1.post(f"{url}/lines", {"lines": [{"specification_id": book.lathe_a.pk, "quantity": "3"}]})
    assert response.status_code == 201 and response.json()["added"] == 1
    response = rep1.post(f"{url}/lines/paste", {"text": "编码\t数量\nYY-46-200L\t2.5\n"})
    assert response.status_code == 201
    body = response.json()["quote"]
    assert [(ln["code"], ln["amount"]) for ln in body["lines"]] == [("CK6140-A", "300.00"), ("YY-46-200L", "625.00")]
    assert (body["total"], body["total_net"], body["total_tax"], body["line_count"]) == ("925.00", "838.88", "86.12", 2)

    line = body["lines"][0]
    response = rep1.patch(f"{url}/lines/{line['id']}", {"discount": "4.5"})
    assert response.status_code == 200
    assert response.json()["lines"][0]["unit_price"] == "95.5000" and response.json()["max_discount"] == "4.50"
    response = rep1.patch(url, {"version": body["version"], "notes": "含税含运费"})
    assert response.status_code == 200 and response.json()["notes"] == "含税含运费"

    assert rep1.post(f"{url}/submit").json()["state"] == "approved"
    assert rep1.post(f"{url}/sent", {"how": "email"}).json()["state"] == "sent"
    response = rep1.post(f"{url}/accept", {"note": "已盖章"})
    assert response.json()["state"] == "accepted" and response.json()["decision_note"] == "已盖章"


def test_list_get_versions_and_revise(rep1, team, draft, api_client):
    response = rep1.get(f"{BASE}?state=draft&limit=10")
    assert response.status_code == 200
    page = response.json()
    assert page["count"] == 1 and page["items"][0]["id"] == draft.pk and page["has_next"] is False
    assert rep1.get(f"{BASE}?q={draft.number}").json()["count"] == 1
    assert rep1.get(f"{BASE}?state=sent").json()["count"] == 0
    rep1.post(f"{BASE}/{draft.pk}/submit")
    response = rep1.post(f"{BASE}/{draft.pk}/revise")
    assert response.status_code == 201
    revision = response.json()
    assert (revision["revision"], revision["display_number"], revision["previous_id"]) == (
        2, f"{draft.number}-2", draft.pk,
    )  # fmt: skip
    versions = rep1.get(f"{BASE}/{revision['id']}/versions").json()
    assert [(v["revision"], v["state"]) for v in versions] == [(1, "superseded"), (2, "draft")]
    lines = rep1.get(f"{BASE}/{revision['id']}/lines").json()
    assert [ln["code"] for ln in lines] == ["CK6140-A", "YY-46-200L"]


def test_bad_input_gets_useful_4xx(rep1, team, draft, book):
    url = f"{BASE}/{draft.pk}"
    response = rep1.post(f"{url}/lines/paste", {"text": "XX-1\t2\nCK6140-A\tabc\n"})
    assert response.status_code == 400
    assert response.json()["errors"]["text"] == [
        "Row 1: no product has the code XX-1.",
        "Row 2: abc is not a quantity.",
    ]
    response = rep1.post(f"{url}/lines", {"lines": [{"specification_id": book.unpriced_1.pk, "quantity": 1}]})
    assert response.status_code == 400 and "NP-1-X has no price" in response.json()["errors"]["lines"][0]
    response = rep1.post(f"{url}/lines", {"lines": [{"specification_id": book.lathe_a.pk, "quantity": 0}]})
    assert response.status_code == 422
    line = draft.lines.first()
    response = rep1.patch(f"{url}/lines/{line.pk}", {"discount": "5", "unit_price": "90"})
    assert response.status_code == 400 and "unit_price" in response.json()["errors"]
    assert rep1.patch(f"{url}/lines/{line.pk}", {"discount": "101"}).status_code == 422
    response = rep1.patch(url, {"version": draft.version + 5, "title": "x"})
    assert response.status_code == 409 and response.json()["detail"].startswith("Someone else changed")
    assert rep1.patch(url, {"title": "x"}).status_code == 422  # the version is required
    response = rep1.patch(url, {"version": draft.version, "valid_until": "2000-01-01"})
    assert response.status_code == 400 and response.json()["errors"] == {
        "valid_until": ["A quote cannot expire before its date."]
    }
    response = rep1.post(f"{url}/accept", {})
    assert response.status_code == 409 and response.json() == {
        "detail": "A quote that is draft cannot become accepted.",
        "errors": {},
    }
    assert rep1.post(BASE, {}).json()["errors"] == {"customer_id": ["Choose a customer or an opportunity."]}
    assert rep1.post(BASE, {"customer_id": 999999}).status_code == 400
    assert rep1.post(f"{url}/sent", {"how": "fax"}).status_code == 422
    assert rep1.get(f"{BASE}/999999").status_code == 404
    assert rep1.patch(f"{url}/lines/999999", {"discount": "1"}).status_code == 404
    assert rep1.post(f"{url}/submit").json()["state"] == "approved"
    response = rep1.post(f"{url}/lines", {"lines": [{"specification_id": book.lathe_a.pk, "quantity": 1}]})
    assert response.status_code == 400 and "Only a draft can be changed" in response.json()["errors"]["__all__"][0]
    draft.refresh_from_db()
    assert draft.line_count == 2 and draft.total_tax.to_eng_string() == "86.12"


def snapshot(quote):
    return (
        list(Quote.objects.filter(pk=quote.pk).values()),
        list(QuoteLine.objects.filter(quote=quote).values()),
        Quote.objects.count(),
    )


@pytest.mark.parametrize("who", [None, "rep2", "rep3", "service1"])
def test_others_may_not_read_or_write(api_client, team, draft, book, who):
    client = api_client(getattr(team, who) if who else None)
    url = f"{BASE}/{draft.pk}"
    line = draft.lines.first()
    before = snapshot(draft)
    forbidden = 401 if who is None else None
    reads = [client.get(url), client.get(f"{url}/lines"), client.get(f"{url}/versions")]
    writes = [
        client.patch(url, {"version": draft.version, "title": "x"}),
        client.post(f"{url}/lines", {"lines": [{"specification_id": book.lathe_b.pk, "quantity": 1}]}),
        client.post(f"{url}/lines/paste", {"text": "CK6140-B\t1"}),
        client.patch(f"{url}/lines/{line.pk}", {"discount": "1"}),
        client.delete(f"{url}/lines/{line.pk}"),
        client.post(f"{url}/reprice"),
        client.post(f"{url}/submit"),
        client.post(f"{url}/revise"),
        client.delete(url),
        client.post(BASE, {"customer_id": draft.customer_id}),
    ]
    for response in reads + writes:
        expected = forbidden or (403 if who == "service1" else 404)
        if who == "rep2" or who == "rep3":
            expected = 400 if response.request["PATH_INFO"] == BASE else 404
        assert response.status_code == expected, (response.request["PATH_INFO"], response.content)
    assert snapshot(draft) == before


def test_a_team_member_reads_but_may_not_write(api_client, team, draft):
    from kehu.customers.teams import team_member_add

    team_member_add(customer=draft.customer, user=team.rep3, role="service_specialist", actor=team.manager1)
    client = api_client(team.rep3)
    response = client.get(f"{BASE}/{draft.pk}")
    assert response.status_code == 200 and response.json()["may_change"] is False
    before = snapshot(draft)
    assert client.post(f"{BASE}/{draft.pk}/submit").status_code == 403
    assert client.delete(f"{BASE}/{draft.pk}").status_code == 403
    assert snapshot(draft) == before


def test_the_manager_acts_for_the_team(api_client, team, draft):
    manager = api_client(team.manager1)
    assert manager.get(f"{BASE}?owner_id={team.rep1.pk}").json()["count"] == 1
    assert manager.post(f"{BASE}/{draft.pk}/submit").json()["state"] == "approved"
    assert manager.delete(f"{BASE}/{draft.pk}").status_code == 204
    deleted = manager.get(f"{BASE}/deleted").json()
    assert [q["id"] for q in deleted["items"]] == [draft.pk]
    assert api_client(team.rep2).get(f"{BASE}/deleted").json()["count"] == 0
    assert manager.post(f"{BASE}/{draft.pk}/restore").json()["id"] == draft.pk
    assert Quote.objects.get(pk=draft.pk).state == QuoteState.APPROVED


def test_create_from_an_opportunity(rep1, team, customer):
    from kehu.sales.services import opportunity_create

    deal = opportunity_create(customer=customer, actor=team.rep1, name="车床")
    response = rep1.post(BASE, {"opportunity_id": deal.pk})
    assert response.status_code == 201
    assert (response.json()["customer_id"], response.json()["opportunity_id"]) == (customer.pk, deal.pk)
    other = opportunity_create(customer=customer, actor=team.rep1, name="别的")
    response = rep1.post(BASE, {"customer_id": customer.pk, "opportunity_id": other.pk, "contact_id": 999999})
    assert response.status_code == 400 and "contact_id" in response.json()["errors"]


def test_errors_in_the_users_language(rep1, draft, client):
    rep1.headers["Accept-Language"] = "zh-hans"
    response = rep1.post(f"{BASE}/{draft.pk}/lines/paste", {"text": "XX-1\t2\nCK6140-A\t１，０００.５０５５\n"})
    assert response.status_code == 400
    assert response.json()["errors"]["text"] == ["第 1 行：没有编码为 XX-1 的产品。", "第 2 行：数量最多三位小数。"]
    response = rep1.post(f"{BASE}/{draft.pk}/accept", {})
    assert response.json()["detail"] == "状态为“草稿”的报价单不能变为“已采纳”。"
