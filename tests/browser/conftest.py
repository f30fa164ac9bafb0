"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live server.

Run with `make test-browser` (`pytest -m browser`). Never `playwright install`: the
browser is the system package at /usr/bin/chromium.
"""

import email
import re
import socket
import threading
import time
from email import policy

import pytest
from aiosmtpd.controller import Controller

from .helpers import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEFAULT_TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # English unless a test asks otherwise (root conftest: LANGUAGE_CODE "en").
    return {**browser_context_args, "locale": "en-US", "viewport": {"width": 1280, "height": 900}}


def watch_content_policy(ctx, refused: list[str]):
    """Every page of the context reports what the Content-Security-Policy refused (an inline script
    or handler, a script from elsewhere): a test that caused one fails at its end."""

    def on_console(message):
        if message.type == "error" and "Content Security Policy" in message.text:
            refused.append(f"{message.location.get('url', '')}: {message.text}")

    ctx.on("console", on_console)


@pytest.fixture
def content_policy_refusals():
    refused: list[str] = []
    yield refused
    assert not refused, "\n".join(refused)


@pytest.fixture
def context(new_context, content_policy_refusals):
    ctx = new_context()
    ctx.set_default_timeout(DEFAULT_TIMEOUT_MS)
    watch_content_policy(ctx, content_policy_refusals)
    return ctx


@pytest.fixture
def make_context(browser, browser_context_args, content_policy_refusals):
    """Another browser context (another person, language, screen or no JavaScript): make_context(locale=...)."""
    made = []

    def make(**overrides):
        ctx = browser.new_context(**{**browser_context_args, **overrides})
        ctx.set_default_timeout(DEFAULT_TIMEOUT_MS)
        watch_content_policy(ctx, content_policy_refusals)
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        ctx.close()


# --- A real SMTP server -------------------------------------------------------------------------


class Mail:
    """One received message, parsed; `body` is the decoded text (quoted-printable/base64 undone)."""

    def __init__(self, envelope):
        self.mail_from = envelope.mail_from
        self.rcpt_tos = list(envelope.rcpt_tos)
        self.message = email.message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        self.subject = str(self.message["Subject"] or "")
        self.to = str(self.message["To"] or "")
        part = self.message.get_body(preferencelist=("plain", "html"))
        self.body = part.get_content() if part is not None else ""

    def links(self):
        return re.findall(r"https?://\S+", self.body)

    def __repr__(self):
        return f"<Mail to={self.rcpt_tos} subject={self.subject!r}>"


class _KeepHandler:
    def __init__(self):
        self.messages = []
        self.arrived = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        mail = Mail(envelope)
        with self.arrived:
            self.messages.append(mail)
            self.arrived.notify_all()
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self, controller, handler):
        self.controller = controller
        self.handler = handler
        self.port = controller.port

    @property
    def messages(self):
        return list(self.handler.messages)

    def wait_for(self, to, timeout=5.0):
        """The first message to `to`, waiting up to `timeout` seconds for it."""
        deadline = time.monotonic() + timeout
        with self.handler.arrived:
            while True:
                for mail in self.handler.messages:
                    if to in mail.rcpt_tos:
                        return mail
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no mail to {to} arrived; received: {self.handler.messages}")
                self.handler.arrived.wait(left)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    """An aiosmtpd server on 127.0.0.1 that keeps what it receives; Django's mail goes to it."""
    handler = _KeepHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": controller.port, "timeout": 5},
        }
    }
    try:
        yield SmtpServer(controller, handler)
    finally:
        controller.stop()


# --- People and pages ---------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _sign_in_with_passwords(transactional_db):
    """The browser tests sign administrators in with a password alone; two-factor sign-in (required of
    administrators by default) is tested in kehu/users/tests/test_two_factor.py."""
    from kehu.users.models import CompanySettings, TwoFactorPolicy

    CompanySettings.objects.update_or_create(pk=1, defaults={"two_factor_policy": TwoFactorPolicy.NOBODY})


@pytest.fixture
def make_user(transactional_db):
    from kehu.users.models import User
    from kehu.users.roles import Role

    def make(username, *, role=Role.SALES_REP, password=PASSWORD, **fields):
        fields.setdefault("email", f"{username}@example.com")
        user = User(username=username, role=role, **fields)
        user.set_password(password)
        user.save()
        return user

    return make
