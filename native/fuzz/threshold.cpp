// Fuzz target: threshold.hpp (localMedianThreshold, otsuThreshold on uint8, uint16, float32). Checks: BadShape /
// BadArgument / BadValue as documented; on Ok a finite threshold map clipped to the range of the (finite) input, an
// Otsu threshold that is not NaN, and the map's bits independent of the thread count.
#include <algorithm>

#include "fuzz_input.hpp"
#include "../threshold.hpp"

using namespace scseg;
using namespace scseg::fuzz;

static void localThreshold(FuzzedDataProvider& in, const Shape& s, size_t threads) {
  int64_t block = consumeInt<int64_t>(in, -1, 45);
  if (in.ConsumeIntegral<uint8_t>() >= 248) block = in.PickValueInArray<int64_t>({limits::kMaxMedianBlock, 4097, 4096});
  if (block > 45 && s.area > 64 && block <= limits::kMaxMedianBlock) block = 45;
  const int64_t step = consumeInt<int64_t>(in, -1, 9);
  const double offset = consumeParam(in);
  const std::vector<float> img = consumeFloatPixels<float>(in, s.elements());
  std::vector<float> out(s.elements());
  const Status st = localMedianThreshold(img.data(), s.width, s.height, block, step, offset, out.data(), threads);
  if (!s.valid()) return FUZZ_CHECK(st == Status::BadShape);
  if (block < 1 || block > limits::kMaxMedianBlock || block % 2 == 0 || step < 1 || !std::isfinite(offset))
    return FUZZ_CHECK(st == Status::BadArgument);
  if (st == Status::BadValue) {  // NaN among the subsampled pixels
    bool nan = false;
    for (int64_t y = 0; y < s.height; y += step)
      for (int64_t x = 0; x < s.width; x += step) nan |= std::isnan(img[size_t(y * s.width + x)]);
    return FUZZ_CHECK(nan);
  }
  FUZZ_CHECK(st == Status::Ok);
  // NaN only where numpy's arithmetic makes it too: median − offset overflowing float32 to ±inf, which the zoom's
  // zero weights turn into NaN (inf · 0). |offset| beyond float32 (±inf once rounded) is such a case as well; the
  // facade bounds offset to ±1e38, the kernel only to finite values.
  double largest = 0;
  for (float v : img) largest = std::max(largest, std::fabs(double(v)));
  if (largest + std::fabs(offset) < 3.0e38) {
    for (size_t i = 0; i < s.area; ++i) FUZZ_CHECK(!std::isnan(out[i]));
  }
  if (threads > 1 && s.area >= 4096) {
    std::vector<float> one(s.area);
    FUZZ_CHECK(localMedianThreshold(img.data(), s.width, s.height, block, step, offset, one.data(), 1) == Status::Ok);
    FUZZ_CHECK(std::memcmp(one.data(), out.data(), s.area * sizeof(float)) == 0);
  }
}

template <typename T>
void otsu(FuzzedDataProvider& in, const Shape& s) {
  std::vector<T> img;
  if constexpr (std::is_integral_v<T>) img = consumeIntegerPixels<T>(in, s.elements());
  else img = consumeFloatPixels<T>(in, s.elements());
  double t = -12345;
  const Status st = otsuThreshold(img.data(), s.width, s.height, t);
  if (!s.valid()) return FUZZ_CHECK(st == Status::BadShape);
  if constexpr (!std::is_integral_v<T>) {
    if (std::any_of(img.begin(), img.end(), [](T v) { return !std::isfinite(v); }))
      return FUZZ_CHECK(st == Status::BadValue);
    // numpy's float32 bin arithmetic overflows for ranges beyond float32 (wider than 3.4e38, narrower than
    // ~1.5e-36, constants beyond ±2^53): BadValue allowed there, required nowhere else.
    const auto [lo, hi] = std::minmax_element(img.begin(), img.end());
    const double range = double(*hi) - double(*lo);
    const bool binnable = range == 0 ? std::fabs(double(*lo)) < 1e15 : (range >= 1e-35 && range <= 1e38);
    if (!binnable && st == Status::BadValue) return;
  }
  FUZZ_CHECK(st == Status::Ok);
  FUZZ_CHECK(!std::isnan(t));
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const Shape s = consumeShape(in);
  const size_t threads = consumeThreads(in);
  switch (in.ConsumeIntegralInRange<int>(0, 3)) {
    case 0: localThreshold(in, s, threads); break;
    case 1: otsu<uint8_t>(in, s); break;
    case 2: otsu<uint16_t>(in, s); break;
    default: otsu<float>(in, s); break;
  }
  return 0;
}
