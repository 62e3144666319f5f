"""The demo's "Register, gate and promote" step: the release half of the lifecycle.

It uses the signature and provenance earlier steps left in the context when there are any, and
otherwise signs the model itself with a fresh release key, so the step works on its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlwarden.demo.context import DemoContext


def _sign(model: Path, keys: Path) -> tuple[Path, Path]:
    """Sign ``model`` (OMS bundle, P-256 key) and return (signature, public key)."""
    from mlwarden.core.atomic import atomic_write_bytes, atomic_write_text
    from mlwarden.core.attestation import sign_statement
    from mlwarden.sign.bundle import Bundle
    from mlwarden.sign.keys import EcdsaSigner, generate_private_key, pem_hint, public_pem
    from mlwarden.sign.manifest import hash_model
    from mlwarden.sign.oms import manifest_to_statement

    signer = EcdsaSigner(generate_private_key("P-256"))
    pub = keys / "release.pub"
    atomic_write_bytes(pub, public_pem(signer.public_key))
    envelope = sign_statement(manifest_to_statement(hash_model(model)), signer)
    sig = model.with_name(model.name + ".sig")
    atomic_write_text(sig, Bundle(envelope, public_key_hint=pem_hint(signer.public_key)).to_json())
    return sig, pub


def step_registry(ctx: DemoContext) -> None:
    """Push the model with its evidence, gate it into staging and production, pull it back."""
    import json
    import shutil

    from mlwarden.core.errors import DeniedError
    from mlwarden.core.report import CheckRun
    from mlwarden.gate import promotion
    from mlwarden.registry import treehead
    from mlwarden.registry.models import AttestationKind
    from mlwarden.registry.service import Registry
    from mlwarden.report.interface import OutputFormat, write_report

    root = ctx.workdir / "release"  # this step's own folder, made afresh on every run
    shutil.rmtree(root, ignore_errors=True)
    model = ctx.artifacts["model"]
    sig, pub = ctx.artifacts.get("signature"), ctx.artifacts.get("public_key")
    if sig is None or pub is None:
        sig, pub = _sign(model, root / "keys")
        ctx.log(f"signed {model.name} with a fresh release key ({pub})")
    provenance = ctx.artifacts.get("training_provenance")
    training_key = ctx.artifacts.get("training_key")
    keys = [str(k.resolve()) for k in (pub, training_key) if k is not None]
    policy = root / "policies" / "production.yaml"
    policy.parent.mkdir(parents=True, exist_ok=True)
    policy.write_text(
        "name: release\nfail_on: high\ngate:\n  scan: true\n"
        f"  signature: true\n  trusted_keys: {json.dumps(keys)}\n"  # JSON is YAML
        "  stages:\n    production:\n      approvals: 2\n"
        f"      provenance: {'true' if provenance and training_key else 'false'}\n",
        encoding="utf-8")

    home = root / ".mlwarden"
    with Registry.open(home=home, db_url=f"sqlite:///{(home / 'registry.db').resolve()}") as reg:
        admin_token = reg.init("admin", allow_insecure_key=True)  # a throwaway demo
        admin = reg.authenticate(admin_token)
        # each user enrols from their own one-time invite (the admin never holds their token)
        publisher = reg.authenticate(reg.enrol(reg.invite(admin, "pat",
                                                          frozenset({"publisher"})))[1])
        approvers = [reg.authenticate(reg.enrol(reg.invite(admin, n, frozenset({"approver"})))[1])
                     for n in ("ann", "bob")]
        for stage in ("staging", "production"):
            promotion.set_stage_policy(reg, admin, stage, policy)
        attachments = {AttestationKind.SIGNATURE: [sig]}
        if provenance:
            attachments[AttestationKind.PROVENANCE] = [provenance]
        info = reg.push(publisher, model, "breast-cancer-classifier", "1.0", attachments)
        ctx.log(f"pushed {info.ref} ({info.digest}) with {len(info.attestations)} attestation(s)")
        promotion.promote(reg, publisher, info.ref, "staging")
        ctx.log(f"{info.ref} passed the staging gate (scan clean, signature by a trusted key)")
        try:
            promotion.promote(reg, publisher, info.ref, "production")
        except DeniedError as exc:
            ctx.log(f"production refused, as it should be: {exc.message}")
        for approver in approvers:
            reg.approve(approver, info.ref, comment="metrics and evidence reviewed")
        report = promotion.promote(reg, publisher, info.ref, "production", reason="demo release")
        proof = "signed provenance verified, " if provenance and training_key else ""
        ctx.log(f"{proof}approved by ann and bob; {info.ref} is now in production")
        pulled = promotion.pull(reg, publisher, info.ref, root / "deploy" / model.name,
                                require_signature=True)
        ctx.log(f"pulled {pulled} (digest and signature re-verified)")
        status = reg.audit_verify(admin)
        reg.audit_checkpoint(admin)
        sink = ctx.workdir / "reports" / "audit-heads.jsonl"
        head = reg.audit_latest_head(admin)
        if head is not None:
            treehead.append_to_sink(str(sink), head)
    for fmt in (OutputFormat.JSON, OutputFormat.SARIF):
        write_report(report, fmt, ctx.workdir / "reports" / f"gate{fmt.suffix}")
    ctx.log(f"audit log intact: {status.entries} hash-chained entries; checkpoint signed; "
            f"signed tree head anchored to reports/{sink.name}")
    ctx.log(f"an insider deletes the newest audit entries from a copy of the database: "
            f"{_insider_truncation(home, sink, admin_token)}")
    ctx.checks.append(CheckRun("gate", "1"))
    ctx.facts["registry_stage"] = "production"
    ctx.facts["audit_entries"] = status.entries


def _insider_truncation(home: Path, sink: Path, admin_token: str) -> str:
    """What ``audit verify --since-head`` says after someone with write access to the database
    (not to the registry key) deletes the newest entries and fixes the chain head — done on a copy,
    so the demo's own registry stays intact."""
    import shutil
    import sqlite3

    from mlwarden.registry import treehead
    from mlwarden.registry.service import Registry

    copy = home.parent / "insider-copy"
    shutil.copytree(home, copy)
    db = copy / "registry.db"
    with sqlite3.connect(db) as conn:
        keep = conn.execute("SELECT MAX(seq) FROM audit_log").fetchone()[0] - 3
        last = conn.execute("SELECT hash FROM audit_log WHERE seq = ?", (keep,)).fetchone()[0]
        conn.execute("DELETE FROM audit_log WHERE seq > ?", (keep,))
        conn.execute("UPDATE audit_head SET seq = ?, hash = ?, frontier = NULL", (keep, last))
        conn.execute("DELETE FROM audit_checkpoints WHERE seq > ?", (keep,))
        conn.execute("DELETE FROM audit_tree_heads WHERE size > ?", (keep,))
    try:
        with Registry.open(home=copy, db_url=f"sqlite:///{db.resolve()}") as tampered:
            who = tampered.authenticate(admin_token)
            status = tampered.audit_verify(who, since=[treehead.since_head(str(sink))],
                                           remember=False)
    finally:
        shutil.rmtree(copy, ignore_errors=True)
    if status.intact:
        raise RuntimeError("the demo's truncated audit log verified as intact")
    return f"audit verify --since-head reports '{(status.problem or '').split(':')[0]}'"
