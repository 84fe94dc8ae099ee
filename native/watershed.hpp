// Marker-controlled watershed, bit-identical to skimage.segmentation.watershed(surface, markers, mask=mask)
// of scikit-image 0.19–0.24 with its defaults (connectivity 1, compactness 0, watershed_line False) — tested
// against 0.19.3; the 0.22–0.24 sources have the same flooding and heap rules:
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
// scikit-image >= 0.25 (PR #7071) raises every pushed priority to at least the priority of the pixel it came
// from: `raiseToParent` selects that variant, tested against 0.26.0 (= 0.25.2+; 0.25.0/0.25.1 also pushed the
// markers at -inf, not reproduced). With it the queue never receives a key below the last popped one.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <vector>

#include "common.hpp"
#include "components.hpp"
#include "parallel.hpp"
#include "scratch.hpp"
#include "tiles.hpp"

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

// After the last tie among marker keys is resolved every queued key is distinct, so any priority queue yields
// the same pop order. DistinctKeyQueue is built for watershed flooding, where popped values almost only grow:
//  - a radix heap (Ahuja et al. 1990) on order-preserving integer keys holds every item whose value is >= the
//    radix heap's last minimum: appends to per-bit buckets, sequential memory access, amortised O(key bits);
//  - the rare "downhill" pushes (value below that minimum — ~2 % on travel-time surfaces) go to a small 4-ary
//    heap, which always pops first (its keys are all below every radix key).
// Ties of value inside the radix heap are ordered by age when a bucket is split, so (value, age) order holds.
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

  const FastItem<Index>& top() const { return a_[3]; }

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

inline int highestBit(uint64_t v) { return 63 - __builtin_clzll(v); }  // v != 0

// Monotone radix heap: every pushed key must be >= last(). Bucket 0 holds the keys equal to last() in age
// order (consumed front to back); bucket b > 0 the keys whose highest bit differing from last() is b − 1.
template <typename Index>
class RadixQueue {
 public:
  bool empty() const { return count_ == 0; }
  uint64_t last() const { return last_; }

  void push(const FastItem<Index>& item) {
    ++count_;
    if (item.key != last_) {
      toBucket(item);
    } else if (equal_.size() == head_ || equal_.back().age < item.age) {
      equal_.push_back(item);  // the newest age (always, unless the caller deferred the push): order kept
    } else {
      const auto at = std::upper_bound(equal_.begin() + std::ptrdiff_t(head_), equal_.end(), item,
                                       [](const FastItem<Index>& a, const FastItem<Index>& b) { return a.age < b.age; });
      equal_.insert(at, item);
    }
  }

  FastItem<Index> pop() {
    top();
    --count_;
    return equal_[head_++];
  }

  // The next item to pop (the queue must not be empty).
  const FastItem<Index>& top() {
    if (head_ == equal_.size()) refill();
    return equal_[head_];
  }

  // The item `ahead` pops after the next one, when already known (same value), else nullptr.
  const FastItem<Index>* peek(size_t ahead) const {
    return head_ + ahead < equal_.size() ? &equal_[head_ + ahead] : nullptr;
  }

 private:
  // Bucket 0 is used up: the smallest non-empty bucket holds the new minimum; split it around that minimum.
  void refill() {
    equal_.clear();
    head_ = 0;
    const int b = __builtin_ctzll(occupied_) + 1;
    occupied_ &= occupied_ - 1;
    std::vector<FastItem<Index>>& src = buckets_[b];
    uint64_t m = src[0].key;
    for (const FastItem<Index>& it : src) m = std::min(m, it.key);
    last_ = m;
    for (const FastItem<Index>& it : src) {
      if (it.key == last_)
        equal_.push_back(it);
      else
        toBucket(it);  // always a lower bucket than b
    }
    if (src.capacity() > 65536)
      std::vector<FastItem<Index>>().swap(src);  // give back the memory of a large front
    else
      src.clear();
    // Equal keys may have reached this bucket out of age order (pushed directly vs. moved down from a higher
    // bucket later); ages are distinct, so this sort is deterministic.
    if (equal_.size() > 1)
      std::sort(equal_.begin(), equal_.end(),
                [](const FastItem<Index>& a, const FastItem<Index>& c) { return a.age < c.age; });
  }

  void toBucket(const FastItem<Index>& item) {
    const int bit = highestBit(item.key ^ last_);
    buckets_[bit + 1].push_back(item);
    occupied_ |= uint64_t(1) << bit;
  }

  std::vector<FastItem<Index>> buckets_[65];
  uint64_t occupied_ = 0;  // bit b − 1 set iff buckets_[b] is not empty
  std::vector<FastItem<Index>> equal_;
  size_t head_ = 0;
  size_t count_ = 0;
  uint64_t last_ = 0;  // below orderedBits of any double
};

template <typename Index>
class DistinctKeyQueue {
 public:
  bool empty() const { return below_.empty() && above_.empty(); }
  void push(const FastItem<Index>& item) {
    if (item.key >= above_.last())
      above_.push(item);
    else
      below_.push(item);
  }
  FastItem<Index> pop() { return below_.empty() ? above_.pop() : below_.pop(); }
  const FastItem<Index>& top() { return below_.empty() ? above_.top() : below_.top(); }
  const FastItem<Index>* peek(size_t ahead) const { return below_.empty() ? above_.peek(ahead) : nullptr; }

 private:
  RadixQueue<Index> above_;
  QuadHeap<Index> below_;  // keys < above_.last() <= every key in above_
};

}  // namespace detail

// `order` fits `markers` (one rank per non-zero marker, distinct, ≥ 0), or is empty.
inline bool validMarkerRanks(const uint32_t* markers, size_t area, const MarkerRanks& order) {
  if (order.ranks == nullptr) return true;
  size_t n = 0;
  for (size_t i = 0; i < area; ++i) n += markers[i] != 0;
  if (n != order.count) return false;
  if (n == 0) return true;
  std::vector<int32_t> sorted(n);
  for (size_t k = 0; k < n; ++k) sorted[k] = order.ranks[k];
  std::sort(sorted.begin(), sorted.end());
  return sorted[0] >= 0 && std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end();
}

namespace detail {

// One pixel of the flood, in TiledGrid order: its surface value, its label so far and whether it may be flooded
// (inside the image and the mask). 16 bytes, so the four neighbours of a pixel are one or two cache lines.
struct FloodSite {
  double value;
  uint32_t label;
  uint32_t open;
};

// Fills the image's sites: value(i), the marker label where the mask (nullptr = everywhere) is set, open there.
// Returns the marker sites in raster order, which fixes skimage's order among marker ties; with `order`, also
// each kept marker's rank (in `ranks`, parallel to the returned sites).
template <typename Value>
std::vector<uint32_t> fillSites(const TiledGrid& grid, const uint8_t* mask, const uint32_t* markers, size_t W,
                                size_t H, FloodSite* sites, const Value& value, const MarkerRanks& order = {},
                                std::vector<int32_t>* ranks = nullptr) {
  std::vector<uint32_t> markerSites;
  size_t k = 0;  // index of the non-zero marker in raster order
  for (size_t y = 0; y < H; ++y)
    for (size_t x = 0; x < W; ++x) {
      const size_t i = y * W + x;
      const bool open = mask == nullptr || mask[i] != 0;
      const uint32_t s = grid.at(x, y);
      sites[s] = FloodSite{value(i), open ? markers[i] : 0u, open ? 1u : 0u};
      if (markers[i] == 0) continue;
      if (open) {
        markerSites.push_back(s);
        if (order.ranks && ranks) ranks->push_back(order.ranks[k]);
      }
      ++k;
    }
  return markerSites;
}

// Where the flood reads values. KnownValues: every site's value is in place. A source that learns values while
// the flood runs (travel_watershed.hpp) implements the same calls:
//   value(n)           the value of site n, waiting for it if need be;
//   tryValue(n, a, v)  the value if known now; else false, and the source queues (value, age a, n) once known;
//   ready(queue)       true when the queue's minimum may be popped, false when the flood is to stop.
struct KnownValues {
  const FloodSite* sites;
  double value(uint32_t n) const { return sites[n].value; }
  bool tryValue(uint32_t n, int32_t, double& v) const {
    v = sites[n].value;
    return true;
  }
  template <typename Queue>
  bool ready(const Queue& queue) const {
    return !queue.empty();
  }
};

// The same calls on a row-major surface.
template <typename T>
struct SurfaceValues {
  const T* surface;
  double value(uint32_t n) const { return static_cast<double>(surface[n]); }
  bool tryValue(uint32_t n, int32_t, double& v) const {
    v = static_cast<double>(surface[n]);
    return true;
  }
  template <typename Queue>
  bool ready(const Queue& queue) const {
    return !queue.empty();
  }
};

// Where the flood keeps labels. TiledSites: FloodSite array in TiledGrid order; frame sites are closed, so
// neighbours need no bounds checks.
struct TiledSites {
  TiledGrid grid;  // a copy: its fields stay in registers
  FloodSite* sites;
  uint32_t neighbour(uint32_t p, int dir) const { return grid.neighbour(p, dir); }
  uint32_t label(uint32_t p) const { return sites[p].label; }
  // Labels site n if it is open and not labelled yet.
  bool claim(uint32_t n, uint32_t label) {
    FloodSite& site = sites[n];
    if (!site.open || site.label != 0) return false;
    site.label = label;
    return true;
  }
  // Flooding hops between fronts all over the image: fetch a later pixel's neighbourhood early.
  void prefetch(uint32_t q) const {
    __builtin_prefetch(&sites[q]);
    __builtin_prefetch(&sites[grid.neighbour(q, 0)]);
    __builtin_prefetch(&sites[grid.neighbour(q, 1)]);
  }
};

// Labels in a row-major image (0 = not labelled yet), open where mask is set; neighbours are bounds-checked.
struct RowMajorSites {
  static constexpr uint32_t kOutside = std::numeric_limits<uint32_t>::max();
  uint32_t* labels;
  const uint8_t* mask;
  size_t width, area;
  uint32_t neighbour(uint32_t p, int dir) const {
    const size_t x = p % width;
    switch (dir) {
      case 0: return p >= width ? static_cast<uint32_t>(p - width) : kOutside;
      case 1: return p + width < area ? static_cast<uint32_t>(p + width) : kOutside;
      case 2: return x > 0 ? p - 1 : kOutside;
      default: return x + 1 < width ? p + 1 : kOutside;
    }
  }
  uint32_t label(uint32_t p) const { return labels[p]; }
  bool claim(uint32_t n, uint32_t label) {
    if (n == kOutside || !mask[n] || labels[n] != 0) return false;
    labels[n] = label;
    return true;
  }
  void prefetch(uint32_t) const {}
};

// skimage's flooding in two phases over any Sites/Values pair:
//   tiedMarkers  pushes the markers (raster order, age 0); while two markers of one value are still queued it
//                replays skimage's exact heap (FloodHeap), then hands every queued item to a fast queue;
//   distinct     floods on from a DistinctKeyQueue until it is empty (or the value source says stop).
// Split so that a flood can hand its queue over after the first phase (watershedByParts).
template <typename Sites, typename Values>
class Flood {
 public:
  Flood(Sites& sites, Values& values, bool raiseToParent, int64_t age = 1)
      : sites_(sites), values_(values), raise_(raiseToParent), age_(age) {}

  int64_t age() const { return age_; }

  // Fast: anything with push(FastItem<uint32_t>). `markers`: the marker sites in raster order.
  // `ranks` (parallel to `markers`, or nullptr): an explicit order among equal values, see MarkerRanks. Markers
  // then carry ages below every pushed pixel's (which start at 1), so no two queued keys tie.
  template <typename Fast>
  void tiedMarkers(const std::vector<uint32_t>& markers, Fast& fast, const std::vector<int32_t>* ranks = nullptr) {
    if (ranks) {
      for (size_t k = 0; k < markers.size(); ++k) {
        const int32_t age = static_cast<int32_t>(int64_t((*ranks)[k]) + std::numeric_limits<int32_t>::min() + 1);
        fast.push({orderedBits(values_.value(markers[k])), age, markers[k]});
      }
      return;
    }
    // Marker values shared by two or more markers: only their relative order needs skimage's exact heap.
    std::vector<uint64_t> markerKeys;
    for (const uint32_t m : markers) markerKeys.push_back(orderedBits(values_.value(m)));
    std::sort(markerKeys.begin(), markerKeys.end());
    std::vector<uint64_t> tiedKeys;  // distinct values held by >= 2 markers, ascending
    std::vector<size_t> tiedLeft;    // markers of that value still queued
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
    std::vector<uint64_t>().swap(markerKeys);
    if (tiedGroups == 0) {
      for (const uint32_t m : markers) fast.push({orderedBits(values_.value(m)), 0, m});
      return;
    }
    FloodHeap<uint32_t> exact(markers.size() + 4096);
    for (const uint32_t m : markers) exact.push({values_.value(m), 0, m});
    for (;;) {  // a tied marker is always queued until the last one pops, so `exact` is not empty here
      const FloodItem<uint32_t> e = exact.pop();
      poppedValue_ = e.value;
      poppedKey_ = orderedBits(e.value);
      bool last = false;
      if (e.age == 0) {
        const auto it = std::lower_bound(tiedKeys.begin(), tiedKeys.end(), poppedKey_);
        last = it != tiedKeys.end() && *it == poppedKey_ && --tiedLeft[size_t(it - tiedKeys.begin())] == 1 &&
               --tiedGroups == 0;
      }
      if (!last) {
        expand(e.index, [&](uint32_t n, int32_t age) {
          double v = values_.value(n);
          if (raise_ && v < poppedValue_) v = poppedValue_;
          exact.push({v, age, n});
        });
        continue;
      }
      // Every queued key is distinct from now on: the queue moves to `fast`, and so do this pixel's pushes.
      while (!exact.empty()) {
        const FloodItem<uint32_t> f = exact.pop();
        fast.push({orderedBits(f.value), f.age, f.index});
      }
      expand(e.index, [&](uint32_t n, int32_t age) { pushFast(fast, n, age); });
      return;
    }
  }

  void distinct(DistinctKeyQueue<uint32_t>& fast) {
    while (values_.ready(fast)) {
      const FastItem<uint32_t> e = fast.pop();
      poppedKey_ = e.key;
      if (const FastItem<uint32_t>* later = fast.peek(2)) sites_.prefetch(later->index);
      expand(e.index, [&](uint32_t n, int32_t age) { pushFast(fast, n, age); });
    }
  }

 private:
  // skimage's neighbour order: up, left, right, down. Each neighbour still open and unlabelled takes p's label
  // and is pushed with the next age.
  template <typename Push>
  void expand(uint32_t p, const Push& push) {
    const uint32_t label = sites_.label(p);
    for (const int dir : {0, 2, 3, 1}) {
      const uint32_t n = sites_.neighbour(p, dir);
      if (!sites_.claim(n, label)) continue;
      ++age_;
      push(n, static_cast<int32_t>(static_cast<uint32_t>(age_)));
    }
  }

  template <typename Fast>
  void pushFast(Fast& fast, uint32_t n, int32_t age) {
    double v;
    if (!values_.tryValue(n, age, v)) return;  // queued by the source later, above every value popped until then
    const uint64_t key = orderedBits(v);
    fast.push({raise_ && key < poppedKey_ ? poppedKey_ : key, age, n});
  }

  Sites& sites_;
  Values& values_;
  bool raise_;
  int64_t age_;
  double poppedValue_ = 0;  // priority of the pixel being expanded (raiseToParent)
  uint64_t poppedKey_ = 0;
};

// Floods sites (labels = the markers inside the mask, 0 elsewhere); `markers` lists the marker sites in raster
// order, which fixes skimage's order among marker ties.
template <typename Values>
void floodSites(const TiledGrid& grid, FloodSite* sites, const std::vector<uint32_t>& markers, bool raiseToParent,
                Values& values, const std::vector<int32_t>* ranks = nullptr) {
  TiledSites tiled{grid, sites};
  Flood<TiledSites, Values> flood(tiled, values, raiseToParent);
  DistinctKeyQueue<uint32_t> fast;
  flood.tiedMarkers(markers, fast, ranks);
  flood.distinct(fast);
}

// Masks of many small 4-connected parts (nuclei) flood part by part: the flood never crosses from one part to
// another, and once every marker tie is resolved all queued keys are distinct, so each part's pops come in the
// same order as in one global flood (each pop is the global minimum, hence its part's). Only the first phase —
// whose tie order depends on skimage's heap over ALL markers — runs on the whole image (it normally pops just the
// markers). false: the mask is not worth splitting, nothing was written.
template <typename T>
bool watershedByParts(const T* surface, const uint32_t* markers, const uint8_t* mask, size_t W, size_t H,
                      uint32_t* out, bool raiseToParent, size_t threads, const MarkerRanks& order) {
  const size_t area = W * H;
  if (mask == nullptr || area < (size_t(1) << 16)) return false;
  const Components parts(W, H, mask, [&](size_t i) { return markers[i] != 0; });
  if (!worthSplitting(parts, area)) return false;

  std::vector<uint32_t> markerSites;
  std::vector<int32_t> ranks;
  for (size_t i = 0, k = 0; i < area; ++i) {
    out[i] = mask[i] ? markers[i] : 0u;
    if (out[i] != 0) {
      markerSites.push_back(static_cast<uint32_t>(i));
      if (order.ranks) ranks.push_back(order.ranks[k]);
    }
    k += markers[i] != 0;
  }
  struct Collect {
    std::vector<FastItem<uint32_t>> items;
    void push(const FastItem<uint32_t>& item) { items.push_back(item); }
  } pending;
  RowMajorSites rows{out, mask, W, area};
  SurfaceValues<T> surfaceValues{surface};
  Flood<RowMajorSites, SurfaceValues<T>> global(rows, surfaceValues, raiseToParent);
  global.tiedMarkers(markerSites, pending, order.ranks ? &ranks : nullptr);

  // The pending items of each part, contiguous (counting sort by part).
  std::vector<size_t> first(parts.boxes.size() + 2, 0);
  for (const FastItem<uint32_t>& it : pending.items) ++first[parts.id[it.index] + 1];
  for (size_t c = 1; c < first.size(); ++c) first[c] += first[c - 1];
  std::vector<FastItem<uint32_t>> byPart(pending.items.size());
  {
    std::vector<size_t> next(first.begin(), first.end() - 1);
    for (const FastItem<uint32_t>& it : pending.items) byPart[next[parts.id[it.index]]++] = it;
  }
  const int64_t age = global.age();
  parallelFor(threads, parts.boxes.size(), 16, [&](size_t c0, size_t c1) {
    for (size_t c = c0; c < c1; ++c) {
      const uint32_t id = static_cast<uint32_t>(c + 1);
      if (first[id] == first[id + 1]) continue;  // nothing left to flood
      const Components::Box& b = parts.boxes[c];
      const size_t w = b.x1 - b.x0 + 1, h = b.y1 - b.y0 + 1;
      TiledGrid grid;
      grid.init(int64_t(w), int64_t(h));  // no larger than the image, which fits
      ScratchArray<FloodSite> sites(grid.framedArea(), FloodSite{0.0, 0u, 0u});
      for (size_t y = 0; y < h; ++y)
        for (size_t x = 0; x < w; ++x) {
          const size_t i = (b.y0 + y) * W + b.x0 + x;
          if (parts.id[i] == id) sites[grid.at(x, y)] = FloodSite{static_cast<double>(surface[i]), out[i], 1u};
        }
      DistinctKeyQueue<uint32_t> fast;
      for (size_t k = first[id]; k < first[id + 1]; ++k) {
        const FastItem<uint32_t>& it = byPart[k];
        fast.push({it.key, it.age, grid.at(it.index % W - b.x0, it.index / W - b.y0)});
      }
      TiledSites tiled{grid, sites.data()};
      KnownValues known{sites.data()};
      Flood<TiledSites, KnownValues> flood(tiled, known, raiseToParent, age);
      flood.distinct(fast);
      for (size_t y = 0; y < h; ++y)
        for (size_t x = 0; x < w; ++x) {
          const size_t i = (b.y0 + y) * W + b.x0 + x;
          if (parts.id[i] == id) out[i] = sites[grid.at(x, y)].label;
        }
    }
  });
  return true;
}

}  // namespace detail

// surface: float/double (no NaN: validated by the caller, checked here); markers: 0 = no marker;
// mask: nullptr (everything) or 0/non-zero bytes. out receives the labels (may not alias the inputs).
// raiseToParent = false: scikit-image 0.19–0.24. raiseToParent = true: scikit-image >= 0.25.2, where a pushed
// pixel's priority is raised to that of the pixel it was reached from (max(surface, parent priority)); the
// flooding then differs from 0.19 only where priorities tie (plateaus), e.g. on -EDT surfaces.
template <typename T>
Status watershedFromMarkers(const T* surface, const uint32_t* markers, const uint8_t* mask, int64_t width,
                            int64_t height, uint32_t* out, bool raiseToParent, size_t threads,
                            const MarkerRanks& order = {}) {
  size_t area;
  if (!checkedArea(width, height, area)) return Status::BadShape;
  for (size_t i = 0; i < area; ++i)
    if (std::isnan(surface[i])) return Status::BadValue;
  if (!validMarkerRanks(markers, area, order)) return Status::BadArgument;
  TiledGrid grid;
  if (!grid.init(width, height)) return Status::BadShape;
  const size_t W = static_cast<size_t>(width), H = static_cast<size_t>(height);
  if (detail::watershedByParts(surface, markers, mask, W, H, out, raiseToParent, threads, order)) return Status::Ok;
  ScratchArray<detail::FloodSite> sites(grid.framedArea(), detail::FloodSite{0.0, 0u, 0u});
  std::vector<int32_t> ranks;
  const std::vector<uint32_t> markerSites = detail::fillSites(
      grid, mask, markers, W, H, sites.data(), [&](size_t i) { return static_cast<double>(surface[i]); }, order,
      &ranks);
  detail::KnownValues known{sites.data()};
  detail::floodSites(grid, sites.data(), markerSites, raiseToParent, known, order.ranks ? &ranks : nullptr);
  for (size_t y = 0; y < H; ++y)
    for (size_t x = 0; x < W; ++x) out[y * W + x] = sites[grid.at(x, y)].label;
  return Status::Ok;
}

}  // namespace scseg
