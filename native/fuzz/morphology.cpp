// Fuzz target: morphology.hpp (binaryErosionDisk, binaryDilationDisk). Checks: BadShape / BadArgument as
// documented; on Ok a 0/1 output equal to the definition (every / some pixel of p + disk(r) set, `outside` beyond
// the border) computed by brute force on small cases, and dilation = complement of the erosion of the complement.
#include "fuzz_input.hpp"
#include "../morphology.hpp"

using namespace scseg;
using namespace scseg::fuzz;

// Erosion by definition (dilation: erosion of the complement, complemented, with the complementary border).
static std::vector<uint8_t> erodeByDefinition(const std::vector<uint8_t>& in, const Shape& s, int r, int outside) {
  std::vector<uint8_t> out(s.area);
  const std::vector<int> hw = diskHalfWidths(r);
  for (int64_t y = 0; y < s.height; ++y)
    for (int64_t x = 0; x < s.width; ++x) {
      bool all = true;
      for (int dy = -r; dy <= r && all; ++dy)
        for (int dx = -hw[size_t(dy + r)]; dx <= hw[size_t(dy + r)] && all; ++dx) {
          const int64_t yy = y + dy, xx = x + dx;
          const bool v = (yy < 0 || yy >= s.height || xx < 0 || xx >= s.width) ? outside == 1
                                                                               : in[size_t(yy * s.width + xx)] != 0;
          all = v;
        }
      out[size_t(y * s.width + x)] = all;
    }
  return out;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const Shape s = consumeShape(in);
  int radius = consumeInt<int>(in, -1, 70);
  // (The expensive choices need non-zero bytes: an exhausted input reads zeros.)
  if (in.ConsumeIntegral<uint8_t>() >= 248)
    radius = in.PickValueInArray({63, 64, 65, 128, limits::kMaxMorphologyRadius, limits::kMaxMorphologyRadius + 1});
  if (radius > 70 && s.area > 1024 && radius <= limits::kMaxMorphologyRadius) radius = 70;
  const int outside = in.ConsumeIntegral<uint8_t>() < 240 ? in.ConsumeIntegralInRange<int>(0, 1)
                                                          : consumeInt<int>(in, -2, 3);
  const bool dilate = in.ConsumeBool();
  const std::vector<uint8_t> mask = consumeMask(in, s.elements());
  std::vector<uint8_t> out(s.elements(), 7);
  const Status st = dilate ? binaryDilationDisk(mask.data(), s.width, s.height, radius, outside, out.data())
                           : binaryErosionDisk(mask.data(), s.width, s.height, radius, outside, out.data());
  if (!s.valid()) {
    FUZZ_CHECK(st == Status::BadShape);
    return 0;
  }
  if (radius < 0 || radius > limits::kMaxMorphologyRadius || (outside != 0 && outside != 1)) {
    FUZZ_CHECK(st == Status::BadArgument);
    return 0;
  }
  FUZZ_CHECK(st == Status::Ok);
  for (size_t i = 0; i < s.area; ++i) FUZZ_CHECK(out[i] == 0 || out[i] == 1);
  // Duality: dilation(m, o) = !erosion(!m, !o).
  std::vector<uint8_t> complement(s.area), other(s.area);
  for (size_t i = 0; i < s.area; ++i) complement[i] = mask[i] == 0;
  if (dilate) FUZZ_CHECK(binaryErosionDisk(complement.data(), s.width, s.height, radius, 1 - outside, other.data()) == Status::Ok);
  else FUZZ_CHECK(binaryDilationDisk(complement.data(), s.width, s.height, radius, 1 - outside, other.data()) == Status::Ok);
  for (size_t i = 0; i < s.area; ++i) FUZZ_CHECK(other[i] == 1 - out[i]);
  const double cost = double(s.area) * double(2 * radius + 1) * double(2 * radius + 1);
  if (cost <= 2e5) {
    const std::vector<uint8_t> want = dilate ? erodeByDefinition(complement, s, radius, 1 - outside)
                                             : erodeByDefinition(mask, s, radius, outside);
    for (size_t i = 0; i < s.area; ++i) FUZZ_CHECK(out[i] == (dilate ? 1 - want[i] : want[i]));
  }
  return 0;
}
