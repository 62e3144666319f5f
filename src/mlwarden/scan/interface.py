"""The scanner's stage interface: format scanners, the targets they read, and the scan context.

A :class:`FormatScanner` recognises its format by content (magic bytes, structure) — never by the
file extension — and turns one :class:`ScanTarget` into findings and skips through a
:class:`ScanContext`. Scanners register themselves by subclassing (a duplicate name is fatal) and
carry a version, so every report says which scanner versions ran. Containers (zip, tar, torch
archives) hand their members back to :meth:`ScanContext.scan_nested`, which detects and dispatches
again, bounded by :class:`ScanLimits`.

A scanner must never execute or import anything from the artifact, and must never raise on hostile
input: malformed structure is a finding (or a skip with a reason), never a crash and never "clean".
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from mlwarden.core.finding import Finding, Location, Skip


@dataclass(frozen=True, slots=True)
class ScanLimits:
    """Resource bounds for hostile inputs (validated, frozen; fickling's InterpreterLimits idea)."""

    max_depth: int = 6
    """Nesting of containers within containers (zip in tar in zip…)."""
    max_members: int = 100_000
    """Members of one archive."""
    max_member_size: int = 64 * 1024**3
    """Uncompressed size of one archive member."""
    max_total_uncompressed: int = 256 * 1024**3
    max_compression_ratio: float = 250.0
    """Uncompressed/compressed above this (for members over 1 MiB) is a zip bomb finding."""
    max_pickle_opcodes: int = 50_000_000
    max_pickle_stack: int = 1_000_000
    max_pickle_memo: int = 10_000_000
    max_header_size: int = 100 * 1024**2
    """Largest JSON/metadata header a format parser will read (safetensors, GGUF, npy)."""

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if value <= 0:
                raise ValueError(f"scan limit {name} must be positive, not {value}")


DEFAULT_LIMITS = ScanLimits()


@dataclass(frozen=True, slots=True)
class ScanTarget:
    """The bytes of one file or archive member, with where they came from.

    ``data`` may be a memory map of a multi-GB file: slice it (``memoryview``) instead of copying.
    ``fs_path`` is set when the target is a whole file on disk (for formats read through a library
    that wants a path, such as HDF5).
    """

    path: str
    """The file as the user named it (the report's location path)."""
    data: bytes | memoryview
    member: str | None = None
    """The member inside a container, ``outer/inner`` for nested containers."""
    fs_path: Path | None = None
    depth: int = 0

    @property
    def size(self) -> int:
        return len(self.data)

    def head(self, n: int = 512) -> bytes:
        return bytes(self.data[:n])

    def location(self, offset: int | None = None, line: int | None = None) -> Location:
        return Location(path=self.path, member=self.member, offset=offset, line=line)

    def child(self, member: str, data: bytes | memoryview) -> ScanTarget:
        """A member of this target (a path inside an archive)."""
        name = f"{self.member}/{member}" if self.member else member
        return ScanTarget(path=self.path, data=data, member=name, fs_path=None,
                          depth=self.depth + 1)


@dataclass
class ScanContext:
    """What a scanner reports into, and how it recurses into members."""

    limits: ScanLimits = DEFAULT_LIMITS
    allow_globals: tuple[str, ...] = ()
    """Extra safe importable names from the policy (``module.Class`` or ``module.*``)."""
    findings: list[Finding] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    formats: dict[str, str] = field(default_factory=dict)
    """``path[!member]`` → the format it was recognised as (for the report's metadata)."""
    dispatch: Callable[[ScanTarget, ScanContext], None] | None = None
    """Set by the scan engine: detects a target's format and runs its scanner."""

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)

    def skip(self, target: ScanTarget, reason: str) -> None:
        """Record that ``target`` could not be checked. A skip is never reported as clean."""
        self.skipped.append(Skip(path=target.path, member=target.member, reason=reason))

    def scan_nested(self, target: ScanTarget) -> None:
        """Detect the format of a container member and scan it with the right scanner."""
        if self.dispatch is None:
            raise RuntimeError("ScanContext.dispatch is not set (use mlwarden.scan.engine)")
        self.dispatch(target, self)


class FormatScanner(abc.ABC):
    """One file format. Subclasses register themselves; ``name`` must be unique."""

    name: ClassVar[str]
    """Short format name (``pickle``, ``torch-zip``, ``gguf``…), shown in reports."""
    version: ClassVar[str]
    """Bumped whenever what the scanner reports changes."""
    priority: ClassVar[int] = 100
    """Lower runs detection first: specific formats (torch zip) before generic ones (zip)."""

    registry: ClassVar[dict[str, type[FormatScanner]]] = {}

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if getattr(cls, "__abstractmethods__", None):
            return
        existing = FormatScanner.registry.get(cls.name)
        if existing is not None and existing.__qualname__ != cls.__qualname__:
            raise RuntimeError(f"format scanner {cls.name!r} registered twice "
                               f"({existing.__module__} and {cls.__module__})")
        FormatScanner.registry[cls.name] = cls

    @classmethod
    @abc.abstractmethod
    def detect(cls, head: bytes, target: ScanTarget) -> bool:
        """Whether ``target`` is in this format, from its first bytes (and its size/structure)."""

    @abc.abstractmethod
    def scan(self, target: ScanTarget, ctx: ScanContext) -> None:
        """Report findings and skips for ``target`` into ``ctx``. Never raises on hostile input."""


def scanners_by_priority() -> list[type[FormatScanner]]:
    return sorted(FormatScanner.registry.values(), key=lambda c: (c.priority, c.name))
