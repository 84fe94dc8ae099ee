// Marker-controlled watershed, bit-identical to skimage.segmentation.watershed(surface, markers, mask=mask)
// of scikit-image 0.19–0.24 with its defaults (connectivity 1, compactness 0, watershed_line False):
//
//   out = markers where mask, else 0          (markers outside the mask are dropped, never flood)
//   every marker pixel is pushed with key (surface, age 0), in raster order;
//   pop the smallest key; each 4-neighbour (order: up, left, right, down) inside the mask and still 0 is
//   labelled with the popped pixel's label AT PUSH TIME and pushed with key (surface, ++age);
//   mask pixels unreachable from any marker stay 0.
//
// Keys compare by value, then age; age counts pushes (first non-marker push has age 2), so equal values
// flood first-in-first-out. Marker keys all have age 0: among markers of equal value the order is whatever
// skimage's binary heap yields. So while two markers of one value are still queued, FloodHeap replays
// skimage's exact sift-up / sift-down rules (same comparisons, same tie choices); from then on all queued
// keys are distinct, the pop order is unique, and a faster queue takes over. Labels are therefore identical
// to the original's, including marker-vs-marker ties (typical: every seed at surface value 0).
//
// Later skimage (0.25.0, PR #7071) pushes markers at -inf and raises each key to at least its parent's —
// a different flooding; this kernel follows the long-standing behaviour described above.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "common.hpp"

namespace scseg {
namespace detail {

template <typename Index>
struct FloodItem {
  double value;
  int32_t age;  // skimage stores the age as int32 (it would wrap after 2^31 pushes; kept for parity)
  Index index;
};

template <typename Index>
inline bool floodsFirst(const FloodItem<Index>& a, const FloodItem<Index>& b) {
  if (a.value != b.value) return a.value < b.value;
  return a.age < b.age;
}

// skimage's heap_general.pxi as an implicit binary min-heap: push = append + sift up while strictly smaller
// than the parent; pop = take the root, move the last item to the root, sift down choosing the left child
// unless the right one is strictly smaller. Moving a "hole" instead of swapping yields identical positions.
template <typename Index>
class FloodHeap {
 public:
  explicit FloodHeap(size_t reserve) { items_.reserve(reserve); }
  bool empty() const { return items_.empty(); }

  void push(const FloodItem<Index>& item) {
    size_t child = items_.size();
    items_.push_back(item);
    FloodItem<Index>* a = items_.data();
    while (child > 0) {
      const size_t parent = (child - 1) / 2;
      if (!floodsFirst(item, a[parent])) break;
      a[child] = a[parent];
      child = parent;
    }
    a[child] = item;
  }

  FloodItem<Index> pop() {
    FloodItem<Index>* a = items_.data();
    const FloodItem<Index> top = a[0];
    const size_t n = items_.size() - 1;
    if (n == 0) {
      items_.pop_back();
      return top;
    }
    const FloodItem<Index> moving = a[n];
    items_.pop_back();
    size_t i = 0;
    for (;;) {
      const size_t l = 2 * i + 1;
      if (l >= n) break;
      const size_t r = l + 1;
      size_t smallest = i;
      const FloodItem<Index>* best = &moving;
      if (floodsFirst(a[l], *best)) {
        smallest = l;
        best = &a[l];
      }
      if (r < n && floodsFirst(a[r], *best)) smallest = r;
      if (smallest == i) break;
      a[i] = a[smallest];
      i = smallest;
    }
    a[i] = moving;
    return top;
  }

 private:
  std::vector<FloodItem<Index>> items_;
};

// After the last tie among marker keys is resolved every key in the queue is distinct, so any priority queue
// yields the same pop order. This one is a 4-ary heap on order-preserving integer keys: fewer levels and
// branch-free child selection, ~2x fewer mispredictions than the binary heap.
template <typename Index>
struct FastItem {
  uint64_t key;  // orderedBits(value)
  int32_t age;
  Index index;
};

inline uint64_t orderedBits(double v) {
  v += 0.0;  // -0.0 becomes +0.0: they compare equal in skimage's heap
  uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  return (b >> 63) ? ~b : (b | 0x8000000000000000ull);
}

template <typename Index>
inline bool before(const FastItem<Index>& a, const FastItem<Index>& b) {
  return a.key < b.key || (a.key == b.key && a.age < b.age);
}

template <typename Index>
class QuadHeap {
 public:
  bool empty() const { return size_ == 0; }

  // Children of slot i are 4i+1..4i+4; storing slot i at a_[i + 3] starts every group of four siblings at a
  // multiple of four items, so a group rarely straddles cache lines.
  void push(const FastItem<Index>& item) {
    if (a_.size() < size_ + 4) a_.resize(std::max<size_t>(64, 2 * (size_ + 4)));
    FastItem<Index>* d = a_.data() + 3;
    size_t c = size_++;
    while (c > 0) {
      const size_t p = (c - 1) >> 2;
      if (!before(item, d[p])) break;
      d[c] = d[p];
      c = p;
    }
    d[c] = item;
  }

  FastItem<Index> pop() {
    FastItem<Index>* d = a_.data() + 3;
    const FastItem<Index> top = d[0];
    const size_t n = --size_;
    if (n == 0) return top;
    const FastItem<Index> moving = d[n];
    size_t i = 0;
    for (;;) {
      const size_t c = 4 * i + 1;
      size_t b;
      if (c + 3 < n) {
        const size_t b0 = before(d[c + 1], d[c]) ? c + 1 : c;
        const size_t b1 = before(d[c + 3], d[c + 2]) ? c + 3 : c + 2;
        b = before(d[b1], d[b0]) ? b1 : b0;
      } else {
        if (c >= n) break;
        b = c;
        for (size_t k = c + 1; k < n; ++k)
          if (before(d[k], d[b])) b = k;
      }
      if (!before(d[b], moving)) break;
      d[i] = d[b];
      i = b;
    }
    d[i] = moving;
    return top;
  }

 private:
  std::vector<FastItem<Index>> a_;
  size_t size_ = 0;
};

template <typename Index, typename T>
void floodFromMarkers(const T* surface, const uint8_t* inMask, int64_t width, int64_t height, size_t area,
                      uint32_t* out) {
  const Index w = static_cast<Index>(width);
  const Index h = static_cast<Index>(height);

  // Marker values shared by two or more markers: only their relative order needs skimage's exact heap.
  std::vector<uint64_t> markerKeys;
  for (size_t i = 0; i < area; ++i)
    if (out[i] != 0) markerKeys.push_back(orderedBits(static_cast<double>(surface[i])));
  std::sort(markerKeys.begin(), markerKeys.end());
  std::vector<uint64_t> tiedKeys;    // distinct values held by >= 2 markers, ascending
  std::vector<size_t> tiedLeft;      // markers of that value still queued
  for (size_t k = 0; k < markerKeys.size();) {
    size_t e = k;
    while (e < markerKeys.size() && markerKeys[e] == markerKeys[k]) ++e;
    if (e - k >= 2) {
      tiedKeys.push_back(markerKeys[k]);
      tiedLeft.push_back(e - k);
    }
    k = e;
  }
  size_t tiedGroups = tiedKeys.size();
  const size_t markers = markerKeys.size();
  std::vector<uint64_t>().swap(markerKeys);

  FloodHeap<Index> exact(tiedGroups > 0 ? markers + 4096 : 0);
  QuadHeap<Index> fast;
  bool exactPhase = tiedGroups > 0;
  for (size_t i = 0; i < area; ++i) {
    if (out[i] == 0) continue;
    const double v = static_cast<double>(surface[i]);
    if (exactPhase)
      exact.push({v, 0, static_cast<Index>(i)});
    else
      fast.push({orderedBits(v), 0, static_cast<Index>(i)});
  }

  int64_t age = 1;
  auto visit = [&](Index n, uint32_t label) {
    if (inMask != nullptr && inMask[n] == 0) return;
    if (out[n] != 0) return;
    ++age;
    out[n] = label;
    const double v = static_cast<double>(surface[n]);
    const int32_t a = static_cast<int32_t>(static_cast<uint32_t>(age));
    if (exactPhase)
      exact.push({v, a, n});
    else
      fast.push({orderedBits(v), a, n});
  };
  for (;;) {
    Index p;
    if (exactPhase) {
      if (exact.empty()) break;
      const FloodItem<Index> e = exact.pop();
      p = e.index;
      if (e.age == 0) {
        const uint64_t key = orderedBits(e.value);
        const auto it = std::lower_bound(tiedKeys.begin(), tiedKeys.end(), key);
        if (it != tiedKeys.end() && *it == key && --tiedLeft[size_t(it - tiedKeys.begin())] == 1 &&
            --tiedGroups == 0) {
          exactPhase = false;
          while (!exact.empty()) {
            const FloodItem<Index> f = exact.pop();
            fast.push({orderedBits(f.value), f.age, f.index});
          }
        }
      }
    } else {
      if (fast.empty()) break;
      p = fast.pop().index;
    }
    const Index y = p / w, x = p - y * w;
    const uint32_t label = out[p];
    if (y > 0) visit(p - w, label);
    if (x > 0) visit(p - 1, label);
    if (x + 1 < w) visit(p + 1, label);
    if (y + 1 < h) visit(p + w, label);
  }
}

}  // namespace detail

// surface: float/double (no NaN: validated by the caller, checked here); markers: 0 = no marker;
// mask: nullptr (everything) or 0/non-zero bytes. out receives the labels (may not alias the inputs).
template <typename T>
Status watershedFromMarkers(const T* surface, const uint32_t* markers, const uint8_t* mask, int64_t width,
                            int64_t height, uint32_t* out) {
  size_t area;
  if (!checkedArea(width, height, area)) return Status::BadShape;
  for (size_t i = 0; i < area; ++i)
    if (std::isnan(surface[i])) return Status::BadValue;
  for (size_t i = 0; i < area; ++i) out[i] = (mask == nullptr || mask[i] != 0) ? markers[i] : 0u;
  if (area <= std::numeric_limits<uint32_t>::max())
    detail::floodFromMarkers<uint32_t>(surface, mask, width, height, area, out);
  else
    detail::floodFromMarkers<uint64_t>(surface, mask, width, height, area, out);
  return Status::Ok;
}

}  // namespace scseg
