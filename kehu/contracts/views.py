"""The contract pages (CON-1/CON-2): list, detail, new/edit, stage moves, lines, amendments,
attachments, the documents and the settings (templates with a preview, reminders, approval)."""

import mimetypes
from datetime import timedelta

from django.apps import apps
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.approvals.selectors import only_visible, requests_of_record
from kehu.catalog.models import Specification
from kehu.contracts import approval, document, selectors, services
from kehu.contracts.forms import (
    AmendmentForm,
    AttachmentForm,
    CloseForm,
    ContractFilterForm,
    ContractHeaderForm,
    LineAddForm,
    SettingsForm,
    SignForm,
    TemplateForm,
)
from kehu.contracts.models import (
    AmendmentState,
    Contract,
    ContractLine,
    ContractSettings,
    ContractStage,
    ContractTemplate,
)
from kehu.core import events
from kehu.core.forms import apply_errors
from kehu.core.money import capital_amount
from kehu.core.params import page_param
from kehu.customers.models import TimelineEntry
from kehu.customers.selectors import contacts_of, customer_get
from kehu.quotes.selectors import quote_get
from kehu.sales.selectors import opportunity_get
from kehu.users.models import User
from kehu.users.selectors import scope_users_q

PAGE_SIZE = 25
S = ContractStage
DETAIL = "contracts/contract_detail.html"
SETTINGS_PERM = "contracts.manage_contract_templates"


def _require(user, perm: str) -> None:
    if not user.is_authenticated or not user.has_perm(perm):
        raise PermissionDenied


def _text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


# -- The list ------------------------------------------------------------------------------------


def contract_list(request):
    _require(request.user, "contracts.view_contract")
    user = request.user
    owners = User.objects.filter(scope_users_q(user), is_active=True).order_by("username")
    form = ContractFilterForm(request.GET or None, owners=owners)
    filters = selectors.ContractFilters()
    customer = None
    if form.is_valid():
        data = form.cleaned_data
        if data["customer"]:
            try:
                customer = customer_get(user, data["customer"])
            except Http404:
                customer = None
        filters = selectors.ContractFilters(
            q=data["q"].strip(),
            stage=data["stage"],
            owner_id=data["owner"].pk if data["owner"] else None,
            customer_id=customer.pk if customer else (-1 if data["customer"] else None),
            expiring_days=data["expiring"],
        )
    page_number = page_param(request, last=400)
    page = selectors.contract_list(user, filters, limit=PAGE_SIZE, offset=(page_number - 1) * PAGE_SIZE)
    query = request.GET.copy()
    query.pop("page", None)
    without_customer = query.copy()
    without_customer.pop("customer", None)
    today = timezone.localdate()
    return render(
        request,
        "contracts/contract_list.html",
        {
            "form": form,
            "page": page,
            "rows": page.rows,
            "page_number": page_number,
            "query": query.urlencode(),
            "query_without_customer": without_customer.urlencode(),
            "customer": customer,
            "show_owner": getattr(user, "data_scope", "own") != "own",
            "soon": today + timedelta(days=ContractSettings.current().remind_days_before_end),
            "may_add": user.has_perm("contracts.add_contract"),
        },
    )


# -- New and edit ---------------------------------------------------------------------------------


def _owners(user):
    return User.objects.filter(scope_users_q(user), is_active=True).order_by("username")


def _header(form) -> dict:
    data = {
        name: form.cleaned_data[name] for name in form.fields if name != "version" and not form.fields[name].disabled
    }
    if data.get("owner") is None:
        data.pop("owner", None)
    if data.get("amount") is None:
        data.pop("amount", None)
    return data


def contract_create(request):
    _require(request.user, "contracts.add_contract")
    user = request.user
    source = request.POST if request.method == "POST" else request.GET
    quote = opportunity = None
    try:
        if source.get("quote"):
            quote = quote_get(user, source.get("quote"))
            customer = quote.customer
        elif source.get("opportunity"):
            opportunity = opportunity_get(user, source.get("opportunity"))
            customer = opportunity.customer
        else:
            customer = customer_get(user, source.get("customer"))
    except (Http404, ValueError, TypeError):
        messages.info(request, _("Open a customer, an opportunity or an accepted quote and start the contract there."))
        return redirect("contracts:list")
    if quote is not None:
        # Everything comes from the quote; the rest is filled in on the contract afterwards.
        if request.method == "POST":
            try:
                contract = services.contract_create(actor=user, quote=quote)
            except ValidationError as exc:
                messages.error(request, _text(exc))
                return redirect("quotes:quote-detail", pk=quote.pk)
            messages.success(request, _("Contract %(number)s drafted from the quote.") % {"number": contract.number})
            return redirect("contracts:detail", pk=contract.pk)
        return render(request, "contracts/contract_from_quote.html", {"quote": quote, "customer": customer})
    form = ContractHeaderForm(
        request.POST or None,
        contacts=contacts_of(customer),
        owners=_owners(user),
        templates=selectors.templates_active(),
        initial={"owner": user},
    )
    if request.method == "POST" and form.is_valid():
        try:
            contract = services.contract_create(customer=customer, opportunity=opportunity, actor=user, **_header(form))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Contract %(number)s drafted.") % {"number": contract.number})
            return redirect("contracts:detail", pk=contract.pk)
    return render(
        request, "contracts/contract_form.html", {"form": form, "customer": customer, "opportunity": opportunity}
    )


def contract_edit(request, pk):
    contract = selectors.contract_get(request.user, pk)
    _require(request.user, "contracts.change_contract")
    if not services.may_change(request.user, contract):
        raise PermissionDenied
    form = ContractHeaderForm(
        request.POST or None,
        instance=contract,
        contacts=contacts_of(contract.customer),
        owners=_owners(request.user),
        templates=selectors.templates_active(),
        has_lines=bool(contract.line_count),
    )
    if request.method == "POST" and form.is_valid():
        fresh = selectors.contract_get(request.user, pk)
        fields = {n: form.cleaned_data[n] for n in form.changed_data if n != "version" and not form.fields[n].disabled}
        if "owner" in fields and fields["owner"] is None:
            fields.pop("owner")
        try:
            services.contract_update(
                contract=fresh, actor=request.user, expected_version=form.cleaned_data.get("version") or 0, **fields
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("contracts:detail", pk=pk)
    return render(
        request, "contracts/contract_form.html", {"form": form, "contract": contract, "customer": contract.customer}
    )


# -- The contract ---------------------------------------------------------------------------------


def _link(url_name: str, app_label: str, query: str) -> str:
    """A page of an app above (orders, invoices, payment plans) if it is installed and mounted."""
    if not apps.is_installed(f"kehu.{app_label}"):
        return ""
    try:
        return f"{reverse(url_name)}?{query}"
    except NoReverseMatch:
        return ""


def _actions(user, contract: Contract, request_open) -> dict:
    change = services.may_change(user, contract)
    stage = contract.stage
    actions = {
        "edit": change and stage == S.DRAFT,
        "submit": change and stage == S.DRAFT,
        "withdraw": change and stage == S.PENDING and (request_open is None or request_open.requester_id == user.pk),
        "sign": change and stage == S.PENDING and bool(contract.approved_at),
        "complete": change and stage in (S.SIGNED, S.PERFORMING),
        "terminate": change and stage in (S.SIGNED, S.PERFORMING),
        "void": change and stage == S.SIGNED,
        "amend": change and stage in (S.SIGNED, S.PERFORMING),
        "delete": change and stage == S.DRAFT and user.has_perm("contracts.delete_contract"),
        "attach": change,
    }
    actions["any"] = any(v for k, v in actions.items() if k != "attach")
    return actions


def _detail_context(request, contract: Contract, **extra) -> dict:
    user = request.user
    request_open = None
    if contract.stage == S.PENDING or contract.approved_at:
        request_open = next(iter(only_visible(user, [requests_of_record(approval.CODE, contract.pk).first()])), None)
    amendments = selectors.contract_amendments(contract)
    amendment_requests = {}
    pending = [a.pk for a in amendments if a.state == AmendmentState.PENDING]
    if pending:
        for amendment_pk in pending:
            found = next(
                iter(only_visible(user, [requests_of_record(approval.AMENDMENT_CODE, amendment_pk).first()])), None
            )
            if found is not None:
                amendment_requests[amendment_pk] = found
    timeline = list(
        TimelineEntry.objects.filter(
            customer_id=contract.customer_id, subject_type="contracts.contract", subject_id=contract.pk
        )
        .select_related("actor")
        .order_by("-occurred_at", "-id")[:30]
    )
    labels = events.labels()
    for entry in timeline:
        entry.label = labels.get(entry.kind, entry.kind)
    query = f"contract={contract.pk}"
    context = {
        "contract": contract,
        "stage_display": services.stage_display(contract),
        "lines": selectors.contract_lines(contract),
        "capital": capital_amount(contract.amount),
        "amendments": [(a, amendment_requests.get(a.pk)) for a in amendments],
        "attachments": selectors.contract_attachments(contract),
        "timeline": timeline,
        "approval": request_open,
        "actions": _actions(user, contract, request_open),
        "editable": contract.stage == S.DRAFT and services.may_change(user, contract),
        "today": timezone.localdate(),
        "sign_form": SignForm(initial={"signed_on": timezone.localdate()}),
        "close_form": CloseForm(),
        "line_form": LineAddForm(),
        "attachment_form": AttachmentForm(),
        "links": [
            (label, url)
            for label, url in (
                (_("Orders"), _link("orders:list", "orders", query)),
                (_("Invoices"), _link("invoices:list", "invoices", query)),
                (_("Payment plans"), _link("receivables:list", "receivables", query)),
            )
            if url
        ],
        "new_order": _link("orders:new", "orders", query) if contract.is_in_force else "",
    }
    context.update(extra)
    return context


def contract_detail(request, pk):
    contract = selectors.contract_get(request.user, pk)
    return render(request, DETAIL, _detail_context(request, contract))


def _back(pk):
    return redirect("contracts:detail", pk=pk)


@require_POST
def contract_transition(request, pk):
    contract = selectors.contract_get(request.user, pk)
    _require(request.user, "contracts.change_contract")
    to = request.POST.get("to", "")
    if to not in S.values:
        messages.error(request, _("Unknown stage."))
        return _back(pk)
    kwargs = {}
    if to == S.SIGNED:
        form = SignForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Enter the signing date."))
            return _back(pk)
        kwargs["signed_on"] = form.cleaned_data["signed_on"]
    if to in (S.COMPLETED, S.TERMINATED, S.VOID):
        kwargs["reason"] = request.POST.get("reason", "")
    try:
        services.contract_transition(contract=contract, to=to, actor=request.user, **kwargs)
    except ValidationError as exc:
        messages.error(request, _text(exc))
    else:
        messages.success(request, _("The contract is now: %(stage)s.") % {"stage": services.stage_display(contract)})
    return _back(pk)


@require_POST
def contract_delete(request, pk):
    contract = selectors.contract_get(request.user, pk)
    _require(request.user, "contracts.delete_contract")
    try:
        services.contract_delete(contract=contract, actor=request.user)
    except ValidationError as exc:
        messages.error(request, _text(exc))
        return _back(pk)
    messages.success(request, _("%(number)s moved to the recycle bin.") % {"number": contract.number})
    return redirect("contracts:list")


def recycle_bin(request):
    _require(request.user, "contracts.delete_contract")
    rows = list(selectors.deleted_contracts_for(request.user)[:100])
    return render(request, "contracts/recycle_bin.html", {"rows": rows})


@require_POST
def contract_restore(request, pk):
    contract = selectors.deleted_contract_get(request.user, pk)
    try:
        services.contract_restore(contract=contract, actor=request.user)
    except ValidationError as exc:
        messages.error(request, _text(exc))
        return redirect("contracts:recycle-bin")
    messages.success(request, _("%(number)s restored.") % {"number": contract.number})
    return _back(pk)


# -- Lines ----------------------------------------------------------------------------------------


@require_POST
def line_add(request, pk):
    contract = selectors.contract_get(request.user, pk)
    _require(request.user, "contracts.change_contract")
    form = LineAddForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return _back(pk)
    code = form.cleaned_data["code"].strip()
    spec = Specification.objects.filter(code__iexact=code).first()
    if spec is None:
        messages.error(request, _("No product specification has the code %(code)s.") % {"code": code})
        return _back(pk)
    try:
        services.contract_line_add(
            contract=contract,
            actor=request.user,
            specification_id=spec.pk,
            quantity=form.cleaned_data["quantity"],
            unit_price=form.cleaned_data["unit_price"],
        )
    except ValidationError as exc:
        messages.error(request, _text(exc))
    return _back(pk)


@require_POST
def line_remove(request, pk, line_pk):
    contract = selectors.contract_get(request.user, pk)
    line = ContractLine.objects.filter(contract=contract, pk=line_pk).first()
    if line is None:
        raise Http404
    line.contract = contract
    try:
        services.contract_line_remove(line=line, actor=request.user)
    except ValidationError as exc:
        messages.error(request, _text(exc))
    return _back(pk)


# -- Amendments -----------------------------------------------------------------------------------


def _amendment_values(form) -> dict:
    return {name: form.cleaned_data[name] for name in form.fields if form.cleaned_data.get(name) not in (None, "")}


def amendment_create(request, pk):
    contract = selectors.contract_get(request.user, pk)
    _require(request.user, "contracts.change_contract")
    if not services.may_change(request.user, contract):
        raise PermissionDenied
    form = AmendmentForm(request.POST or None, contract=contract)
    if request.method == "POST" and form.is_valid():
        try:
            services.amendment_create(contract=contract, actor=request.user, **_amendment_values(form))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Amendment drafted: submit it to put it in effect."))
            return _back(pk)
    return render(request, "contracts/amendment_form.html", {"form": form, "contract": contract})


@require_POST
def amendment_act(request, pk, amendment_pk, action):
    amendment = selectors.amendment_get(request.user, pk, amendment_pk)
    act = {"submit": services.amendment_submit, "discard": services.amendment_discard}.get(action)
    if act is None:
        raise Http404
    try:
        result = act(amendment=amendment, actor=request.user)
    except ValidationError as exc:
        messages.error(request, _text(exc))
    else:
        if result.state == AmendmentState.EFFECTIVE:
            messages.success(request, _("The amendment is in effect."))
        elif result.state == AmendmentState.PENDING:
            messages.success(request, _("The amendment waits for approval."))
        else:
            messages.success(request, _("The amendment was discarded."))
    return _back(pk)


# -- Attachments ----------------------------------------------------------------------------------


@require_POST
def attachment_add(request, pk):
    contract = selectors.contract_get(request.user, pk)
    _require(request.user, "contracts.change_contract")
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose a file to attach."))
        return _back(pk)
    try:
        services.attachment_add(
            contract=contract,
            actor=request.user,
            upload=form.cleaned_data["file"],
            is_signed_copy=form.cleaned_data["is_signed_copy"],
        )
    except ValidationError as exc:
        messages.error(request, _text(exc))
    else:
        messages.success(request, _("Attached."))
    return _back(pk)


def attachment_download(request, pk, attachment_pk):
    """Served through Kehu to those who see the contract (never from a public media URL)."""
    attachment = selectors.attachment_get(request.user, pk, attachment_pk)
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    kind = mimetypes.guess_type(attachment.name)[0] or "application/octet-stream"
    response = FileResponse(
        handle, content_type=kind, as_attachment=kind != "application/pdf", filename=attachment.name
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_POST
def attachment_remove(request, pk, attachment_pk):
    attachment = selectors.attachment_get(request.user, pk, attachment_pk)
    try:
        services.attachment_remove(attachment=attachment, actor=request.user)
    except ValidationError as exc:
        messages.error(request, _text(exc))
    return _back(pk)


# -- Documents ------------------------------------------------------------------------------------


def document_pdf(request, pk):
    contract = selectors.contract_get(request.user, pk)
    response = HttpResponse(document.document_pdf(contract), content_type="application/pdf")
    response["Content-Disposition"] = _disposition(document.document_filename(contract, "pdf"), inline=True)
    return response


def document_docx(request, pk):
    contract = selectors.contract_get(request.user, pk)
    response = HttpResponse(
        document.document_docx(contract),
        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    response["Content-Disposition"] = _disposition(document.document_filename(contract, "docx"))
    return response


def _disposition(filename: str, *, inline: bool = False) -> str:
    from urllib.parse import quote

    return f"{'inline' if inline else 'attachment'}; filename*=UTF-8''{quote(filename)}"


# -- Settings -------------------------------------------------------------------------------------


def contract_settings(request):
    _require(request.user, SETTINGS_PERM)
    current = ContractSettings.current()
    form = SettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        try:
            services.settings_save(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("contracts:settings")
    templates = list(ContractTemplate.objects.order_by("language", "name", "pk"))
    return render(request, "contracts/settings.html", {"form": form, "templates": templates})


def _sample_contract(user) -> Contract | None:
    return selectors.contract_qs_visible_to(user).select_related("customer", "owner", "contact").order_by("-pk").first()


def template_edit(request, pk=None):
    _require(request.user, SETTINGS_PERM)
    template = None
    if pk is not None:
        template = ContractTemplate.objects.filter(pk=pk).first()
        if template is None:
            raise Http404
    initial = {} if template else {"body": document.DEFAULT_BODY["zh-hans"], "is_active": True}
    form = TemplateForm(request.POST or None, instance=template, initial=initial)
    preview = problems = None
    if request.method == "POST" and form.is_valid():
        body = form.cleaned_data["body"]
        problems = document.unknown_fields(body)
        if "preview" in request.POST or problems:
            sample = _sample_contract(request.user)
            if sample is not None and not problems:
                preview = document.document_html(sample, body=body, template=template, screen=True)
            elif sample is None:
                messages.info(request, _("There is no contract to preview the template with yet."))
        else:
            try:
                saved = services.template_save(
                    actor=request.user, template=template, **{n: form.cleaned_data[n] for n in form.fields}
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Template %(name)s saved.") % {"name": saved.name})
                return redirect("contracts:settings")
    return render(
        request,
        "contracts/template_form.html",
        {
            "form": form,
            "template": template,
            "preview": preview,
            "problems": problems,
            "fields": [(name, label) for name, (label, _getter) in document.FIELDS.items()],
        },
    )
