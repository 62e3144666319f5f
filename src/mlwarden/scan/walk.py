"""Which files a scan reads: named files, and every regular file under named directories.

Extensions are ignored (formats are recognised by content). Symbolic links inside a directory are
never followed out of the tree: a link whose target lies outside (or is missing) is a finding, a
link to something inside is recorded (its target is scanned in its own right). Sockets, FIFOs and
devices are recorded as skips and never opened (opening a FIFO would block).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from mlwarden.core.errors import InputError
from mlwarden.core.finding import Finding, Location, Skip


@dataclass(frozen=True, slots=True)
class FileEntry:
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


def _display(root_arg: str, rel: str) -> str:
    return rel if root_arg in (".", "") else os.path.join(root_arg, rel)


def walk(paths: list[str]) -> Walk:
    """Expand ``paths``; a missing path is an :class:`InputError` naming it."""
    from mlwarden.scan.container_rules import SYMLINK_OUT_OF_TREE

    result = Walk()
    seen: set[str] = set()

    def add(fs_path: Path, display: str) -> None:
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
                try:
                    lst = os.lstat(full)
                except OSError as exc:
                    result.skipped.append(Skip(path=display, reason=f"cannot stat: {exc}"))
                    continue
                if stat.S_ISLNK(lst.st_mode):
                    target = os.path.realpath(full)
                    inside = target == root or target.startswith(root.rstrip(os.sep) + os.sep)
                    if inside and Path(target).exists():
                        result.formats[display] = "symlink"
                        continue
                    link = os.readlink(full)
                    why = "points outside the scanned tree" if Path(target).exists() else \
                        "is broken (its target does not exist)"
                    result.findings.append(SYMLINK_OUT_OF_TREE.finding(
                        f"symbolic link {rel!r} -> {link!r} {why}; it was not followed",
                        Location(path=display), evidence={"link": link, "resolved": target}))
                    result.formats[display] = "symlink"
                    continue
                if stat.S_ISREG(lst.st_mode):
                    add(Path(full), display)
                elif not stat.S_ISDIR(lst.st_mode):
                    result.skipped.append(Skip(path=display, reason="not a regular file (device, "
                                                                    "FIFO or socket); not opened"))
    return result
