"""MW-FMT-005: a file of another format that Python's zipfile also opens (it finds the end record
in the last 64 KiB wherever the members are): its members are scanned too."""

from __future__ import annotations

import io
import json
import struct
import zipfile
from pathlib import Path

from mlwarden.scan.engine import scan_paths

from .conftest import CANARY, benign_pickle, evil_pickle


def _zip(payload: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("model.pkl", payload)
    return buf.getvalue()


def _safetensors_holding(blob: bytes) -> bytes:
    header = json.dumps({"t": {"dtype": "U8", "shape": [len(blob)],
                               "data_offsets": [0, len(blob)]}}).encode()
    return struct.pack("<Q", len(header)) + header + blob


def test_a_zip_inside_safetensors_data_is_scanned(tmp_path: Path) -> None:
    path = tmp_path / "weights.safetensors"
    path.write_bytes(_safetensors_holding(_zip(evil_pickle())))
    assert zipfile.is_zipfile(path)  # the oracle: the stdlib reader opens it
    report = scan_paths([path])
    rules = {f.rule_id for f in report.findings}
    assert "MW-FMT-005" in rules and "MW-PKL-001" in rules
    assert any(f.location.member == "<zip>/model.pkl" for f in report.findings
               if f.rule_id == "MW-PKL-001")
    assert not CANARY.exists()


def test_plain_files_and_real_zips_get_no_polyglot_finding(tmp_path: Path) -> None:
    st = tmp_path / "plain.safetensors"
    st.write_bytes(_safetensors_holding(b"\x00" * 64))
    archive = tmp_path / "bundle.zip"
    archive.write_bytes(_zip(benign_pickle()))
    report = scan_paths([st, archive])
    assert "MW-FMT-005" not in {f.rule_id for f in report.findings}
    assert report.max_severity() is None
