// Fuzz target: watershed.hpp (watershedFromMarkers on float64 and float32 surfaces, with and without a mask, both
// flooding rules, with and without a marker pop order). Checks: BadShape / BadValue (NaN) / BadArgument (a marker
// order that does not fit) as documented; on Ok, marker pixels inside the mask keep their id, nothing outside the
// mask is labelled, every labelled pixel is 4-connected to its marker through pixels of its label, exactly the
// mask pixels reachable from a marker are labelled, and the thread count changes nothing.
#include <deque>

#include "fuzz_input.hpp"
#include "../watershed.hpp"

using namespace scseg;
using namespace scseg::fuzz;

// Labels a watershed must give: every mask pixel reachable from a marker inside the mask is labelled (by some
// marker); a labelled non-marker pixel has a 4-neighbour of its label (the pixel it was flooded from).
void checkFlood(const Shape& s, const uint32_t* markers, const uint8_t* mask, const std::vector<uint32_t>& out) {
  const int64_t W = s.width, H = s.height;
  std::vector<uint8_t> reach(s.area, 0);
  std::deque<size_t> queue;
  for (size_t i = 0; i < s.area; ++i) {
    const bool open = mask == nullptr || mask[i];
    if (!open) FUZZ_CHECK(out[i] == 0);
    if (open && markers[i]) {
      FUZZ_CHECK(out[i] == markers[i]);
      reach[i] = 1;
      queue.push_back(i);
    }
  }
  while (!queue.empty()) {
    const size_t i = queue.front();
    queue.pop_front();
    const int64_t y = int64_t(i) / W, x = int64_t(i) % W;
    const int64_t ny[4] = {y - 1, y, y, y + 1}, nx[4] = {x, x - 1, x + 1, x};
    for (int k = 0; k < 4; ++k) {
      if (ny[k] < 0 || ny[k] >= H || nx[k] < 0 || nx[k] >= W) continue;
      const size_t j = size_t(ny[k] * W + nx[k]);
      if (!reach[j] && (mask == nullptr || mask[j])) {
        reach[j] = 1;
        queue.push_back(j);
      }
    }
  }
  for (size_t i = 0; i < s.area; ++i) {
    FUZZ_CHECK((out[i] != 0) == (reach[i] != 0));
    if (out[i] == 0 || (markers[i] && (mask == nullptr || mask[i]))) continue;
    const int64_t y = int64_t(i) / W, x = int64_t(i) % W;
    const bool fed = (y > 0 && out[i - size_t(W)] == out[i]) || (x > 0 && out[i - 1] == out[i]) ||
                     (x + 1 < W && out[i + 1] == out[i]) || (y + 1 < H && out[i + size_t(W)] == out[i]);
    FUZZ_CHECK(fed);
  }
}

template <typename T>
void run(FuzzedDataProvider& in, const Shape& s, size_t threads) {
  const std::vector<T> surface = consumeFloatPixels<T>(in, s.elements());
  const std::vector<uint32_t> markers = consumeMarkers(in, s.elements());
  const bool withMask = in.ConsumeBool();
  const std::vector<uint8_t> mask = consumeMask(in, s.elements());
  const bool raise = in.ConsumeBool();
  const RanksInput ranks = consumeRanks(in, markers, s.area);
  const uint8_t* m = withMask ? mask.data() : nullptr;
  std::vector<uint32_t> out(s.elements(), 0xDEADu);
  const Status st = watershedFromMarkers(surface.data(), markers.data(), m, s.width, s.height, out.data(), raise,
                                         threads, ranks.order());
  if (!s.valid()) return FUZZ_CHECK(st == Status::BadShape);
  for (T v : surface)
    if (std::isnan(v)) return FUZZ_CHECK(st == Status::BadValue);
  if (!ranks.valid) return FUZZ_CHECK(st == Status::BadArgument);
  FUZZ_CHECK(st == Status::Ok);
  checkFlood(s, markers.data(), m, out);
  if (threads > 1 && s.area >= 4096) {
    std::vector<uint32_t> one(s.area);
    FUZZ_CHECK(watershedFromMarkers(surface.data(), markers.data(), m, s.width, s.height, one.data(), raise, 1,
                                    ranks.order()) == Status::Ok);
    FUZZ_CHECK(one == out);
  }
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const Shape s = consumeShape(in);
  const size_t threads = consumeThreads(in);
  if (in.ConsumeBool()) run<double>(in, s, threads);
  else run<float>(in, s, threads);
  return 0;
}
