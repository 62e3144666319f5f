"""``mlwarden train``: run any training command and attest what went in and what came out.

Order of work, so nothing is signed that was not checked and no training run is wasted on a bad
invocation: the key, the params file, the datasets, the base model and the lock file are loaded and
digested *before* the command starts (inputs are recorded as they were when training began); the git
state is captured before the command can touch the tree; the command runs with the inherited stdio;
then every declared output is digested (its model digest, as ``mlwarden digest`` prints it) and the
statement is signed and written.

A failing command (non-zero exit) gets **no** attestation: provenance vouches for artifacts, and a
failed run's outputs are not artifacts anyone should deploy. The failure is still recorded,
unsigned, in ``$MLWARDEN_HOME/runs/<invocation>.json`` (command, inputs, times, exit code), and
``mlwarden train`` exits with the command's exit code.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlwarden import __version__
from mlwarden.core.atomic import atomic_write_text
from mlwarden.core.attestation import Envelope, Signer, Subject, sign_statement
from mlwarden.core.errors import InputError, UsageError
from mlwarden.core.report import utcnow
from mlwarden.provenance import capture, params, store
from mlwarden.provenance.slsa import BUILDER_LOCAL, Dependency, TrainingRun

MAX_METRICS_FILE = 16 << 20
MAX_FILE_DIGESTS = 1000
"""Datasets with at most this many files record every file's digest in the provenance."""


@dataclass(frozen=True, slots=True)
class TrainResult:
    """What :func:`train` did: the exit code, and the attestation when the run succeeded."""

    exit_code: int
    invocation_id: str
    run: TrainingRun | None = None
    envelope: Envelope | None = None
    attestation: Path | None = None
    indexed: tuple[Path, ...] = ()
    failure_record: Path | None = None

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and self.envelope is not None


@dataclass(frozen=True, slots=True)
class Inputs:
    """The declared inputs of a run, digested."""

    dependencies: tuple[Dependency, ...]
    parameters: Mapping[str, Any] = field(default_factory=dict, hash=False)


def file_dependency(kind: str, path: Path, cwd: Path, *, summarize: bool = False) -> Dependency:
    """A dataset, base model, lock file or params file as a resolved dependency (its model digest)."""
    from mlwarden.data.fingerprint import SCHEME, fingerprint

    what = {"dataset": "dataset", "base-model": "base model", "lockfile": "lock file",
            "params-file": "params file"}[kind]
    if not path.exists():
        raise InputError(f"{what} not found", path=path)
    fp = fingerprint(path, summarize=summarize)
    annotations: dict[str, Any] = {"digestScheme": SCHEME, "files": len(fp.files),
                                   "bytes": fp.size}
    if len(fp.files) <= MAX_FILE_DIGESTS:
        # Each file's own SHA-256: checkable with sha256sum, and it lets a trace name the file
        # that changed. Larger datasets keep only the digest over all of them.
        annotations["fileDigests"] = {f.path: f.digest for f in fp.files}
    if fp.rows is not None:
        annotations["rows"] = fp.rows
    if fp.tables:
        annotations["tables"] = {name: {"format": t.format, "rows": t.rows,
                                        "columns": t.column_count}
                                 for name, t in sorted(fp.tables.items())}
    return Dependency(kind=kind, name=capture.relative_name(path, cwd), digest={"sha256": fp.hex},
                      uri=path.resolve().as_uri(), path=capture.relative_name(path, cwd),
                      annotations=annotations)


def code_dependency(state: capture.GitState) -> Dependency:
    annotations: dict[str, Any] = {"dirty": state.dirty}
    if state.diff_sha256:
        annotations["diffSha256"] = state.diff_sha256
    if state.ref:
        annotations["ref"] = state.ref
    return Dependency(kind="code", name="source", digest={"gitCommit": state.commit},
                      uri=state.uri, path=None, annotations=annotations)


def collect_inputs(*, cwd: Path, data: Sequence[Path], base_model: Path | None,
                   params_file: Path | None, param_flags: Sequence[str],
                   lock_file: Path | None, environ: Mapping[str, str],
                   git: capture.GitState | None) -> Inputs:
    """Digest every declared input; :class:`InputError` on the first one missing or unreadable."""
    deps: list[Dependency] = []
    if git is not None:
        deps.append(code_dependency(git))
    seen: set[Path] = set()
    for path in data:
        if path.resolve() in seen:
            raise UsageError(f"--data {path} is given twice")
        seen.add(path.resolve())
        deps.append(file_dependency("dataset", path, cwd, summarize=True))
    if base_model is not None:
        deps.append(file_dependency("base-model", base_model, cwd))
    lock = lock_file or capture.find_lock_file(cwd, git.root if git else None)
    if lock_file is not None and not lock_file.is_file():
        raise InputError("lock file not found", path=lock_file)
    if lock is not None:
        deps.append(file_dependency("lockfile", lock, cwd))
    parameters = params.collect(params_file, param_flags, environ)
    if params_file is not None:
        deps.append(file_dependency("params-file", params_file, cwd))
    return Inputs(dependencies=tuple(deps), parameters=parameters)


def load_metrics(path: Path) -> dict[str, float]:
    """Numeric top-level values of a JSON metrics file (nested objects flattened with dots)."""
    try:
        if path.stat().st_size > MAX_METRICS_FILE:
            raise InputError("metrics file is larger than 16 MiB", path=path)
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("metrics file was not written by the training command", path=path) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"metrics file is not readable JSON: {exc}", path=path) from None
    except RecursionError:
        raise InputError("metrics file is nested too deeply", path=path) from None
    if not isinstance(data, dict):
        raise InputError("metrics file must hold a JSON object", path=path)
    flat: dict[str, float] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}{k}.", v)
        elif isinstance(value, (int, float)) and not isinstance(value, bool) \
                and value == value and abs(value) != float("inf"):
            flat[prefix[:-1]] = float(value)

    walk("", data)
    return flat


def attest(run: TrainingRun, signer: Signer, attestation: Path,
           state: Path) -> tuple[Envelope, tuple[Path, ...]]:
    """Sign ``run`` and write it to ``attestation`` and to the index (one copy per subject)."""
    envelope = sign_statement(run.statement(), signer)
    store.write(envelope, attestation)
    indexed = []
    for subject in run.subjects:
        indexed.append(store.write(envelope, store.index_path(subject.digest["sha256"], state)))
    return envelope, tuple(indexed)


def output_subjects(outputs: Sequence[Path], cwd: Path) -> tuple[Subject, ...]:
    from mlwarden.core.identity import artifact_digest as model_digest

    subjects = []
    for path in outputs:
        if not path.exists():
            raise InputError("declared output was not produced by the training command",
                             path=path, advice="check --out, or the command's output path")
        subjects.append(Subject(name=capture.relative_name(path, cwd),
                                digest={"sha256": model_digest(path).split(":", 1)[1]}))
    return tuple(subjects)


def _stamp(path: Path) -> tuple[tuple[str, int, int, int], ...] | None:
    """What a rewrite of ``path`` changes (inode, size, mtime of every file), or None if absent."""
    def one(p: Path, name: str) -> tuple[str, int, int, int]:
        st = p.stat()
        return (name, st.st_ino, st.st_size, st.st_mtime_ns)

    try:
        if not path.exists():
            return None
        if not path.is_dir():
            return (one(path, ""),)
        files = sorted(one(p, p.relative_to(path).as_posix()) for p in path.rglob("*")
                       if p.is_file())
        return (*files, one(path, "."))
    except OSError:
        return None


def check_outputs(outputs: Sequence[Path], attestation: Path) -> None:
    for out in outputs:
        if out.resolve() == attestation.resolve():
            raise UsageError(f"--attestation {attestation} is also an --out: the attestation would "
                             "overwrite the artifact it is about")
        if out.exists() and out.is_dir() and attestation.resolve().is_relative_to(out.resolve()):
            raise UsageError(f"--attestation {attestation} lies inside the output folder {out} "
                             "(it would change the model's digest)")


def train(command: Sequence[str], *, data: Sequence[Path], outputs: Sequence[Path],
          signer: Signer, base_model: Path | None = None, params_file: Path | None = None,
          param_flags: Sequence[str] = (), lock_file: Path | None = None,
          metrics_file: Path | None = None, attestation: Path | None = None,
          home: Path | None = None, cwd: Path | None = None,
          environ: Mapping[str, str] | None = None) -> TrainResult:
    """Run ``command``, then attest its outputs with SLSA provenance signed by ``signer``."""
    if not command:
        raise UsageError("no training command given (put it after '--')")
    here = (cwd or Path.cwd()).resolve()
    env = dict(os.environ if environ is None else environ)
    if not outputs:
        raise UsageError("at least one --out is needed (the artifact the provenance is about)")
    outputs = [_under(here, o) for o in outputs]
    target = _under(here, attestation) if attestation is not None else store.sidecar(outputs[0])
    check_outputs(outputs, target)
    state = _under(here, store.home(home))
    git = capture.git_state(here)
    inputs = collect_inputs(
        cwd=here, data=[_under(here, d) for d in data],
        base_model=_under(here, base_model) if base_model is not None else None,
        params_file=_under(here, params_file) if params_file is not None else None,
        param_flags=param_flags, lock_file=_under(here, lock_file) if lock_file else None,
        environ=env, git=git)
    environment = capture.environment(command)
    before = {out: _stamp(out) for out in outputs}
    invocation = f"urn:uuid:{uuid.uuid4()}"
    started = utcnow()
    try:
        proc = subprocess.run(list(command), cwd=here, env=env, check=False)
    except FileNotFoundError:
        raise InputError("training command not found", path=command[0]) from None
    except PermissionError:
        raise InputError("training command is not executable", path=command[0]) from None
    except OSError as exc:
        raise InputError(f"cannot run the training command: {exc.strerror or exc}",
                         path=command[0]) from None
    finished = utcnow()

    def record(subjects: tuple[Subject, ...], metrics: Mapping[str, float],
               code: int) -> TrainingRun:
        return TrainingRun(
            subjects=subjects, command=tuple(command), working_directory=str(here),
            started_on=started, finished_on=finished, invocation_id=invocation, exit_code=code,
            parameters=dict(inputs.parameters), seed=params.seed_of(inputs.parameters),
            dependencies=inputs.dependencies, environment=environment, metrics=metrics,
            builder_id=BUILDER_LOCAL, tool_version=__version__, source={"kind": "mlwarden-train"})

    if proc.returncode != 0:
        # Killed by a signal: report it the way shells do (128 + signal number).
        code = proc.returncode if proc.returncode > 0 else 128 - proc.returncode
        failed = state / "runs" / (invocation.rsplit(":", 1)[-1] + ".json")
        _write_failure(failed, record((), {}, code))
        return TrainResult(exit_code=code, invocation_id=invocation, failure_record=failed)
    for out, stamp in before.items():
        if stamp is not None and _stamp(out) == stamp:  # a stale artifact is not this run's output
            raise InputError("declared output was not written by the training command (it is "
                             "unchanged since before the run)", path=out,
                             advice="check --out and the command's output path, or remove the "
                                    "stale artifact first")
    changed = changed_inputs(inputs.dependencies, here)
    if changed:
        from mlwarden.core.errors import DeniedError

        raise DeniedError(
            f"the training command changed its own inputs while it ran ({'; '.join(changed)}): "
            "the provenance would name inputs the model was not trained on; nothing was attested",
            advice="train on a copy the command does not write, or attest the inputs it leaves")
    subjects = output_subjects(outputs, here)
    metrics = load_metrics(_under(here, metrics_file)) if metrics_file is not None else {}
    run = record(subjects, metrics, 0)
    envelope, indexed = attest(run, signer, target, state)
    return TrainResult(exit_code=0, invocation_id=invocation, run=run, envelope=envelope,
                       attestation=target, indexed=indexed)


def _under(base: Path, path: Path) -> Path:
    return path if path.is_absolute() else base / path


def _write_failure(path: Path, run: TrainingRun) -> None:
    data = {
        "status": "failed", "exitCode": run.exit_code, "invocationId": run.invocation_id,
        "command": list(run.command), "workingDirectory": run.working_directory,
        "startedOn": run.started_on.isoformat(), "finishedOn": run.finished_on.isoformat(),
        "parameters": dict(run.parameters),
        "resolvedDependencies": [d.to_descriptor() for d in run.dependencies],
        "note": "unsigned record of a failed training run: no provenance attestation was written",
    }
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def changed_inputs(dependencies: Sequence[Dependency], cwd: Path) -> list[str]:
    """The file inputs (datasets, base model, lock file, params file) whose digest is not what
    was recorded before the command ran: fingerprinted again, after it, the same way."""
    from mlwarden.data.fingerprint import fingerprint

    changed = []
    for dep in dependencies:
        if dep.kind == "code" or dep.path is None or "sha256" not in dep.digest:
            continue
        path = Path(dep.path) if Path(dep.path).is_absolute() else cwd / dep.path
        if not path.exists():
            changed.append(f"{dep.kind} {dep.path} was removed")
            continue
        now = fingerprint(path, summarize=False).hex
        if now != dep.digest["sha256"]:
            changed.append(f"{dep.kind} {dep.path}: sha256:{dep.digest['sha256'][:16]}… before, "
                           f"sha256:{now[:16]}… after")
    return changed
