"""What a version is made of: its files, each named by the digest of a stored blob.

A version's digest is mlwarden's model digest (:mod:`mlwarden.core.identity`): the SHA-256 of the
canonical JSON list of OMS resources (name, ``sha256``, file digest), a single file being the
resource ``.``, computed by :func:`~mlwarden.core.identity.listing_digest` from this manifest's own
list of stored blobs (nothing is re-hashed to name a stored version). So the registry's identity
is the one every signature, provenance and scan attestation binds to. As there, top-level ``.git*``
paths and a top-level ``model.sig`` are not part of the model (the signature travels as an
attestation instead).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from mlwarden.core.errors import InputError, VerificationError
from mlwarden.core.identity import listing_digest, require_files
from mlwarden.core.modelfiles import check_utf8_name

MANIFEST_TYPE = "https://mlwarden.dev/registry/manifest/v1"
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
SIGNATURE_NAME = "model.sig"


@dataclass(frozen=True, slots=True)
class FileEntry:
    path: str
    digest: str
    size: int


@dataclass(frozen=True, slots=True)
class Manifest:
    kind: str
    """``file`` or ``dir``."""
    name: str
    """The file's or folder's base name when pushed."""
    files: tuple[FileEntry, ...]

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def digest(self) -> str:
        """The model digest of the listed files (:func:`mlwarden.core.identity.listing_digest`)."""
        names = ["."] if self.kind == "file" else [f.path for f in self.files]
        return listing_digest((name, "sha256", f.digest)
                              for name, f in zip(names, self.files, strict=True))

    def to_json(self) -> bytes:
        data = {"_type": MANIFEST_TYPE, "kind": self.kind, "name": self.name,
                "files": [{"path": f.path, "digest": f.digest, "size": f.size}
                          for f in self.files]}
        return json.dumps(data, sort_keys=True, separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes, *, source: str = "<manifest>") -> Manifest:
        """Parse and validate (safe relative paths only): a hostile manifest never escapes."""
        try:
            obj: Any = json.loads(data)
            if obj.get("_type") != MANIFEST_TYPE or obj["kind"] not in ("file", "dir"):
                raise ValueError("not a registry manifest")
            files = tuple(FileEntry(str(f["path"]), str(f["digest"]), int(f["size"]))
                          for f in obj["files"])
            name = str(obj["name"])
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
            raise VerificationError(f"malformed version manifest: {exc}", path=source) from None
        for entry in (*files, FileEntry(name, "sha256:" + "0" * 64, 0)):
            _check_relative(entry.path, source)
            if not _DIGEST.match(entry.digest) or entry.size < 0:
                raise VerificationError(f"bad digest or size for {entry.path!r} in version "
                                        "manifest", path=source)
        if not files or (obj["kind"] == "file" and len(files) != 1):
            raise VerificationError("version manifest lists no files", path=source)
        return cls(obj["kind"], name, files)


def _check_relative(path: str, source: str) -> None:
    pure = PurePosixPath(path)
    if (not path or path == "." or pure.is_absolute() or ".." in pure.parts or "\\" in path
            or "\0" in path or path != pure.as_posix()):
        raise VerificationError(f"unsafe path {path!r} in version manifest", path=source)


def _check_storable(name: str, full: Path) -> None:
    """Refuse, at push, a name that a pull would refuse (no stranded version): not UTF-8, or
    with a backslash (a separator on Windows, where it would land elsewhere)."""
    check_utf8_name(name, full)
    if "\\" in name:
        raise InputError(f"file name contains a backslash: {name!r}", path=full,
                         advice="rename it (a backslash is a folder separator on Windows)")


def build(path: Path, put: Callable[[Path], tuple[str, int]]) -> Manifest:
    """Store every file under ``path`` with ``put`` and return the manifest.

    Symbolic links are refused (they could point anywhere); empty folders are refused, and so
    are names a pull would refuse (:func:`_check_storable`), before anything is stored.
    """
    if path.is_symlink():
        raise InputError("is a symbolic link; push the file it points to", path=path)
    if path.is_file():
        _check_storable(path.name, path)
        digest, size = put(path)
        return Manifest("file", path.name, (FileEntry(path.name, digest, size),))
    if path.exists() and not path.is_dir():
        raise InputError("not a regular file or folder (device, FIFO or socket)", path=path)
    if not path.is_dir():
        raise InputError("no such file or folder", path=path)
    root_name = path.name if path.name not in ("", ".", "..") else path.resolve().name or "model"
    _check_storable(root_name, path)
    files = _walk(path)
    require_files(len(files), path)
    entries = [FileEntry(rel, *put(full)) for rel, full in files]
    entries.sort(key=lambda e: e.path)  # code-point order, as the OMS manifest
    return Manifest("dir", root_name, tuple(entries))


def _walk(path: Path) -> list[tuple[str, Path]]:
    """Every file to store under ``path`` as (relative name, path), every name checked first."""
    out: list[tuple[str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(path):
        if Path(dirpath) == path:
            dirnames[:] = [d for d in dirnames if not d.startswith(".git")]
            filenames = [f for f in filenames if not f.startswith(".git") and f != SIGNATURE_NAME]
        dirnames.sort()
        for name in sorted(filenames) + [d for d in dirnames if Path(dirpath, d).is_symlink()]:
            full = Path(dirpath, name)
            if full.is_symlink():
                raise InputError("symbolic links are not allowed in a model folder", path=full)
            if not full.is_file():  # a FIFO, socket or device: never part of a model
                raise InputError("not a regular file (device, FIFO or socket)", path=full,
                                 advice="remove it from the model folder")
            rel = full.relative_to(path).as_posix()
            _check_storable(rel, full)
            out.append((rel, full))
    return out

