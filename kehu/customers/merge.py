"""Merging duplicate customers (CUS-5): one transaction moves every related row of the sources
to the target, fills the target's blank fields, and leaves the sources in the recycle bin.

Related rows are found generically: every foreign key (and one-to-one key) of any model that
points at `Customer` is re-pointed from the sources to the target, so later domains (orders,
tickets, …) are covered without this module importing them. A model that needs more than a
re-pointed key (for instance a uniqueness per customer) must say so here before it ships.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core import events
from kehu.core.audit import diff, snapshot
from kehu.core.checkpoints import checkpoint
from kehu.core.models import AuditAction
from kehu.core.versioning import update_versioned
from kehu.customers import ownership
from kehu.customers.events import CustomerEvent
from kehu.customers.models import Contact, Customer, CustomerMerge
from kehu.customers.points import (
    PRIMARY,
    clean_points,
    points_as_text,
    points_of,
    points_write,
    primary_columns,
    promote,
)
from kehu.customers.search import search_index_update
from kehu.customers.selectors import contact_qs_visible_to, customer_in_scope, customer_qs_visible_to
from kehu.customers.services import (
    CONTACT_FIELDS,
    CUSTOMER_FIELDS,
    _may_assign,
    _touch,
    contact_clean,
    customer_clean,
)
from kehu.customers.teams import team_members_merge
from kehu.users.models import User

# Fields a merge may take from a source. Coordinates travel as a pair (choose "latitude").
MERGE_FIELDS = [name for name in CUSTOMER_FIELDS if name != "longitude"]
MAX_SOURCES = 20


def _blank(name: str, value) -> bool:
    return value is None or value == ""


def _relations(model) -> list[tuple[type, str, bool]]:
    relations = []
    for rel in model._meta.get_fields(include_hidden=True):
        if rel.auto_created and not rel.concrete and (rel.one_to_many or rel.one_to_one):
            relations.append((rel.related_model, rel.field.name, rel.one_to_one))
    return relations


def customer_relations() -> list[tuple[type, str]]:
    """(model, field name) of every key pointing at Customer, hidden reverse relations included."""
    return [(related, name) for related, name, _one in _relations(Customer)]


def _values_taken(
    target, sources, field_choices: dict, *, fields, wrong_choice: str, blank=_blank, never_filled=()
) -> dict:
    """{field: source} for every field the target takes from a source: the chosen ones, then
    blank fields of the target filled from the first source that has a value."""
    by_pk = {c.pk: c for c in [target, *sources]}
    errors, taken = {}, {}
    for name, chosen in field_choices.items():
        if name not in fields:
            errors[name] = _("This field cannot be chosen in a merge.")
        elif not isinstance(chosen, int) or chosen not in by_pk:
            errors[name] = wrong_choice
        elif chosen != target.pk:
            taken[name] = by_pk[chosen]
    if errors:
        raise ValidationError(errors)
    for name in fields:
        if name in field_choices or name in never_filled or not blank(name, getattr(target, name)):
            continue
        if source := next((s for s in sources if not blank(name, getattr(s, name))), None):
            taken[name] = source
    return taken


def _move_related(model, source_ids: list[int], target) -> dict[str, int]:
    """Re-point every key to `model` from the sources to the target; {relation: rows moved}."""
    moved = {}
    for related, field_name, one_to_one in _relations(model):
        rows = related._base_manager.filter(**{f"{field_name}__in": source_ids})
        if one_to_one:
            # One row per record (the pool's state, the receivables' balance): the target keeps its own,
            # else takes the first source's; the apps that own such rows recompute them on the merge event.
            keep = (
                None if related._base_manager.filter(**{field_name: target}).exists() else rows.order_by("pk").first()
            )
            rows.exclude(pk=getattr(keep, "pk", None)).delete()
            rows = related._base_manager.filter(pk=keep.pk) if keep is not None else related._base_manager.none()
        count = rows.update(**{field_name: target})
        if count:
            moved[f"{related._meta.label_lower}.{field_name}"] = count
    return moved


@transaction.atomic
def customer_merge(
    *, target: Customer, sources: list[Customer], actor: User, field_choices: dict | None = None
) -> CustomerMerge:
    """Merge `sources` into `target`; nothing of theirs is lost, all of it now belongs to the target.

    `field_choices` maps a field to the id of the customer whose value is kept (the target's
    own id keeps its value); other blank fields of the target are filled from the sources in order.
    """
    if not actor.has_perm("customers.change_customer"):
        raise PermissionDenied
    source_ids = [s.pk for s in sources]
    if not source_ids:
        raise ValidationError({"source_ids": _("Choose at least one customer to merge in.")})
    if len(source_ids) > MAX_SOURCES:
        raise ValidationError({"source_ids": _("Merge at most %(n)d customers at once.") % {"n": MAX_SOURCES}})
    if len(set(source_ids)) != len(source_ids) or target.pk in source_ids:
        raise ValidationError({"source_ids": _("A customer cannot be merged into itself or twice.")})
    # Fresh rows, locked, and all in the actor's scope: a merge never reaches past what one may see.
    ids = [target.pk, *source_ids]
    rows = {
        c.pk: c
        for c in customer_qs_visible_to(actor)
        .select_for_update(of=("self",))
        .select_related("owner")
        .filter(pk__in=ids)
    }
    if len(rows) != len(ids) or not all(customer_in_scope(actor, c) for c in rows.values()):
        raise PermissionDenied  # a customer only shared through an account team is not merged by a member
    target, sources = rows[target.pk], [rows[pk] for pk in source_ids]

    field_choices = dict(field_choices or {})
    if "longitude" in field_choices:
        raise ValidationError({"longitude": _("Coordinates are chosen together: choose latitude.")})
    taken = _values_taken(
        target,
        sources,
        field_choices,
        fields=MERGE_FIELDS,
        never_filled=("owner",),
        wrong_choice=_("Choose the value of the kept customer or of one being merged in."),
    )
    if "latitude" in taken:
        taken["longitude"] = taken["latitude"]
    before = snapshot(target, CUSTOMER_FIELDS)
    old_owner_id = target.owner_id
    for name, source in taken.items():
        setattr(target, name, getattr(source, name))
    if target.owner_id != old_owner_id and not _may_assign(actor, target.owner):
        raise ValidationError({"owner": _("You may not assign customers to this user.")})
    customer_clean(target)
    changes = diff(before, snapshot(target, CUSTOMER_FIELDS))

    # Move every related row of every source. Sources that were themselves merge targets pass
    # their merged-in customers and merge records on as well.
    team_members_merge(source_ids=source_ids, target=target)  # one membership per person (unique)
    moved = _move_related(Customer, source_ids, target)

    now = timezone.now()
    written = [name for name in changes if name in CUSTOMER_FIELDS]
    update_versioned(
        target,
        expected_version=target.version,
        fields=written + (["name_key"] if "name" in written else []),
    )
    Customer.objects.filter(pk__in=source_ids).update(
        deleted_at=now, deleted_by=actor, merged_into=target, updated_at=now
    )
    search_index_update(ids)
    checkpoint("merge.moved")  # the crash tests stop here (kehu.core.checkpoints)

    record = CustomerMerge.objects.create(
        target=target,
        actor=actor,
        merged_at=now,
        sources=[{"id": s.pk, "name": s.name} for s in sources],
        fields={
            name: {"from": source.pk, "before": before[name], "after": snapshot(target, [name])[name]}
            for name, source in taken.items()
            if name in changes
        },
        moved=moved,
    )
    for source in sources:
        events.record(
            CustomerEvent.CUSTOMER_MERGED,
            customer_id=target.pk,
            actor=actor,
            summary=source.name,  # the kind reads "Duplicate merged in" in each reader's language
            subject=record,
            payload={"source_id": source.pk},
            audit=AuditAction.DELETE,
            audit_target=source,
            changes={"merged_into": [None, str(target)]},
        )
    events.record(
        CustomerEvent.CUSTOMER_CHANGED,
        actor=actor,
        subject=target,
        audit=AuditAction.UPDATE,
        changes={**changes, "merged_from": [None, ", ".join(s.name for s in sources)]},
    )
    # Open work moved in from the sources must stay with someone who can see the kept customer.
    ownership.customers_changed_hands(customer_ids=[target.pk], actor=actor, reason=_("duplicates merged"))
    target.refresh_from_db()
    return record


def _contact_blank(name: str, value) -> bool:
    # "Primary contact" is only ever gained in a merge: a primary source makes the kept one primary.
    return value is False if name == "is_primary" else _blank(name, value)


@transaction.atomic
def contact_merge(
    *, target: Contact, sources: list[Contact], actor: User, field_choices: dict | None = None
) -> Contact:
    """Merge duplicate contacts of one customer into `target`: whatever pointed at the sources
    (activities, …) now points at the target, its blank fields are filled from them (or taken
    as `field_choices` says: field → contact id), and the sources go to the recycle bin."""
    if not actor.has_perm("customers.change_customer"):
        raise PermissionDenied
    source_ids = [s.pk for s in sources]
    if not source_ids:
        raise ValidationError({"source_ids": _("Choose at least one contact to merge in.")})
    if len(source_ids) > MAX_SOURCES:
        raise ValidationError({"source_ids": _("Merge at most %(n)d contacts at once.") % {"n": MAX_SOURCES}})
    if len(set(source_ids)) != len(source_ids) or target.pk in source_ids:
        raise ValidationError({"source_ids": _("A contact cannot be merged into itself or twice.")})
    ids = [target.pk, *source_ids]
    rows = {c.pk: c for c in contact_qs_visible_to(actor).select_for_update(of=("self",)).filter(pk__in=ids)}
    if len(rows) != len(ids):
        raise PermissionDenied
    target, sources = rows[target.pk], [rows[pk] for pk in source_ids]
    if any(s.customer_id != target.customer_id for s in sources):
        raise ValidationError({"source_ids": _("Only contacts of the same customer can be merged.")})

    taken = _values_taken(
        target,
        sources,
        dict(field_choices or {}),
        fields=CONTACT_FIELDS,
        blank=_contact_blank,
        wrong_choice=_("Choose the value of the kept contact or of one being merged in."),
    )

    before = snapshot(target, CONTACT_FIELDS)
    for name, source in taken.items():
        setattr(target, name, getattr(source, name))
    contact_clean(target)
    # Every number, address and handle of every contact is kept; the values chosen for the
    # columns come first of their kind.
    before_points = points_of(target)
    points = before_points + [p for s in sources for p in points_of(s)]
    for column in PRIMARY:
        points = promote(points, column, getattr(target, column))
    points = clean_points(points)
    for column, value in primary_columns(points).items():
        setattr(target, column, value)
    changes = diff(before, snapshot(target, CONTACT_FIELDS))
    if points != before_points:
        changes["points"] = [points_as_text(before_points), points_as_text(points)]

    moved = _move_related(Contact, source_ids, target)
    points_write(target, points)

    if changes:
        update_versioned(target, expected_version=target.version, fields=[n for n in CONTACT_FIELDS if n in changes])
    now = timezone.now()
    Contact.objects.filter(pk__in=source_ids).update(deleted_at=now, deleted_by=actor, updated_at=now)
    search_index_update([target.customer_id])
    _touch(target.customer_id)
    for source in sources:
        events.record(
            CustomerEvent.CONTACT_REMOVED,
            customer_id=target.customer_id,
            actor=actor,
            summary=f"{source.name} → {target.name}",
            subject=source,
            payload={"merged_into": target.pk},
            audit=AuditAction.DELETE,
            changes={"merged_into": [None, str(target)]},
        )
    events.record(
        CustomerEvent.CONTACT_CHANGED,
        actor=actor,
        subject=target,
        audit=AuditAction.UPDATE,
        changes={**changes, "merged_from": [None, ", ".join(s.name for s in sources)], "moved": [None, moved]},
    )
    target.refresh_from_db()
    return target
