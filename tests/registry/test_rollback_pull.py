"""Rollback re-runs the gate; blocked versions stay out; pull serves only what the gate allowed
(SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlwarden.core.errors import DeniedError
from mlwarden.gate import promotion
from mlwarden.registry.auth import Principal
from mlwarden.registry.models import AttestationKind
from mlwarden.sign.keys import EcdsaSigner

from .conftest import Env
from .helpers import clean_model, new_key, oms_signature, policy_file, weights_file


def _policy(tmp: Path, name: str, *keys: Path) -> Path:
    listed = ", ".join(k.name for k in keys)
    return policy_file(tmp, name, gate=f"    signature: true\n    trusted_keys: [{listed}]\n")


def _release(env: Env, tmp: Path, publisher: Principal, n: int, signer: EcdsaSigner) -> str:
    model = clean_model(tmp / f"v{n}" / "model.bin", f"release {n}".encode())
    sig = tmp / f"v{n}.sig"
    sig.write_text(oms_signature(model, signer))
    info = env.reg.push(publisher, model, "m", attachments={AttestationKind.SIGNATURE: [sig]})
    promotion.promote(env.reg, publisher, info.ref, "staging")
    promotion.promote(env.reg, publisher, info.ref, "production")
    return info.ref


def test_rollback_refuses_a_version_signed_by_a_since_distrusted_key(env: Env,
                                                                     tmp_path: Path) -> None:
    old_signer, old_pub = new_key(tmp_path, "old")
    new_signer, new_pub = new_key(tmp_path, "new")
    both = _policy(tmp_path, "both", old_pub, new_pub)
    for stage in ("staging", "production"):
        promotion.set_stage_policy(env.reg, env.admin, stage, both)
    pat, _ = env.user("pat", "publisher")
    _release(env, tmp_path, pat, 1, old_signer)
    _release(env, tmp_path, pat, 2, new_signer)
    promotion.set_stage_policy(env.reg, env.admin, "production",
                               _policy(tmp_path, "only-new", new_pub))  # the old key leaked
    with pytest.raises(DeniedError, match=r"no earlier production version.*m@1: the production "
                                          r"policy denies it.*no trusted key"):
        promotion.rollback(env.reg, pat, "m", "v2 regressed")
    assert {v.version: v.stage for v in env.reg.list_versions(pat, "m")} == \
        {"1": "archived", "2": "production"}
    denied = [r for r in env.reg.audit_records(env.admin) if r.action == "version.rollback.denied"]
    assert [r.subject for r in denied] == ["m@1"]


def test_a_blocked_version_is_barred_from_promotion_rollback_and_pull(env: Env,
                                                                     tmp_path: Path) -> None:
    signer, pub = new_key(tmp_path, "k")
    pol = _policy(tmp_path, "p", pub)
    for stage in ("staging", "production"):
        promotion.set_stage_policy(env.reg, env.admin, stage, pol)
    pat, _ = env.user("pat", "publisher")
    ann, _ = env.user("ann", "approver")
    v1 = _release(env, tmp_path, pat, 1, signer)
    v2 = _release(env, tmp_path, pat, 2, signer)
    with pytest.raises(DeniedError, match="needs the role admin or approver"):
        env.reg.block(pat, v1, "the publisher cannot")
    env.reg.block(ann, v1, "CVE-2026-1234 in the tokenizer")
    with pytest.raises(DeniedError, match=r"m@1: blocked: CVE-2026-1234"):
        promotion.rollback(env.reg, pat, "m", "v2 regressed")
    with pytest.raises(DeniedError, match="blocked: CVE"):
        promotion.promote(env.reg, pat, v1, "staging")
    with pytest.raises(DeniedError, match="blocked: CVE"):
        promotion.pull(env.reg, pat, v1, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    promotion.pull(env.reg, pat, v1, tmp_path / "out", allow_unapproved=True)
    env.reg.block(env.admin, v2, "also bad")
    with pytest.raises(DeniedError, match="blocked"):
        promotion.pull(env.reg, pat, "m", tmp_path / "prod")  # production, but blocked
    actions = [(r.action, r.subject) for r in env.reg.audit_records(env.admin)]
    assert ("version.block", "m@1") in actions and ("version.pull.unapproved", "m@1") in actions
    assert ("version.block", "m@2") in actions


def test_pull_without_a_stage_takes_production_and_never_an_ungated_version(
        env: Env, tmp_path: Path) -> None:
    signer, pub = new_key(tmp_path, "k")
    pol = _policy(tmp_path, "p", pub)
    for stage in ("staging", "production"):
        promotion.set_stage_policy(env.reg, env.admin, stage, pol)
    pat, _ = env.user("pat", "publisher")
    rita, _ = env.user("rita", "reader")
    _release(env, tmp_path, pat, 1, signer)
    newer = env.reg.push(pat, clean_model(tmp_path / "v2.bin", b"unsigned"), "m")  # never gated
    out = promotion.pull(env.reg, rita, "m", tmp_path / "prod")
    assert out.read_bytes() == weights_file(b"release 1")
    with pytest.raises(DeniedError, match=r"m@2 is in none: no gate allowed it"):
        promotion.pull(env.reg, rita, newer.ref, tmp_path / "ungated")
    with pytest.raises(DeniedError, match="is in none"):
        promotion.pull(env.reg, rita, "m", tmp_path / "ungated", stage="none")
    assert not (tmp_path / "ungated").exists()
    promotion.pull(env.reg, rita, newer.ref, tmp_path / "ungated", allow_unapproved=True)
    last = list(env.reg.audit_records(env.admin))[-1]
    assert last.action == "version.pull.unapproved" and last.details["stage"] == "none"
