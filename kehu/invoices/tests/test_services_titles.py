import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kehu.invoices import services
from kehu.invoices.models import InvoiceTitle
from kehu.invoices.tests.factories import CODE_A, CODE_B, make_title


def defaults(customer):
    return list(InvoiceTitle.objects.filter(customer=customer, is_default=True).values_list("name", flat=True))


def test_the_first_title_is_the_default_and_a_new_default_unsets_the_old_one(customer, team):
    first = make_title(customer, team.rep1, name="苏州华星精密机械有限公司")
    second = make_title(customer, team.rep1, name="华星精密（上海）有限公司", tax_number=CODE_B)
    assert first.is_default and not second.is_default
    assert defaults(customer) == ["苏州华星精密机械有限公司"]
    services.invoice_title_set_default(title=second, actor=team.rep1)
    assert defaults(customer) == ["华星精密（上海）有限公司"]
    third = make_title(customer, team.rep1, name="华星个人", kind="person", tax_number="", is_default=True)
    assert defaults(customer) == [third.name]


def test_a_company_needs_a_valid_unified_social_credit_code(customer, team):
    with pytest.raises(ValidationError) as missing:
        make_title(customer, team.rep1, tax_number="")
    assert missing.value.message_dict["tax_number"] == ["A company's invoice title needs its taxpayer number (税号)."]
    with pytest.raises(ValidationError) as wrong:
        make_title(customer, team.rep1, tax_number="91350100M000100Y44")
    assert "is not a valid unified social credit code" in wrong.value.message_dict["tax_number"][0]
    assert not InvoiceTitle.objects.filter(customer=customer).exists()
    title = make_title(customer, team.rep1, tax_number=CODE_A.lower())
    assert title.tax_number == CODE_A


def test_a_person_may_have_no_taxpayer_number(customer, team):
    title = make_title(customer, team.rep1, kind="person", name="张伟", tax_number="", bank_name="", bank_account="")
    assert title.kind == "person" and title.tax_number == ""


def test_removing_the_default_makes_the_next_one_the_default(customer, team):
    first = make_title(customer, team.rep1, name="A 公司")
    make_title(customer, team.rep1, name="B 公司", tax_number=CODE_B)
    services.invoice_title_delete(title=first, actor=team.rep1)
    assert defaults(customer) == ["B 公司"]
    assert InvoiceTitle.objects.get(pk=first.pk).deleted_at is not None


def test_an_unrelated_rep_may_not_touch_the_titles(customer, team, title):
    with pytest.raises(PermissionDenied):
        services.invoice_title_update(title=title, actor=team.rep3, name="改名")
    with pytest.raises(PermissionDenied):
        make_title(customer, team.rep3, name="别人的抬头")
    title.refresh_from_db()
    assert title.name == customer.name
    assert InvoiceTitle.objects.filter(customer=customer).count() == 1


def test_the_manager_and_finance_may_keep_the_titles(customer, team, title, finance):
    services.invoice_title_update(title=title, actor=team.manager1, phone="0512-1111")
    services.invoice_title_update(title=title, actor=finance, address="苏州市吴中区")
    title.refresh_from_db()
    assert (title.phone, title.address) == ("0512-1111", "苏州市吴中区")
