"""The export policy's decisions (kehu.core.exports) on the audit trail as it stands: the sixty-minute
window, the order of the refusals, the reason's own rules, and the kinds' registry."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from kehu.core.exports import (
    ExportKind,
    ExportRefusedError,
    Verdict,
    export_check,
    export_log,
    export_require,
    get_kind,
    register,
    usage,
)
from kehu.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def _earlier(user, minutes: int, rows: int) -> None:
    entry = export_log(actor=user, kind="customers", rows=rows, fmt="csv")
    AuditEntry.objects.filter(pk=entry.pk).update(at=timezone.now() - timedelta(minutes=minutes))


def test_only_the_last_sixty_minutes_count(team, settings):
    settings.KEHU_EXPORT_LIMIT_PER_HOUR = 2
    _earlier(team.manager1, 61, 10)
    _earlier(team.manager1, 50, 20)
    assert (usage(team.manager1).exports, usage(team.manager1).rows) == (1, 20)
    assert export_check(team.manager1, "customers", 5).allowed
    _earlier(team.manager1, 20, 5)
    refused = export_check(team.manager1, "customers", 5)
    # Free again when the export of 50 minutes ago leaves the window: in about ten minutes.
    assert refused.verdict == Verdict.RATE_LIMITED and refused.status == 429
    assert 9 * 60 < refused.retry_after <= 10 * 60 + 1


def test_the_order_of_the_refusals_and_the_reasons_rules(team, settings):
    settings.KEHU_EXPORT_REASON_ROWS = 10
    assert export_check(team.rep1, "customers", 50).verdict == Verdict.FORBIDDEN
    with pytest.raises(PermissionDenied):
        export_require(team.rep1, "customers", 1)
    decision = export_check(team.manager1, "customers", 11)
    assert (decision.verdict, decision.status) == (Verdict.NEEDS_REASON, 400)
    assert export_check(team.manager1, "customers", 10).allowed  # the threshold itself needs none
    assert export_check(team.manager1, "customers", None).allowed  # the rows are not known yet
    bad = export_check(team.manager1, "customers", 11, "为了\x07对账")
    assert bad.verdict == Verdict.NEEDS_REASON and "U+0007" in bad.message
    too_long = export_check(team.manager1, "customers", 11, "很" * 501)
    assert too_long.message == "Use at most 500 characters (this has 501)."
    assert export_require(team.manager1, "customers", 11, "  对账  ") == "对账"
    settings.KEHU_EXPORT_ROWS_PER_HOUR = 5
    with pytest.raises(ExportRefusedError) as refused:
        export_require(team.manager1, "customers", 11, "")  # over the rows limit before asking why
    assert refused.value.decision.verdict == Verdict.RATE_LIMITED


def test_the_kinds_registry():
    kind = get_kind("customers")
    assert (kind.perm, kind.personal, str(kind.label)) == ("customers.export_customer", True, "the customer list")
    register(kind)  # repeatable
    with pytest.raises(ValueError, match="registered twice"):
        register(ExportKind("customers", "customers.view_customer", "x", "customers.customer"))
    with pytest.raises(ValueError, match="Unknown export kind"):
        get_kind("nothing")
