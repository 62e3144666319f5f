"""Signed tree heads: the audit log made verifiable from outside the database.

After every action the registry key signs a *tree head* ``(size, Merkle root, timestamp)`` over the
RFC 6962 tree of the entries (:mod:`.merkle`), as a transparency log (Trillian, Rekor) does. A
client checks the heads with a key pinned **outside** the database (``--key`` or
``$MLWARDEN_HOME/registry/checkpoint-key.pub``; the copy in the database is only compared with it),
remembers the last head it verified (``verified-heads.json`` in the home folder) and, on the next
verify, recomputes the root of that many entries: a log that no longer extends a head it has seen
(or one anchored with ``audit anchor``) is reported by name — ``truncated``, ``wiped``,
``rewritten``, ``key replaced``, ``unsigned tail``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mlwarden.core.errors import ConfigError, InputError
from mlwarden.registry.merkle import Frontier, root_text
from mlwarden.registry.models import AuditTreeHead

HEAD_TYPE = "mlwarden-audit-tree-head/v1"
STATE_FILE = "verified-heads.json"


def head_payload(size: int, root: str, timestamp: str) -> bytes:
    from mlwarden.registry.audit import canonical_json

    return canonical_json({"type": HEAD_TYPE, "size": size, "root": root,
                           "timestamp": timestamp}).encode("utf-8")


def sign_head(session: Session, signer: Any, size: int, root: bytes, *,
              new: bool = False) -> AuditTreeHead:
    """Sign and store the head of a tree of ``size`` entries (in the caller's transaction);
    ``new`` when no head of that size can exist yet (the entry was just appended)."""
    from mlwarden.registry.audit import now_iso

    timestamp, text = now_iso(), root_text(root)
    signature = signer.sign(head_payload(size, text, timestamp))
    row = AuditTreeHead(size=size, root=text, timestamp=timestamp, key_id=signer.keyid,
                        signature=base64.b64encode(signature).decode("ascii"))
    if new:
        session.add(row)  # written with the entry at commit
        return row
    session.merge(row)
    session.flush()
    return row


@dataclass(frozen=True, slots=True)
class KnownHead:
    """A head seen before (remembered, anchored or given): the log must still extend it.

    ``size`` is ``None`` for a bare root hash (``--since-head HASH``): some prefix must match it.
    """

    root: str
    size: int | None
    source: str
    timestamp: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"size": self.size, "root": self.root, "timestamp": self.timestamp}


def normalise_root(value: str) -> str:
    text = value.strip().lower()
    if not text.startswith("sha256:"):
        text = "sha256:" + text
    hexpart = text[len("sha256:"):]
    if len(hexpart) != 64 or any(c not in "0123456789abcdef" for c in hexpart):
        raise InputError(f"not a tree head hash: {value!r}",
                         advice="give sha256:<64 hex digits> as printed by 'mlwarden audit verify'")
    return text


def parse_head_text(text: str, source: str) -> KnownHead:
    """The last head in a file of JSON lines (an anchor sink, or a saved ``audit verify`` head)."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise InputError("the head file is empty", path=source)
    try:
        doc = json.loads(lines[-1])
        return KnownHead(normalise_root(str(doc["root"])), int(doc["size"]), source,
                         str(doc.get("timestamp", "")))
    except (ValueError, KeyError, TypeError):
        raise InputError("not a tree head (a JSON line with size and root)", path=source) from None


def since_head(value: str) -> KnownHead:
    """``--since-head FILE|HASH``."""
    path = Path(value)
    if path.is_file():
        try:
            return parse_head_text(path.read_text(encoding="utf-8"), str(path))
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read the head file: {exc}", path=path) from None
    return KnownHead(normalise_root(value), None, f"--since-head {value}")


@dataclass(frozen=True, slots=True)
class TreeStatus:
    size: int
    root: str
    heads: int
    problem: str | None = None
    broken_seq: int | None = None


def check(session: Session, verifier: Any, entries: Sequence[bytes] | Any, *,
          known: Sequence[KnownHead] = (), expect_root: str | None = None,
          initialised: bool = True) -> TreeStatus:
    """Recompute the Merkle root of every prefix; check each signed head and each known head.

    ``entries`` yields the leaf bytes in ``seq`` order (the chain was checked already).
    """
    heads = {h.size: h for h in session.execute(select(AuditTreeHead)).scalars()}
    sized = {k.size: k for k in known if k.size is not None}
    unsized = {k.root: k for k in known if k.size is None}
    frontier = Frontier()
    found: set[str] = set()
    mismatch: tuple[str, int] | None = None
    rewritten: tuple[str, int] | None = None
    for leaf in entries:
        frontier.append(leaf)
        if frontier.size not in heads and frontier.size not in sized and not unsized:
            continue
        root = root_text(frontier.root())
        head = heads.get(frontier.size)
        if head is not None and head.root != root and mismatch is None:
            mismatch = (f"rewritten: the first {frontier.size} entries no longer match the signed "
                        f"tree head of {head.timestamp} (its Merkle root differs)", frontier.size)
        k = sized.get(frontier.size)
        if k is not None and k.root != root and rewritten is None:
            rewritten = (f"rewritten: the first {k.size} entries no longer match the head from "
                         f"{k.source} {k.timestamp}".rstrip(), frontier.size)
        if root in unsized:
            found.add(root)
    size, root = frontier.size, root_text(frontier.root())

    def bad(problem: str, seq: int | None) -> TreeStatus:
        return TreeStatus(size, root, len(heads), problem, seq)

    for k in sorted(sized.values(), key=lambda h: h.size or 0):
        assert k.size is not None
        if k.size > size:
            what = "wiped" if size == 0 else "truncated"
            return bad(f"{what}: the log has {size} entries but the head from {k.source} "
                       f"{k.timestamp} has {k.size}".replace("  ", " "), size + 1)
    if rewritten:
        return bad(*rewritten)
    for k in unsized.values():
        if k.root not in found:
            return bad(f"rewritten or truncated: no prefix of the log has the root given by "
                       f"{k.source}", None)
    if size == 0 and initialised:
        return bad("wiped: the log has 0 entries but the registry is initialised", 1)
    for s, head in sorted(heads.items()):
        if verifier is None or head.key_id != verifier.keyid:
            return bad(f"key replaced: tree head {s} is signed by key {head.key_id[:16]}…, not by "
                       f"the pinned registry key {getattr(verifier, 'keyid', '?')[:16]}…", s)
        try:
            signature = base64.b64decode(head.signature, validate=True)
        except ValueError:
            return bad(f"forged: tree head {s} has a malformed signature", s)
        if not verifier.verify(signature, head_payload(head.size, head.root, head.timestamp)):
            return bad(f"forged: tree head {s} does not verify with the pinned registry key", s)
        if s > size:
            return bad(f"truncated: a signed tree head names {s} entries but the log has {size}",
                       size + 1)
    if mismatch:
        return bad(*mismatch)
    latest = max(heads, default=0)
    if latest < size:
        return bad(f"unsigned tail: entries {latest + 1}..{size} are covered by no signed tree "
                   "head (heads deleted, or written without the registry key; after review, "
                   "'mlwarden audit checkpoint' signs them)", latest + 1)
    if expect_root is not None and expect_root != root:
        return bad(f"head mismatch: the log's root is {root}, not the expected {expect_root}",
                   None)
    return TreeStatus(size, root, len(heads))


# -- what a client remembers ---------------------------------------------------------------------
def _db_id(db_url: str) -> str:
    return hashlib.sha256(db_url.encode("utf-8")).hexdigest()[:32]


def state_path(home: Path) -> Path:
    return home / "registry" / STATE_FILE


def remembered(home: Path, db_url: str) -> KnownHead | None:
    path = state_path(home)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the remembered audit heads: {exc}", path=path,
                          advice="restore it from an anchor, or pass --since-head") from None
    entry = doc.get(_db_id(db_url)) if isinstance(doc, dict) else None
    if not isinstance(entry, dict):
        return None
    try:
        return KnownHead(normalise_root(str(entry["root"])), int(entry["size"]),
                         "the last verify", str(entry.get("timestamp", "")))
    except (KeyError, TypeError, ValueError, InputError):
        raise ConfigError("the remembered audit head is malformed", path=path) from None


def remember(home: Path, db_url: str, size: int, root: str, timestamp: str) -> None:
    from mlwarden.core.atomic import atomic_write_bytes

    path = state_path(home)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(doc, dict):
            doc = {}
    except (OSError, ValueError):
        doc = {}
    doc[_db_id(db_url)] = {"size": size, "root": root, "timestamp": timestamp}
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode("utf-8"),
                       mode=0o600)


def head_line(row: AuditTreeHead) -> str:
    return json.dumps({"type": HEAD_TYPE, "size": row.size, "root": row.root,
                       "timestamp": row.timestamp, "key_id": row.key_id,
                       "signature": row.signature}, sort_keys=True)


def append_to_sink(sink: str, line: str) -> str:
    """Append one JSON line to an append-only sink: a local path, ``file://`` or an fsspec URL."""
    data = (line.rstrip("\n") + "\n").encode("utf-8")
    local = sink[len("file://"):] if sink.startswith("file://") else sink
    if "://" not in local:
        path = Path(local)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise ConfigError(f"cannot append to the anchor sink: {exc.strerror or exc}",
                              path=path) from None
        return str(path)
    try:
        import fsspec
    except ImportError:  # pragma: no cover - fsspec ships with the registry extra
        raise ConfigError("an fsspec URL needs fsspec installed", path=sink) from None
    try:
        with fsspec.open(sink, "ab") as handle:
            handle.write(data)
    except (OSError, ValueError, NotImplementedError) as exc:
        raise ConfigError(f"cannot append to the anchor sink: {exc}", path=sink,
                          advice="the store must support appends (or object-lock versioning)"
                          ) from None
    return sink
