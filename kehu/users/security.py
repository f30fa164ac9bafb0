"""Sign-in security (ACC-4): two-factor sign-in, recovery codes and the sign-in log.

Writes follow the house pattern (`<entity>_<verb>(*, ..., actor)` in a transaction); the reads
that belong to these models are here too, so the views have one module to ask.
"""

import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from kehu.core.http import client_ip
from kehu.users import totp
from kehu.users.lockout import pause_minutes
from kehu.users.models import (
    CompanySettings,
    RecoveryCode,
    SignInEvent,
    SignInMethod,
    SignInResult,
    TwoFactor,
    TwoFactorPolicy,
    User,
)
from kehu.users.roles import Role

RECOVERY_CODES = 10
RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i to confuse
CODE_FAILURE_LIMIT = 5
ISSUER = "Kehu"


# ---- the policy ----


def is_administrator(user: User) -> bool:
    return bool(user.is_superuser or user.role == Role.ADMINISTRATOR)


def two_factor_required(user: User, policy: str | None = None) -> bool:
    """Whether the company's policy says this person must sign in with a second factor."""
    policy = policy or CompanySettings.load().two_factor_policy
    if policy == TwoFactorPolicy.EVERYONE:
        return True
    if policy == TwoFactorPolicy.ADMINISTRATORS:
        return is_administrator(user)
    return False


def two_factor_of(user: User) -> TwoFactor | None:
    return TwoFactor.objects.filter(user=user).first()


def two_factor_is_on(user: User) -> bool:
    return TwoFactor.objects.filter(user=user, confirmed_at__isnull=False).exists()


def recovery_codes_left(user: User) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


# ---- the sign-in log ----


def sign_in_record(
    *, result: str, request=None, user: User | None = None, username: str = "", method: str = ""
) -> SignInEvent:
    """One line of the sign-in log, with the address and the browser of the request."""
    meta = getattr(request, "META", {}) if request is not None else {}
    if user is not None and not username:
        username = user.get_username()
    return SignInEvent.objects.create(
        user=user if getattr(user, "pk", None) else None,
        username=(username or "")[:150],
        result=result,
        method=method,
        ip=client_ip(request) if request is not None else None,
        user_agent=str(meta.get("HTTP_USER_AGENT", ""))[:200],
    )


def sign_in_events(
    *, user_id: int | None = None, result: str = "", since=None, until=None, before_id: int | None = None
) -> QuerySet[SignInEvent]:
    """The sign-in log newest first, filtered; `before_id` pages on (seek, not OFFSET)."""
    qs = SignInEvent.objects.select_related("user").order_by("-id")
    if user_id:
        qs = qs.filter(user_id=user_id)
    if result:
        qs = qs.filter(result=result)
    if since is not None:
        qs = qs.filter(at__gte=since)
    if until is not None:
        qs = qs.filter(at__lt=until)
    if before_id:
        qs = qs.filter(id__lt=before_id)
    return qs


def sign_in_log_prune(now=None) -> int:
    """Forget sign-in log lines older than KEHU_SIGN_IN_LOG_DAYS; answers how many went."""
    days = int(getattr(settings, "KEHU_SIGN_IN_LOG_DAYS", 365))
    cutoff = (now or timezone.now()) - timedelta(days=days)
    deleted, _by_model = SignInEvent.objects.filter(at__lt=cutoff).delete()
    return deleted


def sign_in_events_of(user: User, limit: int = 20) -> list[SignInEvent]:
    """A person's own recent sign-ins, sign-outs and failures (for their security page)."""
    return list(SignInEvent.objects.filter(user=user).order_by("-id")[:limit])


# ---- codes ----


def _recovery_hash(code: str) -> str:
    return salted_hmac("kehu.users.recovery-code", code, algorithm="sha256").hexdigest()


def _normalise_recovery(code: str) -> str:
    return "".join(ch for ch in (code or "").lower() if ch.isalnum())


def _new_recovery_codes(user: User) -> list[str]:
    RecoveryCode.objects.filter(user=user).delete()
    codes = []
    for _i in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _j in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    RecoveryCode.objects.bulk_create(
        [RecoveryCode(user=user, code_hash=_recovery_hash(_normalise_recovery(c))) for c in codes]
    )
    return codes


def provisioning(two_factor: TwoFactor) -> str:
    """The otpauth:// link for the enrolment QR code."""
    user = two_factor.user
    return totp.provisioning_uri(two_factor.secret, account=user.email or user.get_username(), issuer=ISSUER)


def secret_for_typing(secret: str) -> str:
    """The secret in groups of four, for people who type it instead of scanning."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@dataclass(frozen=True)
class CodeCheck:
    ok: bool
    method: str = ""  # SignInMethod.CODE or .RECOVERY when ok
    locked_minutes: int = 0  # > 0: the code step is paused (nothing was checked)
    recovery_left: int = 0


# ---- enrolment ----


@transaction.atomic
def two_factor_start(*, user: User) -> TwoFactor:
    """A new secret waiting for its first code (replacing an unconfirmed one, kept if still fresh)."""
    two_factor = TwoFactor.objects.select_for_update().filter(user=user).first()
    if two_factor is not None and two_factor.is_on:
        raise ValidationError(_("Two-factor sign-in is already on."))
    if two_factor is not None and timezone.now() - two_factor.created_at < timedelta(minutes=30):
        return two_factor  # a reload of the page keeps the QR code the app may already have scanned
    if two_factor is not None:
        two_factor.delete()
    return TwoFactor.objects.create(user=user, secret=totp.new_secret())


@transaction.atomic
def two_factor_confirm(*, user: User, code: str, request=None) -> list[str]:
    """Switch two-factor sign-in on with the first right code; answers the ten recovery codes."""
    two_factor = TwoFactor.objects.select_for_update().filter(user=user).first()
    if two_factor is None:
        raise ValidationError(_("Start again: the set-up has expired."))
    if two_factor.is_on:
        raise ValidationError(_("Two-factor sign-in is already on."))
    step = totp.matching_step(two_factor.secret, code)
    if step is None:
        raise ValidationError(
            {"code": _("This code is not right. Check the time on your phone and try the newest code.")}
        )
    two_factor.confirmed_at = timezone.now()
    two_factor.last_step = step
    two_factor.failures = 0
    two_factor.locked_until = None
    two_factor.save()
    codes = _new_recovery_codes(user)
    sign_in_record(result=SignInResult.TWO_FACTOR_ON, request=request, user=user)
    return codes


def _check_second_factor(two_factor: TwoFactor, code: str) -> str:
    """SignInMethod.CODE / .RECOVERY when the code is right (and marks it used), else ""."""
    step = totp.matching_step(two_factor.secret, code)
    if step is not None and step > two_factor.last_step:
        two_factor.last_step = step
        return SignInMethod.CODE
    normalised = _normalise_recovery(code)
    if len(normalised) == 10:
        used = RecoveryCode.objects.filter(
            user_id=two_factor.user_id, code_hash=_recovery_hash(normalised), used_at__isnull=True
        ).update(used_at=timezone.now())
        if used:
            return SignInMethod.RECOVERY
    return ""


def two_factor_verify(*, user: User, code: str, request=None) -> CodeCheck:
    """The sign-in's second step. A code is accepted once (its time step must be newer than the last
    one accepted); a recovery code once. Wrong codes are counted on the account, and the fifth pauses
    the code step (as failed passwords pause the first one)."""
    with transaction.atomic():
        two_factor = TwoFactor.objects.select_for_update().filter(user=user, confirmed_at__isnull=False).first()
        if two_factor is None:
            return CodeCheck(ok=False)
        now = timezone.now()
        if two_factor.locked_until is not None and two_factor.locked_until > now:
            minutes = max(1, round((two_factor.locked_until - now).total_seconds() / 60))
            return CodeCheck(ok=False, locked_minutes=minutes)
        method = _check_second_factor(two_factor, code)
        if method:
            two_factor.failures = 0
            two_factor.locked_until = None
            two_factor.save(update_fields=["last_step", "failures", "locked_until"])
            left = recovery_codes_left(user) if method == SignInMethod.RECOVERY else 0
            return CodeCheck(ok=True, method=method, recovery_left=left)
        two_factor.failures += 1
        locked = two_factor.failures >= CODE_FAILURE_LIMIT
        if locked:
            two_factor.failures = 0
            two_factor.locked_until = now + timedelta(minutes=pause_minutes())
        two_factor.save(update_fields=["failures", "locked_until"])
        sign_in_record(
            result=SignInResult.CODE_LOCKED if locked else SignInResult.CODE_FAILED, request=request, user=user
        )
    return CodeCheck(ok=False, locked_minutes=pause_minutes() if locked else 0)


@transaction.atomic
def two_factor_disable(*, user: User, password: str, code: str, request=None) -> None:
    """Switch it off: the password and a current code (or a recovery code) prove it is the owner."""
    two_factor = TwoFactor.objects.select_for_update().filter(user=user, confirmed_at__isnull=False).first()
    if two_factor is None:
        raise ValidationError(_("Two-factor sign-in is not on."))
    if two_factor_required(user):
        raise ValidationError(_("The company requires two-factor sign-in for you; it cannot be switched off."))
    errors = {}
    if not user.check_password(password):
        errors["password"] = _("The password is not right.")
    elif not _check_second_factor(two_factor, code):
        errors["code"] = _("This code is not right.")
    if errors:
        raise ValidationError(errors)
    two_factor.delete()
    RecoveryCode.objects.filter(user=user).delete()
    sign_in_record(result=SignInResult.TWO_FACTOR_OFF, request=request, user=user)


@transaction.atomic
def recovery_codes_renew(*, user: User, code: str) -> list[str]:
    """Ten new recovery codes for a current authenticator code; the old ones stop working."""
    two_factor = TwoFactor.objects.select_for_update().filter(user=user, confirmed_at__isnull=False).first()
    if two_factor is None:
        raise ValidationError(_("Two-factor sign-in is not on."))
    step = totp.matching_step(two_factor.secret, code)
    if step is None or step <= two_factor.last_step:
        raise ValidationError({"code": _("This code is not right.")})
    two_factor.last_step = step
    two_factor.save(update_fields=["last_step"])
    return _new_recovery_codes(user)


@transaction.atomic
def two_factor_reset(*, user: User, actor: User, request=None) -> None:
    """An administrator switches someone's two-factor sign-in off (a lost phone and lost recovery
    codes); if the policy requires it, they set it up again at their next sign-in."""
    if not actor.has_perm("users.manage_users"):
        raise PermissionDenied
    TwoFactor.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()
    sign_in_record(result=SignInResult.TWO_FACTOR_OFF, request=request, user=user)


# ---- what the sign-in signals leave in the log (connected in UsersConfig.ready) ----

# Session keys: when the session signed in, and when it was last seen (epoch seconds).
SIGNED_IN_AT = "kehu_signed_in_at"
LAST_SEEN = "kehu_last_seen"


def idle_minutes() -> int:
    return int(getattr(settings, "KEHU_SESSION_IDLE_MINUTES", 0) or 0)


def on_logged_in(sender, request, user, **kwargs):
    method = getattr(request, "kehu_sign_in_method", SignInMethod.PASSWORD)
    sign_in_record(result=SignInResult.SIGNED_IN, request=request, user=user, method=method)
    session = getattr(request, "session", None)
    if session is not None:
        now = int(time.time())  # as the session time-out reads it (kehu.users.middleware)
        session[SIGNED_IN_AT] = now
        session[LAST_SEEN] = now


def on_login_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username") or "")
    # django-axes answers first: a refused attempt during a lockout, or the one that started it.
    locked = bool(getattr(request, "axes_locked_out", False))
    user = User.objects.filter(username=username).first() if username and "@" not in username else None
    if user is None and "@" in username:
        user = User.objects.filter(email__iexact=username).first()
    sign_in_record(
        result=SignInResult.LOCKED_OUT if locked else SignInResult.FAILED, request=request, user=user, username=username
    )


def on_logged_out(sender, request, user, **kwargs):
    if user is None:
        return
    result = getattr(request, "kehu_sign_out_result", SignInResult.SIGNED_OUT)
    sign_in_record(result=result, request=request, user=user)
