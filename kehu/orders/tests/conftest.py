import pytest


@pytest.fixture
def book(db):
    from kehu.quotes.tests.factories import Book

    return Book()


@pytest.fixture
def customer(team, customer_of):
    return customer_of(team.rep1)


@pytest.fixture
def draft(book, customer, team):
    """rep1's draft order for 3 × CK6140-A (100.00, 13 %) and 2.5 × YY-46-200L (250.00, 9 %)."""
    from kehu.orders.tests.factories import make_order

    return make_order(customer, team.rep1, [(book.lathe_a.pk, 3), (book.oil_46.pk, "2.5")])


@pytest.fixture
def credit_answer():
    """Registers a real answer to CREDIT_CHECK for the test (a fixture of the lookups registry):
    `credit_answer.hold(reasons)` makes the check hold; the calls are kept in `.calls`."""
    from kehu.orders.tests.factories import CreditAnswer

    answer = CreditAnswer()
    answer.install()
    yield answer
    answer.uninstall()


@pytest.fixture(autouse=True)
def _credit(company_gives_credit):
    """The real credit check stays in place; the company's limits are generous unless a test says otherwise."""
