import pytest


@pytest.fixture
def book(db):
    from kehu.quotes.tests.factories import Book

    return Book()


@pytest.fixture
def customer(team, customer_of):
    return customer_of(team.rep1, address="江苏省苏州市工业园区星湖街 88 号", credit_code="91350100M000100Y43")


@pytest.fixture
def accepted_quote(book, customer, team):
    """rep1's accepted quote: 3 × 数控车床 CK6140-A (100.00, 13 %) and 2.5 × 液压油 (250.00, 9 %) = 925.00."""
    from kehu.quotes import services as quote_services
    from kehu.quotes.tests.factories import make_quote

    quote = make_quote(
        customer, team.rep1, [(book.lathe_a.pk, 3), (book.oil_46.pk, "2.5")], payment_terms="预付 30%，货到付清"
    )
    quote_services.quote_submit(quote=quote, actor=team.rep1)
    quote.refresh_from_db()
    quote_services.quote_mark_sent(quote=quote, actor=team.rep1)
    quote_services.quote_accept(quote=quote, actor=team.rep1)
    quote.refresh_from_db()
    return quote


@pytest.fixture
def draft(accepted_quote, team):
    from kehu.contracts.services import contract_create

    return contract_create(actor=team.rep1, quote=accepted_quote)


@pytest.fixture
def no_approval(db):
    """Contracts up to 1,000,000 CNY need no approval."""
    from decimal import Decimal

    from kehu.contracts.models import ContractSettings

    ContractSettings.objects.create(approval_above=Decimal("1000000"))


@pytest.fixture
def signed(draft, team, no_approval):
    from datetime import date

    from kehu.contracts.services import contract_transition

    contract_transition(contract=draft, to="pending", actor=team.rep1)
    draft.refresh_from_db()
    contract_transition(contract=draft, to="signed", actor=team.rep1, signed_on=date(2026, 1, 5))
    draft.refresh_from_db()
    return draft


@pytest.fixture
def signed_other(team, customer_of, no_approval):
    """rep2's contract, signed, ending in 20 days (for the list's filters)."""
    from datetime import date, timedelta

    from django.utils import timezone

    from kehu.contracts.services import contract_create, contract_transition

    customer = customer_of(team.rep2, name="杭州远大机电有限公司")
    contract = contract_create(
        actor=team.rep2,
        customer=customer,
        title="服务合同",
        amount="20000",
        ends_on=timezone.localdate() + timedelta(days=20),
    )
    contract_transition(contract=contract, to="pending", actor=team.rep2)
    contract.refresh_from_db()
    contract_transition(contract=contract, to="signed", actor=team.rep2, signed_on=date(2026, 1, 5))
    return contract
