"""Policy-as-code: YAML files validated by pydantic, evaluated into a :class:`Decision`.

A policy says which severity fails (``fail_on``), which rules are denied outright or allowed,
and which findings are waived — each waiver with an owner, a reason and an expiry date. An expired
waiver no longer applies and is itself reported (``MW-POL-001``); a waiver that matched nothing is
reported too (``MW-POL-002``) so stale exceptions get cleaned up.

Stages add their own top-level sections (``gate``, later ``data``, ``model_tests``, ``serve``,
``monitor``): each is a :class:`PolicySection` subclass registered by its package (listed in
``mlwarden.catalog.SECTION_MODULES``) and validated with the rest of the file — unknown keys
refused, types strict, files it names resolved — so ``policy check``, ``registry policy set`` and
``gate`` agree on every file. The old spelling ``extensions: {gate: …}`` still loads, with a
deprecation notice; any other key under ``extensions`` is an error.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import json
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializeAsAny,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from mlwarden.core.decision import Decision, OnUnscanned, Reason, ReasonCode, unscanned_reasons
from mlwarden.core.errors import PolicyError
from mlwarden.core.finding import Finding, Location, Skip, Suppression
from mlwarden.core.report import Report
from mlwarden.core.rules import Rule, register
from mlwarden.core.severity import Severity

EXPIRED_WAIVER = register(Rule(
    id="MW-POL-001",
    name="ExpiredWaiver",
    title="Expired waiver",
    description="A waiver in the policy has passed its expiry date. It no longer suppresses "
                "anything: the findings it covered count against the policy again.",
    severity=Severity.MEDIUM,
    remediation="Fix the underlying findings, or renew the waiver with a new expiry date after "
                "review by its owner.",
))

UNUSED_WAIVER = register(Rule(
    id="MW-POL-002",
    name="UnusedWaiver",
    title="Waiver matched no finding",
    description="A waiver in the policy matched no finding in this run. Stale exceptions widen "
                "what a policy lets through later; remove waivers that are no longer needed.",
    severity=Severity.INFO,
    remediation="Remove the waiver, or correct its rule or path pattern.",
))

SeverityName = Literal["info", "low", "medium", "high", "critical"]
RulePattern = Annotated[str, Field(pattern=r"^MW-[A-Z*?]+(-[0-9*?]+)?$|^MW-\*$|^\*$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Waiver(_Strict):
    """An owned, expiring exception for findings of a rule at some paths."""

    rule: RulePattern
    path: str = "*"
    """A glob matched against the finding's path, and against ``path!member`` for archives."""
    owner: Annotated[str, Field(min_length=1)]
    reason: Annotated[str, Field(min_length=1)]
    expires: dt.date

    def matches(self, finding: Finding) -> bool:
        if not fnmatch.fnmatchcase(finding.rule_id, self.rule):
            return False
        loc = finding.location
        candidates = [loc.path, Path(loc.path).name]
        if loc.member:
            candidates.append(f"{loc.path}!{loc.member}")
        return any(fnmatch.fnmatchcase(c, self.path) for c in candidates)

    def expired(self, today: dt.date) -> bool:
        return today > self.expires


class RuleSettings(_Strict):
    deny: list[RulePattern] = Field(default_factory=list)
    """Active findings of these rules deny, whatever their severity."""
    allow: list[RulePattern] = Field(default_factory=list)
    """Findings of these rules are suppressed (kept visible, marked ``policy``)."""
    severity: dict[str, SeverityName] = Field(default_factory=dict)
    """Per-rule severity overrides."""


class ScanSettings(_Strict):
    allow_globals: list[str] = Field(default_factory=list)
    """Extra importable names (``module.Class``, ``module.*``) the pickle scanner treats as safe."""
    on_unscanned: OnUnscanned = "deny"
    """A file or member the scanner could not check (a parser library missing, an encrypted
    member, an unsupported variant, an analyser limit, nothing found to scan): ``deny`` (fail
    closed, the default) or ``warn`` (listed in the report, not counted against the policy)."""

    @field_validator("allow_globals")
    @classmethod
    def _dotted(cls, values: list[str]) -> list[str]:
        for value in values:
            if "." not in value or any(not part for part in value.split(".")):
                raise ValueError(f"{value!r} is not a dotted name like 'module.Class' or 'module.*'")
        return values


class PolicyDeprecation(UserWarning):
    """A policy spelling that still loads but will not for ever (the CLI shows it as a warning)."""


class PolicySection(_Strict):
    """A top-level section of a policy owned by a stage's package (``gate``, ``data``...).

    Subclasses set ``section`` and register themselves; validation is strict (unknown keys
    refused). A section that names files (keys) resolves them in a validator, reading the policy
    file's folder from the validation context (``info.context["base"]``, ``None`` when the policy
    did not come from a file), and raises ``ValueError`` naming what is wrong.
    """

    section: ClassVar[str]
    registry: ClassVar[dict[str, type[PolicySection]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("section")
        if name is None:
            return
        other = PolicySection.registry.get(name)
        if other is not None and (other.__module__, other.__qualname__) != \
                (cls.__module__, cls.__qualname__):
            raise RuntimeError(f"policy section {name!r} registered twice ({other.__module__} "
                               f"and {cls.__module__})")
        PolicySection.registry[name] = cls


def registered_sections() -> dict[str, type[PolicySection]]:
    """Every registered section by name (the catalogue's modules loaded first)."""
    from mlwarden.catalog import load_sections

    load_sections()
    return dict(PolicySection.registry)


S = TypeVar("S", bound=PolicySection)

CORE_KEYS = ("version", "name", "description", "fail_on", "rules", "waivers", "scan")


def _field_error(exc: ValidationError, prefix: str = "") -> str:
    err = exc.errors()[0]
    field = ".".join(str(p) for p in (*([prefix] if prefix else []), *err["loc"]))
    message = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        message = "unknown key (a typo?)"
    if field.endswith(".[key]"):
        field = field.removesuffix(".[key]")
        message = f"not an allowed name: {message}"
    more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"field '{field or '(top level)'}': {message}{more}"


class Policy(_Strict):
    """A policy file. ``mlwarden policy check FILE`` validates one."""

    version: Literal[1] = 1
    name: str = "default"
    description: str = ""
    fail_on: SeverityName = "high"
    rules: RuleSettings = Field(default_factory=RuleSettings)
    waivers: list[Waiver] = Field(default_factory=list)
    scan: ScanSettings = Field(default_factory=ScanSettings)
    sections: dict[str, SerializeAsAny[PolicySection]] = Field(default_factory=dict)
    """The stages' sections by name, validated by their registered :class:`PolicySection`."""

    source: str | None = Field(default=None, exclude=True)
    notices: tuple[str, ...] = Field(default=(), exclude=True)
    """Deprecation notices from loading (old spellings that still load)."""

    @model_validator(mode="before")
    @classmethod
    def _sections(cls, data: Any, info: ValidationInfo) -> Any:
        """Lift the registered sections out of the mapping and validate each with its class
        (``PolicyError`` naming ``section.field``); move ``extensions.<section>`` up, with a
        notice; refuse any other top-level key."""
        if not isinstance(data, dict):
            return data
        context = info.context or {}
        source = context.get("source") or "<policy>"
        known = registered_sections()
        data = dict(data)
        given = data.pop("sections", None) or {}
        if not isinstance(given, dict) or \
                not all(isinstance(v, PolicySection) for v in given.values()):
            raise PolicyError("field 'sections': unknown key (a typo?); sections are top-level "
                              f"keys: {', '.join(sorted(known))}", path=source)
        raw: dict[str, Any] = {}
        notices: list[str] = []
        extensions = data.pop("extensions", None)
        if extensions is not None:
            if not isinstance(extensions, dict):
                raise PolicyError("field 'extensions': must be a mapping", path=source)
            for key, value in extensions.items():
                if key not in known:
                    raise PolicyError(
                        f"field 'extensions.{key}': unknown section (known: "
                        f"{', '.join(sorted(known))}); sections are top-level keys now",
                        path=source)
                if key in data:
                    raise PolicyError(f"field 'extensions.{key}': the policy also has a "
                                      f"top-level '{key}' section; keep one", path=source)
                raw[key] = value
                notices.append(f"{source}: 'extensions.{key}' is deprecated: move it to a "
                               f"top-level '{key}:' section (same content)")
        for key in list(data):
            if key in known:
                raw[key] = data.pop(key)
            elif key not in cls.model_fields or key in ("source", "notices"):
                if key in ("source", "notices"):
                    continue
                raise PolicyError(f"field '{key}': unknown key (a typo?); known keys: "
                                  f"{', '.join([*CORE_KEYS, *sorted(known)])}", path=source)
        sections: dict[str, PolicySection] = dict(given)
        for key, value in raw.items():
            try:
                sections[key] = known[key].model_validate(
                    value if value is not None else {}, context=context)
            except ValidationError as exc:
                raise PolicyError(_field_error(exc, key), path=source) from None
        data["sections"] = sections
        if notices:
            data["notices"] = tuple(notices)
        return data

    def section(self, kind: type[S]) -> S:
        """This policy's section of type ``kind`` (its defaults when the file has none)."""
        found = self.sections.get(kind.section)
        if found is None:
            return kind()
        if not isinstance(found, kind):
            raise TypeError(f"section {kind.section!r} is a {type(found).__name__}")
        return found

    @property
    def threshold(self) -> Severity:
        return Severity(self.fail_on)

    @property
    def digest(self) -> str:
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()

    @classmethod
    def default(cls, fail_on: Severity = Severity.HIGH) -> Policy:
        return cls(name="default", fail_on=fail_on.value)

    @classmethod
    def from_yaml(cls, text: str, *, source: str = "<policy>", base: Path | None = None) -> Policy:
        from mlwarden.core.yamlio import load_yaml

        data = load_yaml(text, source=source, what="policy", error=PolicyError)
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise PolicyError("a policy must be a YAML mapping at the top level", path=source)
        return cls.from_data(data, source=source, base=base)

    @classmethod
    def from_data(cls, data: dict[str, Any], *, source: str = "<policy>",
                  base: Path | None = None) -> Policy:
        """Validate a decoded policy; ``base`` is the folder relative file names in it (trusted
        keys) are read from. Deprecation notices are issued as :class:`PolicyDeprecation`."""
        data = {k: v for k, v in data.items() if k not in ("source", "notices")}
        try:
            policy = cls.model_validate(data, context={"source": source, "base": base})
        except ValidationError as exc:
            raise PolicyError(_field_error(exc), path=source) from None
        for notice in policy.notices:
            warnings.warn(notice, PolicyDeprecation, stacklevel=2)
        return policy.model_copy(update={"source": source})

    @classmethod
    def load(cls, path: str | Path) -> Policy:
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise PolicyError("policy file not found", path=p) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise PolicyError(f"cannot read policy file: {exc}", path=p) from None
        return cls.from_yaml(text, source=str(p), base=p.parent)

    def evaluate(self, report: Report, *, today: dt.date | None = None) -> Report:
        """Apply this policy to ``report``: suppress, re-rate, add policy findings, decide."""
        today = today or dt.date.today()
        findings, extra = self._apply(report.findings, today)
        decision = self.decide([*findings, *extra], skipped=report.skipped)
        return report.with_decision(decision, [*findings, *extra])

    def _apply(self, findings: Iterable[Finding], today: dt.date) -> tuple[list[Finding], list[Finding]]:
        from dataclasses import replace

        used: set[int] = set()
        out: list[Finding] = []
        for finding in findings:
            override = self._severity_override(finding.rule_id)
            if override is not None:
                finding = replace(finding, severity=override)
            if finding.suppressed:
                out.append(finding)
                continue
            if any(fnmatch.fnmatchcase(finding.rule_id, p) for p in self.rules.allow):
                finding = finding.suppressed_by(
                    Suppression(kind="policy", reason=f"rule allowed by policy {self.name!r}"))
            else:
                for index, waiver in enumerate(self.waivers):
                    if waiver.matches(finding):
                        used.add(index)
                        if not waiver.expired(today):
                            finding = finding.suppressed_by(Suppression(
                                kind="waiver", reason=waiver.reason, owner=waiver.owner,
                                expires=waiver.expires))
                            break
            out.append(finding)
        extra: list[Finding] = []
        where = self.source or "<policy>"
        for index, waiver in enumerate(self.waivers):
            loc = Location(path=where, member=f"waivers[{index}]")
            evidence = {"rule": waiver.rule, "path": waiver.path, "owner": waiver.owner,
                        "expires": waiver.expires.isoformat()}
            if waiver.expired(today):
                extra.append(EXPIRED_WAIVER.finding(
                    f"waiver for {waiver.rule} on {waiver.path!r} (owner {waiver.owner}) expired on "
                    f"{waiver.expires.isoformat()}", loc, evidence=evidence))
            elif index not in used:
                extra.append(UNUSED_WAIVER.finding(
                    f"waiver for {waiver.rule} on {waiver.path!r} (owner {waiver.owner}) matched "
                    "no finding", loc, evidence=evidence))
        return out, extra

    def _severity_override(self, rule_id: str) -> Severity | None:
        for pattern, name in self.rules.severity.items():
            if fnmatch.fnmatchcase(rule_id, pattern):
                return Severity(name)
        return None

    def decide(self, findings: Iterable[Finding], requirements: Iterable[Reason] = (), *,
               skipped: Iterable[Skip] = ()) -> Decision:
        """Decide over already-suppressed findings plus unmet requirements of other checks; what
        could not be checked (``skipped``) denies unless ``scan.on_unscanned`` is ``warn``."""
        reasons: list[Reason] = list(requirements)
        reasons += unscanned_reasons(skipped, self.scan.on_unscanned)
        for f in findings:
            if f.suppressed:
                continue
            denied = any(fnmatch.fnmatchcase(f.rule_id, p) for p in self.rules.deny)
            if denied:
                reasons.append(Reason(ReasonCode.DENIED_RULE,
                                      f"{f.rule_id} is denied by policy at {f.location}",
                                      f.rule_id, f.fingerprint))
            elif f.rule_id == EXPIRED_WAIVER.id:
                reasons.append(Reason(ReasonCode.EXPIRED_WAIVER, f.message, f.rule_id,
                                      f.fingerprint))
            elif f.severity >= self.threshold:
                reasons.append(Reason(ReasonCode.THRESHOLD,
                                      f"{f.rule_id} ({f.severity.value}) at {f.location}: {f.title}",
                                      f.rule_id, f.fingerprint))
        if not reasons:
            reasons.append(Reason(ReasonCode.CLEAN,
                                  f"no active finding at or above {self.fail_on}"))
            return Decision(True, tuple(reasons), self.name, self.digest)
        return Decision(False, tuple(reasons), self.name, self.digest)
