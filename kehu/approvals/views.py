"""Approval pages: the inbox (待我审批 / 我发起的 / 抄送我的), a request with its facts, history and
actions (htmx), the flow list and editor for administrators, and delegations."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.approvals import forms, registry, selectors, services
from kehu.approvals.models import ActionKind, ApprovalRequest, Delegation, RequestState
from kehu.core.forms import apply_errors
from kehu.core.params import page_param, text_param
from kehu.users.models import Department, User
from kehu.users.roles import Role

PAGE_SIZE = 25
MANAGE = services.MANAGE


def _type_choices():
    return [(t.code, t.label) for t in registry.all_types()]


def inbox_badge(request):
    """The menu's badge: how many tasks wait for this user (one indexed COUNT, capped)."""
    count = selectors.inbox_count(request.user)
    if not count:
        return HttpResponse("")
    shown = f"{selectors.COUNT_CAP}+" if count > selectors.COUNT_CAP else str(count)
    return HttpResponse(
        format_html('<span class="badge bg-red text-red-fg ms-1" id="approvals-count">{}</span>', shown)
    )


def inbox(request):
    tab = request.GET.get("tab", selectors.MINE)
    if tab not in selectors.TABS:
        tab = selectors.MINE
    document_type = text_param(request, "type", 50)
    if document_type and not registry.get(document_type):
        document_type = ""
    state = text_param(request, "state", 10)
    if state not in RequestState.values:
        state = ""
    qs = selectors.inbox(request.user, tab, document_type=document_type, state=state)
    counts = selectors.tab_counts(request.user)
    paginator = Paginator(qs, PAGE_SIZE)
    if tab == selectors.MINE and not document_type and counts[tab] <= selectors.COUNT_CAP:
        paginator.count = counts[tab]  # the tab's count is this list's: not counted twice
    page = paginator.get_page(page_param(request))
    rows = [row.request if tab == selectors.MINE else row for row in page.object_list]
    for row in rows:
        row.type_label = registry.label(row.document_type)
    if tab == selectors.MINE:
        for task, row in zip(page.object_list, rows, strict=True):
            row.task = task
    return render(
        request,
        "approvals/inbox.html",
        {
            "tab": tab,
            "rows": rows,
            "page": page,
            "counts": counts,
            "types": _type_choices(),
            "states": RequestState.choices,
            "document_type": document_type,
            "state": state,
        },
    )


def _request_for(user, pk) -> ApprovalRequest:
    found = (
        selectors.request_qs_visible_to(user)
        .select_related("requester", "flow_version", "decided_by")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404
    return found


def _detail_context(request, approval: ApprovalRequest, form=None) -> dict:
    kind = registry.get(approval.document_type)
    fields = kind.all_fields() if kind else {}
    facts = []
    for name, value in approval.facts.items():
        spec = fields.get(name)
        if spec is None or name == "department":
            continue
        shown = spec.choice_label(value) if spec.kind == registry.CHOICE else value
        if spec.kind == registry.DECIMAL and value not in (None, ""):
            shown = f"{float(value):,.2f}"
        facts.append((spec.label, shown))
    proposal = kind.describe(approval) if kind and kind.describe else []
    steps = approval.flow_version.steps
    task = services.actionable_task(approval, request.user)
    passed = sorted({t.step for t in selectors.request_tasks(approval) if t.step < approval.step})
    is_requester = request.user.pk == approval.requester_id
    link = ""
    if kind is not None:
        record = kind.model._base_manager.filter(pk=approval.object_id).first()
        link = kind.link(record) if record is not None else ""
    return {
        "approval": approval,
        "type_label": registry.label(approval.document_type),
        "facts": facts,
        "proposal": proposal,
        # Names are the administrator's words; a default step's English name has a translation.
        "steps": [(i, _(s["name"]) if s.get("name") else _("Step %(n)s") % {"n": i + 1}) for i, s in enumerate(steps)],
        "tasks": selectors.request_tasks(approval),
        "history": selectors.request_history(approval),
        "task": task,
        "is_requester": is_requester,
        "may_copy": is_requester or task is not None,
        "form": form or forms.ActForm(steps=[(i, steps[i].get("name", "")) for i in passed]),
        "people": _people() if task is not None or is_requester else [],
        "link": link,
        "ActionKind": ActionKind,
    }


def _people() -> list[tuple[int, str]]:
    """Active users for the person menu, as plain pairs: a company's few thousand options render
    in a millisecond this way, where the form widget takes tens."""
    rows = User.objects.filter(is_active=True).order_by("last_name", "first_name", "username")
    return [
        (pk, f"{last}{first}".strip() or name)
        for pk, last, first, name in rows.values_list("pk", "last_name", "first_name", "username")
    ]


def request_detail(request, pk):
    approval = _request_for(request.user, pk)
    return render(request, "approvals/request_detail.html", _detail_context(request, approval))


@require_POST
def request_act(request, pk):
    approval = _request_for(request.user, pk)
    steps = approval.flow_version.steps
    form = forms.ActForm(request.POST, steps=[(i, s.get("name", "")) for i, s in enumerate(steps)])
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.request_act(
                request=approval,
                actor=request.user,
                action=data["action"],
                comment=data.get("comment") or "",
                to_step=data.get("to_step"),
                user=data["user"].pk if data.get("user") else None,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Done."))
            if not request.htmx:
                return redirect("approvals:request-detail", pk=approval.pk)
            form = None
    approval = _request_for(request.user, pk)
    context = _detail_context(request, approval, form)
    if request.htmx:
        return render(request, "approvals/request_detail.html#panel", context)
    return render(request, "approvals/request_detail.html", context, status=400 if form else 200)


# --- flows (administrators) ----------------------------------------------------------------------


@permission_required(MANAGE, raise_exception=True)
def flow_list(request):
    rows = []
    for kind in registry.all_types():
        flow = services.flow_view(kind.code)
        names = [_(s["name"]) if s.get("name") else "" for s in flow.steps]
        rows.append({"kind": kind, "flow": flow, "steps": names})
    return render(request, "approvals/flow_list.html", {"rows": rows})


@require_POST
@permission_required(MANAGE, raise_exception=True)
def flow_active(request, code):
    if registry.get(code) is None:
        raise Http404
    is_active = request.POST.get("is_active") == "on"
    services.flow_set_active(document_type=code, is_active=is_active, actor=request.user)
    messages.success(request, _("Saved."))
    return redirect("approvals:flow-list")


@permission_required(MANAGE, raise_exception=True)
def flow_edit(request, code):
    kind = registry.get(code)
    if kind is None:
        raise Http404
    flow = services.flow_view(code)
    fields = kind.all_fields()
    initial = [forms.step_initial(s) for s in flow.steps]
    formset = forms.StepFormSet(request.POST or None, initial=initial, prefix="step", form_kwargs={"fields": fields})
    problems = []
    if request.method == "POST" and formset.is_valid():
        # In the order people numbered them; unchanged blank and deleted steps are left out.
        steps = [f.step() for f in formset.ordered_forms if not f.is_blank()]
        try:
            services.flow_save(document_type=code, steps=steps, actor=request.user)
        except ValidationError as exc:
            problems = exc.message_dict.get("steps", exc.messages)
        else:
            messages.success(request, _("Saved as a new version; requests already in approval keep theirs."))
            return redirect("approvals:flow-edit", code=code)
    versions = flow.versions
    departments = list(Department.objects.order_by("path").values_list("pk", "name"))
    choice_help = [
        (spec.label, ", ".join(f"{value} = {label}" for value, label in spec.choices))
        for spec in fields.values()
        if spec.kind == registry.CHOICE
    ]
    return render(
        request,
        "approvals/flow_edit.html",
        {
            "kind": kind,
            "flow": flow,
            "formset": formset,
            "problems": problems,
            "versions": versions,
            "departments": departments,
            "choice_help": choice_help,
            "roles": Role.choices,
        },
    )


# --- delegations ---------------------------------------------------------------------------------


def _delegation_owner(request) -> User:
    """Whose delegations the page shows: your own, or (for administrators) ?user=<id>."""
    raw = request.GET.get("user") or request.POST.get("for_user") or ""
    if raw and raw.isdigit() and len(raw) < 16 and int(raw) != request.user.pk:
        if not request.user.has_perm(MANAGE):
            raise PermissionDenied
        return get_object_or_404(User, pk=int(raw))
    return request.user


def delegation_list(request):
    owner = _delegation_owner(request)
    form = forms.DelegationForm(request.POST or None, user=owner)
    if request.method == "POST" and form.is_valid():
        try:
            services.delegation_create(user=owner, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Delegation saved."))
            target = "approvals:delegation-list"
            return redirect(f"/approvals/delegations/?user={owner.pk}" if owner != request.user else target)
    return render(
        request,
        "approvals/delegation_list.html",
        {
            "form": form,
            "owner": owner,
            "delegations": selectors.delegations_of(owner),
            "standing_in": Delegation.objects.filter(delegate=owner).select_related("user").order_by("-starts_on")[:20],
        },
    )


@require_POST
def delegation_delete(request, pk):
    delegation = get_object_or_404(Delegation, pk=pk)
    if delegation.user_id != request.user.pk and not request.user.has_perm(MANAGE):
        raise Http404
    services.delegation_delete(delegation=delegation, actor=request.user)
    messages.success(request, _("Delegation removed."))
    return redirect("approvals:delegation-list")
