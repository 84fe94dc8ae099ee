// Cellpose's `average_tiles` (run_net's blending of the network's tile outputs) over a region of the padded image:
// every tile's outputs times the taper mask, added into a float32 sum in tile order (the product and the addition in
// float64, the sum rounded to float32 after each tile), the mask into a float64 sum, then sum / mask-sum rounded to
// float32. Exactly what lib/cellpose/transforms.ts did tile by tile in JavaScript (whose numbers are float64), so the
// blended flows keep their bits on both backends; the taper mask comes from the caller (it needs a correctly rounded
// exp, which neither libm promises).
//
// Tiles are given by their top-left corner in the region's coordinates and may reach outside it (a sharded run's
// window, the padding): only their pixels inside the region count. A region pixel no tile covers gets 0 / 0 = NaN,
// as in the JavaScript (run_net's tiles always cover the image). Rows are split across threads; each row still
// takes its tiles in order, so the result does not depend on the thread count.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "common.hpp"
#include "parallel.hpp"

namespace scseg {

struct TileBlendShape {
  size_t tiles = 0;      // number of tiles (origins holds 2 · tiles int32: row, column)
  int64_t channels = 0;  // network outputs per pixel (nout)
  int64_t tileHeight = 0, tileWidth = 0;
  int64_t width = 0, height = 0;  // the region
};

// Elements of y ([tiles, channels, tileHeight, tileWidth]) and of the output ([channels, height, width]) for
// `s`, or false when a size is invalid or would overflow.
inline bool tileBlendSizes(const TileBlendShape& s, size_t& inputs, size_t& outputs) {
  size_t tile, area;
  if (s.channels < 1 || s.channels > 64 || !checkedArea(s.tileWidth, s.tileHeight, tile) ||
      !checkedArea(s.width, s.height, area))
    return false;
  const size_t c = size_t(s.channels);
  const size_t maxSize = std::numeric_limits<size_t>::max();
  if (tile > maxSize / c || area > maxSize / c) return false;
  if (s.tiles > 0 && tile * c > maxSize / s.tiles) return false;
  inputs = s.tiles * tile * c;
  outputs = area * c;
  return true;
}

// y: the tiles' outputs, [tiles, channels, tileHeight, tileWidth]; origins: (row, column) of each tile's top-left
// pixel in the region; mask: the taper mask, [tileHeight, tileWidth]; out: [channels, height, width].
inline Status cellposeBlendTiles(const float* y, const int32_t* origins, const double* mask, const TileBlendShape& s,
                                 float* out, size_t threads) {
  size_t inputs, outputs;
  if (!tileBlendSizes(s, inputs, outputs)) return Status::BadShape;
  const int64_t th = s.tileHeight, tw = s.tileWidth, W = s.width, H = s.height;
  const size_t plane = size_t(W) * size_t(H), tileArea = size_t(th) * size_t(tw);
  std::fill(out, out + outputs, 0.0f);
  parallelFor(threads, size_t(H), rowsPerChunk(W), [&](size_t r0, size_t r1) {
    const int64_t rowA = int64_t(r0), rowB = int64_t(r1);
    std::vector<double> navg(size_t(rowB - rowA) * size_t(W), 0.0);
    for (size_t k = 0; k < s.tiles; ++k) {
      const int64_t ty0 = origins[2 * k], tx0 = origins[2 * k + 1];
      // the tile's rows inside [rowA, rowB) and columns inside [0, W), in tile coordinates
      const int64_t ra = std::max<int64_t>(0, rowA - ty0), rb = std::min<int64_t>(th, rowB - ty0);
      const int64_t xa = std::max<int64_t>(0, -tx0), xb = std::min<int64_t>(tw, W - tx0);
      if (ra >= rb || xa >= xb) continue;
      const float* tile = y + k * size_t(s.channels) * tileArea;
      for (int64_t c = 0; c < s.channels; ++c) {
        const float* src = tile + size_t(c) * tileArea;
        float* dst = out + size_t(c) * plane;
        for (int64_t r = ra; r < rb; ++r) {
          float* row = dst + size_t(ty0 + r) * size_t(W);
          const float* from = src + size_t(r) * size_t(tw);
          const double* m = mask + size_t(r) * size_t(tw);
          for (int64_t x = xa; x < xb; ++x) row[tx0 + x] = float(double(row[tx0 + x]) + double(from[x]) * m[x]);
        }
      }
      for (int64_t r = ra; r < rb; ++r) {
        double* row = navg.data() + size_t(ty0 + r - rowA) * size_t(W);
        const double* m = mask + size_t(r) * size_t(tw);
        for (int64_t x = xa; x < xb; ++x) row[tx0 + x] += m[x];
      }
    }
    for (int64_t c = 0; c < s.channels; ++c) {
      float* dst = out + size_t(c) * plane + size_t(rowA) * size_t(W);
      const size_t n = navg.size();
      for (size_t i = 0; i < n; ++i) dst[i] = float(double(dst[i]) / navg[i]);
    }
  });
  return Status::Ok;
}

}  // namespace scseg
