"""PyTorch checkpoint → safetensors, loading only through torch's allowlisting unpickler.

``torch.load(weights_only=True)`` admits tensors, dicts, lists, tuples and primitive values and
refuses every other global — so a whole pickled ``nn.Module`` (the user's class) is refused, and
the user is told to save ``model.state_dict()``. A training checkpoint (model and optimizer state,
epoch, config) converts whole: every tensor under its dotted path (``optimizer.state.0.exp_avg``),
every primitive leaf into the safetensors metadata (``mlwarden.values``, JSON). TorchScript
archives are programs, not checkpoints, and are refused.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mlwarden.scan.convert.errors import ConversionMismatch, NotConvertible
from mlwarden.scan.convert.unpickler import is_allowed, resolve

_PRIMITIVES = (int, float, str, bool, type(None))


@dataclass(frozen=True)
class TorchConversion:
    tensors: dict[str, Any]
    values: dict[str, Any]
    """Non-tensor leaves (epoch, learning rate…) by dotted path."""
    data: bytes
    """The safetensors file."""


def is_torchscript(data: bytes) -> bool:
    if data[:4] != b"PK\x03\x04":
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return False
    return any(n.endswith("/constants.pkl") or "/code/" in n for n in names)


def _allowlisted_extras(data: bytes, allow_globals: Sequence[str]) -> list[Any]:
    """Globals beyond torch's own weights-only set that our allowlist admits (numpy arrays and
    RNG states, datetimes…, plus reviewed ``--allow-global`` names), resolved for ``safe_globals``.
    """
    import torch

    try:
        wanted = torch.serialization.get_unsafe_globals_in_checkpoint(io.BytesIO(data))
    except Exception:  # noqa: BLE001 - legacy formats have no zip to list: torch's set only
        return []
    extras = []
    for qual in wanted:
        module, _, name = qual.rpartition(".")
        if module and is_allowed(module, name, allow_globals):
            try:
                extras.append(resolve(module, name, allow_globals))
            except NotConvertible:  # not importable here: torch's loader refuses it by name
                continue
    import numpy as np

    if np.dtype in extras:  # a numpy dtype object is BUILT as its concrete class (UInt32DType…)
        extras.extend(type(np.dtype(code)) for code in np.typecodes["All"] if code not in "OV")
    return extras


def load_tensors(data: bytes, allow_globals: Sequence[str] = ()) -> Any:
    """The checkpoint object, loaded with ``weights_only=True`` from memory, on the CPU."""
    import pickle

    import torch

    if is_torchscript(data):
        raise NotConvertible("a TorchScript archive is a program, not a checkpoint",
                             advice="convert the eager model's state_dict() instead")
    try:
        with torch.serialization.safe_globals(_allowlisted_extras(data, allow_globals)):
            return torch.load(io.BytesIO(data), weights_only=True, map_location="cpu",
                              mmap=False)
    except pickle.UnpicklingError as exc:
        import re

        found = re.search(r"GLOBAL ([\w.]+)", str(exc)) or re.search(r"got <class '([\w.]+)'>",
                                                                     str(exc))
        what = found[1] if found else "an object that is not a tensor or plain value"
        raise NotConvertible(
            f"torch's weights-only loader refused {what}: the checkpoint pickles code objects",
            advice="a pickled nn.Module or custom object cannot be loaded safely: save "
                   "model.state_dict() and convert that") from None
    except NotConvertible:
        raise
    except Exception as exc:  # noqa: BLE001 - malformed input of any kind is a one-line error
        raise NotConvertible(f"not a loadable PyTorch checkpoint: {type(exc).__name__}: "
                             f"{str(exc)[:200]}") from None


def flatten(obj: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Tensors and primitive leaves of a nested checkpoint, keyed by dotted path."""
    import torch

    tensors: dict[str, Any] = {}
    values: dict[str, Any] = {}

    def walk(node: Any, prefix: str) -> None:
        node = _plain(node)
        if isinstance(node, torch.nn.Module):
            raise NotConvertible(f"{prefix or 'the checkpoint'} is a whole {type(node).__name__} "
                                 "module", advice="save model.state_dict() and convert that")
        if isinstance(node, torch.Tensor):
            if node.layout != torch.strided:
                raise NotConvertible(f"{prefix or 'the checkpoint'} is a {node.layout} tensor: "
                                     "safetensors holds dense tensors only")
            tensors[prefix or "tensor"] = node
        elif isinstance(node, Mapping):
            for key, value in node.items():
                walk(value, f"{prefix}.{key}" if prefix else str(key))
        elif isinstance(node, (list, tuple)):
            for i, value in enumerate(node):
                walk(value, f"{prefix}.{i}" if prefix else str(i))
        elif isinstance(node, _PRIMITIVES):
            values[prefix or "value"] = node
        else:
            raise NotConvertible(f"{prefix}: a {type(node).__name__} is neither a tensor nor a "
                                 "plain value")

    walk(obj, "")
    clash = set(tensors) & set(values)
    if clash:
        raise NotConvertible(f"ambiguous names after flattening: {sorted(clash)[:3]}")
    if not tensors:
        raise NotConvertible("the checkpoint holds no tensors")
    return tensors, values


def _plain(node: Any) -> Any:
    """Numpy arrays become tensors; args namespaces, dates, sizes, dtypes plain values."""
    import argparse
    import datetime

    import numpy as np
    import torch

    if isinstance(node, np.ndarray) and node.dtype.kind in "biufc":
        return torch.from_numpy(np.ascontiguousarray(node))
    if isinstance(node, np.generic):
        return node.item()
    if isinstance(node, argparse.Namespace):
        return vars(node)
    if isinstance(node, torch.Size):
        return list(node)
    if isinstance(node, (torch.dtype, torch.device)):
        return str(node)
    if isinstance(node, (datetime.date, datetime.time)):
        return node.isoformat()
    if isinstance(node, datetime.timedelta):
        return node.total_seconds()
    return node


def _independent(tensors: dict[str, Any]) -> dict[str, Any]:
    """Contiguous tensors that share no storage (safetensors refuses aliasing)."""
    seen: set[int] = set()
    out = {}
    for name, tensor in tensors.items():
        t = tensor.detach()
        ptr = t.untyped_storage().data_ptr()
        if ptr in seen or not t.is_contiguous() or t.storage_offset() != 0 or (
                t.untyped_storage().nbytes() != t.numel() * t.element_size()):
            t = t.contiguous().clone()
        seen.add(ptr)
        out[name] = t
    return out


def bit_identical(a: Any, b: Any) -> bool:
    import torch

    if a.dtype != b.dtype or tuple(a.shape) != tuple(b.shape):
        return False
    if a.numel() == 0:
        return True
    return bool(torch.equal(a.reshape(-1).view(torch.uint8), b.reshape(-1).view(torch.uint8)))


def convert(data: bytes, *, source: str, source_sha256: str,
            allow_globals: Sequence[str] = ()) -> TorchConversion:
    """Load, flatten, write safetensors, and verify every tensor reloads bit-identical."""
    from safetensors.torch import load as st_load
    from safetensors.torch import save as st_save

    tensors, values = flatten(load_tensors(data, allow_globals))
    metadata = {"format": "pt", "mlwarden.converted_from": source,
                "mlwarden.source_sha256": source_sha256,
                "mlwarden.values": json.dumps(values, sort_keys=True)}
    out = st_save(_independent(tensors), metadata=metadata)
    reloaded = st_load(out)
    if set(reloaded) != set(tensors):
        missing = sorted(set(tensors) ^ set(reloaded))[:3]
        raise ConversionMismatch(f"tensor names differ after conversion: {missing}")
    for name, tensor in tensors.items():
        if not bit_identical(tensor.detach(), reloaded[name]):
            raise ConversionMismatch(f"tensor {name} is not bit-identical after conversion")
    return TorchConversion(tensors, values, out)
