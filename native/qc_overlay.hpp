// The QC overlay (lib/io/overlay.ts renderQcOverlay), byte for byte: a background image percentile-stretched to
// grey and mask outlines on top, downsampled by an integer factor f into RGBA pixels (R, G, B, 255 in memory order).
//
//  - grey: f = 1: each pixel; f > 1: the mean of the block's non-NaN pixels (float64 sums accumulated row by row,
//    left to right — the TypeScript order, so float32 backgrounds give the same bits), an empty block → p0. Then
//    g = JS Math.round((mean − p0) · scale) clamped to 0..255; NaN (e.g. ∞ · 0) gives 0, as JavaScript's bit
//    operations make of it. p0 and scale are computed by the caller (TypeScript) and only applied here.
//  - outlines, at full resolution: a pixel with label v ≠ 0 whose 4-neighbour inside the image has another label.
//    Any outline pixel colours its block; mask k is drawn over masks 0..k−1.
//
// Output rows are independent (a block row reads its input rows and their neighbour rows only): they are split
// over the thread budget, and every row is computed exactly as the serial loop would, whatever the thread count.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "common.hpp"
#include "parallel.hpp"

namespace scseg {

// The overlay's size for an image of width × height shrunk by `factor`: ceil(W/f) × ceil(H/f) pixels of 4 bytes.
// false for a bad shape, a factor < 1 or a byte count that does not fit size_t.
inline bool qcOverlaySize(int64_t width, int64_t height, int64_t factor, int64_t& outWidth, int64_t& outHeight,
                          size_t& bytes) {
  size_t area;
  if (!checkedArea(width, height, area) || factor < 1) return false;
  // (n − 1) / f + 1 = ceil(n / f) without overflowing near INT64_MAX.
  outWidth = (width - 1) / factor + 1;
  outHeight = (height - 1) / factor + 1;
  size_t outArea;
  if (!checkedArea(outWidth, outHeight, outArea) || outArea > std::numeric_limits<size_t>::max() / 4) return false;
  bytes = outArea * 4;
  return true;
}

// JavaScript's Math.round: the nearest integer, ties toward +∞. floor(x + 0.5) is wrong where x + 0.5 rounds
// (0.49999999999999994 + 0.5 == 1.0); x − floor(x) is exact for every double.
inline double jsRound(double x) {
  const double r = std::floor(x);
  return x - r >= 0.5 ? r + 1.0 : r;
}

// Math.max(0, Math.min(255, Math.round((mean − p0) · scale))) as the byte JavaScript stores (NaN → 0).
inline uint8_t qcGrey(double mean, double p0, double scale) {
  const double g = jsRound((mean - p0) * scale);
  if (!(g > 0)) return 0;  // NaN too
  return g >= 255 ? uint8_t(255) : static_cast<uint8_t>(g);
}

namespace detail {

// A pixel as the 4 bytes R, G, B, 255 in memory order, stored with one 32-bit write.
inline uint32_t pixelWord(uint8_t r, uint8_t g, uint8_t b) {
  const uint8_t bytes[4] = {r, g, b, 255};
  uint32_t word;
  std::memcpy(&word, bytes, 4);
  return word;
}

inline void put(uint8_t* rgba, size_t pixel, uint32_t word) { std::memcpy(rgba + 4 * pixel, &word, 4); }

inline uint32_t greyWord(uint8_t g) { return pixelWord(g, g, g); }

template <typename T>
inline bool isNaN(T v) {
  return v != v;
}

}  // namespace detail

// Renders the overlay of `background` (width × height, T = uint8_t, uint16_t or float) and `maskCount` label images
// masks[k] (same shape) with colours colors[3k..3k+2] into rgba (qcOverlaySize bytes), shrunk by `factor`.
// BadShape for a bad shape or an overlay whose size overflows; BadArgument for factor < 1 or missing arrays.
template <typename T>
Status qcOverlay(const T* background, int64_t width, int64_t height, const uint32_t* const* masks, size_t maskCount,
                 const uint8_t* colors, int64_t factor, double p0, double scale, uint8_t* rgba, size_t threads) {
  if (factor < 1) return Status::BadArgument;
  int64_t ow, oh;
  size_t bytes;
  if (!qcOverlaySize(width, height, factor, ow, oh, bytes)) return Status::BadShape;
  if (background == nullptr || rgba == nullptr || (maskCount > 0 && (masks == nullptr || colors == nullptr)))
    return Status::BadArgument;
  for (size_t k = 0; k < maskCount; ++k)
    if (masks[k] == nullptr) return Status::BadArgument;

  // A factor beyond the longer side shrinks to one block either way: clamped, it fits size_t (wasm32 too).
  const size_t W = size_t(width), H = size_t(height), w = size_t(ow), h = size_t(oh);
  const size_t f = size_t(std::min(factor, std::max(width, height)));
  // An output row reads f input rows; chunks of ~128 Ki input pixels outweigh starting a thread.
  const size_t minRows = std::max<size_t>(1, rowsPerChunk(width) / f);

  // Integer backgrounds at full size: a table of every value's grey (the values the TypeScript table holds).
  std::vector<uint32_t> table;
  if constexpr (!std::is_floating_point_v<T>) {
    if (f == 1) {
      table.resize(size_t(std::numeric_limits<T>::max()) + 1);
      for (size_t v = 0; v < table.size(); ++v) table[v] = detail::greyWord(qcGrey(double(v), p0, scale));
    }
  }
  std::vector<uint32_t> outline(maskCount);
  for (size_t k = 0; k < maskCount; ++k) outline[k] = detail::pixelWord(colors[3 * k], colors[3 * k + 1], colors[3 * k + 2]);

  parallelFor(threads, h, minRows, [&](size_t rowBegin, size_t rowEnd) {
    std::vector<double> sum;
    std::vector<uint64_t> count;
    if (f > 1) {
      sum.resize(w);
      count.resize(w);
    }
    for (size_t oy = rowBegin; oy < rowEnd; ++oy) {
      uint8_t* out = rgba + 4 * oy * w;
      // Block ends as start + min(f, rest): start + f may overflow a 32-bit size_t.
      const size_t y0 = oy * f, y1 = y0 + std::min(f, H - y0);
      if (f == 1) {
        const T* row = background + oy * W;
        for (size_t x = 0; x < W; ++x) {
          if constexpr (std::is_floating_point_v<T>)
            detail::put(out, x, detail::greyWord(qcGrey(detail::isNaN(row[x]) ? p0 : double(row[x]), p0, scale)));
          else
            detail::put(out, x, table[row[x]]);
        }
      } else {
        std::fill(sum.begin(), sum.end(), 0.0);
        std::fill(count.begin(), count.end(), uint64_t(0));
        // Per block: its pixels row by row, left to right — the order of the TypeScript loop.
        for (size_t y = y0; y < y1; ++y) {
          const T* row = background + y * W;
          for (size_t ox = 0; ox < w; ++ox) {
            const size_t x0 = ox * f, x1 = x0 + std::min(f, W - x0);
            double s = sum[ox];
            uint64_t n = count[ox];
            for (size_t x = x0; x < x1; ++x) {
              if (detail::isNaN(row[x])) continue;
              s += double(row[x]);
              ++n;
            }
            sum[ox] = s;
            count[ox] = n;
          }
        }
        for (size_t ox = 0; ox < w; ++ox)
          detail::put(out, ox, detail::greyWord(qcGrey(count[ox] ? sum[ox] / double(count[ox]) : p0, p0, scale)));
      }
      for (size_t k = 0; k < maskCount; ++k) {
        const uint32_t* L = masks[k];
        const uint32_t word = outline[k];
        for (size_t y = y0; y < y1; ++y) {
          const uint32_t* row = L + y * W;
          // A neighbour outside the image compares as the pixel itself (equal: no outline).
          const uint32_t* up = y > 0 ? row - W : row;
          const uint32_t* down = y + 1 < H ? row + W : row;
          // A labelled pixel with a 4-neighbour of another label.
          auto edgeAt = [&](size_t x) {
            const uint32_t v = row[x];
            const uint32_t left = row[x > 0 ? x - 1 : x], right = row[x + 1 < W ? x + 1 : x];
            return v != 0 && ((left != v) | (right != v) | (up[x] != v) | (down[x] != v));
          };
          if (f == 1) {
            // Full size: one pixel per block. The first and last pixel (a neighbour outside compares equal), then
            // the inside as a branch-free select the compiler vectorises (the block loop below multiplied and
            // branched per pixel: 2-3x slower at 2048²).
            if (edgeAt(0)) detail::put(out, 0, word);
            if (W > 1 && edgeAt(W - 1)) detail::put(out, W - 1, word);
            for (size_t x = 1; x + 1 < W; ++x) {
              const uint32_t v = row[x];
              const bool edge = (v != 0) & ((row[x - 1] != v) | (row[x + 1] != v) | (up[x] != v) | (down[x] != v));
              uint32_t px;
              std::memcpy(&px, out + 4 * x, 4);
              px = edge ? word : px;
              std::memcpy(out + 4 * x, &px, 4);
            }
            continue;
          }
          for (size_t ox = 0; ox < w; ++ox) {
            const size_t x0 = ox * f, x1 = x0 + std::min(f, W - x0);
            for (size_t x = x0; x < x1; ++x) {
              if (edgeAt(x)) {
                detail::put(out, ox, word);
                break;  // the block is coloured: on to the next one
              }
            }
          }
        }
      }
    }
  });
  return Status::Ok;
}

}  // namespace scseg
