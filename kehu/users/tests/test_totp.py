"""The TOTP module against the RFCs' own test vectors."""

import base64
import hashlib

import pytest

from kehu.users import totp

RFC_SEED = b"12345678901234567890"  # the SHA-1 seed of RFC 4226 and RFC 6238


def test_hotp_rfc4226_vectors():
    expected = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"]
    assert [totp.hotp(RFC_SEED, counter) for counter in range(10)] == expected


@pytest.mark.parametrize(
    ("unix_time", "code"),
    [
        (59, "94287082"),
        (1111111109, "07081804"),
        (1111111111, "14050471"),
        (1234567890, "89005924"),
        (2000000000, "69279037"),
        (20000000000, "65353130"),
    ],
)
def test_totp_rfc6238_sha1_vectors(unix_time, code):
    assert totp.hotp(RFC_SEED, totp.step_at(unix_time), digits=8, digest=hashlib.sha1) == code


SECRET = base64.b32encode(RFC_SEED).decode()  # GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ


def test_six_digit_code_of_a_moment_is_the_vectors_last_six():
    assert totp.code_at(SECRET, 1111111109) == "081804"


def test_one_step_either_side_is_accepted_and_two_are_not():
    now = 1_700_000_000.0
    step = totp.step_at(now)
    key = base64.b32decode(SECRET)
    assert totp.matching_step(SECRET, totp.hotp(key, step), when=now) == step
    assert totp.matching_step(SECRET, totp.hotp(key, step - 1), when=now) == step - 1
    assert totp.matching_step(SECRET, totp.hotp(key, step + 1), when=now) == step + 1
    assert totp.matching_step(SECRET, totp.hotp(key, step - 2), when=now) is None
    assert totp.matching_step(SECRET, totp.hotp(key, step + 2), when=now) is None


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "abcdef", "１２３４５６", None])
def test_malformed_codes_match_nothing(typed):
    assert totp.matching_step(SECRET, typed, when=59) is None


def test_spaces_in_a_typed_code_are_ignored():
    assert totp.matching_step(SECRET, "081 804", when=1111111109) == totp.step_at(1111111109)


def test_new_secrets_are_random_160_bit_base32():
    first, second = totp.new_secret(), totp.new_secret()
    assert first != second
    assert len(first) == 32 and len(base64.b32decode(first)) == 20


def test_the_provisioning_link_carries_issuer_account_and_secret():
    uri = totp.provisioning_uri("ABCDEFGH", account="li.na@example.com", issuer="Kehu")
    assert uri == (
        "otpauth://totp/Kehu%3Ali.na%40example.com?secret=ABCDEFGH&issuer=Kehu&algorithm=SHA1&digits=6&period=30"
    )
