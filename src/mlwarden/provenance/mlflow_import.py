"""Import an MLflow run as training provenance (``mlwarden train --from-mlflow RUN_ID``).

A ``file:`` tracking URI is read **directly** from MLflow's on-disk file store, with no MLflow
installed: ``mlruns/<experiment>/<run>/meta.yaml`` (identity, status, times), ``params/<key>`` and
``tags/<key>`` (one value per file), ``metrics/<key>`` (lines ``timestamp value step``; the value of
the highest step, then latest timestamp, is kept), ``inputs/<id>/meta.yaml`` (a dataset input: its
``source_id`` and ``mlflow.data.context`` tag) pointing at ``mlruns/<experiment>/datasets/<id>/
meta.yaml`` (name, digest, source, profile). Any other URI (``sqlite:``, ``http(s):``,
``databricks``) goes through ``mlflow.tracking.MlflowClient`` and needs ``mlflow`` or
``mlflow-skinny`` installed.

What becomes what: params → ``externalParameters.parameters``; metrics → the ``metrics``
byproduct; the ``mlflow.source.git.commit`` tag → the code dependency; each dataset input → a
dataset dependency, re-fingerprinted (mlwarden digest) when its source is a local path, else kept
with MLflow's own digest under ``{"mlflow": …}``; ``requirements.txt`` files among local artifacts →
the environment's packages. Only FINISHED runs are attested.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from mlwarden import __version__
from mlwarden.core.attestation import Signer
from mlwarden.core.errors import InputError, UsageError
from mlwarden.provenance import params, store
from mlwarden.provenance.slsa import BUILDER_MLFLOW, Dependency, TrainingRun
from mlwarden.provenance.train import TrainResult, attest, file_dependency, output_subjects

_RUN_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_VALUE_FILE = 1 << 20
MAX_REQUIREMENTS = 20
_STATUS = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}


@dataclass(frozen=True, slots=True)
class MlflowDataset:
    name: str
    digest: str
    source: str | None
    source_type: str | None = None
    context: str | None = None
    profile: str | None = None


@dataclass(frozen=True, slots=True)
class MlflowRun:
    """What mlwarden reads from an MLflow run."""

    run_id: str
    experiment_id: str
    run_name: str
    status: str
    start_ms: int
    end_ms: int | None
    params: Mapping[str, str] = field(default_factory=dict, hash=False)
    metrics: Mapping[str, float] = field(default_factory=dict, hash=False)
    tags: Mapping[str, str] = field(default_factory=dict, hash=False)
    datasets: tuple[MlflowDataset, ...] = ()
    artifact_uri: str | None = None


def _read_text(path: Path) -> str:
    try:
        if path.stat().st_size > MAX_VALUE_FILE:
            raise InputError("MLflow store file is larger than 1 MiB", path=path)
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError("MLflow store file is not UTF-8", path=path) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=path) from None


def _yaml(path: Path) -> dict[str, Any]:
    from mlwarden.core.yamlio import load_yaml

    data = load_yaml(_read_text(path), source=str(path), what="MLflow meta.yaml")
    if not isinstance(data, dict):
        raise InputError("MLflow meta.yaml is not a mapping", path=path)
    return data


def _values(folder: Path) -> dict[str, str]:
    if not folder.is_dir():
        return {}
    out: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            out[path.relative_to(folder).as_posix()] = _read_text(path)
    return out


def _latest_metric(path: Path) -> float | None:
    best: tuple[int, int, float] | None = None
    for number, line in enumerate(_read_text(path).splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        try:
            timestamp, value = int(parts[0]), float(parts[1])
            step = int(parts[2]) if len(parts) > 2 else 0
        except (ValueError, IndexError):
            raise InputError(f"MLflow metric line {number} is not 'timestamp value step'",
                             path=path) from None
        key = (step, timestamp, value)
        if best is None or key[:2] >= best[:2]:
            best = key
    return best[2] if best is not None else None


def _ms(value: Any, where: str, path: Path) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"MLflow meta.yaml {where} is not an integer", path=path)
    return value


def read_file_store(root: Path, run_id: str) -> MlflowRun:
    """Read run ``run_id`` from the MLflow file store at ``root`` (``mlruns``)."""
    if not _RUN_ID.match(run_id):
        raise UsageError(f"--from-mlflow {run_id!r} is not an MLflow run id")
    if not root.is_dir():
        raise InputError("MLflow file store not found", path=root,
                         advice="pass --mlflow-tracking-uri file:/path/to/mlruns")
    matches = [p for p in root.glob(f"*/{run_id}") if (p / "meta.yaml").is_file()]
    if not matches:
        raise InputError(f"MLflow run {run_id} not found", path=root)
    run_dir = matches[0]
    meta = _yaml(run_dir / "meta.yaml")
    status = meta.get("status")
    status_name = _STATUS.get(status, str(status)) if isinstance(status, int) else str(status)
    start = _ms(meta.get("start_time"), "start_time", run_dir / "meta.yaml")
    metrics: dict[str, float] = {}
    metrics_dir = run_dir / "metrics"
    if metrics_dir.is_dir():
        for path in sorted(metrics_dir.rglob("*")):
            if path.is_file() and not path.is_symlink():
                value = _latest_metric(path)
                if value is not None and value == value and abs(value) != float("inf"):
                    metrics[path.relative_to(metrics_dir).as_posix()] = value
    datasets = []
    inputs_dir = run_dir / "inputs"
    for meta_path in sorted(inputs_dir.glob("*/meta.yaml")) if inputs_dir.is_dir() else []:
        link = _yaml(meta_path)
        source_id = str(link.get("source_id", ""))
        if link.get("source_type") != "DATASET" or not _RUN_ID.match(source_id):
            continue
        ds_meta = run_dir.parent / "datasets" / source_id / "meta.yaml"
        if not ds_meta.is_file():
            raise InputError(f"dataset {source_id} of the run is missing from the store",
                             path=ds_meta)
        ds = _yaml(ds_meta)
        tags = link.get("tags") if isinstance(link.get("tags"), dict) else {}
        datasets.append(MlflowDataset(
            name=str(ds.get("name", source_id)), digest=str(ds.get("digest", "")),
            source=_source_uri(ds.get("source")), source_type=_str(ds.get("source_type")),
            context=_str((tags or {}).get("mlflow.data.context")),
            profile=_str(ds.get("profile"))))
    return MlflowRun(
        run_id=run_id, experiment_id=str(meta.get("experiment_id", run_dir.parent.name)),
        run_name=str(meta.get("run_name", "")), status=status_name, start_ms=start or 0,
        end_ms=_ms(meta.get("end_time"), "end_time", run_dir / "meta.yaml"),
        params={k: v for k, v in _values(run_dir / "params").items()},
        metrics=metrics, tags=_values(run_dir / "tags"), datasets=tuple(datasets),
        artifact_uri=_str(meta.get("artifact_uri")))


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _source_uri(raw: Any) -> str | None:
    """MLflow stores a dataset source as a JSON string such as ``{"uri": "data/train.csv"}``."""
    import json

    if raw is None:
        return None
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except (ValueError, RecursionError):
        return str(raw)
    if isinstance(value, dict):
        for key in ("uri", "url", "path", "table_name"):
            if isinstance(value.get(key), str):
                return str(value[key])
        return json.dumps(value, sort_keys=True)
    return str(value)


def read_with_client(tracking_uri: str, run_id: str) -> MlflowRun:
    """Read a run through MLflow's client (any tracking backend)."""
    try:
        from mlflow.exceptions import MlflowException
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise InputError(f"reading MLflow runs from {tracking_uri} needs mlflow (pip install "
                         "mlflow-skinny); a file: store is read without it") from None
    try:
        run = MlflowClient(tracking_uri=tracking_uri).get_run(run_id)
    except MlflowException as exc:
        raise InputError(f"MLflow run {run_id}: {exc.message}", path=tracking_uri) from None
    datasets = []
    for item in run.inputs.dataset_inputs if run.inputs else []:
        context = next((t.value for t in item.tags if t.key == "mlflow.data.context"), None)
        d = item.dataset
        datasets.append(MlflowDataset(name=d.name, digest=d.digest, source=_source_uri(d.source),
                                      source_type=d.source_type, context=context,
                                      profile=d.profile))
    return MlflowRun(run_id=run.info.run_id, experiment_id=str(run.info.experiment_id),
                     run_name=run.info.run_name or "", status=str(run.info.status),
                     start_ms=int(run.info.start_time or 0),
                     end_ms=int(run.info.end_time) if run.info.end_time else None,
                     params=dict(run.data.params), metrics=dict(run.data.metrics),
                     tags=dict(run.data.tags), datasets=tuple(datasets),
                     artifact_uri=run.info.artifact_uri)


def load_run(run_id: str, tracking_uri: str) -> MlflowRun:
    local = _local_path(tracking_uri)
    if local is not None:
        return read_file_store(local, run_id)
    return read_with_client(tracking_uri, run_id)


def _local_path(uri: str) -> Path | None:
    """A local path for ``file:`` URIs and plain paths, else ``None``."""
    if uri.startswith("file:"):
        parsed = urlparse(uri)
        if parsed.netloc not in ("", "localhost"):
            return None
        text = unquote(parsed.path) if uri.startswith("file://") else unquote(uri[5:])
        return Path(text)
    if "://" in uri or re.match(r"^[a-z][a-z0-9+.-]*:", uri):
        return None
    return Path(uri)


def _requirements(artifact_uri: str | None) -> list[dict[str, str]]:
    root = _local_path(artifact_uri) if artifact_uri else None
    if root is None or not root.is_dir():
        return []
    packages: dict[str, dict[str, str]] = {}
    for path in sorted(root.rglob("requirements.txt"))[:MAX_REQUIREMENTS]:
        for line in _read_text(path).splitlines():
            match = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;#]+)", line)
            if match:
                packages.setdefault(match[1].lower(), {"name": match[1], "version": match[2]})
    return sorted(packages.values(), key=lambda p: p["name"].lower())


def _time(ms: int) -> dt.datetime:
    try:
        return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)
    except (OverflowError, ValueError, OSError):
        raise InputError(f"MLflow run time {ms} (ms since 1970) is out of range") from None


def to_training_run(run: MlflowRun, *, tracking_uri: str, outputs: Sequence[Path],
                    data: Sequence[Path], cwd: Path) -> TrainingRun:
    """The provenance record of an MLflow run whose outputs are ``outputs``."""
    if run.status != "FINISHED":
        raise InputError(f"MLflow run {run.run_id} is {run.status}: only FINISHED runs are "
                         "attested", path=tracking_uri)
    deps: list[Dependency] = []
    commit = run.tags.get("mlflow.source.git.commit")
    if commit:
        repo = run.tags.get("mlflow.source.git.repoURL")
        deps.append(Dependency(kind="code", name="source", digest={"gitCommit": commit.strip()},
                               uri=f"git+{repo}@{commit.strip()}" if repo else None,
                               annotations={"recordedBy": "mlflow"}))
    for path in data:
        deps.append(file_dependency("dataset", path if path.is_absolute() else cwd / path, cwd,
                                    summarize=True))
    for ds in run.datasets:
        notes = {"mlflowName": ds.name, "mlflowDigest": ds.digest,
                 **({"context": ds.context} if ds.context else {}),
                 **({"mlflowProfile": ds.profile} if ds.profile else {})}
        local = _local_path(ds.source) if ds.source else None
        if local is not None and not local.is_absolute():
            local = cwd / local
        if local is not None and local.exists():
            dep = file_dependency("dataset", local, cwd, summarize=True)
            deps.append(Dependency(kind="dataset", name=dep.name, digest=dep.digest, uri=dep.uri,
                                   path=dep.path, annotations={**dep.annotations, **notes}))
        elif ds.digest:
            deps.append(Dependency(kind="dataset", name=ds.name, digest={"mlflow": ds.digest},
                                   uri=ds.source, annotations=notes))
    parameters: dict[str, Any] = {k: params.parse_scalar(v) for k, v in run.params.items()}
    source_name = run.tags.get("mlflow.source.name")
    environment: dict[str, Any] = {"packages": _requirements(run.artifact_uri),
                                   "recordedBy": "mlflow"}
    if run.tags.get("mlflow.user"):
        environment["user"] = run.tags["mlflow.user"]
    start = _time(run.start_ms)
    return TrainingRun(
        subjects=output_subjects(outputs, cwd),
        command=(source_name,) if source_name else ("mlflow-run", run.run_id),
        working_directory=str(cwd), started_on=start,
        finished_on=_time(run.end_ms) if run.end_ms else start,
        invocation_id=f"mlflow:{run.experiment_id}/{run.run_id}", exit_code=0,
        parameters=parameters, seed=params.seed_of(parameters), dependencies=tuple(deps),
        environment=environment, metrics=dict(run.metrics), builder_id=BUILDER_MLFLOW,
        tool_version=__version__,
        source={"kind": "mlflow", "trackingUri": tracking_uri, "runId": run.run_id,
                "experimentId": run.experiment_id, "runName": run.run_name})


def import_run(run_id: str, *, tracking_uri: str, outputs: Sequence[Path], signer: Signer,
               data: Sequence[Path] = (), attestation: Path | None = None,
               home: Path | None = None, cwd: Path | None = None) -> TrainResult:
    """Read an MLflow run, attest ``outputs`` as its products, sign and write the attestation."""
    if not outputs:
        raise UsageError("--out MODEL is needed: the artifact the MLflow run produced")
    here = (cwd or Path.cwd()).resolve()
    run = load_run(run_id, tracking_uri)
    outs = [o if o.is_absolute() else here / o for o in outputs]
    record = to_training_run(run, tracking_uri=tracking_uri, outputs=outs, data=data, cwd=here)
    target = attestation if attestation is not None else store.sidecar(outs[0])
    target = target if target.is_absolute() else here / target
    state = store.home(home)
    state = state if state.is_absolute() else here / state
    envelope, indexed = attest(record, signer, target, state)
    return TrainResult(exit_code=0, invocation_id=record.invocation_id, run=record,
                       envelope=envelope, attestation=target, indexed=indexed)
