"""``mlwarden train --from-mlflow``: runs made by real MLflow become signed SLSA provenance."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlwarden.core.attestation import verify_envelope
from mlwarden.core.errors import InputError
from mlwarden.provenance import store
from mlwarden.provenance.mlflow_import import _latest_metric, read_file_store
from mlwarden.provenance.slsa import BUILDER_MLFLOW, TrainingRun
from mlwarden.sign.manifest import model_digest

from .conftest import Keys, run_cli

needs_mlflow = pytest.mark.skipif(
    importlib.util.find_spec("mlflow") is None,
    reason="mlflow is not installed (pip install mlflow-skinny): the runs are made with real MLflow")

MAKE_RUN = """\
import sys
import mlflow
import pandas as pd

uri, status = sys.argv[1], sys.argv[2]
mlflow.set_tracking_uri(uri)
mlflow.set_experiment("churn")
with mlflow.start_run() as run:
    mlflow.log_params({"lr": 0.05, "seed": 11, "model": "logreg"})
    mlflow.log_metric("accuracy", 0.80, step=0)
    mlflow.log_metric("accuracy", 0.91, step=1)
    mlflow.set_tag("mlflow.source.git.commit", "1234567890abcdef1234567890abcdef12345678")
    frame = pd.read_csv("data/train.csv")
    dataset = mlflow.data.from_pandas(frame, source="data/train.csv", name="train")
    mlflow.log_input(dataset, context="training")
    open("model.bin", "wb").write(b"model weights")
    if status != "FINISHED":
        mlflow.end_run(status=status)
print(run.info.run_id)
"""


def make_run(root: Path, uri: str, status: str = "FINISHED") -> str:
    (root / "data").mkdir(exist_ok=True)
    (root / "data" / "train.csv").write_text("a,b\n1,2\n3,4\n")
    env = {**os.environ, "MLFLOW_ALLOW_FILE_STORE": "true", "GIT_PYTHON_REFRESH": "quiet"}
    proc = subprocess.run([sys.executable, "-c", MAKE_RUN, uri, status], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip().splitlines()[-1]


@needs_mlflow
def test_file_store_run_becomes_signed_provenance(tmp_path: Path, keys: Keys) -> None:
    run_id = make_run(tmp_path, "file:./mlruns")
    proc = run_cli("train", "--from-mlflow", run_id, "--mlflow-tracking-uri", "file:./mlruns",
                   "--out", "model.bin", "--key", str(keys.private), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    statement = verify_envelope(store.load(tmp_path / "model.bin.provenance.json"),
                                [keys.verifier])
    run = TrainingRun.from_statement(statement)
    assert run.builder_id == BUILDER_MLFLOW
    assert run.invocation_id.endswith("/" + run_id)
    assert dict(run.parameters) == {"lr": 0.05, "seed": 11, "model": "logreg"}
    assert run.seed == 11
    assert dict(run.metrics) == {"accuracy": 0.91}  # the last step's value
    code = run.code
    assert code is not None and code.digest == {"gitCommit": "1234567890abcdef1234567890abcdef"
                                                              "12345678"}
    (dataset,) = run.of_kind("dataset")
    assert dataset.name == "data/train.csv" and dataset.annotations["context"] == "training"
    assert dataset.annotations["rows"] == 2  # re-fingerprinted locally, not MLflow's digest
    assert run.subjects[0].digest["sha256"] == model_digest(tmp_path / "model.bin")[7:]
    trace = run_cli("trace", "model.bin", "--key", str(keys.public), "--format", "json",
                    cwd=tmp_path)
    out = json.loads(trace.stdout)
    assert trace.returncode == 0 and out["ok"], out
    # the MLflow run's dataset, changed afterwards, is caught like any other
    (tmp_path / "data" / "train.csv").write_text("a,b\n1,2\n3,5\n")
    trace = run_cli("trace", "model.bin", "--key", str(keys.public), "--format", "json",
                    cwd=tmp_path)
    assert trace.returncode == 1
    assert "MW-PROV-004" in {f["rule_id"] for f in json.loads(trace.stdout)["findings"]}


@needs_mlflow
def test_failed_run_is_not_attested(tmp_path: Path, keys: Keys) -> None:
    run_id = make_run(tmp_path, "file:./mlruns", status="FAILED")
    proc = run_cli("train", "--from-mlflow", run_id, "--out", "model.bin", "--key",
                   str(keys.private), cwd=tmp_path)
    assert proc.returncode == 2 and "is FAILED" in proc.stderr
    assert not (tmp_path / "model.bin.provenance.json").exists()


def test_unknown_or_hostile_run_ids(tmp_path: Path, keys: Keys) -> None:
    (tmp_path / "mlruns" / "0").mkdir(parents=True)
    (tmp_path / "model.bin").write_bytes(b"m")
    for run_id, message in (("0" * 32, "not found"), ("../../etc", "not an MLflow run id")):
        proc = run_cli("train", "--from-mlflow", run_id, "--out", "model.bin", "--key",
                       str(keys.private), cwd=tmp_path)
        assert proc.returncode == 2 and message in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
    with pytest.raises(InputError, match="file store not found"):
        read_file_store(tmp_path / "nope", "0" * 32)


def test_malformed_meta_yaml_is_an_input_error(tmp_path: Path) -> None:
    run = tmp_path / "mlruns" / "1" / ("a" * 32)
    run.mkdir(parents=True)
    (run / "meta.yaml").write_text("status: [unclosed\n")
    with pytest.raises(InputError, match="not valid YAML"):
        read_file_store(tmp_path / "mlruns", "a" * 32)
    (run / "meta.yaml").write_text("status: 3\nstart_time: soon\n")
    with pytest.raises(InputError, match="start_time"):
        read_file_store(tmp_path / "mlruns", "a" * 32)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="0123456789 .-eE\tx", max_size=24), max_size=6))
def test_metric_file_parser_never_crashes(tmp_path_factory: pytest.TempPathFactory,
                                          lines: list[str]) -> None:
    path = tmp_path_factory.mktemp("metric") / "m"
    path.write_text("\n".join(lines))
    try:
        value = _latest_metric(path)
    except InputError:
        return
    assert value is None or isinstance(value, float)


@needs_mlflow
@pytest.mark.slow
def test_sqlite_backend_through_the_mlflow_client(tmp_path: Path, keys: Keys) -> None:
    run_id = make_run(tmp_path, "sqlite:///mlflow.db")
    proc = run_cli("train", "--from-mlflow", run_id, "--mlflow-tracking-uri",
                   "sqlite:///mlflow.db", "--out", "model.bin", "--key", str(keys.private),
                   cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    run = TrainingRun.from_statement(verify_envelope(
        store.load(tmp_path / "model.bin.provenance.json"), [keys.verifier]))
    assert dict(run.metrics) == {"accuracy": 0.91} and run.parameters["lr"] == 0.05
    assert run.of_kind("dataset")[0].annotations["mlflowName"] == "train"


YAML_VALUES = st.none() | st.booleans() | st.integers(-(10**20), 10**20) | st.text(max_size=10) \
    | st.lists(st.integers(), max_size=2)


@settings(max_examples=120, deadline=None)
@given(meta=st.dictionaries(st.sampled_from(["status", "start_time", "end_time", "run_name",
                                             "experiment_id", "artifact_uri"]),
                          YAML_VALUES | st.just(3) | st.integers(0, 2**70)),
       link=st.dictionaries(st.sampled_from(["source_type", "source_id", "tags"]), YAML_VALUES),
       dataset=st.dictionaries(st.sampled_from(["name", "digest", "source", "profile"]),
                               YAML_VALUES))
def test_arbitrary_store_metadata_is_read_or_refused(
        tmp_path_factory: pytest.TempPathFactory, meta: dict[str, object],
        link: dict[str, object], dataset: dict[str, object]) -> None:
    import yaml

    from mlwarden.provenance.mlflow_import import to_training_run

    root = tmp_path_factory.mktemp("store") / "mlruns"
    run = root / "1" / ("b" * 32)
    (run / "inputs" / "x").mkdir(parents=True)
    (root / "1" / "datasets" / "d1").mkdir(parents=True)
    (run / "meta.yaml").write_text(yaml.safe_dump(meta))
    (run / "inputs" / "x" / "meta.yaml").write_text(yaml.safe_dump(
        {**link, "source_type": link.get("source_type", "DATASET"),
         "source_id": link.get("source_id", "d1")}))
    (root / "1" / "datasets" / "d1" / "meta.yaml").write_text(yaml.safe_dump(dataset))
    model = root.parent / "model.bin"
    model.write_bytes(b"m")
    try:
        record = read_file_store(root, "b" * 32)
        to_training_run(record, tracking_uri=str(root), outputs=[model], data=[],
                        cwd=root.parent)
    except InputError:
        pass
