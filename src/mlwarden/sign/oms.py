"""The OMS v1.0 predicate: a manifest as an in-toto Statement, and back.

The statement has one subject, named after the model, whose ``sha256`` digest is the OMS root digest
over the resources in the order they are listed; the predicate ``https://model_signing/signature/v1.0``
holds exactly ``serialization`` and ``resources``, as the OMS predicate schema defines them (it admits
no other key). Resources are listed in Unicode code-point order of their names (shards too: the spec
sorts ``path:start:end`` as strings, and the Go client refuses another order), and a shard's
``algorithm`` is the ``hash_type`` (``sha256``), as the spec says.

mlwarden records the size of every resource where the spec leaves room: resource descriptors admit
fields of their own (in-toto ``annotations``), and verifiers must ignore the ones they do not know.
``{"annotations": {"mlwarden.size": 4096}}`` lets verification reject a truncated or grown file
before hashing it. Signatures mlwarden wrote before this (sizes under a predicate key ``mlwarden``,
shard algorithms ``sha256-sharded-<size>`` as ``model_signing`` writes them) are still read.

Parsing is strict where it protects the verifier (resource names cannot escape the model, digests
must be hex of the right length, the subject digest must match the resources) and lenient where the
reference implementation is sloppy: ``shard_size`` written as a float (``1000000000.0``, because
``model_signing`` serialises through a protobuf ``Struct``) is accepted when it is integral.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from mlwarden.core.attestation import Statement, Subject
from mlwarden.core.errors import InputError
from mlwarden.sign.manifest import (
    HASH_ALGORITHMS,
    Manifest,
    Resource,
    Serialization,
    check_resource_name,
    digest_of,
    split_shard,
)

PREDICATE_TYPE = "https://model_signing/signature/v1.0"
LEGACY_PREDICATE_TYPE = "https://model_signing/Digests/v0.1"
LEGACY_EXTENSION_KEY = "mlwarden"
"""The predicate key older mlwarden signatures held sizes under (outside the OMS schema)."""
SIZE_ANNOTATION = "mlwarden.size"
_DIGEST_HEX = {"sha256": 64, "blake2b": 128}
_SHARDED = re.compile(r"^(?P<hash>[a-z0-9]+)-sharded-(?P<size>\d+)$")


def manifest_to_statement(manifest: Manifest) -> Statement:
    """The OMS statement for ``manifest``: resources in code-point order, sizes annotated."""
    resources = manifest.canonical()
    algorithm = manifest.serialization.hash_type
    listed: list[dict[str, Any]] = []
    for resource in resources:
        entry: dict[str, Any] = {"name": resource.name, "algorithm": algorithm,
                                 "digest": resource.digest}
        if resource.size is not None:
            entry["annotations"] = {SIZE_ANNOTATION: resource.size}
        listed.append(entry)
    predicate: dict[str, Any] = {
        "serialization": manifest.serialization.to_dict(),
        "resources": listed,
    }
    subject = Subject(manifest.model_name, {"sha256": digest_of(resources)})
    return Statement((subject,), PREDICATE_TYPE, predicate)


def _serialization(raw: Any, source: str) -> Serialization:
    if not isinstance(raw, Mapping):
        raise InputError("predicate.serialization is not an object", path=source)
    method = raw.get("method")
    hash_type = raw.get("hash_type")
    if hash_type == "blake3" or hash_type not in HASH_ALGORITHMS:
        raise InputError(f"signature uses hash {hash_type!r}, which mlwarden does not compute "
                         f"(supported: {', '.join(HASH_ALGORITHMS)})", path=source)
    allow_symlinks = raw.get("allow_symlinks", False)
    if isinstance(allow_symlinks, str):  # the v0.2 compat payload wrote "false"
        allow_symlinks = allow_symlinks.lower() == "true"
    if not isinstance(allow_symlinks, bool):
        raise InputError("serialization.allow_symlinks is not a boolean", path=source)
    ignore = raw.get("ignore_paths", [])
    if not isinstance(ignore, list) or not all(isinstance(p, str) for p in ignore):
        raise InputError("serialization.ignore_paths is not a list of strings", path=source)
    shard_size = None
    if method == "shards":
        size = raw.get("shard_size")
        if isinstance(size, float) and size.is_integer():
            size = int(size)
        if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
            raise InputError(f"serialization.shard_size {size!r} is not a positive integer",
                             path=source)
        shard_size = size
    try:
        return Serialization(str(method), str(hash_type), allow_symlinks,
                             tuple(p for p in ignore if _safe_ignore(p)), shard_size)
    except InputError as exc:
        raise InputError(exc.message, path=source) from None


def _safe_ignore(path: str) -> bool:
    """Ignore entries that point outside the model are dropped (as ``model_signing`` does)."""
    try:
        check_resource_name(path.rstrip("/"))
    except InputError:
        return False
    return True


def statement_to_manifest(statement: Statement, *, source: str = "<signature>",
                          single_file: bool | None = None) -> tuple[Manifest, dict[str, int]]:
    """The manifest a verified OMS statement describes, and the recorded sizes (may be empty).

    ``single_file`` (when known) says whether the model being checked is one file (the signature
    must then hold the single resource ``.``) or a directory (it must not). Raises
    :class:`InputError` naming the field when the statement is not a valid OMS v1.0 one.
    """
    if statement.predicate_type == LEGACY_PREDICATE_TYPE:
        raise InputError("signature uses the pre-1.0 predicate Digests/v0.1, which has no "
                         "serialization or model digest", path=source,
                         advice="re-sign the model with mlwarden or model_signing >= 1.0")
    if statement.predicate_type != PREDICATE_TYPE:
        raise InputError(f"predicateType is {statement.predicate_type!r}, expected "
                         f"{PREDICATE_TYPE!r}", path=source)
    if len(statement.subjects) != 1:
        raise InputError(f"expected one subject, found {len(statement.subjects)}", path=source)
    subject = statement.subjects[0]
    expected_root = subject.digest.get("sha256")
    if expected_root is None:
        raise InputError("subject has no sha256 digest", path=source)
    predicate = statement.predicate
    serialization = _serialization(predicate.get("serialization"), source)
    raw_resources = predicate.get("resources")
    if not isinstance(raw_resources, list):
        raise InputError("predicate.resources is not a list", path=source)
    if not raw_resources:
        # Spec 5.2.1: at least one entry (the Go client refuses an empty list; model_signing
        # 1.1.1 would verify an empty folder against it).
        raise InputError("predicate.resources is empty: the signature covers no file",
                         path=source)
    want_algorithm = serialization.resource_algorithm
    # The spec (and its schema) give a shard the plain hash name; both reference clients write
    # ``sha256-sharded-<size>``. Either is accepted; inside mlwarden a shard keeps the long name.
    accepted = {want_algorithm, serialization.hash_type}
    resources: list[Resource] = []
    names: set[str] = set()
    annotated: dict[str, int] = {}
    for index, raw in enumerate(raw_resources):
        where = f"resources[{index}]"
        if not isinstance(raw, Mapping):
            raise InputError(f"{where} is not an object", path=source)
        name, algorithm, digest = raw.get("name"), raw.get("algorithm"), raw.get("digest")
        if not isinstance(name, str) or not isinstance(algorithm, str) \
                or not isinstance(digest, str):
            raise InputError(f"{where} needs string name, algorithm and digest", path=source)
        if algorithm not in accepted:
            raise InputError(f"{where} ({name}) uses {algorithm!r} but the serialization says "
                             f"{serialization.hash_type!r}", path=source)
        want_hex = _DIGEST_HEX[serialization.hash_type]
        if len(digest) != want_hex or not re.fullmatch(r"[0-9a-f]+", digest):
            raise InputError(f"{where} ({name}): digest is not {want_hex} lowercase hex "
                             "characters", path=source)
        try:
            if serialization.method == "shards":
                path, start, end = split_shard(name)
                if end <= start:
                    raise InputError(f"shard {name!r} is empty or reversed")
                check_resource_name(path, single_file=True)
            else:
                check_resource_name(name, single_file=True)
        except InputError as exc:
            raise InputError(f"{where}: {exc.message}", path=source) from None
        if name in names:
            raise InputError(f"{where}: resource {name!r} is listed twice", path=source)
        names.add(name)
        resources.append(Resource(name, want_algorithm, digest))
        size = _annotated_size(raw)
        if size is not None:
            annotated[name] = size
    if "." in names and len(names) > 1:
        raise InputError("resource '.' (a single-file model) is mixed with other resources",
                         path=source)
    if single_file is True and names != {"."} and serialization.method == "files":
        raise InputError("the signature is for a model directory, but the model is a single "
                         "file", path=source)
    if single_file is False and "." in names:
        raise InputError("the signature is for a single file, but the model is a directory",
                         path=source)
    got_root = hashlib.sha256(b"".join(bytes.fromhex(r.digest) for r in resources)).hexdigest()
    if got_root != expected_root:
        raise InputError(f"inconsistent manifest: the subject digest is sha256:{expected_root} "
                         f"but the listed resources hash to sha256:{got_root}", path=source)
    sizes = annotated if set(annotated) == names else \
        _legacy_sizes(predicate.get(LEGACY_EXTENSION_KEY), names)
    resources = [Resource(r.name, r.algorithm, r.digest, sizes.get(r.name)) for r in resources]
    return Manifest(subject.name, tuple(resources), serialization), sizes


def _annotated_size(raw: Mapping[str, Any]) -> int | None:
    """The size a resource descriptor's ``annotations`` record, if it is a plain integer."""
    annotations = raw.get("annotations")
    size = annotations.get(SIZE_ANNOTATION) if isinstance(annotations, Mapping) else None
    if isinstance(size, float) and size.is_integer():  # through a protobuf Struct
        size = int(size)
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        return None
    return size


def _legacy_sizes(extension: Any, names: set[str]) -> dict[str, int]:
    """Sizes older mlwarden signatures kept under the predicate key ``mlwarden``, when present
    and consistent for every resource."""
    if not isinstance(extension, Mapping):
        return {}
    raw = extension.get("sizes")
    if not isinstance(raw, Mapping) or set(raw) != names:
        return {}
    sizes: dict[str, int] = {}
    for name, size in raw.items():
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            return {}
        sizes[name] = size
    return sizes
