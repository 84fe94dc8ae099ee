// Percentile normalisation as scPortrait's percentile_normalization on one channel (numpy 1.x semantics):
//   l = quantile(x, lower), u = quantile(x, upper)   numpy "linear" method, interpolated in float64
//   y = clip((x - float32(l)) / float32(u - l), 0, 1)   in float32; the division is skipped when u == l
// Integer input is promoted to float32 first, exactly as the original does.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "common.hpp"
#include "parallel.hpp"
#include "ranks.hpp"

namespace scseg {
namespace detail {

// Order statistics of the input, as float32. Integers: a histogram of all levels. float32: a radix select on the
// order-preserving 32-bit key (ranks.hpp's floatKey): a histogram of the high 16 bits finds the bucket of each
// wanted rank, one more pass histograms the low 16 bits inside those buckets and gives the keys themselves — two
// streaming passes instead of nth_element's partitioning (−0 and +0 share a key and come back as +0).
template <typename T>
class OrderStatistics {
 public:
  OrderStatistics(const T* in, size_t n, size_t threads) : in_(in), n_(n), threads_(threads) {
    if constexpr (std::is_integral_v<T>) {
      high_.assign(size_t(1) << (8 * sizeof(T)), 0);
      for (size_t i = 0; i < n; ++i) ++high_[in[i]];
    } else {
      high_ = histogram({});
    }
  }

  // The values of 0-based ranks ks (each < n).
  std::vector<float> select(const std::vector<size_t>& ks) const {
    std::vector<float> out;
    if constexpr (std::is_integral_v<T>) {
      for (const size_t k : ks) out.push_back(static_cast<float>(binOf(high_, k)));
    } else {
      std::vector<uint32_t> buckets;
      for (const size_t k : ks) buckets.push_back(uint32_t(binOf(high_, k)));
      std::sort(buckets.begin(), buckets.end());
      buckets.erase(std::unique(buckets.begin(), buckets.end()), buckets.end());
      const std::vector<size_t> low = histogram(buckets);
      for (const size_t k : ks) {
        const uint32_t b = uint32_t(binOf(high_, k));
        const size_t slot = size_t(std::lower_bound(buckets.begin(), buckets.end(), b) - buckets.begin());
        size_t below = 0;
        for (size_t v = 0; v < b; ++v) below += high_[v];
        const std::vector<size_t> counts(low.begin() + std::ptrdiff_t(slot * kBins),
                                         low.begin() + std::ptrdiff_t((slot + 1) * kBins));
        const uint32_t key = (b << 16) | uint32_t(binOf(counts, k - below));
        const uint32_t bits = (key & 0x80000000u) ? (key & 0x7FFFFFFFu) : ~key;
        float v;
        std::memcpy(&v, &bits, sizeof v);
        out.push_back(v);
      }
    }
    return out;
  }

 private:
  static constexpr size_t kBins = 65536;

  // Index of the bin holding rank k (counts in bin order).
  static size_t binOf(const std::vector<size_t>& counts, size_t k) {
    size_t seen = 0;
    for (size_t v = 0; v < counts.size(); ++v) {
      seen += counts[v];
      if (seen > k) return v;
    }
    return counts.size() - 1;
  }

  // No buckets: counts of the high 16 key bits. Else kBins counts of the low 16 bits per bucket (ascending high
  // bits), of the pixels in that bucket. The pixels are split across threads, one table each, summed.
  std::vector<size_t> histogram(const std::vector<uint32_t>& buckets) const {
    const size_t tables = std::max<size_t>(1, buckets.size());
    const size_t parts = std::max<size_t>(1, std::min(usableThreads(threads_), n_ / (size_t(1) << 18)));
    std::vector<uint8_t> slotOf;
    if (!buckets.empty()) {
      slotOf.assign(kBins, 0xFF);
      for (size_t i = 0; i < buckets.size(); ++i) slotOf[buckets[i]] = uint8_t(i);
    }
    std::vector<std::vector<uint32_t>> partial(parts, std::vector<uint32_t>(tables * kBins, 0));
    const float* in = reinterpret_cast<const float*>(in_);
    parallelFor(threads_, parts, 1, [&](size_t p0, size_t p1) {
      for (size_t p = p0; p < p1; ++p) {
        uint32_t* h = partial[p].data();
        const size_t begin = n_ / parts * p + std::min(p, n_ % parts);
        const size_t end = n_ / parts * (p + 1) + std::min(p + 1, n_ % parts);
        if (buckets.empty()) {
          for (size_t i = begin; i < end; ++i) ++h[floatKey(in[i]) >> 16];
        } else {
          for (size_t i = begin; i < end; ++i) {
            const uint32_t key = floatKey(in[i]);
            const uint8_t slot = slotOf[key >> 16];
            if (slot != 0xFF) ++h[size_t(slot) * kBins + (key & 0xFFFFu)];
          }
        }
      }
    });
    std::vector<size_t> counts(tables * kBins, 0);
    for (const std::vector<uint32_t>& h : partial)
      for (size_t v = 0; v < counts.size(); ++v) counts[v] += h[v];
    return counts;
  }

  const T* in_;
  size_t n_;
  size_t threads_;
  std::vector<size_t> high_;  // integers: one bin per level; float32: high 16 key bits
};

// The two ranks numpy's "linear" quantile reads, and how to interpolate between them (numpy 1.24's evaluation
// order and precision).
struct LinearQuantile {
  size_t lo, hi;
  double gamma;
  LinearQuantile(size_t n, double q) {
    const double virtualIndex = double(n - 1) * q;  // numpy's "linear" method: (n - 1) * q
    double prev = std::floor(virtualIndex);
    if (virtualIndex >= double(n) - 1.0) {
      lo = hi = n - 1;
      prev = -1.0;  // numpy computes gamma against index -1 here; both ends are the last element anyway
    } else if (virtualIndex < 0.0) {
      lo = hi = 0;
      prev = 0.0;
    } else {
      lo = size_t(prev);
      hi = lo + 1;
    }
    gamma = virtualIndex - prev;
  }
  double value(float a, float b) const {
    const float diff = b - a;
    if (gamma >= 0.5) return double(b) - double(diff) * (1.0 - gamma);
    return double(a) + double(diff) * gamma;
  }
};

// numpy.quantile(x, q[i]) for each i.
template <typename T>
std::vector<double> quantilesLinear(const T* in, size_t n, const double* q, size_t count, size_t threads) {
  OrderStatistics<T> stats(in, n, threads);
  std::vector<LinearQuantile> plans;
  std::vector<size_t> ranks;
  for (size_t i = 0; i < count; ++i) {
    plans.emplace_back(n, q[i]);
    ranks.push_back(plans.back().lo);
    ranks.push_back(plans.back().hi);
  }
  const std::vector<float> v = stats.select(ranks);
  std::vector<double> out;
  for (size_t i = 0; i < count; ++i) out.push_back(plans[i].value(v[2 * i], v[2 * i + 1]));
  return out;
}

}  // namespace detail

// numpy.quantile(x, q) for each q (numpy 1.x "linear" method; integer input promoted to float32 first).
template <typename T>
Status quantiles(const T* in, int64_t width, int64_t height, const double* q, size_t count, double* out,
                 size_t threads) {
  size_t n;
  if (!checkedArea(width, height, n)) return Status::BadShape;
  for (size_t i = 0; i < count; ++i)
    if (!(q[i] >= 0.0 && q[i] <= 1.0)) return Status::BadArgument;
  if constexpr (!std::is_integral_v<T>) {
    for (size_t i = 0; i < n; ++i)
      if (std::isnan(in[i])) return Status::BadValue;
  }
  const std::vector<double> v = detail::quantilesLinear(in, n, q, count, threads);
  for (size_t i = 0; i < count; ++i) out[i] = v[i];
  return Status::Ok;
}

// _normalize_image with given quantiles l, u (float64), in numpy 1.x float32 arithmetic:
// clip((x − f32(l)) / f32(u − l), 0, 1), the division skipped when u == l. Rows split across threads.
template <typename T>
void scaleToUnit(const T* in, size_t n, double l, double u, float* out, size_t threads) {
  const double range = u - l;
  const float l32 = static_cast<float>(l), range32 = static_cast<float>(range);
  parallelFor(threads, n, size_t(1) << 17, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      float y = static_cast<float>(in[i]) - l32;
      if (range != 0.0) y = y / range32;
      out[i] = y < 0.0f ? 0.0f : y > 1.0f ? 1.0f : y;
    }
  });
}

template <typename T>
Status percentileNormalize(const T* in, int64_t width, int64_t height, double lower, double upper, float* out,
                           size_t threads) {
  size_t n;
  if (!checkedArea(width, height, n)) return Status::BadShape;
  if (!(lower >= 0.0 && lower <= 1.0 && upper >= 0.0 && upper <= 1.0)) return Status::BadArgument;
  if constexpr (!std::is_integral_v<T>) {
    for (size_t i = 0; i < n; ++i)
      if (std::isnan(in[i])) return Status::BadValue;
  }
  const double bounds[2] = {lower, upper};
  const std::vector<double> lu = detail::quantilesLinear(in, n, bounds, 2, threads);
  const double l = lu[0], u = lu[1];
  scaleToUnit(in, n, l, u, out, threads);
  return Status::Ok;
}

// scPortrait WGA's fast-marching speed map (SPEC §4.6) from the normalised, median-filtered cytosol channel and the
// nucleus mask, in numpy 1.x arithmetic: the quantile scaling in float32 (array op float64 scalar stays float32),
// then float64 once the integer mask is subtracted:
//   p = clip((x − f32(q02)) / f32(q98), 0, 1) − nucleus;  p = 1 − clip(p, 0, 1)
//   speed = (clip(p, minClip, maxClip) − minClip) / (maxClip − minClip) · 0.9 + 0.1
template <typename T>
Status wgaSpeedMap(const T* in, const uint8_t* nuclei, int64_t width, int64_t height, double q02, double q98,
                   double minClip, double maxClip, double* out, size_t threads) {
  size_t n;
  if (!checkedArea(width, height, n)) return Status::BadShape;
  if (!std::isfinite(minClip) || !std::isfinite(maxClip) || !(maxClip > minClip)) return Status::BadArgument;
  const float lo = static_cast<float>(q02), scale = static_cast<float>(q98);
  const double span = maxClip - minClip;
  parallelFor(threads, n, size_t(1) << 17, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      float p32 = (static_cast<float>(in[i]) - lo) / scale;
      p32 = p32 < 0.0f ? 0.0f : p32 > 1.0f ? 1.0f : p32;
      double p = double(p32) - double(nuclei[i] != 0);
      p = 1 - (p < 0 ? 0 : p > 1 ? 1 : p);
      p = ((p < minClip ? minClip : p > maxClip ? maxClip : p) - minClip) / span;
      out[i] = p * 0.9 + 0.1;
    }
  });
  return Status::Ok;
}

}  // namespace scseg
