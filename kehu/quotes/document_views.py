"""The quote's document pages (SAL-3): the HTML preview and the PDF for those who see the quote,
share links and the e-mail form for those who may change it, the administrators' template page,
and the public page a customer opens from a share link (no login, no Kehu menu)."""

from datetime import timedelta
from decimal import Decimal
from urllib.parse import quote as urlquote

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kehu.core.forms import apply_errors
from kehu.core.pagination import page_of
from kehu.customers.models import Customer
from kehu.quotes import sharing
from kehu.quotes.document import (
    LOGO_MAX_BYTES,
    SETTINGS_PERM,
    TEMPLATE_FIELDS,
    DocumentLine,
    document_filename,
    document_html,
    document_pdf,
    document_template_update,
    money,
    pdf_from_html,
    template_for,
)
from kehu.quotes.models import DocumentLanguage, DocumentTemplate, Quote, QuoteState, ShareLink
from kehu.quotes.selectors import quote_get
from kehu.quotes.services import may_change

LINKS_PAGE = 25


def quote_url(quote: Quote) -> str:
    """The quote's own page (the quote pages), else its customer's."""
    try:
        return reverse("quotes:quote-detail", args=[quote.pk])
    except NoReverseMatch:
        return reverse("workspace:customer-detail", args=[quote.customer_id])


def pdf_response(content: bytes, filename: str, *, download: bool = False) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    disposition = "attachment" if download else "inline"
    response["Content-Disposition"] = f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{urlquote(filename)}"
    response["Cache-Control"] = "private, no-store"
    return response


# --- for people who see the quote ---------------------------------------------------------------------


@require_GET
def document_preview(request, pk):
    quote = quote_get(request.user, pk)
    return render(
        request,
        "quotes/document/preview.html",
        {
            "quote": quote,
            "document": mark_safe(document_html(quote, screen=True)),  # noqa: S308 - rendered with autoescape
            "may_change": may_change(request.user, quote),
            "back": quote_url(quote),
        },
    )


@require_GET
def document_pdf_download(request, pk):
    quote = quote_get(request.user, pk)
    return pdf_response(document_pdf(quote), document_filename(quote), download=request.GET.get("download") == "1")


# --- share links ---------------------------------------------------------------------------------------------


class ShareLinkForm(forms.Form):
    days = forms.IntegerField(
        label=gettext_lazy("Valid for (days)"),
        min_value=1,
        max_value=sharing.MAX_DAYS,
        initial=sharing.DEFAULT_DAYS,
        help_text=gettext_lazy("1 to 90 days; the link can be revoked at any time."),
    )


def _offset(request) -> int:
    raw = request.GET.get("offset", "")
    return min(int(raw), 100_000) if raw.isdigit() and len(raw) < 7 else 0


@require_http_methods(["GET", "POST"])
def share_links(request, pk):
    quote = quote_get(request.user, pk)
    allowed = may_change(request.user, quote)
    form = ShareLinkForm(request.POST or None)
    new_url = ""
    if request.method == "POST":
        if not allowed:
            raise PermissionDenied
        if form.is_valid():
            try:
                _link, token = sharing.share_link_create(
                    quote=quote, actor=request.user, days=form.cleaned_data["days"]
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                new_url = request.build_absolute_uri(reverse("quote_documents:shared", args=[token]))
                quote.refresh_from_db()
                form = ShareLinkForm()
    offset = _offset(request)
    page = page_of(sharing.share_links_of(quote), offset=offset, limit=LINKS_PAGE)
    now = timezone.now()
    for link in page.rows:
        link.state = sharing.share_link_state(link, now)
    return render(
        request,
        "quotes/share/links.html",
        {
            "quote": quote,
            "form": form,
            "page": page,
            "offset": offset,
            "next_offset": offset + LINKS_PAGE if page.has_next else None,
            "previous_offset": max(offset - LINKS_PAGE, 0) if offset else None,
            "new_url": new_url,
            "may_change": allowed,
            "sendable": quote.state in sharing.SENDABLE,
            "back": quote_url(quote),
        },
        status=201 if new_url else 200,
    )


@require_POST
def share_link_revoke(request, pk, link_pk):
    quote = quote_get(request.user, pk)
    link = sharing.share_link_get(quote, link_pk)
    sharing.share_link_revoke(link=link, actor=request.user)
    messages.success(request, _("The link was revoked: it no longer opens the quote."))
    return redirect("quote_documents:share-links", pk=quote.pk)


# --- e-mail ----------------------------------------------------------------------------------------------------


class QuoteEmailForm(forms.Form):
    language = forms.ChoiceField(
        label=gettext_lazy("Document language"),
        choices=DocumentLanguage.choices,
        # Another language starts the subject and message again in it (static/kehu/ui.js).
        widget=forms.Select(attrs={"data-reload-param": "language"}),
    )
    to = forms.CharField(
        label=pgettext_lazy("mail", "To"),
        max_length=1000,
        help_text=gettext_lazy("Several addresses: separate them with commas."),
    )
    cc = forms.CharField(label=gettext_lazy("Cc"), max_length=1000, required=False)
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=200)
    message = forms.CharField(
        label=pgettext_lazy("mail", "Message"), max_length=10_000, widget=forms.Textarea(attrs={"rows": 9})
    )

    def _addresses(self, field: str, required: bool) -> str:
        value = self.cleaned_data.get(field, "")
        try:
            sharing.clean_addresses([value], field, required=required)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict[field]) from None
        return value

    def clean_to(self):
        return self._addresses("to", True)

    def clean_cc(self):
        return self._addresses("cc", False)


def _email_initial(quote: Quote, user, language: str) -> dict:
    draft = sharing.email_defaults(quote, user, language)
    return {
        "language": language,
        "to": ", ".join(draft.to),
        "cc": "",
        "subject": draft.subject,
        "message": draft.message,
    }


@require_http_methods(["GET", "POST"])
def email_send(request, pk):
    quote = quote_get(request.user, pk)
    if not may_change(request.user, quote):
        raise PermissionDenied
    language = request.GET.get("language", "")
    if language not in DocumentLanguage.values:
        language = quote.language if quote.language in DocumentLanguage.values else DocumentLanguage.CHINESE
    form = QuoteEmailForm(request.POST or None, initial=_email_initial(quote, request.user, language))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            sharing.quote_email_send(
                quote=quote,
                actor=request.user,
                to=[data["to"]],
                cc=[data["cc"]],
                subject=data["subject"],
                message=data["message"],
                language=data["language"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request, _("The quote was e-mailed with its PDF; the mail's delivery shows on the timeline.")
            )
            return redirect(quote_url(quote))
    return render(
        request,
        "quotes/document/email.html",
        {
            "quote": quote,
            "form": form,
            "sendable": quote.state in sharing.SENDABLE,
            "filename": document_filename(quote, language=form["language"].value()),
            "back": quote_url(quote),
        },
    )


# --- administrators' templates -------------------------------------------------------------------------------


class DocumentTemplateForm(forms.Form):
    company_name = forms.CharField(label=gettext_lazy("Company name"), max_length=200, required=False)
    letterhead = forms.CharField(
        label=gettext_lazy("Letterhead"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Address, phone, bank account: printed under the company name."),
    )
    logo = forms.FileField(
        label=gettext_lazy("Logo"),
        required=False,
        help_text=gettext_lazy("PNG, JPEG, GIF or WebP, at most 1 MB and 2000 pixels a side."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/gif,image/webp"}),
    )
    remove_logo = forms.BooleanField(label=gettext_lazy("Remove the logo"), required=False)
    introduction = forms.CharField(
        label=gettext_lazy("Introduction"), max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    terms = forms.CharField(
        label=gettext_lazy("Terms and conditions"),
        max_length=8000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    signature_block = forms.CharField(
        label=gettext_lazy("Signature block"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Printed above the supplier's signature line: representative, phone, seal."),
    )
    footer = forms.CharField(
        label=gettext_lazy("Footer"),
        max_length=300,
        required=False,
        help_text=gettext_lazy("One line at the bottom of every page."),
    )

    def clean_logo(self):
        logo = self.cleaned_data.get("logo")
        if logo and logo.size > LOGO_MAX_BYTES:
            raise ValidationError(_("The logo may be at most 1 MB."))
        return logo


def _language(request) -> str:
    value = request.POST.get("language") or request.GET.get("language", "")
    return value if value in DocumentLanguage.values else DocumentLanguage.CHINESE


@permission_required(SETTINGS_PERM, raise_exception=True)
@require_http_methods(["GET", "POST"])
def templates(request):
    language = _language(request)
    saved = template_for(language)
    initial = {name: getattr(saved, name) for name in TEMPLATE_FIELDS}
    form = DocumentTemplateForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            document_template_update(
                language=language,
                actor=request.user,
                logo=data["logo"] or None,
                remove_logo=data["remove_logo"],
                **{name: data[name] for name in TEMPLATE_FIELDS},
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The quote document template was saved."))
            return redirect(f"{reverse('quote_documents:templates')}?language={language}")
    return render(
        request,
        "quotes/document/templates.html",
        {
            "form": form,
            "language": language,
            "languages": DocumentLanguage.choices,
            "saved": saved,
            "has_logo": bool(saved.logo),
        },
        status=400 if form.errors else 200,
    )


def sample_quote(user, language: str) -> tuple[Quote, list[DocumentLine]]:
    """An unsaved quote with two lines, to show the administrators' words around something real."""
    with translation.override(language):
        return _sample_quote(user, language)


def _sample_quote(user, language: str) -> tuple[Quote, list[DocumentLine]]:
    today = timezone.localdate()
    customer = Customer(name=_("Sample customer Co., Ltd."), address=_("1 Sample Road, Suzhou"))
    quote = Quote(
        number=f"Q{today.year}-000123",
        revision=1,
        customer=customer,
        owner=user,
        state=QuoteState.APPROVED,
        language=language,
        quoted_on=today,
        valid_until=today + timedelta(days=30),
        payment_terms=_("An advance of 30%, the rest before delivery"),
        delivery_terms=_("Within 30 days of the advance payment"),
        total_net=Decimal("35398.23"),
        total_tax=Decimal("4601.77"),
        total=Decimal("40000.00"),
    )
    lines = [
        DocumentLine(1, "CK6140-A", _("CNC lathe"), "1000mm", "台", "1", money(32000), "—", "13%", money(32000)),
        DocumentLine(2, "YY-46-200L", _("Hydraulic oil"), "200L", "桶", "4", money(2000), "—", "13%", money(8000)),
    ]
    return quote, lines


@permission_required(SETTINGS_PERM, raise_exception=True)
@require_http_methods(["GET", "POST"])
def template_preview(request):
    """The sample quote with the saved words (GET; `format=pdf` for the PDF) or, from the edit page
    as one types (POST, htmx), with the words not yet saved."""
    language = _language(request)
    template = template_for(language)
    if request.method == "POST":
        form = DocumentTemplateForm(request.POST)
        form.is_valid()
        unsaved = DocumentTemplate(language=language, logo=template.logo)
        for name in TEMPLATE_FIELDS:
            setattr(unsaved, name, form.cleaned_data.get(name, getattr(template, name)))
        if form.cleaned_data.get("remove_logo"):
            unsaved.logo = ""
        template = unsaved
    quote, lines = sample_quote(request.user, language)
    if request.GET.get("format") == "pdf":
        html = document_html(quote, language=language, template=template, lines=lines)
        return pdf_response(pdf_from_html(html), "sample.pdf")
    document = mark_safe(document_html(quote, screen=True, language=language, template=template, lines=lines))  # noqa: S308
    if request.htmx or request.method == "POST":
        return HttpResponse(document)
    return render(request, "quotes/document/template_preview.html", {"document": document, "language": language})


# --- the customer's page (no login) ----------------------------------------------------------------------------


def _public_headers(response: HttpResponse) -> HttpResponse:
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "private, no-store"
    return response


def _gone(request, *, unknown: bool = False) -> HttpResponse:
    status = 404 if unknown else 410
    response = render(request, "quotes/share/gone.html", {"status": status, "unknown": unknown}, status=status)
    return _public_headers(response)


@login_not_required
@require_GET
def shared(request, token):
    try:
        link = sharing.share_link_open(token)
    except ShareLink.DoesNotExist:
        return _gone(request, unknown=True)
    except sharing.LinkGoneError:
        return _gone(request)
    quote = link.quote
    response = render(
        request,
        "quotes/share/public.html",
        {
            "quote": quote,
            "document": mark_safe(document_html(quote, screen=True)),  # noqa: S308
            "token": token,
            "expires_at": link.expires_at,
            "filename": document_filename(quote),
        },
    )
    return _public_headers(response)


@login_not_required
@require_GET
def shared_pdf(request, token):
    try:
        link = sharing.share_link_usable(token)
    except ShareLink.DoesNotExist:
        return _gone(request, unknown=True)
    except sharing.LinkGoneError:
        return _gone(request)
    quote = link.quote
    response = pdf_response(document_pdf(quote), document_filename(quote), download=request.GET.get("download") == "1")
    return _public_headers(response)
