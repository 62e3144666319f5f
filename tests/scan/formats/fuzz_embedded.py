"""atheris harness for the embedded-payload check (not collected by pytest; see fuzzing.py):
arbitrary field values, given as text and as bytes, must never make it raise."""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from mlwarden.scan import engine
    from mlwarden.scan.formats.embedded import FieldScanner
    from mlwarden.scan.interface import ScanContext, ScanTarget


def one_input(data: bytes) -> None:
    provider = atheris.FuzzedDataProvider(data)
    ctx = ScanContext(dispatch=engine.dispatch)
    fields = FieldScanner(ScanTarget(path="fuzz", data=b""), ctx)
    fields.value("text", provider.ConsumeUnicodeNoSurrogates(4096))
    fields.value("bytes", provider.ConsumeBytes(4096))
    fields.finish()


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
