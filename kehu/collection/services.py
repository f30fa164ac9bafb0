"""Every write of the information-collection workflow (CUS-3): forms, their one transition
service, and the region routing table. Each writes in a transaction, appends to the customer's
timeline when the form is about a customer, and records the audit trail."""

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.collection.events import CalendarEvent, InfoFormEvent
from kehu.collection.models import CalendarDay, InfoForm, InfoFormStatus, InfoFormStep, RegionRoute
from kehu.collection.workdays import add_working_days
from kehu.core import events
from kehu.core.audit import audit_record, diff, snapshot
from kehu.core.models import AuditAction
from kehu.core.text import changed, check_text, full_clean
from kehu.core.versioning import update_versioned
from kehu.customers.dedupe import find_duplicates
from kehu.customers.models import Customer
from kehu.customers.services import contact_create, customer_create
from kehu.users.models import User
from kehu.users.scopes import is_in_team_of

S = InfoFormStatus
# "Within 2 working days of collection" (seed: 在收集到客户资料后的2个工作日内输入系统).
FILING_DAYS = 2
# A returned form is corrected and filed again within this many working days.
REFILE_DAYS = getattr(settings, "KEHU_COLLECTION_REFILE_DAYS", 1)
# The manager reviews within N working days of filing; marketing archives "the next day" (次日).
APPROVAL_DAYS = getattr(settings, "KEHU_COLLECTION_APPROVAL_DAYS", 1)
ARCHIVE_DAYS = getattr(settings, "KEHU_COLLECTION_ARCHIVE_DAYS", 1)

# The fixed lifecycle (DESIGN rule 3): from → the statuses it may move to.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.FILED}),
    S.FILED: frozenset({S.APPROVED, S.RETURNED}),
    S.RETURNED: frozenset({S.FILED}),
    S.APPROVED: frozenset({S.ARCHIVED}),
    S.ARCHIVED: frozenset(),
}
EDITABLE = frozenset({S.DRAFT, S.RETURNED})
FORM_FIELDS = [
    "name",
    "industry",
    "region",
    "city",
    "address",
    "contact_name",
    "phone",
    "email",
    "credit_code",
    "source",
    "content",
    "collected_on",
    "customer",
]
EVENT_KIND = {
    S.FILED: InfoFormEvent.INFO_FORM_FILED,
    S.APPROVED: InfoFormEvent.INFO_FORM_APPROVED,
    S.RETURNED: InfoFormEvent.INFO_FORM_RETURNED,
    S.ARCHIVED: InfoFormEvent.INFO_FORM_ARCHIVED,
}


def _today():
    return timezone.localdate()


def _clean(form: InfoForm, *, changed=None) -> None:
    """The form's rules and the model's, with the text rule (on the `changed` fields when given)."""
    form.name = (form.name or "").strip()
    form.region = (form.region or "").strip()
    form.credit_code = (form.credit_code or "").strip().upper()
    errors = {}
    if form.collected_on and form.collected_on > _today():
        errors["collected_on"] = [_("The collection date cannot be in the future.")]
    try:
        full_clean(
            form, exclude=["owner", "customer", "approved_by", "archived_by", "filing_deadline"], text_fields=changed
        )
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    form.filing_deadline = add_working_days(form.collected_on, FILING_DAYS)


def _step(form: InfoForm, actor: User, from_status: str, note: str = "") -> None:
    InfoFormStep.objects.create(form=form, from_status=from_status, to_status=form.status, actor=actor, note=note)


def _check_customer(actor: User, customer: Customer | None) -> None:
    """A form about an existing customer: the caller resolved it through the actor's scope."""
    if customer is not None and customer.deleted_at is not None:
        raise ValidationError({"customer": [_("This customer is in the recycle bin.")]})


@transaction.atomic
def infoform_create(*, actor: User, file: bool = False, **fields) -> InfoForm:
    """Record a customer information form (a draft); with `file=True` it is filed at once."""
    if not actor.has_perm("collection.file_form"):
        raise PermissionDenied
    unknown = set(fields) - set(FORM_FIELDS)
    if unknown:
        raise ValidationError({name: [_("This field cannot be set.")] for name in sorted(unknown)})
    form = InfoForm(owner=actor, status=S.DRAFT, **fields)
    _check_customer(actor, form.customer)
    _clean(form)
    form.due_on = form.filing_deadline
    form.save()
    _step(form, actor, "")
    events.record(
        InfoFormEvent.INFO_FORM_CREATED,
        actor=actor,
        subject=form,
        audit=AuditAction.CREATE,
        changes={k: [None, v] for k, v in snapshot(form, FORM_FIELDS).items() if v not in ("", None)},
    )
    if file:
        form = infoform_transition(form=form, actor=actor, to=S.FILED)
    return form


@transaction.atomic
def infoform_update(*, form: InfoForm, actor: User, expected_version: int, **fields) -> InfoForm:
    """Correct a draft or a returned form (its collector only)."""
    if form.owner_id != actor.pk or not actor.has_perm("collection.file_form"):
        raise PermissionDenied
    if form.status not in EDITABLE:
        raise ValidationError(_("Only drafts and returned forms can be changed."), code="transition")
    before = snapshot(form, FORM_FIELDS)
    changing = changed(form, fields)
    for name, value in fields.items():
        if name not in FORM_FIELDS:
            raise ValidationError({name: [_("This field cannot be changed.")]})
        setattr(form, name, value)
    _check_customer(actor, form.customer)
    _clean(form, changed=changing)
    changes = diff(before, snapshot(form, FORM_FIELDS))
    if not changes:
        return form
    if form.status == S.DRAFT:
        form.due_on = form.filing_deadline
    update_versioned(form, expected_version=expected_version, fields=[*fields, "filing_deadline", "due_on"])
    events.record(InfoFormEvent.INFO_FORM_CHANGED, actor=actor, subject=form, audit=AuditAction.UPDATE, changes=changes)
    return form


def may_review(actor: User, form: InfoForm) -> bool:
    """Managers approve or return the forms of their team, never their own."""
    return actor.has_perm("collection.approve_form") and form.owner_id != actor.pk and is_in_team_of(actor, form.owner)


def _check_allowed(actor: User, form: InfoForm, to: str) -> None:
    if to == S.FILED:
        allowed = form.owner_id == actor.pk and actor.has_perm("collection.file_form")
    elif to in (S.APPROVED, S.RETURNED):
        allowed = may_review(actor, form)
    elif to == S.ARCHIVED:
        allowed = actor.has_perm("collection.archive_form")
    else:
        allowed = False
    if not allowed:
        raise PermissionDenied


def route_for(region: str) -> User | None:
    """The rep new customers of this region go to, if the routing table names an active one."""
    route = RegionRoute.objects.select_related("rep").filter(region=(region or "").strip()).first()
    if route is None or not route.rep.is_active:
        return None
    return route.rep


def _customer_for(form: InfoForm, actor: User, link: Customer | None, create_anyway: bool) -> Customer:
    """The customer an approved form belongs to: its own, the one the manager links, or a new
    one owned by the rep of its region (the collector when the region has no route, or the approver
    when the collector owns no customers)."""
    if form.customer_id:
        return form.customer
    if link is not None:
        _check_customer(actor, link)
        return link
    matches = find_duplicates(name=form.name, phone=form.phone, email=form.email, credit_code=form.credit_code)
    if matches and not create_anyway:
        names = "; ".join(f"{m.name} ({m.owner})" for m in matches[:5])
        raise ValidationError(
            {
                "customer": [
                    _("Likely the same customer exists: %(names)s. Link it, or confirm a new customer.")
                    % {"names": names}
                ]
            },
            code="duplicates",
        )
    # The region's rep, else the collector; a collector who owns no customers (marketing) leaves it
    # to the approving manager, who may hand it over.
    owner = route_for(form.region) or form.owner
    if not owner.has_perm("customers.add_customer"):
        owner = form.owner if form.owner.has_perm("customers.add_customer") else actor
    # Who may assign whom is the customers app's rule; the routing table, set by a manager or an
    # administrator, is what decides the owner here: when the approver may not assign to that rep,
    # the customer is recorded as created by the rep it is routed to (the approval is in this form's trail).
    creator = actor if owner.pk == actor.pk or is_in_team_of(actor, owner) else owner
    customer = customer_create(
        actor=creator,
        owner=owner,
        name=form.name,
        industry=form.industry,
        region=form.region,
        city=form.city,
        address=form.address,
        phone=form.phone,
        email=form.email,
        credit_code=form.credit_code,
        source=form.source,
        notes=form.content,
    )
    if form.contact_name:
        contact_create(customer=customer, actor=creator, name=form.contact_name, is_primary=True)
    return customer


@transaction.atomic
def infoform_transition(
    *,
    form: InfoForm,
    actor: User,
    to: str,
    reason: str = "",
    link_customer: Customer | None = None,
    create_anyway: bool = False,
) -> InfoForm:
    """The one door for moving a form along its lifecycle (TRANSITIONS).

    file (draft/returned → filed, by its collector), approve / return (filed → approved / returned,
    by a manager of the collector, with a reason to return), archive (approved → archived, by
    marketing's archivist). Refused moves raise PermissionDenied or ValidationError and change nothing.
    """
    _check_allowed(actor, form, to)
    # Read the status under a lock so two managers cannot both approve.
    current = InfoForm.objects.select_for_update().get(pk=form.pk)
    if to not in TRANSITIONS[current.status]:
        raise ValidationError(
            _("A form that is “%(status)s” cannot be moved to “%(to)s”.")
            % {"status": current.get_status_display(), "to": S(to).label},
            code="transition",
        )
    form = current
    before = form.status
    now = timezone.now()
    today = timezone.localdate(now)
    note = ""
    fields = ["status", "due_on", "updated_at", "version"]
    if to == S.FILED:
        if form.filed_at is None:
            form.filed_at = now
            form.filed_late = today > form.filing_deadline
            fields += ["filed_at", "filed_late"]
        form.due_on = add_working_days(today, APPROVAL_DAYS)
    elif to == S.RETURNED:
        note = check_text((reason or "").strip(), field="reason", multiline=True, max_length=2000)
        if not note:
            raise ValidationError({"reason": [_("Say why the form is returned, so it can be corrected.")]})
        form.return_reason = note
        form.due_on = add_working_days(today, REFILE_DAYS)
        fields.append("return_reason")
    elif to == S.APPROVED:
        form.customer = _customer_for(form, actor, link_customer, create_anyway)
        form.approved_by = actor
        form.due_on = add_working_days(today, ARCHIVE_DAYS)
        fields += ["customer", "approved_by"]
    elif to == S.ARCHIVED:
        form.archived_by = actor
        form.due_on = None
        fields.append("archived_by")
    form.status = to
    form.version += 1
    form.save(update_fields=fields)
    _step(form, actor, before, note)
    # Filed: the collector's manager reviews it; approved or returned: the collector hears.
    told = [form.owner.manager_id] if to == S.FILED else [form.owner_id] if to in (S.APPROVED, S.RETURNED) else []
    events.record(
        EVENT_KIND[to],
        customer_id=form.customer_id,  # a form not yet linked to a customer is on no timeline
        actor=actor,
        summary=form.name if not note else f"{form.name}: {note}",
        subject=form,
        audit=AuditAction.UPDATE,
        changes={"status": [before, to], **({"reason": [None, note]} if note else {})},
        notify=told,
        link=reverse("collection:infoform-detail", args=[form.pk]),
    )
    return form


# ---- the routing table ----


def check_may_route(actor: User) -> None:
    if not (actor.has_perm("collection.approve_form") or actor.has_perm("users.manage_users")):
        raise PermissionDenied


def in_reach(actor: User, rep: User) -> bool:
    """Whether `actor` may route customers to `rep`, or change the route that goes to them."""
    return actor.has_perm("users.manage_users") or is_in_team_of(actor, rep)


@transaction.atomic
def region_route_set(*, actor: User, region: str, rep: User) -> RegionRoute:
    """Route new customers of `region` to `rep` (replacing the region's route, if any)."""
    check_may_route(actor)
    region = (region or "").strip()
    if not region:
        raise ValidationError({"region": [_("Name the region.")]})
    check_text(region, field="region", max_length=50)
    if not rep.is_active or not rep.has_perm("customers.add_customer"):
        raise ValidationError({"rep": [_("Choose an active user who may own customers.")]})
    if not in_reach(actor, rep):
        raise ValidationError({"rep": [_("You may route customers only to people in your team.")]})
    route = RegionRoute.objects.select_for_update().filter(region=region).select_related("rep").first()
    if route is None:
        route = RegionRoute.objects.create(region=region, rep=rep, updated_by=actor)
        audit_record(actor=actor, action=AuditAction.CREATE, instance=route, changes={"rep": [None, str(rep)]})
        return route
    if not in_reach(actor, route.rep):
        raise PermissionDenied
    before = str(route.rep)
    route.rep, route.updated_by = rep, actor
    route.save()
    audit_record(actor=actor, action=AuditAction.UPDATE, instance=route, changes={"rep": [before, str(rep)]})
    return route


@transaction.atomic
def region_route_delete(*, actor: User, route: RegionRoute) -> None:
    check_may_route(actor)
    if not in_reach(actor, route.rep):
        raise PermissionDenied
    audit_record(actor=actor, action=AuditAction.DELETE, instance=route, changes={"rep": [str(route.rep), None]})
    route.delete()


# ---- the working-day calendar ----


def _check_may_set_calendar(actor: User) -> None:
    if not actor.has_perm("users.change_settings"):
        raise PermissionDenied


@transaction.atomic
def calendar_day_set(*, actor: User, day, is_working_day: bool, name: str = "") -> CalendarDay:
    """Record a holiday on a weekday or a make-up working day on a weekend (replaces that day's entry).
    Deadlines already computed keep their date; new steps use the calendar as it now is."""
    _check_may_set_calendar(actor)
    name = check_text((name or "").strip(), field="name", max_length=100)
    entry, created = CalendarDay.objects.update_or_create(
        day=day, defaults={"is_working_day": is_working_day, "name": name}
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        instance=entry,
        changes={"is_working_day": [None, is_working_day], "name": [None, entry.name]},
    )
    events.record(CalendarEvent.CALENDAR_CHANGED, actor=actor, subject=entry, summary=str(entry.day))
    return entry


@transaction.atomic
def calendar_day_delete(*, actor: User, entry: CalendarDay) -> None:
    _check_may_set_calendar(actor)
    audit_record(actor=actor, action=AuditAction.DELETE, instance=entry)
    events.record(CalendarEvent.CALENDAR_CHANGED, actor=actor, subject=entry, summary=str(entry.day))
    entry.delete()
