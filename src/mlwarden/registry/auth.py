"""Users, roles and API tokens: who the caller is, and what each role may do.

A token is ``mlw_<id>_<secret>``: the id finds the row, the 32-byte random secret is never stored —
only its scrypt hash with a per-token salt — and is compared in constant time. Tokens are shown
once, when created.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from mlwarden.core.errors import DeniedError
from mlwarden.registry.models import Role

TOKEN_PREFIX = "mlw_"  # noqa: S105 - a prefix, not a secret
INVITE_PREFIX = "mlwi_"
"""One-time enrolment codes (:meth:`Registry.invite`) look like tokens with this prefix."""
_SHAPE = r"(?P<id>[0-9a-f]{12})_(?P<secret>[A-Za-z0-9_-]{43})$"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
_DUMMY_SALT = b"\0" * 16


class Action(str, enum.Enum):
    """Every permission-checked registry action."""

    READ = "read"
    PULL = "pull"
    PUSH = "push"
    ATTACH = "attach"
    PROMOTE = "promote"
    ROLLBACK = "rollback"
    APPROVE = "approve"
    MANAGE_USERS = "manage-users"
    SET_POLICY = "set-policy"
    AUDIT = "audit"
    GATE = "gate"
    BLOCK = "block"


PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.READ: frozenset(Role),
    Action.PULL: frozenset({Role.ADMIN, Role.PUBLISHER, Role.APPROVER, Role.READER}),
    Action.PUSH: frozenset({Role.ADMIN, Role.PUBLISHER}),
    Action.ATTACH: frozenset({Role.ADMIN, Role.PUBLISHER}),
    Action.PROMOTE: frozenset({Role.ADMIN, Role.PUBLISHER}),
    Action.ROLLBACK: frozenset({Role.ADMIN, Role.PUBLISHER}),
    Action.APPROVE: frozenset({Role.ADMIN, Role.APPROVER}),
    Action.MANAGE_USERS: frozenset({Role.ADMIN}),
    Action.SET_POLICY: frozenset({Role.ADMIN}),
    Action.AUDIT: frozenset({Role.ADMIN, Role.AUDITOR}),
    Action.GATE: frozenset({Role.ADMIN, Role.PUBLISHER, Role.APPROVER, Role.AUDITOR}),
    Action.BLOCK: frozenset({Role.ADMIN, Role.APPROVER}),
}


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller."""

    name: str
    roles: frozenset[str]
    token_id: str | None = None

    def require(self, action: Action) -> None:
        """Raise :class:`DeniedError` (exit 1) unless one of the caller's roles allows ``action``."""
        allowed = PERMISSIONS[action]
        if not any(Role(r) in allowed for r in self.roles if r in Role._value2member_map_):
            need = " or ".join(sorted(r.value for r in allowed))
            have = ", ".join(sorted(self.roles)) or "no role"
            raise DeniedError(f"user {self.name!r} ({have}) may not {action.value}; "
                              f"that needs the role {need}")


def parse_roles(values: list[str] | tuple[str, ...]) -> frozenset[str]:
    from mlwarden.core.errors import UsageError

    out: set[str] = set()
    for value in values:
        for part in value.split(","):
            name = part.strip().lower()
            if not name:
                continue
            if name not in Role._value2member_map_:
                raise UsageError(f"unknown role {name!r} (roles: "
                                 f"{', '.join(r.value for r in Role)})")
            out.add(name)
    if not out:
        raise UsageError("give at least one role")
    return frozenset(out)


def hash_secret(secret: str, salt: bytes) -> bytes:
    return hashlib.scrypt(secret.encode("ascii"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
                          dklen=32)


@dataclass(frozen=True, slots=True)
class NewToken:
    """A freshly made token: ``value`` is shown once; the rest is what the database keeps."""

    token_id: str
    value: str
    salt: bytes
    secret_hash: bytes


def new_token(prefix: str = TOKEN_PREFIX) -> NewToken:
    token_id = secrets.token_hex(6)
    secret = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode("ascii")
    salt = secrets.token_bytes(16)
    return NewToken(token_id, f"{prefix}{token_id}_{secret}", salt, hash_secret(secret, salt))


def split_token(value: str, prefix: str = TOKEN_PREFIX) -> tuple[str, str] | None:
    """``(id, secret)`` of a well-formed token (or invite code, by ``prefix``), else ``None``."""
    match = re.match("^" + re.escape(prefix) + _SHAPE, value.strip())
    return (match["id"], match["secret"]) if match else None


def check_secret(secret: str, salt: bytes | None, expected: bytes | None) -> bool:
    """Constant-time check; hashes even for an unknown id so timing does not tell ids apart."""
    computed = hash_secret(secret, salt if salt is not None else _DUMMY_SALT)
    if expected is None:
        return False
    return hmac.compare_digest(computed, expected)
