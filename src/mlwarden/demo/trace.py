"""The demo's lineage step: trace the model back to its training run.

``step_trace`` walks back from the model, re-checking every link, writes the lineage (HTML) and the
CycloneDX ML-BOM into ``reports/``, and shows a changed dataset caught as the one broken link.
"""

from __future__ import annotations

import json
import shutil
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlwarden.demo.context import DemoContext


def step_trace(ctx: DemoContext) -> None:
    """Trace the model back to its training run; write lineage.html and the ML-BOM."""
    from mlwarden.core.atomic import atomic_write_text
    from mlwarden.core.errors import InternalError
    from mlwarden.core.report import CheckRun
    from mlwarden.provenance.bom import build_bom
    from mlwarden.provenance.lineage import Status, lineage_findings, trace_model
    from mlwarden.provenance.render import to_html

    work = ctx.workdir
    model = ctx.artifacts["model"]
    keys = [ctx.artifacts["training_key"]]
    if "public_key" in ctx.artifacts:  # the release key of the signing step
        keys.append(ctx.artifacts["public_key"])
    lineage = trace_model(model, keys=keys, home=work / ".mlwarden", cwd=work)
    findings = lineage_findings(lineage)
    if not lineage.ok:
        raise InternalError("the demo model's lineage did not verify: "
                            + "; ".join(f.message for f in findings))
    for link in lineage.links():
        if link.kind != "model" and link.status is not Status.RECORDED:
            ctx.log(f"{link.status.value:11} {link.kind}: {link.name} — {link.detail}"[:150])
    ctx.findings.extend(findings)
    ctx.checks.append(CheckRun("provenance.trace", "1"))
    reports = work / "reports"
    atomic_write_text(reports / "lineage.html", to_html(lineage, findings))
    bom = build_bom(lineage)
    atomic_write_text(reports / "model.cdx.json", bom)
    components = json.loads(bom).get("components", [])
    ctx.log(f"wrote reports/lineage.html and reports/model.cdx.json (CycloneDX 1.6 ML-BOM, "
            f"{len(components)} components, schema-valid)")
    ctx.facts["lineage_verified"] = True

    # Someone edits one value of the training data afterwards: the trace names that link.
    tampered = work / "tampered-data"
    shutil.rmtree(tampered, ignore_errors=True)
    (tampered / "data").mkdir(parents=True)
    shutil.copyfile(model, tampered / model.name)
    shutil.copyfile(ctx.artifacts["training_provenance"],
                    tampered / (model.name + ".provenance.json"))
    frame = ctx.artifacts["dataset"].read_text(encoding="utf-8").splitlines()
    cells = frame[1].split(",")
    cells[-1] = "0" if cells[-1] != "0" else "1"  # flip one label
    frame[1] = ",".join(cells)
    (tampered / "data" / ctx.artifacts["dataset"].name).write_text("\n".join(frame) + "\n")
    broken = trace_model(tampered / model.name, keys=keys, home=tampered / ".mlwarden",
                         cwd=tampered)
    bad = [link for link in broken.links() if link.status is Status.MISMATCHED]
    if [link.kind for link in bad] != ["dataset"]:
        raise InternalError("the demo's changed dataset was not reported as the broken link")
    ctx.facts["dataset_tamper_detected"] = True
    ctx.log(f"one flipped label in a copy of the data: trace reports exactly one broken link, "
            f"dataset {bad[0].name} ({bad[0].expected} → {bad[0].actual})"[:200])
