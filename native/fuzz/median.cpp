// Fuzz target: median.hpp (medianFilterDisk on uint8, uint16, float32). Checks: BadShape / BadArgument / BadValue
// as documented; on Ok every output is an element of the input (a median is a selection), radius 0 copies, and
// the same bits on one thread as on several.
#include <algorithm>

#include "fuzz_input.hpp"
#include "../median.hpp"

using namespace scseg;
using namespace scseg::fuzz;

template <typename T>
void run(FuzzedDataProvider& in, const Shape& s, int radius, size_t threads) {
  std::vector<T> img;
  if constexpr (std::is_integral_v<T>) img = consumeIntegerPixels<T>(in, s.elements());
  else img = consumeFloatPixels<T>(in, s.elements());
  std::vector<T> out(s.elements());
  const Status st = medianFilterDisk(img.data(), s.width, s.height, radius, out.data(), threads);
  if (!s.valid()) return FUZZ_CHECK(st == Status::BadShape);
  if (radius < 0 || radius > limits::kMaxMedianRadius) return FUZZ_CHECK(st == Status::BadArgument);
  if constexpr (!std::is_integral_v<T>) {
    if (std::any_of(img.begin(), img.end(), [](T v) { return std::isnan(v); }))
      return FUZZ_CHECK(st == Status::BadValue);
  }
  FUZZ_CHECK(st == Status::Ok);
  std::vector<T> sorted(img);
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < s.area; ++i) {
    FUZZ_CHECK(std::binary_search(sorted.begin(), sorted.end(), out[i]));
    if (radius == 0) FUZZ_CHECK(std::memcmp(&out[i], &img[i], sizeof(T)) == 0);
  }
  if (threads > 1 && s.area >= 4096) {
    std::vector<T> one(s.area);
    FUZZ_CHECK(medianFilterDisk(img.data(), s.width, s.height, radius, one.data(), 1) == Status::Ok);
    FUZZ_CHECK(std::memcmp(one.data(), out.data(), s.area * sizeof(T)) == 0);
  }
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const Shape s = consumeShape(in);
  const size_t threads = consumeThreads(in);
  // Radii up to 12 (the network r <= 4 and the histogram beyond), larger ones only on small images (the histogram
  // median costs O(r) per pixel), and the limit's edges.
  int radius = consumeInt<int>(in, -2, 12);
  // (The expensive choices need non-zero bytes: an exhausted input reads zeros.) A valid radius far beyond the
  // image costs O(r²) in padding (r = 4096 on 16×16: 0.4 s at -O2, 20 s under ASan), so the fuzzer stops at 255.
  if (in.ConsumeIntegral<uint8_t>() >= 240)
    radius = in.PickValueInArray({0, -1, 5, 31, 64, 255, limits::kMaxMedianRadius + 1, std::numeric_limits<int>::max()});
  if (radius > 12 && s.area > 256 && radius <= limits::kMaxMedianRadius) radius = 12;
  if (radius > 255 && radius <= limits::kMaxMedianRadius) radius = 255;
  switch (in.ConsumeIntegralInRange<int>(0, 2)) {
    case 0: run<uint8_t>(in, s, radius, threads); break;
    case 1: run<uint16_t>(in, s, radius, threads); break;
    default: run<float>(in, s, radius, threads); break;
  }
  return 0;
}
