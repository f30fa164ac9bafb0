"""/api/v1/customers/{id}/team and what members see through the API and exports (KAM-1, ACC-3)."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from kehu.core.models import AuditEntry
from kehu.customers import teams
from kehu.customers.models import AccountTeamMember, TimelineEntry
from kehu.customers.services import contact_create

pytestmark = pytest.mark.django_db
PHONE = "051265871234"


@pytest.fixture
def shared(team, customer_of):
    customer = customer_of(team.rep1, name="苏州共享精密机械有限公司", phone=PHONE)
    contact_create(customer=customer, actor=team.rep1, name="李娜", mobile="13900002222")
    return customer


@pytest.fixture
def member(team, shared):
    """rep3 (华南, outside rep1's and manager1's scopes) on the team, added by rep1's manager."""
    return teams.team_member_add(customer=shared, user=team.rep3, role="sales_manager", actor=team.manager1)


def _state(customer):
    return (
        list(AccountTeamMember.objects.filter(customer=customer).values_list("user_id", "role", "ends_on", "version")),
        TimelineEntry.objects.filter(customer=customer).count(),
        AuditEntry.objects.count(),
    )


def _who(team, api_client, who):
    return api_client() if who == "anonymous" else api_client(getattr(team, who))


# Who: anonymous, an unrelated rep, the owner, the owner's manager, a member, an administrator.
READ = {"anonymous": 401, "rep2": 404, "rep1": 200, "manager1": 200, "rep3": 200, "admin": 200}


@pytest.mark.parametrize(("who", "status"), READ.items())
def test_reading_the_team(api_client, team, shared, member, who, status):
    response = _who(team, api_client, who).get(f"/api/v1/customers/{shared.pk}/team")
    assert response.status_code == status
    if status == 200:
        [row] = response.json()
        assert {
            k: row[k] for k in ("user_id", "username", "role", "role_label", "ends_on", "added_by_id", "version")
        } == {
            "user_id": team.rep3.pk,
            "username": "rep3",
            "role": "sales_manager",
            "role_label": "Sales manager",
            "ends_on": None,
            "added_by_id": team.manager1.pk,
            "version": 1,
        }


# Adding manager2 (outside rep1's scope): the owner is told to ask their manager (400).
ADD = {"anonymous": 401, "rep2": 404, "rep1": 400, "manager1": 201, "rep3": 403, "admin": 201}


@pytest.mark.parametrize(("who", "status"), ADD.items())
def test_adding_a_member(api_client, team, shared, member, who, status):
    before = _state(shared)
    until = (timezone.localdate() + timedelta(days=30)).isoformat()
    response = _who(team, api_client, who).post(
        f"/api/v1/customers/{shared.pk}/team",
        {"user_id": team.manager2.pk, "role": "executive_sponsor", "ends_on": until},
    )
    assert response.status_code == status, response.content
    if status == 201:
        assert (response.json()["user_id"], response.json()["ends_on"]) == (team.manager2.pk, until)
        assert AccountTeamMember.objects.get(customer=shared, user=team.manager2).role == "executive_sponsor"
    else:
        assert _state(shared) == before
    if status == 400:
        assert response.json()["errors"] == {
            "user_id": ["This person is outside your scope: ask the owner's manager to add them to the team."]
        }


CHANGE = {"anonymous": 401, "rep2": 404, "rep1": 403, "manager1": 200, "rep3": 403, "admin": 200}


@pytest.mark.parametrize(("who", "status"), CHANGE.items())
def test_changing_a_member(api_client, team, shared, member, who, status):
    before = _state(shared)
    response = _who(team, api_client, who).patch(
        f"/api/v1/customers/{shared.pk}/team/{team.rep3.pk}", {"role": "other", "version": 1}
    )
    assert response.status_code == status, response.content
    if status == 200:
        assert (response.json()["role"], response.json()["version"]) == ("other", 2)
    else:
        assert _state(shared) == before


@pytest.mark.parametrize(("who", "status"), {**CHANGE, "manager1": 204, "admin": 204}.items())
def test_removing_a_member(api_client, team, shared, member, who, status):
    before = _state(shared)
    response = _who(team, api_client, who).delete(f"/api/v1/customers/{shared.pk}/team/{team.rep3.pk}")
    assert response.status_code == status
    if status == 204:
        assert not AccountTeamMember.objects.filter(customer=shared).exists()
    else:
        assert _state(shared) == before


def test_a_stale_version_answers_409_and_bad_input_4xx(api_client, team, shared, member):
    api = api_client(team.manager1)
    url = f"/api/v1/customers/{shared.pk}/team"
    assert api.patch(f"{url}/{team.rep3.pk}", {"role": "other", "version": 1}).status_code == 200
    before = _state(shared)
    stale = api.patch(f"{url}/{team.rep3.pk}", {"role": "sales_manager", "version": 1})
    assert stale.status_code == 409
    assert api.patch(f"{url}/{team.rep3.pk}", {"role": "boss"}).status_code == 422
    # A role may be changed, not cleared: the schema does not call it nullable, so null is a 422.
    cleared = api.patch(f"{url}/{team.rep3.pk}", {"role": None})
    assert (cleared.status_code, [e["loc"][2:] for e in cleared.json()["errors"]]) == (422, [["role"]])
    assert api.patch(f"{url}/{team.rep3.pk}", {"ends_on": "2001-01-01"}).json()["errors"] == {
        "ends_on": ["The end date cannot be in the past; remove the member instead."]
    }
    assert api.post(url, {"user_id": 999999, "role": "other"}).json()["errors"] == {
        "user_id": ["There is no such user."]
    }
    assert api.post(url, {"user_id": team.rep3.pk, "role": "other"}).status_code == 400  # on the team already
    assert api.patch(f"{url}/{team.rep2.pk}", {"role": "other"}).status_code == 404  # not a member
    assert _state(shared) == before


def test_a_member_gets_the_customer_through_the_api_until_the_end_date(api_client, team, shared, customer_of):
    customer_of(team.rep3, name="广州南方物流有限公司")
    api = api_client(team.rep3)
    names = lambda path: [c["name"] for c in api.get(path).json()["items"]]  # noqa: E731
    assert names("/api/v1/customers/") == ["广州南方物流有限公司"]
    teams.team_member_add(
        customer=shared, user=team.rep3, role="service_specialist", ends_on=timezone.localdate(), actor=team.manager1
    )
    assert names("/api/v1/customers/") == ["广州南方物流有限公司", "苏州共享精密机械有限公司"]  # newest change first
    assert api.get("/api/v1/customers/").json()["count"] == 2
    assert names("/api/v1/customers/?q=共享") == ["苏州共享精密机械有限公司"]
    detail = api.get(f"/api/v1/customers/{shared.pk}").json()
    assert detail["phone"] == "051****1234"  # a service specialist sees the customer, not its numbers
    assert [c["name"] for c in api.get(f"/api/v1/contacts/?customer_id={shared.pk}").json()["items"]] == ["李娜"]
    AccountTeamMember.objects.filter(user=team.rep3).update(ends_on=timezone.localdate() - timedelta(days=1))
    assert names("/api/v1/customers/") == ["广州南方物流有限公司"]
    assert api.get(f"/api/v1/customers/{shared.pk}").status_code == 404
    assert api.get(f"/api/v1/customers/{shared.pk}/team").status_code == 404


def test_a_sensitive_team_role_sees_phones_in_the_api_list(api_client, team, shared, member):
    [row] = [c for c in api_client(team.rep3).get("/api/v1/customers/").json()["items"] if c["id"] == shared.pk]
    assert row["phone"] == PHONE


def _csv(response) -> list[str]:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return [r[0] for r in list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))[1:]]


def test_exports_hold_shared_customers_until_the_end_date(client, api_client, team, shared, customer_of):
    customer_of(team.rep3, name="广州南方物流有限公司")
    teams.team_member_add(customer=shared, user=team.manager2, role="other", actor=team.admin)
    client.force_login(team.manager2)
    assert sorted(_csv(client.get("/transfer/export/customers/?format=csv"))) == [
        "广州南方物流有限公司",
        "苏州共享精密机械有限公司",
    ]
    assert _csv(api_client(team.manager2).get("/api/v1/transfer/exports/customers?format=csv&q=共享")) == [
        "苏州共享精密机械有限公司"
    ]
    AccountTeamMember.objects.filter(user=team.manager2).update(ends_on=timezone.localdate() - timedelta(days=1))
    assert _csv(client.get("/transfer/export/customers/?format=csv")) == ["广州南方物流有限公司"]


def test_a_member_may_not_change_delete_or_merge_the_record_through_the_api(
    api_client, team, shared, member, customer_of
):
    from kehu.customers.models import Customer

    api = api_client(team.rep3)
    own = customer_of(team.rep3, name="广州南方物流有限公司")
    before = list(Customer.objects.order_by("pk").values())
    assert api.patch(f"/api/v1/customers/{shared.pk}", {"owner_id": team.rep3.pk}).status_code == 403
    assert api.delete(f"/api/v1/customers/{shared.pk}").status_code == 403
    assert api.post(f"/api/v1/customers/{own.pk}/merge", {"source_ids": [shared.pk]}).status_code == 403
    assert list(Customer.objects.order_by("pk").values()) == before
