"""Errors that services raise and views / the API turn into messages."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


class ConcurrentEditError(ValidationError):
    """Someone else saved the record after this editor loaded it."""

    def __init__(self, message=None):
        super().__init__(
            message
            or _(
                "Someone else changed this record while you were editing it. "
                "Reload the page to see their changes, then make yours again."
            ),
            code="concurrent_edit",
        )


class PermissionDeniedError(Exception):
    """The actor may see the record but not do this to it."""
