"""Console mail as a person reads it (`EMAIL_URL=console:`, the demo and `make run`).

Django's console backend prints the MIME source: a Chinese subject comes out as
=?utf-8?b?...?= and the body as base64 or quoted-printable, so a reset or invitation link
cannot be copied from the terminal. This one prints the headers decoded and the text body as
text, in UTF-8.
"""

from email.header import decode_header, make_header

from django.core.mail.backends.console import EmailBackend as DjangoConsoleBackend

HEADERS = ("Date", "From", "To", "Cc", "Reply-To", "Subject", "Message-ID")


def _decoded(value) -> str:
    try:
        return str(make_header(decode_header(str(value))))
    except (LookupError, UnicodeDecodeError, ValueError):  # a header we cannot decode is shown as it is
        return str(value)


def readable(message) -> str:
    """Headers, the text body and a line per alternative or attachment."""
    mime = message.message()
    lines = [f"{name}: {_decoded(value)}" for name in HEADERS for value in (mime.get_all(name) or [])]
    lines += ["", message.body.rstrip("\n"), ""]
    for _content, mimetype in getattr(message, "alternatives", []) or []:
        lines.append(f"[{mimetype} alternative not shown]")
    for attachment in message.attachments:
        name = getattr(attachment, "filename", None) or (attachment[0] if isinstance(attachment, tuple) else "")
        lines.append(f"[attachment: {name or 'unnamed'}]")
    return "\n".join(lines).rstrip("\n") + "\n"


class EmailBackend(DjangoConsoleBackend):
    def write_message(self, message):
        text = readable(message) + "-" * 79 + "\n"
        try:
            self.stream.write(text)
        except UnicodeEncodeError:
            # A terminal set to ASCII (LANG=C): write the UTF-8 bytes rather than fail the delivery.
            self.stream.buffer.write(text.encode("utf-8"))
