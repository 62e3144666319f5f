"""Every scan in the scanner tests also audits the engine's sniffs.

The engine imports a format scanner only when its sniff (``mlwarden.scan.sniff.SNIFFS``) matches
a target; a sniff that said no where the scanner's own ``detect`` says yes would hide that target
from its scanner. While a test under ``tests/scan`` runs, every target the engine dispatches
(files, archive members, decompressed streams, at any depth) is shown to every built-in scanner's
``detect``, and the test fails if one claims it while its sniff did not.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mlwarden.scan import engine
from mlwarden.scan.interface import FormatScanner, ScanContext, ScanTarget
from mlwarden.scan.sniff import SNIFFS


def sniff_misses(target: ScanTarget) -> list[str]:
    """Built-in scanners whose ``detect`` claims ``target`` while their sniff does not."""
    head = target.head(engine.HEAD_SIZE)
    missed = []
    for entry in SNIFFS:
        cls = FormatScanner.registry.get(entry.name)
        if cls is None:
            continue
        try:
            claimed = cls.detect(head, target)
        except Exception:  # noqa: BLE001 - the engine reports detector errors itself
            continue
        if claimed and not entry.sniff(head, target):
            missed.append(f"{entry.name}: {target.path}!{target.member} head={head[:16]!r}")
    return missed


@pytest.fixture(autouse=True)
def _audit_sniffs(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    engine.load_scanners()
    original = engine.dispatch
    missed: list[str] = []

    def audited(target: ScanTarget, ctx: ScanContext) -> None:
        missed.extend(sniff_misses(target))
        original(target, ctx)

    monkeypatch.setattr(engine, "dispatch", audited)
    yield
    assert not missed, "sniffs would hide these targets from their scanner:\n" + "\n".join(missed)
