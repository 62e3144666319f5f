"""Dataset fingerprints: a stable content digest of a file or a folder, plus a tabular summary.

A dataset is digested exactly like a model (:func:`mlwarden.sign.manifest.model_digest`): the
OpenSSF Model Signing (OMS) manifest lists every file with its SHA-256, and the dataset's digest is
the manifest's digest (what ``mlwarden digest`` prints). So ``mlwarden data fingerprint DIR`` and
``mlwarden digest DIR`` agree, a provenance attestation names a dataset and a model by the same kind
of digest, and a folder of shards is identified by what is in it, not by where it lies.

Tabular files (CSV/TSV, optionally gzip-compressed, and Parquet) also get a summary: rows, columns
and column types. The work is bounded: a Parquet summary reads only the footer; a CSV is streamed in
1 MiB blocks (constant memory) to count its rows, with types inferred from the first block. A file
the summary cannot parse gets a summary carrying the error, never a crash.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from mlwarden.core.errors import InputError

CSV_BLOCK = 1 << 20
MAX_COLUMNS = 2000
"""Columns listed in a summary; wider tables list the first ones and give the total."""

_TABULAR: tuple[tuple[str, str], ...] = (
    (".csv", "csv"), (".csv.gz", "csv"), (".tsv", "tsv"), (".tsv.gz", "tsv"),
    (".parquet", "parquet"), (".pq", "parquet"),
)


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    dtype: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "dtype": self.dtype}


@dataclass(frozen=True, slots=True)
class TableSummary:
    """Rows, columns and types of one tabular file, or the reason they could not be read."""

    format: str
    rows: int | None = None
    columns: tuple[Column, ...] = ()
    column_count: int | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"format": self.format, "rows": self.rows, "column_count": self.column_count,
                "columns": [c.to_dict() for c in self.columns], "error": self.error}


@dataclass(frozen=True, slots=True)
class FileDigest:
    """One file of a dataset: its path relative to the dataset, its size and its SHA-256."""

    path: str
    size: int
    digest: str

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "digest": self.digest}


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """The identity of a dataset: its manifest digest, the files behind it, and table summaries."""

    path: str
    kind: Literal["file", "directory"]
    digest: str
    """``sha256:<hex>``: the OMS manifest's digest (the same scheme as ``mlwarden digest``)."""
    files: tuple[FileDigest, ...]
    tables: Mapping[str, TableSummary] = field(default_factory=dict, hash=False)

    @property
    def hex(self) -> str:
        return self.digest.split(":", 1)[1]

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def rows(self) -> int | None:
        """Total rows over every tabular file, or ``None`` when no table was fully counted."""
        counted = [t.rows for t in self.tables.values() if t.rows is not None]
        return sum(counted) if counted else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path, "kind": self.kind, "digest": self.digest, "scheme": SCHEME,
            "size": self.size, "file_count": len(self.files), "rows": self.rows,
            "files": [f.to_dict() for f in self.files],
            "tables": {name: t.to_dict() for name, t in sorted(self.tables.items())},
        }


SCHEME = "mlwarden-model-digest-v1"
"""How :attr:`Fingerprint.digest` is computed: :func:`mlwarden.sign.manifest.model_digest` (the OMS
v1.0 file-level manifest over SHA-256), the same identity a model gets."""


def tabular_format(name: str) -> str | None:
    """``csv``, ``tsv`` or ``parquet`` for a file name with a tabular suffix, else ``None``."""
    lower = name.lower()
    for suffix, fmt in _TABULAR:
        if lower.endswith(suffix):
            return fmt
    return None


def fingerprint(path: str | Path, *, summarize: bool = True) -> Fingerprint:
    """Fingerprint a file or a folder; :class:`InputError` if it is missing or unreadable."""
    from mlwarden.sign.manifest import hash_model

    target = Path(path)
    if not target.exists():
        raise InputError("dataset not found", path=target)
    manifest = hash_model(target)
    is_file = target.is_file()
    files = tuple(FileDigest(path=target.name if is_file else r.name, size=r.size or 0,
                             digest=f"{r.algorithm}:{r.digest}")
                  for r in manifest.canonical())
    tables: dict[str, TableSummary] = {}
    if summarize:
        for f in files:
            fmt = tabular_format(f.path)
            if fmt is not None:
                tables[f.path] = summarize_table(target if is_file else target / f.path, fmt)
    return Fingerprint(path=str(target), kind="file" if is_file else "directory",
                       digest=manifest.model_digest(), files=files, tables=tables)


def summarize_table(path: Path, fmt: str) -> TableSummary:
    """Rows, columns and types of one tabular file; parse failures are recorded, not raised."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return TableSummary(format=fmt, error="pyarrow is not installed (pip install "
                                              "'mlwarden[data]') so the table was not summarised")
    if fmt == "parquet":
        return _parquet_summary(path)
    return _csv_summary(path, delimiter="\t" if fmt == "tsv" else ",", fmt=fmt)


def _columns(schema: Any) -> tuple[tuple[Column, ...], int]:
    columns = tuple(Column(name=str(f.name), dtype=str(f.type)) for f in schema)
    return columns[:MAX_COLUMNS], len(columns)


def _parquet_summary(path: Path) -> TableSummary:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        with pq.ParquetFile(path) as handle:
            columns, count = _columns(handle.schema_arrow)
            rows = int(handle.metadata.num_rows)
    except (pa.ArrowException, OSError, ValueError, TypeError) as exc:
        return TableSummary(format="parquet", error=f"not a readable Parquet file: {_short(exc)}")
    return TableSummary(format="parquet", rows=rows, columns=columns, column_count=count)


def _csv_summary(path: Path, *, delimiter: str, fmt: str) -> TableSummary:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    parse = pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True)
    read = pacsv.ReadOptions(block_size=CSV_BLOCK)
    try:
        # Types are inferred from the first block only; rows are then counted with every column
        # read as text, so a type change deep in the file cannot fail the count.
        with pa.input_stream(str(path), compression="detect") as stream:
            schema = pacsv.open_csv(stream, read_options=read, parse_options=parse).schema
        columns, count = _columns(schema)
        as_text = pacsv.ConvertOptions(column_types={c.name: pa.string() for c in columns},
                                       include_columns=[c.name for c in columns[:1]])
        rows = 0
        with pa.input_stream(str(path), compression="detect") as stream:
            reader = pacsv.open_csv(stream, read_options=read, parse_options=parse,
                                    convert_options=as_text)
            for batch in reader:
                rows += batch.num_rows
    except (pa.ArrowException, OSError, ValueError, EOFError) as exc:
        return TableSummary(format=fmt, error=f"not a readable {fmt.upper()} file: {_short(exc)}")
    return TableSummary(format=fmt, rows=rows, columns=columns, column_count=count)


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200] + ("…" if len(text) > 200 else "")
