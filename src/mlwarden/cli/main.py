"""The ``mlwarden`` entry point: the app, its command groups, and the one place errors are caught."""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any

import typer

from mlwarden import __version__
from mlwarden.cli.output import exit_for_error, fail
from mlwarden.core.errors import ExitCode

app = typer.Typer(
    name="mlwarden",
    help="Security for the whole ML lifecycle: scan, sign, attest, gate and serve models.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

_VERBOSE = False


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mlwarden {__version__}")
        raise typer.Exit(0)


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", "-V", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v",
                                          help="Show tracebacks for errors.")] = False,
) -> None:
    """mlwarden: scan, sign, attest, gate and serve models — one chain of verifiable evidence."""
    global _VERBOSE
    _VERBOSE = verbose or _VERBOSE


def _register() -> None:
    """Attach the command groups. Each module imports only typer at import time (lean start-up)."""
    from mlwarden.cli import demo, policy, rules

    app.command("demo")(demo.demo)
    app.command("rules")(rules.rules)
    app.add_typer(policy.app, name="policy")
    from mlwarden.cli import scan

    app.command("scan")(scan.scan)
    from mlwarden.cli import convert

    app.command("convert")(convert.convert)
    from mlwarden.cli import data, provenance

    app.command("train")(provenance.train)
    app.command("trace")(provenance.trace)
    app.command("bom")(provenance.bom)
    from mlwarden.cli import sign

    app.command("sign")(sign.sign)
    app.command("verify")(sign.verify)
    app.command("digest")(sign.digest)
    app.add_typer(sign.keys_app, name="keys")
    app.add_typer(data.app, name="data")
    from mlwarden.cli import audit, gate, registry

    app.add_typer(registry.app, name="registry")
    app.command("gate")(gate.gate)
    app.add_typer(audit.app, name="audit")


_register()


_fail = fail


def _show_policy_notices() -> None:
    """Deprecation notices of policies (``PolicyDeprecation``) as one ``warning:`` line each."""
    import warnings

    default = warnings.showwarning

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
             file: Any = None, line: str | None = None) -> None:
        if category.__name__ == "PolicyDeprecation":
            sys.stderr.write(f"mlwarden: warning: {message}\n")
        else:
            default(message, category, filename, lineno, file, line)

    warnings.showwarning = show


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return the exit code (``sys.exit`` is called by :func:`entry`)."""
    global _VERBOSE
    args = list(sys.argv[1:] if argv is None else argv)
    _VERBOSE = "-v" in args or "--verbose" in args or bool(os.environ.get("MLWARDEN_DEBUG"))
    from mlwarden.cli.helptext import install

    install()
    command = typer.main.get_command(app)
    _show_policy_notices()
    try:
        result = command.main(args=args, prog_name="mlwarden", standalone_mode=False)
    except typer.TyperException as exc:  # click usage errors: one line, exit 2
        if not exc.format_message().strip():  # bare `mlwarden GROUP`: help was printed
            return int(exc.exit_code)
        hint = " (see 'mlwarden --help')" if exc.exit_code == 2 else ""
        return _fail(" ".join(exc.format_message().split()) + hint,
                     exc.exit_code if exc.exit_code else ExitCode.USAGE)
    except typer.Abort:
        return _fail("aborted", 130)
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - the edge: one line and a code
        return exit_for_error(exc, verbose=_VERBOSE)
    return int(result) if isinstance(result, int) else int(ExitCode.OK)
