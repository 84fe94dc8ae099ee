#!/usr/bin/python3
"""Writes a benchmark input: a real microscopy channel tiled to HEIGHT x WIDTH, as raw little-endian uint16.

usage: make_input.py SOURCE_TIFF HEIGHT WIDTH OUT_RAW
Tiling keeps the statistics of real data (value range, noise, structures) at any size.
"""
import sys

import numpy as np
import tifffile

src, h, w, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
img = tifffile.imread(src)
reps = (-(-h // img.shape[0]), -(-w // img.shape[1]))
np.ascontiguousarray(np.tile(img, reps)[:h, :w]).astype("<u2").tofile(out)
