"""Comparison keys of names, phones and emails for duplicate detection (CUS-5).

Pure functions without database access, shared by the search index, the duplicate finder,
migrations and the demo data generator. `kehu.customers.dedupe` explains the rules.
"""

import unicodedata

# Longest first, so 股份有限公司 is not cut as 有限公司 leaving 股份 behind.
CHINESE_SUFFIXES = sorted(
    ["有限责任公司", "股份有限公司", "有限公司", "集团有限公司", "集团", "公司", "厂"], key=len, reverse=True
)
# As word sequences after punctuation became spaces: "co., ltd." and "co.,ltd" are both "co ltd".
LATIN_SUFFIXES = [("co", "ltd"), ("ltd",), ("inc",), ("corp",)]
PHONE_KEY_MIN = 7


def _words(text: str) -> list[str]:
    """Lower-cased words of NFKC text, every punctuation mark and symbol a separator."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    cleaned = "".join(" " if unicodedata.category(ch)[0] in "PSZC" else ch for ch in text)
    return cleaned.split()


def normalise_name(name: str) -> str:
    """The comparison key of a customer name (see the module docstring)."""
    words = _words(name)
    for suffix in LATIN_SUFFIXES:
        if len(words) > len(suffix) and tuple(words[-len(suffix) :]) == suffix:
            words = words[: -len(suffix)]
            break
    key = "".join(words)
    for suffix in CHINESE_SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix):
            return key[: -len(suffix)]
    return key


def normalise_phone(phone: str) -> str:
    """Digits only, without +86 / 0086 and a leading trunk 0; "" when too short to compare."""
    digits = "".join(ch for ch in unicodedata.normalize("NFKC", phone or "") if ch.isdigit())
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) >= 12:
        digits = digits[2:]
    if digits.startswith("0"):
        digits = digits[1:]
    return digits if len(digits) >= PHONE_KEY_MIN else ""


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()
