"""The contract document (合同): a template's text with merge fields, rendered to PDF and .docx.

A template (`ContractTemplate`, kept by people with `contracts.manage_contract_templates`) is plain
text; a merge field is a name from the fixed list `FIELDS` in double braces (`{{ customer.name }}`).
Nothing else in the text is code: no template tags, filters or attribute lookups run, so a template
cannot reach anything but these values; an unknown name is refused when the template is saved and
shown as an error in the preview. A line holding only `{{ products }}` becomes the table of lines.
Every value is escaped (HTML) before it meets the page.

The PDF is made by WeasyPrint with Noto Sans CJK SC embedded (as the quote document); the .docx by
python-docx (companies edit contracts in Word), with the products as a Word table.
"""

import io
import re
from dataclasses import dataclass
from decimal import Decimal

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.contracts.models import Contract, ContractLine, ContractStage, DocumentLanguage
from kehu.core.money import capital_amount

MERGE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
CODE = re.compile(r"\{%.*?%\}", re.S)
PRODUCTS = "products"


def _money(value) -> str:
    return f"{Decimal(value):,.2f}"


def _price(value) -> str:
    """A unit price to the fen, or to 4 places when it has parts of a fen."""
    value = Decimal(value)
    return _money(value) if value == value.quantize(Decimal("0.01")) else f"{value.normalize():,f}"


def _number(value) -> str:
    value = Decimal(value)
    if value == value.to_integral_value():
        return f"{value.to_integral_value():,f}"
    return f"{value.normalize():,f}"


def _date(value) -> str:
    return value.isoformat() if value else "____年__月__日"


def _company() -> str:
    from kehu.users.models import CompanySettings

    return CompanySettings.load().company_name


def _contact(contract: Contract):
    return contract.contact if contract.contact_id and contract.contact.deleted_at is None else None


# name: (what it is, for the settings page; how to read it from a contract)
FIELDS: dict[str, tuple] = {
    "customer.name": (gettext_lazy("customer's name"), lambda c: c.customer.name),
    "customer.address": (gettext_lazy("customer's address"), lambda c: c.customer.address),
    "customer.credit_code": (gettext_lazy("customer's unified social credit code"), lambda c: c.customer.credit_code),
    "customer.phone": (gettext_lazy("customer's phone"), lambda c: c.customer.phone),
    "customer.contact": (
        gettext_lazy("customer's signatory"),
        lambda c: _contact(c).name if _contact(c) else "",
    ),
    "customer.contact_phone": (
        gettext_lazy("customer's signatory's phone"),
        lambda c: (_contact(c).mobile or _contact(c).office_phone) if _contact(c) else "",
    ),
    "company.name": (gettext_lazy("our company's name"), lambda c: _company()),
    "contract.number": (gettext_lazy("contract number"), lambda c: c.number),
    "contract.title": (gettext_lazy("contract title"), lambda c: c.title),
    "contract.amount": (gettext_lazy("amount in force (with tax)"), lambda c: _money(c.amount)),
    "contract.amount_capital": (gettext_lazy("amount in Chinese capitals (大写)"), lambda c: capital_amount(c.amount)),
    "contract.currency": (gettext_lazy("currency"), lambda c: c.currency),
    "contract.payment_terms": (gettext_lazy("payment terms"), lambda c: c.payment_terms),
    "contract.delivery_terms": (gettext_lazy("delivery terms"), lambda c: c.delivery_terms),
    "contract.other_terms": (gettext_lazy("other terms"), lambda c: c.other_terms),
    "contract.starts_on": (gettext_lazy("start date"), lambda c: _date(c.starts_on)),
    "contract.ends_on": (gettext_lazy("end date"), lambda c: _date(c.ends_on)),
    "contract.signed_on": (gettext_lazy("signing date"), lambda c: _date(c.signed_on)),
    "signatory.ours": (gettext_lazy("our signatory"), lambda c: c.our_signatory),
    "signatory.customer": (
        gettext_lazy("customer's signatory"),
        lambda c: _contact(c).name if _contact(c) else "",
    ),
    "owner.name": (gettext_lazy("responsible person"), lambda c: c.owner.get_full_name() or c.owner.username),
    PRODUCTS: (gettext_lazy("table of products (on a line of its own)"), None),
}

DEFAULT_BODY = {
    DocumentLanguage.CHINESE: """购销合同

合同编号：{{ contract.number }}
甲方（买方）：{{ customer.name }}
统一社会信用代码：{{ customer.credit_code }}
地址：{{ customer.address }}
联系人：{{ customer.contact }}  电话：{{ customer.contact_phone }}
乙方（卖方）：{{ company.name }}

经双方协商一致，就下列产品的买卖订立本合同：
{{ products }}
合同总金额（含税）：人民币 {{ contract.amount }} 元（大写：{{ contract.amount_capital }}）
付款方式：{{ contract.payment_terms }}
交货条款：{{ contract.delivery_terms }}
其他约定：{{ contract.other_terms }}
合同期限：{{ contract.starts_on }} 至 {{ contract.ends_on }}

甲方代表：{{ signatory.customer }}        乙方代表：{{ signatory.ours }}
签订日期：{{ contract.signed_on }}""",
    DocumentLanguage.ENGLISH: """SALES CONTRACT

Contract no.: {{ contract.number }}
Buyer: {{ customer.name }}
Unified social credit code: {{ customer.credit_code }}
Address: {{ customer.address }}
Contact: {{ customer.contact }}  Phone: {{ customer.contact_phone }}
Seller: {{ company.name }}

The parties agree on the sale of the following products:
{{ products }}
Total amount (tax included): CNY {{ contract.amount }} ({{ contract.amount_capital }})
Payment terms: {{ contract.payment_terms }}
Delivery terms: {{ contract.delivery_terms }}
Other terms: {{ contract.other_terms }}
Term: {{ contract.starts_on }} to {{ contract.ends_on }}

For the buyer: {{ signatory.customer }}        For the seller: {{ signatory.ours }}
Signed on: {{ contract.signed_on }}""",
}


def unknown_fields(body: str) -> list[str]:
    """Merge fields not in `FIELDS`, and any template code, as written (the settings page and
    `template_save` refuse them)."""
    found = [name for name in MERGE.findall(body) if name not in FIELDS]
    found += CODE.findall(body)
    return list(dict.fromkeys(found))


@dataclass(frozen=True)
class Block:
    kind: str  # "text" or "products"
    parts: tuple = ()  # ((is_field, text), ...) for "text"


def _blocks(body: str, values: dict) -> list[Block]:
    blocks = []
    for line in body.replace("\r\n", "\n").split("\n"):
        whole = MERGE.fullmatch(line.strip())
        if whole and whole[1] == PRODUCTS:
            blocks.append(Block(PRODUCTS))
            continue
        parts, last = [], 0
        for match in MERGE.finditer(line):
            parts.append((False, line[last : match.start()]))
            name = match[1]
            if name in values:
                parts.append((True, values[name]))
            else:
                parts.append((False, match[0]))
            last = match.end()
        parts.append((False, line[last:]))
        blocks.append(Block("text", tuple(p for p in parts if p[1])))
    return blocks


def _values(contract: Contract) -> dict:
    return {name: str(getter(contract) or "") for name, (_label, getter) in FIELDS.items() if getter}


def body_for(contract: Contract, template=None) -> tuple[str, str]:
    """(the body, the language) the contract is rendered with: the given or chosen template, else
    the default text of the contract's language."""
    from kehu.contracts.selectors import template_for

    template = template or template_for(contract)
    if template is not None:
        return template.body, template.language
    language = contract.language if contract.language in DocumentLanguage.values else DocumentLanguage.CHINESE
    return DEFAULT_BODY[language], language


def _lines(contract: Contract, lines=None) -> list[ContractLine]:
    if lines is not None:
        return lines
    return list(ContractLine.objects.filter(contract=contract).order_by("position", "pk"))


LINE_HEADINGS = (
    gettext_lazy("No."),
    gettext_lazy("Product"),
    gettext_lazy("Specification / model"),
    gettext_lazy("Unit"),
    gettext_lazy("Quantity"),
    gettext_lazy("Unit price"),
    gettext_lazy("Tax rate"),
    gettext_lazy("Amount"),
)


def _line_row(line: ContractLine) -> list[str]:
    return [
        str(line.position),
        line.name,
        line.specification_name or line.code,
        line.unit,
        _number(line.quantity),
        _price(line.unit_price),
        f"{_number(line.tax_rate)}%",
        _money(line.amount),
    ]


def _html_line(block: Block) -> str:
    out = []
    for is_field, text in block.parts:
        out.append(f'<span class="field">{escape(text)}</span>' if is_field else escape(text))
    return "".join(out)


def document_html(
    contract: Contract, *, template=None, body: str | None = None, lines=None, screen: bool = False
) -> str:
    """The standalone document for WeasyPrint, or with `screen` its text and table for a web page;
    `body` replaces the template's text (the preview of words not yet saved)."""
    chosen, language = body_for(contract, template)
    body = chosen if body is None else body
    with translation.override(language):
        rows = [_line_row(line) for line in _lines(contract, lines)]
        blocks = []
        for block in _blocks(body, _values(contract)):
            if block.kind == PRODUCTS:
                blocks.append({"products": True})
            else:
                blocks.append({"html": mark_safe(_html_line(block))})  # noqa: S308 (escaped above)
        return render_to_string(
            "contracts/document/_blocks.html" if screen else "contracts/document/pdf.html",
            {
                "contract": contract,
                "blocks": blocks,
                "headings": [str(h) for h in LINE_HEADINGS],
                "rows": rows,
                "total": _money(contract.amount),
                "watermark": contract.stage in (ContractStage.DRAFT, ContractStage.PENDING),
                "language": language,
            },
        )


def document_pdf(contract: Contract, *, template=None, body: str | None = None) -> bytes:
    from kehu.quotes.document import pdf_from_html

    return pdf_from_html(document_html(contract, template=template, body=body))


def document_docx(contract: Contract, *, template=None) -> bytes:
    """The contract as a Word document: one paragraph per line of the text, the products as a table."""
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Pt

    body, language = body_for(contract, template)
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "Noto Sans CJK SC"
    style.font.size = Pt(10.5)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "Noto Sans CJK SC")
    with translation.override(language):
        lines = _lines(contract)
        for block in _blocks(body, _values(contract)):
            if block.kind == PRODUCTS:
                table = doc.add_table(rows=1, cols=len(LINE_HEADINGS))
                table.style = "Table Grid"
                for cell, heading in zip(table.rows[0].cells, LINE_HEADINGS, strict=True):
                    cell.text = str(heading)
                for line in lines:
                    for cell, text in zip(table.add_row().cells, _line_row(line), strict=True):
                        cell.text = text
                total = table.add_row().cells
                total[0].merge(total[-2]).text = _("Total")
                total[-1].text = _money(contract.amount)
                continue
            paragraph = doc.add_paragraph()
            for is_field, text in block.parts:
                run = paragraph.add_run(text)
                run.bold = is_field
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def document_filename(contract: Contract, extension: str) -> str:
    with translation.override(body_for(contract)[1]):
        name = _("Contract %(number)s") % {"number": contract.number}
    return re.sub(r'[\\/:*?"<>|\x00-\x1f]', "_", name) + "." + extension
