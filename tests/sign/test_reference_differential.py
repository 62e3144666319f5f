# mypy: disable-error-code="no-untyped-call"
"""Differential: ``mlwarden verify`` against ``model_signing`` 1.1.x's verifier, the oracle.

Each scenario signs a model with the reference client (key, certificate or self-signed
certificate; its Python API or its CLI) or with mlwarden, changes the model, and asks both
verifiers with the same ``ignore paths`` / ``ignore unsigned files`` options: the verdicts must
agree (the named table below and generated trees; no disagreement found). Where mlwarden departs
from the reference on purpose, because the OMS spec says otherwise, the case is a named test here
with the spec's section (an expired signing certificate) or in ``test_oms_conformance.py``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import model_signing
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mlwarden.cli.main import run
from mlwarden.core.errors import VerificationError
from mlwarden.sign.keys import EcdsaSigner, private_pem
from mlwarden.sign.signing import KeyMaterial, sign_model
from mlwarden.sign.trust import Trust
from mlwarden.sign.verify import verify_model
from tests.sign.conftest import MODEL_SIGNING_CLI, KeyFiles, Pki, make_self_signed, write_key
from tests.sign.oms_schema import assert_oms_conformant

pytestmark = pytest.mark.skipif(not MODEL_SIGNING_CLI.exists(), reason="model_signing CLI")


@dataclass(frozen=True)
class Case:
    """Sign (optionally leaving ``sign_ignore`` out), apply ``change``, verify with options."""

    change: Callable[[Path], None]
    ignore: tuple[str, ...] = ()
    unsigned: bool = False
    sign_ignore: tuple[str, ...] = ()
    verifies: bool = True
    note: str = field(default="", compare=False)


def _write(rel: str, data: bytes = b"new") -> Callable[[Path], None]:
    def change(model: Path) -> None:
        (model / rel).parent.mkdir(parents=True, exist_ok=True)
        (model / rel).write_bytes(data)
    return change


def _remove(rel: str) -> Callable[[Path], None]:
    return lambda model: (model / rel).unlink()


def _nothing(model: Path) -> None:
    pass


CASES = {
    "unchanged": Case(_nothing),
    "extra-file": Case(_write("extra.bin"), verifies=False),
    "extra-file-unsigned-ignored": Case(_write("extra.bin"), unsigned=True),
    "extra-file-path-ignored": Case(_write("extra.bin"), ignore=("extra.bin",)),
    "extra-dir-path-ignored": Case(_write("cache/a/b.bin"), ignore=("cache",)),
    "extra-dir-prefix-not-ignored": Case(_write("cachefile"), ignore=("cache",), verifies=False),
    "signed-file-path-ignored": Case(_nothing, ignore=("config.json",), verifies=False,
                                     note="an ignored signed file is missing, not skipped"),
    "modified-unsigned-ignored": Case(_write("config.json", b"{}"), unsigned=True,
                                      verifies=False),
    "missing-unsigned-ignored": Case(_remove("config.json"), unsigned=True, verifies=False),
    "renamed-unsigned-ignored": Case(
        lambda m: (m / "config.json").rename(m / "config2.json"), unsigned=True,
        verifies=False),
    "recorded-ignore-honoured": Case(_write("README.md", b"changed"), sign_ignore=("README.md",)),
    "recorded-ignore-dir-honoured": Case(_write("logs/run2.txt"), sign_ignore=("logs",)),
    "top-level-git-ignored": Case(_write(".git/HEAD")),
    "nested-git-not-ignored": Case(_write("tokenizer/.git/HEAD"), verifies=False),
    "gitmodules-not-ignored": Case(_write(".gitmodules"), verifies=False),
    "extra-nested-unsigned-ignored": Case(_write("tokenizer/extra.txt"), unsigned=True),
}


def _prepare(model: Path) -> None:
    (model / "README.md").write_text("readme")
    (model / "logs").mkdir()
    (model / "logs" / "run1.txt").write_text("log")


def _reference_verdict(model: Path, sig: Path, public: Path, case: Case) -> bool:
    hashing = model_signing.hashing.Config().set_ignored_paths(paths=list(case.ignore),
                                                               ignore_git_paths=True)
    config = (model_signing.verifying.Config().use_elliptic_key_verifier(public_key=public)
              .set_hashing_config(hashing).set_ignore_unsigned_files(case.unsigned))
    try:
        config.verify(model, sig)
    except ValueError:
        return False
    return True


def _mlwarden_verdict(model: Path, sig: Path, public: Path, case: Case) -> bool:
    try:
        verify_model(model, sig, Trust.from_public_keys([public]), ignore_paths=case.ignore,
                     ignore_unsigned=case.unsigned)
    except VerificationError:
        return False
    return True


@pytest.mark.parametrize("name", sorted(CASES))
def test_verdicts_agree_with_model_signing(name: str, model: Path, tmp_path: Path,
                                           keys: Callable[..., KeyFiles]) -> None:
    case = CASES[name]
    key = keys()
    _prepare(model)
    sig = tmp_path / "model.sig"
    hashing = model_signing.hashing.Config().set_ignored_paths(paths=list(case.sign_ignore),
                                                               ignore_git_paths=True)
    (model_signing.signing.Config().use_elliptic_key_signer(private_key=key.private)
     .set_hashing_config(hashing).sign(model, sig))
    case.change(model)
    reference = _reference_verdict(model, sig, key.public, case)
    ours = _mlwarden_verdict(model, sig, key.public, case)
    assert (reference, ours) == (case.verifies, case.verifies), case.note


# ---------------------------------------------------------------------------------------------
# Bundles the Python client makes, verified by mlwarden's CLI


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(MODEL_SIGNING_CLI), *map(str, args)], capture_output=True,
                          text=True, timeout=120, check=False)


def _mw(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = run([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_python_cli_key_bundle_verifies_with_ignore_options(
        model: Path, tmp_path: Path, keys: Callable[..., KeyFiles],
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    key = keys()
    _prepare(model)
    monkeypatch.chdir(tmp_path)
    sig = model / "model.sig"
    done = _cli("sign", "key", "model", "--signature", sig, "--private_key", key.private,
                "--ignore-paths", "model/README.md")
    assert done.returncode == 0, done.stderr
    assert_oms_conformant(sig)  # files + sha256 from the reference client: conformant
    (model / "README.md").write_text("changed")  # recorded in ignore_paths: not checked
    code, out, err = _mw(capsys, "verify", model, "--public-key", key.public)
    assert code == 0, err
    (model / "notes.txt").write_text("added after signing")
    code, _, err = _mw(capsys, "verify", model, "--public-key", key.public)
    assert code == 1 and "added: notes.txt" in err
    code, out, err = _mw(capsys, "verify", model, "--public-key", key.public,
                         "--ignore-unsigned-files")
    assert code == 0, err
    assert "1 unsigned file(s) not checked (--ignore-unsigned-files): notes.txt" in out
    # model_signing's CLI spelling (from the current directory) and the spec's (from the model)
    for spelling in ("model/notes.txt", "notes.txt"):
        code, _, err = _mw(capsys, "verify", model, "--public-key", key.public,
                           "--ignore-paths", spelling)
        assert code == 0, (spelling, err)
    done = _cli("verify", "key", "model", "--signature", sig, "--public_key", key.public,
                "--ignore-paths", "model/notes.txt")
    assert done.returncode == 0, done.stderr  # the oracle agrees
    code, _, err = _mw(capsys, "verify", model, "--public-key", key.public,
                       "--ignore-paths", "config.json", "--ignore-unsigned-files")
    assert code == 1 and "missing: config.json" in err
    code, _, err = _mw(capsys, "verify", model, "--public-key", key.public,
                       "--ignore-paths", "../elsewhere")
    assert code == 2 and "--ignore-paths" in err
    code, out, _ = _mw(capsys, "verify", model, "--public-key", key.public,
                       "--ignore-unsigned-files", "--format", "json")
    assert code == 0 and '"notes.txt"' in out


@pytest.mark.parametrize("how", ["api", "cli"])
def test_python_certificate_bundles_verify(how: str, model: Path, tmp_path: Path, pki: Pki,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    sig = tmp_path / "cert.sig"
    if how == "api":
        model_signing.signing.Config().use_certificate_signer(
            private_key=pki.leaf_key, signing_certificate=pki.leaf,
            certificate_chain=[pki.intermediate]).sign(model, sig)
    else:
        done = _cli("sign", "certificate", model, "--signature", sig, "--private_key",
                    pki.leaf_key, "--signing_certificate", pki.leaf, "--certificate_chain",
                    pki.intermediate)
        assert done.returncode == 0, done.stderr
    assert_oms_conformant(sig)
    code, out, err = _mw(capsys, "verify", model, "-s", sig, "--cert-chain", pki.root,
                         "--identity", pki.subject)
    assert code == 0, err
    assert "CN=ml-release" in out


def test_python_client_cannot_sign_with_a_self_signed_certificate_alone(
        model: Path, tmp_path: Path) -> None:
    """Finding (model_signing 1.1.1): an empty ``certificate_chain`` fails to load
    (``load_pem_x509_certificates(b"")`` raises), so its self-signed bundles carry the
    certificate twice: as the signing certificate and as its own chain."""
    cert, key = make_self_signed(tmp_path / "self")
    with pytest.raises(ValueError, match="PEM"):
        model_signing.signing.Config().use_certificate_signer(
            private_key=key, signing_certificate=cert, certificate_chain=[])
    done = _cli("sign", "certificate", model, "--signature", tmp_path / "x.sig",
                "--private_key", key, "--signing_certificate", cert)
    assert done.returncode == 1 and "PEM" in done.stderr


@pytest.mark.parametrize("how", ["api", "cli", "mlwarden-leaf-only"])
def test_self_signed_certificate_bundles_verify(
        how: str, model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cert, key = make_self_signed(tmp_path / "self")
    sig = tmp_path / "self.sig"
    if how == "api":
        model_signing.signing.Config().use_certificate_signer(
            private_key=key, signing_certificate=cert, certificate_chain=[cert]).sign(model, sig)
    elif how == "cli":
        done = _cli("sign", "certificate", model, "--signature", sig, "--private_key", key,
                    "--signing_certificate", cert, "--certificate_chain", cert)
        assert done.returncode == 0, done.stderr
    else:
        code, _, err = _mw(capsys, "sign", model, "--key", key, "--cert-chain", cert,
                           "--signature", sig)
        assert code == 0, err
    assert_oms_conformant(sig)
    # the oracle accepts the bundle with the certificate as the root ...
    model_signing.verifying.Config().use_certificate_verifier(
        certificate_chain=[cert]).verify(model, sig)
    # ... and so does mlwarden, for that identity only
    code, _, err = _mw(capsys, "verify", model, "-s", sig, "--cert-chain", cert,
                       "--identity", "CN=self-signed-release")
    assert code == 0, err
    code, _, err = _mw(capsys, "verify", model, "-s", sig, "--cert-chain", cert,
                       "--identity", "CN=someone-else")
    assert code == 1


def test_python_single_file_bundle_verifies(tmp_path: Path, keys: Callable[..., KeyFiles],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    key = keys()
    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"w" * 1000)
    sig = tmp_path / "weights.bin.sig"
    done = _cli("sign", "key", weights, "--signature", sig, "--private_key", key.private)
    assert done.returncode == 0, done.stderr
    assert_oms_conformant(sig)
    code, _, err = _mw(capsys, "verify", weights, "--public-key", key.public)
    assert code == 0, err
    shutil.copy(weights, tmp_path / "copy.bin")
    code, _, err = _mw(capsys, "verify", tmp_path / "copy.bin", "-s", sig, "--public-key",
                       key.public)
    assert code == 0, err  # single-file signatures do not bind the file name (".")


_SIGNING_USAGE = x509.KeyUsage(
    digital_signature=True, content_commitment=False, key_encipherment=False,
    data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
    encipher_only=False, decipher_only=False)


def _expired_chain(directory: Path) -> tuple[Path, Path, Path]:
    """A root valid 2019-2040 and a code-signing leaf valid only in December 2019."""
    root_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(
        ec.SECP256R1())
    root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Old Root")])
    leaf_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "old-release")])
    start = dt.datetime(2019, 12, 1, tzinfo=dt.UTC)
    root = (x509.CertificateBuilder().subject_name(root_name).issuer_name(root_name)
            .public_key(root_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(dt.datetime(2040, 1, 1, tzinfo=dt.UTC))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(root_key, hashes.SHA256()))
    leaf = (x509.CertificateBuilder().subject_name(leaf_name).issuer_name(root_name)
            .public_key(leaf_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(dt.datetime(2020, 1, 2, tzinfo=dt.UTC))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_SIGNING_USAGE, critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]),
                           critical=False)
            .sign(root_key, hashes.SHA256()))
    directory.mkdir(parents=True, exist_ok=True)
    paths = directory / "root.pem", directory / "leaf.pem", directory / "leaf.key"
    paths[0].write_bytes(root.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(private_pem(leaf_key, None))
    return paths


def test_expired_signing_certificate_is_refused(model: Path, tmp_path: Path) -> None:
    """Disagreement (spec 8.2 "the leaf certificate MUST be within its validity period"):
    model_signing 1.1.1 validates the chain at the leaf's notBefore, so it accepts a leaf that
    expired years ago; mlwarden refuses it (the conformance suite's certificate-expired_fail)."""
    root, leaf, key = _expired_chain(tmp_path / "old")
    sig = tmp_path / "old.sig"
    model_signing.signing.Config().use_certificate_signer(
        private_key=key, signing_certificate=leaf, certificate_chain=[root]).sign(model, sig)
    model_signing.verifying.Config().use_certificate_verifier(
        certificate_chain=[root]).verify(model, sig)  # the reference accepts it
    with pytest.raises(VerificationError, match=r"'CN=old-release' expired on 2020-01-02"):
        verify_model(model, sig, Trust.from_roots([root], "CN=old-release"))


# ---------------------------------------------------------------------------------------------
# Generated models and mutations: both verifiers, both signers


_NAMES = st.text(alphabet="ab.-_é模", min_size=1, max_size=4).filter(
    lambda n: n not in (".", "..") and not n.startswith(".git"))
_TREES = st.dictionaries(
    st.lists(_NAMES, min_size=1, max_size=3).map("/".join), st.binary(max_size=64),
    min_size=1, max_size=5)
_MUTATIONS = st.sampled_from(["none", "modify", "add", "add-nested", "remove", "rename",
                              "truncate", "add-gitdir"])


def _materialise(root: Path, tree: dict[str, bytes]) -> Path | None:
    """Write ``tree`` under ``root``; None when a name is both a file and a folder."""
    model = root / "model"
    for name, data in sorted(tree.items()):
        path = model / name
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        except (FileExistsError, NotADirectoryError, IsADirectoryError):
            return None
    return model


def _mutate(model: Path, how: str, pick: int) -> None:
    files = sorted(p for p in model.rglob("*") if p.is_file() and p.name != "model.sig")
    target = files[pick % len(files)]
    if how == "modify":
        target.write_bytes(target.read_bytes() + b"!")
    elif how == "add":
        (model / "zz-added.bin").write_bytes(b"new")
    elif how == "add-nested":
        target.with_name(target.name + "-copy").write_bytes(target.read_bytes())
    elif how == "remove":
        target.unlink()
    elif how == "rename":
        target.rename(target.with_name(target.name + "-renamed"))
    elif how == "truncate" and target.stat().st_size:
        target.write_bytes(target.read_bytes()[:-1])
    elif how == "add-gitdir":
        (model / ".git").mkdir(exist_ok=True)
        (model / ".git" / "HEAD").write_bytes(b"ref")


_IGNORES = st.sampled_from([(), ("zz-added.bin",), ("a",), ("b",), ("a", "b.a")])


def _differential(tree: dict[str, bytes], how: str, pick: int, unsigned: bool,
                  mlwarden_signs: bool, ignore: tuple[str, ...] = ()) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        model = _materialise(root, tree)
        assume(model is not None)
        assert model is not None
        key = write_key(root / "keys", "signer")
        sig = root / "model.sig"
        if mlwarden_signs:
            sign_model(model, KeyMaterial(EcdsaSigner(key.key)), signature=sig)
        else:
            model_signing.signing.Config().use_elliptic_key_signer(
                private_key=key.private).sign(model, sig)
        _mutate(model, how, pick)
        case = Case(_nothing, unsigned=unsigned, ignore=ignore)
        reference = _reference_verdict(model, sig, key.public, case)
        ours = _mlwarden_verdict(model, sig, key.public, case)
        assert ours == reference, (tree, how, pick, unsigned, mlwarden_signs, ignore)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=_TREES, how=_MUTATIONS, pick=st.integers(0, 10), unsigned=st.booleans(),
       mlwarden_signs=st.booleans(), ignore=_IGNORES)
def test_generated_models_verdicts_agree(tree: dict[str, bytes], how: str, pick: int,
                                         unsigned: bool, mlwarden_signs: bool,
                                         ignore: tuple[str, ...]) -> None:
    _differential(tree, how, pick, unsigned, mlwarden_signs, ignore)


@pytest.mark.slow
@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=_TREES, how=_MUTATIONS, pick=st.integers(0, 10), unsigned=st.booleans(),
       mlwarden_signs=st.booleans(), ignore=_IGNORES)
def test_generated_models_verdicts_agree_long(tree: dict[str, bytes], how: str, pick: int,
                                              unsigned: bool, mlwarden_signs: bool,
                                              ignore: tuple[str, ...]) -> None:
    _differential(tree, how, pick, unsigned, mlwarden_signs, ignore)


def test_sign_ignore_paths_recorded_and_honoured_by_the_reference(
        model: Path, tmp_path: Path, keys: Callable[..., KeyFiles],
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    key = keys()
    _prepare(model)
    monkeypatch.chdir(tmp_path)
    code, _, err = _mw(capsys, "sign", model, "--key", key.private,
                       "--ignore-paths", "model/README.md", "--ignore", "logs/")
    assert code == 0, err
    sig = model / "model.sig"
    recorded = json.loads(base64.b64decode(json.loads(sig.read_text())["dsseEnvelope"]
                                           ["payload"]))["predicate"]["serialization"]
    assert {"README.md", "logs", "model.sig"} <= set(recorded["ignore_paths"])
    (model / "README.md").write_text("changed")
    (model / "logs" / "run2.txt").write_text("more")
    done = _cli("verify", "key", model, "--signature", sig, "--public_key", key.public)
    assert done.returncode == 0, done.stderr  # the oracle honours what mlwarden recorded
    assert _mw(capsys, "verify", model, "--public-key", key.public)[0] == 0
    code, _, err = _mw(capsys, "sign", model, "--key", key.private, "--ignore-paths", "*.md")
    assert code == 2 and "glob" in err
