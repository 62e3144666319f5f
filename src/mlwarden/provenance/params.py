"""Hyperparameters of a training run: a params file, ``--param k=v`` flags, ``MLWARDEN_PARAM_*``.

Values keep their types where the source has them (JSON/YAML files); a ``k=v`` flag or an
environment variable is read as a JSON scalar when it parses as one (``0.1``, ``7``, ``true``), else
kept as text. Later sources override earlier ones: file, then environment, then flags.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from mlwarden.core.errors import InputError, UsageError

ENV_PREFIX = "MLWARDEN_PARAM_"
SEED_KEYS = ("seed", "random_seed", "random_state", "rng_seed")
MAX_PARAMS_FILE = 16 << 20


def parse_scalar(text: str) -> Any:
    """``"0.1"`` → 0.1, ``"7"`` → 7, ``"true"`` → True, ``"null"`` → None; anything else stays text."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return text
    if isinstance(value, (dict, list)):
        return text
    if isinstance(value, float) and (value != value or abs(value) == float("inf")):
        return text  # NaN and infinities are not JSON
    return value


def parse_assignment(text: str) -> tuple[str, Any]:
    """``key=value`` → ``(key, scalar)``; :class:`UsageError` for anything else."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise UsageError(f"--param {text!r}: expected KEY=VALUE")
    return key, parse_scalar(value)


def load_params_file(path: str | Path) -> dict[str, Any]:
    """A JSON or YAML mapping of parameters; :class:`InputError` naming the file otherwise."""
    target = Path(path)
    try:
        if target.stat().st_size > MAX_PARAMS_FILE:
            raise InputError("params file is larger than 16 MiB", path=target)
        text = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("params file not found", path=target) from None
    except IsADirectoryError:
        raise InputError("is a directory, expected a params file", path=target) from None
    except UnicodeDecodeError:
        raise InputError("params file is not UTF-8 text", path=target) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=target) from None
    if target.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise InputError(f"params file is not valid JSON: {exc}", path=target) from None
        except RecursionError:
            raise InputError("params file is nested too deeply", path=target) from None
    else:
        from mlwarden.core.yamlio import load_yaml

        data = load_yaml(text, source=str(target), what="params file")
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise InputError(f"params file must hold a mapping, not a {type(data).__name__}",
                         path=target)
    try:
        # Round-trip through JSON: dates and other YAML types become text; keys become strings.
        return dict(json.loads(json.dumps({str(k): v for k, v in data.items()}, default=str)))
    except (TypeError, ValueError) as exc:
        raise InputError(f"params are not representable as JSON: {exc}", path=target) from None


def env_params(environ: Mapping[str, str]) -> dict[str, Any]:
    """``MLWARDEN_PARAM_LEARNING_RATE=0.1`` → ``{"learning_rate": 0.1}``."""
    return {key[len(ENV_PREFIX):].lower(): parse_scalar(value)
            for key, value in sorted(environ.items())
            if key.startswith(ENV_PREFIX) and len(key) > len(ENV_PREFIX)}


def collect(file: str | Path | None, assignments: Iterable[str],
            environ: Mapping[str, str]) -> dict[str, Any]:
    """Every parameter, file first, then the environment, then ``--param`` flags."""
    params: dict[str, Any] = {}
    if file is not None:
        params.update(load_params_file(file))
    params.update(env_params(environ))
    for text in assignments:
        key, value = parse_assignment(text)
        params[key] = value
    return params


def seed_of(params: Mapping[str, Any]) -> Any:
    """The run's seed: the first of ``seed``, ``random_seed``, ``random_state``… found, else None."""
    for key in SEED_KEYS:
        if key in params:
            return params[key]
    return None
