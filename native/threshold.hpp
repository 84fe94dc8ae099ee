// Threshold maps of the classical workflows, bit-exact with the original's library calls (scikit-image 0.19,
// scipy 1.10, numpy 1.24).
//
// localMedianThreshold — segment_local_threshold's threshold map:
//   D = I[::step, ::step]
//   S = threshold_local(D, block, method="median", offset) = median_filter(D, block × block square,
//       mode "reflect": half-sample symmetric, d c b a | a b c d, repeated for windows wider than D) − offset,
//       in float32 (offset rounded to float32 first, as numpy does with a Python float and a float32 array)
//   T = resize(S, (H, W)): scipy zoom, order 1, grid_mode (pixel centres: src = (dst + 0.5)·(h/H) − 0.5),
//       mode "mirror" (whole-sample symmetric, d c b | a b c d), evaluated in float64 exactly as scipy's
//       NI_ZoomShift does (weights w0 = 1 − frac, w1 = 1 − w0; sum over taps row-major of (v·wy)·wx), cast to
//       float32, then clipped to [min S, max S].
//   Deviation: scipy 1.10's "reflect" offset table maps a window offset of exactly −2·(2n)·k (k >= 2) before
//   the first pixel of an n-pixel axis to index −1 (reading outside the row), so its medians are wrong once
//   the half-window is >= 4n; we reflect correctly there. Only tiny downsampled images are affected (an axis
//   of <= 5 downsampled pixels with median_block 41).
//
// otsuThreshold — global_otsu: numpy.histogram(image, bins=512) with numpy's own bin arithmetic (float32 for
//   float32 input, float64 otherwise), bin centres e_k + diff/2, then the between-class variance
//   w1[k]·w2[k+1]·(m1[k] − m2[k+1])² in float64 with sequential cumulative sums, and numpy.argmax (first NaN,
//   else first maximum — NaNs occur for a constant image, whose empty bins give 0/0 means).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "common.hpp"
#include "limits.hpp"
#include "median.hpp"
#include "parallel.hpp"
#include "ranks.hpp"

namespace scseg {
namespace detail {

// scipy.ndimage mode "reflect" for an integer index, at any distance from the axis.
inline int64_t reflectIndex(int64_t i, int64_t len) {
  if (i >= 0 && i < len) return i;
  const int64_t period = 2 * len;
  int64_t m = i % period;
  if (m < 0) m += period;
  return m < len ? m : period - 1 - m;
}

// scipy.ndimage map_coordinate, mode "mirror", for a float64 coordinate (same operations, same casts).
inline double mirrorCoordinate(double c, int64_t len) {
  if (c < 0) {
    if (len <= 1) return 0;
    const int64_t sz2 = 2 * len - 2;
    c = double(sz2 * int64_t(-c / double(sz2))) + c;
    return c <= double(1 - len) ? c + double(sz2) : -c;
  }
  if (c > double(len - 1)) {
    if (len <= 1) return 0;
    const int64_t sz2 = 2 * len - 2;
    c -= double(sz2 * int64_t(c / double(sz2)));
    return c >= double(len) ? double(sz2) - c : c;
  }
  return c;
}

// Linear-interpolation taps of scipy zoom (order 1, grid_mode, mode "mirror") along one axis.
struct LinearTap {
  int64_t i0, i1;
  double w0, w1;
};

inline std::vector<LinearTap> zoomTaps(int64_t outLen, int64_t inLen) {
  std::vector<LinearTap> taps(static_cast<size_t>(outLen));
  const double zoom = double(inLen) / double(outLen);
  for (int64_t k = 0; k < outLen; ++k) {
    double cc = double(k);
    cc += 0.5;
    cc *= zoom;
    cc -= 0.5;
    cc = mirrorCoordinate(cc, inLen);
    const double fl = std::floor(cc);
    const int64_t start = int64_t(fl);
    LinearTap& t = taps[size_t(k)];
    t.i0 = start;
    t.i1 = start + 1;
    if (start < 0 || start + 1 >= inLen) {
      t.i0 = int64_t(mirrorCoordinate(double(start), inLen));
      t.i1 = int64_t(mirrorCoordinate(double(start + 1), inLen));
    }
    t.w0 = 1.0 - (cc - fl);
    t.w1 = 1.0 - t.w0;
  }
  return taps;
}

}  // namespace detail

// Threshold map of segment_local_threshold (see the file comment). `offset` is threshold_local's offset:
// the map is median − offset (the original passes offset = −thr).
inline Status localMedianThreshold(const float* in, int64_t width, int64_t height, int64_t blockSize, int64_t step,
                                   double offset, float* out, size_t threads) {
  size_t n;
  if (!checkedArea(width, height, n)) return Status::BadShape;
  if (blockSize < 1 || blockSize > limits::kMaxMedianBlock || blockSize % 2 == 0 || step < 1 || !std::isfinite(offset))
    return Status::BadArgument;
  // ceil(len / step) without forming len + step − 1, which overflows for a step near INT64_MAX.
  const int64_t hs = (height - 1) / step + 1, ws = (width - 1) / step + 1;
  std::vector<float> small(size_t(hs) * size_t(ws));
  for (int64_t y = 0; y < hs; ++y)
    for (int64_t x = 0; x < ws; ++x)
      small[size_t(y * ws + x)] = in[size_t(y * step) * size_t(width) + size_t(x * step)];

  Ranked<float> ranked;
  if (Status s = rankValues(small.data(), small.size(), ranked); s != Status::Ok) return s;
  // A square is the footprint whose rows all have half-width h (median.hpp's sliding rank histogram).
  const std::vector<int> square(static_cast<size_t>(blockSize), static_cast<int>(blockSize / 2));
  detail::medianOfRanks(ranked, hs, ws, square, static_cast<uint32_t>(blockSize * blockSize / 2), detail::reflectIndex,
                        small.data(), threads);

  const float off = static_cast<float>(offset);
  float lo = small[0] - off, hi = lo;
  for (float& v : small) {
    v = v - off;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }

  const std::vector<detail::LinearTap> ty = detail::zoomTaps(height, hs), tx = detail::zoomTaps(width, ws);
  parallelFor(threads, size_t(height), rowsPerChunk(width), [&](size_t yBegin, size_t yEnd) {
    std::vector<double> a(static_cast<size_t>(ws)), b(static_cast<size_t>(ws));
    for (size_t y = yBegin; y < yEnd; ++y) {
      const detail::LinearTap& t = ty[y];
      const float* r0 = small.data() + size_t(t.i0) * size_t(ws);
      const float* r1 = small.data() + size_t(t.i1) * size_t(ws);
      for (int64_t x = 0; x < ws; ++x) {
        a[size_t(x)] = double(r0[x]) * t.w0;
        b[size_t(x)] = double(r1[x]) * t.w1;
      }
      float* o = out + y * size_t(width);
      for (int64_t x = 0; x < width; ++x) {
        const detail::LinearTap& u = tx[size_t(x)];
        double v = 0.0;
        v += a[size_t(u.i0)] * u.w0;
        v += a[size_t(u.i1)] * u.w1;
        v += b[size_t(u.i0)] * u.w0;
        v += b[size_t(u.i1)] * u.w1;
        o[x] = std::min(std::max(static_cast<float>(v), lo), hi);
      }
    }
  });
  return Status::Ok;
}

// global_otsu of the original (see the file comment); uint8, uint16 or float32 input.
template <typename T>
Status otsuThreshold(const T* in, int64_t width, int64_t height, double& threshold) {
  // numpy keeps float32 data in float32 for the bin arithmetic and converts everything else to float64.
  using C = std::conditional_t<std::is_same_v<T, float>, float, double>;
  constexpr int kBins = 512;
  size_t n;
  if (!checkedArea(width, height, n)) return Status::BadShape;
  T mn = in[0], mx = in[0];
  bool nan = false;
  for (size_t i = 0; i < n; ++i) {
    const T v = in[i];
    mn = v < mn ? v : mn;
    mx = v > mx ? v : mx;
    if constexpr (std::is_floating_point_v<T>) nan |= (v != v);
  }
  if constexpr (std::is_floating_point_v<T>) {
    if (nan || !std::isfinite(mn) || !std::isfinite(mx)) return Status::BadValue;  // numpy: range not finite
  }
  // Outer edges as numpy holds them, and its scaling factor bins / (last − first).
  double first, last, norm;
  if (mn == mx) {
    first = double(mn) - 0.5;
    last = double(mx) + 0.5;
    norm = double(kBins) / (last - first);
  } else {
    first = double(mn);
    last = double(mx);
    if constexpr (std::is_same_v<T, float>)
      norm = double(kBins) / double(mx - mn);
    else
      norm = double(kBins) / double(static_cast<T>(mx - mn));
  }
  // numpy.linspace(first, last, 513) in float64, cast to the bin type.
  std::vector<C> edge(kBins + 1);
  const double stepSize = (last - first) / double(kBins);
  for (int k = 0; k < kBins; ++k) edge[size_t(k)] = static_cast<C>(double(k) * stepSize + first);
  edge[kBins] = static_cast<C>(last);

  std::vector<int64_t> count(kBins, 0);
  const C firstC = static_cast<C>(first), normC = static_cast<C>(norm);
  for (size_t i = 0; i < n; ++i) {
    const C a = static_cast<C>(in[i]);
    const C f = (a - firstC) * normC;
    // The bin arithmetic overflows when the range is too wide for C (float32 values spanning more than 3.4e38) or
    // too narrow (a float32 range below ~1.5e-36: norm = inf; a constant image beyond ±2^53: v ± 0.5 rounds to v in
    // float64, norm = 512 / 0): numpy then indexes its edges with a garbage index and raises IndexError; so does
    // this, as BadValue, instead of casting inf/NaN to an integer.
    if (!(f >= C(0) && f < C(kBins + 1))) return Status::BadValue;
    int64_t idx = static_cast<int64_t>(f);
    if (idx == kBins) --idx;
    if (a < edge[size_t(idx)]) --idx;
    if (idx != kBins - 1 && a >= edge[size_t(idx) + 1]) ++idx;
    ++count[size_t(idx)];
  }

  std::vector<C> centre(kBins);
  for (size_t k = 0; k < kBins; ++k) centre[k] = edge[k] + static_cast<C>(edge[k + 1] - edge[k]) / C(2);

  std::vector<int64_t> w1(kBins), w2(kBins);
  std::vector<double> m1(kBins), m2(kBins);
  int64_t cw = 0;
  double cs = 0.0;
  for (int k = 0; k < kBins; ++k) {
    cw += count[size_t(k)];
    cs += double(count[size_t(k)]) * double(centre[size_t(k)]);
    w1[size_t(k)] = cw;
    m1[size_t(k)] = cs / double(cw);
  }
  cw = 0;
  cs = 0.0;
  for (int k = kBins - 1; k >= 0; --k) {
    cw += count[size_t(k)];
    cs += double(count[size_t(k)]) * double(centre[size_t(k)]);
    w2[size_t(k)] = cw;
    m2[size_t(k)] = cs / double(cw);
  }
  int best = 0;
  double bestVar = 0.0;
  for (int k = 0; k + 1 < kBins; ++k) {
    const double d = m1[size_t(k)] - m2[size_t(k) + 1];
    const int64_t ww = int64_t(uint64_t(w1[size_t(k)]) * uint64_t(w2[size_t(k) + 1]));
    const double v = double(ww) * (d * d);
    if (k == 0 || !(bestVar >= v)) {  // numpy.argmax: the first NaN wins, else the first maximum
      best = k;
      bestVar = v;
      if (std::isnan(v)) break;
    }
  }
  threshold = double(centre[size_t(best)]);
  return Status::Ok;
}

}  // namespace scseg
