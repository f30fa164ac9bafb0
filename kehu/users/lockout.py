"""What a locked-out sign-in gets (django-axes calls this): JSON for the API, a page for people."""

from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def lockout_response(request, original_response=None, credentials=None):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("Too many failed attempts; try again in 15 minutes.")}, status=429)
    return render(request, "users/locked_out.html", status=429)
