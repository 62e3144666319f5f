"""The corpus itself: complete, well-formed, deterministic; its canary never fires."""

from __future__ import annotations

import io
import pickletools
from collections import Counter

import pytest

from tests.scan.corpus.conftest import Corpus
from tests.scan.corpus.generate import generate, load_manifest

FORMATS = ("pickle", "pytorch", "joblib", "numpy", "keras", "onnx", "gguf", "savedmodel",
           "safetensors", "archive")



def test_manifest_covers_every_format_both_ways(corpus: Corpus) -> None:
    counts = Counter((s.format, s.label) for s in corpus.samples)
    for fmt in FORMATS:
        assert counts[(fmt, "malicious")] >= 1, fmt
        assert counts[(fmt, "benign")] >= 1, fmt
    assert len(corpus.of("malicious")) >= 106
    assert len(corpus.of("benign")) >= 58
    assert load_manifest(corpus.root) == corpus.samples
    for sample in corpus.samples:
        assert (corpus.root / sample.name).exists(), sample.name


def test_raw_malicious_pickles_are_real_pickles(corpus: Corpus) -> None:
    """Every hostile raw pickle disassembles (up to its payload) and names a global or EXT code."""
    importing = {"GLOBAL", "STACK_GLOBAL", "INST", "EXT1", "EXT2", "EXT4"}
    for sample in corpus.of("malicious"):
        if sample.format != "pickle":
            continue
        data = (corpus.root / sample.name).read_bytes()
        names: set[str] = set()
        stream = io.BytesIO(data)
        try:
            while stream.tell() < len(data):  # several pickles may follow one another
                names.update(op.name for op, _arg, _pos in pickletools.genops(stream))
        except ValueError:
            assert "truncated" in sample.name or "garbage" in sample.name, sample.name
        assert names & importing, sample.name
        assert names & {"REDUCE", "INST", "OBJ", "NEWOBJ", "NEWOBJ_EX", "BUILD"}, sample.name


def test_canary_never_fires(corpus: Corpus) -> None:
    assert not corpus.canary.exists()
    assert not corpus.canary.parent.joinpath("FIRED.dir").exists()


@pytest.mark.slow
def test_generation_is_deterministic(corpus: Corpus, tmp_path_factory: pytest.TempPathFactory
                                     ) -> None:
    """Same canary, same bytes — except where the library itself writes process-specific ids
    (legacy torch storage keys, TorchScript debug names, skops object ids)."""
    again = tmp_path_factory.mktemp("corpus-again")
    samples = generate(again, corpus.canary)
    assert samples == corpus.samples
    unstable = ("legacy", "torchscript", ".skops")
    for path in sorted(corpus.root.rglob("*")):
        rel = path.relative_to(corpus.root).as_posix()
        if path.is_file() and not any(u in rel for u in unstable):
            assert (again / rel).read_bytes() == path.read_bytes(), rel
