"""User mistakes and hostile input, for every command: one clear line, the right exit code, nothing
half-written.

Each case runs the real CLI (``mlwarden.cli.main.run``, the function the console script calls) and
asserts: the exit code (2 usage/input, 1 verification failure/deny), exactly one stderr line
starting ``mlwarden: error: `` that names the file or option at fault, no traceback, no "internal
error", no output file where the command failed and no temp file left behind. A few cases go
through real subprocesses to check the entry point itself.
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from mlwarden.cli.main import run

from ..conftest import CliRun

PASSPHRASE = "correct horse battery"
PY = sys.executable
MAKE_MODEL = [PY, "-c", "open('trained.bin', 'w').write('weights')"]


@dataclass(frozen=True)
class World:
    root: Path
    token: str
    snapshot: dict[str, bytes]


@contextlib.contextmanager
def _inside(root: Path, token: str | None = None) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        mp.setenv("MLWARDEN_HOME", str(root / "home"))
        mp.setenv("NO_COLOR", "1")
        mp.setenv("COLUMNS", "200")
        for name in ("MLWARDEN_TOKEN", "MLWARDEN_DB", "MLWARDEN_KEY_PASSPHRASE",
                     "MLWARDEN_DEBUG"):
            mp.delenv(name, raising=False)
        if token is not None:
            mp.setenv("MLWARDEN_TOKEN", token)
        yield


def _quiet(*argv: str) -> int:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return run(list(argv))


def _pem_private(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _pem_public(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """A folder of good and bad inputs: keys, a signed model, a trained model with provenance,
    an initialised registry holding ``fraud@1``."""
    root = tmp_path_factory.mktemp("mistakes")
    rng = random.Random(7)
    (root / "empty.bin").write_bytes(b"")
    (root / "random.bin").write_bytes(bytes(rng.randrange(256) for _ in range(4096)))
    (root / "somedir").mkdir()
    (root / "plainfile").write_text("a regular file\n")
    (root / "bad.yaml").write_text("a: [1, 2\n  - : :\n")
    (root / "list.yaml").write_text("- 1\n- 2\n")
    (root / "notjson.txt").write_text("hello {")
    (root / "notbundle.json").write_text('{"a": 1}')
    (root / "list.json").write_text("[1, 2]")
    (root / "deep.json").write_text('{"a": ' * 100_000 + "1" + "}" * 100_000)
    (root / "deep.yaml").write_text("a: " + "[" * 1_500 + "]" * 1_500 + "\n")
    (root / "ok-policy.yaml").write_text("name: mistakes\n")
    (root / "key-typo-policy.yaml").write_text(
        "extensions:\n  gate:\n    signature: true\n    trusted_keys: [nope.pub]\n")
    (root / "pp.txt").write_text(PASSPHRASE + "\n")
    (root / "wrongpp.txt").write_text("not the passphrase\n")
    (root / "data.csv").write_text("a,b\n1,2\n")
    key = ec.generate_private_key(ec.SECP256R1())
    (root / "plain.pem").write_bytes(_pem_private(key))
    (root / "plain.pub").write_bytes(_pem_public(key))
    other = ec.generate_private_key(ec.SECP256R1())
    (root / "other.pub").write_bytes(_pem_public(other))
    weak = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (root / "rsa.pem").write_bytes(_pem_private(weak))
    pem = _pem_private(key)
    (root / "trunc.pem").write_bytes(pem[: len(pem) // 2] + b"\n-----END PRIVATE KEY-----\n")
    (root / "model").mkdir()
    (root / "fifo-model").mkdir()
    (root / "fifo-model" / "weights.bin").write_bytes(b"weights")
    os.mkfifo(root / "fifo-model" / "pipe")
    (root / "model" / "weights.bin").write_bytes(b"weights" * 100)
    sqlite = sqlite3.connect(root / "future.db")
    sqlite.execute("CREATE TABLE alembic_version (version_num TEXT)")
    sqlite.execute("INSERT INTO alembic_version VALUES ('9999')")
    sqlite.commit()
    sqlite.close()
    with _inside(root):
        assert _quiet("keys", "generate", "k1", "--passphrase-file", "pp.txt") == 0
        assert _quiet("sign", "model", "--key", "plain.pem") == 0
        assert _quiet("train", "--data", "data.csv", "--out", "trained.bin", "--key", "plain.pem",
                      "--", *MAKE_MODEL) == 0
        from mlwarden.registry.service import Registry

        with Registry.open() as reg:
            token = reg.init("admin", allow_insecure_key=True)
    sig = (root / "model" / "model.sig").read_bytes()
    (root / "trunc.sig").write_bytes(sig[: len(sig) // 2])
    shutil.copytree(root / "home" / "keys", root / "home2" / "keys")
    broken = root / "home2" / "keys" / "k1.key"
    broken.write_bytes(broken.read_bytes()[:200])
    with _inside(root, token):
        assert _quiet("registry", "push", "model", "--name", "fraud") == 0
    return World(root, token, {name: (root / name).read_bytes() for name in PROTECTED})


PROTECTED = ("random.bin", "ok-policy.yaml", "plain.pem", "plain.pub", "model/model.sig",
             "trained.bin", "trained.bin.provenance.json", "home/keys/k1.key")
"""Inputs that cases try to overwrite; a test checks they are byte-for-byte intact at the end."""


@dataclass(frozen=True)
class Case:
    id: str
    argv: tuple[str, ...]
    code: int
    names: str
    """A string the error line must contain: the file or option at fault."""
    absent: str | None = None
    """A path that must not exist afterwards (nothing written on failure)."""
    token: bool = True
    """Run with the registry admin's token in MLWARDEN_TOKEN."""


def c(id: str, *argv: str, code: int = 2, names: str, absent: str | None = None,
      token: bool = True) -> Case:
    return Case(id, argv, code, names, absent, token)


SIGN = ("sign", "model", "--passphrase-file", "pp.txt")
TRAIN = ("train", "--data", "data.csv", "--out", "trained.bin", "--key", "plain.pem")
VERIFY = ("verify", "model", "--public-key", "plain.pub")

CASES = [
    # scan
    c("scan-missing", "scan", "nope.pkl", names="nope.pkl"),
    c("scan-under-a-file", "scan", "plainfile/x.pkl", names="plainfile/x.pkl"),
    c("scan-format-bogus", "scan", "random.bin", "-f", "bogus", names="--format"),
    c("scan-fail-on-bogus", "scan", "random.bin", "--fail-on", "bogus", names="--fail-on"),
    c("scan-policy-malformed", "scan", "random.bin", "--policy", "bad.yaml", names="bad.yaml"),
    c("scan-policy-not-mapping", "scan", "random.bin", "--policy", "list.yaml",
      names="list.yaml"),
    c("scan-policy-binary", "scan", "random.bin", "--policy", "random.bin", names="random.bin"),
    c("scan-policy-dir", "scan", "random.bin", "--policy", "somedir", names="somedir"),
    c("scan-policy-missing", "scan", "random.bin", "--policy", "nope.yaml", names="nope.yaml"),
    c("scan-output-under-file", "scan", "random.bin", "-f", "json", "-o", "plainfile/r.json",
      names="plainfile/r.json"),
    c("scan-output-dir", "scan", "random.bin", "-f", "json", "-o", "somedir", names="somedir"),
    c("scan-output-is-the-model", "scan", "random.bin", "-f", "json", "-o", "random.bin",
      names="random.bin"),
    c("scan-output-is-the-policy", "scan", "random.bin", "--policy", "ok-policy.yaml", "-o",
      "ok-policy.yaml", names="ok-policy.yaml"),
    c("scan-workers-zero", "scan", "random.bin", "--workers", "0", names="--workers"),
    # convert (the command's module belongs to the scan/convert area)
    c("convert-missing", "convert", "nope.pkl", names="nope.pkl"),
    c("convert-dir", "convert", "somedir", names="somedir"),
    c("convert-empty", "convert", "empty.bin", names="empty.bin"),
    # policy, rules, demo
    c("policy-malformed", "policy", "check", "bad.yaml", names="bad.yaml"),
    c("policy-binary", "policy", "check", "random.bin", names="random.bin"),
    c("policy-missing", "policy", "check", "nope.yaml", names="nope.yaml"),
    c("policy-deep", "policy", "check", "deep.yaml", names="deep.yaml"),
    c("policy-dir", "policy", "check", "somedir", names="somedir"),
    c("rules-unknown-area", "rules", "--area", "bogus", names="--area"),
    c("demo-out-is-a-file", "demo", "--out", "plainfile", names="plainfile"),
    # keys
    c("keys-duplicate", "keys", "generate", "k1", "--passphrase-file", "pp.txt", names="k1"),
    c("keys-bad-name", "keys", "generate", "../evil", "--passphrase-file", "pp.txt",
      names="../evil"),
    c("keys-passphrase-file-missing", "keys", "generate", "k2", "--passphrase-file", "nope.txt",
      names="nope.txt"),
    c("keys-passphrase-empty", "keys", "generate", "k2", "--passphrase-file", "empty.bin",
      names="passphrase"),
    c("keys-bad-curve", "keys", "generate", "k2", "--curve", "P-999", "--passphrase-file",
      "pp.txt", names="P-999"),
    c("keys-home-is-a-file", "keys", "list", "--home", "plainfile", names="plainfile"),
    c("keys-export-unknown", "keys", "export", "zz", names="zz"),
    c("keys-export-into-dir", "keys", "export", "k1", "-o", "somedir", names="somedir"),
    c("keys-export-over-private-key", "keys", "export", "k1", "-o", "home/keys/k1.key",
      names="private key"),
    c("keys-export-under-file", "keys", "export", "k1", "-o", "plainfile/k.pub",
      names="plainfile/k.pub"),
    # sign
    c("sign-wrong-passphrase", "sign", "model", "--key", "k1", "--passphrase-file",
      "wrongpp.txt", "-s", "new.sig", names="k1.key", absent="new.sig"),
    c("sign-corrupt-store-key", *SIGN, "--key", "k1", "--home", "home2", "-s", "new.sig",
      names="k1.key", absent="new.sig"),
    c("sign-unknown-store-key", *SIGN, "--key", "nokey", "-s", "new.sig", names="nokey",
      absent="new.sig"),
    c("sign-truncated-pem", "sign", "model", "--key", "trunc.pem", "-s", "new.sig",
      names="trunc.pem", absent="new.sig"),
    c("sign-rsa-key", "sign", "model", "--key", "rsa.pem", "-s", "new.sig", names="rsa.pem",
      absent="new.sig"),
    c("sign-random-key", "sign", "model", "--key", "random.bin", "-s", "new.sig",
      names="random.bin", absent="new.sig"),
    c("sign-missing-model", "sign", "nope", "--key", "plain.pem", "-s", "new.sig", names="nope",
      absent="new.sig"),
    c("sign-signature-into-dir", "sign", "model", "--key", "plain.pem", "-s", "somedir",
      names="somedir"),
    c("sign-signature-under-file", "sign", "model", "--key", "plain.pem", "-s",
      "plainfile/s.sig", names="plainfile/s.sig"),
    c("sign-signature-is-the-model", "sign", "random.bin", "--key", "plain.pem", "-s",
      "random.bin", names="random.bin"),
    c("sign-signature-is-the-key", "sign", "model", "--key", "plain.pem", "-s", "plain.pem",
      names="plain.pem"),
    c("sign-method-bogus", "sign", "model", "--key", "plain.pem", "--method", "bogus",
      names="--method"),
    c("sign-no-key", "sign", "model", names="--key"),
    # verify
    c("verify-signature-not-json", *VERIFY, "-s", "notjson.txt", code=1, names="notjson.txt"),
    c("verify-signature-not-bundle", *VERIFY, "-s", "notbundle.json", code=1,
      names="notbundle.json"),
    c("verify-signature-json-list", *VERIFY, "-s", "list.json", code=1, names="list.json"),
    c("verify-signature-truncated", *VERIFY, "-s", "trunc.sig", code=1, names="trunc.sig"),
    c("verify-signature-empty", *VERIFY, "-s", "empty.bin", code=1, names="empty.bin"),
    c("verify-signature-random", *VERIFY, "-s", "random.bin", code=1, names="random.bin"),
    c("verify-signature-deep", *VERIFY, "-s", "deep.json", code=1, names="deep.json"),
    c("verify-signature-dir", *VERIFY, "-s", "somedir", code=1, names="somedir"),
    c("verify-signature-missing", *VERIFY, "-s", "nope.sig", code=1, names="nope.sig"),
    c("verify-other-key", "verify", "model", "--public-key", "other.pub", code=1,
      names="model.sig"),
    c("verify-key-garbage", "verify", "model", "--public-key", "random.bin", names="random.bin"),
    c("verify-key-is-private", "verify", "model", "--public-key", "plain.pem",
      names="plain.pem"),
    c("verify-key-missing", "verify", "model", "--public-key", "nope.pub", names="nope.pub"),
    c("verify-trust-malformed", "verify", "model", "--trust", "bad.yaml", names="bad.yaml"),
    c("verify-trust-not-mapping", "verify", "model", "--trust", "list.yaml", names="list.yaml"),
    c("verify-trust-deep", "verify", "model", "--trust", "deep.yaml", names="deep.yaml"),
    c("verify-trust-missing", "verify", "model", "--trust", "nope.yaml", names="nope.yaml"),
    c("verify-no-trust", "verify", "model", names="--public-key"),
    c("verify-format-bogus", *VERIFY, "-f", "bogus", names="--format"),
    c("verify-output-under-file", *VERIFY, "-f", "json", "-o", "plainfile/v.json",
      names="plainfile/v.json"),
    c("verify-output-is-the-signature", *VERIFY, "-f", "json", "-o", "model/model.sig",
      names="model/model.sig"),
    c("verify-output-is-the-key", *VERIFY, "-f", "json", "-o", "plain.pub", names="plain.pub"),
    c("verify-model-missing", "verify", "nope", "--public-key", "plain.pub", names="nope"),
    c("digest-missing", "digest", "nope", names="nope"),
    c("digest-under-file", "digest", "plainfile/x", names="plainfile/x"),
    # train
    c("train-no-command", *TRAIN, names="training command"),
    c("train-missing-executable", *TRAIN, "--", "/no/such/exe", names="/no/such/exe"),
    c("train-not-executable", *TRAIN, "--", "./data.csv", names="data.csv"),
    c("train-missing-data", "train", "--data", "nope.csv", "--out", "trained.bin", "--key",
      "plain.pem", "--", *MAKE_MODEL, names="nope.csv"),
    c("train-no-out", "train", "--data", "data.csv", "--key", "plain.pem", "--", *MAKE_MODEL,
      names="--out"),
    c("train-no-key", "train", "--data", "data.csv", "--out", "trained.bin", "--",
      *MAKE_MODEL, names="--key"),
    c("train-unknown-store-key", "train", "--data", "data.csv", "--out", "trained.bin",
      "--key", "nokey", "--", *MAKE_MODEL, names="nokey"),
    c("train-params-malformed", *TRAIN, "--params", "bad.yaml", "--", *MAKE_MODEL,
      names="bad.yaml"),
    c("train-params-list", *TRAIN, "--params", "list.yaml", "--", *MAKE_MODEL,
      names="list.yaml"),
    c("train-params-binary", *TRAIN, "--params", "random.bin", "--", *MAKE_MODEL,
      names="random.bin"),
    c("train-params-deep-json", *TRAIN, "--params", "deep.json", "--", *MAKE_MODEL,
      names="deep.json"),
    c("train-params-deep-yaml", *TRAIN, "--params", "deep.yaml", "--", *MAKE_MODEL,
      names="deep.yaml"),
    c("train-param-flag", *TRAIN, "--param", "noequals", "--", *MAKE_MODEL, names="noequals"),
    c("train-metrics-not-json", *TRAIN, "--metrics", "notjson.txt", "--", *MAKE_MODEL,
      names="notjson.txt"),
    c("train-stale-output", *TRAIN, "--", PY, "-c", "pass", names="trained.bin"),
    c("train-attestation-is-the-key", *TRAIN, "--attestation", "plain.pem", "--", *MAKE_MODEL,
      names="plain.pem"),
    c("train-attestation-is-the-output", *TRAIN, "--attestation", "trained.bin", "--",
      *MAKE_MODEL, names="trained.bin"),
    c("train-attestation-into-dir", *TRAIN, "--attestation", "somedir", "--", *MAKE_MODEL,
      names="somedir"),
    c("train-attestation-under-file", *TRAIN, "--attestation", "plainfile/a.json", "--",
      *MAKE_MODEL, names="plainfile/a.json"),
    # trace, bom
    c("trace-missing", "trace", "nope", "--key", "plain.pub", names="nope"),
    c("trace-format-bogus", "trace", "trained.bin", "--key", "plain.pub", "-f", "bogus",
      names="--format"),
    c("trace-key-garbage", "trace", "trained.bin", "--key", "random.bin", names="random.bin"),
    c("trace-attestation-missing", "trace", "trained.bin", "--key", "plain.pub", "-a",
      "nope.json", names="nope.json"),
    c("trace-attestation-dir", "trace", "trained.bin", "--key", "plain.pub", "-a", "somedir",
      names="somedir: is a directory"),
    c("trace-output-under-file", "trace", "trained.bin", "--key", "plain.pub", "-o",
      "plainfile/t.txt", names="plainfile/t.txt"),
    c("bom-missing", "bom", "nope", "--key", "plain.pub", names="nope"),
    c("bom-unattested", "bom", "random.bin", "--key", "plain.pub", names="random.bin"),
    c("bom-output-is-the-model", "bom", "trained.bin", "--key", "plain.pub", "-o", "trained.bin",
      names="trained.bin"),
    c("trace-output-is-the-provenance", "trace", "trained.bin", "--key", "plain.pub", "-o",
      "trained.bin.provenance.json", names="trained.bin.provenance.json"),
    c("bom-output-under-file", "bom", "trained.bin", "--key", "plain.pub", "-o",
      "plainfile/b.json", names="plainfile/b.json"),
    # data
    c("fingerprint-missing", "data", "fingerprint", "nope.csv", names="nope.csv"),
    c("fingerprint-under-file", "data", "fingerprint", "plainfile/x.csv",
      names="plainfile/x.csv"),
    c("fingerprint-format-bogus", "data", "fingerprint", "data.csv", "-f", "bogus",
      names="--format"),
    # registry
    c("registry-no-token", "registry", "list", names="token", token=False),
    c("registry-wrong-token", "registry", "list", "--token", "mlw_0000_wrong", code=1,
      names="token"),
    c("registry-not-initialised", "registry", "list", "--home", "freshhome", names="init"),
    c("registry-home-is-a-file", "registry", "list", "--home", "plainfile",
      names="a file is in the way"),
    c("registry-db-unreachable", "registry", "list", "--db", "postgresql://nohost:1/x",
      names="nohost"),
    c("registry-db-unknown-scheme", "registry", "list", "--db", "foo://", names="foo"),
    c("registry-db-not-a-url", "registry", "list", "--db", "garbage", names="garbage"),
    c("registry-db-not-sqlite", "registry", "list", "--db", "sqlite:///random.bin",
      names="random.bin"),
    c("registry-db-unknown-revision", "registry", "list", "--db", "sqlite:///future.db",
      names="future.db"),
    c("registry-show-unknown-model", "registry", "show", "nomodel@1", names="nomodel"),
    c("registry-show-unknown-version", "registry", "show", "fraud@9", names="'9'"),
    c("registry-show-bad-ref", "registry", "show", "@@@", names="@@@"),
    c("registry-push-missing", "registry", "push", "nope", "--name", "x", names="nope"),
    c("registry-push-fifo-in-model", "registry", "push", "fifo-model", "--name", "x",
      names="fifo-model/pipe"),
    c("registry-push-signature-not-json", "registry", "push", "model", "--name", "x",
      "--signature", "notjson.txt", names="notjson.txt"),
    c("registry-push-provenance-not-envelope", "registry", "push", "model", "--name", "x",
      "--provenance", "notbundle.json", names="notbundle.json"),
    c("registry-attach-wrong-shape", "registry", "attach", "fraud@1", "notbundle.json",
      "--kind", "signature", names="notbundle.json"),
    c("registry-attach-deep", "registry", "attach", "fraud@1", "deep.json", "--kind", "scan",
      names="deep.json"),
    c("registry-attach-json-list", "registry", "attach", "fraud@1", "list.json", "--kind",
      "scan", names="list.json"),
    c("registry-attach-kind-bogus", "registry", "attach", "fraud@1", "notbundle.json",
      "--kind", "bogus", names="--kind"),
    c("registry-promote-unknown-stage", "registry", "promote", "fraud@1", "--to", "bogus",
      names="bogus"),
    c("registry-promote-unknown-version", "registry", "promote", "fraud@9", "--to", "staging",
      names="'9'"),
    c("registry-approve-unknown-stage", "registry", "approve", "fraud@1", "--stage", "bogus",
      names="bogus"),
    c("registry-rollback-unknown-model", "registry", "rollback", "nomodel", "--reason", "r",
      names="nomodel"),
    c("registry-pull-unknown-version", "registry", "pull", "fraud@9", "-o", "pulled",
      names="'9'", absent="pulled"),
    c("registry-pull-unknown-stage", "registry", "pull", "fraud", "--stage", "bogus", "-o",
      "pulled", names="--stage", absent="pulled"),
    c("registry-pull-under-file", "registry", "pull", "fraud@1", "-o", "plainfile/p",
      names="plainfile/p"),
    c("registry-pull-key-garbage", "registry", "pull", "fraud@1", "-o", "pulled", "--key",
      "random.bin", names="random.bin", absent="pulled"),
    c("registry-policy-malformed", "registry", "policy", "set", "production", "bad.yaml",
      names="bad.yaml"),
    c("registry-policy-unknown-stage", "registry", "policy", "show", "bogus", names="bogus"),
    c("registry-user-role-bogus", "registry", "user", "invite", "bob", "--role", "bogus",
      names="bogus"),
    c("registry-token-revoke-unknown", "registry", "token", "revoke", "mlw_nope_x",
      names="mlw_nope_x"),
    # gate
    c("gate-policy-missing", "gate", "model", "--policy", "nope.yaml", names="nope.yaml"),
    c("gate-policy-malformed", "gate", "model", "--policy", "bad.yaml", names="bad.yaml"),
    c("gate-stage-bogus", "gate", "model", "--policy", "ok-policy.yaml", "--stage", "bogus",
      names="--stage"),
    c("gate-policy-key-missing", "gate", "model", "--policy", "key-typo-policy.yaml",
      names="nope.pub"),
    c("gate-model-missing", "gate", "nope", "--policy", "ok-policy.yaml", names="nope"),
    c("gate-evidence-missing", "gate", "model", "--policy", "ok-policy.yaml", "--provenance",
      "nope.json", names="nope.json"),
    c("gate-evidence-binary", "gate", "model", "--policy", "ok-policy.yaml", "--provenance",
      "random.bin", names="random.bin"),
    c("gate-policy-deep", "gate", "model", "--policy", "deep.yaml", names="deep.yaml"),
    c("gate-registry-unknown-version", "gate", "fraud@9", "--policy", "ok-policy.yaml",
      names="'9'"),
    c("gate-registry-wrong-token", "gate", "fraud@1", "--policy", "ok-policy.yaml", "--token",
      "mlw_0000_wrong", code=1, names="token"),
    c("gate-registry-bad-db", "gate", "fraud@1", "--policy", "ok-policy.yaml", "--db", "foo://",
      names="foo"),
    c("gate-output-is-the-policy", "gate", "model", "--policy", "ok-policy.yaml", "-f", "json",
      "-o", "ok-policy.yaml", names="ok-policy.yaml"),
    c("gate-output-is-the-model", "gate", "random.bin", "--policy", "ok-policy.yaml", "-f",
      "json", "-o", "random.bin", names="random.bin"),
    c("gate-output-under-file", "gate", "model", "--policy", "ok-policy.yaml", "-f", "json",
      "-o", "plainfile/g.json", names="plainfile/g.json"),
    # audit
    c("audit-verify-empty-db", "audit", "verify", "--db", "sqlite:///emptydb/registry.db",
      names="init"),
    c("audit-verify-no-token", "audit", "verify", names="token", token=False),
    c("audit-export-into-dir", "audit", "export", "-o", "somedir", names="somedir"),
    c("audit-export-under-file", "audit", "export", "-o", "plainfile/a.jsonl",
      names="plainfile/a.jsonl"),
]


def _temp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob(".*.tmp")]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_mistake_is_one_clear_line(world: World, case: Case,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    with _inside(world.root, world.token if case.token else None):
        code = run(list(case.argv))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and "internal error" not in captured.err, captured.err
    errors = [line for line in captured.err.splitlines() if line.startswith("mlwarden: error: ")]
    assert len(errors) == 1, captured.err
    assert case.names in errors[0], errors[0]
    assert code == case.code, captured.err
    if case.absent is not None:
        assert not (world.root / case.absent).exists()
    assert not _temp_files(world.root)


def test_inputs_survived_the_sweep(world: World) -> None:
    """Runs after the cases above: no case overwrote an input with its output."""
    for name in PROTECTED:
        assert (world.root / name).read_bytes() == world.snapshot[name], name


HTML_CASES = [
    ("scan", "random.bin"),
    ("verify", "model", "--public-key", "plain.pub"),
    ("gate", "model", "--policy", "ok-policy.yaml"),
    ("registry", "promote", "fraud@1", "--to", "staging"),
    ("trace", "trained.bin", "--key", "plain.pub"),
]


@pytest.mark.parametrize("argv", HTML_CASES, ids=[a[0] + "-" + a[1] for a in HTML_CASES])
def test_html_report_file_is_complete(world: World, argv: tuple[str, ...], tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.html"
    with _inside(world.root, world.token):
        code = run([*argv, "-f", "html", "-o", str(out)])
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err, err
    assert code in (0, 1), err
    assert out.is_file(), err
    html = out.read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html>")
    assert html.rstrip().endswith("</html>")
    assert not _temp_files(tmp_path)


def _commands() -> list[list[str]]:
    import typer

    from mlwarden.cli.main import app

    found: list[list[str]] = []

    def walk(command: object, prefix: list[str]) -> None:
        found.append(prefix)
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            walk(sub, [*prefix, name])

    walk(typer.main.get_command(app), [])
    return found


def test_help_works_for_every_command_and_group(capsys: pytest.CaptureFixture[str]) -> None:
    commands = _commands()
    assert ["registry", "user", "invite"] in commands and ["audit", "verify"] in commands
    for argv in commands:
        code = run([*argv, "--help"])
        captured = capsys.readouterr()
        assert code == 0, (argv, captured.err)
        assert "Usage" in captured.out and not captured.err, argv


GROUPS = [[], ["keys"], ["data"], ["policy"], ["registry"], ["registry", "user"],
          ["registry", "token"], ["registry", "policy"], ["audit"]]


def test_group_without_subcommand_prints_help_and_exits_2(
        cli: CliRun, capsys: pytest.CaptureFixture[str]) -> None:
    for group in GROUPS:
        code = run(group)
        captured = capsys.readouterr()
        assert code == 2, (group, captured.err)
        assert "Usage" in captured.out and not captured.err.strip(), group
    proc = cli()  # and through the real entry point
    assert proc.returncode == 2 and "Usage" in proc.stdout and not proc.stderr.strip(), proc


@pytest.mark.parametrize("argv, names", [
    (("scan", "nope.pkl"), "nope.pkl"),
    (("registry", "list", "--db", "foo://"), "foo"),
    (("verify", "model", "--public-key", "plain.pub", "-s", "trunc.sig"), "trunc.sig"),
])
def test_entry_point_prints_one_line(world: World, argv: tuple[str, ...], names: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLWARDEN_")}
    proc = subprocess.run([PY, "-m", "mlwarden", *argv], cwd=world.root, capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL,
                          env={**env, "MLWARDEN_HOME": str(world.root / "home")})
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode in (1, 2), proc.stderr
    assert len(lines) == 1 and lines[0].startswith("mlwarden: error: "), proc.stderr
    assert names in lines[0]


def test_passphrase_without_a_terminal_is_a_usage_error(world: World) -> None:
    """Stdin is not a terminal and no passphrase was given: say how to give one, do not hang."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLWARDEN_")}
    proc = subprocess.run([PY, "-m", "mlwarden", "sign", "model", "--key", "k1", "-s", "x.sig"],
                          cwd=world.root, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL,
                          env={**env, "MLWARDEN_HOME": str(world.root / "home")})
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "--passphrase-file" in lines[0], proc.stderr
    assert not (world.root / "x.sig").exists()
