"""TOTP against the test vectors of RFC 6238 appendix B (and RFC 4226 appendix D for HOTP)."""

from __future__ import annotations

import pytest

from mlwarden.registry import totp

SEEDS = {"SHA1": b"12345678901234567890",
         "SHA256": b"12345678901234567890123456789012",
         "SHA512": b"1234567890123456789012345678901234567890123456789012345678901234"}

RFC6238 = [  # (time, SHA1, SHA256, SHA512), 8 digits
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]


@pytest.mark.parametrize(("at", "sha1", "sha256", "sha512"), RFC6238)
def test_rfc6238_vectors(at: int, sha1: str, sha256: str, sha512: str) -> None:
    for algorithm, expected in (("SHA1", sha1), ("SHA256", sha256), ("SHA512", sha512)):
        assert totp.totp(SEEDS[algorithm], at, digits=8, algorithm=algorithm) == expected


def test_rfc4226_hotp_vectors() -> None:
    expected = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583",
                "399871", "520489"]
    assert [totp.hotp(SEEDS["SHA1"], c) for c in range(10)] == expected


def test_match_step_window_and_replay() -> None:
    secret = totp.new_secret()
    key = totp.decode_secret(secret)
    now = 1_700_000_000.0
    code = totp.totp(key, now)
    step = totp.match_step(secret, code, now=now)
    assert step == int(now // 30)
    assert totp.match_step(secret, code, now=now + 30) == step  # one step late is fine
    assert totp.match_step(secret, code, now=now + 90) is None  # too late
    assert totp.match_step(secret, code, now=now, after=step) is None  # never twice
    assert totp.match_step(secret, "12345", now=now) is None
    assert totp.match_step(secret, "abcdef", now=now) is None
    assert totp.provisioning_uri(secret, "ann").startswith("otpauth://totp/mlwarden%3Aann?secret=")
