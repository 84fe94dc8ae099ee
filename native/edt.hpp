// Exact Euclidean distance transform of a binary mask: scipy.ndimage.distance_transform_edt(mask).
//
// Every non-zero pixel gets the distance to the nearest zero pixel inside the image (the image border is not
// background); zero pixels get 0. Squared distances are exact integers (Meijster, Roerdink & Hesselink 2000:
// a column pass, then a row pass over the lower envelope of parabolas, in integer arithmetic); the result is
// sqrt(double(dy² + dx²)), which is what scipy computes from its exact feature transform — bit for bit, ties
// between equally near background pixels cannot change the value.
//
// Quirk kept for parity: a mask without any background pixel is not +inf everywhere. scipy's feature transform
// then leaves each pixel's nearest "feature" at (row −1, column 0), so pixel (y, x) gets sqrt((y+1)² + x²).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "common.hpp"
#include "parallel.hpp"

namespace scseg {

namespace edt_detail {

// floor(a / b) for b > 0.
inline int64_t floorDiv(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

// One row: g[x] = vertical distance of column x to its nearest background pixel, or −1 when column x has none.
// Writes the exact squared 2-D distances to d2 (all −1 if no column has background).
inline void rowPass(const int64_t* g, int64_t width, int64_t* site, int64_t* start, int64_t* d2) {
  auto f = [&](int64_t x, int64_t i) { return (x - i) * (x - i) + g[i] * g[i]; };
  int64_t q = -1;
  for (int64_t u = 0; u < width; ++u) {
    if (g[u] < 0) continue;
    while (q >= 0 && f(start[q], site[q]) > f(start[q], u)) --q;
    if (q < 0) {
      q = 0;
      site[0] = u;
      start[0] = 0;
    } else {
      // First x at which u is strictly nearer than site[q]: 1 + floor of the parabolas' intersection.
      const int64_t i = site[q];
      const int64_t w = 1 + floorDiv(u * u - i * i + g[u] * g[u] - g[i] * g[i], 2 * (u - i));
      if (w < width) {
        ++q;
        site[q] = u;
        start[q] = w;
      }
    }
  }
  if (q < 0) {
    for (int64_t x = 0; x < width; ++x) d2[x] = -1;
    return;
  }
  for (int64_t x = width - 1; x >= 0; --x) {
    d2[x] = f(x, site[q]);
    if (x == start[q]) --q;
  }
}

}  // namespace edt_detail

// mask: width*height bytes, non-zero = foreground. out: width*height doubles (also used as column scratch).
inline Status distanceTransformEdt(const uint8_t* mask, int64_t width, int64_t height, double* out, size_t threads) {
  size_t area;
  if (!checkedArea(width, height, area)) return Status::BadShape;
  // Squared distances stay below 2^53 (exact in double, no int64 overflow in the envelope) for sides < 2^26.
  if (width >= (int64_t(1) << 26) || height >= (int64_t(1) << 26)) return Status::BadShape;
  const size_t W = static_cast<size_t>(width), H = static_cast<size_t>(height);
  const double inf = std::numeric_limits<double>::infinity();

  // Column pass (columns split across threads): the vertical distance of (y, x) to the nearest background pixel
  // in its column, inf if none; down, then up, kept in out.
  parallelFor(threads, W, 64, [&](size_t x0, size_t x1) {
    for (size_t x = x0; x < x1; ++x) out[x] = mask[x] ? inf : 0.0;
    for (size_t y = 1; y < H; ++y) {
      const uint8_t* m = mask + y * W;
      const double* above = out + (y - 1) * W;
      double* row = out + y * W;
      for (size_t x = x0; x < x1; ++x) row[x] = m[x] ? above[x] + 1.0 : 0.0;
    }
    for (size_t y = H - 1; y-- > 0;) {
      const double* below = out + (y + 1) * W;
      double* row = out + y * W;
      for (size_t x = x0; x < x1; ++x) row[x] = std::min(row[x], below[x] + 1.0);
    }
  });

  // Row pass (rows split across threads), in place.
  parallelFor(threads, H, rowsPerChunk(width), [&](size_t y0, size_t y1) {
    std::vector<int64_t> g(W), site(W), start(W), d2(W);
    for (size_t y = y0; y < y1; ++y) {
      double* row = out + y * W;
      for (size_t x = 0; x < W; ++x) g[x] = row[x] == inf ? -1 : static_cast<int64_t>(row[x]);
      edt_detail::rowPass(g.data(), width, site.data(), start.data(), d2.data());
      if (d2[0] < 0) {
        // No background anywhere (every row sees the same columns): scipy's feature (−1, 0).
        const int64_t dy = static_cast<int64_t>(y) + 1;
        for (size_t x = 0; x < W; ++x) {
          const int64_t dx = static_cast<int64_t>(x);
          row[x] = std::sqrt(static_cast<double>(dy * dy) + static_cast<double>(dx * dx));
        }
        continue;
      }
      for (size_t x = 0; x < W; ++x) row[x] = std::sqrt(static_cast<double>(d2[x]));
    }
  });
  return Status::Ok;
}

}  // namespace scseg
