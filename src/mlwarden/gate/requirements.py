"""The gate's section of a policy file: what a model must show before it may pass.

It lives under ``extensions.gate`` of an ordinary policy (:class:`mlwarden.core.policy.Policy`), with
optional per-stage overrides::

    fail_on: high
    extensions:
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

A data-check or model-test attestation is a DSSE-signed in-toto statement whose subject is the model
(its model digest or OMS root digest) and whose predicate says ``passed: true`` or carries an
mlwarden decision with ``decision.allowed: true``. A scan report pushed with a version is kept as
evidence but never trusted: the gate always scans the bytes itself.

``trusted_keys`` are PEM public keys: a path (relative to the policy file) or the PEM text itself.
A policy stored in the registry has its keys inlined, so swapping a key file later changes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mlwarden.core.errors import PolicyError

if TYPE_CHECKING:
    from mlwarden.core.policy import Policy

EXTENSION_KEY = "gate"
StageName = Literal["staging", "production"]


class _Overrides(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    scan: bool | None = None
    signature: bool | None = None
    trusted_keys: list[str] | None = None
    provenance: bool | None = None
    data_checks: bool | None = None
    model_tests: bool | None = None
    approvals: Annotated[int, Field(ge=0, le=100)] | None = None


class Requirements(BaseModel):
    """What the gate requires, resolved for one stage (or for a plain ``mlwarden gate`` run)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scan: bool = True
    signature: bool = False
    trusted_keys: list[str] = Field(default_factory=list)
    provenance: bool = False
    data_checks: bool = False
    model_tests: bool = False
    approvals: Annotated[int, Field(ge=0, le=100)] = 0


class GateSection(Requirements):
    stages: dict[StageName, _Overrides] = Field(default_factory=dict)


def _section(policy: Policy) -> GateSection:
    raw: Any = policy.extensions.get(EXTENSION_KEY, {})
    try:
        return GateSection.model_validate(raw or {})
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "(top level)"
        raise PolicyError(f"field 'extensions.gate.{field}': {err['msg']}",
                          path=policy.source or "<policy>") from None


def requirements_for(policy: Policy, stage: str | None = None) -> Requirements:
    """The requirements of ``policy`` for ``stage`` (the base section when ``stage`` is None)."""
    section = _section(policy)
    base = section.model_dump(exclude={"stages"})
    if stage is not None and stage in section.stages:
        override = section.stages[stage]
        base.update(override.model_dump(exclude_unset=True))
    return Requirements.model_validate(base)


def key_texts(req: Requirements, policy: Policy) -> list[tuple[str, bytes]]:
    """``(label, PEM bytes)`` of each trusted key; a path is read relative to the policy file."""
    from mlwarden.core.errors import InputError

    base = Path(policy.source).parent if policy.source and Path(policy.source).is_file() else None
    out: list[tuple[str, bytes]] = []
    for entry in req.trusted_keys:
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
    gate = (data.get("extensions") or {}).get(EXTENSION_KEY) if isinstance(data, dict) else None
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
    return Policy(name=f"default-{stage}", extensions={EXTENSION_KEY: gate})
