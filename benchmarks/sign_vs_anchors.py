"""Signing and verification speed: mlwarden vs model_signing, with openssl as the per-byte yardstick.

For each model size (``--sizes``, MB) the script generates a model directory (a few weight shards
plus small JSON files, fixed seed), then, paired in the same run and alternating the order on each
repeat, times the whole process of:

* ``mlwarden sign`` / ``mlwarden verify`` (key method, files + SHA-256), and
* ``model_signing sign key`` / ``model_signing verify key`` (the reference implementation),

and, as a yardstick for the hashing itself, ``openssl dgst -sha256`` over the same files on one core
plus mlwarden's in-process hashing restricted to one worker (per-byte cost on one core) and with
its default workers (one per core, files in parallel). Medians are reported.

    .venv/bin/python benchmarks/sign_vs_anchors.py --sizes 1,300 --repeats 3

writes ``benchmarks/results/sign_vs_anchors.{json,md}``. The default sizes include a 3 GB model.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
MLWARDEN = BIN / "mlwarden"
MODEL_SIGNING = BIN / "model_signing"
BLOCK = 8 << 20


def build_model(directory: Path, size_mb: float, seed: int) -> int:
    """Weight shards (about 90% of the bytes, in four files) and small config files."""
    rng = random.Random(seed)
    directory.mkdir(parents=True)
    total = int(size_mb * 1_000_000)
    weights = int(total * 0.9)
    block = rng.randbytes(BLOCK)
    written = 0
    for index in range(4):
        size = weights // 4
        with open(directory / f"model-{index + 1:05d}-of-00004.safetensors", "wb") as handle:
            left = size
            while left > 0:
                chunk = block[: min(left, BLOCK)]
                handle.write(chunk)
                left -= len(chunk)
            written += size
    rest = total - written
    small = {"config.json": rest // 4, "tokenizer.json": rest // 2,
             "tokenizer/vocab.txt": rest // 8, "generation_config.json": rest - rest // 4
             - rest // 2 - rest // 8}
    for name, size in small.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rng.randbytes(max(size, 1)))
        written += max(size, 1)
    return written


def timed(cmd: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr}")
    return elapsed


def files_of(model: Path) -> list[str]:
    return sorted(str(p) for p in model.rglob("*") if p.is_file() and p.suffix != ".sig")


def in_process_hash(model: Path, workers: int) -> float:
    code = ("import sys, time\nfrom mlwarden.sign.manifest import hash_model\n"
            "t = time.perf_counter()\n"
            f"hash_model({str(model)!r}, max_workers={workers})\n"
            "print(time.perf_counter() - t)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    return float(proc.stdout.strip())


def bench_size(work: Path, size_mb: float, repeats: int, seed: int) -> dict[str, object]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    model = work / f"model-{size_mb:g}MB"
    nbytes = build_model(model, size_mb, seed)
    key = ec.generate_private_key(ec.SECP256R1())
    priv, pub = work / "key.pem", work / "key.pub"
    priv.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    pub.write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    mw_sig, ms_sig = work / "mw.sig", work / "ms.sig"
    files = files_of(model)
    for path in files:  # warm the page cache once, for every tool alike
        with open(path, "rb") as handle:
            while handle.read(BLOCK):
                pass
    env = {**os.environ, "COLUMNS": "200"}
    runs: dict[str, list[float]] = {k: [] for k in (
        "mlwarden_sign", "model_signing_sign", "mlwarden_verify", "model_signing_verify",
        "openssl_1core", "mlwarden_hash_1worker", "mlwarden_hash_default")}
    cmds = {
        "mlwarden_sign": [str(MLWARDEN), "sign", str(model), "--key", str(priv),
                          "--signature", str(mw_sig)],
        "model_signing_sign": [str(MODEL_SIGNING), "sign", "key", str(model), "--private_key",
                               str(priv), "--signature", str(ms_sig)],
        "mlwarden_verify": [str(MLWARDEN), "verify", str(model), "--public-key", str(pub),
                            "--signature", str(mw_sig)],
        "model_signing_verify": [str(MODEL_SIGNING), "verify", "key", str(model),
                                 "--public_key", str(pub), "--signature", str(ms_sig)],
        "openssl_1core": ["openssl", "dgst", "-sha256", *files],
    }
    for repeat in range(repeats):
        pairs = [("mlwarden_sign", "model_signing_sign"),
                 ("mlwarden_verify", "model_signing_verify")]
        for a, b in pairs:
            order = (a, b) if repeat % 2 == 0 else (b, a)
            for name in order:
                runs[name].append(timed(cmds[name], env))
        runs["openssl_1core"].append(timed(cmds["openssl_1core"]))
        runs["mlwarden_hash_1worker"].append(in_process_hash(model, 1))
        runs["mlwarden_hash_default"].append(in_process_hash(model, 0))
    med = {k: statistics.median(v) for k, v in runs.items()}
    shutil.rmtree(model)
    return {
        "size_mb": size_mb, "bytes": nbytes, "files": len(files), "repeats": repeats,
        "median_s": med, "runs_s": runs,
        "speedup_sign": med["model_signing_sign"] / med["mlwarden_sign"],
        "speedup_verify": med["model_signing_verify"] / med["mlwarden_verify"],
        "hash_1worker_vs_openssl": med["mlwarden_hash_1worker"] / med["openssl_1core"],
        "openssl_mb_s": nbytes / 1e6 / med["openssl_1core"],
        "mlwarden_1worker_mb_s": nbytes / 1e6 / med["mlwarden_hash_1worker"],
        "mlwarden_default_mb_s": nbytes / 1e6 / med["mlwarden_hash_default"],
    }


def markdown(results: list[dict[str, object]], command: str) -> str:
    lines = [
        "| model | files | mlwarden sign | model_signing sign | ratio | mlwarden verify | "
        "model_signing verify | ratio | openssl 1 core | mlwarden hash 1 worker (vs openssl) "
        "| mlwarden hash, all cores |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        m = r["median_s"]
        assert isinstance(m, dict)
        lines.append(
            f"| {r['size_mb']:g} MB | {r['files']} | {m['mlwarden_sign']:.2f} s | "
            f"{m['model_signing_sign']:.2f} s | {r['speedup_sign']:.2f}x | "
            f"{m['mlwarden_verify']:.2f} s | {m['model_signing_verify']:.2f} s | "
            f"{r['speedup_verify']:.2f}x | {m['openssl_1core']:.2f} s "
            f"({r['openssl_mb_s']:.0f} MB/s) | {m['mlwarden_hash_1worker']:.2f} s "
            f"({r['hash_1worker_vs_openssl']:.2f}x) | {m['mlwarden_hash_default']:.2f} s "
            f"({r['mlwarden_default_mb_s']:.0f} MB/s) |")
    lines += ["", "Whole-process wall time, median of the repeats; ratio = model_signing / "
              "mlwarden (above 1: mlwarden is faster). Hash columns exclude process start-up.",
              f"Reproduce: `{command}`", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,300,3072",
                        help="Model sizes in MB, comma-separated (default 1,300,3072).")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--workdir", type=Path, default=None,
                        help="Where to build the models (default: a temp dir).")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args()
    sizes = [float(s) for s in args.sizes.split(",") if s.strip()]
    work = Path(tempfile.mkdtemp(prefix="mw-sign-bench-", dir=args.workdir))
    try:
        results = [bench_size(work, size, args.repeats, args.seed) for size in sizes]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    command = " ".join(["python", "benchmarks/sign_vs_anchors.py", "--sizes", args.sizes,
                        "--repeats", str(args.repeats)])
    args.out.mkdir(parents=True, exist_ok=True)
    meta = {"machine": platform.machine(), "cpus": os.cpu_count(),
            "python": platform.python_version(), "command": command,
            "openssl": subprocess.run(["openssl", "version"], capture_output=True,
                                      text=True).stdout.strip()}
    (args.out / "sign_vs_anchors.json").write_text(
        json.dumps({"meta": meta, "results": results}, indent=2) + "\n")
    table = markdown(results, command)
    (args.out / "sign_vs_anchors.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
