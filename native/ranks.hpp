// Dense ranks of pixel values: every pixel gets the index of its value among the sorted distinct values.
// Order statistics (median, quantiles) computed on ranks map back to the exact input values, which lets one
// integer histogram code path serve uint8, uint16 and float32 images.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "common.hpp"

namespace scseg {

// Order-preserving map of a float's bits to uint32 (-0 and +0 share one key, as they compare equal).
inline uint32_t floatKey(float v) {
  uint32_t b;
  std::memcpy(&b, &v, sizeof b);
  b = b == 0x80000000u ? 0u : b;  // branch-free: histogram loops over noisy data mispredicted the branches
  const uint32_t negative = 0u - (b >> 31);
  return b ^ (negative | 0x80000000u);
}

template <typename T>
struct Ranked {
  std::vector<uint32_t> rank;  // one per pixel
  std::vector<T> values;       // distinct values, ascending; values[rank[i]] == input[i]
};

template <typename T>
Status rankValues(const T* in, size_t n, Ranked<T>& out) {
  out.rank.resize(n);
  if constexpr (std::is_integral_v<T>) {
    static_assert(sizeof(T) <= 2, "integer ranks use a full lookup table");
    constexpr size_t kLevels = size_t(1) << (8 * sizeof(T));
    std::vector<uint32_t> lut(kLevels, 0);
    for (size_t i = 0; i < n; ++i) lut[in[i]] = 1;
    uint32_t next = 0;
    for (size_t v = 0; v < kLevels; ++v) {
      if (lut[v]) {
        out.values.push_back(static_cast<T>(v));
        lut[v] = next++;
      }
    }
    for (size_t i = 0; i < n; ++i) out.rank[i] = lut[in[i]];
  } else {
    // LSD radix sort of (key, index) pairs, two 16-bit passes: O(n) even for 4096^2 float images.
    std::vector<uint64_t> a(n), b(n);
    for (size_t i = 0; i < n; ++i) {
      if (std::isnan(in[i])) return Status::BadValue;
      a[i] = (uint64_t(floatKey(in[i])) << 32) | uint64_t(i);
    }
    std::vector<size_t> count(65537);
    for (int pass = 0; pass < 2; ++pass) {
      const int shift = 32 + 16 * pass;
      std::fill(count.begin(), count.end(), 0);
      for (size_t i = 0; i < n; ++i) ++count[((a[i] >> shift) & 0xFFFF) + 1];
      for (size_t d = 1; d < count.size(); ++d) count[d] += count[d - 1];
      for (size_t i = 0; i < n; ++i) b[count[(a[i] >> shift) & 0xFFFF]++] = a[i];
      a.swap(b);
    }
    uint32_t r = 0;
    for (size_t i = 0; i < n; ++i) {
      const uint32_t key = uint32_t(a[i] >> 32);
      const size_t idx = size_t(a[i] & 0xFFFFFFFFu);
      if (i == 0 || key != uint32_t(a[i - 1] >> 32)) {
        if (i != 0) ++r;
        const float v = in[idx];
        out.values.push_back(v == 0.0f ? 0.0f : v);
      }
      out.rank[idx] = r;
    }
  }
  return Status::Ok;
}

}  // namespace scseg
