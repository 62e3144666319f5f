"""The lean path for ``mlwarden scan``: no typer, no pydantic, no YAML.

Scanning runs in front of every ``torch.load`` in CI, once per file, so the whole-process time is
mostly start-up. Typer (with pydantic) costs more than the scan of a multi-GB checkpoint, which
only reads its pickle members. :func:`entry` therefore parses a plain ``scan`` invocation with
``argparse`` and runs :func:`run_scan` directly; anything else — ``--help``, ``--policy`` (which
needs pydantic anyway), any other command, or any argument the lean parser does not accept — goes
to the typer app, which owns the documentation and the error messages. A test keeps the two
parsers' options identical.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from mlwarden.core.errors import ExitCode, MlwardenError
from mlwarden.report.interface import OutputFormat


def run_scan(paths: Sequence[Path], *, fmt: OutputFormat, output: Path | None,
             fail_on: str | None, policy: Path | None, workers: int | None,
             progress: bool | None, digest: bool) -> ExitCode:
    """The body of ``mlwarden scan``, shared by the typer command and the lean path."""
    from mlwarden.cli.output import emit, exit_code_for, parse_severity, refuse_overwriting_inputs
    from mlwarden.scan.engine import scan_paths

    threshold = parse_severity(fail_on or "high")
    refuse_overwriting_inputs(output, [*paths, policy])
    show = sys.stderr.isatty() if progress is None else progress
    if policy is not None:
        from mlwarden.core.policy import Policy

        loaded = Policy.load(policy)
        if fail_on is not None:
            loaded = loaded.model_copy(update={"fail_on": threshold.value})
        report = scan_paths(paths, allow_globals=tuple(loaded.scan.allow_globals),
                            workers=workers, progress=show, digest=digest)
        report = loaded.evaluate(report)
    else:
        from mlwarden.core.decision import decide_by_threshold

        report = scan_paths(paths, workers=workers, progress=show, digest=digest)
        report = report.with_decision(decide_by_threshold(report.findings, threshold),
                                      report.findings)
    emit(report, fmt, output)
    return exit_code_for(report)


class _Declined(Exception):
    """The lean parser does not handle this invocation; typer will."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _Declined(message)


def scan_parser() -> argparse.ArgumentParser:
    """The lean parser; its options mirror ``mlwarden.cli.scan.scan`` (checked by a test)."""
    p = _Parser(prog="mlwarden scan", add_help=False, allow_abbrev=False)
    p.add_argument("paths", nargs="+", type=Path)
    p.add_argument("--format", "-f", dest="fmt", default="table",
                   type=lambda v: OutputFormat(v.lower()))
    p.add_argument("--output", "-o", type=Path, default=None)
    p.add_argument("--fail-on", default=None)
    p.add_argument("--workers", "-j", type=int, default=None)
    p.add_argument("--progress", dest="progress", action="store_true", default=None)
    p.add_argument("--no-progress", dest="progress", action="store_false")
    p.add_argument("--digest", dest="digest", action="store_true", default=False)
    p.add_argument("--no-digest", dest="digest", action="store_false")
    return p


def fast_scan(argv: Sequence[str]) -> int | None:
    """Run ``scan`` without typer when the invocation is plain; ``None`` to defer to typer."""
    if not argv or argv[0] != "scan":
        return None
    rest = list(argv[1:])
    if any(a in ("-h", "--help", "-p", "--policy") or a.startswith("--policy=") for a in rest):
        return None
    try:
        ns = scan_parser().parse_args(rest)
    except (_Declined, ValueError):
        return None
    if ns.workers is not None and ns.workers < 1:
        return None
    if ns.output is not None and ns.output.is_dir():
        return None  # typer's own message for a directory given as --output
    try:
        return int(run_scan(ns.paths, fmt=ns.fmt, output=ns.output, fail_on=ns.fail_on,
                            policy=None, workers=ns.workers, progress=ns.progress,
                            digest=ns.digest))
    except MlwardenError as exc:
        sys.stderr.write(f"mlwarden: error: {exc.one_line()}\n")
        return int(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("mlwarden: error: interrupted\n")
        return 130
    except BrokenPipeError:
        return int(ExitCode.OK)
    except Exception as exc:  # noqa: BLE001 - as in cli.main.run: a bug, one line, exit 3
        sys.stderr.write(f"mlwarden: error: internal error: {type(exc).__name__}: {exc} (re-run "
                         "with -v for a traceback and report it)\n")
        return int(ExitCode.INTERNAL)


def entry() -> None:
    """Console-script entry point: the lean scan path, else the typer app."""
    argv = sys.argv[1:]
    verbose = "-v" in argv or "--verbose" in argv
    code = None if verbose else fast_scan(argv)
    if code is None:
        from mlwarden.cli.main import run

        code = run(argv)
    sys.exit(code)
