// Bindings of the fast-marching kernels: geodesic distance and travel time (scikit-fmm semantics, see fmm.hpp).
#include <limits>

#include "napi_args.hpp"
#include "../distance_watershed.hpp"
#include "../fmm.hpp"
#include "../travel_watershed.hpp"

namespace scseg::binding {
namespace {

// fmmDistance(seeds: Uint8Array, allowed: Uint8Array, width, height, output: Float64Array)
Napi::Value FmmDistance(const Napi::CallbackInfo& info) {
  return guarded(info, "fmmDistance", [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    ArrayView seeds, allowed, out;
    int64_t w, h;
    if (!getArray(info, 0, seeds, "seeds") || !getArray(info, 1, allowed, "allowed") || !getInt(info, 2, w, "width") ||
        !getInt(info, 3, h, "height") || !getArray(info, 4, out, "output"))
      return env.Undefined();
    if (!checkImage(env, seeds, w, h, "seeds") || !checkImage(env, allowed, w, h, "allowed") ||
        !checkImage(env, out, w, h, "output"))
      return env.Undefined();
    if (!requireType(env, seeds, napi_uint8_array, "fmmDistance", "seeds must be a Uint8Array") ||
        !requireType(env, allowed, napi_uint8_array, "fmmDistance", "allowed must be a Uint8Array") ||
        !requireType(env, out, napi_float64_array, "fmmDistance", "output must be a Float64Array"))
      return env.Undefined();
    const Status s = scseg::fmmDistance(static_cast<const uint8_t*>(seeds.data),
                                        static_cast<const uint8_t*>(allowed.data), w, h,
                                        static_cast<double*>(out.data));
    if (throwStatus(env, s, "fmmDistance")) return env.Undefined();
    syncOutput(env, out);
    return env.Undefined();
  });
}

// distanceWatershed(seeds: Uint8Array, allowed: Uint8Array, markers: Uint32Array, width, height, labels: Uint32Array)
Napi::Value DistanceWatershed(const Napi::CallbackInfo& info) {
  return guarded(info, "distanceWatershed", [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    const char* k = "distanceWatershed";
    ArrayView seeds, allowed, markers, labels;
    int64_t w, h;
    if (!getArray(info, 0, seeds, "seeds") || !getArray(info, 1, allowed, "allowed") ||
        !getArray(info, 2, markers, "markers") || !getInt(info, 3, w, "width") || !getInt(info, 4, h, "height") ||
        !getArray(info, 5, labels, "labels"))
      return env.Undefined();
    if (!checkImage(env, seeds, w, h, "seeds") || !checkImage(env, allowed, w, h, "allowed") ||
        !checkImage(env, markers, w, h, "markers") || !checkImage(env, labels, w, h, "labels"))
      return env.Undefined();
    if (!requireType(env, seeds, napi_uint8_array, k, "seeds must be a Uint8Array") ||
        !requireType(env, allowed, napi_uint8_array, k, "allowed must be a Uint8Array") ||
        !requireType(env, markers, napi_uint32_array, k, "markers must be a Uint32Array") ||
        !requireType(env, labels, napi_uint32_array, k, "labels must be a Uint32Array"))
      return env.Undefined();
    const Status s = scseg::distanceWatershed(static_cast<const uint8_t*>(seeds.data),
                                              static_cast<const uint8_t*>(allowed.data),
                                              static_cast<const uint32_t*>(markers.data), w, h,
                                              static_cast<uint32_t*>(labels.data));
    if (throwStatus(env, s, k)) return env.Undefined();
    syncOutput(env, labels);
    return env.Undefined();
  });
}

// fmmTravelTime(seeds: Uint8Array, allowed: Uint8Array, speed: Float64Array, width, height, output: Float64Array)
Napi::Value FmmTravelTime(const Napi::CallbackInfo& info) {
  return guarded(info, "fmmTravelTime", [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    ArrayView seeds, allowed, speed, out;
    int64_t w, h;
    if (!getArray(info, 0, seeds, "seeds") || !getArray(info, 1, allowed, "allowed") ||
        !getArray(info, 2, speed, "speed") || !getInt(info, 3, w, "width") || !getInt(info, 4, h, "height") ||
        !getArray(info, 5, out, "output"))
      return env.Undefined();
    if (!checkImage(env, seeds, w, h, "seeds") || !checkImage(env, allowed, w, h, "allowed") ||
        !checkImage(env, speed, w, h, "speed") || !checkImage(env, out, w, h, "output"))
      return env.Undefined();
    if (!requireType(env, seeds, napi_uint8_array, "fmmTravelTime", "seeds must be a Uint8Array") ||
        !requireType(env, allowed, napi_uint8_array, "fmmTravelTime", "allowed must be a Uint8Array") ||
        !requireType(env, speed, napi_float64_array, "fmmTravelTime", "speed must be a Float64Array") ||
        !requireType(env, out, napi_float64_array, "fmmTravelTime", "output must be a Float64Array"))
      return env.Undefined();
    const Status s = scseg::fmmTravelTime(static_cast<const uint8_t*>(seeds.data),
                                          static_cast<const uint8_t*>(allowed.data),
                                          static_cast<const double*>(speed.data), w, h, static_cast<double*>(out.data));
    if (throwStatus(env, s, "fmmTravelTime")) return env.Undefined();
    syncOutput(env, out);
    return env.Undefined();
  });
}

// travelTimeWatershed(seeds: Uint8Array, allowed: Uint8Array, speed: Float64Array, markers: Uint32Array, width,
//                     height, travel: Float64Array | null (labels only), labels: Uint32Array, floodLag?: number)
Napi::Value TravelTimeWatershed(const Napi::CallbackInfo& info) {
  return guarded(info, "travelTimeWatershed", [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    const char* k = "travelTimeWatershed";
    ArrayView seeds, allowed, speed, markers, travel, labels;
    int64_t w, h;
    const bool wantTravel = !(info.Length() > 6 && info[6].IsNull());
    if (!getArray(info, 0, seeds, "seeds") || !getArray(info, 1, allowed, "allowed") ||
        !getArray(info, 2, speed, "speed") || !getArray(info, 3, markers, "markers") || !getInt(info, 4, w, "width") ||
        !getInt(info, 5, h, "height") || (wantTravel && !getArray(info, 6, travel, "travel")) ||
        !getArray(info, 7, labels, "labels"))
      return env.Undefined();
    if (!checkImage(env, seeds, w, h, "seeds") || !checkImage(env, allowed, w, h, "allowed") ||
        !checkImage(env, speed, w, h, "speed") || !checkImage(env, markers, w, h, "markers") ||
        (wantTravel && !checkImage(env, travel, w, h, "travel")) || !checkImage(env, labels, w, h, "labels"))
      return env.Undefined();
    if (!requireType(env, seeds, napi_uint8_array, k, "seeds must be a Uint8Array") ||
        !requireType(env, allowed, napi_uint8_array, k, "allowed must be a Uint8Array") ||
        !requireType(env, speed, napi_float64_array, k, "speed must be a Float64Array") ||
        !requireType(env, markers, napi_uint32_array, k, "markers must be a Uint32Array") ||
        (wantTravel && !requireType(env, travel, napi_float64_array, k, "travel must be a Float64Array")) ||
        !requireType(env, labels, napi_uint32_array, k, "labels must be a Uint32Array"))
      return env.Undefined();
    double lag = std::numeric_limits<double>::quiet_NaN();
    if (info.Length() > 8 && !info[8].IsUndefined() && !getDouble(info, 8, lag, "floodLag")) return env.Undefined();
    const Status s = scseg::travelTimeWatershed(
        static_cast<const uint8_t*>(seeds.data), static_cast<const uint8_t*>(allowed.data),
        static_cast<const double*>(speed.data), static_cast<const uint32_t*>(markers.data), w, h,
        wantTravel ? static_cast<double*>(travel.data) : nullptr, static_cast<uint32_t*>(labels.data), true, lag);
    if (throwStatus(env, s, k)) return env.Undefined();
    if (wantTravel) syncOutput(env, travel);
    syncOutput(env, labels);
    return env.Undefined();
  });
}

}  // namespace

void registerFmm(Napi::Env env, Napi::Object exports) {
  exports.Set("fmmDistance", Napi::Function::New(env, FmmDistance, "fmmDistance"));
  exports.Set("fmmTravelTime", Napi::Function::New(env, FmmTravelTime, "fmmTravelTime"));
  exports.Set("travelTimeWatershed", Napi::Function::New(env, TravelTimeWatershed, "travelTimeWatershed"));
  exports.Set("distanceWatershed", Napi::Function::New(env, DistanceWatershed, "distanceWatershed"));
}

}  // namespace scseg::binding
