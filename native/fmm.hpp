// Fast marching on a 2-D grid, reproducing scikit-fmm 2022.08 (skfmm.distance / skfmm.travel_time with dx = 1,
// order = 2, no narrow band, not periodic) as scPortrait calls it: phi = 0 at the seed pixels, 1 elsewhere, and
// masked where a pixel is not allowed.
//
//   fmmDistance   — geodesic distance from the seeds through the allowed pixels (Eikonal |grad T| = 1)
//   fmmTravelTime — arrival time from the seeds with speed F (Eikonal F |grad T| = 1)
//
// Results: 0 at seeds, the marched value at every allowed pixel reachable from a seed, and +Infinity at pixels that
// are not allowed or not reachable (skfmm returns those entries masked). Seeds outside `allowed` are ignored, like
// the masked zeros of the original. No seed at all gives +Infinity everywhere (skfmm raises ValueError instead).
// Travel time also masks pixels with F < DBL_EPSILON, as skfmm does; F must be finite and > 0 (else BadValue).
//
// The results equal scikit-fmm's bit for bit, because this follows its marching rules and arithmetic exactly:
//  * pixel states Far / Narrow / Frozen / Masked; pixels outside the image behave as Masked;
//  * the initial band = the Far 4-neighbours of the seeds, each computed from the seeds alone;
//  * each step freezes the smallest key AND every other entry with exactly that key, then recomputes the neighbours
//    of all pixels frozen in the step: a Far neighbour joins the band, a Narrow one gets its new value even when
//    it is larger — in both cases only if the new value is non-zero (a Far pixel computing 0 stays Far);
//  * second-order reach-over: when a frozen pixel's neighbour along an axis is Frozen, the Narrow pixel two steps
//    away along that axis is recomputed too, as it has gained a second-order stencil;
//  * per axis the stencil takes the Frozen neighbour with the smallest |T| (ties: the −1 side) and, if the pixel
//    beyond it on the SAME side is Frozen and no farther from zero, the second-order value
//    tp = (1/3)(4 T1 − T2) with weight 9/4; otherwise first order with weight 1. As in skfmm a second value found
//    on the −1 side is kept when the +1 side then wins the first value without having a second value;
//  * quadratic a T² + b T + c = 0 with c −= 1 (distance) or c −= 1/F² (travel time), root (−b + √det)/2/a;
//    on a negative discriminant distance falls back to the first-order stencil (and then to −b/2a), travel time
//    retries with one axis left out and keeps the smaller result (first candidate = axis 0 dropped);
//  * expressions keep skfmm's operation order (e.g. (4a)c, (1/3)(4T1 − T2)); the build has no FMA contraction,
//    and gcc compiles skfmm's pow(x, 2) to x*x, so native, WASM and skfmm (x86-64) agree to the last bit.
// Why the queue's tie-breaking does not matter (so ours is a bucketed lazy-deletion heap, not skfmm's heap): all
// entries with the minimum key leave the queue together (and are all frozen first), and every value computed while
// their neighbours are visited reads only Frozen pixels, which do not change during that visit; so each visited
// pixel ends the step with the same value and state in whatever order the visits happen. The band after each step
// is therefore the same whatever order equal keys came out in, and so is every later step. This needs keys that
// compare (no NaN): all values here are ≥ 0 and not NaN — seeds are 0, a ≥ 1 for every updated pixel, F > 0 is
// validated. (Tested: bit-identical to skfmm on thousands of random grids, including keys of 1e7.)
#pragma once
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "common.hpp"

// The stencil helpers take a, b, c by reference; out of line (clang leaves them so for WASM) those live on the
// linear-memory stack, which made WASM travelTime ~25 % slower. Forced inlining keeps them in registers.
#if defined(__GNUC__)
#define SCSEG_FMM_INLINE __attribute__((always_inline)) inline
#else
#define SCSEG_FMM_INLINE inline
#endif

namespace scseg {
namespace fmm_detail {

enum : uint8_t { kFar = 0, kNarrow = 1, kFrozen = 2, kMasked = 3 };

// Exact min-queue of (key, pixel) for keys that mostly grow, as an arrival front's do. Keys are sorted into buckets
// of width kBucketWidth; only the current bucket is a binary heap (small enough to stay in cache), later buckets
// wait unsorted and are heapified when their turn comes. A key that falls into the current or an earlier bucket
// goes straight into the heap, so the top is always the true minimum. A pixel's key is changed by pushing it
// again; entries that no longer match the pixel's value (or whose pixel is frozen) are dropped by the marcher.
// Waiting buckets are lists of fixed-size chunks from one recycled pool: contiguous enough to refill fast, and
// memory grows in a few doublings (on WASM every growth of linear memory costs a V8 garbage collection).
class FrontQueue {
 public:
  struct Entry {
    double key;
    uint32_t pixel;
    uint32_t tag;  // the pixel's state byte when pushed: the entry is live while the byte still equals it
  };

  // Makes the smallest entry available as top(); false once the queue is empty.
  bool ready() {
    if (heap_.empty()) refill();
    return !heap_.empty();
  }
  const Entry& top() const { return heap_[0]; }

  void push(uint32_t pixel, uint32_t tag, double key) {
    const size_t b = bucketOf(key);
    if (b <= current_) {
      heap_.push_back({key, pixel, tag});
      siftUp(heap_.size() - 1);
      return;
    }
    if (b >= head_.size()) head_.resize(std::max(b + 1, 2 * head_.size()), kNil);
    uint32_t c = head_[b];
    if (c == kNil || chunks_[c].count == kChunkEntries) {
      const uint32_t fresh = newChunk();
      chunks_[fresh].next = c;
      head_[b] = c = fresh;
    }
    Chunk& chunk = chunks_[c];
    chunk.items[chunk.count++] = Entry{key, pixel, tag};
    ++waiting_;
  }

  // The pixels of the entries likely to come out next (the children of the top).
  uint32_t nextPixel(size_t k) const { return k < heap_.size() ? heap_[k].pixel : heap_[0].pixel; }

  void pop() {
    heap_[0] = heap_.back();
    heap_.pop_back();
    if (!heap_.empty()) siftDown(0);
  }

 private:
  static constexpr uint32_t kNil = std::numeric_limits<uint32_t>::max();
  static constexpr uint32_t kChunkEntries = 63;
  struct Chunk {
    uint32_t next, count;
    Entry items[kChunkEntries];
  };
  // Narrow buckets keep the heap small (values grow by ≤ 1/F per pixel, typically 1..10); keys beyond the last
  // bucket (8192 here) all share it — still exact, just a bigger heap.
  static constexpr double kBucketWidth = 1.0 / 32;
  static constexpr size_t kLastBucket = size_t(1) << 18;

  // Monotone in the key, so every entry of a later bucket is larger than every entry of an earlier one.
  static size_t bucketOf(double key) {
    const double b = key / kBucketWidth;
    return b < double(kLastBucket) ? static_cast<size_t>(b) : kLastBucket;
  }

  uint32_t newChunk() {
    if (freeChunk_ == kNil) {
      chunks_.emplace_back();
      chunks_.back().next = kNil;
      return static_cast<uint32_t>(chunks_.size() - 1);
    }
    const uint32_t c = freeChunk_;
    freeChunk_ = chunks_[c].next;
    chunks_[c].count = 0;
    return c;
  }

  void refill() {
    while (waiting_ > 0) {
      uint32_t c = head_[++current_];
      if (c == kNil) continue;
      head_[current_] = kNil;
      while (c != kNil) {
        Chunk& chunk = chunks_[c];
        heap_.insert(heap_.end(), chunk.items, chunk.items + chunk.count);
        waiting_ -= chunk.count;
        const uint32_t next = chunk.next;
        chunk.next = freeChunk_;
        freeChunk_ = c;
        c = next;
      }
      for (size_t i = heap_.size() / 2; i-- > 0;) siftDown(i);
      return;
    }
  }

  void siftUp(size_t pos) {
    const Entry e = heap_[pos];
    while (pos > 0) {
      const size_t parent = (pos - 1) / 2;
      if (!(e.key < heap_[parent].key)) break;
      heap_[pos] = heap_[parent];
      pos = parent;
    }
    heap_[pos] = e;
  }

  void siftDown(size_t pos) {
    const Entry e = heap_[pos];
    const size_t n = heap_.size();
    for (size_t child = 2 * pos + 1; child < n; child = 2 * pos + 1) {
      if (child + 1 < n && heap_[child + 1].key < heap_[child].key) ++child;
      if (!(heap_[child].key < e.key)) break;
      heap_[pos] = heap_[child];
      pos = child;
    }
    heap_[pos] = e;
  }

  std::vector<Entry> heap_;     // entries of buckets 0..current_
  std::vector<uint32_t> head_;  // newest chunk of each later bucket
  std::vector<Chunk> chunks_;   // all chunks; unused ones are linked from freeChunk_
  uint32_t freeChunk_ = kNil;
  size_t current_ = 0, waiting_ = 0;
};

// A pixel's value and right-hand side side by side: the front visits pixels in no spatial order, so reading
// them from one cache line instead of two matters.
struct Cell {
  double t;    // current value (Narrow), final value (Frozen)
  double rhs;  // 1 (distance) or 1/F² (travel time), computed once as skfmm does per update: 1 / (F * F)
};

constexpr double kNone = std::numeric_limits<double>::max();  // skfmm's "no frozen neighbour on this axis"
constexpr double kOneThird = 1.0 / 3.0;
constexpr double kSecondOrderWeight = 9.0 / 4.0;

// The march over a row-major grid. state: Masked / Frozen (seed) / Far per pixel on entry, Frozen = reached on
// exit; cells: t = 0 at seeds on entry, final values at Frozen pixels on exit (other values are meaningless).
class Marcher {
 public:
  Marcher(int64_t width, int64_t height, bool travelTime, uint8_t* state, Cell* cells)
      : w_(width), h_(height), travel_(travelTime), state_(state), cells_(cells) {}

  void run() {
    buildInitialBand();
    march();
  }

 private:
  // The neighbours of one pixel along one axis: at ∓step (present if has[0]/has[2]) and ∓2·step (has[1]/has[3]).
  // Axis 0 = rows (step = width), axis 1 = columns (step 1): numpy's C order as skfmm sees it.
  struct Axis {
    int64_t step;
    bool has[4];  // −1, −2, +1, +2
  };
  Axis axis(int dim, int64_t x, int64_t y) const {
    const int64_t c = dim == 0 ? y : x, n = dim == 0 ? h_ : w_;
    return Axis{dim == 0 ? w_ : 1, {c >= 1, c >= 2, c + 1 < n, c + 2 < n}};
  }

  bool frozen(size_t i) const { return state_[i] == kFrozen; }

  // Adds one axis' term of the quadratic for pixel i.
  SCSEG_FMM_INLINE void addAxisTerm(size_t i, const Axis& ax, double& a, double& b, double& c, bool secondOrder) const {
    double v1 = kNone, v2 = kNone;
    for (int side = 0; side < 2; ++side) {
      const int64_t dir = side == 0 ? -1 : 1;
      if (!ax.has[2 * side]) continue;
      const size_t n1 = i + static_cast<size_t>(dir * ax.step);
      if (!frozen(n1) || !(std::fabs(cells_[n1].t) < std::fabs(v1))) continue;
      v1 = cells_[n1].t;
      if (!secondOrder || !ax.has[2 * side + 1]) continue;
      const size_t n2 = i + static_cast<size_t>(2 * dir * ax.step);
      if (frozen(n2) && ((cells_[n2].t <= v1 && v1 >= 0) || (cells_[n2].t >= v1 && v1 <= 0))) v2 = cells_[n2].t;
    }
    if (v2 < kNone) {
      const double tp = kOneThird * (4 * v1 - v2);
      a += kSecondOrderWeight;
      b -= 2 * kSecondOrderWeight * tp;
      c += kSecondOrderWeight * (tp * tp);
    } else if (v1 < kNone) {
      a += 1;
      b -= 2 * v1;
      c += v1 * v1;
    }
  }

  // Larger root of a T² + b T + (c − rhs) = 0; false on a negative discriminant.
  SCSEG_FMM_INLINE bool solve(size_t i, double a, double b, double c, double& root) const {
    c -= cells_[i].rhs;
    const double det = b * b - 4 * a * c;
    if (!(det >= 0)) return false;
    root = (-b + std::sqrt(det)) / 2.0 / a;
    return true;
  }

  // skfmm's second-order update with the axes in `skipAxes` (bit mask) left out.
  SCSEG_FMM_INLINE bool secondOrder(size_t i, int64_t x, int64_t y, unsigned skipAxes, double& root) const {
    double a = 0, b = 0, c = 0;
    for (int dim = 0; dim < 2; ++dim)
      if (!(skipAxes & (1u << dim))) addAxisTerm(i, axis(dim, x, y), a, b, c, true);
    return solve(i, a, b, c, root);
  }

  // travel_time: on failure, drop one more axis at a time and keep the smallest result. (With every axis dropped
  // skfmm's quadratic has det = 0 and a = 0, so its "unreachable voxel" error cannot occur in 2-D; the +inf
  // returns only mirror its recursion. A failure at the top level needs frozen neighbours on both axes, so each
  // one-axis retry has a > 0 and det = 4a/F² > 0: no NaN.)
  double travelUpdate(size_t i, int64_t x, int64_t y, unsigned skipAxes) const {
    double root;
    if (secondOrder(i, x, y, skipAxes, root)) return root;
    if (skipAxes == 3u) return std::numeric_limits<double>::infinity();
    bool have = false;
    double best = std::numeric_limits<double>::infinity();
    for (int dim = 0; dim < 2; ++dim) {
      if (skipAxes & (1u << dim)) continue;
      const double r = travelUpdate(i, x, y, skipAxes | (1u << dim));
      if (!have || r < best) best = r;
      have = true;
    }
    return best;
  }

  // distance: on failure, first order; if that fails too, the vertex of the parabola.
  double distanceUpdate(size_t i, int64_t x, int64_t y) const {
    double root;
    if (secondOrder(i, x, y, 0u, root)) return root;
    double a = 0, b = 0, c = 0;
    for (int dim = 0; dim < 2; ++dim) addAxisTerm(i, axis(dim, x, y), a, b, c, false);
    if (solve(i, a, b, c, root)) return root;
    return -b / (2.0 * a);
  }

  double update(size_t i, int64_t x, int64_t y) const {
    return travel_ ? travelUpdate(i, x, y, 0u) : distanceUpdate(i, x, y);
  }

  void buildInitialBand() {
    for (int64_t y = 0; y < h_; ++y)
      for (int64_t x = 0; x < w_; ++x) {
        const size_t i = static_cast<size_t>(y * w_ + x);
        if (state_[i] != kFar) continue;
        const bool touchesSeed = (y >= 1 && frozen(i - static_cast<size_t>(w_))) ||
                                 (y + 1 < h_ && frozen(i + static_cast<size_t>(w_))) || (x >= 1 && frozen(i - 1)) ||
                                 (x + 1 < w_ && frozen(i + 1));
        if (!touchesSeed) continue;
        const double d = update(i, x, y);
        state_[i] = kNarrow;
        cells_[i].t = d;
        front_.push(static_cast<uint32_t>(i), std::fabs(d));
      }
  }

  void refresh(size_t n, int64_t x, int64_t y) {
    const double d = update(n, x, y);
    if (d == 0) return;
    if (std::fabs(d) != std::fabs(cells_[n].t)) front_.push(static_cast<uint32_t>(n), std::fabs(d));
    cells_[n].t = d;
  }

  void visitNeighbours(size_t p) {
    const int64_t y = static_cast<int64_t>(p) / w_, x = static_cast<int64_t>(p) - y * w_;
    for (int dim = 0; dim < 2; ++dim) {
      const Axis ax = axis(dim, x, y);
      for (int side = 0; side < 2; ++side) {
        if (!ax.has[2 * side]) continue;
        const int64_t dir = side == 0 ? -1 : 1;
        const size_t n = p + static_cast<size_t>(dir * ax.step);
        const uint8_t s = state_[n];
        if (s == kNarrow) {
          refresh(n, x + (dim == 1 ? dir : 0), y + (dim == 0 ? dir : 0));
        } else if (s == kFar) {
          const double d = update(n, x + (dim == 1 ? dir : 0), y + (dim == 0 ? dir : 0));
          if (d != 0) {
            cells_[n].t = d;
            state_[n] = kNarrow;
            front_.push(static_cast<uint32_t>(n), std::fabs(d));
          }
        } else if (s == kFrozen && ax.has[2 * side + 1]) {
          const size_t n2 = p + static_cast<size_t>(2 * dir * ax.step);
          if (state_[n2] == kNarrow) refresh(n2, x + (dim == 1 ? 2 * dir : 0), y + (dim == 0 ? 2 * dir : 0));
        }
      }
    }
  }

  // Brings the smallest up-to-date entry to the top, dropping entries whose pixel is frozen or has a new value.
  bool nextLive() {
    while (front_.ready()) {
      const FrontQueue::Entry& e = front_.top();
      if (state_[e.pixel] == kNarrow && std::fabs(cells_[e.pixel].t) == e.key) return true;
      front_.pop();
    }
    return false;
  }

  void march() {
    std::vector<uint32_t> step;
    while (marchStep(step)) {
    }
  }

  // One step: freeze every entry with the smallest key, then visit their neighbours. Kept out of line because V8
  // has no on-stack replacement for WASM: a loop runs in the tier its function was entered with, and march() is
  // entered once, in the baseline compiler; this function is entered per step and soon runs optimised code.
#if defined(__GNUC__)
  __attribute__((noinline))
#endif
  bool marchStep(std::vector<uint32_t>& step) {
    if (!nextLive()) return false;
    const double key = front_.top().key;
    step.clear();
    do {
      const uint32_t p = front_.top().pixel;
      front_.pop();
      state_[p] = kFrozen;
      step.push_back(p);
    } while (nextLive() && front_.top().key == key);
    for (uint32_t p : step) visitNeighbours(p);
    return true;
  }

  int64_t w_, h_;
  bool travel_;
  uint8_t* state_;
  Cell* cells_;
  FrontQueue front_;
};

inline Status runFastMarching(const uint8_t* seeds, const uint8_t* allowed, const double* speed, int64_t width,
                              int64_t height, double* out) {
  size_t n;
  if (!checkedArea(width, height, n) || n > size_t(std::numeric_limits<uint32_t>::max())) return Status::BadShape;
  if (speed) {
    for (size_t i = 0; i < n; ++i)
      if (!(speed[i] > 0) || !std::isfinite(speed[i])) return Status::BadValue;
  }
  std::vector<uint8_t> state(n);
  std::vector<Cell> cells(n);
  for (size_t i = 0; i < n; ++i) {
    const bool masked = !allowed[i] || (speed && speed[i] < DBL_EPSILON);
    state[i] = masked ? kMasked : seeds[i] ? kFrozen : kFar;
    cells[i] = Cell{0.0, speed ? 1 / (speed[i] * speed[i]) : 1.0};
  }
  Marcher(width, height, speed != nullptr, state.data(), cells.data()).run();
  for (size_t i = 0; i < n; ++i)
    out[i] = state[i] == kFrozen ? cells[i].t : std::numeric_limits<double>::infinity();
  return Status::Ok;
}

}  // namespace fmm_detail

// Geodesic distance (2nd-order FMM, unit grid) from the seed pixels through the allowed pixels.
// seeds/allowed: 0 = no, anything else = yes. out: width*height doubles. See the header comment for semantics.
inline Status fmmDistance(const uint8_t* seeds, const uint8_t* allowed, int64_t width, int64_t height, double* out) {
  return fmm_detail::runFastMarching(seeds, allowed, nullptr, width, height, out);
}

// Arrival time (2nd-order FMM, unit grid) from the seed pixels through the allowed pixels at the given speed
// (finite and > 0 everywhere, else BadValue; speeds below DBL_EPSILON mask their pixel, as in skfmm).
inline Status fmmTravelTime(const uint8_t* seeds, const uint8_t* allowed, const double* speed, int64_t width,
                            int64_t height, double* out) {
  if (speed == nullptr) return Status::BadArgument;
  return fmm_detail::runFastMarching(seeds, allowed, speed, width, height, out);
}

}  // namespace scseg

#undef SCSEG_FMM_INLINE
