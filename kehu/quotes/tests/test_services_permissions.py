"""Who may write a quote: the owner and managers whose scope covers the owner; a denied write changes nothing."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied

from kehu.core.models import AuditEntry
from kehu.quotes import services
from kehu.quotes.models import Quote, QuoteLine


def writes(quote, book):
    line = quote.lines.order_by("position").first()
    return {
        "update": lambda actor: services.quote_update(
            quote=quote, actor=actor, expected_version=quote.version, title="改"
        ),
        "lines_add": lambda actor: services.quote_lines_add(quote=quote, actor=actor, lines=[(book.lathe_b.pk, 1)]),
        "paste": lambda actor: services.quote_lines_paste(quote=quote, actor=actor, text="CK6140-B\t1"),
        "line_update": lambda actor: services.quote_line_update(line=line, actor=actor, discount=Decimal("1")),
        "line_remove": lambda actor: services.quote_line_remove(line=line, actor=actor),
        "reprice": lambda actor: services.quote_reprice(quote=quote, actor=actor),
        "submit": lambda actor: services.quote_submit(quote=quote, actor=actor),
        "delete": lambda actor: services.quote_delete(quote=quote, actor=actor),
    }


def state_of(quote):
    row = Quote.objects.values("state", "title", "version", "total", "line_count", "deleted_at").get(pk=quote.pk)
    lines = list(QuoteLine.objects.filter(quote=quote).values_list("pk", "discount", "amount"))
    return row, lines, AuditEntry.objects.count()


WRITES = ["update", "lines_add", "paste", "line_update", "line_remove", "reprice", "submit", "delete"]


@pytest.mark.parametrize("operation", WRITES)
@pytest.mark.parametrize("who", ["anonymous", "rep2", "rep3", "manager2", "service1", "account_team_member"])
def test_a_denied_write_changes_nothing(draft, team, book, who, operation):
    if who == "anonymous":
        actor = AnonymousUser()
    elif who == "account_team_member":
        from kehu.customers.teams import team_member_add

        team_member_add(customer=draft.customer, user=team.rep3, role="service_specialist", actor=team.manager1)
        actor = type(team.rep3).objects.get(pk=team.rep3.pk)
    else:
        actor = getattr(team, who)
    before = state_of(draft)
    with pytest.raises(PermissionDenied):
        writes(draft, book)[operation](actor)
    assert state_of(draft) == before


@pytest.mark.parametrize("operation", WRITES)
@pytest.mark.parametrize("who", ["rep1", "manager1", "gm"])
def test_the_owner_and_the_managers_above_may_write(draft, team, book, who, operation):
    writes(draft, book)[operation](getattr(team, who))


@pytest.mark.parametrize("who", ["rep2", "manager2"])
def test_lifecycle_writes_are_denied_outside_the_scope(draft, team, who):
    services.quote_submit(quote=draft, actor=team.rep1)
    draft.refresh_from_db()
    before = state_of(draft)
    actor = getattr(team, who)
    for call in (services.quote_mark_sent, services.quote_accept, services.quote_reject, services.quote_revise):
        with pytest.raises(PermissionDenied):
            call(quote=draft, actor=actor)
    assert state_of(draft) == before


def test_creating_needs_the_customer_in_view(team, customer, book):
    for actor in (AnonymousUser(), team.rep3, team.service1):
        with pytest.raises(PermissionDenied):
            services.quote_create(customer=customer, actor=actor)
    assert not Quote.objects.exists()
    assert services.quote_create(customer=customer, actor=team.manager1).owner == team.manager1


def test_restore_is_for_the_scope(draft, team):
    services.quote_delete(quote=draft, actor=team.rep1)
    gone = Quote.objects.get(pk=draft.pk)
    with pytest.raises(PermissionDenied):
        services.quote_restore(quote=gone, actor=team.rep2)
    assert Quote.objects.get(pk=draft.pk).deleted_at is not None
    services.quote_restore(quote=gone, actor=team.manager1)
    assert Quote.objects.get(pk=draft.pk).deleted_at is None
