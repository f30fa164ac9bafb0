"""How plausible a check-in is (签到): distance to the customer or its city centre, days from the planned day,
what the rep is told, what a manager reviews (pages and API)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from kehu.activities import plausibility, selectors, services
from kehu.activities.events import ActivityEvent
from kehu.activities.models import Activity
from kehu.customers.models import TimelineEntry
from kehu.customers.tests.permissions import LOGIN, act_as, assert_status, matrix

# 苏州华星 at 苏州工业园区; 苏州's city centre (the table) is 31.2990, 120.5853.
PLANT = (31.3160, 120.6720)


@pytest.fixture
def placed(team, customer_of):
    return customer_of(
        team.rep1, name="苏州华星精密机械有限公司", latitude=Decimal("31.316000"), longitude=Decimal("120.672000")
    )


@pytest.fixture
def city_only(team, customer_of):
    return customer_of(
        team.rep1, name="无锡恒力汽车零部件有限公司", region="江苏", city="无锡", address="新区长江路7号"
    )


@pytest.fixture
def nowhere(team, customer_of):
    return customer_of(team.rep1, name="某某贸易商行", region="华东", city="", address="")


def plan(customer, rep, days=0):
    return services.visit_plan(
        customer=customer, actor=rep, planned_for=timezone.now() + timedelta(days=days), subject="拜访采购部"
    )


def check_in(activity, rep, lat=None, lng=None, accuracy=None):
    services.visit_check_in(activity=activity, actor=rep, latitude=lat, longitude=lng, accuracy=accuracy)
    return Activity.objects.get(pk=activity.pk)


def test_near_the_customers_own_coordinates_there_is_no_warning(team, placed):
    # 0.005° of latitude north: about 556 m.
    visit = check_in(plan(placed, team.rep1), team.rep1, PLANT[0] + 0.005, PLANT[1], 30)
    assert (visit.check_in_distance_m, visit.check_in_basis, visit.check_in_place) == (556, "customer", "")
    assert (visit.check_in_days_off, visit.check_in_warnings) == (0, "")
    assert plausibility.distance_text(visit) == "556 m from the customer"
    entry = TimelineEntry.objects.get(kind=ActivityEvent.CHECK_IN)
    assert entry.payload == {
        "latitude": "31.321000",
        "longitude": "120.672000",
        "accuracy_m": 30,
        "distance_m": 556,
        "basis": "customer",
        "place": "",
    }


def test_more_than_two_kilometres_from_the_customer_is_far(team, placed):
    visit = check_in(plan(placed, team.rep1), team.rep1, PLANT[0] + 0.03, PLANT[1], 25)  # about 3.3 km
    assert visit.check_in_distance_m == 3336
    assert visit.check_in_warning_codes == ["far"]
    assert plausibility.warning_texts(visit) == [
        "Far from the customer: more than 2 km from the customer's coordinates"
    ]
    assert TimelineEntry.objects.get(kind=ActivityEvent.CHECK_IN).payload["warnings"] == ["far"]


def test_a_poor_fix_whose_circle_reaches_the_customer_is_not_called_far(team, placed):
    visit = check_in(plan(placed, team.rep1), team.rep1, PLANT[0] + 0.03, PLANT[1], 1500)
    assert (visit.check_in_distance_m, visit.check_in_warnings) == (3336, "")


def test_without_coordinates_the_city_centre_stands_for_the_customer_with_a_wider_margin(team, city_only):
    # 无锡's centre is 31.4912, 120.3119; 0.1° north is about 11 km: inside the 30 km margin.
    visit = check_in(plan(city_only, team.rep1), team.rep1, 31.5912, 120.3119, 50)
    assert (visit.check_in_basis, visit.check_in_place, visit.check_in_distance_m) == ("place", "无锡市", 11120)
    assert visit.check_in_warnings == ""
    assert plausibility.distance_text(visit) == "11.1 km from the centre of 无锡市"
    # In 苏州 instead (about 37 km away): far from the city centre.
    far = check_in(plan(city_only, team.rep1), team.rep1, 31.2990, 120.5853, 50)
    assert (far.check_in_warning_codes, far.check_in_basis) == (["far"], "place")
    assert plausibility.warning_texts(far) == [
        "Far from the customer: more than 30 km from the centre of the customer's city"
    ]


def test_a_customer_no_city_places_gets_no_distance_and_no_far_warning(team, nowhere):
    visit = check_in(plan(nowhere, team.rep1), team.rep1, 31.3, 120.6, 10)
    assert (visit.check_in_distance_m, visit.check_in_basis, visit.check_in_warnings) == (None, "", "")


def test_checking_in_days_away_from_the_planned_day_is_flagged_both_ways(team, placed):
    late = check_in(plan(placed, team.rep1, days=-3), team.rep1, *PLANT, 10)
    assert (late.check_in_days_off, late.check_in_warning_codes) == (3, ["off_day"])
    assert plausibility.warning_texts(late) == ["Checked in 3 days after the planned day"]
    early = check_in(plan(placed, team.rep1, days=5), team.rep1, PLANT[0] + 0.1, PLANT[1], 10)
    assert (early.check_in_days_off, early.check_in_warning_codes) == (-5, ["far", "off_day"])
    assert plausibility.warning_texts(early)[1] == "Checked in 5 days before the planned day"
    # A day off is normal rescheduling.
    assert check_in(plan(placed, team.rep1, days=-1), team.rep1, *PLANT, 10).check_in_warnings == ""


def test_a_check_in_without_a_position_is_flagged(team, placed):
    visit = check_in(plan(placed, team.rep1), team.rep1)
    assert (visit.check_in_distance_m, visit.check_in_warning_codes) == (None, ["no_position"])
    assert plausibility.warning_texts(visit) == ["Checked in without a position"]


def test_the_rep_is_told_the_distance_and_the_warning_at_once(client, team, placed):
    visit = plan(placed, team.rep1)
    client.force_login(team.rep1)
    response = client.post(
        f"/activities/{visit.pk}/check-in/",
        {"latitude": PLANT[0] + 0.05, "longitude": PLANT[1], "accuracy": "20"},
        follow=True,
    )
    page = response.content.decode()
    assert "Checked in, 5.6 km from the customer. Far from the customer: more than 2 km" in page
    assert "Your manager sees this with the visit." in page
    assert 'class="check-in-distance">5.6 km from the customer<' in page


# --- the visit page and the review list: who sees what ---------------------------------------


@pytest.fixture
def flagged(team, placed, customer_of):
    """rep1's far check-in, rep1's fine one, rep3's without a position (华南)."""
    far = check_in(plan(placed, team.rep1), team.rep1, PLANT[0] + 0.05, PLANT[1], 20)
    fine = check_in(plan(placed, team.rep1), team.rep1, *PLANT, 20)
    south = customer_of(team.rep3, name="广州明达机电有限公司", region="广东", city="广州")
    blind = check_in(plan(south, team.rep3), team.rep3)
    return far, fine, blind


PAGES = {
    "visit-detail": {"anonymous": LOGIN, "rep2": 404, "rep3": 404, "rep1": 200, "manager1": 200, "manager2": 404},
    "check-ins": {"anonymous": LOGIN, "rep2": 200, "rep1": 200, "manager1": 200, "service1": 200},
}


@pytest.mark.parametrize(("page", "actor", "expected"), matrix(PAGES))
def test_who_may_open_the_check_in_pages(client, team, flagged, page, actor, expected):
    far, _fine, _blind = flagged
    act_as(client, team, actor)
    url = f"/activities/{far.pk}/" if page == "visit-detail" else "/activities/check-ins/"
    assert_status(client.get(url), expected)


def test_the_visit_page_shows_the_manager_the_distance_and_warnings(client, team, flagged):
    far, _fine, _blind = flagged
    client.force_login(team.manager1)
    page = client.get(f"/activities/{far.pk}/").content.decode()
    assert "5.6 km from the customer" in page
    assert "Far from the customer: more than 2 km from the customer&#x27;s coordinates" in page
    assert f'href="/activities/{far.pk}/visit/"' in page  # a manager may log it for the rep


def test_the_review_list_shows_a_managers_team_and_filters(client, team, flagged):
    far, fine, blind = flagged
    client.force_login(team.manager1)
    page = client.get("/activities/check-ins/").content.decode()
    assert f'data-visit="{far.pk}"' in page
    assert f'data-visit="{fine.pk}"' not in page  # no warning
    assert f'data-visit="{blind.pk}"' not in page  # another department
    page = client.get("/activities/check-ins/?all=on").content.decode()
    assert f'data-visit="{fine.pk}"' in page
    page = client.get("/activities/check-ins/?warning=off_day").content.decode()
    assert f'data-visit="{far.pk}"' not in page and "No check-ins to show." in page
    page = client.get(f"/activities/check-ins/?user={team.rep2.pk}").content.decode()
    assert f'data-visit="{far.pk}"' not in page
    client.force_login(team.gm)
    page = client.get("/activities/check-ins/?warning=no_position").content.decode()
    assert f'data-visit="{blind.pk}"' in page and f'data-visit="{far.pk}"' not in page


@pytest.mark.parametrize(
    "query",
    [
        "?user=abc",
        "?user=999999",
        "?warning=<b>",
        "?date_from=9999-12-31",
        "?date_to=0001-01-01",
        "?date_from=2026-12-31&date_to=2026-01-01",
        "?page=0",
        "?page=99999999999999999999",
        "?all=maybe",
    ],
)
def test_bad_review_parameters_never_break_the_page(client, team, flagged, query):
    client.force_login(team.manager1)
    assert client.get(f"/activities/check-ins/{query}").status_code == 200


def test_the_review_list_reads_a_fixed_number_of_queries(client, team, placed, django_assert_max_num_queries):
    for _ in range(12):
        check_in(plan(placed, team.rep1), team.rep1)
    client.force_login(team.manager1)
    client.get("/activities/check-ins/")  # warm the session and the scope
    with django_assert_max_num_queries(12):
        response = client.get("/activities/check-ins/")
    assert response.content.decode().count("data-visit=") == 12


def test_the_week_shows_check_ins_and_offers_todays_check_in(client, team, placed, flagged):
    far, _fine, _blind = flagged
    today = plan(placed, team.rep1)
    client.force_login(team.rep1)
    page = client.get(f"/activities/week/?user={team.rep1.pk}").content.decode()
    assert f'action="/activities/{today.pk}/check-in/"' in page
    assert f'data-check-in="{far.pk}"' in page and "5.6 km from the customer" in page
    client.force_login(team.manager1)
    page = client.get(f"/activities/week/?user={team.rep1.pk}").content.decode()
    assert f'action="/activities/{today.pk}/check-in/"' not in page  # only the rep checks in
    assert f'href="/activities/{far.pk}/"' in page


# --- the API -------------------------------------------------------------------------------------


def test_the_api_returns_the_check_in_fields(api_client, team, placed):
    visit = plan(placed, team.rep1)
    response = api_client(team.rep1).post(
        f"/api/v1/activities/{visit.pk}/check-in", {"latitude": PLANT[0] + 0.05, "longitude": PLANT[1], "accuracy": 20}
    )
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in body if k.startswith("check_in_") and k not in ("check_in_latitude",)} == {
        "check_in_longitude": 120.672,
        "check_in_accuracy_m": 20,
        "check_in_distance_m": 5560,
        "check_in_basis": "customer",
        "check_in_place": "",
        "check_in_days_off": 0,
        "check_in_warnings": ["far"],
    }


@pytest.mark.parametrize(
    ("actor", "expected"),
    [("anonymous", 401), ("rep2", 0), ("rep1", 1), ("manager1", 1), ("manager2", 1), ("gm", 2)],
)
def test_the_api_lists_flagged_check_ins_in_scope(api_client, team, flagged, actor, expected):
    client = api_client(None if actor == "anonymous" else getattr(team, actor))
    response = client.get("/api/v1/activities/check-ins")
    if expected == 401:
        assert response.status_code == 401
        return
    assert response.status_code == 200
    assert response.json()["count"] == expected


def test_the_api_check_in_list_filters_and_refuses_bad_input(api_client, team, flagged):
    far, fine, blind = flagged
    client = api_client(team.gm)
    items = client.get("/api/v1/activities/check-ins?warning=no_position").json()["items"]
    assert [(i["id"], i["customer_name"], i["check_in_warnings"]) for i in items] == [
        (blind.pk, "广州明达机电有限公司", ["no_position"])
    ]
    assert client.get("/api/v1/activities/check-ins?flagged=false").json()["count"] == 3
    assert client.get(f"/api/v1/activities/check-ins?user_id={team.rep3.pk}").json()["count"] == 1
    assert client.get("/api/v1/activities/check-ins?warning=bogus").status_code == 422
    response = client.get("/api/v1/activities/check-ins?date_from=2026-12-31&date_to=2026-01-01")
    assert response.status_code == 400
    assert client.get("/api/v1/activities/check-ins?date_from=9999-12-31").status_code == 422
    assert api_client(team.manager1).get(f"/api/v1/activities/check-ins?user_id={team.rep3.pk}").status_code == 404


def test_selectors_list_only_visible_check_ins(team, flagged):
    far, fine, blind = flagged
    filters = selectors.CheckInFilters(flagged=False)
    assert set(selectors.check_ins_for(team.rep1, filters)) == {far, fine}
    assert set(selectors.check_ins_for(team.rep3, filters)) == {blind}
