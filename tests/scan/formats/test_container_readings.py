"""Containers read the way their loaders read them: every central directory a zip reader may use,
and every .lzma header liblzma's automatic decoder (lzma.LZMAFile: joblib, pandas) accepts."""

from __future__ import annotations

import io
import lzma
import struct
import zipfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from mlwarden.scan.formats import zipreader
from mlwarden.scan.formats.joblib_file import codec_of, decompress
from mlwarden.scan.sniff import could_be_lzma_alone
from tests.scan.redteam import cases_round4_formats as r4

CANARY = Path("/nonexistent/canary")


def _zipfile_view(data: bytes) -> set[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {(info.filename, zf.read(info)) for info in zf.infolist()}


def _our_view(data: bytes) -> set[tuple[str, bytes]]:
    directory = zipreader.read_directory(data)
    out = set()
    for entry in directory.entries:
        member = zipreader.read_member(data, entry, 1 << 20)
        out.add((entry.name, bytes(member.data)))
    return out


def test_every_member_zipfile_reads_is_listed() -> None:
    """Where Python's zipfile finds another directory than miniz, both are read."""
    for build in (r4._eocd_in_comment, r4._cd_where_it_ends, r4._zip64_two_records):
        data = build(CANARY)
        assert _zipfile_view(data) <= _our_view(data), build.__name__
        assert any("zip readers disagree" in p for p in zipreader.read_directory(data).problems)


def test_torch_reader_members_are_listed() -> None:
    """miniz (torch.load) takes the last end record: its data.pkl is among the members read."""
    import torch

    data = r4._eocd_in_comment(CANARY)
    path = Path(__file__).parent / "_eocd_probe.pt"
    try:
        path.write_bytes(data)
        record = bytes(torch._C.PyTorchFileReader(str(path)).get_record("data.pkl"))
    finally:
        path.unlink(missing_ok=True)
    assert ("archive/data.pkl", record) in _our_view(data)


def test_ordinary_archives_have_one_reading() -> None:
    plain = r4.zip_after(b"", [("a/b.bin", b"x" * 100), ("a/c.bin", b"y")])
    commented = bytearray(plain)
    struct.pack_into("<H", commented, len(commented) - 2, 5)
    for data in (plain, bytes(commented) + b"hello", r4._zip_of_stored_npz(CANARY)):
        directory = zipreader.read_directory(data)
        assert not directory.problems
        assert len(directory.entries) == len(_zipfile_view(data))


_DICT_SIZES = st.sampled_from([0x100, 0x180, 0x1000, 0x8000, 0xC000, 0x10000, 0x800000,
                               0xFFFFFFFF, 0x12345, 0, 1, 3])


@settings(max_examples=300, deadline=None)
@given(props=st.integers(0, 255), dict_size=_DICT_SIZES,
       usize=st.sampled_from([(1 << 64) - 1, 0, 60, (1 << 38) - 1, 1 << 38, 1 << 50]),
       first=st.sampled_from([0, 0, 1, 0x5D]), tail=st.binary(min_size=0, max_size=32))
def test_lzma_sniff_admits_every_header_liblzma_auto_accepts(
        props: int, dict_size: int, usize: int, first: int, tail: bytes) -> None:
    head = bytes([props]) + struct.pack("<IQ", dict_size, usize) + bytes([first]) + tail
    try:
        lzma.LZMADecompressor(lzma.FORMAT_AUTO).decompress(head, 1)
    except lzma.LZMAError:
        return
    if usize == 0:
        return  # an empty stream carries nothing: what may follow it is tested below
    if len(head) >= 14:
        assert could_be_lzma_alone(head), head[:14].hex()


def test_lzma_streams_joblib_reads_are_decoded() -> None:
    payload = b"\x80\x02K\x07."
    for data in (r4._lzma_alone(payload, 0x8000),
                 lzma.compress(payload, format=lzma.FORMAT_ALONE,
                               filters=[{"id": lzma.FILTER_LZMA1, "lc": 0, "lp": 2, "pb": 0}]),
                 lzma.compress(b"") + lzma.compress(payload, format=lzma.FORMAT_ALONE),
                 lzma.compress(b"", format=lzma.FORMAT_ALONE) + lzma.compress(payload),
                 lzma.compress(payload) + bytes(8) + lzma.compress(b""),
                 bytes(18) + lzma.compress(payload),  # an empty .lzma stream of zeros first
                 bytes(36) + lzma.compress(payload, format=lzma.FORMAT_ALONE)):
        # (LZMAFile stops at the xz stream padding, after the payload: not trailing garbage)
        with lzma.LZMAFile(io.BytesIO(data)) as reader:
            assert reader.read(len(payload)) == payload
        codec = codec_of(data[:4096])
        assert codec is not None
        result = decompress(codec, data, 1 << 20)
        assert result is not None
        assert bytes(result.data) == payload
        assert result.consumed == len(data)


def test_files_of_zeros_are_not_lzma() -> None:
    """14+ NUL bytes form an empty .lzma stream; alone they are not a compressed file."""
    from mlwarden.scan.engine import scan_bytes

    for data in (bytes(4096), bytes(4000) + b"\x00\x00\x80?" * 10):
        assert not could_be_lzma_alone(data[:4096])
        assert not scan_bytes(data, name="w.bin").findings
