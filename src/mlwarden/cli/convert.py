"""``mlwarden convert``: a PyTorch checkpoint → safetensors, a scikit-learn pickle/joblib → skops."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mlwarden.cli.common import FailOnOpt, err, out, parse_severity


def convert(
    source: Annotated[Path, typer.Argument(help="The checkpoint, pickle or joblib file.", metavar="SOURCE",
                                           show_default=False)],
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Where to write (default: SOURCE with .safetensors/.skops).",
        dir_okay=False)] = None,
    to: Annotated[str | None, typer.Option(
        "--to", help="safetensors or skops (default: from the content: PyTorch → safetensors, "
                     "pickle/joblib → skops).", metavar="FORMAT")] = None,
    probe: Annotated[Path | None, typer.Option(
        "--probe", help="CSV of input rows to verify a scikit-learn model's outputs on "
                        "(default: rows generated from n_features_in_).", dir_okay=False)] = None,
    fail_on: FailOnOpt = "high",
    allow_global: Annotated[list[str] | None, typer.Option(
        "--allow-global", help="A reviewed importable name (module.Class or module.*) the "
                               "scanner and the unpickler may accept; repeatable.")] = None,
) -> None:
    """Convert a model into a format that runs no code on load, after scanning it.

    The file is read once; those bytes are scanned and, if nothing at or above --fail-on is found,
    loaded only through an allowlisting unpickler, converted, verified (identical tensors or
    predictions) and written atomically. A flagged file is refused: exit 1, nothing is loaded.
    """
    from mlwarden.core.errors import UsageError
    from mlwarden.scan.convert import Target
    from mlwarden.scan.convert import convert as run_convert

    target = None
    if to is not None:
        try:
            target = Target(to.lower())
        except ValueError:
            raise UsageError(f"--to: {to!r} is not one of safetensors, skops") from None
    err().print(f"scanning {source} before loading anything …", soft_wrap=True)
    result = run_convert(source, output, target=target, probe=probe,
                         fail_on=parse_severity(fail_on), allow_globals=tuple(allow_global or ()))
    out().print(f"converted {result.source} → {result.output} ({result.target.value}): "
                f"{result.summary}", highlight=False, soft_wrap=True)
