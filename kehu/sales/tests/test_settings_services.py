"""Pipelines and stages as data (SAL-2): the rules the set-up services keep."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kehu.core.models import AuditEntry
from kehu.sales import services, settings_services
from kehu.sales.models import Opportunity, Pipeline, Stage, StageChange, StageKind, Target
from kehu.sales.services import opportunity_delete, pipeline_create, stage_create, target_set
from kehu.sales.settings_services import StageInUseError
from kehu.sales.tests.factories import make_opportunity, stage


@pytest.fixture
def deal(team, customer_of):
    return make_opportunity(customer_of(team.rep1), team.rep1, name="华星 数控机床", amount="500000")


def direct():
    return Pipeline.objects.get(code="direct")


def dealer():
    return Pipeline.objects.get(code="dealer")


def test_only_pipeline_managers_change_the_set_up(team):
    for who in (team.rep1, team.manager1):
        with pytest.raises(PermissionDenied):
            settings_services.pipeline_update(actor=who, pipeline=direct(), name="x")
        with pytest.raises(PermissionDenied):
            settings_services.stage_update(actor=who, stage=stage("需求确认"), probability=30)
        with pytest.raises(PermissionDenied):
            settings_services.stage_delete(actor=who, stage=stage("需求确认"))
    assert team.gm.has_perm("sales.manage_pipelines") and team.admin.has_perm("sales.manage_pipelines")


def test_rename_and_audit(team):
    settings_services.pipeline_update(actor=team.admin, pipeline=direct(), name=" 直销（大客户） ")
    assert direct().name == "直销（大客户）"
    entry = AuditEntry.objects.filter(target_type="sales.pipeline").latest("id")
    assert entry.changes == {"name": ["直销", "直销（大客户）"]} and entry.actor == team.admin
    with pytest.raises(ValidationError) as err:
        settings_services.pipeline_update(actor=team.admin, pipeline=direct(), name="经销")
    assert "name" in err.value.message_dict


def test_one_default_pipeline_which_stays_active(team):
    settings_services.pipeline_update(actor=team.admin, pipeline=dealer(), is_default=True)
    assert list(Pipeline.objects.filter(is_default=True)) == [dealer()]
    assert services.default_pipeline() == dealer()
    with pytest.raises(ValidationError, match="cannot be deactivated"):
        settings_services.pipeline_update(actor=team.admin, pipeline=dealer(), is_active=False)
    with pytest.raises(ValidationError, match="another pipeline the default"):
        settings_services.pipeline_update(actor=team.admin, pipeline=dealer(), is_default=False)
    settings_services.pipeline_update(actor=team.admin, pipeline=direct(), is_active=False)
    assert not direct().is_active


def test_an_incomplete_pipeline_cannot_be_the_default(team):
    project = pipeline_create(actor=team.admin, name="项目型", code="project")
    stage_create(actor=team.admin, pipeline=project, name="立项", kind="open")
    with pytest.raises(ValidationError, match="won stage, lost stage"):
        settings_services.pipeline_update(actor=team.admin, pipeline=project, is_default=True)
    with pytest.raises(ValidationError):
        pipeline_create(actor=team.admin, name="新", code="new", is_default=True)


def test_deals_do_not_open_in_an_inactive_pipeline_or_move_into_an_inactive_stage(team, customer_of, deal):
    settings_services.pipeline_update(actor=team.admin, pipeline=dealer(), is_active=False)
    with pytest.raises(ValidationError, match="inactive"):
        services.opportunity_create(customer=deal.customer, actor=team.rep1, name="新", pipeline=dealer())
    settings_services.stage_update(actor=team.admin, stage=stage("需求确认"), is_active=False)
    with pytest.raises(ValidationError, match="inactive"):
        services.opportunity_move(opportunity=deal, stage=stage("需求确认"), actor=team.rep1)
    # The first active open stage is where new deals start.
    settings_services.stage_update(actor=team.admin, stage=stage("初步接洽"), is_active=False)
    fresh = services.opportunity_create(customer=deal.customer, actor=team.rep1, name="新")
    assert fresh.stage.name == "方案报价"


def test_stage_added_at_the_end_and_validated(team):
    added = stage_create(actor=team.admin, pipeline=direct(), name="技术交流", probability=20)
    assert added.order == 7
    with pytest.raises(ValidationError):
        stage_create(actor=team.admin, pipeline=direct(), name="技术交流")
    with pytest.raises(ValidationError):
        stage_create(actor=team.admin, pipeline=direct(), name="x", probability=101)


def test_reorder_names_each_stage_once(team):
    ids = [s.pk for s in Stage.objects.filter(pipeline=direct()).order_by("order")]
    settings_services.stage_reorder(actor=team.admin, pipeline=direct(), stage_ids=list(reversed(ids)))
    assert [s.pk for s in Stage.objects.filter(pipeline=direct()).order_by("order")] == list(reversed(ids))
    for bad in (ids[:-1], [*ids, ids[0]], [*ids[:-1], stage("意向登记", "dealer").pk]):
        with pytest.raises(ValidationError):
            settings_services.stage_reorder(actor=team.admin, pipeline=direct(), stage_ids=bad)


def test_probability_change_leaves_existing_deals_alone(team, deal):
    settings_services.stage_update(actor=team.admin, stage=stage("初步接洽"), probability=15)
    deal.refresh_from_db()
    assert deal.probability == 10 and stage("初步接洽").probability == 15


def test_a_pipeline_keeps_an_open_a_won_and_a_lost_stage(team):
    with pytest.raises(ValidationError, match="without an active lost stage"):
        settings_services.stage_update(actor=team.admin, stage=stage("输单"), kind="open")
    with pytest.raises(ValidationError, match="without an active won stage"):
        settings_services.stage_update(actor=team.admin, stage=stage("赢单"), is_active=False)
    with pytest.raises(ValidationError, match="without an active lost stage"):
        settings_services.stage_delete(actor=team.admin, stage=stage("输单"))
    assert stage("输单").kind == StageKind.LOST and stage("赢单").is_active
    # A second won stage may go.
    stage_create(actor=team.admin, pipeline=direct(), name="部分赢单", kind="won", probability=100)
    settings_services.stage_update(actor=team.admin, stage=stage("赢单"), is_active=False)
    open_ids = list(Stage.objects.filter(pipeline=direct(), kind="open").values_list("pk", flat=True))
    for pk in open_ids[:-1]:
        settings_services.stage_delete(actor=team.admin, stage=Stage.objects.get(pk=pk))
    with pytest.raises(ValidationError, match="without an active open stage"):
        settings_services.stage_delete(actor=team.admin, stage=Stage.objects.get(pk=open_ids[-1]))


def test_kind_of_a_stage_holding_deals_does_not_change(team, deal):
    with pytest.raises(StageInUseError, match="move it to another stage first"):
        settings_services.stage_update(actor=team.admin, stage=stage("初步接洽"), kind="lost")
    opportunity_delete(opportunity=deal, actor=team.rep1)
    with pytest.raises(StageInUseError):  # in the recycle bin still counts
        settings_services.stage_update(actor=team.admin, stage=stage("初步接洽"), kind="lost")


@pytest.mark.parametrize("how", ["live", "deleted", "history"])
def test_a_stage_in_use_is_not_deleted(team, deal, how):
    if how == "deleted":
        opportunity_delete(opportunity=deal, actor=team.rep1)
    if how == "history":
        services.opportunity_move(opportunity=deal, stage=stage("需求确认"), actor=team.rep1)
    used = stage("初步接洽")
    with pytest.raises(StageInUseError) as err:
        settings_services.stage_delete(actor=team.admin, stage=used)
    usage = err.value.usage
    assert (usage.live, usage.deleted, usage.history > 0) == {
        "live": (1, 0, True),
        "deleted": (0, 1, True),
        "history": (0, 0, True),
    }[how]
    assert "Deactivate it instead" in err.value.messages[0]
    assert Stage.objects.filter(pk=used.pk).exists()


def test_unused_stage_is_deleted_with_an_audit_entry(team):
    spare = stage_create(actor=team.admin, pipeline=direct(), name="样品测试")
    settings_services.stage_delete(actor=team.admin, stage=spare)
    assert not Stage.objects.filter(pk=spare.pk).exists()
    assert AuditEntry.objects.filter(target_type="sales.stage", target_id=spare.pk, action="delete").exists()


def test_move_all_deals_goes_through_the_move(team, customer_of, deal):
    other = make_opportunity(customer_of(team.rep3, name="广州某厂"), team.rep3, name="南方", amount="1000")
    gone = make_opportunity(deal.customer, team.rep1, name="已删除")
    opportunity_delete(opportunity=gone, actor=team.rep1)
    moved = settings_services.stage_move_deals(actor=team.gm, stage=stage("初步接洽"), to_stage=stage("需求确认"))
    assert moved == 2
    for opp in (deal, other):
        opp.refresh_from_db()
        assert opp.stage.name == "需求确认" and opp.probability == 25
        last = StageChange.objects.filter(opportunity=opp).order_by("-id").first()
        assert last.from_stage.name == "初步接洽" and last.by == team.gm and last.time_in_previous is not None
    assert Opportunity.objects.get(pk=gone.pk).stage.name == "初步接洽"  # the recycle bin is left as it is
    with pytest.raises(ValidationError):
        settings_services.stage_move_deals(actor=team.gm, stage=stage("需求确认"), to_stage=stage("需求确认"))
    with pytest.raises(ValidationError):
        settings_services.stage_move_deals(actor=team.gm, stage=stage("需求确认"), to_stage=stage("样品试用", "dealer"))


def test_moving_closed_deals_reuses_their_reason(team, deal):
    services.opportunity_move(opportunity=deal, stage=stage("赢单"), actor=team.rep1, reason="价格合适")
    stage_create(actor=team.admin, pipeline=direct(), name="赢单（框架协议）", kind="won", probability=100)
    settings_services.stage_move_deals(actor=team.admin, stage=stage("赢单"), to_stage=stage("赢单（框架协议）"))
    deal.refresh_from_db()
    assert deal.stage.name == "赢单（框架协议）" and deal.close_reason == "价格合适" and deal.status == "won"


def test_target_delete_needs_the_target_permission(team):
    target = target_set(actor=team.manager1, level="rep", user=team.rep1, month=date(2026, 3, 1), amount=100)
    for who in (team.rep1, team.manager2):
        with pytest.raises(PermissionDenied):
            settings_services.target_delete(actor=who, target=target)
    settings_services.target_delete(actor=team.manager1, target=target)
    assert not Target.objects.exists()


def test_a_sales_manager_manages_the_targets_of_their_department_and_below_only(team):
    from kehu.users.services import department_create

    team_a = department_create(name="华东一组", parent=team.east, actor=None)
    month = date(2026, 3, 1)
    assert target_set(actor=team.manager1, level="department", department=team.east, month=month, amount=1)
    assert target_set(actor=team.manager1, level="department", department=team_a, month=month, amount=2)
    for fields in (
        {"level": "company"},
        {"level": "department", "department": team.south},
        {"level": "department", "department": team.sales},
        {"level": "rep", "user": team.rep3},
    ):
        with pytest.raises(PermissionDenied):
            target_set(actor=team.manager1, month=month, amount=3, **fields)
    company = target_set(actor=team.gm, level="company", month=month, amount=4)
    south = target_set(actor=team.admin, level="department", department=team.south, month=month, amount=5)
    for target in (company, south):
        with pytest.raises(PermissionDenied):
            settings_services.target_delete(actor=team.manager1, target=target)
    settings_services.target_delete(actor=team.manager2, target=south)
    settings_services.target_delete(actor=team.gm, target=company)
    assert Target.objects.count() == 2
