"""Text we store and text we hand out: no control characters, bounded length.

One rule for every door (services, API schemas, imports). A control character is invisible on
screen, breaks exports (Excel refuses the workbook, vCard and iCalendar readers choke) and
PostgreSQL cannot store NUL at all, so input carrying one is refused with a message naming the
character and where it is. Multi-line text (notes, message bodies: the model's TextFields) may
hold tabs and line breaks; one-line text (names, phones, addresses: CharFields) may not.

Output meets what is already stored through `printable`, which drops what the rule refuses.
`join_words` puts a list into words in the reader's language."""

import re

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

# Longest free text (notes, content, reasons) a TextField takes: three pages of Chinese prose is
# a long note; anything longer is a pasted document, which belongs in an attachment.
TEXT_MAX_LENGTH = 10_000

# C0 controls, DEL, C1 controls, lone surrogates (cannot be encoded as UTF-8) and the two
# non-characters XML refuses. Multi-line text keeps tab, line feed and carriage return.
_REFUSED_MULTI_LINE = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff"
_MULTI_LINE = re.compile(f"[{_REFUSED_MULTI_LINE}]")
_ONE_LINE = re.compile(f"[\t\n\r{_REFUSED_MULTI_LINE}]")
_LINE_BREAKS = re.compile(r"[\t\r\n]+")


def refused_character(value: str, *, multiline: bool = False) -> tuple[int, str] | None:
    """(index, character) of the first character the rule refuses, or None."""
    match = (_MULTI_LINE if multiline else _ONE_LINE).search(value)
    return (match.start(), match.group()) if match else None


def text_problem(value, *, multiline: bool = False, max_length: int | None = None) -> str | None:
    """What is wrong with `value` as stored text, in the user's language, or None."""
    if not isinstance(value, str):
        return None
    found = refused_character(value, multiline=multiline)
    if found is not None:
        index, char = found
        if char in "\t\r\n":
            return _("This field holds a single line: remove the line break or tab (character %(position)s).") % {
                "position": index + 1
            }
        return _("Remove the invisible control character %(code)s (character %(position)s): it cannot be stored.") % {
            "code": f"U+{ord(char):04X}",
            "position": index + 1,
        }
    if max_length is not None and len(value) > max_length:
        return _("Use at most %(max)s characters (this has %(length)s).") % {
            "max": f"{max_length:,}",
            "length": f"{len(value):,}",
        }
    return None


def check_text(value: str, *, field: str | None = None, multiline: bool = False, max_length: int | None = None):
    """`value` unchanged when it may be stored; else ValidationError (on `field` when given)."""
    problem = text_problem(value, multiline=multiline, max_length=max_length)
    if problem is None:
        return value
    raise ValidationError({field: [problem]} if field else problem, code="text")


def _text_fields(model) -> list[models.Field]:
    return [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, (models.CharField, models.TextField)) and f.editable and not f.choices
    ]


def field_rule(field: models.Field) -> tuple[bool, int]:
    """(multi-line, maximum length) of a model text field."""
    multiline = isinstance(field, models.TextField)
    return multiline, field.max_length or TEXT_MAX_LENGTH


def text_field_errors(instance, *, names=None, exclude=()) -> dict[str, list[str]]:
    """{field: [message]} for the model's editable text fields (limited to `names`) that break the rule."""
    errors = {}
    for field in _text_fields(type(instance)):
        if field.name in exclude or (names is not None and field.name not in names):
            continue
        multiline, max_length = field_rule(field)
        problem = text_problem(getattr(instance, field.attname), multiline=multiline, max_length=max_length)
        if problem:
            errors[field.name] = [problem]
    return errors


def full_clean(instance, *, exclude=(), text_fields=None, **kwargs) -> None:
    """`instance.full_clean(...)` with the text rule on the same fields (or only on `text_fields`,
    e.g. those an update changes: a stored value nobody touched does not block the save); every
    error at once, as {field: [messages]}."""
    excluded = set(exclude or ())
    errors = text_field_errors(instance, names=text_fields, exclude=excluded)
    try:
        # A field already refused is left out: "invalid e-mail" on top of "control character" helps nobody.
        instance.full_clean(exclude=list(excluded | errors.keys()), **kwargs)
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationError(errors)


def changed(instance, fields: dict) -> set[str]:
    """The text fields among `fields` whose value differs from the instance's (call before assigning)."""
    names = {f.name for f in _text_fields(type(instance))}
    return {name for name, value in fields.items() if name in names and getattr(instance, name) != value}


def one_line(value: str) -> str:
    """Tabs and line breaks (a spreadsheet cell's Alt+Enter) become one space, for one-line fields."""
    return _LINE_BREAKS.sub(" ", value) if value else value


def printable(value, *, multiline: bool = True) -> str:
    """`value` as text safe to write into any export: the characters the rule refuses are dropped
    (what is already stored may predate the rule)."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if not multiline:
        text = one_line(text)
    return _MULTI_LINE.sub("", text) if _MULTI_LINE.search(text) else text


def join_words(items) -> str:
    """`a, b, c` in English, `a、b、c` in Chinese: the list separator is translated."""
    return pgettext("list separator", ", ").join(str(i) for i in items)
