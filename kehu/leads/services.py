"""Every write of leads: create, update, the status moves (allowed transitions in one place),
first response, assignment by region rules / round-robin, scoring, the SLA escalation and
conversion to customer + contact (+ opportunity) in one transaction."""

from collections import deque
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core import events
from kehu.core.audit import audit_record, diff, snapshot
from kehu.core.mail import queue_email
from kehu.core.models import AuditAction
from kehu.core.text import TEXT_MAX_LENGTH, changed, check_text, full_clean
from kehu.core.versioning import update_versioned
from kehu.leads import scoring
from kehu.leads.events import LeadChange
from kehu.leads.models import (
    OPEN_STATUSES,
    AssignmentRule,
    Lead,
    LeadEvent,
    LeadEventKind,
    LeadSettings,
    LeadSource,
    LeadStatus,
    ScoringModel,
)
from kehu.leads.selectors import lead_qs_visible_to
from kehu.leads.sla import sla_due
from kehu.users.models import User
from kehu.users.scopes import is_in_team_of

EDITABLE = [
    "company_name",
    "contact_name",
    "phone",
    "email",
    "region",
    "industry",
    "size_band",
    "source",
    "message",
]
AUDITED = [*EDITABLE, "owner", "status", "disqualify_reason"]

# The one place that says which status may follow which.
TRANSITIONS: dict[str, set[str]] = {
    LeadStatus.NEW: {LeadStatus.CONTACTED, LeadStatus.QUALIFIED, LeadStatus.DISQUALIFIED},
    LeadStatus.CONTACTED: {LeadStatus.QUALIFIED, LeadStatus.DISQUALIFIED},
    LeadStatus.QUALIFIED: {LeadStatus.CONTACTED, LeadStatus.DISQUALIFIED, LeadStatus.CONVERTED},
    LeadStatus.DISQUALIFIED: {LeadStatus.CONTACTED},
    LeadStatus.CONVERTED: set(),
}


class LeadTransitionError(ValidationError):
    """The move is not allowed from the lead's status: HTTP 409 in the API."""

    def __init__(self, message, code="transition"):
        super().__init__(message, code=code)
        self.conflict_code = code


def _event(lead: Lead, kind: str, actor, summary: str = "", data: dict | None = None) -> None:
    """One line of the lead's history: free text in `summary`, codes in `data` (kehu.leads.history
    puts them into the reader's words)."""
    LeadEvent.objects.create(
        lead=lead,
        kind=kind,
        actor=actor if getattr(actor, "pk", None) else None,
        summary=summary[:300],
        data=data or {},
    )


def lead_payload(lead: Lead) -> dict:
    """The body of the lead.* webhooks."""
    return {
        "id": lead.pk,
        "company_name": lead.company_name,
        "source": lead.source,
        "status": lead.status,
        "owner_id": lead.owner_id,
        "customer_id": lead.converted_customer_id,
        "opportunity_id": lead.converted_opportunity_id,
    }


def lead_clean(lead: Lead, *, changed=None) -> None:
    """The rules every lead obeys, whichever door it comes through (form, API, inquiry, import);
    the text rule checks only the `changed` fields when given."""
    lead.company_name = (lead.company_name or "").strip()
    lead.contact_name = (lead.contact_name or "").strip()
    if not lead.company_name:
        raise ValidationError({"company_name": _("Enter the company's name.")})
    if not (lead.phone or lead.email):
        raise ValidationError({"phone": _("Give a phone number or an email address.")})
    full_clean(lead, exclude=["owner", "created_by", "deleted_by"], text_fields=changed)


def _may_own(actor: User | None, owner: User | None) -> bool:
    if owner is None or actor is None or owner.pk == actor.pk:
        return True
    return actor.has_perm("leads.assign_lead") and is_in_team_of(actor, owner)


def _check_may_change(actor: User, lead: Lead) -> None:
    if not actor.has_perm("leads.change_lead") or not lead_qs_visible_to(actor).filter(pk=lead.pk).exists():
        raise PermissionDenied


# ---- assignment ----------------------------------------------------------------------------


def assignee_for(region: str) -> User | None:
    """Round-robin among the region's rules (else the catch-all rules); call inside a transaction."""
    region = (region or "").strip()
    rules = AssignmentRule.objects.select_for_update().filter(user__is_active=True)
    chosen = (
        rules.filter(region=region).order_by(F("last_assigned_at").asc(nulls_first=True), "id").first()
        if region
        else None
    )
    if chosen is None:
        chosen = rules.filter(region="").order_by(F("last_assigned_at").asc(nulls_first=True), "id").first()
    if chosen is None:
        return None
    AssignmentRule.objects.filter(pk=chosen.pk).update(last_assigned_at=timezone.now())
    return chosen.user


def assignees_for_many(regions: list[str]) -> list[User | None]:
    """`assignee_for` for many new leads at once (an import): the same round-robin, played out in
    memory over the rules read once, then each rule used stamped in the order it was last used,
    so the next lead continues the rotation. Call inside a transaction."""
    rules = list(
        AssignmentRule.objects.select_for_update()
        .filter(user__is_active=True)
        .select_related("user")
        .order_by(F("last_assigned_at").asc(nulls_first=True), "id")
    )
    queues: dict[str, deque] = {}
    for rule in rules:
        queues.setdefault(rule.region, deque()).append(rule)
    last_used: dict[int, int] = {}  # rule id → position of its last use
    chosen: list[User | None] = []
    for position, region in enumerate(regions):
        region = (region or "").strip()
        queue = queues.get(region) if region else None
        queue = queue or queues.get("")
        if not queue:
            chosen.append(None)
            continue
        rule = queue.popleft()
        queue.append(rule)
        last_used[rule.pk] = position
        chosen.append(rule.user)
    if last_used:
        now = timezone.now()
        stamps = sorted(last_used, key=last_used.get)
        for offset, pk in enumerate(stamps):
            # Earlier uses get earlier stamps, the last one "now": the order the next leads continue.
            AssignmentRule.objects.filter(pk=pk).update(
                last_assigned_at=now - timedelta(microseconds=len(stamps) - 1 - offset)
            )
    return chosen


@transaction.atomic
def assignment_rule_set(*, actor: User, region: str, user: User) -> AssignmentRule:
    if not actor.has_perm("leads.manage_rules"):
        raise PermissionDenied
    region = check_text((region or "").strip(), field="region", max_length=50)
    rule, _created = AssignmentRule.objects.get_or_create(region=region, user=user)
    audit_record(actor=actor, action=AuditAction.CREATE, instance=rule)
    return rule


# ---- scoring -------------------------------------------------------------------------------


# Touches on record: our first response, the reps' notes of calls and visits, and the prospect
# writing in again.
ENGAGEMENT_EVENTS = [LeadEventKind.RESPONDED, LeadEventKind.NOTE, LeadEventKind.INQUIRED]


def lead_rescore(lead: Lead, *, model: ScoringModel | None = None, covered: set[str] | None = None) -> None:
    if covered is None:
        covered = set(AssignmentRule.objects.exclude(region="").values_list("region", flat=True))
    if model is None:
        model = ScoringModel.objects.first()
    engagement = LeadEvent.objects.filter(lead=lead, kind__in=ENGAGEMENT_EVENTS).count()
    lead.score, lead.score_reasons = scoring.score_lead(
        lead, covered_regions=covered, engagement=engagement, model=model
    )
    Lead.objects.filter(pk=lead.pk).update(score=lead.score, score_reasons=lead.score_reasons)


def scoring_retrain(*, now=None) -> ScoringModel | None:
    """Train on closed leads once there are enough of each kind; rescore the open ones."""
    minimum = LeadSettings.current().min_closed_for_learning
    closed = list(
        Lead.objects.filter(deleted_at__isnull=True, status__in=[LeadStatus.CONVERTED, LeadStatus.DISQUALIFIED])
        .exclude(disqualify_reason="spam")
        .order_by("id")
    )
    labels = [int(lead.status == LeadStatus.CONVERTED) for lead in closed]
    if sum(labels) < minimum or len(labels) - sum(labels) < minimum:
        return None
    names, coefficients, intercept = scoring.train(closed, labels)
    model = ScoringModel.objects.create(
        trained_at=now or timezone.now(),
        features=names,
        coefficients=coefficients,
        intercept=intercept,
        n_converted=sum(labels),
        n_disqualified=len(labels) - sum(labels),
    )
    ScoringModel.objects.exclude(pk=model.pk).delete()
    covered = set(AssignmentRule.objects.exclude(region="").values_list("region", flat=True))
    for lead in Lead.objects.filter(deleted_at__isnull=True, status__in=OPEN_STATUSES).iterator():
        lead_rescore(lead, model=model, covered=covered)
    return model


# ---- create / update -----------------------------------------------------------------------


@transaction.atomic
def lead_create(*, actor: User | None, auto_assign: bool = False, **fields) -> Lead:
    """Create a lead. `actor` None is the public inquiry form. Without an owner, with
    `auto_assign`, the region rules pick one."""
    if actor is not None and not actor.has_perm("leads.add_lead"):
        raise PermissionDenied
    now = timezone.now()
    fields.setdefault("created_at", now)
    fields.setdefault("updated_at", now)
    lead = Lead(**fields, created_by=actor)
    if not _may_own(actor, lead.owner):
        raise ValidationError({"owner": _("You may not assign leads to this user.")})
    lead_clean(lead)
    if lead.owner is None and auto_assign:
        lead.owner = assignee_for(lead.region)
    lead.sla_due_at = sla_due(lead.source, lead.created_at)
    lead.save()
    _event(lead, LeadEventKind.CREATED, actor, data={"source": lead.source})
    if lead.owner_id:
        _event(lead, LeadEventKind.ASSIGNED, actor, str(lead.owner))
    lead_rescore(lead)
    events.record(
        LeadChange.LEAD_CREATED, actor=actor, subject=lead, audit=AuditAction.CREATE, webhook=lead_payload(lead)
    )
    if lead.owner_id:
        _tell_owner(lead, actor)
    return lead


def _tell_owner(lead: Lead, actor) -> None:
    """The owner hears of a lead given to them by someone else (or by the assignment rules)."""
    if lead.owner_id != getattr(actor, "pk", None):
        events.record(
            LeadChange.LEAD_ASSIGNED,
            actor=actor,
            subject=lead,
            summary=lead.company_name,
            notify=[lead.owner_id],
            link=reverse("leads:lead-detail", args=[lead.pk]),
        )


@transaction.atomic
def inquiry_receive(*, company_name: str, contact_name: str, phone: str, email: str, region: str, message: str):
    """A web inquiry (询盘). When an open lead already has this phone or email, the prospect has
    written again: the message goes on that lead's history and counts as engagement, and no
    duplicate lead is made. Otherwise a new lead, assigned by the region rules."""
    phone, email = phone.strip(), email.strip()
    # The same text rule as a new lead's, also when the message only joins an existing lead's history.
    check_text(message or "", field="message", multiline=True, max_length=TEXT_MAX_LENGTH)
    check_text(company_name or "", field="company_name", max_length=200)
    match = Q(phone=phone) if phone else Q(pk__in=[])
    if email:
        match |= Q(email_lower=email.lower())
    lead = (
        Lead.objects.alias(email_lower=Lower("email"))
        .filter(match, deleted_at__isnull=True, status__in=OPEN_STATUSES)
        .order_by("-created_at", "-id")
        .first()
    )
    if lead is None:
        return lead_create(
            actor=None,
            auto_assign=True,
            source=LeadSource.WEB_INQUIRY,
            company_name=company_name,
            contact_name=contact_name,
            phone=phone,
            email=email,
            region=region,
            message=message,
        )
    _event(lead, LeadEventKind.INQUIRED, None, message or company_name)
    Lead.objects.filter(pk=lead.pk).update(updated_at=timezone.now())
    lead_rescore(lead)
    return lead


@transaction.atomic
def lead_update(*, lead: Lead, actor: User, expected_version: int, **fields) -> Lead:
    _check_may_change(actor, lead)
    if lead.status == LeadStatus.CONVERTED:
        raise LeadTransitionError(_("A converted lead is closed; change the customer instead."), code="converted")
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in unknown})
    before = snapshot(lead, EDITABLE)
    changing = changed(lead, fields)
    for name, value in fields.items():
        setattr(lead, name, value)
    lead_clean(lead, changed=changing)
    written = list(fields)
    if lead.source != before["source"] and lead.first_responded_at is None:
        # Another source has another first-response time, counted from when the lead came in.
        lead.sla_due_at = sla_due(lead.source, lead.created_at)
        written.append("sla_due_at")
    update_versioned(lead, expected_version=expected_version, fields=written)
    changes = diff(before, snapshot(lead, EDITABLE))
    if changes:
        _event(lead, LeadEventKind.CHANGED, actor, data={"fields": list(changes)})
        events.record(LeadChange.LEAD_CHANGED, actor=actor, subject=lead, audit=AuditAction.UPDATE, changes=changes)
    lead_rescore(lead)
    return lead


@transaction.atomic
def lead_assign(*, lead: Lead, actor: User, owner: User) -> Lead:
    if not actor.has_perm("leads.assign_lead") or not lead_qs_visible_to(actor).filter(pk=lead.pk).exists():
        raise PermissionDenied
    if not owner.is_active or not is_in_team_of(actor, owner):
        raise ValidationError({"owner": _("You may not assign leads to this user.")})
    before = lead.owner_id
    lead.owner = owner
    update_versioned(lead, expected_version=lead.version, fields=["owner"])
    _event(lead, LeadEventKind.ASSIGNED, actor, str(owner))
    events.record(
        LeadChange.LEAD_CHANGED,
        actor=actor,
        subject=lead,
        audit=AuditAction.UPDATE,
        changes={"owner": [before, owner.pk]},
    )
    _tell_owner(lead, actor)
    return lead


@transaction.atomic
def lead_transition(
    *, lead: Lead, actor: User, to_status: str, reason: str = "", note: str = "", _internal: bool = False
) -> Lead:
    note = check_text((note or "").strip(), field="note", max_length=300)
    if not _internal:
        _check_may_change(actor, lead)
        if to_status == LeadStatus.CONVERTED:
            raise LeadTransitionError(_("Convert a lead with the conversion, not a status change."))
    current = Lead.objects.select_for_update().get(pk=lead.pk)
    if to_status not in TRANSITIONS.get(current.status, set()):
        raise LeadTransitionError(
            _("A lead cannot move from “%(from)s” to “%(to)s”.")
            % {
                "from": current.get_status_display(),
                "to": LeadStatus(to_status).label if to_status in LeadStatus.values else to_status,
            }
        )
    if to_status == LeadStatus.DISQUALIFIED:
        if not reason:
            raise ValidationError({"reason": _("Say why the lead is disqualified.")})
        lead.disqualify_reason = reason
        lead.disqualify_note = note
    else:
        lead.disqualify_reason = ""
        lead.disqualify_note = ""
    before = current.status
    lead.status = to_status
    fields = ["status", "disqualify_reason", "disqualify_note"]
    if to_status in (LeadStatus.CONTACTED, LeadStatus.QUALIFIED) and lead.first_responded_at is None:
        lead.first_responded_at = timezone.now()
        fields.append("first_responded_at")
        _event(lead, LeadEventKind.RESPONDED, actor)
    update_versioned(lead, expected_version=current.version, fields=fields)
    _event(lead, LeadEventKind.STATUS, actor, data={"from": before, "to": str(to_status)})
    events.record(
        LeadChange.LEAD_STATUS,
        actor=actor,
        subject=lead,
        audit=AuditAction.UPDATE,
        changes={"status": [before, to_status]},
    )
    if not _internal:
        lead_rescore(lead)
    return lead


def lead_respond(*, lead: Lead, actor: User, note: str = "") -> Lead:
    """Record the first response (a call, a reply): a new lead becomes contacted."""
    note = check_text((note or "").strip(), field="note", max_length=300)
    with transaction.atomic():
        if lead.status == LeadStatus.NEW:
            lead = lead_transition(lead=lead, actor=actor, to_status=LeadStatus.CONTACTED)
        else:
            _check_may_change(actor, lead)
        if note:
            _event(lead, LeadEventKind.NOTE, actor, note)
        lead_rescore(lead)
    return lead


def lead_qualify(*, lead: Lead, actor: User) -> Lead:
    return lead_transition(lead=lead, actor=actor, to_status=LeadStatus.QUALIFIED)


def lead_disqualify(*, lead: Lead, actor: User, reason: str, note: str = "") -> Lead:
    return lead_transition(lead=lead, actor=actor, to_status=LeadStatus.DISQUALIFIED, reason=reason, note=note)


# ---- SLA -----------------------------------------------------------------------------------


def sla_escalate(*, now=None) -> int:
    """Tell the owner's manager, once, about each lead past its first-response time."""
    now = now or timezone.now()
    due = (
        Lead.objects.filter(
            deleted_at__isnull=True,
            first_responded_at__isnull=True,
            sla_escalated_at__isnull=True,
            sla_due_at__lt=now,
            status=LeadStatus.NEW,
        )
        .select_related("owner__manager")
        .order_by("sla_due_at", "id")
    )
    count = 0
    for lead in due[:1000]:
        with transaction.atomic():
            claimed = Lead.objects.filter(pk=lead.pk, sla_escalated_at__isnull=True).update(sla_escalated_at=now)
            if not claimed:
                continue
            manager = lead.owner.manager if lead.owner_id else None
            if manager is not None and manager.email:
                queue_email(
                    "leads/email/sla_overdue",
                    {"lead": lead, "owner": lead.owner, "manager": manager},
                    [manager.email],
                    language=manager.language or None,
                )
            _event(lead, LeadEventKind.ESCALATED, None, str(manager or ""))
            events.record(
                LeadChange.LEAD_SLA_BREACHED,
                subject=lead,
                summary=f"{lead.company_name} · {lead.owner or ''}",
                notify=[manager],
                link=reverse("leads:lead-detail", args=[lead.pk]),
            )
            count += 1
    return count


# ---- conversion ----------------------------------------------------------------------------


@transaction.atomic
def lead_convert(
    *,
    lead: Lead,
    actor: User,
    customer=None,
    allow_duplicate: bool = False,
    opportunity_name: str = "",
    amount=None,
):
    """Customer (new or linked) + contact (+ opportunity when sales is installed), all or nothing.
    The lead's history is handed over to the customer's timeline."""
    from kehu.customers.models import Source
    from kehu.customers.services import contact_create, customer_create

    if not actor.has_perm("leads.convert_lead") or not lead_qs_visible_to(actor).filter(pk=lead.pk).exists():
        raise PermissionDenied
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if LeadStatus.CONVERTED not in TRANSITIONS.get(lead.status, set()):
        raise LeadTransitionError(_("Only a qualified lead can be converted."), code="not_qualified")
    owner = lead.owner or actor
    if customer is None:
        source = {"trade_show": Source.TRADE_SHOW, "web_inquiry": Source.INTERNET, "referral": Source.REFERRAL}
        customer = customer_create(
            actor=actor,
            allow_duplicate=allow_duplicate,
            owner=owner,
            name=lead.company_name,
            phone=lead.phone,
            email=lead.email,
            region=lead.region,
            industry=lead.industry,
            source=source.get(lead.source, Source.OTHER),
        )
    contact = contact_create(
        customer=customer,
        actor=actor,
        name=lead.contact_name or lead.company_name,
        mobile=lead.phone,
        email=lead.email,
        is_primary=not customer.contacts.exclude(pk__isnull=True).exists(),
    )
    history = [
        {"at": e.at.isoformat(), "kind": e.kind, "summary": e.summary, "data": e.data, "actor_id": e.actor_id}
        for e in LeadEvent.objects.filter(lead=lead).order_by("at", "id")
    ]
    opportunity = _opportunity_create(
        customer=customer,
        actor=actor,
        name=opportunity_name or lead.company_name,
        amount=amount,
        owner=owner,
        lead=lead,
    )
    lead.converted_customer_id = customer.pk
    lead.converted_contact_id = contact.pk
    lead.converted_opportunity_id = getattr(opportunity, "pk", None)
    lead.converted_at = timezone.now()
    update_versioned(
        lead,
        expected_version=lead.version,
        fields=["converted_customer_id", "converted_contact_id", "converted_opportunity_id", "converted_at"],
    )
    lead = lead_transition(lead=lead, actor=actor, to_status=LeadStatus.CONVERTED, _internal=True)
    _event(lead, LeadEventKind.CONVERTED, actor, customer.name)
    events.record(
        LeadChange.LEAD_CONVERTED,
        customer_id=customer.pk,
        actor=actor,
        summary=_("Lead from %(source)s converted") % {"source": lead.get_source_display()},
        subject=lead,
        payload={"lead_id": lead.pk, "message": lead.message[:2000], "score": lead.score, "history": history},
        webhook=lead_payload(lead),
    )
    return lead


def _opportunity_create(*, customer, actor, name, amount, owner, lead):
    from kehu.sales.services import opportunity_create

    return opportunity_create(
        customer=customer, actor=actor, name=name, amount=amount, owner=owner, source_lead_id=lead.pk
    )


@transaction.atomic
def assignment_rule_delete(*, actor: User, rule: AssignmentRule) -> None:
    if not actor.has_perm("leads.manage_rules"):
        raise PermissionDenied
    audit_record(actor=actor, action=AuditAction.DELETE, instance=rule)
    rule.delete()


@transaction.atomic
def sla_rule_set(*, actor: User, source: str, hours: int):
    from kehu.leads.models import SlaRule

    if not actor.has_perm("leads.manage_rules"):
        raise PermissionDenied
    rule, _created = SlaRule.objects.update_or_create(source=source, defaults={"hours": hours})
    audit_record(actor=actor, action=AuditAction.UPDATE, instance=rule, changes={"hours": [None, hours]})
    return rule


@transaction.atomic
def sla_rule_delete(*, actor: User, rule) -> None:
    """Leads of that source then get the default first-response time."""
    if not actor.has_perm("leads.manage_rules"):
        raise PermissionDenied
    audit_record(actor=actor, action=AuditAction.DELETE, instance=rule, changes={"hours": [rule.hours, None]})
    rule.delete()


SETTINGS_FIELDS = ["work_start", "work_end", "default_sla_hours", "min_closed_for_learning"]


def _settings_snapshot(settings: LeadSettings) -> dict:
    values = {name: getattr(settings, name) for name in SETTINGS_FIELDS}
    return {name: v.isoformat() if hasattr(v, "isoformat") else v for name, v in values.items()}


@transaction.atomic
def lead_settings_update(*, actor: User, **fields) -> LeadSettings:
    """Working hours of the first-response clock, the default first-response time and the learned-score
    threshold. Due times already set stay as they are; leads created from now on use the new hours."""
    if not actor.has_perm("leads.manage_rules"):
        raise PermissionDenied
    unknown = set(fields) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be set.") for name in sorted(unknown)})
    settings = LeadSettings.objects.select_for_update().order_by("pk").first() or LeadSettings()
    before = _settings_snapshot(settings)
    for name, value in fields.items():
        setattr(settings, name, value)
    errors = {}
    for name in ("work_start", "work_end"):
        value = getattr(settings, name)
        if value is None or value.tzinfo is not None:
            errors[name] = _("Give a time of day without a time zone (the company's time zone is used).")
    if not errors and settings.work_start >= settings.work_end:
        errors["work_end"] = _("The working day must end after it starts.")
    if not 1 <= int(settings.default_sla_hours or 0) <= 400:
        errors["default_sla_hours"] = _("Give between 1 and 400 working hours.")
    if not 1 <= int(settings.min_closed_for_learning or 0) <= 100_000:
        errors["min_closed_for_learning"] = _("Give a number between 1 and 100,000.")
    if errors:
        raise ValidationError(errors)
    changes = diff(before, _settings_snapshot(settings))
    if changes or settings.pk is None:
        settings.save()
        audit_record(actor=actor, action=AuditAction.UPDATE, instance=settings, changes=changes)
    return settings


# ---- public inquiry form -------------------------------------------------------------------


def inquiry_attempts(ip: str, *, window=None) -> int:
    from datetime import timedelta

    from kehu.leads.models import InquiryAttempt

    since = timezone.now() - (window or timedelta(hours=1))
    return InquiryAttempt.objects.filter(ip=ip, at__gte=since).count()


def inquiry_attempt_record(ip: str) -> None:
    from datetime import timedelta

    from kehu.leads.models import InquiryAttempt

    now = timezone.now()
    InquiryAttempt.objects.create(ip=ip, at=now)
    InquiryAttempt.objects.filter(at__lt=now - timedelta(days=1)).delete()
