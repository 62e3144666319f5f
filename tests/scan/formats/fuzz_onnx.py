"""atheris harness for the onnx scanner (not collected by pytest; see fuzzing.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

with atheris.instrument_imports():
    from mlwarden.scan.formats.onnx import OnnxScanner

from tests.scan.formats.fuzzing import main

if __name__ == "__main__":
    main(OnnxScanner, force=True)
