"""The contract document: merge fields rendered safely, to PDF (read back with pdftotext) and .docx
(read back with python-docx), with the Chinese text of the customer, the products and the 大写 amount."""

import io
import shutil
import subprocess

import pytest
from django.urls import reverse

from kehu.contracts import document, services
from kehu.contracts.models import ContractTemplate


def pdf_text(content: bytes) -> str:
    result = subprocess.run(["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True)
    return result.stdout.decode()


def docx_text(content: bytes) -> str:
    from docx import Document

    doc = Document(io.BytesIO(content))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


def test_unknown_fields_and_code_are_found():
    body = "{{ customer.name }} {{customer.secret}} {{ request.user }} {% debug %} {{ products }}"
    assert document.unknown_fields(body) == ["customer.secret", "request.user", "{% debug %}"]
    assert document.unknown_fields(document.DEFAULT_BODY["zh-hans"]) == []
    assert document.unknown_fields(document.DEFAULT_BODY["en"]) == []


def test_values_are_escaped_and_code_is_not_run(draft, team, customer):
    customer.name = "<script>alert(1)</script>公司"
    customer.save()
    draft.refresh_from_db()
    html = document.document_html(draft, body="甲方 {{ customer.name }} {% now 'Y' %} {{ unknown.field }}")
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;公司" in html
    assert "{% now &#x27;Y&#x27; %}" in html or "{% now 'Y' %}" in html  # shown as written, not run
    assert "{{ unknown.field }}" in html


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext is not installed")
def test_pdf_has_the_chinese_text(draft):
    text = pdf_text(document.document_pdf(draft))
    compact = "".join(text.split())
    assert "苏州华星精密机械有限公司" in compact
    assert "数控车床" in compact and "液压油" in compact
    assert "玖佰贰拾伍元整" in compact
    assert draft.number in compact
    assert "91350100M000100Y43" in compact


def test_docx_has_the_chinese_text(draft):
    text = docx_text(document.document_docx(draft))
    assert "苏州华星精密机械有限公司" in text
    assert "数控车床" in text and "液压油" in text
    assert "玖佰贰拾伍元整" in text
    assert "江苏省苏州市工业园区星湖街 88 号" in text
    assert "925.00" in text


def test_a_saved_template_is_used(draft, team):
    template = services.template_save(
        actor=team.admin,
        name="框架协议",
        language="zh-hans",
        body="框架协议 {{ contract.number }}\n买方：{{ customer.name }}\n{{ products }}\n金额大写：{{ contract.amount_capital }}",
        is_default=True,
        is_active=True,
    )
    assert ContractTemplate.objects.get(pk=template.pk).is_default
    text = docx_text(document.document_docx(draft))
    assert text.startswith(f"框架协议 {draft.number}") and "金额大写：玖佰贰拾伍元整" in text


def test_a_template_with_unknown_fields_is_refused(team):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        services.template_save(actor=team.admin, name="x", language="zh-hans", body="{{ customer.password }}")
    assert "customer.password" in str(exc.value)
    assert not ContractTemplate.objects.exists()


def test_a_rep_may_not_edit_templates(team):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.template_save(actor=team.rep1, name="x", language="zh-hans", body="x")


@pytest.mark.parametrize(("who", "status"), [("rep1", 200), ("manager1", 200), ("rep2", 404)])
def test_document_pages_by_who(client, draft, team, who, status):
    client.force_login(getattr(team, who))
    response = client.get(reverse("contracts:document-docx", args=[draft.pk]))
    assert response.status_code == status
    if status == 200:
        assert "玖佰贰拾伍元整" in docx_text(response.content)
        assert "attachment;" in response["Content-Disposition"]
