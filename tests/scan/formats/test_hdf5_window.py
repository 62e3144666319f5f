"""HDF5 archive members stored uncompressed are probed in place, through a window on the file.

The probe child gets ``(file, offset, length)`` instead of a temporary copy of the member. These
tests pin down that the window is where the member is (through the zip and Keras scanners, and
through stored zips nested in stored zips), that anything else still goes through a copy, that the
child never reads outside the window, and that the request framing is validated on both sides.
"""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mlwarden.scan import engine
from mlwarden.scan.formats import hdf5, hdf5_probe
from mlwarden.scan.interface import FormatScanner, ScanTarget

from .keras_samples import benign_cnn, keras_zip, marshalled_lambda
from .test_hdf5 import legacy_config, legacy_h5

LAMBDA = {"class_name": "Lambda", "config": {
    "name": "lambda", "function": [marshalled_lambda(), None, None],
    "function_type": "lambda", "module": "__main__", "output_shape": None,
    "output_shape_type": "raw", "output_shape_module": None, "arguments": {}}}


def evil_h5() -> bytes:
    return legacy_h5(legacy_config(LAMBDA))


def benign_h5() -> bytes:
    return legacy_h5(legacy_config())


def zip_bytes(members: dict[str, bytes], method: int = zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def data_offset(archive: bytes, name: str) -> int:
    """Where ``name``'s bytes start in ``archive`` (after its local header)."""
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        info = zf.getinfo(name)
    name_len, extra_len = struct.unpack_from("<HH", archive, info.header_offset + 26)
    return int(info.header_offset + 30 + name_len + extra_len)


@pytest.fixture
def requests(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[Path, tuple[int, int] | None]]]:
    """Every request made to the probe child: ``(path, window)``."""
    seen: list[tuple[Path, tuple[int, int] | None]] = []
    real = hdf5._CHILD.request

    def spy(path: Path, window: tuple[int, int] | None = None) -> dict[str, Any] | str:
        seen.append((path, window))
        return real(path, window)

    monkeypatch.setattr(hdf5._CHILD, "request", spy)
    yield seen


def rules_of(result: engine.FileResult) -> set[str]:
    return {f.rule_id for f in result.findings}


# -------------------------------------------------------------------------- through the scanners

def test_a_stored_member_is_probed_in_place(tmp_path: Path, requests: list[Any]) -> None:
    member = evil_h5()
    archive = zip_bytes({"readme.txt": b"hello", "model.h5": member, "after.txt": b"x" * 100})
    path = tmp_path / "models.zip"
    path.write_bytes(archive)
    result = engine.scan_file(path, str(path))
    assert "MW-KERAS-001" in rules_of(result) and "MW-HDF-001" not in rules_of(result)
    start = data_offset(archive, "model.h5")
    assert requests == [(path.absolute(), (start, len(member)))]
    assert archive[start:start + len(member)] == member
    assert result.formats[f"{path}!model.h5"] == "hdf5"


def test_a_benign_stored_member_is_clean_in_place(tmp_path: Path, requests: list[Any]) -> None:
    path = tmp_path / "models.zip"
    path.write_bytes(zip_bytes({"a.h5": benign_h5(), "b.h5": benign_h5()}))
    result = engine.scan_file(path, str(path))
    assert result.findings == [] and result.skipped == []
    assert [w is not None for _, w in requests] == [True, True]


def test_a_compressed_member_still_goes_through_a_copy(tmp_path: Path, requests: list[Any]) -> None:
    path = tmp_path / "models.zip"
    path.write_bytes(zip_bytes({"model.h5": evil_h5()}, zipfile.ZIP_DEFLATED))
    result = engine.scan_file(path, str(path))
    assert "MW-KERAS-001" in rules_of(result)
    [(probed, window)] = requests
    assert window is None and probed != path.absolute() and not probed.exists()


def test_stored_zips_in_stored_zips_add_their_offsets(tmp_path: Path, requests: list[Any]) -> None:
    member = evil_h5()
    inner = zip_bytes({"pad.bin": b"\0" * 333, "deep/model.h5": member})
    outer = zip_bytes({"first.txt": b"abc", "inner.zip": inner})
    path = tmp_path / "outer.zip"
    path.write_bytes(outer)
    result = engine.scan_file(path, str(path))
    assert "MW-KERAS-001" in rules_of(result)
    start = data_offset(outer, "inner.zip") + data_offset(inner, "deep/model.h5")
    assert requests == [(path.absolute(), (start, len(member)))]
    assert outer[start:start + len(member)] == member


def test_a_stored_member_of_a_compressed_zip_goes_through_a_copy(
        tmp_path: Path, requests: list[Any]) -> None:
    inner = zip_bytes({"model.h5": evil_h5()})  # stored, but inside a deflated member
    path = tmp_path / "outer.zip"
    path.write_bytes(zip_bytes({"inner.zip": inner}, zipfile.ZIP_DEFLATED))
    result = engine.scan_file(path, str(path))
    assert "MW-KERAS-001" in rules_of(result)
    assert [w for _, w in requests] == [None]


@pytest.mark.parametrize("zip_scanner", [True, False])
def test_keras_weights_are_probed_in_place(tmp_path: Path, requests: list[Any],
                                           monkeypatch: pytest.MonkeyPatch,
                                           zip_scanner: bool) -> None:
    """Through the generic zip scanner, or the Keras scanner's own member loop without it."""
    if not zip_scanner:
        monkeypatch.delitem(FormatScanner.registry, "zip")
    weights = evil_h5()
    archive = keras_zip(benign_cnn(), extra={"model.weights.h5": weights},
                        compression=zipfile.ZIP_STORED)
    path = tmp_path / "model.keras"
    path.write_bytes(archive)
    result = engine.scan_file(path, str(path))
    assert result.formats[str(path)] == "keras"
    in_weights = {f.rule_id for f in result.findings if f.location.member == "model.weights.h5"}
    assert "MW-KERAS-001" in in_weights and "MW-HDF-001" not in in_weights
    start = data_offset(archive, "model.weights.h5")
    assert requests == [(path.absolute(), (start, len(weights)))]


# ------------------------------------------------------------------------------- the window itself

def test_the_window_reads_only_its_bytes(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"A" * 100 + b"0123456789" + b"B" * 100)
    window = hdf5_probe.open_window(str(path), 100, 10)
    with window:
        assert window.read() == b"0123456789"
        assert window.tell() == 10 and window.read(5) == b""
        assert window.seek(5) == 5 and window.read(100) == b"56789"
        assert window.seek(0, io.SEEK_END) == 10
        assert window.seek(-3, io.SEEK_END) == 7 and window.read() == b"789"
        assert window.seek(-2, io.SEEK_CUR) == 8 and window.read(1) == b"8"
        assert window.seek(1000) == 1000 and window.read(10) == b""
        buf = bytearray(b"?" * 50)
        window.seek(0)
        assert window.readinto(buf) == 10 and buf == b"0123456789" + b"?" * 40
        with pytest.raises(OSError):
            window.seek(-1)
        with pytest.raises(OSError):
            window.seek(-11, io.SEEK_END)
        assert not window.writable()
        with pytest.raises(OSError):
            window.write(b"x")
        with pytest.raises(OSError):
            window.truncate(0)
        fd = window._fd
    with pytest.raises(OSError):  # closing the window closed its descriptor
        os.fstat(fd)
    assert path.read_bytes() == b"A" * 100 + b"0123456789" + b"B" * 100


def test_a_window_past_the_end_of_the_file_or_on_a_directory_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 100)
    with pytest.raises(OSError, match="not in the file"):
        hdf5_probe.open_window(str(path), 90, 11)
    hdf5_probe.open_window(str(path), 90, 10).close()
    with pytest.raises(OSError, match="not a regular file"):
        hdf5_probe.open_window(str(tmp_path), 0, 0)
    answer = hdf5._CHILD.request(path.absolute(), (90, 11))
    assert isinstance(answer, dict) and "not in the file" in answer["open_error"]


def test_the_child_never_sees_an_hdf5_file_right_after_its_window(tmp_path: Path) -> None:
    """HDF5 looks for its signature at 0, 512, 1024, 2048, 4096…: a file placed at window-relative
    4096, one byte past the window, would be found by a window that leaked past its end."""
    evil = evil_h5()
    path = tmp_path / "f.bin"
    path.write_bytes(b"\0" * 4096 + evil)
    whole = hdf5._CHILD.request(path.absolute())  # the whole file: its user block hides nothing
    assert isinstance(whole, dict) and whole["configs"], whole
    wide = hdf5._CHILD.request(path.absolute(), (0, 4096 + len(evil)))
    assert isinstance(wide, dict) and wide["configs"] == whole["configs"]
    narrow = hdf5._CHILD.request(path.absolute(), (0, 4096))
    assert isinstance(narrow, dict) and narrow["open_error"] and narrow["configs"] == []


def test_the_child_never_sees_the_bytes_before_its_window(tmp_path: Path) -> None:
    evil, benign = evil_h5(), benign_h5()
    path = tmp_path / "f.bin"
    path.write_bytes(evil + b"\0" * (16384 - len(evil)) + benign)
    assert len(evil) < 16384
    answer = hdf5._CHILD.request(path.absolute(), (16384, len(benign)))
    assert isinstance(answer, dict) and answer["open_error"] is None
    assert [where for where, _ in answer["configs"]] == ["/@model_config", "/@training_config"]
    assert "Lambda" not in json.dumps(answer)
    # the same bytes as a file of their own give the same answer
    alone = tmp_path / "benign.h5"
    alone.write_bytes(benign)
    assert hdf5._CHILD.request(alone.absolute()) == answer


# ---------------------------------------------------------------------------------- the framing

def test_requests_are_parsed_strictly() -> None:
    parse = hdf5_probe.parse_request
    assert parse(b"/a/b.h5") == ("/a/b.h5", None)
    assert parse(b"\0" + struct.pack(">QQ", 7, 9) + b"/a/b.h5") == ("/a/b.h5", (7, 9))
    for bad in (b"", b"\0", b"\0" + struct.pack(">QQ", 7, 9), b"\0short/a",
                b"/a\0b", b"\0" + struct.pack(">QQ", 7, 9) + b"/a\0"):
        with pytest.raises(hdf5_probe.BadRequest):
            parse(bad)


@pytest.mark.parametrize(("path", "window"), [
    (Path("relative.h5"), None),
    (Path("/a\0b.h5"), None),
    (Path("/a.h5"), (-1, 10)),
    (Path("/a.h5"), (0, 1 << 63)),
    (Path("/" + "x" * (1 << 16)), None),
])
def test_the_scanner_sends_no_request_the_child_would_refuse(
        path: Path, window: tuple[int, int] | None) -> None:
    answer = hdf5._CHILD.request(path, window)
    assert isinstance(answer, str) and "could not run" in answer


@pytest.mark.parametrize("frame", [
    struct.pack(">Q", 1 << 40),  # a length past the request limit
    struct.pack(">Q", 5) + b"\0abcd",  # a window request too short to hold offset and length
    struct.pack(">Q", 4) + b"/a\0b",  # a NUL inside the path
])
def test_the_child_ends_on_a_bad_request(frame: bytes) -> None:
    proc = subprocess.run([sys.executable, "-I", str(hdf5.PROBE), "--serve"], input=frame,
                          capture_output=True, timeout=60, check=False)
    assert proc.returncode == 2 and b"bad request" in proc.stderr and proc.stdout == b""


def test_a_bad_request_ending_the_child_is_a_finding_not_a_hang(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hdf5, "_request_payload", lambda path, window: b"\0bad")
    path = tmp_path / "m.zip"
    path.write_bytes(zip_bytes({"m.h5": benign_h5()}))
    result = engine.scan_file(path, str(path))
    [finding] = [f for f in result.findings if f.rule_id == "MW-HDF-001"]
    assert "exit 2" in finding.message and "bad request" in finding.message
    assert result.skipped


# ----------------------------------------------------------------------- ScanTarget.child's check

def test_a_child_gets_an_origin_only_for_a_checked_slice(tmp_path: Path) -> None:
    raw = bytes(range(256)) * 4
    path = tmp_path / "f.bin"
    path.write_bytes(raw)
    view = memoryview(raw)
    top = ScanTarget(path=str(path), data=view, fs_path=path)
    assert top.file_range() == (path, 0, len(raw))
    child = top.child("m", view[10:30], offset=10)
    assert child.origin == (path, 10) and child.file_range() == (path, 10, 20)
    grandchild = child.child("n", child.data[3:8], offset=3)  # offsets add up
    assert grandchild.file_range() == (path, 13, 5) and grandchild.member == "m/n"
    assert top.child("m", view[10:30]).origin is None  # no offset given
    assert top.child("m", bytes(view[10:30]), offset=10).origin is None  # a copy
    assert top.child("m", memoryview(bytearray(raw))[10:30], offset=10).origin is None
    assert top.child("m", view[10:30], offset=11).origin is None  # not where it says
    assert top.child("m", view[len(raw) - 5:], offset=len(raw) - 4).origin is None
    assert top.child("m", view[10:30], offset=-1).origin is None
    on_bytes = ScanTarget(path=str(path), data=raw, fs_path=path)  # a file read whole
    assert on_bytes.child("m", memoryview(raw)[4:9], offset=4).origin == (path, 4)
    in_memory = ScanTarget(path="<bytes>", data=view)  # nothing on disk
    assert in_memory.child("m", view[10:30], offset=10).origin is None
    assert ScanTarget("p", b"", None, None, 0).origin is None  # positional use unchanged
