// Bindings of the distance kernels: exact Euclidean distance transform, peak_local_max.
#include <vector>

#include "napi_args.hpp"
#include "../edt.hpp"
#include "../peaks.hpp"

namespace scseg::binding {
namespace {

// distanceTransform(mask: Uint8Array, width, height, output: Float64Array)
Napi::Value DistanceTransform(const Napi::CallbackInfo& info) {
  return guarded(info, "distanceTransform", [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    ArrayView in, out;
    int64_t w, h;
    if (!getArray(info, 0, in, "mask") || !getInt(info, 1, w, "width") || !getInt(info, 2, h, "height") ||
        !getArray(info, 3, out, "output"))
      return env.Undefined();
    if (in.type != napi_uint8_array) {
      throwError(env, "ERR_SCSEG_DTYPE", "distanceTransform: mask must be a Uint8Array");
      return env.Undefined();
    }
    if (out.type != napi_float64_array) {
      throwError(env, "ERR_SCSEG_ARGUMENT", "distanceTransform: output must be a Float64Array");
      return env.Undefined();
    }
    if (!checkImage(env, in, w, h, "mask") || !checkImage(env, out, w, h, "output")) return env.Undefined();
    const Status s = scseg::distanceTransformEdt(static_cast<const uint8_t*>(in.data), w, h, static_cast<double*>(out.data));
    if (throwStatus(env, s, "distanceTransform")) return env.Undefined();
    syncOutput(env, out);
    return env.Undefined();
  });
}

// peakLocalMax(image: Float64Array, width, height, minDistance, footprintRadius) → Int32Array [y0, x0, y1, x1, …]
Napi::Value PeakLocalMax(const Napi::CallbackInfo& info) {
  return guarded(info, "peakLocalMax", [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    ArrayView in;
    int64_t w, h, minDistance, radius;
    if (!getArray(info, 0, in, "image") || !getInt(info, 1, w, "width") || !getInt(info, 2, h, "height") ||
        !getInt(info, 3, minDistance, "minDistance") || !getInt(info, 4, radius, "footprintRadius"))
      return env.Undefined();
    if (in.type != napi_float64_array) {
      throwError(env, "ERR_SCSEG_DTYPE", "peakLocalMax: image must be a Float64Array");
      return env.Undefined();
    }
    if (!checkImage(env, in, w, h, "image")) return env.Undefined();
    std::vector<int32_t> peaks;
    const Status s = scseg::peakLocalMax(static_cast<const double*>(in.data), w, h, minDistance, radius, peaks);
    if (throwStatus(env, s, "peakLocalMax")) return env.Undefined();
    // A new array sized to the result; on WASM its buffer lives in JS, so the copy made here must be synced back.
    Napi::Int32Array result = Napi::Int32Array::New(env, peaks.size());
    if (!peaks.empty()) {
      ArrayView view;
      view.type = napi_int32_array;
      view.length = peaks.size();
      view.value = result;
      napi_value v = result;
      if (napi_get_typedarray_info(env, v, nullptr, nullptr, &view.data, nullptr, nullptr) != napi_ok) {
        throwError(env, "ERR_SCSEG_INTERNAL", "peakLocalMax: cannot access the result array");
        return env.Undefined();
      }
      std::memcpy(view.data, peaks.data(), peaks.size() * sizeof(int32_t));
      syncOutput(env, view);
    }
    return result;
  });
}

}  // namespace

void registerDistance(Napi::Env env, Napi::Object exports) {
  exports.Set("distanceTransform", Napi::Function::New(env, DistanceTransform, "distanceTransform"));
  exports.Set("peakLocalMax", Napi::Function::New(env, PeakLocalMax, "peakLocalMax"));
}

}  // namespace scseg::binding
