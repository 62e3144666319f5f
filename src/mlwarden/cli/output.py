"""Output helpers shared by every command, free of typer so the lean ``scan`` path can use them."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from mlwarden.core.errors import ExitCode, UsageError
from mlwarden.core.severity import Severity
from mlwarden.report.interface import OutputFormat

if TYPE_CHECKING:
    from rich.console import Console

    from mlwarden.core.report import Report

_stdout: Console | None = None
_stderr: Console | None = None


def out() -> Console:
    """The console for results (stdout). Strings printed on it are data, never markup: file names
    such as ``evil[v2].pkl`` print as they are (style with ``rich.text.Text``), and nothing is
    highlighted (rich's highlighter is quadratic on long paths)."""
    global _stdout
    if _stdout is None:
        from rich.console import Console

        _stdout = Console(soft_wrap=False, markup=False, highlight=False)
    return _stdout


def err() -> Console:
    """The console for progress and diagnostics (stderr)."""
    global _stderr
    if _stderr is None:
        from rich.console import Console

        _stderr = Console(stderr=True, markup=False, highlight=False)
    return _stderr


def rich_terminal() -> bool:
    """Whether stdout gets rich tables: a terminal, or ``FORCE_COLOR``/``TTY_COMPATIBLE`` set (as
    rich itself honours). Pipes, CI logs and files get the plain table of ``report.plain``."""
    import os

    if os.environ.get("FORCE_COLOR") or os.environ.get("TTY_COMPATIBLE") == "1":
        return True
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def parse_on_unscanned(value: str | None) -> Literal["deny", "warn"] | None:
    """``--on-unscanned``: ``deny`` or ``warn`` (``None`` when not given)."""
    if value is None:
        return None
    if value == "deny":
        return "deny"
    if value == "warn":
        return "warn"
    raise UsageError(f"--on-unscanned must be 'deny' or 'warn', not {value!r}")


def parse_severity(value: str, option: str = "--fail-on") -> Severity:
    try:
        return Severity.parse(value)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None


def emit(report: Report, fmt: OutputFormat, output: Path | None) -> None:
    """Print or write ``report``. Tables on a terminal get colour; files are written atomically."""
    from mlwarden.report.interface import render, write_report

    output = stdout_if_dash(output)
    if output is not None:
        write_report(report, fmt, output)
        sys.stderr.write(f"wrote {fmt.value} report to {output}\n")
        return
    if fmt is OutputFormat.TABLE and rich_terminal():
        from mlwarden.report.console import print_report

        print_report(report, out())
    else:
        sys.stdout.write(render(report, fmt))
        sys.stdout.flush()


def stdout_if_dash(output: Path | None) -> Path | None:
    """``-o -`` means standard output, as for every Unix tool (``None``: print)."""
    return None if output is not None and str(output) == "-" else output


def refuse_overwriting_inputs(output: Path | None, inputs: Iterable[Path | str | None],
                              option: str = "--output") -> None:
    """A report, signature or attestation written over one of the command's own inputs (the model,
    a key, the policy, a signature) would destroy it: refuse, before any work is done."""
    import os

    if output is None or not output.is_file():
        return
    for item in inputs:
        if item is None:
            continue
        path = Path(item)
        try:
            same = path.is_file() and os.path.samefile(output, path)
        except OSError:
            continue
        if same:
            raise UsageError(f"{option} would overwrite {path}, an input of this command",
                             path=output, advice=f"choose another {option} path")


def exit_code_for(report: Report) -> ExitCode:
    """0 when the report's decision allows (or there is none and nothing active), else 1."""
    if report.decision is not None:
        return ExitCode.OK if report.decision.allowed else ExitCode.FINDINGS
    return ExitCode.FINDINGS if report.active else ExitCode.OK


def fail(line: str, code: int) -> int:
    """Print ``mlwarden: error: LINE`` on stderr and return ``code``."""
    sys.stderr.write(f"mlwarden: error: {line}\n")
    sys.stderr.flush()
    return code


def exit_for_error(exc: BaseException, *, verbose: bool = False) -> int:
    """The one place an exception that reached the CLI's edge becomes one line and an exit code
    (both entry points, the lean ``scan`` path and the typer app, use it): our errors by their
    type (:class:`MlwardenError.exit_code`), an interrupt 130, a closed pipe 0, anything else a
    bug (exit 3, the traceback with ``-v``)."""
    from mlwarden.core.errors import MlwardenError

    if isinstance(exc, BrokenPipeError):
        return int(ExitCode.OK)
    if isinstance(exc, KeyboardInterrupt):
        return fail("interrupted", 130)
    if verbose:
        import traceback

        traceback.print_exception(exc)
    if isinstance(exc, MlwardenError):
        return fail(exc.one_line(), int(exc.exit_code))
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        # A path the user gave that the system refuses (a component over 255 bytes, a symlink
        # loop, no permission): bad input, not a bug.
        return fail(f"{exc.filename}: {exc.strerror.lower()}", int(ExitCode.USAGE))
    return fail(f"internal error: {type(exc).__name__}: {exc} (re-run with -v for a traceback and "
                "report it)", int(ExitCode.INTERNAL))
