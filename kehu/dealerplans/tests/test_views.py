"""The plan pages: permissions (anonymous / other rep / owner / manager), the workflow through the
forms, query counts of the list and progress pages, the sales record and its export."""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from kehu.activities.models import Activity
from kehu.customers.models import ChannelLevel
from kehu.dealerplans import services
from kehu.dealerplans.models import DealerPlan, PlanState
from kehu.dealerplans.tests.conftest import MAY
from kehu.dealerplans.tests.factories import dealer as make_dealer
from kehu.dealerplans.tests.factories import order, sell_through


def login(client, user):
    client.force_login(user)
    return client


def test_anonymous_is_sent_to_log_in(client, plan):
    for name, args in [("dealerplans:list", []), ("dealerplans:detail", [plan.pk]), ("dealerplans:progress", [])]:
        response = client.get(reverse(name, args=args))
        assert response.status_code == 302 and "/login" in response["Location"]
    response = client.post(reverse("dealerplans:state", args=[plan.pk]), {"to": "agreed"})
    assert response.status_code == 302
    assert DealerPlan.objects.get(pk=plan.pk).state == PlanState.DRAFT


def test_another_rep_neither_sees_nor_changes_the_plan(client, plan, team, catalog):
    login(client, team.rep3)
    assert client.get(reverse("dealerplans:detail", args=[plan.pk])).status_code == 404
    assert client.get(reverse("dealerplans:record", args=[plan.customer_id])).status_code == 404
    response = client.post(
        reverse("dealerplans:line-put", args=[plan.pk]), {"target": f"p{catalog.oil.pk}", "quantity": "99"}
    )
    assert response.status_code == 404
    assert client.post(reverse("dealerplans:delete", args=[plan.pk])).status_code == 404
    plan.refresh_from_db()
    assert (plan.deleted_at, plan.target_amount, plan.lines.count()) == (None, Decimal("120000.00"), 2)
    assert plan.pk not in [p.pk for p in client.get(reverse("dealerplans:list")).context["result"].rows]


def test_owner_edits_a_draft_but_may_not_agree_it(client, plan, team, catalog):
    login(client, team.rep1)
    page = client.get(reverse("dealerplans:detail", args=[plan.pk]))
    assert page.status_code == 200 and page.context["can_edit"] and not page.context["can_set"]
    response = client.post(
        reverse("dealerplans:line-put", args=[plan.pk]),
        {"target": f"s{catalog.lathe_b.pk}", "quantity": "5", "amount": "60000"},
    )
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.target_amount == Decimal("180000.00")
    assert client.post(reverse("dealerplans:state", args=[plan.pk]), {"to": "agreed"}).status_code == 403
    assert DealerPlan.objects.get(pk=plan.pk).state == PlanState.DRAFT
    bad = client.post(
        reverse("dealerplans:line-put", args=[plan.pk]), {"target": f"p{catalog.oil.pk}", "quantity": "-1"}
    )
    assert bad.status_code == 200 and bad.context["line_form"].errors["quantity"]


def test_manager_agrees_and_then_the_rep_only_marks_support(client, plan, team):
    support = services.support_add(plan=plan, actor=team.rep1, kind="vehicle", description="送货车辆 2 台")
    login(client, team.manager1)
    assert client.post(reverse("dealerplans:state", args=[plan.pk]), {"to": "agreed"}).status_code == 302
    assert DealerPlan.objects.get(pk=plan.pk).state == PlanState.AGREED
    client.force_login(team.rep1)
    client.post(reverse("dealerplans:support-given", args=[plan.pk, support.pk]), {"given": "1"})
    support.refresh_from_db()
    assert support.is_given
    response = client.post(reverse("dealerplans:support-remove", args=[plan.pk, support.pk]), follow=True)
    assert "Only a draft plan can be changed" in response.content.decode()
    assert plan.support.count() == 1


def test_version_check_on_edit(client, plan, team):
    login(client, team.rep1)
    stale = plan.version
    services.plan_update(plan=plan, actor=team.rep1, expected_version=stale, schedule="第一周到货")
    response = client.post(
        reverse("dealerplans:edit", args=[plan.pk]), {"version": stale, "schedule": "别人的修改", "notes": ""}
    )
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert DealerPlan.objects.get(pk=plan.pk).schedule == "第一周到货"


def test_create_copy_delete_and_restore(client, plan, team, dealer):
    login(client, team.rep1)
    response = client.post(
        reverse("dealerplans:new"), {"customer": dealer.pk, "month": "2026-06", "copy_previous": "on"}
    )
    june = DealerPlan.objects.get(customer=dealer, month=date(2026, 6, 1))
    assert response["Location"] == reverse("dealerplans:detail", args=[june.pk])
    assert (june.lines.count(), june.target_amount, june.schedule) == (2, Decimal("120000.00"), "5月中旬到货")
    again = client.post(reverse("dealerplans:new"), {"customer": dealer.pk, "month": "2026-06"})
    assert again.status_code == 200 and "already has a plan for 2026-06" in again.content.decode()
    client.post(reverse("dealerplans:delete", args=[june.pk]))
    assert DealerPlan.objects.get(pk=june.pk).deleted_at is not None
    assert client.get(reverse("dealerplans:detail", args=[june.pk])).status_code == 404
    assert [p.pk for p in client.get(reverse("dealerplans:bin")).context["result"].rows] == [june.pk]
    client.post(reverse("dealerplans:restore", args=[june.pk]))
    assert DealerPlan.objects.get(pk=june.pk).deleted_at is None


def test_sub_distributor_plan_and_its_visit(client, team, dealer, customer_of):
    sub = make_dealer(customer_of, team.rep1, name="余杭二批商行", level=ChannelLevel.SUB_DEALER)
    login(client, team.rep1)
    client.post(reverse("dealerplans:new"), {"customer": sub.pk, "month": "2026-05", "upper": dealer.pk})
    plan = DealerPlan.objects.get(customer=sub)
    assert plan.upper_id == dealer.pk
    outside = client.post(reverse("dealerplans:visit-create", args=[plan.pk]), {"planned_for": "2026-06-02T09:00"})
    assert outside.status_code == 200 and outside.context["visit_form"].errors["planned_for"]
    client.post(
        reverse("dealerplans:visit-create", args=[plan.pk]),
        {"planned_for": "2026-05-12T09:30", "subject": "铺货检查", "purpose": "陈列"},
    )
    visit = Activity.objects.get(customer=sub)
    assert (visit.subject, visit.purpose, visit.owner_id, visit.is_planned_visit) == (
        "铺货检查",
        "陈列",
        team.rep1.pk,
        True,
    )
    page = client.get(reverse("dealerplans:detail", args=[plan.pk]))
    assert [v.pk for v in page.context["visits"]] == [visit.pk]


def test_list_and_progress_pages_query_counts(client, team, catalog, customer_of, django_assert_max_num_queries):
    for i in range(6):
        c = make_dealer(customer_of, team.rep1, name=f"经销商{i}", region="浙江" if i % 2 else "江苏")
        p = services.plan_create(customer=c, month=MAY, actor=team.rep1)
        services.plan_line_put(plan=p, actor=team.rep1, product=catalog.oil, quantity=10, amount="1000")
        order(c, team.rep1, date(2026, 5, 3), [(catalog.oil_46, 1, 100)])
    login(client, team.manager1)
    # session + user, scope, count, page, bell
    with django_assert_max_num_queries(7):
        page = client.get(reverse("dealerplans:list") + "?month=2026-05")
    assert len(page.context["result"].rows) == 6
    # session + user, scope, plans, orders, sell-through out (no sub-distributors), bell
    with django_assert_max_num_queries(7):
        page = client.get(reverse("dealerplans:progress") + "?month=2026-05")
    assert page.context["summary"].total.actual_amount == Decimal("600.00")
    assert [r.label for r in page.context["summary"].regions] == ["江苏", "浙江"]
    assert 'id="progress-chart"' in page.content.decode()


def test_plan_page_query_count(client, plan, team, django_assert_max_num_queries):
    login(client, team.rep1)
    with django_assert_max_num_queries(16):
        assert client.get(reverse("dealerplans:detail", args=[plan.pk])).status_code == 200


def test_sales_record_page_and_export(client, plan, team, dealer, catalog):
    order(dealer, team.rep1, date(2026, 5, 2), [(catalog.oil_46, 3, 500)])
    sell_through(dealer, MAY, catalog.oil, 2, "1100.00")
    login(client, team.rep1)
    page = client.get(reverse("dealerplans:record", args=[dealer.pk]) + "?year=2026&month=2026-05")
    assert page.status_code == 200
    may = page.context["record"].months[4]
    assert (may.amount, may.plan_amount, may.sold_on_amount) == (
        Decimal("1500.00"),
        Decimal("120000.00"),
        Decimal("1100.00"),
    )
    assert [line.order.number for line in page.context["details"]] != []
    response = client.get(reverse("dealerplans:record-export", args=[dealer.pk]) + "?year=2026")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(response.content))
    months = list(book.worksheets[0].values)
    assert months[0][0] == dealer.name
    assert months[6][0] == "2026-05" and months[6][2] == 120000 and months[6][4] == 1500
    details = list(book.worksheets[1].values)
    assert details[1][2] == "YY-46-200L" and details[1][8] == 1500
    assert list(book.worksheets[2].values)[1][-1] == 1100


@pytest.mark.parametrize("lang,word", [("zh-hans", "销售计划"), ("en", "Dealer plans")])
def test_list_in_both_languages(client, team, lang, word):
    login(client, team.rep1)
    response = client.get(reverse("dealerplans:list"), HTTP_ACCEPT_LANGUAGE=lang)
    assert word in response.content.decode()
