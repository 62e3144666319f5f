"""TensorFlow ops that take a file name, path, pattern, database or URL as a graph input.

Enumerated from TensorFlow's op registry (``REGISTER_OP(...)`` in ``tensorflow/core/ops/*.cc``):
every op with a ``string`` input named ``filename``, ``filenames``, ``prefix``, ``file_pattern``,
``pattern``/``patterns``, ``path``, ``logdir``, ``db_uri``, ``data_source_name``, ``ckpt_path``,
``*_vocab_file``, ``chunk_file``, ``snapshot_path``, ``shard_dir``, ``directory`` or ``address``.
Read (through the search tool; TensorFlow is not installed here): ``experimental_dataset_ops.cc``
in full, the reader and file ops of ``io_ops.cc`` (Restore, RestoreSlice, the readers, ReadFile,
WriteFile, MatchingFiles), ``checkpoint_ops.cc`` (GenerateVocabRemapping, LoadAndRemapMatrix),
CacheDataset/CacheDatasetV2 in ``dataset_ops.cc``; InitializeTableFromTextFileV2 from its
``tf.raw_ops`` signature and TensorFlow's MLIR tests (``(table_handle, filename)``). The rest of
``dataset_ops.cc``/``lookup_ops.cc``/``summary_ops.cc`` is from the ``tf.raw_ops`` signatures.
SnapshotChunkDataset and ListSnapshotChunksDataset are newer than the copy read. The file each
group comes from:

- ``io_ops.cc``: Save(filename), SaveSlices(filename), SaveV2(prefix), Restore(file_pattern),
  RestoreSlice(file_pattern), RestoreV2(prefix), MergeV2Checkpoints(checkpoint_prefixes,
  destination_prefix); ReadFile/WriteFile/MatchingFiles are in ``savedmodel.FILE_OPS``;
- ``lookup_ops.cc``: InitializeTableFromTextFile(table_handle, filename),
  InitializeTableFromTextFileV2(table_handle, filename);
- ``checkpoint_ops.cc``: GenerateVocabRemapping(new_vocab_file, old_vocab_file),
  LoadAndRemapMatrix(ckpt_path, ...);
- ``dataset_ops.cc``: TextLineDataset, TFRecordDataset, TFRecordDatasetV2,
  FixedLengthRecordDataset, FixedLengthRecordDatasetV2 (filenames); CacheDataset,
  CacheDatasetV2 (input_dataset, filename);
- ``experimental_dataset_ops.cc``: CSVDataset, CSVDatasetV2, ExperimentalCSVDataset, LMDBDataset,
  ExperimentalLMDBDataset (filenames); MatchingFilesDataset, ExperimentalMatchingFilesDataset
  (patterns); SqlDataset, ExperimentalSqlDataset (driver_name, data_source_name, query);
  SaveDataset, SaveDatasetV2 (input_dataset, path); LoadDataset (path); SnapshotDataset,
  ExperimentalSnapshotDataset, SnapshotDatasetV2 (input_dataset, path); SnapshotDatasetReader
  (shard_dir); SnapshotChunkDataset (chunk_file); DatasetToTFRecord,
  ExperimentalDatasetToTFRecord (input_dataset, filename); DistributedSave (dataset, directory,
  address); DataServiceDataset/V2/V3/V4 (..., address at 2), RegisterDataset/V2 (dataset,
  address);
- ``summary_ops.cc``: CreateSummaryFileWriter (writer, logdir), CreateSummaryDbWriter (writer,
  db_uri) — kept in ``savedmodel.WRITER_OPS``.

Ops that name files only through attributes (ImmutableConst ``memory_region_name``, PrintV2
``output_stream``, debug ops ``debug_urls``, DecodeProtoV2/EncodeProto ``descriptor_source``)
are checked by attribute in ``savedmodel``; the reader ops (TextLineReader, WholeFileReader, ...)
take their file names from a queue at run time and are listed in ``QUEUE_READERS``.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlwarden.core.severity import Severity


@dataclass(frozen=True)
class PathOp:
    """An op whose ``inputs`` name files: what it does there, and how a path that is not a
    constant is judged (``fed``: a Placeholder or a function argument, which the loader or the
    caller supplies; ``computed``: built by other ops)."""

    inputs: tuple[int, ...]
    does: str
    severity: Severity = Severity.HIGH
    fed: Severity | None = Severity.MEDIUM
    computed: Severity | None = Severity.MEDIUM
    always: bool = False
    """Reported whatever the path (the op writes, or runs a query): the path only adds detail."""


_SAVER = PathOp((0,), "writes checkpoint files at", fed=None, computed=None)
_RESTORE = PathOp((0,), "reads checkpoint tensors from", fed=None, computed=None)
"""The checkpoint machinery of every SavedModel: its prefix is the ``saver_filename`` placeholder
that ``tf.saved_model.load`` feeds with the model's own ``variables/variables``, joined and
sharded (StringJoin, ShardedFilename, Pack) — only a constant path leaving the model is reported."""
_TABLE = PathOp((1,), "reads a vocabulary file into a lookup table from", fed=None)
"""Table initialisers run when the model is restored; their file is an asset that the loader
feeds (TF1: an ``asset_file_def`` Const it rewrites to ``assets/``; TF2: a captured function
argument), so a fed path is the model's own asset."""
_READ = PathOp((0,), "reads")
_WRITE = PathOp((1,), "writes a dataset at", always=True)

PATH_OPS: dict[str, PathOp] = {
    "Save": _SAVER,
    "SaveSlices": _SAVER,
    "SaveV2": _SAVER,
    "MergeV2Checkpoints": PathOp((0, 1), "writes checkpoint files at", fed=None, computed=None),
    "Restore": _RESTORE,
    "RestoreSlice": _RESTORE,
    "RestoreV2": _RESTORE,
    "InitializeTableFromTextFile": _TABLE,
    "InitializeTableFromTextFileV2": _TABLE,
    "GenerateVocabRemapping": PathOp((0, 1), "reads vocabulary files"),
    "LoadAndRemapMatrix": PathOp((0,), "reads checkpoint tensors from"),
    "TextLineDataset": _READ,
    "TFRecordDataset": _READ,
    "TFRecordDatasetV2": _READ,
    "FixedLengthRecordDataset": _READ,
    "FixedLengthRecordDatasetV2": _READ,
    "CSVDataset": _READ,
    "CSVDatasetV2": _READ,
    "ExperimentalCSVDataset": _READ,
    "LMDBDataset": _READ,
    "ExperimentalLMDBDataset": _READ,
    "MatchingFilesDataset": PathOp((0,), "lists the files matching"),
    "ExperimentalMatchingFilesDataset": PathOp((0,), "lists the files matching"),
    "LoadDataset": _READ,
    "SnapshotDatasetReader": _READ,
    "SnapshotChunkDataset": _READ,
    "ListSnapshotChunksDataset": _READ,
    "CacheDataset": PathOp((1,), "writes and reads cache files at"),
    "CacheDatasetV2": PathOp((1,), "writes and reads cache files at"),
    "SnapshotDataset": PathOp((1,), "writes and reads snapshot files at"),
    "ExperimentalSnapshotDataset": PathOp((1,), "writes and reads snapshot files at"),
    "SnapshotDatasetV2": PathOp((1,), "writes and reads snapshot files at"),
    "SaveDataset": _WRITE,
    "SaveDatasetV2": _WRITE,
    "DistributedSave": PathOp((1, 2), "writes a dataset through the tf.data service at",
                              always=True),
    "SqlDataset": PathOp((1, 2), "runs an SQL query on a database it opens (sqlite can ATTACH "
                                 "and create any file)", always=True),
    "ExperimentalSqlDataset": PathOp((1, 2), "runs an SQL query on a database it opens (sqlite "
                                             "can ATTACH and create any file)", always=True),
    "DataServiceDataset": PathOp((2,), "reads a dataset from the tf.data service at",
                                 always=True),
    "DataServiceDatasetV2": PathOp((2,), "reads a dataset from the tf.data service at",
                                   always=True),
    "DataServiceDatasetV3": PathOp((2,), "reads a dataset from the tf.data service at",
                                   always=True),
    "DataServiceDatasetV4": PathOp((2,), "reads a dataset from the tf.data service at",
                                   always=True),
    "RegisterDataset": PathOp((1,), "sends a dataset to the tf.data service at", always=True),
    "RegisterDatasetV2": PathOp((1,), "sends a dataset to the tf.data service at", always=True),
}
"""Op → the inputs holding its path and how each kind of path is judged."""

QUEUE_READERS = frozenset({
    "TextLineReader", "TextLineReaderV2", "WholeFileReader", "WholeFileReaderV2",
    "TFRecordReader", "TFRecordReaderV2", "FixedLengthRecordReader", "FixedLengthRecordReaderV2",
    "LMDBReader"})
"""Reader ops (``io_ops.cc``): ReaderRead(V2) reads whichever files a queue holds, filled at run
time — a path the scanner cannot see (medium)."""

PATH_ATTRS: dict[str, str] = {"DecodeProtoV2": "descriptor_source",
                              "EncodeProto": "descriptor_source"}
"""Ops that read a file named by an attribute (``descriptor_source``: ``local://`` or the path of a
FileDescriptorSet, ``core/ops/decode_proto_ops.cc``, ``encode_proto_ops.cc``)."""
