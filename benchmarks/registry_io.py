"""Registry push and pull against ``cp`` + ``sync`` of the same bytes, side by side.

Two inputs, generated here with a fixed seed (nothing downloaded):

* ``large``: one folder holding a single ``--size`` MB file of random bytes (a big weights file);
* ``small``: a folder of ``--files`` files of 1 KiB to 8 KiB (a tokenizer-and-shards layout).

For each input and each of ``--repeats`` rounds (a fresh registry each time), times whole
processes as a user runs them:

* ``cp``: ``cp -r INPUT DEST && sync`` (the floor: read, write, make durable);
* ``push``: ``mlwarden registry push INPUT --name m`` (hash while copying into the store,
  durable before the database commit);
* ``pull``: ``mlwarden registry pull m@1 -o DEST --allow-unapproved`` (every byte re-verified
  while copying out, durable before the rename), compared with ``cp -r`` of the store objects +
  ``sync``.

Medians are quoted with the ratios ``push / cp`` and ``pull / cp`` (the goal: push ≤ 1.5×, pull
≤ 2×, 10,000 files under 5 s). The page cache is not dropped (no root needed); every copy reads
warm data, mlwarden's and ``cp``'s alike.

    .venv/bin/python benchmarks/registry_io.py --size 1024 --files 10000 --repeats 3

prints a Markdown table (``--json PATH`` also writes the figures).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def make_large(folder: Path, size_mb: int) -> Path:
    import numpy as np

    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    with open(folder / "weights.bin", "wb") as out:
        for _ in range(size_mb):
            out.write(rng.integers(0, 256, 1 << 20, dtype=np.uint8).tobytes())
    return folder


def make_small(folder: Path, count: int) -> Path:
    import numpy as np

    rng = np.random.default_rng(1)
    for i in range(count):
        sub = folder / f"shard-{i // 500:03d}"
        sub.mkdir(parents=True, exist_ok=True)
        size = int(rng.integers(1024, 8192))
        (sub / f"part-{i:05d}.bin").write_bytes(rng.integers(0, 256, size, dtype=np.uint8)
                                                .tobytes())
    return folder


def timed(argv: list[str], env: dict[str, str] | None = None, shell: bool = False) -> float:
    start = time.perf_counter()
    subprocess.run(argv if not shell else " ".join(argv), check=True, env=env, shell=shell,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - start


def one_round(model: Path, work: Path) -> dict[str, float]:
    from mlwarden.registry.service import Registry

    home = work / "home"
    with Registry.open(home=home) as reg:
        admin = reg.authenticate(reg.init("admin", allow_insecure_key=True))
        _, token = reg.enrol(reg.invite(admin, "pat", frozenset({"publisher"})))
    env = {**os.environ, "MLWARDEN_HOME": str(home), "MLWARDEN_TOKEN": token,
           "PYTHONPATH": str(ROOT / "src")}
    mlw = [sys.executable, "-m", "mlwarden", "registry"]
    out: dict[str, float] = {}
    out["cp"] = timed(["cp", "-r", str(model), str(work / "cp-copy"), "&&", "sync"], shell=True)
    out["push"] = timed([*mlw, "push", str(model), "--name", "m"], env=env)
    store = home / "store" / "sha256"
    out["cp_store"] = timed(["cp", "-r", str(store), str(work / "cp-store"), "&&", "sync"],
                            shell=True)
    out["pull"] = timed([*mlw, "pull", "m@1", "-o", str(work / "pulled"), "--allow-unapproved"],
                        env=env)
    out["startup"] = timed([sys.executable, "-m", "mlwarden", "--version"], env=env)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=1024, help="MB of the large file")
    ap.add_argument("--files", type=int, default=10000, help="number of small files")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--only", choices=("large", "small"))
    args = ap.parse_args()
    results: dict[str, Any] = {"machine": platform.platform(), "cpus": os.cpu_count(),
                               "command": " ".join(sys.argv)}
    with tempfile.TemporaryDirectory(prefix="mlw-bench-", dir=os.environ.get("TMPDIR")) as tmp:
        inputs = {}
        if args.only in (None, "large"):
            inputs["large"] = make_large(Path(tmp) / "large", args.size)
        if args.only in (None, "small"):
            inputs["small"] = make_small(Path(tmp) / "small", args.files)
        for name, model in inputs.items():
            rounds = []
            for i in range(args.repeats):
                work = Path(tmp) / f"{name}-{i}"
                work.mkdir()
                rounds.append(one_round(model, work))
                shutil.rmtree(work)
            med = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
            med["push_ratio"] = med["push"] / med["cp"]
            med["pull_ratio"] = med["pull"] / med["cp_store"]
            results[name] = med
    print("| input | cp + sync | push | push/cp | cp store + sync | pull | pull/cp | start-up |")
    print("|---|---|---|---|---|---|---|---|")
    for name in ("large", "small"):
        if name in results:
            m = results[name]
            label = f"{args.size} MB, 1 file" if name == "large" else f"{args.files} files"
            print(f"| {label} | {m['cp']:.2f} s | {m['push']:.2f} s | {m['push_ratio']:.2f}× | "
                  f"{m['cp_store']:.2f} s | {m['pull']:.2f} s | {m['pull_ratio']:.2f}× | "
                  f"{m['startup']:.2f} s |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
