"""Web addresses we store and link to: http and https only.

A stored `javascript:` or `data:` address would run script when clicked, and an `ftp:` or
`file:` one leads nowhere a browser should go; so every URL field accepts http(s) only, and a
template links a stored address only when it still is one (`web_href`)."""

import re

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _

from kehu.core.text import refused_character

SCHEMES = ("http", "https")
_HAS_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_validate = URLValidator(schemes=list(SCHEMES))


def _is_valid(url: str) -> bool:
    try:
        _validate(url)
    except ValidationError:
        return False
    return True


def clean_web_url(value: str, *, field: str = "website", require_scheme: bool = False) -> str:
    """The address to store, or ValidationError on `field`. A bare host as people write it on
    business cards ("www.example.com.cn") gets http:// in front, unless `require_scheme`
    (a machine endpoint must say what it means)."""
    url = (value or "").strip()
    if not url:
        return ""
    if not _HAS_SCHEME.match(url):
        if require_scheme or not _is_valid(f"http://{url}") or "." not in url.split("/")[0]:
            raise ValidationError({field: [_("Enter a web address starting with http:// or https://.")]})
        url = f"http://{url}"
    elif url.split(":", 1)[0].lower() not in SCHEMES:
        raise ValidationError({field: [_("Only http:// and https:// addresses are accepted.")]})
    if not _is_valid(url):
        raise ValidationError({field: [_("Enter a web address starting with http:// or https://.")]})
    return url


def web_href(value) -> str:
    """What a link to a stored address may point to: the http(s) address (a bare host gets
    http://), or "" for anything else — what is stored may predate the rule."""
    if not isinstance(value, str) or refused_character(value) is not None:
        return ""
    try:
        return clean_web_url(value)
    except ValidationError:
        return ""
