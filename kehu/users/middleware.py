import time
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.middleware import LoginRequiredMiddleware as BaseLoginRequired
from django.http import HttpResponse
from django.shortcuts import resolve_url
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kehu.users.models import SignInResult
from kehu.users.security import LAST_SEEN, SIGNED_IN_AT, idle_minutes


class LoginRequiredMiddleware(BaseLoginRequired):
    """Every page needs a login except those marked `login_not_required`.

    The API authenticates with bearer tokens and answers 401 itself.
    """

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith("/api/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


class UserLanguageMiddleware:
    """The user's chosen language wins over the browser's (PLT-3)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        return self.get_response(request)


class SessionTimeoutMiddleware:
    """Signs a session out after KEHU_SESSION_IDLE_MINUTES without a request, and once it is older than
    SESSION_COOKIE_AGE however busy (the cookie's own age is renewed by every save).

    The last-seen stamp is written at most once a minute, so a busy session does not cost a
    database write per request. The next page is the sign-in page, with a message saying why.
    """

    REFRESH_SECONDS = 60

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not request.path_info.startswith("/api/"):
            if ended := self._check(request):
                return ended
        return self.get_response(request)

    def _check(self, request):
        session = request.session
        # The wall clock, not timezone.now(): tests that move "now" to a date must not end sessions.
        now = int(time.time())
        seen = session.get(LAST_SEEN)
        signed_in = session.get(SIGNED_IN_AT)
        idle = idle_minutes()
        message = ""
        if idle and seen is not None and now - seen > idle * 60:
            message = ngettext(
                "You were signed out after %(minutes)d minute without activity. Please sign in again.",
                "You were signed out after %(minutes)d minutes without activity. Please sign in again.",
                idle,
            ) % {"minutes": idle}
        elif signed_in is not None and now - signed_in > settings.SESSION_COOKIE_AGE:
            message = _("Your session has ended; please sign in again.")
        if message:
            request.kehu_sign_out_result = SignInResult.TIMED_OUT
            logout(request)
            messages.info(request, message)
            if request.headers.get("HX-Request") == "true":
                # A part of a page asked for: the whole page goes to the sign-in page, not the fragment.
                page = request.headers.get("HX-Current-URL", "")
                page = urlsplit(page).path if page else "/"
                return HttpResponse(
                    headers={"HX-Redirect": f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': page})}"}
                )
            return None
        if seen is None or now - seen >= self.REFRESH_SECONDS:
            session[LAST_SEEN] = now
            if signed_in is None:
                session[SIGNED_IN_AT] = now
        return None
