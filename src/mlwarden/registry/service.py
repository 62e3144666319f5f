"""The registry API: every action checks the caller's role and appends to the audit log.

Each write is one transaction holding both the change and its audit entry, so a crash loses
nothing committed and leaves no half entry. Large bytes go to the content-addressed store before
the transaction (an orphaned blob after a crash is harmless; a row naming a missing blob is not).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mlwarden.core.errors import (
    ConfigError,
    DeniedError,
    InputError,
    MlwardenError,
    UsageError,
    VerificationError,
)
from mlwarden.core.identity import same_artifact
from mlwarden.registry import audit, auth, db, treehead
from mlwarden.registry import key as registry_key
from mlwarden.registry.config import RegistryConfig, resolve
from mlwarden.registry.manifest import Manifest, build
from mlwarden.registry.models import (
    ApiToken,
    Approval,
    Attestation,
    AttestationKind,
    AuditTreeHead,
    Invite,
    ModelVersion,
    RegisteredModel,
    RegistryMeta,
    Stage,
    StageEvent,
    StagePolicy,
    User,
    UserRole,
    VersionBlock,
)
from mlwarden.registry.store import ArtifactStore

if TYPE_CHECKING:
    from mlwarden.sign.keys import EcdsaSigner, EcdsaVerifier

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$")
_USER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$")
PUBLIC_KEY_META = "registry_public_key"
MAX_ATTESTATION_BYTES = 16 << 20
ROLLBACK_PREFIX = "rollback: "
INVITE_TTL_S = 7 * 24 * 3600
MFA_REQUIRED_META = "mfa_required"
APPROVER_ROLES = frozenset({"approver", "admin"})

# Stage transitions a promotion may make; rollback has its own path.
TRANSITIONS: dict[Stage, frozenset[Stage]] = {
    Stage.NONE: frozenset({Stage.STAGING, Stage.ARCHIVED}),
    Stage.STAGING: frozenset({Stage.PRODUCTION, Stage.ARCHIVED}),
    Stage.PRODUCTION: frozenset({Stage.ARCHIVED}),
    Stage.ARCHIVED: frozenset({Stage.STAGING}),
}
GATED_STAGES = frozenset({Stage.STAGING, Stage.PRODUCTION})


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """A version as the CLI shows it."""

    model: str
    version: str
    digest: str
    kind: str
    size: int
    stage: str
    published_by: str
    created_at: str
    attestations: tuple[dict[str, str], ...] = ()
    approvals: tuple[dict[str, str], ...] = ()
    history: tuple[dict[str, str], ...] = ()

    @property
    def ref(self) -> str:
        return f"{self.model}@{self.version}"

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "version": self.version, "digest": self.digest,
                "kind": self.kind, "size": self.size, "stage": self.stage,
                "published_by": self.published_by, "created_at": self.created_at,
                "attestations": list(self.attestations), "approvals": list(self.approvals),
                "history": list(self.history)}


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the gate reads about a stored version (materialised and verified in ``path``)."""

    ref: str
    digest: str
    path: Path
    publisher: str
    attestations: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    approvers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Stage → names of approvers whose approval still counts (re-validated now)."""
    discounted: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Stage → ``"name (why)"`` of approvals that no longer count."""
    blocked: str | None = None
    """Why the version is barred (``registry block``), or None."""


@dataclass(frozen=True, slots=True)
class _Stored:
    """Where a version's bytes are: enough to materialise it without holding a transaction."""

    ref: str
    digest: str
    manifest_digest: str

    @classmethod
    def of(cls, v: ModelVersion) -> _Stored:
        return cls(v.ref, v.digest, v.manifest_digest)


@dataclass(frozen=True, slots=True)
class StoredPolicy:
    """A stage policy as the registry stores it: its text (trusted keys inlined) and digest.

    The registry only stores it; :mod:`mlwarden.gate.promotion` parses, checks and applies it."""

    stage: str
    text: str
    digest: str


@dataclass(frozen=True, slots=True)
class Materialised:
    """A version's files, every byte verified against the store, under ``root``."""

    ref: str
    digest: str
    """The version's registered digest (the model digest, :mod:`mlwarden.core.identity`)."""
    stage: str
    root: Path
    attestations: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    blocked: str | None = None
    """Why the version is barred (``registry block``), or None."""


def _info(v: ModelVersion, *, detail: bool = False, history: Sequence[StageEvent] = ()) -> VersionInfo:
    atts = tuple({"kind": a.kind, "digest": a.digest, "added_by": a.added_by,
                  "added_at": a.added_at} for a in v.attestations) if detail else ()
    apps = tuple({"approver": a.approver, "stage": a.stage, "comment": a.comment,
                  "at": a.created_at} for a in v.approvals) if detail else ()
    hist = tuple({"from": e.from_stage, "to": e.to_stage, "actor": e.actor, "reason": e.reason,
                  "at": e.created_at} for e in history)
    return VersionInfo(v.model.name, v.version, v.digest, v.kind, v.size, v.stage, v.published_by,
                       v.created_at, atts, apps, hist)


def split_ref(ref: str) -> tuple[str, str | None]:
    """``NAME@VERSION`` → (name, version); ``NAME`` → (name, None)."""
    name, sep, version = ref.partition("@")
    segments = name.split("/")
    if (not _NAME.match(name) or any(seg in ("", ".", "..") for seg in segments)
            or (sep and not _VERSION.match(version))):
        raise UsageError(f"not a model reference: {ref!r} (use NAME or NAME@VERSION)")
    return name, (version if sep else None)


class Registry:
    """A registry opened on a database and a store; migrations run on open.

    With ``create=False`` (every CLI command but ``registry init``) a database that does not
    exist yet is an error (exit 2) and nothing is created: a typo in ``--db`` never leaves an
    empty registry behind."""

    def __init__(self, config: RegistryConfig, *, create: bool = True) -> None:
        self.config = config
        if not create:
            _require_existing(config.db_url)
        self.engine = db.make_engine(config.db_url)
        if not create and db.current_revision(self.engine) is None:
            self.engine.dispose()
            raise ConfigError("no registry in this database (it has no registry tables)",
                              path=db.safe_url(self.engine),
                              advice="check --db/--home, or run 'mlwarden registry init'")
        db.upgrade(self.engine)
        self.store = ArtifactStore(config.store_url)
        self._signer: EcdsaSigner | None = None
        self.key_passphrase: bytes | None = None
        self._actor: str | None = None  # who the current action is for (audits its denial)
        """The registry key's passphrase (else ``$MLWARDEN_KEY_PASSPHRASE``); see :mod:`.key`."""

    @classmethod
    def open(cls, home: str | Path | None = None, db_url: str | None = None,
             store: str | None = None, *, create: bool = True) -> Registry:
        return cls(resolve(home, db_url, store), create=create)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def transaction(self) -> contextlib.AbstractContextManager[Session]:
        return self._write_auditing_denials()

    # -- reg-audit: a denial inside a write transaction is audited after its rollback -----------
    @contextlib.contextmanager
    def _write_auditing_denials(self) -> Iterator[Session]:
        try:
            with db.transaction(self.engine) as s:
                yield s
        except DeniedError as exc:
            if not getattr(exc, "audited", False):
                self._record_denial(self._actor or "(unknown)", "", exc)
            raise

    def _record_denial(self, actor: str, subject: str, exc: DeniedError,
                       details: Mapping[str, Any] | None = None) -> None:
        """Append an ``access.denied`` entry in a transaction of its own (the action's rolled
        back); a failure to record it never hides the denial itself."""
        try:
            with db.transaction(self.engine) as s:
                self._audit(s, actor, "access.denied", subject,
                            {**(details or {}), "message": exc.message})
        except MlwardenError:
            pass
        exc.audited = True  # type: ignore[attr-defined]

    def reading(self) -> contextlib.AbstractContextManager[Session]:
        """A read-only snapshot (never blocks or waits for writers on SQLite)."""
        return db.transaction(self.engine, read_only=True)

    # -- the registry key (signs audit checkpoints) ---------------------------------------
    def signer(self) -> EcdsaSigner | None:
        """The registry's signing key, if this machine holds it (and, when it is encrypted, its
        passphrase: :attr:`key_passphrase` or ``$MLWARDEN_KEY_PASSPHRASE``)."""
        if self._signer is None and self.config.key_path.is_file():
            from mlwarden.sign.keys import EcdsaSigner

            key = registry_key.load(self.config.key_path, self.key_passphrase)
            if key is not None:
                self._signer = EcdsaSigner(key)
        return self._signer

    def verifier(self, session: Session) -> EcdsaVerifier | None:
        from mlwarden.sign.keys import EcdsaVerifier, parse_public_key

        row = session.get(RegistryMeta, PUBLIC_KEY_META)
        if row is None:
            return None
        verifier = EcdsaVerifier(parse_public_key(row.value.encode(), source="registry_meta"))
        local = self.signer()
        if local is not None and local.keyid != verifier.keyid:
            raise VerificationError("the registry's public key in the database does not match "
                                    "its private key", path=self.config.key_path,
                                    advice="the database key was replaced: treat the audit log "
                                           "as compromised")
        return verifier

    def _audit(self, session: Session, actor: str, action: str, subject: str,
               details: Mapping[str, Any] | None = None) -> None:
        audit.append(session, actor=actor, action=action, subject=subject, details=details,
                     signer=self.signer())

    def authorize(self, p: auth.Principal, action: auth.Action) -> None:
        """Check the caller's role; a refusal is itself recorded in the audit log."""
        self._actor = p.name
        try:
            p.require(action)
        except DeniedError as exc:
            self._record_denial(p.name, action.value, exc, {"roles": sorted(p.roles)})
            raise

    def record(self, principal: auth.Principal | str, action: str, subject: str,
               details: Mapping[str, Any] | None = None) -> None:
        """Append an event from another component (a gate decision, a serving event)."""
        actor = principal if isinstance(principal, str) else principal.name
        with self.transaction() as s:
            self._audit(s, actor, action, subject, details)

    # -- bootstrap and identity -----------------------------------------------------------
    def init(self, admin: str, *, allow_insecure_key: bool = False) -> str:
        """Create the first admin and the registry key; returns the admin's token (shown once).

        The key is encrypted with the passphrase (:attr:`key_passphrase` or
        ``$MLWARDEN_KEY_PASSPHRASE``); without one it is refused unless ``allow_insecure_key``.
        """
        from mlwarden.core.atomic import atomic_write_bytes
        from mlwarden.sign.keys import EcdsaSigner, generate_private_key, private_pem, public_pem

        _check_user_name(admin)
        passphrase = registry_key.passphrase(self.key_passphrase)
        if passphrase is None and not allow_insecure_key and not self.config.key_path.is_file():
            raise UsageError("the registry key needs a passphrase to be encrypted at rest",
                             advice=f"set {registry_key.PASSPHRASE_ENV} or use --passphrase-file "
                                    "(--allow-insecure-key stores it unencrypted)")
        with self.transaction() as s:
            if s.scalar(select(func.count()).select_from(User)):
                raise UsageError("the registry is already initialised",
                                  advice="ask an admin for an invite (mlwarden registry user invite)")
            if self.signer() is None:
                key = generate_private_key("P-256")
                atomic_write_bytes(self.config.key_path, private_pem(key, passphrase), mode=0o600)
                self._signer = EcdsaSigner(key)
            signer = self.signer()
            assert signer is not None
            atomic_write_bytes(self.config.public_key_path, public_pem(signer.public_key),
                               mode=0o644)  # reg-audit: pinned outside the database
            s.merge(RegistryMeta(key=PUBLIC_KEY_META,
                                 value=public_pem(signer.public_key).decode("ascii")))
            token = self._create_user(s, admin, frozenset({"admin"}), created_by=admin)
            self._audit(s, admin, "registry.init", admin,
                        {"roles": ["admin"], "key_id": signer.keyid})
        return token

    def _create_user(self, s: Session, name: str, roles: frozenset[str], created_by: str) -> str:
        user = User(name=name, created_at=audit.now_iso(), created_by=created_by,
                    roles=[UserRole(role=r) for r in sorted(roles)])
        s.add(user)
        try:
            s.flush()
        except IntegrityError:
            raise InputError(f"user {name!r} already exists") from None
        return self._issue_token(s, user)

    def _issue_token(self, s: Session, user: User) -> str:
        tok = auth.new_token()
        s.add(ApiToken(id=tok.token_id, user_id=user.id, salt=tok.salt,
                       secret_hash=tok.secret_hash, created_at=audit.now_iso()))
        s.flush()
        return tok.value

    def authenticate(self, token: str | None) -> auth.Principal:
        if not token:
            raise UsageError("no API token given", advice="set MLWARDEN_TOKEN or pass --token; "
                                                           "'mlwarden registry init' makes the first")
        parts = auth.split_token(token)
        with self.reading() as s:
            if not s.scalar(select(func.count()).select_from(User)):
                raise ConfigError("the registry is not initialised (it has no users)",
                                  path=db.safe_url(self.engine),
                                  advice="run 'mlwarden registry init', or point --db/--home at "
                                         "the registry")
            row = s.get(ApiToken, parts[0]) if parts else None
            ok = auth.check_secret(parts[1] if parts else "x", row.salt if row else None,
                                   row.secret_hash if row else None)
            if ok and row is not None and row.revoked_at is None:
                return auth.Principal(row.user.name, row.user.role_names, row.id)
            revoked = ok and row is not None
        with self.transaction() as s:  # recorded (the token id only, never the secret)
            self._audit(s, "(unauthenticated)", "auth.failed", parts[0] if parts else "",
                        {"reason": "revoked" if revoked else "invalid"})
        raise DeniedError("invalid or revoked API token")

    def invite(self, p: auth.Principal, name: str, roles: frozenset[str] | None = None) -> str:
        """A one-time code with which ``name`` enrols (:meth:`enrol`) and gets their own token.

        A new user is created with ``roles``; an existing user (a lost token) keeps theirs. The
        admin sees the code, never the token: whoever enrols is recorded, and an approver does
        not count for versions published or promoted by whoever invited them."""
        self.authorize(p, auth.Action.MANAGE_USERS)
        _check_user_name(name)
        with self.transaction() as s:
            user = s.execute(select(User).where(User.name == name)).scalar_one_or_none()
            if user is None:
                if not roles:
                    raise UsageError(f"a new user needs --role ({name!r} does not exist yet)")
                user = User(name=name, created_at=audit.now_iso(), created_by=p.name,
                            roles=[UserRole(role=r) for r in sorted(roles)])
                s.add(user)
                s.flush()
                self._audit(s, p.name, "user.add", name, {"roles": sorted(roles)})
            elif roles and frozenset(roles) != user.role_names:
                raise UsageError(f"{name!r} exists with roles {', '.join(sorted(user.role_names))}; "
                                 "change them with 'registry user roles'")
            code = auth.new_token(prefix=auth.INVITE_PREFIX)
            expires = _iso_after(INVITE_TTL_S)
            s.add(Invite(id=code.token_id, user_id=user.id, salt=code.salt,
                         secret_hash=code.secret_hash, created_by=p.name,
                         created_at=audit.now_iso(), expires_at=expires))
            s.flush()
            self._audit(s, p.name, "user.invite", name,
                        {"invite_id": code.token_id, "expires_at": expires})
        return code.value

    def add_user(self, p: auth.Principal, name: str, roles: frozenset[str]) -> str:
        """Deprecated name of :meth:`invite` (returns the invite code, not a token)."""
        return self.invite(p, name, roles)

    def enrol(self, code: str) -> tuple[str, str]:
        """Spend a one-time invite code: ``(user name, the user's new API token)``."""
        parts = auth.split_token(code, prefix=auth.INVITE_PREFIX)
        with self.transaction() as s:
            row = s.get(Invite, parts[0]) if parts else None
            ok = auth.check_secret(parts[1] if parts else "x", row.salt if row else None,
                                   row.secret_hash if row else None)
            why = ("invalid" if not ok or row is None else "used" if row.used_at is not None
                   else "expired" if row.expires_at < audit.now_iso() else None)
            if why is None and row is not None:
                row.used_at = audit.now_iso()
                token = self._issue_token(s, row.user)
                self._audit(s, row.user.name, "user.enrol", row.user.name,
                            {"invite_id": row.id, "token_id": token.split("_")[1],
                             "invited_by": row.created_by})
                return row.user.name, token
        with self.transaction() as s:
            self._audit(s, "(unauthenticated)", "auth.failed", parts[0] if parts else "",
                        {"reason": f"invite {why}"})
        raise DeniedError(f"invalid, used or expired invite code ({why})",
                          advice="ask an admin for a new one: mlwarden registry user invite NAME")

    # -- second factor (TOTP, RFC 6238) ---------------------------------------------------------
    def mfa_enrol(self, p: auth.Principal, otp: str | None = None) -> str:
        """Give the caller a TOTP seed (returned once). Replacing an existing one needs a code
        from it."""
        from mlwarden.registry import totp

        self.authorize(p, auth.Action.READ)
        with self.reading() as s:
            enrolled = self._user(s, p.name).totp_secret is not None
        if enrolled:
            self.second_factor(p, otp, "replacing the second factor")
        with self.transaction() as s:
            user = self._user(s, p.name)
            user.totp_secret = totp.new_secret()
            user.totp_last = None
            self._audit(s, p.name, "user.mfa.enrol", p.name)
            return user.totp_secret

    def mfa_require(self, p: auth.Principal, required: bool, otp: str | None = None) -> None:
        """Require (or stop requiring) a second factor of every user for approve, production
        promotion and role changes."""
        self.authorize(p, auth.Action.MANAGE_USERS)
        self.second_factor(p, otp, "change the second-factor requirement")
        with self.transaction() as s:
            s.merge(RegistryMeta(key=MFA_REQUIRED_META, value="1" if required else "0"))
            self._audit(s, p.name, "registry.mfa", "", {"required": required})

    def second_factor(self, p: auth.Principal, otp: str | None, purpose: str) -> None:
        """Check the caller's TOTP code for ``purpose`` when they enrolled one (or the registry
        requires one); a refusal is audited."""
        try:
            with self.transaction() as s:
                user = self._user(s, p.name)
                meta = s.get(RegistryMeta, MFA_REQUIRED_META)
                if user.totp_secret is None:
                    if meta is not None and meta.value == "1":
                        raise DeniedError(f"{purpose} needs a second factor and {p.name!r} has "
                                          "none", advice="enrol one: mlwarden registry mfa enrol")
                    return
                self._check_otp(user, otp, purpose)
        except DeniedError as exc:
            with self.transaction() as s:
                self._audit(s, p.name, "access.denied", "mfa",
                            {"purpose": purpose, "message": exc.message})
            raise

    @staticmethod
    def _check_otp(user: User, otp: str | None, purpose: str) -> None:
        from mlwarden.registry import totp

        assert user.totp_secret is not None
        if not otp:
            raise DeniedError(f"{purpose} needs a one-time code from {user.name!r}'s "
                              "authenticator", advice="pass --otp CODE")
        step = totp.match_step(user.totp_secret, otp, after=user.totp_last)
        if step is None:
            raise DeniedError("wrong, expired or already used one-time code")
        user.totp_last = step

    def set_roles(self, p: auth.Principal, name: str, roles: frozenset[str],
                  otp: str | None = None) -> None:
        self.authorize(p, auth.Action.MANAGE_USERS)
        self.second_factor(p, otp, "a role change")
        with self.transaction() as s:
            user = self._user(s, name)
            before = sorted(user.role_names)
            if name == p.name and "admin" not in roles:
                raise DeniedError("an admin cannot remove their own admin role")
            user.roles = [UserRole(role=r) for r in sorted(roles)]
            s.flush()
            self._audit(s, p.name, "user.roles", name, {"before": before, "after": sorted(roles)})

    def create_token(self, p: auth.Principal, name: str | None = None) -> str:
        """Another token for the caller. Nobody, an admin included, gets a token for someone else
        (that is what invites are for: :meth:`invite`)."""
        name = name or p.name
        if name != p.name:
            with self.transaction() as s:
                self._audit(s, p.name, "access.denied", "token.create",
                            {"for": name, "message": "a token for another user"})
            raise DeniedError(f"{p.name!r} cannot create a token for {name!r}: nobody holds "
                              "another user's token",
                              advice=f"invite them instead: mlwarden registry user invite {name}")
        with self.transaction() as s:
            token = self._issue_token(s, self._user(s, name))
            self._audit(s, p.name, "token.create", name, {"token_id": token.split("_")[1]})
        return token

    def revoke_token(self, p: auth.Principal, token_id: str) -> None:
        self._actor = p.name
        with self.reading() as s:  # reg-audit: authorise before the write lock, never inside it
            found = s.get(ApiToken, token_id)
            owner = found.user.name if found is not None else None
        if owner is None:
            raise InputError(f"no token with id {token_id!r}")
        if owner != p.name:
            self.authorize(p, auth.Action.MANAGE_USERS)
        with self.transaction() as s:
            row = s.get(ApiToken, token_id)
            if row is None or row.user.name != owner:
                raise InputError(f"no token with id {token_id!r}")
            row.revoked_at = audit.now_iso()
            self._audit(s, p.name, "token.revoke", row.user.name, {"token_id": token_id})

    def users(self, p: auth.Principal) -> list[dict[str, Any]]:
        self.authorize(p, auth.Action.MANAGE_USERS)
        with self.reading() as s:
            out = []
            for u in s.execute(select(User).order_by(User.name)).scalars():
                tokens = s.execute(select(ApiToken).where(ApiToken.user_id == u.id)).scalars()
                out.append({"name": u.name, "roles": sorted(u.role_names),
                            "created_at": u.created_at,
                            "tokens": [{"id": t.id, "revoked": t.revoked_at is not None}
                                       for t in tokens]})
            return out

    @staticmethod
    def _user(s: Session, name: str) -> User:
        user = s.execute(select(User).where(User.name == name)).scalar_one_or_none()
        if user is None:
            raise InputError(f"unknown user {name!r}")
        return user

    # -- models and versions ----------------------------------------------------------------
    def _version(self, s: Session, ref: str, stage: str | None = None) -> ModelVersion:
        name, label = split_ref(ref)
        model = s.execute(select(RegisteredModel).where(RegisteredModel.name == name)
                          ).scalar_one_or_none()
        if model is None:
            raise InputError(f"unknown model {name!r}", advice="see 'mlwarden registry list'")
        q = select(ModelVersion).where(ModelVersion.model_id == model.id)
        if label is not None:
            v = s.execute(q.where(ModelVersion.version == label)).scalar_one_or_none()
            if v is None:
                raise InputError(f"model {name!r} has no version {label!r}")
            return v
        if stage is not None:
            if stage not in {st.value for st in Stage}:
                raise UsageError(f"--stage: unknown stage {stage!r} (stages: "
                                 f"{', '.join(st.value for st in Stage)})")
            v = s.execute(q.where(ModelVersion.stage == stage).order_by(ModelVersion.id.desc())
                          ).scalars().first()
            if v is None:
                raise InputError(f"no version of {name!r} is in {stage}")
            return v
        v = s.execute(q.order_by(ModelVersion.id.desc())).scalars().first()
        if v is None:
            raise InputError(f"model {name!r} has no versions")
        return v

    def push(self, p: auth.Principal, path: Path, model: str, version: str | None = None,
             attachments: Mapping[AttestationKind, Sequence[Path]] | None = None) -> VersionInfo:
        """Store ``path`` and register it as a new version of ``model`` (created if new)."""
        self.authorize(p, auth.Action.PUSH)
        split_ref(model if version is None else f"{model}@{version}")
        texts = [(kind, _read_attestation(f, kind)) for kind, files in (attachments or {}).items()
                 for f in files]
        manifest = build(path, self.store.put_file)
        manifest_digest = self.store.put_bytes(manifest.to_json())
        self.store.sync()  # every object durable before a row names it
        with self.transaction() as s:
            m = _lock_model(s, model)  # versions of one model are numbered one at a time
            if m is None:
                m = RegisteredModel(name=model, created_at=audit.now_iso(), created_by=p.name)
                s.add(m)
                s.flush()
                self._audit(s, p.name, "model.create", model)
            same = s.execute(select(ModelVersion).where(ModelVersion.model_id == m.id,
                                                        ModelVersion.digest == manifest.digest)
                             ).scalar_one_or_none()
            if same is not None:
                raise InputError(f"this content ({manifest.digest}) is already registered as "
                                 f"{model}@{same.version}", path=path)
            if version is None:
                count = s.scalar(select(func.count()).select_from(ModelVersion)
                                 .where(ModelVersion.model_id == m.id)) or 0
                version = str(count + 1)
            clash = s.execute(select(ModelVersion).where(ModelVersion.model_id == m.id,
                                                         ModelVersion.version == version)
                              ).scalar_one_or_none()
            if clash is not None:
                raise InputError(f"{model}@{version} already exists with digest {clash.digest}; "
                                 "a version's content never changes", path=path,
                                 advice="push it under a new version")
            v = ModelVersion(model_id=m.id, version=version, digest=manifest.digest,
                             manifest_digest=manifest_digest, kind=manifest.kind,
                             size=manifest.size, stage=Stage.NONE.value, published_by=p.name,
                             created_at=audit.now_iso())
            s.add(v)
            s.flush()
            for kind, text in texts:
                self._attach(s, p, v, kind, text)
            self._audit(s, p.name, "version.push", f"{model}@{version}",
                        {"digest": manifest.digest, "kind": manifest.kind, "size": manifest.size,
                         "files": len(manifest.files),
                         "attestations": [k.value for k, _ in texts]})
            s.refresh(v)
            return _info(v, detail=True)

    def _attach(self, s: Session, p: auth.Principal, v: ModelVersion, kind: AttestationKind,
                text: str) -> None:
        digest = "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
        s.add(Attestation(version_id=v.id, kind=kind.value, digest=digest, content=text,
                          added_by=p.name, added_at=audit.now_iso()))
        s.flush()
        self._audit(s, p.name, "version.attest", f"{v.model.name}@{v.version}",
                    {"kind": kind.value, "digest": digest})

    def attach(self, p: auth.Principal, ref: str, kind: AttestationKind, path: Path) -> None:
        self.authorize(p, auth.Action.ATTACH)
        text = _read_attestation(path, kind)
        with self.transaction() as s:
            self._attach(s, p, self._version(s, ref), kind, text)

    def list_versions(self, p: auth.Principal, model: str | None = None) -> list[VersionInfo]:
        self.authorize(p, auth.Action.READ)
        with self.reading() as s:
            q = select(ModelVersion).join(RegisteredModel)
            if model is not None:
                split_ref(model)
                if s.execute(select(RegisteredModel).where(RegisteredModel.name == model)
                             ).scalar_one_or_none() is None:
                    raise InputError(f"unknown model {model!r}")
                q = q.where(RegisteredModel.name == model)
            rows = s.execute(q.order_by(RegisteredModel.name, ModelVersion.id)).scalars().all()
            return [_info(v) for v in rows]

    def show(self, p: auth.Principal, ref: str) -> VersionInfo:
        self.authorize(p, auth.Action.READ)
        with self.reading() as s:
            v = self._version(s, ref)
            events = s.execute(select(StageEvent).where(StageEvent.version_id == v.id)
                               .order_by(StageEvent.id)).scalars().all()
            return _info(v, detail=True, history=events)

    # -- evidence, pull -----------------------------------------------------------------------
    def _manifest(self, v: _Stored) -> Manifest:
        manifest = Manifest.from_json(self.store.read_verified(v.manifest_digest),
                                      source=f"{v.ref} manifest")
        if not same_artifact(manifest.digest, v.digest):
            raise VerificationError(f"{v.ref}: stored manifest digest {manifest.digest} differs "
                                    f"from the registered digest {v.digest}")
        return manifest

    def _materialise(self, v: _Stored, into: Path) -> Path:
        """Write the version's files under ``into`` (verifying every byte); return the root."""
        manifest = self._manifest(v)
        root = into / manifest.name
        if manifest.kind == "file":
            self.store.copy_out(manifest.files[0].digest, root)
        else:
            for f in manifest.files:
                self.store.copy_out(f.digest, root / f.path)
        return root

    @contextlib.contextmanager
    def evidence(self, p: auth.Principal, ref: str, *, promoter: str | None = None
                 ) -> Iterator[Evidence]:
        """The version's files (verified, in a temporary folder) and its attestations.

        Approvals are re-validated now (:func:`_approval_problem`); ``promoter``, when given, is
        the user about to move the version, whose own approval never counts."""
        self.authorize(p, auth.Action.READ)
        with self.reading() as s:
            v = self._version(s, ref)
            atts: dict[str, list[str]] = {}
            for a in v.attestations:
                atts.setdefault(a.kind, []).append(a.content)
            approvers, discounted = _valid_approvals(s, v, promoter)
            stored, publisher = _Stored.of(v), v.published_by
            blocked = _block_reason(s, v)
        with tempfile.TemporaryDirectory(prefix="mlwarden-gate-") as tmp:
            root = self._materialise(stored, Path(tmp))
            yield Evidence(stored.ref, stored.digest, root, publisher,
                           {k: tuple(x) for k, x in atts.items()}, approvers, discounted,
                           blocked)

    def materialise(self, p: auth.Principal, ref: str, into: Path, *, stage: str | None = None,
                    check: Callable[[str, str, str | None], None] | None = None
                    ) -> Materialised:
        """Write the version's files under ``into`` (every byte verified against its stored
        digest) and return them with the version's attestations; for a verified pull.

        ``check(ref, stage, blocked)`` runs on the resolved version before any byte is written
        (it raises to refuse)."""
        self.authorize(p, auth.Action.PULL)
        with self.reading() as s:
            v = self._version(s, ref, stage)
            stored, version_stage = _Stored.of(v), v.stage
            atts: dict[str, list[str]] = {}
            for a in v.attestations:
                atts.setdefault(a.kind, []).append(a.content)
            blocked = _block_reason(s, v)
        if check is not None:
            check(stored.ref, version_stage, blocked)
        root = self._materialise(stored, into)
        return Materialised(stored.ref, stored.digest, version_stage, root,
                            {k: tuple(x) for k, x in atts.items()}, blocked)

    # -- stage policies (stored here; parsed and applied by mlwarden.gate.promotion) -------------
    def store_stage_policy(self, p: auth.Principal, stage: str, text: str, digest: str, *,
                           name: str, source: str) -> None:
        """Store the (already checked) policy text that gates ``stage``; recorded in the audit."""
        self.authorize(p, auth.Action.SET_POLICY)
        st = gated_stage(stage)
        with self.transaction() as s:
            s.merge(StagePolicy(stage=st.value, text=text, digest=digest, set_by=p.name,
                                set_at=audit.now_iso()))
            self._audit(s, p.name, "policy.set", st.value,
                        {"policy": name, "digest": digest, "source": source})

    def stored_stage_policy(self, stage: str) -> StoredPolicy | None:
        """The policy text stored for ``stage``, or None when none was set."""
        st = gated_stage(stage)
        with self.reading() as s:
            row = s.get(StagePolicy, st.value)
            return StoredPolicy(row.stage, row.text, row.digest) if row is not None else None

    def approve(self, p: auth.Principal, ref: str, stage: str = "production",
                comment: str = "", otp: str | None = None) -> None:
        """Approve ``ref`` for ``stage``, bound to the caller's token (revoking it, or taking the
        role away, makes the approval stop counting)."""
        self.authorize(p, auth.Action.APPROVE)
        st = gated_stage(stage)
        self.second_factor(p, otp, "an approval")
        with self.transaction() as s:
            v = self._version(s, ref)
            if v.published_by == p.name:
                raise DeniedError(f"{p.name!r} published {v.ref} and cannot approve it "
                                  "(approvals must come from someone else)")
            if any(a.approver == p.name and a.stage == st.value for a in v.approvals):
                raise InputError(f"{p.name!r} already approved {v.ref} for {st.value}")
            s.add(Approval(version_id=v.id, approver=p.name, stage=st.value, comment=comment,
                           created_at=audit.now_iso(), token_id=p.token_id))
            s.flush()
            self._audit(s, p.name, "version.approve", v.ref,
                        {"stage": st.value, "digest": v.digest, "comment": comment,
                         "token_id": p.token_id})

    # -- stage changes (decided by mlwarden.gate.promotion) -------------------------------------
    def stage_of(self, ref: str) -> tuple[str, Stage]:
        """The resolved ``model@version`` and its current stage."""
        with self.reading() as s:
            v = self._version(s, ref)
            return v.ref, Stage(v.stage)

    def record_denial(self, p: auth.Principal, ref: str, stage: str,
                      decision: Mapping[str, Any]) -> None:
        """Record a denied promotion in the audit log."""
        with self.transaction() as s:
            self._audit(s, p.name, "version.promote.denied", ref,
                        {"stage": stage, "decision": dict(decision)})

    def move_stage(self, p: auth.Principal, ref: str, target: Stage, *, expected: Stage,
                   reason: str = "", gated_policy: StoredPolicy | None = None,
                   gated: bool = False, decision: Mapping[str, Any] | None = None,
                   approvers_seen: Sequence[str] | None = None) -> None:
        """Move ``ref`` from ``expected`` to ``target`` in one transaction (production: the
        version it replaces is archived).

        Nothing changes (:class:`~mlwarden.registry.db.ConflictError`, retry) when the version
        left ``expected`` meanwhile or, for a ``gated`` move, when the stage's stored policy is no
        longer ``gated_policy`` (None: none was stored), or the approvals that still count are
        no longer ``approvers_seen`` — nothing the decision rested on may change meanwhile. A
        blocked version (:meth:`block`) only ever moves to archived.
        """
        self.authorize(p, auth.Action.PROMOTE)
        check_transition(ref, expected, target)
        with self.transaction() as s:
            _lock_model(s, split_ref(ref)[0])  # one stage change per model at a time
            v = self._version(s, ref)
            if v.stage != expected.value:
                raise db.ConflictError(f"{ref} changed stage while it was being gated",
                                       advice="nothing was changed; retry")
            why = _block_reason(s, v)
            if why is not None and target is not Stage.ARCHIVED:
                raise DeniedError(f"{ref} is blocked: {why}")
            if approvers_seen is not None:
                now_valid = _valid_approvals(s, v, p.name)[0].get(target.value, ())
                if sorted(now_valid) != sorted(approvers_seen):
                    raise db.ConflictError(f"the approvals of {ref} changed while it was being "
                                           "gated", advice="nothing was changed; retry")
            if gated:
                row = s.get(StagePolicy, target.value)
                now = row.digest if row is not None else None
                if now != (gated_policy.digest if gated_policy is not None else None):
                    raise db.ConflictError(f"the {target.value} policy changed while {ref} was "
                                           "being gated", advice="nothing was changed; retry")
            superseded = []
            if target is Stage.PRODUCTION:
                for old in s.execute(select(ModelVersion).where(
                        ModelVersion.model_id == v.model_id,
                        ModelVersion.stage == Stage.PRODUCTION.value)).scalars():
                    self._move(s, p, old, Stage.ARCHIVED, f"superseded by {ref}")
                    superseded.append(old.version)
            self._move(s, p, v, target, reason, decision=decision)
            self._audit(s, p.name, "version.promote", ref,
                        {"from": expected.value, "to": target.value, "digest": v.digest,
                         "reason": reason, "superseded": superseded,
                         "decision": dict(decision) if decision is not None else None})

    def block(self, p: auth.Principal, ref: str, reason: str) -> None:
        """Bar ``ref`` from promotion, rollback and (unless explicitly allowed) pull."""
        self.authorize(p, auth.Action.BLOCK)
        if not reason.strip():
            raise UsageError("a block needs --reason")
        with self.transaction() as s:
            v = self._version(s, ref)
            if s.get(VersionBlock, v.id) is not None:
                raise InputError(f"{v.ref} is already blocked")
            s.add(VersionBlock(version_id=v.id, reason=reason, blocked_by=p.name,
                               blocked_at=audit.now_iso()))
            s.flush()
            self._audit(s, p.name, "version.block", v.ref, {"digest": v.digest, "reason": reason,
                                                           "stage": v.stage})

    def _move(self, s: Session, p: auth.Principal, v: ModelVersion, to: Stage, reason: str,
              decision: Mapping[str, Any] | None = None) -> None:
        s.add(StageEvent(version_id=v.id, from_stage=v.stage, to_stage=to.value, actor=p.name,
                         reason=reason, decision=audit.canonical_json(decision) if decision else "",
                         created_at=audit.now_iso()))
        v.stage = to.value
        s.flush()

    def rollback_candidates(self, p: auth.Principal, model: str, reason: str
                            ) -> tuple[str, list[str], list[str]]:
        """For a rollback of ``model``'s production: the current production ref, the earlier
        production versions newest first (never one rolled back before, never a blocked one),
        and why others were passed over. The gate (:func:`mlwarden.gate.promotion.rollback`)
        decides which candidate may come back, under the current production policy."""
        self.authorize(p, auth.Action.ROLLBACK)
        if not reason.strip():
            raise UsageError("a rollback needs --reason")
        with self.reading() as s:
            current = self._version(s, model, Stage.PRODUCTION.value)
            events = s.execute(select(StageEvent).join(ModelVersion)
                               .where(ModelVersion.model_id == current.model_id,
                                      StageEvent.to_stage == Stage.PRODUCTION.value,
                                      StageEvent.version_id != current.id)
                               .order_by(StageEvent.id.desc())).scalars().all()
            rolled_back = set(s.execute(select(StageEvent.version_id).join(ModelVersion).where(
                ModelVersion.model_id == current.model_id,
                StageEvent.from_stage == Stage.PRODUCTION.value,
                StageEvent.reason.startswith(ROLLBACK_PREFIX))).scalars())
            refs: list[str] = []
            passed: list[str] = []
            for event in events:  # newest first; never back to a version rolled back before
                v = event.version
                if event.version_id in rolled_back or v.ref in refs or v.ref in passed:
                    continue
                why = _block_reason(s, v)
                if why is not None:
                    passed.append(f"{v.ref}: blocked: {why}")
                    continue
                refs.append(v.ref)
            return current.ref, refs, passed

    def rollback_to(self, p: auth.Principal, current_ref: str, target_ref: str, reason: str, *,
                    gated_policy: StoredPolicy | None, decision: Mapping[str, Any],
                    approvers_seen: Sequence[str]) -> None:
        """Archive ``current_ref`` and return ``target_ref`` to production in one transaction,
        once the gate allowed it. Nothing changes (a conflict, retry) when production, the
        production policy or the target's valid approvals changed meanwhile, or the target was
        blocked."""
        self.authorize(p, auth.Action.ROLLBACK)
        with self.transaction() as s:
            _lock_model(s, split_ref(current_ref)[0])
            current = self._version(s, current_ref)
            target = self._version(s, target_ref)
            if current.stage != Stage.PRODUCTION.value:
                raise db.ConflictError(f"production of {current.model.name!r} changed during the "
                                       "rollback", advice="nothing was changed; retry")
            row = s.get(StagePolicy, Stage.PRODUCTION.value)
            if (row.digest if row else None) != (gated_policy.digest if gated_policy else None):
                raise db.ConflictError("the production policy changed during the rollback",
                                       advice="nothing was changed; retry")
            why = _block_reason(s, target)
            if why is not None:
                raise DeniedError(f"{target.ref} is blocked: {why}")
            now_valid = _valid_approvals(s, target, p.name)[0].get(Stage.PRODUCTION.value, ())
            if sorted(now_valid) != sorted(approvers_seen):
                raise db.ConflictError(f"the approvals of {target.ref} changed during the "
                                       "rollback", advice="nothing was changed; retry")
            self._move(s, p, current, Stage.ARCHIVED, f"{ROLLBACK_PREFIX}{reason}")
            self._move(s, p, target, Stage.PRODUCTION, f"{ROLLBACK_PREFIX}{reason}",
                       decision=decision)
            self._audit(s, p.name, "version.rollback", current.model.name,
                        {"from": current.version, "to": target.version,
                         "from_digest": current.digest, "to_digest": target.digest,
                         "reason": reason, "decision": dict(decision)})

    # -- audit ---------------------------------------------------------------------------------
    # -- reg-audit: the log verified from outside the database (see .treehead) ------------------
    def pinned_verifier(self, key: Path | None = None) -> EcdsaVerifier:
        """The registry key pinned outside the database: ``key``, else ``checkpoint-key.pub`` in the
        home folder (written at init; derived once from the local private key for older homes)."""
        from mlwarden.sign.keys import EcdsaVerifier, load_public_key, public_pem

        path = key or self.config.public_key_path
        if path.is_file():
            return EcdsaVerifier(load_public_key(path))
        if key is None:
            signer = self.signer()
            if signer is not None:
                from mlwarden.core.atomic import atomic_write_bytes

                atomic_write_bytes(path, public_pem(signer.public_key), mode=0o644)
                return EcdsaVerifier(signer.public_key)
        raise ConfigError("no pinned registry key to verify the audit log with", path=path,
                          advice="pass --key with the registry's public key (checkpoint-key.pub, "
                                 "from its admin); the copy in the database is never trusted")

    def audit_verify(self, p: auth.Principal, *, key: Path | None = None,
                     since: Sequence[treehead.KnownHead] = (), expect_root: str | None = None,
                     remember: bool = True) -> audit.ChainStatus:
        """Check the chain, the checkpoints and the signed tree heads with the pinned key, and that
        the log still extends every head seen before (remembered, anchored or given)."""
        from mlwarden.sign.keys import key_id, parse_public_key

        self.authorize(p, auth.Action.AUDIT)
        verifier = self.pinned_verifier(key)
        known = list(since)
        last = treehead.remembered(self.config.home, self.config.db_url)
        if last is not None:
            known.append(last)
        with self.reading() as s:
            row = s.get(RegistryMeta, PUBLIC_KEY_META)
            if row is not None and key_id(parse_public_key(row.value.encode(),
                                                            source="registry_meta")) \
                    != verifier.keyid:
                return audit.ChainStatus(0, 0, 0, None, "key replaced: the registry key in the "
                                         "database is not the pinned key (the database was given "
                                         "another key; treat the log as compromised)")
            status = audit.verify(s, verifier)
            if not status.intact:
                return status
            initialised = bool(s.scalar(select(func.count()).select_from(User)))
            tree = treehead.check(s, verifier,
                                  (audit.leaf_bytes(r) for r in audit.iter_entries(s)),
                                  known=known, expect_root=expect_root, initialised=initialised)
            latest = s.get(AuditTreeHead, tree.size) if tree.size else None
        status = dataclasses.replace(status, tree_heads=tree.heads, root=tree.root,
                                     problem=tree.problem, broken_seq=tree.broken_seq)
        if status.intact and remember and tree.size:
            treehead.remember(self.config.home, self.config.db_url, tree.size, tree.root,
                              latest.timestamp if latest else "")
        return status

    def audit_latest_head(self, p: auth.Principal) -> str | None:
        """The newest signed tree head as a JSON line (what ``audit anchor`` exports)."""
        self.authorize(p, auth.Action.AUDIT)
        with self.reading() as s:
            row = s.execute(select(AuditTreeHead).order_by(AuditTreeHead.size.desc()).limit(1)
                            ).scalar_one_or_none()
            return treehead.head_line(row) if row is not None else None

    def audit_records(self, p: auth.Principal, *, since: int = 0) -> Iterator[audit.AuditRecord]:
        self.authorize(p, auth.Action.AUDIT)
        with self.reading() as s:
            for row in audit.iter_entries(s):
                if row.seq > since:
                    yield audit.AuditRecord.of(row)

    def audit_checkpoint(self, p: auth.Principal) -> int | None:
        self.authorize(p, auth.Action.AUDIT)
        signer = self.signer()
        if signer is None:
            registry_key.explain_missing(self.config.key_path)
        with self.transaction() as s:
            cp = audit.checkpoint_now(s, signer)
            return cp.seq if cp else None


def _lock_model(s: Session, name: str) -> RegisteredModel | None:
    """The model's row, locked until the transaction ends (PostgreSQL ``FOR UPDATE``; SQLite
    already holds the database write lock from ``BEGIN IMMEDIATE``)."""
    return s.execute(select(RegisteredModel).where(RegisteredModel.name == name)
                     .with_for_update()).scalar_one_or_none()


def _require_existing(url: str) -> None:
    """Refuse a SQLite database file that does not exist (before anything would create it)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and \
            not Path(parsed.database).is_file():
        folder = Path(parsed.database).parent
        if folder.exists() and not folder.is_dir():
            raise ConfigError("cannot open the registry: a file is in the way", path=folder,
                              advice="point --home or --db elsewhere")
        raise ConfigError("no registry database here", path=parsed.database,
                          advice="check --db/--home (or MLWARDEN_DB/MLWARDEN_HOME), or run "
                                 "'mlwarden registry init'")


def _iso_after(seconds: float) -> str:
    """An ISO-8601 UTC time ``seconds`` from now, in :func:`audit.now_iso`'s format (so the text
    compares in time order)."""
    import datetime as dt

    return (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)).isoformat(
        timespec="microseconds")


def _block_reason(s: Session, v: ModelVersion) -> str | None:
    row = s.get(VersionBlock, v.id)
    return f"{row.reason} (blocked by {row.blocked_by} at {row.blocked_at})" if row else None


def _approval_problem(s: Session, ap: Approval, publisher: str, promoter: str | None) -> str | None:
    """Why an approval no longer counts, or None: re-checked every time a decision rests on it."""
    user = s.execute(select(User).where(User.name == ap.approver)).scalar_one_or_none()
    if user is None:
        return "no such user"
    if not user.role_names & APPROVER_ROLES:
        return "no longer an approver"
    if ap.token_id is None:
        return "not bound to a token"
    tok = s.get(ApiToken, ap.token_id)
    if tok is None or tok.user_id != user.id:
        return "its token is not the approver's"
    if tok.revoked_at is not None:
        return "its token was revoked"
    if ap.approver == publisher:
        return "the publisher"
    if promoter is not None and ap.approver == promoter:
        return "the promoter"
    direct = {user.created_by} | set(s.execute(select(Invite.created_by).where(
        Invite.user_id == user.id, Invite.used_at.is_not(None))).scalars())
    if publisher in direct or (promoter is not None and promoter in direct):
        return "invited by the publisher or the promoter"
    chain = _inviters(s, user)
    if publisher in chain or (promoter is not None and promoter in chain):
        return "invited, through users they invited, by the publisher or the promoter"
    return None


def _inviters(s: Session, user: User, *, limit: int = 1000) -> set[str]:
    """Everyone up the invitation chain of ``user``: who created or invited them, who invited
    those, and so on (cycle-safe, bounded). An admin cannot approve through a puppet invited by a
    puppet: the chain leads back to them."""
    seen: set[str] = set()
    todo = [user]
    while todo and len(seen) < limit:
        current = todo.pop()
        names = {current.created_by} | set(s.execute(select(Invite.created_by).where(
            Invite.user_id == current.id, Invite.used_at.is_not(None))).scalars())
        for name in names - seen:
            seen.add(name)
            parent = s.execute(select(User).where(User.name == name)).scalar_one_or_none()
            if parent is not None:
                todo.append(parent)
    return seen


def _valid_approvals(s: Session, v: ModelVersion, promoter: str | None
                     ) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """Stage → approvers that still count, and stage → ``"name (why not)"`` of the others."""
    valid: dict[str, list[str]] = {}
    discounted: dict[str, list[str]] = {}
    for ap in v.approvals:
        why = _approval_problem(s, ap, v.published_by, promoter)
        if why is None:
            valid.setdefault(ap.stage, []).append(ap.approver)
        else:
            discounted.setdefault(ap.stage, []).append(f"{ap.approver} ({why})")
    return ({k: tuple(x) for k, x in valid.items()}, {k: tuple(x) for k, x in discounted.items()})


def _check_user_name(name: str) -> None:
    if not _USER.match(name):
        raise UsageError(f"not a valid user name: {name!r} (letters, digits, . _ @ -)")


def parse_stage(stage: str) -> Stage:
    try:
        return Stage(stage)
    except ValueError:
        raise UsageError(f"unknown stage {stage!r} (stages: "
                         f"{', '.join(s.value for s in Stage)})") from None


def check_transition(ref: str, current: Stage, target: Stage) -> None:
    """Refuse a stage change the stage machine does not allow (rollback has its own path)."""
    if target not in TRANSITIONS[current]:
        raise DeniedError(f"{ref} is in {current.value}; it cannot move to {target.value} "
                          f"(allowed: {', '.join(sorted(x.value for x in TRANSITIONS[current]))})")


def gated_stage(stage: str) -> Stage:
    """``stage`` as a stage that has a policy (staging or production)."""
    try:
        st = Stage(stage)
    except ValueError:
        st = None
    if st not in GATED_STAGES:
        raise UsageError(f"stage must be staging or production, not {stage!r}")
    assert st is not None
    return st


_SHAPES = {
    AttestationKind.SIGNATURE: ("a Sigstore bundle (a signature from 'mlwarden sign')",
                                ("mediaType", "verificationMaterial")),
    AttestationKind.PROVENANCE: ("a DSSE envelope (a signed attestation)",
                                 ("payloadType", "payload", "signatures")),
    AttestationKind.DATA_CHECK: ("a DSSE envelope (a signed attestation)",
                                 ("payloadType", "payload", "signatures")),
    AttestationKind.MODEL_TEST: ("a DSSE envelope (a signed attestation)",
                                 ("payloadType", "payload", "signatures")),
}


def _read_attestation(path: Path, kind: AttestationKind | None = None) -> str:
    """The attestation's text, once it is JSON of the shape ``kind`` needs (checked, not trusted:
    the gate verifies signatures and subjects when it decides)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("attestation file not found", path=path) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=path) from None
    if len(data) > MAX_ATTESTATION_BYTES:
        raise InputError("attestation file is larger than 16 MiB", path=path)
    try:
        text = data.decode("utf-8")
        parsed = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InputError("not a JSON attestation (signature bundle, DSSE envelope or report)",
                         path=path) from None
    if not isinstance(parsed, dict):
        raise InputError(f"an attestation must be a JSON object, not a {type(parsed).__name__}",
                         path=path)
    if kind in _SHAPES:
        expected, keys = _SHAPES[kind]
        missing = [k for k in keys if k not in parsed]
        if missing:
            raise InputError(f"not {expected}: no {', '.join(map(repr, missing))}", path=path,
                             advice=f"is it the right file for the {kind.value} evidence?")
    if kind is not None and "payload" in parsed:
        _check_predicate_type(parsed, kind, path)
    return text


def _check_predicate_type(envelope: dict[str, Any], kind: AttestationKind, path: Path) -> None:
    """Refuse, at attach time, a statement whose predicate type is not the kind's (the gate
    refuses it again, with its signature checked: this only catches the mistake early)."""
    import base64
    import binascii

    from mlwarden.core.evidence import kind as evidence_kind

    try:
        statement = json.loads(base64.b64decode(str(envelope["payload"]), validate=True))
    except (binascii.Error, ValueError, RecursionError):
        raise InputError("the envelope's payload is not base64 JSON", path=path) from None
    ptype = statement.get("predicateType") if isinstance(statement, dict) else None
    expected = evidence_kind(kind.value).predicate_types
    if ptype not in expected:
        raise InputError(f"a {kind.value} attestation must have predicateType "
                         f"{' or '.join(map(repr, expected))}, not {ptype!r}", path=path,
                         advice=f"is it the right file for the {kind.value} evidence?")
