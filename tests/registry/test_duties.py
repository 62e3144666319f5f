"""Separation of duties, each attack as a test (SQLite and PostgreSQL): an admin acting alone, a
demoted approver, a publisher, and someone writing the database."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import text

from mlwarden.core.errors import DeniedError, UsageError
from mlwarden.gate import promotion
from mlwarden.gate.promotion import PromotionDenied
from mlwarden.registry import totp
from mlwarden.registry.auth import Principal
from mlwarden.registry.models import AttestationKind

from .conftest import Env
from .helpers import clean_model, new_key, oms_signature, policy_file


def _code(secret: str, at: float | None = None) -> str:
    return totp.totp(totp.decode_secret(secret), time.time() if at is None else at)


def _release(env: Env, tmp: Path, approvals: int = 1) -> tuple[Principal, str]:
    """Policies needing a trusted signature (and ``approvals`` for production); a publisher's
    signed version already in staging: ``(publisher, ref)``."""
    signer, pub = new_key(tmp, "release")
    prod = policy_file(tmp, "prod", gate=f"    signature: true\n    trusted_keys: [{pub.name}]\n"
                                         f"    stages:\n      production: {{approvals: "
                                         f"{approvals}}}\n")
    promotion.set_stage_policy(env.reg, env.admin, "production", prod)
    promotion.set_stage_policy(env.reg, env.admin, "staging", prod)
    publisher, _ = env.user("pat", "publisher")
    model = clean_model(tmp / "m" / "model.bin", b"release")
    sig = tmp / "m.sig"
    sig.write_text(oms_signature(model, signer))
    info = env.reg.push(publisher, model, "churn", attachments={AttestationKind.SIGNATURE: [sig]})
    promotion.promote(env.reg, publisher, info.ref, "staging")
    return publisher, info.ref


def test_nobody_creates_a_token_for_someone_else(env: Env) -> None:
    ann, _ = env.user("ann", "approver")
    with pytest.raises(DeniedError, match="cannot create a token for 'ann'"):
        env.reg.create_token(env.admin, "ann")
    assert env.reg.create_token(ann).startswith("mlw_")  # one's own: fine
    denied = [r for r in env.reg.audit_records(env.admin) if r.action == "access.denied"]
    assert denied[-1].subject == "token.create" and denied[-1].details["for"] == "ann"


def test_invites_are_one_time_expire_and_record_who_enrolled(env: Env) -> None:
    code = env.reg.invite(env.admin, "ann", frozenset({"approver"}))
    assert code.startswith("mlwi_")
    with pytest.raises(DeniedError, match="invalid"):
        env.reg.authenticate(code)  # an invite is not a token
    name, token = env.reg.enrol(code)
    assert name == "ann" and env.reg.authenticate(token).roles == frozenset({"approver"})
    with pytest.raises(DeniedError, match="used"):
        env.reg.enrol(code)
    with pytest.raises(DeniedError, match="invalid"):
        env.reg.enrol(code[:-1] + ("A" if code[-1] != "A" else "B"))
    late = env.reg.invite(env.admin, "bob", frozenset({"reader"}))
    with env.reg.engine.begin() as conn:  # the attacker's clock trick: age the invite
        conn.execute(text("UPDATE invites SET expires_at = '2000-01-01T00:00:00.000000+00:00' "
                          "WHERE id = :i"), {"i": late.split("_")[1]})
    with pytest.raises(DeniedError, match="expired"):
        env.reg.enrol(late)
    with pytest.raises(UsageError, match="needs --role"):
        env.reg.invite(env.admin, "carl")
    again = env.reg.invite(env.admin, "ann")  # a lost token: re-invite, roles kept
    _, second = env.reg.enrol(again)
    assert env.reg.authenticate(second).roles == frozenset({"approver"})
    enrolled = [r for r in env.reg.audit_records(env.admin) if r.action == "user.enrol"]
    assert [(r.actor, r.details["invited_by"]) for r in enrolled] == [("ann", "root")] * 2
    failed = [r for r in env.reg.audit_records(env.admin) if r.action == "auth.failed"]
    assert {r.details["reason"] for r in failed} >= {"invite used", "invite expired"}


def _admin_release(env: Env, tmp_path: Path) -> str:
    """The admin pushes a signed model and promotes it to staging; production needs 1 approval."""
    signer, pub = new_key(tmp_path, "release")
    pol = policy_file(tmp_path, "p", gate=f"    signature: true\n    trusted_keys: [{pub.name}]\n"
                                          "    stages:\n      production: {approvals: 1}\n")
    for stage in ("staging", "production"):
        promotion.set_stage_policy(env.reg, env.admin, stage, pol)
    model = clean_model(tmp_path / "m" / "model.bin", b"admin's own")
    sig = tmp_path / "m.sig"
    sig.write_text(oms_signature(model, signer))
    info = env.reg.push(env.admin, model, "m", attachments={AttestationKind.SIGNATURE: [sig]})
    promotion.promote(env.reg, env.admin, info.ref, "staging")
    return info.ref


def test_an_admin_alone_cannot_push_approve_and_promote(env: Env, tmp_path: Path) -> None:
    ref = _admin_release(env, tmp_path)
    with pytest.raises(DeniedError, match="cannot approve"):
        env.reg.approve(env.admin, ref)
    # a sock puppet: the admin invites an approver and enrols it themselves
    sock, _ = env.user("sock", "approver")
    env.reg.approve(sock, ref)
    with pytest.raises(PromotionDenied, match=r"sock \(invited by the publisher or the promoter\)"):
        promotion.promote(env.reg, env.admin, ref, "production")


def test_an_admin_cannot_approve_through_a_chain_of_puppets(env: Env, tmp_path: Path) -> None:
    """Attacker: an admin who invites another admin, who invites the approver (a chain of
    puppets): the invitation chain leads back to the publisher, so the approval does not count."""
    ref = _admin_release(env, tmp_path)
    middle, _ = env.user("middle", "admin")
    _, token = env.reg.enrol(env.reg.invite(middle, "puppet", frozenset({"approver"})))
    puppet = env.reg.authenticate(token)
    env.reg.approve(puppet, ref)
    with pytest.raises(PromotionDenied, match=r"puppet \(invited, through users they invited, "
                                              r"by the publisher or the promoter\)"):
        promotion.promote(env.reg, env.admin, ref, "production")


def test_the_promoter_s_own_approval_does_not_count(env: Env, tmp_path: Path) -> None:
    publisher, ref = _release(env, tmp_path)
    other_admin, _ = env.user("ada", "admin")
    env.reg.approve(other_admin, ref)
    with pytest.raises(PromotionDenied, match=r"ada \(the promoter\)"):
        promotion.promote(env.reg, other_admin, ref, "production")
    assert promotion.promote(env.reg, publisher, ref, "production").decision.allowed  # type: ignore[union-attr]


def test_a_demoted_approver_s_approval_stops_counting(env: Env, tmp_path: Path) -> None:
    publisher, ref = _release(env, tmp_path)
    ann, _ = env.user("ann", "approver")
    env.reg.approve(ann, ref)
    env.reg.set_roles(env.admin, "ann", frozenset({"reader"}))
    with pytest.raises(PromotionDenied, match=r"0 of 1 .*ann \(no longer an approver\)"):
        promotion.promote(env.reg, publisher, ref, "production")
    env.reg.set_roles(env.admin, "ann", frozenset({"approver"}))  # reinstated: counts again
    assert promotion.promote(env.reg, publisher, ref, "production").decision.allowed  # type: ignore[union-attr]


def test_an_approval_made_with_a_revoked_token_stops_counting(env: Env, tmp_path: Path) -> None:
    publisher, ref = _release(env, tmp_path)
    ann, _ = env.user("ann", "approver")
    env.reg.approve(ann, ref)
    assert ann.token_id is not None
    env.reg.revoke_token(env.admin, ann.token_id)
    with pytest.raises(PromotionDenied, match=r"ann \(its token was revoked\)"):
        promotion.promote(env.reg, publisher, ref, "production")


def test_n_distinct_approvers(env: Env, tmp_path: Path) -> None:
    publisher, ref = _release(env, tmp_path, approvals=2)
    ann, _ = env.user("ann", "approver")
    env.reg.approve(ann, ref)
    with pytest.raises(Exception, match="already approved"):
        env.reg.approve(ann, ref)
    with pytest.raises(PromotionDenied, match="1 of 2"):
        promotion.promote(env.reg, publisher, ref, "production")
    bob, _ = env.user("bob", "approver")
    env.reg.approve(bob, ref)
    report = promotion.promote(env.reg, publisher, ref, "production")
    assert report.decision is not None and report.decision.allowed


def test_forged_approval_rows_do_not_count(env: Env, tmp_path: Path) -> None:
    """Raw SQL: an approval row with no token, or with another user's token, is not counted."""
    publisher, ref = _release(env, tmp_path, approvals=1)
    ann, _ = env.user("ann", "approver")
    _bob, _ = env.user("bob", "approver")
    for token_id, why in ((None, "not bound to a token"),
                          (ann.token_id, "its token is not the approver's")):
        with env.reg.engine.begin() as conn:
            vid = conn.execute(text("SELECT id FROM model_versions")).scalar()
            conn.execute(text("DELETE FROM approvals"))
            conn.execute(text("INSERT INTO approvals (version_id, approver, stage, comment, "
                              "created_at, token_id) VALUES (:v, 'bob', 'production', '', "
                              "'2026-12-08T00:00:00', :t)"), {"v": vid, "t": token_id})
        with pytest.raises(PromotionDenied, match=rf"bob \({why}\)"):
            promotion.promote(env.reg, publisher, ref, "production")


def test_totp_second_factor_for_approve_promote_and_roles(env: Env, tmp_path: Path) -> None:
    publisher, ref = _release(env, tmp_path)
    ann, _ = env.user("ann", "approver")
    secret = env.reg.mfa_enrol(ann)
    with pytest.raises(DeniedError, match="needs a one-time code"):
        env.reg.approve(ann, ref)
    with pytest.raises(DeniedError, match="wrong, expired"):
        env.reg.approve(ann, ref, otp="000000" if _code(secret) != "000000" else "111111")
    code = _code(secret)
    env.reg.approve(ann, ref, otp=code)
    with pytest.raises(DeniedError, match="wrong, expired or already used"):
        env.reg.mfa_enrol(ann, otp=code)  # a code is never accepted twice
    # registry-wide requirement: the publisher has no second factor, so cannot promote to prod
    admin_secret = env.reg.mfa_enrol(env.admin)
    env.reg.mfa_require(env.admin, True, otp=_code(admin_secret))
    with pytest.raises(DeniedError, match="needs a second factor and 'pat' has none"):
        promotion.promote(env.reg, publisher, ref, "production")
    pat_secret = env.reg.mfa_enrol(publisher)
    assert promotion.promote(env.reg, publisher, ref, "production",
                             otp=_code(pat_secret)).decision.allowed  # type: ignore[union-attr]
    with pytest.raises(DeniedError, match="needs a one-time code"):
        env.reg.set_roles(env.admin, "ann", frozenset({"reader"}))
    env.reg.set_roles(env.admin, "ann", frozenset({"reader"}), otp=_code(admin_secret, time.time() + 30))
    denied = [r for r in env.reg.audit_records(env.admin)
              if r.action == "access.denied" and r.subject == "mfa"]
    assert len(denied) == 5
