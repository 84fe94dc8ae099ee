// libstdc++'s std::sort (GCC's introsort, unchanged since GCC 4.x), step for step, so that an UNSTABLE sort puts
// equal keys in the same order on every standard library. The original we follow sorts with an unstable sort
// (torch's CPU `argsort`, std::sort over (key, index) pairs, compiled against libstdc++); where equal keys meet,
// their order decides the result, and libc++ (our WASM build) orders them differently. Same algorithm, same
// comparisons, same moves: introsort loop (median-of-three of first+1, middle, last−1 moved to first, unguarded
// Hoare partition, recursion on the right part) down to runs of 16, heap sort past a depth of 2·⌊log2 n⌋, then
// one insertion sort.
// `less(a, b)` compares elements; T must be cheap to copy.
#pragma once
#include <cstddef>
#include <utility>

namespace scseg::gnu_sort {

namespace detail {

constexpr std::ptrdiff_t kThreshold = 16;

inline std::ptrdiff_t floorLog2(std::ptrdiff_t n) {
  std::ptrdiff_t k = 0;
  while (n > 1) {
    n >>= 1;
    ++k;
  }
  return k;
}

template <typename T, typename Less>
void moveMedianToFirst(T* result, T* a, T* b, T* c, Less& less) {
  if (less(*a, *b)) {
    if (less(*b, *c)) std::swap(*result, *b);
    else if (less(*a, *c)) std::swap(*result, *c);
    else std::swap(*result, *a);
  } else if (less(*a, *c)) {
    std::swap(*result, *a);
  } else if (less(*b, *c)) {
    std::swap(*result, *c);
  } else {
    std::swap(*result, *b);
  }
}

template <typename T, typename Less>
T* unguardedPartition(T* first, T* last, T* pivot, Less& less) {
  while (true) {
    while (less(*first, *pivot)) ++first;
    --last;
    while (less(*pivot, *last)) --last;
    if (!(first < last)) return first;
    std::swap(*first, *last);
    ++first;
  }
}

template <typename T, typename Less>
void pushHeap(T* first, std::ptrdiff_t hole, std::ptrdiff_t top, T value, Less& less) {
  std::ptrdiff_t parent = (hole - 1) / 2;
  while (hole > top && less(first[parent], value)) {
    first[hole] = first[parent];
    hole = parent;
    parent = (hole - 1) / 2;
  }
  first[hole] = value;
}

template <typename T, typename Less>
void adjustHeap(T* first, std::ptrdiff_t hole, std::ptrdiff_t len, T value, Less& less) {
  const std::ptrdiff_t top = hole;
  std::ptrdiff_t child = hole;
  while (child < (len - 1) / 2) {
    child = 2 * (child + 1);
    if (less(first[child], first[child - 1])) --child;
    first[hole] = first[child];
    hole = child;
  }
  if ((len & 1) == 0 && child == (len - 2) / 2) {
    child = 2 * (child + 1);
    first[hole] = first[child - 1];
    hole = child - 1;
  }
  pushHeap(first, hole, top, value, less);
}

template <typename T, typename Less>
void heapSort(T* first, T* last, Less& less) {
  const std::ptrdiff_t len = last - first;
  if (len >= 2) {
    for (std::ptrdiff_t parent = (len - 2) / 2;; --parent) {
      adjustHeap(first, parent, len, first[parent], less);
      if (parent == 0) break;
    }
  }
  while (last - first > 1) {
    --last;
    T value = *last;
    *last = *first;
    adjustHeap(first, std::ptrdiff_t(0), last - first, value, less);
  }
}

template <typename T, typename Less>
void introsortLoop(T* first, T* last, std::ptrdiff_t depth, Less& less) {
  while (last - first > kThreshold) {
    if (depth == 0) {
      heapSort(first, last, less);
      return;
    }
    --depth;
    T* mid = first + (last - first) / 2;
    moveMedianToFirst(first, first + 1, mid, last - 1, less);
    T* cut = unguardedPartition(first + 1, last, first, less);
    introsortLoop(cut, last, depth, less);
    last = cut;
  }
}

template <typename T, typename Less>
void unguardedLinearInsert(T* last, Less& less) {
  T value = *last;
  T* next = last - 1;
  while (less(value, *next)) {
    *last = *next;
    last = next;
    --next;
  }
  *last = value;
}

template <typename T, typename Less>
void insertionSort(T* first, T* last, Less& less) {
  if (first == last) return;
  for (T* i = first + 1; i != last; ++i) {
    if (less(*i, *first)) {
      T value = *i;
      for (T* j = i; j != first; --j) *j = *(j - 1);
      *first = value;
    } else {
      unguardedLinearInsert(i, less);
    }
  }
}

}  // namespace detail

// Sorts [first, last) exactly as libstdc++'s std::sort(first, last, less) does.
template <typename T, typename Less>
void sort(T* first, T* last, Less less) {
  if (first == last) return;
  detail::introsortLoop(first, last, detail::floorLog2(last - first) * 2, less);
  if (last - first > detail::kThreshold) {
    detail::insertionSort(first, first + detail::kThreshold, less);
    for (T* i = first + detail::kThreshold; i != last; ++i) detail::unguardedLinearInsert(i, less);
  } else {
    detail::insertionSort(first, last, less);
  }
}

}  // namespace scseg::gnu_sort
