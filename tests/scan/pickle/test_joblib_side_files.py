"""joblib's legacy NDArrayWrapper: ``joblib.load`` unpickles the side file its state names
(``np.load(os.path.join(dirname, filename), allow_pickle=True)``). A name leaving the folder makes
the loader unpickle a file that was never scanned with this one (MW-ARC-002, high)."""

from __future__ import annotations

import pytest

from mlwarden.core.severity import Severity
from mlwarden.scan.engine import scan_bytes


def _legacy(filename: bytes) -> bytes:
    """A joblib < 0.10 pickle: NDArrayWrapper rebuilt with a state naming its side file."""
    return (b"\x80\x02cjoblib.numpy_pickle_compat\nNDArrayWrapper\nq\x00)\x81q\x01}q\x02("
            b"X\x08\x00\x00\x00filenameq\x03X" + len(filename).to_bytes(4, "little") + filename +
            b"X\x08\x00\x00\x00subclassq\x04cnumpy\nndarray\nq\x05X\n\x00\x00\x00allow_mmapq\x06"
            b"\x89ub.")


@pytest.mark.parametrize("name", [b"../elsewhere/payload.npy", b"/tmp/payload.npy",
                                  b"C:\\\\x\\\\p.npy", b"http://host/p.npy"])
def test_a_side_file_outside_the_folder_is_high(name: bytes) -> None:
    report = scan_bytes(_legacy(name), name="model.pkl")
    found = [f for f in report.findings if f.rule_id == "MW-ARC-002"]
    assert found and found[0].severity >= Severity.HIGH, report.findings


def test_the_side_file_joblib_wrote_beside_it_is_clean() -> None:
    report = scan_bytes(_legacy(b"model.pkl_01.npy"), name="model.pkl")
    assert report.max_severity() is None or report.max_severity() < Severity.MEDIUM, \
        report.findings
