"""The lifecycle demo: the main job, on embedded defaults (local files, bundled data).

An application, like the CLI: one module per step, each using the library packages; no library
package imports the demo. The demo runs :data:`STEPS` in order, prints what each does, and writes
every report into one folder. Steps share a :class:`~.context.DemoContext` (the folder, the
artifacts made so far, the findings collected so far).
"""

from __future__ import annotations

from mlwarden.demo.context import DemoContext, Step
from mlwarden.demo.convert import step_convert
from mlwarden.demo.data import step_data
from mlwarden.demo.digest import step_digest
from mlwarden.demo.release import step_registry
from mlwarden.demo.report import build_report
from mlwarden.demo.scan import step_scan
from mlwarden.demo.sign import step_sign
from mlwarden.demo.trace import step_trace
from mlwarden.demo.train import step_train

STEPS: list[Step] = [
    Step("Prepare data", step_data),
    Step("Train a model", step_train),
    Step("Scan model files", step_scan),
    Step("Convert to a safe format", step_convert),
    Step("Sign the model", step_sign),
    Step("Identify the model by digest", step_digest),
    Step("Trace provenance and lineage", step_trace),
    Step("Register, gate and promote", step_registry),
]

__all__ = ["STEPS", "DemoContext", "Step", "build_report"]
