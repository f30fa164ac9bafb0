"""The account team panel of the 360° page: who sees which buttons, each view's permission matrix
(a denied write changes nothing), htmx and plain forms, expired members hidden."""

from datetime import timedelta

import pytest
from django.utils import timezone

from kehu.core.models import AuditEntry
from kehu.customers import teams
from kehu.customers.models import AccountTeamMember, TimelineEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def shared(team, customer_of):
    return customer_of(team.rep1, name="苏州共享精密机械有限公司", phone="051265871234")


@pytest.fixture
def member(team, shared):
    return teams.team_member_add(
        customer=shared,
        user=team.rep3,
        role="sales_manager",
        ends_on=timezone.localdate() + timedelta(days=30),
        actor=team.manager1,
    )


def _state(customer):
    return (
        list(AccountTeamMember.objects.filter(customer=customer).values_list("user_id", "role", "ends_on", "version")),
        TimelineEntry.objects.filter(customer=customer).count(),
        AuditEntry.objects.count(),
    )


def _login(client, team, who):
    if who != "anonymous":
        client.force_login(getattr(team, who))


def test_the_360_page_shows_the_team_with_roles_and_end_dates(client, team, shared, member):
    until = member.ends_on
    teams.team_member_add(customer=shared, user=team.manager2, role="executive_sponsor", actor=team.admin)
    teams.team_member_add(customer=shared, user=team.marketing1, role="other", actor=team.admin)
    AccountTeamMember.objects.filter(user=team.marketing1).update(ends_on=timezone.localdate() - timedelta(days=1))
    client.force_login(team.rep3)
    html = client.get(f"/customers/{shared.pk}/").content.decode()
    panel = html[html.index('id="account-team"') :]
    panel = panel[: panel.index('id="opportunities"') if 'id="opportunities"' in panel else None]
    assert "Sales manager" in panel and f"until {until:%Y-%m-%d}" in panel
    assert "Executive sponsor" in panel and "no end date" in panel
    assert "marketing1" not in panel  # ended yesterday
    assert "Add a member" not in panel and "Change or remove" not in panel  # a member changes nothing


@pytest.mark.parametrize(
    ("who", "add", "change", "ask"),
    [("rep1", False, False, True), ("manager1", True, True, False), ("admin", True, True, False)],
)
def test_buttons_follow_the_permissions(client, team, shared, member, who, add, change, ask):
    client.force_login(getattr(team, who))
    html = client.get(f"/customers/{shared.pk}/").content.decode()
    asks = "ask your manager to add them to the team" in html
    assert ("Add a member" in html, "Change or remove" in html, asks) == (add, change, ask)


def test_an_owner_with_colleagues_in_scope_may_add_them(client, team, shared):
    team.rep1.data_scope_override = "department"
    team.rep1.save()
    client.force_login(team.rep1)
    html = client.get(f"/customers/{shared.pk}/").content.decode()
    assert "Add a member" in html and f'<option value="{team.rep2.pk}">rep2' in html
    response = client.post(
        f"/customers/{shared.pk}/team/add/", {"user": team.rep2.pk, "role": "other"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200 and AccountTeamMember.objects.filter(customer=shared, user=team.rep2).exists()


def test_the_owner_is_offered_only_people_in_their_scope(client, team, shared):
    client.force_login(team.rep1)
    html = client.get(f"/customers/{shared.pk}/").content.decode()
    assert f'<option value="{team.rep2.pk}"' not in html and f'<option value="{team.rep3.pk}"' not in html
    client.force_login(team.manager1)
    html = client.get(f"/customers/{shared.pk}/").content.decode()
    assert f'<option value="{team.rep3.pk}">rep3' in html and f'<option value="{team.rep1.pk}">' not in html


# Anonymous → the sign-in page; an unrelated rep → 404 (the customer is not theirs to know);
# a member or the owner facing someone brought from outside → 403; the manager and the administrator work.
PANEL = {"anonymous": 302, "rep2": 404, "rep1": 200, "manager1": 200, "rep3": 200, "admin": 200}
ADD = {"anonymous": 302, "rep2": 404, "rep1": 200, "manager1": 200, "rep3": 403, "admin": 200}
CHANGE = {"anonymous": 302, "rep2": 404, "rep1": 403, "manager1": 200, "rep3": 403, "admin": 200}


@pytest.mark.parametrize(("who", "status"), PANEL.items())
def test_panel_matrix(client, team, shared, member, who, status):
    _login(client, team, who)
    response = client.get(f"/customers/{shared.pk}/team/", headers={"HX-Request": "true"})
    assert response.status_code == status
    if who == "anonymous":
        assert response["Location"].startswith("/accounts/login/")
    elif status == 200:
        plain = client.get(f"/customers/{shared.pk}/team/")  # without htmx: the panel on its page
        assert (plain.status_code, plain["Location"]) == (302, f"/customers/{shared.pk}/#account-team")


@pytest.mark.parametrize(("who", "status"), ADD.items())
def test_add_matrix(client, team, shared, member, who, status):
    _login(client, team, who)
    before = _state(shared)
    response = client.post(
        f"/customers/{shared.pk}/team/add/",
        {"user": team.manager2.pk, "role": "executive_sponsor", "ends_on": ""},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == status
    added = AccountTeamMember.objects.filter(customer=shared, user=team.manager2).exists()
    if who in ("manager1", "admin"):
        assert added and "Executive sponsor" in response.content.decode()
    else:
        assert _state(shared) == before
    if who == "rep1":  # manager2 is not in rep1's list of people to choose from
        assert "Select a valid choice." in response.content.decode()


@pytest.mark.parametrize(("who", "status"), CHANGE.items())
def test_edit_matrix(client, team, shared, member, who, status):
    _login(client, team, who)
    before = _state(shared)
    response = client.post(
        f"/customers/{shared.pk}/team/{team.rep3.pk}/edit/",
        {"role": "other", "ends_on": "", "version": "1"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == status
    if status == 200:
        assert AccountTeamMember.objects.get(pk=member.pk).role == "other"
    else:
        assert _state(shared) == before


@pytest.mark.parametrize(("who", "status"), CHANGE.items())
def test_remove_matrix(client, team, shared, member, who, status):
    _login(client, team, who)
    before = _state(shared)
    response = client.post(
        f"/customers/{shared.pk}/team/{team.rep3.pk}/remove/", {"version": "1"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == status
    if status == 200:
        assert not AccountTeamMember.objects.filter(pk=member.pk).exists()
    else:
        assert _state(shared) == before


def test_without_javascript_the_forms_redirect_back_with_the_reason(client, team, shared, member):
    client.force_login(team.manager1)
    response = client.post(f"/customers/{shared.pk}/team/add/", {"user": team.manager2.pk, "role": "other"})
    assert (response.status_code, response["Location"]) == (302, f"/customers/{shared.pk}/#account-team")
    response = client.post(
        f"/customers/{shared.pk}/team/{team.rep3.pk}/edit/", {"role": "other", "ends_on": "2001-01-01", "version": "1"}
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "The end date cannot be in the past; remove the member instead." in page
    assert AccountTeamMember.objects.get(pk=member.pk).role == "sales_manager"


def test_a_stale_form_says_so_and_changes_nothing(client, team, shared, member):
    client.force_login(team.manager1)
    teams.team_member_update(member=member, actor=team.admin, expected_version=1, role="other")
    before = _state(shared)
    response = client.post(
        f"/customers/{shared.pk}/team/{team.rep3.pk}/remove/", {"version": "1"}, headers={"HX-Request": "true"}
    )
    assert "Someone else changed this record" in response.content.decode()
    assert _state(shared) == before


def test_the_360_page_of_a_shared_customer_costs_a_fixed_number_of_queries(
    client, team, shared, member, django_assert_max_num_queries
):
    for user in (team.manager2, team.marketing1, team.service1):
        teams.team_member_add(customer=shared, user=user, role="other", actor=team.admin)
    client.force_login(team.manager1)
    client.get(f"/customers/{shared.pk}/")
    with django_assert_max_num_queries(40) as ctx:
        client.get(f"/customers/{shared.pk}/")
    many = len(ctx.captured_queries)
    teams.team_member_add(customer=shared, user=team.rep2, role="other", actor=team.admin)
    with django_assert_max_num_queries(many):
        client.get(f"/customers/{shared.pk}/")


def test_a_member_reads_the_record_but_does_not_edit_delete_merge_or_hand_it_over(client, team, shared, member):
    from kehu.customers.models import Customer

    client.force_login(team.rep3)
    html = client.get(f"/customers/{shared.pk}/").content.decode()
    assert f"/customers/{shared.pk}/edit/" not in html and f"/customers/{shared.pk}/delete/" not in html
    before = Customer.objects.filter(pk=shared.pk).values().get()
    assert client.get(f"/customers/{shared.pk}/edit/").status_code == 403
    assert client.post(f"/customers/{shared.pk}/edit/", {"name": "改名"}).status_code == 403
    assert client.post(f"/customers/{shared.pk}/delete/").status_code == 403
    assert client.get(f"/customers/{shared.pk}/merge/").status_code == 403
    assert Customer.objects.filter(pk=shared.pk).values().get() == before


def test_a_member_logs_activities_on_the_shared_customer(client, team, shared, member):
    from kehu.activities.models import Activity

    client.force_login(team.rep3)
    response = client.post(
        f"/customers/{shared.pk}/log/", {"kind": "call", "subject": "售后回访", "occurred_at": "2026-11-20T10:00"}
    )
    assert response.status_code == 302
    assert Activity.objects.get(subject="售后回访").owner == team.rep3


def test_a_managers_handover_leaves_out_what_is_only_shared_with_the_team(team, shared, customer_of):
    from kehu.pool.selectors import handover_candidates

    south = customer_of(team.rep3, name="广州共享物流有限公司")
    teams.team_member_add(customer=south, user=team.rep1, role="other", actor=team.manager2)
    from kehu.users.models import User

    manager1 = User.objects.get(pk=team.manager1.pk)
    assert list(handover_candidates(manager1, from_user=None).values_list("name", flat=True)) == [shared.name]
