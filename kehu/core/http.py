"""Small readings of a request that several apps' views share."""

from django.utils.http import url_has_allowed_host_and_scheme


def client_ip(request) -> str:
    # Behind a proxy, Django's REMOTE_ADDR must be set from the proxy's header by the deployment.
    return request.META.get("REMOTE_ADDR") or "0.0.0.0"  # noqa: S104 - an address, not a bind


def back_to(request, default: str) -> str:
    """The posted "next" page when it is a path on this site (never another host), else `default`."""
    target = request.POST.get("next", "")
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default
