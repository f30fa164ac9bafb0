"""`EMAIL_URL=console:` prints mail a person can read: headers decoded and the text body as
UTF-8 text, so a reset or invitation link can be copied from the terminal."""

import io

import pytest
from django.core.mail import EmailMessage, EmailMultiAlternatives

from config.settings import _mailers
from kehu.core.console_mail import EmailBackend
from kehu.core.mail import queue_email

LINK = "http://127.0.0.1:8000/accounts/reset/Mw/cz3k1a-0123456789abcdef0123456789abcdef/"
BODY = (
    f"王建国，您好：\n\n请打开下面的链接设置新密码（仅可使用一次）：\n\n{LINK}\n\n华辰机电设备有限公司 客户管理系统\n"
)


def test_console_url_selects_the_readable_backend():
    assert _mailers("console:") == {"default": {"BACKEND": "kehu.core.console_mail.EmailBackend"}}


def test_headers_and_body_print_as_text():
    stream = io.StringIO()
    message = EmailMessage("Kehu：设置新密码", BODY, "客户管理 <crm@example.com>", ["王建国 <wangjg@example.com>"])
    assert EmailBackend(stream=stream).send_messages([message]) == 1
    out = stream.getvalue()
    assert "Subject: Kehu：设置新密码\n" in out
    assert "From: 客户管理 <crm@example.com>\n" in out
    assert "To: 王建国 <wangjg@example.com>\n" in out
    assert f"\n{LINK}\n" in out
    assert "请打开下面的链接设置新密码" in out
    for encoded in ("=?utf-8?", "Content-Transfer-Encoding", "=E8", "5rGJ"):
        assert encoded not in out


def test_long_lines_are_not_folded_or_quoted_printable():
    stream = io.StringIO()
    long_link = "https://crm.example.com/accounts/invitation/" + "A" * 120 + "/"
    EmailBackend(stream=stream).send_messages(
        [EmailMessage("邀请", f"链接：{long_link}\n", "a@example.com", ["b@example.com"])]
    )
    assert f"链接：{long_link}\n" in stream.getvalue()


def test_html_alternatives_and_attachments_are_named_not_dumped():
    stream = io.StringIO()
    message = EmailMultiAlternatives("报表", "见附件。", "a@example.com", ["b@example.com"])
    message.attach_alternative("<p>见附件。</p>", "text/html")
    message.attach("客户.csv", "名称\n华星\n", "text/csv")
    EmailBackend(stream=stream).send_messages([message])
    out = stream.getvalue()
    assert "见附件。" in out and "<p>" not in out
    assert "[text/html alternative not shown]" in out
    assert "[attachment: 客户.csv]" in out


@pytest.mark.django_db
def test_a_queued_mail_reaches_stdout_readable(settings, capsys, team, django_capture_on_commit_callbacks):
    settings.MAILERS = _mailers("console:")
    with django_capture_on_commit_callbacks(execute=True):
        queue_email("users/email/approved", {"user": team.rep1}, ["rep1@example.com"], "zh-hans")
    out = capsys.readouterr().out
    assert "Subject: Kehu 客户管理：您的账号已获批准" in out
    assert "To: rep1@example.com" in out
    assert "=?utf-8?" not in out


def test_an_ascii_terminal_gets_utf8_bytes_rather_than_a_failed_delivery():
    raw = io.BytesIO()
    ascii_stream = io.TextIOWrapper(raw, encoding="ascii")
    EmailBackend(stream=ascii_stream).send_messages(
        [EmailMessage("设置新密码", BODY, "a@example.com", ["b@example.com"])]
    )
    ascii_stream.flush()
    assert LINK.encode() in raw.getvalue()
    assert "设置新密码".encode() in raw.getvalue()
