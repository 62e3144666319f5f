"""Core types: findings, reports, rules, errors, decisions. Policy lives in :mod:`.policy`
(imported on demand, since it pulls in pydantic and YAML)."""

from mlwarden.core.decision import Decision, Reason, ReasonCode
from mlwarden.core.errors import (
    ConfigError,
    DeniedError,
    ExitCode,
    InputError,
    InternalError,
    MlwardenError,
    PolicyError,
    UsageError,
    VerificationError,
)
from mlwarden.core.finding import Finding, Location, Skip, Suppression
from mlwarden.core.report import CheckRun, Report
from mlwarden.core.rules import Rule, register
from mlwarden.core.severity import Severity

__all__ = [
    "CheckRun", "ConfigError", "Decision", "DeniedError", "ExitCode", "Finding", "InputError",
    "InternalError", "Location", "MlwardenError", "PolicyError", "Reason", "ReasonCode", "Report",
    "Rule", "Severity", "Skip", "Suppression", "UsageError", "VerificationError", "register",
]
