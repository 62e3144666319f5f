"""DSSE envelopes and in-toto statements: sign → verify, tampering, wrong keys, malformed input."""

from __future__ import annotations

import base64
import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlwarden.core.attestation import (
    DSSE_PAYLOAD_TYPE,
    STATEMENT_TYPE,
    Envelope,
    Signature,
    Statement,
    Subject,
    pae,
    sign_statement,
    verify_envelope,
)
from mlwarden.core.errors import InputError, VerificationError
from mlwarden.sign.keys import EcdsaSigner, EcdsaVerifier, generate_private_key

DIGEST = "ab" * 32


def statement() -> Statement:
    return Statement((Subject("model", {"sha256": DIGEST}),), "https://example.com/p/v1",
                     {"answer": 42, "names": ["a", "b"]})


@pytest.fixture(scope="module")
def signer() -> EcdsaSigner:
    return EcdsaSigner(generate_private_key("P-256"))


def test_pae_matches_the_dsse_spec_example() -> None:
    # From the DSSE protocol document.
    assert pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world")


@pytest.mark.parametrize("curve", ["P-256", "P-384", "P-521"])
def test_sign_then_verify_round_trips(curve: str) -> None:
    signer = EcdsaSigner(generate_private_key(curve))
    envelope = sign_statement(statement(), signer)
    parsed = Envelope.from_json(envelope.to_json())
    assert parsed == envelope
    got = verify_envelope(parsed, [EcdsaVerifier(signer.public_key)])
    assert got.to_dict() == statement().to_dict()
    assert got.to_dict()["_type"] == STATEMENT_TYPE
    assert envelope.payload_type == DSSE_PAYLOAD_TYPE
    assert envelope.signatures[0].keyid == signer.keyid


def test_tampered_payload_fails(signer: EcdsaSigner) -> None:
    envelope = sign_statement(statement(), signer)
    data = json.loads(envelope.payload)
    data["predicate"]["answer"] = 43
    forged = Envelope(json.dumps(data).encode(), envelope.payload_type, envelope.signatures)
    with pytest.raises(VerificationError, match="bad signature"):
        verify_envelope(forged, [EcdsaVerifier(signer.public_key)])


def test_payload_type_is_bound_by_the_signature(signer: EcdsaSigner) -> None:
    envelope = sign_statement(statement(), signer)
    forged = Envelope(envelope.payload, "application/json", envelope.signatures)
    with pytest.raises(VerificationError, match="payloadType"):
        verify_envelope(forged, [EcdsaVerifier(signer.public_key)])


def test_wrong_key_fails_naming_the_unknown_key(signer: EcdsaSigner) -> None:
    envelope = sign_statement(statement(), signer)
    other = EcdsaVerifier(generate_private_key("P-256").public_key())
    with pytest.raises(VerificationError, match=f"unknown key {signer.keyid}"):
        verify_envelope(envelope, [other])


def test_wrong_key_under_an_empty_keyid_is_a_bad_signature(signer: EcdsaSigner) -> None:
    envelope = sign_statement(statement(), signer)
    anonymous = Envelope(envelope.payload, envelope.payload_type,
                         (Signature("", envelope.signatures[0].sig),))
    assert verify_envelope(anonymous, [EcdsaVerifier(signer.public_key)]) == statement()
    other = EcdsaVerifier(generate_private_key("P-256").public_key())
    with pytest.raises(VerificationError, match="bad signature"):
        verify_envelope(anonymous, [other])


def test_no_signature_and_no_key_are_named(signer: EcdsaSigner) -> None:
    envelope = sign_statement(statement(), signer)
    with pytest.raises(VerificationError, match="no signature"):
        verify_envelope(Envelope(envelope.payload, envelope.payload_type, ()),
                        [EcdsaVerifier(signer.public_key)])
    with pytest.raises(VerificationError, match="no trusted key"):
        verify_envelope(envelope, [])


def test_signed_payload_that_is_not_a_statement(signer: EcdsaSigner) -> None:
    payload = b'{"hello": "world"}'
    sig = signer.sign(pae(DSSE_PAYLOAD_TYPE, payload))
    envelope = Envelope(payload, DSSE_PAYLOAD_TYPE, (Signature(signer.keyid, sig),))
    with pytest.raises(VerificationError, match="not an in-toto statement"):
        verify_envelope(envelope, [EcdsaVerifier(signer.public_key)])


@pytest.mark.parametrize("text, message", [
    ("", "invalid JSON"),
    ("[]", "must be a JSON object"),
    ('{"payload": 1, "payloadType": "x", "signatures": []}', "'payload' must be a base64"),
    ('{"payload": "!!", "payloadType": "x", "signatures": []}', "not valid base64"),
    ('{"payload": "", "payloadType": "", "signatures": []}', "payloadType"),
    ('{"payload": "", "payloadType": "x", "signatures": {}}', "'signatures' must be a list"),
    ('{"payload": "", "payloadType": "x", "signatures": [{"sig": ""}]}', "is empty"),
    ('{"payload": "", "payloadType": "x", "signatures": [{"keyid": 3, "sig": "AA=="}]}',
     "keyid is not a string"),
])
def test_malformed_envelopes_are_input_errors(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as info:
        Envelope.from_json(text, source="sig.json")
    assert info.value.path == "sig.json"


def test_statements_cannot_be_built_invalid() -> None:
    with pytest.raises(InputError, match="at least one subject"):
        Statement((), "https://x", {})
    with pytest.raises(InputError, match="64"):
        Subject("m", {"sha256": "ab"})
    with pytest.raises(InputError, match="lowercase hex"):
        Subject("m", {"sha256": "AB" * 32})
    with pytest.raises(InputError, match="no digest"):
        Subject("m", {})
    with pytest.raises(InputError, match="predicateType"):
        Statement((Subject("m", {"sha256": DIGEST}),), "", {})
    with pytest.raises(InputError, match="JSON-serialisable"):
        Statement((Subject("m", {"sha256": DIGEST}),), "https://x", {"x": object()})


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.update(_type="https://in-toto.io/Statement/v0.1"), "_type"),
    (lambda d: d.update(subject=[]), "non-empty list"),
    (lambda d: d.update(subject=[{"name": "m", "digest": {"sha256": "zz"}}]), "subject\\[0\\]"),
    (lambda d: d.update(predicateType=7), "predicateType"),
    (lambda d: d.update(predicate=[1]), "'predicate' must be an object"),
])
def test_statement_from_dict_names_the_bad_field(mutate, message) -> None:  # type: ignore[no-untyped-def]
    data = statement().to_dict()
    mutate(data)
    with pytest.raises(InputError, match=message):
        Statement.from_dict(data)


def test_canonical_json_is_sorted_and_compact() -> None:
    raw = statement().to_json_bytes()
    assert raw == json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()


def test_urlsafe_unpadded_base64_is_accepted(signer: EcdsaSigner) -> None:
    envelope = sign_statement(statement(), signer)
    data = envelope.to_dict()
    data["payload"] = base64.urlsafe_b64encode(envelope.payload).decode().rstrip("=")
    assert Envelope.from_dict(data) == envelope


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300))
def test_envelope_parser_never_crashes(data: bytes | str) -> None:
    with contextlib.suppress(InputError):
        Envelope.from_json(data)


@settings(max_examples=100, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=10))
def test_statement_parser_never_crashes(data: object) -> None:
    for candidate in (data, {"_type": STATEMENT_TYPE, "subject": data, "predicateType": "p",
                             "predicate": data}):
        with contextlib.suppress(InputError):
            Statement.from_dict(candidate)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400) | st.text(max_size=400))
def test_bundle_parser_never_crashes(data: bytes | str) -> None:
    from mlwarden.sign.bundle import Bundle, SignatureFileError

    with contextlib.suppress(SignatureFileError):
        Bundle.from_json(data)


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
                     | st.text(max_size=12),
                     lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12)


@settings(max_examples=150, deadline=None)
@given(serialization=_json, resources=_json, extension=_json)
def test_oms_predicate_parser_never_crashes(serialization: object, resources: object,
                                            extension: object) -> None:
    from mlwarden.sign.oms import PREDICATE_TYPE, statement_to_manifest

    predicate = {"serialization": serialization, "resources": resources, "mlwarden": extension}
    statement = Statement((Subject("m", {"sha256": DIGEST}),), PREDICATE_TYPE, predicate)
    with contextlib.suppress(InputError):
        statement_to_manifest(statement)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_trust_file_parser_never_crashes(text: str) -> None:
    from mlwarden.core.errors import PolicyError
    from mlwarden.sign.trust import Trust

    with contextlib.suppress(PolicyError):
        Trust.from_yaml(text)


_names = st.text(alphabet="ab./:-\x00 0", max_size=10)
_resource = st.fixed_dictionaries({
    "name": _names, "algorithm": st.sampled_from(["sha256", "blake2b", "sha256-sharded-4", ""]),
    "digest": st.sampled_from(["ab" * 32, "AB" * 32, "ab", ""])})


@settings(max_examples=200, deadline=None)
@given(resources=st.lists(_resource, max_size=4),
       method=st.sampled_from(["files", "shards"]), shard=st.sampled_from([4, 4.0, 4.5, -1]))
def test_oms_resources_are_accepted_only_when_safe(resources: list[dict[str, str]], method: str,
                                                   shard: float) -> None:
    import hashlib

    from mlwarden.sign.oms import PREDICATE_TYPE, statement_to_manifest

    serialization = {"method": method, "hash_type": "sha256", "allow_symlinks": False,
                     "shard_size": shard}
    root = hashlib.sha256(b"".join(bytes.fromhex(r["digest"]) for r in resources
                                   if len(r["digest"]) % 2 == 0)).hexdigest()
    statement = Statement((Subject("m", {"sha256": root}),), PREDICATE_TYPE,
                          {"serialization": serialization, "resources": resources})
    try:
        manifest, _ = statement_to_manifest(statement)
    except InputError:
        return
    for resource in manifest.resources:
        path = resource.path
        assert path == "." or (".." not in path.split("/") and not path.startswith("/")
                               and "\x00" not in path)
