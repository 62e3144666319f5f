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
    that wants a path, such as HDF5); ``origin`` when it is a byte range of one (a member stored
    uncompressed), so such a library can read the range in place instead of a copy
    (:meth:`file_range` gives either).
    """

    path: str
    """The file as the user named it (the report's location path)."""
    data: bytes | memoryview
    member: str | None = None
    """The member inside a container, ``outer/inner`` for nested containers."""
    fs_path: Path | None = None
    depth: int = 0
    origin: tuple[Path, int] | None = None
    """``(file, offset)``: ``data`` is exactly the bytes ``[offset, offset + len(data))`` of
    ``file`` on disk, a view of the file's bytes (its memory map). ``None`` when that is not
    known (inflated, decoded or spilled bytes, bytes from memory; a whole file has ``fs_path``
    instead). Set by :meth:`child` from a checked ``offset``, not by hand."""

    @property
    def size(self) -> int:
        return len(self.data)

    def head(self, n: int = 512) -> bytes:
        return bytes(self.data[:n])

    def location(self, offset: int | None = None, line: int | None = None) -> Location:
        return Location(path=self.path, member=self.member, offset=offset, line=line)

    def file_range(self) -> tuple[Path, int, int] | None:
        """``(file, offset, length)``: where this target's bytes lie on disk, or ``None``."""
        if self.fs_path is not None and self.member is None:
            return self.fs_path, 0, len(self.data)
        if self.origin is not None:
            return self.origin[0], self.origin[1], len(self.data)
        return None

    def child(self, member: str, data: bytes | memoryview, *,
              offset: int | None = None) -> ScanTarget:
        """A member of this target (a path inside an archive).

        ``offset`` says that ``data`` is the slice ``self.data[offset:offset + len(data)]`` (a
        member stored uncompressed, handed over as a view). If this target's bytes lie on disk
        (:meth:`file_range`), the child's then do too, at ``offset`` further on: it gets an
        ``origin``. Offsets add up through stored members of stored members. The claim is checked
        (a byte view of the same underlying buffer, inside this target's bytes, with the same first
        bytes); when anything does not fit, the child has no ``origin`` and readers copy its bytes.
        """
        name = f"{self.member}/{member}" if self.member else member
        origin = None if offset is None else self._origin_of(data, offset)
        return ScanTarget(path=self.path, data=data, member=name, fs_path=None,
                          depth=self.depth + 1, origin=origin)

    def _origin_of(self, data: bytes | memoryview, offset: int) -> tuple[Path, int] | None:
        where = self.file_range()
        if where is None or not isinstance(data, memoryview):
            return None
        base = self.data.obj if isinstance(self.data, memoryview) else self.data
        with memoryview(self.data) as outer:
            if data.obj is not base or data.itemsize != 1 or outer.itemsize != 1 or \
                    not data.c_contiguous or not outer.c_contiguous:
                return None
            if offset < 0 or offset + data.nbytes > outer.nbytes or \
                    bytes(data[:16]) != bytes(outer[offset:offset + min(16, data.nbytes)]):
                return None
        return where[0], where[1] + offset


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
