"""The oracle side of round five: every hostile sample whose loader is installed is loaded by that
loader, in a confined child process (``oracle_round5.run_loader``), and must show its payload
working — the canary created, the path opened, the dunder name asked of the Jinja sandbox.

A sample that stops working against its loader is not hostile any more and must leave the set
(or be fixed): the scanner is only ever judged against files a real loader runs. Samples whose
loader is not installed here (Keras, TensorFlow, PyTables, onnxruntime) name the loader source in
``ORACLES`` and ``ROUND5.md``.

Slow (each case starts a Python process that imports its library): ``make test-slow``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.scan.redteam.build import Case
from tests.scan.redteam.cases_round5 import ORACLES, round5_cases
from tests.scan.redteam.oracle_round5 import LOADERS, proved, run_loader

_HOSTILE = [c for c in round5_cases() if c.label == "malicious"]


def _params() -> list[object]:
    return [pytest.param(c, id=c.id) for c in _HOSTILE if ORACLES[c.id] in LOADERS]


def test_every_hostile_sample_has_an_oracle() -> None:
    """Each hostile sample is either run by an installed loader or cites the loader source."""
    for case in _HOSTILE:
        key = ORACLES.get(case.id, "")
        assert key in LOADERS or key.startswith("cite:"), case.id


@pytest.mark.slow
@pytest.mark.parametrize("case", _params())
def test_loader_runs_the_payload(case: Case, tmp_path: Path) -> None:
    canary = tmp_path / "CANARY"
    sample = case.build(tmp_path / "sample", canary)
    key = ORACLES[case.id]
    run = run_loader(key, sample, tmp_path)
    ok, why = proved(key, run, canary)
    assert ok, f"{case.id}: the real loader did not run the payload: {why}\n{run.stderr}"
