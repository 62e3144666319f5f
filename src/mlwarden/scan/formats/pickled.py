"""Hand a pickle embedded in a container (a torch member, an npy object array, a decompressed
joblib stream) to the pickle VM, and record that it ran."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlwarden.scan.interface import ScanContext, ScanTarget

if TYPE_CHECKING:
    from mlwarden.scan.pickle import PickleResult


def note_ran(ctx: ScanContext, name: str, version: str) -> None:
    """Record that a scanner ran (the engine's context keeps the set for the report's checks)."""
    ran = getattr(ctx, "ran", None)
    if isinstance(ran, set):
        ran.add((name, version))


def record_format(ctx: ScanContext, target: ScanTarget, fmt: str) -> None:
    key = f"{target.path}!{target.member}" if target.member else target.path
    ctx.formats[key] = fmt


def analyze_embedded(target: ScanTarget, ctx: ScanContext, *, start: int = 0,
                     all_streams: bool = True) -> list[PickleResult]:
    """Analyse the pickle(s) of ``target`` from ``start`` with the pickle VM."""
    from mlwarden.scan.pickle import PickleScanner, analyze_pickle, analyze_pickles

    note_ran(ctx, PickleScanner.name, PickleScanner.version)
    if all_streams:
        return analyze_pickles(target, ctx, start=start)
    return [analyze_pickle(target, ctx, start=start)]


def looks_pickled(head: bytes) -> bool:
    from mlwarden.scan.pickle import looks_like_pickle

    return looks_like_pickle(head)
