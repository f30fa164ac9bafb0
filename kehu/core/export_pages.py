"""The pages' side of the export policy (kehu.core.exports): a refused export answers a page that
says why, in the reader's language. An export that needs a reason shows a small form that sends
the same request again with the reason typed (a POST, so the reason stays out of addresses and
server logs); one past the hour's limit answers 429 with the time to try again. Nothing is produced."""

from functools import wraps

from django.shortcuts import render

from kehu.core.errors import back_link
from kehu.core.exports import ExportDecision, ExportRefusedError, Verdict, reason_rows


def reason_of(request) -> str:
    """The reason typed on the export form (sent by POST), "" otherwise."""
    return request.POST.get("reason", "") if request.method == "POST" else ""


def export_refused(request, decision: ExportDecision):
    context = {
        "decision": decision,
        "needs_reason": decision.verdict == Verdict.NEEDS_REASON,
        "reason": reason_of(request),
        "reason_rows": reason_rows(),
        "action": request.get_full_path(),
        "back": back_link(request),
    }
    response = render(request, "core/export_refused.html", context, status=decision.status)
    if decision.retry_after:
        response["Retry-After"] = str(decision.retry_after)
    return response


def handles_export_refusal(view):
    """Wrap an export view: an `ExportRefusedError` raised inside becomes the page above."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except ExportRefusedError as exc:
            return export_refused(request, exc.decision)

    return wrapped
