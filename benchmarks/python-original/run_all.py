#!/usr/bin/python3
"""Run the original scPortrait workflows on every dataset of datasets.json (one process, numba compiled once).

    SCPORTRAIT_SRC=/path/to/scPortrait /usr/bin/python3 benchmarks/python-original/run_all.py \
        --out-root /tmp/original [--only scportrait_example3,dsb_256] [--repeat 3]

Writes OUT_ROOT/<name>/{masks.npy,result.json} per dataset (see run_original.py) and OUT_ROOT/summary.json;
prints one line per dataset. A dataset on which the original crashes is recorded with its error and skipped.
"""

import argparse
import json
import os
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ inside the repository

import run_original  # noqa: E402


def resolve(path: str, data_root: str) -> str:
    return os.path.join(data_root, path[len("$data/") :]) if path.startswith("$data/") else os.path.join(ROOT, path)


def count_labels(path: str) -> int:
    import numpy as np

    if path.endswith(".png"):
        from PIL import Image

        labels = np.array(Image.open(path))
    else:
        import tifffile

        labels = tifffile.imread(path)
    return int(np.count_nonzero(np.unique(labels)))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out-root", required=True)
    ap.add_argument("--datasets", default=os.path.join(HERE, "datasets.json"))
    ap.add_argument("--only", default="", help="comma-separated dataset names")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()

    data_root = os.environ.get("SCSEG_SHARED_DATA", os.path.join(ROOT, "..", "shared", "data"))
    with open(args.datasets, encoding="utf-8") as f:
        datasets = json.load(f)["datasets"]
    only = {s for s in args.only.split(",") if s}
    unknown = only - {d["name"] for d in datasets}
    if unknown:
        print(f"run_all.py: unknown dataset(s): {sorted(unknown)}", file=sys.stderr)
        return 2

    try:
        run_original.setup()
    except run_original.HarnessError as e:
        print(f"run_all.py: {e}", file=sys.stderr)
        return 2

    summary = []
    for d in datasets:
        if only and d["name"] not in only:
            continue
        entry = {"name": d["name"], "workflow": d["workflow"]}
        try:
            r = run_original.run(
                d["workflow"],
                resolve(d["config"], data_root),
                [resolve(p, data_root) for p in d["inputs"]],
                os.path.join(args.out_root, d["name"]),
                repeat=args.repeat,
            )
            entry.update(shape=r["shape"], n_cells=r["n_cells"], seconds=r["seconds"], warmup=r["warmup"])
        except Exception as e:  # record the original's crash, keep going
            entry["error"] = f"{type(e).__name__}: {e}"
            entry["traceback"] = traceback.format_exc()
        if d.get("groundTruth"):
            entry["ground_truth_cells"] = count_labels(resolve(d["groundTruth"], data_root))
        summary.append(entry)
        if "error" in entry:
            print(f"{d['name']:<22} {d['workflow']:<17} CRASH {entry['error']}", flush=True)
        else:
            cells = " ".join(f"{k}={v}" for k, v in entry["n_cells"].items())
            gt = f" gt={entry['ground_truth_cells']}" if "ground_truth_cells" in entry else ""
            print(f"{d['name']:<22} {d['workflow']:<17} {cells}{gt} {entry['seconds']:.3f}s", flush=True)

    os.makedirs(args.out_root, exist_ok=True)
    with open(os.path.join(args.out_root, "summary.json"), "w", encoding="utf-8") as f:
        json.dump({"scportrait": run_original.setup()["provenance"], "datasets": summary}, f, indent=2)
        f.write("\n")
    return 1 if any("error" in e for e in summary) else 0


if __name__ == "__main__":
    sys.exit(main())
