"""``mlwarden train``, ``mlwarden trace`` and ``mlwarden bom``: training provenance and lineage."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mlwarden.cli.common import AllowInsecureKeyOpt

if TYPE_CHECKING:
    from mlwarden.core.attestation import Signer

KeyPubOpt = Annotated[list[Path] | None, typer.Option(
    "--key", "-k", help="A trusted public key (PEM file or key-store name): verifies the "
                        "provenance signatures and the model's own signature (MODEL.sig); "
                        "repeatable.")]
AttestationOpt = Annotated[list[Path] | None, typer.Option(
    "--attestation", "-a", help="A provenance attestation to consider besides the one beside the "
                                "model and the one indexed by its digest; repeatable.")]


def _signer(key: Path | None, passphrase_file: Path | None, allow_insecure: bool = False) -> Signer:
    """The signer for ``--key``: a PEM private key file, or the name of a key in the key store
    (resolved exactly as ``mlwarden sign --key`` resolves it)."""
    from mlwarden.core.errors import UsageError
    from mlwarden.sign.keys import EcdsaSigner
    from mlwarden.sign.keystore import resolve_private_key

    if key is None:
        raise UsageError("--key is needed to sign the provenance: a PEM private key or a key-store "
                         "name (create one with 'mlwarden keys generate')")
    from mlwarden.cli.common import passphrase_prompt

    return EcdsaSigner(resolve_private_key(key, passphrase_file=passphrase_file,
                                           prompt=lambda: passphrase_prompt(False),
                                           allow_insecure=allow_insecure))


def _refuse_overwriting(output: Path | None, model: Path, keys: list[Path] | None,
                        attestations: list[Path] | None) -> None:
    from mlwarden.cli.output import refuse_overwriting_inputs
    from mlwarden.provenance.store import sidecar

    refuse_overwriting_inputs(output, [model, sidecar(model), *(keys or []),
                                       *(attestations or [])])


def _public_keys(keys: list[Path] | None) -> list[Path]:
    """``--key`` values as PEM files: paths as given, key-store names resolved to their .pub."""
    resolved = []
    for key in keys or []:
        if not key.exists() and len(key.parts) == 1 and key.suffix not in (".pem", ".pub"):
            from mlwarden.sign.keystore import KeyStore

            resolved.append(KeyStore.open().get(str(key)).public_path)
        else:
            resolved.append(key)
    return resolved


def train(
    command: Annotated[list[str] | None, typer.Argument(
        help="The training command and its arguments, after '--'.", metavar="-- COMMAND...",
        show_default=False)] = None,
    data: Annotated[list[Path] | None, typer.Option(
        "--data", "-d", help="A dataset (file or folder) the run reads; repeatable.")] = None,
    out: Annotated[list[Path] | None, typer.Option(
        "--out", "-o", help="An artifact the run writes (the model); repeatable.")] = None,
    key: Annotated[Path | None, typer.Option(
        "--key", "-k", help="Private key that signs the provenance: a PEM file or a key-store "
                            "name.")] = None,
    passphrase_file: Annotated[Path | None, typer.Option(
        "--passphrase-file", help="File holding the key's passphrase "
                                  "(else MLWARDEN_KEY_PASSPHRASE).")] = None,
    allow_insecure_key: AllowInsecureKeyOpt = False,
    params: Annotated[Path | None, typer.Option(
        "--params", help="Hyperparameters file (YAML or JSON) to record.")] = None,
    param: Annotated[list[str] | None, typer.Option(
        "--param", help="A hyperparameter KEY=VALUE to record; repeatable. MLWARDEN_PARAM_* "
                        "environment variables are recorded too.")] = None,
    base_model: Annotated[Path | None, typer.Option(
        "--base-model", help="The model this run fine-tunes (recorded by OMS digest).")] = None,
    lock_file: Annotated[Path | None, typer.Option(
        "--lock-file", help="Dependency lock file (default: uv.lock, poetry.lock, "
                            "requirements.txt… in the working folder or repository).")] = None,
    metrics: Annotated[Path | None, typer.Option(
        "--metrics", help="JSON file of metrics the command writes; numbers are recorded.")] = None,
    attestation: Annotated[Path | None, typer.Option(
        "--attestation", "-a", help="Where to write the attestation "
                                    "(default: <first --out>.provenance.json).")] = None,
    from_mlflow: Annotated[str | None, typer.Option(
        "--from-mlflow", help="Import this MLflow run instead of running a command.",
        metavar="RUN_ID")] = None,
    mlflow_tracking_uri: Annotated[str | None, typer.Option(
        "--mlflow-tracking-uri", help="MLflow tracking URI (default: MLFLOW_TRACKING_URI or "
                                      "file:./mlruns).")] = None,
) -> None:
    """Run a training command and sign SLSA provenance of what went in and what came out.

    mlwarden train --data data.csv --out model.skops --key train.pem -- python train.py

    A failing command gets no attestation, and mlwarden exits with its exit code.
    """
    from mlwarden.cli.common import err
    from mlwarden.core.errors import UsageError

    console = err()
    if attestation is not None:
        from mlwarden.cli.output import refuse_overwriting_inputs

        refuse_overwriting_inputs(attestation, [*(out or []), *(data or []), key, passphrase_file,
                                                params, base_model, lock_file, metrics],
                                  "--attestation")
    signer = _signer(key, passphrase_file, allow_insecure_key)
    outputs = list(out or [])
    if from_mlflow is not None:
        if command:
            raise UsageError("--from-mlflow imports a finished run: give no command")
        from mlwarden.provenance.mlflow_import import import_run

        uri = mlflow_tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or "file:./mlruns"
        result = import_run(from_mlflow, tracking_uri=uri, outputs=outputs, signer=signer,
                            data=list(data or []), attestation=attestation)
    else:
        if not command:
            raise UsageError("no training command given (put it after '--', e.g. "
                             "mlwarden train --out model.skops --key k.pem -- python train.py)")
        from mlwarden.provenance.train import train as run_training

        result = run_training(command, data=list(data or []), outputs=outputs, signer=signer,
                              base_model=base_model, params_file=params,
                              param_flags=list(param or []), lock_file=lock_file,
                              metrics_file=metrics, attestation=attestation)
    if not result.ok:
        console.print(f"mlwarden: training command exited {result.exit_code}; no provenance "
                      f"attestation written (failure recorded in {result.failure_record})")
        raise typer.Exit(result.exit_code or 1)
    assert result.run is not None
    for subject in result.run.subjects:
        console.print(f"mlwarden: attested {subject.name} (sha256:{subject.digest['sha256']})")
    console.print(f"mlwarden: provenance written to {result.attestation} "
                  f"(indexed copies: {len(result.indexed)})")


def trace(
    model: Annotated[Path, typer.Argument(help="The model file or folder.")],
    key: KeyPubOpt = None,
    attestation: AttestationOpt = None,
    fmt: Annotated[str, typer.Option(
        "--format", "-f", help="tree, json, html or sarif.")] = "tree",
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Write the result to this file (atomically).", dir_okay=False)] = None,
) -> None:
    """Walk from a model to its training run, re-checking every signature and digest.

    Exit 1 when a link mismatched, a signature failed or could not be checked, or no attestation
    names the model.
    """
    from mlwarden.cli.common import out
    from mlwarden.cli.output import stdout_if_dash
    from mlwarden.core.atomic import atomic_write_text
    from mlwarden.core.errors import ExitCode, UsageError
    from mlwarden.core.report import CheckRun, Report, utcnow
    from mlwarden.provenance.lineage import lineage_findings, trace_model
    from mlwarden.provenance.render import LineageFormat, to_html, to_json, tree

    output = stdout_if_dash(output)
    try:
        choice = LineageFormat(fmt.lower())
    except ValueError:
        raise UsageError(f"--format {fmt!r}: expected tree, json, html or sarif") from None
    _refuse_overwriting(output, model, key, attestation)
    started = utcnow()
    lineage = trace_model(model, keys=_public_keys(key), attestations=list(attestation or []))
    findings = lineage_findings(lineage)
    text: str | None = None
    if choice is LineageFormat.JSON:
        text = to_json(lineage, findings)
    elif choice is LineageFormat.HTML:
        text = to_html(lineage, findings)
    elif choice is LineageFormat.SARIF:
        from mlwarden.report.sarif import render_sarif

        report = Report.build("trace", str(model), findings, started_at=started,
                              checks=[CheckRun("provenance-lineage", "1")],
                              artifacts={str(model): lineage.digest})
        text = render_sarif(report)
    if text is None:
        if output is not None:
            import io

            from rich.console import Console

            console = Console(record=True, width=120, file=io.StringIO())
            console.print(tree(lineage))
            atomic_write_text(output, console.export_text())
        else:
            console = out()
            console.print(tree(lineage))
            from rich.text import Text

            verdict = Text("lineage verified", style="green") if lineage.ok else \
                Text("lineage NOT verified", style="bold red")
            console.print(Text.assemble(verdict, f": {len(findings)} finding(s)"))
            for f in findings:
                console.print(f"  {f.severity.value:8} {f.rule_id}  {f.message}", markup=False,
                              highlight=False)
    elif output is not None:
        atomic_write_text(output, text)
    else:
        typer.echo(text, nl=False)
    if not lineage.ok:
        raise typer.Exit(int(ExitCode.FINDINGS))


def bom(
    model: Annotated[Path, typer.Argument(help="The model file or folder.")],
    key: KeyPubOpt = None,
    attestation: AttestationOpt = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Write the BOM to this file (atomically).", dir_okay=False)] = None,
    allow_unverified: Annotated[bool, typer.Option(
        "--allow-unverified", help="Build the BOM from provenance whose signature could not be "
                                   "checked (marked so in the BOM).")] = False,
) -> None:
    """A CycloneDX 1.6 ML-BOM of the model from its provenance, validated against the schema."""
    from mlwarden.cli.output import stdout_if_dash
    from mlwarden.core.atomic import atomic_write_text
    from mlwarden.provenance.bom import build_bom
    from mlwarden.provenance.lineage import trace_model

    output = stdout_if_dash(output)
    _refuse_overwriting(output, model, key, attestation)
    lineage = trace_model(model, keys=_public_keys(key), attestations=list(attestation or []))
    text = build_bom(lineage, allow_unverified=allow_unverified)
    if output is not None:
        atomic_write_text(output, text)
        from mlwarden.cli.common import err

        err().print(f"wrote CycloneDX 1.6 ML-BOM to {output}")
    else:
        typer.echo(text, nl=False)
