"""mlwarden scan vs picklescan, modelscan, fickling and modelaudit — same corpus, same machine.

    python benchmarks/scan_vs_anchors.py --setup            # install the anchors (own venv)
    python benchmarks/scan_vs_anchors.py                    # corpus: recall, FPR, wall times
    python benchmarks/scan_vs_anchors.py --large            # + a 1.5 GB torch checkpoint and a
                                                            #   1 GB joblib of a fitted model

Every tool runs as a whole process per file (what a CI job pays, start-up included) and once over
the whole corpus directory (``--repeat`` times, median). Verdicts come from each tool's exit code
and output (see ``_anchors.py``); an error is never a detection and is counted apart. Results go
to ``benchmarks/results/scan_vs_anchors.{json,md}``; generated inputs to ``benchmarks/results/tmp``
(git-ignored), the large files are deleted afterwards unless ``--keep-large``.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _anchors import TOOLS, Run, setup_anchors, versions  # noqa: E402
from tests.scan.corpus.common import Sample  # noqa: E402
from tests.scan.corpus.generate import generate  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
TMP = RESULTS / "tmp"


def run_corpus(tools: list[str], corpus: Path, samples: list[Sample], timeout: float
               ) -> dict[str, dict[str, Run]]:
    runs: dict[str, dict[str, Run]] = {}
    for name in tools:
        tool = TOOLS[name]
        runs[name] = {}
        start = time.perf_counter()
        for i, sample in enumerate(samples, 1):
            runs[name][sample.name] = tool.run(corpus / sample.name, timeout)
            if i % 25 == 0:
                print(f"  {name}: {i}/{len(samples)}", file=sys.stderr, flush=True)
        print(f"{name}: {len(samples)} files in {time.perf_counter() - start:.1f} s",
              file=sys.stderr, flush=True)
    return runs


def score(samples: list[Sample], runs: dict[str, Run], fmt: str | None = None) -> dict[str, Any]:
    chosen = [s for s in samples if fmt is None or s.format == fmt]
    mal = [s for s in chosen if s.label == "malicious"]
    ben = [s for s in chosen if s.label == "benign"]
    hit = sum(runs[s.name].verdict == "flagged" for s in mal)
    fp = sum(runs[s.name].verdict == "flagged" for s in ben)
    return {
        "malicious": len(mal), "benign": len(ben), "detected": hit, "false_positives": fp,
        "recall": round(hit / len(mal), 3) if mal else None,
        "fpr": round(fp / len(ben), 3) if ben else None,
        "errors_malicious": sum(runs[s.name].verdict == "error" for s in mal),
        "errors_benign": sum(runs[s.name].verdict == "error" for s in ben),
    }


def dir_times(tools: list[str], corpus: Path, repeat: int, timeout: float) -> dict[str, float]:
    out = {}
    for name in tools:
        times = [TOOLS[name].run(corpus, timeout * 10).seconds for _ in range(repeat)]
        out[name] = round(statistics.median(times), 2)
        print(f"{name}: directory {out[name]} s", file=sys.stderr, flush=True)
    return out


def make_large(folder: Path, scale: float = 1.0) -> dict[str, Path]:
    """A ≥1.5 GB torch checkpoint and a ≥1 GB joblib of StandardScaler + KNN on random data
    (``scale`` shrinks both, to try the script quickly)."""
    import joblib
    import numpy as np
    import torch
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    folder.mkdir(parents=True, exist_ok=True)
    ckpt = folder / "large_checkpoint.pt"
    if not ckpt.exists():
        gen = torch.Generator().manual_seed(0)
        side = max(8, int(4096 * scale ** 0.5))
        layers = {f"layers.{i}.weight": torch.randn(side, side, generator=gen) for i in range(24)}
        torch.save({"model": layers, "epoch": 10}, ckpt)
        del layers
    model_path = folder / "large_knn.joblib"
    if not model_path.exists():
        x = np.random.default_rng(0).normal(size=(max(20, int(1_350_000 * scale)), 100))
        y = (x[:, 0] > 0).astype(np.int64)
        model = make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=5,
                                                                     algorithm="brute"))
        model.fit(x, y)
        del x
        joblib.dump(model, model_path)
    return {"torch checkpoint": ckpt, "joblib sklearn": model_path}


def run_large(tools: list[str], files: dict[str, Path], timeout: float) -> dict[str, Any]:
    out: dict[str, Any] = {"files": {k: {"path": str(p), "bytes": p.stat().st_size}
                                     for k, p in files.items()}, "runs": {}}
    for name in tools:
        out["runs"][name] = {}
        for label, path in files.items():
            run = TOOLS[name].run(path, timeout)
            out["runs"][name][label] = {"verdict": run.verdict, "seconds": round(run.seconds, 2),
                                        "rc": run.rc}
            print(f"{name}: {label} {run.verdict} {run.seconds:.1f} s", file=sys.stderr,
                  flush=True)
    return out


def markdown(result: dict[str, Any]) -> str:
    tools = result["tools"]
    lines = [f"Corpus: {result['corpus']['malicious']} malicious and {result['corpus']['benign']} "
             f"benign files ({', '.join(result['corpus']['formats'])}), generated by "
             "`tests/scan/corpus/generate.py`. Machine: " + result["machine"] + ".", "",
             "| tool | version | recall | FPR | errors (mal/benign) | median s/file | directory s |",
             "|---|---|---|---|---|---|---|"]
    for t in tools:
        s = result["scores"][t]["all"]
        lines.append(f"| {t} | {result['versions'].get(t, '')} | {s['recall']:.2f} | "
                     f"{s['fpr']:.2f} | {s['errors_malicious']}/{s['errors_benign']} | "
                     f"{result['per_file_median_s'][t]:.2f} | "
                     f"{result['directory_s'].get(t, float('nan')):.2f} |")
    lines += ["", "Recall / FPR per format:", "",
              "| format | " + " | ".join(tools) + " |", "|---|" + "---|" * len(tools)]
    for fmt in result["corpus"]["formats"]:
        cells = []
        for t in tools:
            s = result["scores"][t][fmt]
            rec = "–" if s["recall"] is None else f"{s['recall']:.2f}"
            fpr = "–" if s["fpr"] is None else f"{s['fpr']:.2f}"
            cells.append(f"{rec} / {fpr}")
        lines.append(f"| {fmt} | " + " | ".join(cells) + " |")
    large = result.get("large")
    if large:
        labels = list(large["files"])
        lines += ["", "Large files (whole-process wall time, verdict):", "",
                  "| tool | " + " | ".join(f"{k} ({large['files'][k]['bytes'] / 1e9:.2f} GB)"
                                          for k in labels) + " |",
                  "|---|" + "---|" * len(labels)]
        for t in tools:
            cells = [f"{large['runs'][t][k]['seconds']:.1f} s ({large['runs'][t][k]['verdict']})"
                     for k in labels]
            lines.append(f"| {t} | " + " | ".join(cells) + " |")
    lines += ["", f"Command: `{result['command']}`"]
    return "\n".join(lines) + "\n"


def _merge(old: dict[str, Any], new: dict[str, Any], tools: list[str]) -> dict[str, Any]:
    """``old`` with the figures of ``tools`` replaced by ``new``'s (same corpus required)."""
    if old["labels"] != new["labels"]:
        raise SystemExit("--merge: the corpus changed since the previous results; run all tools")
    for key in ("scores", "per_file_median_s", "directory_s", "verdicts", "versions"):
        for t in tools:
            if t in new[key]:
                old[key][t] = new[key][t]
    old["tools"] = [*old["tools"], *(t for t in tools if t not in old["tools"])]
    old["command"] += f" && {new['command']}"
    old["canary_fired"] = old["canary_fired"] or new["canary_fired"]
    return old


def rescore(result: dict[str, Any]) -> dict[str, Any]:
    """Recompute scores and per-file medians from the stored verdicts and labels."""
    samples = [Sample(n, fmt, tech, label) for n, (fmt, label, tech) in result["labels"].items()]
    formats = sorted({s.format for s in samples})
    result["corpus"] = {"malicious": sum(s.label == "malicious" for s in samples),
                        "benign": sum(s.label == "benign" for s in samples), "formats": formats}
    for t in result["tools"]:
        runs = {n: Run(v["verdict"], v["seconds"], v["rc"], "")
                for n, v in result["verdicts"][t].items()}
        result["scores"][t] = {"all": score(samples, runs),
                               **{f: score(samples, runs, f) for f in formats}}
        result["per_file_median_s"][t] = round(statistics.median(r.seconds for r in runs.values()),
                                               3)
    return result


def extend(old: dict[str, Any], corpus: Path, samples: list[Sample], timeout: float,
           command: str) -> dict[str, Any]:
    """Run every tool of ``old`` on the samples ``old`` has not seen, and rescore."""
    new = [s for s in samples if s.name not in old["labels"]]
    runs = run_corpus(old["tools"], corpus, new, timeout)
    for t in old["tools"]:
        old["verdicts"][t].update({n: {"verdict": r.verdict, "seconds": round(r.seconds, 3),
                                       "rc": r.rc} for n, r in runs[t].items()})
    old["labels"].update({s.name: [s.format, s.label, s.technique] for s in new})
    old["command"] += f" && {command}"
    old["extended_with"] = sorted(s.name for s in new)
    return rescore(old)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setup", action="store_true", help="install the anchors and exit")
    parser.add_argument("--tools", nargs="+", default=list(TOOLS), choices=list(TOOLS))
    parser.add_argument("--corpus", type=Path, default=None, help="an existing corpus directory")
    parser.add_argument("--formats", nargs="+", default=None, help="only these sample formats")
    parser.add_argument("--repeat", type=int, default=3, help="directory runs per tool")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per file")
    parser.add_argument("--large", action="store_true", help="also the GB-size files")
    parser.add_argument("--large-only", action="store_true", help="only the GB-size files; "
                        "keep the corpus figures of the previous results file")
    parser.add_argument("--keep-large", action="store_true")
    parser.add_argument("--extend", action="store_true", help="run every tool of the existing "
                        "results on the corpus samples they do not cover yet")
    parser.add_argument("--large-scale", type=float, default=1.0, help=argparse.SUPPRESS)
    parser.add_argument("--merge", action="store_true", help="update only --tools in the "
                        "existing results (e.g. re-measure mlwarden after a scanner change)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.setup:
        setup_anchors()
        return 0
    tools = args.tools
    args.out.mkdir(parents=True, exist_ok=True)
    json_path = args.out / "scan_vs_anchors.json"
    command = "python benchmarks/scan_vs_anchors.py " + " ".join(argv or sys.argv[1:])
    if args.large_only:
        result = json.loads(json_path.read_text())
        result["command"] = result["command"] + f" && {command.strip()}"
    elif args.extend:
        from tests.scan.corpus.generate import load_manifest

        corpus = args.corpus or TMP / "corpus"
        result = extend(json.loads(json_path.read_text()), corpus, load_manifest(corpus),
                        args.timeout, command.strip())
    else:
        corpus = args.corpus or TMP / "corpus"
        if args.corpus is None:
            shutil.rmtree(corpus, ignore_errors=True)
            samples = generate(corpus, TMP / "canary" / "FIRED")
        else:
            from tests.scan.corpus.generate import load_manifest

            samples = load_manifest(corpus)
        if args.formats:
            samples = [s for s in samples if s.format in args.formats]
        formats = sorted({s.format for s in samples})
        runs = run_corpus(tools, corpus, samples, args.timeout)
        result = {
            "command": command.strip(),
            "machine": f"{platform.machine()}, {platform.system()}, Python "
                       f"{platform.python_version()}, {__import__('os').cpu_count()} CPUs",
            "versions": versions(),
            "tools": tools,
            "corpus": {"malicious": sum(s.label == "malicious" for s in samples),
                       "benign": sum(s.label == "benign" for s in samples), "formats": formats},
            "scores": {t: {"all": score(samples, runs[t]),
                           **{f: score(samples, runs[t], f) for f in formats}} for t in tools},
            "per_file_median_s": {t: round(statistics.median(r.seconds for r in runs[t].values()),
                                           3) for t in tools},
            "directory_s": dir_times(tools, corpus, args.repeat, args.timeout)
            if args.formats is None else {},
            "verdicts": {t: {n: {"verdict": r.verdict, "seconds": round(r.seconds, 3), "rc": r.rc}
                             for n, r in runs[t].items()} for t in tools},
            "labels": {s.name: [s.format, s.label, s.technique] for s in samples},
            "canary_fired": (TMP / "canary" / "FIRED").exists(),
        }
    if args.merge and json_path.exists() and not args.large_only:
        result = _merge(json.loads(json_path.read_text()), result, tools)
    if args.large or args.large_only:
        folder = TMP / "large"
        try:
            result["large"] = run_large(tools, make_large(folder, args.large_scale),
                                        args.timeout * 20)
        finally:
            if not args.keep_large:
                shutil.rmtree(folder, ignore_errors=True)
    json_path.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    (args.out / "scan_vs_anchors.md").write_text(markdown(result))
    print(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
