"""scikit-learn pickle/joblib → skops, verified by identical outputs on a probe input.

The model loads through the allowlisting unpickler (:mod:`.unpickler`); skops writes it; the skops
file is loaded back trusting exactly the types ``skops.io.get_untrusted_types`` lists — after each
of them passed the same allowlist — and must give identical ``predict`` / ``predict_proba`` /
``decision_function`` / ``transform`` outputs on the probe: rows from ``--probe data.csv``, or
generated from the estimator's ``n_features_in_`` (and ``feature_names_in_``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlwarden.core.errors import InputError
from mlwarden.scan.convert.errors import ConversionMismatch, ConversionRefused, NotConvertible
from mlwarden.scan.convert.unpickler import is_allowed, load_pickle_or_joblib

METHODS = ("predict", "predict_proba", "decision_function", "transform")
PROBE_ROWS = 32


@dataclass(frozen=True)
class SkopsConversion:
    model: Any
    data: bytes
    """The skops file."""
    probe_rows: int
    checked: tuple[str, ...] = field(default=())
    """The methods whose outputs were compared."""


def read_probe(path: Path) -> Any:
    import pandas as pd

    try:
        frame = pd.read_csv(path)
    except FileNotFoundError:
        raise InputError("probe file not found", path=path) from None
    except Exception as exc:  # noqa: BLE001 - a malformed CSV is a one-line error
        raise InputError(f"not a readable CSV: {type(exc).__name__}: {exc}", path=path) from None
    if frame.empty:
        raise InputError("the probe CSV has no rows", path=path)
    return frame


def generated_probe(model: Any) -> Any:
    import numpy as np

    n = getattr(model, "n_features_in_", None)
    if not isinstance(n, (int, np.integer)) or n <= 0:
        raise NotConvertible(f"cannot generate a probe for {type(model).__name__} (no "
                             "n_features_in_)", advice="pass --probe data.csv")
    rows = np.random.default_rng(20240101).normal(size=(PROBE_ROWS, int(n)))
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        import pandas as pd

        return pd.DataFrame(rows, columns=list(names))
    return rows


def _same(a: Any, b: Any) -> bool:
    import numpy as np

    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind in "fc":
        return bool(np.array_equal(a, b, equal_nan=True))
    return bool(np.array_equal(a, b))


def _outputs(model: Any, probe: Any) -> dict[str, Any]:
    out = {}
    for method in METHODS:
        fn = getattr(model, method, None)
        if fn is None:
            continue
        try:
            out[method] = fn(probe)
        except Exception:  # noqa: BLE001, S112 - a method this estimator cannot run on the probe
            continue
    return out


def trusted_types(data: bytes, allow_globals: Sequence[str]) -> list[str]:
    """The types skops would need trusted, each checked against the scanner's allowlist."""
    import skops.io as sio

    untrusted = sio.get_untrusted_types(data=data)
    for qual in untrusted:
        module, _, name = qual.rpartition(".")
        if not module or not is_allowed(module, name, allow_globals):
            raise ConversionRefused(f"the skops file needs {qual} trusted, which is not on the "
                                    "allowlist")
    return list(untrusted)


def convert(data: bytes, *, probe: Any | None = None,
            allow_globals: Sequence[str] = ()) -> SkopsConversion:
    import skops.io as sio

    model = load_pickle_or_joblib(data, allow_globals)
    if not any(hasattr(model, m) for m in ("fit", *METHODS)):
        raise NotConvertible(f"a {type(model).__name__} is not a scikit-learn estimator",
                             advice="skops stores scikit-learn models")
    try:
        out = sio.dumps(model)
    except Exception as exc:  # noqa: BLE001 - skops cannot represent every object
        raise NotConvertible(f"skops cannot store this {type(model).__name__}: "
                             f"{type(exc).__name__}: {exc}") from None
    rows = probe if probe is not None else generated_probe(model)
    expected = _outputs(model, rows)
    if not expected:
        raise NotConvertible(f"none of {', '.join(METHODS)} runs on the probe input",
                             advice="pass --probe with rows the model accepts")
    reloaded = sio.loads(out, trusted=trusted_types(out, allow_globals))
    got = _outputs(reloaded, rows)
    for method, value in expected.items():
        if method not in got or not _same(value, got[method]):
            raise ConversionMismatch(f"{method} differs between the pickle and the skops file")
    return SkopsConversion(model, out, len(rows), tuple(expected))
