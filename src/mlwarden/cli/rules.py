"""``mlwarden rules``: every rule mlwarden can report, with its documentation."""

from __future__ import annotations

from typing import Annotated

import typer


def rules(
    markdown: Annotated[bool, typer.Option("--markdown", help="Print docs/rules.md.")] = False,
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
    from rich.table import Table

    from mlwarden.cli.common import out

    table = Table(title="mlwarden rules", title_justify="left")
    for col in ("Rule", "Severity", "Title", "References"):
        table.add_column(col, overflow="fold")
    for r in selected:
        table.add_row(r.id, r.severity.value, r.title, ", ".join(r.references))
    out().print(table)
