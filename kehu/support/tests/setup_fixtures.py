"""Fixtures of the service setup's tests (imported by those test modules): a catalog, a customer of
rep1 with a confirmed order, a customer representative (own data scope)."""

import pytest


@pytest.fixture
def book(db):
    from kehu.quotes.tests.factories import Book

    return Book()


@pytest.fixture
def customer(team, customer_of):
    return customer_of(team.rep1, name="苏州华星精密机械有限公司")


@pytest.fixture
def confirmed_order(book, customer, team, company_gives_credit):
    """rep1's confirmed order: 3 × CK6140-A (a lathe) and 2.5 × YY-46-200L (oil)."""
    from kehu.orders.tests.factories import confirm, make_order

    return confirm(make_order(customer, team.rep1, [(book.lathe_a.pk, 3), (book.oil_46.pk, "2.5")]), team.rep1)


@pytest.fixture
def custrep(team):
    """A customer representative (客服代表): sees only the customers they own."""
    from kehu.users.models import User
    from kehu.users.roles import Role

    user = User(username="custrep", email="custrep@example.com", role=Role.CUSTOMER_REP, department=team.service_dept)
    user.set_password("kehu-test-pw")
    user.save()
    return user


def api_records(team, customer) -> dict:
    """For the API fuzzing: a unit of the customer, a ticket category and a default policy."""
    from kehu.catalog.models import Product, Specification
    from kehu.support.models import InstalledUnit, SlaPolicy, TicketCategory

    product = Product.objects.filter(code="ST-UNIT").first() or Product.objects.create(
        code="ST-UNIT", name="测试设备", unit="台", tax_rate=13
    )
    spec = Specification.objects.get_or_create(product=product, code="ST-UNIT-A", defaults={"name": "A"})[0]
    unit = InstalledUnit.objects.create(customer=customer, product=product, specification=spec)
    category = TicketCategory.objects.get_or_create(name="维修")[0]
    policy = SlaPolicy.objects.get_or_create(
        category=None, priority="normal", defaults={"first_response_minutes": 120, "resolution_minutes": 960}
    )[0]
    return {"unit_id": unit.pk, "ticket_category_id": category.pk, "policy_id": policy.pk}
