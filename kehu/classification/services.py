"""Every write of classification data: tier suggestions and decisions, revenue inputs,
evaluations, credit and the settings. Each checks the actor, validates, writes in a transaction
and records the timeline and the audit trail."""

from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.classification import approval, selectors
from kehu.classification.events import ClassificationEvent
from kehu.classification.models import (
    ClassificationSettings,
    CreditRecord,
    CustomerRevenue,
    DealerEvaluation,
    KeyAccountEvaluation,
    SuggestionStatus,
    TierSuggestion,
)
from kehu.core import events
from kehu.core.audit import audit_record, diff, snapshot
from kehu.core.models import AuditAction
from kehu.core.text import check_text, full_clean
from kehu.customers.models import Customer, Tier
from kehu.customers.selectors import customer_qs_visible_to
from kehu.customers.services import customer_tier_set
from kehu.users.models import User
from kehu.users.roles import DataScope

BATCH = 2000
SETTINGS_FIELDS = [
    "key_share",
    "ordinary_share",
    "potential_weight",
    "reject_cooldown_days",
    "key_time_target",
    "credit_limit_prospect",
    "credit_limit_ordinary",
    "credit_limit_key",
]


def _check_in_scope(actor: User, customer: Customer) -> None:
    if not customer_qs_visible_to(actor).filter(pk=customer.pk).exists():
        raise PermissionDenied


def _full_clean(instance) -> None:
    full_clean(instance, exclude=["customer", "evaluated_by", "set_by", "recorded_by"])


# --- the suggestion job (CLS-1) -----------------------------------------------------------------


def suggestions_refresh(*, year: int | None = None, now=None) -> dict:
    """Propose a promotion or demotion for every ranked customer whose rank points at another tier.

    Idempotent: an open suggestion that still stands is kept (one open per customer, enforced by
    the database too); one that no longer stands is superseded; a change rejected within the
    cool-down is not proposed again. Set-based: the ranking is one SQL query with a window
    function, read in batches; writes are bulk inserts and updates."""
    now = now or timezone.now()
    year = year or timezone.localdate().year
    conf = ClassificationSettings.load()
    proposals, cuts, total = selectors.tier_proposals(year, conf)
    cooldown_since = now - timedelta(days=conf.reject_cooldown_days)
    created = kept = stale_count = 0
    batch: list[dict] = []

    def flush(rows: list[dict]) -> None:
        nonlocal created, kept, stale_count
        ids = [r["customer_id"] for r in rows]
        with transaction.atomic():
            open_ = {
                s.customer_id: s
                for s in TierSuggestion.objects.filter(customer_id__in=ids, status=SuggestionStatus.OPEN).only(
                    "id", "customer_id", "proposed_tier", "current_tier"
                )
            }
            rejected = set(
                TierSuggestion.objects.filter(
                    customer_id__in=ids, status=SuggestionStatus.REJECTED, decided_at__gte=cooldown_since
                ).values_list("customer_id", "current_tier", "proposed_tier")
            )
            keep, stale, new = [], [], []
            for r in rows:
                proposed = selectors.tier_for_rank(r["rank"], cuts)
                existing = open_.get(r["customer_id"])
                if existing and existing.proposed_tier == proposed and existing.current_tier == r["tier"]:
                    keep.append(existing.pk)
                    continue
                if existing:
                    stale.append(existing.pk)
                if (r["customer_id"], r["tier"], proposed) in rejected:
                    continue
                share = (r["revenue"] * 100 / total) if total else Decimal("0")
                new.append(
                    TierSuggestion(
                        customer_id=r["customer_id"],
                        current_tier=r["tier"],
                        proposed_tier=proposed,
                        year=year,
                        revenue=r["revenue"],
                        potential=r["potential"],
                        rank=r["rank"],
                        ranked=cuts.ranked,
                        revenue_share=share.quantize(Decimal("0.001")),
                        created_at=now,
                        checked_at=now,
                    )
                )
            TierSuggestion.objects.filter(pk__in=stale).update(status=SuggestionStatus.SUPERSEDED, decided_at=now)
            TierSuggestion.objects.filter(pk__in=keep).update(checked_at=now)
            TierSuggestion.objects.bulk_create(new)
            created += len(new)
            kept += len(keep)
            stale_count += len(stale)

    for row in proposals:
        batch.append(row)
        if len(batch) >= BATCH:
            flush(batch)
            batch = []
    if batch:
        flush(batch)
    superseded = TierSuggestion.objects.filter(status=SuggestionStatus.OPEN, checked_at__lt=now).update(
        status=SuggestionStatus.SUPERSEDED, decided_at=now
    )
    return {"ranked": cuts.ranked, "created": created, "kept": kept, "superseded": superseded + stale_count}


# --- decisions ----------------------------------------------------------------------------------


def _check_decider(actor: User, customer: Customer) -> None:
    if not actor.has_perm("classification.decide_tier"):
        raise PermissionDenied
    _check_in_scope(actor, customer)


def _clean_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give a reason for the decision.")})
    return check_text(reason, field="reason", multiline=True, max_length=2000)


def _decide(suggestion: TierSuggestion, *, actor: User, status: str, reason: str) -> bool:
    """Claim the open suggestion for this decision; False if someone decided it meanwhile."""
    return bool(
        TierSuggestion.objects.filter(pk=suggestion.pk, status=SuggestionStatus.OPEN).update(
            status=status, decided_by=actor, decided_at=timezone.now(), reason=reason
        )
    )


@transaction.atomic
def suggestion_accept(*, suggestion: TierSuggestion, actor: User, reason: str) -> TierSuggestion:
    customer = Customer.objects.select_for_update().get(pk=suggestion.customer_id)
    _check_decider(actor, customer)
    reason = _clean_reason(reason)
    if customer.tier != suggestion.current_tier:
        raise ValidationError(_("The customer's tier changed since this was proposed; wait for the next suggestion."))
    if not _decide(suggestion, actor=actor, status=SuggestionStatus.ACCEPTED, reason=reason):
        raise ValidationError(_("This suggestion has already been decided."))
    customer_tier_set(customer=customer, tier=suggestion.proposed_tier, actor=actor, reason=reason)
    suggestion.refresh_from_db()
    events.record(
        ClassificationEvent.TIER_SUGGESTION_DECIDED,
        actor=actor,
        subject=suggestion,
        audit=AuditAction.UPDATE,
        changes={"status": [SuggestionStatus.OPEN, SuggestionStatus.ACCEPTED], "reason": [None, reason]},
    )
    return suggestion


@transaction.atomic
def suggestion_reject(*, suggestion: TierSuggestion, actor: User, reason: str) -> TierSuggestion:
    customer = suggestion.customer
    _check_decider(actor, customer)
    reason = _clean_reason(reason)
    if not _decide(suggestion, actor=actor, status=SuggestionStatus.REJECTED, reason=reason):
        raise ValidationError(_("This suggestion has already been decided."))
    suggestion.refresh_from_db()
    events.record(
        ClassificationEvent.TIER_SUGGESTION_DECIDED,
        actor=actor,
        subject=suggestion,
        audit=AuditAction.UPDATE,
        changes={"status": [SuggestionStatus.OPEN, SuggestionStatus.REJECTED], "reason": [None, reason]},
    )
    return suggestion


# --- settings -----------------------------------------------------------------------------------


def may_change_settings(user: User) -> bool:
    """Administrators, and deciders who see the whole company (the general manager)."""
    return user.is_authenticated and (
        user.has_perm("users.change_settings")
        or (user.has_perm("classification.decide_tier") and user.data_scope == DataScope.ALL)
    )


@transaction.atomic
def settings_update(*, actor: User, **fields) -> ClassificationSettings:
    if not may_change_settings(actor):
        raise PermissionDenied
    conf = ClassificationSettings.objects.select_for_update().get(pk=ClassificationSettings.load().pk)
    before = snapshot(conf, SETTINGS_FIELDS)
    for name, value in fields.items():
        if name not in SETTINGS_FIELDS:
            raise ValidationError({name: _("This field cannot be changed.")})
        setattr(conf, name, value)
    errors = {}
    for name in ("key_share", "ordinary_share", "key_time_target"):
        value = getattr(conf, name)
        if value is None or not Decimal("0") <= Decimal(value) <= Decimal("100"):
            errors[name] = _("Enter a percentage from 0 to 100.")
    if "key_share" not in errors and "ordinary_share" not in errors:
        if Decimal(conf.key_share) + Decimal(conf.ordinary_share) > 100:
            errors["ordinary_share"] = _("Key and ordinary shares together must not exceed 100%.")
    if conf.potential_weight is None or not Decimal("0") <= Decimal(conf.potential_weight) <= Decimal("10"):
        errors["potential_weight"] = _("Enter a weight from 0 to 10.")
    for tier in Tier.values:
        limit = getattr(conf, f"credit_limit_{tier}")
        if limit is None or Decimal(limit) < 0:
            errors[f"credit_limit_{tier}"] = _("A credit limit cannot be negative.")
    if errors:
        raise ValidationError(errors)
    try:
        conf.full_clean(exclude=["updated_by"])
    except ValidationError as exc:
        raise ValidationError(exc.message_dict) from None
    conf.updated_by = actor
    conf.save()
    changes = diff(before, snapshot(conf, SETTINGS_FIELDS))
    if changes:
        audit_record(actor=actor, action=AuditAction.UPDATE, instance=conf, changes=changes)
    return conf


# --- revenue inputs, evaluations, credit (CLS-1..5) ---------------------------------------------


def _check_evaluator(actor: User, customer: Customer) -> None:
    if not actor.has_perm("classification.evaluate_customer"):
        raise PermissionDenied
    _check_in_scope(actor, customer)


def _money(value, field: str, *, label) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError({field: _("Enter an amount.")}) from None
    if not amount.is_finite():
        raise ValidationError({field: _("Enter an amount.")})
    if amount < 0:
        raise ValidationError({field: label})
    try:
        return amount.quantize(Decimal("0.01"))
    except InvalidOperation:
        raise ValidationError({field: _("This amount is too large.")}) from None


@transaction.atomic
def revenue_record(*, customer: Customer, actor: User, year: int, revenue, potential) -> CustomerRevenue:
    """Record (or correct) a customer's revenue and potential for a year; the ranking reads these."""
    _check_evaluator(actor, customer)
    revenue = _money(revenue, "revenue", label=_("Revenue cannot be negative."))
    potential = _money(potential, "potential", label=_("Potential cannot be negative."))
    row = CustomerRevenue.objects.filter(customer=customer, year=year).first()
    before = snapshot(row, ["revenue", "potential"]) if row else {}
    if row is None:
        row = CustomerRevenue(customer=customer, year=year)
    row.revenue, row.potential, row.recorded_by, row.recorded_at = revenue, potential, actor, timezone.now()
    _full_clean(row)
    row.save()
    changes = diff(before, snapshot(row, ["year", "revenue", "potential"]))
    if changes:
        events.record(
            ClassificationEvent.EVALUATED,
            customer_id=customer.pk,
            actor=actor,
            summary=_("Revenue %(year)s: ¥%(revenue)s, potential ¥%(potential)s")
            % {"year": year, "revenue": f"{revenue:,.2f}", "potential": f"{potential:,.2f}"},
            subject=row,
            audit=AuditAction.UPDATE if before else AuditAction.CREATE,
            changes=changes,
        )
    return row


KEY_FIELDS = [
    "evaluated_on",
    "attractiveness",
    "potential_volume",
    "potential_margin",
    "relationship_state",
    "relationship_level",
    "notes",
]
DEALER_FIELDS = [
    "evaluated_on",
    "enthusiasm",
    "enthusiasm_notes",
    "capability",
    "capability_notes",
    "credit",
    "credit_notes",
    "social",
    "social_notes",
]


def _fields(fields: dict, allowed: list[str]) -> dict:
    for name in fields:
        if name not in allowed:
            raise ValidationError({name: _("This field cannot be changed.")})
    return fields


def _evaluation_save(evaluation, *, actor: User, field_names: list[str], summary) -> None:
    """Validate and save a dated evaluation; timeline (EVALUATED) and audit trail with it."""
    _full_clean(evaluation)
    evaluation.save()
    events.record(
        ClassificationEvent.EVALUATED,
        customer_id=evaluation.customer_id,
        actor=actor,
        summary=summary(evaluation),
        subject=evaluation,
        audit=AuditAction.CREATE,
        changes={k: [None, v] for k, v in snapshot(evaluation, field_names).items() if v not in ("", None)},
    )


@transaction.atomic
def key_evaluation_create(*, customer: Customer, actor: User, **fields) -> KeyAccountEvaluation:
    _check_evaluator(actor, customer)
    evaluation = KeyAccountEvaluation(customer=customer, evaluated_by=actor, **_fields(fields, KEY_FIELDS))
    _evaluation_save(
        evaluation,
        actor=actor,
        field_names=KEY_FIELDS,
        summary=lambda e: (
            _("Key-account evaluation: %(attractiveness)s, relationship %(state)s, level %(level)s")
            % {
                "attractiveness": e.get_attractiveness_display(),
                "state": e.get_relationship_state_display(),
                "level": e.get_relationship_level_display(),
            }
        ),
    )
    return evaluation


@transaction.atomic
def dealer_evaluation_create(*, customer: Customer, actor: User, **fields) -> DealerEvaluation:
    _check_evaluator(actor, customer)
    evaluation = DealerEvaluation(customer=customer, evaluated_by=actor, **_fields(fields, DEALER_FIELDS))
    _evaluation_save(
        evaluation,
        actor=actor,
        field_names=DEALER_FIELDS,
        summary=lambda e: (
            _("Dealer evaluation: enthusiasm %(e)s, capability %(c)s, credit %(r)s, social relations %(s)s (of 5)")
            % {"e": e.enthusiasm, "c": e.capability, "r": e.credit, "s": e.social}
        ),
    )
    return evaluation


CREDIT_FIELDS = ["rating", "limit", "investigated_on", "investigation"]


@transaction.atomic
def credit_set(*, customer: Customer, actor: User, approved: bool = False, **fields) -> CreditRecord:
    """Record a credit investigation and the rating and limit it sets (CLS-4). A limit above the
    tier's default is sent for approval instead (kehu.classification.approval): the approval
    request is returned, and the record is written when it is approved (`approved=True`)."""
    if not actor.has_perm("classification.set_credit"):
        raise PermissionDenied
    _check_in_scope(actor, customer)
    _fields(fields, CREDIT_FIELDS)
    if fields.get("limit") is not None:
        fields["limit"] = _money(fields["limit"], "limit", label=_("A credit limit cannot be negative."))
    previous = selectors.credit_current(customer)
    record = CreditRecord(customer=customer, set_by=actor, **fields)
    _full_clean(record)
    if not approved:
        approval.check_unlocked(customer)
        if approval.needs_approval(customer, record.limit):
            return approval.submit(customer=customer, actor=actor, fields=fields)
    record.save()
    before = snapshot(previous, ["rating", "limit"]) if previous else {}
    changes = diff(before, snapshot(record, ["rating", "limit"]))
    events.record(
        ClassificationEvent.CREDIT_CHANGED,
        customer_id=customer.pk,
        actor=actor,
        summary=_("Credit rating %(rating)s, limit ¥%(limit)s")
        % {"rating": record.rating, "limit": f"{record.limit:,.2f}"},
        subject=record,
        payload={"changes": changes},
        audit=AuditAction.CREATE,
        changes=changes,
    )
    return record
