// Binding of travel_watershed.hpp: WGA's cytosol flooding (travel time + marker watershed) in one call.
#include <limits>

#include "napi_args.hpp"
#include "../travel_watershed.hpp"

namespace scseg::binding {
namespace {

// travelTimeWatershed(seeds: Uint8Array, allowed: Uint8Array, speed: Float64Array, markers: Uint32Array, width,
//                     height, travel: Float64Array | null (labels only), labels: Uint32Array,
//                     floodLag: number | undefined, markerRanks: Int32Array | null, threads)
Napi::Value TravelTimeWatershed(const Napi::CallbackInfo& info) {
  return bound(info, "travelTimeWatershed", [](Args& a) {
    const uint8_t* seeds = a.image<uint8_t>("seeds");
    const uint8_t* allowed = a.image<uint8_t>("allowed");
    const double* speed = a.image<double>("speed");
    const uint32_t* markers = a.image<uint32_t>("markers");
    a.dims();
    double* travel = a.outputOrNull<double>("travel");
    uint32_t* labels = a.output<uint32_t>("labels");
    const double lag = a.numberOr(std::numeric_limits<double>::quiet_NaN(), "floodLag");
    const MarkerRanks order = a.markerRanks();
    const size_t threads = a.threads();
    return a.run([&] {
      return travelTimeWatershed(seeds, allowed, speed, markers, a.width(), a.height(), travel, labels, threads, lag,
                                 order);
    });
  });
}

}  // namespace

void registerTravelWatershed(Napi::Env env, Napi::Object exports) {
  define(env, exports, "travelTimeWatershed", TravelTimeWatershed);
}

}  // namespace scseg::binding
