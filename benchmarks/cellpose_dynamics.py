#!/usr/bin/python3
"""Cellpose 3.1.1.3's side of benchmarks/cellpose-dynamics.bench.ts: builds the benchmark input, times Cellpose.

usage: CELLPOSE_SRC=... PYTHONPATH=<fastremap/fill_voids stand-ins> cellpose_dynamics.py OUT_DIR SIZE REPEAT

Input: the BBBC039 label images of the shared data folder (SCSEG_SHARED_DATA, default ../shared/data beside the
repository) tiled 4 × 3, cropped to SIZE² and relabelled (2048²: 1452 nuclei). Cellpose's `masks_to_flows` of it
gives dP = float32(5) × float32(flows) and cellprob = ±5 (flows fed back, as the fixtures do). Times (best of
REPEAT): masks_to_flows, and resize_and_compute_masks (niter 200, CPU, no resize) with flow_threshold 0.4 and 0.
Writes OUT_DIR/{labels.u32, flows.f32, dP.f32, cellprob.f32, masks_0.4.u32, masks_0.u32} (raw little-endian) and
prints one JSON line with the timings.
"""
import glob
import json
import os
import sys
import time

import numpy as np

out_dir, size, repeat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
src = os.environ.get("CELLPOSE_SRC")
if not src or not os.path.isfile(os.path.join(src, "cellpose", "dynamics.py")):
    sys.exit("CELLPOSE_SRC must point at a Cellpose 3.1.1.3 source tree (the directory holding cellpose/)")
sys.path.insert(0, src)
import cv2  # noqa: E402
import torch  # noqa: E402
from cellpose import dynamics  # noqa: E402

get_masks_torch = dynamics.get_masks_torch
dynamics.get_masks_torch = lambda pt, *a, **k: get_masks_torch(pt.long(), *a, **k)  # torch 1.13: int64 indices

here = os.path.dirname(os.path.abspath(__file__))
shared = os.environ.get("SCSEG_SHARED_DATA", os.path.join(os.path.dirname(os.path.dirname(here)), "shared", "data"))
files = sorted(glob.glob(os.path.join(shared, "bbbc039", "labels", "*.png")))
if not files:
    sys.exit(f"no BBBC039 labels under {shared}/bbbc039/labels (set SCSEG_SHARED_DATA)")
tiles = [cv2.imread(f, cv2.IMREAD_UNCHANGED).astype(np.int64) for f in files]
th, tw = tiles[0].shape
rows, cols = -(-size // th), -(-size // tw)
big = np.zeros((rows * th, cols * tw), np.int64)
offset = 0
for i in range(rows * cols):
    t = tiles[i % len(tiles)]
    r, c = divmod(i, cols)
    big[r * th:(r + 1) * th, c * tw:(c + 1) * tw] = np.where(t > 0, t + offset, 0)
    offset = int(big.max())
big = big[:size, :size]
_, inverse = np.unique(big, return_inverse=True)
labels = inverse.reshape(big.shape).astype(np.int32)  # 0 stays 0: it is the smallest value

cpu = torch.device("cpu")


def best(fn):
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


t_flows, flows = best(lambda: dynamics.masks_to_flows(labels, device=cpu))
flows = flows.astype(np.float32)
dP = np.float32(5) * flows
cellprob = np.where(labels > 0, np.float32(5), np.float32(-5)).astype(np.float32)
timings = {"masks_to_flows": t_flows}
for ft in [0.4, 0.0]:
    t, masks = best(lambda: dynamics.resize_and_compute_masks(dP, cellprob, niter=200, flow_threshold=ft, resize=None,
                                                              device=cpu))
    timings[f"compute_masks_{ft:g}"] = t
    masks.astype("<u4").tofile(os.path.join(out_dir, f"masks_{ft:g}.u32"))
labels.astype("<u4").tofile(os.path.join(out_dir, "labels.u32"))
flows.astype("<f4").tofile(os.path.join(out_dir, "flows.f32"))
dP.astype("<f4").tofile(os.path.join(out_dir, "dP.f32"))
cellprob.astype("<f4").tofile(os.path.join(out_dir, "cellprob.f32"))
print(json.dumps({"size": size, "masks": int(labels.max()), "seconds": timings, "torch": torch.__version__}))
