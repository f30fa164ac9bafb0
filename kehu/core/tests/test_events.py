"""The event door: one call writes the audit row and the timeline entry in the caller's transaction
and hands the event to the after-commit sinks (webhooks, notifications) only once it commits."""

import pytest
from django.db import transaction

from kehu.core import events
from kehu.core.models import AuditAction, AuditEntry
from kehu.customers.events import CustomerEvent
from kehu.customers.models import TimelineEntry
from kehu.sales.events import SalesEvent
from kehu.webhooks.models import WebhookDelivery, WebhookSubscription


def test_one_call_writes_the_timeline_entry_and_the_audit_row(team, customer_of):
    customer = customer_of(team.rep1)
    TimelineEntry.objects.all().delete()
    AuditEntry.objects.all().delete()
    events.record(
        CustomerEvent.FACT_ADDED,
        customer_id=customer.pk,
        actor=team.rep1,
        subject=customer,
        summary="年采购额约 300 万",
        payload={"level": 2},
        audit=AuditAction.UPDATE,
        changes={"notes": ["", "x"]},
    )
    entry = TimelineEntry.objects.get()
    assert (entry.customer_id, entry.kind, entry.actor, entry.summary, entry.payload) == (
        customer.pk,
        "fact_added",
        team.rep1,
        "年采购额约 300 万",
        {"level": 2},
    )
    assert (entry.subject_type, entry.subject_id) == ("customers.customer", customer.pk)
    audit = AuditEntry.objects.get()
    assert (audit.action, audit.target_type, audit.target_id, audit.changes) == (
        AuditAction.UPDATE,
        "customers.customer",
        customer.pk,
        {"notes": ["", "x"]},
    )


def test_without_a_customer_there_is_no_timeline_entry_and_without_an_action_no_audit_row(team, customer_of):
    customer = customer_of(team.rep1)
    before = (TimelineEntry.objects.count(), AuditEntry.objects.count())
    events.record(CustomerEvent.CONTACT_CHANGED, actor=team.rep1, subject=customer)
    assert (TimelineEntry.objects.count(), AuditEntry.objects.count()) == before


def test_the_audit_row_may_name_another_record_than_the_timeline_subject(team, customer_of):
    kept, merged = customer_of(team.rep1, name="甲"), customer_of(team.rep1, name="乙")
    events.record(
        CustomerEvent.CUSTOMER_MERGED, customer_id=kept.pk, subject=kept, audit=AuditAction.DELETE, audit_target=merged
    )
    audit = AuditEntry.objects.latest("id")
    assert (audit.target_id, audit.target_repr) == (merged.pk, "乙")


def test_a_rolled_back_change_leaves_no_trace_and_tells_nobody(team, customer_of, committed_events):
    customer = customer_of(team.rep1)
    WebhookSubscription.objects.create(url="https://example.com/h", secret="s", events=["opportunity.won"])
    before = (TimelineEntry.objects.count(), AuditEntry.objects.count())
    with pytest.raises(RuntimeError), transaction.atomic():
        events.record(
            SalesEvent.OPPORTUNITY_WON, customer_id=customer.pk, subject=customer, audit=AuditAction.UPDATE, webhook={}
        )
        raise RuntimeError
    assert (TimelineEntry.objects.count(), AuditEntry.objects.count()) == before
    assert committed_events == [] and not WebhookDelivery.objects.exists()


def test_after_the_commit_the_webhook_sink_queues_one_delivery_per_listening_subscription(
    team, customer_of, committed_events, django_capture_on_commit_callbacks
):
    customer = customer_of(team.rep1)
    WebhookSubscription.objects.create(url="https://a.example.com/h", secret="s", events=["opportunity.won"])
    WebhookSubscription.objects.create(url="https://b.example.com/h", secret="s", events=["lead.created"])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        events.record(SalesEvent.OPPORTUNITY_WON, customer_id=customer.pk, webhook={"id": 7})
        events.record(SalesEvent.OPPORTUNITY_STAGE_CHANGED, customer_id=customer.pk, webhook={"id": 7})
    assert not WebhookDelivery.objects.exists()  # nothing before the commit
    for callback in callbacks:
        callback()
    delivery = WebhookDelivery.objects.get()  # the stage change has no webhook name: nothing sent
    assert (delivery.event, delivery.payload, delivery.subscription.url) == (
        "opportunity.won",
        {"id": 7},
        "https://a.example.com/h",
    )
    assert [e.kind.code for e in committed_events] == ["opportunity_won", "opportunity_stage"]


def test_a_batch_is_written_with_one_insert_per_kind_of_row(team, customer_of, django_assert_num_queries):
    customers = [customer_of(team.rep1, name=f"客户{i}") for i in range(30)]
    batch = [
        events.build(CustomerEvent.CUSTOMER_CHANGED, customer_id=c.pk, subject=c, audit=AuditAction.UPDATE)
        for c in customers
    ]
    with django_assert_num_queries(2):  # the audit rows, the timeline entries
        events.record_many(batch)


def test_recipients_are_user_ids_once_each_without_blanks(team):
    event = events.build(SalesEvent.OPPORTUNITY_ASSIGNED, notify=[team.rep1, team.rep1.pk, None, team.manager1])
    assert event.recipients == (team.rep1.pk, team.manager1.pk)


def test_an_unknown_kind_is_a_programming_error(team):
    with pytest.raises(ValueError, match="Unknown event kind"):
        events.record("no_such_kind", actor=team.rep1)


def test_a_kind_cannot_be_registered_twice_with_other_settings():
    events.register(events.EventKind("test_kind_once", "Once"))
    events.register(events.EventKind("test_kind_once", "Once"))  # the same again: fine (apps load twice)
    with pytest.raises(ValueError):
        events.register(events.EventKind("test_kind_once", "Once", notify=True))


def test_every_kind_has_a_label_in_both_languages():
    from django.utils import translation

    for kind in events.kinds():
        if kind.code.startswith("test_"):
            continue
        with translation.override("zh-hans"):
            chinese = str(kind.label)
        with translation.override("en"):
            english = str(kind.label)
        assert chinese and english and chinese != english, kind.code


def test_a_failing_after_commit_sink_is_logged_and_the_others_still_run(
    team, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    seen = []

    def broken(batch):
        raise RuntimeError("robot table unavailable")

    monkeypatch.setattr(events, "_after_commit", [broken, seen.extend])
    with django_capture_on_commit_callbacks(execute=True):
        events.record(SalesEvent.OPPORTUNITY_ASSIGNED, notify=[team.rep1])
    assert [e.kind.code for e in seen] == ["opportunity_assigned"]
    assert "robot table unavailable" in caplog.text
