"""Progress on large work: bytes and the current file, also inside one large file."""

from __future__ import annotations

import gzip
import pickle
from pathlib import Path

from mlwarden.scan import progress
from mlwarden.scan.engine import scan_paths
from mlwarden.scan.formats.streams import inflate_gzip


def test_decompression_reports_the_input_it_consumes() -> None:
    data = gzip.compress(bytes(range(256)) * 40_000)
    meter = progress.Meter()
    progress.METER = meter
    try:
        inflate_gzip(data, 64 << 20)
    finally:
        progress.METER = None
    assert meter.read >= len(data) - 32  # every compressed byte but the trailer


def test_a_scan_with_the_bar_on_gives_the_same_report(tmp_path: Path) -> None:
    big = tmp_path / "weights.pkl.gz"
    big.write_bytes(gzip.compress(pickle.dumps({"w": list(range(200_000))})))
    (tmp_path / "small.pkl").write_bytes(pickle.dumps([1, 2]))
    quiet = scan_paths([tmp_path])
    shown = scan_paths([tmp_path], progress=True)
    assert [f.rule_id for f in shown.findings] == [f.rule_id for f in quiet.findings]
    assert shown.metadata["formats"] == quiet.metadata["formats"]
    assert progress.METER is None
