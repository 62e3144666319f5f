"""The tamper-evident audit log: a hash chain in the database with signed checkpoints.

Entry ``n`` carries the hash of entry ``n-1``; its own hash is SHA-256 over the canonical JSON of
``(seq, prev_hash, timestamp, actor, action, subject, details)``. Editing, deleting or reordering an
entry breaks the chain at that entry; rewriting the whole tail afterwards breaks a checkpoint (a
signature by the registry's ECDSA key over an entry's seq and hash). Appends happen inside the
action's own transaction, so an action and its entry commit together or not at all.

Concurrency: appenders serialise on the single ``audit_head`` row (``SELECT … FOR UPDATE`` on
PostgreSQL; on SQLite the transaction already holds the write lock from ``BEGIN IMMEDIATE``), and
UNIQUE constraints on ``seq`` and ``prev_hash`` make a forked chain impossible to commit.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mlwarden.registry.merkle import Frontier
from mlwarden.registry.models import AuditCheckpoint, AuditEntry, AuditHead

GENESIS = "sha256:" + "0" * 64
CHECKPOINT_EVERY = 100
"""A checkpoint is signed automatically every this many entries (and by ``audit checkpoint``)."""


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, UTF-8 kept: the one serialisation that is hashed."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def entry_hash(seq: int, prev_hash: str, timestamp: str, actor: str, action: str, subject: str,
               details: str) -> str:
    """The hash of an entry; ``details`` is the canonical JSON text as stored."""
    body = canonical_json({"seq": seq, "prev_hash": prev_hash, "timestamp": timestamp,
                           "actor": actor, "action": action, "subject": subject,
                           "details": json.loads(details)})
    return "sha256:" + hashlib.sha256(body.encode("utf-8")).hexdigest()


def leaf_bytes(row: AuditEntry) -> bytes:
    """The bytes a Merkle leaf covers: every column of the entry, its hash and link included."""
    return canonical_json({"seq": row.seq, "prev_hash": row.prev_hash, "hash": row.hash,
                           "timestamp": row.timestamp, "actor": row.actor, "action": row.action,
                           "subject": row.subject, "details": json.loads(row.details)}
                          ).encode("utf-8")


def _frontier(session: Session, head: AuditHead) -> Frontier:
    """The Merkle frontier after the head entry (rebuilt from the entries for an older log)."""
    if head.frontier is not None:
        try:
            return Frontier.from_text(head.seq, head.frontier)
        except ValueError:
            pass  # rebuilt below; a tampered frontier only changes what gets signed next
    frontier = Frontier()
    for row in session.execute(select(AuditEntry).where(AuditEntry.seq <= head.seq)
                               .order_by(AuditEntry.seq)).scalars():
        frontier.append(leaf_bytes(row))
    return frontier


def checkpoint_payload(seq: int, hash_: str, timestamp: str) -> bytes:
    return canonical_json({"type": "mlwarden-audit-checkpoint/v1", "seq": seq, "hash": hash_,
                           "timestamp": timestamp}).encode("utf-8")


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """An entry as exported (JSON lines for a SIEM)."""

    seq: int
    prev_hash: str
    hash: str
    timestamp: str
    actor: str
    action: str
    subject: str
    details: Mapping[str, Any]

    @classmethod
    def of(cls, row: AuditEntry) -> AuditRecord:
        try:
            details = json.loads(row.details)
        except ValueError:
            details = {"unparseable": row.details}
        return cls(row.seq, row.prev_hash, row.hash, row.timestamp, row.actor, row.action,
                   row.subject, details)

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "prev_hash": self.prev_hash, "hash": self.hash,
                "timestamp": self.timestamp, "actor": self.actor, "action": self.action,
                "subject": self.subject, "details": dict(self.details)}


def _lock_head(session: Session) -> AuditHead:
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()
                           ).scalar_one_or_none()
    if head is None:
        # First append ever: create the head row. A concurrent creator loses on the primary key
        # and its transaction fails (nothing half-written); the registry creates it at init.
        head = AuditHead(id=1, seq=0, hash=GENESIS)
        session.add(head)
        session.flush()
    return head


def append(session: Session, *, actor: str, action: str, subject: str,
           details: Mapping[str, Any] | None = None, signer: Any = None) -> AuditEntry:
    """Append one entry in ``session``'s transaction; it commits with the action or not at all.

    ``signer`` (an :class:`~mlwarden.sign.keys.EcdsaSigner`) signs a tree head over the new Merkle
    root (:mod:`.treehead`) after every entry, and a checkpoint every :data:`CHECKPOINT_EVERY`.
    """
    from mlwarden.registry import treehead

    head = _lock_head(session)
    frontier = _frontier(session, head)
    seq = head.seq + 1
    timestamp = now_iso()
    text = canonical_json(dict(details or {}))
    digest = entry_hash(seq, head.hash, timestamp, actor, action, subject, text)
    entry = AuditEntry(seq=seq, prev_hash=head.hash, hash=digest, timestamp=timestamp,
                       actor=actor, action=action, subject=subject, details=text)
    session.add(entry)
    frontier.append(leaf_bytes(entry))
    head.seq, head.hash, head.frontier = seq, digest, frontier.to_text()
    session.flush()
    if signer is not None:
        treehead.sign_head(session, signer, frontier.size, frontier.root(), new=True)
    if signer is not None and seq % CHECKPOINT_EVERY == 0:
        add_checkpoint(session, signer, seq, digest)
    return entry


def add_checkpoint(session: Session, signer: Any, seq: int, hash_: str) -> AuditCheckpoint:
    timestamp = now_iso()
    signature = signer.sign(checkpoint_payload(seq, hash_, timestamp))
    cp = AuditCheckpoint(seq=seq, entry_hash=hash_, timestamp=timestamp, key_id=signer.keyid,
                         signature=base64.b64encode(signature).decode("ascii"))
    session.merge(cp)
    session.flush()
    return cp


def checkpoint_now(session: Session, signer: Any) -> AuditCheckpoint | None:
    """Sign a checkpoint over the current head (``None`` when the log is empty)."""
    from mlwarden.registry import treehead

    head = _lock_head(session)
    if head.seq == 0:
        return None
    frontier = _frontier(session, head)
    treehead.sign_head(session, signer, frontier.size, frontier.root())
    return add_checkpoint(session, signer, head.seq, head.hash)


@dataclass(frozen=True, slots=True)
class ChainStatus:
    """The result of :func:`verify`: intact, or the first broken entry and why."""

    entries: int
    checkpoints: int
    head_seq: int
    broken_seq: int | None = None
    problem: str | None = None
    tree_heads: int = 0
    root: str | None = None
    """The Merkle root over all entries (:mod:`.treehead`), set once the chain checked out."""

    @property
    def intact(self) -> bool:
        return self.problem is None

    def to_dict(self) -> dict[str, Any]:
        return {"intact": self.intact, "entries": self.entries, "checkpoints": self.checkpoints,
                "head_seq": self.head_seq, "broken_seq": self.broken_seq, "problem": self.problem,
                "tree_heads": self.tree_heads, "root": self.root}


def iter_entries(session: Session, *, batch: int = 1000) -> Iterator[AuditEntry]:
    """Entries in ``seq`` order, fetched in batches (the log may be long)."""
    last = 0
    while True:
        rows = session.execute(select(AuditEntry).where(AuditEntry.seq > last)
                               .order_by(AuditEntry.seq).limit(batch)).scalars().all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq
        session.expunge_all()


def verify(session: Session, verifier: Any) -> ChainStatus:
    """Recompute the chain; check links, seq continuity, the head row and every checkpoint.

    ``verifier`` (an :class:`~mlwarden.sign.keys.EcdsaVerifier` of the registry key) checks the
    checkpoint signatures.
    """
    checkpoints = {cp.seq: cp for cp in session.execute(select(AuditCheckpoint)).scalars()}
    head = session.execute(select(AuditHead).where(AuditHead.id == 1)).scalar_one_or_none()
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    expected_prev, expected_seq, count = GENESIS, 1, 0

    def broken(seq: int, problem: str) -> ChainStatus:
        return ChainStatus(count, len(checkpoints), head_seq, seq, problem)

    for row in iter_entries(session):
        if row.seq != expected_seq:
            return broken(expected_seq, f"entry {expected_seq} is missing (next entry present is "
                                        f"{row.seq}): deleted or reordered")
        if row.prev_hash != expected_prev:
            return broken(row.seq, f"entry {row.seq} does not link to entry {row.seq - 1} "
                                   "(prev_hash differs): an entry was edited, deleted or reordered")
        try:
            recomputed = entry_hash(row.seq, row.prev_hash, row.timestamp, row.actor, row.action,
                                    row.subject, row.details)
        except ValueError:
            return broken(row.seq, f"entry {row.seq} has unparseable details")
        if recomputed != row.hash:
            return broken(row.seq, f"entry {row.seq} was modified (its content does not match its "
                                   "hash)")
        cp = checkpoints.get(row.seq)
        if cp is not None and cp.entry_hash != row.hash:
            return broken(row.seq, f"rewritten: entry {row.seq} differs from its signed checkpoint")
        expected_prev, expected_seq, count = row.hash, row.seq + 1, count + 1
    last_seq = expected_seq - 1
    if last_seq != head_seq or expected_prev != head_hash:
        return broken(last_seq + 1 if last_seq < head_seq else head_seq,
                      f"truncated: the log ends at entry {last_seq} but its head names entry "
                      f"{head_seq}: entries were deleted from the end")
    for seq, cp in sorted(checkpoints.items()):
        if seq > last_seq:
            return broken(seq, f"truncated: checkpoint {seq} names an entry that no longer "
                                   "exists")
        if verifier is None or cp.key_id != verifier.keyid:
            return broken(seq, f"key replaced: checkpoint {seq} is signed by key "
                                   f"{cp.key_id[:16]}…, not by the pinned registry key")
        try:
            signature = base64.b64decode(cp.signature, validate=True)
        except ValueError:
            return broken(seq, f"checkpoint {seq} has a malformed signature")
        if not verifier.verify(signature, checkpoint_payload(cp.seq, cp.entry_hash, cp.timestamp)):
            return broken(seq, f"checkpoint {seq} signature does not verify with the registry key")
    return ChainStatus(count, len(checkpoints), head_seq)
