// Binding of watershed.hpp: the marker watershed.
#include "napi_args.hpp"
#include "../watershed.hpp"

namespace scseg::binding {
namespace {

// watershed(surface: Float64Array | Float32Array, markers: Uint32Array, mask: Uint8Array | null, width, height,
//           output: Uint32Array, raiseToParent?: boolean, markerRanks: Int32Array | null, threads)
Napi::Value Watershed(const Napi::CallbackInfo& info) {
  return bound(info, "watershed", [](Args& a) {
    const Pixels surface = a.floats("surface");
    const uint32_t* markers = a.image<uint32_t>("markers");
    const uint8_t* mask = a.imageOrNull<uint8_t>("mask");
    a.dims();
    uint32_t* out = a.output<uint32_t>("output");
    const bool raiseToParent = a.flag("raiseToParent");
    const MarkerRanks order = a.markerRanks();
    const size_t threads = a.threads();
    return a.run([&] {
      return forFloatType(surface, [&](auto value) {
        using T = decltype(value);
        return watershedFromMarkers(static_cast<const T*>(surface.data), markers, mask, a.width(), a.height(), out,
                                    raiseToParent, threads, order);
      });
    });
  });
}

}  // namespace

void registerWatershed(Napi::Env env, Napi::Object exports) { define(env, exports, "watershed", Watershed); }

}  // namespace scseg::binding
