"""atheris harness for the sniff table and the numpy-free dtype reader (not collected by pytest).

Usage: ``.venv/bin/python tests/scan/engine/fuzz_sniff.py -max_total_time=60``. It fails when a
sniff raises or answers anything but a bool, when a scanner's ``detect`` claims bytes its sniff
refused (that would hide the file from the scanner), or when the dtype reader raises.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

with atheris.instrument_imports():
    from mlwarden.scan import engine, sniff
    from mlwarden.scan.interface import FormatScanner, ScanTarget
    from mlwarden.scan.numpy_dtypes import simple_descr_has_objects, simple_dtype

engine.load_scanners()
PREFIXES = [b"", sniff.GGUF_MAGIC, sniff.HDF5_SIGNATURE, sniff.NUMPY_MAGIC, sniff.ZIP_LOCAL_SIG,
            sniff.SEVEN_ZIP_MAGIC, b"\x80\x04", b"{", b"\x08", b"\x1f\x8b\x08"]


def one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    raw = PREFIXES[fdp.ConsumeIntInRange(0, len(PREFIXES) - 1)] + fdp.ConsumeBytes(
        fdp.ConsumeIntInRange(0, 8192))
    target = ScanTarget(path="fuzz", data=memoryview(raw))
    head = target.head(engine.HEAD_SIZE)
    for entry in sniff.SNIFFS:
        said = entry.sniff(head, target)
        if not isinstance(said, bool):
            raise AssertionError(f"{entry.name} sniff answered {said!r}")
        cls = FormatScanner.registry[entry.name]
        try:
            claimed = cls.detect(head, target)
        except Exception:  # noqa: BLE001 - detector errors are the engine's findings
            continue
        if claimed and not said:
            raise AssertionError(f"{entry.name}: detect claims what the sniff refused")
    text = fdp.ConsumeUnicodeNoSurrogates(16)
    simple_dtype(text)
    simple_descr_has_objects([(text, text)])


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
