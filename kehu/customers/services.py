"""Every write to customers, contacts and facts: validate, write in a transaction,
append to the timeline, record the audit trail (rules of the house 1 and 7)."""

import re
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core import events
from kehu.core.audit import diff, snapshot
from kehu.core.exceptions import ConcurrentEditError
from kehu.core.models import AuditAction
from kehu.core.text import changed, check_text, full_clean, text_field_errors
from kehu.core.versioning import update_versioned
from kehu.core.weburl import clean_web_url
from kehu.customers import approval, ownership
from kehu.customers.events import CustomerEvent
from kehu.customers.models import Contact, Customer, CustomerFact, Medium, Tier
from kehu.customers.normalise import normalise_name
from kehu.customers.points import (
    PRIMARY,
    Point,
    clean_points,
    points_as_text,
    points_of,
    points_write,
    primary_columns,
    with_primary,
)
from kehu.customers.search import search_index_update
from kehu.customers.selectors import (
    can_see_sensitive,
    customer_duplicates,
    customer_in_scope,
    deleted_contacts_for,
    deleted_customers_for,
)
from kehu.users.models import User
from kehu.users.scopes import is_in_team_of

CUSTOMER_FIELDS = [
    "name",
    "kind",
    "segment",
    "industry",
    "region",
    "city",
    "address",
    "latitude",
    "longitude",
    "source",
    "status",
    "tier",
    "phone",
    "email",
    "website",
    "credit_code",
    "notes",
    "owner",
    "channel_level",
]
CONTACT_FIELDS = [
    "name",
    "gender",
    "position",
    "department",
    "buying_role",
    "mobile",
    "office_phone",
    "email",
    "wechat",
    "is_primary",
    "birthday",
    "birthday_month",
    "birthday_day",
    "address",
    "family_background",
    "family_birthdays",
    "hobbies",
    "personality",
    "in_position_since",
    "transfer_reason",
    "notes",
    "anniversary",
    "anniversary_name",
]
IDENTIFYING_FIELDS = ("name", "phone", "email", "credit_code")
CREDIT_CODE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_is_valid(code: str) -> bool:
    """GB 32100-2015 unified social credit code, including its check character."""
    if not CREDIT_CODE.match(code):
        return False
    total = sum(CREDIT_CHARS.index(c) * w for c, w in zip(code[:17], CREDIT_WEIGHTS, strict=True))
    return CREDIT_CHARS[(31 - total % 31) % 31] == code[17]


class DuplicateCustomerError(ValidationError):
    """Likely duplicates exist (CUS-5) and the caller did not allow saving anyway. `matches` are
    `DuplicateMatch`es marked `in_scope` for the actor: views list them, the API answers 409."""

    def __init__(self, matches):
        super().__init__(_("This customer may already exist."), code="duplicate")
        self.matches = matches


def _check_duplicates(actor: User, customer: Customer, *, exclude_pk=None, with_phone: bool = True) -> None:
    query = {name: getattr(customer, name) or "" for name in IDENTIFYING_FIELDS}
    if not with_phone:
        query["phone"] = ""
    if matches := customer_duplicates(actor, exclude_pk=exclude_pk, **query):
        raise DuplicateCustomerError(matches)


def customer_clean(customer: Customer, *, owner_required: bool = True, fields=None, changed=None) -> None:
    """The service-level cleaning of a customer's values (also used by bulk importers).
    Without `owner_required`, an empty owner is accepted: the customer belongs to the public pool.
    `fields` limits the model's own field checks to these (an importer's mapped columns); the text
    rule (no control characters, bounded length) checks only the `changed` ones when given."""
    errors = {}
    customer.name = (customer.name or "").strip()
    if not customer.name:
        errors["name"] = _("Enter the customer's name.")
    customer.name_key = normalise_name(customer.name)
    customer.credit_code = (customer.credit_code or "").strip().upper()
    if customer.credit_code and not credit_code_is_valid(customer.credit_code):
        errors["credit_code"] = _("This is not a valid unified social credit code (18 characters, check digit).")
    if (customer.latitude is None) != (customer.longitude is None):
        errors["latitude"] = _("Give both latitude and longitude, or neither.")
    if customer.website and (fields is None or "website" in fields) and (changed is None or "website" in changed):
        try:
            customer.website = clean_web_url(customer.website)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if customer.latitude is not None and not -90 <= customer.latitude <= 90:
        errors["latitude"] = _("Latitude must be between -90 and 90.")
    if customer.longitude is not None and not -180 <= customer.longitude <= 180:
        errors["longitude"] = _("Longitude must be between -180 and 180.")
    if customer.owner is None:
        if owner_required:
            errors["owner"] = _("Every customer needs an owner.")
    elif not customer.owner.is_active:
        errors["owner"] = _("The owner must be an active user.")
    exclude = ["owner", "created_by", "deleted_by", "search_text"]
    if fields is not None:
        exclude = [f.name for f in Customer._meta.concrete_fields if f.name not in fields]
    # Every problem at once: the model's and the text rule's checks too, on the other fields.
    try:
        full_clean(
            customer,
            exclude=[*exclude, *errors],
            text_fields=changed,
            validate_unique=fields is None and not errors,
            validate_constraints=fields is None and not errors,
        )
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)


def _may_assign(actor: User, owner: User | None) -> bool:
    """Reps create customers for themselves; managers may assign within their scope."""
    if owner is None or owner.pk == actor.pk:
        return True
    return actor.has_perm("customers.view_sensitive") and is_in_team_of(actor, owner)


@transaction.atomic
def customer_create(*, actor: User, allow_duplicate: bool = True, **fields) -> Customer:
    """Create a customer. With `allow_duplicate=False` (what a person entering a customer gets
    first), likely duplicates raise `DuplicateCustomerError` and nothing is written."""
    if not actor.has_perm("customers.add_customer"):
        raise PermissionDenied
    fields.setdefault("owner", actor)
    customer = Customer(**fields, created_by=actor)
    if not _may_assign(actor, customer.owner):
        raise ValidationError({"owner": _("You may not assign customers to this user.")})
    customer_clean(customer)
    if not allow_duplicate:
        _check_duplicates(actor, customer)
    customer.save()
    search_index_update([customer.pk])
    events.record(
        CustomerEvent.CUSTOMER_CREATED,
        customer_id=customer.pk,
        actor=actor,
        summary=customer.name,
        subject=customer,
        audit=AuditAction.CREATE,
        changes={k: [None, v] for k, v in snapshot(customer, CUSTOMER_FIELDS).items() if v not in ("", None)},
    )
    approval.created(customer, actor)
    return customer


def _check_may_change(actor: User, customer: Customer) -> None:
    if not actor.has_perm("customers.change_customer"):
        raise PermissionDenied


def _check_in_scope(actor: User, customer: Customer) -> None:
    """The customer's own fields, owner and deletion stay with its owner's scope: someone it is only
    shared with through an account team works on its contacts and history, not on the record."""
    if not customer_in_scope(actor, customer):
        raise PermissionDenied


@transaction.atomic
def customer_update(
    *, customer: Customer, actor: User, expected_version: int, allow_duplicate: bool = True, **fields
) -> Customer:
    """Change fields; refused with ConcurrentEditError if someone saved since `expected_version`.
    With `allow_duplicate=False`, a new name, phone, email or credit code that matches other
    customers raises `DuplicateCustomerError` (the phone is compared only by those who may see it)."""
    _check_may_change(actor, customer)
    _check_in_scope(actor, customer)
    approval.check_unlocked(customer)
    sensitive = can_see_sensitive(actor, customer)
    if "phone" in fields and fields["phone"] != customer.phone and not sensitive:
        raise PermissionDenied
    identifying_changed = {n for n in IDENTIFYING_FIELDS if n in fields and fields[n] != getattr(customer, n)}
    changing = changed(customer, fields)
    before = snapshot(customer, CUSTOMER_FIELDS)
    old_owner_id = customer.owner_id
    for name, value in fields.items():
        if name not in CUSTOMER_FIELDS:
            raise ValidationError({name: _("This field cannot be changed.")})
        setattr(customer, name, value)
    if customer.owner_id != old_owner_id and not _may_assign(actor, customer.owner):
        raise ValidationError({"owner": _("You may not assign customers to this user.")})
    customer_clean(customer, changed=changing)
    if identifying_changed and not allow_duplicate:
        _check_duplicates(
            actor, customer, exclude_pk=customer.pk, with_phone=sensitive or "phone" in identifying_changed
        )
    changes = diff(before, snapshot(customer, CUSTOMER_FIELDS))
    if not changes:
        return customer
    update_versioned(
        customer, expected_version=expected_version, fields=list(fields) + (["name_key"] if "name" in fields else [])
    )
    if {"name", "phone"} & changes.keys():
        search_index_update([customer.pk])
    if "owner" in changes:
        events.record(
            CustomerEvent.OWNER_CHANGED,
            customer_id=customer.pk,
            actor=actor,
            summary=f"{changes['owner'][0] or '—'} → {changes['owner'][1] or '—'}",
            subject=customer,
        )
        ownership.customers_changed_hands(customer_ids=[customer.pk], actor=actor, reason=_("owner changed"))
    if "tier" in changes:
        _tier_changed(customer, *changes["tier"], actor=actor)
    events.record(
        CustomerEvent.CUSTOMER_CHANGED,
        customer_id=customer.pk,
        actor=actor,
        summary=", ".join(str(Customer._meta.get_field(k).verbose_name) for k in changes),
        subject=customer,
        payload={"fields": sorted(changes)},
        audit=AuditAction.UPDATE,
        changes=changes,
    )
    approval.edited(customer, before, changes, actor)
    return customer


@transaction.atomic
def customer_tier_set(
    *, customer: Customer, tier: str, actor: User | None, reason: str = "", expected_version: int | None = None
) -> Customer:
    """Change a customer's tier and nothing else (an accepted suggestion, an approval): the tier, its
    timeline entry and audit row in one transaction. Callers check who may decide. The tier is written
    only here and by `customer_update`, and both record the change through `_tier_changed`."""
    if tier not in Tier.values:
        raise ValidationError({"tier": _("Choose a valid tier.")})
    reason = check_text((reason or "").strip(), field="reason", multiline=True, max_length=2000)
    old = customer.tier
    if old == tier:
        return customer
    now = timezone.now()
    rows = Customer.objects.filter(pk=customer.pk)
    if expected_version is not None:
        rows = rows.filter(version=expected_version)
    if not rows.update(tier=tier, version=F("version") + 1, updated_at=now):
        raise ConcurrentEditError()
    customer.refresh_from_db(fields=["tier", "version", "updated_at"])
    _tier_changed(customer, old, tier, actor=actor, reason=reason, audited=True)
    return customer


def _tier_changed(customer: Customer, old: str, new: str, *, actor, reason: str = "", audited: bool = False) -> None:
    """What follows every change of tier: the timeline entry (and the audit row when the caller writes
    none of its own)."""
    summary = f"{Tier(old).label} → {Tier(new).label}"
    events.record(
        CustomerEvent.TIER_CHANGED,
        customer_id=customer.pk,
        actor=actor,
        summary=f"{summary}: {reason}" if reason else summary,
        subject=customer,
        payload={"from": old, "to": new, **({"reason": reason} if reason else {})},
        audit=AuditAction.UPDATE if audited else None,
        changes={"tier": [old, new]},
    )


@transaction.atomic
def customer_delete(*, customer: Customer, actor: User) -> None:
    """To the recycle bin: out of every list, restorable by its owner or an administrator."""
    if not actor.has_perm("customers.delete_customer"):
        raise PermissionDenied
    _check_in_scope(actor, customer)
    now = timezone.now()
    updated = Customer.objects.filter(pk=customer.pk, deleted_at__isnull=True).update(
        deleted_at=now, deleted_by=actor, updated_at=now
    )
    if not updated:
        return
    customer.deleted_at, customer.deleted_by = now, actor
    events.record(
        CustomerEvent.CUSTOMER_DELETED,
        customer_id=customer.pk,
        actor=actor,
        summary=customer.name,
        subject=customer,
        audit=AuditAction.DELETE,
    )


@transaction.atomic
def customer_restore(*, customer: Customer, actor: User) -> None:
    if not deleted_customers_for(actor).filter(pk=customer.pk).exists():
        raise PermissionDenied
    if customer.merged_into_id is not None:
        raise ValidationError(
            _("%(name)s was merged into %(target)s and cannot be restored: its history now lives there.")
            % {"name": customer.name, "target": customer.merged_into.name}
        )
    now = timezone.now()
    Customer.objects.filter(pk=customer.pk).update(deleted_at=None, deleted_by=None, updated_at=now)
    customer.deleted_at = customer.deleted_by = None
    events.record(
        CustomerEvent.CUSTOMER_RESTORED,
        customer_id=customer.pk,
        actor=actor,
        summary=customer.name,
        subject=customer,
        audit=AuditAction.RESTORE,
    )


def _clean_birthday(contact: Contact) -> None:
    """A full birthday, or a month and day without a year (a vCard's --12-24), never both."""
    if contact.birthday is not None:
        contact.birthday_month = contact.birthday_day = None
        return
    month, day = contact.birthday_month, contact.birthday_day
    if month is None and day is None:
        return
    if month is None or day is None:
        raise ValidationError({"birthday_month": _("Give both the month and the day of the birthday, or neither.")})
    if not 1 <= month <= 12:
        raise ValidationError({"birthday_month": _("Ensure this value is less than or equal to 12.")})
    try:
        date(2000, month, day)  # a leap year: 29 February is a birthday
    except (TypeError, ValueError):
        raise ValidationError({"birthday_day": _("This month has no such day.")}) from None


def contact_clean(contact: Contact, *, fields=None, changed=None) -> None:
    """The service-level cleaning of a contact's values (also used by bulk importers, who may
    limit the model's field checks to their mapped `fields`); the text rule checks only the
    `changed` ones when given."""
    contact.name = (contact.name or "").strip()
    if not contact.name:
        raise ValidationError({"name": _("Enter the contact's name.")})
    _clean_birthday(contact)
    exclude = ["customer", "deleted_by"]
    if fields is not None:
        exclude = [f.name for f in Contact._meta.concrete_fields if f.name not in fields]
    full_clean(
        contact,
        exclude=exclude,
        text_fields=changed,
        validate_unique=fields is None,
        validate_constraints=fields is None,
    )


def _combined_points(
    current: list[Point], lists: dict[str, list[Point] | None], columns: dict[str, str]
) -> list[Point]:
    """`current` with each given list replacing its medium, then each changed primary column
    applied (it becomes the first of its kind), checked."""
    points = list(current)
    for medium, given in lists.items():
        if given is not None:
            points = [p for p in points if p.medium != medium] + [
                Point(medium, p.kind, p.value, p.label) for p in given
            ]
    for column, value in columns.items():
        points = with_primary(points, column, value)
    return clean_points(points)


def _check_columns(contact: Contact, columns: dict[str, str]) -> None:
    # A primary column given by an older client is refused under its own name, before it becomes a point.
    if errors := text_field_errors(contact, names=set(columns)):
        raise ValidationError(errors)


def _point_lists(phones, emails, handles) -> dict:
    return {Medium.PHONE: phones, Medium.EMAIL: emails, Medium.IM: handles}


def _touch(customer_id: int) -> None:
    # A change to a contact moves its customer up the "recently updated" list.
    Customer.objects.filter(pk=customer_id).update(updated_at=timezone.now())


@transaction.atomic
def contact_create(*, customer: Customer, actor: User, phones=None, emails=None, handles=None, **fields) -> Contact:
    """Create a contact. `phones`, `emails` and `handles` (lists of `Point`) are all the contact's
    numbers, addresses and messaging handles; `mobile`, `office_phone`, `email` and `wechat`, when
    given, become the first of their kind."""
    _check_may_change(actor, customer)
    contact = Contact(customer=customer, **fields)
    columns = {c: fields[c] for c in PRIMARY if fields.get(c)}
    _check_columns(contact, columns)
    points = _combined_points([], _point_lists(phones, emails, handles), columns)
    for column, value in primary_columns(points).items():
        setattr(contact, column, value)
    contact_clean(contact)
    contact.save()
    points_write(contact, points)
    search_index_update([customer.pk])
    _touch(customer.pk)
    events.record(
        CustomerEvent.CONTACT_ADDED,
        customer_id=customer.pk,
        actor=actor,
        summary=contact.name,
        subject=contact,
        audit=AuditAction.CREATE,
        changes={"points": [None, points_as_text(points)]} if points else None,
    )
    return contact


@transaction.atomic
def contact_update(
    *, contact: Contact, actor: User, expected_version: int, phones=None, emails=None, handles=None, **fields
) -> Contact:
    """Change fields. A given list of `phones`, `emails` or `handles` replaces that list; a changed
    `mobile`, `office_phone`, `email` or `wechat` replaces the first of its kind (older clients)."""
    _check_may_change(actor, contact.customer)
    before = snapshot(contact, CONTACT_FIELDS)
    changing = changed(contact, fields)
    before_points = points_of(contact)
    for name, value in fields.items():
        if name not in CONTACT_FIELDS:
            raise ValidationError({name: _("This field cannot be changed.")})
        setattr(contact, name, value)
    columns = {c: fields[c] for c in PRIMARY if c in fields and (fields[c] or "") != (before[c] or "")}
    _check_columns(contact, columns)
    points = _combined_points(before_points, _point_lists(phones, emails, handles), columns)
    for column, value in primary_columns(points).items():
        setattr(contact, column, value)
    contact_clean(contact, changed=changing)
    changes = diff(before, snapshot(contact, CONTACT_FIELDS))
    points_changed = points != before_points
    if points_changed:
        changes["points"] = [points_as_text(before_points), points_as_text(points)]
    if not changes:
        return contact
    written = [name for name in CONTACT_FIELDS if name in changes]
    update_versioned(contact, expected_version=expected_version, fields=written)
    if points_changed:
        points_write(contact, points)
    if "name" in changes or any(p.medium == Medium.PHONE for p in {*points} ^ {*before_points}):
        search_index_update([contact.customer_id])
    _touch(contact.customer_id)
    events.record(
        CustomerEvent.CONTACT_CHANGED, actor=actor, subject=contact, audit=AuditAction.UPDATE, changes=changes
    )
    return contact


@transaction.atomic
def contact_move(*, contact: Contact, to_customer: Customer, actor: User, reason: str = "") -> Contact:
    """A contact changes company (CUS-2): the person and their private file go along; the
    activities they took part in stay on the customer where they happened, and both timelines
    say when and where the person went."""
    _check_may_change(actor, contact.customer)
    _check_may_change(actor, to_customer)
    if to_customer.pk == contact.customer_id:
        return contact
    if to_customer.deleted_at is not None:
        raise ValidationError({"customer": _("This customer is in the recycle bin.")})
    old = contact.customer
    reason = check_text((reason or "").strip(), field="reason", multiline=True, max_length=2000)
    if reason:
        contact.transfer_reason = f"{contact.transfer_reason}\n{reason}".strip()
    contact.customer = to_customer
    contact.is_primary = False
    update_versioned(contact, expected_version=contact.version, fields=["customer", "transfer_reason", "is_primary"])
    search_index_update([old.pk, to_customer.pk])
    _touch(old.pk)
    _touch(to_customer.pk)
    events.record(
        CustomerEvent.CONTACT_LEFT,
        customer_id=old.pk,
        actor=actor,
        summary=f"{contact.name} → {to_customer.name}",
        subject=contact,
    )
    events.record(
        CustomerEvent.CONTACT_JOINED,
        customer_id=to_customer.pk,
        actor=actor,
        summary=f"{contact.name} ← {old.name}",
        subject=contact,
        audit=AuditAction.UPDATE,
        changes={"customer": [str(old), str(to_customer)], **({"transfer_reason": [None, reason]} if reason else {})},
    )
    return contact


@transaction.atomic
def contact_delete(*, contact: Contact, actor: User) -> None:
    _check_may_change(actor, contact.customer)
    now = timezone.now()
    Contact.objects.filter(pk=contact.pk).update(deleted_at=now, deleted_by=actor)
    contact.deleted_at = now
    search_index_update([contact.customer_id])
    events.record(
        CustomerEvent.CONTACT_REMOVED,
        customer_id=contact.customer_id,
        actor=actor,
        summary=contact.name,
        subject=contact,
        audit=AuditAction.DELETE,
    )


@transaction.atomic
def contact_restore(*, contact: Contact, actor: User) -> None:
    if not deleted_contacts_for(actor).filter(pk=contact.pk).exists():
        raise PermissionDenied
    Contact.objects.filter(pk=contact.pk).update(deleted_at=None, deleted_by=None, updated_at=timezone.now())
    contact.deleted_at = contact.deleted_by = None
    search_index_update([contact.customer_id])
    events.record(
        CustomerEvent.CONTACT_ADDED,
        customer_id=contact.customer_id,
        actor=actor,
        summary=contact.name,
        subject=contact,
        audit=AuditAction.RESTORE,
    )


@transaction.atomic
def fact_create(*, customer: Customer, actor: User, **fields) -> CustomerFact:
    _check_may_change(actor, customer)
    fact = CustomerFact(customer=customer, recorded_by=actor, **fields)
    if not (fact.title or "").strip():
        raise ValidationError({"title": _("Enter a title.")})
    full_clean(fact, exclude=["customer", "recorded_by", "deleted_by"])
    fact.save()
    events.record(
        CustomerEvent.FACT_ADDED,
        customer_id=customer.pk,
        actor=actor,
        summary=fact.title if fact.level <= 2 else "",
        subject=fact,
        payload={"level": fact.level},
        audit=AuditAction.CREATE,
    )
    return fact
