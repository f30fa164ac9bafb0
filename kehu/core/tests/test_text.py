"""The shared text rule: which characters are refused where, the messages, the length limits,
and what exports do with what is already stored."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from kehu.core.text import (
    TEXT_MAX_LENGTH,
    check_text,
    full_clean,
    one_line,
    printable,
    refused_character,
    text_field_errors,
    text_problem,
)
from kehu.customers.models import Customer

# Every class of character the rule refuses anywhere, with an example.
REFUSED_EVERYWHERE = {
    "NUL": "\x00",
    "BEL": "\x07",
    "vertical tab": "\x0b",
    "form feed": "\x0c",
    "escape": "\x1b",
    "unit separator": "\x1f",
    "DEL": "\x7f",
    "C1 NEL": "\x85",
    "C1 CSI": "\x9b",
    "lone high surrogate": "\ud800",
    "lone low surrogate": "\udfff",
    "non-character FFFE": "\ufffe",
    "non-character FFFF": "\uffff",
}
LINE_BREAKS = {"tab": "\t", "line feed": "\n", "carriage return": "\r"}
FINE = ["华星精密机械有限公司", "O'Brien & Sons", "+86 138 0000 0000", "=1+1", "emoji 😀", "\u00a0nbsp", "Zürich"]


@pytest.mark.parametrize("char", REFUSED_EVERYWHERE.values(), ids=REFUSED_EVERYWHERE.keys())
@pytest.mark.parametrize("multiline", [False, True])
def test_control_characters_are_refused_in_every_kind_of_text(char, multiline):
    assert refused_character(f"ab{char}c", multiline=multiline) == (2, char)
    assert f"U+{ord(char):04X}" in text_problem(f"ab{char}c", multiline=multiline)
    assert "character 3" in text_problem(f"ab{char}c", multiline=multiline)


@pytest.mark.parametrize("char", LINE_BREAKS.values(), ids=LINE_BREAKS.keys())
def test_tabs_and_line_breaks_only_in_multi_line_text(char):
    assert refused_character(f"a{char}b", multiline=True) is None
    assert refused_character(f"a{char}b", multiline=False) == (1, char)
    assert text_problem(f"a{char}b") == ("This field holds a single line: remove the line break or tab (character 2).")


@pytest.mark.parametrize("value", FINE)
def test_ordinary_text_passes(value):
    assert text_problem(value) is None
    assert check_text(value) == value


def test_length_limit_and_message_in_both_languages():
    assert text_problem("x" * 10, max_length=10) is None
    assert text_problem("x" * 11, max_length=10) == "Use at most 10 characters (this has 11)."
    with translation.override("zh-hans"):
        assert text_problem("x" * 10_001, max_length=TEXT_MAX_LENGTH) == "最多 10,000 个字符（现有 10,001 个）。"
        assert "U+0007" in text_problem("a\x07") and "控制字符" in text_problem("a\x07")


def test_check_text_names_the_field():
    with pytest.raises(ValidationError) as exc:
        check_text("a\x00", field="reason")
    assert list(exc.value.message_dict) == ["reason"]
    with pytest.raises(ValidationError) as exc:
        check_text("a\x00")
    assert not hasattr(exc.value, "error_dict")


def test_model_fields_follow_their_kind():
    customer = Customer(name="甲\n乙", notes="第一行\n第二行\t缩进", address="路\x07", city="x" * 51)
    errors = text_field_errors(customer)
    assert set(errors) == {"name", "address", "city"}  # notes are multi-line text
    customer.notes = "n" * (TEXT_MAX_LENGTH + 1)
    assert "notes" in text_field_errors(customer)
    assert set(text_field_errors(customer, names={"notes"})) == {"notes"}
    assert set(text_field_errors(customer, exclude={"notes", "city"})) == {"name", "address"}


def test_full_clean_reports_each_field_once(team):
    customer = Customer(name="甲公司", email="a\x00@example.com", owner=team.rep1)
    with pytest.raises(ValidationError) as exc:
        full_clean(customer, exclude=["owner", "created_by", "deleted_by", "search_text"])
    # The control character, not also "enter a valid email address".
    assert exc.value.message_dict == {"email": [text_problem("a\x00@example.com")]}


def test_full_clean_checks_only_the_named_text_fields(team):
    customer = Customer(name="甲公司", notes="old\x07", owner=team.rep1)
    full_clean(customer, exclude=["owner", "created_by", "deleted_by", "search_text"], text_fields={"name"})
    with pytest.raises(ValidationError):
        full_clean(customer, exclude=["owner", "created_by", "deleted_by", "search_text"])


def test_printable_drops_what_is_refused_and_keeps_the_rest():
    assert printable("a\x00b\x07c\x85d\ud800e\ufffef") == "abcdef"
    assert printable("line 1\nline 2\tx") == "line 1\nline 2\tx"
    assert printable("line 1\r\nline 2\tx", multiline=False) == "line 1 line 2 x"
    assert printable(None) == "" and printable(12) == "12"
    assert one_line("a\n\n\tb") == "a b"
