"""Permission matrix of every page and endpoint of the workflow: anonymous / other rep / owner /
manager / archivist; a denied write changes nothing."""

from datetime import date

import pytest

from kehu.collection.models import CalendarDay, InfoForm, InfoFormStatus, InfoFormStep, RegionRoute
from kehu.collection.services import calendar_day_set, infoform_transition, region_route_set
from kehu.core.models import AuditEntry
from kehu.customers.models import Customer, TimelineEntry

pytestmark = pytest.mark.django_db
S = InfoFormStatus
ACTORS = ["anonymous", "rep2", "rep1", "manager1", "marketing1"]
LOGIN = "login"


@pytest.fixture
def world(team, info_of):
    draft = info_of(team.rep1, name="草稿公司", draft=True)
    filed = info_of(team.rep1, name="待审公司")
    approved = infoform_transition(form=info_of(team.rep1, name="待归档公司"), actor=team.manager1, to=S.APPROVED)
    route = region_route_set(actor=team.admin, region="江苏", rep=team.rep2)
    holiday = calendar_day_set(actor=team.admin, day=date(2026, 10, 1), is_working_day=False, name="国庆节")
    return {"draft": draft, "filed": filed, "approved": approved, "route": route, "holiday": holiday}


def state():
    def rows(model):
        return list(model.objects.order_by("pk").values())

    return [rows(m) for m in (InfoForm, InfoFormStep, RegionRoute, CalendarDay, Customer, TimelineEntry, AuditEntry)]


def _login(client, team, actor):
    if actor != "anonymous":
        client.force_login(getattr(team, actor))


def _status(response):
    if response.status_code == 302 and "/accounts/login/" in response["Location"]:
        return LOGIN
    return response.status_code


READS = [
    # (url, {actor: status})
    ("/collection/", dict(zip(ACTORS, [LOGIN, 200, 200, 200, 200], strict=True))),
    ("/collection/{filed}/", dict(zip(ACTORS, [LOGIN, 404, 200, 200, 404], strict=True))),
    ("/collection/{approved}/", dict(zip(ACTORS, [LOGIN, 404, 200, 200, 200], strict=True))),
    ("/collection/{draft}/edit/", dict(zip(ACTORS, [LOGIN, 404, 200, 403, 404], strict=True))),
    ("/collection/new/", dict(zip(ACTORS, [LOGIN, 200, 200, 200, 200], strict=True))),
    ("/collection/routes/", dict(zip(ACTORS, [LOGIN, 200, 200, 200, 200], strict=True))),
    ("/collection/calendar/", dict(zip(ACTORS, [LOGIN, 200, 200, 200, 200], strict=True))),
]
WRITES = [
    # (url, data, {actor: status}); 302 = done, anything else must change nothing
    ("/collection/{draft}/file/", {}, dict(zip(ACTORS, [LOGIN, 404, 302, 403, 404], strict=True))),
    ("/collection/{filed}/approve/", {}, dict(zip(ACTORS, [LOGIN, 404, 403, 302, 404], strict=True))),
    ("/collection/{filed}/return/", {"reason": "缺电话"}, dict(zip(ACTORS, [LOGIN, 404, 403, 302, 404], strict=True))),
    ("/collection/{approved}/archive/", {}, dict(zip(ACTORS, [LOGIN, 404, 403, 403, 302], strict=True))),
    (
        "/collection/{draft}/edit/",
        {"name": "改名公司", "region": "江苏", "source": "internet", "collected_on": "2026-01-05", "version": 1},
        dict(zip(ACTORS, [LOGIN, 404, 302, 403, 404], strict=True)),
    ),
    (
        "/collection/new/",
        {"name": "新公司", "region": "江苏", "source": "internet", "collected_on": "2026-01-05", "file": "1"},
        dict(zip(ACTORS, [LOGIN, 302, 302, 302, 302], strict=True)),
    ),
    (
        "/collection/routes/",
        {"region": "浙江", "rep": "{rep2}"},
        dict(zip(ACTORS, [LOGIN, 403, 403, 302, 403], strict=True)),
    ),
    ("/collection/routes/{route}/delete/", {}, dict(zip(ACTORS, [LOGIN, 403, 403, 302, 403], strict=True))),
    (
        "/collection/calendar/",
        {"day": "2026-10-08", "is_working_day": "0", "name": "国庆节"},
        dict(zip(ACTORS, [LOGIN, 403, 403, 403, 403], strict=True)),
    ),
    ("/collection/calendar/{holiday}/delete/", {}, dict(zip(ACTORS, [LOGIN, 403, 403, 403, 403], strict=True))),
]


def _fill(text, team, world):
    ids = {k: v.pk for k, v in world.items()} | {"rep2": team.rep2.pk}
    return text.format(**ids)


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize(("url", "expected"), READS, ids=[r[0] for r in READS])
def test_pages(client, team, world, actor, url, expected):
    _login(client, team, actor)
    assert _status(client.get(_fill(url, team, world))) == expected[actor]


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize(("url", "data", "expected"), WRITES, ids=[w[0] for w in WRITES])
def test_writes(client, team, world, actor, url, data, expected):
    _login(client, team, actor)
    before = state()
    data = {k: _fill(str(v), team, world) for k, v in data.items()}
    got = _status(client.post(_fill(url, team, world), data))
    assert got == expected[actor]
    if got != 302:
        assert state() == before, "a denied write changed something"
    else:
        assert state() != before


def test_lists_show_only_what_each_may_see(client, team, world, info_of):
    info_of(team.rep3, name="华南公司")
    seen = {}
    for actor in ["rep1", "rep2", "manager1", "manager2", "marketing1", "gm"]:
        client.force_login(getattr(team, actor))
        html = client.get("/collection/").content.decode()
        seen[actor] = {n for n in ["草稿公司", "待审公司", "待归档公司", "华南公司"] if n in html}
    assert seen["rep1"] == {"草稿公司", "待审公司", "待归档公司"}
    assert seen["rep2"] == set()
    assert seen["manager1"] == {"草稿公司", "待审公司", "待归档公司"}
    assert seen["manager2"] == {"华南公司"}
    assert seen["marketing1"] == {"待归档公司"}
    assert seen["gm"] == {"草稿公司", "待审公司", "待归档公司", "华南公司"}


def test_service_manager_has_no_collection_pages(client, team, world):
    client.force_login(team.service1)
    assert client.get("/collection/").status_code == 403
    assert client.get(f"/collection/{world['approved'].pk}/").status_code == 404
    assert client.get("/collection/routes/").status_code == 403


def test_a_manager_gets_a_remove_button_only_for_routes_to_their_team(client, team, world):
    theirs = region_route_set(actor=team.admin, region="广东", rep=team.rep3)
    client.force_login(team.manager1)
    page = client.get("/collection/routes/").content.decode()
    assert f"/collection/routes/{world['route'].pk}/delete/" in page  # 江苏 → rep2, in 华东
    assert f"/collection/routes/{theirs.pk}/delete/" not in page and "广东" in page
    client.force_login(team.admin)
    assert f"/collection/routes/{theirs.pk}/delete/" in client.get("/collection/routes/").content.decode()


def test_list_runs_a_fixed_number_of_queries(client, team, info_of, django_assert_max_num_queries):
    client.force_login(team.manager1)
    for i in range(3):
        info_of(team.rep1, name=f"公司{i}")
    with django_assert_max_num_queries(12) as few:
        client.get("/collection/")
    for i in range(30):
        info_of(team.rep2, name=f"另一公司{i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get("/collection/").status_code == 200


def test_dashboard_block_costs_at_most_three_queries(client, team, info_of, django_assert_max_num_queries):
    from kehu.collection.selectors import overdue_for

    with django_assert_max_num_queries(3):
        overdue_for(team.manager1)
    with django_assert_max_num_queries(0):
        overdue_for(team.service1)


def test_administrator_records_a_holiday_and_removes_it(client, team, world):
    client.force_login(team.admin)
    response = client.post("/collection/calendar/", {"day": "2026-10-08", "is_working_day": "0", "name": "国庆节"})
    assert response.status_code == 302 and CalendarDay.objects.filter(day=date(2026, 10, 8)).exists()
    assert client.post(f"/collection/calendar/{world['holiday'].pk}/delete/").status_code == 302
    assert not CalendarDay.objects.filter(pk=world["holiday"].pk).exists()
    assert client.post("/collection/calendar/", {"day": "3026-10-08", "is_working_day": "0"}).status_code == 200
