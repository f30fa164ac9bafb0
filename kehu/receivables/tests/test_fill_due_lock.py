"""Filling the due dates of plans (the event sink) waits for the customer's lock, as every other
write of plans and payments does: on PostgreSQL an allocation in progress is never read half-way."""

import threading
import time

import pytest
from django.db import connection, connections, transaction

from kehu.customers.models import Customer
from kehu.receivables.services import plans_fill_due

HELD = 0.6  # seconds another writer holds the customer's row


@pytest.mark.django_db(transaction=True)
def test_filling_due_dates_waits_for_a_writer_holding_the_customer(team):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs every writer alone (IMMEDIATE transactions): there is no row lock to wait for")
    customer = Customer.objects.create(name="锁测试公司", owner=team.rep1)
    locked, released, finished = threading.Event(), {}, {}

    def writer():
        try:
            with transaction.atomic():
                list(Customer.objects.select_for_update().filter(pk=customer.pk))
                locked.set()
                time.sleep(HELD)
                released["at"] = time.monotonic()
        finally:
            connections.close_all()

    def filler():
        try:
            locked.wait(10)
            with transaction.atomic():
                plans_fill_due(order_ids={customer.pk}, customer_ids={customer.pk})
            finished["at"] = time.monotonic()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer), threading.Thread(target=filler)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert finished["at"] >= released["at"]
