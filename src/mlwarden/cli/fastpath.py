"""The lean path for ``mlwarden scan``: no typer, no pydantic, no YAML.

Scanning runs in front of every ``torch.load`` in CI, once per file, so the whole-process time is
mostly start-up. Typer (with pydantic) costs more than the scan of a multi-GB checkpoint, which
only reads its pickle members. :func:`entry` therefore parses a plain ``scan`` invocation itself
and runs :func:`run_scan` directly; anything else — ``--help``, ``--policy`` (which needs pydantic
anyway), any other command, or any argument the lean parser does not take exactly as written —
goes to the typer app, which owns the documentation and the error messages. A test keeps the two
parsers' options identical and checks that they read the same arguments alike.

The lean parser is a table, not ``argparse``: importing and building an ``argparse`` parser cost
about 24 million instructions (callgrind), 7 % of a whole ``mlwarden scan`` of a small pickle.
It takes ``--opt value``, ``--opt=value``, ``-o value`` and ``--``; it declines everything else
(bundled short options, abbreviations, ``-fjson``), which typer then reads.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mlwarden.core.errors import ExitCode
from mlwarden.report.interface import OutputFormat


def run_scan(paths: Sequence[Path], *, fmt: OutputFormat, output: Path | None,
             fail_on: str | None, policy: Path | None, workers: int | None,
             progress: bool | None, digest: bool, on_unscanned: str | None = None,
             exclude: Sequence[str] = (), quiet: bool = False, exit_zero: bool = False,
             verbose: bool = False) -> ExitCode:
    """The body of ``mlwarden scan``, shared by the typer command and the lean path."""
    from mlwarden.cli.output import (
        emit,
        exit_code_for,
        parse_on_unscanned,
        parse_severity,
        refuse_overwriting_inputs,
    )
    from mlwarden.scan.engine import scan_paths

    threshold = parse_severity(fail_on or "high")
    unscanned = parse_on_unscanned(on_unscanned)
    excluded = [*exclude, *ignore_file_patterns(Path(IGNORE_FILE))]
    refuse_overwriting_inputs(output, [*paths, policy])
    show = sys.stderr.isatty() if progress is None else progress
    if policy is not None:
        from mlwarden.core.policy import Policy

        loaded = Policy.load(policy)
        if fail_on is not None:
            loaded = loaded.model_copy(update={"fail_on": threshold.value})
        if unscanned is not None:
            loaded = loaded.model_copy(update={"scan": loaded.scan.model_copy(
                update={"on_unscanned": unscanned})})
        report = scan_paths(paths, allow_globals=tuple(loaded.scan.allow_globals),
                            workers=workers, progress=show, digest=digest, exclude=excluded)
        report = loaded.evaluate(report)
    else:
        from mlwarden.core.decision import decide_by_threshold

        report = scan_paths(paths, workers=workers, progress=show, digest=digest,
                            exclude=excluded)
        decision = decide_by_threshold(report.findings, threshold, skipped=report.skipped,
                                       on_unscanned=unscanned or "deny")
        report = report.with_decision(decision, report.findings)
    code = exit_code_for(report)
    if quiet and code == ExitCode.OK:
        if output is not None and str(output) != "-":
            from mlwarden.report.interface import write_report

            write_report(report, fmt, output)
        return code
    emit(report, fmt, output)
    if verbose and fmt is OutputFormat.TABLE and (output is None or str(output) == "-"):
        sys.stdout.write("".join(listing_lines(report)))
    return ExitCode.OK if exit_zero else code


IGNORE_FILE = ".mlwardenignore"
"""Exclusion globs, one a line (``#`` comments), read from the working directory only: a folder
being scanned (a downloaded model repository) must not be able to hide its own files."""


def ignore_file_patterns(path: Path) -> list[str]:
    """The globs of an ignore file (none when it does not exist)."""
    from mlwarden.core.errors import InputError

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the ignore file: {exc}", path=path) from None
    return [line.strip() for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def listing_lines(report: Any) -> list[str]:
    """``--verbose``: every file and member read, with its format; every excluded file."""
    formats = report.metadata.get("formats") or {}
    lines = [f"read {where}: {fmt}\n" for where, fmt in formats.items()]
    lines += [f"excluded {where}\n" for where in report.metadata.get("excluded") or ()]
    return lines


VALUE_OPTIONS: dict[str, str] = {
    "--format": "fmt", "-f": "fmt", "--output": "output", "-o": "output",
    "--fail-on": "fail_on", "--workers": "workers", "-j": "workers",
    "--on-unscanned": "on_unscanned", "--exclude": "exclude",
}
"""Options of ``mlwarden scan`` that take a value, and the argument of :func:`run_scan` each sets."""
FLAG_OPTIONS: dict[str, tuple[str, bool]] = {
    "--progress": ("progress", True), "--no-progress": ("progress", False),
    "--digest": ("digest", True), "--no-digest": ("digest", False),
    "--quiet": ("quiet", True), "-q": ("quiet", True), "--exit-zero": ("exit_zero", True),
    "--verbose": ("verbose", True),
}
"""Options of ``mlwarden scan`` that are switches."""


def parse_scan(args: Sequence[str]) -> dict[str, Any] | None:
    """The arguments of :func:`run_scan` for a plain ``scan`` invocation, or ``None`` to decline
    (the typer app then reads ``args`` and owns any error message)."""
    found: dict[str, Any] = {"fmt": "table", "output": None, "fail_on": None, "workers": None,
                             "progress": None, "digest": False, "on_unscanned": None,
                             "exclude": (), "quiet": False, "exit_zero": False, "verbose": False}
    paths: list[Path] = []
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            paths += [Path(a) for a in args[i:]]
            break
        if not arg.startswith("-") or arg == "-":
            paths.append(Path(arg))
            continue
        name, eq, value = arg.partition("=")
        if name in FLAG_OPTIONS and not eq:
            dest, flag = FLAG_OPTIONS[name]
            found[dest] = flag
            continue
        if name not in VALUE_OPTIONS or (eq and not name.startswith("--")):
            return None
        if not eq:
            if i >= len(args):
                return None
            value = args[i]
            i += 1
        if VALUE_OPTIONS[name] == "exclude":
            found["exclude"] = [*found["exclude"], value]
            continue
        found[VALUE_OPTIONS[name]] = value
    if not paths:
        return None
    try:
        found["fmt"] = OutputFormat(found["fmt"].lower())
        if found["workers"] is not None:
            found["workers"] = int(found["workers"])
    except ValueError:
        return None
    if found["workers"] is not None and found["workers"] < 1:
        return None
    if found["on_unscanned"] not in (None, "deny", "warn"):
        return None
    if found["output"] is not None:
        found["output"] = Path(found["output"])
        if found["output"].is_dir():
            return None  # typer's own message for a directory given as --output
    return {"paths": paths, **found}


def fast_scan(argv: Sequence[str]) -> int | None:
    """Run ``scan`` without typer when the invocation is plain; ``None`` to defer to typer."""
    if not argv or argv[0] != "scan":
        return None
    rest = list(argv[1:])
    if any(a in ("-h", "--help", "-p", "--policy") or a.startswith("--policy=") for a in rest):
        return None
    parsed = parse_scan(rest)
    if parsed is None:
        return None
    try:
        return int(run_scan(policy=None, **parsed))
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - the edge, as in cli.main.run
        from mlwarden.cli.output import exit_for_error

        return exit_for_error(exc)


def entry() -> None:
    """Console-script entry point: the lean scan path, else the typer app."""
    argv = sys.argv[1:]
    verbose = "-v" in argv or "--verbose" in argv
    code = None if verbose else fast_scan(argv)
    if code is None:
        from mlwarden.cli.main import run

        code = run(argv)
    sys.exit(code)
