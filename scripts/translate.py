#!/usr/bin/env python3
"""Fill Simplified Chinese translations from a JSON object {msgid: msgstr} and clear their fuzzy flags.

Usage: .venv/bin/python scripts/translate.py FILE.json   (then `make messages` compiles them)
       .venv/bin/python scripts/translate.py --missing    (print untranslated or fuzzy msgids as JSON)
"""

import json
import sys
from pathlib import Path

import polib

PO = Path(__file__).resolve().parent.parent / "locale/zh_Hans/LC_MESSAGES/django.po"


def main(argv: list[str]) -> int:
    catalogue = polib.pofile(str(PO), wrapwidth=79)
    if argv[1:] == ["--missing"]:
        missing = {e.msgid: "" for e in catalogue if not e.obsolete and (not e.translated() or e.fuzzy)}
        print(json.dumps(missing, ensure_ascii=False, indent=1))
        return 0
    wanted = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    unknown = set(wanted)
    for entry in catalogue:
        if entry.msgid in wanted:
            unknown.discard(entry.msgid)
            value = wanted[entry.msgid]
            if entry.msgid_plural:
                entry.msgstr_plural = {0: value}
            else:
                entry.msgstr = value
            if "fuzzy" in entry.flags:
                entry.flags.remove("fuzzy")
            entry.previous_msgid = entry.previous_msgid_plural = None
    catalogue.save()
    for msgid in sorted(unknown):
        print(f"not in the catalogue (run `make messages` first): {msgid!r}", file=sys.stderr)
    return 1 if unknown else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
