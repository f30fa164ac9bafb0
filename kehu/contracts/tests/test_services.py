from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kehu.contracts import services
from kehu.contracts.models import AmendmentState, Contract, ContractLine, ContractStage
from kehu.core.exceptions import ConcurrentEditError

S = ContractStage
ALL = list(S.values)
# Which stage may follow which: every pair, yes or no.
ALLOWED = {
    (S.DRAFT, S.PENDING),
    (S.PENDING, S.DRAFT),
    (S.PENDING, S.SIGNED),
    (S.SIGNED, S.PERFORMING),
    (S.SIGNED, S.COMPLETED),
    (S.SIGNED, S.TERMINATED),
    (S.SIGNED, S.VOID),
    (S.PERFORMING, S.COMPLETED),
    (S.PERFORMING, S.TERMINATED),
}


@pytest.mark.parametrize("source", ALL)
@pytest.mark.parametrize("to", ALL)
def test_the_transition_table(source, to):
    assert services.may_follow(source, to) == ((source, to) in ALLOWED)


def test_create_from_an_accepted_quote_copies_lines_and_terms(draft, accepted_quote, team):
    assert draft.number.startswith(f"HT{date.today().year}-")
    assert draft.stage == S.DRAFT
    assert draft.customer_id == accepted_quote.customer_id
    assert draft.quote_id == accepted_quote.pk
    assert draft.payment_terms == "预付 30%，货到付清"
    lines = list(ContractLine.objects.filter(contract=draft).order_by("position"))
    assert [(x.name, x.quantity, x.amount) for x in lines] == [
        ("数控车床", Decimal("3.000"), Decimal("300.00")),
        ("液压油", Decimal("2.500"), Decimal("625.00")),
    ]
    draft.refresh_from_db()
    assert draft.amount == draft.signed_amount == accepted_quote.total == Decimal("925.00")
    assert draft.line_count == 2


def test_only_an_accepted_quote_becomes_a_contract(book, customer, team):
    from kehu.quotes.tests.factories import make_quote

    quote = make_quote(customer, team.rep1, [(book.lathe_a.pk, 1)])
    with pytest.raises(ValidationError) as exc:
        services.contract_create(actor=team.rep1, quote=quote)
    assert "accepted" in str(exc.value)
    assert not Contract.objects.exists()


def test_another_rep_may_not_create_for_a_customer_he_does_not_see(customer, team):
    with pytest.raises(PermissionDenied):
        services.contract_create(actor=team.rep3, customer=customer, title="x")
    assert not Contract.objects.exists()


def test_update_checks_the_version(draft, team):
    services.contract_update(contract=draft, actor=team.rep1, expected_version=draft.version, title="新标题")
    stale = Contract.objects.get(pk=draft.pk)
    stale.version -= 1
    with pytest.raises(ConcurrentEditError):
        services.contract_update(contract=stale, actor=team.rep1, expected_version=stale.version, title="另一个")
    assert Contract.objects.get(pk=draft.pk).title == "新标题"


def test_other_rep_cannot_update(draft, team):
    with pytest.raises(PermissionDenied):
        services.contract_update(contract=draft, actor=team.rep2, expected_version=draft.version, title="x")
    assert Contract.objects.get(pk=draft.pk).title == draft.title


def test_submit_without_approval_then_sign(
    draft, team, no_approval, committed_events, django_capture_on_commit_callbacks
):
    services.contract_transition(contract=draft, to="pending", actor=team.rep1)
    draft.refresh_from_db()
    assert draft.stage == S.PENDING and draft.approved_at is not None
    assert services.stage_display(draft) == "Approved, to be signed"
    with pytest.raises(ValidationError):
        services.contract_transition(contract=draft, to="signed", actor=team.rep1)  # no date
    with django_capture_on_commit_callbacks(execute=True):
        services.contract_transition(contract=draft, to="signed", actor=team.rep1, signed_on=date(2026, 1, 5))
    draft.refresh_from_db()
    assert draft.stage == S.SIGNED and draft.signed_on == date(2026, 1, 5) and draft.starts_on == date(2026, 1, 5)
    signed = [e for e in committed_events if e.kind.code == "contract_signed"]
    assert (
        len(signed) == 1 and signed[0].webhook["number"] == draft.number and signed[0].customer_id == draft.customer_id
    )


def test_submit_with_approval_goes_through_the_engine(draft, team):
    from kehu.approvals import services as approval_services
    from kehu.approvals.models import ApprovalRequest

    services.contract_transition(contract=draft, to="pending", actor=team.rep1)
    draft.refresh_from_db()
    assert draft.stage == S.PENDING and draft.approved_at is None
    with pytest.raises(ValidationError):
        services.contract_transition(contract=draft, to="signed", actor=team.rep1, signed_on=date(2026, 1, 5))
    request = ApprovalRequest.objects.get(document_type="contract", object_id=draft.pk)
    # rep2 is no approver: refused, nothing changes
    with pytest.raises(PermissionDenied):
        approval_services.request_act(request=request, actor=team.rep2, action="approve")
    approval_services.request_act(request=request, actor=team.manager1, action="approve")
    draft.refresh_from_db()
    assert draft.stage == S.PENDING and draft.approved_at is not None


def test_rejection_goes_back_to_draft_with_the_comment(draft, team):
    from kehu.approvals import services as approval_services
    from kehu.approvals.models import ApprovalRequest
    from kehu.customers.models import TimelineEntry

    services.contract_transition(contract=draft, to="pending", actor=team.rep1)
    request = ApprovalRequest.objects.get(document_type="contract", object_id=draft.pk)
    approval_services.request_act(request=request, actor=team.manager1, action="reject", comment="价格太低")
    draft.refresh_from_db()
    assert draft.stage == S.DRAFT and draft.approved_at is None
    entry = TimelineEntry.objects.filter(customer=draft.customer, kind="contract_approval_rejected").get()
    assert "价格太低" in entry.summary


def test_close_needs_a_reason_and_closed_is_final(signed, team):
    with pytest.raises(ValidationError):
        services.contract_transition(contract=signed, to="terminated", actor=team.rep1)
    services.contract_transition(contract=signed, to="terminated", actor=team.rep1, reason="客户破产")
    signed.refresh_from_db()
    assert signed.stage == S.TERMINATED and signed.close_reason == "客户破产" and signed.closed_at
    with pytest.raises(ValidationError):
        services.contract_transition(contract=signed, to="completed", actor=team.rep1)


def test_signed_is_never_deleted(signed, team):
    with pytest.raises(ValidationError):
        services.contract_delete(contract=signed, actor=team.rep1)
    assert Contract.objects.get(pk=signed.pk).deleted_at is None


def test_draft_to_recycle_bin_and_back(draft, team):
    services.contract_delete(contract=draft, actor=team.rep1)
    assert Contract.objects.get(pk=draft.pk).deleted_at is not None
    services.contract_restore(contract=Contract.objects.get(pk=draft.pk), actor=team.rep1)
    assert Contract.objects.get(pk=draft.pk).deleted_at is None


def test_rollups_move_a_signed_contract_into_performance(signed):
    services.contract_rollups_set(contract_id=signed.pk, ordered_amount=Decimal("500.00"))
    signed.refresh_from_db()
    assert signed.stage == S.PERFORMING and signed.ordered_amount == Decimal("500.00")


def test_amendment_without_approval_applies_and_keeps_history(
    signed, team, committed_events, django_capture_on_commit_callbacks
):
    amendment = services.amendment_create(
        contract=signed,
        actor=team.rep1,
        summary="增加 1 台",
        amount_after="1025.00",
        ends_on_after=date(2027, 6, 30),
    )
    assert amendment.state == AmendmentState.DRAFT
    with django_capture_on_commit_callbacks(execute=True):
        services.amendment_submit(amendment=amendment, actor=team.rep1)
    amendment.refresh_from_db()
    signed.refresh_from_db()
    assert amendment.state == AmendmentState.EFFECTIVE
    assert (amendment.amount_before, amendment.amount_after) == (Decimal("925.00"), Decimal("1025.00"))
    assert signed.amount == Decimal("1025.00") and signed.signed_amount == Decimal("925.00")
    assert signed.ends_on == date(2027, 6, 30) and signed.stage == S.SIGNED
    assert any(e.kind.code == "contract_amended" and e.customer_id == signed.customer_id for e in committed_events)


def test_amendment_with_approval_waits(signed, team):
    from kehu.approvals import services as approval_services
    from kehu.approvals.models import ApprovalRequest
    from kehu.contracts.models import ContractSettings

    ContractSettings.objects.update(approval_above=Decimal("1000"))
    amendment = services.amendment_create(contract=signed, actor=team.rep1, summary="加量", amount_after="5000")
    services.amendment_submit(amendment=amendment, actor=team.rep1)
    amendment.refresh_from_db()
    assert amendment.state == AmendmentState.PENDING
    assert Contract.objects.get(pk=signed.pk).amount == Decimal("925.00")
    request = ApprovalRequest.objects.get(document_type="contract.amendment", object_id=amendment.pk)
    approval_services.request_act(request=request, actor=team.manager1, action="approve")
    amendment.refresh_from_db()
    assert amendment.state == AmendmentState.EFFECTIVE
    assert Contract.objects.get(pk=signed.pk).amount == Decimal("5000.00")


def test_an_amendment_that_changes_nothing_is_refused(signed, team):
    with pytest.raises(ValidationError):
        services.amendment_create(contract=signed, actor=team.rep1, summary="无变化")


def test_a_draft_is_not_amended(draft, team):
    with pytest.raises(ValidationError):
        services.amendment_create(contract=draft, actor=team.rep1, summary="x", amount_after="1")


def test_expiry_reminder_once(signed, team, committed_events, django_capture_on_commit_callbacks):
    from kehu.contracts.tasks import contracts_expiry_remind

    today = date(2026, 3, 1)
    Contract.objects.filter(pk=signed.pk).update(ends_on=today + timedelta(days=30))
    assert contracts_expiry_remind(today=today - timedelta(days=1)) == {"reminded": 0}
    with django_capture_on_commit_callbacks(execute=True):
        assert contracts_expiry_remind(today=today) == {"reminded": 1}
    assert contracts_expiry_remind(today=today) == {"reminded": 0}
    told = [e for e in committed_events if e.kind.code == "contract_expiring"]
    assert len(told) == 1 and told[0].recipients == (team.rep1.pk,) and told[0].customer_id == signed.customer_id


def test_lookups(signed, customer):
    from kehu.core import lookups

    assert lookups.ask(lookups.SIGNED_CONTRACT, [customer.pk]) == {customer.pk}
    items = lookups.ask_items(lookups.OPEN_MONEY, [customer.pk])[customer.pk]
    contract_items = [i for i in items if i.kind == "contract"]
    assert [(i.reference, i.amount) for i in contract_items] == [(signed.number, Decimal("925.00"))]
    Contract.objects.filter(pk=signed.pk).update(ends_on=date(2020, 1, 1))
    assert lookups.ask(lookups.SIGNED_CONTRACT, [customer.pk]) == set()


def test_every_event_lands_on_the_customers_timeline(signed, team):
    from kehu.customers.models import TimelineEntry

    amendment = services.amendment_create(contract=signed, actor=team.rep1, summary="延期", ends_on_after="2028-01-01")
    services.amendment_submit(amendment=amendment, actor=team.rep1)
    services.contract_transition(contract=signed, to="completed", actor=team.rep1)
    kinds = set(
        TimelineEntry.objects.filter(
            customer=signed.customer, subject_type="contracts.contract", subject_id=signed.pk
        ).values_list("kind", flat=True)
    )
    assert kinds == {
        "contract_created",
        "contract_submitted",
        "contract_approved",
        "contract_signed",
        "contract_amendment_changed",
        "contract_amended",
        "contract_completed",
    }
