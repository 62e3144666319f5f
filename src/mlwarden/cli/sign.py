"""``mlwarden sign``, ``verify``, ``digest`` and ``keys``: OMS model signatures and the key store."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mlwarden.cli.common import (
    AllowInsecureKeyOpt,
    FormatOpt,
    JsonFlagOpt,
    OutputOpt,
    TextFormat,
    TextFormatOpt,
    passphrase_prompt,
    wants_json,
)
from mlwarden.report.interface import OutputFormat

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ec

    from mlwarden.sign.signing import SigningMaterial
    from mlwarden.sign.trust import Trust


class Method(str, Enum):
    KEY = "key"
    PKI = "pki"
    SIGSTORE = "sigstore"


class HashChoice(str, Enum):
    SHA256 = "sha256"
    BLAKE2B = "blake2b"


ModelArg = Annotated[Path, typer.Argument(help="The model: a directory or a single file.")]
SignatureOpt = Annotated[Path | None, typer.Option(
    "--signature", "-s", help="The signature file (default MODEL/model.sig, or MODEL.sig for a "
                              "single file).")]
PassphraseFileOpt = Annotated[Path | None, typer.Option(
    "--passphrase-file", help="Read the key passphrase from this file (else "
                              "$MLWARDEN_KEY_PASSPHRASE, else a prompt).", dir_okay=False)]
HomeOpt = Annotated[Path | None, typer.Option(
    "--home", help="State folder holding keys/ (default $MLWARDEN_HOME or ./.mlwarden).")]


def _say(text: str) -> None:
    """One plain result line on stdout (never wrapped, so scripts can parse it)."""
    sys.stdout.write(text + "\n")


def _signer_key(key: str, passphrase_file: Path | None,
                home: Path | None, allow_insecure: bool = False) -> ec.EllipticCurvePrivateKey:
    """A key from a PEM path, or by name from the key store (as for every signing command)."""
    from mlwarden.sign.keystore import resolve_private_key

    return resolve_private_key(key, passphrase_file=passphrase_file, explicit_home=home,
                               prompt=lambda: passphrase_prompt(False),
                               allow_insecure=allow_insecure)


def sign(
    model: ModelArg,
    key: Annotated[str | None, typer.Option(
        "--key", "-k", help="Private key: a key-store name or a PEM file (ECDSA P-256/384/521).")
    ] = None,
    cert_chain: Annotated[list[Path] | None, typer.Option(
        "--cert-chain", help="PKI: the signing certificate, then its intermediates (PEM; "
                             "repeatable or one file with several).", metavar="PEM")] = None,
    signature: SignatureOpt = None,
    method: Annotated[Method | None, typer.Option(
        "--method", "-m", help="key, pki or sigstore (default: pki with --cert-chain, else key).",
        case_sensitive=False)] = None,
    passphrase_file: PassphraseFileOpt = None,
    allow_insecure_key: AllowInsecureKeyOpt = False,
    hash_name: Annotated[HashChoice, typer.Option(
        "--hash", help="Per-file hash. Only sha256 is verified by the stock model_signing CLI.",
        case_sensitive=False)] = HashChoice.SHA256,
    shard_size: Annotated[int | None, typer.Option(
        "--shard-size", min=1, help="Hash files in shards of this many bytes (OMS 'shards' "
                                    "serialization; the model_signing CLI cannot verify it).")
    ] = None,
    allow_symlinks: Annotated[bool, typer.Option(
        "--allow-symlinks", help="Follow symbolic links that stay inside the model.")] = False,
    ignore: Annotated[list[str] | None, typer.Option(
        "--ignore", "--ignore-paths", metavar="PATH",
        help="A path inside the model to leave out, relative to the model (repeatable); "
             "recorded in the signature's ignore_paths.")] = None,
    identity_token: Annotated[str | None, typer.Option(
        "--identity-token", help="Sigstore: an OIDC identity token to sign with.")] = None,
    staging: Annotated[bool, typer.Option(
        "--staging", help="Sigstore: use the staging instance.")] = False,
    home: HomeOpt = None,
    fmt: TextFormatOpt = TextFormat.TABLE,
    as_json: JsonFlagOpt = False,
) -> None:
    """Sign MODEL in the OpenSSF Model Signing format (a Sigstore bundle, detached)."""
    from mlwarden.cli.common import err
    from mlwarden.core.errors import UsageError
    from mlwarden.sign.manifest import Serialization

    chosen = method or (Method.PKI if cert_chain else Method.KEY)
    if chosen is Method.SIGSTORE:
        from mlwarden.sign.signing import sign_model_sigstore

        if key or cert_chain:
            raise UsageError("--method sigstore signs keylessly: drop --key and --cert-chain")
        path = sign_model_sigstore(model, signature=signature, use_staging=staging,
                                   identity_token=identity_token)
        _say(f"signed {model} with Sigstore -> {path}")
        return
    if not key:
        raise UsageError(f"--method {chosen.value} needs --key (a key-store name or a PEM file)")
    if chosen is Method.PKI and not cert_chain:
        raise UsageError("--method pki needs --cert-chain (the signing certificate first)")
    if chosen is Method.KEY and cert_chain:
        raise UsageError("--cert-chain is for --method pki")
    if hash_name is not HashChoice.SHA256 or shard_size:
        err().print("warning: a non-default hash or sharding cannot be verified by the "
                    "model_signing CLI (it assumes files + sha256)")
    from mlwarden.cli.output import refuse_overwriting_inputs
    from mlwarden.sign.signing import default_signature_path

    refuse_overwriting_inputs(signature or default_signature_path(model),
                              [model, key, *(cert_chain or []), passphrase_file], "--signature")
    serialization = Serialization("shards" if shard_size else "files", hash_name.value,
                                  allow_symlinks, (), shard_size)
    from mlwarden.sign.verify import ignore_path_names

    ignored = ignore_path_names(model, ignore or [])
    material = _material(chosen, key, cert_chain or [], passphrase_file, home, allow_insecure_key)
    from mlwarden.sign.signing import sign_model

    result = sign_model(model, material, signature=signature, serialization=serialization,
                        ignore=ignored)
    if wants_json(fmt, as_json):
        sys.stdout.write(json.dumps(result.to_dict(), indent=2) + "\n")
        return
    _say(f"signed {model} -> {result.signature}")
    _say(f"  method {result.method}, key {result.keyid}")
    _say(f"  {len(result.manifest.resources)} resources, {result.bytes_hashed} bytes, "
                f"{result.seconds:.3f}s")
    _say(f"  model digest {result.model_digest}")


def _material(method: Method, key: str, chain: list[Path], passphrase_file: Path | None,
              home: Path | None, allow_insecure: bool = False) -> SigningMaterial:
    from mlwarden.sign.keys import EcdsaSigner
    from mlwarden.sign.signing import CertificateMaterial, KeyMaterial

    signer = EcdsaSigner(_signer_key(key, passphrase_file, home, allow_insecure))
    if method is Method.KEY:
        return KeyMaterial(signer)
    from mlwarden.sign.pki import load_certificates

    certs = tuple(c for p in chain for c in load_certificates(p))
    return CertificateMaterial(signer, certs)


def _trust(public_key: list[Path] | None, trust: Path | None, cert_chain: list[Path] | None,
           identity: str | None, issuer: str | None) -> Trust:
    from mlwarden.core.errors import UsageError
    from mlwarden.sign.trust import AllOf, AnyOf, SigstoreIdentityIs, Trust

    given = sum(bool(x) for x in (public_key, trust, cert_chain, issuer))
    if given == 0:
        raise UsageError("say whom to trust: --public-key KEY.pub, --trust trust.yaml, "
                         "--cert-chain ROOT.pem, or --identity with --issuer (Sigstore)")
    if given > 1:
        raise UsageError("give one of --public-key, --trust, --cert-chain or --issuer")
    if trust is not None:
        return Trust.load(trust)
    if public_key:
        return Trust.from_public_keys(public_key)
    if cert_chain:
        return Trust.from_roots(cert_chain, identity)
    if not identity or not issuer:
        raise UsageError("Sigstore verification needs both --identity and --issuer")
    return Trust(policy=AnyOf((AllOf((SigstoreIdentityIs(identity, issuer),)),)),
                 sigstore=((identity, issuer),), source="command line")


def verify(
    model: ModelArg,
    signature: SignatureOpt = None,
    public_key: Annotated[list[Path] | None, typer.Option(
        "--public-key", "-k", help="Trust this public key (PEM) for the model (repeatable).",
        metavar="PEM")
    ] = None,
    trust: Annotated[Path | None, typer.Option(
        "--trust", "-t", help="A trust file (YAML): which signers may sign which models.")] = None,
    cert_chain: Annotated[list[Path] | None, typer.Option(
        "--cert-chain", help="PKI: trusted root certificate(s) (PEM, repeatable).",
        metavar="PEM")] = None,
    identity: Annotated[str | None, typer.Option(
        "--identity", help="The signer identity to require: a certificate subject DN or SAN "
                           "(with --cert-chain), or a Sigstore identity (with --issuer).")] = None,
    issuer: Annotated[str | None, typer.Option(
        "--issuer", help="Sigstore: the OIDC issuer of --identity.")] = None,
    ignore_paths: Annotated[list[str] | None, typer.Option(
        "--ignore-paths", metavar="PATH",
        help="Leave this path of the model out (relative to the model; repeatable). A signed "
             "file left out is reported missing. The signature's own ignore_paths always "
             "apply.")] = None,
    ignore_unsigned_files: Annotated[bool, typer.Option(
        "--ignore-unsigned-files", help="Do not fail on files the signature does not list "
                                        "(every signed file is still checked).")] = False,
    fmt: FormatOpt = OutputFormat.TABLE,
    output: OutputOpt = None,
) -> None:
    """Verify MODEL against its signature and the trust given; exit 1 naming what failed."""
    import warnings

    from mlwarden.cli.common import emit, err, exit_code_for
    from mlwarden.cli.output import refuse_overwriting_inputs
    from mlwarden.sign.signing import default_signature_path
    from mlwarden.sign.trust import UnsafeTrustWarning
    from mlwarden.sign.verify import ignore_path_names, verification_report, verify_model

    refuse_overwriting_inputs(output, [model, signature or default_signature_path(model),
                                       *(public_key or []), trust, *(cert_chain or [])])
    trusted = _trust(public_key, trust, cert_chain, identity, issuer)
    ignored = ignore_path_names(model, ignore_paths or [])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UnsafeTrustWarning)
        if fmt is OutputFormat.TABLE and output is None:
            result = verify_model(model, signature, trusted, ignore_paths=ignored,
                                  ignore_unsigned=ignore_unsigned_files)
        else:
            report = verification_report(model, signature, trusted, ignore_paths=ignored,
                                         ignore_unsigned=ignore_unsigned_files)
    for warning in caught:
        err().print(f"warning: {warning.message}")
    if fmt is OutputFormat.TABLE and output is None:
        _say(f"verified {model} ({result.signature})")
        _say(f"  signed by {result.identity.describe()}, trusted as "
                      f"'{result.trusted_as}'")
        _say(f"  {len(result.manifest.resources)} resources, {result.bytes_hashed} "
                      f"bytes, {result.seconds:.3f}s")
        if result.model_digest:
            _say(f"  model digest {result.model_digest}")
        if result.unsigned_files:
            shown = ", ".join(result.unsigned_files[:10])
            more = len(result.unsigned_files) - 10
            _say(f"  {len(result.unsigned_files)} unsigned file(s) not checked "
                 f"(--ignore-unsigned-files): {shown}" + (f" and {more} more" if more > 0 else ""))
        return
    emit(report, fmt, output)
    raise typer.Exit(int(exit_code_for(report)))


def digest(
    model: ModelArg,
    fmt: Annotated[TextFormat, typer.Option(
        "--format", "-f", case_sensitive=False,
        help="table (the digest alone) or json (also the OMS root digest, files and bytes).")
    ] = TextFormat.TABLE,
    as_json: JsonFlagOpt = False,
) -> None:
    """Print MODEL's digest (sha256 over its canonical OMS resources list): its identity."""
    from mlwarden.sign.manifest import hash_model

    manifest = hash_model(model)
    if wants_json(fmt, as_json):
        sys.stdout.write(json.dumps({
            "model": str(model), "model_digest": manifest.model_digest(),
            "oms_root_digest": "sha256:" + manifest.root_digest(),
            "files": len(manifest.resources),
            "bytes": sum(r.size or 0 for r in manifest.resources)}, indent=2) + "\n")
        return
    sys.stdout.write(manifest.model_digest() + "\n")


keys_app = typer.Typer(help="Manage signing keys (encrypted, under $MLWARDEN_HOME/keys).",
                       no_args_is_help=True)


@keys_app.command("generate")
def keys_generate(
    name: Annotated[str, typer.Argument(help="The key's name in the store.")],
    curve: Annotated[str, typer.Option("--curve", help="P-256, P-384 or P-521.")] = "P-256",
    passphrase_file: PassphraseFileOpt = None,
    home: HomeOpt = None,
) -> None:
    """Generate an ECDSA key pair; the private key is stored encrypted (mode 0600)."""
    from mlwarden.sign.keystore import KeyStore, check_name, read_passphrase

    check_name(name)
    store = KeyStore.open(home)
    passphrase = read_passphrase(passphrase_file=passphrase_file, prompt=lambda: passphrase_prompt(True))
    stored = store.generate(name, passphrase, curve)
    _say(f"generated {stored.curve} key '{name}' (key id {stored.keyid})")
    _say(f"  private: {stored.private_path} (encrypted)")
    _say(f"  public:  {stored.public_path}")


@keys_app.command("list")
def keys_list(
    home: HomeOpt = None,
    fmt: TextFormatOpt = TextFormat.TABLE,
    as_json: JsonFlagOpt = False,
) -> None:
    """List the keys in the store."""
    from mlwarden.sign.keystore import KeyStore

    keys = KeyStore.open(home).list()
    if wants_json(fmt, as_json):
        sys.stdout.write(json.dumps([k.to_dict() for k in keys], indent=2) + "\n")
        return
    if not keys:
        _say("no keys (create one with 'mlwarden keys generate NAME')")
    for k in keys:
        _say(f"{k.name}\t{k.curve}\t{k.keyid}\t{k.created:%Y-%m-%d}")


@keys_app.command("export")
def keys_export(
    name: Annotated[str, typer.Argument(help="The key's name in the store.")],
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Write the public key here instead of stdout.")] = None,
    home: HomeOpt = None,
) -> None:
    """Export a public key (PEM) to give to verifiers. Private keys are never exported."""
    from mlwarden.cli.output import stdout_if_dash
    from mlwarden.core.atomic import atomic_write_bytes
    from mlwarden.sign.keystore import KeyStore

    store = KeyStore.open(home)
    pem = store.export_public(name)
    output = stdout_if_dash(output)
    if output is not None:
        if output.suffix == ".key" and output.resolve().parent == store.root.resolve():
            from mlwarden.core.errors import UsageError

            raise UsageError("--output would overwrite a private key in the key store",
                             path=output, advice="export the public key somewhere else")
        atomic_write_bytes(output, pem)
        return
    sys.stdout.write(pem.decode("ascii"))
