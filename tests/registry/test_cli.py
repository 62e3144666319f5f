"""The registry, gate and audit commands as a user runs them: exit codes and one-line errors.

The commands run in-process through :func:`mlwarden.cli.main.run` (the same single error handler
as the console script, without paying interpreter start-up two dozen times).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from .conftest import CliRun
from .helpers import clean_model, new_key, oms_signature, policy_file, weights_file


def _one_line_error(proc: object, code: int, *, notes: bool = False) -> str:
    """The single error line (after progress notes such as "wrote … report" when ``notes``)."""
    assert proc.returncode == code, (proc.stdout, proc.stderr)  # type: ignore[attr-defined]
    lines = proc.stderr.strip().splitlines()  # type: ignore[attr-defined]
    assert lines and lines[-1].startswith("mlwarden: error: "), lines
    assert "Traceback" not in proc.stderr  # type: ignore[attr-defined]
    assert len(lines) == 1 or (notes and sum("error" in x for x in lines) == 1), lines
    return lines[-1]


def _enrolled(cli: CliRun, name: str, role: str, as_admin: dict[str, str]) -> str:
    """Invite ``name`` as the admin, enrol as the user: the user's own token."""
    code = cli("registry", "user", "invite", name, "--role", role, env=as_admin,
               check=True).stdout.strip()
    assert code.startswith("mlwi_")
    base = {k: v for k, v in as_admin.items() if k != "MLWARDEN_TOKEN"}
    return cli("registry", "enrol", code, env=base, check=True).stdout.strip()


def test_registry_cli_flow(cli: CliRun, tmp_path: Path, home: Path) -> None:
    base = {"MLWARDEN_HOME": str(home)}
    init = cli("registry", "init", "--admin", "ada", env=base)
    assert init.returncode == 0, init.stderr
    admin = init.stdout.strip()
    assert admin.startswith("mlw_") and "shown once" in init.stderr
    as_admin = {**base, "MLWARDEN_TOKEN": admin}
    again = cli("registry", "init", env=base)
    assert "already initialised" in _one_line_error(again, 2)

    pub_tok = _enrolled(cli, "pat", "publisher", as_admin)
    appr_tok = _enrolled(cli, "ann", "approver", as_admin)
    as_pub = {**base, "MLWARDEN_TOKEN": pub_tok}
    signer, pub = new_key(tmp_path, "release")
    model = clean_model(tmp_path / "model" / "w.bin", b"weights")
    (model.parent / "model.sig").write_text(oms_signature(model.parent, signer))
    pushed = cli("registry", "push", str(model.parent), "--name", "churn", "--json", env=as_pub)
    assert pushed.returncode == 0, pushed.stderr
    info = json.loads(pushed.stdout)
    assert info["version"] == "1" and info["attestations"][0]["kind"] == "signature"

    pol = policy_file(tmp_path, "prod", gate=f"    signature: true\n    trusted_keys: "
                                             f"[{pub.name}]\n    approvals: 1\n")
    cli("registry", "policy", "set", "production", str(pol), env=as_admin, check=True)
    cli("registry", "policy", "set", "staging", str(pol), env=as_admin, check=True)
    assert "may not set-policy" in _one_line_error(
        cli("registry", "policy", "set", "production", str(pol), env=as_pub), 1)

    sarif = tmp_path / "deny.sarif"
    denied = cli("registry", "promote", "churn@1", "--to", "staging", "-f", "sarif",
                 "-o", str(sarif), env=as_pub)
    assert "approval" in _one_line_error(denied, 1, notes=True)
    assert "MW-GATE-006" in sarif.read_text()
    cli("registry", "approve", "churn@1", "--stage", "staging", env={**base, "MLWARDEN_TOKEN":
                                                                    appr_tok}, check=True)
    cli("registry", "promote", "churn@1", "--to", "staging", env=as_pub, check=True)
    shown = cli("registry", "show", "churn@1", env=as_pub, check=True).stdout
    assert "stage=staging" in shown and "approved for staging by ann" in shown

    out = tmp_path / "pulled"
    cli("registry", "pull", "churn@1", "-o", str(out), env=as_pub, check=True)
    assert (out / "w.bin").read_bytes() == weights_file(b"weights")

    assert "may not push" in _one_line_error(
        cli("registry", "push", str(model), "--name", "x", env={**base, "MLWARDEN_TOKEN":
                                                                 appr_tok}), 1)
    assert "unknown model" in _one_line_error(cli("registry", "show", "nope", env=as_pub), 2)
    assert "no API token" in _one_line_error(cli("registry", "list", env=base), 2)
    assert "unsupported database" in _one_line_error(
        cli("registry", "list", "--db", "mysql://u@h/db", env=as_pub), 2)
    assert "cannot open" in _one_line_error(
        cli("registry", "list", "--db", "postgresql://u@127.0.0.1:1/db", env=as_pub), 2)

    verified = cli("audit", "verify", env=as_admin)
    assert verified.returncode == 0 and "intact" in verified.stdout
    export = tmp_path / "audit.jsonl"
    cli("audit", "export", "-o", str(export), env=as_admin, check=True)
    lines = [json.loads(x) for x in export.read_text().splitlines()]
    assert {"registry.init", "version.promote.denied", "version.promote", "version.pull"} <= \
        {x["action"] for x in lines}
    with sqlite3.connect(home / "registry.db") as conn:
        conn.execute("UPDATE audit_log SET subject = 'churn@2' WHERE action = 'version.pull'")
    seq = next(x["seq"] for x in lines if x["action"] == "version.pull")
    broken = _one_line_error(cli("audit", "verify", env=as_admin), 1)
    assert f"broken at entry {seq}" in broken


def test_gate_on_a_registry_version_records_the_decision(cli: CliRun, tmp_path: Path,
                                                         home: Path) -> None:
    base = {"MLWARDEN_HOME": str(home)}
    token = cli("registry", "init", env=base, check=True).stdout.strip()
    env = {**base, "MLWARDEN_TOKEN": token}
    cli("registry", "push", str(clean_model(tmp_path / "m.bin")), "--name", "m", env=env,
        check=True)
    pol = policy_file(tmp_path, "p", gate="    signature: true\n")
    res = cli("gate", "m@1", "--policy", str(pol), "-f", "json", env=env)
    assert res.returncode == 1, res.stderr
    assert json.loads(res.stdout)["decision"]["verdict"] == "deny"
    export = cli("audit", "export", env=env, check=True).stdout.splitlines()
    last = json.loads(export[-1])
    assert last["action"] == "gate.adhoc" and last["details"]["decision"]["verdict"] == "deny"


def test_user_and_token_commands(cli: CliRun, home: Path) -> None:
    base = {"MLWARDEN_HOME": str(home)}
    admin = {**base, "MLWARDEN_TOKEN": cli("registry", "init", env=base, check=True).stdout.strip()}
    tok = _enrolled(cli, "rita", "reader,auditor", admin)
    rita = {**base, "MLWARDEN_TOKEN": tok}
    second = cli("registry", "token", "create", env=rita, check=True).stdout.strip()
    assert second.startswith("mlw_") and second != tok
    listed = cli("registry", "user", "list", env=admin, check=True).stdout
    assert "rita: auditor, reader" in listed and second.split("_")[1] in listed
    assert "may not manage-users" in _one_line_error(cli("registry", "user", "list", env=rita), 1)
    cli("registry", "token", "revoke", tok.split("_")[1], env=rita, check=True)
    assert "revoked" in _one_line_error(cli("registry", "list", env=rita), 1)
    rita2 = {**base, "MLWARDEN_TOKEN": second}
    cli("audit", "verify", env=rita2, check=True)
    cli("registry", "user", "roles", "rita", "--role", "reader", env=admin, check=True)
    assert "may not audit" in _one_line_error(cli("audit", "verify", env=rita2), 1)
    assert "unknown role" in _one_line_error(
        cli("registry", "user", "invite", "x", "--role", "root", env=admin), 2)
    assert "cannot remove their own admin" in _one_line_error(
        cli("registry", "user", "roles", "admin", "--role", "reader", env=admin), 1)
