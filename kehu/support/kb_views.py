"""The knowledge base's staff pages (SRV-4) under /service/knowledge/: the list with its search and the
visitors' answers, an article (both languages, attachments, publish/archive), the editor; article
suggestions for the ticket intake form and the ticket page (send an article's link to the customer)."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kehu.core.exceptions import ConcurrentEditError
from kehu.core.forms import apply_errors
from kehu.core.pagination import page_of
from kehu.core.params import id_param, page_param, parse_id, text_param
from kehu.support import kb_selectors, kb_services, portal_services, selectors
from kehu.support.models import ArticleCategory, ArticleState, FollowLink

PAGE_SIZE = 25


def _require_read(user):
    if not kb_selectors.may_read(user):
        raise PermissionDenied


def _require_edit(user):
    if not kb_selectors.may_edit(user):
        raise PermissionDenied


class ArticleForm(forms.Form):
    title_zh = forms.CharField(label=gettext_lazy("Title (Chinese)"), max_length=200, required=False)
    body_zh = forms.CharField(
        label=gettext_lazy("Text (Chinese)"), required=False, widget=forms.Textarea(attrs={"rows": 8})
    )
    title_en = forms.CharField(label=gettext_lazy("Title (English)"), max_length=200, required=False)
    body_en = forms.CharField(
        label=gettext_lazy("Text (English)"), required=False, widget=forms.Textarea(attrs={"rows": 8})
    )
    category = forms.ModelChoiceField(
        label=gettext_lazy("Category"), queryset=ArticleCategory.objects.all(), required=False
    )
    keywords = forms.CharField(
        label=gettext_lazy("Keywords"),
        max_length=500,
        required=False,
        help_text=gettext_lazy("Words people search with, separated by spaces."),
    )
    product = forms.ModelChoiceField(label=gettext_lazy("Product"), queryset=None, required=False)
    is_public = forms.BooleanField(
        label=gettext_lazy("Public: shown on the self-service page once published"), required=False
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from kehu.catalog.models import Product

        self.fields["product"].queryset = Product.objects.order_by("name")


class AttachmentForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("File"))


def kb_list(request):
    user = request.user
    _require_read(user)
    q = text_param(request, "q", 100)
    state = request.GET.get("state", "")
    category_id = id_param(request, "category")
    qs = kb_selectors.article_qs_visible_to(user)
    if state in ArticleState.values and kb_selectors.may_edit(user):
        qs = qs.filter(state=state)
    if category_id:
        qs = qs.filter(category_id=category_id)
    if q:
        qs = kb_selectors.article_search(qs, q)
    else:
        qs = qs.order_by("-updated_at", "-pk")
    page = page_param(request)
    result = page_of(
        kb_selectors.with_counts(qs.select_related("category")), offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    query = request.GET.copy()
    query.pop("page", None)
    can_edit = kb_selectors.may_edit(user)
    return render(
        request,
        "support/kb/article_list.html",
        {
            "result": result,
            "articles": result.rows,
            "page": page,
            "query": query.urlencode(),
            "q": q,
            "state": state,
            "states": ArticleState.choices if can_edit else [],
            "categories": kb_selectors.categories(),
            "category_id": category_id,
            "can_edit": can_edit,
            "totals": kb_selectors.totals() if can_edit or user.has_perm("support.manage_service") else None,
            "unmatched": portal_services_unmatched_count(user),
        },
    )


def portal_services_unmatched_count(user) -> int | None:
    from kehu.support.models import PortalRequest, PortalRequestState

    if not user.has_perm("support.add_ticket"):
        return None
    return PortalRequest.objects.filter(state=PortalRequestState.UNMATCHED).count()


def _form_values(data) -> dict:
    return {k: v for k, v in data.items() if k != "version"}


def kb_create(request):
    user = request.user
    _require_edit(user)
    form = ArticleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            article = kb_services.article_create(actor=user, **_form_values(form.cleaned_data))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Article saved as a draft."))
            return redirect("support:kb-detail", pk=article.pk)
    return render(request, "support/kb/article_form.html", {"form": form, "article": None})


def kb_edit(request, pk):
    user = request.user
    _require_edit(user)
    article = kb_selectors.article_get(user, pk)
    initial = {name: getattr(article, name) for name in kb_services.FIELDS}
    initial["version"] = article.version
    form = ArticleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            kb_services.article_update(
                article=article,
                actor=user,
                expected_version=form.cleaned_data["version"],
                **_form_values(form.cleaned_data),
            )
        except ConcurrentEditError as exc:
            form.add_error(None, str(exc))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Article saved."))
            return redirect("support:kb-detail", pk=article.pk)
    return render(request, "support/kb/article_form.html", {"form": form, "article": article})


def kb_detail(request, pk):
    user = request.user
    _require_read(user)
    article = kb_selectors.article_get(user, pk)
    counted = kb_selectors.with_counts(kb_selectors.article_qs_visible_to(user).filter(pk=article.pk)).get()
    can_edit = kb_selectors.may_edit(user)
    moves = [ArticleState(s) for s in kb_services.TRANSITIONS[article.state]] if can_edit else []
    return render(
        request,
        "support/kb/article_detail.html",
        {
            "article": article,
            "counted": counted,
            "attachments": kb_selectors.attachments_of(article),
            "can_edit": can_edit,
            "moves": moves,
            "attachment_form": AttachmentForm() if can_edit else None,
            "public_url": request.build_absolute_uri(reverse("portal:article", args=[article.pk]))
            if article.is_visible_publicly
            else "",
        },
    )


@require_POST
def kb_transition(request, pk):
    user = request.user
    _require_edit(user)
    article = kb_selectors.article_get(user, pk)
    try:
        kb_services.article_transition(article=article, actor=user, to=request.POST.get("to", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Article saved."))
    return redirect("support:kb-detail", pk=article.pk)


@require_POST
def kb_attachment_add(request, pk):
    user = request.user
    _require_edit(user)
    article = kb_selectors.article_get(user, pk)
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose a file to attach."))
    else:
        try:
            kb_services.attachment_add(article=article, actor=user, upload=form.cleaned_data["file"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("File attached."))
    return redirect("support:kb-detail", pk=article.pk)


@require_POST
def kb_attachment_remove(request, pk, attachment_pk):
    user = request.user
    _require_edit(user)
    article = kb_selectors.article_get(user, pk)
    kb_services.attachment_remove(attachment=kb_selectors.attachment_get(article, attachment_pk), actor=user)
    messages.success(request, _("File removed."))
    return redirect("support:kb-detail", pk=article.pk)


def attachment_response(attachment) -> FileResponse:
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    inline = attachment.content_type.startswith("image/") or attachment.content_type == "application/pdf"
    response = FileResponse(
        handle, content_type=attachment.content_type, as_attachment=not inline, filename=attachment.name
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    return response


def kb_attachment_download(request, pk, attachment_pk):
    """Served through Kehu to those who see the article (never from a public media URL)."""
    user = request.user
    _require_read(user)
    article = kb_selectors.article_get(user, pk)
    return attachment_response(kb_selectors.attachment_get(article, attachment_pk))


def kb_suggest(request):
    """htmx: articles matching what is typed in the ticket intake's subject."""
    user = request.user
    _require_read(user)
    text = text_param(request, "subject", 200) or text_param(request, "q", 200)
    qs = kb_selectors.article_qs_visible_to(user).filter(state=ArticleState.PUBLISHED)
    return render(
        request, "support/kb/_suggestions.html", {"articles": kb_selectors.suggestions(qs, text), "text": text}
    )


@require_POST
def kb_send(request, pk):
    """Send a public article's link to the ticket's customer as an outgoing message."""
    user = request.user
    ticket = selectors.ticket_get(user, pk)
    _require_read(user)
    article = kb_selectors.article_get(user, parse_id(request.POST.get("article", "")) or 0)
    url = request.build_absolute_uri(reverse("portal:article", args=[article.pk]))
    try:
        kb_services.article_send(ticket=ticket, article=article, actor=user, url=url)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The article's link was sent to the customer."))
    return redirect("support:ticket-detail", pk=ticket.pk)


@require_POST
def follow_link_revoke(request, pk, link_pk):
    user = request.user
    ticket = selectors.ticket_get(user, pk)
    link = FollowLink.objects.filter(ticket=ticket, pk=link_pk).first()
    if link is None:
        raise Http404
    portal_services.follow_link_revoke(link=link, actor=user)
    messages.success(request, _("The link no longer works."))
    return redirect("support:ticket-detail", pk=ticket.pk)
