"""Inflate throughput: the standard library's zlib vs zlib-ng, as the scanner decodes gzip streams.

Generates a gzip stream (fixed seed, nothing downloaded) the way ``joblib.dump(...,
compress=("gzip", 1))`` writes one, then, alternating the order on each repeat, times:

* ``decode``: the decoder alone, in the scanner's bounded steps (1 MiB in, 8 MiB out), output
  discarded: what the library gives;
* ``inflate``: ``mlwarden.scan.formats.streams.inflate_zlib`` as the joblib scanner calls it:
  bounded steps plus the sink (memory up to ``SPILL_AT``, then a temporary file written by a
  thread while decoding goes on).

Two payloads: ``weights`` (float64 normal draws: literal-heavy, ratio about 1.1, like the training
data a KNN model keeps) and ``sparse`` (90 % zeros: long matches, ratio about 6). Medians of
``--repeats`` runs; MB are 10^6 bytes of decompressed output.

    .venv/bin/python benchmarks/inflate_speed.py --size 256 --repeats 3

prints a Markdown table (``--json PATH`` also writes the figures). Needs ``zlib-ng`` (the ``scan``
extra) for the comparison; without it only the standard library is timed.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
import zlib
from collections.abc import Callable
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from mlwarden.scan.formats import streams  # noqa: E402 - after the path set-up

IN_STEP, OUT_STEP = 1 << 20, 8 << 20


def payload(kind: str, size: int) -> bytes:
    import numpy as np

    rng = np.random.default_rng(0)
    values = rng.normal(size=size // 8)
    if kind == "sparse":
        values[rng.random(values.size) < 0.9] = 0.0
    return values.tobytes()


def gzip_stream(raw: bytes) -> bytes:
    c = zlib.compressobj(1, zlib.DEFLATED, 31)  # joblib's ("gzip", 1)
    return c.compress(raw) + c.flush()


def decode(lib: ModuleType, data: bytes) -> int:
    view, pos, size, tail = memoryview(data), 0, 0, b""
    d = lib.decompressobj(31)
    while True:
        chunk = tail or view[pos:pos + IN_STEP]
        if not tail:
            pos += len(chunk)
        if not len(chunk):
            break
        size += len(d.decompress(chunk, OUT_STEP))
        tail = d.unconsumed_tail
        if d.eof:
            break
    assert d.eof
    return size


def inflate(lib: ModuleType, data: bytes) -> int:
    result = streams.inflate_zlib(data, 1 << 40, wbits=31, multi_member=True, backend=lib)
    assert result.complete
    size = len(result.data)
    streams.release(result.data)
    return size


def timed(fn: Callable[[], int]) -> tuple[float, int]:
    start = time.perf_counter()
    size = fn()
    return time.perf_counter() - start, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=256, help="decompressed MB per payload")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    libs: dict[str, ModuleType] = {"zlib": zlib}
    try:
        from zlib_ng import zlib_ng  # type: ignore[import-not-found,unused-ignore]

        libs["zlib-ng"] = zlib_ng
    except ImportError:
        print("zlib-ng is not installed: timing the standard library only", file=sys.stderr)
    rows: list[dict[str, Any]] = []
    for kind in ("weights", "sparse"):
        raw = payload(kind, args.size * 1_000_000)
        data = gzip_stream(raw)
        del raw
        times: dict[tuple[str, str], list[float]] = {}
        for rep in range(args.repeats):
            order = list(libs.items()) if rep % 2 == 0 else list(reversed(libs.items()))
            for how, fn in (("decode", decode), ("inflate", inflate)):
                for name, lib in order:
                    seconds, size = timed(partial(fn, lib, data))
                    times.setdefault((how, name), []).append(seconds)
        for (how, name), values in times.items():
            median = statistics.median(values)
            rows.append({"payload": kind, "what": how, "library": name,
                         "compressed_mb": round(len(data) / 1e6, 1),
                         "decompressed_mb": round(size / 1e6, 1),
                         "ratio": round(size / len(data), 2), "median_s": round(median, 3),
                         "mb_per_s": round(size / 1e6 / median), "runs_s": [round(v, 3)
                                                                            for v in values]})
    base = {(r["payload"], r["what"]): r["median_s"] for r in rows if r["library"] == "zlib"}
    for r in rows:
        r["speedup_vs_zlib"] = round(base[(r["payload"], r["what"])] / r["median_s"], 2)

    print(f"Machine: {platform.machine()}, {platform.system()}, Python "
          f"{platform.python_version()}, zlib {zlib.ZLIB_RUNTIME_VERSION}"
          + (f", zlib-ng {libs['zlib-ng'].ZLIBNG_VERSION}" if "zlib-ng" in libs else "")
          + f"; SPILL_AT {streams.SPILL_AT >> 20} MiB; medians of {args.repeats}\n")
    print("| payload | ratio | what | library | s | MB/s | vs zlib |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['payload']} ({r['compressed_mb']} → {r['decompressed_mb']} MB) | "
              f"{r['ratio']} | {r['what']} | {r['library']} | {r['median_s']:.2f} | "
              f"{r['mb_per_s']} | {r['speedup_vs_zlib']:.2f}× |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
