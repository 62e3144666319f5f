"""Attacks on the audit log by someone who can write the database but does not hold the registry's
private key (issue 13): each is raw SQL on SQLite and PostgreSQL, and each is detected and named.

The claims in docs/registry.md ("What an attacker with database access can and cannot do") point
at these tests.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from sqlalchemy import text

from mlwarden.core.errors import ConfigError, InputError
from mlwarden.registry import audit, treehead
from mlwarden.registry.merkle import Frontier, root_text
from mlwarden.registry.service import Registry
from mlwarden.sign.keys import EcdsaSigner, generate_private_key, public_pem

from .conftest import Env


def _fill(env: Env, n: int) -> None:
    for i in range(n):
        env.reg.record(env.admin, "test.event", f"subject-{i}", {"i": i})


def _verify(env: Env, **kw: object) -> audit.ChainStatus:
    return env.reg.audit_verify(env.admin, **kw)  # type: ignore[arg-type]


def _fresh_client(env: Env, tmp_path: Path) -> Registry:
    """Another machine: its own home (no remembered head), the registry's public key pinned."""
    home = tmp_path / "other-client"
    (home / "registry").mkdir(parents=True)
    (home / "registry" / "checkpoint-key.pub").write_bytes(
        env.reg.config.public_key_path.read_bytes())
    return Registry.open(home=home, db_url=env.db_url, store=str(tmp_path / "store"))


def _truncate(env: Env, keep: int, *, heads_too: bool = True) -> None:
    """Delete the entries after ``keep`` and fix the chain head (and the signed records)."""
    with env.reg.engine.begin() as conn:
        last = conn.execute(text("SELECT hash FROM audit_log WHERE seq = :k"), {"k": keep}
                            ).scalar() if keep else audit.GENESIS
        conn.execute(text("DELETE FROM audit_log WHERE seq > :k"), {"k": keep})
        conn.execute(text("UPDATE audit_head SET seq = :k, hash = :h, frontier = NULL"),
                     {"k": keep, "h": last})
        conn.execute(text("DELETE FROM audit_checkpoints WHERE seq > :k"), {"k": keep})
        if heads_too:
            conn.execute(text("DELETE FROM audit_tree_heads WHERE size > :k"), {"k": keep})


def _rewrite_from(env: Env, first: int, actor: str = "mallory") -> None:
    """Change entry ``first``'s actor and recompute every later hash and link and the head."""
    with env.reg.engine.begin() as conn:
        rows = conn.execute(text("SELECT seq, prev_hash, hash, timestamp, actor, action, subject, "
                                 "details FROM audit_log ORDER BY seq")).all()
        prev = audit.GENESIS
        for r in rows:
            if r.seq < first:
                prev = r.hash
                continue
            who = actor if r.seq == first else r.actor
            h = audit.entry_hash(r.seq, prev, r.timestamp, who, r.action, r.subject, r.details)
            conn.execute(text("UPDATE audit_log SET prev_hash = :p, hash = :h, actor = :a "
                              "WHERE seq = :s"), {"p": prev, "h": h, "a": who, "s": r.seq})
            prev = h
        conn.execute(text("UPDATE audit_head SET hash = :h, frontier = NULL"), {"h": prev})


def _resign_everything(env: Env, signer: EcdsaSigner) -> None:
    """The attacker's own key: recompute every tree head and checkpoint and sign them."""
    reg = env.reg
    with reg.transaction() as s:
        entries = [audit.leaf_bytes(r) for r in audit.iter_entries(s)]
    with env.reg.engine.begin() as conn:
        heads = [r.size for r in conn.execute(text("SELECT size FROM audit_tree_heads"))]
        frontier = Frontier()
        roots = {}
        for leaf in entries:
            frontier.append(leaf)
            roots[frontier.size] = root_text(frontier.root())
        for size in heads:
            ts = "2026-01-01T00:00:00.000000+00:00"
            sig = base64.b64encode(signer.sign(treehead.head_payload(size, roots[size], ts)))
            conn.execute(text("UPDATE audit_tree_heads SET root = :r, timestamp = :t, key_id = :k, "
                              "signature = :s WHERE size = :n"),
                         {"r": roots[size], "t": ts, "k": signer.keyid, "s": sig.decode(),
                          "n": size})
        for cp in conn.execute(text("SELECT seq, entry_hash, timestamp FROM audit_checkpoints")
                               ).all():
            sig = base64.b64encode(signer.sign(audit.checkpoint_payload(cp.seq, cp.entry_hash,
                                                                        cp.timestamp)))
            conn.execute(text("UPDATE audit_checkpoints SET key_id = :k, signature = :s "
                              "WHERE seq = :n"), {"k": signer.keyid, "s": sig.decode(),
                                                   "n": cp.seq})


def test_every_action_leaves_a_signed_head_and_the_log_verifies(env: Env) -> None:
    _fill(env, 5)
    status = _verify(env)
    assert status.intact, status.problem
    assert status.tree_heads == 6 and status.entries == 6
    _fill(env, 2)  # the log grew: it still extends the remembered head
    assert _verify(env).intact


def test_truncation_is_named_by_a_client_that_verified_before(env: Env) -> None:
    _fill(env, 5)
    assert _verify(env).intact  # remembered: 6 entries
    _truncate(env, 4)
    status = _verify(env)
    assert not status.intact and (status.problem or "").startswith("truncated"), status


def test_truncation_is_named_against_an_anchor(env: Env, tmp_path: Path) -> None:
    _fill(env, 5)
    line = env.reg.audit_latest_head(env.admin)
    assert line is not None
    sink = tmp_path / "anchors" / "heads.jsonl"
    treehead.append_to_sink(str(sink), line)
    _truncate(env, 3)
    client = _fresh_client(env, tmp_path)
    try:
        assert client.audit_verify(env.admin, remember=False).intact  # without the anchor: blind
        status = client.audit_verify(env.admin, since=[treehead.since_head(str(sink))])
        assert not status.intact and (status.problem or "").startswith("truncated"), status
    finally:
        client.close()


def test_a_wipe_is_named_even_by_a_new_client(env: Env, tmp_path: Path) -> None:
    _fill(env, 3)
    assert _verify(env).intact
    _truncate(env, 0)
    status = _verify(env)
    assert not status.intact and (status.problem or "").startswith("wiped"), status
    client = _fresh_client(env, tmp_path)
    try:
        status = client.audit_verify(env.admin)
        assert not status.intact and (status.problem or "").startswith("wiped"), status
    finally:
        client.close()


def test_key_replacement_and_resigning_is_named(env: Env) -> None:
    _fill(env, 3)
    env.reg.audit_checkpoint(env.admin)
    _rewrite_from(env, 2)
    mallory = EcdsaSigner(generate_private_key("P-256"))
    _resign_everything(env, mallory)
    with env.reg.engine.begin() as conn:
        conn.execute(text("UPDATE registry_meta SET value = :v WHERE key = 'registry_public_key'"),
                     {"v": public_pem(mallory.public_key).decode()})
    status = _verify(env)
    assert not status.intact and (status.problem or "").startswith("key replaced"), status


def test_resigning_with_another_key_but_keeping_the_stored_key_is_named(env: Env) -> None:
    _fill(env, 3)
    _rewrite_from(env, 3)
    _resign_everything(env, EcdsaSigner(generate_private_key("P-256")))
    status = _verify(env)
    assert not status.intact and (status.problem or "").startswith("key replaced"), status


def test_rewriting_after_the_last_checkpoint_is_named(env: Env) -> None:
    _fill(env, 4)
    env.reg.audit_checkpoint(env.admin)  # checkpoint at entry 5
    _fill(env, 3)
    _rewrite_from(env, 7)  # after the checkpoint: the old hash chain cannot see it
    status = _verify(env)
    assert not status.intact and (status.problem or "").startswith("rewritten"), status
    assert status.broken_seq == 7


def test_rewriting_and_deleting_the_newer_heads_is_named(env: Env, tmp_path: Path) -> None:
    _fill(env, 6)
    assert _verify(env).intact  # this client remembers 7 entries
    _rewrite_from(env, 6)
    with env.reg.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_tree_heads WHERE size >= 6"))
    status = _verify(env)
    assert not status.intact and (status.problem or "").startswith("rewritten"), status
    client = _fresh_client(env, tmp_path)  # a client that never saw it: the tail is unsigned
    try:
        status = client.audit_verify(env.admin)
        assert not status.intact and (status.problem or "").startswith("unsigned tail"), status
    finally:
        client.close()


def test_appending_forged_entries_without_the_key_is_named(env: Env) -> None:
    _fill(env, 2)
    with env.reg.transaction() as s:  # a valid chain link, but no signature can follow it
        audit.append(s, actor="mallory", action="version.promote", subject="m@1", signer=None)
    status = _verify(env)
    assert not status.intact and (status.problem or "").startswith("unsigned tail"), status
    assert status.broken_seq == 4


def test_a_forged_tree_head_signature_is_named(env: Env) -> None:
    _fill(env, 2)
    with env.reg.engine.begin() as conn:
        conn.execute(text("UPDATE audit_tree_heads SET timestamp = '2000-01-01T00:00:00+00:00'"))
    status = _verify(env)
    assert not status.intact and (status.problem or "").startswith("forged"), status


def test_expect_head_and_since_head_hash(env: Env) -> None:
    _fill(env, 2)
    status = _verify(env)
    assert status.root is not None
    assert _verify(env, expect_root=status.root).intact
    old = status.root
    _fill(env, 1)
    assert _verify(env, since=[treehead.since_head(old)]).intact  # still a prefix
    status = _verify(env, expect_root=old)
    assert not status.intact and (status.problem or "").startswith("head mismatch"), status
    _rewrite_from(env, 2)
    with env.reg.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_tree_heads"))
    status = _verify(env, since=[treehead.since_head(old)], remember=False)
    assert not status.intact and (status.problem or "").startswith("rewritten"), status


def test_the_database_copy_of_the_key_is_never_trusted_alone(env: Env, tmp_path: Path) -> None:
    _fill(env, 1)
    home = tmp_path / "keyless"
    client = Registry.open(home=home, db_url=env.db_url, store=str(tmp_path / "store"))
    try:
        with pytest.raises(ConfigError, match="no pinned registry key"):
            client.audit_verify(env.admin)
        assert client.audit_verify(env.admin, key=env.reg.config.public_key_path).intact
    finally:
        client.close()


def test_a_malformed_since_head_is_refused() -> None:
    with pytest.raises(InputError, match="not a tree head hash"):
        treehead.since_head("deadbeef")


def test_remembered_head_file_is_private_and_names_the_database(env: Env) -> None:
    _fill(env, 1)
    assert _verify(env).intact
    path = treehead.state_path(env.home)
    assert path.stat().st_mode & 0o077 == 0
    doc = json.loads(path.read_text())
    assert [v["size"] for v in doc.values()] == [2]


def test_a_log_from_before_tree_heads_is_covered_by_the_next_checkpoint(env: Env) -> None:
    _fill(env, 4)
    with env.reg.engine.begin() as conn:  # what migration 0002 leaves: no heads, no frontier
        conn.execute(text("DELETE FROM audit_tree_heads"))
        conn.execute(text("UPDATE audit_head SET frontier = NULL"))
    status = _verify(env, remember=False)
    assert not status.intact and (status.problem or "").startswith("unsigned tail"), status
    env.reg.audit_checkpoint(env.admin)  # rebuilds the frontier from the entries and signs it
    status = _verify(env)
    assert status.intact and status.tree_heads == 1, status
    _fill(env, 1)
    assert _verify(env).intact
