"""Outgoing mail (INT-2): rendered in the recipient's language, sent by a task after commit."""

from django.conf import settings
from django.db import transaction
from django.tasks import task
from django.template.loader import render_to_string
from django.utils import translation


@task(queue_name="email")
def send_email(subject: str, body: str, to: list[str]) -> int:
    from django.core.mail import EmailMessage

    return EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, to).send()


def render_email(template: str, context: dict, language: str | None = None) -> tuple[str, str]:
    """`template`_subject.txt and `template`_body.txt, rendered in `language`."""
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = render_to_string(f"{template}_subject.txt", context).strip()
        body = render_to_string(f"{template}_body.txt", context)
    return " ".join(subject.splitlines()), body


def queue_email(template: str, context: dict, to: list[str], language: str | None = None) -> None:
    """Send once the surrounding transaction commits (nothing is sent for a rolled-back write)."""
    subject, body = render_email(template, context, language)
    transaction.on_commit(lambda: send_email.enqueue(subject, body, to))
