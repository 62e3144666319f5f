"""``mlwarden policy``: validate and explain policy files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from mlwarden.cli.common import TextFormat, TextFormatOpt

app = typer.Typer(help="Validate and explain policy files.", no_args_is_help=True)


@app.command("check")
def check(
    path: Annotated[Path, typer.Argument(help="The policy file (YAML).")],
    fmt: TextFormatOpt = TextFormat.TABLE,
) -> None:
    """Validate a policy file and summarise it; exit 2 naming the file and field if it is malformed."""
    from rich.text import Text

    from mlwarden.cli.common import out
    from mlwarden.core.policy import Policy

    policy = Policy.load(path)
    if fmt is TextFormat.JSON:
        import json

        typer.echo(json.dumps({"path": str(path), "valid": True, "digest": policy.digest,
                               "notices": list(policy.notices),
                               "policy": policy.model_dump(mode="json")}, indent=2))
        return
    today = dt.date.today()
    console = out()
    console.print(Text.assemble((str(path), "bold"),
                                f": policy {policy.name!r} is valid ({policy.digest})"))
    for notice in policy.notices:
        console.print(f"  deprecated: {notice}")
    console.print(f"  fail on: {policy.fail_on} and above")
    if policy.rules.deny:
        console.print(f"  denied rules: {', '.join(policy.rules.deny)}")
    if policy.rules.allow:
        console.print(f"  allowed rules: {', '.join(policy.rules.allow)}")
    for rule, sev in policy.rules.severity.items():
        console.print(f"  severity of {rule}: {sev}")
    for w in policy.waivers:
        state = Text("EXPIRED", style="red") if w.expired(today) else \
            Text(f"valid until {w.expires}")
        console.print(Text.assemble(f"  waiver {w.rule} on {w.path!r} by {w.owner}: ", state,
                                    f" — {w.reason}"))
    if policy.scan.allow_globals:
        console.print(f"  extra safe globals for the scanner: {', '.join(policy.scan.allow_globals)}")
