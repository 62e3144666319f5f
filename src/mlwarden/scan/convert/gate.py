"""Read a file once, scan those bytes, and refuse it if the scanner objects.

The bytes returned are the bytes that were scanned: the loaders take them from memory, never from
the path again, so nothing can swap the file between the check and the load.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mlwarden.core.errors import InputError
from mlwarden.core.report import Report
from mlwarden.core.severity import Severity
from mlwarden.scan.convert.errors import ConversionRefused


@dataclass(frozen=True)
class ScannedBytes:
    """The content of one file, the scan report of exactly that content, and its digest."""

    path: Path
    data: bytes
    report: Report
    sha256: str


def read_and_scan(path: Path, *, fail_on: Severity = Severity.HIGH,
                  allow_globals: Sequence[str] = ()) -> ScannedBytes:
    """The file's bytes, scanned; :class:`ConversionRefused` if any active finding is at or above
    ``fail_on`` or part of the file could not be checked (a skip is never clean)."""
    from mlwarden.scan.engine import scan_bytes

    if not path.exists():
        raise InputError("file not found", path=path)
    if not path.is_file():
        raise InputError("not a regular file (convert takes one checkpoint or pickle)", path=path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=path) from None
    if not data:
        raise InputError("empty file", path=path)
    report = scan_bytes(data, name=str(path), allow_globals=tuple(allow_globals))
    blocking = report.at_or_above(fail_on)
    if blocking:
        top = blocking[0]
        more = f" (+{len(blocking) - 1} more)" if len(blocking) > 1 else ""
        refused = ConversionRefused(
            f"refused, nothing was loaded: {top.rule_id} {top.severity.value} at {top.location}: "
            f"{top.message}{more}", path=path,
            advice="run 'mlwarden scan' for every finding")
        refused.finding = top
        raise refused
    if report.skipped:
        skip = report.skipped[0]
        where = f"{skip.path}!{skip.member}" if skip.member else skip.path
        raise ConversionRefused(f"refused: the scanner could not check {where} ({skip.reason})",
                                path=path, advice="a part that was not checked is never loaded")
    return ScannedBytes(path, data, report, "sha256:" + hashlib.sha256(data).hexdigest())
