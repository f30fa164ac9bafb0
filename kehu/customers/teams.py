"""Every write to a customer's account team (客户团队, KAM-1; sharing of ACC-3).

Who may change the team:
- the customer's owner, with people inside their own data scope;
- the owner's manager (someone who may change customers and see sensitive data, with the owner in
  their scope), with anyone — sharing with a person outside one's scope goes through them;
- an administrator, with anyone.
Members themselves cannot add, change or remove anyone. Every change is one event through the event
door: a timeline entry on the customer, an audit row and a notification to the member.
"""

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core import events
from kehu.core.audit import diff, snapshot
from kehu.core.exceptions import ConcurrentEditError
from kehu.core.models import AuditAction
from kehu.core.versioning import update_versioned
from kehu.customers.events import TEAM_MEMBER_ADDED, TEAM_MEMBER_CHANGED, TEAM_MEMBER_REMOVED
from kehu.customers.models import AccountTeamMember, Customer, TeamRole
from kehu.customers.sharing import forget_shares
from kehu.users.models import User
from kehu.users.scopes import is_in_team_of

AUDITED = ["user", "role", "ends_on"]


def _is_admin(user: User) -> bool:
    return user.is_superuser or user.has_perm("users.manage_users")


def _manages_owner(actor: User, customer: Customer) -> bool:
    return (
        customer.owner_id is not None
        and customer.owner_id != actor.pk
        and actor.has_perm("customers.change_customer")
        and actor.has_perm("customers.view_sensitive")
        and is_in_team_of(actor, customer.owner)
    )


def team_may_manage(actor: User, customer: Customer) -> bool:
    """Whether `actor` may change the team at all (the 360° page shows the buttons only then)."""
    if not actor.is_authenticated or not actor.is_active:
        return False
    if _is_admin(actor) or _manages_owner(actor, customer):
        return True
    return customer.owner_id == actor.pk and actor.has_perm("customers.change_customer")


def team_may_share_with_anyone(actor: User, customer: Customer) -> bool:
    """The owner's manager and administrators share with anyone."""
    return _is_admin(actor) or _manages_owner(actor, customer)


def team_may_share_with(actor: User, customer: Customer, person: User) -> bool:
    """The owner shares only inside their own scope; their manager and administrators with anyone."""
    if team_may_share_with_anyone(actor, customer):
        return True
    return team_may_manage(actor, customer) and is_in_team_of(actor, person)


def _check(actor: User, customer: Customer, person: User) -> None:
    if not team_may_manage(actor, customer):
        raise PermissionDenied
    if not team_may_share_with(actor, customer, person):
        raise ValidationError(
            {"user": _("This person is outside your scope: ask the owner's manager to add them to the team.")}
        )


def _clean(customer: Customer, person: User, role: str, ends_on: date | None) -> None:
    errors = {}
    if role not in TeamRole.values:
        errors["role"] = _("Choose a role in the team.")
    if not person.is_active:
        errors["user"] = _("Only active users can join an account team.")
    elif person.pk == customer.owner_id:
        errors["user"] = _("The owner is on the team already.")
    elif not person.has_perm("customers.view_customer"):
        errors["user"] = _("This person's role may not see customers.")
    if ends_on is not None:
        if not date(1900, 1, 1) <= ends_on <= date(2999, 12, 31):
            errors["ends_on"] = _("Enter a date between 1900 and 2999.")
        elif ends_on < timezone.localdate():
            errors["ends_on"] = _("The end date cannot be in the past; remove the member instead.")
    if errors:
        raise ValidationError(errors)


def _record(kind, *, member: AccountTeamMember, actor: User, audit: str, changes: dict) -> None:
    events.record(
        kind,
        actor=actor,
        subject=member,
        customer_id=member.customer_id,
        # The person only: the kind reads in each reader's language, the role is in the payload.
        summary=member.user.display_name,
        payload={"user_id": member.user_id, "role": member.role, "ends_on": _iso(member.ends_on)},
        audit=audit,
        changes=changes,
        notify=[member.user] if member.user_id != getattr(actor, "pk", None) else [],
        link=reverse("workspace:customer-detail", args=[member.customer_id]),
    )


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


@transaction.atomic
def team_member_add(
    *, customer: Customer, user: User, role: str, ends_on: date | None = None, actor: User
) -> AccountTeamMember:
    """Add `user` to the customer's account team. A membership that ended is renewed."""
    _check(actor, customer, user)
    _clean(customer, user, role, ends_on)
    member = AccountTeamMember.objects.select_for_update().filter(customer=customer, user=user).first()
    if member is not None:
        if member.is_active_on(timezone.localdate()):
            raise ValidationError({"user": _("This person is on the team already.")})
        before = snapshot(member, AUDITED)
        member.role, member.ends_on, member.added_by = role, ends_on, actor
        update_versioned(member, expected_version=member.version, fields=["role", "ends_on", "added_by"])
        changes = diff(before, snapshot(member, AUDITED))
        audit = AuditAction.UPDATE
    else:
        member = AccountTeamMember(customer=customer, user=user, role=role, ends_on=ends_on, added_by=actor)
        try:
            with transaction.atomic():
                member.save()
        except IntegrityError:  # added by someone else a moment ago
            raise ValidationError({"user": _("This person is on the team already.")}) from None
        changes = {k: [None, v] for k, v in snapshot(member, AUDITED).items() if v is not None}
        audit = AuditAction.CREATE
    _record(TEAM_MEMBER_ADDED, member=member, actor=actor, audit=audit, changes=changes)
    forget_shares(user)
    return member


def _member_check(actor: User, member: AccountTeamMember) -> None:
    customer = member.customer
    if not team_may_manage(actor, customer):
        raise PermissionDenied
    if not team_may_share_with(actor, customer, member.user):
        # The owner keeps their hands off members their manager brought in from outside their scope.
        raise PermissionDenied


@transaction.atomic
def team_member_update(*, member: AccountTeamMember, actor: User, expected_version: int, **fields) -> AccountTeamMember:
    """Change the role or the end date; refused (ConcurrentEditError) if someone saved since `expected_version`."""
    _member_check(actor, member)
    unknown = set(fields) - {"role", "ends_on"}
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in unknown})
    role = fields.get("role", member.role)
    ends_on = fields.get("ends_on", member.ends_on)
    # A date already stored may have passed; only a new one must not lie in the past.
    _clean(member.customer, member.user, role, ends_on if ends_on != member.ends_on else None)
    before = snapshot(member, AUDITED)
    member.role, member.ends_on = role, ends_on
    changes = diff(before, snapshot(member, AUDITED))
    if not changes:
        if expected_version != member.version:
            raise ConcurrentEditError()
        return member
    update_versioned(member, expected_version=expected_version, fields=["role", "ends_on"])
    _record(TEAM_MEMBER_CHANGED, member=member, actor=actor, audit=AuditAction.UPDATE, changes=changes)
    forget_shares(member.user)
    return member


@transaction.atomic
def team_member_remove(*, member: AccountTeamMember, actor: User, expected_version: int | None = None) -> None:
    """Take `member` off the team: their access ends now."""
    _member_check(actor, member)
    if expected_version is not None and expected_version != member.version:
        raise ConcurrentEditError()
    deleted, _rows = AccountTeamMember.objects.filter(pk=member.pk, version=member.version).delete()
    if not deleted:
        raise ConcurrentEditError()
    _record(
        TEAM_MEMBER_REMOVED,
        member=member,
        actor=actor,
        audit=AuditAction.DELETE,
        changes={k: [v, None] for k, v in snapshot(member, AUDITED).items() if v is not None},
    )
    forget_shares(member.user)


def team_members_merge(*, source_ids: list[int], target: Customer) -> None:
    """Before a merge moves the sources' rows: one membership per person on the kept customer (the
    latest end wins), none for its owner. Called by `merge.customer_merge` inside its transaction."""
    kept = {m.user_id: m for m in AccountTeamMember.objects.filter(customer=target)}
    drop = []
    for m in AccountTeamMember.objects.filter(customer_id__in=source_ids).order_by("pk"):
        if m.user_id == target.owner_id:
            drop.append(m.pk)
        elif (other := kept.get(m.user_id)) is not None:
            drop.append(m.pk)
            if other.ends_on is not None and (m.ends_on is None or m.ends_on > other.ends_on):
                AccountTeamMember.objects.filter(pk=other.pk).update(ends_on=m.ends_on)
                other.ends_on = m.ends_on
        else:
            kept[m.user_id] = m
    AccountTeamMember.objects.filter(pk__in=drop).delete()
