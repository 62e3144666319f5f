"""``mlwarden gate``: run the checks a policy needs over a model and decide (exit 0 allow, 1 deny)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from mlwarden.cli.common import FormatOpt, OutputOpt
from mlwarden.report.interface import OutputFormat


def gate(
    model: Annotated[str, typer.Argument(help="A model file or folder, or MODEL@VERSION in the "
                                              "registry.")],
    policy: Annotated[Path, typer.Option("--policy", "-p", help="Policy YAML (with a gate "
                                                                "section).")],
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
    pol = Policy.load(policy)  # its trusted keys are read and parsed here: a bad one is exit 2
    _check_evidence_files(signature or [], {"provenance": provenance or [],
                                            "data-check": data_check or [],
                                            "model-test": model_test or []})
    if stage is not None and stage not in ("staging", "production"):
        raise UsageError(f"--stage must be staging or production, not {stage!r}")
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
        from mlwarden.gate.promotion import gate_version
        from mlwarden.registry.service import Registry

        with Registry.open(home=home, db_url=db, create=False) as reg:
            who = reg.authenticate(token or os.environ.get("MLWARDEN_TOKEN"))
            report = gate_version(reg, who, model, pol, stage=stage or "production")
    emit(report, fmt, output)
    return int(exit_code_for(report))


def _check_evidence_files(signatures: list[Path], statements: dict[str, list[Path]]) -> None:
    """Every evidence file on the command line must be what its option says, whether or not the
    policy needs it: a malformed signature bundle or envelope, or a statement of another kind, is
    bad input (exit 2 naming the file), not something the gate quietly ignores."""
    import json

    from mlwarden.core.attestation import Envelope, Statement
    from mlwarden.core.errors import InputError, MlwardenError
    from mlwarden.core.evidence import kind

    if signatures:
        from mlwarden.sign.bundle import Bundle

        for path in signatures:
            try:
                Bundle.load(path)
            except MlwardenError as exc:  # a verification-type error here is a malformed file
                raise InputError(exc.message, path=path, advice=exc.advice) from None
    for name, paths in statements.items():
        expected = kind(name).predicate_types
        for path in paths:
            try:
                data = json.loads(path.read_bytes())
            except FileNotFoundError:
                raise InputError("file not found", path=path) from None
            except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
                raise InputError(f"not a JSON attestation: {exc}", path=path) from None
            if isinstance(data, dict) and "dsseEnvelope" in data:
                data = data["dsseEnvelope"]
            envelope = Envelope.from_dict(data, source=str(path))
            statement = Statement.from_json_bytes(envelope.payload, source=str(path))
            if statement.predicate_type not in expected:
                raise InputError(f"--{name} needs predicateType {' or '.join(map(repr, expected))}, "
                                 f"not {statement.predicate_type!r}", path=path,
                                 advice=f"is it the right file for --{name}?")
