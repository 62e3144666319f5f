"""Where provenance attestations live: beside the model, and indexed by model digest.

``mlwarden train`` writes the DSSE envelope to ``<first output>.provenance.json`` (or
``--attestation PATH``) and a copy to ``$MLWARDEN_HOME/attestations/<hex>.provenance.json`` for every
output's digest (``MLWARDEN_HOME`` defaults to ``./.mlwarden``), so ``mlwarden trace`` finds the
provenance of a model from its digest alone, wherever the model was copied to.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from mlwarden.core.atomic import atomic_write_text
from mlwarden.core.attestation import Envelope
from mlwarden.core.errors import InputError
from mlwarden.core.home import home_folder

SUFFIX = ".provenance.json"
MAX_ENVELOPE = 64 << 20


home = home_folder
"""The state folder (:func:`mlwarden.core.home.home_folder`, the one resolver)."""


def sidecar(model: Path) -> Path:
    """``model.skops`` → ``model.skops.provenance.json``; a folder's sidecar lies beside it."""
    name = model.name or model.resolve().name
    return model.parent / (name + SUFFIX)


def index_path(digest: str, state: Path) -> Path:
    """The indexed copy for ``sha256:<hex>`` (or a bare hex digest)."""
    hex_digest = digest.split(":", 1)[-1]
    if not hex_digest or not all(c in "0123456789abcdef" for c in hex_digest):
        raise InputError(f"not a hex digest: {digest!r}")
    return state / "attestations" / (hex_digest + SUFFIX)


def write(envelope: Envelope, path: Path) -> Path:
    atomic_write_text(path, envelope.to_json() + "\n")
    return path


def load(path: Path) -> Envelope:
    """A DSSE envelope from ``path``; :class:`InputError` names the file if it is not one."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputError("attestation not found", path=path) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=path) from None
    if size > MAX_ENVELOPE:
        raise InputError("attestation is larger than 64 MiB", path=path)
    return Envelope.load(path)


def candidates(model: Path, digest: str, state: Path,
               explicit: Iterable[Path] = ()) -> list[Path]:
    """Attestation files that may be about ``model``: explicit ones, its sidecar, the index entry."""
    found: list[Path] = []
    seen: set[Path] = set()
    for path in (*explicit, sidecar(model), index_path(digest, state)):
        key = path.resolve()
        if key in seen:
            continue
        if path in explicit or path.is_file():
            seen.add(key)
            found.append(path)
    return found
