// Fuzz target: qc_overlay.hpp (qcOverlay) on uint8 / uint16 / float32 backgrounds (NaN, ±Inf, any bits), 0–4
// label images of any kind, any factor (< 1, huge) and any p0 / scale. Checks: BadArgument for factor < 1, BadShape
// for bad shapes; on Ok, every byte equal to a plain transcription of the TypeScript renderer (one pass over the
// whole image, block sums in raster order, Math.round through long double), and the same bytes on one thread.
#include "fuzz_input.hpp"
#include "../qc_overlay.hpp"

using namespace scseg;
using namespace scseg::fuzz;

// JavaScript's Math.round by another road: floor(x + 0.5) is exact in long double's 64-bit mantissa for the values
// that can land inside 0..255.
static double referenceRound(double x) { return double(std::floor((long double)x + 0.5L)); }

// lib/io/overlay.ts renderQcOverlay after the percentiles, written as it is there.
template <typename T>
static std::vector<uint8_t> reference(const std::vector<T>& bg, int64_t W, int64_t H, const std::vector<std::vector<uint32_t>>& masks,
                                      const std::vector<uint8_t>& colors, int64_t factor, double p0, double scale) {
  const int64_t f = std::min(factor, std::max(W, H));
  const int64_t w = (W - 1) / f + 1, h = (H - 1) / f + 1;
  std::vector<uint8_t> rgba(size_t(w * h * 4));
  auto put = [&](int64_t i, uint8_t r, uint8_t g, uint8_t b) {
    rgba[size_t(4 * i)] = r;
    rgba[size_t(4 * i + 1)] = g;
    rgba[size_t(4 * i + 2)] = b;
    rgba[size_t(4 * i + 3)] = 255;
  };
  auto stretch = [&](double mean) -> uint8_t {
    // Math.min / Math.max propagate NaN (std::min / std::max do not), and JavaScript stores NaN as 0.
    const double r = referenceRound((mean - p0) * scale);
    return std::isnan(r) ? 0 : uint8_t(std::max(0.0, std::min(255.0, r)));
  };
  std::vector<double> sum(size_t(w * h), 0.0);
  std::vector<uint64_t> count(size_t(w * h), 0);
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) {
      const T v = bg[size_t(y * W + x)];
      if (v != v) continue;
      sum[size_t((y / f) * w + x / f)] += double(v);
      ++count[size_t((y / f) * w + x / f)];
    }
  for (int64_t i = 0; i < w * h; ++i) {
    const uint8_t g = stretch(count[size_t(i)] ? sum[size_t(i)] / double(count[size_t(i)]) : p0);
    put(i, g, g, g);
  }
  for (size_t m = 0; m < masks.size(); ++m) {
    const uint32_t* L = masks[m].data();
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x) {
        const int64_t i = y * W + x;
        const uint32_t v = L[i];
        if (v == 0) continue;
        if ((x > 0 && L[i - 1] != v) || (x + 1 < W && L[i + 1] != v) || (y > 0 && L[i - W] != v) ||
            (y + 1 < H && L[i + W] != v))
          put((y / f) * w + x / f, colors[3 * m], colors[3 * m + 1], colors[3 * m + 2]);
      }
  }
  return rgba;
}

template <typename T>
static void runOne(FuzzedDataProvider& in, const Shape& s, size_t threads, std::vector<T> bg) {
  const int64_t factor = in.ConsumeBool() ? consumeInt<int64_t>(in, -1, 8) : in.ConsumeIntegralInRange<int64_t>(1, 64);
  const double p0 = consumeParam(in), scale = consumeParam(in);
  const size_t maskCount = in.ConsumeIntegralInRange<size_t>(0, 4);
  std::vector<std::vector<uint32_t>> masks;
  std::vector<const uint32_t*> maskData;
  for (size_t k = 0; k < maskCount; ++k) {
    masks.push_back(consumeLabels(in, s.elements()));
    maskData.push_back(masks.back().data());
  }
  std::vector<uint8_t> colors = in.ConsumeBytes<uint8_t>(3 * maskCount);
  colors.resize(3 * maskCount, 200);
  int64_t w = 0, h = 0;
  size_t bytes = 0;
  const bool sized = qcOverlaySize(s.width, s.height, factor, w, h, bytes);
  std::vector<uint8_t> rgba(sized ? bytes : 1, 7);
  const Status st = qcOverlay(bg.data(), s.width, s.height, maskData.data(), maskCount, colors.data(), factor, p0,
                              scale, rgba.data(), threads);
  if (factor < 1) return FUZZ_CHECK(st == Status::BadArgument);
  if (!s.valid()) return FUZZ_CHECK(st == Status::BadShape);
  FUZZ_CHECK(st == Status::Ok && sized);
  FUZZ_CHECK(rgba == reference(bg, s.width, s.height, masks, colors, factor, p0, scale));
  if (threads > 1 && s.area >= 4096) {
    std::vector<uint8_t> one(bytes, 9);
    FUZZ_CHECK(qcOverlay(bg.data(), s.width, s.height, maskData.data(), maskCount, colors.data(), factor, p0, scale,
                         one.data(), 1) == Status::Ok);
    FUZZ_CHECK(one == rgba);
  }
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const Shape s = consumeShape(in);
  const size_t threads = consumeThreads(in);
  switch (in.ConsumeIntegralInRange<int>(0, 2)) {
    case 0: runOne(in, s, threads, consumeIntegerPixels<uint8_t>(in, s.elements())); break;
    case 1: runOne(in, s, threads, consumeIntegerPixels<uint16_t>(in, s.elements())); break;
    default: runOne(in, s, threads, consumeFloatPixels<float>(in, s.elements())); break;
  }
  return 0;
}
