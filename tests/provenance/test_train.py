"""``mlwarden train`` (library and CLI): what is captured, failures, git and no git, params."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from mlwarden.core.attestation import verify_envelope
from mlwarden.core.errors import InputError, UsageError
from mlwarden.provenance import store
from mlwarden.provenance.lineage import Status, lineage_findings, trace_model
from mlwarden.provenance.slsa import TrainingRun
from mlwarden.provenance.train import train
from mlwarden.sign.manifest import model_digest

from .conftest import Keys, git, init_repo, needs_git, run_cli

WRITE_MODEL = ("import sys, pathlib; p = pathlib.Path(sys.argv[1]); "
               "p.parent.mkdir(parents=True, exist_ok=True); p.write_bytes(b'weights-' + "
               "pathlib.Path('data.csv').read_bytes()[:8])")


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "data.csv").write_text("x,y\n1,2\n3,4\n5,6\n")
    return root


def _train(root: Path, keys: Keys, **kw: object) -> object:
    args = dict(data=[Path("data.csv")], outputs=[Path("model.bin")], signer=keys.signer,
                cwd=root, home=root / ".mlwarden", environ={})
    args.update(kw)
    command = args.pop("command", [sys.executable, "-c", WRITE_MODEL, "model.bin"])
    return train(command, **args)  # type: ignore[arg-type]


def _run(root: Path, keys: Keys) -> TrainingRun:
    envelope = store.load(root / "model.bin.provenance.json")
    return TrainingRun.from_statement(verify_envelope(envelope, [keys.verifier]))


@needs_git
def test_git_state_is_captured_before_the_run(tmp_path: Path, keys: Keys) -> None:
    root = _project(tmp_path)
    commit = init_repo(root)
    result = _train(root, keys)
    assert result.ok  # type: ignore[attr-defined]
    run = _run(root, keys)
    code = run.code
    assert code is not None and code.digest == {"gitCommit": commit}
    # the model the run wrote is untracked, but the tree was clean when training started
    assert code.annotations["dirty"] is False and "diffSha256" not in code.annotations
    assert code.uri is not None and code.uri.startswith("git+file://")
    assert run.subjects[0].name == "model.bin"
    assert run.subjects[0].digest["sha256"] == model_digest(root / "model.bin").split(":")[1]
    assert store.index_path(model_digest(root / "model.bin"), root / ".mlwarden").is_file()
    assert run.exit_code == 0 and run.started_on <= run.finished_on
    assert run.environment["python"]["version"] == ".".join(map(str, sys.version_info[:3]))
    assert any(p["name"].lower() == "scikit-learn" for p in run.environment["packages"])


@needs_git
def test_dirty_tree_is_recorded_with_a_diff_digest(tmp_path: Path, keys: Keys) -> None:
    root = _project(tmp_path)
    init_repo(root)
    (root / "data.csv").write_text("x,y\n1,2\n")
    _train(root, keys)
    first = _run(root, keys).code
    assert first is not None and first.annotations["dirty"] is True
    (root / "data.csv").write_text("x,y\n9,9\n")
    _train(root, keys)
    second = _run(root, keys).code
    assert second is not None
    assert second.annotations["diffSha256"] != first.annotations["diffSha256"]
    lineage = trace_model(root / "model.bin", verifiers=[keys.verifier], cwd=root,
                          home=root / ".mlwarden")
    assert lineage.ok  # a dirty tree is a finding, not a broken link
    assert "MW-PROV-006" in [f.rule_id for f in lineage_findings(lineage)]
    git(root, "commit", "-qam", "data")
    assert "MW-PROV-006" in [f.rule_id for f in lineage_findings(lineage)]


def test_no_git_repository_means_no_code_identity(tmp_path: Path, keys: Keys) -> None:
    root = _project(tmp_path)
    _train(root, keys)
    assert _run(root, keys).code is None
    lineage = trace_model(root / "model.bin", verifiers=[keys.verifier], cwd=root,
                          home=root / ".mlwarden")
    assert lineage.ok
    assert [f.rule_id for f in lineage_findings(lineage)] == ["MW-PROV-007"]


def test_params_from_file_environment_and_flags(tmp_path: Path, keys: Keys) -> None:
    root = _project(tmp_path)
    (root / "params.yaml").write_text("lr: 0.01\nepochs: 3\nlayers: [64, 32]\nseed: 1\n")
    _train(root, keys, params_file=Path("params.yaml"), param_flags=["epochs=5", "name=run a"],
           environ={"MLWARDEN_PARAM_SEED": "42", "MLWARDEN_PARAM_BATCH_SIZE": "32",
                    "UNRELATED": "x"})
    run = _run(root, keys)
    assert dict(run.parameters) == {"lr": 0.01, "epochs": 5, "layers": [64, 32], "seed": 42,
                                    "batch_size": 32, "name": "run a"}
    assert run.seed == 42
    params_dep = run.of_kind("params-file")
    assert len(params_dep) == 1 and params_dep[0].name == "params.yaml"


def test_failing_command_writes_no_attestation(tmp_path: Path, keys: Keys) -> None:
    root = _project(tmp_path)
    result = _train(root, keys, command=[sys.executable, "-c",
                                         "open('model.bin', 'w').write('half'); raise SystemExit(5)"])
    assert result.exit_code == 5 and not result.ok  # type: ignore[attr-defined]
    assert not (root / "model.bin.provenance.json").exists()
    assert not (root / ".mlwarden" / "attestations").exists()
    record = json.loads(result.failure_record.read_text())  # type: ignore[attr-defined]
    assert record["status"] == "failed" and record["exitCode"] == 5
    assert record["resolvedDependencies"][0]["name"] == "data.csv"


def test_failing_command_cli_exits_with_its_code(tmp_path: Path, keys: Keys) -> None:
    root = _project(tmp_path)
    proc = run_cli("train", "--data", "data.csv", "--out", "model.bin", "--key", str(keys.private),
                   "--", sys.executable, "-c", "import sys; print('training...'); sys.exit(5)",
                   cwd=root)
    assert proc.returncode == 5
    assert "training..." in proc.stdout  # the command's own stdio is inherited
    assert "no provenance attestation written" in proc.stderr
    assert not (root / "model.bin.provenance.json").exists()


def test_missing_data_fails_before_the_command_runs(tmp_path: Path, keys: Keys) -> None:
    root = _project(tmp_path)
    with pytest.raises(InputError, match="dataset not found"):
        _train(root, keys, data=[Path("missing.csv")])
    assert not (root / "model.bin").exists()
    proc = run_cli("train", "--data", "missing.csv", "--out", "model.bin", "--key",
                   str(keys.private), "--", sys.executable, "-c", WRITE_MODEL, "model.bin",
                   cwd=root)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"mlwarden: error: {root / 'missing.csv'}: dataset not found"]
    assert not (root / "model.bin").exists()


def test_output_not_produced_and_command_not_found(tmp_path: Path, keys: Keys) -> None:
    root = _project(tmp_path)
    with pytest.raises(InputError, match="declared output was not produced"):
        _train(root, keys, command=[sys.executable, "-c", "pass"])
    with pytest.raises(InputError, match="training command not found"):
        _train(root, keys, command=["no-such-trainer-xyz"])
    assert not (root / "model.bin.provenance.json").exists()


def test_cli_usage_errors(tmp_path: Path, keys: Keys) -> None:
    root = _project(tmp_path)
    no_key = run_cli("train", "--out", "m", "--", "true", cwd=root)
    assert no_key.returncode == 2 and "--key" in no_key.stderr
    no_cmd = run_cli("train", "--out", "m", "--key", str(keys.private), cwd=root)
    assert no_cmd.returncode == 2 and "no training command" in no_cmd.stderr
    no_out = run_cli("train", "--key", str(keys.private), "--", "true", cwd=root)
    assert no_out.returncode == 2 and "--out" in no_out.stderr
    bad_param = run_cli("train", "--out", "m", "--key", str(keys.private), "--param", "novalue",
                        "--", "true", cwd=root)
    assert bad_param.returncode == 2 and "KEY=VALUE" in bad_param.stderr
    for proc in (no_key, no_cmd, no_out, bad_param):
        assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_directory_model_base_model_and_lock_file(tmp_path: Path, keys: Keys) -> None:
    root = _project(tmp_path)
    base = root / "base"
    base.mkdir()
    (base / "weights.bin").write_bytes(b"\x00" * 64)
    (root / "uv.lock").write_text("version = 1\n")
    script = ("import pathlib; d = pathlib.Path('out'); d.mkdir(); "
              "(d / 'weights.bin').write_bytes(b'w'); (d / 'config.json').write_text('{}')")
    with pytest.raises(UsageError, match="inside the output folder"):
        (root / "out").mkdir()
        _train(root, keys, outputs=[Path("out")], attestation=Path("out/att.json"),
               command=[sys.executable, "-c", script])
    (root / "out").rmdir()
    result = _train(root, keys, outputs=[Path("out")], base_model=Path("base"),
                    command=[sys.executable, "-c", script])
    assert result.attestation == root / "out.provenance.json"  # type: ignore[attr-defined]
    run = TrainingRun.from_statement(verify_envelope(store.load(root / "out.provenance.json"),
                                                     [keys.verifier]))
    assert run.subjects[0].digest["sha256"] == model_digest(root / "out").split(":")[1]
    assert [d.name for d in run.of_kind("base-model")] == ["base"]
    assert [d.name for d in run.of_kind("lockfile")] == ["uv.lock"]
    (base / "weights.bin").write_bytes(b"\x01" * 64)
    lineage = trace_model(root / "out", verifiers=[keys.verifier], cwd=root,
                          home=root / ".mlwarden")
    assert not lineage.ok
    assert "MW-PROV-010" in [f.rule_id for f in lineage_findings(lineage)]


def test_found_by_digest_and_unavailable_inputs(tmp_path: Path, keys: Keys) -> None:
    root = _project(tmp_path)
    _train(root, keys, home=tmp_path / "state")
    elsewhere = tmp_path / "deploy"
    elsewhere.mkdir()
    (elsewhere / "model.bin").write_bytes((root / "model.bin").read_bytes())
    (root / "data.csv").unlink()
    lineage = trace_model(elsewhere / "model.bin", verifiers=[keys.verifier], cwd=elsewhere,
                          home=tmp_path / "state")
    statuses = {link.kind: link.status for link in lineage.links()}
    assert statuses["subject"] is Status.VERIFIED
    assert statuses["dataset"] is Status.UNAVAILABLE
    assert lineage.ok  # a dataset that is not here is not a mismatch
    rules = [f.rule_id for f in lineage_findings(lineage)]
    assert "MW-PROV-005" in rules and "MW-PROV-004" not in rules


@needs_git
def test_findings_from_a_bare_statement(tmp_path: Path, keys: Keys) -> None:
    root = _project(tmp_path)
    _train(root, keys)
    statement = verify_envelope(store.load(root / "model.bin.provenance.json"), [keys.verifier])
    assert [f.rule_id for f in lineage_findings(statement)] == ["MW-PROV-007"]
    init_repo(root)
    _train(root, keys)
    statement = verify_envelope(store.load(root / "model.bin.provenance.json"), [keys.verifier])
    assert lineage_findings(statement) == []
    (root / "data.csv").write_text("x,y\n0,0\n")
    _train(root, keys)
    statement = verify_envelope(store.load(root / "model.bin.provenance.json"), [keys.verifier])
    assert [f.rule_id for f in lineage_findings(statement)] == ["MW-PROV-006"]


def test_forged_attestation_paths_are_not_followed(tmp_path: Path, keys: Keys) -> None:
    from mlwarden.core.attestation import sign_statement

    from .conftest import make_keys

    root = _project(tmp_path)
    _train(root, keys)
    run = _run(root, keys)
    forged_dep = run.dependencies[0].__class__(
        kind="dataset", name="everything", digest={"sha256": "0" * 64}, path="/")
    code_dep = run.dependencies[0].__class__(
        kind="code", name="source", digest={"gitCommit": "--output=/tmp/x"}, uri="git+x@y")
    forged = TrainingRun(**{**{f: getattr(run, f) for f in run.__dataclass_fields__},
                            "dependencies": (forged_dep, code_dep)})
    stranger = make_keys(tmp_path / "k", "stranger")
    store.write(sign_statement(forged.statement(), stranger.signer),
                root / "model.bin.provenance.json")
    lineage = trace_model(root / "model.bin", verifiers=[keys.verifier], cwd=root,
                          home=tmp_path / "empty")
    links = {link.kind: link for link in lineage.links()}
    assert links["signature"].status is Status.MISMATCHED
    for kind in ("dataset", "code"):
        assert links[kind].status is Status.UNAVAILABLE
        assert "signature did not verify" in links[kind].detail
    assert [f.rule_id for f in lineage_findings(lineage)] == ["MW-PROV-002"]


def test_commit_names_are_validated_before_git_sees_them(tmp_path: Path) -> None:
    from mlwarden.provenance.capture import commit_exists

    assert commit_exists("--help", tmp_path) is False
    assert commit_exists("HEAD; rm -rf /", tmp_path) is False


def test_key_store_names_sign_and_verify(tmp_path: Path) -> None:
    from mlwarden.sign.keystore import KeyStore

    root = _project(tmp_path)
    KeyStore.open(root / ".mlwarden").generate("trainer", b"correct horse battery")
    env = {"MLWARDEN_KEY_PASSPHRASE": "correct horse battery"}
    proc = run_cli("train", "--data", "data.csv", "--out", "model.bin", "--key", "trainer", "--",
                   sys.executable, "-c", WRITE_MODEL, "model.bin", cwd=root, env=env)
    assert proc.returncode == 0, proc.stderr
    proc = run_cli("trace", "model.bin", "--key", "trainer", cwd=root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    wrong = run_cli("train", "--out", "model.bin", "--key", "trainer", "--", "true", cwd=root,
                    env={"MLWARDEN_KEY_PASSPHRASE": "wrong passphrase!"})
    assert wrong.returncode == 2 and "wrong passphrase" in wrong.stderr
    unknown = run_cli("trace", "model.bin", "--key", "nobody", cwd=root)
    assert unknown.returncode == 2 and "no key named 'nobody'" in unknown.stderr


def test_dataset_folder_change_names_the_files(tmp_path: Path, keys: Keys) -> None:
    root = _project(tmp_path)
    shards = root / "shards"
    shards.mkdir()
    for i in range(3):
        (shards / f"part-{i}.csv").write_text(f"x\n{i}\n")
    _train(root, keys, data=[Path("data.csv"), Path("shards")])
    (shards / "part-1.csv").write_text("x\n99\n")
    (shards / "part-2.csv").unlink()
    (shards / "part-3.csv").write_text("x\n3\n")
    lineage = trace_model(root / "model.bin", verifiers=[keys.verifier], cwd=root,
                          home=root / ".mlwarden")
    (link,) = [lk for lk in lineage.links() if lk.kind == "dataset" and lk.name == "shards"]
    assert link.status is Status.MISMATCHED
    assert link.evidence["changed"] == ["part-1.csv"]
    assert link.evidence["added"] == ["part-3.csv"] and link.evidence["missing"] == ["part-2.csv"]
    assert "changed: part-1.csv" in link.detail
    (other,) = [lk for lk in lineage.links() if lk.kind == "dataset" and lk.name == "data.csv"]
    assert other.status is Status.VERIFIED
    run = _run(root, keys)
    single = run.of_kind("dataset")[0]
    from mlwarden.core.digest import sha256_file

    assert single.annotations["fileDigests"] == {"data.csv": sha256_file(root / "data.csv")}


def test_trace_sarif_is_valid(tmp_path: Path, keys: Keys) -> None:
    import jsonschema

    from ..conftest import sarif_schema

    root = _project(tmp_path)
    _train(root, keys)
    (root / "data.csv").write_text("x,y\n0,0\n")
    proc = run_cli("trace", "model.bin", "--key", str(keys.public), "--format", "sarif",
                   "--output", "trace.sarif", cwd=root)
    assert proc.returncode == 1
    sarif = json.loads((root / "trace.sarif").read_text())
    jsonschema.validate(sarif, sarif_schema())
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} >= {"MW-PROV-004"}


def test_command_killed_by_a_signal(tmp_path: Path, keys: Keys) -> None:
    root = _project(tmp_path)
    result = _train(root, keys, command=[sys.executable, "-c",
                                         "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"])
    assert result.exit_code == 128 + 9 and not result.ok  # type: ignore[attr-defined]
    assert not (root / "model.bin.provenance.json").exists()


def test_explicit_missing_attestation_is_an_input_error(tmp_path: Path, keys: Keys) -> None:
    root = _project(tmp_path)
    (root / "model.bin").write_bytes(b"m")
    with pytest.raises(InputError, match="attestation not found"):
        trace_model(root / "model.bin", attestations=[root / "nope.json"], cwd=root)


def test_html_embeds_json_safely(tmp_path: Path, keys: Keys) -> None:
    import html
    import re

    from mlwarden.provenance.render import to_html

    root = _project(tmp_path)
    _train(root, keys, param_flags=["note=</script><b>x</b>&"])
    lineage = trace_model(root / "model.bin", verifiers=[keys.verifier], cwd=root,
                          home=root / ".mlwarden")
    page = to_html(lineage, lineage_findings(lineage))
    assert page.count("</script>") == 1 and "<b>x</b>" not in page
    embedded = re.search(r'<script type="application/json" id="lineage">(.*)</script>', page,
                         re.S)
    assert embedded is not None
    data = json.loads(embedded.group(1))
    assert data["runs"][0]["predicate"]["buildDefinition"]["externalParameters"]["parameters"][
        "note"] == "</script><b>x</b>&"
    assert html.escape("</script><b>x</b>&") in page  # shown, escaped, in the tree


def test_a_command_that_edits_its_own_training_data_is_refused(tmp_path: Path,
                                                                keys: Keys) -> None:
    """Attacker: the training script itself (or anything it runs) rewrites the dataset during the
    run, so provenance signed over the digests taken before would name data the model was not
    trained on. The inputs are fingerprinted again after the command: a change is refused."""
    from mlwarden.core.errors import DeniedError

    root = _project(tmp_path)
    poison = ("import pathlib; p = pathlib.Path('data.csv'); "
              "p.write_text(p.read_text().replace('3,4', '3,5')); "
              "pathlib.Path('model.bin').write_bytes(b'weights')")
    with pytest.raises(DeniedError, match=r"changed its own inputs.*dataset data\.csv"):
        _train(root, keys, command=[sys.executable, "-c", poison])
    assert not (root / "model.bin.provenance.json").exists()
    removed = "import os, pathlib; os.remove('data.csv'); pathlib.Path('model.bin').write_bytes(b'w')"
    (root / "data.csv").write_text("x,y\n1,2\n")
    with pytest.raises(DeniedError, match="was removed"):
        _train(root, keys, command=[sys.executable, "-c", removed])
