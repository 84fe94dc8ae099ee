// Peak detection as skimage >= 0.20 `peak_local_max(image, min_distance=m, footprint=disk(r))` computes it
// with every other argument at its default (threshold_abs = min(image), exclude_border = m, p_norm = inf).
//
//  1. Candidates. r = 0 or a 1-pixel image: every pixel with value > min(image). Otherwise: pixels equal to the
//     maximum over disk(r) around them AND > min(image); a constant image has none. skimage filters with
//     scipy maximum_filter(mode="nearest"); for a disk footprint that equals the maximum over the in-image part
//     of the disk (a replicated edge value always lies inside the disk too), which is what we compute.
//     (skimage 0.19 used mode="constant", cval 0 — identical for non-negative images such as distances.)
//  2. Candidates in rows 0..m−1, H−m..H−1 or columns 0..m−1, W−m..W−1 are dropped.
//  3. Sorted by value, descending; equal values keep row-major order (skimage >= 0.20's stable argsort).
//  4. Greedy spacing: in that order, a candidate is kept iff its Chebyshev distance max(|dy|,|dx|) to every
//     previously kept peak is >= m (a candidate at exactly m is kept, closer ones are dropped).
// Result: kept peaks as (y, x) pairs in that order.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "common.hpp"
#include "limits.hpp"

namespace scseg {

namespace peaks_detail {

// out[x] = max(in[x − h .. x + h] ∩ [0, n)) — van Herk / Gil-Werman with blocks of 2h+1, −inf outside the row.
// pad, pre and suf are scratch of at least n + 2h elements.
inline void slidingMax(const double* in, int64_t n, int64_t h, double* out, double* pad, double* pre, double* suf) {
  if (h == 0) {
    std::copy(in, in + n, out);
    return;
  }
  const double lo = -std::numeric_limits<double>::infinity();
  const int64_t len = n + 2 * h, block = 2 * h + 1;
  std::fill(pad, pad + h, lo);
  std::copy(in, in + n, pad + h);
  std::fill(pad + h + n, pad + len, lo);
  for (int64_t b = 0; b < len; b += block) {
    const int64_t e = std::min(b + block, len);
    pre[b] = pad[b];
    for (int64_t i = b + 1; i < e; ++i) pre[i] = pad[i] > pre[i - 1] ? pad[i] : pre[i - 1];
    suf[e - 1] = pad[e - 1];
    for (int64_t i = e - 1; i-- > b;) suf[i] = pad[i] > suf[i + 1] ? pad[i] : suf[i + 1];
  }
  // Window [x, x + 2h] in padded coordinates spans at most two blocks: suffix of the first, prefix of the second.
  for (int64_t x = 0; x < n; ++x) {
    const double a = suf[x], b = pre[x + 2 * h];
    out[x] = a > b ? a : b;
  }
}

struct Candidate {
  double value;
  int64_t index;  // row-major position, the tie key
};

}  // namespace peaks_detail

// image: width*height doubles (NaN → BadValue). footprintRadius in [0, limits::kMaxPeakFootprintRadius]. Writes
// the peaks to `peaks` as
// (y, x) pairs in the order above.
inline Status peakLocalMax(const double* image, int64_t width, int64_t height, int64_t minDistance,
                           int64_t footprintRadius, std::vector<int32_t>& peaks) {
  using peaks_detail::Candidate;
  peaks.clear();
  size_t area;
  if (!checkedArea(width, height, area)) return Status::BadShape;
  if (width > std::numeric_limits<int32_t>::max() || height > std::numeric_limits<int32_t>::max())
    return Status::BadShape;
  if (minDistance < 0 || footprintRadius < 0 || footprintRadius > limits::kMaxPeakFootprintRadius)
    return Status::BadArgument;
  const int64_t W = width, H = height;
  double lowest = image[0], highest = image[0];
  for (size_t i = 0; i < area; ++i) {
    const double v = image[i];
    if (v != v) return Status::BadValue;
    if (v < lowest) lowest = v;
    if (v > highest) highest = v;
  }
  // A constant image has no peaks on either path (the max-filter path calls it "trivial", the other finds
  // nothing above the minimum).
  if (!(highest > lowest)) return Status::Ok;

  // Border exclusion, clipped to the image (a width >= the side removes everything).
  const int64_t y0 = std::min(minDistance, H), y1 = std::max(H - minDistance, y0);
  const int64_t x0 = std::min(minDistance, W), x1 = std::max(W - minDistance, x0);
  std::vector<Candidate> cand;
  if (y0 >= y1 || x0 >= x1) return Status::Ok;

  if (footprintRadius == 0 || area == 1) {
    for (int64_t y = y0; y < y1; ++y)
      for (int64_t x = x0; x < x1; ++x) {
        const double v = image[y * W + x];
        if (v > lowest) cand.push_back({v, y * W + x});
      }
  } else {
    // Disk = union of rectangles [−V_k, V_k] × [−h_k, h_k] over the distinct row half-widths h_k (V_k = how far
    // rows at least that wide extend). Per output row: grow a column max row by row through increasing V_k and
    // take the sliding max of width h_k at each step.
    // Offsets inside the image satisfy dy² + dx² < (H + W)², so a larger disk changes nothing.
    const int r = static_cast<int>(std::min(footprintRadius, H + W));
    const std::vector<int> hw = diskHalfWidths(r);
    std::vector<int64_t> stepV, stepH;  // increasing V, decreasing h
    for (int dy = 0; dy <= r; ++dy) {
      const int h = hw[static_cast<size_t>(r + dy)];
      if (dy == r || hw[static_cast<size_t>(r + dy + 1)] != h) {
        stepV.push_back(dy);
        stepH.push_back(h);
      }
    }
    const size_t scratch = static_cast<size_t>(W + 2 * int64_t(r));
    std::vector<double> colMax(static_cast<size_t>(W)), rowMax(static_cast<size_t>(W)), slid(static_cast<size_t>(W));
    std::vector<double> pad(scratch), pre(scratch), suf(scratch);
    std::vector<int64_t> survivors;
    // Cost model (element operations per row) choosing between the two ways of testing a row; both are exact.
    const int64_t rowCost = W * (2 * int64_t(r) + 1 + 6 * static_cast<int64_t>(stepV.size()));
    const int64_t directCost = static_cast<int64_t>(diskArea(r));
    for (int64_t y = y0; y < y1; ++y) {
      const double* centre = image + y * W;
      // Cheap necessary condition first: above the minimum and no 4-neighbour (always inside disk(r >= 1)) higher.
      survivors.clear();
      for (int64_t x = x0; x < x1; ++x) {
        const double v = centre[x];
        if (!(v > lowest)) continue;
        if ((x > 0 && centre[x - 1] > v) || (x + 1 < W && centre[x + 1] > v) || (y > 0 && centre[x - W] > v) ||
            (y + 1 < H && centre[x + W] > v))
          continue;
        survivors.push_back(x);
      }
      if (survivors.empty()) continue;
      if (static_cast<int64_t>(survivors.size()) * directCost <= rowCost) {
        for (int64_t x : survivors) {
          const double v = centre[x];
          bool isMax = true;
          for (int64_t dy = -r; isMax && dy <= r; ++dy) {
            if (y + dy < 0 || y + dy >= H) continue;
            const int64_t h = hw[static_cast<size_t>(dy + r)];
            const double* row = image + (y + dy) * W;
            for (int64_t xx = std::max<int64_t>(x - h, 0), xe = std::min(x + h, W - 1); xx <= xe; ++xx)
              if (row[xx] > v) {
                isMax = false;
                break;
              }
          }
          if (isMax) cand.push_back({v, y * W + x});
        }
        continue;
      }
      std::copy(centre, centre + W, colMax.begin());
      std::fill(rowMax.begin(), rowMax.end(), -std::numeric_limits<double>::infinity());
      int64_t grown = 0;
      for (size_t k = 0; k < stepV.size(); ++k) {
        for (; grown < stepV[k]; ++grown) {
          const int64_t d = grown + 1;
          if (y - d >= 0) {
            const double* row = image + (y - d) * W;
            for (int64_t x = 0; x < W; ++x) colMax[x] = row[x] > colMax[x] ? row[x] : colMax[x];
          }
          if (y + d < H) {
            const double* row = image + (y + d) * W;
            for (int64_t x = 0; x < W; ++x) colMax[x] = row[x] > colMax[x] ? row[x] : colMax[x];
          }
        }
        peaks_detail::slidingMax(colMax.data(), W, stepH[k], slid.data(), pad.data(), pre.data(), suf.data());
        for (int64_t x = 0; x < W; ++x) rowMax[x] = slid[x] > rowMax[x] ? slid[x] : rowMax[x];
      }
      for (int64_t x : survivors)
        if (centre[x] == rowMax[x]) cand.push_back({centre[x], y * W + x});
    }
  }

  std::sort(cand.begin(), cand.end(), [](const Candidate& a, const Candidate& b) {
    return a.value > b.value || (a.value == b.value && a.index < b.index);
  });

  // Greedy spacing with a grid of m×m cells: a kept peak closer than m lies in one of the 3×3 cells around.
  const int64_t m = minDistance;
  if (m <= 1) {
    peaks.reserve(cand.size() * 2);
    for (const Candidate& c : cand) {
      peaks.push_back(static_cast<int32_t>(c.index / W));
      peaks.push_back(static_cast<int32_t>(c.index % W));
    }
    return Status::Ok;
  }
  const int64_t gw = (W + m - 1) / m, gh = (H + m - 1) / m;
  std::vector<int64_t> head(static_cast<size_t>(gw * gh), -1), next;  // per-cell lists of kept peaks
  for (const Candidate& c : cand) {
    const int64_t y = c.index / W, x = c.index % W, cy = y / m, cx = x / m;
    bool keep = true;
    for (int64_t ny = std::max<int64_t>(cy - 1, 0); keep && ny <= std::min(cy + 1, gh - 1); ++ny)
      for (int64_t nx = std::max<int64_t>(cx - 1, 0); keep && nx <= std::min(cx + 1, gw - 1); ++nx)
        for (int64_t p = head[static_cast<size_t>(ny * gw + nx)]; p >= 0; p = next[static_cast<size_t>(p)]) {
          const int64_t py = peaks[2 * static_cast<size_t>(p)], px = peaks[2 * static_cast<size_t>(p) + 1];
          if (std::max(py > y ? py - y : y - py, px > x ? px - x : x - px) < m) {
            keep = false;
            break;
          }
        }
    if (!keep) continue;
    const size_t cell = static_cast<size_t>(cy * gw + cx);
    next.push_back(head[cell]);
    head[cell] = static_cast<int64_t>(next.size() - 1);
    peaks.push_back(static_cast<int32_t>(y));
    peaks.push_back(static_cast<int32_t>(x));
  }
  return Status::Ok;
}

}  // namespace scseg
