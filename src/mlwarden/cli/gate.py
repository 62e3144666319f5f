"""``mlwarden gate``: run the checks a policy needs over a model and decide (exit 0 allow, 1 deny)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mlwarden.cli.common import FormatOpt, OutputOpt
from mlwarden.core.errors import MlwardenError
from mlwarden.report.interface import OutputFormat

if TYPE_CHECKING:
    from mlwarden.core.policy import Policy


def gate(
    model: Annotated[str, typer.Argument(help="A model file or folder, or MODEL@VERSION in the "
                                              "registry.")],
    policy: Annotated[Path, typer.Option("--policy", "-p", help="Policy YAML (with an "
                                                                "extensions.gate section).")],
    signature: Annotated[list[Path] | None, typer.Option(
        "--signature", help="OMS signature bundle (default: model.sig in the folder, or "
                            "FILE.sig).")] = None,
    provenance: Annotated[list[Path] | None, typer.Option(
        "--provenance", help="Signed SLSA provenance envelope.")] = None,
    data_check: Annotated[list[Path] | None, typer.Option(
        "--data-check", help="Signed data-check attestation.")] = None,
    model_test: Annotated[list[Path] | None, typer.Option(
        "--model-test", help="Signed model-test attestation.")] = None,
    stage: Annotated[str | None, typer.Option("--stage", help="Apply this stage's overrides "
                                                              "(staging, production).")] = None,
    fmt: FormatOpt = OutputFormat.TABLE,
    output: OutputOpt = None,
    db: Annotated[str | None, typer.Option("--db", help="Registry database URL (for "
                                                        "MODEL@VERSION).")] = None,
    home: Annotated[Path | None, typer.Option("--home", help="Registry home folder.")] = None,
    token: Annotated[str | None, typer.Option("--token", help="API token; default "
                                                              "$MLWARDEN_TOKEN.")] = None,
) -> int:
    """Decide whether a model passes a policy: scan, signature, provenance, checks, approvals."""
    from mlwarden.cli.common import emit, exit_code_for
    from mlwarden.cli.output import refuse_overwriting_inputs
    from mlwarden.core.errors import UsageError
    from mlwarden.core.policy import Policy

    refuse_overwriting_inputs(output, [model, policy, *(signature or []), *(provenance or []),
                                       *(data_check or []), *(model_test or [])])
    pol = Policy.load(policy)
    if stage is not None and stage not in ("staging", "production"):
        raise UsageError(f"--stage must be staging or production, not {stage!r}")
    _check_trusted_keys(pol, stage if stage is not None or "@" not in model else "production")
    path = Path(model)
    if path.exists() or "@" not in model:
        from mlwarden.gate.engine import gate_path

        report = gate_path(pol, path, signatures=signature or [], provenance=provenance or [],
                           data_checks=data_check or [], model_tests=model_test or [],
                           stage=stage)
    else:
        if signature or provenance or data_check or model_test:
            raise UsageError("a registry version is gated on the evidence bound to it; use "
                             "'mlwarden registry attach' to add more")
        from mlwarden.gate.engine import gate_evidence
        from mlwarden.registry.auth import Action
        from mlwarden.registry.service import Registry

        with Registry.open(home=home, db_url=db) as reg:
            who = reg.authenticate(token or os.environ.get("MLWARDEN_TOKEN"))
            reg.authorize(who, Action.GATE)
            with reg.evidence(who, model) as ev:
                report = gate_evidence(pol, ev, stage=stage or "production")
            assert report.decision is not None
            reg.record(who, "gate.decision", model, {"policy": pol.name,
                                                     "policy_digest": pol.digest,
                                                     "decision": report.decision.to_dict()})
    emit(report, fmt, output)
    return int(exit_code_for(report))


def _check_trusted_keys(pol: Policy, stage: str | None) -> None:
    """A policy file naming a key that is missing or not a public key is bad input (exit 2, the key
    named), not a deny: the gate itself fails closed on such a key, which would hide the typo."""
    from mlwarden.core.errors import PolicyError
    from mlwarden.gate.checks import load_verifiers
    from mlwarden.gate.requirements import key_texts, requirements_for

    try:
        load_verifiers(key_texts(requirements_for(pol, stage), pol))
    except PolicyError:
        raise
    except MlwardenError as exc:
        raise PolicyError(f"trusted key unusable: {exc.one_line()}", path=pol.source or pol.name,
                          advice="fix the policy's extensions.gate.trusted_keys") from None
