"""Fixtures of the returns, quality and economics tests (imported by those modules): an after-sales
specialist and a quality specialist, rep1's customer with a delivered order."""

from decimal import Decimal

import pytest


def _user(username, role, department):
    from kehu.users.models import User

    user = User(username=username, email=f"{username}@example.com", role=role, department=department)
    user.set_password("kehu-test-pw")
    user.save()
    return user


@pytest.fixture
def aftersales(team):
    from kehu.users.roles import Role

    return _user("aftersales1", Role.AFTER_SALES, team.service_dept)


@pytest.fixture
def quality(team):
    from kehu.users.roles import Role

    return _user("quality1", Role.SERVICE_QUALITY, team.service_dept)


@pytest.fixture
def book(db):
    from kehu.quotes.tests.factories import Book

    return Book()


@pytest.fixture
def customer(team, customer_of):
    return customer_of(team.rep1, name="苏州华星精密机械有限公司")


def delivered_order(book, customer, rep, lines, delivered=None):
    """A confirmed order of `customer` by `rep` with [(specification, quantity)], delivered in full
    (or `delivered` [(index, quantity)])."""
    from kehu.orders.services import delivery_record
    from kehu.orders.tests.factories import confirm, make_order

    order = confirm(make_order(customer, rep, [(spec.pk, qty) for spec, qty in lines]), rep)
    order_lines = list(order.lines.order_by("position"))
    wanted = delivered if delivered is not None else list(enumerate(qty for _s, qty in lines))
    if wanted:
        delivery_record(order=order, actor=rep, lines=[(order_lines[i].pk, Decimal(str(q))) for i, q in wanted])
    order.refresh_from_db()
    return order


@pytest.fixture
def order(book, customer, team, company_gives_credit):
    """rep1's order: 10 × CK6140-A lathes (113.00 each with tax) delivered 8; 2 barrels of oil, delivered."""
    return delivered_order(book, customer, team.rep1, [(book.lathe_a, 10), (book.oil_46, 2)], [(0, 8), (1, 2)])


@pytest.fixture
def lathe_line(order):
    return order.lines.get(code="CK6140-A")
