"""The scan engine: read files (memory-mapped), detect each format by content, run its scanner,
recurse into containers, and collect everything into one :class:`~mlwarden.core.report.Report`.

* Formats are recognised from bytes, never from the extension: each registered
  :class:`~mlwarden.scan.interface.FormatScanner` is asked in priority order.
* Files are memory-mapped read-only and handed over as ``memoryview``: a multi-GB checkpoint is not
  copied, and a scanner that touches only ``data.pkl`` reads only those pages.
* A scanner that raises is a finding (``MW-FMT-001``, fail closed), never a crash or a pass.
* Several files are scanned in parallel processes; the report's order does not depend on timing.
* Digests are optional (``digest=True``): hashing reads every byte of every file, which costs more
  than the scan itself for large checkpoints whose weights the scanner never needs to touch.
"""

from __future__ import annotations

import datetime as dt
import mmap
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from mlwarden.core.finding import Finding, Skip
from mlwarden.core.report import CheckRun, Report, utcnow
from mlwarden.scan.interface import (
    DEFAULT_LIMITS,
    FormatScanner,
    ScanContext,
    ScanLimits,
    ScanTarget,
    scanners_by_priority,
)
from mlwarden.scan.sniff import SNIFFS, Sniff, could_be_pickle

if TYPE_CHECKING:
    import hashlib

HEAD_SIZE = 4096
"""Bytes of a target shown to ``detect``."""


def load_scanners() -> list[type[FormatScanner]]:
    """Import every scanner module (registering them) and return them in detection order.

    A scan does not need this (:func:`dispatch` imports a scanner when its sniff matches); it
    spares forked workers the imports, and lists every scanner for the rule catalogue and tests.
    """
    import importlib

    for module in dict.fromkeys(entry.module for entry in SNIFFS):
        importlib.import_module(module)
    return scanners_by_priority()


class _Slot(NamedTuple):
    """A scanner in detection order: a sniff to pass before its module is imported, if built in."""

    name: str
    priority: int
    module: str | None
    sniff: Sniff | None

    def scanner(self) -> type[FormatScanner] | None:
        """The scanner class, importing its module on first use (``None``: unregistered since)."""
        cls = FormatScanner.registry.get(self.name)
        if cls is None and self.module is not None:
            import importlib

            importlib.import_module(self.module)
            cls = FormatScanner.registry.get(self.name)
        return cls


_SLOTS: tuple[frozenset[str], list[_Slot]] = (frozenset({"-"}), [])


def _slots() -> list[_Slot]:
    """Built-in scanners (lazily imported) and any other registered ones, in detection order."""
    global _SLOTS
    extra = frozenset(FormatScanner.registry) - _BUILT_IN
    if _SLOTS[0] != extra:
        slots = [_Slot(e.name, e.priority, e.module, e.sniff) for e in SNIFFS]
        slots += [_Slot(n, FormatScanner.registry[n].priority, None, None) for n in extra]
        _SLOTS = (extra, sorted(slots, key=lambda s: (s.priority, s.name)))
    return _SLOTS[1]


_BUILT_IN = frozenset(e.name for e in SNIFFS)
SNIFFING = True
"""Skip a built-in scanner whose sniff fails without importing it (tests turn this off to check
that the sniffs never hide a file)."""


@dataclass
class EngineContext(ScanContext):
    """The scan context of the engine: also remembers which scanners ran."""

    ran: set[tuple[str, str]] = field(default_factory=set)


def target_key(target: ScanTarget) -> str:
    """``path`` or ``path!member``: the key of a target in the report's format metadata."""
    return f"{target.path}!{target.member}" if target.member else target.path


def dispatch(target: ScanTarget, ctx: ScanContext) -> None:
    """Detect ``target``'s format and run its scanner; unknown content is recorded, not reported."""
    from mlwarden.scan.container_rules import NESTING_TOO_DEEP, SCANNER_ERROR

    key = target_key(target)
    if target.depth > ctx.limits.max_depth:
        ctx.add(NESTING_TOO_DEEP.finding(
            f"nested {target.depth} containers deep (limit {ctx.limits.max_depth}); not analysed",
            target.location(), evidence={"depth": target.depth, "limit": ctx.limits.max_depth}))
        ctx.skip(target, "nesting limit reached")
        return
    if target.size == 0:
        ctx.formats[key] = "empty"
        return
    head = target.head(HEAD_SIZE)
    for slot in _slots():
        if SNIFFING and slot.sniff is not None and not _sniff_passes(slot.sniff, head, target):
            continue
        cls = slot.scanner()
        if cls is None:
            continue
        try:
            hit = cls.detect(head, target)
        except Exception as exc:  # noqa: BLE001 - a detector bug must not hide the file
            ctx.add(SCANNER_ERROR.finding(
                f"format detection by {cls.name} failed: {type(exc).__name__}: {exc}",
                target.location(), evidence={"scanner": cls.name, "error": repr(exc)[:500]}))
            continue
        if not hit:
            continue
        ctx.formats.setdefault(key, cls.name)
        if isinstance(ctx, EngineContext):
            ctx.ran.add((cls.name, cls.version))
        _run_guarded(cls.name, partial(_scan_with, cls, target, ctx), target, ctx)
        if cls.name not in PICKLE_AT_START:
            _run_guarded("pickle-polyglot",
                         partial(_check_pickle_polyglot, cls.name, head, target, ctx), target, ctx)
        if cls.name not in ZIP_READ:
            _run_guarded("zip-polyglot",
                         partial(_check_zip_polyglot, cls.name, head, target, ctx), target, ctx)
        return
    ctx.formats[key] = "unknown"
    suffix = _model_suffix(target.member or target.path)
    if suffix is not None:
        ctx.skip(target, f"content not recognised as any format, although the name ({suffix}) is "
                         "one that model loaders open: not checked")


MODEL_SUFFIXES = frozenset({
    ".pkl", ".pickle", ".pk", ".dill", ".joblib", ".jbl", ".sav", ".pt", ".pth", ".ckpt", ".bin",
    ".npy", ".npz", ".h5", ".hdf5", ".keras", ".onnx", ".gguf", ".safetensors", ".skops",
})
"""File name endings that model loaders open (``torch.load``, ``joblib.load``, ``numpy.load``,
``keras``, ``onnx``, ...). Content is what decides a format; but a file so named whose content is
no format the scanner knows is a file a loader may still read — unknown is not clean: a skip."""


def _model_suffix(name: str) -> str | None:
    dot = name.rfind(".")
    if dot < 0 or "/" in name[dot:]:
        return None
    suffix = name[dot:].lower()
    return suffix if suffix in MODEL_SUFFIXES else None


def _sniff_passes(sniff: Sniff, head: bytes, target: ScanTarget) -> bool:
    """A sniff's answer; one that fails on hostile bytes says yes (the scanner's own ``detect``,
    which the engine guards, then decides): a sniff must never hide a file or crash a scan."""
    try:
        return bool(sniff(head, target))
    except Exception:  # noqa: BLE001 - fail open to the guarded detector
        return True


def _scan_with(cls: type[FormatScanner], target: ScanTarget, ctx: ScanContext) -> None:
    cls().scan(target, ctx)


def _run_guarded(name: str, run: Callable[[], None], target: ScanTarget,
                 ctx: ScanContext) -> None:
    """Run a scanner step; a crash becomes a finding and a skip (fail closed), never an error."""
    from mlwarden.scan.container_rules import SCANNER_ERROR

    try:
        run()
    except RecursionError:
        ctx.add(SCANNER_ERROR.finding(
            f"{name} scanner exceeded the recursion limit (deeply nested structure)",
            target.location(), evidence={"scanner": name}))
        ctx.skip(target, f"{name} scanner failed")
    except Exception as exc:  # noqa: BLE001 - fail closed: a crash is a finding
        ctx.add(SCANNER_ERROR.finding(
            f"{name} scanner failed: {type(exc).__name__}: {exc}", target.location(),
            evidence={"scanner": name, "error": repr(exc)[:500]}))
        ctx.skip(target, f"{name} scanner failed")


PICKLE_AT_START = frozenset({"pickle", "torch-legacy"})
"""Scanners that already analyse a pickle at offset 0."""

ZIP_READ = frozenset({"zip", "torch-zip", "keras", "skops"})
"""Scanners that read the file as a zip archive (every member, as each zip reader finds it)."""


def _check_zip_polyglot(fmt: str, head: bytes, target: ScanTarget, ctx: ScanContext) -> None:
    """A file of another format that Python's ``zipfile`` also opens: it finds the end record in
    the last 64 KiB wherever the members lie (inside safetensors tensor data, an ``.npy`` array, an
    HDF5 dataset, a GGUF tensor), and ``pd.read_pickle('x.zip')``, skops or Keras then unpickle
    its members. Every member is scanned (see ``MW-FMT-005``)."""
    from mlwarden.scan.sniff import ZIP_EOCD_REACH, ZIP_EOCD_SIG

    data = target.data
    if ZIP_EOCD_SIG not in bytes(data[max(0, len(data) - ZIP_EOCD_REACH):]):
        return
    from mlwarden.scan.formats import zipreader

    try:  # any end record, as zipfile takes it (trailing bytes after the archive are allowed)
        if not zipreader.read_directory(data, max_members=1, recover=False).entries:
            return
    except zipreader.ZipFormatError:
        return
    from mlwarden.scan.container_rules import ZIP_POLYGLOT
    from mlwarden.scan.formats.archive import ZipScanner

    ctx.add(ZIP_POLYGLOT.finding(
        f"recognised as {fmt}, but the file is also a zip archive that zipfile-based loaders "
        "open; its members were scanned", target.location(), evidence={"format": fmt}))
    ZipScanner().scan(target.child("<zip>", data, offset=0), ctx)


def _check_pickle_polyglot(fmt: str, head: bytes, target: ScanTarget, ctx: ScanContext) -> None:
    """A file of another format whose first bytes are also a pickle (see ``MW-FMT-004``).

    A zip's ``PK`` magic opens a pickle with ``PERSID``: every unpickler without a
    ``persistent_load`` (``pickle.load``, joblib, pandas) fails on it at once, and the loaders that
    have one (torch's legacy path) take a zip as a zip. So a zip is not read as a pickle here:
    whatever follows the first newline of its header (member names, compressed or random weight
    bytes) would otherwise make a genuine archive look like a polyglot by chance."""
    if not could_be_pickle(head) or head[:4] == b"PK\x03\x04":
        return
    from mlwarden.scan.pickle import analyze_pickle, looks_like_pickle

    if not looks_like_pickle(head, final=target.size <= len(head)):
        return
    from mlwarden.core.severity import Severity
    from mlwarden.scan.container_rules import POLYGLOT

    scratch = ScanContext(limits=ctx.limits, allow_globals=ctx.allow_globals,
                          dispatch=ctx.dispatch)
    result = analyze_pickle(target, scratch, start=0)
    serious = [f for f in scratch.findings if f.severity >= Severity.HIGH]
    if not result.complete and not serious:
        return  # bytes that merely start like a pickle
    ctx.findings.extend(scratch.findings if result.complete else serious)
    ctx.add(POLYGLOT.finding(
        f"recognised as {fmt}, but bytes 0-{result.end} are also a "
        f"{'complete' if result.complete else 'partial'} pickle that unpickling loaders would run",
        target.location(offset=0), evidence={"format": fmt, "pickle_end": result.end,
                                             "complete": result.complete}))


@dataclass
class FileResult:
    """What scanning one file produced (picklable: it crosses process boundaries)."""

    display: str
    findings: list[Finding]
    skipped: list[Skip]
    formats: dict[str, str]
    ran: set[tuple[str, str]]
    digest: str | None = None


@contextmanager
def mapped(path: Path) -> Iterator[bytes | memoryview]:
    """The file's bytes: a read-only memory map (an empty file gives ``b""``)."""
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size == 0:
            yield b""
            return
        mm = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        view = memoryview(mm)
        try:
            yield view
        finally:
            _forget_caches()
            try:
                view.release()
                mm.close()
            except BufferError:  # a scanner kept a slice; the map goes with it
                pass


def _forget_caches() -> None:
    zipreader = sys.modules.get("mlwarden.scan.formats.zipreader")
    if zipreader is not None:  # not imported: nothing cached
        zipreader.forget()


def _start_hashing(data: bytes | memoryview) -> Callable[[], str]:
    """Hash ``data`` in a thread (hashlib releases the GIL) while the scanners work; the returned
    function waits for it and gives ``sha256:<hex>``. Imported here: most scans hash nothing."""
    import hashlib
    import threading

    h = hashlib.sha256()
    worker = threading.Thread(target=_hash_into, args=(h, data), daemon=True)
    worker.start()

    def result() -> str:
        worker.join()
        return "sha256:" + h.hexdigest()

    return result


def _hash_into(h: hashlib._Hash, data: bytes | memoryview) -> None:
    step = 64 << 20
    for start in range(0, len(data), step):
        h.update(data[start:start + step])


def scan_target(target: ScanTarget, *, limits: ScanLimits = DEFAULT_LIMITS,
                allow_globals: Sequence[str] = ()) -> EngineContext:
    """Scan one in-memory target and return the context holding its findings."""
    ctx = EngineContext(limits=limits, allow_globals=tuple(allow_globals), dispatch=dispatch)
    try:
        dispatch(target, ctx)
    finally:
        _forget_caches()
    return ctx


def scan_file(fs_path: Path, display: str, *, limits: ScanLimits = DEFAULT_LIMITS,
              allow_globals: Sequence[str] = (), digest: bool = False) -> FileResult:
    """Scan one file on disk. Unreadable files become skips, never exceptions."""
    ctx = EngineContext(limits=limits, allow_globals=tuple(allow_globals), dispatch=dispatch)
    digest_value: str | None = None
    try:
        with mapped(fs_path) as data:
            hashing = _start_hashing(data) if digest else None
            dispatch(ScanTarget(path=display, data=data, fs_path=fs_path), ctx)
            if hashing is not None:
                digest_value = hashing()
    except OSError as exc:
        ctx.skipped.append(Skip(path=display, reason=f"cannot read: {exc.strerror or exc}"))
    return FileResult(display, ctx.findings, ctx.skipped, ctx.formats, ctx.ran, digest_value)


def _scan_chunk(chunk: list[tuple[str, str]], limits: ScanLimits, allow_globals: tuple[str, ...],
                digest: bool) -> list[FileResult]:
    return [scan_file(Path(fs), display, limits=limits, allow_globals=allow_globals,
                      digest=digest) for fs, display in chunk]


PARALLEL_MIN_FILES = 256
PARALLEL_MIN_BYTES = 64 * 1024 * 1024
"""Below both, scan in this process. Small files take a millisecond or two each, and each worker
pays again for the libraries some formats import lazily (py7zr, jinja2, its own h5py probe child),
so a pool only pays off for many files or large ones: on the 213-file corpus (4 MB) one process
took 0.42 s and two workers 0.61 s on 2 cores; on 860 such files the two were even."""


def _size(fs: str) -> int:
    try:
        return os.stat(fs).st_size
    except OSError:
        return 0


def _default_workers(jobs: list[tuple[str, str]]) -> int:
    if len(jobs) < 2:
        return 1
    if len(jobs) < PARALLEL_MIN_FILES:
        total = 0
        for fs, _ in jobs:
            try:
                total += os.stat(fs).st_size
            except OSError:
                continue
        if total < PARALLEL_MIN_BYTES:
            return 1
    return max(1, min(len(jobs), os.cpu_count() or 1))


def _run_parallel(jobs: list[tuple[str, str]], limits: ScanLimits, allow_globals: tuple[str, ...],
                  digest: bool, workers: int, progress: bool) -> list[FileResult]:
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # Chunks of a few files amortise process hand-over; small enough to balance big files.
    size = max(1, min(16, len(jobs) // (workers * 4)))
    chunks = [jobs[i:i + size] for i in range(0, len(jobs), size)]
    results: dict[int, list[FileResult]] = {}
    with ProcessPoolExecutor(max_workers=workers) as pool:
        # Submitting starts (forks) the workers: do it before the progress bar starts its thread.
        futures = {pool.submit(_scan_chunk, c, limits, allow_globals, digest): i
                   for i, c in enumerate(chunks)}
        with _progress(jobs, progress) as advance:
            for future in as_completed(futures):
                index = futures[future]
                results[index] = future.result()
                for fs, display in chunks[index]:
                    advance(display, _size(fs))
    return [r for i in range(len(chunks)) for r in results[i]]


def scan_paths(paths: Sequence[str | Path], *, limits: ScanLimits = DEFAULT_LIMITS,
               allow_globals: Sequence[str] = (), workers: int | None = None,
               progress: bool = False, digest: bool = False,
               exclude: Sequence[str] = ()) -> Report:
    """Scan files and directories into one report (command ``scan``).

    ``workers`` processes scan files in parallel (default: one per CPU core; one file never starts
    a pool). ``digest`` adds ``sha256`` digests of every file to ``report.artifacts``.
    """
    from mlwarden.scan.walk import walk

    started = utcnow()
    names = [str(p) for p in paths]
    found = walk(names, exclude=tuple(exclude))
    jobs = [(str(f.fs_path), f.display) for f in found.files]
    n_workers = workers if workers is not None else _default_workers(jobs)
    allowed = tuple(allow_globals)
    if n_workers <= 1 and len(jobs) > 1:
        _prewarm_hdf5([fs for fs, _ in jobs])
    if n_workers <= 1 or len(jobs) <= 1:
        results = []
        with _progress(jobs, progress) as advance:
            for fs, display in jobs:
                advance(display, -1)
                results.append(scan_file(Path(fs), display, limits=limits, allow_globals=allowed,
                                         digest=digest))
                advance(display, _size(fs))
    else:
        load_scanners()  # before forking: workers inherit the imported scanners
        results = _run_parallel(jobs, limits, allowed, digest, n_workers, progress)
    return _build(names, started, found.findings, found.skipped, found.formats, results, digest,
                  links=found.links, excluded=found.excluded)


def _prewarm_hdf5(paths: list[str]) -> None:
    """If an HDF5 file is among several, start the h5py probe child before the scan: its start-up
    (importing h5py) then overlaps with scanning the other files instead of waiting in front of
    the first HDF5 one. Only the signature at offset 0 is looked at (no extra reads)."""
    from mlwarden.scan.sniff import HDF5_SIGNATURE

    for path in paths:
        try:
            with open(path, "rb") as handle:
                if handle.read(len(HDF5_SIGNATURE)) != HDF5_SIGNATURE:
                    continue
        except OSError:
            continue
        from mlwarden.scan.formats.hdf5 import prewarm_probe

        prewarm_probe()
        return


def scan_bytes(data: bytes | memoryview, *, name: str = "<bytes>",
               limits: ScanLimits = DEFAULT_LIMITS, allow_globals: Sequence[str] = (),
               digest: bool = False) -> Report:
    """Scan an in-memory file (tests, converters, the gateway's uploads) into a report."""
    started = utcnow()
    ctx = scan_target(ScanTarget(path=name, data=data), limits=limits, allow_globals=allow_globals)
    value = _start_hashing(data)() if digest else None
    result = FileResult(name, ctx.findings, ctx.skipped, ctx.formats, ctx.ran, value)
    return _build([name], started, [], [], {}, [result], digest)


def _build(names: list[str], started: dt.datetime, findings: list[Finding], skipped: list[Skip],
           formats: dict[str, str], results: list[FileResult], digest: bool,
           links: dict[str, str] | None = None, excluded: Sequence[str] = ()) -> Report:
    all_findings = list(findings)
    all_skips = list(skipped)
    all_formats = dict(formats)
    ran: set[tuple[str, str]] = set()
    artifacts: dict[str, str] = {}
    for r in results:
        all_findings.extend(r.findings)
        all_skips.extend(r.skipped)
        all_formats.update(r.formats)
        ran |= r.ran
        if r.digest is not None:
            artifacts[r.display] = r.digest
    if not results and not all_skips and not all_findings:
        # A scan that read nothing is not clean: an empty folder, a typo'd glob, only FIFOs.
        why = f" ({len(excluded)} excluded)" if excluded else ""
        all_skips.extend(Skip(path=name, reason=f"nothing to scan: no regular file found{why}")
                         for name in names)
    all_skips.sort(key=lambda s: (s.path, s.member or "", s.reason))
    return Report.build(
        "scan", " ".join(names), all_findings, started_at=started, skipped=all_skips,
        checks=[CheckRun(n, v) for n, v in sorted(ran)], artifacts=artifacts,
        metadata={"formats": dict(sorted(all_formats.items())), "files": len(results),
                  "digests": digest,
                  **({"symlinks": dict(sorted(links.items()))} if links else {}),
                  **({"excluded": list(excluded)} if excluded else {})},
    )


@contextmanager
def _progress(jobs: list[tuple[str, str]], enabled: bool) -> Iterator[Callable[[str, int], None]]:
    """A progress bar on stderr: bytes of all files, the file being scanned, elapsed time. It moves
    inside one large file too (readers report the input they consume to :mod:`.progress`); call
    the yielded function with ``(display name, -1)`` when a file starts and ``(name, size)`` when
    it is done."""
    if not enabled or not jobs:
        yield lambda name, size: None
        return
    import threading

    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from mlwarden.scan import progress

    sizes = []
    for fs, _ in jobs:
        try:
            sizes.append(os.stat(fs).st_size)
        except OSError:
            sizes.append(0)
    meter = progress.Meter()
    done = [0]
    stop = threading.Event()
    with Progress(TextColumn("{task.description}", markup=False), BarColumn(),
                  DownloadColumn(), TextColumn("{task.fields[files]}", markup=False),
                  TimeElapsedColumn(), console=Console(stderr=True, highlight=False),
                  transient=True) as bar:
        task = bar.add_task("scanning", total=max(1, sum(sizes)), files="")
        count = [0]

        def refresh() -> None:
            while not stop.wait(0.2):
                name = meter.file if len(meter.file) <= 48 else "…" + meter.file[-47:]
                current = sizes[count[0]] if count[0] < len(sizes) else 0
                bar.update(task, completed=done[0] + min(meter.read, current),
                           description=f"scanning {name}", files=f"{count[0]}/{len(jobs)} files")

        def step(name: str, size: int) -> None:
            if size < 0:  # a file starts
                meter.file, meter.read = name, 0
                return
            done[0] += size
            count[0] += 1
            meter.read = 0

        poller = threading.Thread(target=refresh, daemon=True)
        progress.METER = meter
        poller.start()
        try:
            yield step
        finally:
            stop.set()
            poller.join()
            progress.METER = None
