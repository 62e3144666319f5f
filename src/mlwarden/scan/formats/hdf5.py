"""HDF5 files: legacy Keras models (``model_config`` / ``training_config``) and Keras 3 weights.

Recognised by the HDF5 signature at offset 0, 512, 1024, 2048... (after a user block). The HDF5
C library crashes on some malformed files, so h5py only ever reads an untrusted file in a child
process (:mod:`mlwarden.scan.formats.hdf5_probe`) with a timeout and a memory limit; a crash, a
hang or an unreadable file is a finding. Without h5py the file is skipped with a reason. The
Keras configs stored as root attributes, and any other attribute holding a Keras-shaped JSON
config, go through :mod:`mlwarden.scan.formats.keras_config`. Byte-string attributes that
PyTables (``pandas.read_hdf``) would unpickle are scanned by content as members ``attr:/path@name``
(a pickle goes to the pickle VM). External links, external raw storage and virtual datasets that
read other files are findings. No dataset is read.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, ClassVar

from mlwarden.scan import format_rules as R
from mlwarden.scan.formats.keras_config import ConfigError, analyze_config, parse_config
from mlwarden.scan.interface import FormatScanner, ScanContext, ScanTarget

SIGNATURE = b"\x89HDF\r\n\x1a\n"
CONFIG_LIMIT = 64 * 1024 * 1024
MAX_OBJECTS = 200_000
"""Links the probe visits before it stops (a skip is recorded for the rest)."""
PROBE = Path(__file__).with_name("hdf5_probe.py")
PROBE_TIMEOUT = 120
PROBE_MEMORY = 8 * 1024**3
"""Address-space limit of the probe process (HDF5 bombs stop here, not in the scanner)."""


def signature_offset(data: bytes | memoryview) -> int | None:
    """Where the HDF5 superblock signature is: 0, or 512 × 2ⁿ within the data."""
    offset = 0
    size = len(data)
    while offset + 8 <= size:
        if bytes(data[offset:offset + 8]) == SIGNATURE:
            return offset
        offset = 512 if offset == 0 else offset * 2
    return None


class Hdf5Scanner(FormatScanner):
    """HDF5 (legacy Keras ``.h5`` and Keras 3 ``model.weights.h5``)."""

    name: ClassVar[str] = "hdf5"
    version: ClassVar[str] = "1"
    priority: ClassVar[int] = 60

    @classmethod
    def detect(cls, head: bytes, target: ScanTarget) -> bool:
        if head[:8] == SIGNATURE:
            return True
        return signature_offset(target.data) is not None

    def scan(self, target: ScanTarget, ctx: ScanContext) -> None:
        if importlib.util.find_spec("h5py") is None:
            ctx.skip(target, "HDF5 file not checked: h5py is not installed "
                             "(pip install 'mlwarden[scan]')")
            return
        result = _run_probe(target)
        if isinstance(result, str):
            ctx.add(R.HDF_MALFORMED.finding(result, target.location()))
            ctx.skip(target, "HDF5 structure not checked: " + result)
            return
        if result.get("missing"):
            ctx.skip(target, "HDF5 file not checked: h5py is not installed")
            return
        if result.get("open_error"):
            ctx.add(R.HDF_MALFORMED.finding(
                f"HDF5 library cannot open the file: {result['open_error']}", target.location()))
            return
        for where, message in result.get("errors", []):
            ctx.add(R.HDF_MALFORMED.finding(f"{where}: {message}", target.location()))
        for where, text in result.get("configs", []):
            self._analyze(text.encode("utf-8", "surrogateescape"), where, target, ctx)
        for where, encoded in result.get("pickles", []):
            try:
                raw = base64.b64decode(encoded, validate=True)
            except (ValueError, TypeError):
                ctx.add(R.HDF_MALFORMED.finding(f"{where}: unreadable attribute from the probe",
                                                target.location()))
                continue
            ctx.scan_nested(target.child(f"attr:{where}", raw))
        for kind, name, files in result.get("external", []):
            ctx.add(R.HDF_EXTERNAL.finding(f"{kind} {name!r} reads {files}", target.location(),
                                           evidence={"object": name, "kind": kind,
                                                     "files": files}))
        if result.get("truncated"):
            ctx.skip(target, f"HDF5 file has more than {MAX_OBJECTS} objects; the rest were "
                             "not checked")

    @staticmethod
    def _analyze(raw: bytes, where: str, target: ScanTarget, ctx: ScanContext) -> None:
        try:
            issues = analyze_config(parse_config(raw, CONFIG_LIMIT), base=where)
        except ConfigError as exc:
            ctx.add(R.KERAS_MALFORMED.finding(f"Keras config {where}: {exc}", target.location()))
            return
        for issue in issues:
            ctx.add(issue.rule.finding(issue.message, target.location(), severity=issue.severity,
                                       evidence={"json_path": issue.path, **issue.evidence}))


def _limit_memory() -> None:  # pragma: no cover - runs in the child before exec
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (PROBE_MEMORY, PROBE_MEMORY))


def _run_probe(target: ScanTarget) -> dict[str, Any] | str:
    """Run hdf5_probe.py on the target in a child process; a string says why it failed."""
    temp: Path | None = None
    try:
        if target.fs_path is not None and target.member is None:
            path = target.fs_path
        else:
            fd, name = tempfile.mkstemp(prefix="mlwarden-", suffix=".h5")
            temp = Path(name)
            with os.fdopen(fd, "wb") as fh:
                fh.write(target.data)
            path = temp
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
        proc = subprocess.run(
            [sys.executable, "-I", str(PROBE), str(path)], capture_output=True, env=env,
            timeout=PROBE_TIMEOUT, check=False,
            preexec_fn=_limit_memory if sys.platform.startswith("linux") else None)
    except subprocess.TimeoutExpired:
        return f"HDF5 library did not finish reading the file within {PROBE_TIMEOUT} s"
    except OSError as exc:
        return f"HDF5 probe could not run: {exc}"
    finally:
        if temp is not None:
            temp.unlink(missing_ok=True)
    if proc.returncode < 0:
        return (f"HDF5 library crashed on this file (signal {-proc.returncode}): a malformed or "
                "hostile HDF5 structure")
    if proc.returncode != 0:
        tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["?"]
        return f"HDF5 probe failed (exit {proc.returncode}): {tail[0][:300]}"
    try:
        result = json.loads(proc.stdout)
    except ValueError:
        return "HDF5 probe gave no readable result"
    return result if isinstance(result, dict) else "HDF5 probe gave no readable result"
