// Shared input decoding of the libFuzzer harnesses (one harness per kernel header, native/fuzz/<header>.cpp).
//
// A harness turns the fuzzer's bytes into one call that meets the binding's memory preconditions — every array
// holds width×height elements (or planes of them), threads in [1, 4] — and leaves every parameter the kernel checks
// itself (dims, radius, block, thresholds, NaN/Inf) free to be wrong: the kernel must then return a Status, never
// crash or hit undefined behaviour. On Ok, each harness also checks what its header promises of the output (values
// in range, labels from the markers, results independent of the thread count where cheap to compare), and traps
// (a finding) when it does not hold.
//
// Dims: mostly 1..48 per side; 0 / negative sides (the kernel must answer BadShape); 1×N and N×1 strips up to
// 4096; and, rarely, "large but allocatable" images up to 1024×512 whose pixels repeat the input's bytes.
#pragma once
#include <fuzzer/FuzzedDataProvider.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <limits>
#include <vector>

#include "../common.hpp"

namespace scseg::fuzz {

// A finding: libFuzzer reports the abort with the input that caused it.
[[noreturn]] inline void fail(const char* what) {
  std::fprintf(stderr, "fuzz invariant violated: %s\n", what);
  std::abort();
}
#define FUZZ_CHECK(cond) ((cond) ? (void)0 : ::scseg::fuzz::fail(#cond " (" __FILE__ ")"))

struct Shape {
  int64_t width = 0, height = 0;
  size_t area = 0;  // 0 when the shape is invalid (the kernel must return BadShape)
  bool valid() const { return area > 0; }
  // Elements every array gets: the area, or 1 for an invalid shape (the kernel must not read it).
  size_t elements() const { return area > 0 ? area : 1; }
};

inline Shape consumeShape(FuzzedDataProvider& in, int64_t maxLargeArea = int64_t(1) << 19) {
  Shape s;
  const uint8_t mode = in.ConsumeIntegral<uint8_t>();
  if (mode < 8) {  // invalid: a zero or negative side
    const int64_t bad[] = {0, -1, std::numeric_limits<int64_t>::min(), -(int64_t(1) << 40)};
    s.width = (mode & 1) ? bad[(mode >> 1) & 3] : in.ConsumeIntegralInRange<int64_t>(-2, 8);
    s.height = (mode & 1) ? in.ConsumeIntegralInRange<int64_t>(-2, 8) : bad[(mode >> 1) & 3];
  } else if (mode < 24) {  // strips
    const int64_t n = in.ConsumeIntegralInRange<int64_t>(1, 4096);
    s.width = (mode & 1) ? n : 1;
    s.height = (mode & 1) ? 1 : n;
  } else if (mode < 28) {  // large but allocatable
    s.width = in.ConsumeIntegralInRange<int64_t>(64, 1024);
    s.height = in.ConsumeIntegralInRange<int64_t>(64, 512);
    while (s.width * s.height > maxLargeArea) s.height /= 2;
  } else if (mode < 32) {  // overflowing products
    s.width = int64_t(1) << in.ConsumeIntegralInRange<int>(31, 62);
    s.height = int64_t(1) << in.ConsumeIntegralInRange<int>(31, 62);
  } else {
    s.width = in.ConsumeIntegralInRange<int64_t>(1, 48);
    s.height = in.ConsumeIntegralInRange<int64_t>(1, 48);
  }
  size_t area = 0;
  // Only shapes whose arrays we can allocate count as valid; the others must fail in the kernel's checkedArea or
  // its side limits (overflowing products) — harness arrays of 1 element keep a wrong read visible to ASan.
  if (checkedArea(s.width, s.height, area) && area <= size_t(4096) * 4096) s.area = area;
  else if (checkedArea(s.width, s.height, area)) s.width = s.height = -1;  // allocatable only in theory: skip
  return s;
}

inline size_t consumeThreads(FuzzedDataProvider& in) { return in.ConsumeIntegralInRange<size_t>(1, 4); }

// Interesting doubles: edges of float32/float64, ±0, ±Inf, NaN, denormals.
inline double specialDouble(uint8_t k) {
  const double v[] = {0.0,
                      -0.0,
                      1.0,
                      -1.0,
                      0.5,
                      2.0,
                      255.0,
                      65535.0,
                      std::numeric_limits<double>::infinity(),
                      -std::numeric_limits<double>::infinity(),
                      std::numeric_limits<double>::quiet_NaN(),
                      std::numeric_limits<double>::denorm_min(),
                      std::numeric_limits<double>::max(),
                      std::numeric_limits<double>::lowest(),
                      double(std::numeric_limits<float>::max()),
                      3.5e38,
                      1e-300,
                      1e300,
                      std::numeric_limits<double>::epsilon(),
                      0.1,
                      -0.25,
                      9007199254740993.0};
  return v[k % (sizeof(v) / sizeof(v[0]))];
}

// A parameter: one of the special values, or any double (all bit patterns), or a small integer.
inline double consumeParam(FuzzedDataProvider& in) {
  const uint8_t mode = in.ConsumeIntegral<uint8_t>();
  if (mode < 96) return specialDouble(in.ConsumeIntegral<uint8_t>());
  if (mode < 160) return double(in.ConsumeIntegralInRange<int>(-8, 64)) / ((mode & 1) ? 1.0 : 16.0);
  if (mode < 224) return in.ConsumeFloatingPointInRange<double>(-2.0, 2.0);
  uint64_t bits = in.ConsumeIntegral<uint64_t>();
  double d;
  std::memcpy(&d, &bits, sizeof d);
  return d;
}

// An integer parameter: small values mostly, the type's edges sometimes.
template <typename I>
I consumeInt(FuzzedDataProvider& in, I smallMin, I smallMax) {
  const uint8_t mode = in.ConsumeIntegral<uint8_t>();
  if (mode < 200) return in.ConsumeIntegralInRange<I>(smallMin, smallMax);
  if (mode < 215) return std::numeric_limits<I>::min();
  if (mode < 230) return std::numeric_limits<I>::max();
  return in.ConsumeIntegral<I>();
}

// Bytes that fill an image: up to `bytes` from the input, repeated cyclically when the input has fewer (so a
// large image costs no more input), zeros when it has none.
inline std::vector<uint8_t> consumeFill(FuzzedDataProvider& in, size_t bytes) {
  const size_t take = std::min<size_t>(bytes, std::min<size_t>(in.remaining_bytes() / 2 + 1, 4096));
  std::vector<uint8_t> b = in.ConsumeBytes<uint8_t>(take);
  std::vector<uint8_t> out(bytes, 0);
  if (!b.empty())
    for (size_t i = 0; i < bytes; ++i) out[i] = b[i % b.size()];
  return out;
}

// A 0/1-ish mask (any non-zero byte counts as set): random bytes, sparse, dense, or all one value.
inline std::vector<uint8_t> consumeMask(FuzzedDataProvider& in, size_t n) {
  const uint8_t mode = in.ConsumeIntegral<uint8_t>();
  std::vector<uint8_t> f = consumeFill(in, n);
  std::vector<uint8_t> m(n);
  for (size_t i = 0; i < n; ++i) {
    switch (mode & 7) {
      case 0: m[i] = f[i]; break;
      case 1: m[i] = (f[i] & 7) == 0; break;                 // sparse
      case 2: m[i] = (f[i] & 7) != 0 ? uint8_t(f[i] | 1) : 0; break;  // dense, values other than 1
      case 3: m[i] = 0; break;
      case 4: m[i] = 1; break;
      default: m[i] = f[i] & 1; break;
    }
  }
  return m;
}

// Pixels of an integer type: raw input, or small levels (plateaus, ties).
template <typename T>
std::vector<T> consumeIntegerPixels(FuzzedDataProvider& in, size_t n) {
  const uint8_t mode = in.ConsumeIntegral<uint8_t>();
  std::vector<uint8_t> f = consumeFill(in, n * sizeof(T));
  std::vector<T> p(n);
  for (size_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, f.data() + i * sizeof(T), sizeof(T));
    if ((mode & 3) == 1) v = T(f[i * sizeof(T)] & 3);
    else if ((mode & 3) == 2) v = (f[i * sizeof(T)] & 1) ? std::numeric_limits<T>::max() : T(0);
    p[i] = v;
  }
  return p;
}

// Pixels of a float type: any bit pattern (NaN, Inf, denormals), a palette of special values, small integers
// (plateaus and ties), or NaN-free values (so the kernels get past their NaN checks).
template <typename F>
std::vector<F> consumeFloatPixels(FuzzedDataProvider& in, size_t n) {
  const uint8_t mode = in.ConsumeIntegral<uint8_t>();
  std::vector<uint8_t> f = consumeFill(in, n * sizeof(F));
  std::vector<F> p(n);
  for (size_t i = 0; i < n; ++i) {
    F v;
    std::memcpy(&v, f.data() + i * sizeof(F), sizeof(F));
    const uint8_t b = f[i * sizeof(F)];
    switch (mode & 7) {
      case 0: break;                                                    // raw bits
      case 1: v = F(specialDouble(b)); break;                           // specials (NaN included)
      case 2: v = F(b & 7); break;                                      // plateaus
      case 3: v = std::isnan(v) ? F(0) : v; break;                      // raw, NaN-free (±Inf kept)
      case 4: v = F(specialDouble(b)); v = std::isnan(v) ? F(1) : v; break;  // specials, NaN-free
      case 5: v = F(b) / F(255); break;                                 // [0, 1]
      case 6: v = F(int(b) - 128) * F(0.125); break;                    // signed, exact
      default: v = std::isfinite(v) ? v : F(0); break;                  // finite
    }
    p[i] = v;
  }
  return p;
}

// A uint32 label image: ids from a small set (dense), the extremes of uint32 (sparse ids, the hash-table path of
// LabelIndex), or any value; background mixed in.
inline std::vector<uint32_t> consumeLabels(FuzzedDataProvider& in, size_t n) {
  const uint8_t mode = in.ConsumeIntegral<uint8_t>();
  const uint32_t base = in.ConsumeIntegral<uint32_t>();
  std::vector<uint8_t> f = consumeFill(in, n * 4);
  std::vector<uint32_t> l(n);
  for (size_t i = 0; i < n; ++i) {
    uint32_t raw;
    std::memcpy(&raw, f.data() + i * 4, 4);
    const uint8_t b = f[i * 4];
    switch (mode & 7) {
      case 0: l[i] = b & 7; break;                                            // dense ids 0..7
      case 1: l[i] = (b & 3) == 0 ? 0 : base + (b >> 2); break;               // a block of ids from `base`
      case 2: l[i] = (b & 1) ? 0xFFFFFFFFu - (b >> 5) : 0; break;             // ids at the top of uint32
      case 3: l[i] = raw; break;                                              // any
      case 4: l[i] = (b & 3) == 0 ? 0 : raw | 1; break;                       // sparse, no zeros among ids
      case 5: l[i] = b; break;                                                // up to 255 ids
      case 6: l[i] = (b & 1) ? uint32_t(i / 7 + 1) : 0; break;                // runs
      default: l[i] = (b & 1) ? (b >> 1) * 1000003u : 0; break;               // spread-out ids
    }
  }
  return l;
}

}  // namespace scseg::fuzz

namespace scseg::fuzz {

// Speeds for fast marching: any doubles (the kernel must refuse NaN, ±Inf, <= 0 with BadValue), or those made
// valid (> 0, finite; tiny ones kept, they mask their pixel).
inline std::vector<double> consumeSpeed(FuzzedDataProvider& in, size_t n) {
  std::vector<double> v = consumeFloatPixels<double>(in, n);
  if (in.ConsumeIntegral<uint8_t>() < 224)
    for (double& x : v) x = std::isfinite(x) && x > 0 ? x : std::fabs(std::isfinite(x) ? x : 1.0) + 0.5;
  return v;
}

// A marker pop order for the watersheds (MarkerRanks): none, a valid one (distinct ranks >= 0, one per non-zero
// marker, shuffled by the input), or an invalid one (duplicate, negative, one too few or too many).
struct RanksInput {
  std::vector<int32_t> ranks;
  bool given = false, valid = true;
  MarkerRanks order() const { return given ? MarkerRanks{ranks.data(), ranks.size()} : MarkerRanks{}; }
};

inline RanksInput consumeRanks(FuzzedDataProvider& in, const std::vector<uint32_t>& markers, size_t area) {
  RanksInput r;
  const uint8_t mode = in.ConsumeIntegral<uint8_t>();
  if (mode < 96 || area == 0) return r;
  r.given = true;
  size_t k = 0;
  for (size_t i = 0; i < area; ++i) k += markers[i] != 0;
  const int32_t spread = in.ConsumeIntegralInRange<int32_t>(1, 3);
  r.ranks.resize(k);
  for (size_t j = 0; j < k; ++j) r.ranks[j] = int32_t(j) * spread;
  for (size_t j = k; j > 1; --j) std::swap(r.ranks[j - 1], r.ranks[in.ConsumeIntegralInRange<size_t>(0, j - 1)]);
  if (mode >= 232) {
    r.valid = false;
    switch (mode & 3) {
      case 0: r.ranks.push_back(int32_t(k) * spread + 1); break;
      case 1:
        if (k == 0) r.ranks.push_back(0);
        else r.ranks.pop_back();
        break;
      case 2:
        if (k == 0) r.ranks.push_back(-1);
        else r.ranks[0] = -1 - int32_t(in.ConsumeIntegralInRange<int32_t>(0, 5));
        break;
      default:
        if (k < 2) r.ranks.push_back(0);
        else r.ranks[1] = r.ranks[0];
        break;
    }
  }
  return r;
}

// Markers for the watersheds: sparse seeds with few ids (ties between markers) or labels of any kind.
inline std::vector<uint32_t> consumeMarkers(FuzzedDataProvider& in, size_t n) {
  std::vector<uint32_t> m = consumeLabels(in, n);
  const uint8_t sparsity = in.ConsumeIntegral<uint8_t>() & 7;
  if (sparsity)
    for (size_t i = 0; i < n; ++i)
      if ((m[i] * 2654435761u >> 29) >= 8 - sparsity / 2 || (i * 2654435761u >> 28) % (sparsity + 1)) m[i] = 0;
  return m;
}

}  // namespace scseg::fuzz
