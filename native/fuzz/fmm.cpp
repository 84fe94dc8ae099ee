// Fuzz target: fmm.hpp (fmmDistance, fmmTravelTime with and without targets). Checks: BadShape / BadValue as
// documented; on Ok, 0 at seeds inside `allowed`, +inf outside it, no NaN or negative values, +inf everywhere
// without a seed; the component-split march (large images) equal to the whole-window march; the thread count and a
// targeted march (values at its open targets) never changing a value.
#include "fuzz_input.hpp"
#include "../fmm.hpp"

using namespace scseg;
using namespace scseg::fuzz;

static void checkField(const Shape& s, const std::vector<uint8_t>& seeds, const std::vector<uint8_t>& allowed,
                       const std::vector<double>& out) {
  bool anySeed = false;
  for (size_t i = 0; i < s.area; ++i) anySeed |= seeds[i] && allowed[i];
  const double inf = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < s.area; ++i) {
    FUZZ_CHECK(!std::isnan(out[i]) && out[i] >= 0);
    if (!allowed[i] || !anySeed) FUZZ_CHECK(out[i] == inf);
  }
}

static bool sameBits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const Shape s = consumeShape(in);
  const size_t threads = consumeThreads(in);
  const bool travel = in.ConsumeBool();
  const std::vector<uint8_t> seeds = consumeMask(in, s.elements());
  const std::vector<uint8_t> allowed = consumeMask(in, s.elements());
  std::vector<double> out(s.elements(), -1.0);
  if (!travel) {
    const Status st = fmmDistance(seeds.data(), allowed.data(), s.width, s.height, out.data(), threads);
    if (!s.valid()) return FUZZ_CHECK(st == Status::BadShape), 0;
    FUZZ_CHECK(st == Status::Ok);
    checkField(s, seeds, allowed, out);
    for (size_t i = 0; i < s.area; ++i)
      if (seeds[i] && allowed[i]) FUZZ_CHECK(out[i] == 0);
    if (s.area >= (size_t(1) << 16)) {
      // The whole-window march (a target set disables the split by components; all pixels = the full march).
      std::vector<double> whole(s.area);
      const std::vector<uint8_t> all(s.area, 1);
      FUZZ_CHECK(fmm_detail::runFastMarching(seeds.data(), allowed.data(), nullptr, s.width, s.height, whole.data(), 1,
                                             nullptr, all.data()) == Status::Ok);
      FUZZ_CHECK(sameBits(whole, out));
      if (threads > 1) {
        std::vector<double> one(s.area);
        FUZZ_CHECK(fmmDistance(seeds.data(), allowed.data(), s.width, s.height, one.data(), 1) == Status::Ok);
        FUZZ_CHECK(sameBits(one, out));
      }
    }
    return 0;
  }
  const std::vector<double> speed = consumeSpeed(in, s.elements());
  const bool withTargets = in.ConsumeBool();
  const std::vector<uint8_t> targets = consumeMask(in, s.elements());
  const Status st = fmmTravelTime(seeds.data(), allowed.data(), speed.data(), s.width, s.height, out.data(), nullptr,
                                  withTargets ? targets.data() : nullptr);
  if (!s.valid()) return FUZZ_CHECK(st == Status::BadShape), 0;
  for (double v : speed)
    if (!(v > 0) || !std::isfinite(v)) return FUZZ_CHECK(st == Status::BadValue), 0;
  FUZZ_CHECK(st == Status::Ok);
  std::vector<uint8_t> open(s.area);
  for (size_t i = 0; i < s.area; ++i) open[i] = allowed[i] && speed[i] >= std::numeric_limits<double>::epsilon();
  checkField(s, seeds, open, out);
  if (!withTargets) {
    for (size_t i = 0; i < s.area; ++i)
      if (seeds[i] && open[i]) FUZZ_CHECK(out[i] == 0);
    return 0;
  }
  // Every open target's value is the full march's.
  std::vector<double> full(s.area);
  FUZZ_CHECK(fmmTravelTime(seeds.data(), allowed.data(), speed.data(), s.width, s.height, full.data()) == Status::Ok);
  for (size_t i = 0; i < s.area; ++i)
    if (targets[i] && open[i]) FUZZ_CHECK(std::memcmp(&out[i], &full[i], sizeof(double)) == 0);
  return 0;
}
