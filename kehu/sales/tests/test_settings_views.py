"""Pipeline and stage editing pages (SAL-2), the targets page's delete, and the opportunity delete
confirmation: who may use each, and what a press of each button does (no JavaScript needed)."""

from dataclasses import dataclass

import pytest
from django.urls import reverse

from kehu.core.models import AuditEntry
from kehu.customers.tests.permissions import LOGIN, act_as, assert_status, matrix, writes
from kehu.sales.models import Opportunity, Pipeline, Stage, StageChange, StageKind, Target
from kehu.sales.services import target_set
from kehu.sales.tests.factories import make_opportunity, stage


@dataclass
class World:
    team: object
    deal: object
    spare: object  # an unused open stage of 直销
    target: object


@pytest.fixture
def world(team, customer_of):
    from datetime import date

    deal = make_opportunity(customer_of(team.rep1), team.rep1, name="华星 数控机床", amount="500000")
    spare = Stage.objects.create(pipeline=deal.pipeline, name="样品测试", order=99, kind="open", probability=40)
    target = target_set(
        actor=team.manager1, level="department", department=team.east, month=date(2026, 5, 1), amount="1000000"
    )
    return World(team, deal, spare, target)


def state() -> dict:
    def rows(model):
        return list(model.objects.order_by("pk").values())

    return {
        "pipelines": rows(Pipeline),
        "stages": rows(Stage),
        "opportunities": rows(Opportunity),
        "changes": StageChange.objects.count(),
        "targets": rows(Target),
        "audit": AuditEntry.objects.count(),
    }


VIEWS = {
    "pipeline-settings-get": ("get", lambda w: reverse("sales:pipeline-settings"), None, None),
    "pipeline-edit-get": ("get", lambda w: reverse("sales:pipeline-edit", args=[w.deal.pipeline_id]), None, None),
    "stage-delete-get": ("get", lambda w: reverse("sales:stage-delete", args=[w.spare.pk]), None, None),
    "pipeline-create": (
        "post",
        lambda w: reverse("sales:pipeline-settings"),
        lambda w: {"name": "项目型", "code": "project"},
        lambda w: Pipeline.objects.filter(code="project").exists(),
    ),
    "pipeline-edit": (
        "post",
        lambda w: reverse("sales:pipeline-edit", args=[w.deal.pipeline_id]),
        lambda w: {"name": "直销（华东）", "is_default": "on", "is_active": "on"},
        lambda w: Pipeline.objects.get(pk=w.deal.pipeline_id).name == "直销（华东）",
    ),
    "stage-create": (
        "post",
        lambda w: reverse("sales:stage-create", args=[w.deal.pipeline_id]),
        lambda w: {"name": "技术交流", "kind": "open", "probability": 20},
        lambda w: Stage.objects.filter(name="技术交流").exists(),
    ),
    "stage-edit": (
        "post",
        lambda w: reverse("sales:stage-edit", args=[w.spare.pk]),
        lambda w: {"name": "样品验证", "kind": "open", "probability": 45},
        lambda w: Stage.objects.get(pk=w.spare.pk).name == "样品验证",
    ),
    "stage-shift": (
        "post",
        lambda w: reverse("sales:stage-shift", args=[w.spare.pk]),
        lambda w: {"direction": "up"},
        lambda w: Stage.objects.get(pk=w.spare.pk).order < Stage.objects.get(pk=stage("输单").pk).order,
    ),
    "stage-activate": (
        "post",
        lambda w: reverse("sales:stage-activate", args=[w.spare.pk]),
        lambda w: {"active": "0"},
        lambda w: not Stage.objects.get(pk=w.spare.pk).is_active,
    ),
    "stage-delete": (
        "post",
        lambda w: reverse("sales:stage-delete", args=[w.spare.pk]),
        lambda w: {},
        lambda w: not Stage.objects.filter(pk=w.spare.pk).exists(),
    ),
    "stage-move-deals": (
        "post",
        lambda w: reverse("sales:stage-move-deals", args=[w.deal.stage_id]),
        lambda w: {"to_stage": w.spare.pk},
        lambda w: Opportunity.objects.get(pk=w.deal.pk).stage_id == w.spare.pk,
    ),
    "target-delete": (
        "post",
        lambda w: reverse("sales:target-delete", args=[w.target.pk]),
        lambda w: {},
        lambda w: not Target.objects.filter(pk=w.target.pk).exists(),
    ),
    "opportunity-delete-get": (
        "get",
        lambda w: reverse("sales:opportunity-delete", args=[w.deal.pk]),
        None,
        None,
    ),
    "opportunity-delete": (
        "post",
        lambda w: reverse("sales:opportunity-delete", args=[w.deal.pk]),
        lambda w: {},
        lambda w: Opportunity.objects.get(pk=w.deal.pk).deleted_at is not None,
    ),
}
ADMINS_ONLY = {"anonymous": LOGIN, "rep1": 403, "manager1": 403, "marketing1": 403}
EXPECTED = {
    **{
        view: {**ADMINS_ONLY, "gm": 200, "admin": 200}
        for view in ("pipeline-settings-get", "pipeline-edit-get", "stage-delete-get")
    },
    **{
        view: {**ADMINS_ONLY, "gm": 302, "admin": 302}
        for view in (
            "pipeline-create",
            "pipeline-edit",
            "stage-create",
            "stage-edit",
            "stage-shift",
            "stage-activate",
            "stage-delete",
            "stage-move-deals",
        )
    },
    # 华东's target: its manager and the company-wide roles; for 华南's manager it is not there.
    "target-delete": {
        "anonymous": LOGIN,
        "rep1": 403,
        "marketing1": 403,
        "manager2": 404,
        "manager1": 302,
        "gm": 302,
        "admin": 302,
    },
    "opportunity-delete-get": {"anonymous": LOGIN, "rep2": 404, "marketing1": 404, "rep1": 200, "manager1": 200},
    "opportunity-delete": {
        "anonymous": LOGIN,
        "rep2": 404,
        "manager2": 404,
        "marketing1": 404,
        "rep1": 302,
        "manager1": 302,
        "admin": 302,
    },
}


@pytest.mark.parametrize(("view", "actor", "expected"), matrix(EXPECTED))
def test_settings_view_answers_by_role(client, world, view, actor, expected):
    method, url, data, _effect = VIEWS[view]
    act_as(client, world.team, actor)
    response = getattr(client, method)(url(world), data(world) if data else None)
    assert_status(response, expected)


DENIED, ALLOWED = writes(EXPECTED, VIEWS)


@pytest.mark.parametrize(("view", "actor", "expected"), DENIED)
def test_denied_settings_write_changes_nothing(client, world, view, actor, expected):
    _method, url, data, _effect = VIEWS[view]
    act_as(client, world.team, actor)
    before = state()
    assert_status(client.post(url(world), data(world)), expected)
    assert state() == before


@pytest.mark.parametrize(("view", "actor"), ALLOWED)
def test_allowed_settings_write_takes_effect(client, world, view, actor):
    _method, url, data, effect = VIEWS[view]
    act_as(client, world.team, actor)
    client.post(url(world), data(world))
    assert effect(world)


def test_board_links_the_settings_for_those_who_may_use_them(client, team):
    client.force_login(team.admin)
    assert reverse("sales:pipeline-settings") in client.get(reverse("sales:board")).content.decode()
    client.force_login(team.manager1)
    assert reverse("sales:pipeline-settings") not in client.get(reverse("sales:board")).content.decode()


def test_up_and_down_buttons_reorder_without_javascript(client, team):
    client.force_login(team.admin)
    page = client.get(reverse("sales:pipeline-edit", args=[stage("需求确认").pipeline_id])).content.decode()
    table = page.split('id="stage-table"')[1].split("</table>")[0]
    assert 'name="direction" value="up"' in table and "<script" not in table
    client.post(reverse("sales:stage-shift", args=[stage("需求确认").pk]), {"direction": "up"})
    names = list(Stage.objects.filter(pipeline__code="direct").order_by("order", "id").values_list("name", flat=True))
    assert names[:2] == ["需求确认", "初步接洽"]
    client.post(reverse("sales:stage-shift", args=[stage("需求确认").pk]), {"direction": "up"})  # already first
    client.post(reverse("sales:stage-shift", args=[stage("输单").pk]), {"direction": "down"})  # already last
    client.post(reverse("sales:stage-shift", args=[stage("需求确认").pk]), {"direction": "down"})
    names = list(Stage.objects.filter(pipeline__code="direct").order_by("order", "id").values_list("name", flat=True))
    assert names == ["初步接洽", "需求确认", "方案报价", "商务谈判", "赢单", "输单"]


def test_stage_in_use_offers_to_deactivate_or_move_its_deals(client, world):
    client.force_login(world.team.admin)
    url = reverse("sales:stage-delete", args=[world.deal.stage_id])
    page = client.get(url).content.decode()
    assert "cannot be deleted" in page and "1 deal is in it" in page
    assert reverse("sales:stage-activate", args=[world.deal.stage_id]) in page
    assert reverse("sales:stage-move-deals", args=[world.deal.stage_id]) in page
    response = client.post(url)
    assert response.status_code == 302 and Stage.objects.filter(pk=world.deal.stage_id).exists()
    follow = client.get(response.url).content.decode()
    assert "cannot be deleted" in follow


def test_move_all_deals_keeps_history_and_then_only_deactivation_is_offered(client, world):
    client.force_login(world.team.admin)
    first = world.deal.stage
    response = client.post(reverse("sales:stage-move-deals", args=[first.pk]), {"to_stage": stage("方案报价").pk})
    assert response.status_code == 302
    deal = Opportunity.objects.get(pk=world.deal.pk)
    assert deal.stage.name == "方案报价" and deal.probability == 50 and deal.version == 2
    change = StageChange.objects.filter(opportunity=deal).order_by("-id").first()
    assert change.from_stage == first and change.by == world.team.admin and change.time_in_previous is not None
    page = client.get(reverse("sales:stage-delete", args=[first.pk])).content.decode()
    assert "stage-history entries name it" in page and 'id="move-deals"' not in page


def test_moving_deals_into_a_closed_stage_asks_for_a_reason(client, world):
    client.force_login(world.team.admin)
    url = reverse("sales:stage-move-deals", args=[world.deal.stage_id])
    response = client.post(url, {"to_stage": stage("输单").pk})
    assert response.status_code == 400 and "Say why" in response.content.decode()
    assert Opportunity.objects.get(pk=world.deal.pk).status == StageKind.OPEN
    client.post(url, {"to_stage": stage("输单").pk, "reason": "产品线停产"})
    deal = Opportunity.objects.get(pk=world.deal.pk)
    assert deal.status == StageKind.LOST and deal.close_reason == "产品线停产"


def test_unused_stage_is_deleted_after_confirmation(client, world):
    client.force_login(world.team.admin)
    url = reverse("sales:stage-delete", args=[world.spare.pk])
    page = client.get(url).content.decode()
    assert "Delete it?" in page and Stage.objects.filter(pk=world.spare.pk).exists()
    client.post(url)
    assert not Stage.objects.filter(pk=world.spare.pk).exists()


def test_stage_row_edit_and_kind_rule_messages(client, world):
    client.force_login(world.team.admin)
    response = client.post(
        reverse("sales:stage-edit", args=[world.deal.stage_id]), {"name": "初步接洽", "kind": "won", "probability": 10}
    )
    page = client.get(response.url).content.decode()
    assert "move it to another stage first" in page
    assert Stage.objects.get(pk=world.deal.stage_id).kind == StageKind.OPEN
    client.post(
        reverse("sales:stage-edit", args=[stage("输单").pk]), {"name": "输单", "kind": "open", "probability": 0}
    )
    assert stage("输单").kind == StageKind.LOST
    assert "without an active lost stage" in client.get(response.url).content.decode()


def test_inactive_stage_leaves_the_board_and_the_move_menu(client, world):
    client.force_login(world.team.admin)
    client.post(reverse("sales:stage-activate", args=[world.spare.pk]), {"active": "0"})
    board = client.get(reverse("sales:board")).content.decode()
    assert 'aria-label="样品测试"' not in board and "样品测试</option>" not in board
    detail = client.get(reverse("sales:opportunity-detail", args=[world.deal.pk])).content.decode()
    assert "样品测试" not in detail
    response = client.post(
        reverse("sales:opportunity-move", args=[world.deal.pk]), {"stage": world.spare.pk, "version": 1}
    )
    assert response.status_code == 302
    assert Opportunity.objects.get(pk=world.deal.pk).stage_id != world.spare.pk


def test_pipeline_form_errors_are_shown(client, world):
    client.force_login(world.team.admin)
    url = reverse("sales:pipeline-edit", args=[world.deal.pipeline_id])
    response = client.post(url, {"name": "直销", "is_default": "on", "is_active": ""})
    assert response.status_code == 400 and "cannot be deactivated" in response.content.decode()
    response = client.post(reverse("sales:pipeline-settings"), {"name": "项目", "code": "Bad Code"})
    assert response.status_code == 200 and "lower-case" in response.content.decode()


def test_new_pipeline_flow(client, team):
    client.force_login(team.gm)
    response = client.post(reverse("sales:pipeline-settings"), {"name": "项目型", "code": "project"})
    pipeline = Pipeline.objects.get(code="project")
    assert response.url == reverse("sales:pipeline-edit", args=[pipeline.pk])
    page = client.get(response.url).content.decode()
    assert 'id="missing-kinds"' in page
    add = reverse("sales:stage-create", args=[pipeline.pk])
    for name, kind, p in (("立项", "open", 10), ("中标", "won", 100), ("未中标", "lost", 0)):
        assert client.post(add, {"name": name, "kind": kind, "probability": p}).status_code == 302
    assert client.post(add, {"name": "立项", "kind": "open", "probability": 5}).status_code == 400
    assert 'id="missing-kinds"' not in client.get(response.url).content.decode()
    client.post(response.url, {"name": "项目型", "is_default": "on", "is_active": "on"})
    assert Pipeline.objects.get(is_default=True) == pipeline


def test_opportunity_delete_asks_first_then_goes_to_the_recycle_bin(client, world):
    client.force_login(world.team.rep1)
    detail = client.get(reverse("sales:opportunity-detail", args=[world.deal.pk])).content.decode()
    url = reverse("sales:opportunity-delete", args=[world.deal.pk])
    assert f'href="{url}"' in detail  # a link to the confirmation page, not a one-click form
    page = client.get(url).content.decode()
    assert 'id="confirm-delete"' in page and "recycle bin" in page
    assert Opportunity.objects.get(pk=world.deal.pk).deleted_at is None
    response = client.post(url)
    assert response.status_code == 302
    deal = Opportunity.objects.get(pk=world.deal.pk)
    assert deal.deleted_at is not None and deal.deleted_by == world.team.rep1
    assert AuditEntry.objects.filter(target_type="sales.opportunity", target_id=deal.pk, action="delete").exists()
    assert client.get(url).status_code == 404
    assert f'id="opportunity-{deal.pk}"' not in client.get(reverse("sales:board")).content.decode()


def test_targets_page_removes_a_target(client, world):
    client.force_login(world.team.manager1)
    page = client.get(reverse("sales:targets") + "?year=2026").content.decode()
    assert reverse("sales:target-delete", args=[world.target.pk]) in page


def test_the_targets_page_offers_a_sales_manager_only_their_own_department_and_team(client, world):
    team = world.team
    from datetime import date

    theirs = target_set(actor=team.gm, level="department", department=team.south, month=date(2026, 5, 1), amount=9)
    company = target_set(actor=team.gm, level="company", month=date(2026, 5, 1), amount=99)
    client.force_login(team.manager1)
    response = client.get(reverse("sales:targets") + "?year=2026")
    form = response.context["form"]
    assert [value for value, _label in form.fields["level"].choices] == ["department", "rep"]
    assert list(form.fields["department"].queryset) == [team.east]
    assert {u.username for u in form.fields["user"].queryset} == {"manager1", "rep1", "rep2"}
    assert [t.pk for t in response.context["rows"]] == [world.target.pk]
    page = response.content.decode()
    assert reverse("sales:target-delete", args=[theirs.pk]) not in page
    assert reverse("sales:target-delete", args=[company.pk]) not in page
    refused = [
        {"level": "company", "metric": "sales", "month": "2026-06", "amount": "1"},
        {"level": "department", "metric": "sales", "month": "2026-06", "department": team.south.pk, "amount": "1"},
        {"level": "rep", "metric": "sales", "month": "2026-06", "user": team.rep3.pk, "amount": "1"},
    ]
    for data in refused:
        response = client.post(reverse("sales:targets"), data)
        assert response.status_code == 200 and response.context["form"].errors, data
    assert not Target.objects.filter(month=date(2026, 6, 1)).exists()
    assert client.post(reverse("sales:target-delete", args=[company.pk])).status_code == 404
    assert client.post(reverse("sales:target-delete", args=[theirs.pk])).status_code == 404
    assert Target.objects.count() == 3


def test_the_general_manager_sets_the_companys_target_on_the_page(client, world):
    client.force_login(world.team.gm)
    form = client.get(reverse("sales:targets")).context["form"]
    assert [value for value, _label in form.fields["level"].choices] == ["company", "department", "rep"]
    response = client.post(
        reverse("sales:targets"), {"level": "company", "metric": "sales", "month": "2026-06", "amount": "500000"}
    )
    assert response.status_code == 302
    assert Target.objects.filter(level="company", month="2026-06-01", amount=500000).exists()
