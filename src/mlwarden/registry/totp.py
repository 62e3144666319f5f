"""Time-based one-time passwords (RFC 6238, on HOTP of RFC 4226), with ``hmac`` and ``hashlib`` only.

A user's seed is 20 random bytes shown once as base32 (what authenticator apps read, also as an
``otpauth://`` URI). A code is accepted for the current 30-second step and one step either side,
and never twice: the registry keeps the last step accepted per user.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import time
import urllib.parse

STEP_S = 30
DIGITS = 6
WINDOW = 1
_ALGORITHMS = {"SHA1": hashlib.sha1, "SHA256": hashlib.sha256, "SHA512": hashlib.sha512}


def hotp(key: bytes, counter: int, *, digits: int = DIGITS, algorithm: str = "SHA1") -> str:
    """RFC 4226 HOTP: dynamic truncation of HMAC(key, counter) to ``digits`` decimal digits."""
    mac = hmac.new(key, struct.pack(">Q", counter), _ALGORITHMS[algorithm]).digest()
    offset = mac[-1] & 0x0F
    code = int.from_bytes(mac[offset:offset + 4], "big") & 0x7FFFFFFF
    return str(code % 10**digits).zfill(digits)


def totp(key: bytes, at: float, *, digits: int = DIGITS, algorithm: str = "SHA1",
         step: int = STEP_S) -> str:
    """RFC 6238 TOTP at Unix time ``at`` (T0 = 0)."""
    return hotp(key, int(at // step), digits=digits, algorithm=algorithm)


def new_secret() -> str:
    """A fresh seed (160 bits, RFC 4226's recommendation) as unpadded base32."""
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii").rstrip("=")


def decode_secret(secret: str) -> bytes:
    text = secret.strip().replace(" ", "").upper()
    return base64.b32decode(text + "=" * (-len(text) % 8))


def provisioning_uri(secret: str, user: str, issuer: str = "mlwarden") -> str:
    label = urllib.parse.quote(f"{issuer}:{user}")
    query = urllib.parse.urlencode({"secret": secret, "issuer": issuer, "digits": DIGITS,
                                    "period": STEP_S, "algorithm": "SHA1"})
    return f"otpauth://totp/{label}?{query}"


def match_step(secret: str, code: str, *, now: float | None = None, after: int | None = None
               ) -> int | None:
    """The time step ``code`` is valid for (within the window, later than ``after``), else None.

    Every candidate is compared in constant time."""
    code = code.strip()
    if len(code) != DIGITS or not code.isdigit():
        return None
    key = decode_secret(secret)
    current = int((time.time() if now is None else now) // STEP_S)
    found = None
    for step in range(current - WINDOW, current + WINDOW + 1):
        if hmac.compare_digest(hotp(key, step), code) and (after is None or step > after):
            found = step
    return found
