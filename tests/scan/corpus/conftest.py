"""The corpus, generated once per session into a temporary directory (never committed)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.scan.corpus.common import Sample
from tests.scan.corpus.generate import generate


@dataclass(frozen=True)
class Corpus:
    root: Path
    canary: Path
    samples: list[Sample]

    def of(self, label: str) -> list[Sample]:
        return [s for s in self.samples if s.label == label]


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    root = tmp_path_factory.mktemp("corpus")
    canary = tmp_path_factory.mktemp("canary") / "FIRED"
    return Corpus(root, canary, generate(root, canary))
