"""After a card moves, both columns' headers show their new count and sum at once: the htmx answer
swaps them in out of band (with the card's new version), the no-JavaScript form redirects to a
board counted again."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kehu.sales.models import Opportunity
from kehu.sales.tests.factories import make_opportunity, stage

HX = {"HX-Request": "true", "HX-Current-URL": "http://testserver/sales/?pipeline=1"}


@pytest.fixture
def deals(team, customer_of):
    c1, c2, c3 = customer_of(team.rep1), customer_of(team.rep2, name="杭州远达印染有限公司"), customer_of(team.rep3)
    return {
        "a": make_opportunity(c1, team.rep1, name="贴片机 3 台", amount="200000"),
        "b": make_opportunity(c2, team.rep2, name="空压机组 8 台", amount="300000"),
        "c": make_opportunity(c1, team.rep1, name="检测设备 6 台", amount="50000", at="需求确认"),
        # Another team's deal: never in manager1's or rep1's sums.
        "d": make_opportunity(c3, team.rep3, name="输送线 18 台", amount="900000", at="需求确认"),
    }


def header(html: str, stage_name: str) -> str:
    pk = stage(stage_name).pk
    match = re.search(rf'<div class="card-header[^"]*" id="stage-head-{pk}"(.*?)</div>\s*</div>', html, re.S)
    assert match, f"no header for {stage_name}"
    return match.group(1)


def count_and_sum(head: str) -> tuple[int, str]:
    count = int(re.search(r'board-count"[^>]*>(\d+)<', head).group(1))
    amount = re.search(r'board-sum">(¥[\d,]+)<', head)
    return count, amount.group(1) if amount else ""


def test_htmx_move_swaps_in_both_headers_and_the_card(client, team, deals):
    client.force_login(team.manager1)
    a = deals["a"]
    response = client.post(
        reverse("sales:opportunity-move", args=[a.pk]), {"stage": stage("需求确认").pk, "version": 1}, headers=HX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('hx-swap-oob="true"') == 3  # two headers and the card, nothing else
    assert count_and_sum(header(html, "初步接洽")) == (1, "¥300,000")  # rep2's deal is left
    assert count_and_sum(header(html, "需求确认")) == (2, "¥250,000")  # rep3's ¥900,000 is not manager1's
    card = re.search(rf'<article [^>]*id="opportunity-{a.pk}"[^>]*>', html).group(0)
    assert 'data-version="2"' in card and 'hx-swap-oob="true"' in card
    assert f'<option value="{stage("需求确认").pk}" selected>' in html
    assert 'name="next" value="/sales/?pipeline=1"' in html
    assert Opportunity.objects.get(pk=a.pk).stage == stage("需求确认")


def test_the_answer_costs_the_same_whatever_the_board_holds(client, team, deals, customer_of):
    client.force_login(team.rep1)
    url = reverse("sales:opportunity-move", args=[deals["a"].pk])
    with CaptureQueriesContext(connection) as few:
        client.post(url, {"stage": stage("需求确认").pk, "version": 1}, headers=HX)
    customer = customer_of(team.rep1, name="宁波海锐五金工具有限公司")
    for i in range(25):
        make_opportunity(customer, team.rep1, name=f"deal {i}", amount=str(1000 + i), at="方案报价" if i % 2 else None)
    with CaptureQueriesContext(connection) as many:
        response = client.post(url, {"stage": stage("方案报价").pk, "version": 2}, headers=HX)
    assert response.status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)
    sums = [q["sql"] for q in many.captured_queries if "SUM" in q["sql"].upper() and "GROUP BY" in q["sql"].upper()]
    assert len(sums) == 1  # the board's column-sum query, for both columns at once
    assert count_and_sum(header(response.content.decode(), "方案报价")) == (13, "¥212,144")


def test_a_refused_move_swaps_nothing(client, team, deals):
    client.force_login(team.rep1)
    url = reverse("sales:opportunity-move", args=[deals["a"].pk])
    client.post(url, {"stage": stage("需求确认").pk, "version": 1}, headers=HX)
    stale = client.post(url, {"stage": stage("方案报价").pk, "version": 1}, headers=HX)
    assert stale.status_code == 409
    assert "hx-swap-oob" not in stale.content.decode()


def test_without_javascript_the_board_after_the_move_is_counted_again(client, team, deals):
    client.force_login(team.rep1)
    board = reverse("sales:board")
    before = client.get(board).content.decode()
    assert count_and_sum(header(before, "初步接洽")) == (1, "¥200,000")
    assert count_and_sum(header(before, "需求确认")) == (1, "¥50,000")
    response = client.post(
        reverse("sales:opportunity-move", args=[deals["a"].pk]),
        {"stage": stage("需求确认").pk, "version": 1, "next": board},
    )
    assert response.status_code == 302 and response["Location"] == board
    after = client.get(board).content.decode()
    assert count_and_sum(header(after, "初步接洽")) == (0, "¥0")
    assert count_and_sum(header(after, "需求确认")) == (2, "¥250,000")
