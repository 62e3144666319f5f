"""Reading YAML that users write (policies, trust files, params files, MLflow metadata): one
loader, one way of naming what is wrong (file, line, problem), never a traceback."""

from __future__ import annotations

from typing import Any

from mlwarden.core.errors import InputError


def load_yaml(text: str, *, source: str, what: str = "file",
              error: type[InputError] = InputError) -> Any:
    """``yaml.safe_load(text)``; malformed or too deeply nested YAML raises ``error`` naming
    ``source``, the line and the problem (``what`` names the kind of file: "policy", "trust file")."""
    import yaml

    try:
        return yaml.safe_load(text)
    except RecursionError:
        raise error(f"not a {what}: YAML nested too deeply", path=source) from None
    except yaml.YAMLError as exc:
        raise error(yaml_problem(exc), path=source) from None


def yaml_problem(exc: Exception) -> str:
    """``line N: not valid YAML: <problem>`` for a PyYAML error."""
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}: " if mark is not None else ""
    problem = getattr(exc, "problem", None) or (str(exc).splitlines() or ["unknown error"])[0]
    return f"{where}not valid YAML: {problem}"
