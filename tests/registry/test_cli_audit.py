"""``audit verify --key/--expect-head/--since-head`` and ``audit anchor`` as a user runs them."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

from .conftest import CliRun


def _error(proc: subprocess.CompletedProcess[str], code: int) -> str:
    assert proc.returncode == code, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert lines and lines[-1].startswith("mlwarden: error: ") and "Traceback" not in proc.stderr
    return lines[-1]


def test_anchor_then_detect_truncation_wipe_and_head_mismatch(cli: CliRun, tmp_path: Path) -> None:
    home = tmp_path / "mwhome"
    base = {"MLWARDEN_HOME": str(home)}
    admin = {**base, "MLWARDEN_TOKEN": cli("registry", "init", env=base, check=True).stdout.strip()}
    for name in ("u1", "u2", "u3"):
        cli("registry", "user", "add", name, "--role", "reader", env=admin, check=True)
    sink = tmp_path / "worm" / "heads.jsonl"
    anchored = cli("audit", "anchor", str(sink), env=admin, check=True)
    assert "anchored head of" in anchored.stdout
    head = json.loads(sink.read_text().splitlines()[-1])
    assert head["type"] == "mlwarden-audit-tree-head/v1" and head["size"] >= 4
    cli("audit", "anchor", f"file://{sink}", env=admin, check=True)
    assert len(sink.read_text().splitlines()) == 2  # appended, never rewritten

    ok = cli("audit", "verify", "--since-head", str(sink), "--expect-head", head["root"],
             env=admin, check=True)
    assert "intact" in ok.stdout and head["root"] in ok.stdout

    other = {**admin, "MLWARDEN_HOME": str(tmp_path / "elsewhere"),
             "MLWARDEN_DB": f"sqlite:///{home / 'registry.db'}"}
    assert "no pinned registry key" in _error(cli("audit", "verify", env=other), 2)
    pinned = str(home / "registry" / "checkpoint-key.pub")
    cli("audit", "verify", "--key", pinned, env=other, check=True)

    with sqlite3.connect(home / "registry.db") as conn:  # delete the newest entry, fix the head
        size = conn.execute("SELECT MAX(seq) FROM audit_log").fetchone()[0]
        prev = conn.execute("SELECT hash FROM audit_log WHERE seq = ?", (size - 1,)).fetchone()[0]
        conn.execute("DELETE FROM audit_log WHERE seq = ?", (size,))
        conn.execute("DELETE FROM audit_tree_heads WHERE size = ?", (size,))
        conn.execute("UPDATE audit_head SET seq = ?, hash = ?", (size - 1, prev))
    assert "truncated" in _error(cli("audit", "verify", env=admin), 1)
    fresh = {**other, "MLWARDEN_HOME": str(tmp_path / "fresh")}
    assert "truncated" in _error(cli("audit", "verify", "--key", pinned, "--since-head",
                                     str(sink), env=fresh), 1)
    assert "head mismatch" in _error(cli("audit", "verify", "--key", pinned, "--expect-head",
                                         head["root"], env=fresh), 1)
    assert "not a tree head hash" in _error(cli("audit", "verify", "--since-head", "abc",
                                                env=admin), 2)

    with sqlite3.connect(home / "registry.db") as conn:
        for table in ("audit_log", "audit_tree_heads", "audit_checkpoints"):
            conn.execute(f"DELETE FROM {table}")
        conn.execute("UPDATE audit_head SET seq = 0, hash = ?", ("sha256:" + "0" * 64,))
    assert "wiped" in _error(cli("audit", "verify", "--key", pinned, env=fresh), 1)
