// Fuzz target: cellpose_tiles.hpp (cellposeBlendTiles) with any shape, any number of tiles anywhere (inside, across
// or far outside the region, int32 extremes), any output values (NaN, ±Inf) and any mask. Checks: BadShape for bad
// sizes; on Ok, every output equal to a plain per-pixel transcription of lib/cellpose/transforms.ts's blending (tile
// order, float64 product and sum rounded to float32, NaN compared as NaN), and the same bits on one thread.
#include <cstring>

#include "fuzz_input.hpp"
#include "../cellpose_tiles.hpp"

using namespace scseg;
using namespace scseg::fuzz;

static bool sameFloat(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0 || (a != a && b != b); }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  TileBlendShape s;
  const Shape region = consumeShape(in, int64_t(1) << 16);
  s.width = region.width;
  s.height = region.height;
  s.channels = in.ConsumeIntegralInRange<int64_t>(-1, 4);
  s.tileHeight = in.ConsumeIntegralInRange<int64_t>(-1, 40);
  s.tileWidth = in.ConsumeIntegralInRange<int64_t>(-1, 40);
  s.tiles = in.ConsumeIntegralInRange<size_t>(0, 12);
  const size_t threads = consumeThreads(in);
  size_t inputs = 0, outputs = 0;
  const bool valid = region.valid() && tileBlendSizes(s, inputs, outputs);
  std::vector<int32_t> origins(2 * s.tiles + 1);
  for (size_t k = 0; k < 2 * s.tiles; ++k) {
    const uint8_t mode = in.ConsumeIntegral<uint8_t>();
    origins[k] = mode < 200 ? in.ConsumeIntegralInRange<int32_t>(-45, 60) : in.ConsumeIntegral<int32_t>();
  }
  std::vector<float> y(valid ? std::max<size_t>(inputs, 1) : 1);
  for (float& v : y) v = in.ConsumeBool() ? float(specialDouble(in.ConsumeIntegral<uint8_t>())) : in.ConsumeFloatingPointInRange<float>(-8, 8);
  std::vector<double> mask(valid ? size_t(s.tileHeight * s.tileWidth) : 1);
  for (double& m : mask) m = in.ConsumeBool() ? specialDouble(in.ConsumeIntegral<uint8_t>()) : in.ConsumeProbability<double>();
  std::vector<float> out(valid ? outputs : 1, -3.0f);
  const Status st = cellposeBlendTiles(y.data(), origins.data(), mask.data(), s, out.data(), threads);
  if (!valid) return FUZZ_CHECK(st == Status::BadShape), 0;
  FUZZ_CHECK(st == Status::Ok);
  const size_t plane = size_t(s.width * s.height), tile = size_t(s.tileHeight * s.tileWidth);
  for (int64_t py = 0; py < s.height; ++py)
    for (int64_t px = 0; px < s.width; ++px) {
      double navg = 0.0;
      std::vector<float> sum(size_t(s.channels), 0.0f);
      for (size_t k = 0; k < s.tiles; ++k) {
        const int64_t r = py - origins[2 * k], x = px - origins[2 * k + 1];
        if (r < 0 || r >= s.tileHeight || x < 0 || x >= s.tileWidth) continue;
        const double m = mask[size_t(r * s.tileWidth + x)];
        for (int64_t c = 0; c < s.channels; ++c)
          sum[size_t(c)] = float(double(sum[size_t(c)]) + double(y[k * size_t(s.channels) * tile + size_t(c) * tile + size_t(r * s.tileWidth + x)]) * m);
        navg += m;
      }
      for (int64_t c = 0; c < s.channels; ++c)
        FUZZ_CHECK(sameFloat(out[size_t(c) * plane + size_t(py * s.width + px)], float(double(sum[size_t(c)]) / navg)));
    }
  if (threads > 1) {
    std::vector<float> one(outputs);
    FUZZ_CHECK(cellposeBlendTiles(y.data(), origins.data(), mask.data(), s, one.data(), 1) == Status::Ok);
    for (size_t i = 0; i < outputs; ++i) FUZZ_CHECK(sameFloat(one[i], out[i]));
  }
  return 0;
}
