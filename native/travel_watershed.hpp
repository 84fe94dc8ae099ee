// WGA's cytosol step in one call: fast-marching travel time from the seeds (fmm.hpp), unreached pixels filled with
// the largest travel time reached (numpy `.filled(max)`), then the marker watershed of that surface inside
// `allowed` (watershed.hpp, scikit-image 0.19–0.24 rules). Equal, bit for bit, to fmmTravelTime + fill +
// watershedFromMarkers. If no seed lies inside `allowed` nothing is reachable: every label is 0 (scPortrait's skfmm
// call would raise there) and the travel time stays +inf.
//
// Why one call: both halves are bound by memory latency and together are most of a large WGA run. The watershed
// pops pixels in order of travel time, which is (nearly) the order in which the march freezes them, so on native
// builds it floods on a second thread behind the front, in the same tiled layout so that both threads touch the
// same pages. It pops a value only once the march has delivered values well above it ("lag"), and a neighbour
// whose value is not known yet is labelled and aged as usual but queued when its value arrives. That keeps
// skimage's exact (value, age) order unless a value arrives below one already popped — second-order fast marching
// can freeze a key slightly below an earlier one — which is checked: the flood then stops and reruns on the
// finished surface. WASM (no threads), a budget of one thread and small images run the two halves one after the
// other.
#pragma once
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <exception>
#include <limits>
#include <memory>
#include <vector>

#if !defined(__wasm__)
#include <thread>
#define SCSEG_TRAVEL_WATERSHED_THREADS 1
#endif

#include "common.hpp"
#include "fmm.hpp"
#include "parallel.hpp"
#include "scratch.hpp"
#include "tiles.hpp"
#include "watershed.hpp"

namespace scseg {
namespace travel_watershed_detail {

constexpr uint32_t kKnown = 2, kDeferred = 4;  // FloodSite::open bits beside detail::fillSites' 1 = open
constexpr size_t kFreezeLogEntries = size_t(1) << 18;  // the freeze log's ring at most (a power of two; 4 MiB)

#if SCSEG_TRAVEL_WATERSHED_THREADS
// The flood's value source while the march runs on another thread (see the file comment).
class FollowedValues {
 public:
  FollowedValues(FreezeLog& log, detail::FloodSite* sites, double lag) : log_(log), sites_(sites), lag_(lag) {}

  bool gaveUp() const { return gaveUp_; }

  // Only called before any push was deferred (markers, the exact phase).
  double value(uint32_t n) {
    while (!(sites_[n].open & kKnown) && !finished_ && !gaveUp_) ingest<detail::DistinctKeyQueue<uint32_t>>(nullptr);
    return (sites_[n].open & kKnown) ? sites_[n].value : maxKey_;
  }

  bool tryValue(uint32_t n, int32_t age, double& v) {
    detail::FloodSite& s = sites_[n];
    if (s.open & kKnown) {
      v = s.value;
      return true;
    }
    if (finished_) {
      v = maxKey_;
      return true;
    }
    s.open |= kDeferred;
    s.value = static_cast<double>(age);  // the slot is free until the value arrives
    deferred_.push_back(n);
    return false;
  }

  template <typename Queue>
  bool ready(Queue& queue) {
    // Now and then take in the log even with work at hand: the march waits once its ring is full.
    if ((++pops_ & 63) == 0 && !finished_ &&
        log_.published.load(std::memory_order_relaxed) - consumed_ >= log_.capacity / 2)
      ingest(&queue);
    for (unsigned idle = 0;;) {
      if (gaveUp_) return false;
      if (finished_) return !queue.empty();
      if (!queue.empty()) {
        const uint64_t top = queue.top().key;
        if (top < detail::orderedBits(maxKey_ - lag_)) {
          maxPopped_ = std::max(maxPopped_, top);
          return true;
        }
      }
      if (ingest(&queue))
        idle = 0;
      else
        spinWait(idle);
    }
  }

  // The flood stopped before the march did (it gave up): takes in the rest of the log as it comes, without
  // flooding, so that the march can finish (it waits for room in the ring) and every value is known.
  void drain() {
    for (unsigned idle = 0;;) {
      const size_t published = log_.published.load(std::memory_order_acquire);
      if (published != consumed_) {
        takeValues(published);
        idle = 0;
        continue;
      }
      if (log_.finished.load(std::memory_order_acquire) && log_.published.load(std::memory_order_acquire) == consumed_) return;
      spinWait(idle);
    }
  }

  // After the march has ended: takes in what is left of the log, then gives every pixel never delivered
  // (unreachable) the largest travel time.
  void complete(const TiledGrid& grid, size_t W, size_t H) {
    takeValues(log_.published.load(std::memory_order_acquire));
    for (size_t y = 0; y < H; ++y)
      for (size_t x = 0; x < W; ++x) {
        detail::FloodSite& s = sites_[grid.at(x, y)];
        if (!(s.open & kKnown)) s.value = maxKey_;
      }
  }

 private:
  // Takes in what the march published since the last call; false if there was nothing new.
  template <typename Queue>
  bool ingest(Queue* queue) {
    if (gaveUp_) return false;
    const size_t published = log_.published.load(std::memory_order_acquire);
    if (published == consumed_) {
      if (!log_.finished.load(std::memory_order_acquire)) return false;
      // The march is over once its last entries are in (published may have grown before `finished`).
      if (log_.published.load(std::memory_order_acquire) != consumed_) return ingest(queue);
      finished_ = true;
      for (const uint32_t n : deferred_)
        if ((sites_[n].open & kDeferred) && queue)
          queue->push({detail::orderedBits(maxKey_), static_cast<int32_t>(sites_[n].value), n});
      return true;
    }
    for (; consumed_ < published; ++consumed_) {
      const FreezeLog::Entry& e = log_.at(consumed_);
      detail::FloodSite& s = sites_[e.site];
      maxKey_ = std::max(maxKey_, e.value);
      if ((s.open & kDeferred) && queue) {
        const uint64_t key = detail::orderedBits(e.value);
        if (key <= maxPopped_) {  // serial flooding would have popped this one earlier (or in a tie): give up
          gaveUp_ = true;
          return true;
        }
        queue->push({key, static_cast<int32_t>(s.value), e.site});
        s.open &= ~kDeferred;
      }
      s.value = e.value;
      s.open |= kKnown;
    }
    log_.consumed.store(consumed_, std::memory_order_release);
    return true;
  }

  // Entries [consumed_, published) as values only (no flooding), their slots handed back.
  void takeValues(size_t published) {
    for (; consumed_ < published; ++consumed_) {
      const FreezeLog::Entry& e = log_.at(consumed_);
      maxKey_ = std::max(maxKey_, e.value);
      sites_[e.site].value = e.value;
      sites_[e.site].open |= kKnown;
    }
    log_.consumed.store(consumed_, std::memory_order_release);
  }

  FreezeLog& log_;
  detail::FloodSite* sites_;
  double lag_;
  std::vector<uint32_t> deferred_;
  size_t consumed_ = 0;
  size_t pops_ = 0;
  double maxKey_ = 0;         // largest travel time delivered (all are >= 0; seeds come first with 0)
  uint64_t maxPopped_ = 0;    // largest key popped in the fast phase
  bool finished_ = false, gaveUp_ = false;
};
#endif

}  // namespace travel_watershed_detail

// seeds/allowed: 0 = no; speed as fmmTravelTime; markers: 0 = none; travel (filled travel times; nullptr when only
// the labels are wanted) and labels: width*height outputs. threads: the budget; 1 forces the one-thread path (same
// result). lag: how far behind the front the concurrent flood pops (NaN = the default below); tests pass a
// negative lag to force the rerun path.
inline Status travelTimeWatershed(const uint8_t* seeds, const uint8_t* allowed, const double* speed,
                                  const uint32_t* markers, int64_t width, int64_t height, double* travel,
                                  uint32_t* labels, size_t threads,
                                  double lag = std::numeric_limits<double>::quiet_NaN(),
                                  const MarkerRanks& order = {}) {
  using namespace travel_watershed_detail;
  size_t area;
  TiledGrid grid;
  if (!checkedArea(width, height, area) || !grid.init(width, height)) return Status::BadShape;
  if (!validMarkerRanks(markers, area, order)) return Status::BadArgument;
  bool anySeed = false;
  for (size_t i = 0; i < area && !anySeed; ++i) anySeed = seeds[i] && allowed[i];
  // The travel times, where the caller wants none: only the one-thread paths need them.
  std::vector<double> ownTravel;
  auto travelTimes = [&]() {
    if (travel) return travel;
    ownTravel.resize(area);
    return ownTravel.data();
  };
  if (!anySeed) {
    std::fill(labels, labels + area, 0u);
    return fmmTravelTime(seeds, allowed, speed, width, height, travelTimes());  // validates the speeds
  }

  auto oneThread = [&]() {
    double* tt = travelTimes();
    if (Status s = fmmTravelTime(seeds, allowed, speed, width, height, tt); s != Status::Ok) return s;
    double maxReached = 0;  // a seed is reached, with 0
    for (size_t i = 0; i < area; ++i)
      if (tt[i] != std::numeric_limits<double>::infinity()) maxReached = std::max(maxReached, tt[i]);
    for (size_t i = 0; i < area; ++i)
      if (tt[i] == std::numeric_limits<double>::infinity()) tt[i] = maxReached;
    return watershedFromMarkers(tt, markers, allowed, width, height, labels, false, threads, order);
  };
  (void)lag;
#if SCSEG_TRAVEL_WATERSHED_THREADS
  // Small images: the thread start-up outweighs the overlap.
  if (usableThreads(threads) < 2 || area < (size_t(1) << 18)) return oneThread();
  // Checked here as well as in the march: a bad speed must stop us before any thread starts.
  double minSpeed = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < area; ++i) {
    if (!(speed[i] > 0) || !std::isfinite(speed[i])) return Status::BadValue;
    if (allowed[i]) minSpeed = std::min(minSpeed, speed[i]);
  }
  // Lag: half of the slowest pixel's crossing time. Keys were seen to come out up to ~0.13 of it below an earlier
  // one on a 2048² cell image; a larger lag only lengthens the tail the flood runs alone after the march.
  if (std::isnan(lag)) lag = 0.5 / minSpeed;

  const size_t W = static_cast<size_t>(width), H = static_cast<size_t>(height);
  // The ring, instead of an entry for every pixel (16 bytes each): the march waits when it is full. On a 2048² WGA
  // cytosol march rings of 2^16, 2^20 and 2^23 entries took the same time (the flood keeps close behind the front).
  // An eighth of the image at most, so that the wrap-around and the wait happen on test-sized images too.
  size_t capacity = 1024;
  while (capacity < kFreezeLogEntries && capacity * 8 < area) capacity *= 2;
  ScratchArray<FreezeLog::Entry> entries(capacity, FreezeLog::Entry{0u, 0.0});
  FreezeLog log{entries.data(), capacity};
  Status marchStatus = Status::Ok;
  std::thread march;
  try {
    march = std::thread([&]() { marchStatus = fmmTravelTime(seeds, allowed, speed, width, height, nullptr, &log); });
  } catch (...) {
    return oneThread();  // no thread to be had
  }
  // The flood's sites are filled while the march sets up its own grid; only this thread touches them.
  std::exception_ptr floodError;
  std::unique_ptr<ScratchArray<detail::FloodSite>> sites;
  std::unique_ptr<FollowedValues> values;
  try {
    sites = std::make_unique<ScratchArray<detail::FloodSite>>(grid.framedArea(), detail::FloodSite{0.0, 0u, 0u});
    // Values unknown until the march delivers them.
    std::vector<int32_t> ranks;
    const std::vector<uint32_t> markerSites =
        detail::fillSites(grid, allowed, markers, W, H, sites->data(), [](size_t) { return 0.0; }, order, &ranks);
    values = std::make_unique<FollowedValues>(log, sites->data(), lag);
    detail::floodSites(grid, sites->data(), markerSites, false, *values, order.ranks ? &ranks : nullptr);
  } catch (...) {
    floodError = std::current_exception();
  }
  if (floodError)
    log.abandoned.store(true, std::memory_order_release);  // no reader left: the march must not wait for one
  else if (values->gaveUp())
    values->drain();
  march.join();
  if (floodError) std::rethrow_exception(floodError);
  if (marchStatus != Status::Ok) return marchStatus;
  values->complete(grid, W, H);
  const detail::FloodSite* site = sites->data();
  if (travel || values->gaveUp()) {
    double* tt = travelTimes();
    for (size_t y = 0; y < H; ++y)
      for (size_t x = 0; x < W; ++x) tt[y * W + x] = site[grid.at(x, y)].value;
    // Out of order: flood again, one thread, on the finished surface.
    if (values->gaveUp()) return watershedFromMarkers(tt, markers, allowed, width, height, labels, false, threads, order);
  }
  for (size_t y = 0; y < H; ++y)
    for (size_t x = 0; x < W; ++x) labels[y * W + x] = site[grid.at(x, y)].label;
  return Status::Ok;
#else
  return oneThread();
#endif
}

}  // namespace scseg
