"""The registry stores, the gate decides: promotion's conflict checks and the storage primitives
it stands on (a stage move re-checks stage and stored policy in its own transaction)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlwarden.core.errors import DeniedError, UsageError
from mlwarden.gate import promotion
from mlwarden.registry.db import ConflictError
from mlwarden.registry.models import Stage

from .conftest import Env
from .helpers import clean_model, policy_file

LAX = "    scan: false\n"


def test_a_stage_change_during_gating_voids_the_decision(env: Env, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import mlwarden.gate.engine as engine

    reg = env.reg
    pubr, _ = env.user("pub", "publisher")
    promotion.set_stage_policy(reg, env.admin, "staging", policy_file(tmp_path, "lax", gate=LAX))
    info = reg.push(pubr, clean_model(tmp_path / "m.bin"), "m")
    real = engine.gate_evidence

    def gate_then_archive(*args: object, **kw: object) -> object:
        report = real(*args, **kw)  # type: ignore[arg-type]
        promotion.promote(reg, pubr, info.ref, "archived")  # someone else moved it meanwhile
        return report

    monkeypatch.setattr(engine, "gate_evidence", gate_then_archive)
    with pytest.raises(ConflictError, match="changed stage while it was being gated"):
        promotion.promote(reg, pubr, info.ref, "staging")
    assert reg.show(pubr, info.ref).stage == "archived"


def test_a_policy_stored_during_gating_under_the_default_voids_the_decision(
        env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No policy was stored (the built-in default gated it); one stored meanwhile conflicts."""
    import mlwarden.gate.engine as engine

    reg = env.reg
    pubr, _ = env.user("pub", "publisher")
    info = reg.push(pubr, clean_model(tmp_path / "m.bin"), "m")
    assert reg.stored_stage_policy("staging") is None
    real = engine.gate_evidence

    def gate_then_set(*args: object, **kw: object) -> object:
        report = real(*args, **kw)  # type: ignore[arg-type]
        promotion.set_stage_policy(reg, env.admin, "staging",
                                   policy_file(tmp_path, "strict", gate="    signature: true\n"))
        return report

    monkeypatch.setattr(engine, "gate_evidence", gate_then_set)
    with pytest.raises(ConflictError, match="policy changed"):
        promotion.promote(reg, pubr, info.ref, "staging")
    assert reg.show(pubr, info.ref).stage == "none"


def test_archiving_is_not_gated(env: Env, tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    import mlwarden.gate.engine as engine

    reg = env.reg
    pubr, _ = env.user("pub", "publisher")
    info = reg.push(pubr, clean_model(tmp_path / "m.bin"), "m")

    def never(*_a: object, **_k: object) -> object:
        raise AssertionError("archiving ran the gate")

    monkeypatch.setattr(engine, "gate_evidence", never)
    report = promotion.promote(reg, pubr, info.ref, "archived", reason="retired")
    assert report.decision is None and reg.show(pubr, info.ref).stage == "archived"


def test_the_storage_primitives_keep_the_stage_machine(env: Env, tmp_path: Path) -> None:
    reg = env.reg
    pubr, _ = env.user("pub", "publisher")
    reader, _ = env.user("rita", "reader")
    info = reg.push(pubr, clean_model(tmp_path / "m.bin"), "m")
    with pytest.raises(DeniedError, match="cannot move to production"):
        reg.move_stage(pubr, info.ref, Stage.PRODUCTION, expected=Stage.NONE)
    with pytest.raises(ConflictError, match="changed stage"):  # it is in none, not staging
        reg.move_stage(pubr, info.ref, Stage.PRODUCTION, expected=Stage.STAGING)
    with pytest.raises(DeniedError):  # a write primitive checks the role itself
        reg.move_stage(reader, info.ref, Stage.ARCHIVED, expected=Stage.NONE)
    with pytest.raises(DeniedError):
        reg.store_stage_policy(pubr, "staging", "name: x\n", "sha256:" + "0" * 64,
                               name="x", source="test")
    with pytest.raises(UsageError, match="unknown stage"):
        promotion.promote(reg, pubr, info.ref, "prod")
    with pytest.raises(UsageError, match="staging or production"):
        promotion.stage_policy(reg, "archived")
    assert reg.show(pubr, info.ref).stage == "none"
