"""Web addresses: http(s) only, stored and linked."""

import pytest
from django.core.exceptions import ValidationError

from kehu.core.weburl import clean_web_url, web_href

REFUSED = [
    "javascript:alert(1)",
    "JavaScript:alert(document.cookie)",
    "  javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "ftp://files.example.com/a",
    "file:///etc/passwd",
    "mailto:a@example.com",
    "our website",
    "abc",
    "http://",
    "http://[::1",
    "//evil.example.com",
    "http://exa mple.com",
]


@pytest.mark.parametrize("value", REFUSED)
def test_anything_but_http_and_https_is_refused(value):
    with pytest.raises(ValidationError) as exc:
        clean_web_url(value)
    assert list(exc.value.message_dict) == ["website"]
    assert web_href(value) == ""


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("https://www.example.com.cn/about?x=1", "https://www.example.com.cn/about?x=1"),
        ("HTTP://EXAMPLE.COM", "HTTP://EXAMPLE.COM"),
        ("  http://例子.中国/  ", "http://例子.中国/"),
        ("www.huaxing.com.cn", "http://www.huaxing.com.cn"),
        ("huaxing.cn/products", "http://huaxing.cn/products"),
        ("", ""),
    ],
)
def test_web_addresses_are_kept_and_bare_hosts_get_http(value, stored):
    assert clean_web_url(value) == stored
    assert web_href(value) == stored


def test_a_machine_endpoint_must_name_its_scheme():
    with pytest.raises(ValidationError) as exc:
        clean_web_url("hooks.example.com/kehu", field="url", require_scheme=True)
    assert list(exc.value.message_dict) == ["url"]


def test_a_stored_address_with_a_control_character_is_no_link():
    assert web_href("http://example.com/\x00") == ""
    assert web_href(None) == ""
