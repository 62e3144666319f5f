"""``mlwarden rules``: every rule mlwarden can report, with its documentation."""

from __future__ import annotations

from typing import Annotated

import typer

from mlwarden.cli.common import TextFormat, TextFormatOpt


def rules(
    markdown: Annotated[bool, typer.Option("--markdown", help="Print docs/rules.md.")] = False,
    fmt: TextFormatOpt = TextFormat.TABLE,
    area: Annotated[str | None, typer.Option("--area", help="Only rules of this area "
                                                             "(e.g. PKL, POL).")] = None,
) -> None:
    """List every rule: id, default severity, title and references."""
    from mlwarden.catalog import load_all
    from mlwarden.core.rules import all_rules
    from mlwarden.docs import rules_markdown

    load_all()
    selected = [r for r in all_rules() if area is None or r.area == area.upper()]
    if area is not None and not selected:
        from mlwarden.core.errors import UsageError

        known = ", ".join(sorted({r.area for r in all_rules()}))
        raise UsageError(f"--area {area!r}: no rule of that area (areas: {known})")
    if markdown:
        typer.echo(rules_markdown(selected), nl=False)
        return
    if fmt is TextFormat.JSON:
        import json

        typer.echo(json.dumps([{"id": r.id, "severity": r.severity.value, "title": r.title,
                                "references": list(r.references)} for r in selected], indent=2))
        return
    from mlwarden.cli.output import rich_terminal

    if not rich_terminal():  # pipes and files: one tab-separated line per rule, nothing cut
        for r in selected:
            typer.echo(f"{r.id}\t{r.severity.value}\t{r.title}\t{', '.join(r.references)}")
        return
    from rich.table import Table
    from rich.text import Text

    from mlwarden.cli.common import out

    table = Table(title="mlwarden rules", title_justify="left")
    for col in ("Rule", "Severity", "Title", "References"):
        table.add_column(col, overflow="fold")
    for r in selected:
        table.add_row(Text(r.id), Text(r.severity.value), Text(r.title),
                      Text(", ".join(r.references)))
    out().print(table)
