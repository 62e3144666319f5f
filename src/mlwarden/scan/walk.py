"""Which files a scan reads: named files, and every regular file under named directories.

Extensions are ignored (formats are recognised by content). Symbolic links are followed the way
every loader follows them (``torch.load`` and ``from_pretrained`` read through a Hugging Face cache
snapshot, whose files are all links into ``../../blobs``): a link to a regular file has its target's
content scanned under the link's name, the resolved target recorded in the report metadata
(``symlinks``) and, when it lies outside the scanned tree, in an info finding. A link to something
inside the tree is only recorded (its target is scanned in its own right); a target reached by
several links is scanned once. Broken or looping links, and links to directories outside the tree,
devices, FIFOs or sockets, are findings and are never opened. Sockets, FIFOs and devices met
directly are recorded as skips and never opened (opening a FIFO would block).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from mlwarden.core.errors import InputError
from mlwarden.core.finding import Finding, Location, Skip


class FileEntry(NamedTuple):
    """One file to scan: where it is on disk and how the report names it."""

    fs_path: Path
    display: str


@dataclass
class Walk:
    """The files found, and what the walk itself has to report."""

    files: list[FileEntry] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    formats: dict[str, str] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)
    """Display path of each symbolic link → the real path it resolves to."""
    excluded: list[str] = field(default_factory=list)
    """Display paths left out by an exclusion glob (``--exclude``, ``.mlwardenignore``)."""


def excluded_by(rel: str, patterns: tuple[str, ...]) -> bool:
    """Whether a path relative to the scanned folder (or a named file) matches an exclusion glob:
    on the whole relative path, on its name, or as a folder prefix (``tests/``, ``tests/*``)."""
    import fnmatch

    rel = rel.replace(os.sep, "/")
    name = rel.rsplit("/", 1)[-1]
    for pattern in patterns:
        folder = pattern.rstrip("/*") if pattern.endswith(("/", "/*", "/**")) else None
        if fnmatch.fnmatchcase(rel, pattern) or fnmatch.fnmatchcase(name, pattern) or \
                (folder and (rel == folder or rel.startswith(folder + "/"))):
            return True
    return False


def _display(root_arg: str, rel: str) -> str:
    return rel if root_arg in (".", "") else os.path.join(root_arg, rel)


def walk(paths: list[str], *, exclude: tuple[str, ...] = ()) -> Walk:
    """Expand ``paths``; a missing path is an :class:`InputError` naming it. Files matching an
    ``exclude`` glob are listed in :attr:`Walk.excluded`, not scanned."""
    result = Walk()
    seen: set[str] = set()
    followed: set[tuple[int, int]] = set()
    relative: dict[str, str] = {}

    def add(fs_path: Path, display: str) -> None:
        if exclude and excluded_by(relative.get(display, display), exclude):
            if display not in result.excluded:
                result.excluded.append(display)
            return
        if display not in seen:
            seen.add(display)
            result.files.append(FileEntry(fs_path, display))

    for arg in paths:
        path = Path(arg)
        try:
            st = path.stat()
        except FileNotFoundError:
            raise InputError("no such file or directory", path=arg) from None
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror or exc}", path=arg) from None
        if stat.S_ISREG(st.st_mode):
            add(path, arg)
            continue
        if not stat.S_ISDIR(st.st_mode):
            result.skipped.append(Skip(path=arg, reason="not a regular file (device, FIFO or "
                                                        "socket); not opened"))
            continue
        root = os.path.realpath(path)
        for dirpath, dirnames, filenames in os.walk(path, followlinks=False):
            dirnames.sort()
            names = sorted(filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))])
            for name in names:
                full = os.path.join(dirpath, name)
                rel = os.path.relpath(full, path)
                display = _display(arg, rel)
                relative[display] = rel
                try:
                    lst = os.lstat(full)
                except OSError as exc:
                    result.skipped.append(Skip(path=display, reason=f"cannot stat: {exc}"))
                    continue
                if stat.S_ISLNK(lst.st_mode):
                    _link(result, Path(full), display, rel, root, add, followed)
                    continue
                if stat.S_ISREG(lst.st_mode):
                    add(Path(full), display)
                elif not stat.S_ISDIR(lst.st_mode):
                    result.skipped.append(Skip(path=display, reason="not a regular file (device, "
                                                                    "FIFO or socket); not opened"))
    return result


def _link(result: Walk, full: Path, display: str, rel: str, root: str,
          add: Callable[[Path, str], None], followed: set[tuple[int, int]]) -> None:
    """Follow one symbolic link met in a directory walk (see the module docstring)."""
    from mlwarden.core.severity import Severity
    from mlwarden.scan.container_rules import SYMLINK_OUT_OF_TREE

    result.formats[display] = "symlink"
    try:
        link = os.readlink(full)
    except OSError as exc:
        result.skipped.append(Skip(path=display, reason=f"cannot read link: {exc}"))
        return
    target = os.path.realpath(full)
    result.links[display] = target
    inside = target == root or target.startswith(root.rstrip(os.sep) + os.sep)
    evidence: dict[str, str] = {"link": link, "resolved": target}
    try:
        st = os.stat(full)
    except OSError as exc:
        why = "loops" if exc.errno == errno.ELOOP else "is broken (its target does not exist)"
        result.findings.append(SYMLINK_OUT_OF_TREE.finding(
            f"symbolic link {rel!r} -> {link!r} {why}; it was not followed",
            Location(path=display), evidence=evidence))
        return
    if inside:
        return  # the walk reaches the target itself
    if stat.S_ISREG(st.st_mode):
        key = (st.st_dev, st.st_ino)
        again = key in followed
        followed.add(key)
        result.findings.append(SYMLINK_OUT_OF_TREE.finding(
            f"symbolic link {rel!r} -> {link!r} points outside the scanned tree; loaders follow "
            f"it, so its target {target!r} was " + (
                "already scanned through another link" if again else "scanned under this name"),
            Location(path=display), severity=Severity.INFO, evidence=evidence))
        if not again:
            add(full, display)
        return
    what = "a directory" if stat.S_ISDIR(st.st_mode) else "a device, FIFO or socket"
    result.findings.append(SYMLINK_OUT_OF_TREE.finding(
        f"symbolic link {rel!r} -> {link!r} points outside the scanned tree to {what}; it was "
        "not followed", Location(path=display), evidence=evidence))
