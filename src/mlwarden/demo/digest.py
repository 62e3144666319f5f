"""The demo's identity step: the model digest every piece of evidence binds to."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlwarden.demo.context import DemoContext


def step_digest(ctx: DemoContext) -> None:
    """Identify the model by its root digest: the identity every piece of evidence binds to."""
    from mlwarden.core.digest import sha256_file
    from mlwarden.core.identity import artifact_digest

    root = artifact_digest(ctx.artifacts["model"])
    ctx.facts["model_digest"] = root
    ctx.log(f"model root digest {root} (what `mlwarden digest` prints; signature, provenance "
            "and registry entries all bind to it)")
    ctx.log(f"file bytes        {sha256_file(ctx.artifacts['model'])}")
