"""Fixtures for the engine and container tests: payloads, a zip writer for crafted archives, and a
guard that fails any test in which a payload ran."""

from __future__ import annotations

import os
import pickle
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mlwarden.core.report import Report
from mlwarden.core.severity import Severity
from mlwarden.scan.engine import scan_bytes, scan_paths

CANARY_DIR = Path(os.environ.get("TMPDIR", "/tmp")) / "mlwarden-engine-canary"
CANARY = CANARY_DIR / "FIRED"


class Payload:
    """Unpickling this runs ``touch CANARY``: it must never happen during a scan."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {CANARY}",))


def evil_pickle(protocol: int = 2) -> bytes:
    return pickle.dumps({"weights": [1.0, 2.0], "hook": Payload()}, protocol=protocol)


def benign_pickle(protocol: int = 2) -> bytes:
    return pickle.dumps({"weights": [1.0, 2.0], "name": "model", "layers": (3, 4)},
                        protocol=protocol)


@pytest.fixture(autouse=True)
def canary_never_fires() -> Iterator[None]:
    CANARY_DIR.mkdir(parents=True, exist_ok=True)
    CANARY.unlink(missing_ok=True)
    yield
    assert not CANARY.exists(), "a payload ran during the scan"


def rules(report: Report) -> set[str]:
    return {f.rule_id for f in report.findings}


def critical(report: Report) -> bool:
    return report.max_severity() is Severity.CRITICAL


def scan_file(path: Path) -> Report:
    return scan_paths([path], workers=1)


def scan(data: bytes, name: str = "x.bin") -> Report:
    return scan_bytes(data, name=name)


@dataclass
class Member:
    """One member of a hand-built zip archive, with the knobs attackers turn."""

    name: str
    data: bytes
    method: int = 0
    flags: int = 0
    crc: int | None = None
    local_name: str | None = None
    descriptor: bool = False
    external_attr: int = 0


def build_zip(members: list[Member], *, prefix: bytes = b"", comment: bytes = b"",
              zip64: bool = False) -> bytes:
    """A zip archive written byte by byte (so it can be made as odd as attackers make them).

    ``zip64`` writes ZIP64 extra fields, a ZIP64 end record and its locator, with the classic
    fields set to their 0xFFFF/0xFFFFFFFF escape values.
    """
    out = bytearray(prefix)
    central = bytearray()
    for m in members:
        payload = m.data
        if m.method == 8:
            c = zlib.compressobj(6, zlib.DEFLATED, -15)
            payload = c.compress(m.data) + c.flush()
        crc = zlib.crc32(m.data) if m.crc is None else m.crc
        flags = m.flags | (0x8 if m.descriptor else 0)
        name = m.name.encode()
        local_name = (m.local_name if m.local_name is not None else m.name).encode()
        offset = len(out) - len(prefix)
        lcrc, lcs, lus = (0, 0, 0) if m.descriptor else (crc, len(payload), len(m.data))
        out += struct.pack("<4s2B4H3L2H", b"PK\x03\x04", 20, 0, flags, m.method, 0, 0, lcrc,
                           lcs, lus, len(local_name), 0) + local_name + payload
        if m.descriptor:
            out += struct.pack("<4s3L", b"PK\x07\x08", crc, len(payload), len(m.data))
        extra = b""
        sizes = (len(payload), len(m.data), offset)
        if zip64:
            extra = struct.pack("<HHQQQ", 0x0001, 24, len(m.data), len(payload), offset)
            sizes = (0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
        central += struct.pack("<4s4B4H3L5H2L", b"PK\x01\x02", 45 if zip64 else 20, 3,
                               45 if zip64 else 20, 0, flags, m.method, 0, 0, crc, sizes[0],
                               sizes[1], len(name), len(extra), 0, 0, 0, m.external_attr,
                               sizes[2]) + name + extra
    cd_offset = len(out) - len(prefix)
    out += central
    if zip64:
        record = len(out) - len(prefix)
        out += struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, len(members),
                           len(members), len(central), cd_offset)
        out += struct.pack("<4sLQL", b"PK\x06\x07", 0, record, 1)
        out += struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF,
                           0xFFFFFFFF, len(comment)) + comment
        return bytes(out)
    out += struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(central),
                       cd_offset, len(comment)) + comment
    return bytes(out)
