"""The web process killed (SIGKILL) while a payment is allocated: the plans were updated but not the
payment — afterwards neither is, no allocation row is left, and allocating again adds up."""

import threading
from decimal import Decimal as D  # noqa: N817

import pytest

from kehu.core.tests.processes import http, session_headers, wait_until_served
from kehu.receivables import services
from kehu.receivables.models import Payment, PaymentAllocation, PaymentPlan
from kehu.users.services import api_token_create


@pytest.mark.django_db(transaction=True)
def test_a_web_worker_killed_mid_allocation_allocates_nothing(shared_db, team, customer_of, order_of, contract_of):
    customer = customer_of(team.rep1)
    contract = contract_of(customer, amount="10000.00")
    order = order_of(customer, total="10000.00", contract=contract)
    plans = services.plans_from_terms(
        actor=team.rep1,
        order=order,
        terms=[{"amount": "3000", "due_on": "2026-04-01"}, {"amount": "7000", "due_on": "2026-05-01"}],
    )
    payment = services.payment_record(actor=team.rep1, customer=customer, amount="8000.00", auto_allocate=False)
    assert payment.allocated_amount == D("0.00")
    headers = session_headers(team.rep1)
    _token, raw = api_token_create(user=team.rep1, name="crash")
    shared_db.publish()

    web, base = shared_db.web(pause_at="allocation.plans")
    answers = []
    post = threading.Thread(
        target=lambda: answers.append(
            http(
                "POST",
                f"{base}/receivables/payments/{payment.pk}/allocate/",
                data={"auto": "1", "csrfmiddlewaretoken": headers["X-CSRFToken"]},
                headers=headers,
                timeout=120,
            )
        )
    )
    post.start()
    shared_db.kill(
        shared_db.wait_for_pause("allocation.plans", web, answers=answers)
    )  # the plans written, the payment not
    post.join(timeout=30)
    assert answers[0][0] is None or answers[0][0] >= 500
    status, body = wait_until_served(f"{base}/api/v1/customers/{customer.pk}", {"Authorization": f"Bearer {raw}"})
    assert status == 200, body
    shared_db.collect()

    payment.refresh_from_db()
    assert payment.allocated_amount == D("0.00")
    assert not PaymentAllocation.objects.exists()
    assert sorted(
        PaymentPlan.objects.filter(pk__in=[p.pk for p in plans]).values_list("received_amount", flat=True)
    ) == [
        D("0.00"),
        D("0.00"),
    ]

    services.payment_allocate(payment=Payment.objects.get(pk=payment.pk), actor=team.rep1)
    payment.refresh_from_db()
    received = sum(PaymentPlan.objects.filter(pk__in=[p.pk for p in plans]).values_list("received_amount", flat=True))
    allocated = sum(PaymentAllocation.objects.values_list("amount", flat=True))
    assert payment.allocated_amount == received == allocated == D("8000.00")
