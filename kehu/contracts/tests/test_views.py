from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kehu.contracts import services
from kehu.contracts.models import Contract, ContractAttachment, ContractStage

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def login(client, user):
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 302), ("rep2", 404), ("rep3", 404), ("rep1", 200), ("manager1", 200), ("admin", 200)],
)
def test_detail_by_who(client, draft, team, who, status):
    if who != "anonymous":
        login(client, getattr(team, who))
    response = client.get(reverse("contracts:detail", args=[draft.pk]))
    assert response.status_code == status
    if status == 200:
        body = response.content.decode()
        assert draft.number in body and "数控车床" in body and "玖佰贰拾伍元整" in body


@pytest.mark.parametrize(("who", "changed"), [("rep2", False), ("rep3", False), ("rep1", True), ("manager1", True)])
def test_edit_by_who(client, draft, team, who, changed):
    login(client, getattr(team, who))
    response = client.post(
        reverse("contracts:edit", args=[draft.pk]),
        {"title": "改过的标题", "language": "zh-hans", "version": draft.version, "owner": team.rep1.pk},
    )
    assert response.status_code in (302, 403, 404)
    assert (Contract.objects.get(pk=draft.pk).title == "改过的标题") is changed


def test_stale_edit_is_refused(client, draft, team):
    login(client, team.rep1)
    version = draft.version
    services.contract_update(contract=draft, actor=team.rep1, expected_version=version, title="别人先改")
    response = client.post(
        reverse("contracts:edit", args=[draft.pk]),
        {"title": "我后改", "language": "zh-hans", "version": version, "owner": team.rep1.pk},
    )
    assert response.status_code == 200
    assert "Someone else changed this record" in response.content.decode()
    assert Contract.objects.get(pk=draft.pk).title == "别人先改"


def test_list_filters_and_fixed_queries(client, draft, signed_other, team, django_assert_max_num_queries):
    login(client, team.manager1)
    url = reverse("contracts:list")
    with django_assert_max_num_queries(12):
        response = client.get(url)
    body = response.content.decode()
    assert draft.number in body and signed_other.number in body
    response = client.get(url, {"stage": "signed"})
    body = response.content.decode()
    assert signed_other.number in body and draft.number not in body
    response = client.get(url, {"expiring": "30"})
    assert signed_other.number in response.content.decode()
    response = client.get(url, {"customer": draft.customer_id})
    assert draft.number in response.content.decode()


def test_list_query_count_does_not_grow(client, accepted_quote, team, django_assert_max_num_queries):
    for _ in range(6):
        services.contract_create(actor=team.rep1, quote=accepted_quote)
    login(client, team.manager1)
    with django_assert_max_num_queries(12):
        client.get(reverse("contracts:list"))


def test_a_rep_does_not_see_another_reps_contracts_in_the_list(client, draft, team):
    login(client, team.rep2)
    assert draft.number not in client.get(reverse("contracts:list")).content.decode()


def test_new_from_quote_page_and_post(client, accepted_quote, team):
    login(client, team.rep1)
    url = reverse("contracts:new") + f"?quote={accepted_quote.pk}"
    assert client.get(url).status_code == 200
    response = client.post(reverse("contracts:new"), {"quote": accepted_quote.pk})
    contract = Contract.objects.get(quote=accepted_quote)
    assert response.status_code == 302 and response["Location"] == reverse("contracts:detail", args=[contract.pk])


def test_new_for_a_customer(client, customer, team):
    login(client, team.rep1)
    response = client.post(
        reverse("contracts:new"),
        {
            "customer": customer.pk,
            "title": "年度框架协议",
            "language": "zh-hans",
            "amount": "50000",
            "owner": team.rep1.pk,
        },
    )
    contract = Contract.objects.get(title="年度框架协议")
    assert response.status_code == 302 and contract.amount == Decimal("50000.00") and contract.owner == team.rep1


def test_quote_page_offers_create_contract_when_accepted(client, accepted_quote, team):
    login(client, team.rep1)
    body = client.get(reverse("quotes:quote-detail", args=[accepted_quote.pk])).content.decode()
    assert f"{reverse('contracts:new')}?quote={accepted_quote.pk}" in body


def test_sign_through_the_page(client, draft, team, no_approval):
    login(client, team.rep1)
    url = reverse("contracts:transition", args=[draft.pk])
    client.post(url, {"to": "pending"})
    client.post(url, {"to": "signed", "signed_on": "2026-01-05"})
    draft.refresh_from_db()
    assert draft.stage == ContractStage.SIGNED and draft.signed_on == date(2026, 1, 5)


def test_other_rep_cannot_move_the_stage(client, draft, team, no_approval):
    login(client, team.rep2)
    response = client.post(reverse("contracts:transition", args=[draft.pk]), {"to": "pending"})
    assert response.status_code == 404
    assert Contract.objects.get(pk=draft.pk).stage == ContractStage.DRAFT


def test_attachment_upload_download_remove(client, signed, team):
    login(client, team.rep1)
    upload = SimpleUploadedFile("签字版.pdf", PDF, content_type="application/pdf")
    response = client.post(
        reverse("contracts:attachment-add", args=[signed.pk]), {"file": upload, "is_signed_copy": "on"}
    )
    assert response.status_code == 302
    attachment = ContractAttachment.objects.get(contract=signed)
    assert attachment.is_signed_copy and attachment.size == len(PDF)
    url = reverse("contracts:attachment", args=[signed.pk, attachment.pk])
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
    login(client, team.rep2)
    assert client.get(url).status_code == 404
    login(client, team.rep1)
    client.post(reverse("contracts:attachment-remove", args=[signed.pk, attachment.pk]))
    assert ContractAttachment.objects.get(pk=attachment.pk).deleted_at is not None
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("name", "content"),
    [("scan.exe", b"MZ..."), ("scan.pdf", b"not a pdf at all"), ("scan.png", b"%PDF-1.4"), ("empty.pdf", b"")],
)
def test_attachment_type_checks(client, signed, team, name, content):
    login(client, team.rep1)
    client.post(reverse("contracts:attachment-add", args=[signed.pk]), {"file": SimpleUploadedFile(name, content)})
    assert not ContractAttachment.objects.exists()


def test_amendment_page(client, signed, team):
    login(client, team.rep1)
    url = reverse("contracts:amendment-new", args=[signed.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"summary": "增加数量", "amount_after": "1200.00"})
    assert response.status_code == 302
    amendment = signed.amendments.get()
    client.post(reverse("contracts:amendment-act", args=[signed.pk, amendment.pk, "submit"]))
    signed.refresh_from_db()
    assert signed.amount == Decimal("1200.00")
    body = client.get(reverse("contracts:detail", args=[signed.pk])).content.decode()
    assert "925.00" in body and "1,200.00" in body


def test_delete_draft_and_bin(client, draft, team):
    login(client, team.rep1)
    client.post(reverse("contracts:delete", args=[draft.pk]))
    assert Contract.objects.get(pk=draft.pk).deleted_at is not None
    assert draft.number in client.get(reverse("contracts:recycle-bin")).content.decode()
    client.post(reverse("contracts:restore", args=[draft.pk]))
    assert Contract.objects.get(pk=draft.pk).deleted_at is None


@pytest.mark.parametrize(("who", "status"), [("rep1", 403), ("manager1", 403), ("admin", 200)])
def test_settings_page_by_who(client, team, who, status):
    login(client, getattr(team, who))
    assert client.get(reverse("contracts:settings")).status_code == status


def test_settings_save(client, team):
    from kehu.contracts.models import ContractSettings

    login(client, team.admin)
    client.post(reverse("contracts:settings"), {"remind_days_before_end": "45", "approval_above": "200000"})
    current = ContractSettings.current()
    assert current.remind_days_before_end == 45 and current.approval_above == Decimal("200000.00")


def test_template_preview_shows_unknown_fields_and_refuses_to_save(client, draft, team):
    from kehu.contracts.models import ContractTemplate

    login(client, team.admin)
    data = {
        "name": "标准合同",
        "language": "zh-hans",
        "is_active": "on",
        "body": "甲方：{{ customer.name }} {{ customer.secret }} {% load x %}",
    }
    response = client.post(reverse("contracts:template-new"), data)
    body = response.content.decode()
    assert "customer.secret" in body and "{% load x %}" in body
    assert not ContractTemplate.objects.exists()
    data["body"] = "甲方：{{ customer.name }}\n{{ products }}\n大写：{{ contract.amount_capital }}"
    response = client.post(reverse("contracts:template-new"), {**data, "preview": "1"})
    assert "苏州华星精密机械有限公司" in response.content.decode() and not ContractTemplate.objects.exists()
    client.post(reverse("contracts:template-new"), data)
    assert ContractTemplate.objects.get().name == "标准合同"


def test_detail_query_count_does_not_grow_with_lines_and_amendments(
    client, signed, team, book, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    login(client, team.manager1)
    url = reverse("contracts:detail", args=[signed.pk])
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for n in range(3):
        amendment = services.amendment_create(
            contract=signed, actor=team.rep1, summary=f"第{n}次", amount_after=str(1000 + n)
        )
        services.amendment_submit(amendment=amendment, actor=team.rep1)
        upload = SimpleUploadedFile(f"{n}.pdf", PDF)
        services.attachment_add(contract=signed, actor=team.rep1, upload=upload)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert response.status_code == 200
