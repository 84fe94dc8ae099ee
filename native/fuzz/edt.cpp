// Fuzz target: edt.hpp (distanceTransformEdt). Checks: BadShape for invalid dims; on Ok, background pixels 0,
// foreground pixels >= 1 and finite, and the same bits on one thread as on several.
#include "fuzz_input.hpp"
#include "../edt.hpp"

using namespace scseg;
using namespace scseg::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const Shape s = consumeShape(in);
  const size_t threads = consumeThreads(in);
  const std::vector<uint8_t> mask = consumeMask(in, s.elements());
  std::vector<double> out(s.elements(), -1.0);
  const Status st = distanceTransformEdt(mask.data(), s.width, s.height, out.data(), threads);
  if (!s.valid()) {
    FUZZ_CHECK(st == Status::BadShape);
    return 0;
  }
  FUZZ_CHECK(st == Status::Ok);
  for (size_t i = 0; i < s.area; ++i) {
    if (mask[i] == 0) FUZZ_CHECK(out[i] == 0.0);
    else FUZZ_CHECK(out[i] >= 1.0 && std::isfinite(out[i]));
  }
  if (threads > 1 && s.area >= 4096) {
    std::vector<double> one(s.area);
    FUZZ_CHECK(distanceTransformEdt(mask.data(), s.width, s.height, one.data(), 1) == Status::Ok);
    FUZZ_CHECK(std::memcmp(one.data(), out.data(), s.area * sizeof(double)) == 0);
  }
  return 0;
}
