// Fuzz target: peaks.hpp (peakLocalMax). Checks: BadShape / BadArgument / BadValue as documented; on Ok, peaks
// inside the image and outside the excluded border, values > min(image), in non-increasing value order, and
// pairwise Chebyshev distance >= minDistance.
#include <algorithm>

#include "fuzz_input.hpp"
#include "../peaks.hpp"

using namespace scseg;
using namespace scseg::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const Shape s = consumeShape(in);
  int64_t minDistance = consumeInt<int64_t>(in, -1, 12);
  int64_t radius = consumeInt<int64_t>(in, -1, 12);
  if (in.ConsumeIntegral<uint8_t>() >= 248)
    radius = in.PickValueInArray<int64_t>({64, 255, limits::kMaxPeakFootprintRadius, limits::kMaxPeakFootprintRadius + 1});
  if (radius > 12 && s.area > 256 && radius <= limits::kMaxPeakFootprintRadius) radius = 12;
  const std::vector<double> img = consumeFloatPixels<double>(in, s.elements());
  std::vector<int32_t> peaks = {-7};
  const Status st = peakLocalMax(img.data(), s.width, s.height, minDistance, radius, peaks);
  if (!s.valid()) return FUZZ_CHECK(st == Status::BadShape), 0;
  if (minDistance < 0 || radius < 0 || radius > limits::kMaxPeakFootprintRadius)
    return FUZZ_CHECK(st == Status::BadArgument), 0;
  if (std::any_of(img.begin(), img.end(), [](double v) { return std::isnan(v); }))
    return FUZZ_CHECK(st == Status::BadValue), 0;
  FUZZ_CHECK(st == Status::Ok);
  FUZZ_CHECK(peaks.size() % 2 == 0 && peaks.size() / 2 <= s.area);
  const double lowest = *std::min_element(img.begin(), img.end());
  const size_t k = peaks.size() / 2;
  for (size_t a = 0; a < k; ++a) {
    const int64_t y = peaks[2 * a], x = peaks[2 * a + 1];
    FUZZ_CHECK(y >= minDistance && y < s.height - minDistance && x >= minDistance && x < s.width - minDistance);
    const double v = img[size_t(y * s.width + x)];
    FUZZ_CHECK(v > lowest);
    if (a > 0) FUZZ_CHECK(img[size_t(peaks[2 * a - 2] * s.width + peaks[2 * a - 1])] >= v);
    if (k <= 2000)
      for (size_t b = 0; b < a; ++b)
        FUZZ_CHECK(std::max(std::abs(y - peaks[2 * b]), std::abs(x - peaks[2 * b + 1])) >= minDistance);
  }
  return 0;
}
