"""The lifecycle demo: the main job, on embedded defaults (local files, bundled data).

Each capability adds a :class:`Step`; the demo runs them in order, prints what each does, and writes
every report into one folder. Steps share a :class:`DemoContext` (the folder, the artifacts made so
far, the findings collected so far).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlwarden.core.finding import Finding
from mlwarden.core.report import CheckRun, Report, utcnow


@dataclass
class DemoContext:
    workdir: Path
    log: Callable[[str], None]
    artifacts: dict[str, Path] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    checks: list[CheckRun] = field(default_factory=list)
    started_at: dt.datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class Step:
    title: str
    run: Callable[[DemoContext], None]


def step_data(ctx: DemoContext) -> None:
    """Write the bundled breast-cancer dataset (shipped with scikit-learn) as a CSV file."""
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame
    path = ctx.workdir / "data" / "breast_cancer.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    ctx.artifacts["dataset"] = path
    ctx.facts["rows"], ctx.facts["columns"] = frame.shape
    ctx.log(f"wrote {path} ({frame.shape[0]} rows, {frame.shape[1]} columns) from scikit-learn's "
            "bundled breast-cancer data")


def step_train(ctx: DemoContext) -> None:
    """Train through ``mlwarden train`` so the model comes with signed SLSA provenance."""
    from mlwarden.provenance.demo_step import step_train as train_with_provenance

    train_with_provenance(ctx)


def step_digest(ctx: DemoContext) -> None:
    """Identify the model by its root digest: the identity every piece of evidence binds to."""
    from mlwarden.core.digest import sha256_file
    from mlwarden.sign.manifest import model_digest

    root = model_digest(ctx.artifacts["model"])
    ctx.facts["model_digest"] = root
    ctx.log(f"model root digest {root} (what `mlwarden digest` prints; signature, provenance "
            "and registry entries all bind to it)")
    ctx.log(f"file bytes        {sha256_file(ctx.artifacts['model'])}")


def _registry_step(ctx: DemoContext) -> None:
    from mlwarden.registry.demo_step import step_registry

    step_registry(ctx)


def _step_scan(ctx: DemoContext) -> None:
    from mlwarden.scan.demo_step import step_scan

    step_scan(ctx)


def _step_convert(ctx: DemoContext) -> None:
    from mlwarden.scan.convert_demo_step import step_convert

    step_convert(ctx)


def _step_trace(ctx: DemoContext) -> None:
    from mlwarden.provenance.demo_step import step_trace

    step_trace(ctx)


def _step_sign(ctx: DemoContext) -> None:
    from mlwarden.sign.demo_step import step_sign

    step_sign(ctx)


STEPS: list[Step] = [
    Step("Prepare data", step_data),
    Step("Train a model", step_train),
    Step("Scan model files", _step_scan),
    Step("Convert to a safe format", _step_convert),
    Step("Sign the model", _step_sign),
    Step("Identify the model by digest", step_digest),
    Step("Trace provenance and lineage", _step_trace),
    Step("Register, gate and promote", _registry_step),
]


def build_report(ctx: DemoContext) -> Report:
    from mlwarden.core.policy import Policy

    report = Report.build(
        "demo", str(ctx.workdir), ctx.findings, started_at=ctx.started_at, checks=ctx.checks,
        artifacts={str(p): _digest(p) for p in ctx.artifacts.values() if p.is_file()},
        metadata={k: v for k, v in ctx.facts.items() if isinstance(v, (str, int, float, bool))},
    )
    return Policy.default().evaluate(report)


def _digest(path: Path) -> str:
    from mlwarden.core.digest import sha256_file

    return sha256_file(path)
