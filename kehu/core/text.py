"""Small helpers for putting values into words in the reader's language."""

from collections.abc import Iterable

from django.utils.translation import pgettext


def join_words(items: Iterable[str]) -> str:
    """`a, b, c` in English, `a、b、c` in Chinese: the list separator is translated."""
    return pgettext("list separator", ", ").join(str(i) for i in items)
