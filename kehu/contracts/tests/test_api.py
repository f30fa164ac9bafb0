from decimal import Decimal

import pytest

from kehu.contracts.models import Contract, ContractStage

BASE = "/api/v1/contracts"


@pytest.mark.parametrize(("who", "status"), [("rep2", 404), ("rep3", 404), ("rep1", 200), ("manager1", 200)])
def test_get_by_who(api_client, draft, team, who, status):
    response = api_client(getattr(team, who)).get(f"{BASE}/{draft.pk}")
    assert response.status_code == status
    if status == 200:
        body = response.json()
        assert body["number"] == draft.number and Decimal(body["amount"]) == Decimal("925.00")
        assert [line["name"] for line in body["lines"]] == ["数控车床", "液压油"]


def test_anonymous_is_refused(api_client, draft):
    assert api_client().get(f"{BASE}/{draft.pk}").status_code == 401
    assert api_client().get(BASE).status_code == 401


def test_list_is_scoped_and_filtered(api_client, draft, signed_other, team):
    numbers = [c["number"] for c in api_client(team.manager1).get(BASE).json()["items"]]
    assert set(numbers) == {draft.number, signed_other.number}
    numbers = [c["number"] for c in api_client(team.rep1).get(BASE).json()["items"]]
    assert numbers == [draft.number]
    signed = api_client(team.manager1).get(f"{BASE}?stage=signed&expiring_days=30").json()
    assert [c["number"] for c in signed["items"]] == [signed_other.number] and signed["count"] == 1


def test_create_from_a_quote(api_client, accepted_quote, team):
    response = api_client(team.rep1).post(BASE, {"quote_id": accepted_quote.pk})
    assert response.status_code == 201
    body = response.json()
    assert body["quote_id"] == accepted_quote.pk and body["line_count"] == 2 and body["stage"] == "draft"


@pytest.mark.parametrize(("who", "status"), [("rep2", 404), ("rep3", 404), ("rep1", 200), ("manager1", 200)])
def test_update_by_who_and_a_denied_write_changes_nothing(api_client, draft, team, who, status):
    response = api_client(getattr(team, who)).patch(f"{BASE}/{draft.pk}", {"version": draft.version, "title": "新"})
    assert response.status_code == status
    assert (Contract.objects.get(pk=draft.pk).title == "新") is (status == 200)


def test_stale_version_is_409(api_client, draft, team):
    client = api_client(team.rep1)
    assert client.patch(f"{BASE}/{draft.pk}", {"version": draft.version, "title": "一"}).status_code == 200
    response = client.patch(f"{BASE}/{draft.pk}", {"version": draft.version, "title": "二"})
    assert response.status_code == 409
    assert Contract.objects.get(pk=draft.pk).title == "一"


def test_transitions_and_their_errors_in_the_users_language(api_client, draft, team, no_approval):
    client = api_client(team.rep1)
    body = client.post(f"{BASE}/{draft.pk}/transition", {"to": "pending"}).json()
    assert body["stage"] == "pending" and body["approved_at"]
    client.headers["Accept-Language"] = "zh-hans"
    response = client.post(f"{BASE}/{draft.pk}/transition", {"to": "completed"})
    assert response.status_code == 409  # the contract's stage does not allow it
    assert "不能" in response.json()["detail"]
    response = client.post(f"{BASE}/{draft.pk}/transition", {"to": "signed", "signed_on": "2026-01-05"})
    assert response.status_code == 200 and response.json()["stage"] == "signed"


def test_other_rep_cannot_transition(api_client, draft, team, no_approval):
    response = api_client(team.rep2).post(f"{BASE}/{draft.pk}/transition", {"to": "pending"})
    assert response.status_code == 404
    assert Contract.objects.get(pk=draft.pk).stage == ContractStage.DRAFT


def test_amendments_through_the_api(api_client, signed, team):
    client = api_client(team.rep1)
    response = client.post(f"{BASE}/{signed.pk}/amendments", {"summary": "延期", "ends_on_after": "2027-12-31"})
    assert response.status_code == 201
    amendment = response.json()
    response = client.post(f"{BASE}/{signed.pk}/amendments/{amendment['id']}", {"action": "submit"})
    assert response.status_code == 200 and response.json()["state"] == "effective"
    assert client.get(f"{BASE}/{signed.pk}").json()["ends_on"] == "2027-12-31"
    history = client.get(f"{BASE}/{signed.pk}/amendments").json()
    assert [(a["sequence"], a["ends_on_after"]) for a in history] == [(1, "2027-12-31")]


def test_lines_and_documents(api_client, draft, team, book):
    client = api_client(team.rep1)
    response = client.post(f"{BASE}/{draft.pk}/lines", {"specification_id": book.lathe_b.pk, "quantity": "1"})
    assert response.status_code == 201 and Decimal(response.json()["amount"]) == Decimal("1025.00")
    assert len(client.get(f"{BASE}/{draft.pk}/lines").json()) == 3
    assert client.get(f"{BASE}/{draft.pk}/attachments").json() == []
    response = client.get(f"{BASE}/{draft.pk}/document.docx")
    assert response.status_code == 200 and response.content[:2] == b"PK"
    response = client.get(f"{BASE}/{draft.pk}/document.pdf")
    assert response.status_code == 200 and response.content[:5] == b"%PDF-"
    assert api_client(team.rep2).get(f"{BASE}/{draft.pk}/document.pdf").status_code == 404


def test_delete_signed_is_refused(api_client, signed, team):
    response = api_client(team.rep1).delete(f"{BASE}/{signed.pk}")
    assert response.status_code == 409  # a signed contract is voided, not deleted
    assert Contract.objects.get(pk=signed.pk).deleted_at is None
