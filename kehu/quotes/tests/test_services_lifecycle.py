"""The lifecycle: one table of moves, sending, the customer's answer, revisions, the recycle bin."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from kehu.customers.models import TimelineEntry
from kehu.quotes import services
from kehu.quotes.events import QuoteEvent
from kehu.quotes.models import Quote, QuoteState
from kehu.quotes.tests.factories import make_quote
from kehu.sales.models import StageKind
from kehu.sales.services import opportunity_create

S = QuoteState


@pytest.fixture
def approved(draft, team):
    services.quote_submit(quote=draft, actor=team.rep1)
    draft.refresh_from_db()
    return draft


def test_the_table_of_moves():
    assert services.TRANSITIONS[S.DRAFT] == {S.PENDING: "submit", S.APPROVED: "submit"}
    assert set(services.TRANSITIONS[S.SENT]) == {S.ACCEPTED, S.REJECTED, S.EXPIRED, S.SUPERSEDED}
    assert services.TRANSITIONS[S.ACCEPTED] == {} and services.TRANSITIONS[S.SUPERSEDED] == {}
    assert set(services.TRANSITIONS) == set(S.values)


def test_an_empty_draft_or_one_past_its_date_is_not_submitted(customer, team, draft):
    empty = services.quote_create(customer=customer, actor=team.rep1)
    with pytest.raises(ValidationError) as refused:
        services.quote_submit(quote=empty, actor=team.rep1)
    assert refused.value.messages == ["Add at least one line before submitting the quote."]
    Quote.objects.filter(pk=draft.pk).update(valid_until=timezone.localdate() - timedelta(days=1))
    draft.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        services.quote_submit(quote=draft, actor=team.rep1)
    assert "valid_until" in refused.value.message_dict


def test_moves_outside_the_table_are_refused(draft, approved, team):
    with pytest.raises(ValidationError) as refused:
        services.quote_accept(quote=Quote.objects.create(
            number="Q2020-000001", customer=draft.customer, owner=team.rep1, valid_until=timezone.localdate()
        ), actor=team.rep1)  # fmt: skip
    assert refused.value.messages == ["A quote that is draft cannot become accepted."]
    with pytest.raises(ValidationError):
        services.quote_submit(quote=approved, actor=team.rep1)
    services.quote_accept(quote=approved, actor=team.rep1)
    for call in (services.quote_reject, services.quote_accept, services.quote_revise, services.quote_mark_sent):
        with pytest.raises(ValidationError):
            call(quote=approved, actor=team.rep1)
    with pytest.raises(ValidationError) as refused:
        services.quote_delete(quote=approved, actor=team.rep1)
    assert refused.value.messages == ["A quote that is accepted cannot be deleted."]


def test_send_then_accept_wins_the_opportunity(
    book, customer, team, django_capture_on_commit_callbacks, committed_events
):
    deal = opportunity_create(customer=customer, actor=team.rep1, name="车床 3 台")
    assert deal.amount == 0
    quote = services.quote_create(opportunity=deal, actor=team.rep1)
    assert quote.customer == customer and quote.opportunity == deal
    services.quote_lines_add(quote=quote, actor=team.rep1, lines=[(book.lathe_a.pk, 3)])
    services.quote_submit(quote=quote, actor=team.rep1)
    services.quote_mark_sent(quote=quote, actor=team.rep1, how="email")
    quote.refresh_from_db()
    assert quote.state == S.SENT and quote.sent_at is not None
    with django_capture_on_commit_callbacks(execute=True):
        services.quote_accept(quote=quote, actor=team.rep1, note="客户已签字盖章")
    quote.refresh_from_db()
    assert quote.state == S.ACCEPTED and quote.decision_note == "客户已签字盖章" and quote.decided_at
    deal.refresh_from_db()
    assert deal.status == StageKind.WON and deal.amount == Decimal("300.00")
    assert deal.close_reason == f"Quote {quote.number} accepted"
    hooks = [e.kind.webhook for e in committed_events if e.webhook]
    assert hooks == ["opportunity.won", "quote.accepted"]
    kinds = list(
        TimelineEntry.objects.filter(customer=customer, subject_type="quotes.quote")
        .order_by("pk")
        .values_list("kind", flat=True)
    )
    assert kinds == [QuoteEvent.CREATED, QuoteEvent.APPROVED, QuoteEvent.SENT, QuoteEvent.ACCEPTED]


def test_accepting_keeps_an_opportunitys_own_amount_and_runs_the_order_hook(book, customer, team, monkeypatch):
    deal = opportunity_create(customer=customer, actor=team.rep1, name="车床", amount=Decimal("5000"))
    quote = make_quote(customer, team.rep1, [(book.lathe_a.pk, 1)], opportunity=deal)
    services.quote_submit(quote=quote, actor=team.rep1)
    seen = []
    monkeypatch.setattr(services, "ON_ACCEPTED", [lambda q, actor: seen.append((q.pk, actor.pk))])
    services.quote_accept(quote=quote, actor=team.rep1)
    deal.refresh_from_db()
    assert deal.status == StageKind.WON and deal.amount == Decimal("5000.00")
    assert seen == [(quote.pk, team.rep1.pk)]


def test_the_customer_rejects(approved, team):
    services.quote_mark_sent(quote=approved, actor=team.rep1)
    services.quote_reject(quote=approved, actor=team.rep1, note="价格高于竞争对手")
    approved.refresh_from_db()
    assert approved.state == S.REJECTED and approved.decision_note == "价格高于竞争对手"
    entry = TimelineEntry.objects.get(customer=approved.customer, kind=QuoteEvent.REJECTED)
    assert "价格高于竞争对手" in entry.summary


def test_a_revision_copies_the_lines_and_supersedes_the_earlier_version(approved, team, book):
    services.quote_mark_sent(quote=approved, actor=team.rep1)
    services.quote_reject(quote=approved, actor=team.rep1)
    revision = services.quote_revise(quote=approved, actor=team.rep1)
    approved.refresh_from_db()
    assert approved.state == S.SUPERSEDED
    assert (revision.number, revision.revision, revision.previous, revision.state) == (
        approved.number, 2, approved, S.DRAFT,
    )  # fmt: skip
    assert str(revision) == f"{approved.number}-2"
    old = [(ln.code, ln.quantity, ln.amount) for ln in approved.lines.order_by("position")]
    new = [(ln.code, ln.quantity, ln.amount) for ln in revision.lines.order_by("position")]
    assert new == old and revision.total == approved.total and revision.line_count == 2
    # The earlier version stays as it was; the new one is edited.
    services.quote_lines_add(quote=revision, actor=team.rep1, lines=[(book.lathe_b.pk, 1)])
    assert approved.lines.count() == 2 and revision.lines.count() == 3
    with pytest.raises(ValidationError):
        services.quote_revise(quote=approved, actor=team.rep1)
    assert TimelineEntry.objects.filter(kind=QuoteEvent.REVISED, subject_id=revision.pk).exists()


def test_a_pending_or_draft_quote_is_not_revised_or_sent(draft, team):
    with pytest.raises(ValidationError) as refused:
        services.quote_revise(quote=draft, actor=team.rep1)
    assert refused.value.messages == ["A quote that is draft cannot be revised."]
    with pytest.raises(ValidationError) as refused:
        services.quote_mark_sent(quote=draft, actor=team.rep1)
    assert refused.value.messages == ["Only an approved quote can be sent to the customer."]
    with pytest.raises(ValidationError):
        services.quote_mark_sent(quote=draft, actor=team.rep1, how="fax")


def test_delete_and_restore(draft, team):
    services.quote_delete(quote=draft, actor=team.rep1)
    assert not Quote.objects.filter(pk=draft.pk, deleted_at__isnull=True).exists()
    with pytest.raises(ValidationError):
        services.quote_lines_add(quote=draft, actor=team.rep1, lines=[])
    services.quote_restore(quote=Quote.objects.get(pk=draft.pk), actor=team.rep1)
    assert Quote.objects.filter(pk=draft.pk, deleted_at__isnull=True).exists()
    assert TimelineEntry.objects.filter(kind=QuoteEvent.DELETED).count() == 1
    assert TimelineEntry.objects.filter(kind=QuoteEvent.RESTORED).count() == 1


def test_sent_twice_stays_sent(approved, team):
    """Handed over again: noted. E-mailed or shared once sent (the mail or link has its own entry):
    no second "sent"; nor for an accepted quote, which stays accepted."""
    services.quote_mark_sent(quote=approved, actor=team.rep1, how="manual")
    services.quote_mark_sent(quote=approved, actor=team.rep1, how="manual")
    services.quote_mark_sent(quote=approved, actor=team.rep1, how="email")
    approved.refresh_from_db()
    assert approved.state == S.SENT
    assert TimelineEntry.objects.filter(kind=QuoteEvent.SENT).count() == 2
    services.quote_accept(quote=approved, actor=team.rep1)
    services.quote_mark_sent(quote=Quote.objects.get(pk=approved.pk), actor=team.rep1, how="link")
    assert Quote.objects.get(pk=approved.pk).state == S.ACCEPTED
    assert TimelineEntry.objects.filter(kind=QuoteEvent.SENT).count() == 2
    with pytest.raises(ValidationError):
        services.quote_mark_sent(quote=Quote.objects.get(pk=approved.pk), actor=team.rep1, how="manual")


def test_header_validation(customer, team, customer_of):
    other = customer_of(team.rep1, name="杭州另一家公司")
    from kehu.customers.services import contact_create

    stranger = contact_create(customer=other, actor=team.rep1, name="李四")
    with pytest.raises(ValidationError) as refused:
        services.quote_create(customer=customer, actor=team.rep1, contact=stranger, title="a\x00")
    assert set(refused.value.message_dict) == {"contact"}
    with pytest.raises(ValidationError) as refused:
        services.quote_create(customer=customer, actor=team.rep1, owner=team.rep3)
    assert refused.value.message_dict == {"owner": ["You may not give quotes to this user."]}
    with pytest.raises(ValidationError) as refused:
        services.quote_create(customer=customer, actor=team.rep1, state="approved")
    assert "state" in refused.value.message_dict
    quote = services.quote_create(customer=customer, actor=team.manager1, owner=team.rep2)
    assert quote.owner == team.rep2 and quote.created_by == team.manager1


def test_accepting_when_the_opportunity_is_already_won_leaves_it(book, customer, team):
    from kehu.sales.models import Stage
    from kehu.sales.services import opportunity_move

    deal = opportunity_create(customer=customer, actor=team.rep1, name="车床", amount=Decimal("800"))
    won = Stage.objects.get(pipeline=deal.pipeline, kind=StageKind.WON)
    opportunity_move(opportunity=deal, stage=won, actor=team.rep1, reason="合同已签")
    quote = make_quote(customer, team.rep1, [(book.lathe_a.pk, 1)], opportunity=deal)
    services.quote_submit(quote=quote, actor=team.rep1)
    services.quote_accept(quote=quote, actor=team.rep1)
    deal.refresh_from_db()
    assert (deal.status, deal.close_reason, deal.amount) == (StageKind.WON, "合同已签", Decimal("800.00"))


def test_a_manager_accepts_for_a_rep_and_the_deal_of_another_owner_is_won(book, customer, team):
    deal = opportunity_create(customer=customer, actor=team.rep1, name="车床")
    quote = make_quote(customer, team.rep1, [(book.lathe_a.pk, 1)], opportunity=deal)
    services.quote_submit(quote=quote, actor=team.rep1)
    services.quote_accept(quote=quote, actor=team.manager1)
    deal.refresh_from_db()
    assert deal.status == StageKind.WON and deal.amount == Decimal("100.00")
