"""What a training run is made of, captured before it starts: code (git), environment, lock file.

Git is asked through the ``git`` program (read-only commands only); no repository, no ``git`` on
the PATH, or a broken repository all give ``None`` (the attestation then carries no code identity,
which :mod:`mlwarden.provenance.lineage` reports). The environment lists every installed
distribution of the interpreter that will run the training: the training command's own Python when
the command starts with one, else mlwarden's.
"""

from __future__ import annotations

import hashlib
import json
import platform
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlwarden.core.digest import sha256_file
from mlwarden.core.errors import InputError

GIT_TIMEOUT_S = 60
MAX_UNTRACKED_HASH = 16 << 20
"""Untracked files up to this size are hashed into the dirty-tree digest; larger ones by size."""
LOCK_FILES = ("uv.lock", "poetry.lock", "pdm.lock", "Pipfile.lock", "requirements.lock",
              "requirements.txt", "conda-lock.yml", "environment.yml")


@dataclass(frozen=True, slots=True)
class GitState:
    """The code a run used: repository, commit, ref, and whether the tree was dirty."""

    root: Path
    commit: str
    ref: str | None
    remote: str | None
    dirty: bool
    diff_sha256: str | None
    """SHA-256 of ``git diff HEAD --binary`` plus every untracked file's name and digest (files over
    16 MiB by their size)."""

    @property
    def uri(self) -> str:
        """``git+<remote or file URL>@<ref or commit>``, the SLSA convention for a source."""
        base = self.remote or self.root.resolve().as_uri()
        if not base.startswith("git+"):
            base = "git+" + base
        return f"{base}@{self.ref or self.commit}"


def _git(args: Sequence[str], cwd: Path) -> bytes | None:
    git = shutil.which("git")
    if git is None:
        return None
    try:
        proc = subprocess.run([git, *args], cwd=cwd, capture_output=True, timeout=GIT_TIMEOUT_S,
                              check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout if proc.returncode == 0 else None


def git_state(cwd: str | Path = ".") -> GitState | None:
    """The git state of the repository around ``cwd``, or ``None`` if there is none."""
    here = Path(cwd)
    top = _git(["rev-parse", "--show-toplevel"], here)
    commit = _git(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], here)
    if top is None or commit is None:
        return None
    root = Path(top.decode("utf-8", "replace").strip())
    ref = _git(["symbolic-ref", "--quiet", "HEAD"], here)
    remote = _git(["remote", "get-url", "origin"], here)
    status = _git(["status", "--porcelain=v1", "-z", "--untracked-files=all"], here)
    dirty = bool(status)
    diff_sha = None
    if dirty:
        h = hashlib.sha256(_git(["diff", "HEAD", "--binary"], root) or b"")
        untracked = _git(["ls-files", "--others", "--exclude-standard", "-z"], root) or b""
        for name in sorted(n for n in untracked.split(b"\0") if n):
            h.update(b"\0untracked\0" + name + b"\0")
            member = root / name.decode("utf-8", "surrogateescape")
            try:
                size = member.stat().st_size if member.is_file() else -1
                if 0 <= size <= MAX_UNTRACKED_HASH:
                    h.update(sha256_file(member).encode())
                else:  # large untracked files (often data) count by size, not hashed twice
                    h.update(b"size:%d" % size)
            except (OSError, InputError):
                h.update(b"unreadable")
        diff_sha = h.hexdigest()
    return GitState(
        root=root, commit=commit.decode().strip(),
        ref=ref.decode().strip() if ref else None,
        remote=remote.decode("utf-8", "replace").strip() or None if remote else None,
        dirty=dirty, diff_sha256=diff_sha,
    )


def commit_exists(commit: str, cwd: str | Path = ".") -> bool | None:
    """True/False whether ``commit`` is in the repository around ``cwd``; None if there is none.

    ``commit`` comes from an attestation: anything but a hex object name is False (never passed to
    git, so it cannot be read as an option).
    """
    if not re.fullmatch(r"[0-9a-f]{7,64}", commit):
        return False
    here = Path(cwd)
    if _git(["rev-parse", "--show-toplevel"], here) is None:
        return None
    return _git(["cat-file", "-e", f"{commit}^{{commit}}"], here) is not None


_PACKAGES_SNIPPET = (
    "import importlib.metadata as m, json, platform, sys\n"
    "seen = {}\n"
    "for d in m.distributions():\n"
    "    name = d.metadata['Name']\n"
    "    if name and name.lower() not in seen:\n"
    "        seen[name.lower()] = {'name': name, 'version': d.version}\n"
    "print(json.dumps({'python': {'version': platform.python_version(),\n"
    "    'implementation': platform.python_implementation(), 'executable': sys.executable},\n"
    "    'packages': sorted(seen.values(), key=lambda p: p['name'].lower())}))\n"
)


def _python_of(command: Sequence[str]) -> str | None:
    """The interpreter the command runs, if it starts with one (``python``, ``python3.11``…)."""
    if not command:
        return None
    name = Path(command[0]).name.lower()
    if name.startswith("python") and all(c.isdigit() or c == "." for c in name[6:]):
        return shutil.which(command[0]) or (command[0] if Path(command[0]).is_file() else None)
    return None


def environment(command: Sequence[str] = ()) -> dict[str, Any]:
    """Python version, platform, and every installed distribution with its version."""
    info: dict[str, Any] | None = None
    python = _python_of(command)
    if python is not None and Path(python).resolve() != Path(sys.executable).resolve():
        try:
            proc = subprocess.run([python, "-I", "-c", _PACKAGES_SNIPPET], capture_output=True,
                                  timeout=120, check=False, text=True)
            if proc.returncode == 0:
                info = json.loads(proc.stdout)
        except (OSError, subprocess.TimeoutExpired, ValueError):
            info = None
    if info is None:
        import importlib.metadata as metadata

        seen: dict[str, dict[str, str]] = {}
        for dist in metadata.distributions():
            name = dist.metadata["Name"]
            if name and name.lower() not in seen:
                seen[name.lower()] = {"name": name, "version": dist.version}
        info = {"python": {"version": platform.python_version(),
                           "implementation": platform.python_implementation(),
                           "executable": sys.executable},
                "packages": sorted(seen.values(), key=lambda p: p["name"].lower())}
    info["platform"] = {"system": platform.system(), "release": platform.release(),
                        "machine": platform.machine(), "platform": platform.platform()}
    return info


def find_lock_file(*roots: Path | None) -> Path | None:
    """The first lock/requirements file in the first of ``roots`` that has one."""
    for root in roots:
        if root is None:
            continue
        for name in LOCK_FILES:
            candidate = root / name
            if candidate.is_file():
                return candidate
    return None


def relative_name(path: Path, base: Path | None = None) -> str:
    """``path`` relative to ``base`` (default: the current folder) when inside it, else absolute."""
    base = (base or Path.cwd()).resolve()
    resolved = path.resolve()
    try:
        return resolved.relative_to(base).as_posix() or "."
    except ValueError:
        return resolved.as_posix()
