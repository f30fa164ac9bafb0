"""Error pages: 400, 403, 404, 500 and a refused form (CSRF), in the site's layout and the reader's
language, each with a way back. The API gets the same answers as JSON.

The 500 page must render when the database is down, so it reads nothing from it: no signed-in
user, no menu, no messages — only the request's language, its CSRF cookie and the page it came from.
"""

import logging
from urllib.parse import urlsplit

from django.http import HttpResponse, JsonResponse
from django.middleware.csrf import REASON_NO_CSRF_COOKIE, get_token
from django.shortcuts import render
from django.template import loader
from django.urls import reverse
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

log = logging.getLogger(__name__)


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def back_link(request) -> str:
    """The page the reader came from, if it is a page of this site."""
    referer = request.META.get("HTTP_REFERER", "")
    if not referer or not url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return ""
    # A form sent from this very address goes back to it; a page does not link to itself.
    parts = urlsplit(referer)
    same = parts.path + (f"?{parts.query}" if parts.query else "") == request.get_full_path()
    return "" if same and request.method == "GET" else referer


def _page(request, status: int, title: str, message: str, **extra) -> HttpResponse:
    context = {"status": status, "title": title, "message": message, "back": back_link(request), **extra}
    return render(request, "core/error.html", context, status=status)


def bad_request(request, exception=None):
    if _is_api(request):
        return JsonResponse({"detail": _("Bad request.")}, status=400)
    return _page(
        request,
        400,
        _("Kehu could not understand this request"),
        _("The address or the form sent was not complete. Go back and try again; if it happens again, "
          "tell your administrator which page you were on."),
    )  # fmt: skip


def permission_denied(request, exception=None):
    if _is_api(request):
        return JsonResponse({"detail": _("You may not do this.")}, status=403)
    return _page(
        request,
        403,
        _("This page is not part of your role"),
        _("Your role does not include this page or this action. If you need it for your work, ask your "
          "manager or your administrator."),
    )  # fmt: skip


def page_not_found(request, exception=None):
    if _is_api(request):
        return JsonResponse({"detail": _("Not found.")}, status=404)
    return _page(
        request,
        404,
        _("Page not found"),
        _("The address may be mistyped, or the record was deleted or is not among those you may see."),
    )


def csrf_failure(request, reason=""):
    """A form Kehu did not send to this browser, or one sent too late (after signing out or in again)."""
    if _is_api(request):
        return JsonResponse({"detail": _("The form was refused: reload the page and send it again.")}, status=403)
    if reason == REASON_NO_CSRF_COOKIE:
        message = _("Your browser did not send Kehu's cookie with the form. Allow cookies for this site, "
                    "reload the page and send the form again.")  # fmt: skip
    else:
        message = _("For your safety Kehu accepts a form only from the page it sent to this browser, while "
                    "you stay signed in. Go back, reload the page and send the form again; what you typed "
                    "may need to be typed again.")  # fmt: skip
    return _page(request, 403, _("The form has expired"), message, reload=True)


def server_error(request):
    """Without the database: the context is built here, not by context processors."""
    if _is_api(request):
        return JsonResponse({"detail": _("Something went wrong on the server; it has been logged.")}, status=500)
    context = {
        "request": request,
        "csrf_token": get_token(request),
        "status": 500,
        "title": _("Something went wrong"),
        "message": _(
            "Kehu could not finish this request. The error has been logged for your administrator. "
            "Nothing you saved earlier is lost; try again in a moment."
        ),  # fmt: skip
        "back": back_link(request),
        "no_database": True,
    }
    try:
        body = loader.get_template("core/error.html").render(context)
    except Exception:  # noqa: BLE001 - the last resort must answer, whatever broke the layout
        log.exception("The error page itself failed")
        body = f"<!doctype html><title>500</title><h1>{escape(context['title'])}</h1><p>{escape(context['message'])}"
        body += f'<p><a href="{reverse("workspace:home")}">{escape(_("Home"))}</a>'
    return HttpResponse(body, status=500)
