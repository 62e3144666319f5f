"""The gate's section of a policy file: what a model must show before it may pass.

A top-level ``gate`` section of an ordinary policy (:class:`mlwarden.core.policy.Policy`), with
optional per-stage overrides::

    fail_on: high
    gate:
      scan: true                 # run the scanner; findings count against fail_on
      signature: true            # an OMS signature by one of trusted_keys
      trusted_keys: [keys/release.pub]
      provenance: false          # a signed SLSA provenance whose subject is the model
      data_checks: false         # a signed data-check attestation that passed
      model_tests: false         # a signed model-test attestation that passed
      approvals: 0               # distinct approvers, none of them the publisher
      stages:
        production: {provenance: true, approvals: 2}

Every evidence kind (:mod:`mlwarden.core.evidence`) adds its switch (``requirement``) here: the
models below are built from the registered kinds, so a new kind needs no edit in this file. Values
are strict (``scan: yes-please`` and ``approvals: "2"`` are errors), unknown keys and stage names
are refused, and ``trusted_keys`` are read and parsed when the policy is loaded: a missing or
malformed key file is an error naming the file, never a gate that later denies (or allows) for the
wrong reason. The old spelling ``extensions: {gate: …}`` still loads, with a notice.

A statement of a kind (provenance, data-check, model-test) is a DSSE-signed in-toto statement whose
subject is the model (its model digest or OMS root digest) and whose predicate type is the kind's
own: one signed statement cannot stand in for another kind. A scan report pushed with a version is
kept as evidence but never trusted: the gate always scans the bytes itself.

``trusted_keys`` are PEM public keys: a path (relative to the policy file) or the PEM text itself.
A policy stored in the registry has its keys inlined, so swapping a key file later changes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationInfo,
    create_model,
    field_validator,
)

from mlwarden.core.errors import InputError, MlwardenError, PolicyError
from mlwarden.core.evidence import kinds
from mlwarden.core.policy import PolicySection

if TYPE_CHECKING:
    from mlwarden.core.policy import Policy

SECTION = "gate"
EXTENSION_KEY = SECTION  # the deprecated spelling: extensions.gate
StageName = Literal["staging", "production"]
Approvals = Annotated[StrictInt, Field(ge=0, le=100)]


def _switches(optional: bool) -> dict[str, Any]:
    """One strict ``bool`` field per evidence kind (``scan`` defaults to on)."""
    out: dict[str, Any] = {}
    for k in kinds():
        default = k.requirement == "scan"
        out[k.requirement] = (StrictBool | None, None) if optional else (StrictBool, default)
    return out


def _check_keys(entries: list[str] | None, info: ValidationInfo) -> list[str] | None:
    """Resolve and parse every trusted key when the policy is loaded (file, text or registry)."""
    context = info.context or {}
    if entries is None or "source" not in context:
        return entries
    try:
        texts = _read_keys(entries, context.get("base"))
    except InputError as exc:
        raise ValueError(exc.one_line()) from None
    try:
        from mlwarden.gate.checks import load_verifiers

        load_verifiers(texts)
    except ImportError:
        raise ValueError("trusted_keys need the signing extra: pip install 'mlwarden[sign]'") \
            from None
    except MlwardenError as exc:
        raise ValueError(f"trusted key unusable: {exc.one_line()}") from None
    return entries


_Overrides: type[BaseModel] = create_model(
    "GateOverrides", __config__=ConfigDict(extra="forbid", frozen=True),
    __validators__={"_keys": field_validator("trusted_keys")(_check_keys)},
    trusted_keys=(list[StrictStr] | None, None), approvals=(Approvals | None, None),
    **_switches(optional=True))

Requirements: type[BaseModel] = create_model(
    "Requirements", __config__=ConfigDict(extra="forbid", frozen=True),
    trusted_keys=(list[StrictStr], Field(default_factory=list)), approvals=(Approvals, 0),
    **_switches(optional=False))
"""What the gate requires, resolved for one stage (or for a plain ``mlwarden gate`` run): one
``bool`` per evidence kind's ``requirement``, ``trusted_keys`` and ``approvals``."""


class GateSection(PolicySection, Requirements):  # type: ignore[misc,valid-type]
    """The ``gate`` section: the base requirements and per-stage overrides."""

    section = SECTION
    stages: dict[StageName, _Overrides] = Field(default_factory=dict)  # type: ignore[valid-type]

    @field_validator("trusted_keys")
    @classmethod
    def _keys(cls, entries: list[str], info: ValidationInfo) -> list[str]:
        return _check_keys(entries, info) or []


def gate_section(policy: Policy) -> GateSection:
    return policy.section(GateSection)


def requirements_for(policy: Policy, stage: str | None = None) -> Any:
    """The requirements of ``policy`` for ``stage`` (the base section when ``stage`` is None)."""
    section = gate_section(policy)
    base = section.model_dump(exclude={"stages"})
    if stage is not None and stage in section.stages:
        override: BaseModel = section.stages[stage]
        base.update(override.model_dump(exclude_none=True))
    return Requirements.model_validate(base)


def required(req: Any, name: str) -> bool:
    """Whether ``req`` (a :data:`Requirements`) asks for the evidence switch ``name``."""
    return bool(getattr(req, name))


def key_texts(req: Any, policy: Policy) -> list[tuple[str, bytes]]:
    """``(label, PEM bytes)`` of each trusted key; a path is read relative to the policy file."""
    base = Path(policy.source).parent if policy.source and Path(policy.source).is_file() else None
    return _read_keys(req.trusted_keys, base)


def _read_keys(entries: list[str], base: Path | None) -> list[tuple[str, bytes]]:
    out: list[tuple[str, bytes]] = []
    for entry in entries:
        if "-----BEGIN" in entry:
            out.append(("inline key", entry.encode("ascii", "replace")))
            continue
        path = Path(entry)
        if not path.is_absolute() and base is not None:
            path = base / path
        try:
            out.append((str(path), path.read_bytes()))
        except OSError as exc:
            raise InputError(f"trusted key cannot be read: {exc.strerror or exc}",
                             path=path) from None
    return out


def inline_keys(text: str, source: Path) -> str:
    """The policy YAML with every ``trusted_keys`` path replaced by the key's PEM text."""
    data = yaml.safe_load(text) or {}
    if not isinstance(data, dict):
        return text
    gate = data.get(SECTION)
    if not isinstance(gate, dict):
        extensions = data.get("extensions")
        gate = extensions.get(EXTENSION_KEY) if isinstance(extensions, dict) else None
    if not isinstance(gate, dict):
        return text

    def inline(section: dict[str, Any]) -> None:
        keys = section.get("trusted_keys")
        if not isinstance(keys, list):
            return
        resolved = []
        for entry in keys:
            if isinstance(entry, str) and "-----BEGIN" not in entry:
                path = Path(entry) if Path(entry).is_absolute() else source.parent / entry
                try:
                    entry = path.read_text(encoding="ascii")
                except (OSError, UnicodeDecodeError) as exc:
                    raise PolicyError(f"trusted key {path} cannot be read: {exc}",
                                      path=source) from None
            resolved.append(entry)
        section["trusted_keys"] = resolved

    inline(gate)
    for stage in (gate.get("stages") or {}).values():
        if isinstance(stage, dict):
            inline(stage)
    return yaml.safe_dump(data, sort_keys=False)


def default_policy(stage: str) -> Policy:
    """The policy a stage gets until an admin sets one: secure by default.

    Staging needs a clean scan; production also needs a signature by a trusted key (so it stays
    closed until a policy names the keys) and one approval.
    """
    from mlwarden.core.policy import Policy

    gate: dict[str, Any] = {"scan": True}
    if stage == "production":
        gate.update(signature=True, approvals=1)
    return Policy.from_data({"name": f"default-{stage}", SECTION: gate},
                            source=f"built-in default policy for {stage}")
