// Large scratch arrays for the kernels that visit memory in no spatial order (fast marching, watershed flooding).
// On Linux they ask for transparent huge pages: a 2048² march touches ~75 MB at random, and with 4 KiB pages most
// of its cache misses were TLB misses too (~10 % faster with 2 MiB pages, same results). Elsewhere — WASM, other
// systems, small arrays — a plain std::vector.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <limits>
#include <new>
#include <type_traits>
#include <vector>

#if defined(__linux__) && !defined(__wasm__)
#include <sys/mman.h>
#define SCSEG_HUGE_PAGES 1
#endif

namespace scseg {

template <typename T>
class ScratchArray {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>, "plain data only");

 public:
  ScratchArray(size_t n, const T& fill) : n_(n) {
#if SCSEG_HUGE_PAGES
    constexpr size_t kHuge = size_t(1) << 21, kWorthIt = size_t(8) << 20;
    if (n <= std::numeric_limits<size_t>::max() / sizeof(T) - kHuge && n * sizeof(T) >= kWorthIt) {
      const size_t bytes = (n * sizeof(T) + kHuge - 1) / kHuge * kHuge;
      huge_ = static_cast<T*>(std::aligned_alloc(kHuge, bytes));
      if (huge_ == nullptr) throw std::bad_alloc();
      madvise(huge_, bytes, MADV_HUGEPAGE);  // a hint: without it (or if refused) the pages are just small
      std::fill(huge_, huge_ + n, fill);
      data_ = huge_;
      return;
    }
#endif
    plain_.assign(n, fill);
    data_ = plain_.data();
  }
  ~ScratchArray() { std::free(huge_); }
  ScratchArray(const ScratchArray&) = delete;
  ScratchArray& operator=(const ScratchArray&) = delete;

  T* data() { return data_; }
  const T* data() const { return data_; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  size_t size() const { return n_; }

 private:
  size_t n_;
  T* huge_ = nullptr;
  std::vector<T> plain_;
  T* data_ = nullptr;
};

}  // namespace scseg
