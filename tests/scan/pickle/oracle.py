"""A differential oracle for pickle: CPython's C unpickler, run safely in a child process.

``Oracle().run(data)`` loads ``data`` three ways — ``_pickle``'s ``pickle.loads`` on the bytes,
``_pickle.Unpickler(file).load()`` as ``torch.load`` reads, and the pure-Python
``pickle._Unpickler`` joblib uses — in one warm child process under ``RLIMIT_AS``/``RLIMIT_CPU``
and a wall timeout, with inert stand-ins for everything the pickle would import (see
:mod:`oracle_child`), and returns what the real unpicklers imported and called.

Reusable by other formats' tests: the record is plain data, the child is stdlib-only.
"""

from __future__ import annotations

import json
import os
import selectors
import struct
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHILD = Path(__file__).with_name("oracle_child.py")
MEMORY_LIMIT = 1 << 30
CPU_LIMIT = 300
"""Seconds of CPU for one warm child (it is restarted when it runs out)."""
WALL_TIMEOUT = 10.0
"""Seconds one input may take; past it the child is killed and the input recorded as a timeout."""


@dataclass(frozen=True)
class Event:
    kind: str
    """``import``, ``call``, ``method`` or ``persid``."""
    name: str
    """The import's qualified name, the callee, or the object a method was called on."""
    target: str = ""
    """For calls and methods: ``class`` (a stand-in type, i.e. an import) or ``instance``."""
    detail: str = ""
    depth: int = 0
    """Nesting depth (``pickle.loads`` of bytes inside the pickle)."""


@dataclass(frozen=True)
class ModeRecord:
    accepted: bool
    error: str | None
    events: tuple[Event, ...]
    pos: int | None
    """Bytes the unpickler had consumed (file mode only)."""


@dataclass(frozen=True)
class OracleRecord:
    """What the real unpicklers did with one input (``modes``: ``bytes``, ``file``, ``python``)."""

    modes: dict[str, ModeRecord] = field(default_factory=dict)
    timeout: bool = False
    crashed: str | None = None

    @property
    def accepted(self) -> bool:
        return any(m.accepted for m in self.modes.values())

    @property
    def events(self) -> tuple[Event, ...]:
        return tuple(e for m in self.modes.values() for e in m.events)

    def imports(self) -> set[str]:
        return {e.name for e in self.events if e.kind == "import"}

    def class_calls(self) -> set[str]:
        return {e.name for e in self.events if e.kind == "call" and e.target == "class"}

    def instance_calls(self) -> set[str]:
        return {e.name for e in self.events if e.kind == "call" and e.target == "instance"}

    def class_methods(self) -> set[str]:
        return {e.name for e in self.events if e.kind == "method" and e.target == "class"}


def _event(raw: dict[str, Any]) -> Event:
    kind = raw["kind"]
    depth = int(raw.get("depth") or 0)
    if kind == "import":
        return Event(kind, raw["qualname"], depth=depth)
    if kind == "call":
        return Event(kind, raw["callee"], raw["target"],
                     f"{raw['via']} nargs={raw['nargs']} kwargs={raw['kwargs']}", depth)
    if kind == "method":
        return Event(kind, raw["on"], raw["target"], raw["method"], depth)
    return Event(kind, str(raw.get("pid")), depth=depth)


def _record(raw: dict[str, Any]) -> OracleRecord:
    modes = {}
    for mode, rec in raw.items():
        modes[mode] = ModeRecord(accepted=bool(rec["accepted"]), error=rec["error"],
                                 events=tuple(_event(e) for e in rec["events"]), pos=rec["pos"])
    return OracleRecord(modes=modes)


class Oracle:
    """One warm child process; restarted after a timeout or a crash. Use as a context manager."""

    def __init__(self, *, timeout: float = WALL_TIMEOUT) -> None:
        self.timeout = timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._buffer = b""

    def __enter__(self) -> Oracle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> subprocess.Popen[bytes]:
        if self._proc is None or self._proc.poll() is not None:
            env = {"PATH": os.environ.get("PATH", ""), "LC_ALL": "C.UTF-8"}
            self._proc = subprocess.Popen(
                [sys.executable, "-I", str(CHILD), str(MEMORY_LIMIT), str(CPU_LIMIT)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
            self._buffer = b""
        return self._proc

    def close(self) -> None:
        proc = self._proc
        self._proc = None
        if proc is None:
            return
        if proc.stdin:
            proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()

    def _kill(self) -> None:
        proc = self._proc
        self._proc = None
        if proc is not None:
            proc.kill()
            proc.wait()
            for stream in (proc.stdin, proc.stdout):
                if stream:
                    stream.close()

    def run(self, data: bytes) -> OracleRecord:
        proc = self._start()
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(struct.pack("<I", len(data)) + data)
            proc.stdin.flush()
        except BrokenPipeError:
            self._kill()
            return OracleRecord(crashed="child exited before reading the input")
        line = self._readline(proc)
        if line is None:
            timeout = proc.poll() is None
            code = proc.poll()
            self._kill()
            return OracleRecord(timeout=timeout,
                                crashed=None if timeout else f"child exited ({code})")
        return _record(json.loads(line))

    def _readline(self, proc: subprocess.Popen[bytes]) -> bytes | None:
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                if not sel.select(self.timeout):
                    return None
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    return None
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line
