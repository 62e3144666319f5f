"""A scan in a fresh process (scanners imported lazily, as ``mlwarden scan`` runs) reports exactly
what a scan with every scanner already imported reports (as the tests and worker pools run).

The engine imports a format scanner only when its sniff matches; any code that looked a scanner
up in the registry instead of importing it would silently lose its checks in a fresh process.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from mlwarden.scan import engine
from mlwarden.scan.engine import scan_paths
from tests.scan.corpus.conftest import Corpus
from tests.scan.formats.keras_samples import benign_cnn, keras_zip


def _summary(report: dict[str, object]) -> tuple[object, object]:
    findings = sorted((f["rule_id"], f["severity"], json.dumps(f["location"], sort_keys=True))
                      for f in report["findings"])  # type: ignore[attr-defined]
    return findings, report["metadata"]["formats"]  # type: ignore[index]


def _fresh_scan(path: Path) -> dict[str, object]:
    proc = subprocess.run([sys.executable, "-m", "mlwarden", "scan", str(path), "-j", "1",
                           "-f", "json", "--no-progress"], capture_output=True, text=True,
                          check=False)
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def test_fresh_process_scan_of_the_corpus_equals_the_eager_one(corpus: Corpus) -> None:
    engine.load_scanners()
    eager = scan_paths([corpus.root], workers=1).to_dict()
    assert _summary(_fresh_scan(corpus.root)) == _summary(eager)


def test_keras_member_checks_run_in_a_fresh_process(tmp_path: Path) -> None:
    model = tmp_path / "model.keras"
    model.write_bytes(keras_zip(benign_cnn(), extra={"../../evil.txt": b"x"}))
    rules = {f["rule_id"] for f in _fresh_scan(model)["findings"]}  # type: ignore[attr-defined]
    assert "MW-ARC-002" in rules, rules
