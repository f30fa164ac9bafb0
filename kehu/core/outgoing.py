"""One POST to a server outside Kehu (webhook receivers, chat robots): http(s) only, a short
timeout, redirects never followed (a redirect is an answer like any other non-2xx: recorded and
retried, so a receiver cannot bounce Kehu's request to an address nobody configured)."""

import urllib.error
import urllib.request
from urllib.parse import urlsplit

TIMEOUT_SECONDS = 5


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def post(url: str, body: bytes, headers: dict, *, excerpt: int = 500) -> tuple[int | None, str, str]:
    """(HTTP status, the first `excerpt` bytes of the answer, transport error) of one POST."""
    if urlsplit(url).scheme not in ("http", "https"):
        return None, "", "not an http(s) address"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - scheme checked
    try:
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            return response.status, response.read(excerpt).decode("utf-8", "replace"), ""
    except urllib.error.HTTPError as exc:
        answer = exc.read(excerpt).decode("utf-8", "replace") if exc.fp else ""
        return exc.code, answer, ""
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return None, "", str(getattr(exc, "reason", exc))[:300]
