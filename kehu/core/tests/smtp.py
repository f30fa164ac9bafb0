"""A real SMTP server on loopback (aiosmtpd) whose answer a test can switch: accept or refuse."""

import email
import socket
from email import policy

import pytest
from aiosmtpd.controller import Controller


class SwitchableHandler:
    """Keeps accepted messages; while `refuse` is set, answers DATA with that SMTP reply."""

    def __init__(self):
        self.messages = []
        self.refuse = ""
        self.unknown = set()  # recipients refused at RCPT TO

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.unknown:
            return "550 5.1.1 User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return self.refuse
        self.messages.append(email.message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def smtp_mailers(port: int) -> dict:
    return {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
        }
    }


@pytest.fixture
def smtp(settings):
    """Django's mail goes to an aiosmtpd server on 127.0.0.1; `smtp.refuse = "550 ..."` makes it refuse."""
    handler = SwitchableHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.MAILERS = smtp_mailers(controller.port)
    try:
        yield handler
    finally:
        controller.stop()
