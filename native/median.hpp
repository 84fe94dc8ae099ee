// Median filter with a disk footprint, as skimage.filters.median(image, disk(r)) (= scipy.ndimage.median_filter
// with that footprint, mode "nearest"): the exact median of the 2r+1-wide disk around each pixel, image edges
// replicated. Output dtype = input dtype; values are always elements of the input.
//
// Two algorithms, same results:
// - radius <= 4 (disk of at most 49 pixels, the sizes scPortrait configs use): a median-selection network
//   (Batcher's odd-even merge sort, pruned at compile time to the comparators the middle element depends on)
//   applied to 128-bit vectors of neighbouring pixels (256-bit where the CPU has AVX2, chosen at run time); min/max
//   are exact selections, so the result is the same element scipy picks. Cost per pixel is fixed for each radius
//   (~319 comparators per vector at r=4).
// - larger radii: pixel values are replaced by dense ranks, then a rank histogram slides along a snake path
// (right on even rows, left on odd rows, one step down between rows). Each step adds and removes one disk edge
// (2r+1 pixels each) and moves the median pointer past the few elements it shifted; a two-level
// bitset of non-empty bins lets the pointer skip empty ranges. Cost per pixel is O(r), not O(r^2).
#pragma once
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "common.hpp"
#include "limits.hpp"
#include "parallel.hpp"
#include "ranks.hpp"

namespace scseg {
namespace detail {

// Histogram of ranks that tracks the k-th smallest element (0-based) under single-element updates.
// A two-level bitset of non-empty bins lets the median pointer jump over empty ranges with one
// count-trailing/leading-zeros per step, so a step costs O(elements moved past), not O(bins moved past).
template <typename R>
class RankHistogram {
 public:
  RankHistogram(size_t bins, uint32_t k)
      : count_(bins + 1, 0), words_((bins + 64) / 64 + 1, 0), summary_(words_.size() / 64 + 1, 0), k_(k) {}

  // Branch-free updates: with many distinct values a count's 0 <-> 1 transitions are unpredictable,
  // and mispredicted branches here cost more than the memory accesses.
  void add(R v) {
    ++count_[v];
    const uint32_t w = uint32_t(v) >> 6;
    words_[w] |= uint64_t(1) << (v & 63);
    summary_[w >> 6] |= uint64_t(1) << (w & 63);
    below_ += (v < m_);
  }
  void remove(R v) {
    const uint32_t left = --count_[v];
    const uint32_t w = uint32_t(v) >> 6;
    words_[w] &= ~(uint64_t(left == 0) << (v & 63));
    summary_[w >> 6] &= ~(uint64_t(words_[w] == 0) << (w & 63));
    below_ -= (v < m_);
  }
  uint32_t median() {
    while (below_ > k_) {
      m_ = prevSet(m_ - 1);
      below_ -= count_[m_];
    }
    while (below_ + count_[m_] <= k_) {
      below_ += count_[m_];
      m_ = nextSet(m_ + 1);
    }
    return m_;
  }

 private:
  // Smallest non-empty bin >= v (one exists whenever the caller asks: the k-th element lies above).
  uint32_t nextSet(uint32_t v) const {
    uint32_t w = v >> 6;
    const uint64_t inWord = words_[w] & (~uint64_t(0) << (v & 63));
    if (inWord) return (w << 6) | uint32_t(__builtin_ctzll(inWord));
    ++w;
    uint32_t s = w >> 6;
    uint64_t sum = (w & 63) ? summary_[s] & (~uint64_t(0) << (w & 63)) : summary_[s];
    while (sum == 0) sum = summary_[++s];
    w = (s << 6) | uint32_t(__builtin_ctzll(sum));
    return (w << 6) | uint32_t(__builtin_ctzll(words_[w]));
  }
  // Largest non-empty bin <= v (one exists whenever the caller asks: elements lie below the pointer).
  uint32_t prevSet(uint32_t v) const {
    uint32_t w = v >> 6;
    const uint64_t inWord = words_[w] & (~uint64_t(0) >> (63 - (v & 63)));
    if (inWord) return (w << 6) | uint32_t(63 - __builtin_clzll(inWord));
    --w;
    uint32_t s = w >> 6;
    uint64_t sum = summary_[s] & (~uint64_t(0) >> (63 - (w & 63)));
    while (sum == 0) sum = summary_[--s];
    w = (s << 6) | uint32_t(63 - __builtin_clzll(sum));
    return (w << 6) | uint32_t(63 - __builtin_clzll(words_[w]));
  }

  std::vector<uint32_t> count_;
  std::vector<uint64_t> words_, summary_;
  uint32_t k_;
  uint32_t m_ = 0;      // current median candidate bin
  uint32_t below_ = 0;  // number of elements with rank < m_
};

// Median over a footprint symmetric in x and y, given by its row half-widths: row dy (−r..r, r = hw.size() / 2)
// covers |dx| <= hw[dy + r] and, by symmetry, column dx covers |dy| <= hw[dx + r] (a disk, or a square with all
// half-widths equal). k: 0-based rank of the median within the footprint.
// P: padded rank image (H + 2r rows of stride Wp = W + 2r); writes the median value of each output pixel.
// Output rows [y0, y1); the snake order restarts at y0 (the histogram holds a multiset: the order does not matter).
template <typename R, typename T>
void medianOnPaddedRanks(const R* P, size_t Wp, int64_t y0, int64_t y1, int64_t W, const std::vector<int>& hw,
                         uint32_t k, const std::vector<T>& values, T* out) {
  const int r = static_cast<int>(hw.size() / 2);
  RankHistogram<R> hist(values.size(), k);
  // Pixel (y, x) of the output sits at padded (y + r, x + r).
  auto at = [&](int64_t py, int64_t px) { return P[size_t(py) * Wp + size_t(px)]; };
  for (int dy = -r; dy <= r; ++dy)
    for (int dx = -hw[dy + r]; dx <= hw[dy + r]; ++dx) hist.add(at(y0 + r + dy, r + dx));

  for (int64_t y = y0; y < y1; ++y) {
    const bool forward = ((y - y0) % 2) == 0;
    const int64_t py = y + r;
    for (int64_t i = 0; i < W; ++i) {
      const int64_t x = forward ? i : W - 1 - i;
      if (i > 0) {
        const int64_t px = x + r;
        for (int dy = -r; dy <= r; ++dy) {
          const int h = hw[dy + r];
          if (forward) {
            hist.remove(at(py + dy, px - h - 1));
            hist.add(at(py + dy, px + h));
          } else {
            hist.remove(at(py + dy, px + h + 1));
            hist.add(at(py + dy, px - h));
          }
        }
      }
      out[size_t(y) * size_t(W) + size_t(x)] = values[hist.median()];
    }
    if (y + 1 < y1) {
      const int64_t px = (forward ? W - 1 : 0) + r;
      for (int dx = -r; dx <= r; ++dx) {
        const int h = hw[dx + r];
        hist.remove(at(py - h, px + dx));
        hist.add(at(py + 1 + h, px + dx));
      }
    }
  }
}

// Border modes for the padding: an out-of-image index i of an axis of length len → the index it reads.
inline int64_t clampIndex(int64_t i, int64_t len) { return std::clamp<int64_t>(i, 0, len - 1); }

// Pads the rank image by r = hw.size() / 2 on every side (coordinates mapped by edge(i, len)) and filters it.
template <typename R, typename T, typename Edge>
void medianWithRankType(const Ranked<T>& ranked, int64_t H, int64_t W, const std::vector<int>& hw, uint32_t k,
                        Edge edge, T* out, size_t threads) {
  const int r = static_cast<int>(hw.size() / 2);
  const size_t Wp = size_t(W) + 2 * size_t(r), Hp = size_t(H) + 2 * size_t(r);
  std::vector<int64_t> col(Wp);
  for (size_t px = 0; px < Wp; ++px) col[px] = edge(int64_t(px) - r, W);
  std::vector<R> P(Wp * Hp);
  for (size_t py = 0; py < Hp; ++py) {
    const uint32_t* src = ranked.rank.data() + size_t(edge(int64_t(py) - r, H)) * size_t(W);
    R* dst = P.data() + py * Wp;
    for (size_t px = 0; px < Wp; ++px) dst[px] = static_cast<R>(src[col[px]]);
  }
  parallelFor(threads, size_t(H), rowsPerChunk(W), [&](size_t y0, size_t y1) {
    medianOnPaddedRanks<R>(P.data(), Wp, int64_t(y0), int64_t(y1), W, hw, k, ranked.values, out);
  });
}

// Ranks fit 16 bits for up to 65536 distinct values, which halves the padded image and histogram.
template <typename T, typename Edge>
void medianOfRanks(const Ranked<T>& ranked, int64_t H, int64_t W, const std::vector<int>& hw, uint32_t k, Edge edge,
                   T* out, size_t threads) {
  if (ranked.values.size() <= 65536)
    medianWithRankType<uint16_t>(ranked, H, W, hw, k, edge, out, threads);
  else
    medianWithRankType<uint32_t>(ranked, H, W, hw, k, edge, out, threads);
}

// ---- selection networks for small disks ---------------------------------------------------------------

struct Comparator {
  int lo, hi;  // after the comparator, wire lo holds the minimum and wire hi the maximum
};

constexpr int ceilPow2(int n) {
  int p = 1;
  while (p < n) p *= 2;
  return p;
}

// Pruned odd-even merge sort network whose wire Area/2 ends up holding the median of Area inputs.
template <int Area>
struct MedianNetwork {
  static constexpr int kWires = ceilPow2(Area);
  static constexpr int kMaxComparators = kWires * kWires;
  std::array<Comparator, kMaxComparators> cmp{};
  int size = 0;

  constexpr MedianNetwork() {
    std::array<Comparator, kMaxComparators> all{};
    int n = 0;
    sortRange(all, n, 0, kWires);
    // Wires >= Area carry +infinity: Batcher's comparators always put the higher wire on the max side, so a
    // comparator touching such a wire leaves both values in place and can be dropped.
    // Then keep only comparators on which the median wire depends (backward liveness).
    std::array<bool, kWires> live{};
    live[Area / 2] = true;
    std::array<Comparator, kMaxComparators> kept{};
    int k = 0;
    for (int i = n - 1; i >= 0; --i) {
      const Comparator c = all[i];
      if (c.hi >= Area) continue;
      if (live[c.lo] || live[c.hi]) {
        live[c.lo] = live[c.hi] = true;
        kept[k++] = c;
      }
    }
    for (int i = 0; i < k; ++i) cmp[i] = kept[k - 1 - i];
    size = k;
  }

 private:
  static constexpr void merge(std::array<Comparator, kMaxComparators>& out, int& n, int lo, int len, int step) {
    const int twice = step * 2;
    if (twice < len) {
      merge(out, n, lo, len, twice);
      merge(out, n, lo + step, len, twice);
      for (int i = lo + step; i + step < lo + len; i += twice) out[n++] = {i, i + step};
    } else {
      out[n++] = {lo, lo + step};
    }
  }
  static constexpr void sortRange(std::array<Comparator, kMaxComparators>& out, int& n, int lo, int len) {
    if (len > 1) {
      sortRange(out, n, lo, len / 2);
      sortRange(out, n, lo + len / 2, len / 2);
      merge(out, n, lo, len, 1);
    }
  }
};

// Lane type of the vectors and the order-preserving map into it (uint16 -> int16 by flipping the sign bit,
// so that signed min/max, available everywhere, order the values as unsigned).
template <typename T>
struct NetworkLane;
template <>
struct NetworkLane<uint8_t> {
  using type = uint8_t;
  static type in(uint8_t v) { return v; }
  static uint8_t out(type v) { return v; }
};
template <>
struct NetworkLane<uint16_t> {
  using type = int16_t;
  static type in(uint16_t v) { return static_cast<int16_t>(v ^ 0x8000u); }
  static uint16_t out(type v) { return static_cast<uint16_t>(static_cast<uint16_t>(v) ^ 0x8000u); }
};
template <>
struct NetworkLane<float> {
  using type = float;
  static type in(float v) { return v; }
  static float out(type v) { return v; }
};

template <typename L, int Bytes = 16>
struct VecN {
  typedef L type __attribute__((vector_size(Bytes)));
  static constexpr int kLanes = Bytes / int(sizeof(L));
};
template <typename L>
using Vec128 = VecN<L, 16>;

// Everything the network body calls is forced inline, so that the body compiles with the instruction set of the
// entry point it is inlined into (SSE2 by default, AVX2 in medianNetworkRowsAvx2): the generic vector code then
// becomes 256-bit vpminsw / vpmaxsw there. Inlining callees without a target into a function with one is allowed.
#if defined(__GNUC__)
#define SCSEG_FORCE_INLINE inline __attribute__((always_inline))
#define SCSEG_LAMBDA_INLINE __attribute__((always_inline))
#else
#define SCSEG_FORCE_INLINE inline
#define SCSEG_LAMBDA_INLINE
#endif

// Lane-wise min/max. GCC turns the generic compare+select into three logic ops on SSE2, so x86 gets the
// single-instruction forms explicitly; clang (WASM SIMD) already emits i16x8.min_s & co from the select.
template <typename V>
inline V vmin(V a, V b) {
  return a < b ? a : b;
}
template <typename V>
inline V vmax(V a, V b) {
  return a < b ? b : a;
}
#if defined(__SSE2__)
using VecI16 = Vec128<int16_t>::type;
using VecU8 = Vec128<uint8_t>::type;
using VecF32 = Vec128<float>::type;
template <>
inline VecI16 vmin(VecI16 a, VecI16 b) { return (VecI16)_mm_min_epi16((__m128i)a, (__m128i)b); }
template <>
inline VecI16 vmax(VecI16 a, VecI16 b) { return (VecI16)_mm_max_epi16((__m128i)a, (__m128i)b); }
template <>
inline VecU8 vmin(VecU8 a, VecU8 b) { return (VecU8)_mm_min_epu8((__m128i)a, (__m128i)b); }
template <>
inline VecU8 vmax(VecU8 a, VecU8 b) { return (VecU8)_mm_max_epu8((__m128i)a, (__m128i)b); }
// No NaN reaches here, so minps/maxps select exactly like the compare-and-swap (b on ties, as `a < b ? a : b`).
template <>
inline VecF32 vmin(VecF32 a, VecF32 b) { return (VecF32)_mm_min_ps((__m128)a, (__m128)b); }
template <>
inline VecF32 vmax(VecF32 a, VecF32 b) { return (VecF32)_mm_max_ps((__m128)b, (__m128)a); }
#endif

template <const auto& Net, size_t Base, typename V, size_t... I>
SCSEG_FORCE_INLINE void applyComparators(V* v, std::index_sequence<I...>) {
  (
      [&]() SCSEG_LAMBDA_INLINE {
        constexpr Comparator c = Net.cmp[Base + I];
        const V a = v[c.lo], b = v[c.hi];
        if constexpr (sizeof(V) == 16) {
          v[c.lo] = vmin(a, b);
          v[c.hi] = vmax(a, b);
        } else {  // 256-bit: only inside AVX2 code, where the compare-and-select becomes vpmin / vpmax
          v[c.lo] = a < b ? a : b;
          v[c.hi] = a < b ? b : a;
        }
      }(),
      ...);
}

// Fully unrolled network, in chunks of 64 comparators (compilers cap the length of one fold expression).
template <const auto& Net, size_t Base = 0, typename V>
SCSEG_FORCE_INLINE void applyNetwork(V* v) {
  constexpr size_t kTotal = size_t(Net.size);
  if constexpr (Base < kTotal) {
    constexpr size_t kChunk = kTotal - Base < 64 ? kTotal - Base : 64;
    applyComparators<Net, Base>(v, std::make_index_sequence<kChunk>{});
    applyNetwork<Net, Base + kChunk>(v);
  }
}

template <int Radius>
struct DiskNetwork {
  static constexpr int area() {
    int n = 0;
    for (int dy = -Radius; dy <= Radius; ++dy) {
      int h = 0;
      while ((h + 1) * (h + 1) + dy * dy <= Radius * Radius) ++h;
      n += 2 * h + 1;
    }
    return n;
  }
  static constexpr MedianNetwork<area()> net{};
};

// Output rows [y0, y1), with vectors of `Bytes` bytes.
template <typename T, int Radius, int Bytes>
SCSEG_FORCE_INLINE void medianNetworkRowsBody(const T* in, int64_t H, int64_t W, int64_t y0, int64_t y1, T* out) {
  using Lane = NetworkLane<T>;
  using L = typename Lane::type;
  using V = typename VecN<L, Bytes>::type;
  constexpr int kLanes = VecN<L, Bytes>::kLanes;
  constexpr auto& net = DiskNetwork<Radius>::net;
  constexpr int kArea = DiskNetwork<Radius>::area();
  const int r = Radius;
  // A ring of 2r+1 padded rows: r replicated pixels on each side ("nearest"), plus kLanes columns so full
  // vectors can be loaded at the right edge (those lanes are computed and discarded). Working memory stays
  // O(r·W) — cache-resident, and small in WASM's linear memory — instead of a padded copy of the image.
  const size_t Wp = size_t(W) + 2 * size_t(r) + kLanes;
  const size_t ring = 2 * size_t(r) + 1;
  std::vector<L> rows(ring * Wp);
  auto loadRow = [&](int64_t py) {  // padded row py = source row clamp(py - r)
    const T* src = in + size_t(std::clamp<int64_t>(py - r, 0, H - 1)) * size_t(W);
    L* dst = rows.data() + size_t(py % int64_t(ring)) * Wp;
    for (size_t px = 0; px < Wp; ++px) dst[px] = Lane::in(src[std::clamp<int64_t>(int64_t(px) - r, 0, W - 1)]);
  };
  for (int64_t py = y0; py < y0 + 2 * r; ++py) loadRow(py);

  const std::vector<int> hw = diskHalfWidths(r);
  std::array<int, kArea> tapRow{}, tapDx{};
  for (int dy = -r, i = 0; dy <= r; ++dy)
    for (int dx = -hw[dy + r]; dx <= hw[dy + r]; ++dx, ++i) {
      tapRow[i] = dy + r;
      tapDx[i] = dx;
    }

  V v[kArea];
  L lanes[kLanes];
  const L* rowAt[2 * Radius + 1];
  for (int64_t y = y0; y < y1; ++y) {
    loadRow(y + 2 * r);
    for (int d = 0; d <= 2 * r; ++d) rowAt[d] = rows.data() + size_t((y + d) % int64_t(ring)) * Wp + r;
    T* row = out + size_t(y) * size_t(W);
    for (int64_t x = 0; x < W; x += kLanes) {
      for (int i = 0; i < kArea; ++i) std::memcpy(&v[i], rowAt[tapRow[i]] + x + tapDx[i], sizeof(V));
      applyNetwork<net>(v);
      std::memcpy(lanes, &v[kArea / 2], sizeof(V));
      const int64_t n = std::min<int64_t>(kLanes, W - x);
      for (int64_t i = 0; i < n; ++i) row[x + i] = Lane::out(lanes[i]);
    }
  }
}

template <typename T, int Radius>
void medianNetworkRows(const T* in, int64_t H, int64_t W, int64_t y0, int64_t y1, T* out) {
  medianNetworkRowsBody<T, Radius, 16>(in, H, W, y0, y1, out);
}

// x86-64 CPUs with AVX2 (checked at run time; the build stays baseline x86-64) run the same network on 256-bit
// vectors: twice the pixels per comparator. min/max select exactly, so the outputs are the same bits.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__wasm__)
#define SCSEG_MEDIAN_AVX2 1
template <typename T, int Radius>
__attribute__((target("avx2"))) void medianNetworkRowsAvx2(const T* in, int64_t H, int64_t W, int64_t y0, int64_t y1, T* out) {
  medianNetworkRowsBody<T, Radius, 32>(in, H, W, y0, y1, out);
}
inline bool cpuHasAvx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2");
}
#endif

template <typename T, int Radius>
void medianNetworkDisk(const T* in, int64_t H, int64_t W, T* out, size_t threads) {
#if defined(SCSEG_MEDIAN_AVX2)
  if (cpuHasAvx2()) {
    parallelFor(threads, size_t(H), rowsPerChunk(W), [&](size_t y0, size_t y1) {
      medianNetworkRowsAvx2<T, Radius>(in, H, W, int64_t(y0), int64_t(y1), out);
    });
    return;
  }
#endif
  parallelFor(threads, size_t(H), rowsPerChunk(W), [&](size_t y0, size_t y1) {
    medianNetworkRows<T, Radius>(in, H, W, int64_t(y0), int64_t(y1), out);
  });
}

template <typename T>
bool medianBySmallDisk(const T* in, int64_t H, int64_t W, int r, T* out, size_t threads) {
  switch (r) {
    case 1: medianNetworkDisk<T, 1>(in, H, W, out, threads); return true;
    case 2: medianNetworkDisk<T, 2>(in, H, W, out, threads); return true;
    case 3: medianNetworkDisk<T, 3>(in, H, W, out, threads); return true;
    case 4: medianNetworkDisk<T, 4>(in, H, W, out, threads); return true;
    default: return false;
  }
}

}  // namespace detail

template <typename T>
Status medianFilterDisk(const T* in, int64_t width, int64_t height, int radius, T* out, size_t threads) {
  size_t n;
  if (!checkedArea(width, height, n)) return Status::BadShape;
  if (radius < 0 || radius > limits::kMaxMedianRadius) return Status::BadArgument;
  if constexpr (!std::is_integral_v<T>) {
    for (size_t i = 0; i < n; ++i)
      if (std::isnan(in[i])) return Status::BadValue;
  }
  if (radius == 0) {
    for (size_t i = 0; i < n; ++i) out[i] = in[i];
    return Status::Ok;
  }
  if (detail::medianBySmallDisk(in, height, width, radius, out, threads)) return Status::Ok;
  Ranked<T> ranked;
  if (Status s = rankValues(in, n, ranked); s != Status::Ok) return s;
  detail::medianOfRanks(ranked, height, width, diskHalfWidths(radius), static_cast<uint32_t>(diskArea(radius) / 2),
                        detail::clampIndex, out, threads);
  return Status::Ok;
}

}  // namespace scseg
