// Binding of distance_watershed.hpp: the nucleus labelling (geodesic distance + marker watershed) in one call.
#include "napi_args.hpp"
#include "../distance_watershed.hpp"

namespace scseg::binding {
namespace {

// distanceWatershed(seeds: Uint8Array, allowed: Uint8Array, markers: Uint32Array, width, height,
//                   labels: Uint32Array, markerRanks: Int32Array | null, threads)
Napi::Value DistanceWatershed(const Napi::CallbackInfo& info) {
  return bound(info, "distanceWatershed", [](Args& a) {
    const uint8_t* seeds = a.image<uint8_t>("seeds");
    const uint8_t* allowed = a.image<uint8_t>("allowed");
    const uint32_t* markers = a.image<uint32_t>("markers");
    a.dims();
    uint32_t* labels = a.output<uint32_t>("labels");
    const MarkerRanks order = a.markerRanks();
    const size_t threads = a.threads();
    return a.run([&] { return distanceWatershed(seeds, allowed, markers, a.width(), a.height(), labels, threads, order); });
  });
}

}  // namespace

void registerDistanceWatershed(Napi::Env env, Napi::Object exports) {
  define(env, exports, "distanceWatershed", DistanceWatershed);
}

}  // namespace scseg::binding
