"""Verifying a signed model: the signature, the signer's trust, then the files.

The order is chosen to fail precisely and fast:

1. read the bundle (a missing file is *unsigned*, a damaged one *malformed*);
2. verify the DSSE signature with trusted material (a key, a chain to a trusted root, or Sigstore);
3. check the trust policy: is this signer allowed to sign *this* model;
4. compare the model's file list and sizes with the signed manifest, before reading any content:
   missing, added, renamed (same digest under a new name) and truncated or grown files are found
   from names and sizes alone, and reported without hashing gigabytes;
5. hash the files in parallel and compare digests.

Every failure raises a :class:`~mlwarden.core.errors.VerificationError` whose message names the
files and hex digests involved; :func:`verification_findings` turns it into ``MW-SIGN-*`` findings.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from mlwarden.core.attestation import Envelope, Statement, verify_envelope
from mlwarden.core.errors import InputError, VerificationError
from mlwarden.core.finding import Finding, Location
from mlwarden.core.report import CheckRun, Report
from mlwarden.sign import rules
from mlwarden.sign.bundle import Bundle, SignatureFileError, UnsignedError
from mlwarden.sign.keys import EcdsaVerifier, key_id, pem_hint
from mlwarden.sign.manifest import (
    GIT_PATHS,
    Manifest,
    ModelFile,
    Resource,
    hash_file,
    hash_files,
    list_model_files,
    relative_inside,
)
from mlwarden.sign.oms import statement_to_manifest
from mlwarden.sign.pki import SignerIdentity, fingerprint, subject_alternative_names, verify_chain
from mlwarden.sign.signing import default_signature_path
from mlwarden.sign.trust import Trust, UntrustedSignerError

CHECK_VERSION = "1"
MAX_LISTED = 20
"""Problems spelled out in the one-line error; findings (``--format``) list them all."""
ProblemKind = Literal["modified", "truncated", "grown", "added", "missing", "renamed"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One difference between the model on disk and the signed manifest."""

    kind: ProblemKind
    path: str
    expected: str | None = None
    actual: str | None = None
    renamed_to: str | None = None

    def line(self) -> str:
        if self.kind == "modified":
            return f"modified: {self.path} (signed {self.expected}, found {self.actual})"
        if self.kind in ("truncated", "grown"):
            return f"{self.kind}: {self.path} (signed {self.expected} bytes, found {self.actual})"
        if self.kind == "renamed":
            return f"renamed: {self.path} -> {self.renamed_to} ({self.expected})"
        if self.kind == "missing":
            return f"missing: {self.path} (signed {self.expected})"
        return f"added: {self.path} (not covered by the signature)"

    def to_dict(self) -> dict[str, str | None]:
        return {"kind": self.kind, "path": self.path, "expected": self.expected,
                "actual": self.actual, "renamed_to": self.renamed_to}


class ModelMismatchError(VerificationError):
    """The signature is valid and trusted, but the files differ from what was signed."""

    def __init__(self, problems: Sequence[Problem], *, path: str | Path, hashed: bool):
        self.problems = tuple(problems)
        head = f"model does not match its signature ({len(self.problems)} " \
               f"problem{'s' if len(self.problems) != 1 else ''}"
        head += "" if hashed else ", found before hashing any content"
        shown = "; ".join(p.line() for p in self.problems[:MAX_LISTED])
        if len(self.problems) > MAX_LISTED:
            shown += f"; and {len(self.problems) - MAX_LISTED} more (see --format json)"
        super().__init__(head + "): " + shown, path=path)


@dataclass(frozen=True)
class VerificationResult:
    """A model that verified: who signed it, who trusts them, and what was checked."""

    model: Path
    signature: Path
    identity: SignerIdentity
    trusted_as: str
    manifest: Manifest
    oms_root_digest: str
    model_digest: str
    bytes_hashed: int
    seconds: float
    unsigned_files: tuple[str, ...] = ()
    """Files on disk the signature does not cover, left unchecked (``ignore_unsigned``)."""
    ignored_paths: tuple[str, ...] = ()
    """Every path left out of the comparison: the signature's, the defaults and the caller's."""

    @property
    def method(self) -> str:
        return self.identity.method

    def to_dict(self) -> dict[str, Any]:
        return {"model": str(self.model), "signature": str(self.signature),
                "signer": self.identity.to_dict(), "trusted_as": self.trusted_as,
                "model_digest": self.model_digest, "oms_root_digest": self.oms_root_digest,
                "files": len(self.manifest.resources), "bytes": self.bytes_hashed,
                "seconds": round(self.seconds, 6),
                "unsigned_files_not_checked": list(self.unsigned_files),
                "ignored_paths": list(self.ignored_paths)}


# ---------------------------------------------------------------------------------------------
# Signature and signer


def verify_signature(bundle: Bundle, trust: Trust, *, source: str,
                     signature_path: Path | None = None) -> tuple[Statement, SignerIdentity]:
    """The signed statement and the identity that signed it, checked against ``trust``."""
    if bundle.method == "key":
        return _verify_key(bundle, trust, source)
    if bundle.method == "pki":
        return _verify_pki(bundle, trust, source)
    return _verify_sigstore(bundle, trust, source, signature_path)


def _verify_key(bundle: Bundle, trust: Trust, source: str) -> tuple[Statement, SignerIdentity]:
    if not trust.keys:
        raise VerificationError("the model is signed with a key but no trusted public key was "
                                "given", path=source,
                                advice="pass --public-key, or a --trust file naming the key")
    candidates = list(trust.keys)
    if bundle.public_key_hint:
        candidates = [k for k in candidates if pem_hint(k.public_key) == bundle.public_key_hint]
        if not candidates:
            known = ", ".join(f"{k.name} ({k.keyid})" for k in trust.keys)
            raise VerificationError(
                f"signed with another key: the signature's key hint {bundle.public_key_hint} "
                f"matches no trusted key ({known})", path=source)
    failures: list[str] = []
    for key in candidates:
        try:
            statement = _verify_dsse(bundle.envelope, EcdsaVerifier(key.public_key), source)
        except VerificationError as exc:
            failures.append(exc.message)
            continue
        return statement, SignerIdentity("key", key.keyid)
    if any("not an in-toto statement" in f for f in failures):
        raise VerificationError(failures[0], path=source)
    tried = ", ".join(f"{k.name} ({k.keyid})" for k in candidates)
    raise VerificationError(f"signature does not verify with the trusted key {tried}: the "
                            "signed statement was modified, or another key signed it", path=source)


def _verify_dsse(envelope: Envelope, verifier: EcdsaVerifier, source: str) -> Statement:
    # model_signing writes an empty keyid; ours carries the key id. Either way one key is tried.
    anonymous = Envelope(envelope.payload, envelope.payload_type,
                         tuple(type(s)("", s.sig) for s in envelope.signatures))
    return verify_envelope(anonymous, [verifier], source=source)


def _verify_pki(bundle: Bundle, trust: Trust, source: str) -> tuple[Statement, SignerIdentity]:
    if not trust.roots:
        raise VerificationError("the model is signed with a certificate but no trusted root "
                                "certificate was given", path=source,
                                advice="pass --cert-chain ROOT.pem, or a --trust file with a ca")
    leaf, anchor = verify_chain(bundle.certificate_chain, trust.roots, source=source)
    public_key = leaf.public_key()
    statement = _verify_dsse(bundle.envelope, EcdsaVerifier(public_key), source)  # type: ignore[arg-type]
    identity = SignerIdentity(
        "pki", key_id(public_key),  # type: ignore[arg-type]
        subject=leaf.subject.rfc4514_string(), sans=subject_alternative_names(leaf),
        issuer=leaf.issuer.rfc4514_string(), root_fingerprint=fingerprint(anchor))
    return statement, identity


def _verify_sigstore(bundle: Bundle, trust: Trust, source: str,
                     signature_path: Path | None) -> tuple[Statement, SignerIdentity]:
    if not trust.sigstore:
        raise VerificationError("the model is signed with Sigstore but no trusted Sigstore "
                                "identity was given", path=source,
                                advice="pass --identity and --issuer, or a --trust file with "
                                       "sigstore_identity and sigstore_issuer")
    if signature_path is None:
        raise InputError("Sigstore verification needs the signature file", path=source)
    from model_signing._signing import sign_sigstore

    failures = []
    for identity, issuer in trust.sigstore:
        try:
            verifier = sign_sigstore.Verifier(identity=identity, oidc_issuer=issuer)
            payload_type, payload = verifier._verify_signed_content(
                sign_sigstore.Signature.read(signature_path))
        except Exception as exc:  # noqa: BLE001 - sigstore raises many types; all mean "no"
            failures.append(f"{identity}: {' '.join(str(exc).split()) or type(exc).__name__}")
            continue
        if payload_type != bundle.envelope.payload_type:
            failures.append(f"{identity}: unexpected payload type {payload_type}")
            continue
        try:
            statement = Statement.from_json_bytes(payload, source=source)
        except InputError as exc:
            raise VerificationError(f"signed payload is not an in-toto statement: "
                                    f"{exc.message}", path=source) from None
        return statement, SignerIdentity("sigstore", "", sans=(identity,), issuer=issuer)
    raise VerificationError("Sigstore signature does not verify for any trusted identity: "
                            + "; ".join(failures), path=source,
                            advice="Sigstore verification needs the Sigstore trust root (network "
                                   "on first use)")


# ---------------------------------------------------------------------------------------------
# Files


def _expected_files(manifest: Manifest) -> dict[str, int | None]:
    """File name → expected size (known from recorded sizes, or from shard end offsets)."""
    files: dict[str, int | None] = {}
    if manifest.serialization.method == "shards":
        from mlwarden.sign.manifest import split_shard

        for r in manifest.resources:
            path, _, end = split_shard(r.name)
            files[path] = max(files.get(path) or 0, end)
        return files
    return {r.name: r.size for r in manifest.resources}


def compare_files(model: Path, manifest: Manifest, local: dict[str, ModelFile], *,
                  max_workers: int | None = None, ignore_unsigned: bool = False) -> int:
    """Raise :class:`ModelMismatchError` unless ``local`` matches ``manifest``; bytes hashed.

    With ``ignore_unsigned`` a file on disk that the signature does not list is left alone (as
    ``--ignore-unsigned-files`` does in the reference verifiers); every signed file must still be
    there and match. A signed file that was renamed is still reported as renamed.
    """
    expected = _expected_files(manifest)
    by_name = manifest.by_name
    if manifest.serialization.method == "shards":
        # An empty file has no shards, so a shard manifest cannot list it (spec 6.3.2, and
        # model_signing): it is neither added nor checked.
        local = {n: f for n, f in local.items() if f.size or n in expected}
    missing = sorted(set(expected) - set(local))
    added = sorted(set(local) - set(expected))
    problems: list[Problem] = []
    for name in sorted(set(expected) & set(local)):
        want = expected[name]
        if want is not None and local[name].size != want:
            kind: ProblemKind = "truncated" if local[name].size < want else "grown"
            problems.append(Problem(kind, name, str(want), str(local[name].size)))
    if manifest.serialization.method == "files" and missing and added:
        wanted = {by_name[m].digest: m for m in missing}
        sizes = {expected[m] for m in missing}
        for name in list(added):
            if None not in sizes and local[name].size not in sizes:
                continue
            digest = hash_file(local[name].path, manifest.serialization.hash_type)
            original = wanted.pop(digest, None)
            if original is not None:
                problems.append(Problem("renamed", original, _digest_text(by_name[original]),
                                        renamed_to=name))
                missing.remove(original)
                added.remove(name)
    problems.extend(Problem("missing", m, _missing_text(manifest, m)) for m in missing)
    if not ignore_unsigned:
        problems.extend(Problem("added", a) for a in added)
    if problems:
        raise ModelMismatchError(_sorted(problems), path=model, hashed=False)
    local = {name: f for name, f in local.items() if name in expected}
    actual = {r.name: r for r in hash_files(local, manifest.serialization,
                                            max_workers=max_workers)}
    for resource in manifest.canonical():
        got = actual.get(resource.name)
        if got is None or got.digest != resource.digest:
            problems.append(Problem("modified", resource.name, _digest_text(resource),
                                    _digest_text(got) if got else "nothing"))
    extra = sorted(set(actual) - set(by_name))  # shard boundaries that differ
    problems.extend(Problem("modified", name, "no such shard", _digest_text(actual[name]))
                    for name in extra)
    if problems:
        raise ModelMismatchError(_sorted(problems), path=model, hashed=True)
    return sum(f.size for f in local.values())


def _sorted(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.path, p.kind))


def _digest_text(resource: Resource) -> str:
    return f"{resource.algorithm.split('-sharded-')[0]}:{resource.digest}"


def _missing_text(manifest: Manifest, name: str) -> str:
    resource = manifest.by_name.get(name)
    if resource is not None:
        return _digest_text(resource)
    return f"{sum(1 for r in manifest.resources if r.path == name)} shards"


# ---------------------------------------------------------------------------------------------
# The whole verification


def verify_model(model_path: str | Path, signature_path: str | Path | None, trust: Trust, *,
                 max_workers: int | None = None, ignore_paths: Sequence[str] = (),
                 ignore_unsigned: bool = False) -> VerificationResult:
    """Verify ``model_path`` against its signature under ``trust``; raise on any failure.

    As the OMS verifiers do: the signature's own ``ignore_paths``, the top-level git paths and the
    signature file are left out of the model. ``ignore_paths`` (names relative to the model) are
    left out as well: a file there that the signature lists is then *missing*, never skipped.
    ``ignore_unsigned`` leaves files the signature does not list unchecked (they are named in the
    result); every signed file must still be present and match.
    """
    model = Path(model_path)
    if not model.exists() and not model.is_symlink():
        raise InputError("model not found", path=model)
    signature = Path(signature_path) if signature_path is not None \
        else default_signature_path(model)
    started = time.perf_counter()
    source = str(signature)
    bundle = Bundle.load(signature)
    statement, identity = verify_signature(bundle, trust, source=source,
                                           signature_path=signature)
    try:
        manifest, _ = statement_to_manifest(statement, source=source)
    except InputError as exc:
        raise SignatureFileError(f"signed statement is not a valid OMS manifest: {exc.message}",
                                 path=source) from None
    trusted_as = trust.check(identity, model)
    manifest = single_file_alias(manifest, model)
    single = [r.name for r in manifest.resources] == ["."]
    if model.is_dir() and single:
        raise VerificationError("the signature is for a single file, but the model is a "
                                "directory", path=model)
    if not model.is_dir() and not single:
        raise VerificationError("the signature is for a model directory, but the model is a "
                                "single file", path=model)
    ignore = set(manifest.serialization.ignore_paths) | set(GIT_PATHS) | set(ignore_paths)
    inside = relative_inside(model, signature)
    if inside is not None:
        ignore.add(inside)
    if not model.is_dir():
        ignore = set()  # a single file has nothing to ignore (as the reference verifiers do)
    local = list_model_files(model, ignore=sorted(ignore),
                             allow_symlinks=manifest.serialization.allow_symlinks)
    unsigned = tuple(sorted(set(local) - set(_expected_files(manifest)))) \
        if ignore_unsigned else ()
    hashed = compare_files(model, manifest, local, max_workers=max_workers,
                           ignore_unsigned=ignore_unsigned)
    digest = manifest.model_digest() if manifest.serialization.method == "files" \
        and manifest.serialization.hash_type == "sha256" else ""
    return VerificationResult(model, signature, identity, trusted_as, manifest,
                              "sha256:" + statement.subjects[0].digest["sha256"], digest, hashed,
                              time.perf_counter() - started, unsigned, tuple(sorted(ignore)))


def ignore_path_names(model: str | Path, paths: Sequence[str | Path], *,
                      cwd: Path | None = None) -> tuple[str, ...]:
    """``--ignore-paths`` entries as names relative to the model root.

    An entry is a path relative to the model root, as the OMS spec (6.2.1) and the Go client read
    it. An absolute path, or a relative one that names something existing inside the model from
    the current directory (how ``model_signing``'s Python CLI reads it: ``model/README.md``), is
    taken relative to the model. Entries that leave the model, or hold glob characters (which the
    spec forbids), are refused as usage errors rather than silently dropped.
    """
    from mlwarden.core.errors import UsageError
    from mlwarden.sign.manifest import check_resource_name

    root = Path(model).absolute().resolve()
    here = (cwd or Path.cwd()).absolute()
    names: list[str] = []
    for entry in paths:
        text = str(entry)
        if any(c in text for c in "*?["):
            raise UsageError(f"--ignore-paths {text!r}: glob characters are not allowed (OMS "
                             "ignore paths are exact paths relative to the model)")
        candidate = Path(text) if Path(text).is_absolute() else here / text
        inside: str | None = None
        if Path(text).is_absolute() or candidate.exists():
            try:
                inside = candidate.resolve().relative_to(root).as_posix()
            except ValueError:
                inside = None
            if inside is None and Path(text).is_absolute():
                raise UsageError(f"--ignore-paths {text!r} is not inside the model {model}")
        name = inside if inside is not None else PurePosixPath(text.replace("\\", "/")).as_posix()
        if name in ("", "."):
            raise UsageError(f"--ignore-paths {text!r} names the whole model")
        try:
            check_resource_name(name)
        except InputError as exc:
            raise UsageError(f"--ignore-paths {text!r}: {exc.message}") from None
        names.append(name)
    return tuple(names)


def single_file_alias(manifest: Manifest, model: Path) -> Manifest:
    """A single-file signature that names its file by basename, read as the resource ``.``.

    The OMS spec (6.1.2) names the one resource of a single-file model by its file name; the
    Python client names it ``.``, which is what mlwarden writes. Both verify.
    """
    if model.is_dir() or not manifest.resources:
        return manifest
    from mlwarden.sign.manifest import split_shard

    shards = manifest.serialization.method == "shards"
    paths = {split_shard(r.name)[0] if shards else r.name for r in manifest.resources}
    if paths != {model.name}:
        return manifest
    renamed = []
    for r in manifest.resources:
        name = "." + r.name[len(model.name):] if shards else "."
        renamed.append(Resource(name, r.algorithm, r.digest, r.size))
    return Manifest(manifest.model_name, tuple(renamed), manifest.serialization)


def verification_findings(model_path: str | Path, signature_path: str | Path | None,
                          trust: Trust, *, max_workers: int | None = None,
                          ignore_paths: Sequence[str] = (), ignore_unsigned: bool = False,
                          ) -> tuple[list[Finding], VerificationResult | None]:
    """Findings of verifying the model (none when it verifies) and the result if it did."""
    model = str(model_path)
    sig = str(signature_path or default_signature_path(model_path))
    try:
        result = verify_model(model_path, signature_path, trust, max_workers=max_workers,
                              ignore_paths=ignore_paths, ignore_unsigned=ignore_unsigned)
    except UnsignedError as exc:
        return [rules.UNSIGNED.finding(exc.message, Location(model),
                                       evidence={"signature": sig})], None
    except SignatureFileError as exc:
        return [rules.SIGNATURE_MALFORMED.finding(exc.message, Location(sig),
                                                  evidence={"model": model})], None
    except UntrustedSignerError as exc:
        return [rules.SIGNER_UNTRUSTED.finding(exc.message, Location(model),
                                               evidence={"signature": sig})], None
    except ModelMismatchError as exc:
        return [_problem_finding(model, p) for p in exc.problems], None
    except VerificationError as exc:
        return [rules.SIGNATURE_INVALID.finding(exc.message, Location(sig),
                                                evidence={"model": model})], None
    return [], result


def _problem_finding(model: str, problem: Problem) -> Finding:
    path = model if problem.path == "." else f"{model.rstrip('/')}/{problem.path}"
    rule = {"modified": rules.FILE_MODIFIED, "truncated": rules.FILE_MODIFIED,
            "grown": rules.FILE_MODIFIED, "added": rules.FILE_ADDED,
            "missing": rules.FILE_MISSING, "renamed": rules.FILE_RENAMED}[problem.kind]
    return rule.finding(problem.line(), Location(path), evidence=problem.to_dict())


def verification_report(model_path: str | Path, signature_path: str | Path | None,
                        trust: Trust, *, max_workers: int | None = None,
                        ignore_paths: Sequence[str] = (), ignore_unsigned: bool = False) -> Report:
    """A report for ``--format``: the findings, the model digest and the signer when verified."""
    started = dt.datetime.now(dt.UTC)
    findings, result = verification_findings(model_path, signature_path, trust,
                                             max_workers=max_workers, ignore_paths=ignore_paths,
                                             ignore_unsigned=ignore_unsigned)
    artifacts = {str(model_path): result.model_digest} if result and result.model_digest else {}
    return Report.build("verify", str(model_path), findings, started_at=started,
                        checks=[CheckRun("sign.verify", CHECK_VERSION)], artifacts=artifacts,
                        metadata={"verification": result.to_dict() if result else None})
