"""Named points in long writes where the crash tests stop a process (test-only, inert otherwise).

A service marks a moment worth interrupting, inside its transaction: ``checkpoint("import.written")``.
In production this is a function that returns at once: nothing is read, nothing waits.

Only when the process was started with ``KEHU_TEST_PAUSE_AT=<name>`` (or ``<name>:<n>``, the n-th
time the point is reached) does the point pause: it creates the file
``$KEHU_TEST_PAUSE_DIR/<name>`` holding its process id, then sleeps (up to ten minutes) so that
the test can ``kill -9`` the process at exactly that moment (kehu/core/tests/processes.py).
Both variables are read once, when this module is imported; nobody sets them outside the tests.
"""

import os
import time
from pathlib import Path

_wanted = os.environ.get("KEHU_TEST_PAUSE_AT", "")
_where = os.environ.get("KEHU_TEST_PAUSE_DIR", "")
_seen: dict[str, int] = {}


def _off(name: str) -> None:
    return None


def _pause(name: str) -> None:
    point, _sep, nth = _wanted.partition(":")
    if name != point:
        return
    _seen[name] = _seen.get(name, 0) + 1
    if _seen[name] != int(nth or 1):
        return
    Path(_where, name).write_text(str(os.getpid()))
    time.sleep(600)


checkpoint = _pause if _wanted and _where else _off
