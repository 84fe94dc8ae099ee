// Fuzz target: cellpose_dynamics.hpp (cellposeMasks with every option, cellposeCleanMasks). Checks: BadShape /
// BadArgument / BadValue (non-finite flows) as documented; on Ok, without cleaning only cell pixels (cellprob above
// the threshold) are labelled, and the thread count changes nothing. Euler steps are capped at 300 (30 on images
// above 4096 pixels) to keep executions fast; the kernel's own bound (2^20) is exercised through rejected values.
#include "fuzz_input.hpp"
#include "../cellpose_dynamics.hpp"

using namespace scseg;
using namespace scseg::fuzz;

static bool validOptions(const CellposeMaskOptions& o) {
  return o.niter >= 1 && o.niter <= limits::kMaxCellposeIterations && std::isfinite(o.cellprobThreshold) &&
         o.flowThreshold >= 0 && std::isfinite(o.flowThreshold) && o.maxSizeFraction >= 0 &&
         std::isfinite(o.maxSizeFraction) && o.imagePixels >= 0 && std::isfinite(o.imagePixels);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const Shape s = consumeShape(in, int64_t(1) << 16);
  const size_t threads = consumeThreads(in);
  if (in.ConsumeIntegral<uint8_t>() >= 224) {
    std::vector<uint32_t> labels = consumeLabels(in, s.elements());
    const int64_t minSize = consumeInt<int64_t>(in, -2, 40);
    const Status st = cellposeCleanMasks(labels.data(), s.width, s.height, minSize, in.ConsumeBool());
    FUZZ_CHECK(s.valid() ? st == Status::Ok : st == Status::BadShape);
    return 0;
  }
  CellposeMaskOptions o;
  o.niter = consumeInt<int64_t>(in, -1, 300);
  if (o.niter > 300 && o.niter <= limits::kMaxCellposeIterations) o.niter = 300;
  if (s.area > 4096 && o.niter > 30) o.niter = 30;
  o.cellprobThreshold = in.ConsumeBool() ? consumeParam(in) : 0.0;
  o.flowThreshold = in.ConsumeBool() ? consumeParam(in) : 0.4;
  o.minSize = consumeInt<int64_t>(in, -2, 40);
  o.maxSizeFraction = in.ConsumeBool() ? consumeParam(in) : 0.4;
  o.imagePixels = in.ConsumeBool() ? consumeParam(in) : 0.0;
  o.fixLabelGapQuirk = in.ConsumeBool();
  o.clean = in.ConsumeBool();
  o.interp = in.ConsumeBool();
  // Flows: any floats, or Cellpose-like ones (unit-ish vectors pointing at a few centres) that make real masks.
  std::vector<float> dP = consumeFloatPixels<float>(in, 2 * s.elements());
  if (s.valid() && in.ConsumeBool()) {
    const int64_t cy = in.ConsumeIntegralInRange<int64_t>(0, s.height - 1), cx = in.ConsumeIntegralInRange<int64_t>(0, s.width - 1);
    const float gain = float(in.ConsumeIntegralInRange<int>(1, 8));
    for (int64_t y = 0; y < s.height; ++y)
      for (int64_t x = 0; x < s.width; ++x) {
        const size_t i = size_t(y * s.width + x);
        const float dy = float(cy - y), dx = float(cx - x), r = std::sqrt(dy * dy + dx * dx) + 1.0f;
        dP[i] = gain * dy / r + (std::isfinite(dP[i]) ? dP[i] * 1e-3f : 0.0f);
        dP[s.area + i] = gain * dx / r;
      }
  }
  const std::vector<float> cellprob = consumeFloatPixels<float>(in, s.elements());
  std::vector<uint32_t> labels(s.elements(), 0xDEADu);
  const Status st = cellposeMasks(dP.data(), cellprob.data(), s.width, s.height, o, labels.data(), threads);
  if (!s.valid()) return FUZZ_CHECK(st == Status::BadShape), 0;
  if (!validOptions(o)) return FUZZ_CHECK(st == Status::BadArgument), 0;
  for (size_t i = 0; i < 2 * s.area; ++i)
    if (!std::isfinite(dP[i])) return FUZZ_CHECK(st == Status::BadValue), 0;
  FUZZ_CHECK(st == Status::Ok);
  const double t = o.cellprobThreshold;
  const bool inFloat32 = t > -3.4e38 && t < 3.4e38;
  if (!o.clean)
    for (size_t i = 0; i < s.area; ++i) {
      const bool cell = inFloat32 ? cellprob[i] > float(t) : double(cellprob[i]) > t;
      FUZZ_CHECK(cell || labels[i] == 0);
    }
  if (threads > 1 && s.area >= 4096) {
    std::vector<uint32_t> one(s.area);
    FUZZ_CHECK(cellposeMasks(dP.data(), cellprob.data(), s.width, s.height, o, one.data(), 1) == Status::Ok);
    FUZZ_CHECK(one == labels);
  }
  return 0;
}
