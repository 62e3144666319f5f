"""``mlwarden bom``: a CycloneDX 1.6 ML-BOM from verified provenance, valid against the schema."""

from __future__ import annotations

import json
from pathlib import Path

from mlwarden.core.digest import sha256_file
from mlwarden.provenance.bom import validate
from mlwarden.sign.manifest import model_digest

from .conftest import Keys, needs_git, run_cli

pytestmark = needs_git


def _bom(project: Path, keys: Keys) -> dict[str, object]:
    proc = run_cli("bom", "model.skops", "--key", str(keys.public), "--output", "bom.json",
                   cwd=project)
    assert proc.returncode == 0, proc.stderr
    text = (project / "bom.json").read_text()
    assert validate(text) is None
    return json.loads(text)


def test_ml_bom_describes_model_data_and_environment(project: Path, keys: Keys) -> None:
    bom = _bom(project, keys)
    assert bom["bomFormat"] == "CycloneDX" and bom["specVersion"] == "1.6"
    model = bom["metadata"]["component"]  # type: ignore[index]
    assert model["type"] == "machine-learning-model" and model["name"] == "model.skops"
    assert model["hashes"] == [{"alg": "SHA-256",
                                "content": sha256_file(project / "model.skops")[7:]}]
    props = {p["name"]: p["value"] for p in model["properties"]}
    assert props["mlwarden:digest"] == model_digest(project / "model.skops")
    assert props["mlwarden:provenance.verified"] == "true"
    card = model["modelCard"]
    data = [c for c in bom["components"] if c["type"] == "data"]  # type: ignore[union-attr]
    assert [d["name"] for d in data] == ["data.csv"]
    assert card["modelParameters"]["datasets"] == [{"ref": data[0]["bom-ref"]}]
    assert data[0]["data"][0]["type"] == "dataset"
    metrics = {m["type"]: float(m["value"])
               for m in card["quantitativeAnalysis"]["performanceMetrics"]}
    assert set(metrics) == {"accuracy", "eval.rows"} and metrics["eval.rows"] == 60
    params = {p["name"]: p["value"] for p in card["properties"]}
    assert params["mlwarden:param.lr"] == "0.5" and params["mlwarden:seed"] == "7"
    libraries = {c["name"].lower(): c for c in bom["components"]  # type: ignore[union-attr]
                 if c["type"] == "library"}
    assert libraries["scikit-learn"]["purl"].startswith("pkg:pypi/scikit-learn@")
    deps = {d["ref"]: d.get("dependsOn", []) for d in bom["dependencies"]}  # type: ignore[union-attr]
    assert data[0]["bom-ref"] in deps["model"]


def test_bom_needs_verified_provenance(project: Path, keys: Keys) -> None:
    proc = run_cli("bom", "model.skops", cwd=project)
    assert proc.returncode == 2 and "could not be checked" in proc.stderr
    proc = run_cli("bom", "model.skops", "--allow-unverified", cwd=project)
    assert proc.returncode == 0, proc.stderr
    model = json.loads(proc.stdout)["metadata"]["component"]
    props = {p["name"]: p["value"] for p in model["properties"]}
    assert props["mlwarden:provenance.verified"] == "false"
    (project / "model.skops").write_bytes(b"swapped")
    proc = run_cli("bom", "model.skops", "--key", str(keys.public), cwd=project)
    assert proc.returncode == 2 and "no verified provenance" in proc.stderr


def test_the_validator_rejects_a_broken_model_card(project: Path, keys: Keys) -> None:
    bom = _bom(project, keys)
    bom["metadata"]["component"]["modelCard"]["modelParameters"]["approach"] = {  # type: ignore[index]
        "type": "guesswork"}
    assert validate(json.dumps(bom)) is not None


def test_folder_model_with_base_model_and_lock_file(tmp_path: Path) -> None:
    from mlwarden.provenance.bom import render_bom
    from mlwarden.provenance.slsa import Dependency

    from .test_slsa import sample_run

    model = tmp_path / "llm"
    model.mkdir()
    (model / "weights.bin").write_bytes(b"w")
    run = sample_run()
    run = type(run)(**{**{f: getattr(run, f) for f in run.__dataclass_fields__},
                       "dependencies": (*run.dependencies, Dependency(
                           "base-model", "base", {"sha256": "b" * 64}, path="base"))})
    text = render_bom(run, model, model_digest(model), verified=True)
    assert validate(text) is None
    bom = json.loads(text)
    component = bom["metadata"]["component"]
    assert "hashes" not in component  # a folder has no single-file hash; its digest is a property
    props = {p["name"]: p["value"] for p in component["properties"]}
    assert props["mlwarden:lockfile"] == "uv.lock sha256:" + "e" * 64
    assert props["mlwarden:source.commit"] == "c" * 40
    assert component["externalReferences"][0]["type"] == "vcs"
    kinds = {c["name"]: c["type"] for c in bom["components"]}
    assert kinds["base"] == "machine-learning-model" and kinds["data/train.csv"] == "data"
    assert kinds["numpy"] == "library"
