"""``mlwarden data fingerprint``: model-identical digests, bounded tabular summaries, no crashes."""

from __future__ import annotations

import gzip
import io
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlwarden.core.errors import InputError
from mlwarden.data.fingerprint import CSV_BLOCK, fingerprint, summarize_table, tabular_format
from mlwarden.sign.manifest import model_digest

from .conftest import run_cli


def test_digest_is_the_model_digest_for_files_and_folders(tmp_path: Path) -> None:
    folder = tmp_path / "shards"
    (folder / "part").mkdir(parents=True)
    (folder / "part" / "a.csv").write_text("x\n1\n")
    (folder / "b.bin").write_bytes(b"\x00\x01")
    assert fingerprint(folder).digest == model_digest(folder)
    assert fingerprint(folder / "b.bin").digest == model_digest(folder / "b.bin")
    fp = fingerprint(folder)
    assert [f.path for f in fp.files] == ["b.bin", "part/a.csv"] and fp.size == 6
    assert fp.kind == "directory" and fp.rows == 1


def test_digest_follows_content_and_names_not_location(tmp_path: Path) -> None:
    a = tmp_path / "a"
    a.mkdir()
    (a / "x.csv").write_text("v\n1\n")
    b = tmp_path / "elsewhere" / "b"
    shutil.copytree(a, b)
    assert fingerprint(a).digest == fingerprint(b).digest
    (b / "x.csv").rename(b / "y.csv")
    assert fingerprint(a).digest != fingerprint(b).digest
    (b / "y.csv").rename(b / "x.csv")
    (b / "x.csv").write_text("v\n2\n")
    assert fingerprint(a).digest != fingerprint(b).digest


def test_csv_tsv_gzip_and_parquet_summaries(tmp_path: Path) -> None:
    frame = pd.DataFrame({"id": [1, 2, 3], "score": [0.5, 1.5, 2.5], "name": ["a", "b\nc", "d"]})
    frame.to_csv(tmp_path / "t.csv", index=False)
    frame.to_csv(tmp_path / "t.tsv", index=False, sep="\t")
    with gzip.open(tmp_path / "t.csv.gz", "wt") as handle:
        frame.to_csv(handle, index=False)
    frame.to_parquet(tmp_path / "t.parquet")
    for name, fmt in (("t.csv", "csv"), ("t.tsv", "tsv"), ("t.csv.gz", "csv"),
                      ("t.parquet", "parquet")):
        summary = fingerprint(tmp_path / name).tables[name]
        assert summary.error is None, (name, summary.error)
        assert (summary.format, summary.rows, summary.column_count) == (fmt, 3, 3), name
        dtypes = {c.name: c.dtype for c in summary.columns}
        assert dtypes["id"] == "int64" and dtypes["score"] == "double", (name, dtypes)


def test_rows_are_counted_past_the_first_block_even_if_types_change(tmp_path: Path) -> None:
    rows = CSV_BLOCK // 2 + 5000  # "1\n" per row: the file spans more than one block
    path = tmp_path / "big.csv"
    with open(path, "w") as handle:
        handle.write("n\n")
        handle.write("1\n" * rows)
        handle.write("not-a-number\n")
    summary = summarize_table(path, "csv")
    assert summary.error is None and summary.rows == rows + 1
    assert summary.columns[0].dtype == "int64"  # inferred from the first block


def test_unreadable_tables_are_recorded_not_raised(tmp_path: Path) -> None:
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 not really")
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "bin.csv.gz").write_bytes(b"\x1f\x8b\x08garbage")
    fp = fingerprint(tmp_path)
    assert set(fp.tables) == {"bad.parquet", "empty.csv", "bin.csv.gz"}
    for summary in fp.tables.values():
        assert summary.rows is None and summary.error


def test_missing_path_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="dataset not found"):
        fingerprint(tmp_path / "nope.csv")


def test_tabular_format_by_suffix() -> None:
    assert tabular_format("A.CSV") == "csv" and tabular_format("x.tsv.gz") == "tsv"
    assert tabular_format("x.pq") == "parquet" and tabular_format("x.json") is None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_arbitrary_bytes_as_csv_never_crash(tmp_path_factory: pytest.TempPathFactory,
                                            raw: bytes) -> None:
    path = tmp_path_factory.mktemp("csv") / "x.csv"
    path.write_bytes(raw)
    summary = summarize_table(path, "csv")
    assert (summary.rows is None) == (summary.error is not None)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(-10**6, 10**6), st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\r\x00"),
    max_size=12)), min_size=1, max_size=40))
def test_row_count_matches_pandas(tmp_path_factory: pytest.TempPathFactory,
                                  rows: list[tuple[int, str]]) -> None:
    frame = pd.DataFrame(rows, columns=["n", "s"])
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    path = tmp_path_factory.mktemp("csv") / "rows.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    summary = summarize_table(path, "csv")
    assert summary.error is None, summary.error
    assert summary.rows == len(pd.read_csv(path, keep_default_na=False))


def test_cli_json_table_and_errors(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("a,b\n1,x\n")
    proc = run_cli("data", "fingerprint", "d.csv", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["digest"] == model_digest(tmp_path / "d.csv")
    assert data["tables"]["d.csv"]["rows"] == 1
    proc = run_cli("data", "fingerprint", "d.csv", "--files", cwd=tmp_path)
    assert proc.returncode == 0 and "1 rows × 2 columns" in proc.stdout
    proc = run_cli("data", "fingerprint", "missing.csv", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "mlwarden: error: missing.csv: dataset not found"
