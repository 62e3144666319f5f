"""The training-provenance record and its SLSA provenance v1 form (see ``docs/provenance.md``).

A :class:`TrainingRun` is what mlwarden knows about one training run. :meth:`TrainingRun.statement`
turns it into an in-toto Statement v1 whose subjects are the run's outputs (named by path,
identified by their model digest under ``sha256``, as ``mlwarden digest`` prints it) and whose
predicate is SLSA provenance v1 with ``buildType`` :data:`BUILD_TYPE`;
:meth:`TrainingRun.from_statement` reads one back, raising :class:`~mlwarden.core.errors.InputError`
naming the field that is wrong. The round trip is exact.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlwarden.core.attestation import Statement, Subject
from mlwarden.core.errors import InputError
from mlwarden.core.evidence import SLSA_PROVENANCE_PREDICATE as SLSA_PREDICATE_TYPE

BUILD_TYPE = "https://mlwarden.dev/provenance/train/v1"
BUILDER_LOCAL = "https://mlwarden.dev/builders/local/v1"
BUILDER_MLFLOW = "https://mlwarden.dev/builders/mlflow-import/v1"

KINDS = ("code", "dataset", "base-model", "lockfile", "params-file")
"""``annotations.kind`` of a resolved dependency."""


def rfc3339(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_time(value: Any, where: str) -> dt.datetime:
    if not isinstance(value, str):
        raise InputError(f"{where} must be an RFC 3339 timestamp")
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"{where} is not an RFC 3339 timestamp: {value!r}") from None
    if moment.tzinfo is None:
        raise InputError(f"{where} has no time zone: {value!r}")
    return moment


@dataclass(frozen=True, slots=True)
class Dependency:
    """A resolved dependency (an SLSA ResourceDescriptor): code, a dataset, a base model, a lock file.

    ``digest`` is a digest set: ``{"gitCommit": sha}`` for code, ``{"sha256": hex}`` for files and
    folders, where the hex is the mlwarden model digest (``annotations.digestScheme`` says so).
    ``path`` is where the input was, relative to the run's working directory when inside it.
    """

    kind: str
    name: str
    digest: Mapping[str, str] = field(hash=False)
    uri: str | None = None
    path: str | None = None
    annotations: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InputError(f"dependency {self.name!r}: unknown kind {self.kind!r}")
        if not self.digest or not all(isinstance(k, str) and isinstance(v, str) and v
                                      for k, v in self.digest.items()):
            raise InputError(f"dependency {self.name!r}: needs a digest set of strings")

    def to_descriptor(self) -> dict[str, Any]:
        annotations = {**self.annotations, "kind": self.kind}
        if self.path is not None:
            annotations["path"] = self.path
        rd: dict[str, Any] = {"name": self.name, "digest": dict(self.digest)}
        if self.uri:
            rd["uri"] = self.uri
        rd["annotations"] = annotations
        return rd

    @classmethod
    def from_descriptor(cls, rd: Any, where: str) -> Dependency:
        if not isinstance(rd, Mapping):
            raise InputError(f"{where} is not an object")
        annotations = rd.get("annotations", {})
        if not isinstance(annotations, Mapping):
            raise InputError(f"{where}.annotations is not an object")
        digest = rd.get("digest")
        if not isinstance(digest, Mapping):
            raise InputError(f"{where}.digest is not an object")
        kind, name, uri, path = (annotations.get("kind"), rd.get("name", ""), rd.get("uri"),
                                 annotations.get("path"))
        if not isinstance(kind, str) or not isinstance(name, str):
            raise InputError(f"{where}: annotations.kind and name must be strings")
        if uri is not None and not isinstance(uri, str):
            raise InputError(f"{where}.uri is not a string")
        if path is not None and not isinstance(path, str):
            raise InputError(f"{where}.annotations.path is not a string")
        rest = {k: v for k, v in annotations.items() if k not in ("kind", "path")}
        try:
            return cls(kind=kind, name=name, digest=dict(digest), uri=uri, path=path,
                       annotations=rest)
        except InputError as exc:
            raise InputError(f"{where}: {exc.message}") from None


@dataclass(frozen=True, slots=True)
class TrainingRun:
    """Everything recorded about one training run; :meth:`statement` is its attestable form."""

    subjects: tuple[Subject, ...]
    command: tuple[str, ...]
    working_directory: str
    started_on: dt.datetime
    finished_on: dt.datetime
    invocation_id: str
    exit_code: int = 0
    parameters: Mapping[str, Any] = field(default_factory=dict, hash=False)
    seed: Any = None
    dependencies: tuple[Dependency, ...] = ()
    environment: Mapping[str, Any] = field(default_factory=dict, hash=False)
    metrics: Mapping[str, float] = field(default_factory=dict, hash=False)
    builder_id: str = BUILDER_LOCAL
    tool_version: str = ""
    source: Mapping[str, Any] = field(default_factory=dict, hash=False)
    """Where the record came from: ``{"kind": "mlwarden-train"}`` or the MLflow run's identity."""

    def of_kind(self, kind: str) -> tuple[Dependency, ...]:
        return tuple(d for d in self.dependencies if d.kind == kind)

    @property
    def code(self) -> Dependency | None:
        found = self.of_kind("code")
        return found[0] if found else None

    def predicate(self) -> dict[str, Any]:
        external: dict[str, Any] = {"command": list(self.command),
                                    "workingDirectory": self.working_directory,
                                    "parameters": dict(self.parameters)}
        if self.seed is not None:
            external["seed"] = self.seed
        internal: dict[str, Any] = {"environment": dict(self.environment),
                                    "source": dict(self.source)}
        if self.tool_version:
            internal["mlwarden"] = {"version": self.tool_version}
        result = {"exitCode": self.exit_code,
                  "durationSeconds": round((self.finished_on - self.started_on).total_seconds(), 6)}
        byproducts: list[dict[str, Any]] = [_json_byproduct("run-result", result)]
        if self.metrics:
            byproducts.append(_json_byproduct("metrics", dict(self.metrics)))
        return {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": external,
                "internalParameters": internal,
                "resolvedDependencies": [d.to_descriptor() for d in self.dependencies],
            },
            "runDetails": {
                "builder": {"id": self.builder_id,
                            **({"version": {"mlwarden": self.tool_version}}
                               if self.tool_version else {})},
                "metadata": {"invocationId": self.invocation_id,
                             "startedOn": rfc3339(self.started_on),
                             "finishedOn": rfc3339(self.finished_on)},
                "byproducts": byproducts,
            },
        }

    def statement(self) -> Statement:
        return Statement(self.subjects, SLSA_PREDICATE_TYPE, self.predicate())

    @classmethod
    def from_statement(cls, statement: Statement) -> TrainingRun:
        """Read a training run back; :class:`InputError` names the first field that is wrong."""
        if statement.predicate_type != SLSA_PREDICATE_TYPE:
            raise InputError(f"predicateType is {statement.predicate_type!r}, expected "
                             f"{SLSA_PREDICATE_TYPE!r}")
        p = statement.predicate
        bd = _obj(p, "buildDefinition", "predicate")
        if bd.get("buildType") != BUILD_TYPE:
            raise InputError(f"buildDefinition.buildType is {bd.get('buildType')!r}, expected "
                             f"{BUILD_TYPE!r}")
        ext = _obj(bd, "externalParameters", "buildDefinition")
        internal = _obj(bd, "internalParameters", "buildDefinition", required=False)
        rd_list = bd.get("resolvedDependencies", [])
        if not isinstance(rd_list, list):
            raise InputError("buildDefinition.resolvedDependencies is not a list")
        deps = tuple(Dependency.from_descriptor(rd, f"resolvedDependencies[{i}]")
                     for i, rd in enumerate(rd_list))
        command = ext.get("command")
        if not isinstance(command, list) or not all(isinstance(c, str) for c in command):
            raise InputError("externalParameters.command is not a list of strings")
        wd = ext.get("workingDirectory", "")
        params = ext.get("parameters", {})
        if not isinstance(wd, str) or not isinstance(params, Mapping):
            raise InputError("externalParameters.workingDirectory/parameters have the wrong type")
        rdt = _obj(p, "runDetails", "predicate")
        builder = _obj(rdt, "builder", "runDetails")
        meta = _obj(rdt, "metadata", "runDetails")
        builder_id = builder.get("id")
        invocation = meta.get("invocationId")
        if not isinstance(builder_id, str) or not builder_id:
            raise InputError("runDetails.builder.id must be a non-empty string")
        if not isinstance(invocation, str) or not invocation:
            raise InputError("runDetails.metadata.invocationId must be a non-empty string")
        started = parse_time(meta.get("startedOn"), "runDetails.metadata.startedOn")
        finished = parse_time(meta.get("finishedOn"), "runDetails.metadata.finishedOn")
        byproducts = rdt.get("byproducts", [])
        if not isinstance(byproducts, list):
            raise InputError("runDetails.byproducts is not a list")
        result = _find_json_byproduct(byproducts, "run-result") or {}
        metrics = _find_json_byproduct(byproducts, "metrics") or {}
        exit_code = result.get("exitCode", 0)
        if not isinstance(exit_code, int) or isinstance(exit_code, bool):
            raise InputError("run-result.exitCode is not an integer")
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                   for v in metrics.values()):
            raise InputError("metrics byproduct holds a non-numeric value")
        environment = internal.get("environment", {})
        source = internal.get("source", {})
        version = internal.get("mlwarden", {})
        if not isinstance(environment, Mapping) or not isinstance(source, Mapping) \
                or not isinstance(version, Mapping):
            raise InputError("internalParameters.environment/source/mlwarden must be objects")
        return cls(
            subjects=statement.subjects, command=tuple(command), working_directory=wd,
            started_on=started, finished_on=finished, invocation_id=invocation,
            exit_code=exit_code, parameters=dict(params), seed=ext.get("seed"),
            dependencies=deps, environment=dict(environment),
            metrics={str(k): float(v) for k, v in metrics.items()}, builder_id=builder_id,
            tool_version=str(version.get("version", "")), source=dict(source),
        )


def _obj(parent: Mapping[str, Any], key: str, where: str, *,
         required: bool = True) -> Mapping[str, Any]:
    value = parent.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, Mapping):
        raise InputError(f"{where}.{key} is missing or not an object")
    return value


def _json_byproduct(name: str, value: Mapping[str, Any]) -> dict[str, Any]:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return {"name": name, "mediaType": "application/json",
            "content": base64.b64encode(text.encode()).decode("ascii")}


def _find_json_byproduct(byproducts: list[Any], name: str) -> dict[str, Any] | None:
    for index, rd in enumerate(byproducts):
        if isinstance(rd, Mapping) and rd.get("name") == name:
            content = rd.get("content")
            try:
                value = json.loads(base64.b64decode(str(content), validate=True))
            except (ValueError, TypeError, RecursionError):
                raise InputError(f"runDetails.byproducts[{index}] ({name}) content is not "
                                 "base64 JSON") from None
            if not isinstance(value, dict):
                raise InputError(f"runDetails.byproducts[{index}] ({name}) is not an object")
            return value
    return None
