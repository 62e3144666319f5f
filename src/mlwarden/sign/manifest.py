"""A model's OMS manifest: every file (or file shard) of the model paired with its digest.

This is the OpenSSF Model Signing (OMS) v1.0 *files* serialization, byte-compatible with the
``model_signing`` package:

* A resource is named by its POSIX path relative to the model directory (``tokenizer/vocab.json``);
  a model that is a single file has one resource named ``.``. With the *shards* serialization a
  resource is ``path:start:end``.
* Ignored: the signature file, and the top-level git paths ``.git``, ``.gitattributes``,
  ``.github``, ``.gitignore`` (plus any other top-level name starting with ``.git`` when signing).
  The ignored paths are recorded in the signature, so a verifier ignores exactly the same ones.
* Symbolic links are refused unless allowed, and an allowed link must stay inside the model.

Two digests are derived from a manifest, both over its resources in Unicode code-point order of
their names (shards by their whole ``path:start:end`` name, compared as strings):

* The **OMS root digest** (:meth:`Manifest.root_digest`): SHA-256 over the concatenated raw resource
  digests. It is the subject digest of an OMS signature, as the format defines it. It does *not*
  bind file names: renaming a file without changing the order keeps it.
* The **model digest** (:meth:`Manifest.model_digest`, :func:`model_digest`, ``mlwarden digest``):
  SHA-256 over the canonical JSON of the resources list, i.e.
  ``json.dumps([{"algorithm": a, "digest": d, "name": n}, ...], sort_keys=True,
  separators=(",", ":"), ensure_ascii=False).encode("utf-8")`` with the *files* serialization and
  SHA-256 per file. It binds every name and every byte, and is the identity every other mlwarden
  attestation binds to, written ``sha256:<hex>``.

``model_signing`` 1.1 lists resources by path *components* (``tokenizer/a`` before
``tokenizer.json``) and computes its subject digest in that order; a verifier recomputes the subject
digest in the order the resources are listed, so both orders verify everywhere. mlwarden writes the
code-point order, which the OMS specification prescribes.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlwarden.core.errors import InputError
from mlwarden.core.identity import artifact_digest, require_files

# Walking a model and hashing one file live in core (the model digest stands on them too);
# their names stay importable from here.
from mlwarden.core.modelfiles import BUFFER as BUFFER
from mlwarden.core.modelfiles import DEFAULT_HASH as DEFAULT_HASH
from mlwarden.core.modelfiles import DEFAULT_SIGNATURE_NAME as DEFAULT_SIGNATURE_NAME
from mlwarden.core.modelfiles import GIT_PATHS as GIT_PATHS
from mlwarden.core.modelfiles import HASH_ALGORITHMS as HASH_ALGORITHMS
from mlwarden.core.modelfiles import ModelFile as ModelFile
from mlwarden.core.modelfiles import default_ignores as default_ignores
from mlwarden.core.modelfiles import hash_file as hash_file
from mlwarden.core.modelfiles import hash_workers as _workers
from mlwarden.core.modelfiles import ignored as ignored
from mlwarden.core.modelfiles import is_git_path as is_git_path
from mlwarden.core.modelfiles import list_model_files as list_model_files
from mlwarden.core.modelfiles import relative_inside as relative_inside

DEFAULT_SHARD_SIZE = 1_000_000_000


@dataclass(frozen=True, slots=True)
class Resource:
    """One manifest entry: a file (or a shard ``path:start:end``), its hash and digest (hex)."""

    name: str
    algorithm: str
    digest: str
    size: int | None = None
    """Bytes of the file (or shard) when known; lets a verifier reject truncation before hashing."""

    @property
    def path(self) -> str:
        """The file this resource is about (the name without a shard suffix)."""
        return shard_path(self.name) if "-sharded-" in self.algorithm else self.name

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "algorithm": self.algorithm, "digest": self.digest}


@dataclass(frozen=True, slots=True)
class Serialization:
    """How the manifest was built: method (``files``/``shards``), hash, symlinks, ignored paths."""

    method: str = "files"
    hash_type: str = DEFAULT_HASH
    allow_symlinks: bool = False
    ignore_paths: tuple[str, ...] = ()
    shard_size: int | None = None

    def __post_init__(self) -> None:
        if self.method not in ("files", "shards"):
            raise InputError(f"unknown serialization method {self.method!r} "
                             "(expected 'files' or 'shards')")
        if self.hash_type not in HASH_ALGORITHMS:
            raise InputError(f"unsupported hash {self.hash_type!r} "
                             f"(supported: {', '.join(HASH_ALGORITHMS)})")
        if self.method == "shards" and (not isinstance(self.shard_size, int)
                                        or self.shard_size <= 0):
            raise InputError("shards serialization needs a positive integer shard_size")
        if self.method == "files" and self.shard_size is not None:
            raise InputError("shard_size is only meaningful for the shards serialization")
        object.__setattr__(self, "ignore_paths", tuple(sorted(set(self.ignore_paths))))

    @property
    def resource_algorithm(self) -> str:
        """The algorithm name each resource carries (``sha256`` or ``sha256-sharded-<size>``)."""
        if self.method == "shards":
            return f"{self.hash_type}-sharded-{self.shard_size}"
        return self.hash_type

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"method": self.method, "hash_type": self.hash_type,
                                "allow_symlinks": self.allow_symlinks}
        if self.method == "shards":
            data["shard_size"] = self.shard_size
        if self.ignore_paths:
            data["ignore_paths"] = list(self.ignore_paths)
        return data


@dataclass(frozen=True, slots=True)
class Manifest:
    """The resources of one model, unique by name, with the serialization that produced them."""

    model_name: str
    resources: tuple[Resource, ...]
    serialization: Serialization = field(default_factory=Serialization)

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for resource in self.resources:
            if resource.name in seen:
                raise InputError(f"resource {resource.name!r} is listed twice")
            seen.add(resource.name)

    @property
    def by_name(self) -> dict[str, Resource]:
        return {r.name: r for r in self.resources}

    def canonical(self) -> tuple[Resource, ...]:
        """Resources in Unicode code-point order of their names, as OMS sorts them.

        Shards too are sorted by their whole name ``path:start:end`` as a string (``w:100:110``
        before ``w:10:20``), which is what the spec says and what the Go client checks.
        """
        return tuple(sorted(self.resources, key=lambda r: r.name))

    def root_digest(self) -> str:
        """OMS subject digest: hex SHA-256 over the raw resource digests in canonical order."""
        return digest_of(self.canonical())

    def model_digest(self) -> str:
        """``sha256:<hex>`` over the canonical JSON of the resources list (binds the names): the
        model digest, :func:`mlwarden.core.identity.listing_digest`."""
        from mlwarden.core.identity import listing_digest

        return listing_digest((r.name, r.algorithm, r.digest) for r in self.resources)


def digest_of(resources: Iterable[Resource]) -> str:
    """Hex SHA-256 over the raw digests of ``resources`` in the order given."""
    h = hashlib.sha256()
    for resource in resources:
        h.update(bytes.fromhex(resource.digest))
    return h.hexdigest()


def shard_path(name: str) -> str:
    return split_shard(name)[0]


def split_shard(name: str) -> tuple[str, int, int]:
    """``path:start:end`` → (path, start, end); the path itself may contain colons."""
    head, _, end = name.rpartition(":")
    path, _, start = head.rpartition(":")
    if not path or not start.isdigit() or not end.isdigit():
        raise InputError(f"shard resource {name!r} is not 'path:start:end'")
    return path, int(start), int(end)


def check_resource_name(name: str, *, single_file: bool = False) -> str:
    """Refuse names that could point outside the model: absolute, ``..``, empty or odd parts."""
    if single_file and name == ".":
        return name
    if not isinstance(name, str) or not name:
        raise InputError("a resource name is empty")
    if "\x00" in name:
        raise InputError(f"resource name {name!r} contains a NUL byte")
    if name.startswith("/"):
        raise InputError(f"resource name {name!r} is absolute")
    parts = name.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise InputError(f"resource name {name!r} escapes or is not normalised "
                         "(empty, '.' or '..' component)")
    return name


# ---------------------------------------------------------------------------------------------
# Hashing (walking a model and hashing one file live in mlwarden.core.modelfiles)


def hash_files(files: Mapping[str, ModelFile], serialization: Serialization,
               *, max_workers: int | None = None) -> tuple[Resource, ...]:
    """Hash every file (or shard) in parallel threads (hashlib releases the GIL while hashing)."""
    jobs: list[tuple[str, ModelFile, int, int | None]] = []
    for model_file in files.values():
        if serialization.method == "shards":
            size = serialization.shard_size
            assert size is not None
            for start in range(0, model_file.size, size):
                end = min(start + size, model_file.size)
                jobs.append((f"{model_file.name}:{start}:{end}", model_file, start, end))
        else:
            jobs.append((model_file.name, model_file, 0, None))
    algorithm = serialization.resource_algorithm

    def run(job: tuple[str, ModelFile, int, int | None]) -> Resource:
        name, model_file, start, end = job
        if end is None:
            digest = hash_file(model_file.path, serialization.hash_type,
                               expected_size=model_file.size)
            return Resource(name, algorithm, digest, model_file.size)
        digest = hash_file(model_file.path, serialization.hash_type, start=start, end=end)
        return Resource(name, algorithm, digest, end - start)

    # Largest first, so the long jobs start early and the workers finish together.
    jobs.sort(key=lambda j: -((j[3] if j[3] is not None else j[1].size) - j[2]))
    workers = max_workers or _workers(len(jobs))
    if workers == 1 or len(jobs) <= 1:
        return tuple(run(job) for job in jobs)
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        return tuple(pool.map(run, jobs))


def hash_model(model: str | Path, *, serialization: Serialization | None = None,
               signature: str | Path | None = None, ignore: Iterable[str] = (),
               max_workers: int | None = None) -> Manifest:
    """The manifest of ``model`` (a directory or one file)."""
    model = Path(model)
    base = serialization or Serialization()
    sig = Path(signature) if signature is not None else (
        model / DEFAULT_SIGNATURE_NAME if model.is_dir() else None)
    names = set(default_ignores(model, sig)) | set(base.ignore_paths) | set(ignore)
    if not model.is_dir():
        names = set()
    serialization = Serialization(base.method, base.hash_type, base.allow_symlinks,
                                  tuple(sorted(names)), base.shard_size)
    files = list_model_files(model, ignore=serialization.ignore_paths,
                             allow_symlinks=serialization.allow_symlinks)
    require_files(len(files), model)  # an empty folder has no identity: bad input everywhere
    resources = hash_files(files, serialization, max_workers=max_workers)
    return Manifest(model_name(model), resources, serialization)


def model_name(model: Path) -> str:
    """The informative model name: the last path component (resolved for ``.`` or ``..``)."""
    name = model.name
    if not name or name == "..":
        name = model.resolve().name
    return name


def model_digest(path: str | Path) -> str:
    """``sha256:<hex>``: the digest of the model's canonical OMS resources list (files, SHA-256).

    The same bytes under the same names always give the same digest, and any change to a byte or a
    name changes it. Top-level ``.git*`` paths and a top-level ``model.sig`` are left out, so
    signing a model does not change its identity. It is :func:`mlwarden.core.identity.artifact_digest`.
    """
    return artifact_digest(path)
