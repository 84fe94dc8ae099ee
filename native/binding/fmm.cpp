// Binding of fmm.hpp: geodesic distance and travel time (scikit-fmm semantics).
#include "napi_args.hpp"
#include "../fmm.hpp"

namespace scseg::binding {
namespace {

// fmmDistance(seeds: Uint8Array, allowed: Uint8Array, width, height, output: Float64Array, threads)
Napi::Value FmmDistance(const Napi::CallbackInfo& info) {
  return bound(info, "fmmDistance", [](Args& a) {
    const uint8_t* seeds = a.image<uint8_t>("seeds");
    const uint8_t* allowed = a.image<uint8_t>("allowed");
    a.dims();
    double* out = a.output<double>("output");
    const size_t threads = a.threads();
    return a.run([&] { return fmmDistance(seeds, allowed, a.width(), a.height(), out, threads); });
  });
}

// fmmTravelTime(seeds: Uint8Array, allowed: Uint8Array, speed: Float64Array, width, height, output: Float64Array,
//               targets?: Uint8Array | null)
Napi::Value FmmTravelTime(const Napi::CallbackInfo& info) {
  return bound(info, "fmmTravelTime", [](Args& a) {
    const uint8_t* seeds = a.image<uint8_t>("seeds");
    const uint8_t* allowed = a.image<uint8_t>("allowed");
    const double* speed = a.image<double>("speed");
    a.dims();
    double* out = a.output<double>("output");
    size_t targetLength = 0;
    const uint8_t* targets = a.arrayOrNull<uint8_t>("targets", targetLength);
    if (targets) a.requireLength(targetLength, size_t(a.width()) * size_t(a.height()), "targets");
    return a.run([&] { return fmmTravelTime(seeds, allowed, speed, a.width(), a.height(), out, nullptr, targets); });
  });
}

}  // namespace

void registerFmm(Napi::Env env, Napi::Object exports) {
  define(env, exports, "fmmDistance", FmmDistance);
  define(env, exports, "fmmTravelTime", FmmTravelTime);
}

}  // namespace scseg::binding
