from datetime import date
from decimal import Decimal as D  # noqa: N817

import pytest
from django.urls import reverse

from kehu.receivables import services
from kehu.receivables.models import Payment, PaymentPlan, PaymentState, PlanState


@pytest.fixture
def plans(team, customer_of, order_of, contract_of, clock):
    clock(date(2026, 5, 10))
    c = customer_of(team.rep1)
    contract = contract_of(c, amount="10000.00")
    order = order_of(c, total="10000.00", contract=contract)
    made = services.plans_from_terms(
        actor=team.rep1,
        order=order,
        terms=[{"amount": "3000", "due_on": "2026-04-01"}, {"amount": "7000", "due_on": "2026-06-01"}],
    )
    return c, order, made


def login(client, user):
    client.force_login(user)
    return client


def test_anonymous_is_sent_to_login(client, plans):
    for url in (reverse("receivables:list"), reverse("receivables:payment-new"), reverse("receivables:payment-list")):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_lists_and_details_for_owner_manager_finance(client, team, plans, finance, server_tracebacks):
    c, order, (p1, p2) = plans
    payment = services.payment_record(actor=team.rep1, customer=c, amount="3500.00", reference="工行-001")
    for user in (team.rep1, team.manager1, finance):
        login(client, user)
        page = client.get(reverse("receivables:list"))
        assert page.status_code == 200 and c.name in page.text
        assert client.get(reverse("receivables:detail", args=[p1.pk])).status_code == 200
        detail = client.get(reverse("receivables:payment-detail", args=[payment.pk]))
        assert detail.status_code == 200 and "工行-001" in detail.text
        panel = client.get(reverse("receivables:customer-panel", args=[c.pk]))
        assert panel.status_code == 200 and "¥3,500.00" in panel.text
    assert server_tracebacks == []


def test_other_rep_sees_nothing(client, team, plans):
    c, order, (p1, p2) = plans
    payment = services.payment_record(actor=team.rep1, customer=c, amount="100.00")
    login(client, team.rep3)
    assert c.name not in client.get(reverse("receivables:list")).text
    assert client.get(reverse("receivables:detail", args=[p1.pk])).status_code == 404
    assert client.get(reverse("receivables:payment-detail", args=[payment.pk])).status_code == 404
    assert client.get(reverse("receivables:customer-panel", args=[c.pk])).status_code == 404
    response = client.post(reverse("receivables:payment-reverse", args=[payment.pk]), {"reason": "x"})
    assert response.status_code == 404
    response = client.post(
        reverse("receivables:payment-new"),
        {"customer": c.pk, "amount": "5", "received_on": "2026-05-10", "method": "cash"},
    )
    assert response.status_code == 403
    assert Payment.objects.count() == 1
    payment.refresh_from_db()
    assert payment.state == PaymentState.CONFIRMED


def test_record_a_payment_on_the_phone_page(client, team, plans):
    c, order, (p1, p2) = plans
    login(client, team.rep1)
    preview = client.get(reverse("receivables:payment-preview"), {"customer": c.pk, "amount": "4000"})
    assert "+¥3,000.00" in preview.text and "+¥1,000.00" in preview.text
    found = client.get(reverse("receivables:customer-search"), {"q": c.name[:4]})
    assert c.name in found.text
    response = client.post(
        reverse("receivables:payment-new"),
        {
            "customer": c.pk,
            "amount": "4000.00",
            "received_on": "2026-05-10",
            "method": "transfer",
            "allocation": "auto",
        },
    )
    payment = Payment.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "receivables:payment-detail", args=[payment.pk]
    )
    p1.refresh_from_db()
    assert (payment.allocated_amount, p1.state) == (D("4000.00"), PlanState.PAID)
    bad = client.post(
        reverse("receivables:payment-new"),
        {"customer": c.pk, "amount": "-1", "received_on": "2099-01-01", "method": "transfer", "allocation": "auto"},
    )
    assert bad.status_code == 200 and Payment.objects.count() == 1


def test_record_page_in_chinese(client, team, plans):
    c, *_ = plans
    login(client, team.rep1)
    page = client.get(reverse("receivables:payment-new") + f"?customer={c.pk}", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "登记回款" in page.text and "未结回款计划" in page.text and "Record a payment" not in page.text


def test_allocate_by_hand_and_reverse(client, team, plans):
    c, order, (p1, p2) = plans
    payment = services.payment_record(actor=team.rep1, customer=c, amount="500.00", auto_allocate=False)
    login(client, team.rep1)
    page = client.get(reverse("receivables:payment-allocate", args=[payment.pk]))
    assert f'name="plan_{p2.pk}"' in page.text
    too_much = client.post(reverse("receivables:payment-allocate", args=[payment.pk]), {f"plan_{p2.pk}": "600"})
    assert too_much.status_code == 200
    client.post(reverse("receivables:payment-allocate", args=[payment.pk]), {f"plan_{p2.pk}": "500"})
    p2.refresh_from_db()
    assert p2.received_amount == D("500.00")
    client.post(reverse("receivables:payment-reverse", args=[payment.pk]), {"reason": "金额有误"})
    payment.refresh_from_db()
    p2.refresh_from_db()
    assert (payment.state, p2.received_amount) == (PaymentState.REVERSED, D("0.00"))
    assert Payment.objects.filter(reverses=payment, amount=D("500.00")).exists()


def test_plans_from_the_generator(client, team, customer_of, order_of):
    c = customer_of(team.rep1)
    order = order_of(c, total="1000.00")
    login(client, team.rep1)
    url = reverse("receivables:plans-new") + f"?order={order.pk}"
    assert client.get(url).status_code == 200
    data = {
        "by": "percent",
        "share_0": "30",
        "basis_0": "fixed",
        "due_on_0": "2026-06-01",
        "share_1": "70",
        "basis_1": "delivery",
        "days_1": "30",
    }
    preview = client.post(url, {**data, "preview": "1"})
    assert "300.00" in preview.text and "700.00" in preview.text and PaymentPlan.objects.count() == 0
    wrong = client.post(url, {**data, "share_1": "60", "save": "1"})
    assert wrong.status_code == 200 and PaymentPlan.objects.count() == 0
    client.post(url, {**data, "save": "1"})
    assert list(PaymentPlan.objects.order_by("sequence").values_list("amount", "basis")) == [
        (D("300.00"), "fixed"),
        (D("700.00"), "delivery"),
    ]


def test_lists_run_a_fixed_number_of_queries(client, team, customer_of, order_of, django_assert_max_num_queries):
    login(client, team.manager1)
    for i in range(8):
        c = customer_of(team.rep1 if i % 2 else team.rep2, name=f"测试客户{i}有限公司")
        o = order_of(c, total="100.00")
        services.plans_from_terms(
            actor=team.rep1 if i % 2 else team.rep2, order=o, terms=[{"percent": "100", "due_on": "2026-06-01"}]
        )
        services.payment_record(actor=team.manager1, customer=c, amount="50.00")
    client.get(reverse("receivables:list"))  # warm the per-process caches
    with django_assert_max_num_queries(14) as few:
        client.get(reverse("receivables:list"))
    with django_assert_max_num_queries(14) as payments:
        client.get(reverse("receivables:payment-list"))
    more = customer_of(team.rep1, name="再一个客户有限公司")
    services.plans_from_terms(
        actor=team.rep1, order=order_of(more, total="1.00"), terms=[{"percent": "100", "due_on": "2026-06-01"}]
    )
    services.payment_record(actor=team.rep1, customer=more, amount="1.00")
    with django_assert_max_num_queries(len(few)):
        client.get(reverse("receivables:list"))
    with django_assert_max_num_queries(len(payments)):
        client.get(reverse("receivables:payment-list"))
