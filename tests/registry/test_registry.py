"""The registry flow and its refusals, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest
from sqlalchemy import text

from mlwarden.core.errors import DeniedError, InputError, UsageError, VerificationError
from mlwarden.gate import promotion
from mlwarden.gate.promotion import PromotionDenied
from mlwarden.registry.db import SCHEMA_HEAD
from mlwarden.registry.models import AttestationKind
from mlwarden.registry.service import Registry

from .conftest import Env
from .helpers import clean_model, evil_pickle, new_key, oms_signature, policy_file, weights_file


def _signed(tmp: Path, name: str, content: bytes, signer: object) -> tuple[Path, Path]:
    model = clean_model(tmp / name / "model.bin", content)
    sig = tmp / f"{name}.sig"
    sig.write_text(oms_signature(model, signer))  # type: ignore[arg-type]
    return model, sig


def _prod_policy(tmp: Path, pub: Path, approvals: int = 2, extra: str = "") -> Path:
    return policy_file(tmp, "prod", extra=extra, gate=(
        f"    signature: true\n    trusted_keys: [{pub.name}]\n"
        f"    stages:\n      production: {{approvals: {approvals}}}\n"))


def test_whole_flow_push_gate_approve_promote_pull_rollback(env: Env, tmp_path: Path) -> None:
    reg = env.reg
    signer, pub = new_key(tmp_path, "release")
    pubr, _ = env.user("pub", "publisher")
    ann, _ = env.user("ann", "approver")
    bob, _ = env.user("bob", "approver")
    reader, _ = env.user("rita", "reader")
    promotion.set_stage_policy(reg, env.admin, "production", _prod_policy(tmp_path, pub))
    promotion.set_stage_policy(reg, env.admin, "staging", _prod_policy(tmp_path, pub, 0))

    refs = []
    for n in (1, 2):
        model, sig = _signed(tmp_path, f"v{n}", f"weights {n}".encode(), signer)
        info = reg.push(pubr, model, "fraud", attachments={AttestationKind.SIGNATURE: [sig]})
        assert info.version == str(n) and info.stage == "none"
        from mlwarden.sign.manifest import model_digest

        assert info.digest == model_digest(model)  # the identity every attestation binds to
        promotion.promote(reg, pubr, info.ref, "staging")
        reg.approve(ann, info.ref, comment="reviewed")
        reg.approve(bob, info.ref)
        report = promotion.promote(reg, pubr, info.ref, "production", reason="release")
        assert report.decision is not None and report.decision.allowed
        refs.append(info.ref)

    versions = {v.version: v.stage for v in reg.list_versions(reader, "fraud")}
    assert versions == {"1": "archived", "2": "production"}

    out = promotion.pull(reg, reader, "fraud", tmp_path / "pulled.bin", stage="production")
    assert out.read_bytes() == weights_file(b"weights 2")

    old, new, _ = promotion.rollback(reg, pubr, "fraud", "v2 doubles false positives")
    assert (old, new) == ("fraud@2", "fraud@1")
    versions = {v.version: v.stage for v in reg.list_versions(reader, "fraud")}
    assert versions == {"1": "production", "2": "archived"}
    hist = reg.show(reader, "fraud@1").history
    assert hist[-1]["to"] == "production" and "false positives" in hist[-1]["reason"]
    with pytest.raises(DeniedError, match="no earlier production version"):
        promotion.rollback(reg, pubr, "fraud", "again")  # never back to the version just rolled back

    status = reg.audit_verify(env.admin)
    assert status.intact, status.problem
    actions = [r.action for r in reg.audit_records(env.admin)]
    for action in ("registry.init", "user.add", "policy.set", "version.push", "version.approve",
                   "version.promote", "version.pull", "version.rollback"):
        assert action in actions
    rollback = next(r for r in reg.audit_records(env.admin) if r.action == "version.rollback")
    assert rollback.details["reason"] == "v2 doubles false positives"


def test_refusals_unsigned_untrusted_scanner_approvals_self_role(env: Env, tmp_path: Path) -> None:
    reg = env.reg
    signer, pub = new_key(tmp_path, "release")
    stranger, _ = new_key(tmp_path, "stranger")
    pubr, _ = env.user("pub", "publisher")
    ann, _ = env.user("ann", "approver")
    reader, _ = env.user("rita", "reader")
    both, _ = env.user("sam", "publisher", "approver")
    promotion.set_stage_policy(reg, env.admin, "staging", _prod_policy(tmp_path, pub, 0))
    promotion.set_stage_policy(reg, env.admin, "production", _prod_policy(tmp_path, pub, 1))

    unsigned = reg.push(pubr, clean_model(tmp_path / "u.bin", b"unsigned"), "m")
    with pytest.raises(PromotionDenied, match="not signed") as exc:
        promotion.promote(reg, pubr, unsigned.ref, "staging")
    assert exc.value.report.decision is not None
    assert any(r.rule_id == "MW-GATE-002" for r in exc.value.report.decision.reasons)

    model, _ = _signed(tmp_path, "x", b"by a stranger", stranger)
    sig = tmp_path / "stranger.sig"
    sig.write_text(oms_signature(model, stranger))
    untrusted = reg.push(pubr, model, "m", attachments={AttestationKind.SIGNATURE: [sig]})
    with pytest.raises(PromotionDenied, match="matches no trusted key"):
        promotion.promote(reg, pubr, untrusted.ref, "staging")

    evil = evil_pickle(tmp_path / "evil" / "model.pkl")
    esig = tmp_path / "evil.sig"
    esig.write_text(oms_signature(evil, signer))  # validly signed, but it runs code on load
    bad = reg.push(pubr, evil, "m", attachments={AttestationKind.SIGNATURE: [esig]})
    with pytest.raises(PromotionDenied, match="MW-PKL-001"):
        promotion.promote(reg, pubr, bad.ref, "staging")

    good, gsig = _signed(tmp_path, "g", b"good weights", signer)
    ok = reg.push(both, good, "m", attachments={AttestationKind.SIGNATURE: [gsig]})
    promotion.promote(reg, both, ok.ref, "staging")
    with pytest.raises(PromotionDenied, match="0 of 1 required approval"):
        promotion.promote(reg, both, ok.ref, "production")
    with pytest.raises(DeniedError, match="cannot approve"):
        reg.approve(both, ok.ref)  # the publisher approving their own version
    with pytest.raises(DeniedError, match="needs the role"):
        reg.approve(reader, ok.ref)
    with pytest.raises(DeniedError, match="may not push"):
        reg.push(ann, good, "m")
    with pytest.raises(DeniedError, match="may not audit"):
        reg.audit_verify(pubr)
    with pytest.raises(DeniedError, match="cannot move"):
        promotion.promote(reg, both, unsigned.ref, "production")  # none → production skips staging
    reg.approve(ann, ok.ref)
    assert promotion.promote(reg, both, ok.ref, "production").decision.allowed  # type: ignore[union-attr]
    denied = [r for r in reg.audit_records(env.admin) if r.action == "version.promote.denied"]
    assert len(denied) == 4  # every refusal is on the record
    refused = {(r.actor, r.subject) for r in reg.audit_records(env.admin)
               if r.action == "access.denied"}
    # ("sam", ""): a denial raised inside the approve transaction, audited after its rollback
    assert refused == {("rita", "approve"), ("ann", "push"), ("pub", "audit"), ("sam", "")}
    assert reg.audit_verify(env.admin).intact


def test_expired_waiver_no_longer_lifts_a_finding(env: Env, tmp_path: Path) -> None:
    reg = env.reg
    pubr, _ = env.user("pub", "publisher")
    evil = reg.push(pubr, evil_pickle(tmp_path / "e.pkl"), "m")
    future = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    waived = policy_file(tmp_path, "w", gate="    scan: true\n", extra=(
        f"waivers:\n  - {{rule: MW-PKL-*, owner: sec, reason: vetted, expires: {future}}}\n"))
    promotion.set_stage_policy(reg, env.admin, "staging", waived)
    assert promotion.promote(reg, pubr, evil.ref, "staging").decision.allowed  # type: ignore[union-attr]
    promotion.promote(reg, pubr, evil.ref, "archived")  # archived may return to staging, gated again
    expired = policy_file(tmp_path, "x", gate="    scan: true\n", extra=(
        "waivers:\n  - {rule: MW-PKL-*, owner: sec, reason: vetted, expires: 2020-01-01}\n"))
    promotion.set_stage_policy(reg, env.admin, "staging", expired)
    with pytest.raises(PromotionDenied, match="expired") as exc:
        promotion.promote(reg, pubr, evil.ref, "staging")
    codes = {r.code.value for r in exc.value.report.decision.reasons}  # type: ignore[union-attr]
    assert "expired-waiver" in codes


def test_version_content_is_immutable(env: Env, tmp_path: Path) -> None:
    pubr, _ = env.user("pub", "publisher")
    a = clean_model(tmp_path / "a.bin", b"A")
    env.reg.push(pubr, a, "m", "1.0")
    with pytest.raises(InputError, match=r"already registered as m@1\.0"):
        env.reg.push(pubr, a, "m", "1.1")
    with pytest.raises(InputError, match="already exists"):
        env.reg.push(pubr, clean_model(tmp_path / "b.bin", b"B"), "m", "1.0")
    with pytest.raises(UsageError, match="not a model reference"):
        env.reg.push(pubr, a, "../etc", "1")


def test_pull_refuses_a_tampered_store_object(env: Env, tmp_path: Path) -> None:
    pubr, _ = env.user("pub", "publisher")
    model = tmp_path / "dir"
    clean_model(model / "weights.bin", b"w" * 1000)
    clean_model(model / "config.json", b"{}")
    info = env.reg.push(pubr, model, "m")
    from mlwarden.sign.manifest import hash_model

    blob = hash_model(model).by_name["weights.bin"].digest
    obj = Path(env.reg.store.object_path("sha256:" + blob))
    os.chmod(obj, 0o644)
    obj.write_bytes(b"w" * 999 + b"X")
    dest = tmp_path / "out"
    with pytest.raises(VerificationError, match="tampered"):
        promotion.pull(env.reg, pubr, info.ref, dest, allow_unapproved=True)
    assert not dest.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.pull-")]  # no debris


def test_pull_verifies_the_signature(env: Env, tmp_path: Path) -> None:
    signer, pub = new_key(tmp_path, "k")
    _, other_pub = new_key(tmp_path, "o")
    pubr, _ = env.user("pub", "publisher")
    model, sig = _signed(tmp_path, "s", b"signed", signer)
    info = env.reg.push(pubr, model, "m", attachments={AttestationKind.SIGNATURE: [sig]})
    assert promotion.pull(env.reg, pubr, info.ref, tmp_path / "ok", trusted_keys=[pub],
                          allow_unapproved=True).is_file()
    with pytest.raises(VerificationError, match="matches no trusted key"):
        promotion.pull(env.reg, pubr, info.ref, tmp_path / "no", trusted_keys=[other_pub],
                       allow_unapproved=True)
    assert not (tmp_path / "no").exists()
    unsigned = env.reg.push(pubr, clean_model(tmp_path / "u.bin", b"u"), "m")
    with pytest.raises(VerificationError, match="no signature"):
        promotion.pull(env.reg, pubr, unsigned.ref, tmp_path / "u", require_signature=True,
                       allow_unapproved=True)


def test_tokens_are_hashed_revocable_and_checked(env: Env, tmp_path: Path) -> None:
    reg = env.reg
    _, token = env.user("pub", "publisher")
    with reg.engine.connect() as conn:
        stored = conn.execute(text("SELECT secret_hash, salt FROM api_tokens")).all()
    secret = token.split("_", 2)[2]
    assert all(secret.encode() not in bytes(h) for h, _ in stored)
    assert len({bytes(s) for _, s in stored}) == len(stored)  # a salt per token
    with pytest.raises(DeniedError, match="invalid"):
        reg.authenticate(token[:-1] + ("A" if token[-1] != "A" else "B"))
    with pytest.raises(UsageError, match="no API token"):  # exit 2: a usage mistake
        reg.authenticate(None)
    reg.revoke_token(env.admin, token.split("_")[1])
    with pytest.raises(DeniedError, match="revoked"):
        reg.authenticate(token)
    with pytest.raises(UsageError, match="already initialised"):
        reg.init("mallory")
    failed = [r for r in reg.audit_records(env.admin) if r.action == "auth.failed"]
    assert [r.details["reason"] for r in failed] == ["invalid", "revoked"]
    assert all(secret not in json.dumps(r.to_dict()) for r in reg.audit_records(env.admin))
    reg.set_roles(env.admin, "pub", frozenset({"reader"}))
    changes = [r for r in reg.audit_records(env.admin) if r.action == "user.roles"]
    assert changes[0].details == {"before": ["publisher"], "after": ["reader"]}


def test_reopening_runs_no_migration_twice_and_keeps_data(env: Env, tmp_path: Path) -> None:
    pubr, _ = env.user("pub", "publisher")
    env.reg.push(pubr, clean_model(tmp_path / "a.bin"), "m")
    again = Registry.open(home=env.home, db_url=env.db_url, store=str(tmp_path / "store"))
    try:
        assert [v.ref for v in again.list_versions(env.admin)] == ["m@1"]
        with again.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == SCHEMA_HEAD
    finally:
        again.close()


def test_schema_head_constant_matches_the_migrations() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from mlwarden.registry.db import MIGRATIONS, SCHEMA_HEAD

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(cfg).get_current_head() == SCHEMA_HEAD


def test_rollback_walks_back_and_skips_a_version_whose_bytes_were_tampered(
        env: Env, tmp_path: Path) -> None:
    reg = env.reg
    pubr, _ = env.user("pub", "publisher")
    lax = policy_file(tmp_path, "lax", gate="    scan: false\n")
    promotion.set_stage_policy(reg, env.admin, "staging", lax)
    promotion.set_stage_policy(reg, env.admin, "production", lax)
    for n in range(1, 5):
        info = reg.push(pubr, clean_model(tmp_path / f"v{n}.bin", f"v{n}".encode()), "m")
        promotion.promote(reg, pubr, info.ref, "staging")
        promotion.promote(reg, pubr, info.ref, "production")
    assert promotion.rollback(reg, pubr, "m", "v4 broke")[:2] == ("m@4", "m@3")
    from mlwarden.core.digest import sha256_file

    obj = Path(reg.store.object_path(sha256_file(tmp_path / "v2.bin")))  # the stored blob
    os.chmod(obj, 0o644)
    obj.write_bytes(b"tampered")
    assert promotion.rollback(reg, pubr, "m", "v3 broke too")[:2] == ("m@3", "m@1")  # m@2 no longer verifies
    with pytest.raises(DeniedError, match=r"no earlier production version.*m@2.*tampered"):
        promotion.rollback(reg, pubr, "m", "and v1")
    assert reg.audit_verify(env.admin).intact


def test_a_policy_changed_during_gating_voids_the_decision(env: Env, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import mlwarden.gate.engine as engine
    from mlwarden.registry.db import ConflictError

    reg = env.reg
    pubr, _ = env.user("pub", "publisher")
    promotion.set_stage_policy(reg, env.admin, "staging",
                               policy_file(tmp_path, "lax", gate="    scan: false\n"))
    info = reg.push(pubr, clean_model(tmp_path / "m.bin"), "m")
    real = engine.gate_evidence

    def gate_then_tighten(*args: object, **kw: object) -> object:
        report = real(*args, **kw)  # type: ignore[arg-type]
        promotion.set_stage_policy(reg, env.admin, "staging", policy_file(
            tmp_path, "strict", gate="    scan: false\n    signature: true\n"))
        return report

    monkeypatch.setattr(engine, "gate_evidence", gate_then_tighten)
    with pytest.raises(ConflictError, match="policy changed"):
        promotion.promote(reg, pubr, info.ref, "staging")
    assert reg.show(pubr, info.ref).stage == "none"
