"""Account teams (KAM-1) and sharing (ACC-3): who may change a team, what a change records, and
that a member sees the customer in every list, search and related record until the end date."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from kehu.activities.selectors import activity_qs_visible_to
from kehu.activities.services import activity_log
from kehu.core import events
from kehu.core.exceptions import ConcurrentEditError
from kehu.core.models import AuditEntry
from kehu.customers import selectors, sharing, teams
from kehu.customers.models import AccountTeamMember, TimelineEntry
from kehu.customers.services import contact_create, fact_create
from kehu.users.models import User

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


def fresh(user) -> User:
    """The user as the next request loads them (scope and teams are resolved once per request)."""
    return User.objects.get(pk=user.pk)


@pytest.fixture
def shared(team, customer_of):
    """A customer of rep1 (华东) with a contact, a level-3 fact and a visit; rep3 (华南) is outside rep1's
    and manager1's scopes."""
    customer = customer_of(team.rep1, name="苏州共享精密机械有限公司", phone="051265871234")
    contact_create(customer=customer, actor=team.rep1, name="李娜", mobile="13900002222")
    fact_create(customer=customer, actor=team.rep1, level=3, title="扩产预算两千万")
    activity_log(customer=customer, actor=team.rep1, kind="visit", subject="拜访采购部")
    return customer


def _state(customer):
    return (
        list(AccountTeamMember.objects.filter(customer=customer).values_list("user_id", "role", "ends_on", "version")),
        TimelineEntry.objects.filter(customer=customer).count(),
        AuditEntry.objects.count(),
    )


# ---- who may change the team --------------------------------------------------------------------


def test_the_owners_manager_adds_someone_outside_the_owners_scope(team, shared):
    member = teams.team_member_add(customer=shared, user=team.rep3, role="service_specialist", actor=team.manager1)
    assert (member.user, member.role, member.ends_on, member.added_by) == (
        team.rep3,
        "service_specialist",
        None,
        team.manager1,
    )
    entry = TimelineEntry.objects.filter(customer=shared).order_by("-id").first()
    assert (entry.kind, entry.actor, entry.summary) == ("team_member_added", team.manager1, "rep3")
    assert entry.payload == {"user_id": team.rep3.pk, "role": "service_specialist", "ends_on": None}
    audit = AuditEntry.objects.get(target_type="customers.accountteammember", target_id=member.pk)
    assert (audit.action, audit.actor, audit.changes) == (
        "create",
        team.manager1,
        {"user": [None, "rep3"], "role": [None, "service_specialist"]},
    )


def test_an_administrator_adds_anyone(team, shared):
    teams.team_member_add(customer=shared, user=team.marketing1, role="other", actor=team.admin)
    assert AccountTeamMember.objects.filter(customer=shared, user=team.marketing1).exists()


def test_the_owner_may_not_share_outside_their_own_scope_and_nothing_is_written(team, shared):
    before = _state(shared)
    with pytest.raises(ValidationError) as exc:
        teams.team_member_add(customer=shared, user=team.rep2, role="other", actor=team.rep1)
    assert exc.value.message_dict == {
        "user": ["This person is outside your scope: ask the owner's manager to add them to the team."]
    }
    assert _state(shared) == before


def test_the_owner_shares_inside_their_scope(team, shared):
    team.rep1.data_scope_override = "department"
    team.rep1.save()
    teams.team_member_add(customer=shared, user=team.rep2, role="sales_manager", actor=fresh(team.rep1))
    assert AccountTeamMember.objects.get(customer=shared).user == team.rep2


@pytest.mark.parametrize("actor", ["rep2", "rep3", "manager2", "marketing1"])
def test_members_and_outsiders_may_not_add_and_nothing_is_written(team, shared, actor):
    teams.team_member_add(customer=shared, user=team.rep3, role="sales_manager", actor=team.manager1)
    before = _state(shared)
    with pytest.raises(PermissionDenied):
        teams.team_member_add(customer=shared, user=team.manager2, role="other", actor=fresh(getattr(team, actor)))
    assert _state(shared) == before


def test_members_may_not_change_or_remove_anyone(team, shared):
    member = teams.team_member_add(customer=shared, user=team.rep3, role="sales_manager", actor=team.manager1)
    before = _state(shared)
    with pytest.raises(PermissionDenied):
        teams.team_member_update(member=member, actor=fresh(team.rep3), expected_version=1, role="other")
    with pytest.raises(PermissionDenied):
        teams.team_member_remove(member=member, actor=fresh(team.rep3))
    assert _state(shared) == before


def test_the_owner_keeps_off_members_their_manager_brought_from_outside(team, shared):
    member = teams.team_member_add(customer=shared, user=team.rep3, role="sales_manager", actor=team.manager1)
    with pytest.raises(PermissionDenied):
        teams.team_member_remove(member=member, actor=team.rep1)


@pytest.mark.parametrize(
    ("who", "ends_on", "errors"),
    [
        ("rep1", None, {"user": ["The owner is on the team already."]}),
        ("rep3", date(2020, 1, 1), {"ends_on": ["The end date cannot be in the past; remove the member instead."]}),
    ],
)
def test_bad_members_and_dates_are_refused(team, shared, who, ends_on, errors):
    before = _state(shared)
    with pytest.raises(ValidationError) as exc:
        teams.team_member_add(
            customer=shared, user=getattr(team, who), role="other", ends_on=ends_on, actor=team.manager1
        )
    assert exc.value.message_dict == errors
    assert _state(shared) == before


def test_a_person_is_on_the_team_once_and_an_ended_membership_is_renewed(team, shared):
    teams.team_member_add(customer=shared, user=team.rep3, role="other", actor=team.manager1)
    with pytest.raises(ValidationError) as exc:
        teams.team_member_add(customer=shared, user=team.rep3, role="other", actor=team.manager1)
    assert exc.value.message_dict == {"user": ["This person is on the team already."]}
    AccountTeamMember.objects.filter(user=team.rep3).update(ends_on=TODAY() - timedelta(days=1))
    renewed = teams.team_member_add(customer=shared, user=team.rep3, role="sales_manager", actor=team.manager1)
    assert (renewed.role, renewed.ends_on, renewed.version) == ("sales_manager", None, 2)
    assert AccountTeamMember.objects.filter(customer=shared).count() == 1


def test_a_stale_version_changes_nothing(team, shared):
    member = teams.team_member_add(customer=shared, user=team.rep3, role="other", actor=team.manager1)
    teams.team_member_update(member=member, actor=team.manager1, expected_version=1, role="sales_manager")
    stale = AccountTeamMember.objects.get(pk=member.pk)
    stale.version = 1
    before = _state(shared)
    with pytest.raises(ConcurrentEditError):
        teams.team_member_update(member=stale, actor=team.admin, expected_version=1, ends_on=TODAY())
    with pytest.raises(ConcurrentEditError):
        teams.team_member_remove(member=stale, actor=team.admin)
    assert _state(shared) == before


def test_update_and_remove_are_recorded(team, shared):
    member = teams.team_member_add(customer=shared, user=team.rep3, role="other", actor=team.manager1)
    until = TODAY() + timedelta(days=30)
    teams.team_member_update(member=member, actor=team.manager1, expected_version=1, ends_on=until)
    teams.team_member_remove(member=member, actor=team.admin, expected_version=2)
    kinds = list(
        TimelineEntry.objects.filter(customer=shared, kind__startswith="team_member")
        .order_by("id")
        .values_list("kind", flat=True)
    )
    assert kinds == ["team_member_added", "team_member_changed", "team_member_removed"]
    trail = AuditEntry.objects.filter(target_type="customers.accountteammember", target_id=member.pk).order_by("id")
    assert [(a.action, a.changes) for a in trail] == [
        ("create", {"user": [None, "rep3"], "role": [None, "other"]}),
        ("update", {"ends_on": [None, until.isoformat()]}),
        ("delete", {"user": ["rep3", None], "role": ["other", None], "ends_on": [until.isoformat(), None]}),
    ]
    assert not AccountTeamMember.objects.filter(pk=member.pk).exists()


def test_the_member_is_told_after_the_commit(team, shared, django_capture_on_commit_callbacks):
    told = []
    sink = events.sink(lambda batch: told.extend((e.kind.code, e.recipients, e.link) for e in batch), after_commit=True)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            teams.team_member_add(customer=shared, user=team.rep3, role="other", actor=team.manager1)
    finally:
        events._after_commit.remove(sink)
    assert told == [("team_member_added", (team.rep3.pk,), f"/customers/{shared.pk}/")]
    assert any(k.code == "team_member_added" for k in events.kinds(notify=True))


# ---- what a member sees -------------------------------------------------------------------------


def _sees(user, customer) -> dict:
    user = fresh(user)
    page = selectors.customer_page(user, selectors.CustomerFilters(), offset=0, limit=25)
    search = selectors.customer_page(user, selectors.CustomerFilters(q="共享"), offset=0, limit=25)
    return {
        "visible": selectors.customer_qs_visible_to(user).filter(pk=customer.pk).exists(),
        "list": customer.pk in [c.pk for c in page.rows],
        "search": customer.pk in [c.pk for c in search.rows],
        "contacts": selectors.contact_qs_visible_to(user).filter(customer=customer).count(),
        "activities": activity_qs_visible_to(user).filter(customer=customer).count(),
        "sensitive": selectors.can_see_sensitive(user, customer),
    }


SEES_ALL = {"visible": True, "list": True, "search": True, "contacts": 1, "activities": 1}
SEES_NOTHING = {"visible": False, "list": False, "search": False, "contacts": 0, "activities": 0, "sensitive": False}


def test_a_member_sees_the_customer_everywhere_until_the_end_date(team, shared, customer_of):
    customer_of(team.rep3, name="广州南方物流有限公司")
    assert _sees(team.rep3, shared) == SEES_NOTHING
    teams.team_member_add(
        customer=shared, user=team.rep3, role="service_specialist", ends_on=TODAY(), actor=team.manager1
    )
    assert _sees(team.rep3, shared) == {**SEES_ALL, "sensitive": False}  # the last day counts
    AccountTeamMember.objects.filter(user=team.rep3).update(ends_on=TODAY() - timedelta(days=1))  # a day later
    assert _sees(team.rep3, shared) == SEES_NOTHING


def test_a_removed_member_sees_nothing(team, shared):
    member = teams.team_member_add(customer=shared, user=team.rep3, role="sales_manager", actor=team.manager1)
    teams.team_member_remove(member=member, actor=team.manager1)
    assert _sees(team.rep3, shared) == SEES_NOTHING


@pytest.mark.parametrize(
    ("role", "sensitive"),
    [
        ("account_manager", True),
        ("executive_sponsor", True),
        ("sales_manager", True),
        ("service_specialist", False),
        ("other", False),
    ],
)
def test_the_team_role_decides_levels_3_and_4(team, shared, role, sensitive):
    teams.team_member_add(customer=shared, user=team.rep3, role=role, actor=team.manager1)
    rep3 = fresh(team.rep3)
    assert selectors.can_see_sensitive(rep3, shared) is sensitive
    assert [f.title for f in selectors.facts_of(shared, sensitive=selectors.can_see_sensitive(rep3, shared))] == (
        ["扩产预算两千万"] if sensitive else []
    )
    row = selectors.customer_page(rep3, selectors.CustomerFilters(), offset=0, limit=25).rows[0]
    assert row.sensitive is sensitive


def test_a_manager_member_sees_levels_3_and_4_by_their_own_role(team, shared):
    teams.team_member_add(customer=shared, user=team.manager2, role="other", actor=team.admin)
    assert selectors.can_see_sensitive(fresh(team.manager2), shared) is True


def test_a_manager_sees_levels_3_and_4_of_what_their_people_share_without_asking_again(
    team, customer_of, django_assert_num_queries
):
    south = customer_of(team.rep3, name="广州南方精密机械有限公司")
    other = customer_of(team.rep3, name="广州南方物流有限公司")
    teams.team_member_add(customer=south, user=team.rep1, role="other", actor=team.admin)
    manager1 = fresh(team.manager1)
    seen = selectors.customer_get(manager1, south.pk)  # the 360° page: the scope and shares are read here
    with django_assert_num_queries(0):
        assert selectors.can_see_sensitive(manager1, seen) is True
        assert selectors.can_see_sensitive(manager1, other) is False
        seen.deleted_at = timezone.now()
        assert selectors.can_see_sensitive(manager1, seen) is False


def test_past_the_literal_cap_the_shared_customers_are_asked_of_the_database(
    team, customer_of, monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr(sharing, "LITERAL_CAP", 0)  # one shared customer is already too many to hold
    south = customer_of(team.rep3, name="广州南方精密机械有限公司")
    other = customer_of(team.rep3, name="广州南方物流有限公司")
    teams.team_member_add(customer=south, user=team.rep1, role="other", actor=team.admin)
    manager1 = fresh(team.manager1)
    seen = selectors.customer_get(manager1, south.pk)
    with django_assert_num_queries(1):
        assert selectors.can_see_sensitive(manager1, seen) is True
    with django_assert_num_queries(1):
        assert selectors.can_see_sensitive(manager1, other) is False


def test_the_list_merges_shared_customers_into_the_scope_in_order_without_overlap(team, customer_of):
    mine = [customer_of(team.rep1, name=f"常州自有机械{i:02d}有限公司") for i in range(20)]
    theirs = [customer_of(team.rep3, name=f"广州共享机械{i:02d}有限公司") for i in range(12)]
    for c in theirs:
        teams.team_member_add(customer=c, user=team.rep1, role="other", actor=team.admin)
    rep1 = fresh(team.rep1)
    newest_first = [c.pk for c in sorted(mine + theirs, key=lambda c: (c.updated_at, c.pk), reverse=True)]
    seen = []
    for offset in (0, 25):
        page = selectors.customer_page(rep1, selectors.CustomerFilters(), offset=offset, limit=25)
        assert (page.count, page.count_is_capped) == (32, False)
        seen += [c.pk for c in page.rows]
    assert seen == newest_first
    by_name = selectors.customer_page(rep1, selectors.CustomerFilters(sort="name"), offset=0, limit=5)
    assert [c.name for c in by_name.rows] == sorted(c.name for c in mine + theirs)[:5]
    south = selectors.customer_page(rep1, selectors.CustomerFilters(owner=team.rep3.pk), offset=0, limit=25)
    assert sorted(c.pk for c in south.rows) == sorted(c.pk for c in theirs)


def test_deals_of_a_shared_customer_stay_with_their_owners_scope(team, shared):
    """Members see the customer, its contacts, activities and history; its deals count for their
    owners' board and forecast and are read in the deal owner's scope only."""
    from kehu.sales.selectors import opportunity_qs_visible_to
    from kehu.sales.services import opportunity_create

    deal = opportunity_create(actor=team.rep1, customer=shared, name="二期扩产", amount=100000)
    teams.team_member_add(customer=shared, user=team.rep3, role="sales_manager", actor=team.manager1)
    assert not opportunity_qs_visible_to(fresh(team.rep3)).filter(pk=deal.pk).exists()
    assert opportunity_qs_visible_to(fresh(team.manager1)).filter(pk=deal.pk).exists()


def test_a_merge_keeps_one_membership_per_person(team, customer_of):
    from kehu.customers.merge import customer_merge

    keep = customer_of(team.rep1, name="无锡合并甲有限公司")
    other = customer_of(team.rep1, name="无锡合并乙有限公司")
    until = TODAY() + timedelta(days=10)
    teams.team_member_add(customer=keep, user=team.rep3, role="other", ends_on=until, actor=team.admin)
    teams.team_member_add(customer=other, user=team.rep3, role="sales_manager", actor=team.admin)
    teams.team_member_add(customer=other, user=team.manager2, role="other", actor=team.admin)
    customer_merge(target=keep, sources=[other], actor=team.admin)
    assert sorted(AccountTeamMember.objects.filter(customer=keep).values_list("user__username", "ends_on")) == [
        ("manager2", None),
        ("rep3", None),  # the later end wins
    ]


# ---- plans: sharing does not cost the list its index walk ---------------------------------------

MILLION_CUSTOMERS = {
    "customer_created_idx": "1000000 1 1",
    "customer_name_idx": "1000000 2 1",
    "customer_owner_updated_idx": "1000000 200000 1 1",
    "customer_updated_idx": "1000000 1 1",
    "customers_customer_owner_id_fbb2798e": "1000000 200000",
}


@pytest.mark.skipif(connection.vendor != "sqlite", reason="EXPLAIN QUERY PLAN is SQLite's")
@pytest.mark.parametrize("who", ["rep1", "manager1"])
def test_a_scope_with_shared_customers_walks_indexes_and_stops(team, customer_of, who, django_assert_max_num_queries):
    from django.test.utils import CaptureQueriesContext

    for i in range(3):
        c = customer_of(team.rep3, name=f"广州共享{i}有限公司")
        teams.team_member_add(customer=c, user=getattr(team, who), role="other", actor=team.admin)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute("DELETE FROM sqlite_stat1 WHERE tbl = 'customers_customer'")
        cursor.executemany(
            "INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('customers_customer', %s, %s)",
            list(MILLION_CUSTOMERS.items()),
        )
        cursor.execute("ANALYZE sqlite_schema")
    user = fresh(getattr(team, who))
    with CaptureQueriesContext(connection) as ctx:
        selectors.customer_page(user, selectors.CustomerFilters(), offset=0, limit=25, columns=selectors.LIST_COLUMNS)
    union = next(q["sql"] for q in ctx.captured_queries if "UNION ALL" in q["sql"])
    with connection.cursor() as cursor:
        plan = "\n".join(str(row) for row in cursor.execute("EXPLAIN QUERY PLAN " + union).fetchall())
    # Each part reads an index in the list's order and stops at its LIMIT; only the ≤ 2×26 ids are sorted.
    assert "customer_owner_updated_idx" in plan or "customer_updated_idx" in plan, plan
    assert plan.count("USE TEMP B-TREE FOR ORDER BY") <= 2, plan
    assert "SCAN customers_customer\n" not in plan + "\n", plan


# ---- a manager sees what the people in their scope share ----------------------------------------


@pytest.mark.parametrize("cap", [1000, 1])  # a literal id list, and the subquery past the cap
def test_a_manager_sees_the_customers_shared_with_their_team(team, customer_of, monkeypatch, cap):
    from kehu.customers import sharing

    monkeypatch.setattr(sharing, "LITERAL_CAP", cap)
    south = [customer_of(team.rep3, name=f"广州共享{i}号有限公司") for i in range(3)]
    own = customer_of(team.rep2, name="常州自有机械有限公司")
    for c in south[:2]:
        teams.team_member_add(customer=c, user=team.rep1, role="other", actor=team.manager2)
    teams.team_member_add(customer=own, user=team.rep1, role="other", actor=team.manager1)  # inside the scope
    manager1 = fresh(team.manager1)
    assert sharing.shares_for(manager1).overflow is (cap == 1)
    page = selectors.customer_page(manager1, selectors.CustomerFilters(), offset=0, limit=25)
    assert [c.name for c in page.rows] == ["常州自有机械有限公司", "广州共享1号有限公司", "广州共享0号有限公司"]
    assert (page.count, page.has_next) == (3, False)
    assert set(selectors.customer_qs_visible_to(manager1).values_list("pk", flat=True)) == {
        own.pk,
        *(c.pk for c in south[:2]),
    }
    assert _sees(team.manager1, south[0])["sensitive"] is True  # a manager of the member, with view_sensitive
    assert _sees(team.manager2, south[0])["visible"] is True  # the owner's manager, as ever
    assert _sees(team.rep2, south[0]) == SEES_NOTHING  # a colleague of the member is not on the team


def test_a_member_may_not_change_delete_or_reassign_the_shared_customer_even_through_the_services(team, customer_of):
    from kehu.customers.models import Customer
    from kehu.customers.services import customer_delete, customer_update
    from kehu.customers.teams import team_member_add

    customer = customer_of(team.rep1, name="共享客户")
    team_member_add(customer=customer, user=team.manager2, role="sales_manager", actor=team.admin)
    for write in (
        lambda: customer_update(customer=customer, actor=team.manager2, expected_version=customer.version, name="x"),
        lambda: customer_update(
            customer=customer, actor=team.manager2, expected_version=customer.version, owner=team.rep3
        ),
        lambda: customer_delete(customer=customer, actor=team.manager2),
    ):
        with pytest.raises(PermissionDenied):
            write()
    fresh = Customer.objects.get(pk=customer.pk)
    assert (fresh.name, fresh.owner, fresh.deleted_at) == ("共享客户", team.rep1, None)
