"""Response headers every answer of the application carries."""

from django.http import HttpResponsePermanentRedirect
from django.middleware.common import CommonMiddleware as DjangoCommonMiddleware
from django.utils.cache import patch_cache_control
from django.utils.http import escape_leading_slashes


class NoStoreMiddleware:
    """Pages and API answers hold customer data: no browser or proxy keeps a copy (back button after
    sign-out, shared computers). A view that chose its own caching (a visit photo) keeps it; static
    files never come here (WhiteNoise answers them before)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            patch_cache_control(response, no_store=True, private=True)
        return response


class PermanentRedirectKeepingMethod(HttpResponsePermanentRedirect):
    status_code = 308


class CommonMiddleware(DjangoCommonMiddleware):
    """Django's, except that a write to an address without its trailing slash is sent on with 308,
    which repeats the same method and body: a 301 would turn a POST into a GET and lose it."""

    def process_response(self, request, response):
        if (
            response.status_code == 404
            and request.method not in ("GET", "HEAD")
            and self.should_redirect_with_slash(request)
        ):
            return PermanentRedirectKeepingMethod(
                escape_leading_slashes(request.get_full_path(force_append_slash=True))
            )
        return super().process_response(request, response)
