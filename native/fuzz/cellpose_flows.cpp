// Fuzz target: cellpose_flows.hpp (cellposeMasksToFlows). Checks: BadShape as documented; on Ok, finite flows of
// length <= 1 (Cellpose normalises them), 0 on background, and the thread count changes nothing.
#include "fuzz_input.hpp"
#include "../cellpose_flows.hpp"

using namespace scseg;
using namespace scseg::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const Shape s = consumeShape(in, int64_t(1) << 16);
  const size_t threads = consumeThreads(in);
  const std::vector<uint32_t> labels = consumeLabels(in, s.elements());
  std::vector<float> flows(2 * s.elements(), -7.0f);
  const Status st = cellposeMasksToFlows(labels.data(), s.width, s.height, flows.data(), threads);
  if (!s.valid()) return FUZZ_CHECK(st == Status::BadShape), 0;
  FUZZ_CHECK(st == Status::Ok);
  for (size_t i = 0; i < s.area; ++i) {
    const float fy = flows[i], fx = flows[s.area + i];
    FUZZ_CHECK(std::isfinite(fy) && std::isfinite(fx));
    FUZZ_CHECK(double(fy) * fy + double(fx) * fx <= 1.0 + 1e-5);
    if (labels[i] == 0) FUZZ_CHECK(fy == 0.0f && fx == 0.0f);
  }
  if (threads > 1 && s.area >= 4096) {
    std::vector<float> one(2 * s.area);
    FUZZ_CHECK(cellposeMasksToFlows(labels.data(), s.width, s.height, one.data(), 1) == Status::Ok);
    FUZZ_CHECK(std::memcmp(one.data(), flows.data(), one.size() * sizeof(float)) == 0);
  }
  return 0;
}
