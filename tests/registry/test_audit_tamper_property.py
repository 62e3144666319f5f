"""Property: after a client verified the log, no raw-SQL tampering by someone without the key
(truncate, rewrite from any entry, wipe, drop signed heads — alone or combined) verifies as intact,
and the error names what happened. SQLite (a fresh registry per example); the named PostgreSQL
variants are in test_audit_insider.py."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from mlwarden.registry import audit
from mlwarden.registry.service import Registry

NAMES = ("truncated", "wiped", "rewritten", "unsigned tail", "key replaced", "forged",
         "entry ")  # "entry N was modified / is missing / does not link"

Op = tuple[str, int]
ops = st.lists(st.one_of(st.tuples(st.just("truncate"), st.integers(0, 9)),
                         st.tuples(st.just("rewrite"), st.integers(1, 9)),
                         st.tuples(st.just("drop-heads"), st.integers(1, 9))),
               min_size=1, max_size=3)


def _apply(reg: Registry, op: Op) -> None:
    kind, k = op
    with reg.engine.begin() as conn:
        size = conn.execute(text("SELECT COALESCE(MAX(seq), 0) FROM audit_log")).scalar() or 0
        if kind == "truncate":
            keep = min(k, size)
            last = conn.execute(text("SELECT hash FROM audit_log WHERE seq = :k"), {"k": keep}
                                ).scalar() if keep else audit.GENESIS
            conn.execute(text("DELETE FROM audit_log WHERE seq > :k"), {"k": keep})
            conn.execute(text("DELETE FROM audit_tree_heads WHERE size > :k"), {"k": keep})
            conn.execute(text("DELETE FROM audit_checkpoints WHERE seq > :k"), {"k": keep})
            conn.execute(text("UPDATE audit_head SET seq = :k, hash = :h"), {"k": keep, "h": last})
        elif kind == "rewrite" and k <= size:
            rows = conn.execute(text("SELECT seq, prev_hash, hash, timestamp, actor, action, "
                                     "subject, details FROM audit_log ORDER BY seq")).all()
            prev = audit.GENESIS
            for r in rows:
                if r.seq < k:
                    prev = r.hash
                    continue
                actor = "mallory" if r.seq == k else r.actor
                h = audit.entry_hash(r.seq, prev, r.timestamp, actor, r.action, r.subject,
                                     r.details)
                conn.execute(text("UPDATE audit_log SET prev_hash = :p, hash = :h, actor = :a "
                                  "WHERE seq = :s"), {"p": prev, "h": h, "a": actor, "s": r.seq})
                prev = h
            conn.execute(text("UPDATE audit_head SET hash = :h"), {"h": prev})
            conn.execute(text("DELETE FROM audit_tree_heads WHERE size >= :k"), {"k": k})
            conn.execute(text("DELETE FROM audit_checkpoints WHERE seq >= :k"), {"k": k})
        elif kind == "drop-heads":
            conn.execute(text("DELETE FROM audit_tree_heads WHERE size >= :k"), {"k": k})


def _changed(before: list[tuple[int, str]], reg: Registry) -> bool:
    with reg.engine.connect() as conn:
        after = [(r.seq, r.hash) for r in conn.execute(text("SELECT seq, hash FROM audit_log "
                                                            "ORDER BY seq"))]
        heads = conn.execute(text("SELECT COALESCE(MAX(size), 0) FROM audit_tree_heads")).scalar()
    return after != before or heads != len(before)


def _check(operations: list[Op]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        reg = Registry.open(home=Path(tmp) / "h", db_url=f"sqlite:///{tmp}/r.db",
                            store=f"{tmp}/s")
        try:
            admin = reg.authenticate(reg.init("root"))
            for i in range(6):
                reg.record(admin, "test.event", f"s{i}", {"i": i})
            assert reg.audit_verify(admin).intact  # remembered: 7 entries
            with reg.engine.connect() as conn:
                before = [(r.seq, r.hash) for r in conn.execute(text(
                    "SELECT seq, hash FROM audit_log ORDER BY seq"))]
            for op in operations:
                _apply(reg, op)
            status = reg.audit_verify(admin, remember=False)
            if not _changed(before, reg):
                assert status.intact, status
                return
            assert not status.intact, (operations, status)
            assert (status.problem or "").startswith(NAMES), status.problem
        finally:
            reg.close()


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops)
def test_no_tampering_after_a_verify_passes(operations: list[Op]) -> None:
    _check(operations)


@pytest.mark.slow
@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops)
def test_no_tampering_after_a_verify_passes_long(operations: list[Op]) -> None:
    _check(operations)
