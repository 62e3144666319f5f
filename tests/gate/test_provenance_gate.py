"""The gate's provenance requirement on real SLSA provenance from ``mlwarden train``."""

from __future__ import annotations

import sys
from pathlib import Path

from mlwarden.core.policy import Policy
from mlwarden.gate.engine import gate_path
from mlwarden.provenance.train import train

from ..registry.helpers import new_key, policy_file

WRITE_MODEL = ("import sys, pathlib; p = pathlib.Path(sys.argv[1]); "
               "p.write_bytes(b'weights-' + pathlib.Path('data.csv').read_bytes()[:8])")


def _reasons(report: object) -> set[str]:
    return {r.rule_id or r.code.value for r in report.decision.reasons}  # type: ignore[attr-defined]


def test_signed_provenance_for_these_bytes_passes_and_anything_else_denies(tmp_path: Path) -> None:
    signer, pub = new_key(tmp_path, "train")
    _, other_pub = new_key(tmp_path, "other")
    root = tmp_path / "proj"
    root.mkdir()
    (root / "data.csv").write_text("x,y\n1,2\n3,4\n")
    train([sys.executable, "-c", WRITE_MODEL, "model.bin"], data=[Path("data.csv")],
          outputs=[Path("model.bin")], signer=signer, cwd=root, home=root / ".mlwarden",
          environ={})
    model, envelope = root / "model.bin", root / "model.bin.provenance.json"
    gate = f"    scan: false\n    provenance: true\n    trusted_keys: [{pub.name}]\n"
    policy = Policy.load(policy_file(tmp_path, "p", gate=gate))

    report = gate_path(policy, model, provenance=[envelope])
    assert report.decision is not None and report.decision.allowed, report.decision
    assert report.metadata["provenance"] == "verified"
    # Lineage findings of the record itself (trained outside git) are reported, under fail_on.
    assert "MW-PROV-007" in {f.rule_id for f in report.findings}

    strict = policy.model_copy(update={"fail_on": "medium"})
    assert "MW-PROV-007" in _reasons(gate_path(strict, model, provenance=[envelope]))

    untrusted = Policy.load(policy_file(tmp_path, "u", gate=(
        f"    scan: false\n    provenance: true\n    trusted_keys: [{other_pub.name}]\n")))
    assert _reasons(gate_path(untrusted, model, provenance=[envelope])) == {"MW-GATE-005"}

    model.write_bytes(b"swapped weights")  # the provenance no longer names these bytes
    swapped = gate_path(policy, model, provenance=[envelope])
    assert _reasons(swapped) == {"MW-GATE-005"}
    assert "subject is not this model" in swapped.decision.reasons[0].message  # type: ignore[union-attr]
