// Binding of morphology.hpp: binary erosion and dilation by a disk.
#include "napi_args.hpp"
#include "../morphology.hpp"

namespace scseg::binding {
namespace {

// binaryErosion / binaryDilation(input: Uint8Array, width, height, radius, outside 0|1, output: Uint8Array)
template <Status (*Kernel)(const uint8_t*, int64_t, int64_t, int, int, uint8_t*)>
Napi::Value DiskMorphology(const Napi::CallbackInfo& info, const char* kernel) {
  return bound(info, kernel, [](Args& a) {
    const uint8_t* in = a.image<uint8_t>("input");
    a.dims();
    const int radius = a.integer<int>("radius"), outside = a.integer<int>("outside");
    uint8_t* out = a.output<uint8_t>("output");
    return a.run([&] { return Kernel(in, a.width(), a.height(), radius, outside, out); });
  });
}

Napi::Value BinaryErosion(const Napi::CallbackInfo& info) {
  return DiskMorphology<binaryErosionDisk>(info, "binaryErosion");
}

Napi::Value BinaryDilation(const Napi::CallbackInfo& info) {
  return DiskMorphology<binaryDilationDisk>(info, "binaryDilation");
}

}  // namespace

void registerMorphology(Napi::Env env, Napi::Object exports) {
  define(env, exports, "binaryErosion", BinaryErosion);
  define(env, exports, "binaryDilation", BinaryDilation);
}

}  // namespace scseg::binding
