"""PyTorch zip checkpoints, read the way torch.load reads them: every variant an attacker can build
to make zipfile-based scanners look elsewhere is still fully scanned."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import LazyModule

from .conftest import Member, Payload, build_zip, critical, evil_pickle, rules, scan, scan_file

torch: Any = LazyModule("torch")  # imported by the tests, not at collection


def checkpoint(obj: object) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def members_of(data: bytes) -> list[Member]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [Member(i.filename, z.read(i.filename)) for i in z.infolist()]


@pytest.fixture(scope="module")
def benign_members() -> list[Member]:
    return members_of(checkpoint({"w": torch.arange(6.0).reshape(2, 3), "step": 3}))


def with_evil_data_pkl(members: list[Member], **knobs: object) -> list[Member]:
    out = []
    for m in members:
        if m.name.endswith("/data.pkl"):
            m = Member(m.name, checkpoint_evil_pickle(), **knobs)  # type: ignore[arg-type]
        out.append(m)
    return out


def checkpoint_evil_pickle() -> bytes:
    evil = checkpoint({"w": torch.zeros(2), "hook": Payload()})
    with zipfile.ZipFile(io.BytesIO(evil)) as z:
        name = next(n for n in z.namelist() if n.endswith("/data.pkl"))
        return z.read(name)


def load_weights_only(data: bytes) -> dict[str, object]:
    loaded: dict[str, object] = torch.load(io.BytesIO(data), weights_only=True)
    return loaded


def test_real_checkpoints_clean_and_malicious(tmp_path: Path) -> None:
    good = tmp_path / "good.bin"
    good.write_bytes(checkpoint({"w": torch.ones(4)}))
    report = scan_file(good)
    assert not report.findings, report.findings
    assert report.metadata["formats"][str(good)] == "torch-zip"
    evil = tmp_path / "evil.txt"
    evil.write_bytes(checkpoint({"w": torch.ones(4), "x": Payload()}))
    report = scan_file(evil)
    assert critical(report)
    assert any(f.location.member and f.location.member.endswith("data.pkl")
               for f in report.findings)


@pytest.mark.parametrize("stem", ["data", "archive", "model.data"])
def test_archive_folder_named_like_the_storage_folder(tmp_path: Path, stem: str) -> None:
    path = tmp_path / f"{stem}.pt"  # torch names the archive folder after the file's stem
    torch.save({"w": torch.zeros(2), "x": Payload()}, path)
    with zipfile.ZipFile(path) as z:
        folder = z.namelist()[0].split("/")[0]
        assert f"{folder}/data.pkl" in z.namelist() and folder.startswith(stem.split(".")[0])
    assert critical(scan_file(path))


def test_storage_members_are_not_read(benign_members: list[Member]) -> None:
    # Garbage (even pickle-looking bytes) in data/<key> is tensor data torch never unpickles.
    members = [Member(m.name, evil_pickle()) if "/data/" in m.name else m for m in benign_members]
    report = scan(build_zip(members))
    assert not report.findings, report.findings
    assert not any("/data/" in k for k in report.metadata["formats"])


def test_bad_crc_still_scanned_and_torch_loads_it(benign_members: list[Member]) -> None:
    bad = [Member(m.name, m.data, crc=0xDEADBEEF) if m.name.endswith("data.pkl") else m
           for m in benign_members]
    data = build_zip(bad)
    with pytest.raises(zipfile.BadZipFile), zipfile.ZipFile(io.BytesIO(data)) as z:
        z.read(next(n for n in z.namelist() if n.endswith("data.pkl")))
    assert load_weights_only(data)["step"] == 3  # torch (miniz) ignores the CRC
    report = scan(build_zip(with_evil_data_pkl(benign_members, crc=0x1234)))
    assert critical(report) and "MW-ARC-006" in rules(report)


def test_name_mismatch_follows_central_directory(benign_members: list[Member]) -> None:
    odd = [Member(m.name, m.data, local_name=m.name.replace("data.pkl", "nope.txt"))
           if m.name.endswith("data.pkl") else m for m in benign_members]
    data = build_zip(odd)
    assert load_weights_only(data)["step"] == 3  # torch uses the central directory name
    evil = build_zip(with_evil_data_pkl(benign_members, local_name="archive/innocent.txt"))
    report = scan(evil)
    assert critical(report) and "MW-ARC-006" in rules(report)


@pytest.mark.parametrize("knobs", [{"method": 8}, {"descriptor": True},
                                   {"method": 8, "descriptor": True}])
def test_deflate_and_data_descriptor(benign_members: list[Member], knobs: dict[str, object]) -> None:
    report = scan(build_zip(with_evil_data_pkl(benign_members, **knobs)))
    assert critical(report)


def test_unknown_method_is_finding_and_skip(benign_members: list[Member]) -> None:
    members = with_evil_data_pkl(benign_members)
    for m in members:
        if m.name.endswith("data.pkl"):
            m.method = 93  # zstd: neither torch nor mlwarden decodes it
    report = scan(build_zip(members))
    assert "MW-ARC-007" in rules(report)
    assert any(s.member and s.member.endswith("data.pkl") for s in report.skipped)


def test_prepended_junk(benign_members: list[Member]) -> None:
    report = scan(build_zip(with_evil_data_pkl(benign_members), prefix=b"#!/bin/sh\n" * 30))
    assert critical(report) and "MW-ARC-006" in rules(report)


def test_duplicate_names_every_copy_scanned(benign_members: list[Member]) -> None:
    members = list(benign_members)
    pkl = next(m for m in members if m.name.endswith("data.pkl"))
    members.append(Member(pkl.name, checkpoint_evil_pickle()))
    report = scan(build_zip(members))
    assert critical(report) and "MW-ARC-006" in rules(report)


@pytest.mark.parametrize("name", ["archive/extra/x", "archive/.hidden/payload", "z/q.pkl",
                                  "archive/code/__torch__.py.debug_pkl"])
def test_extra_pickle_member_anywhere(benign_members: list[Member], name: str) -> None:
    report = scan(build_zip([*benign_members, Member(name, evil_pickle())]))
    assert critical(report)
    if not name.endswith(".debug_pkl"):
        assert "MW-TORCH-002" in rules(report)


def test_truncated_checkpoint_never_clean(benign_members: list[Member]) -> None:
    data = build_zip(with_evil_data_pkl(benign_members))
    cut = data[: len(data) - 60]  # loses the end-of-directory record
    report = scan(cut)
    assert "MW-ARC-005" in rules(report)
    assert critical(report)  # the pickle is recovered from its local header


def test_torchscript_archive(tmp_path: Path) -> None:
    from .torchscript_model import scripted

    path = tmp_path / "ts.pt"
    scripted().save(str(path))
    report = scan_file(path)
    assert report.metadata["formats"][str(path)] == "torchscript"
    assert [f.rule_id for f in report.findings] == ["MW-TORCH-003"]  # code, by design
    with zipfile.ZipFile(path) as z:
        members = [Member(i.filename, z.read(i.filename)) for i in z.infolist()]
    code = next(m for m in members if "/code/" in m.name and m.name.endswith(".py"))
    code.data += b"\nimport os\ndef f(x: Tensor) -> Tensor:\n  return torch.from_file('/etc/passwd')\n"
    report = scan(build_zip(members))
    hits = [f for f in report.findings if f.rule_id == "MW-TORCH-001"]
    assert {f.evidence["construct"] for f in hits} >= {"import os", "torch.from_file"}
    assert all(f.location.member == code.name for f in hits)


def test_torchscript_pickle_with_python_gadget_is_critical(tmp_path: Path) -> None:
    from .torchscript_model import scripted

    path = tmp_path / "ts.pt"
    scripted().save(str(path))
    with zipfile.ZipFile(path) as z:
        members = [Member(i.filename, z.read(i.filename)) for i in z.infolist()]
    for m in members:
        if m.name.endswith("constants.pkl"):
            m.data = evil_pickle()
    report = scan(build_zip(members))
    assert critical(report)


def test_only_numbered_storages_are_skipped(benign_members: list[Member]) -> None:
    folder = benign_members[0].name.split("/")[0]
    report = scan(build_zip([*benign_members, Member(f"{folder}/data/model.pkl", evil_pickle())]))
    assert critical(report)


def test_decoy_data_pkl_does_not_make_a_bundle_a_checkpoint() -> None:
    # No <folder>/version: not torch's layout, so nothing under data/ is skipped.
    bundle = build_zip([Member("x/data.pkl", b"\x80\x02}q\x00."), Member("pkg/data/7",
                                                                          evil_pickle())])
    report = scan(bundle)
    assert report.metadata["formats"]["x.bin"] == "zip"
    assert critical(report)


@pytest.mark.parametrize(("code", "construct"), [
    (b"def f(x: Tensor) -> Tensor:\n  return ops.mycorp.evil(x)\n", "ops.mycorp"),
    (b"def f(x: Tensor) -> Tensor:\n  return torch.ops.aten.from_file('/etc/shadow', True, 8)\n",
     "torch.ops.aten.from_file"),
    (b"def f(x: Tensor) -> Tensor:\n  eval('1')\n  return x\n", "eval()"),
    (b"def f(x: Tensor) -> Tensor:\n  return torch.distributed.rpc.rpc_sync('w', g, (x,))\n",
     "torch.distributed.rpc.rpc_sync"),
])
def test_torchscript_code_constructs(code: bytes, construct: str) -> None:
    from mlwarden.scan.formats.torch_zip import check_torchscript_code
    from mlwarden.scan.interface import ScanContext, ScanTarget

    ctx = ScanContext()
    check_torchscript_code(ScanTarget("m.pt", code, member="m/code/__torch__.py"), ctx)
    assert construct in {f.evidence["construct"] for f in ctx.findings}
    clean = ScanContext()
    check_torchscript_code(ScanTarget("m.pt", b"def f(x: Tensor) -> Tensor:\n"
                                               b"  return torch.ops.aten.add(x, x)\n"), clean)
    assert not clean.findings


def test_case_insensitive_names_like_miniz(benign_members: list[Member]) -> None:
    folder = benign_members[0].name.split("/")[0]
    renamed = [Member(m.name.replace("data.pkl", "DATA.PKL"), m.data) for m in benign_members]
    data = build_zip(renamed)
    assert load_weights_only(data)["step"] == 3  # torch finds 'data.pkl' case-insensitively
    assert scan(data).metadata["formats"]["x.bin"] == "torch-zip"
    shadow = build_zip([*benign_members, Member(f"{folder}/Data.Pkl", b"garbage" + evil_pickle())])
    report = scan(shadow)
    assert "MW-ARC-006" in rules(report)
    assert report.metadata["formats"][f"x.bin!{folder}/Data.Pkl"] == "pickle"
