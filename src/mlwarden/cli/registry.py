"""``mlwarden registry``: push, list, show, promote, approve, rollback and pull model versions."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mlwarden.cli.common import (
    FormatOpt,
    JsonFlagOpt,
    OutputOpt,
    TextFormat,
    TextFormatOpt,
    wants_json,
)
from mlwarden.report.interface import OutputFormat

if TYPE_CHECKING:
    from mlwarden.registry.auth import Principal
    from mlwarden.registry.service import Registry, VersionInfo

app = typer.Typer(help="The model registry: versions, stages, approvals, verified pulls.",
                  no_args_is_help=True)
user_app = typer.Typer(help="Users and their roles (admin only).", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
policy_app = typer.Typer(help="The policy each stage's promotions must satisfy.",
                         no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(policy_app, name="policy")

DbOpt = Annotated[str | None, typer.Option(
    "--db", help="Database URL (sqlite:///… or postgresql+psycopg://…); default "
                 "$MLWARDEN_DB, else .mlwarden/registry.db.")]
HomeOpt = Annotated[Path | None, typer.Option(
    "--home", help="Registry home folder (key, store, SQLite db); default $MLWARDEN_HOME or "
                   ".mlwarden.")]
TokenOpt = Annotated[str | None, typer.Option(
    "--token", help="API token; default $MLWARDEN_TOKEN.", show_default=False)]
JsonOpt = JsonFlagOpt  # --json: the same as --format json (hidden, kept for old scripts)
OtpOpt = Annotated[str | None, typer.Option(
    "--otp", help="One-time code from your authenticator (when you enrolled a second factor "
                  "with 'registry mfa enrol', or the registry requires one).", show_default=False)]
mfa_app = typer.Typer(help="Your second factor (TOTP, RFC 6238).", no_args_is_help=True)
app.add_typer(mfa_app, name="mfa")


def open_registry(db: str | None, home: Path | None, *, create: bool = False) -> Registry:
    """The registry, which must exist already unless ``create`` (``registry init`` only)."""
    from mlwarden.registry.service import Registry

    return Registry.open(home=home, db_url=db, create=create)


def caller(reg: Registry, token: str | None) -> Principal:
    return reg.authenticate(token or os.environ.get("MLWARDEN_TOKEN"))


def _print_token(token: str, who: str) -> None:
    from mlwarden.cli.common import err

    err().print(f"API token for {who!r} (shown once; store it as MLWARDEN_TOKEN):")
    typer.echo(token)


@app.command("init")
def init(admin: Annotated[str, typer.Option("--admin", help="Name of the first admin.")] = "admin",
         db: DbOpt = None, home: HomeOpt = None,
         passphrase_file: Annotated[Path | None, typer.Option(  # reg-audit: key at rest
             "--passphrase-file", help="Encrypt the registry key with the passphrase in this file "
                                       "(else $MLWARDEN_KEY_PASSPHRASE).", dir_okay=False)] = None,
         allow_insecure_key: Annotated[bool, typer.Option(
             "--allow-insecure-key", help="Store the registry key unencrypted when no passphrase "
                                          "is given.")] = False) -> None:
    """Create the registry, its signing key (encrypted with a passphrase) and the first admin;
    print the admin's token once."""
    with open_registry(db, home, create=True) as reg:
        if passphrase_file is not None:
            from mlwarden.sign.keystore import read_passphrase

            reg.key_passphrase = read_passphrase(passphrase_file=passphrase_file)
        _print_token(reg.init(admin, allow_insecure_key=allow_insecure_key), admin)


def _version_table(rows: list[VersionInfo]) -> None:
    import sys

    from rich.table import Table

    from mlwarden.cli.common import out

    header = ("model", "version", "stage", "digest", "size", "published by", "created")
    if not sys.stdout.isatty():  # a pipe: plain tab-separated lines, full digests
        typer.echo("\t".join(header))
        for v in rows:
            typer.echo("\t".join((v.model, v.version, v.stage, v.digest, str(v.size),
                                  v.published_by, v.created_at)))
        return
    table = Table(*header)
    for v in rows:
        table.add_row(v.model, v.version, v.stage, v.digest[:19] + "…", str(v.size),
                      v.published_by, v.created_at[:19])
    out().print(table)


@app.command("push")
def push(
    path: Annotated[Path, typer.Argument(help="The model file or folder.")],
    name: Annotated[str, typer.Option("--name", "-n", help="Model name.")],
    version: Annotated[str | None, typer.Option("--version", help="Version label (default: "
                                                "next number).")] = None,
    signature: Annotated[list[Path] | None, typer.Option("--signature", help="OMS signature "
                                                         "bundle (default: MODEL/model.sig or "
                                                         "FILE.sig when present).")] = None,
    provenance: Annotated[list[Path] | None, typer.Option("--provenance", help="Signed SLSA "
                                                          "provenance envelope.")] = None,
    scan_report: Annotated[list[Path] | None, typer.Option("--scan-report", help="JSON scan "
                                                           "report.")] = None,
    data_check: Annotated[list[Path] | None, typer.Option("--data-check", help="Signed data-check "
                                                          "attestation.")] = None,
    model_test: Annotated[list[Path] | None, typer.Option("--model-test", help="Signed model-test "
                                                          "attestation.")] = None,
    db: DbOpt = None, home: HomeOpt = None, token: TokenOpt = None,
    fmt: TextFormatOpt = TextFormat.TABLE, as_json: JsonOpt = False,
) -> None:
    """Store a model (content-addressed) as a new version, with the evidence bound to it."""
    from mlwarden.registry.models import AttestationKind
    from mlwarden.sign.signing import default_signature_path

    sigs = list(signature or [])
    if not sigs and default_signature_path(path).is_file():  # model.sig, or FILE.sig beside it
        sigs.append(default_signature_path(path))
    attachments = {AttestationKind.SIGNATURE: sigs,
                   AttestationKind.PROVENANCE: provenance or [],
                   AttestationKind.SCAN: scan_report or [],
                   AttestationKind.DATA_CHECK: data_check or [],
                   AttestationKind.MODEL_TEST: model_test or []}
    with open_registry(db, home) as reg:
        info = reg.push(caller(reg, token), path, name, version, attachments)
    if wants_json(fmt, as_json):
        typer.echo(json.dumps(info.to_dict(), indent=2))
    else:
        typer.echo(f"pushed {info.ref} ({info.digest}, {info.size} bytes, "
                   f"{len(info.attestations)} attestation(s))")


@app.command("attach")
def attach(ref: Annotated[str, typer.Argument(help="MODEL@VERSION")],
           file: Annotated[Path, typer.Argument(help="The attestation (JSON).")],
           kind: Annotated[str, typer.Option("--kind", help="signature, provenance, scan, "
                                             "data-check or model-test.")],
           db: DbOpt = None, home: HomeOpt = None, token: TokenOpt = None) -> None:
    """Bind more evidence to an existing version."""
    from mlwarden.core.errors import UsageError
    from mlwarden.registry.models import AttestationKind

    try:
        k = AttestationKind(kind)
    except ValueError:
        raise UsageError(f"--kind: unknown kind {kind!r}") from None
    with open_registry(db, home) as reg:
        reg.attach(caller(reg, token), ref, k, file)
    typer.echo(f"attached {k.value} to {ref}")


@app.command("list")
def list_(model: Annotated[str | None, typer.Argument(help="Only this model.")] = None,
          db: DbOpt = None, home: HomeOpt = None, token: TokenOpt = None,
          fmt: TextFormatOpt = TextFormat.TABLE, as_json: JsonOpt = False) -> None:
    """List models and their versions."""
    with open_registry(db, home) as reg:
        rows = reg.list_versions(caller(reg, token), model)
    if wants_json(fmt, as_json):
        typer.echo(json.dumps([r.to_dict() for r in rows], indent=2))
    else:
        _version_table(rows)


@app.command("show")
def show(ref: Annotated[str, typer.Argument(help="MODEL or MODEL@VERSION")],
         db: DbOpt = None, home: HomeOpt = None, token: TokenOpt = None,
         fmt: TextFormatOpt = TextFormat.TABLE, as_json: JsonOpt = False) -> None:
    """Show a version: digest, stage, attestations, approvals and stage history."""
    with open_registry(db, home) as reg:
        info = reg.show(caller(reg, token), ref)
    if wants_json(fmt, as_json):
        typer.echo(json.dumps(info.to_dict(), indent=2))
        return
    typer.echo(f"{info.ref}  stage={info.stage}  digest={info.digest}")
    typer.echo(f"  {info.kind}, {info.size} bytes, published by {info.published_by} at "
               f"{info.created_at}")
    for a in info.attestations:
        typer.echo(f"  attestation {a['kind']}: {a['digest']} (by {a['added_by']})")
    for ap in info.approvals:
        typer.echo(f"  approved for {ap['stage']} by {ap['approver']} at {ap['at']}"
                   + (f": {ap['comment']}" if ap["comment"] else ""))
    for h in info.history:
        typer.echo(f"  {h['at'][:19]} {h['from']} → {h['to']} by {h['actor']}"
                   + (f" ({h['reason']})" if h["reason"] else ""))


@app.command("promote")
def promote(ref: Annotated[str, typer.Argument(help="MODEL@VERSION")],
            to: Annotated[str, typer.Option("--to", help="staging, production or archived.")],
            reason: Annotated[str, typer.Option("--reason", help="Why (recorded).")] = "",
            fmt: FormatOpt = OutputFormat.TABLE, output: OutputOpt = None,
            db: DbOpt = None, home: HomeOpt = None, token: TokenOpt = None,
            otp: OtpOpt = None) -> None:
    """Move a version to a stage; staging and production run the stage's policy first."""
    from mlwarden.cli.common import emit
    from mlwarden.gate import promotion

    with open_registry(db, home) as reg:
        try:
            report = promotion.promote(reg, caller(reg, token), ref, to, reason=reason, otp=otp)
        except promotion.PromotionDenied as exc:
            if output is not None or fmt is not OutputFormat.TABLE:
                emit(exc.report, fmt, output)
            raise
    if output is not None or fmt is not OutputFormat.TABLE:
        emit(report, fmt, output)
    typer.echo(f"promoted {ref} to {to}")


@app.command("approve")
def approve(ref: Annotated[str, typer.Argument(help="MODEL@VERSION")],
            stage: Annotated[str, typer.Option("--stage", help="Stage approved for.")] = "production",
            comment: Annotated[str, typer.Option("--comment", help="Recorded with it.")] = "",
            db: DbOpt = None, home: HomeOpt = None, token: TokenOpt = None,
            otp: OtpOpt = None) -> None:
    """Approve a version for a stage (approvers only; never your own version)."""
    with open_registry(db, home) as reg:
        p = caller(reg, token)
        reg.approve(p, ref, stage, comment, otp=otp)
    typer.echo(f"{p.name} approved {ref} for {stage}")


@app.command("rollback")
def rollback(model: Annotated[str, typer.Argument(help="MODEL")],
             reason: Annotated[str, typer.Option("--reason", help="Why (required, recorded).")],
             db: DbOpt = None, home: HomeOpt = None, token: TokenOpt = None,
             otp: OtpOpt = None) -> None:
    """Return production to the newest earlier production version the current production
    policy still allows (the gate runs again; blocked versions never come back)."""
    from mlwarden.gate import promotion

    with open_registry(db, home) as reg:
        old, new, _ = promotion.rollback(reg, caller(reg, token), model, reason, otp=otp)
    typer.echo(f"rolled back production from {old} to {new}")


@app.command("pull")
def pull(ref: Annotated[str, typer.Argument(help="MODEL or MODEL@VERSION")],
         output: Annotated[Path, typer.Option("--output", "-o", help="New file or folder to "
                                              "write.")],
         stage: Annotated[str | None, typer.Option("--stage", help="The version in this stage "
                                                   "(with a bare MODEL; default production)."
                                                   )] = None,
         key: Annotated[list[Path] | None, typer.Option("--key", help="Trusted public key for "
                                                        "the signature (default: the stage "
                                                        "policy's keys).")] = None,
         require_signature: Annotated[bool, typer.Option("--require-signature",
                                                         help="Refuse unsigned versions.")] = False,
         allow_unapproved: Annotated[bool, typer.Option(
             "--allow-unapproved", help="Also pull a version no gate let into staging or "
                                        "production, or a blocked one (recorded in the audit "
                                        "log).")] = False,
         db: DbOpt = None, home: HomeOpt = None, token: TokenOpt = None) -> None:
    """Re-verify a version's digest and signature, then write it out atomically.

    A bare MODEL is its production version; only versions the gate allowed into staging or
    production (and not blocked) are served unless --allow-unapproved."""
    from mlwarden.gate import promotion

    with open_registry(db, home) as reg:
        dest = promotion.pull(reg, caller(reg, token), ref, output, stage=stage,
                              trusted_keys=key or [], require_signature=require_signature,
                              allow_unapproved=allow_unapproved)
    typer.echo(f"pulled {ref} into {dest} (digest verified)")


@policy_app.command("set")
def policy_set(stage: Annotated[str, typer.Argument(help="staging or production")],
               file: Annotated[Path, typer.Argument(help="Policy YAML (keys are inlined).")],
               db: DbOpt = None, home: HomeOpt = None, token: TokenOpt = None) -> None:
    """Set the policy promotions into a stage must satisfy (admin only)."""
    from mlwarden.gate import promotion

    with open_registry(db, home) as reg:
        policy = promotion.set_stage_policy(reg, caller(reg, token), stage, file)
    typer.echo(f"policy {policy.name!r} ({policy.digest}) now gates {stage}")


@policy_app.command("show")
def policy_show(stage: Annotated[str, typer.Argument(help="staging or production")],
                db: DbOpt = None, home: HomeOpt = None, token: TokenOpt = None) -> None:
    """Show the requirements a stage enforces."""
    from mlwarden.gate.promotion import stage_policy
    from mlwarden.gate.requirements import requirements_for
    from mlwarden.registry.auth import Action

    with open_registry(db, home) as reg:
        reg.authorize(caller(reg, token), Action.READ)
        policy = stage_policy(reg, stage)
    req = requirements_for(policy, stage)
    typer.echo(f"{stage}: policy {policy.name!r} ({policy.digest}), fail on {policy.fail_on}")
    typer.echo(json.dumps(req.model_dump(exclude={"trusted_keys"})
                          | {"trusted_keys": len(req.trusted_keys)}, indent=2))


def _invite(name: str, role: list[str] | None, db: str | None, home: Path | None,
            token: str | None) -> None:
    from mlwarden.cli.common import err
    from mlwarden.registry.auth import parse_roles

    roles = parse_roles(role) if role else None
    with open_registry(db, home) as reg:
        code = reg.invite(caller(reg, token), name, roles)
    err().print(f"one-time invite for {name!r} (valid 7 days; give it to them, they run "
                "'mlwarden registry enrol CODE' to get their own token):")
    typer.echo(code)


RoleOpt = Annotated[list[str] | None, typer.Option(
    "--role", help="admin, publisher, approver, auditor or reader (repeatable; needed for a new "
                   "user).")]


@user_app.command("invite")
def user_invite(name: Annotated[str, typer.Argument(help="User name.")], role: RoleOpt = None,
                db: DbOpt = None, home: HomeOpt = None, token: TokenOpt = None) -> None:
    """Create a user (or re-invite one who lost their token); print a one-time invite code."""
    _invite(name, role, db, home, token)


@user_app.command("add", hidden=True)
def user_add(name: Annotated[str, typer.Argument(help="User name.")], role: RoleOpt = None,
             db: DbOpt = None, home: HomeOpt = None, token: TokenOpt = None) -> None:
    """Deprecated: 'user invite' (prints an invite code, not a token)."""
    _invite(name, role, db, home, token)


@app.command("enrol")
def enrol(code: Annotated[str, typer.Argument(help="The one-time invite code (mlwi_…).")],
          db: DbOpt = None, home: HomeOpt = None) -> None:
    """Spend your invite code and print your own API token once."""
    with open_registry(db, home) as reg:
        name, new = reg.enrol(code)
    _print_token(new, name)


@mfa_app.command("enrol")
def mfa_enrol(db: DbOpt = None, home: HomeOpt = None, token: TokenOpt = None,
              otp: OtpOpt = None) -> None:
    """Give yourself a TOTP second factor; prints its seed and otpauth:// URI once."""
    from mlwarden.registry.totp import provisioning_uri

    with open_registry(db, home) as reg:
        p = caller(reg, token)
        secret = reg.mfa_enrol(p, otp)
    typer.echo(secret)
    typer.echo(provisioning_uri(secret, p.name))


@mfa_app.command("require")
def mfa_require(on: Annotated[bool, typer.Option("--on/--off", help="Require a second factor "
                                                 "of everyone for approve, production promotion "
                                                 "and role changes.")] = True,
                db: DbOpt = None, home: HomeOpt = None, token: TokenOpt = None,
                otp: OtpOpt = None) -> None:
    """Require a second factor registry-wide (admin)."""
    with open_registry(db, home) as reg:
        reg.mfa_require(caller(reg, token), on, otp)
    typer.echo(f"second factor {'required' if on else 'optional'}")


@app.command("block")
def block(ref: Annotated[str, typer.Argument(help="MODEL@VERSION")],
          reason: Annotated[str, typer.Option("--reason", help="Why (required, recorded).")],
          db: DbOpt = None, home: HomeOpt = None, token: TokenOpt = None) -> None:
    """Bar a version from promotion, rollback and pull (admin or approver; audited)."""
    with open_registry(db, home) as reg:
        reg.block(caller(reg, token), ref, reason)
    typer.echo(f"blocked {ref}")


@user_app.command("roles")
def user_roles(name: Annotated[str, typer.Argument(help="User name.")],
               role: Annotated[list[str], typer.Option("--role", help="The complete new set of "
                                                       "roles (repeatable).")],
               db: DbOpt = None, home: HomeOpt = None, token: TokenOpt = None,
               otp: OtpOpt = None) -> None:
    """Replace a user's roles (recorded in the audit log)."""
    from mlwarden.registry.auth import parse_roles

    roles = parse_roles(role)
    with open_registry(db, home) as reg:
        reg.set_roles(caller(reg, token), name, roles, otp=otp)
    typer.echo(f"{name}: {', '.join(sorted(roles))}")


@user_app.command("list")
def user_list(db: DbOpt = None, home: HomeOpt = None, token: TokenOpt = None,
              fmt: TextFormatOpt = TextFormat.TABLE) -> None:
    """List users, roles and token ids."""
    with open_registry(db, home) as reg:
        rows = reg.users(caller(reg, token))
    if fmt is TextFormat.JSON:
        typer.echo(json.dumps(rows, indent=2, default=str))
        return
    for u in rows:
        toks = ", ".join(t["id"] + (" (revoked)" if t["revoked"] else "") for t in u["tokens"])
        typer.echo(f"{u['name']}: {', '.join(u['roles'])}  tokens: {toks or '-'}")


@token_app.command("create")
def token_create(user: Annotated[str | None, typer.Argument(
                     help="Must be yourself: nobody creates another user's token (invite "
                          "them).", show_default=False)] = None,
                 db: DbOpt = None, home: HomeOpt = None, token: TokenOpt = None) -> None:
    """Issue yourself another token; print it once."""
    with open_registry(db, home) as reg:
        p = caller(reg, token)
        _print_token(reg.create_token(p, user or p.name), p.name)


@token_app.command("revoke")
def token_revoke(token_id: Annotated[str, typer.Argument(help="The token id (mlw_<id>_…).")],
                 db: DbOpt = None, home: HomeOpt = None, token: TokenOpt = None) -> None:
    """Revoke a token (your own, or anyone's as admin)."""
    with open_registry(db, home) as reg:
        reg.revoke_token(caller(reg, token), token_id)
    typer.echo(f"revoked token {token_id}")
