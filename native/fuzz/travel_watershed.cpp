// Fuzz target: travel_watershed.hpp (travelTimeWatershed, one-thread and concurrent paths, any lag). Checks:
// BadShape / BadArgument (marker order) / BadValue (speeds) as documented; on Ok, labels and filled travel times
// bit-equal to the calls it fuses (fmmTravelTime, unreached pixels filled with the largest time reached,
// watershedFromMarkers inside `allowed`), or all labels 0 and the times +inf when no seed lies in `allowed`.
#include "fuzz_input.hpp"
#include "../travel_watershed.hpp"

using namespace scseg;
using namespace scseg::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const Shape s = consumeShape(in);
  const size_t threads = consumeThreads(in);
  const std::vector<uint8_t> seeds = consumeMask(in, s.elements());
  const std::vector<uint8_t> allowed = consumeMask(in, s.elements());
  const std::vector<double> speed = consumeSpeed(in, s.elements());
  const std::vector<uint32_t> markers = consumeMarkers(in, s.elements());
  const RanksInput ranks = consumeRanks(in, markers, s.area);
  const bool wantTravel = in.ConsumeBool();
  const double lag = in.ConsumeBool() ? std::numeric_limits<double>::quiet_NaN() : consumeParam(in);
  std::vector<double> travel(s.elements(), -1.0);
  std::vector<uint32_t> labels(s.elements(), 0xDEADu);
  const Status st = travelTimeWatershed(seeds.data(), allowed.data(), speed.data(), markers.data(), s.width, s.height,
                                        wantTravel ? travel.data() : nullptr, labels.data(), threads, lag,
                                        ranks.order());
  if (!s.valid()) return FUZZ_CHECK(st == Status::BadShape), 0;
  if (!ranks.valid) return FUZZ_CHECK(st == Status::BadArgument), 0;
  for (double v : speed)
    if (!(v > 0) || !std::isfinite(v)) return FUZZ_CHECK(st == Status::BadValue), 0;
  FUZZ_CHECK(st == Status::Ok);
  std::vector<double> tt(s.area);
  FUZZ_CHECK(fmmTravelTime(seeds.data(), allowed.data(), speed.data(), s.width, s.height, tt.data()) == Status::Ok);
  bool anySeed = false;
  for (size_t i = 0; i < s.area; ++i) anySeed |= seeds[i] && allowed[i];
  std::vector<uint32_t> want(s.area, 0);
  if (anySeed) {
    const double inf = std::numeric_limits<double>::infinity();
    double maxReached = 0;
    for (double v : tt)
      if (v != inf) maxReached = std::max(maxReached, v);
    for (double& v : tt)
      if (v == inf) v = maxReached;
    FUZZ_CHECK(watershedFromMarkers(tt.data(), markers.data(), allowed.data(), s.width, s.height, want.data(), false, 1,
                                    ranks.order()) == Status::Ok);
  }
  FUZZ_CHECK(want == labels);
  if (wantTravel) FUZZ_CHECK(std::memcmp(tt.data(), travel.data(), s.area * sizeof(double)) == 0);
  return 0;
}
