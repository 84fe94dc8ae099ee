// Fuzz target: normalize.hpp (quantiles, percentileNormalize, scaleToUnit, wgaSpeedMap on uint8, uint16, float32).
// Checks: BadShape / BadArgument / BadValue as documented; on Ok, for finite input, quantiles inside [min, max] and
// non-decreasing in q, normalised values in [0, 1], speeds in [0.1, 1] (or NaN only from a NaN scale); thread count
// never changes the bits.
#include <algorithm>

#include "fuzz_input.hpp"
#include "../normalize.hpp"

using namespace scseg;
using namespace scseg::fuzz;

static double consumeQuantile(FuzzedDataProvider& in) {
  const uint8_t mode = in.ConsumeIntegral<uint8_t>();
  if (mode < 160) return in.ConsumeProbability<double>();
  if (mode < 200) return in.PickValueInArray({0.0, 1.0, 0.5, 0.02, 0.98, 0.999, 1e-300});
  return consumeParam(in);  // out of range, NaN, Inf
}

template <typename T>
void run(FuzzedDataProvider& in, const Shape& s, size_t threads) {
  std::vector<T> img;
  if constexpr (std::is_integral_v<T>) img = consumeIntegerPixels<T>(in, s.elements());
  else img = consumeFloatPixels<T>(in, s.elements());
  const bool hasNaN = std::any_of(img.begin(), img.end(), [](T v) { return std::isnan(double(v)); });
  const bool finite = std::all_of(img.begin(), img.end(), [](T v) { return std::isfinite(double(v)); });
  const bool big = threads > 1 && s.area >= (size_t(1) << 17);
  switch (in.ConsumeIntegralInRange<int>(0, 3)) {
    case 0: {
      const size_t count = in.ConsumeIntegralInRange<size_t>(0, 5);
      std::vector<double> q(count), out(count, -1.0);
      for (double& v : q) v = consumeQuantile(in);
      const Status st = quantiles(img.data(), s.width, s.height, q.data(), count, out.data(), threads);
      if (!s.valid()) return FUZZ_CHECK(st == Status::BadShape);
      if (std::any_of(q.begin(), q.end(), [](double v) { return !(v >= 0 && v <= 1); }))
        return FUZZ_CHECK(st == Status::BadArgument);
      if (hasNaN) return FUZZ_CHECK(st == Status::BadValue);
      FUZZ_CHECK(st == Status::Ok);
      if (!finite) return;
      const auto [lo, hi] = std::minmax_element(img.begin(), img.end());
      for (size_t i = 0; i < count; ++i) {
        FUZZ_CHECK(out[i] >= double(*lo) && out[i] <= double(*hi));
        for (size_t j = 0; j < count; ++j)
          if (q[i] <= q[j]) FUZZ_CHECK(out[i] <= out[j]);
      }
      return;
    }
    case 1: {
      const double lower = consumeQuantile(in), upper = consumeQuantile(in);
      std::vector<float> out(s.elements());
      const Status st = percentileNormalize(img.data(), s.width, s.height, lower, upper, out.data(), threads);
      if (!s.valid()) return FUZZ_CHECK(st == Status::BadShape);
      if (!(lower >= 0 && lower <= 1 && upper >= 0 && upper <= 1)) return FUZZ_CHECK(st == Status::BadArgument);
      if (hasNaN) return FUZZ_CHECK(st == Status::BadValue);
      FUZZ_CHECK(st == Status::Ok);
      if (finite && lower <= upper)
        for (size_t i = 0; i < s.area; ++i) FUZZ_CHECK(out[i] >= 0.0f && out[i] <= 1.0f);
      if (big) {
        std::vector<float> one(s.area);
        FUZZ_CHECK(percentileNormalize(img.data(), s.width, s.height, lower, upper, one.data(), 1) == Status::Ok);
        FUZZ_CHECK(std::memcmp(one.data(), out.data(), s.area * sizeof(float)) == 0);
      }
      return;
    }
    case 2: {
      if (!s.valid()) return;  // scaleToUnit takes the binding's checked area
      const double l = consumeParam(in), u = consumeParam(in);
      std::vector<float> out(s.area);
      scaleToUnit(img.data(), s.area, l, u, out.data(), threads);
      for (size_t i = 0; i < s.area; ++i) FUZZ_CHECK(std::isnan(out[i]) || (out[i] >= 0.0f && out[i] <= 1.0f));
      return;
    }
    default: {
      const std::vector<uint8_t> nuclei = consumeMask(in, s.elements());
      const double q02 = consumeParam(in), q98 = consumeParam(in), minClip = consumeParam(in),
                   maxClip = consumeParam(in);
      std::vector<double> out(s.elements());
      const Status st = wgaSpeedMap(img.data(), nuclei.data(), s.width, s.height, q02, q98, minClip, maxClip,
                                    out.data(), threads);
      if (!s.valid()) return FUZZ_CHECK(st == Status::BadShape);
      if (!std::isfinite(minClip) || !std::isfinite(maxClip) || !(maxClip > minClip))
        return FUZZ_CHECK(st == Status::BadArgument);
      FUZZ_CHECK(st == Status::Ok);
      // Each speed is an affine image of a value in [0, 1] (NaN passes the clips of the original's numpy too).
      for (size_t i = 0; i < s.area; ++i)
        FUZZ_CHECK(std::isnan(out[i]) || (out[i] >= 0.1 - 1e-12 && out[i] <= 1.0 + 1e-12) ||
                   !std::isfinite(maxClip - minClip));
      return;
    }
  }
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const Shape s = consumeShape(in);
  const size_t threads = consumeThreads(in);
  switch (in.ConsumeIntegralInRange<int>(0, 2)) {
    case 0: run<uint8_t>(in, s, threads); break;
    case 1: run<uint16_t>(in, s, threads); break;
    default: run<float>(in, s, threads); break;
  }
  return 0;
}
