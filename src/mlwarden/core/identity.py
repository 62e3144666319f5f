"""One artifact identity: the model digest every signature, attestation and registry version
binds to, the one rule for what has none, and the one comparison of two digests.

The model digest (``mlwarden digest``) is ``sha256:`` + SHA-256 over the canonical JSON of the
model's OMS resources list — ``[{"algorithm": "sha256", "digest": <hex>, "name": <path>}, …]`` in
code-point order of names, ``sort_keys``, no spaces, UTF-8 — with the files listed by
:mod:`mlwarden.core.modelfiles` (top-level ``.git*`` paths and ``model.sig`` left out), a single
file being the resource ``.``. :meth:`mlwarden.sign.manifest.Manifest.model_digest` and the
registry's stored version manifest (:attr:`mlwarden.registry.manifest.Manifest.digest`) compute it
with :func:`listing_digest` from their own lists, so a registry version's digest *is* the model
digest of its files; every comparison of two artifact digests goes through :func:`same_artifact`.

A folder with no files has no identity: :func:`artifact_digest` refuses it (:class:`InputError`,
exit 2), as ``sign``, ``registry push`` and ``gate`` do.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import hmac
import json
import re
from collections.abc import Iterable
from pathlib import Path

from mlwarden.core.errors import InputError
from mlwarden.core.modelfiles import (
    DEFAULT_SIGNATURE_NAME,
    ModelFile,
    default_ignores,
    hash_file,
    hash_workers,
    list_model_files,
)

IDENTITY_NAME = "sha256-oms-files-listing"
"""What the digest is over (STYLE: digests name their parameters)."""
EMPTY_MESSAGE = "the folder holds no files (an empty model has no identity)"
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def listing_digest(resources: Iterable[tuple[str, str, str]]) -> str:
    """``sha256:<hex>`` over the canonical JSON of ``(name, algorithm, hex digest)`` entries."""
    listing = sorted(({"algorithm": alg, "digest": digest.removeprefix("sha256:"), "name": name}
                      for name, alg, digest in resources), key=lambda r: r["name"])
    body = json.dumps(listing, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(body.encode("utf-8")).hexdigest()


def require_files(count: int, path: str | Path) -> None:
    """Refuse an artifact with no files: it has no identity to sign, store or gate."""
    if count == 0:
        raise InputError(EMPTY_MESSAGE, path=path,
                         advice="point at the model file or a folder that holds it")


def artifact_files(path: str | Path) -> dict[str, ModelFile]:
    """The files that make up the artifact at ``path`` (by resource name), never empty."""
    model = Path(path)
    ignore = default_ignores(model, model / DEFAULT_SIGNATURE_NAME) if model.is_dir() else ()
    files = list_model_files(model, ignore=ignore)
    require_files(len(files), model)
    return files


def artifact_digest(path: str | Path, *, max_workers: int | None = None) -> str:
    """The model digest of the file or folder at ``path`` (see the module docstring)."""
    files = artifact_files(path)

    def one(f: ModelFile) -> tuple[str, str, str]:
        return f.name, "sha256", hash_file(f.path, "sha256", expected_size=f.size)

    jobs = sorted(files.values(), key=lambda f: -f.size)
    workers = max_workers or hash_workers(len(jobs))
    if workers == 1 or len(jobs) == 1:
        return listing_digest(map(one, jobs))
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        return listing_digest(pool.map(one, jobs))


def is_artifact_digest(value: str) -> bool:
    return bool(_DIGEST.match(value))


def same_artifact(a: str, b: str) -> bool:
    """Whether two model digests name the same artifact (both ``sha256:<hex>``; constant time)."""
    return is_artifact_digest(a) and is_artifact_digest(b) and hmac.compare_digest(a, b)
