"""Stage menus name stages, say won or lost where the name does not, and name the pipeline where
stages of several pipelines share one menu."""

import re

import pytest
from django.urls import reverse

from kehu.sales.settings_services import stage_update
from kehu.sales.tests.factories import make_opportunity, stage


@pytest.fixture
def deal(team, customer_of):
    return make_opportunity(customer_of(team.rep1), team.rep1, name="贴片机 3 台", amount="560000")


def options(html: str, select_name: str) -> list[str]:
    menu = html.split(f'name="{select_name}"', 1)[1].split("</select>")[0]
    return re.findall(r"<option[^>]*>([^<]*)</option>", menu)


def as_user(client, user, language):
    user.language = language
    user.save()
    client.force_login(user)


def test_board_and_deal_menus_say_won_and_lost(client, team, deal):
    stage_update(actor=team.admin, stage=stage("赢单"), name="签约")
    as_user(client, team.rep1, "zh-hans")
    board = options(client.get(reverse("sales:board")).content.decode(), "stage")
    assert board == ["初步接洽", "需求确认", "方案报价", "商务谈判", "签约（赢单）", "输单"]
    detail = client.get(reverse("sales:opportunity-detail", args=[deal.pk])).content.decode()
    assert options(detail, "stage") == board
    as_user(client, team.rep1, "en")
    board = options(client.get(reverse("sales:board")).content.decode(), "stage")
    assert board[-2:] == ["签约 (Won)", "输单 (Lost)"]


def test_the_list_filter_names_each_stage_with_its_pipeline(client, team, deal):
    as_user(client, team.rep1, "zh-hans")
    page = client.get(reverse("sales:opportunity-list")).content.decode()
    stages = options(page, "stage")
    assert stages[0] == "任意阶段" and len(stages) == 13
    assert stages[1] == "直销 · 初步接洽" and "经销 · 意向登记" in stages and "直销 · 赢单" in stages
    assert stages.count("经销 · 赢单") == 1 and stages.index("经销 · 意向登记") == 7
    assert options(page, "owner")[0] == "任意负责人"
    assert options(page, "status") == ["任意状态", "进行中", "赢单", "输单"]


def test_moving_a_stage_out_says_where_its_deals_go(client, team, deal):
    as_user(client, team.admin, "zh-hans")
    page = client.get(reverse("sales:stage-delete", args=[stage("初步接洽").pk])).content.decode()
    assert options(page, "to_stage")[1:] == ["需求确认", "方案报价", "商务谈判", "赢单", "输单"]
    as_user(client, team.admin, "en")
    page = client.get(reverse("sales:stage-delete", args=[stage("初步接洽").pk])).content.decode()
    assert options(page, "to_stage")[-2:] == ["赢单 (Won)", "输单 (Lost)"]
