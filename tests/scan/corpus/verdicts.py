"""Turn one mlwarden scan of the corpus into a verdict per sample, and score verdicts.

A sample is *flagged* when the default policy would deny it: an active finding at or above
``high`` (the ``mlwarden scan`` exit code 1). Findings are attributed to the sample whose path
is the finding's file or a directory above it (SavedModel and ONNX samples are directories).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from mlwarden.core.finding import Finding
from mlwarden.core.report import Report
from mlwarden.core.severity import Severity
from tests.scan.corpus.common import Sample

THRESHOLD = Severity.HIGH


def sample_paths(root: Path, samples: Iterable[Sample]) -> dict[str, Path]:
    return {s.name: (root / s.name).resolve() for s in samples}


def findings_by_sample(report: Report, root: Path, samples: Iterable[Sample]
                       ) -> dict[str, list[Finding]]:
    paths = sample_paths(root, samples)
    owner: dict[Path, str] = {p: n for n, p in paths.items()}
    out: dict[str, list[Finding]] = defaultdict(list)
    for finding in report.active:
        path = Path(finding.location.path)
        path = (path if path.is_absolute() else Path.cwd() / path).resolve()
        for candidate in (path, *path.parents):
            if candidate in owner:
                out[owner[candidate]].append(finding)
                break
    return out


def mlwarden_flags(report: Report, root: Path, samples: list[Sample]) -> dict[str, bool]:
    found = findings_by_sample(report, root, samples)
    return {s.name: any(f.severity >= THRESHOLD for f in found.get(s.name, ())) for s in samples}


@dataclass(frozen=True)
class Score:
    malicious: int
    benign: int
    detected: int
    false_positives: int
    errors: int = 0

    @property
    def recall(self) -> float:
        return self.detected / self.malicious if self.malicious else 1.0

    @property
    def fpr(self) -> float:
        return self.false_positives / self.benign if self.benign else 0.0


def score(samples: Iterable[Sample], flagged: Mapping[str, bool],
          errored: Mapping[str, bool] | None = None) -> Score:
    """Recall over malicious samples, FPR over benign ones. An error is never a detection; an error
    on a benign file is counted in ``errors`` (not a clean verdict, and not a false positive)."""
    errored = errored or {}
    mal = [s for s in samples if s.label == "malicious"]
    ben = [s for s in samples if s.label == "benign"]
    return Score(
        malicious=len(mal), benign=len(ben),
        detected=sum(bool(flagged.get(s.name)) and not errored.get(s.name) for s in mal),
        false_positives=sum(bool(flagged.get(s.name)) and not errored.get(s.name) for s in ben),
        errors=sum(bool(errored.get(s.name)) for s in (*mal, *ben)),
    )
