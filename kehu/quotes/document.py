"""The quote document (报价单, SAL-3): what the customer reads, as HTML and as PDF.

One template (`quotes/document/_body.html`) holds the document: the company's letterhead and logo
(`DocumentTemplate`, one per document language, edited by administrators), customer and contact,
number, revision, dates, the lines, the totals with and without tax and the total in Chinese
capitals (大写金额, on both language versions), payment and delivery terms, the general terms and
the signature block. It is rendered in the quote's own language (`Quote.language`), whoever looks.

The PDF is made by WeasyPrint from the same body with print CSS: A4, the table header repeated on
every page, "page X of Y" and the footer in the page margins, Noto Sans CJK SC embedded (subset).
WeasyPrint fetches nothing from the network: the logo is inlined as a data URI.

Only what a customer may read is put in the context: never the book price's source, floor prices,
cost or discount limits, so the same context serves the internal preview and the public share page.
A quote not yet approved (draft, pending approval) is watermarked "DRAFT" (草稿).

Administrators change a template through `document_template_update` (validated, audited).
"""

import base64
import io
import re
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from kehu.core.audit import audit_record
from kehu.core.models import AuditAction
from kehu.core.money import FEN, capital_amount
from kehu.core.text import check_text
from kehu.quotes.models import DocumentLanguage, DocumentTemplate, Quote, QuoteLine, QuoteState
from kehu.users.models import CompanySettings

SETTINGS_PERM = "users.change_settings"
WATERMARKED_STATES = (QuoteState.DRAFT, QuoteState.PENDING)
LOGO_MAX_BYTES = 1024 * 1024
LOGO_MAX_SIDE = 2000
LOGO_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
TEMPLATE_FIELDS = {
    # field: (max length, several lines)
    "company_name": (200, False),
    "letterhead": (2000, True),
    "introduction": (4000, True),
    "terms": (8000, True),
    "signature_block": (2000, True),
    "footer": (300, False),
}
LINE_FIELDS = (
    "position",
    "code",
    "name",
    "specification_name",
    "unit",
    "quantity",
    "base_price",
    "discount",
    "tax_rate",
    "amount",
)


@dataclass(frozen=True)
class DocumentLine:
    position: int
    code: str
    name: str
    specification: str
    unit: str
    quantity: str
    unit_price: str
    discount: str
    tax_rate: str
    amount: str


def money(value) -> str:
    """12345.6 → "12,345.60"."""
    return f"{Decimal(value):,.2f}"


def number(value) -> str:
    """A quantity or a rate without trailing zeros: 2.000 → "2", 1234.500 → "1,234.5"."""
    value = Decimal(value)
    if value == value.to_integral_value():
        return f"{value.to_integral_value():,f}"
    return f"{value.normalize():,f}"


def price(value) -> str:
    """A unit price to the fen, or to 4 places when it has parts of a fen."""
    value = Decimal(value)
    return money(value) if value == value.quantize(FEN) else f"{value.normalize():,f}"


def percent(value) -> str:
    return f"{number(value)}%"


def css_string(text: str) -> str:
    """`text` as a CSS string literal's inside (page margin boxes take no HTML)."""
    text = re.sub(r"\s+", " ", text)
    return re.sub(r'["\\]', lambda m: "\\" + m[0], text).replace("<", "\\3C ")


def page_counter_css() -> str:
    """The margin box's `content` for "page X of Y" in the active language."""
    words = _("Page %(page)s of %(pages)s") % {"page": "\x00page\x00", "pages": "\x00pages\x00"}
    parts = []
    for piece in words.split("\x00"):
        if piece in ("page", "pages"):
            parts.append(f"counter({piece})")
        elif piece:
            parts.append(f'"{css_string(piece)}"')
    return " ".join(parts)


def template_for(language: str) -> DocumentTemplate:
    """The administrators' words for a document language (an unsaved blank one names the company)."""
    found = DocumentTemplate.objects.filter(language=language).first()
    if found is None:
        found = DocumentTemplate(language=language, company_name=CompanySettings.load().company_name)
    return found


def logo_data_uri(template: DocumentTemplate) -> str:
    if not template.logo:
        return ""
    try:
        with template.logo.open("rb") as file:
            content = file.read(LOGO_MAX_BYTES + 1)
    except OSError:  # the file went missing: the document goes out without the logo
        return ""
    kind = _image_kind(content)
    if kind is None:
        return ""
    return f"data:{LOGO_FORMATS[kind]};base64,{base64.b64encode(content).decode('ascii')}"


def document_lines(quote: Quote) -> list[DocumentLine]:
    """The lines as the customer reads them, in one query (only the columns the document shows)."""
    rows = QuoteLine.objects.filter(quote_id=quote.pk).order_by("position", "pk").values_list(*LINE_FIELDS)
    return [
        DocumentLine(
            position=position,
            code=code,
            name=name,
            specification=specification,
            unit=unit,
            quantity=number(quantity),
            unit_price=price(base_price),
            discount=percent(discount) if discount else "—",
            tax_rate=percent(tax_rate),
            amount=money(amount),
        )
        for position, code, name, specification, unit, quantity, base_price, discount, tax_rate, amount in rows
    ]


def document_language(quote: Quote) -> str:
    return quote.language if quote.language in DocumentLanguage.values else DocumentLanguage.CHINESE


def document_context(quote: Quote, *, language: str, template=None, lines=None) -> dict:
    """Everything the document shows; call inside `translation.override(language)`."""
    template = template if template is not None else template_for(language)
    contact = quote.contact if quote.contact_id else None
    return {
        "quote": quote,
        "language": language,
        "number": str(quote),
        "customer": quote.customer,
        "contact": contact,
        "owner": quote.owner,
        "template": template,
        # An unsaved template already names the company of the settings; a saved one may leave it blank.
        "company_name": template.company_name or (CompanySettings.load().company_name if template.pk else ""),
        "logo": logo_data_uri(template),
        "lines": document_lines(quote) if lines is None else lines,
        "total_net": money(quote.total_net),
        "total_tax": money(quote.total_tax),
        "total": money(quote.total),
        "total_capitals": capital_amount(quote.total),
        "currency": quote.currency,
        "watermark": _("DRAFT") if quote.state in WATERMARKED_STATES else "",
        "page_counter": page_counter_css(),
        "phone_labels": {
            "quantity": css_string(_("Qty")),
            "discount": css_string(_("Discount")),
            "tax": css_string(_("Tax rate")),
        },
        "footer_css": css_string(template.footer),
    }


def _quote_for_document(quote: Quote) -> Quote:
    if "customer" in quote._state.fields_cache and "owner" in quote._state.fields_cache:
        return quote
    return Quote.objects.select_related("customer", "contact", "owner").get(pk=quote.pk)


def document_html(quote: Quote, *, screen: bool = False, language: str | None = None, template=None, lines=None) -> str:
    """The standalone document (print CSS) or, with `screen`, the document block for a web page;
    in the quote's language unless another is asked for. `template` and `lines` replace the saved
    ones (the administrators' preview of words not yet saved, on a sample quote)."""
    if lines is None:
        quote = _quote_for_document(quote)
    language = language if language in DocumentLanguage.values else document_language(quote)
    with translation.override(language):
        context = document_context(quote, language=language, template=template, lines=lines)
        name = "quotes/document/screen_body.html" if screen else "quotes/document/pdf.html"
        return render_to_string(name, context)


def pdf_from_html(html: str) -> bytes:
    # WeasyPrint (with fontTools, Pillow, pydyf) takes ~40 MiB and half a second to import: it loads
    # on the first PDF a process makes, so web workers that never make one stay small.
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols={"data"}, fail_on_errors=False)
    return HTML(string=html, url_fetcher=fetcher, base_url="data:,").write_pdf()


def document_pdf(quote: Quote, *, language: str | None = None) -> bytes:
    """The PDF of the quote as it stands, fonts embedded; nothing is fetched from the network."""
    return pdf_from_html(document_html(quote, language=language))


def document_filename(quote: Quote, *, language: str | None = None) -> str:
    """ "报价单 Q2026-000001-2.pdf" / "Quote Q2026-000001-2.pdf", in the document's language."""
    with translation.override(language if language in DocumentLanguage.values else document_language(quote)):
        name = _("Quote %(number)s") % {"number": quote}
    return re.sub(r'[\\/:*?"<>|\x00-\x1f]', "_", name) + ".pdf"


# --- Administrators' templates ---------------------------------------------------------------------


def _image_kind(content: bytes) -> str | None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(content)) as image:
            kind = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None
    return kind if kind in LOGO_FORMATS else None


def logo_check(upload: UploadedFile) -> bytes:
    """The logo's bytes when it is a PNG, JPEG, GIF or WebP image of at most 1 MB and 2000 pixels a
    side; else a ValidationError saying what is wrong."""
    from PIL import Image

    if upload.size is not None and upload.size > LOGO_MAX_BYTES:
        raise ValidationError({"logo": [_("The logo may be at most 1 MB.")]})
    content = upload.read(LOGO_MAX_BYTES + 1)
    if len(content) > LOGO_MAX_BYTES:
        raise ValidationError({"logo": [_("The logo may be at most 1 MB.")]})
    if _image_kind(content) is None:
        raise ValidationError({"logo": [_("The logo must be a PNG, JPEG, GIF or WebP image.")]})
    with Image.open(io.BytesIO(content)) as image:
        width, height = image.size
    if max(width, height) > LOGO_MAX_SIDE:
        raise ValidationError(
            {"logo": [_("The logo may be at most %(n)d pixels wide and high.") % {"n": LOGO_MAX_SIDE}]}
        )
    return content


def document_template_update(
    *, language: str, actor, logo: UploadedFile | None = None, remove_logo: bool = False, **fields
) -> DocumentTemplate:
    """An administrator changes the words (and logo) of one document language's template."""
    if not actor.has_perm(SETTINGS_PERM):
        raise PermissionDenied
    if language not in DocumentLanguage.values:
        raise ValidationError({"language": [_("Choose Chinese or English.")]})
    errors: dict[str, list[str]] = {}
    values = {}
    for name, value in fields.items():
        if name not in TEMPLATE_FIELDS:
            raise TypeError(f"unknown template field {name!r}")
        limit, multiline = TEMPLATE_FIELDS[name]
        value = (value or "").strip()
        try:
            check_text(value, field=name, multiline=multiline, max_length=limit)
        except ValidationError as exc:
            errors.update(exc.message_dict)
        values[name] = value
    content = None
    if logo is not None:
        try:
            content = logo_check(logo)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        template = DocumentTemplate.objects.select_for_update().filter(language=language).first()
        created = template is None
        if created:
            template = DocumentTemplate(language=language)
        changes = {
            name: [getattr(template, name), value] for name, value in values.items() if getattr(template, name) != value
        }
        old_logo = template.logo.name if template.logo else ""
        if content is not None:
            from django.core.files.base import ContentFile

            extension = {"PNG": "png", "JPEG": "jpg", "GIF": "gif", "WEBP": "webp"}[_image_kind(content)]
            template.logo.save(f"logo-{language}.{extension}", ContentFile(content), save=False)
            changes["logo"] = [old_logo, template.logo.name]
        elif remove_logo and old_logo:
            template.logo = ""
            changes["logo"] = [old_logo, ""]
        for name, value in values.items():
            setattr(template, name, value)
        template.updated_by = actor
        template.save()
        if changes or created:
            audit_record(
                actor=actor,
                action=AuditAction.CREATE if created else AuditAction.UPDATE,
                instance=template,
                changes=changes,
            )
        if "logo" in changes and old_logo:
            name = old_logo
            storage = template.logo.storage
            transaction.on_commit(lambda: storage.delete(name) if name != template.logo.name else None)
    return template
