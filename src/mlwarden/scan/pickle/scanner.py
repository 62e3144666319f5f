"""The format scanner for raw pickle files (``.pkl``, ``.pickle``, pickled joblib, legacy dumps)."""

from __future__ import annotations

from typing import ClassVar

from mlwarden.scan.interface import FormatScanner, ScanContext, ScanTarget
from mlwarden.scan.pickle.analyze import analyze_pickles, looks_like_pickle


class PickleScanner(FormatScanner):
    """A file that is one or more pickle streams. Generic, so it runs after specific formats."""

    name: ClassVar[str] = "pickle"
    version: ClassVar[str] = "1"
    priority: ClassVar[int] = 900

    @classmethod
    def detect(cls, head: bytes, target: ScanTarget) -> bool:
        return looks_like_pickle(head, final=target.size <= len(head), size=target.size)

    def scan(self, target: ScanTarget, ctx: ScanContext) -> None:
        analyze_pickles(target, ctx)
