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
import contextlib
import hashlib
import json
import os
import stat
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from mlwarden.core.errors import InputError

DEFAULT_SIGNATURE_NAME = "model.sig"
GIT_PATHS: tuple[str, ...] = (".git", ".gitattributes", ".github", ".gitignore")
"""Top-level paths ``model_signing`` always ignores."""
HASH_ALGORITHMS: dict[str, Callable[[], Any]] = {
    "sha256": hashlib.sha256,
    "blake2b": hashlib.blake2b,
}
"""Per-resource hashes we compute. ``blake3`` signatures are reported as unsupported."""
DEFAULT_HASH = "sha256"
BUFFER = 256 << 10
"""Read size: small enough to stay in L2 cache between the read and the hash (8 MiB is ~30% slower)."""
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
        """``sha256:<hex>`` over the canonical JSON of the resources list (binds the names)."""
        listing = [r.to_dict() for r in self.canonical()]
        raw = json.dumps(listing, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return "sha256:" + hashlib.sha256(raw.encode("utf-8")).hexdigest()


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
# Walking a model


@dataclass(frozen=True, slots=True)
class ModelFile:
    """A regular file of the model: its resource name, where it is, and its size."""

    name: str
    path: Path
    size: int


def is_git_path(top: str) -> bool:
    return top.startswith(".git")


def ignored(name: str, ignore: Iterable[str]) -> bool:
    """Whether ``name`` is one of ``ignore`` or lies under one of them."""
    return any(name == p or name.startswith(p.rstrip("/") + "/") for p in ignore)


def list_model_files(model: Path, *, ignore: Iterable[str] = (),
                     allow_symlinks: bool = False) -> dict[str, ModelFile]:
    """Every regular file of ``model`` by resource name, not opening any of them.

    ``ignore`` holds names relative to the model. Symbolic links raise :class:`InputError` unless
    ``allow_symlinks``; then a link must resolve inside the model. Sockets, devices and FIFOs raise.
    """
    ignore = tuple(ignore)
    try:
        st = model.lstat()
    except FileNotFoundError:
        raise InputError("model not found", path=model) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=model) from None
    if stat.S_ISLNK(st.st_mode):
        if not allow_symlinks:
            raise InputError("the model path is a symbolic link", path=model,
                             advice="pass the real path, or allow symlinks")
        st = model.stat()
    if stat.S_ISREG(st.st_mode):
        return {".": ModelFile(".", model, st.st_size)}
    if not stat.S_ISDIR(st.st_mode):
        raise InputError("not a regular file or directory", path=model)
    root = model.resolve()
    files: dict[str, ModelFile] = {}
    stack: list[tuple[Path, str]] = [(model, "")]
    while stack:
        directory, prefix = stack.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError as exc:
            raise InputError(f"cannot list: {exc.strerror or exc}", path=directory) from None
        for entry in entries:
            name = prefix + entry.name
            if ignored(name, ignore):
                continue
            path = Path(entry.path)
            try:
                is_link = entry.is_symlink()
                if is_link:
                    if not allow_symlinks:
                        raise InputError("symbolic link in the model (refused by default)",
                                         path=path, advice="remove it, or allow symlinks")
                    target = path.resolve()
                    if not target.is_relative_to(root):
                        raise InputError(f"symbolic link points outside the model "
                                         f"(to {target})", path=path)
                    entry_stat = path.stat()
                else:
                    entry_stat = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                raise InputError("dangling symbolic link or vanished file", path=path) from None
            except OSError as exc:
                raise InputError(f"cannot stat: {exc.strerror or exc}", path=path) from None
            if stat.S_ISDIR(entry_stat.st_mode):
                stack.append((path, name + "/"))
            elif stat.S_ISREG(entry_stat.st_mode):
                files[name] = ModelFile(name, path, entry_stat.st_size)
            else:
                raise InputError("not a regular file or directory (device, FIFO or socket)",
                                 path=path)
    return files


def default_ignores(model: Path, signature: Path | None) -> tuple[str, ...]:
    """What signing ignores: top-level ``.git*`` names and the signature if it is inside."""
    names = set(GIT_PATHS)
    if model.is_dir():
        with contextlib.suppress(OSError):
            names.update(e.name for e in os.scandir(model) if is_git_path(e.name))
    if signature is not None:
        inside = relative_inside(model, signature)
        if inside is not None:
            names.add(inside)
    return tuple(sorted(names))


def relative_inside(model: Path, path: Path) -> str | None:
    """``path`` relative to ``model`` (POSIX) when it lies inside the model directory, else None."""
    if not model.is_dir():
        return None
    try:
        rel = path.absolute().resolve().relative_to(model.absolute().resolve())
    except ValueError:
        return None
    text = PurePosixPath(*rel.parts).as_posix()
    return None if text in ("", ".") else text


# ---------------------------------------------------------------------------------------------
# Hashing


def hash_file(path: Path, algorithm: str = DEFAULT_HASH, *, start: int = 0,
              end: int | None = None, expected_size: int | None = None) -> str:
    """Hex digest of the bytes ``[start, end)`` of ``path``, read through one reused buffer.

    When ``expected_size`` is given the file must still have that size after reading (a file that
    changes while it is hashed is an error, not a silently wrong digest).
    """
    h = HASH_ALGORITHMS[algorithm]()
    buffer = bytearray(BUFFER)
    view = memoryview(buffer)
    try:
        with open(path, "rb", buffering=0) as handle:
            if start:
                handle.seek(start)
            remaining = None if end is None else end - start
            while remaining is None or remaining > 0:
                want = BUFFER if remaining is None else min(BUFFER, remaining)
                n = handle.readinto(view[:want])
                if not n:
                    break
                h.update(view[:n])
                if remaining is not None:
                    remaining -= n
            if remaining:
                raise InputError(f"file shrank while hashing ({remaining} bytes short)",
                                 path=path)
            if expected_size is not None and os.fstat(handle.fileno()).st_size != expected_size:
                raise InputError("file changed size while hashing", path=path)
    except FileNotFoundError:
        raise InputError("file vanished while hashing", path=path) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=path) from None
    return str(h.hexdigest())


def _workers(jobs: int) -> int:
    return max(1, min(jobs, os.cpu_count() or 1))


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
    signing a model does not change its identity.
    """
    return hash_model(path).model_digest()
