"""The password rule beyond Django's own validators: at least two kinds of characters."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def character_kinds(password: str) -> int:
    """How many of letters, digits and other characters (symbols, spaces) the password has."""
    letters = any(ch.isalpha() for ch in password)
    digits = any(ch.isdigit() for ch in password)
    others = any(not ch.isalnum() for ch in password)
    return letters + digits + others


class CharacterKindsValidator:
    """Refuses a password made of one kind of character only ("abcdefghijk", "1234567890")."""

    def validate(self, password, user=None):
        if character_kinds(password) < 2:
            raise ValidationError(
                _("The password must mix at least two of these: letters, digits, symbols."),
                code="password_one_kind",
            )

    def get_help_text(self):
        return _("Your password must mix at least two of these: letters, digits, symbols.")
