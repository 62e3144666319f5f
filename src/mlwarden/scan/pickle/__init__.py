"""The symbolic pickle VM: what a pickle would import and call, decided without executing it.

``analyze_pickle`` runs one stream; ``analyze_pickles`` a run of concatenated streams;
``looks_like_pickle`` sniffs content; :class:`PickleScanner` is the format scanner for raw pickle
files. Container scanners (torch zip, joblib, numpy object arrays) call the analysers directly.
"""

from __future__ import annotations

from mlwarden.scan.interface import ScanContext, ScanTarget
from mlwarden.scan.pickle.analyze import analyze_pickle, analyze_pickles, looks_like_pickle
from mlwarden.scan.pickle.result import PickleResult, ResolvedGlobal
from mlwarden.scan.pickle.scanner import PickleScanner

__all__ = [
    "PickleResult",
    "PickleScanner",
    "ResolvedGlobal",
    "ScanContext",
    "ScanTarget",
    "analyze_pickle",
    "analyze_pickles",
    "looks_like_pickle",
]
