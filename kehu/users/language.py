"""Text a task writes for one person (a job's error, a notice's summary) in that person's language."""

from django.conf import settings
from django.utils import translation


def in_language_of(user):
    """The person's chosen language, else the installation's: `with in_language_of(user): ...`."""
    return translation.override(getattr(user, "language", "") or settings.LANGUAGE_CODE)
