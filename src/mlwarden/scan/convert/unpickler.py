"""Allowlisting unpicklers: only names the scanner's allowlist judges safe are ever imported.

``find_class`` is the one door through which a pickle reaches code; here it opens only for names
:func:`mlwarden.scan.pickle.names.judge` calls safe (inert model and container constructors), or
that a policy's ``allow_globals`` names explicitly — and never for a denylisted one. The joblib
variant subclasses joblib's own ``NumpyUnpickler`` so its inline arrays load, through the same door.
"""

from __future__ import annotations

import importlib
import io
import pickle
from collections.abc import Sequence
from typing import Any

from mlwarden.scan.convert.errors import ConversionRefused, NotConvertible
from mlwarden.scan.pickle.names import DANGEROUS, SAFE, allowed_by_policy, judge


def is_allowed(module: str, name: str, allow_globals: Sequence[str] = ()) -> bool:
    verdict = judge(module, name).verdict
    if verdict == SAFE:
        return True
    return verdict != DANGEROUS and allowed_by_policy(module, name, tuple(allow_globals))


def py3_name(module: str, name: str) -> tuple[str, str]:
    """The Python 3 name of a Python 2 one (``copy_reg._reconstructor``), as pickle's fix_imports
    maps it for protocols 0–2; the allowlist judges the name that would really be imported."""
    import _compat_pickle

    if (module, name) in _compat_pickle.NAME_MAPPING:
        return _compat_pickle.NAME_MAPPING[(module, name)]
    return _compat_pickle.IMPORT_MAPPING.get(module, module), name


def resolve(module: str, name: str, allow_globals: Sequence[str] = ()) -> Any:
    """Import ``module.name`` if the allowlist admits it, else refuse (nothing imported)."""
    module, name = py3_name(module, name)
    if not is_allowed(module, name, allow_globals):
        raise ConversionRefused(f"the allowlisting unpickler refused {module}.{name}",
                                advice="only allowlisted model classes are loaded; add a reviewed "
                                       "class with --allow-global")
    try:
        obj: Any = importlib.import_module(module)
        for part in name.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise NotConvertible(f"{module}.{name} is not importable here ({exc})",
                             advice="install the library that wrote the model") from None
    return obj


class RestrictedUnpickler(pickle.Unpickler):
    """A plain pickle unpickler whose ``find_class`` is the allowlist; no persistent ids."""

    def __init__(self, file: io.BytesIO, allow_globals: Sequence[str] = ()) -> None:
        super().__init__(file)
        self._allow = tuple(allow_globals)

    def find_class(self, module: str, name: str) -> Any:
        return resolve(module, name, self._allow)

    def persistent_load(self, pid: Any) -> Any:
        raise ConversionRefused("persistent ids are not supported in a plain pickle")


def load_pickle_or_joblib(data: bytes, allow_globals: Sequence[str] = ()) -> Any:
    """Load a plain or joblib pickle (any joblib compression) through the allowlist.

    joblib's ``NumpyUnpickler`` reads the arrays joblib writes inline after their wrappers, and a
    plain pickle loads through it unchanged, so both go the same way.
    """
    from joblib.numpy_pickle import NumpyUnpickler, _validate_fileobject_and_memmap

    allow = tuple(allow_globals)

    class _Restricted(NumpyUnpickler):  # type: ignore[misc]
        def find_class(self, module: str, name: str) -> Any:
            return resolve(module, name, allow)

        def persistent_load(self, pid: Any) -> Any:
            raise ConversionRefused("persistent ids are not supported in a joblib pickle")

    try:
        with _validate_fileobject_and_memmap(io.BytesIO(data), "", None) as (fobj, _mmap):
            if isinstance(fobj, str):
                raise NotConvertible("a joblib < 0.10 file with companion files: re-save it")
            return _Restricted("", fobj, ensure_native_byte_order=True).load()
    except (ConversionRefused, NotConvertible):
        raise
    except Exception as exc:  # noqa: BLE001 - malformed input of any kind is a one-line error
        raise NotConvertible(f"not a loadable pickle/joblib file: {type(exc).__name__}: {exc}"
                             ) from None
