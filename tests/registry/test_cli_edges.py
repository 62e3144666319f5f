"""Smaller registry CLI promises (issue 13): exit codes for bad names and loops, no stranded
versions, signed versions pullable under the default policies, ad-hoc gates logged as such,
read-only commands that create nothing, and plain tables in a pipe."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mlwarden.core.errors import InputError
from mlwarden.core.modelfiles import list_model_files

from .conftest import CliRun
from .helpers import clean_model, new_key, oms_signature, policy_file
from .test_cli import _enrolled, _one_line_error

BAD_NAME = os.fsdecode(b"w\xff\xfe.bin")


def _init(cli: CliRun, home: Path) -> tuple[dict[str, str], dict[str, str]]:
    base = {"MLWARDEN_HOME": str(home)}
    admin = {**base, "MLWARDEN_TOKEN": cli("registry", "init", env=base,
                                           check=True).stdout.strip()}
    return admin, {**base, "MLWARDEN_TOKEN": _enrolled(cli, "pat", "publisher", admin)}


def test_a_non_utf8_file_name_is_exit_2_for_digest_sign_and_push(cli: CliRun, tmp_path: Path,
                                                                  home: Path) -> None:
    model = tmp_path / "m"
    clean_model(model / "ok.bin")
    (model / BAD_NAME).write_bytes(b"x")
    assert "not valid UTF-8" in _one_line_error(cli("digest", str(model)), 2)
    from mlwarden.sign.keys import generate_private_key, private_pem

    key = tmp_path / "k.pem"
    key.write_bytes(private_pem(generate_private_key("P-256"), None))
    key.chmod(0o600)
    signed = cli("sign", str(model), "--key", str(key), "--signature", str(tmp_path / "m.sig"))
    assert "not valid UTF-8" in _one_line_error(signed, 2, notes=True)
    _, pat = _init(cli, home)
    assert "not valid UTF-8" in _one_line_error(
        cli("registry", "push", str(model), "--name", "m", env=pat), 2)


def test_a_symlink_loop_is_bad_input_not_a_crash(tmp_path: Path) -> None:
    model = tmp_path / "loop"
    clean_model(model / "a.bin")
    (model / "self").symlink_to("../loop")
    with pytest.raises(InputError, match="symbolic link loop"):
        list_model_files(model, allow_symlinks=True)
    (model / "self").unlink()
    (model / "x").symlink_to("x")
    with pytest.raises(InputError, match="symbolic link loop"):
        list_model_files(model, allow_symlinks=True)


def test_push_refuses_a_name_pull_would_refuse(cli: CliRun, tmp_path: Path, home: Path) -> None:
    admin, pat = _init(cli, home)
    model = tmp_path / "m"
    clean_model(model / "ok.bin")
    (model / "sub\\evil.bin").write_bytes(b"x")
    assert "backslash" in _one_line_error(
        cli("registry", "push", str(model), "--name", "m", env=pat), 2)
    listed = cli("registry", "list", "--json", env=admin, check=True).stdout
    assert json.loads(listed) == []  # nothing stranded


def test_signed_versions_pull_under_the_default_policies(cli: CliRun, tmp_path: Path,
                                                         home: Path) -> None:
    _, pat = _init(cli, home)
    signer, _ = new_key(tmp_path, "k")
    model = clean_model(tmp_path / "m" / "w.bin", b"signed")
    (model.parent / "model.sig").write_text(oms_signature(model.parent, signer))
    cli("registry", "push", str(model.parent), "--name", "m", env=pat, check=True)
    cli("registry", "promote", "m@1", "--to", "staging", env=pat, check=True)
    cli("registry", "pull", "m@1", "-o", str(tmp_path / "out"), env=pat, check=True)
    assert (tmp_path / "out" / "w.bin").is_file()
    refused = cli("registry", "pull", "m@1", "-o", str(tmp_path / "out2"), "--require-signature",
                  env=pat)
    assert "no trusted key" in _one_line_error(refused, 1)


def test_a_publisher_s_own_policy_named_production_is_an_adhoc_gate(cli: CliRun, tmp_path: Path,
                                                                    home: Path) -> None:
    admin, pat = _init(cli, home)
    cli("registry", "push", str(clean_model(tmp_path / "m.bin")), "--name", "m", env=pat,
        check=True)
    mine = policy_file(tmp_path, "production", gate="    scan: false\n")
    res = cli("gate", "m@1", "--policy", str(mine), "--stage", "production", "-f", "json", env=pat)
    assert res.returncode == 0, res.stderr
    last = json.loads(cli("audit", "export", env=admin, check=True).stdout.splitlines()[-1])
    assert last["action"] == "gate.adhoc"
    assert last["details"]["is_stage_policy"] is False
    assert last["details"]["policy_digest"].startswith("sha256:")


def test_read_only_commands_create_no_database(cli: CliRun, tmp_path: Path) -> None:
    typo = tmp_path / "typo.sqlite"
    res = cli("audit", "verify", "--db", f"sqlite:///{typo}", env={"MLWARDEN_TOKEN": "x"})
    assert "no registry database" in _one_line_error(res, 2)
    assert not typo.exists()
    nohome = tmp_path / "nohome"
    res = cli("registry", "list", env={"MLWARDEN_HOME": str(nohome), "MLWARDEN_TOKEN": "x"})
    assert "no registry database" in _one_line_error(res, 2)
    assert not nohome.exists()


def test_registry_list_in_a_pipe_prints_full_digests(cli: CliRun, tmp_path: Path,
                                                     home: Path) -> None:
    _, pat = _init(cli, home)
    pushed = json.loads(cli("registry", "push", str(clean_model(tmp_path / "m.bin")), "--name",
                            "m", "--json", env=pat, check=True).stdout)
    listed = cli("registry", "list", env=pat, check=True).stdout.splitlines()
    assert listed[0].split("\t")[:4] == ["model", "version", "stage", "digest"]
    assert listed[1].split("\t")[3] == pushed["digest"] and "…" not in listed[1]
