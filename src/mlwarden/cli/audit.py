"""``mlwarden audit``: verify the hash-chained audit log, export it, sign a checkpoint."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from mlwarden.cli.common import JsonFlagOpt, TextFormat, TextFormatOpt, wants_json
from mlwarden.cli.registry import DbOpt, HomeOpt, TokenOpt, caller, open_registry

app = typer.Typer(help="The tamper-evident audit log (auditor or admin).", no_args_is_help=True)


@app.command("verify")
def verify(db: DbOpt = None, home: HomeOpt = None, token: TokenOpt = None,
           fmt: TextFormatOpt = TextFormat.TABLE, as_json: JsonFlagOpt = False) -> None:
    """Prove the chain intact (exit 0) or name the first broken entry (exit 1)."""
    as_json = wants_json(fmt, as_json)
    from mlwarden.core.errors import VerificationError

    with open_registry(db, home) as reg:
        status = reg.audit_verify(caller(reg, token))
    if as_json:
        typer.echo(json.dumps(status.to_dict(), indent=2))
    if not status.intact:
        raise VerificationError(f"audit log broken at entry {status.broken_seq}: {status.problem}")
    if not as_json:
        typer.echo(f"audit log intact: {status.entries} entries, {status.checkpoints} signed "
                   f"checkpoint(s), head at entry {status.head_seq}")


@app.command("export")
def export(output: Annotated[Path | None, typer.Option("--output", "-o", help="JSON-lines file "
                                                        "(written atomically); default stdout.")]
           = None,
           since: Annotated[int, typer.Option("--since", help="Only entries after this seq.")] = 0,
           db: DbOpt = None, home: HomeOpt = None, token: TokenOpt = None) -> None:
    """Write the log as JSON lines (one entry per line) for a SIEM."""
    from mlwarden.cli.output import stdout_if_dash
    from mlwarden.core.atomic import atomic_open

    output = stdout_if_dash(output)
    with open_registry(db, home) as reg:
        records = reg.audit_records(caller(reg, token), since=since)
        if output is None:
            for rec in records:
                sys.stdout.write(json.dumps(rec.to_dict(), sort_keys=True) + "\n")
            return
        count = 0
        with atomic_open(output) as handle:
            for rec in records:
                handle.write((json.dumps(rec.to_dict(), sort_keys=True) + "\n").encode("utf-8"))
                count += 1
    typer.echo(f"exported {count} entries to {output}", err=True)


@app.command("checkpoint")
def checkpoint(db: DbOpt = None, home: HomeOpt = None, token: TokenOpt = None) -> None:
    """Sign a checkpoint over the current head with the registry key."""
    with open_registry(db, home) as reg:
        seq = reg.audit_checkpoint(caller(reg, token))
    typer.echo("the log is empty" if seq is None else f"signed checkpoint at entry {seq}")
