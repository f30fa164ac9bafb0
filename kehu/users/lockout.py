"""What a locked-out sign-in gets (django-axes calls this): JSON for the API, a page for people."""

from datetime import timedelta

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import ngettext


def pause_minutes() -> int:
    """How long sign-in stays paused (AXES_COOLOFF_TIME is in hours, or a timedelta)."""
    cooloff = settings.AXES_COOLOFF_TIME
    seconds = cooloff.total_seconds() if isinstance(cooloff, timedelta) else float(cooloff) * 3600
    return max(1, round(seconds / 60))


def locked_out_detail() -> str:
    minutes = pause_minutes()
    return ngettext(
        "Too many failed attempts; try again in %(minutes)d minute.",
        "Too many failed attempts; try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


def lockout_response(request, original_response=None, credentials=None):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": locked_out_detail()}, status=429)
    return render(request, "users/locked_out.html", {"minutes": pause_minutes()}, status=429)
