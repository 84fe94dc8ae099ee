// Data-parallel loops for the kernels whose output rows (or columns) are independent: the range is cut into
// contiguous chunks, one per thread of the budget, and the calling thread runs the first chunk itself. Every chunk
// computes exactly what the serial loop would, so results never depend on the thread count (native and WASM
// stay bit-identical). WASM builds have no threads and run the whole range on the calling thread.
//
// Every kernel that splits work takes its thread budget (`threads`, >= 1) as an argument from its caller — the
// budget is a setting of the JavaScript side, so two callers in one process can use different ones.
// Threads are started per call (tens of microseconds), so only ranges worth more than that are split.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>

#if !defined(__wasm__)
#include <exception>
#include <thread>
#include <vector>
#endif

namespace scseg {

// Threads a kernel may use: the caller's budget, at least 1; WASM has no threads.
inline size_t usableThreads(size_t budget) {
#if defined(__wasm__)
  (void)budget;
  return 1;
#else
  return std::max<size_t>(budget, 1);
#endif
}

// One turn of a busy wait on another thread (native/travel_watershed.hpp's march and flood): spin 64 times,
// then give the core away on every turn. `spins` counts the turns; reset it on progress. Never reached on WASM.
inline void spinWait(unsigned& spins) {
#if !defined(__wasm__)
  if (++spins > 64) std::this_thread::yield();
#else
  (void)spins;
#endif
}

// Rows per chunk for a row-parallel image loop: ~128 Ki pixels, so one chunk outweighs starting a thread.
inline size_t rowsPerChunk(int64_t width) {
  return std::max<size_t>(4, size_t(131072) / size_t(std::max<int64_t>(width, 1)));
}

// How many chunks parallelFor / parallelChunks cut [0, n) into (at least 1, at most the budget).
inline size_t chunkCount(size_t threads, size_t n, size_t minChunk) {
  return std::max<size_t>(1, std::min(usableThreads(threads), minChunk > 0 ? n / minChunk : n));
}

// Calls fn(c, begin, end) for chunk c = 0..chunks−1 of [0, n) (contiguous, in order), chunks on their own
// threads; for per-chunk partial results (sized by `chunks`, from chunkCount) merged afterwards.
template <typename F>
void parallelChunks(size_t n, size_t chunks, F&& fn) {
  auto bounds = [&](size_t c) { return n / chunks * c + std::min(c, n % chunks); };
#if defined(__wasm__)
  for (size_t c = 0; c < chunks; ++c) fn(c, bounds(c), bounds(c + 1));
#else
  if (chunks <= 1) {
    fn(size_t(0), size_t(0), n);
    return;
  }
  std::vector<std::thread> workers;
  std::vector<std::exception_ptr> errors(chunks);
  size_t started = 1;
  try {
    workers.reserve(chunks - 1);
    for (; started < chunks; ++started) {
      workers.emplace_back([&, started]() {
        try {
          fn(started, bounds(started), bounds(started + 1));
        } catch (...) {
          errors[started] = std::current_exception();
        }
      });
    }
  } catch (...) {
    // No more threads to be had: the chunks not started run here.
  }
  try {
    fn(size_t(0), bounds(0), bounds(1));
    for (size_t c = started; c < chunks; ++c) fn(c, bounds(c), bounds(c + 1));
  } catch (...) {
    errors[0] = std::current_exception();
  }
  for (std::thread& t : workers) t.join();
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
#endif
}

// Calls fn(begin, end) on disjoint chunks covering [0, n), each at least minChunk long (except a lone chunk), on
// at most `threads` threads.
template <typename F>
void parallelFor(size_t threads, size_t n, size_t minChunk, F&& fn) {
  if (n == 0) return;
  parallelChunks(n, chunkCount(threads, n, minChunk), [&](size_t, size_t begin, size_t end) { fn(begin, end); });
}

}  // namespace scseg
