#!/usr/bin/python3
"""Build a large two-channel WGA test image by tiling scPortrait example 3 (nucleus Ch1 + WGA Ch2).

    /usr/bin/python3 scripts/images/make_large_image.py /tmp/large [--size 2048] [--tile 512] [--source DIR]

Writes OUT_DIR/ch1.tif (nucleus) and OUT_DIR/ch2.tif (WGA), uint16, size x size, uncompressed. Tiles are mirrored
alternately (symmetric tiling), so intensities stay continuous across tile seams; cells cut by a seam appear as
mirror-image pairs. `--tile N` writes N×N TIFF tiles (read window by window by sharded runs; the default is
strips). A 20000² channel takes ~0.8 GB in memory while it is written. Deterministic: the same source always gives the same bytes. Never commit the output.
Use it with the example-3 config: data/example3/config_example3.yml.
"""

import argparse
import os
import sys

import numpy as np
import tifffile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def symmetric_tile(img: np.ndarray, height: int, width: int) -> np.ndarray:
    h, w = img.shape
    reps_y, reps_x = -(-height // h), -(-width // w)
    rows = []
    for ty in range(reps_y):
        tiles = []
        for tx in range(reps_x):
            t = img[::-1] if ty % 2 else img
            tiles.append(t[:, ::-1] if tx % 2 else t)
        rows.append(np.concatenate(tiles, axis=1))
    return np.ascontiguousarray(np.concatenate(rows, axis=0)[:height, :width])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir", help="directory to write ch1.tif and ch2.tif into")
    ap.add_argument("--size", type=int, default=2048, help="side length in pixels (default 2048)")
    ap.add_argument("--tile", type=int, default=0, help="write tiled TIFF with this tile edge (multiple of 16)")
    ap.add_argument("--source", default=os.path.join(ROOT, "data", "example3"), help="folder with Ch1.tif, Ch2.tif")
    args = ap.parse_args()
    if args.size < 1:
        ap.error("--size must be positive")

    os.makedirs(args.out_dir, exist_ok=True)
    for src, dst in (("Ch1.tif", "ch1.tif"), ("Ch2.tif", "ch2.tif")):
        path = os.path.join(args.source, src)
        if not os.path.isfile(path):
            print(f"make_large_image.py: missing {path}", file=sys.stderr)
            return 2
        src_img = tifffile.imread(path)
        out = os.path.join(args.out_dir, dst)
        if args.tile:
            if args.tile % 16:
                ap.error("--tile must be a multiple of 16")
            big = symmetric_tile(src_img, args.size, args.size)
            tifffile.imwrite(out, big, tile=(args.tile, args.tile), bigtiff=big.nbytes > 2**31)
        else:
            big = symmetric_tile(src_img, args.size, args.size)
            tifffile.imwrite(out, big)
        print(f"wrote {out} {big.shape} {big.dtype}")
        del big
    return 0


if __name__ == "__main__":
    sys.exit(main())
