"""The audit log: tampering is detected, concurrent writers never fork it, a crash loses nothing."""

from __future__ import annotations

import itertools
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from mlwarden.gate import promotion
from mlwarden.registry import audit
from mlwarden.registry.service import Registry

from .conftest import Env


def _fill(env: Env, n: int) -> None:
    for i in range(n):
        env.reg.record(env.admin, "test.event", f"subject-{i}", {"i": i, "note": "ünïcode"})


def _verify(env: Env) -> audit.ChainStatus:
    return env.reg.audit_verify(env.admin)


def test_intact_chain_verifies_and_exports(env: Env) -> None:
    _fill(env, 5)
    status = _verify(env)
    assert status.intact and status.entries == 6 and status.head_seq == 6  # + registry.init
    records = list(env.reg.audit_records(env.admin))
    assert [r.seq for r in records] == list(range(1, 7))
    assert records[0].prev_hash == audit.GENESIS
    for prev, cur in itertools.pairwise(records):
        assert cur.prev_hash == prev.hash


@pytest.mark.parametrize("tamper, broken, words", [
    ("UPDATE audit_log SET actor = 'mallory' WHERE seq = 3", 3, "modified"),
    ("UPDATE audit_log SET details = '{\"i\":99,\"note\":\"x\"}' WHERE seq = 4", 4, "modified"),
    ("DELETE FROM audit_log WHERE seq = 3", 3, "missing"),
    ("DELETE FROM audit_log WHERE seq = 6", 6, "deleted from the end"),
])
def test_edit_or_delete_is_detected(env: Env, tamper: str, broken: int, words: str) -> None:
    _fill(env, 5)
    with env.reg.engine.begin() as conn:
        conn.exec_driver_sql(tamper)
    status = _verify(env)
    assert not status.intact
    assert status.broken_seq == broken, status
    assert words in (status.problem or "")


def test_reordering_is_detected(env: Env) -> None:
    _fill(env, 5)
    with env.reg.engine.begin() as conn:  # swap the contents of entries 3 and 4, keeping seq
        rows = {r.seq: r for r in conn.execute(text(
            "SELECT seq, prev_hash, hash, timestamp, actor, action, subject, details "
            "FROM audit_log WHERE seq IN (3, 4)"))}
        conn.execute(text("DELETE FROM audit_log WHERE seq IN (3, 4)"))
        for new_seq, old in ((3, rows[4]), (4, rows[3])):
            conn.execute(text("INSERT INTO audit_log (seq, prev_hash, hash, timestamp, actor, "
                              "action, subject, details) VALUES (:s, :p, :h, :t, :a, :ac, :su, :d)"),
                         {"s": new_seq, "p": old.prev_hash, "h": old.hash, "t": old.timestamp,
                          "a": old.actor, "ac": old.action, "su": old.subject, "d": old.details})
    status = _verify(env)
    assert not status.intact and status.broken_seq == 3


def test_rewriting_the_whole_tail_breaks_the_signed_checkpoint(env: Env) -> None:
    _fill(env, 4)
    env.reg.audit_checkpoint(env.admin)  # signed over entry 5
    _fill(env, 2)
    # An attacker with database access rewrites entry 3 and recomputes every later hash and link.
    with env.reg.engine.begin() as conn:
        rows = conn.execute(text("SELECT seq, prev_hash, timestamp, actor, action, subject, "
                                 "details FROM audit_log ORDER BY seq")).all()
        prev = audit.GENESIS
        for r in rows:
            actor = "mallory" if r.seq == 3 else r.actor
            h = audit.entry_hash(r.seq, prev, r.timestamp, actor, r.action, r.subject, r.details)
            conn.execute(text("UPDATE audit_log SET prev_hash = :p, hash = :h, actor = :a "
                              "WHERE seq = :s"), {"p": prev, "h": h, "a": actor, "s": r.seq})
            prev = h
        conn.execute(text("UPDATE audit_head SET hash = :h"), {"h": prev})
    status = _verify(env)
    assert not status.intact and status.broken_seq == 5
    assert "checkpoint" in (status.problem or "")


def test_a_forged_checkpoint_signature_is_detected(env: Env) -> None:
    _fill(env, 2)
    env.reg.audit_checkpoint(env.admin)
    with env.reg.engine.begin() as conn:
        conn.execute(text("UPDATE audit_checkpoints SET timestamp = '2000-01-01T00:00:00+00:00'"))
    status = _verify(env)
    assert not status.intact and "does not verify" in (status.problem or "")


def _append_many(db_url: str, home: str, store: str, worker: int, n: int) -> None:
    reg = Registry.open(home=home, db_url=db_url, store=store)
    try:
        for i in range(n):
            reg.record(f"worker-{worker}", "test.concurrent", f"w{worker}", {"i": i})
    finally:
        reg.close()


def test_concurrent_writers_never_fork_the_chain(env: Env, tmp_path: Path) -> None:
    workers, per_worker = 4, 50
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_append_many, args=(env.db_url, str(env.home),
                                                    str(tmp_path / "store"), w, per_worker))
             for w in range(workers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=240)
        assert p.exitcode == 0
    status = _verify(env)
    assert status.intact, status.problem
    assert status.entries == 1 + workers * per_worker
    records = [r for r in env.reg.audit_records(env.admin) if r.action == "test.concurrent"]
    for w in range(workers):  # each writer's entries all landed, in its own order
        assert [r.details["i"] for r in records if r.actor == f"worker-{w}"] == list(range(per_worker))
    with env.reg.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(DISTINCT prev_hash) FROM audit_log")).scalar() \
            == status.entries


_LOOP = """
import sys
from mlwarden.registry.service import Registry
reg = Registry.open(home=sys.argv[2], db_url=sys.argv[1], store=sys.argv[3])
i = 0
while True:
    reg.record("looper", "test.loop", "s", {"i": i, "pad": "x" * 2000})
    print(i, flush=True)  # printed only after the commit returned
    i += 1
"""


def test_kill_9_during_writes_loses_nothing_committed(env: Env, tmp_path: Path) -> None:
    script = tmp_path / "loop.py"
    script.write_text(_LOOP)
    proc = subprocess.Popen([sys.executable, str(script), env.db_url, str(env.home),
                             str(tmp_path / "store")], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    committed: list[int] = []
    deadline = time.monotonic() + 60
    while len(committed) < 40 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        committed.append(int(line))
    os.kill(proc.pid, signal.SIGKILL)
    rest = proc.stdout.read()
    proc.wait()
    committed += [int(x) for x in rest.split()]
    assert len(committed) >= 40
    status = _verify(env)
    assert status.intact, status.problem
    stored = [r.details["i"] for r in env.reg.audit_records(env.admin) if r.action == "test.loop"]
    assert stored[: len(committed)] == committed  # every acknowledged write survived
    assert len(stored) - len(committed) <= 1  # at most the one in flight, committed whole
    env.reg.record(env.admin, "test.after", "s")  # the chain continues after the crash
    assert _verify(env).intact


def _promote_and_push(db_url: str, home: str, store: str, token: str, ref: str,
                      model_file: str) -> None:
    reg = Registry.open(home=home, db_url=db_url, store=store)
    try:
        who = reg.authenticate(token)
        reg.push(who, Path(model_file), "m")  # unlabelled: the next number, one at a time
        promotion.promote(reg, who, ref, "production")
    finally:
        reg.close()


def test_concurrent_promotions_leave_one_production_version(env: Env, tmp_path: Path) -> None:
    from .helpers import clean_model, policy_file

    reg = env.reg
    who, token = env.user("pub", "publisher")
    lax = policy_file(tmp_path, "lax", gate="    scan: false\n")
    promotion.set_stage_policy(reg, env.admin, "staging", lax)
    promotion.set_stage_policy(reg, env.admin, "production", lax)
    refs = []
    for n in range(3):
        info = reg.push(who, clean_model(tmp_path / f"v{n}.bin", f"v{n}".encode()), "m")
        promotion.promote(reg, who, info.ref, "staging")
        refs.append(info.ref)
    promotion.promote(reg, who, refs[0], "production")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_promote_and_push, args=(
        env.db_url, str(env.home), str(tmp_path / "store"), token, ref,
        str(clean_model(tmp_path / f"new{i}.bin", f"new{i}".encode()))))
        for i, ref in enumerate(refs[1:])]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=240)
        assert p.exitcode == 0
    stages = {v.version: v.stage for v in reg.list_versions(who, "m")}
    assert sorted(stages) == ["1", "2", "3", "4", "5"]  # concurrent pushes got distinct numbers
    assert list(stages.values()).count("production") == 1, stages
    assert stages["1"] == "archived"
    assert _verify(env).intact
