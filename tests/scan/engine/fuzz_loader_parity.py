"""atheris harness: the scanner against the real readers on fuzzed bytes (not collected by pytest).

Usage: ``.venv/bin/python tests/scan/engine/fuzz_loader_parity.py -max_total_time=600 [corpus]``.
Each input is an ``.npy`` file (numpy's magic, then fuzzed version, length and header), a joblib
stream (a ``ZF`` file or a compressor's magic, then fuzzed bytes) or a zip/tar. The readers run in
the limited oracle child process (``tests/scan/loader_oracle.py``); the harness fails on any
disagreement the parity tests define (``test_npy_parity``, ``test_joblib_parity``,
``test_archive_parity``) and on any exception the scanner raises.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

with atheris.instrument_imports():
    from mlwarden.scan import engine
    from tests.scan.engine import test_archive_parity, test_joblib_parity, test_npy_parity
    from tests.scan.loader_oracle import Oracle

engine.load_scanners()
ORACLE = Oracle()
PREFIXES = [b"\x93NUMPY\x01\x00", b"\x93NUMPY\x02\x00", b"\x93NUMPY\x03\x00", b"ZF", b"x\x9c",
            b"\x1f\x8b\x08", b"BZh9", b"\xfd7zXZ\x00", b"]\x00\x00", b"PK\x03\x04"]


class _Patches:
    """A stand-in for pytest's monkeypatch, for the archive check's collector."""

    def setattr(self, owner: object, name: str, value: object) -> None:
        setattr(owner, name, value)


SCANNED = test_archive_parity.Scanned(_Patches())  # type: ignore[arg-type]


def one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    prefix = PREFIXES[fdp.ConsumeIntInRange(0, len(PREFIXES) - 1)]
    raw = prefix + fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 4096))
    if prefix.startswith(b"\x93NUMPY"):
        test_npy_parity.check(ORACLE, raw)
    elif prefix == b"PK\x03\x04":
        test_archive_parity.check(ORACLE, SCANNED, "zip_members", raw)
    else:
        test_joblib_parity.check(ORACLE, raw)


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
