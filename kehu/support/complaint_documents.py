"""The complaint's documents as PDF (WeasyPrint, Noto Sans CJK SC embedded, nothing fetched): the
handling notice (投诉处理通知) sent to the responsible department, and the investigation report
(投诉调查报告) with the cause, responsibility, CAPA, the feedback and the follow-up. Each in Chinese
or English, whoever asks."""

import re

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from kehu.quotes.document import pdf_from_html
from kehu.support.models_complaints import Complaint
from kehu.users.models import CompanySettings

DOCUMENTS = ("notice", "report")
LANGUAGES = ("zh-hans", "en")


def document_language(asked: str | None) -> str:
    asked = (asked or "").lower()
    if asked in LANGUAGES:
        return asked
    return "en" if (translation.get_language() or "").startswith("en") else "zh-hans"


def document_html(complaint: Complaint, kind: str, steps: list, *, language: str) -> str:
    with translation.override(language):
        return render_to_string(
            f"support/complaints/document_{kind}.html",
            {
                "c": complaint,
                "steps": steps,
                "language": language,
                "company_name": CompanySettings.load().company_name,
            },
        )


def document_pdf(complaint: Complaint, kind: str, steps: list, *, language: str) -> bytes:
    return pdf_from_html(document_html(complaint, kind, steps, language=language))


def document_filename(complaint: Complaint, kind: str, *, language: str) -> str:
    with translation.override(language):
        title = _("Complaint handling notice") if kind == "notice" else _("Complaint investigation report")
    return re.sub(r'[\\/:*?"<>|\x00-\x1f]', "_", f"{title} {complaint.number}") + ".pdf"
