"""``mlwarden scan``: analyse model files without loading them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mlwarden.cli.common import FormatOpt, OutputOpt, PolicyOpt
from mlwarden.report.interface import OutputFormat


def scan(
    paths: Annotated[list[Path], typer.Argument(
        help="Model files or directories (every file inside is scanned, whatever its name).",
        show_default=False)],
    fmt: FormatOpt = OutputFormat.TABLE,
    output: OutputOpt = None,
    fail_on: Annotated[str | None, typer.Option(
        "--fail-on", metavar="SEVERITY",
        help="Exit 1 when an active finding is at or above this severity (info, low, medium, "
             "high, critical; default: the policy's, else high).")] = None,
    policy: PolicyOpt = None,
    workers: Annotated[int | None, typer.Option(
        "--workers", "-j", min=1, help="Parallel processes (default: one per CPU core).")] = None,
    progress: Annotated[bool | None, typer.Option(
        "--progress/--no-progress",
        help="Show a progress bar on stderr (default: when stderr is a terminal).")] = None,
    digest: Annotated[bool, typer.Option(
        "--digest/--no-digest",
        help="Record the sha256 of every file in the report (reads every byte: slower on large "
             "checkpoints whose weights the scan itself never needs to read).")] = False,
    exclude: Annotated[list[str] | None, typer.Option(
        "--exclude", metavar="GLOB",
        help="Leave out files whose path (relative to the folder scanned) or name matches GLOB; "
             "repeatable. A .mlwardenignore file in the working directory adds more (one glob a "
             "line). Excluded files are listed in the report.")] = None,
    quiet: Annotated[bool, typer.Option(
        "--quiet", "-q", help="Print nothing when the scan allows (the exit code says it); a "
                              "denial still prints its report.")] = False,
    exit_zero: Annotated[bool, typer.Option(
        "--exit-zero", help="Report only: exit 0 even when the decision is deny (errors still "
                            "exit 2 or 3).")] = False,
    verbose: Annotated[bool, typer.Option(
        "--verbose", help="Also list every file and member read and what it was recognised "
                          "as.")] = False,
    on_unscanned: Annotated[str | None, typer.Option(
        "--on-unscanned", metavar="deny|warn",
        help="What a file or member that could not be checked does: deny (exit 1; the default, "
             "or the policy's scan.on_unscanned) or warn (listed in the report only).")] = None,
) -> None:
    """Scan pickles, PyTorch, joblib, numpy, Keras, ONNX, GGUF, safetensors and archives.

    Formats are recognised by content. Exit 1 when an active finding is at or above --fail-on
    (after the policy's waivers) or when something could not be checked (see --on-unscanned),
    0 otherwise, 2 for bad input.
    """
    from mlwarden.cli.fastpath import run_scan

    code = run_scan(paths, fmt=fmt, output=output, fail_on=fail_on, policy=policy,
                    workers=workers, progress=progress, digest=digest,
                    on_unscanned=on_unscanned, exclude=exclude or (), quiet=quiet,
                    exit_zero=exit_zero, verbose=verbose)
    if code:
        raise typer.Exit(int(code))
