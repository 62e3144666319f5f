"""``mlwarden demo``: the whole lifecycle on embedded defaults, step by step."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the demo's files and "
                                                         "reports.")] = Path("mlwarden-demo"),
) -> None:
    """Run the lifecycle demo: data → train → scan → sign → … → reports, on bundled data."""
    from rich.rule import Rule
    from rich.text import Text

    from mlwarden.cli.common import out
    from mlwarden.core.errors import InputError
    from mlwarden.demo import STEPS, DemoContext, build_report
    from mlwarden.report.interface import OutputFormat, write_report

    console = out()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise InputError("cannot create the demo folder: a file is in the way", path=out_dir,
                         advice="choose another --out") from None
    except OSError as exc:
        raise InputError(f"cannot create the demo folder: {exc.strerror}", path=out_dir) from None
    ctx = DemoContext(workdir=out_dir.resolve(), log=lambda m: console.print(f"  {m}"))
    for number, step in enumerate(STEPS, start=1):
        console.print(Rule(Text(f"{number}/{len(STEPS)}  {step.title}", style="bold"),
                           align="left"))
        step.run(ctx)
    report = build_report(ctx)
    reports = out_dir / "reports"
    for fmt in (OutputFormat.HTML, OutputFormat.JSON, OutputFormat.SARIF):
        write_report(report, fmt, reports / f"demo{fmt.suffix}")
    console.print(Rule(Text("Done", style="bold"), align="left"))
    verdict = report.decision.verdict if report.decision else "n/a"
    console.print(Text.assemble("  decision: ", (verdict, "bold"),
                                f"; reports in {reports.resolve()}/ (open demo.html in a browser)"))
