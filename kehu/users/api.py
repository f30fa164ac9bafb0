from django.contrib.auth import authenticate
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.errors import HttpError
from ninja.security import HttpBearer

from kehu.core.api import Message, Text
from kehu.users import security
from kehu.users.lockout import locked_out_detail
from kehu.users.models import ApiToken, SignInMethod, SignInResult, hash_token
from kehu.users.services import api_token_authenticate, api_token_create, api_token_revoke

router = Router(tags=["auth"])


class BearerAuth(HttpBearer):
    """`Authorization: Bearer <token>`; tokens are stored hashed and can be revoked."""

    def authenticate(self, request: HttpRequest, token: str):
        if len(token) > 200:
            return None
        user = api_token_authenticate(token)
        if user is not None:
            request.user = user
        return user


class Credentials(Schema):
    username: Text(254)
    password: Text(1024)
    # Accounts with two-factor sign-in: the authenticator app's current code (or a recovery code).
    code: Text(20) | None = None


class TokenOut(Schema):
    token: str


@router.post("/token", auth=None, response={200: TokenOut, 401: Message, 403: Message, 429: Message})
def token_create(request, credentials: Credentials):
    """Exchange a username (or email) and password for a bearer token.

    An account with two-factor sign-in also sends `code`, the authenticator app's current code (each
    code works once); an account the company requires it of, that has not set it up, gets 403 until
    it has (in Kehu: My account → Sign-in security). Tokens made on that page need no code: the
    session that makes them has passed both steps."""
    user = authenticate(request, username=credentials.username, password=credentials.password)
    if getattr(request, "axes_locked_out", False):
        raise HttpError(403, locked_out_detail())
    if user is None or not user.is_active:
        return Status(401, {"detail": _("Wrong username or password.")})
    if security.two_factor_is_on(user):
        if not credentials.code:
            return Status(401, {"detail": _("This account signs in with two-factor: send the current code as `code`.")})
        check = security.two_factor_verify(user=user, code=credentials.code, request=request)
        if check.locked_minutes:
            return Status(429, {"detail": _("Too many wrong codes; try again later.")})
        if not check.ok:
            return Status(401, {"detail": _("Wrong two-factor code.")})
    elif security.two_factor_required(user):
        return Status(403, {"detail": _("Set up two-factor sign-in first: in Kehu, My account → Sign-in security.")})
    security.sign_in_record(result=SignInResult.SIGNED_IN, request=request, user=user, method=SignInMethod.API)
    _token, raw = api_token_create(user=user, name="API")
    return Status(200, {"token": raw})


@router.delete("/token", response={204: None})
def token_revoke(request):
    """Revoke the token this request was made with."""
    raw = request.headers.get("Authorization", "").partition(" ")[2].strip()
    token = ApiToken.objects.filter(token_hash=hash_token(raw), user=request.user).first()
    if token is not None:
        api_token_revoke(token=token, actor=request.user)
    return Status(204, None)
