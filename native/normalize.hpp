// Percentile normalisation as scPortrait's percentile_normalization on one channel (numpy 1.x semantics):
//   l = quantile(x, lower), u = quantile(x, upper)   numpy "linear" method, interpolated in float64
//   y = clip((x - float32(l)) / float32(u - l), 0, 1)   in float32; the division is skipped when u == l
// Integer input is promoted to float32 first, exactly as the original does.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "common.hpp"

namespace scseg {
namespace detail {

// k-th smallest value (0-based) of the input, as float32.
template <typename T>
class OrderStatistics {
 public:
  OrderStatistics(const T* in, size_t n) : in_(in), n_(n) {
    if constexpr (std::is_integral_v<T>) {
      hist_.assign(size_t(1) << (8 * sizeof(T)), 0);
      for (size_t i = 0; i < n; ++i) ++hist_[in[i]];
    } else {
      sorted_.assign(in, in + n);
    }
  }
  float kth(size_t k) {
    if constexpr (std::is_integral_v<T>) {
      size_t seen = 0;
      for (size_t v = 0; v < hist_.size(); ++v) {
        seen += hist_[v];
        if (seen > k) return static_cast<float>(v);
      }
      return static_cast<float>(hist_.size() - 1);
    } else {
      std::nth_element(sorted_.begin(), sorted_.begin() + std::ptrdiff_t(k), sorted_.end());
      return sorted_[k];
    }
  }

 private:
  const T* in_;
  size_t n_;
  std::vector<size_t> hist_;
  std::vector<float> sorted_;
};

// numpy.quantile(x, q) with method "linear", reproducing numpy 1.24's evaluation order and precision.
template <typename T>
double quantileLinear(OrderStatistics<T>& stats, size_t n, double q) {
  const double virtualIndex = double(n - 1) * q;  // numpy's "linear" method: (n - 1) * q
  double prev = std::floor(virtualIndex);
  size_t lo, hi;
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
  const double gamma = virtualIndex - prev;
  const float a = stats.kth(lo), b = stats.kth(hi);
  const float diff = b - a;
  if (gamma >= 0.5) return double(b) - double(diff) * (1.0 - gamma);
  return double(a) + double(diff) * gamma;
}

}  // namespace detail

// numpy.quantile(x, q) for each q (numpy 1.x "linear" method; integer input promoted to float32 first).
template <typename T>
Status quantiles(const T* in, int64_t width, int64_t height, const double* q, size_t count, double* out) {
  size_t n;
  if (!checkedArea(width, height, n)) return Status::BadShape;
  for (size_t i = 0; i < count; ++i)
    if (!(q[i] >= 0.0 && q[i] <= 1.0)) return Status::BadArgument;
  if constexpr (!std::is_integral_v<T>) {
    for (size_t i = 0; i < n; ++i)
      if (std::isnan(in[i])) return Status::BadValue;
  }
  detail::OrderStatistics<T> stats(in, n);
  for (size_t i = 0; i < count; ++i) out[i] = detail::quantileLinear(stats, n, q[i]);
  return Status::Ok;
}

template <typename T>
Status percentileNormalize(const T* in, int64_t width, int64_t height, double lower, double upper, float* out) {
  size_t n;
  if (!checkedArea(width, height, n)) return Status::BadShape;
  if (!(lower >= 0.0 && lower <= 1.0 && upper >= 0.0 && upper <= 1.0)) return Status::BadArgument;
  if constexpr (!std::is_integral_v<T>) {
    for (size_t i = 0; i < n; ++i)
      if (std::isnan(in[i])) return Status::BadValue;
  }
  detail::OrderStatistics<T> stats(in, n);
  const double l = detail::quantileLinear(stats, n, lower);
  const double u = detail::quantileLinear(stats, n, upper);
  const double range = u - l;
  const float l32 = static_cast<float>(l), range32 = static_cast<float>(range);
  for (size_t i = 0; i < n; ++i) {
    float y = static_cast<float>(in[i]) - l32;
    if (range != 0.0) y = y / range32;
    out[i] = std::min(std::max(y, 0.0f), 1.0f);
  }
  return Status::Ok;
}

}  // namespace scseg
