#!/usr/bin/env python3
"""Check the Simplified Chinese catalogue: every message translated, placeholders kept, .mo current.

Usage: scripts/check-translations.py [LOCALE_DIR]   (default: locale/ next to this script's parent)

Exits 1 and lists the problems when
- a msgid has an empty msgstr (or an empty plural form), or is still marked fuzzy;
- a translation drops or invents a placeholder (%(name)s, %s, {name});
- the compiled django.mo is missing or does not match django.po (run `make messages`).

English is the source language, so only zh_Hans is checked. No third-party packages needed.
"""

import ast
import gettext
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

LANGUAGES = ["zh_Hans"]
PLACEHOLDER = re.compile(r"%\([A-Za-z_][A-Za-z0-9_]*\)[sdif]|%[sdif]|\{[A-Za-z_][A-Za-z0-9_]*\}")


@dataclass
class Entry:
    line: int
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)


def _unquote(text: str) -> str:
    # PO strings use C escapes, which a Python string literal reads the same way.
    return ast.literal_eval(text)


def parse_po(path: Path) -> list[Entry]:
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int | None] | None = None

    def finish():
        nonlocal current, target
        if current is not None and (current.msgid or current.msgstr or current.msgid_plural):
            entries.append(current)
        current, target = None, None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#~"):
            continue  # obsolete entries do not count
        if line.startswith("#,"):
            if current is not None and (current.msgid or current.msgstr):
                finish()
            current = current or Entry(line=number)
            current.flags.update(flag.strip() for flag in line[2:].split(","))
            continue
        if line.startswith("#"):
            if current is not None and (current.msgid or current.msgstr):
                finish()
            continue
        current = current or Entry(line=number)
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            if target is None:
                raise ValueError(f"{path}:{number}: continuation line without a keyword")
            keyword, index = target
            value = _unquote(line)
        else:
            value = _unquote(rest.strip())
            index = None
            if keyword.startswith("msgstr["):
                index = int(keyword[7:-1])
                keyword = "msgstr"
            elif keyword == "msgstr":
                index = 0
            target = (keyword, index)
        if keyword == "msgctxt":
            current.msgctxt = (current.msgctxt or "") + value
        elif keyword == "msgid":
            current.msgid += value
        elif keyword == "msgid_plural":
            current.msgid_plural = (current.msgid_plural or "") + value
        elif keyword == "msgstr":
            current.msgstr[index] = current.msgstr.get(index, "") + value
        else:
            raise ValueError(f"{path}:{number}: unexpected line {raw!r}")
    finish()
    return entries


def nplurals(header: Entry | None) -> int:
    if header is None:
        return 1
    match = re.search(r"nplurals\s*=\s*(\d+)", header.msgstr.get(0, ""))
    return int(match.group(1)) if match else 1


def check_language(locale_dir: Path, language: str) -> list[str]:
    po = locale_dir / language / "LC_MESSAGES" / "django.po"
    mo = po.with_suffix(".mo")
    if not po.exists():
        return [f"{po}: missing (run `make messages`)"]
    entries = parse_po(po)
    header = next((e for e in entries if e.msgid == "" and e.msgctxt is None), None)
    forms = nplurals(header)
    problems = []
    for entry in entries:
        if entry is header:
            if "fuzzy" in entry.flags:
                problems.append(f"{po}:{entry.line}: the header is marked fuzzy")
            continue
        where = f"{po}:{entry.line}: {entry.msgid!r}"
        if "fuzzy" in entry.flags:
            problems.append(f"{where} is marked fuzzy (check it, then remove the flag)")
        wanted = range(forms) if entry.msgid_plural is not None else [0]
        empty = [i for i in wanted if not entry.msgstr.get(i, "").strip()]
        if empty:
            problems.append(f"{where} is not translated")
            continue
        sources = [entry.msgid] + ([entry.msgid_plural] if entry.msgid_plural else [])
        expected = set().union(*(set(PLACEHOLDER.findall(s)) for s in sources))
        for i in wanted:
            found = set(PLACEHOLDER.findall(entry.msgstr[i]))
            if entry.msgid_plural is None and found != expected:
                problems.append(f"{where}: placeholders {sorted(found)} differ from {sorted(expected)}")
            elif entry.msgid_plural is not None and not found <= expected:
                problems.append(f"{where}: unknown placeholders {sorted(found - expected)}")
    if problems:
        return problems
    if not mo.exists():
        return [f"{mo}: missing (run `make messages`)"]
    with mo.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for entry in entries:
        if entry is header:
            continue
        key = entry.msgid if entry.msgctxt is None else f"{entry.msgctxt}\x04{entry.msgid}"
        if entry.msgid_plural is None:
            if compiled._catalog.get(key) != entry.msgstr[0]:
                problems.append(f"{mo}: out of date for {entry.msgid!r} (run `make messages`)")
                break
        elif compiled._catalog.get((key, 0)) != entry.msgstr[0]:
            problems.append(f"{mo}: out of date for {entry.msgid!r} (run `make messages`)")
            break
    return problems


def main(argv: list[str]) -> int:
    locale_dir = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent / "locale"
    problems = []
    for language in LANGUAGES:
        problems += check_language(locale_dir, language)
    if problems:
        print(f"Translations: {len(problems)} problem(s):", file=sys.stderr)
        for problem in problems:
            print("  " + problem, file=sys.stderr)
        return 1
    print("Translations: every zh_Hans message is translated and compiled.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
