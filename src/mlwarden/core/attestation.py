"""Attestations: in-toto Statements v1 wrapped in signed DSSE v1 envelopes.

An attestation says something (the *predicate*) about artifacts (the *subjects*, named and identified
by digest). It travels as a DSSE envelope whose signatures cover the pre-authentication encoding
(:func:`pae`) of the payload, never the raw JSON, so a signature cannot be replayed under another
payload type. The objects here validate themselves: a :class:`Statement` or :class:`Envelope` that
exists is well formed (sigstore-python's ``Bundle`` style); parsing untrusted bytes raises
:class:`~mlwarden.core.errors.InputError` naming the source and the field.

Specs: https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md and
https://github.com/secure-systems-lab/dsse/blob/master/protocol.md
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from mlwarden.core.errors import InputError, VerificationError

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
DSSE_PAYLOAD_TYPE = "application/vnd.in-toto+json"

_HEX = re.compile(r"^[0-9a-f]+$")
_DIGEST_ALGORITHM = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
# Lengths (in hex characters) of the digests we know; any other algorithm only needs lowercase hex.
_KNOWN_DIGEST_HEX = {"sha256": 64, "sha384": 96, "sha512": 128, "sha1": 40, "blake2b": 128}


def _canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True, slots=True)
class Subject:
    """An artifact a statement is about: a name and at least one digest (``{"sha256": hex}``)."""

    name: str
    digest: Mapping[str, str] = field(hash=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise InputError(f"subject name must be a string, not {type(self.name).__name__}")
        if not isinstance(self.digest, Mapping) or not self.digest:
            raise InputError(f"subject {self.name!r} has no digest")
        for algorithm, value in self.digest.items():
            if not isinstance(algorithm, str) or not _DIGEST_ALGORITHM.match(algorithm):
                raise InputError(f"subject {self.name!r}: bad digest algorithm {algorithm!r}")
            if not isinstance(value, str) or not value or not _HEX.match(value):
                raise InputError(
                    f"subject {self.name!r}: {algorithm} digest is not lowercase hex")
            want = _KNOWN_DIGEST_HEX.get(algorithm)
            if want is not None and len(value) != want:
                raise InputError(f"subject {self.name!r}: {algorithm} digest has {len(value)} "
                                 f"hex characters, expected {want}")
        object.__setattr__(self, "digest", dict(sorted(self.digest.items())))

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "digest": dict(self.digest)}


@dataclass(frozen=True, slots=True)
class Statement:
    """An in-toto Statement v1: subjects, a predicate type (a URI) and the predicate itself."""

    subjects: tuple[Subject, ...]
    predicate_type: str
    predicate: Mapping[str, Any] = field(hash=False)

    def __post_init__(self) -> None:
        subjects = tuple(self.subjects)
        if not subjects:
            raise InputError("an in-toto statement needs at least one subject")
        for subject in subjects:
            if not isinstance(subject, Subject):
                raise InputError(f"subjects must be Subject values, not {type(subject).__name__}")
        if not isinstance(self.predicate_type, str) or not self.predicate_type.strip():
            raise InputError("an in-toto statement needs a predicateType")
        if not isinstance(self.predicate, Mapping):
            raise InputError("the predicate of an in-toto statement must be a JSON object")
        try:
            _canonical_json(self.predicate)
        except (TypeError, ValueError) as exc:
            raise InputError(f"the predicate is not JSON-serialisable: {exc}") from None
        object.__setattr__(self, "subjects", subjects)

    def to_dict(self) -> dict[str, Any]:
        return {
            "_type": STATEMENT_TYPE,
            "subject": [s.to_dict() for s in self.subjects],
            "predicateType": self.predicate_type,
            "predicate": dict(self.predicate),
        }

    def to_json_bytes(self) -> bytes:
        """Canonical JSON bytes: sorted keys, no spaces, UTF-8."""
        return _canonical_json(self.to_dict())

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "<statement>") -> Statement:
        """Parse a decoded JSON statement; raises :class:`InputError` naming what is wrong."""
        if not isinstance(data, Mapping):
            raise InputError("an in-toto statement must be a JSON object", path=source)
        kind = data.get("_type")
        if kind != STATEMENT_TYPE:
            raise InputError(f"_type is {kind!r}, expected {STATEMENT_TYPE!r}", path=source)
        raw_subjects = data.get("subject")
        if not isinstance(raw_subjects, list) or not raw_subjects:
            raise InputError("'subject' must be a non-empty list", path=source)
        subjects = []
        for index, raw in enumerate(raw_subjects):
            if not isinstance(raw, Mapping):
                raise InputError(f"subject[{index}] is not an object", path=source)
            name, digest = raw.get("name", ""), raw.get("digest")
            if not isinstance(digest, Mapping):
                raise InputError(f"subject[{index}].digest is not an object", path=source)
            try:
                subjects.append(Subject(name=name, digest=dict(digest)))
            except InputError as exc:
                raise InputError(f"subject[{index}]: {exc.message}", path=source) from None
        predicate_type = data.get("predicateType")
        if not isinstance(predicate_type, str) or not predicate_type:
            raise InputError("'predicateType' must be a non-empty string", path=source)
        predicate = data.get("predicate", {})
        if not isinstance(predicate, Mapping):
            raise InputError("'predicate' must be an object", path=source)
        try:
            return cls(tuple(subjects), predicate_type, dict(predicate))
        except InputError as exc:
            raise InputError(exc.message, path=source) from None

    @classmethod
    def from_json_bytes(cls, payload: bytes, *, source: str = "<statement>") -> Statement:
        try:
            data = json.loads(payload)
        except (UnicodeDecodeError, ValueError) as exc:
            raise InputError(f"statement is not valid JSON: {exc}", path=source) from None
        except RecursionError:
            raise InputError("statement JSON is nested too deeply", path=source) from None
        return cls.from_dict(data, source=source)


@dataclass(frozen=True, slots=True)
class Signature:
    """One DSSE signature: the signer's key id (may be empty) and the raw signature bytes."""

    keyid: str
    sig: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.keyid, str):
            raise InputError("a signature keyid must be a string")
        if not isinstance(self.sig, bytes) or not self.sig:
            raise InputError("a signature must be non-empty bytes")


@dataclass(frozen=True, slots=True)
class Envelope:
    """A DSSE v1 envelope: the payload bytes, their type, and signatures over :func:`pae`."""

    payload: bytes
    payload_type: str
    signatures: tuple[Signature, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.payload, bytes):
            raise InputError("a DSSE payload must be bytes")
        if not isinstance(self.payload_type, str) or not self.payload_type:
            raise InputError("a DSSE envelope needs a payloadType")
        object.__setattr__(self, "signatures", tuple(self.signatures))

    def to_dict(self) -> dict[str, Any]:
        return {
            "payload": base64.b64encode(self.payload).decode("ascii"),
            "payloadType": self.payload_type,
            "signatures": [{"keyid": s.keyid, "sig": base64.b64encode(s.sig).decode("ascii")}
                           for s in self.signatures],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "<envelope>") -> Envelope:
        if not isinstance(data, Mapping):
            raise InputError("a DSSE envelope must be a JSON object", path=source)
        payload = _b64_field(data.get("payload"), "payload", source)
        payload_type = data.get("payloadType")
        if not isinstance(payload_type, str) or not payload_type:
            raise InputError("'payloadType' must be a non-empty string", path=source)
        raw_sigs = data.get("signatures")
        if not isinstance(raw_sigs, list):
            raise InputError("'signatures' must be a list", path=source)
        signatures = []
        for index, raw in enumerate(raw_sigs):
            if not isinstance(raw, Mapping):
                raise InputError(f"signatures[{index}] is not an object", path=source)
            keyid = raw.get("keyid", "")
            if keyid is None:
                keyid = ""
            if not isinstance(keyid, str):
                raise InputError(f"signatures[{index}].keyid is not a string", path=source)
            sig = _b64_field(raw.get("sig"), f"signatures[{index}].sig", source)
            if not sig:
                raise InputError(f"signatures[{index}].sig is empty", path=source)
            signatures.append(Signature(keyid=keyid, sig=sig))
        return cls(payload=payload, payload_type=payload_type, signatures=tuple(signatures))

    @classmethod
    def from_json(cls, text: str | bytes, *, source: str = "<envelope>") -> Envelope:
        """Parse an envelope; malformed input raises :class:`InputError` naming ``source``."""
        try:
            data = json.loads(text)
        except (UnicodeDecodeError, ValueError) as exc:
            raise InputError(f"not a DSSE envelope (invalid JSON: {exc})", path=source) from None
        except RecursionError:
            raise InputError("not a DSSE envelope (JSON nested too deeply)", path=source) from None
        return cls.from_dict(data, source=source)

    @classmethod
    def load(cls, path: str | Path) -> Envelope:
        try:
            data = Path(path).read_bytes()
        except FileNotFoundError:
            raise InputError("envelope file not found", path=path) from None
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror or exc}", path=path) from None
        return cls.from_json(data, source=str(path))


def _b64_field(value: Any, name: str, source: str) -> bytes:
    if not isinstance(value, str):
        raise InputError(f"{name!r} must be a base64 string", path=source)
    try:
        # DSSE allows standard or URL-safe base64, with or without padding.
        text = value.replace("-", "+").replace("_", "/")
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise InputError(f"{name!r} is not valid base64", path=source) from None


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding: ``DSSEv1 SP len(type) SP type SP len(body) SP body``."""
    type_bytes = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(type_bytes), type_bytes, len(payload), payload)


@runtime_checkable
class Signer(Protocol):
    """Something that signs bytes under a key id."""

    @property
    def keyid(self) -> str: ...

    def sign(self, data: bytes) -> bytes: ...


@runtime_checkable
class Verifier(Protocol):
    """Something that checks a signature over bytes for one key id."""

    @property
    def keyid(self) -> str: ...

    def verify(self, signature: bytes, data: bytes) -> bool: ...


def sign_statement(statement: Statement, signer: Signer) -> Envelope:
    """Sign ``statement`` into a DSSE envelope with one signature."""
    payload = statement.to_json_bytes()
    sig = signer.sign(pae(DSSE_PAYLOAD_TYPE, payload))
    return Envelope(payload=payload, payload_type=DSSE_PAYLOAD_TYPE,
                    signatures=(Signature(keyid=signer.keyid, sig=sig),))


def verify_envelope(envelope: Envelope, verifiers: Sequence[Verifier],
                    *, source: str = "<envelope>") -> Statement:
    """The statement inside ``envelope`` if at least one signature verifies with a trusted key.

    A signature whose keyid is empty is tried against every verifier. Raises
    :class:`VerificationError` naming what failed: no signature, no trusted key, a bad signature,
    or a payload that is not an in-toto Statement.
    """
    if not envelope.signatures:
        raise VerificationError("the envelope has no signature", path=source)
    if not verifiers:
        raise VerificationError("no trusted key to verify the envelope with", path=source)
    if envelope.payload_type != DSSE_PAYLOAD_TYPE:
        raise VerificationError(
            f"payloadType is {envelope.payload_type!r}, expected {DSSE_PAYLOAD_TYPE!r}",
            path=source)
    message = pae(envelope.payload_type, envelope.payload)
    by_id: dict[str, list[Verifier]] = {}
    for verifier in verifiers:
        by_id.setdefault(verifier.keyid, []).append(verifier)
    tried: list[str] = []
    for signature in envelope.signatures:
        candidates = by_id.get(signature.keyid, []) if signature.keyid else list(verifiers)
        if not candidates:
            continue
        tried.append(signature.keyid or "(no keyid)")
        if any(_safe_verify(v, signature.sig, message) for v in candidates):
            try:
                return Statement.from_json_bytes(envelope.payload, source=source)
            except InputError as exc:
                raise VerificationError(f"signed payload is not an in-toto statement: "
                                        f"{exc.message}", path=source) from None
    if not tried:
        ids = ", ".join(sorted({s.keyid or "(no keyid)" for s in envelope.signatures}))
        trusted = ", ".join(sorted(by_id))
        raise VerificationError(f"signed by unknown key {ids}; trusted keys: {trusted}",
                                path=source)
    raise VerificationError(f"bad signature from key {', '.join(tried)} (the payload or the "
                            "signature was modified, or another key signed it)", path=source)


def _safe_verify(verifier: Verifier, signature: bytes, data: bytes) -> bool:
    try:
        return bool(verifier.verify(signature, data))
    except (ValueError, TypeError):
        return False
