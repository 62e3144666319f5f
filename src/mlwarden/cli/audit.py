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


KeyOpt = Annotated[Path | None, typer.Option(
    "--key", help="The registry's public key (checkpoint-key.pub) to verify with; default "
                  "$MLWARDEN_HOME/registry/checkpoint-key.pub. The copy in the database is never "
                  "trusted by itself.")]


@app.command("verify")
def verify(db: DbOpt = None, home: HomeOpt = None, token: TokenOpt = None,
           key: KeyOpt = None,
           expect_head: Annotated[str | None, typer.Option(
               "--expect-head", help="The log's Merkle root must be exactly this (sha256:…).")]
           = None,
           since_head: Annotated[list[str] | None, typer.Option(
               "--since-head", help="A head seen before (an anchor file, or a sha256:… root): "
                                    "the log must still extend it. Repeatable.")] = None,
           fmt: TextFormatOpt = TextFormat.TABLE, as_json: JsonFlagOpt = False) -> None:
    """Prove the log intact (exit 0) or name what was done to it (exit 1).

    Checks the hash chain, the signed checkpoints and tree heads with the pinned key, and that the
    log still extends the head this client verified last (remembered in the home folder) and every
    --since-head: truncation, a wipe, a replaced key and rewritten history are each named.
    """
    as_json = wants_json(fmt, as_json)
    from mlwarden.core.errors import VerificationError
    from mlwarden.registry import treehead

    expect = treehead.normalise_root(expect_head) if expect_head else None
    since = [treehead.since_head(value) for value in since_head or []]
    with open_registry(db, home) as reg:
        status = reg.audit_verify(caller(reg, token), key=key, since=since, expect_root=expect)
    if as_json:
        typer.echo(json.dumps(status.to_dict(), indent=2))
    if not status.intact:
        where = f" at entry {status.broken_seq}" if status.broken_seq else ""
        raise VerificationError(f"audit log broken{where}: {status.problem}")
    if not as_json:
        typer.echo(f"audit log intact: {status.entries} entries, {status.checkpoints} signed "
                   f"checkpoint(s), {status.tree_heads} signed tree head(s), head at entry "
                   f"{status.head_seq}, root {status.root}")


@app.command("anchor")
def anchor(sink: Annotated[str, typer.Argument(
               help="Append-only sink: a local file, file://…, or an fsspec URL.")],
           db: DbOpt = None, home: HomeOpt = None, token: TokenOpt = None,
           key: KeyOpt = None) -> None:
    """Verify the log, then append its newest signed tree head to SINK (one JSON line).

    Keep the sink out of the database writers' reach (another machine, a WORM bucket); later,
    `audit verify --since-head SINK` proves the log still extends what was anchored.
    """
    from mlwarden.core.errors import VerificationError
    from mlwarden.registry import treehead

    with open_registry(db, home) as reg:
        who = caller(reg, token)
        status = reg.audit_verify(who, key=key)
        if not status.intact:
            raise VerificationError(f"audit log broken at entry {status.broken_seq}: "
                                    f"{status.problem}", advice="nothing was anchored")
        line = reg.audit_latest_head(who)
    if line is None:
        typer.echo("the log is empty: nothing to anchor", err=True)
        return
    where = treehead.append_to_sink(sink, line)
    typer.echo(f"anchored head of {status.entries} entries, root {status.root}, to {where}")


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
def checkpoint(db: DbOpt = None, home: HomeOpt = None, token: TokenOpt = None,
               passphrase_file: Annotated[Path | None, typer.Option(
                   "--passphrase-file", help="The registry key's passphrase (else "
                                             "$MLWARDEN_KEY_PASSPHRASE).", dir_okay=False)]
               = None) -> None:
    """Sign a checkpoint and a tree head over the current log with the registry key."""
    with open_registry(db, home) as reg:
        if passphrase_file is not None:
            from mlwarden.sign.keystore import read_passphrase

            reg.key_passphrase = read_passphrase(passphrase_file=passphrase_file)
        seq = reg.audit_checkpoint(caller(reg, token))
    typer.echo("the log is empty" if seq is None else f"signed checkpoint at entry {seq}")
