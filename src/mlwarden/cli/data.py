"""``mlwarden data``: dataset commands (``fingerprint`` now; data checks join this group)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mlwarden.cli.common import TextFormat, TextFormatOpt

app = typer.Typer(help="Dataset commands: fingerprints.", no_args_is_help=True)


@app.command("fingerprint")
def fingerprint(
    paths: Annotated[list[Path], typer.Argument(help="Dataset files or folders.")],
    fmt: TextFormatOpt = TextFormat.TABLE,
    files: Annotated[bool, typer.Option("--files", help="List every file with its digest.")] = False,
    summary: Annotated[bool, typer.Option(
        "--summary/--no-summary", help="Summarise CSV/TSV/Parquet files (rows, columns, types).")
    ] = True,
) -> None:
    """A stable content digest of each dataset (the OMS manifest root, like 'mlwarden digest')."""
    import json

    from mlwarden.cli.common import out
    from mlwarden.data.fingerprint import fingerprint as compute

    results = [compute(p, summarize=summary) for p in paths]
    if fmt is TextFormat.JSON:
        data = [r.to_dict() for r in results]
        typer.echo(json.dumps(data[0] if len(data) == 1 else data, indent=2))
        return
    console = out()
    for r in results:
        console.print(f"{r.digest}  {r.path}  ({r.kind}, {len(r.files)} file(s), {r.size} bytes)",
                      markup=False, highlight=False)
        if files:
            for f in r.files:
                console.print(f"    {f.digest}  {f.path}  ({f.size} bytes)", markup=False,
                              highlight=False)
        for name, t in sorted(r.tables.items()):
            if t.error:
                console.print(f"    {name}: {t.format}, not summarised: {t.error}", markup=False,
                              highlight=False)
                continue
            cols = ", ".join(f"{c.name}:{c.dtype}" for c in t.columns[:12])
            more = f", … ({t.column_count} columns)" if (t.column_count or 0) > 12 else ""
            console.print(f"    {name}: {t.format}, {t.rows} rows × {t.column_count} columns "
                          f"[{cols}{more}]", markup=False, highlight=False)
