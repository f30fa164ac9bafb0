import pytest


@pytest.fixture
def book(db):
    from kehu.quotes.tests.factories import Book

    return Book()


@pytest.fixture
def finance(team):
    from kehu.users.models import User
    from kehu.users.roles import Role

    user = User(username="finance1", email="finance1@example.com", role=Role.FINANCE, department=team.hq)
    user.set_password("kehu-test-pw")
    user.save()
    return user


@pytest.fixture
def customer(team, customer_of):
    return customer_of(team.rep1)


@pytest.fixture
def title(customer, team):
    from kehu.invoices.tests.factories import make_title

    return make_title(customer, team.rep1)


@pytest.fixture
def order(customer, team, book):
    """rep1's confirmed order: 3 × CK6140-A at 100.00 (13 %) and 7 × YY-46-200L at 33.3333 (9 %)."""
    from kehu.invoices.tests.factories import make_order

    return make_order(customer, team.rep1, [(book.lathe_a, "3", "100", "13"), (book.oil_46, "7", "33.3333", "9")])
