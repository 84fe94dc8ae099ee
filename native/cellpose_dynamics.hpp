// Cellpose 3.1.1.3's mask reconstruction from the network's outputs: `dynamics.resize_and_compute_masks` on one
// 2-D image without GPU and without resizing (what `CellposeModel.eval` runs), label for label.
//
// Inputs: dP = the flows, float32 [2, H, W] (dY plane, then dX plane, the network's scale); cellprob = the cell
// probability logits, float32 [H, W]. Steps:
//  1. follow_flows. The pixels with cellprob > cellprobThreshold (compared as numpy does, in float32; NaN is never
//     above) start at their own (y, x) in float32 and take `niter` Euler steps through the field dP·[cell]/5
//     (float32; 0 outside the cell pixels), read by bilinear interpolation exactly as Cellpose's CPU path computes
//     it (numba `map_coordinates`, whose float32/float64 mix is spelled out in followFlows; indices clamped to the
//     image); after each step a coordinate is clamped to [0, L − 1] in float32. (Cellpose's torch `grid_sample`
//     path, with its own normalisation, runs only on GPU or for 3-D; CellposeModel.eval on CPU takes this one.)
//  2. get_masks (`get_masks_torch`). Final positions truncated to int, +20 (rpad): a histogram of
//     (H + 40) × (W + 40) counts. Seeds: histogram cells > 10 that equal the maximum of their 5×5 neighbourhood
//     (cut at the histogram's edge), in raster order, then ordered by count ASCENDING by torch's unstable
//     argsort — libstdc++'s std::sort, reproduced in gnu_introsort.hpp, since equal counts meet in that order.
//     Each seed grows 5 times by a 3×3 dilation inside its 11×11 window, kept where the histogram is > 2;
//     seed k (in that order) writes label k + 1 over its cells, so later seeds win overlaps. Every pixel gets
//     the label of the cell its point ended in. Masks of more than maxSizeFraction × H·W (imagePixels) are removed,
//     then labels are renumbered 1..n in order of first appearance (raster order; fastremap.renumber).
//  3. remove_bad_flow_masks, when flowThreshold > 0 and a mask is left: masks whose flow error (cellpose_flows.hpp;
//     the given dP against the flows of the masks themselves) is > flowThreshold are set to 0 — WITHOUT
//     renumbering, so the labels now have gaps.
//  4. fill_holes_and_remove_small_masks(minSize). With minSize > 0: masks of fewer than minSize pixels removed,
//     renumbered; every mask, in label order, fills its holes (fill_voids: background not 4-connected to its
//     bounding box's border — pixels of other masks in a hole are overwritten) and is relabelled by its rank
//     among the labels present; small masks removed again and renumbered. minSize <= 0: holes filled, nothing
//     removed, nothing renumbered (labels become the ranks of those present). (`compute_masks` alone, with its
//     default min_size −1, skips this step; `resize_and_compute_masks`, which eval calls, always runs it.)
//
// Label-gap quirk (kept by default, for parity): step 4 finds small masks with
// `counts = fastremap.unique(masks, return_counts=True)[1][1:]` and removes the labels
// `np.nonzero(counts < min_size)[0] + 1`: it takes the count of the k-th smallest value present (k from 0, the
// first — normally 0 — dropped) for the count of label k. That holds only for labels 1..n without gaps. After
// step 3's gaps (or a mask swallowed whole by another's hole fill, or an image without background) a small mask
// survives and the mask whose label equals its rank is removed instead — in Cellpose, so here too (seen on 2 of
// 12 real label images fed back as flows). fixLabelGapQuirk = true does what was meant: both removals take exactly
// the masks of fewer than minSize pixels.
//
// Threads: points and masks are independent and split across the budget; each is computed exactly as alone, the
// histogram, seeds and labelling are serial — results never depend on the thread count.
#pragma once
#if defined(__SSE2__) && !defined(__wasm__)
#include <emmintrin.h>
#endif
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "cellpose_flows.hpp"
#include "common.hpp"
#include "gnu_introsort.hpp"
#include "limits.hpp"
#include "parallel.hpp"

namespace scseg {

struct CellposeMaskOptions {
  int64_t niter = 200;              // Euler steps, >= 1
  double cellprobThreshold = 0.0;   // finite; compared in float32
  double flowThreshold = 0.4;       // >= 0; 0 skips the flow-error step
  int64_t minSize = 15;             // <= 0: holes filled, nothing removed
  double maxSizeFraction = 0.4;     // >= 0
  // The pixel count maxSizeFraction applies to: 0 = this image's W·H; a window of a larger image passes the whole
  // image's count, so that a window decides "too big" as the whole-image run does.
  double imagePixels = 0;           // >= 0, finite
  bool fixLabelGapQuirk = false;
  bool clean = true;                // false: stop after step 3 (no hole filling, no size removal)
  bool interp = true;               // false: steps2D (the flow at the truncated position), as eval(interp=False)
};

namespace cellpose_detail {

constexpr int64_t kPad = 20;  // get_masks' rpad

// Step 1: final float32 positions of the cell pixels (raster order), Cellpose's `steps_interp` on CPU, or with
// interp false its `steps2D` (the flow at the truncated position, no interpolation).
// field: interleaved (dY, dX)/5 of the cell pixels, 0 elsewhere.
inline void followFlows(const float* field, int64_t W, int64_t H, int64_t niter, bool interp, float* py, float* px,
                        size_t n, size_t threads) {
  const float maxY = float(H - 1), maxX = float(W - 1);
  // One Euler step from (y, x), as Cellpose's map_coordinates + clamp.
  auto step = [&](float y, float x, float& ny, float& nx) {
    const int64_t yt = int64_t(y), xt = int64_t(x);  // positions are >= 0: truncation is the floor
    if (!interp) {
      // steps2D: min(L − 1, max(0, p + dP[:, int(y), int(x)])), the sum in float32
      const float* f = field + 2 * (yt * W + xt);
      ny = y + f[0];
      nx = x + f[1];
      ny = 0.0f >= ny ? 0.0f : ny;
      ny = maxY <= ny ? maxY : ny;
      nx = 0.0f >= nx ? 0.0f : nx;
      nx = maxX <= nx ? maxX : nx;
      return;
    }
    const float fy = y - float(yt), fx = x - float(xt);  // exact
    const int64_t y0 = std::min(H - 1, std::max<int64_t>(0, yt)), x0 = std::min(W - 1, std::max<int64_t>(0, xt));
    const int64_t y1 = std::min(H - 1, y0 + 1), x1 = std::min(W - 1, x0 + 1);
    const float* a = field + 2 * (y0 * W + x0);
    const float* b = field + 2 * (y0 * W + x1);
    const float* c = field + 2 * (y1 * W + x0);
    const float* d = field + 2 * (y1 * W + x1);
    // numba types `1 - y` as float64 but `I * y` as float32 (both factors float32): the four terms mix precisions.
    const double gy = 1 - double(fy), gx = 1 - double(fx);
#if defined(__SSE2__) && !defined(__wasm__)
    // Both channels at once, the same IEEE operations in the same order as the scalar code below (no FMA: the
    // build sets -ffp-contract=off), hence the same bits. Each corner's (dY, dX) pair is one 8-byte load.
    auto pair = [](const float* v) { return _mm_castpd_ps(_mm_load_sd(reinterpret_cast<const double*>(v))); };
    const __m128d gyd = _mm_set1_pd(gy), gxd = _mm_set1_pd(gx), fxd = _mm_set1_pd(double(fx));
    const __m128 fys = _mm_set1_ps(fy), fxs = _mm_set1_ps(fx);
    const __m128d t1 = _mm_mul_pd(_mm_mul_pd(_mm_cvtps_pd(pair(a)), gyd), gxd);
    const __m128d t2 = _mm_mul_pd(_mm_mul_pd(_mm_cvtps_pd(pair(b)), gyd), fxd);
    const __m128d t3 = _mm_mul_pd(_mm_cvtps_pd(_mm_mul_ps(pair(c), fys)), gxd);
    const __m128d t4 = _mm_cvtps_pd(_mm_mul_ps(_mm_mul_ps(pair(d), fys), fxs));
    const __m128 r = _mm_cvtpd_ps(_mm_add_pd(_mm_add_pd(_mm_add_pd(t1, t2), t3), t4));
    // (y, x) + r, then max(0, ·) and min(L − 1, ·) as the scalar ternaries: −0 becomes +0 either way
    __m128 p = _mm_add_ps(_mm_setr_ps(y, x, 0.0f, 0.0f), r);
    p = _mm_min_ps(_mm_max_ps(p, _mm_setzero_ps()), _mm_setr_ps(maxY, maxX, 0.0f, 0.0f));
    alignas(16) float out[4];
    _mm_store_ps(out, p);
    ny = out[0];
    nx = out[1];
    return;
#endif
    auto interpolate = [&](int ch) {
      const double t1 = double(a[ch]) * gy * gx;
      const double t2 = double(b[ch]) * gy * double(fx);
      const double t3 = double(c[ch] * fy) * gx;
      const double t4 = double(d[ch] * fy * fx);
      return float(t1 + t2 + t3 + t4);
    };
    // np.minimum(L − 1, np.maximum(0, p + step)) in float32.
    ny = y + interpolate(0);
    nx = x + interpolate(1);
    ny = 0.0f >= ny ? 0.0f : ny;
    ny = maxY <= ny ? maxY : ny;
    nx = 0.0f >= nx ? 0.0f : nx;
    nx = maxX <= nx ? maxX : nx;
  };
  // Blocks of points step together (independent points keep the CPU busy while one waits on memory). A step
  // depends on the position only, so a point that comes back to where it was one or two steps before cycles for
  // good — most settle so within ~60 steps — and its position at step niter is known: it leaves the block.
  constexpr size_t kBlock = 256;
  parallelFor(threads, n, kBlock, [&](size_t begin, size_t end) {
    uint32_t active[kBlock];
    float backY[kBlock], backX[kBlock];  // the position one step before
    for (size_t b = begin; b < end; b += kBlock) {
      size_t m = std::min(kBlock, end - b);
      for (size_t i = 0; i < m; ++i) {
        active[i] = uint32_t(i);
        backY[i] = backX[i] = -1.0f;
      }
      float* y = py + b;
      float* x = px + b;
      for (int64_t t = 0; t < niter && m > 0; ++t) {
        size_t keep = 0;
        for (size_t i = 0; i < m; ++i) {
          const uint32_t k = active[i];
          float ny, nx;
          step(y[k], x[k], ny, nx);
          if (ny == backY[k] && nx == backX[k]) {
            // p(t+1) == p(t−1): p alternates between p(t+1) and p(t) until step niter.
            if ((niter - (t + 1)) % 2 == 0) {
              y[k] = ny;
              x[k] = nx;
            }
            continue;
          }
          const bool fixed = ny == y[k] && nx == x[k];
          backY[k] = y[k];
          backX[k] = x[k];
          y[k] = ny;
          x[k] = nx;
          if (!fixed) active[keep++] = k;
        }
        m = keep;
      }
    }
  });
}

// Labels rewritten to their rank among the non-zero values present (1..n, order kept, 0 kept); returns the values
// present, ascending. For label images whose ids exceed their pixel count (any uint32 from a caller), so that the
// per-id tables below stay O(pixels).
inline std::vector<uint32_t> compactLabels(uint32_t* labels, size_t area) {
  std::vector<uint32_t> ids(labels, labels + area);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  if (!ids.empty() && ids.front() == 0) ids.erase(ids.begin());
  for (size_t i = 0; i < area; ++i)
    if (labels[i] != 0) labels[i] = uint32_t(std::lower_bound(ids.begin(), ids.end(), labels[i]) - ids.begin()) + 1;
  return ids;
}

// The largest id, after compacting the labels when it exceeds the pixel count (see compactLabels).
inline uint32_t boundedMaxId(uint32_t* labels, size_t area) {
  uint32_t maxId = 0;
  for (size_t i = 0; i < area; ++i) maxId = std::max(maxId, labels[i]);
  if (uint64_t(maxId) <= uint64_t(area)) return maxId;
  return uint32_t(compactLabels(labels, area).size());
}

// fastremap.renumber(labels, in_place=True): labels 1..n in order of first appearance, 0 kept.
inline void renumberByAppearance(uint32_t* labels, size_t area) {
  const uint32_t maxId = boundedMaxId(labels, area);
  std::vector<uint32_t> to(size_t(maxId) + 1, 0);
  uint32_t next = 0;
  for (size_t i = 0; i < area; ++i) {
    const uint32_t v = labels[i];
    if (v == 0) continue;
    if (to[v] == 0) to[v] = ++next;
    labels[i] = to[v];
  }
}

// Step 2 on the final positions: labels of the pixels (raster order of cell pixels given by `isCell`).
inline void getMasks(const float* py, const float* px, size_t n, const uint8_t* isCell, int64_t W, int64_t H,
                     double maxSizePixels, uint32_t* labels) {
  const int64_t hH = H + 2 * kPad, hW = W + 2 * kPad;
  std::vector<int32_t> hist(size_t(hH) * size_t(hW), 0);
  std::vector<size_t> cellOf(n);
  for (size_t j = 0; j < n; ++j) {
    // p.int() + rpad, clamped to the histogram as get_masks_torch does (a no-op for positions inside the image).
    const int64_t y = std::min(H + kPad - 1, std::max<int64_t>(0, int64_t(py[j]) + kPad));
    const int64_t x = std::min(W + kPad - 1, std::max<int64_t>(0, int64_t(px[j]) + kPad));
    cellOf[j] = size_t(y * hW + x);
    ++hist[cellOf[j]];
  }

  // Seeds: h > 10 and h >= every cell of its 5×5 neighbourhood inside the histogram; raster order.
  struct Seed {
    int32_t count;
    int64_t y, x;
  };
  std::vector<Seed> seeds;
  for (int64_t y = 0; y < hH; ++y) {
    for (int64_t x = 0; x < hW; ++x) {
      const int32_t h = hist[size_t(y * hW + x)];
      if (h <= 10) continue;
      bool peak = true;
      for (int64_t v = std::max<int64_t>(0, y - 2); peak && v <= std::min(hH - 1, y + 2); ++v)
        for (int64_t u = std::max<int64_t>(0, x - 2); u <= std::min(hW - 1, x + 2); ++u)
          if (hist[size_t(v * hW + u)] > h) {
            peak = false;
            break;
          }
      if (peak) seeds.push_back({h, y, x});
    }
  }
  std::fill(labels, labels + size_t(W) * size_t(H), 0u);
  if (seeds.empty()) return;

  // torch's npts.argsort(): libstdc++ std::sort of (count, position) pairs by count.
  using CountAt = std::pair<int32_t, size_t>;
  std::vector<CountAt> order(seeds.size());
  for (size_t k = 0; k < seeds.size(); ++k) order[k] = {seeds[k].count, k};
  gnu_sort::sort(order.data(), order.data() + order.size(),
                 [](const CountAt& a, const CountAt& b) { return a.first < b.first; });

  // Growth in the 11×11 window: rows as 11-bit masks, 5 × (3×3 max-pool, then keep where h > 2).
  constexpr int kR = 5, kSide = 2 * kR + 1;
  constexpr uint32_t kRow = (1u << kSide) - 1;
  std::vector<std::array<uint16_t, kSide>> grown(seeds.size());
  for (size_t k = 0; k < seeds.size(); ++k) {
    const Seed& s = seeds[order[k].second];
    std::array<uint32_t, kSide> allowed{}, cur{};
    for (int r = 0; r < kSide; ++r) {
      const int64_t y = s.y - kR + r;
      if (y < 0 || y >= hH) continue;
      for (int c = 0; c < kSide; ++c) {
        const int64_t x = s.x - kR + c;
        if (x >= 0 && x < hW && hist[size_t(y * hW + x)] > 2) allowed[size_t(r)] |= 1u << c;
      }
    }
    cur[kR] = 1u << kR;
    for (int it = 0; it < 5; ++it) {
      std::array<uint32_t, kSide> next{};
      for (int r = 0; r < kSide; ++r) {
        uint32_t rows = cur[size_t(r)];
        if (r > 0) rows |= cur[size_t(r - 1)];
        if (r + 1 < kSide) rows |= cur[size_t(r + 1)];
        next[size_t(r)] = ((rows | (rows << 1) | (rows >> 1)) & kRow) & allowed[size_t(r)];
      }
      cur = next;
    }
    for (int r = 0; r < kSide; ++r) grown[k][size_t(r)] = uint16_t(cur[size_t(r)]);
  }

  // Seed labels over the histogram (reusing it): later seeds overwrite earlier ones.
  std::fill(hist.begin(), hist.end(), 0);
  for (size_t k = 0; k < seeds.size(); ++k) {
    const Seed& s = seeds[order[k].second];
    for (int r = 0; r < kSide; ++r)
      for (int c = 0; c < kSide; ++c)
        if (grown[k][size_t(r)] >> c & 1u) hist[size_t((s.y - kR + r) * hW + (s.x - kR + c))] = int32_t(k + 1);
  }
  const size_t area = size_t(W) * size_t(H);
  for (size_t i = 0, j = 0; i < area; ++i)
    if (isCell[i]) labels[i] = uint32_t(hist[cellOf[j++]]);

  // Remove masks larger than maxSizePixels (the image's pixels × maxSizeFraction, in float64 as numpy).
  std::vector<size_t> counts(seeds.size() + 1, 0);
  for (size_t i = 0; i < area; ++i) ++counts[labels[i]];
  const double big = maxSizePixels;
  bool anyBig = false;
  for (size_t v = 1; v < counts.size(); ++v) anyBig |= double(counts[v]) > big;
  if (anyBig)
    for (size_t i = 0; i < area; ++i)
      if (labels[i] != 0 && double(counts[labels[i]]) > big) labels[i] = 0;
  renumberByAppearance(labels, area);
}

// The labels fill_holes_and_remove_small_masks removes as "smaller than minSize": with the quirk, the k-th
// smallest value present (0 included) stands for label k; fixed, each label by its own count.
inline void removeSmallMasks(uint32_t* labels, size_t area, int64_t minSize, bool fixQuirk) {
  uint32_t maxId = 0;
  for (size_t i = 0; i < area; ++i) maxId = std::max(maxId, labels[i]);
  // ids beyond the pixel count (a caller's labels): compacted, keeping the values, which the quirk reads
  std::vector<uint32_t> values;
  if (uint64_t(maxId) > uint64_t(area)) {
    values = compactLabels(labels, area);
    maxId = uint32_t(values.size());
  }
  // the (compact) label whose original value is v, or 0 when no label has it
  auto labelOf = [&](size_t v) -> size_t {
    if (values.empty()) return v <= maxId ? v : 0;
    const auto it = std::lower_bound(values.begin(), values.end(), uint32_t(std::min<size_t>(v, UINT32_MAX)));
    return it != values.end() && *it == v ? size_t(it - values.begin()) + 1 : 0;
  };
  std::vector<size_t> counts(size_t(maxId) + 1, 0);
  for (size_t i = 0; i < area; ++i) ++counts[labels[i]];
  std::vector<uint8_t> remove(size_t(maxId) + 1, 0);
  if (fixQuirk) {
    for (size_t v = 1; v <= maxId; ++v) remove[v] = counts[v] > 0 && int64_t(counts[v]) < minSize;
  } else {
    size_t rank = 0;  // position among the values present, 0 = the smallest
    for (size_t v = 0; v <= maxId; ++v) {
      if (counts[v] == 0) continue;
      if (rank > 0 && int64_t(counts[v]) < minSize) remove[labelOf(rank)] = 1;
      ++rank;
    }
    remove[0] = 0;
  }
  for (size_t i = 0; i < area; ++i)
    if (remove[labels[i]]) labels[i] = 0;
  renumberByAppearance(labels, area);
}

// The loop of fill_holes_and_remove_small_masks: for each label present (ascending, boxes taken before the loop),
// the holes of its current pixels within its box become part of it, relabelled to its rank.
inline void fillHoles(uint32_t* labels, int64_t W, int64_t H) {
  const size_t area = size_t(W) * size_t(H);
  const uint32_t maxId = boundedMaxId(labels, area);  // holes relabel to ranks: compacting first changes nothing
  struct Box {
    int64_t y0 = INT64_MAX, y1 = -1, x0 = INT64_MAX, x1 = -1;
  };
  std::vector<Box> boxes(size_t(maxId) + 1);
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) {
      const uint32_t v = labels[size_t(y * W + x)];
      if (v == 0) continue;
      Box& b = boxes[v];
      b.y0 = std::min(b.y0, y);
      b.y1 = std::max(b.y1, y);
      b.x0 = std::min(b.x0, x);
      b.x1 = std::max(b.x1, x);
    }
  std::vector<uint8_t> outside;  // background of the box reached from its border
  std::vector<int64_t> stack;
  uint32_t rank = 0;
  for (uint32_t v = 1; v <= maxId && v != 0; ++v) {
    const Box& b = boxes[v];
    if (b.y1 < 0) continue;
    ++rank;
    const int64_t bh = b.y1 - b.y0 + 1, bw = b.x1 - b.x0 + 1;
    auto at = [&](int64_t r, int64_t c) -> uint32_t& { return labels[size_t((b.y0 + r) * W + b.x0 + c)]; };
    outside.assign(size_t(bh * bw), 0);
    stack.clear();
    auto push = [&](int64_t r, int64_t c) {
      const size_t k = size_t(r * bw + c);
      if (!outside[k] && at(r, c) != v) {
        outside[k] = 1;
        stack.push_back(int64_t(k));
      }
    };
    for (int64_t c = 0; c < bw; ++c) {
      push(0, c);
      push(bh - 1, c);
    }
    for (int64_t r = 0; r < bh; ++r) {
      push(r, 0);
      push(r, bw - 1);
    }
    while (!stack.empty()) {
      const int64_t k = stack.back();
      stack.pop_back();
      const int64_t r = k / bw, c = k % bw;
      if (r > 0) push(r - 1, c);
      if (r + 1 < bh) push(r + 1, c);
      if (c > 0) push(r, c - 1);
      if (c + 1 < bw) push(r, c + 1);
    }
    bool any = false;
    for (int64_t r = 0; r < bh && !any; ++r)
      for (int64_t c = 0; c < bw; ++c)
        if (at(r, c) == v) {
          any = true;
          break;
        }
    if (!any) continue;  // swallowed by an earlier mask's fill: fill_voids of an empty mask is empty
    for (int64_t r = 0; r < bh; ++r)
      for (int64_t c = 0; c < bw; ++c)
        if (!outside[size_t(r * bw + c)]) at(r, c) = rank;
  }
}

// fill_holes_and_remove_small_masks(minSize): small masks out (≤ 0: none), holes filled, small ones out again.
inline void cleanMasks(uint32_t* labels, int64_t W, int64_t H, int64_t minSize, bool fixQuirk) {
  const size_t area = size_t(W) * size_t(H);
  if (minSize > 0) removeSmallMasks(labels, area, minSize, fixQuirk);
  fillHoles(labels, W, H);
  if (minSize > 0) removeSmallMasks(labels, area, minSize, fixQuirk);
}

}  // namespace cellpose_detail

// dP: 2·width·height floats (dY then dX); cellprob, labels: width·height. See the header comment.
inline Status cellposeMasks(const float* dP, const float* cellprob, int64_t width, int64_t height,
                            const CellposeMaskOptions& opt, uint32_t* labels, size_t threads) {
  using namespace cellpose_detail;
  size_t area;
  if (!checkedArea(width, height, area)) return Status::BadShape;
  if (uint64_t(area) > limits::kMaxCellposePixels) return Status::BadShape;
  if (opt.niter < 1 || opt.niter > limits::kMaxCellposeIterations || !std::isfinite(opt.cellprobThreshold) ||
      !(opt.flowThreshold >= 0) || !std::isfinite(opt.flowThreshold) || !(opt.maxSizeFraction >= 0) ||
      !std::isfinite(opt.maxSizeFraction) || !(opt.imagePixels >= 0) || !std::isfinite(opt.imagePixels))
    return Status::BadArgument;
  for (size_t i = 0; i < 2 * area; ++i)
    if (!std::isfinite(dP[i])) return Status::BadValue;

  // Step 1: cell pixels and the field they follow. numpy compares the float32 logits with the threshold in float32
  // (its value-based casting: a Python float within ±3.4e38 counts as float32), beyond that in float64.
  const double t = opt.cellprobThreshold;
  const bool inFloat32 = t > -3.4e38 && t < 3.4e38;
  std::vector<uint8_t> isCell(area);
  size_t n = 0;
  for (size_t i = 0; i < area; ++i)
    n += (isCell[i] = inFloat32 ? cellprob[i] > static_cast<float>(t) : double(cellprob[i]) > t);
  if (n == 0) {
    std::fill(labels, labels + area, 0u);
    return Status::Ok;
  }
  std::vector<float> py(n), px(n);
  {
    std::vector<float> field(2 * area);
    for (size_t i = 0, j = 0; i < area; ++i) {
      field[2 * i] = isCell[i] ? dP[i] / 5.0f : 0.0f;
      field[2 * i + 1] = isCell[i] ? dP[area + i] / 5.0f : 0.0f;
      if (isCell[i]) {
        py[j] = float(int64_t(i) / width);
        px[j] = float(int64_t(i) % width);
        ++j;
      }
    }
    followFlows(field.data(), width, height, opt.niter, opt.interp, py.data(), px.data(), n, threads);
  }

  // Step 2.
  const double imagePixels = opt.imagePixels > 0 ? opt.imagePixels : double(area);
  getMasks(py.data(), px.data(), n, isCell.data(), width, height, imagePixels * opt.maxSizeFraction, labels);
  py = {};
  px = {};
  isCell = {};

  // Step 3: masks with flow errors above the threshold become 0; their labels are not reused.
  if (opt.flowThreshold > 0) {
    const MaskPixels masks(labels, area, threads);
    if (masks.count() > 0) {
      const std::vector<double> errors = cellposeFlowErrors(masks, dP, width, area, threads);
      for (size_t k = 0; k < masks.count(); ++k)
        if (errors[k] > opt.flowThreshold)
          for (size_t j = masks.start[k]; j < masks.start[k + 1]; ++j) labels[masks.pixels[j]] = 0;
    }
  }

  // Step 4 (callers that resize the masks first run it afterwards, as cellposeCleanMasks).
  if (opt.clean) cellpose_detail::cleanMasks(labels, width, height, opt.minSize, opt.fixLabelGapQuirk);
  return Status::Ok;
}

// Step 4 alone, in place: fill_holes_and_remove_small_masks(minSize) on a label image whose labels may have gaps
// (e.g. masks resized to the image's size after the flow-error step), with or without the label-gap quirk.
inline Status cellposeCleanMasks(uint32_t* labels, int64_t width, int64_t height, int64_t minSize, bool fixLabelGapQuirk) {
  size_t area;
  if (!checkedArea(width, height, area)) return Status::BadShape;
  if (uint64_t(area) > limits::kMaxCellposePixels) return Status::BadShape;
  cellpose_detail::cleanMasks(labels, width, height, minSize, fixLabelGapQuirk);
  return Status::Ok;
}

}  // namespace scseg
