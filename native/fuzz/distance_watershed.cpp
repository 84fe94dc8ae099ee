// Fuzz target: distance_watershed.hpp (distanceWatershed). Checks: BadShape / BadArgument (marker order) as
// documented; on Ok, labels bit-equal to its two halves called one after the other (fmmDistance, then
// watershedFromMarkers of that distance inside `allowed`), as the header promises, on any thread count.
#include "fuzz_input.hpp"
#include "../distance_watershed.hpp"

using namespace scseg;
using namespace scseg::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const Shape s = consumeShape(in);
  const size_t threads = consumeThreads(in);
  const std::vector<uint8_t> seeds = consumeMask(in, s.elements());
  const std::vector<uint8_t> allowed = consumeMask(in, s.elements());
  const std::vector<uint32_t> markers = consumeMarkers(in, s.elements());
  const RanksInput ranks = consumeRanks(in, markers, s.area);
  std::vector<uint32_t> labels(s.elements(), 0xDEADu);
  const Status st = distanceWatershed(seeds.data(), allowed.data(), markers.data(), s.width, s.height, labels.data(),
                                      threads, ranks.order());
  if (!s.valid()) return FUZZ_CHECK(st == Status::BadShape), 0;
  if (!ranks.valid) return FUZZ_CHECK(st == Status::BadArgument), 0;
  FUZZ_CHECK(st == Status::Ok);
  std::vector<double> distance(s.area);
  std::vector<uint32_t> want(s.area);
  FUZZ_CHECK(fmmDistance(seeds.data(), allowed.data(), s.width, s.height, distance.data(), 1) == Status::Ok);
  FUZZ_CHECK(watershedFromMarkers(distance.data(), markers.data(), allowed.data(), s.width, s.height, want.data(),
                                  false, 1, ranks.order()) == Status::Ok);
  FUZZ_CHECK(want == labels);
  return 0;
}
