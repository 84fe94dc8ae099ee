// Cellpose 3.1.1.3's flows from masks (`dynamics.masks_to_flows` on a 2-D image without GPU, i.e.
// `masks_to_flows_cpu`), and the per-mask flow error `metrics.flow_error` computes from them — bit for bit.
//
// For every mask (label ≠ 0; ids may be sparse), inside its bounding box padded by one pixel (ly × lx):
//  1. Centre: the mask pixel nearest (squared distance in float64) to the mean of the mask's pixel coordinates
//     (box coordinates + 1, as Cellpose takes them), the first in raster order on ties.
//  2. Heat diffusion, n_iter = 2·(ly + lx) Jacobi steps: add 1 at the centre, then every mask pixel becomes
//     1/9 × the sum of its 3×3 neighbourhood (pixels outside the mask hold 0), summed in Cellpose's order
//     (centre, up, down, left, right, up-left, up-right, down-left, down-right) in float64.
//  3. Flow: dy = T[y+1] − T[y−1], dx = T[x+1] − T[x−1], divided by 1e-60 + sqrt(dy² + dx²).
// The flow error of a mask is mean((μy − dPy/5)²) + mean((μx − dPx/5)²) over its pixels, with dP/5 computed in
// float32 (dP is the network's float32 flow) and the sums in float64 in raster order (scipy.ndimage.mean →
// np.bincount), as `metrics.flow_error` computes it.
//
// Masks are independent: they are split across threads by their cost, and each is computed exactly as alone, so
// results never depend on the thread count.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common.hpp"
#include "labels.hpp"
#include "limits.hpp"
#include "parallel.hpp"

namespace scseg {

namespace cellpose_detail {

// The pixels of every mask of a label image: ids ascending, each mask's pixels in raster order.
struct MaskPixels {
  std::vector<uint32_t> ids;
  std::vector<size_t> start;  // mask k holds pixels[start[k] .. start[k + 1])
  std::vector<size_t> pixels;

  MaskPixels(const uint32_t* labels, size_t area, size_t threads) {
    const LabelIndex index(labels, area, false, threads);
    ids = index.ids();
    start.assign(ids.size() + 1, 0);
    std::vector<uint32_t> slot(area);  // dense index of each pixel's id (unused for background)
    for (size_t i = 0; i < area; ++i) {
      if (labels[i] == 0) continue;
      slot[i] = index.find(labels[i]);
      ++start[slot[i] + 1];
    }
    for (size_t k = 0; k < ids.size(); ++k) start[k + 1] += start[k];
    pixels.resize(start.back());
    std::vector<size_t> next(start.begin(), start.end() - 1);
    for (size_t i = 0; i < area; ++i)
      if (labels[i] != 0) pixels[next[slot[i]]++] = i;
  }

  size_t count() const { return ids.size(); }
};

// Scratch of one thread: the diffusion's two buffers and the mask of the padded box.
struct DiffusionScratch {
  std::vector<double> t0, t1;
  std::vector<uint8_t> inside;
  std::vector<size_t> at;
};

// Cellpose's flow (μy, μx) at every pixel of one mask (pixels[0..n), raster order, in an image of width W),
// written to muY/muX in the same order.
inline void maskFlow(const size_t* pixels, size_t n, int64_t W, DiffusionScratch& s, double* muY, double* muX) {
  int64_t y0 = INT64_MAX, y1 = -1, x0 = INT64_MAX, x1 = -1;
  for (size_t k = 0; k < n; ++k) {
    const int64_t y = int64_t(pixels[k]) / W, x = int64_t(pixels[k]) % W;
    y0 = std::min(y0, y);
    y1 = std::max(y1, y);
    x0 = std::min(x0, x);
    x1 = std::max(x1, x);
  }
  const int64_t ly = y1 - y0 + 3, lx = x1 - x0 + 3;
  const size_t boxArea = size_t(ly) * size_t(lx);
  // Box coordinates + 1 (the padding), as Cellpose's `np.nonzero(...) + 1`.
  auto localY = [&](size_t k) { return int64_t(pixels[k]) / W - y0 + 1; };
  auto localX = [&](size_t k) { return int64_t(pixels[k]) % W - x0 + 1; };

  // Centre: nearest pixel to the mean (integer sums are exact in float64, as numpy's mean of int32 is here).
  int64_t sumY = 0, sumX = 0;
  for (size_t k = 0; k < n; ++k) {
    sumY += localY(k);
    sumX += localX(k);
  }
  const double ymed = double(sumY) / double(n), xmed = double(sumX) / double(n);
  size_t best = 0;
  double bestD = 0;
  for (size_t k = 0; k < n; ++k) {
    const double dx = double(localX(k)) - xmed, dy = double(localY(k)) - ymed;
    const double d = dx * dx + dy * dy;
    if (k == 0 || d < bestD) {
      bestD = d;
      best = k;
    }
  }
  const int64_t cy = localY(best), cx = localX(best);

  s.t0.assign(boxArea, 0.0);
  s.t1.assign(boxArea, 0.0);

  // Jacobi steps. A mask that fills most of its box is stepped over the box's rows (contiguous, vectorised): step
  // t (from 0) reads values within Chebyshev distance t of the centre and writes within t + 1, so it computes that
  // square only, outside which both buffers still hold 0. A sparse mask (a few pixels spread over a large box) is
  // stepped over its own pixels. Both compute every mask pixel's sum in the same order, hence the same values.
  const int64_t nIter = 2 * (ly + lx);
  constexpr double kNinth = 1. / 9.;
  double* cur = s.t0.data();
  double* nxt = s.t1.data();
  const size_t centre = size_t(cy * lx + cx);
  if (boxArea <= 3 * n) {
    s.inside.assign(boxArea, 0);
    for (size_t k = 0; k < n; ++k) s.inside[size_t(localY(k) * lx + localX(k))] = 1;
    const uint8_t* in = s.inside.data();
    for (int64_t t = 0; t < nIter; ++t) {
      cur[centre] += 1;
      const int64_t r0 = std::max<int64_t>(1, cy - t - 1), r1 = std::min<int64_t>(ly - 2, cy + t + 1);
      const int64_t c0 = std::max<int64_t>(1, cx - t - 1), c1 = std::min<int64_t>(lx - 2, cx + t + 1);
      for (int64_t r = r0; r <= r1; ++r) {
        const double* up = cur + (r - 1) * lx;
        const double* mid = cur + r * lx;
        const double* down = cur + (r + 1) * lx;
        const uint8_t* m = in + r * lx;
        double* out = nxt + r * lx;
        for (int64_t c = c0; c <= c1; ++c) {
          const double sum = mid[c] + up[c] + down[c] + mid[c - 1] + mid[c + 1] + up[c - 1] + up[c + 1] +
                             down[c - 1] + down[c + 1];
          out[c] = m[c] ? kNinth * sum : 0.0;
        }
      }
      std::swap(cur, nxt);
    }
  } else {
    std::vector<size_t>& at = s.at;
    at.resize(n);
    for (size_t k = 0; k < n; ++k) at[k] = size_t(localY(k) * lx + localX(k));
    const size_t L = size_t(lx);
    for (int64_t t = 0; t < nIter; ++t) {
      cur[centre] += 1;
      for (size_t k = 0; k < n; ++k) {
        const size_t b = at[k];
        const double sum = cur[b] + cur[b - L] + cur[b + L] + cur[b - 1] + cur[b + 1] + cur[b - L - 1] +
                           cur[b - L + 1] + cur[b + L - 1] + cur[b + L + 1];
        nxt[b] = kNinth * sum;
      }
      std::swap(cur, nxt);
    }
  }

  for (size_t k = 0; k < n; ++k) {
    const int64_t y = localY(k), x = localX(k);
    const double dy = cur[(y + 1) * lx + x] - cur[(y - 1) * lx + x];
    const double dx = cur[y * lx + x + 1] - cur[y * lx + x - 1];
    const double norm = 1e-60 + std::sqrt(dy * dy + dx * dx);
    muY[k] = dy / norm;
    muX[k] = dx / norm;
  }
}

// Calls fn(begin, end, scratch) over contiguous ranges of masks of about equal diffusion cost (box area × steps),
// one range per thread of the budget.
template <typename F>
void forMasksBalanced(const MaskPixels& masks, int64_t W, size_t threads, F&& fn) {
  const size_t n = masks.count();
  if (n == 0) return;
  std::vector<double> cost(n + 1, 0.0);
  for (size_t k = 0; k < n; ++k) {
    // Steps × pixels stepped (see maskFlow).
    const size_t a = masks.start[k], b = masks.start[k + 1];
    int64_t x0 = INT64_MAX, x1 = -1;
    for (size_t j = a; j < b; ++j) {
      x0 = std::min(x0, int64_t(masks.pixels[j]) % W);
      x1 = std::max(x1, int64_t(masks.pixels[j]) % W);
    }
    const double ly = double(int64_t(masks.pixels[b - 1]) / W - int64_t(masks.pixels[a]) / W + 3);
    const double lx = double(x1 - x0 + 3);
    cost[k + 1] = cost[k] + 2 * (ly + lx) * std::min(ly * lx, 3.0 * double(b - a));
  }
  const size_t chunks = std::min(chunkCount(threads, masks.pixels.size(), size_t(1) << 14), n);
  std::vector<size_t> bound(chunks + 1, n);
  bound[0] = 0;
  for (size_t c = 1; c < chunks; ++c)
    bound[c] = size_t(std::lower_bound(cost.begin(), cost.end(), cost[n] * double(c) / double(chunks)) - cost.begin());
  for (size_t c = 1; c <= chunks; ++c) bound[c] = std::max(bound[c], bound[c - 1]);
  parallelChunks(chunks, chunks, [&](size_t c, size_t, size_t) {
    DiffusionScratch scratch;
    fn(bound[c], bound[c + 1], scratch);
  });
}

}  // namespace cellpose_detail

// Cellpose's `masks_to_flows` of a label image (0 = background): flows[0 .. area) = μy, flows[area .. 2·area) = μx,
// each rounded to float32 (Cellpose returns float64); 0 outside the masks.
inline Status cellposeMasksToFlows(const uint32_t* labels, int64_t width, int64_t height, float* flows,
                                   size_t threads) {
  size_t area;
  if (!checkedArea(width, height, area) || uint64_t(area) > limits::kMaxCellposePixels) return Status::BadShape;
  using namespace cellpose_detail;
  const MaskPixels masks(labels, area, threads);
  std::fill(flows, flows + 2 * area, 0.0f);
  forMasksBalanced(masks, width, threads, [&](size_t begin, size_t end, DiffusionScratch& s) {
    std::vector<double> muY, muX;
    for (size_t k = begin; k < end; ++k) {
      const size_t* px = masks.pixels.data() + masks.start[k];
      const size_t n = masks.start[k + 1] - masks.start[k];
      muY.resize(n);
      muX.resize(n);
      maskFlow(px, n, width, s, muY.data(), muX.data());
      for (size_t j = 0; j < n; ++j) {
        flows[px[j]] = static_cast<float>(muY[j]);
        flows[area + px[j]] = static_cast<float>(muX[j]);
      }
    }
  });
  return Status::Ok;
}

// Cellpose's `metrics.flow_error(labels, dP)`: per mask of `masks` (ids ascending), the flow error against the
// float32 flows dP (dP[0 .. area) = dY, dP[area .. 2·area) = dX, the network's scale, i.e. 5× the unit flows).
inline std::vector<double> cellposeFlowErrors(const cellpose_detail::MaskPixels& masks, const float* dP, int64_t width,
                                              size_t area, size_t threads) {
  using namespace cellpose_detail;
  std::vector<double> errors(masks.count(), 0.0);
  forMasksBalanced(masks, width, threads, [&](size_t begin, size_t end, DiffusionScratch& s) {
    std::vector<double> muY, muX;
    for (size_t k = begin; k < end; ++k) {
      const size_t* px = masks.pixels.data() + masks.start[k];
      const size_t n = masks.start[k + 1] - masks.start[k];
      muY.resize(n);
      muX.resize(n);
      maskFlow(px, n, width, s, muY.data(), muX.data());
      double sumY = 0, sumX = 0;
      for (size_t j = 0; j < n; ++j) {
        const double ey = muY[j] - double(dP[px[j]] / 5.0f);
        const double ex = muX[j] - double(dP[area + px[j]] / 5.0f);
        sumY += ey * ey;
        sumX += ex * ex;
      }
      errors[k] = 0.0 + sumY / double(n) + sumX / double(n);
    }
  });
  return errors;
}

}  // namespace scseg
