"""The demo's data step: scikit-learn's bundled breast-cancer dataset, written as a CSV file."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlwarden.demo.context import DemoContext


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
