"""End to end: fingerprint, train through ``mlwarden train``, trace; then break each link once."""

from __future__ import annotations

import base64
import json
import shutil
import sys
from pathlib import Path

from mlwarden.data.fingerprint import fingerprint
from mlwarden.provenance.lineage import Status, lineage_findings, trace_model
from mlwarden.provenance.slsa import BUILD_TYPE
from mlwarden.sign.manifest import model_digest

from .conftest import TRAIN_SCRIPT, Keys, make_keys, needs_git, run_cli, write_dataset

pytestmark = needs_git


def _links(lineage_json: dict[str, object]) -> dict[str, dict[str, object]]:
    """kind → link dict, over the first attestation's children (plus the attestation itself)."""
    children = lineage_json["lineage"]["children"]  # type: ignore[index]
    attestation = next(c for c in children if c["kind"] == "attestation")
    found = {"attestation": attestation,
             "model-signature": next(c for c in children if c["kind"] == "model-signature")}
    for child in attestation["children"]:
        found.setdefault(child["kind"], child)
    return found


def _trace_json(project: Path, keys: Keys, *extra: str) -> tuple[int, dict[str, object]]:
    proc = run_cli("trace", "model.skops", "--key", str(keys.public), "--format", "json", *extra,
                   cwd=project)
    assert proc.stderr == "" or "error" not in proc.stderr, proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def test_trained_model_traces_fully_verified(project: Path, keys: Keys) -> None:
    code, data = _trace_json(project, keys)
    assert code == 0, data
    assert data["ok"] is True and data["findings"] == []
    links = _links(data)
    for kind in ("attestation", "signature", "subject", "code", "dataset", "lockfile"):
        assert links[kind]["status"] == "verified", (kind, links[kind])
    assert data["digest"] == model_digest(project / "model.skops")
    # the dataset's recorded digest is its fingerprint, the same scheme as a model's digest
    assert links["dataset"]["expected"] == fingerprint(project / "data.csv").digest
    assert links["dataset"]["evidence"]["rows"] == 60
    # what went in is recorded: params (file, env), metrics, the exact command
    assert "lr=0.5" in links["parameters"]["detail"] and "seed=7" in links["parameters"]["detail"]
    assert "accuracy=" in links["metrics"]["detail"]
    assert "train.py data.csv model.skops" in links["run"]["detail"]
    (run,) = data["runs"]
    assert run["predicate"]["buildDefinition"]["buildType"] == BUILD_TYPE
    assert run["subjects"][0]["digest"]["sha256"] == data["digest"][7:]


def test_tree_output_and_html(project: Path, keys: Keys) -> None:
    proc = run_cli("trace", "model.skops", "--key", str(keys.public), cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert "verified dataset data.csv" in proc.stdout and "lineage verified" in proc.stdout
    proc = run_cli("trace", "model.skops", "--key", str(keys.public), "--format", "html",
                   "--output", "lineage.html", cwd=project)
    assert proc.returncode == 0, proc.stderr
    page = (project / "lineage.html").read_text()
    assert page.startswith("<!doctype html>") and "data.csv" in page
    assert "<link" not in page and "src=" not in page  # self-contained, no network


def test_changed_dataset_byte_is_the_broken_link(project: Path, keys: Keys) -> None:
    data = project / "data.csv"
    raw = bytearray(data.read_bytes())
    raw[-3] = ord("9") if raw[-3] != ord("9") else ord("8")
    data.write_bytes(bytes(raw))
    code, out = _trace_json(project, keys)
    assert code == 1
    links = _links(out)
    assert links["dataset"]["status"] == "mismatched"
    assert [k for k, v in links.items() if v["status"] == "mismatched"] == ["dataset"]
    assert [f["rule_id"] for f in out["findings"]] == ["MW-PROV-004"]


def test_changed_model_byte_is_the_broken_link(project: Path, keys: Keys) -> None:
    model = project / "model.skops"
    raw = bytearray(model.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    model.write_bytes(bytes(raw))
    code, out = _trace_json(project, keys)
    assert code == 1
    links = _links(out)
    assert links["subject"]["status"] == "mismatched"
    assert links["subject"]["actual"] == model_digest(model)
    assert links["signature"]["status"] == "verified"
    assert links["dataset"]["status"] == "verified"
    assert {f["rule_id"] for f in out["findings"]} == {"MW-PROV-003"}


def test_tampered_attestation_fails_its_signature(project: Path, keys: Keys) -> None:
    sidecar = project / "model.skops.provenance.json"
    envelope = json.loads(sidecar.read_text())
    statement = json.loads(base64.b64decode(envelope["payload"]))
    # Launder a poisoned dataset: point the recorded digest at other data, keep the signature.
    for dep in statement["predicate"]["buildDefinition"]["resolvedDependencies"]:
        if dep["annotations"]["kind"] == "dataset":
            dep["digest"]["sha256"] = "0" * 64
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    sidecar.write_text(json.dumps(envelope))
    shutil.rmtree(project / ".mlwarden")  # the indexed copy is the untouched original
    code, out = _trace_json(project, keys)
    assert code == 1
    links = _links(out)
    assert links["signature"]["status"] == "mismatched"
    assert "bad signature" in links["signature"]["detail"]
    assert "MW-PROV-002" in {f["rule_id"] for f in out["findings"]}


def test_one_changed_byte_in_the_envelope_never_verifies(project: Path, keys: Keys) -> None:
    sidecar = project / "model.skops.provenance.json"
    raw = bytearray(sidecar.read_bytes())
    at = raw.index(b'"payload":"') + len(b'"payload":"') + 40
    raw[at] = ord("A") if raw[at] != ord("A") else ord("B")
    sidecar.write_bytes(bytes(raw))
    lineage = trace_model(project / "model.skops", verifiers=[keys.verifier],
                          attestations=[sidecar], cwd=project, home=project / "nowhere")
    assert not lineage.ok
    statuses = {link.kind: link.status for link in lineage.links()}
    assert Status.MISMATCHED in (statuses.get("signature"), statuses.get("attestation"))


def test_swapped_for_another_signed_model(project: Path, keys: Keys, tmp_path: Path) -> None:
    # Another model, trained and attested by the same trusted key, copied over the first one.
    other = tmp_path / "other"
    other.mkdir()
    (other / "train.py").write_text(TRAIN_SCRIPT)
    write_dataset(other / "data.csv", seed=3)
    proc = run_cli("train", "--data", "data.csv", "--out", "model.skops", "--key",
                   str(keys.private), "--", sys.executable, "train.py", "data.csv", "model.skops",
                   cwd=other, env={"MLWARDEN_PARAM_SEED": "1"})
    assert proc.returncode == 0, proc.stderr
    shutil.copyfile(other / "model.skops", project / "model.skops")
    code, out = _trace_json(project, keys)
    assert code == 1
    links = _links(out)
    assert links["subject"]["status"] == "mismatched"
    assert links["subject"]["actual"] == model_digest(other / "model.skops")
    # its own attestation, presented explicitly, is valid: but it names other data
    code, out = _trace_json(project, keys, "--attestation",
                            str(other / "model.skops.provenance.json"))
    attestations = [c for c in out["lineage"]["children"] if c["kind"] == "attestation"]
    statuses = sorted(a["status"] for a in attestations)
    assert statuses == ["mismatched", "verified"]


def test_untrusted_key_and_no_key(project: Path, keys: Keys, tmp_path: Path) -> None:
    stranger = make_keys(tmp_path / "k", "stranger")
    proc = run_cli("trace", "model.skops", "--key", str(stranger.public), "--format", "json",
                   cwd=project)
    assert proc.returncode == 1
    out = json.loads(proc.stdout)
    assert _links(out)["signature"]["status"] == "mismatched"
    assert "unknown key" in _links(out)["signature"]["detail"]
    proc = run_cli("trace", "model.skops", "--format", "json", cwd=project)
    assert proc.returncode == 1
    out = json.loads(proc.stdout)
    assert _links(out)["signature"]["status"] == "unavailable"
    assert [f["rule_id"] for f in out["findings"]] == ["MW-PROV-008"]


def test_no_attestation_at_all(tmp_path: Path, keys: Keys) -> None:
    model = tmp_path / "model.bin"
    model.write_bytes(b"weights")
    lineage = trace_model(model, verifiers=[keys.verifier], cwd=tmp_path)
    assert not lineage.ok and not lineage.attested
    assert [f.rule_id for f in lineage_findings(lineage)] == ["MW-PROV-001"]
    proc = run_cli("trace", "model.bin", "--key", str(keys.public), cwd=tmp_path)
    assert proc.returncode == 1 and "MW-PROV-001" in proc.stdout


def test_trace_missing_model_is_one_line_exit_2(tmp_path: Path) -> None:
    proc = run_cli("trace", "nope.skops", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "mlwarden: error: nope.skops: model not found"


def test_malformed_attestation_is_a_finding(tmp_path: Path, keys: Keys) -> None:
    model = tmp_path / "model.bin"
    model.write_bytes(b"weights")
    (tmp_path / "model.bin.provenance.json").write_text("{not json")
    lineage = trace_model(model, verifiers=[keys.verifier], cwd=tmp_path)
    assert not lineage.ok
    assert [f.rule_id for f in lineage_findings(lineage)] == ["MW-PROV-009"]


def test_signed_model_pairs_signature_and_provenance_by_digest(project: Path, keys: Keys) -> None:
    from mlwarden.sign.signing import KeyMaterial, sign_model

    model = project / "model.skops"
    signed = sign_model(model, KeyMaterial(keys.signer))
    assert signed.signature == project / "model.skops.sig"
    code, out = _trace_json(project, keys)
    assert code == 0, out
    links = _links(out)
    assert links["model-signature"]["status"] == "verified"
    assert links["model-signature"]["actual"] == out["digest"] == links["subject"]["expected"]
    raw = bytearray(model.read_bytes())
    raw[100] ^= 0xFF
    model.write_bytes(bytes(raw))
    code, out = _trace_json(project, keys)
    links = _links(out)
    assert code == 1
    assert links["model-signature"]["status"] == "mismatched"
    assert links["subject"]["status"] == "mismatched"
    rules = {f["rule_id"] for f in out["findings"]}
    assert {"MW-PROV-003", "MW-SIGN-004"} <= rules


def test_unsigned_model_signature_link_is_unavailable(project: Path, keys: Keys) -> None:
    code, out = _trace_json(project, keys)
    assert code == 0
    assert _links(out)["model-signature"]["status"] == "unavailable"
