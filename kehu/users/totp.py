"""Time-based one-time passwords (TOTP, RFC 6238 over HOTP, RFC 4226), as authenticator apps make them.

Six digits, a 30-second step, HMAC-SHA-1: what Google Authenticator, Microsoft Authenticator, 腾讯身份验证器
and the like expect from an `otpauth://totp/...` link. Only the standard library is used.
"""

import base64
import hashlib
import hmac
import secrets
import struct
import time
from urllib.parse import quote, urlencode

STEP_SECONDS = 30
DIGITS = 6
SECRET_BYTES = 20  # 160 bits, as RFC 4226 recommends for SHA-1


def new_secret() -> str:
    """A random secret as base32 without padding (32 characters), the form apps accept."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii").rstrip("=")


def _key(secret_b32: str) -> bytes:
    cleaned = secret_b32.replace(" ", "").upper()
    return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))


def hotp(key: bytes, counter: int, *, digits: int = DIGITS, digest=hashlib.sha1) -> str:
    """RFC 4226: the code for one counter value."""
    mac = hmac.new(key, struct.pack(">Q", counter), digest).digest()
    offset = mac[-1] & 0x0F
    number = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**digits).zfill(digits)


def step_at(when: float | None = None) -> int:
    """The time step (counter) a moment falls in."""
    return int((time.time() if when is None else when) // STEP_SECONDS)


def code_at(secret_b32: str, when: float | None = None) -> str:
    return hotp(_key(secret_b32), step_at(when))


def matching_step(secret_b32: str, code: str, *, when: float | None = None, window: int = 1) -> int | None:
    """The time step whose code this is, looking `window` steps either side of now (clocks drift and
    people type slowly); None when no step in the window gives it. Compared in constant time."""
    code = (code or "").replace(" ", "")
    if len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return None
    key = _key(secret_b32)
    now = step_at(when)
    found = None
    for step in range(now - window, now + window + 1):
        if hmac.compare_digest(hotp(key, step), code) and found is None:
            found = step
    return found


def provisioning_uri(secret_b32: str, *, account: str, issuer: str) -> str:
    """The otpauth:// link a QR code carries (Key Uri Format understood by authenticator apps)."""
    label = quote(f"{issuer}:{account}", safe="")
    query = urlencode({"secret": secret_b32, "issuer": issuer, "algorithm": "SHA1", "digits": DIGITS, "period": 30})
    return f"otpauth://totp/{label}?{query}"
