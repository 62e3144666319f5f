"""Safe conversion: PyTorch checkpoints → safetensors, scikit-learn pickles/joblib → skops.

Read once, scan those bytes, refuse anything the scanner flags, load only through allowlisting
unpicklers (torch's ``weights_only`` loader; an allowlist ``find_class`` for pickle and joblib),
verify the converted model reproduces the original exactly, write atomically.
"""

from __future__ import annotations

from mlwarden.scan.convert.api import ConversionResult, Target, convert, guess_target
from mlwarden.scan.convert.errors import ConversionMismatch, ConversionRefused, NotConvertible

__all__ = ["ConversionMismatch", "ConversionRefused", "ConversionResult", "NotConvertible",
           "Target", "convert", "guess_target"]
