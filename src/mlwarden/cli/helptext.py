"""Help text as users of picklescan, ModelScan and Trivy expect it: ``--flag`` without a value
placeholder, ``--format table|json``, ``--output FILE``, ``PATHS...`` — not Python types
(``<bool>``, ``<list[Path]>``, ``{paths}...``), which make flags look as if they took values.

Typer renders the type of every parameter (since 0.2x); :func:`install` replaces that, once, with
click's classic metavars. A test diffs every command's ``--help`` against these rules.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Any, get_args, get_origin

_DONE = False


def metavar(param: Any) -> str | None:
    """The placeholder shown after an option or argument (``None`` for a flag)."""
    if getattr(param, "metavar", None) is not None:
        return str(param.metavar)
    if getattr(param, "is_flag", False) or getattr(param, "is_bool_flag", False):
        return None
    desc = getattr(param, "type_descriptor", None)
    annotation = getattr(desc, "annotation", None)
    if get_origin(annotation) is list:
        (annotation,) = get_args(annotation) or (str,)
    choices = getattr(desc, "choices", None)
    if getattr(desc, "is_choice", False) and choices:
        return "|".join(str(c.value if isinstance(c, enum.Enum) else c) for c in choices)
    if annotation is bool:
        return None
    if isinstance(annotation, type) and issubclass(annotation, Path):
        return "FILE" if getattr(getattr(param, "type", None), "dir_okay", True) is False \
            else "PATH"
    if annotation in (int, float):
        return "N"
    return "TEXT"


def install() -> None:
    """Patch typer's parameter classes so help shows classic placeholders (idempotent)."""
    global _DONE
    if _DONE:
        return
    from typer import core

    def option_type(self: Any, ctx: Any) -> str | None:
        return metavar(self)

    def argument_type(self: Any, ctx: Any) -> str | None:
        return None  # the argument's name (PATHS...) already says what it takes

    def argument_name(self: Any) -> str:
        name = str(self.metavar or self.name).upper()
        return f"{name}..." if self.nargs != 1 else name

    def usage_name(self: Any) -> str:
        name = argument_name(self)
        return name if self.required else f"[{name}]"

    core.TyperOption.display_type_rich = option_type  # type: ignore[method-assign]
    core.TyperArgument.display_type_rich = argument_type  # type: ignore[method-assign]
    core.TyperArgument._rich_display_name = argument_name  # type: ignore[method-assign]
    core.TyperArgument._usage_display_name = usage_name  # type: ignore[method-assign]
    _DONE = True
