"""Dispatch (SRV-1): the engineers ranked for a ticket on a fixed history — skill and certificate
for the unit's product or its category (an expired certificate does not count), region against the
customer's province and city, load, first-time-fix rate — with the reasons shown, the engineer on
leave last and excluded; a fixed number of queries whatever the number of engineers."""

from datetime import date

import pytest
from django.utils import translation

from kehu.support.dispatch import rank_engineers
from kehu.support.tests.field_setup import NOW, Field
from kehu.support.visit_services import SkillLine
from kehu.users.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def field(team, customer_of):
    made = Field(team, customer_of)
    # The desk's two engineers without profiles leave: the five of Field.five() are ranked.
    User.objects.filter(pk__in=[made.engineer.pk, made.engineer2.pk]).update(is_active=False)
    return made


def test_the_ranking_on_a_fixed_history(field):
    field.five()
    with translation.override("en"):
        ranked = rank_engineers(field.ticket, now=NOW)
    assert [(c.engineer.username, c.score, c.excluded) for c in ranked] == [
        ("zhang", 52 + 10 - 9 - 5 + 20, False),
        ("li", 10 + 20 + 30, False),
        ("zhao", 30 + 4 * 5, False),
        ("wang", 10 + 20, False),
        ("chen", 0, True),
    ]
    assert [c.reasons for c in ranked] == [
        [
            "certified for 数控车床 (level 3, until 2027-05)",
            "covers 浙江 宁波",
            "3 open tickets, 1 visit today",
            "fixed 2 of 3 on the first visit in the last 180 days",
        ],
        [
            "knows 数控机床 (level 2), not certified",
            "covers 浙江 宁波",
            "0 open tickets, 0 visits today",
            "fixed 1 of 1 on the first visit in the last 180 days",
        ],
        [
            "certified for 机床 (level 5)",
            "does not cover 浙江 宁波",
            "0 open tickets, 0 visits today",
            "no first visits in the last 180 days",
        ],
        [
            "certificate for 数控车床 expired 2025-03 (level 4, not counted)",
            "covers 浙江 宁波",
            "0 open tickets, 0 visits today",
            "fixed 0 of 1 on the first visit in the last 180 days",
        ],
        ["on leave until 2026-10-08"],
    ]
    busy = ranked[0]
    assert (busy.open_tickets, busy.visits_today, busy.first_fixed, busy.first_visits) == (3, 1, 2, 3)


def test_the_reasons_in_chinese(field):
    field.five()
    with translation.override("zh-hans"):
        ranked = rank_engineers(field.ticket, now=NOW)
    assert ranked[0].reasons == [
        "持有数控车床认证（3 级，有效至 2027-05）",
        "服务区域包含 浙江 宁波",
        "3 个未结工单，今天 1 次上门",
        "近 180 天首次上门修复 3 次中的 2 次",
    ]
    assert ranked[-1].reasons == ["休假至 2026-10-08"]


def test_leave_that_ended_counts_again_and_a_ticket_without_a_product(field):
    people = field.five()
    field.make_engineer("chen", on_leave=True, leave_until=date(2026, 9, 24), regions=[("浙江", "宁波")], skills=[])
    with translation.override("en"):
        ranked = rank_engineers(field.ticket, now=NOW)
        chen = next(c for c in ranked if c.engineer == people["chen"])
        assert not chen.excluded and chen.reasons[0] == "no skill for 数控车床"  # skills replaced: none
        plain = field.open(field.customer, subject="咨询", now=NOW)
        assert rank_engineers(plain, now=NOW)[0].reasons[0] == "the ticket names no product"


def test_ranking_costs_the_same_queries_for_five_or_twenty_engineers(field, django_assert_num_queries):
    field.five()
    with django_assert_num_queries(7):
        assert len(rank_engineers(field.ticket, now=NOW)) == 5
    for i in range(15):
        field.make_engineer(
            f"extra{i}", regions=[("浙江", "")], skills=[SkillLine(category_id=field.lathes.pk, level=1)]
        )
    with django_assert_num_queries(7):
        assert len(rank_engineers(field.ticket, now=NOW)) == 20
