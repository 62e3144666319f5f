"""Why a conversion stops: the file was refused, cannot be converted, or did not verify."""

from __future__ import annotations

from mlwarden.core.errors import DeniedError, InputError, VerificationError
from mlwarden.core.finding import Finding


class ConversionRefused(DeniedError):
    """The scanner flagged the file (or could not check all of it): nothing was loaded (exit 1)."""

    finding: Finding | None = None
    """The most severe finding that refused the file, when a finding did."""


class NotConvertible(InputError):
    """The file is not something this converter turns into a safe format (exit 2)."""


class ConversionMismatch(VerificationError):
    """The converted model does not reproduce the original's tensors or predictions (exit 1)."""
