"""Discount limits and the floor price through the real approvals engine."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kehu.approvals.models import ApprovalRequest, ApproverTask, RequestState, TaskState
from kehu.approvals.services import flow_get, flow_save, open_request, request_act
from kehu.customers.models import TimelineEntry
from kehu.quotes import approval, services
from kehu.quotes.events import QuoteEvent
from kehu.quotes.models import QuoteLine, QuoteState


def discount(quote, actor, percent):
    for line in QuoteLine.objects.filter(quote=quote):
        services.quote_line_update(line=line, actor=actor, discount=Decimal(percent))
    quote.refresh_from_db()
    return quote


def pending_approvers(request):
    return set(
        ApproverTask.objects.filter(request=request, state=TaskState.PENDING).values_list(
            "approver__username", flat=True
        )
    )


def test_within_the_limit_it_is_approved_without_a_request(
    draft, team, django_capture_on_commit_callbacks, committed_events
):
    discount(draft, team.rep1, "5")
    with django_capture_on_commit_callbacks(execute=True):
        services.quote_submit(quote=draft, actor=team.rep1)
    draft.refresh_from_db()
    assert draft.state == QuoteState.APPROVED and draft.approved_at is not None
    assert not ApprovalRequest.objects.filter(document_type="quote").exists()
    hooks = [(e.kind.webhook, e.webhook["number"], e.webhook["state"]) for e in committed_events if e.webhook]
    assert hooks == [("quote.approved", draft.number, "approved")]


def test_twelve_percent_by_a_rep_goes_to_the_sales_managers(draft, team):
    discount(draft, team.rep1, "12")
    services.quote_submit(quote=draft, actor=team.rep1)
    draft.refresh_from_db()
    assert draft.state == QuoteState.PENDING
    request = open_request("quote", draft.pk)
    assert request.facts["discount"] == "12.00" and request.facts["below_floor"] == "no"
    assert request.facts["approver"] == "sales_manager" and request.facts["amount"] == str(draft.total)
    assert pending_approvers(request) == {"manager1", "manager2"}
    request_act(request=request, actor=team.manager1, action="approve")
    draft.refresh_from_db()
    assert draft.state == QuoteState.APPROVED
    request.refresh_from_db()
    assert request.state == RequestState.APPROVED


def test_twenty_percent_needs_the_general_manager(draft, team):
    discount(draft, team.rep1, "20")
    services.quote_submit(quote=draft, actor=team.rep1)
    request = open_request("quote", draft.pk)
    assert request.facts["approver"] == "general_manager"
    assert pending_approvers(request) == {"gm"}
    with pytest.raises(PermissionDenied):
        request_act(request=request, actor=team.manager1, action="approve")
    # Handed to a sales manager anyway, the engine refuses his approval: 15 % does not cover 20 %.
    request_act(request=request, actor=team.gm, action="transfer", user=team.manager1.pk)
    with pytest.raises(ValidationError) as refused:
        request_act(request=request, actor=team.manager1, action="approve")
    assert "up to 15.00 %; this quote gives 20.00 %" in refused.value.messages[0]
    draft.refresh_from_db()
    assert draft.state == QuoteState.PENDING
    request_act(request=request, actor=team.manager1, action="transfer", user=team.gm.pk)
    request_act(request=request, actor=team.gm, action="approve")
    draft.refresh_from_db()
    assert draft.state == QuoteState.APPROVED


def test_below_the_floor_only_the_floor_roles_approve(book, customer, team):
    from kehu.quotes.tests.factories import make_quote

    book.lathe.floor_price = Decimal("98")
    book.lathe.save()
    quote = make_quote(customer, team.rep1, [(book.lathe_a.pk, 1)])
    discount(quote, team.rep1, "3")  # within the rep's 5 %, but 97.00 is below the floor of 98.00
    assert quote.below_floor and quote.max_discount == Decimal("3.00")
    # An administrator routed the floor step to the sales managers: the engine still refuses them.
    steps = [dict(step) for step in flow_get("quote").current.steps]
    steps[2]["approvers"] = [{"kind": "role", "role": "sales_manager"}]
    flow_save(document_type="quote", steps=steps, actor=team.admin)
    services.quote_submit(quote=quote, actor=team.rep1)
    request = open_request("quote", quote.pk)
    assert request.facts["below_floor"] == "yes" and request.facts["approver"] == ""
    assert pending_approvers(request) == {"manager1", "manager2"}
    with pytest.raises(ValidationError) as refused:
        request_act(request=request, actor=team.manager1, action="approve")
    assert refused.value.messages == ["This quote has a price below the floor: only General manager may approve it."]
    quote.refresh_from_db()
    assert quote.state == QuoteState.PENDING
    request_act(request=request, actor=team.manager1, action="transfer", user=team.gm.pk)
    request_act(request=request, actor=team.gm, action="approve")
    quote.refresh_from_db()
    assert quote.state == QuoteState.APPROVED


def test_below_the_floor_goes_to_the_general_manager_by_default(book, customer, team):
    from kehu.quotes.tests.factories import make_quote

    quote = make_quote(customer, team.rep1, [(book.lathe_a.pk, 1)])
    services.quote_line_update(line=quote.lines.get(), actor=team.rep1, unit_price=Decimal("79"))
    quote.refresh_from_db()
    assert quote.below_floor and quote.max_discount == Decimal("21.00")
    services.quote_submit(quote=quote, actor=team.rep1)
    request = open_request("quote", quote.pk)
    assert pending_approvers(request) == {"gm"}
    request_act(request=request, actor=team.gm, action="approve")
    quote.refresh_from_db()
    assert quote.state == QuoteState.APPROVED


def test_rejection_returns_the_draft_with_the_comment_on_the_timeline(draft, team, django_capture_on_commit_callbacks):
    from kehu.notifications.models import Notification

    discount(draft, team.rep1, "12")
    services.quote_submit(quote=draft, actor=team.rep1)
    request = open_request("quote", draft.pk)
    with django_capture_on_commit_callbacks(execute=True):
        request_act(request=request, actor=team.manager1, action="reject", comment="折扣太大，最多 8%")
    draft.refresh_from_db()
    assert draft.state == QuoteState.DRAFT
    entry = TimelineEntry.objects.get(customer=draft.customer, kind=QuoteEvent.APPROVAL_REJECTED)
    assert "折扣太大，最多 8%" in entry.summary and entry.actor == team.manager1
    assert Notification.objects.filter(recipient=team.rep1, kind=QuoteEvent.APPROVAL_REJECTED).exists()
    # A draft again: the rep lowers the discount and submits once more.
    discount(draft, team.rep1, "5")
    services.quote_submit(quote=draft, actor=team.rep1)
    draft.refresh_from_db()
    assert draft.state == QuoteState.APPROVED


def test_approval_tells_the_owner(draft, team, django_capture_on_commit_callbacks):
    from kehu.notifications.models import Notification

    discount(draft, team.rep1, "12")
    services.quote_submit(quote=draft, actor=team.rep1)
    with django_capture_on_commit_callbacks(execute=True):
        request_act(request=open_request("quote", draft.pk), actor=team.manager1, action="approve")
    assert Notification.objects.filter(recipient=team.rep1, kind=QuoteEvent.APPROVED).count() == 1


def test_withdrawn_by_the_rep_goes_back_to_draft(draft, team):
    discount(draft, team.rep1, "12")
    services.quote_submit(quote=draft, actor=team.rep1)
    services.quote_withdraw(quote=draft, actor=team.rep1)
    draft.refresh_from_db()
    assert draft.state == QuoteState.DRAFT
    assert ApprovalRequest.objects.get(document_type="quote").state == RequestState.REVOKED
    # and it can be changed again
    discount(draft, team.rep1, "4")
    assert draft.max_discount == Decimal("4.00")


def test_a_discount_no_role_may_approve_is_refused_at_submit(draft, team):
    discount(draft, team.rep1, "40")
    with pytest.raises(ValidationError) as refused:
        services.quote_submit(quote=draft, actor=team.rep1)
    assert refused.value.messages == ["No role may approve a discount of 40.00 %; the largest limit is 30.00 %."]
    draft.refresh_from_db()
    assert draft.state == QuoteState.DRAFT
    assert not ApprovalRequest.objects.exists()


def test_a_sales_managers_own_quote_within_his_limit_is_approved_at_once(book, customer, team):
    from kehu.quotes.tests.factories import make_quote

    quote = make_quote(customer, team.manager1, [(book.oil_46.pk, 1)])
    discount(quote, team.manager1, "14")
    services.quote_submit(quote=quote, actor=team.manager1)
    quote.refresh_from_db()
    assert quote.state == QuoteState.APPROVED


def test_the_type_is_registered_with_its_fields_and_default_steps():
    from kehu.approvals import registry

    kind = registry.get("quote")
    assert set(kind.fields) == {"amount", "discount", "below_floor", "approver"}
    assert [s["name"] for s in kind.default_steps] == ["Sales manager", "General manager", "Below the floor price"]
    assert kind.may_approve is approval.may_approve


def test_a_returned_request_is_withdrawn_to_change_the_quote(draft, team):
    discount(draft, team.rep1, "12")
    services.quote_submit(quote=draft, actor=team.rep1)
    request = open_request("quote", draft.pk)
    request_act(request=request, actor=team.manager1, action="return", comment="请把交期写清楚")
    draft.refresh_from_db()
    assert draft.state == QuoteState.PENDING  # still out of the rep's hands until withdrawn
    services.quote_withdraw(quote=draft, actor=team.rep1)
    draft.refresh_from_db()
    assert draft.state == QuoteState.DRAFT


def test_only_the_submitter_withdraws(draft, team):
    discount(draft, team.rep1, "12")
    services.quote_submit(quote=draft, actor=team.rep1)
    with pytest.raises(ValidationError):
        services.quote_withdraw(quote=draft, actor=team.manager1)
    draft.refresh_from_db()
    assert draft.state == QuoteState.PENDING


def test_below_the_floor_with_no_floor_roles_is_refused_at_submit(book, customer, team):
    from kehu.catalog.models import PricingSettings
    from kehu.quotes.tests.factories import make_quote

    settings = PricingSettings.load()
    settings.floor_approver_roles = []
    settings.save()
    quote = make_quote(customer, team.rep1, [(book.lathe_a.pk, 1)])
    services.quote_line_update(line=quote.lines.get(), actor=team.rep1, unit_price=Decimal("79"))
    with pytest.raises(ValidationError) as refused:
        services.quote_submit(quote=quote, actor=team.rep1)
    assert "no role is named" in refused.value.messages[0]
    quote.refresh_from_db()
    assert quote.state == QuoteState.DRAFT
