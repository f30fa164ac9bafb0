"""Credit control (CLS-4): exposure, the limit, the check at each configurable stage, reasons in
the reader's language, the over-limit answer and the settings service."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from kehu.classification.models import ClassificationSettings, CreditRecord
from kehu.contracts.models import Contract
from kehu.core import lookups
from kehu.orders.models import OrderState
from kehu.receivables import credit
from kehu.receivables.models import CreditStage, ReceivablesSettings
from kehu.receivables.tests.reports_fixtures import (  # noqa: F401
    TODAY,
    _credit_answers,
    customer,
    days_ago,
    order,
    plan,
    refresh,
)

pytestmark = pytest.mark.django_db


def settings_with(**fields) -> ReceivablesSettings:
    conf = ReceivablesSettings.current()
    for name, value in fields.items():
        setattr(conf, name, value)
    conf.save()
    return conf


@pytest.fixture
def dealer(team):
    """An ordinary customer (default limit 50,000) with 30,000 of exposure: an order of 40,000 of
    which 10,000 is received, none overdue."""
    c = customer(team.rep1, "信用客户")
    o = order(c, "40000", received="10000")
    plan(c, "40000", days_ago(-10), order_=o, received="10000")
    refresh([c.pk])
    return c


def test_exposure_definition(team):
    c = customer(team.rep1)
    order(c, "1000", received="200")  # 800
    order(c, "500", state=OrderState.COMPLETED)  # 500
    order(c, "9999", state=OrderState.CANCELLED)  # not counted
    order(c, "7777", state=OrderState.DRAFT)  # not counted
    contract = Contract.objects.create(number="HT-T-1", title="t", customer=c, owner=team.rep1)
    plan(c, "300", days_ago(5), contract=contract, received="100")  # 200 outstanding, no order
    plan(c, "900", days_ago(5), contract=contract, received="900")  # paid
    refresh([c.pk])
    assert credit.exposure_compute([c.pk]) == {c.pk: Decimal("1500.00")}
    assert credit.exposure([c.pk]) == {c.pk: Decimal("1500.00")}


def test_limit_from_latest_credit_record_else_tier_default(team):
    plain = customer(team.rep1, tier="key")
    rated = customer(team.rep1, tier="key")
    CreditRecord.objects.create(customer=rated, rating="A", limit=Decimal("1000"), investigated_on=TODAY)
    CreditRecord.objects.create(customer=rated, rating="B", limit=Decimal("2000"), investigated_on=TODAY)
    conf = ClassificationSettings.load()
    conf.credit_limit_key = Decimal("123456")
    conf.save()
    assert credit.credit_limits([plain.pk, rated.pk]) == {plain.pk: Decimal("123456"), rated.pk: Decimal("2000")}


@pytest.mark.parametrize("stage", [CreditStage.ORDER, CreditStage.DELIVERY, CreditStage.INVOICE])
def test_credit_exception_at_each_configured_stage(team, dealer, stage):
    """The orders ask at "order" and "delivery", the invoices at "invoice": only the stage the
    company chose answers, and there an amount over the limit is held."""
    settings_with(credit_stage=stage)
    for asked in (CreditStage.ORDER, CreditStage.DELIVERY, CreditStage.INVOICE):
        verdict = lookups.ask_call(lookups.CREDIT_CHECK, dealer.pk, Decimal("25000"), asked)
        if asked != stage:
            assert verdict is None
            continue
        assert verdict.limit == Decimal("50000")
        assert verdict.exposure == Decimal("30000.00")
        assert verdict.overdue == Decimal("0")
        if stage == CreditStage.ORDER:
            assert verdict.held is True
            assert verdict.reasons == ("The exposure 30,000.00 plus 25,000.00 is over the credit limit 50,000.00.",)
        else:  # the amount is inside the exposure already (a booked order's delivery or invoice)
            assert verdict.held is False
            assert verdict.reasons == ()
    within = lookups.ask_call(lookups.CREDIT_CHECK, dealer.pk, Decimal("20000"), stage)
    assert within.held is False
    assert within.reasons == ()
    CreditRecord.objects.create(customer=dealer, rating="C", limit=Decimal("29999.99"), investigated_on=TODAY)
    over = lookups.ask_call(lookups.CREDIT_CHECK, dealer.pk, Decimal("1"), stage)
    assert over.held is True
    assert over.limit == Decimal("29999.99")


def test_credit_off_answers_nothing(team, dealer):
    settings_with(credit_stage=CreditStage.OFF)
    assert credit.credit_check(dealer.pk, Decimal("999999"), CreditStage.ORDER) is None


def test_over_limit_not_held_when_switched_off(team, dealer):
    settings_with(credit_stage=CreditStage.ORDER, hold_over_limit=False)
    verdict = credit.credit_check(dealer.pk, Decimal("999999"), CreditStage.ORDER, today=TODAY)
    assert verdict.held is False


def test_overdue_beyond_tolerated_days_holds(team):
    c = customer(team.rep1)
    o = order(c, "100")
    plan(c, "60", days_ago(31), order_=o)  # 31 days overdue
    plan(c, "40", days_ago(30), order_=o)  # 30 days: tolerated
    refresh([c.pk])
    settings_with(credit_stage=CreditStage.ORDER, hold_overdue_days=30)
    verdict = credit.credit_check(c.pk, Decimal("1"), CreditStage.ORDER, today=TODAY)
    assert verdict.held is True
    assert verdict.overdue == Decimal("60")
    assert verdict.reasons == ("60.00 is overdue by more than 30 days.",)
    settings_with(hold_overdue_days=31)
    assert credit.credit_check(c.pk, Decimal("1"), CreditStage.ORDER, today=TODAY).held is False
    settings_with(hold_overdue_days=None)
    assert credit.credit_check(c.pk, Decimal("1"), CreditStage.ORDER, today=TODAY).held is False


def test_reasons_in_the_active_language(team, dealer):
    settings_with(credit_stage=CreditStage.ORDER)
    with translation.override("zh-hans"):
        verdict = credit.credit_check(dealer.pk, Decimal("25000"), CreditStage.ORDER, today=TODAY)
    assert verdict.reasons == ("信用敞口 30,000.00 加上 25,000.00 超过信用额度 50,000.00。",)


def test_credit_check_reads_few_queries(team, dealer, django_assert_max_num_queries):
    settings_with(credit_stage=CreditStage.ORDER)
    ClassificationSettings.load()  # the row exists in any running company
    with django_assert_max_num_queries(5):
        credit.credit_check(dealer.pk, Decimal("1"), CreditStage.ORDER, today=TODAY)


def test_over_credit_limit_answer(team, dealer):
    small = customer(team.rep1, tier="prospect")  # default limit 0
    order(small, "10")
    clean = customer(team.rep1)
    refresh([small.pk, clean.pk])
    CreditRecord.objects.create(customer=dealer, rating="C", limit=Decimal("29999.99"), investigated_on=TODAY)
    assert lookups.ask(lookups.OVER_CREDIT_LIMIT, [dealer.pk, small.pk, clean.pk]) == {dealer.pk, small.pk}


def test_settings_update_by_finance_only(team, finance):
    conf = credit.receivables_settings_update(actor=finance, credit_stage="invoice", hold_overdue_days=60)
    assert (conf.credit_stage, conf.hold_overdue_days, conf.updated_by) == ("invoice", 60, finance)
    with pytest.raises(PermissionDenied):
        credit.receivables_settings_update(actor=team.rep1, credit_stage="off")
    with pytest.raises(PermissionDenied):
        credit.receivables_settings_update(actor=team.manager1, credit_stage="off")
    with pytest.raises(ValidationError) as caught:
        credit.receivables_settings_update(actor=finance, credit_stage="never")
    assert "credit_stage" in caught.value.message_dict
    assert ReceivablesSettings.current().credit_stage == "invoice"
