from django.contrib.auth.middleware import LoginRequiredMiddleware as BaseLoginRequired
from django.utils import translation


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
