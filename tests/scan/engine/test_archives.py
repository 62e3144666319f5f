"""Generic archives: members scanned by content; hostile structures are findings, not crashes."""

from __future__ import annotations

import io
import tarfile
import zipfile

import pytest

from mlwarden.scan.engine import scan_bytes
from mlwarden.scan.interface import ScanLimits

from .conftest import CANARY, Member, benign_pickle, build_zip, critical, evil_pickle, rules, scan


def tar_of(*members: tarfile.TarInfo | tuple[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for m in members:
            if isinstance(m, tarfile.TarInfo):
                tar.addfile(m)
            else:
                info = tarfile.TarInfo(m[0])
                info.size = len(m[1])
                tar.addfile(info, io.BytesIO(m[1]))
    return buf.getvalue()


def test_zip_members_scanned_by_content_whatever_their_name() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("README.md", "# a model")
        z.writestr("weights/part-0001.json", evil_pickle())
    report = scan(buf.getvalue(), "bundle.zip")
    assert critical(report)
    assert report.metadata["formats"]["bundle.zip!README.md"] == "unknown"
    assert report.metadata["formats"]["bundle.zip!weights/part-0001.json"] == "pickle"


def test_nested_archives_and_depth_limit() -> None:
    inner = build_zip([Member("m.pkl", evil_pickle())])
    middle = tar_of(("inner.zip", inner))
    outer = build_zip([Member("middle.tar", middle, method=8)])
    report = scan(outer)
    assert critical(report)
    assert any(f.location.member == "middle.tar/inner.zip/m.pkl" for f in report.findings)
    assert "MW-FMT-002" not in rules(report)
    shallow = scan_bytes(outer, limits=ScanLimits(max_depth=1))
    assert "MW-FMT-002" in rules(shallow)
    assert shallow.skipped


@pytest.mark.parametrize("name", ["../../etc/cron.d/x", "/abs/path.pkl", "C:\\\\win\\\\x.pkl",
                                  "a/../../b.pkl", "nul\x00byte.pkl"])
def test_traversal_names(name: str) -> None:
    assert "MW-ARC-002" in rules(scan(build_zip([Member(name, benign_pickle())])))
    if "\x00" not in name:  # tar names end at the first NUL
        assert "MW-ARC-002" in rules(scan(tar_of((name, benign_pickle()))))


def test_safe_names_are_not_traversal() -> None:
    report = scan(build_zip([Member("a/b..c/d.pkl", benign_pickle())]))
    assert "MW-ARC-002" not in rules(report)


def test_zip_bomb_is_unpacked_only_up_to_the_ratio_limit() -> None:
    """A bomb is inflated up to the ratio limit and no further (high); its declared size alone
    does not stop the reading, since zipfile and miniz read the data whatever it declares (see
    test_archive_parity: a payload declared 1 MiB long was skipped unread)."""
    bomb = build_zip([Member("zeros.bin", b"\x00" * (8 << 20), method=8)])
    report = scan(bomb)
    found = [f for f in report.findings if f.rule_id == "MW-ARC-001"]
    assert found and "only that much was analysed" in found[0].message
    assert found[0].evidence["limit"] < 8 << 20


def test_zip_member_declared_as_a_bomb_is_still_analysed() -> None:
    data = bytearray(build_zip([Member("m.pkl", evil_pickle(), method=8)]))
    central = data.rfind(b"PK\x01\x02")
    data[central + 24:central + 28] = (1 << 30).to_bytes(4, "little")  # uncompressed size
    report = scan(bytes(data))
    assert critical(report)
    assert "MW-ARC-006" in rules(report)  # the size lie itself


def test_zip_member_lying_about_its_size_is_bounded() -> None:
    data = bytearray(build_zip([Member("a.bin", b"\x00" * (4 << 20), method=8)]))
    # rewrite the central directory's uncompressed size to 100 bytes
    cd = data.rfind(b"PK\x01\x02")
    data[cd + 24:cd + 28] = (100).to_bytes(4, "little")
    report = scan(bytes(data))
    assert "MW-ARC-001" in rules(report)


def test_member_count_limit() -> None:
    archive = build_zip([Member(f"f{i}.txt", b"x") for i in range(30)])
    report = scan_bytes(archive, limits=ScanLimits(max_members=10))
    assert "MW-ARC-001" in rules(report)


def test_encrypted_member_is_finding_and_skip_never_clean() -> None:
    report = scan(build_zip([Member("model.pkl", b"\x12\x34" * 20, flags=0x1)]))
    assert "MW-ARC-004" in rules(report)
    assert report.skipped


def test_zip_symlink_member() -> None:
    link = Member("evil_link", b"/etc/passwd", external_attr=(0o120777 << 16))
    assert "MW-ARC-003" in rules(scan(build_zip([link])))


def test_tar_links_and_devices() -> None:
    sym = tarfile.TarInfo("weights.pkl")
    sym.type, sym.linkname = tarfile.SYMTYPE, "/root/.ssh/authorized_keys"
    hard = tarfile.TarInfo("hard")
    hard.type, hard.linkname = tarfile.LNKTYPE, "weights.pkl"
    dev = tarfile.TarInfo("dev")
    dev.type = tarfile.CHRTYPE
    report = scan(tar_of(sym, hard, dev, ("ok.pkl", benign_pickle())))
    hits = [f for f in report.findings if f.rule_id == "MW-ARC-003"]
    assert len(hits) == 3
    assert not critical(report)


@pytest.mark.parametrize("cut", [10, 100, 600, 1100])
def test_truncated_archives_are_findings(cut: int) -> None:
    data = tar_of(("a.pkl", evil_pickle()), ("b.pkl", evil_pickle()))
    report = scan(data[:cut])
    assert report.findings or report.skipped or report.metadata["formats"]["x.bin"] == "unknown"
    zipped = build_zip([Member("a.pkl", evil_pickle(), method=8), Member("b.txt", b"x" * 100)])
    report = scan(zipped[: len(zipped) - 30])
    assert "MW-ARC-005" in rules(report)


def test_corrupt_deflate_member() -> None:
    data = bytearray(build_zip([Member("a.pkl", evil_pickle() * 50, method=8)]))
    data[40:60] = b"\xff" * 20
    report = scan(bytes(data))
    assert "MW-ARC-005" in rules(report)


def test_unsupported_and_supported_methods() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a.pkl", evil_pickle(), compress_type=zipfile.ZIP_BZIP2)
        z.writestr("b.pkl", evil_pickle(), compress_type=zipfile.ZIP_LZMA)
    report = scan(buf.getvalue())
    assert sum(f.rule_id == "MW-PKL-001" for f in report.findings) == 2
    assert "MW-ARC-007" in rules(scan(build_zip([Member("c.pkl", b"abc", method=97)])))


def test_unreadable_members_fail_closed_at_high() -> None:
    from mlwarden.core.severity import Severity

    for data in (build_zip([Member("c.pkl", evil_pickle(), method=97)]),
                 build_zip([Member("c.pkl", evil_pickle(), method=9)]),  # not a deflate64 stream
                 build_zip([Member("c.pkl", evil_pickle(), flags=0x1)])):  # encrypted
        report = scan(data)
        assert report.at_or_above(Severity.HIGH) and report.skipped
        assert rules(report) & {"MW-ARC-004", "MW-ARC-007"}
    deep = scan_bytes(build_zip([Member("in.zip", build_zip([Member("m.pkl", benign_pickle())]))]),
                      limits=ScanLimits(max_depth=1))
    assert [f.severity for f in deep.findings if f.rule_id == "MW-FMT-002"] == [Severity.HIGH]


def test_deflate64_members_are_inflated() -> None:
    inflate64 = pytest.importorskip("inflate64")
    deflater = inflate64.Deflater()
    packed = deflater.deflate(evil_pickle() * 3) + deflater.flush()
    # build_zip stores ``data`` as is: the member's stream is the deflate64 bytes
    report = scan(build_zip([Member("model.pkl", packed, method=9)]))
    assert "MW-PKL-001" in rules(report)
    assert "MW-ARC-007" not in rules(report)
    assert "pickle" in [v for k, v in report.metadata["formats"].items() if k.endswith("model.pkl")]


def test_seven_zip() -> None:
    py7zr = pytest.importorskip("py7zr")
    buf = io.BytesIO()
    with py7zr.SevenZipFile(buf, "w") as archive:
        archive.writestr(evil_pickle(), "model/weights.bin")
        archive.writestr(b"hello", "README")
    report = scan(buf.getvalue(), "m.7z")
    assert critical(report)
    buf = io.BytesIO()
    with py7zr.SevenZipFile(buf, "w", password="secret", header_encryption=True) as archive:
        archive.writestr(evil_pickle(), "model.pkl")
    report = scan(buf.getvalue(), "m.7z")
    assert "MW-ARC-004" in rules(report) and report.skipped
    buf = io.BytesIO()
    with py7zr.SevenZipFile(buf, "w", password="secret") as archive:
        archive.writestr(evil_pickle(), "model.pkl")
    report = scan(buf.getvalue(), "m.7z")
    assert "MW-ARC-004" in rules(report) and report.skipped
    report = scan(buf.getvalue()[:40], "m.7z")
    assert "MW-ARC-005" in rules(report)


def test_zip64_archive() -> None:
    data = build_zip([Member("a.txt", b"hello"), Member("w/m.pkl", evil_pickle(), method=8)],
                     zip64=True)
    with zipfile.ZipFile(io.BytesIO(data)) as z:  # the crafted archive is valid ZIP64
        assert z.read("w/m.pkl") == evil_pickle()
    report = scan(data)
    assert critical(report)
    assert not rules(report) - {"MW-PKL-001"}


def test_comment_and_trailing_bytes() -> None:
    data = build_zip([Member("m.pkl", evil_pickle())], comment=b"PK\x05\x06 looks like an end")
    assert critical(scan(data))
    assert critical(scan(build_zip([Member("m.pkl", evil_pickle())]) + b"\x00" * 100))


def test_ustar_magic_with_bad_checksum_is_not_a_tar() -> None:
    # tarfile rejects the block, so torch.load falls back to unpickling the file.
    block = bytearray(evil_pickle().ljust(512, b"\x00"))
    block[257:262] = b"ustar"
    block[148:156] = b"0000000\x00"
    report = scan(bytes(block) + b"\x00" * 1024)
    assert critical(report)


def test_tar_whose_first_member_name_is_a_pickle() -> None:
    import os

    name = b"cposix\nsystem\n(S'touch " + str(CANARY).encode() + b"'\ntR."
    assert len(name) < 100
    info = tarfile.TarInfo(name.decode())
    info.size = 3
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        tar.addfile(info, io.BytesIO(b"abc"))
    data = buf.getvalue()
    assert data.startswith(b"cposix\nsystem\n") and os.name == "posix"
    report = scan(data)
    assert critical(report) and "MW-FMT-004" in rules(report)
    assert report.metadata["formats"]["x.bin"] == "tar"


def test_plain_archives_are_not_polyglots() -> None:
    for data in (tar_of(("model.pkl", benign_pickle())), build_zip([Member("a", b"b")])):
        assert "MW-FMT-004" not in rules(scan(data))


def test_stored_member_lying_about_its_size_is_read_whole() -> None:
    payload = b"\x80\x02" + b"X" + (2 << 20).to_bytes(4, "little") + b"a" * (2 << 20) + b"0" + \
        evil_pickle()[2:]  # a 2 MiB string pushed and popped, then the payload
    data = bytearray(build_zip([Member("m.pkl", payload)]))
    cd = data.rfind(b"PK\x01\x02")
    data[cd + 24:cd + 28] = (16).to_bytes(4, "little")  # central directory: "16 bytes"
    report = scan(bytes(data))
    assert critical(report) and "MW-ARC-006" in rules(report)
