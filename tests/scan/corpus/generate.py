"""Generate the labelled scanner corpus: malicious samples (canary payloads) and benign ones.

``python -m tests.scan.corpus.generate OUT [--canary PATH]`` writes the corpus under ``OUT`` with
``manifest.json`` (name, format, technique, label for every entry). Generation is deterministic
for a given canary path and takes a few seconds. Every malicious payload, if it ever ran, would
only create (or reach for) the canary path; the corpus test asserts the canary never appears.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import warnings
from collections import Counter
from pathlib import Path

from tests.scan.corpus import benign, malicious
from tests.scan.corpus.common import Sample

MANIFEST = "manifest.json"


def default_canary() -> Path:
    return Path(tempfile.gettempdir()) / "mlwarden-corpus-canary" / "FIRED"


def generate(root: Path, canary: Path | None = None) -> list[Sample]:
    """Write the corpus under ``root`` and return its manifest (also written as manifest.json)."""
    canary = canary or default_canary()
    root.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn/torch/lightgbm chatter while fitting
        samples = malicious.build(root, str(canary)) + benign.build(root)
    names = [s.name for s in samples]
    dupes = [n for n, k in Counter(names).items() if k > 1]
    if dupes:
        raise AssertionError(f"duplicate corpus names: {dupes}")
    manifest = {"canary": str(canary), "samples": [s.to_dict() for s in samples]}
    (root / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return samples


def load_manifest(root: Path) -> list[Sample]:
    data = json.loads((root / MANIFEST).read_text())
    return [Sample(**entry) for entry in data["samples"]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--canary", type=Path, default=None)
    args = parser.parse_args(argv)
    samples = generate(args.out, args.canary)
    counts = Counter((s.format, s.label) for s in samples)
    for (fmt, label), n in sorted(counts.items()):
        print(f"{fmt:12} {label:9} {n}")
    print(f"total {len(samples)} samples in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
