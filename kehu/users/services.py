"""Every write to users, departments, invitations and tokens goes through here."""

import base64
import secrets
from datetime import timedelta

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from kehu.core.audit import audit_record, diff, snapshot
from kehu.core.mail import queue_email
from kehu.core.models import AuditAction
from kehu.core.text import changed, check_text, text_field_errors
from kehu.users import departures
from kehu.users.models import (
    ApiToken,
    CompanySettings,
    Department,
    Invitation,
    PasswordResetRequest,
    ResetOutcome,
    User,
    hash_token,
)
from kehu.users.roles import Role
from kehu.users.tasks import password_reset_send

INVITATION_DAYS = 7
USER_AUDIT_FIELDS = [
    "username",
    "email",
    "first_name",
    "last_name",
    "role",
    "department",
    "manager",
    "is_active",
    "data_scope_override",
]


USER_TEXT_FIELDS = {"username", "email", "first_name", "last_name", "phone"}


def _check_text(instance, names) -> None:
    """The shared text rule (no control characters, bounded length) on these fields."""
    if errors := text_field_errors(instance, names=set(names)):
        raise ValidationError(errors)


def _check_unique(username: str, email: str, exclude_pk=None) -> None:
    errors = {}
    users = User.objects.exclude(pk=exclude_pk)
    if username and users.filter(username__iexact=username).exists():
        errors["username"] = _("This username is taken.")
    if email and users.filter(email__iexact=email).exists():
        # Only administrators and the set-up page reach this check, never the public sign-up.
        errors["email"] = _("A user with this email already exists.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def company_set_up(
    *, company_name: str, username: str, email: str, password: str, first_name: str = "", last_name: str = ""
) -> User:
    """The first registration of a fresh install creates the company and its administrator."""
    company = CompanySettings.objects.select_for_update().get_or_create(pk=1)[0]
    if company.is_set_up or User.objects.exists():
        raise PermissionDenied(_("This installation is already set up."))
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        role=Role.ADMINISTRATOR,
        is_staff=True,
        is_superuser=True,
    )
    _check_text(user, USER_TEXT_FIELDS)
    check_text(company_name or "", field="company_name", max_length=200)
    validate_password(password, user)
    user.set_password(password)
    user.save()
    company.company_name = company_name
    company.is_set_up = True
    company.save()
    audit_record(actor=user, action=AuditAction.CREATE, instance=user)
    return user


@transaction.atomic
def user_register(
    *, username: str, email: str, password: str, first_name: str = "", last_name: str = "", language: str = ""
) -> User | None:
    """Self-registration: an inactive account that an administrator approves.

    Answers the same whether or not the email is known, so the page reveals nothing;
    a known email or username simply creates no account.
    """
    company = CompanySettings.load()
    if not company.allow_self_registration:
        raise PermissionDenied(_("Self-registration is switched off. Ask an administrator for an invitation."))
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        is_active=False,
        role=Role.SALES_REP,
        language=language,
    )
    _check_text(user, USER_TEXT_FIELDS)
    validate_password(password, user)
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": _("This username is taken.")})
    if User.objects.filter(email__iexact=email).exists():
        return None
    user.set_password(password)
    user.save()
    audit_record(actor=None, action=AuditAction.CREATE, instance=user)
    admins = list(
        User.objects.filter(is_active=True, role=Role.ADMINISTRATOR).exclude(email="").values_list("email", flat=True)
    )
    if admins:
        queue_email("users/email/registration_pending", {"user": user}, admins)
    return user


@transaction.atomic
def user_approve(*, user: User, actor: User) -> User:
    if not actor.has_perm("users.manage_users"):
        raise PermissionDenied
    user.is_active = True
    user.save(update_fields=["is_active"])
    audit_record(actor=actor, action=AuditAction.UPDATE, instance=user, changes={"is_active": [False, True]})
    if user.email:
        queue_email("users/email/approved", {"user": user}, [user.email], user.language)
    return user


@transaction.atomic
def user_update(*, user: User, actor: User, **fields) -> User:
    if not actor.has_perm("users.manage_users"):
        raise PermissionDenied
    before = snapshot(user, USER_AUDIT_FIELDS)
    was_active = user.is_active
    if "username" in fields or "email" in fields:
        _check_unique(fields.get("username", ""), fields.get("email", ""), exclude_pk=user.pk)
    if fields.get("manager") is not None and fields["manager"].pk == user.pk:
        raise ValidationError({"manager": _("A user cannot report to themselves.")})
    changing = changed(user, fields)
    for name, value in fields.items():
        setattr(user, name, value)
    _check_text(user, changing & USER_TEXT_FIELDS)
    user.save()
    changes = diff(before, snapshot(user, USER_AUDIT_FIELDS))
    if changes:
        audit_record(actor=actor, action=AuditAction.UPDATE, instance=user, changes=changes)
    if was_active and not user.is_active:
        departures.user_deactivated(user=user, actor=actor)
    return user


def user_set_language(*, user: User, language: str) -> None:
    user.language = language
    user.save(update_fields=["language"])


@transaction.atomic
def department_create(*, name: str, parent: Department | None, actor: User | None) -> Department:
    if actor is not None and not actor.has_perm("users.manage_users"):
        raise PermissionDenied
    if not name.strip():
        raise ValidationError({"name": _("Enter a name.")})
    check_text(name.strip(), field="name", max_length=100)
    department = Department.objects.create(name=name.strip(), parent=parent)
    department.path = f"{parent.path if parent else '/'}{department.pk}/"
    department.save(update_fields=["path"])
    if actor is not None:
        audit_record(actor=actor, action=AuditAction.CREATE, instance=department)
    return department


@transaction.atomic
def department_update(
    *, department: Department, actor: User, name: str, parent: Department | None, head: User | None = None
) -> Department:
    """Rename or move a department; its sub-departments move with it (their paths follow)."""
    if not actor.has_perm("users.manage_users"):
        raise PermissionDenied
    if not name.strip():
        raise ValidationError({"name": _("Enter a name.")})
    check_text(name.strip(), field="name", max_length=100)
    if parent is not None and parent.path.startswith(department.path):
        raise ValidationError({"parent": _("A department cannot sit under itself or one of its sub-departments.")})
    before = snapshot(department, ["name", "parent", "head"])
    old_path = department.path
    new_path = f"{parent.path if parent else '/'}{department.pk}/"
    department.name, department.parent, department.head = name.strip(), parent, head
    department.save(update_fields=["name", "parent", "head"])
    if new_path != old_path:
        for sub in Department.objects.filter(path__startswith=old_path):
            sub.path = new_path + sub.path[len(old_path) :]
            sub.save(update_fields=["path"])
        department.path = new_path
    changes = diff(before, snapshot(department, ["name", "parent", "head"]))
    if changes:
        audit_record(actor=actor, action=AuditAction.UPDATE, instance=department, changes=changes)
    return department


def _invitation_token(link_key: str) -> str:
    """The link's token: an HMAC of the invitation's key under the secret key (see Invitation)."""
    digest = salted_hmac("kehu.users.invitation", link_key, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def invitation_link(invitation: Invitation, base_url: str) -> str | None:
    """The link to copy; None for an invitation made before links could be shown again, or
    after the secret key changed (resending makes a new one)."""
    if not invitation.link_key:
        return None
    raw = _invitation_token(invitation.link_key)
    if hash_token(raw) != invitation.token_hash:
        return None
    return f"{base_url.rstrip('/')}/accounts/invitation/{raw}/"


def _new_link(invitation: Invitation) -> None:
    invitation.link_key = secrets.token_urlsafe(32)
    invitation.token_hash = hash_token(_invitation_token(invitation.link_key))


def _invitation_mail(invitation: Invitation, *, actor: User, base_url: str) -> None:
    queue_email(
        "users/email/invitation",
        {
            "invitation": invitation,
            "link": invitation_link(invitation, base_url),
            "company": CompanySettings.load(),
            "inviter": actor,
            "days": INVITATION_DAYS,
        },
        [invitation.email],
        actor.language or None,
    )


def _require_manage_users(actor: User) -> None:
    if not actor.has_perm("users.manage_users"):
        raise PermissionDenied


@transaction.atomic
def invitation_create(
    *,
    email: str,
    role: str,
    actor: User,
    department: Department | None = None,
    manager: User | None = None,
    base_url: str,
) -> Invitation:
    """Invite a member of staff; the email carries a one-time link to set a password.
    Inviting an address again replaces the open invitation: its link stops working."""
    _require_manage_users(actor)
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": _("A user with this email already exists.")})
    now = timezone.now()
    invitation = Invitation(
        email=email,
        role=role,
        department=department,
        manager=manager,
        invited_by=actor,
        created_at=now,
        last_sent_at=now,
        expires_at=now + timedelta(days=INVITATION_DAYS),
    )
    _new_link(invitation)
    invitation.save()
    earlier = Invitation.objects.select_for_update().filter(
        email__iexact=email, accepted_user__isnull=True, accepted_at__isnull=True, revoked_at__isnull=True
    )
    for old in earlier.exclude(pk=invitation.pk):
        old.revoked_at, old.revoked_by, old.replaced_by = now, actor, invitation
        old.save(update_fields=["revoked_at", "revoked_by", "replaced_by"])
        audit_record(
            actor=actor, action=AuditAction.UPDATE, instance=old, changes={"replaced_by": [None, invitation.pk]}
        )
    audit_record(actor=actor, action=AuditAction.CREATE, instance=invitation, changes={"role": [None, role]})
    _invitation_mail(invitation, actor=actor, base_url=base_url)
    return invitation


def _open_invitation_locked(invitation: Invitation) -> Invitation:
    locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not locked.is_open:
        raise ValidationError(_("This invitation has been used or withdrawn; invite the address again instead."))
    return locked


@transaction.atomic
def invitation_resend(*, invitation: Invitation, actor: User, base_url: str) -> Invitation:
    """Mail the same link again, valid for another week from now."""
    _require_manage_users(actor)
    invitation = _open_invitation_locked(invitation)
    now = timezone.now()
    if invitation_link(invitation, base_url) is None:
        _new_link(invitation)  # an old invitation whose link cannot be shown again gets a new one
    invitation.expires_at = now + timedelta(days=INVITATION_DAYS)
    invitation.last_sent_at = now
    invitation.times_sent += 1
    invitation.save(update_fields=["expires_at", "last_sent_at", "times_sent", "link_key", "token_hash"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=invitation,
        changes={"times_sent": [invitation.times_sent - 1, invitation.times_sent]},
    )
    _invitation_mail(invitation, actor=actor, base_url=base_url)
    return invitation


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor: User) -> Invitation:
    """Withdraw an invitation: its link says so from now on."""
    _require_manage_users(actor)
    invitation = _open_invitation_locked(invitation)
    invitation.revoked_at, invitation.revoked_by = timezone.now(), actor
    invitation.save(update_fields=["revoked_at", "revoked_by"])
    audit_record(actor=actor, action=AuditAction.DELETE, instance=invitation)
    return invitation


def invitation_by_token(raw: str) -> Invitation | None:
    """The invitation a link belongs to, whatever its state (the page says why it cannot be used)."""
    if not raw or len(raw) > 200:
        return None
    return Invitation.objects.select_related("accepted_user").filter(token_hash=hash_token(raw)).first()


@transaction.atomic
def invitation_accept(
    *, raw_token: str, username: str, password: str, first_name: str = "", last_name: str = ""
) -> User:
    invitation = Invitation.objects.select_for_update().filter(token_hash=hash_token(raw_token)).first()
    if invitation is None or not invitation.is_usable:
        raise ValidationError(_("This invitation link is invalid or has expired."))
    user = User(
        username=username,
        email=invitation.email,
        first_name=first_name,
        last_name=last_name,
        role=invitation.role,
        department=invitation.department,
        manager=invitation.manager,
    )
    _check_text(user, USER_TEXT_FIELDS)
    _check_unique(username, invitation.email)
    validate_password(password, user)
    user.set_password(password)
    user.save()
    invitation.accepted_user, invitation.accepted_at = user, timezone.now()
    invitation.save(update_fields=["accepted_user", "accepted_at"])
    audit_record(actor=user, action=AuditAction.CREATE, instance=user)
    return user


def api_token_create(*, user: User, name: str = "") -> tuple[ApiToken, str]:
    """A new token; the raw value is shown once and never stored."""
    name = check_text((name or "").strip(), field="name", max_length=100)
    raw = "kehu_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, token_hash=hash_token(raw), prefix=raw[5:13])
    return token, raw


def api_token_revoke(*, token: ApiToken, actor: User) -> None:
    if token.user_id != actor.pk and not actor.has_perm("users.manage_users"):
        raise PermissionDenied
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])


def api_token_authenticate(raw: str) -> User | None:
    token = (
        ApiToken.objects.select_related("user", "user__department")
        .filter(token_hash=hash_token(raw), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    # Touch at most once a minute: a write per API call would serialise SQLite.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


@transaction.atomic
def company_settings_update(*, actor: User, **fields) -> CompanySettings:
    if not actor.has_perm("users.change_settings"):
        raise PermissionDenied
    company = CompanySettings.load()
    before = snapshot(company, list(fields))
    for name, value in fields.items():
        setattr(company, name, value)
    _check_text(company, fields)
    company.save()
    audit_record(
        actor=actor, action=AuditAction.UPDATE, instance=company, changes=diff(before, snapshot(company, list(fields)))
    )
    return company


# Forgotten passwords: at most this many reset mails to one address an hour, and this many
# requests from one client address an hour (an office behind one NAT address stays well below).
RESET_MAILS_PER_ADDRESS = 3
RESET_REQUESTS_PER_CLIENT = 20
RESET_WINDOW = timedelta(hours=1)


def password_reset_request(*, email: str, ip: str, protocol: str, domain: str) -> PasswordResetRequest:
    """Record a "forgot password" request and leave the rest to the worker: the same work,
    whether or not the address is known or over its limit, so the answer's timing tells nothing."""
    with transaction.atomic():
        request = PasswordResetRequest.objects.create(
            email=email.strip()[:254], ip=ip, protocol=protocol, domain=domain[:255]
        )
        transaction.on_commit(lambda: password_reset_send.enqueue(request.pk))
    return request


@transaction.atomic
def password_reset_process(request_id: int) -> str:
    """Decide and queue the mail for one request; returns the outcome recorded."""
    from django.contrib.auth.forms import PasswordResetForm
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    request = PasswordResetRequest.objects.select_for_update().filter(pk=request_id).first()
    if request is None or request.outcome != ResetOutcome.WAITING:
        return request.outcome if request else ""
    since = request.at - RESET_WINDOW
    earlier = PasswordResetRequest.objects.filter(at__gte=since, at__lte=request.at).exclude(pk=request.pk)
    users = list(PasswordResetForm().get_users(request.email))
    if earlier.filter(ip=request.ip).count() >= RESET_REQUESTS_PER_CLIENT:
        outcome = ResetOutcome.CLIENT_LIMIT
    elif earlier.filter(email__iexact=request.email, outcome=ResetOutcome.SENT).count() >= RESET_MAILS_PER_ADDRESS:
        outcome = ResetOutcome.ADDRESS_LIMIT
    elif not users:
        outcome = ResetOutcome.UNKNOWN
    else:
        outcome = ResetOutcome.SENT
        for user in users:
            context = {
                "user": user,
                "uid": urlsafe_base64_encode(force_bytes(user.pk)),
                "token": default_token_generator.make_token(user),
                "protocol": request.protocol,
                "domain": request.domain,
            }
            queue_email("users/email/password_reset", context, [user.email], user.language or None)
    request.outcome = outcome
    request.save(update_fields=["outcome"])
    PasswordResetRequest.objects.filter(at__lt=timezone.now() - timedelta(days=1)).delete()
    return outcome
