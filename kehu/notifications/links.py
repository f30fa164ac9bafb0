"""Absolute addresses back into Kehu, for mails and work-chat messages (a chat app has no page to
resolve "/customers/12/" against): KEHU_BASE_URL in the environment, e.g. https://crm.example.com."""

from django.conf import settings


def base_url() -> str:
    return (getattr(settings, "KEHU_BASE_URL", "") or "http://127.0.0.1:8000").rstrip("/")


def absolute(link: str) -> str:
    """`link` as an absolute http(s) address; "" for nothing or for anything but a path or http(s)."""
    link = (link or "").strip()
    if not link:
        return ""
    if link.startswith(("http://", "https://")):
        return link
    if not link.startswith("/") or link.startswith("//"):
        return ""
    return base_url() + link
