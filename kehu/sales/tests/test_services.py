from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from kehu.core.exceptions import ConcurrentEditError
from kehu.core.models import AuditEntry
from kehu.customers.models import TimelineEntry
from kehu.sales.events import SalesEvent
from kehu.sales.models import Opportunity, Pipeline, Stage, StageChange, StageKind
from kehu.sales.selectors import opportunity_qs_visible_to
from kehu.sales.services import opportunity_create, opportunity_delete, opportunity_move, opportunity_update


def stage(name, code="direct"):
    return Stage.objects.get(pipeline__code=code, name=name)


@pytest.fixture
def deal(team, customer_of):
    customer = customer_of(team.rep1)
    return opportunity_create(customer=customer, actor=team.rep1, name="数控机床 20 台", amount=Decimal("860000.00"))


def test_default_pipelines_are_data(db):
    direct = Pipeline.objects.get(code="direct")
    assert direct.is_default and direct.name == "直销"
    assert [s.name for s in direct.stages.order_by("order")] == [
        "初步接洽",
        "需求确认",
        "方案报价",
        "商务谈判",
        "赢单",
        "输单",
    ]
    assert Pipeline.objects.get(code="dealer").stages.filter(kind=StageKind.WON).count() == 1


def test_create_starts_in_first_open_stage(deal, team):
    assert deal.pipeline.code == "direct" and deal.stage.name == "初步接洽"
    assert deal.owner == team.rep1 and deal.probability == 10 and deal.amount == Decimal("860000.00")
    assert StageChange.objects.get(opportunity=deal).from_stage is None
    assert TimelineEntry.objects.filter(customer_id=deal.customer_id, kind=SalesEvent.OPPORTUNITY_CREATED).exists()
    assert AuditEntry.objects.filter(target_type="sales.opportunity", target_id=deal.pk, action="create").exists()


def test_create_keeps_source_lead(team, customer_of):
    opp = opportunity_create(customer=customer_of(team.rep1), actor=team.rep1, name="x", source_lead_id=42)
    assert Opportunity.objects.get(pk=opp.pk).source_lead_id == 42


def test_rep_cannot_give_a_deal_to_someone_else(team, customer_of):
    with pytest.raises(ValidationError):
        opportunity_create(customer=customer_of(team.rep1), actor=team.rep1, name="x", owner=team.rep2)
    opp = opportunity_create(customer=customer_of(team.rep1), actor=team.manager1, name="x", owner=team.rep2)
    assert opp.owner == team.rep2


def test_create_validates(team, customer_of):
    customer = customer_of(team.rep1)
    with pytest.raises(ValidationError) as exc:
        opportunity_create(customer=customer, actor=team.rep1, name=" ", amount=Decimal("-1"))
    assert {"name", "amount"} <= set(exc.value.message_dict)
    with pytest.raises(ValidationError):
        opportunity_create(customer=customer, actor=team.rep1, name="x", stage=stage("赢单"))
    with pytest.raises(ValidationError):
        opportunity_create(
            customer=customer,
            actor=team.rep1,
            name="x",
            pipeline=Pipeline.objects.get(code="dealer"),
            stage=stage("需求确认"),
        )
    assert not Opportunity.objects.exists()


def _entered(deal, ago):
    deal.stage_entered_at = timezone.now() - ago
    Opportunity.objects.filter(pk=deal.pk).update(stage_entered_at=deal.stage_entered_at)


def test_move_keeps_history_with_time_in_stage(deal, team):
    _entered(deal, timedelta(days=3))
    opportunity_move(opportunity=deal, stage=stage("方案报价"), actor=team.rep1)
    _entered(deal, timedelta(days=5))
    opportunity_move(opportunity=deal, stage=stage("商务谈判"), actor=team.rep1)
    deal.refresh_from_db()
    assert deal.stage.name == "商务谈判" and deal.probability == 75 and deal.version == 3
    changes = list(StageChange.objects.filter(opportunity=deal).order_by("at", "id"))
    assert [(c.from_stage and c.from_stage.name, c.to_stage.name) for c in changes] == [
        (None, "初步接洽"),
        ("初步接洽", "方案报价"),
        ("方案报价", "商务谈判"),
    ]
    assert timedelta(days=3) <= changes[1].time_in_previous < timedelta(days=3, minutes=1)
    assert timedelta(days=5) <= changes[2].time_in_previous < timedelta(days=5, minutes=1)
    assert (
        TimelineEntry.objects.filter(customer_id=deal.customer_id, kind=SalesEvent.OPPORTUNITY_STAGE_CHANGED).count()
        == 2
    )


def test_won_and_lost_need_a_reason(deal, team):
    for name in ("赢单", "输单"):
        with pytest.raises(ValidationError) as exc:
            opportunity_move(opportunity=deal, stage=stage(name), actor=team.rep1, reason="  ")
        assert "reason" in exc.value.message_dict
    deal.refresh_from_db()
    assert deal.status == StageKind.OPEN and deal.version == 1


def test_won_closes_and_announces(deal, team, django_capture_on_commit_callbacks, committed_events):
    with django_capture_on_commit_callbacks(execute=True):
        opportunity_move(opportunity=deal, stage=stage("赢单"), actor=team.rep1, reason="价格与交期都满足")
    deal.refresh_from_db()
    assert deal.status == StageKind.WON and deal.probability == 100 and deal.closed_at is not None
    assert deal.close_reason == "价格与交期都满足"
    assert TimelineEntry.objects.filter(customer_id=deal.customer_id, kind=SalesEvent.OPPORTUNITY_WON).exists()
    sent = [(e.kind.webhook, e.webhook) for e in committed_events if e.webhook is not None]
    assert [name for name, _payload in sent] == ["opportunity.won"]
    assert sent[0][1]["amount"] == "860000.00" and sent[0][1]["reason"] == "价格与交期都满足"


def test_lost_announces_lost(deal, team, django_capture_on_commit_callbacks, committed_events):
    with django_capture_on_commit_callbacks(execute=True):
        opportunity_move(opportunity=deal, stage=stage("输单"), actor=team.rep1, reason="竞争对手低价")
    assert [e.kind.webhook for e in committed_events if e.webhook is not None] == ["opportunity.lost"]
    assert TimelineEntry.objects.filter(kind=SalesEvent.OPPORTUNITY_LOST).exists()


def test_move_to_another_pipeline_stage_is_refused(deal, team):
    with pytest.raises(ValidationError):
        opportunity_move(opportunity=deal, stage=stage("样品试用", "dealer"), actor=team.rep1)


def test_version_conflict(deal, team):
    opportunity_update(opportunity=deal, actor=team.rep1, expected_version=1, amount=Decimal("900000"))
    stale = Opportunity.objects.get(pk=deal.pk)
    with pytest.raises(ConcurrentEditError):
        opportunity_update(opportunity=stale, actor=team.rep1, expected_version=1, name="other")
    with pytest.raises(ConcurrentEditError):
        opportunity_move(opportunity=stale, stage=stage("需求确认"), actor=team.rep1, expected_version=1)
    deal.refresh_from_db()
    assert deal.name == "数控机床 20 台" and deal.stage.name == "初步接洽" and deal.version == 2


def test_denied_writes_change_nothing(deal, team):
    for actor in (team.rep2, team.rep3, team.manager2):
        with pytest.raises(PermissionDenied):
            opportunity_update(opportunity=deal, actor=actor, expected_version=1, name="stolen")
        with pytest.raises(PermissionDenied):
            opportunity_move(opportunity=deal, stage=stage("需求确认"), actor=actor)
        with pytest.raises(PermissionDenied):
            opportunity_delete(opportunity=deal, actor=actor)
    deal.refresh_from_db()
    assert deal.name == "数控机床 20 台" and deal.version == 1 and deal.deleted_at is None
    assert StageChange.objects.filter(opportunity=deal).count() == 1


def test_manager_moves_team_deal_and_scope(deal, team):
    opportunity_move(opportunity=deal, stage=stage("需求确认"), actor=team.manager1)
    assert set(opportunity_qs_visible_to(team.rep1)) == {deal}
    assert set(opportunity_qs_visible_to(team.manager1)) == {deal}
    assert not opportunity_qs_visible_to(team.rep2).exists()
    assert not opportunity_qs_visible_to(team.manager2).exists()
    opportunity_delete(opportunity=deal, actor=team.rep1)
    assert not opportunity_qs_visible_to(team.rep1).exists()
