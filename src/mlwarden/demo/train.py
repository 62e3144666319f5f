"""The demo's training step: train through ``mlwarden train``.

``step_train`` runs the demo's training script as a real subprocess through
:func:`mlwarden.provenance.train.train`, so the model comes out with a signed SLSA provenance
attestation (dataset fingerprint, code, environment, parameters, metrics).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlwarden.demo.context import DemoContext

TRAIN_SCRIPT = '''\
"""The demo's training script: run by `mlwarden train`, which records what goes in and out."""
import json
import os
import sys

import pandas as pd
import skops.io as sio
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

data, out, metrics = sys.argv[1:4]
seed = int(os.environ["MLWARDEN_PARAM_SEED"])
max_iter = int(os.environ["MLWARDEN_PARAM_MAX_ITER"])
test_size = float(os.environ["MLWARDEN_PARAM_TEST_SIZE"])
frame = pd.read_csv(data)
x, y = frame.drop(columns=["target"]), frame["target"]
x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=test_size, random_state=seed,
                                          stratify=y)
model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=max_iter, random_state=seed))
model.fit(x_tr, y_tr)
os.makedirs(os.path.dirname(out), exist_ok=True)
sio.dump(model, out)
with open(metrics, "w") as handle:
    json.dump({"accuracy": float(model.score(x_te, y_te))}, handle)
'''

PARAMS = {"SEED": "7", "MAX_ITER": "500", "TEST_SIZE": "0.25"}


def step_train(ctx: DemoContext) -> None:
    """Train the StandardScaler+LogisticRegression pipeline through ``mlwarden train``."""
    from mlwarden.core.atomic import atomic_write_bytes, atomic_write_text
    from mlwarden.core.errors import InternalError
    from mlwarden.provenance.train import train
    from mlwarden.sign.keys import EcdsaSigner, generate_private_key, public_pem

    work = ctx.workdir
    script = work / "train.py"
    atomic_write_text(script, TRAIN_SCRIPT)
    signer = EcdsaSigner(generate_private_key("P-256"))
    public = work / "keys" / "training.pub"
    atomic_write_bytes(public, public_pem(signer.public_key))
    model = work / "model" / "model.skops"
    metrics = work / "model" / "metrics.json"
    for stale in (model, metrics):
        stale.unlink(missing_ok=True)
    environ = {**os.environ, **{f"MLWARDEN_PARAM_{k}": v for k, v in PARAMS.items()}}
    result = train([sys.executable, str(script), "data/breast_cancer.csv", "model/model.skops",
                    "model/metrics.json"],
                   data=[ctx.artifacts["dataset"]], outputs=[model], signer=signer,
                   metrics_file=metrics, cwd=work, home=work / ".mlwarden", environ=environ)
    if not result.ok or result.run is None or result.attestation is None:
        raise InternalError(f"the demo's training command failed (exit {result.exit_code})")
    run = result.run
    ctx.artifacts["model"] = model
    # Named so the registry step does not gate on it until it trusts the training key too.
    ctx.artifacts["training_provenance"] = result.attestation
    ctx.artifacts["training_key"] = public
    ctx.facts["accuracy"] = run.metrics["accuracy"]
    ctx.facts["training_invocation"] = run.invocation_id
    ctx.log(f"ran `{' '.join(Path(c).name if i < 2 else c for i, c in enumerate(run.command))}` "
            f"through mlwarden train: test accuracy {run.metrics['accuracy']:.3f}; saved {model}")
    ctx.log(f"recorded: dataset {run.of_kind('dataset')[0].digest['sha256'][:16]}…, params "
            f"{dict(run.parameters)}, {len(run.environment.get('packages', []))} packages, "
            f"{'git commit' if run.code else 'no git repository'}")
    ctx.log(f"signed SLSA provenance (DSSE, key {signer.keyid[:16]}…) -> "
            f"{result.attestation.relative_to(work)}")
