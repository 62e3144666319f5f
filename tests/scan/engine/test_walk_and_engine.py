"""Directory walks, content detection regardless of names, symlinks, parallel determinism."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from mlwarden.core.errors import InputError
from mlwarden.core.finding import Location
from mlwarden.core.severity import Severity
from mlwarden.scan.engine import scan_bytes, scan_paths
from mlwarden.scan.interface import FormatScanner, ScanContext, ScanTarget

from .conftest import benign_pickle, critical, evil_pickle, rules


def populate(root: Path) -> None:
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "README.md").write_text("# model card\n")
    (root / "config.json").write_text('{"hidden": 4}')
    (root / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    (root / "empty.bin").write_bytes(b"")
    (root / "sub" / "weights.safetensors.txt").write_bytes(benign_pickle())
    (root / "sub" / "deeper" / "notes.txt").write_bytes(evil_pickle())


def test_directory_walk_reads_everything_by_content(tmp_path: Path) -> None:
    populate(tmp_path)
    report = scan_paths([tmp_path], workers=1)
    formats = report.metadata["formats"]
    assert formats[str(tmp_path / "README.md")] == "unknown"
    assert formats[str(tmp_path / "empty.bin")] == "empty"
    assert formats[str(tmp_path / "sub" / "deeper" / "notes.txt")] == "pickle"
    assert report.metadata["files"] == 6
    assert [f.location.path for f in report.findings if f.rule_id == "MW-PKL-001"] == [
        str(tmp_path / "sub" / "deeper" / "notes.txt")]
    assert not report.skipped


def test_parallel_and_serial_reports_are_identical(tmp_path: Path) -> None:
    populate(tmp_path)
    for i in range(12):
        (tmp_path / f"m{i}.pt").write_bytes(evil_pickle() if i % 3 == 0 else benign_pickle())
    serial = scan_paths([tmp_path], workers=1)
    parallel = scan_paths([tmp_path], workers=2)
    assert [f.to_dict() for f in serial.findings] == [f.to_dict() for f in parallel.findings]
    assert serial.metadata == parallel.metadata
    assert serial.checks == parallel.checks


def test_symlinks_inside_and_outside(tmp_path: Path) -> None:
    outside = tmp_path / "outside.pkl"
    outside.write_bytes(evil_pickle())
    root = tmp_path / "model"
    root.mkdir()
    (root / "real.pkl").write_bytes(benign_pickle())
    os.symlink(root / "real.pkl", root / "alias.pkl")
    os.symlink(outside, root / "escape.pkl")
    os.symlink(outside, root / "escape-again.pkl")
    os.symlink(tmp_path, root / "updir")
    os.symlink(root / "missing", root / "broken")
    os.symlink(root / "loop-a", root / "loop-b")
    os.symlink(root / "loop-b", root / "loop-a")
    report = scan_paths([root], workers=1)
    links = {f.location.path: f.severity.value for f in report.findings
             if f.rule_id == "MW-FMT-003"}
    assert links == {str(root / "escape.pkl"): "info", str(root / "escape-again.pkl"): "info",
                     str(root / "updir"): "medium", str(root / "broken"): "medium",
                     str(root / "loop-a"): "medium", str(root / "loop-b"): "medium"}
    # the outside payload is followed like a loader would, scanned once, under the link's name
    payload = [f.location.path for f in report.findings if f.rule_id == "MW-PKL-001"]
    assert payload == [str(root / "escape-again.pkl")]  # the first link in sorted order
    assert report.metadata["formats"][str(root / "escape-again.pkl")] == "pickle"
    assert report.metadata["formats"][str(root / "alias.pkl")] == "symlink"
    assert report.metadata["symlinks"][str(root / "escape.pkl")] == str(outside)
    assert report.metadata["symlinks"][str(root / "alias.pkl")] == str(root / "real.pkl")


def test_symlink_to_fifo_outside_is_not_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    root = tmp_path / "model"
    root.mkdir()
    os.symlink(tmp_path / "pipe", root / "weights.bin")
    report = scan_paths([root], workers=1)
    assert [(f.rule_id, f.severity.value) for f in report.findings] == [("MW-FMT-003", "medium")]
    assert "FIFO" in report.findings[0].message
    assert report.metadata["files"] == 0


def test_hf_cache_snapshot_links_are_scanned_quietly(tmp_path: Path) -> None:
    blobs, snap = tmp_path / "blobs", tmp_path / "snapshots" / "abc"
    blobs.mkdir()
    snap.mkdir(parents=True)
    (blobs / "1111").write_bytes(benign_pickle())
    (blobs / "2222").write_text('{"model_type": "bert"}')
    os.symlink("../../blobs/1111", snap / "pytorch_model.bin")
    os.symlink("../../blobs/2222", snap / "config.json")
    report = scan_paths([snap], workers=1)
    assert not report.at_or_above(Severity.LOW)
    assert report.metadata["formats"][str(snap / "pytorch_model.bin")] == "pickle"


def test_fifo_is_not_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    report = scan_paths([tmp_path], workers=1)
    assert [s.path for s in report.skipped] == [str(tmp_path / "pipe")]


def test_missing_path_is_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        scan_paths([tmp_path / "nope"])


def test_digests_optional(tmp_path: Path) -> None:
    path = tmp_path / "m.pkl"
    path.write_bytes(benign_pickle())
    assert scan_paths([path]).artifacts == {}
    import hashlib

    digest = scan_paths([path], digest=True).artifacts[str(path)]
    assert digest == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_crashing_scanner_fails_closed() -> None:
    class Exploding(FormatScanner):
        name = "test-exploding"
        version = "0"
        priority = 1

        @classmethod
        def detect(cls, head: bytes, target: ScanTarget) -> bool:
            return head.startswith(b"BOOM")

        def scan(self, target: ScanTarget, ctx: ScanContext) -> None:
            raise RuntimeError("parser bug")

    try:
        report = scan_bytes(b"BOOM and more")
        assert rules(report) == {"MW-FMT-001"}
        assert report.skipped
        assert report.findings[0].location == Location("<bytes>")
    finally:
        del FormatScanner.registry["test-exploding"]


def test_pickle_protocols_detected_whatever_the_name() -> None:
    for protocol in range(0, pickle.HIGHEST_PROTOCOL + 1):
        report = scan_bytes(evil_pickle(protocol), name="weights.safetensors")
        assert critical(report), protocol
