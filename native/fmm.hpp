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
#include <atomic>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "common.hpp"
#include "components.hpp"
#include "parallel.hpp"
#include "scratch.hpp"
#include "tiles.hpp"

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

  // True once after each refill of the heap from a waiting bucket; the heap then holds that whole bucket.
  bool takeRefilled() {
    const bool r = refilled_;
    refilled_ = false;
    return r;
  }
  size_t size() const { return heap_.size(); }
  uint32_t pixelAt(size_t k) const { return heap_[k].pixel; }

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
  // Narrow buckets keep the heap small (values grow by ≤ 1/F per pixel, typically 1..10; 1/512 was ~1.5x faster
  // than 1/32 on a 2048² cytosol march); keys beyond the last bucket (4096 here) all share it — still exact, just a
  // bigger heap. head_ only grows as far as the keys go.
  static constexpr double kBucketWidth = 1.0 / 512;
  static constexpr size_t kLastBucket = size_t(1) << 21;

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
      refilled_ = true;
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
  bool refilled_ = false;
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

// The march runs on a copy of the grid in TiledGrid order (tiles.hpp), its frame Masked, so that every neighbour
// looked at exists: a pixel's ±1 neighbours always do, and a ±2 pixel is only read beyond a Frozen ±1 neighbour,
// which is inside. A 16 x 16 tile of cells is one 4 KiB page.
// state: low two bits = Masked / Frozen (seed) / Far on entry, Frozen = reached on exit; the upper six bits count
// the pixel's pushes, and an entry carries the whole byte it set, so the queue tells a pixel's latest entry
// without reading its value. (The count cannot wrap: a pixel is pushed at most 9 times — once into the initial
// band, then only when one of its 4 neighbours or one of the 4 pixels two steps away is frozen.) The latest entry
// always has key |t|; an older entry with that same key (value changed and changed back) is now dropped where
// skfmm's rule would keep it, but the pixel is still frozen in the same step, by the latest entry.
// cells: t = 0 at seeds on entry, final values at Frozen pixels on exit (other values are meaningless).

}  // namespace fmm_detail

// What the march has frozen so far, for a reader on another thread (travel_watershed.hpp floods behind the front):
// (TiledGrid index, final value) of each pixel in freeze order, seeds first, in a ring of `capacity` entries (a
// power of two; entry k lives at k & (capacity − 1)). The reader may use entries [consumed, published) (acquire)
// and then raises `consumed` (release) to hand their slots back; the march waits for a free slot, so the ring
// holds only the stretch between the front and the flood instead of 16 bytes for every pixel. `finished` is set
// once the march is over (also on an early error return); a reader that stops early sets `abandoned`, and the
// march then logs nothing more rather than wait for it.
struct FreezeLog {
  struct Entry {
    uint32_t site;
    double value;
  };
  Entry* entries;
  size_t capacity;
  std::atomic<size_t> published{0};
  std::atomic<size_t> consumed{0};
  std::atomic<bool> finished{false};
  std::atomic<bool> abandoned{false};

  Entry& at(size_t k) { return entries[k & (capacity - 1)]; }
  const Entry& at(size_t k) const { return entries[k & (capacity - 1)]; }
};

namespace fmm_detail {

class Marcher {
 public:
  Marcher(const TiledGrid& grid, bool travelTime, uint8_t* state, Cell* cells, FreezeLog* log,
          const uint8_t* targets = nullptr, size_t targetCount = 0)
      : grid_(grid), travel_(travelTime), state_(state), cells_(cells), log_(log), targets_(targets),
        targetsLeft_(targetCount) {}

  // pixels: the size of the framed grid.
  void run(uint32_t pixels) {
    if (log_) {
      for (uint32_t i = 0; i < pixels; ++i)
        if (kind(i) == kFrozen) logFrozen(i);
      publish();
    }
    buildInitialBand(pixels);
    march();
    if (log_) publish();
  }

 private:
  static constexpr uint8_t kStateBits = 3, kTagUnit = 4;
  // Neighbour directions: 0 = row above, 1 = row below (axis 0), 2 = column left, 3 = column right (axis 1).
  SCSEG_FMM_INLINE uint32_t neighbour(uint32_t i, int dir) const { return grid_.neighbour(i, dir); }

  uint8_t kind(uint32_t i) const { return state_[i] & kStateBits; }
  bool frozen(uint32_t i) const { return kind(i) == kFrozen; }

  // Adds one axis' term of the quadratic for pixel i (axis 0 = rows, axis 1 = columns: numpy's C order as skfmm
  // sees it).
  SCSEG_FMM_INLINE void addAxisTerm(uint32_t i, int axis, double& a, double& b, double& c, bool secondOrder) const {
    double v1 = kNone, v2 = kNone;
    for (int side = 0; side < 2; ++side) {
      const int dir = 2 * axis + side;
      const uint32_t n1 = neighbour(i, dir);
      if (!frozen(n1) || !(std::fabs(cells_[n1].t) < std::fabs(v1))) continue;
      v1 = cells_[n1].t;
      if (!secondOrder) continue;
      const uint32_t n2 = neighbour(n1, dir);
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
  SCSEG_FMM_INLINE bool solve(uint32_t i, double a, double b, double c, double& root) const {
    c -= cells_[i].rhs;
    const double det = b * b - 4 * a * c;
    if (!(det >= 0)) return false;
    root = (-b + std::sqrt(det)) / 2.0 / a;
    return true;
  }

  // skfmm's second-order update with the axes in `skipAxes` (bit mask) left out.
  SCSEG_FMM_INLINE bool secondOrder(uint32_t i, unsigned skipAxes, double& root) const {
    double a = 0, b = 0, c = 0;
    if (!(skipAxes & 1u)) addAxisTerm(i, 0, a, b, c, true);
    if (!(skipAxes & 2u)) addAxisTerm(i, 1, a, b, c, true);
    return solve(i, a, b, c, root);
  }

  // travel_time: on failure, drop one more axis at a time and keep the smallest result. (With every axis dropped
  // skfmm's quadratic has det = 0 and a = 0, so its "unreachable voxel" error cannot occur in 2-D; the +inf
  // returns only mirror its recursion. A failure at the top level needs frozen neighbours on both axes, so each
  // one-axis retry has a > 0 and det = 4a/F² > 0: no NaN.)
  double travelUpdate(uint32_t i, unsigned skipAxes) const {
    double root;
    if (secondOrder(i, skipAxes, root)) return root;
    if (skipAxes == 3u) return std::numeric_limits<double>::infinity();
    bool have = false;
    double best = std::numeric_limits<double>::infinity();
    for (int dim = 0; dim < 2; ++dim) {
      if (skipAxes & (1u << dim)) continue;
      const double r = travelUpdate(i, skipAxes | (1u << dim));
      if (!have || r < best) best = r;
      have = true;
    }
    return best;
  }

  // distance: on failure, first order; if that fails too, the vertex of the parabola.
  double distanceUpdate(uint32_t i) const {
    double root;
    if (secondOrder(i, 0u, root)) return root;
    double a = 0, b = 0, c = 0;
    addAxisTerm(i, 0, a, b, c, false);
    addAxisTerm(i, 1, a, b, c, false);
    if (solve(i, a, b, c, root)) return root;
    return -b / (2.0 * a);
  }

  SCSEG_FMM_INLINE double update(uint32_t i) const {
    if (travel_) {
      double root;
      if (secondOrder(i, 0u, root)) return root;
      return travelUpdate(i, 0u);  // rare: recomputes the failed top level, then retries (pure, so same result)
    }
    return distanceUpdate(i);
  }

  // Gives pixel i the value d and queues it under the next tag.
  SCSEG_FMM_INLINE void enqueue(uint32_t i, double d) {
    const uint8_t tag = static_cast<uint8_t>(((state_[i] & ~kStateBits) + kTagUnit) | kNarrow);
    state_[i] = tag;
    cells_[i].t = d;
    front_.push(i, tag, std::fabs(d));
  }

  // Frame pixels are Masked, so neighbours are only looked up inside.
  void buildInitialBand(uint32_t pixels) {
    for (uint32_t i = 0; i < pixels; ++i) {
      if (kind(i) != kFar) continue;
      const bool touchesSeed =
          frozen(neighbour(i, 0)) || frozen(neighbour(i, 1)) || frozen(neighbour(i, 2)) || frozen(neighbour(i, 3));
      if (!touchesSeed) continue;
      enqueue(i, update(i));
    }
  }

  SCSEG_FMM_INLINE void refresh(uint32_t n) {
    const double d = update(n);
    if (d == 0) return;
    if (std::fabs(d) != std::fabs(cells_[n].t))
      enqueue(n, d);
    else
      cells_[n].t = d;
  }

  void visitNeighbours(uint32_t p) {
    for (int k = 0; k < 4; ++k) {
      const uint32_t n = neighbour(p, k);
      const uint8_t s = kind(n);
      if (s == kNarrow) {
        refresh(n);
      } else if (s == kFar) {
        const double d = update(n);
        if (d != 0) enqueue(n, d);
      } else if (s == kFrozen) {
        const uint32_t n2 = neighbour(n, k);
        if (kind(n2) == kNarrow) refresh(n2);
      }
    }
  }

  SCSEG_FMM_INLINE void prefetch(uint32_t p) const {
#if defined(__GNUC__)
    const uint32_t up = neighbour(p, 0), down = neighbour(p, 1);
    __builtin_prefetch(&state_[p]);
    __builtin_prefetch(&state_[up]);
    __builtin_prefetch(&state_[down]);
    __builtin_prefetch(&cells_[up]);
    __builtin_prefetch(&cells_[p]);
    __builtin_prefetch(&cells_[down]);
#else
    (void)p;
#endif
  }

  // Everything expanding p reads: rows p−2..p+2 (the update of p's neighbour above reads that neighbour's own
  // neighbour above) and p's left and right neighbours. Fetched a few pixels ahead in a step: on a 2048² cytosol
  // march the front spans tens of MB, so these reads would otherwise miss one after another (~20 % faster than
  // fetching rows p−1..p+1 only; rows ±3, fetched too, gave nothing measurable).
  SCSEG_FMM_INLINE void prefetchExpansion(uint32_t p) const {
#if defined(__GNUC__)
    const uint32_t up2 = neighbour(neighbour(p, 0), 0), down2 = neighbour(neighbour(p, 1), 1);
    __builtin_prefetch(&state_[up2]);
    __builtin_prefetch(&state_[down2]);
    __builtin_prefetch(&cells_[up2]);
    __builtin_prefetch(&cells_[down2]);
    __builtin_prefetch(&cells_[neighbour(p, 2)]);
    __builtin_prefetch(&cells_[neighbour(p, 3)]);
    prefetch(p);
#else
    (void)p;
#endif
  }

  // Brings the smallest live entry to the top, dropping the others (pixel frozen since, or pushed again).
  // A freshly refilled bucket is about to be frozen pixel by pixel, in no spatial order: fetching all their
  // neighbourhoods at once overlaps the cache misses (~10-15 % faster on a 2048² cytosol march).
  bool nextLive() {
    while (front_.ready()) {
      if (front_.takeRefilled())
        for (size_t k = 0; k < front_.size(); ++k) prefetch(front_.pixelAt(k));
      const FrontQueue::Entry& e = front_.top();
      if (state_[e.pixel] == e.tag) return true;
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
      state_[p] = static_cast<uint8_t>((state_[p] & ~kStateBits) | kFrozen);
      step.push_back(p);
    } while (nextLive() && front_.top().key == key);
    if (targets_) {
      // A frozen value is final: once every target is frozen the rest of the march cannot change them.
      for (const uint32_t p : step) targetsLeft_ -= targets_[p];
      if (targetsLeft_ == 0) return false;
    }
    if (log_) {
      for (const uint32_t p : step) logFrozen(p);
      if (logged_ - published_ >= 64) publish();  // batched: each store costs the reader a cache miss
    }
    constexpr size_t kAhead = 4;
    for (size_t k = 0; k < step.size() && k < kAhead; ++k) prefetchExpansion(step[k]);
    for (size_t k = 0; k < step.size(); ++k) {
      if (k + kAhead < step.size()) prefetchExpansion(step[k + kAhead]);
      visitNeighbours(step[k]);
    }
    return true;
  }

  const TiledGrid grid_;  // a copy: its fields stay in registers
  bool travel_;
  uint8_t* state_;
  Cell* cells_;
  FreezeLog* log_;  // nullptr: nobody follows the march
  const uint8_t* targets_;  // framed; nullptr: march to the end
  size_t targetsLeft_;
  size_t logged_ = 0, published_ = 0;
  FrontQueue front_;

  size_t consumed_ = 0;  // the reader's `consumed` as last seen: slots below logged_ − capacity + consumed_ are free
  bool dropLog_ = false;  // the reader has abandoned the log

  void publish() {
    if (dropLog_) return;
    log_->published.store(logged_, std::memory_order_release);
    published_ = logged_;
  }

  SCSEG_FMM_INLINE void logFrozen(uint32_t p) {
    if (logged_ - consumed_ >= log_->capacity && !waitForRoom()) return;
    FreezeLog::Entry& e = log_->at(logged_);
    e.site = p;
    e.value = cells_[p].t;
    ++logged_;
  }

  // The ring is full: publish what is there and wait for the reader to free a slot. False (and nothing is logged
  // from then on) if the reader has abandoned the log.
#if defined(__GNUC__)
  __attribute__((noinline))
#endif
  bool waitForRoom() {
    if (dropLog_) return false;
    publish();
    for (unsigned spins = 0;;) {
      consumed_ = log_->consumed.load(std::memory_order_acquire);
      if (logged_ - consumed_ < log_->capacity) return true;
      if (log_->abandoned.load(std::memory_order_acquire)) {
        dropLog_ = true;
        return false;
      }
      spinWait(spins);
    }
  }
};

// Marches the window [x0, x0 + w) x [y0, y0 + h) of an image with row stride `stride`, treating the pixels where
// open(i) is false (i = row-major index in the image) as masked, and writes the window's pixels for which
// write(i) is true. out: the image's values, or nullptr when only the log is wanted.
// targets (image-indexed, optional): stop once every open, non-seed target pixel is frozen; pixels not frozen by
// then read +infinity.
template <typename Open, typename Write>
void marchWindow(const uint8_t* seeds, const double* speed, size_t stride, size_t x0, size_t y0, size_t w, size_t h,
                 const Open& open, const Write& write, double* out, FreezeLog* log,
                 const uint8_t* targets = nullptr) {
  TiledGrid grid;
  grid.init(int64_t(w), int64_t(h));  // checked by the caller (the window is no larger than the image)
  const size_t framed = grid.framedArea();
  ScratchArray<uint8_t> state(framed, kMasked);
  ScratchArray<Cell> cells(framed, Cell{0.0, 1.0});
  for (size_t y = 0; y < h; ++y)
    for (size_t x = 0; x < w; ++x) {
      const size_t i = (y0 + y) * stride + x0 + x, f = grid.at(x, y);
      state[f] = !open(i) ? kMasked : seeds[i] ? kFrozen : kFar;
      cells[f] = Cell{0.0, speed ? 1 / (speed[i] * speed[i]) : 1.0};
    }
  ScratchArray<uint8_t> wanted(targets ? framed : 0, 0);
  size_t targetCount = 0;
  if (targets) {
    for (size_t y = 0; y < h; ++y)
      for (size_t x = 0; x < w; ++x) {
        const size_t i = (y0 + y) * stride + x0 + x, f = grid.at(x, y);
        if (targets[i] && state[f] == kFar) wanted[f] = 1, ++targetCount;
      }
  }
  if (!targets || targetCount > 0)
    Marcher(grid, speed != nullptr, state.data(), cells.data(), log, targets ? wanted.data() : nullptr, targetCount)
        .run(static_cast<uint32_t>(framed));
  if (out)
    for (size_t y = 0; y < h; ++y)
      for (size_t x = 0; x < w; ++x) {
        const size_t i = (y0 + y) * stride + x0 + x, f = grid.at(x, y);
        if (write(i)) out[i] = (state[f] & 3) == kFrozen ? cells[f].t : std::numeric_limits<double>::infinity();
      }
}

// out: width*height values, or nullptr when only the log is wanted.
inline Status runFastMarching(const uint8_t* seeds, const uint8_t* allowed, const double* speed, int64_t width,
                              int64_t height, double* out, size_t threads, FreezeLog* log = nullptr,
                              const uint8_t* targets = nullptr) {
  struct FinishLog {
    FreezeLog* log;
    ~FinishLog() {
      if (log) log->finished.store(true, std::memory_order_release);
    }
  } finishLog{log};
  size_t n;
  TiledGrid grid;
  if (!checkedArea(width, height, n) || !grid.init(width, height)) return Status::BadShape;
  if (speed) {
    for (size_t i = 0; i < n; ++i)
      if (!(speed[i] > 0) || !std::isfinite(speed[i])) return Status::BadValue;
  }
  const size_t w = static_cast<size_t>(width), h = static_cast<size_t>(height);
  auto open = [&](size_t i) { return allowed[i] && !(speed && speed[i] < DBL_EPSILON); };
  auto everywhere = [](size_t) { return true; };

  // Pixels of different 4-connected components never meet, and each step of the march touches every component
  // holding the smallest key exactly as a march of that component alone would: so a mask of many small parts
  // (the nucleus labelling) marches part by part — cache-resident, split across threads — with the same values.
  if (!log && !targets && out && speed == nullptr && n >= (size_t(1) << 16)) {
    const Components parts(w, h, allowed, [&](size_t i) { return seeds[i] != 0; });
    if (worthSplitting(parts, n)) {
      std::fill(out, out + n, std::numeric_limits<double>::infinity());
      parallelFor(threads, parts.boxes.size(), 16, [&](size_t c0, size_t c1) {
        for (size_t c = c0; c < c1; ++c) {
          const Components::Box& b = parts.boxes[c];
          if (!b.seeded) continue;
          const uint32_t label = static_cast<uint32_t>(c + 1);
          auto inPart = [&](size_t i) { return parts.id[i] == label; };
          marchWindow(seeds, speed, w, b.x0, b.y0, b.x1 - b.x0 + 1, b.y1 - b.y0 + 1, inPart, inPart, out, nullptr);
        }
      });
      return Status::Ok;
    }
  }
  marchWindow(seeds, speed, w, 0, 0, w, h, open, everywhere, out, log, targets);
  return Status::Ok;
}

}  // namespace fmm_detail

// Geodesic distance (2nd-order FMM, unit grid) from the seed pixels through the allowed pixels.
// seeds/allowed: 0 = no, anything else = yes. out: width*height doubles. See the header comment for semantics.
inline Status fmmDistance(const uint8_t* seeds, const uint8_t* allowed, int64_t width, int64_t height, double* out,
                         size_t threads) {
  return fmm_detail::runFastMarching(seeds, allowed, nullptr, width, height, out, threads);
}

// Arrival time (2nd-order FMM, unit grid) from the seed pixels through the allowed pixels at the given speed
// (finite and > 0 everywhere, else BadValue; speeds below DBL_EPSILON mask their pixel, as in skfmm).
// With a log, a reader on another thread can follow the freezing (see FreezeLog); out may then be nullptr.
// targets (optional, width*height): stop as soon as every open target pixel is frozen — the march up to there is
// the full march's, so their values are exact — and leave the pixels not frozen by then at +infinity.
inline Status fmmTravelTime(const uint8_t* seeds, const uint8_t* allowed, const double* speed, int64_t width,
                            int64_t height, double* out, FreezeLog* log = nullptr, const uint8_t* targets = nullptr) {
  if (speed == nullptr || (out == nullptr && log == nullptr)) {
    if (log) log->finished.store(true, std::memory_order_release);
    return Status::BadArgument;
  }
  return fmm_detail::runFastMarching(seeds, allowed, speed, width, height, out, 1, log, targets);
}

}  // namespace scseg

#undef SCSEG_FMM_INLINE
