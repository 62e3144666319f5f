"""The registry's tables (SQLAlchemy 2.x typed ORM). Schema changes go through :mod:`.migrations`.

Timestamps are stored as ISO-8601 UTC text, and JSON as canonical text, so that what the audit log
hashes reads back byte for byte on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import enum

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Stage(str, enum.Enum):
    """The life of a version: ``none → staging → production → archived``."""

    NONE = "none"
    STAGING = "staging"
    PRODUCTION = "production"
    ARCHIVED = "archived"


class Role(str, enum.Enum):
    """What a user may do (see :mod:`.auth` for the permission table)."""

    ADMIN = "admin"
    PUBLISHER = "publisher"
    APPROVER = "approver"
    AUDITOR = "auditor"
    READER = "reader"


class AttestationKind(str, enum.Enum):
    SIGNATURE = "signature"
    PROVENANCE = "provenance"
    SCAN = "scan"
    DATA_CHECK = "data-check"
    MODEL_TEST = "model-test"


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[str] = mapped_column(String(40))
    created_by: Mapped[str] = mapped_column(String(128))
    totp_secret: Mapped[str | None] = mapped_column(String(64), nullable=True, default=None)
    """Base32 TOTP seed (RFC 6238) once the user enrolled a second factor."""
    totp_last: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None)
    """The last TOTP time step accepted (a code is never accepted twice)."""
    roles: Mapped[list[UserRole]] = relationship(back_populates="user", cascade="all, delete-orphan",
                                                 lazy="selectin")

    @property
    def role_names(self) -> frozenset[str]:
        return frozenset(r.role for r in self.roles)


class UserRole(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    user: Mapped[User] = relationship(back_populates="roles")


class ApiToken(Base):
    """An API token: the public id, a per-token salt and the scrypt hash of the secret."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    salt: Mapped[bytes] = mapped_column(LargeBinary)
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[str] = mapped_column(String(40))
    revoked_at: Mapped[str | None] = mapped_column(String(40), nullable=True)
    user: Mapped[User] = relationship(lazy="joined")


class Invite(Base):
    """A one-time enrolment code for ``user``: only its scrypt hash is kept; ``used_at`` once spent."""

    __tablename__ = "invites"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    salt: Mapped[bytes] = mapped_column(LargeBinary)
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[str] = mapped_column(String(40))
    expires_at: Mapped[str] = mapped_column(String(40))
    used_at: Mapped[str | None] = mapped_column(String(40), nullable=True)
    user: Mapped[User] = relationship(lazy="joined")


class RegisteredModel(Base):
    __tablename__ = "models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[str] = mapped_column(String(40))
    created_by: Mapped[str] = mapped_column(String(128))
    versions: Mapped[list[ModelVersion]] = relationship(back_populates="model",
                                                        order_by="ModelVersion.id")


class ModelVersion(Base):
    """One version: identified by its content digest; the manifest names its stored blobs."""

    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("model_id", "version", name="uq_version_label"),
                      UniqueConstraint("model_id", "digest", name="uq_version_digest"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"), index=True)
    version: Mapped[str] = mapped_column(String(100))
    digest: Mapped[str] = mapped_column(String(80), index=True)
    manifest_digest: Mapped[str] = mapped_column(String(80))
    """The store object holding the manifest (file names → blob digests)."""
    kind: Mapped[str] = mapped_column(String(8))
    """``file`` or ``dir``."""
    size: Mapped[int] = mapped_column(BigInteger)
    stage: Mapped[str] = mapped_column(String(16), default=Stage.NONE.value)
    published_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[str] = mapped_column(String(40))
    model: Mapped[RegisteredModel] = relationship(back_populates="versions", lazy="joined")
    attestations: Mapped[list[Attestation]] = relationship(back_populates="version",
                                                           order_by="Attestation.id",
                                                           lazy="selectin")
    approvals: Mapped[list[Approval]] = relationship(back_populates="version",
                                                     order_by="Approval.id", lazy="selectin")

    @property
    def ref(self) -> str:
        return f"{self.model.name}@{self.version}"


class Attestation(Base):
    """Evidence bound to a version: a signature bundle, a provenance envelope, a scan report…"""

    __tablename__ = "attestations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    digest: Mapped[str] = mapped_column(String(80))
    content: Mapped[str] = mapped_column(Text)
    added_by: Mapped[str] = mapped_column(String(128))
    added_at: Mapped[str] = mapped_column(String(40))
    version: Mapped[ModelVersion] = relationship(back_populates="attestations")


class Approval(Base):
    __tablename__ = "approvals"
    __table_args__ = (UniqueConstraint("version_id", "approver", "stage", name="uq_approval"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"), index=True)
    approver: Mapped[str] = mapped_column(String(128))
    stage: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[str] = mapped_column(String(40))
    token_id: Mapped[str | None] = mapped_column(String(32), nullable=True, default=None)
    """The token the approver used: the approval stops counting once it is revoked."""
    version: Mapped[ModelVersion] = relationship(back_populates="approvals")


class StageEvent(Base):
    """A stage change (promotion, rollback, archive), with the decision or reason behind it."""

    __tablename__ = "stage_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"), index=True)
    from_stage: Mapped[str] = mapped_column(String(16))
    to_stage: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text, default="")
    decision: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[str] = mapped_column(String(40))
    version: Mapped[ModelVersion] = relationship(lazy="joined")


class VersionBlock(Base):
    """A version barred from promotion, rollback and pull (``registry block``)."""

    __tablename__ = "version_blocks"

    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    blocked_by: Mapped[str] = mapped_column(String(128))
    blocked_at: Mapped[str] = mapped_column(String(40))


class StagePolicy(Base):
    """The policy a promotion into ``stage`` must satisfy (set by an admin, YAML kept verbatim)."""

    __tablename__ = "stage_policies"

    stage: Mapped[str] = mapped_column(String(16), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(80))
    set_by: Mapped[str] = mapped_column(String(128))
    set_at: Mapped[str] = mapped_column(String(40))


class RegistryMeta(Base):
    __tablename__ = "registry_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class AuditHead(Base):
    """The single row naming the chain's last entry; appenders lock it (``FOR UPDATE``)."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(80))
    frontier: Mapped[str | None] = mapped_column(Text, nullable=True, default=None)
    """The Merkle tree's perfect-subtree roots after entry ``seq`` (see :mod:`.merkle`)."""


class AuditEntry(Base):
    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    prev_hash: Mapped[str] = mapped_column(String(80), unique=True)
    hash: Mapped[str] = mapped_column(String(80), unique=True)
    timestamp: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    details: Mapped[str] = mapped_column(Text)
    """Canonical JSON text."""


class AuditCheckpoint(Base):
    """A signature by the registry key over (seq, hash) of an entry: rewriting history breaks it."""

    __tablename__ = "audit_checkpoints"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    entry_hash: Mapped[str] = mapped_column(String(80))
    timestamp: Mapped[str] = mapped_column(String(40))
    key_id: Mapped[str] = mapped_column(String(80))
    signature: Mapped[str] = mapped_column(Text)


class AuditTreeHead(Base):
    """A signed tree head: the registry key's signature over (size, Merkle root, timestamp)."""

    __tablename__ = "audit_tree_heads"

    size: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    root: Mapped[str] = mapped_column(String(80))
    timestamp: Mapped[str] = mapped_column(String(40))
    key_id: Mapped[str] = mapped_column(String(80))
    signature: Mapped[str] = mapped_column(Text)
