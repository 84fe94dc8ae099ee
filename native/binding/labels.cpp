// Bindings of the marker watershed and the label utilities (native/watershed.hpp, native/labels.hpp).
// Image outputs are allocated by JS; per-id results (variable length) are returned as new typed arrays.
#include <cstring>
#include <vector>

#include "napi_args.hpp"
#include "../labels.hpp"
#include "../watershed.hpp"

namespace scseg::binding {
namespace {

// A label image argument: Uint32Array of width*height elements.
bool getLabels(const Napi::CallbackInfo& info, size_t i, ArrayView& out, int64_t w, int64_t h, const char* kernel,
               const char* name) {
  if (!getArray(info, i, out, name)) return false;
  if (!requireType(info.Env(), out, napi_uint32_array, kernel, (std::string(name) + " must be a Uint32Array").c_str()))
    return false;
  return checkImage(info.Env(), out, w, h, name);
}

bool getDims(const Napi::CallbackInfo& info, size_t i, int64_t& w, int64_t& h) {
  return getInt(info, i, w, "width") && getInt(info, i + 1, h, "height");
}

// Copies a result vector into a new JS typed array (on WASM the array's bytes live in JS: sync them back).
template <typename T>
Napi::Value newTypedArray(Napi::Env env, const std::vector<T>& values) {
  Napi::TypedArrayOf<T> arr = Napi::TypedArrayOf<T>::New(env, values.size());
  if (!values.empty()) {
    std::memcpy(arr.Data(), values.data(), values.size() * sizeof(T));
    ArrayView view{arr.TypedArrayType(), arr.Data(), values.size(), arr};
    syncOutput(env, view);
  }
  return arr;
}

// watershed(surface: Float64Array|Float32Array, markers: Uint32Array, mask: Uint8Array|null, width, height,
//           output: Uint32Array, raiseToParent?: boolean)
Napi::Value Watershed(const Napi::CallbackInfo& info) {
  return guarded(info, "watershed", [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    ArrayView surface, markers, mask, out;
    int64_t w, h;
    if (!getDims(info, 3, w, h) || !getArray(info, 0, surface, "surface") ||
        !getLabels(info, 1, markers, w, h, "watershed", "markers") || !getLabels(info, 5, out, w, h, "watershed", "output"))
      return env.Undefined();
    if (!checkImage(env, surface, w, h, "surface")) return env.Undefined();
    const bool hasMask = info.Length() > 2 && !info[2].IsNull() && !info[2].IsUndefined();
    if (hasMask) {
      if (!getArray(info, 2, mask, "mask") ||
          !requireType(env, mask, napi_uint8_array, "watershed", "mask must be a Uint8Array or null") ||
          !checkImage(env, mask, w, h, "mask"))
        return env.Undefined();
    }
    const bool raise = info.Length() > 6 && info[6].IsBoolean() && info[6].As<Napi::Boolean>().Value();
    const uint8_t* m = hasMask ? static_cast<const uint8_t*>(mask.data) : nullptr;
    const uint32_t* mk = static_cast<const uint32_t*>(markers.data);
    uint32_t* o = static_cast<uint32_t*>(out.data);
    Status s;
    switch (surface.type) {
      case napi_float64_array:
        s = scseg::watershedFromMarkers(static_cast<const double*>(surface.data), mk, m, w, h, o, raise);
        break;
      case napi_float32_array:
        s = scseg::watershedFromMarkers(static_cast<const float*>(surface.data), mk, m, w, h, o, raise);
        break;
      default:
        throwError(env, "ERR_SCSEG_DTYPE", "watershed: surface must be a Float64Array or Float32Array");
        return env.Undefined();
    }
    if (throwStatus(env, s, "watershed")) return env.Undefined();
    syncOutput(env, out);
    return env.Undefined();
  });
}

// labelCentroids(labels, width, height) → { ids: Uint32Array, y: Float64Array, x: Float64Array }
Napi::Value LabelCentroids(const Napi::CallbackInfo& info) {
  return guarded(info, "labelCentroids", [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    ArrayView labels;
    int64_t w, h;
    if (!getDims(info, 1, w, h) || !getLabels(info, 0, labels, w, h, "labelCentroids", "labels")) return env.Undefined();
    std::vector<uint32_t> ids;
    std::vector<double> y, x;
    if (throwStatus(env, scseg::labelCentroids(static_cast<const uint32_t*>(labels.data), w, h, ids, y, x),
                    "labelCentroids"))
      return env.Undefined();
    Napi::Object result = Napi::Object::New(env);
    result.Set("ids", newTypedArray(env, ids));
    result.Set("y", newTypedArray(env, y));
    result.Set("x", newTypedArray(env, x));
    return result;
  });
}

// labelAreas(labels, width, height) → { ids: Uint32Array, areas: Float64Array }
Napi::Value LabelAreas(const Napi::CallbackInfo& info) {
  return guarded(info, "labelAreas", [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    ArrayView labels;
    int64_t w, h;
    if (!getDims(info, 1, w, h) || !getLabels(info, 0, labels, w, h, "labelAreas", "labels")) return env.Undefined();
    std::vector<uint32_t> ids;
    std::vector<double> areas;
    if (throwStatus(env, scseg::labelAreas(static_cast<const uint32_t*>(labels.data), w, h, ids, areas), "labelAreas"))
      return env.Undefined();
    Napi::Object result = Napi::Object::New(env);
    result.Set("ids", newTypedArray(env, ids));
    result.Set("areas", newTypedArray(env, areas));
    return result;
  });
}

// removeLabels(labels, width, height, ids: Uint32Array, output)
Napi::Value RemoveLabels(const Napi::CallbackInfo& info) {
  return guarded(info, "removeLabels", [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    ArrayView labels, ids, out;
    int64_t w, h;
    if (!getDims(info, 1, w, h) || !getLabels(info, 0, labels, w, h, "removeLabels", "labels") ||
        !getArray(info, 3, ids, "ids") ||
        !requireType(env, ids, napi_uint32_array, "removeLabels", "ids must be a Uint32Array") ||
        !getLabels(info, 4, out, w, h, "removeLabels", "output"))
      return env.Undefined();
    if (throwStatus(env,
                    scseg::removeLabels(static_cast<const uint32_t*>(labels.data), w, h,
                                        static_cast<const uint32_t*>(ids.data), ids.length,
                                        static_cast<uint32_t*>(out.data)),
                    "removeLabels"))
      return env.Undefined();
    syncOutput(env, out);
    return env.Undefined();
  });
}

// removeEdgeLabels(labels, width, height, output)
Napi::Value RemoveEdgeLabels(const Napi::CallbackInfo& info) {
  return guarded(info, "removeEdgeLabels", [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    ArrayView labels, out;
    int64_t w, h;
    if (!getDims(info, 1, w, h) || !getLabels(info, 0, labels, w, h, "removeEdgeLabels", "labels") ||
        !getLabels(info, 3, out, w, h, "removeEdgeLabels", "output"))
      return env.Undefined();
    if (throwStatus(env,
                    scseg::removeEdgeLabels(static_cast<const uint32_t*>(labels.data), w, h,
                                            static_cast<uint32_t*>(out.data)),
                    "removeEdgeLabels"))
      return env.Undefined();
    syncOutput(env, out);
    return env.Undefined();
  });
}

// contactFilter(labels, width, height, threshold, output)
Napi::Value ContactFilter(const Napi::CallbackInfo& info) {
  return guarded(info, "contactFilter", [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    ArrayView labels, out;
    int64_t w, h;
    double threshold;
    if (!getDims(info, 1, w, h) || !getLabels(info, 0, labels, w, h, "contactFilter", "labels") ||
        !getDouble(info, 3, threshold, "threshold") || !getLabels(info, 4, out, w, h, "contactFilter", "output"))
      return env.Undefined();
    if (throwStatus(env,
                    scseg::contactFilter(static_cast<const uint32_t*>(labels.data), w, h, threshold,
                                         static_cast<uint32_t*>(out.data)),
                    "contactFilter"))
      return env.Undefined();
    syncOutput(env, out);
    return env.Undefined();
  });
}

// matchNucleusCytosol(nucleus, cytosol, width, height, threshold, nucleusOut, cytosolOut)
Napi::Value MatchNucleusCytosol(const Napi::CallbackInfo& info) {
  return guarded(info, "matchNucleusCytosol", [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    ArrayView nucleus, cytosol, nucleusOut, cytosolOut;
    int64_t w, h;
    double threshold;
    const char* k = "matchNucleusCytosol";
    if (!getDims(info, 2, w, h) || !getLabels(info, 0, nucleus, w, h, k, "nucleus") ||
        !getLabels(info, 1, cytosol, w, h, k, "cytosol") || !getDouble(info, 4, threshold, "threshold") ||
        !getLabels(info, 5, nucleusOut, w, h, k, "nucleusOut") || !getLabels(info, 6, cytosolOut, w, h, k, "cytosolOut"))
      return env.Undefined();
    if (throwStatus(env,
                    scseg::matchNucleusCytosol(static_cast<const uint32_t*>(nucleus.data),
                                               static_cast<const uint32_t*>(cytosol.data), w, h, threshold,
                                               static_cast<uint32_t*>(nucleusOut.data),
                                               static_cast<uint32_t*>(cytosolOut.data)),
                    k))
      return env.Undefined();
    syncOutput(env, nucleusOut);
    syncOutput(env, cytosolOut);
    return env.Undefined();
  });
}

}  // namespace

void registerLabels(Napi::Env env, Napi::Object exports) {
  exports.Set("watershed", Napi::Function::New(env, Watershed, "watershed"));
  exports.Set("labelCentroids", Napi::Function::New(env, LabelCentroids, "labelCentroids"));
  exports.Set("labelAreas", Napi::Function::New(env, LabelAreas, "labelAreas"));
  exports.Set("removeLabels", Napi::Function::New(env, RemoveLabels, "removeLabels"));
  exports.Set("removeEdgeLabels", Napi::Function::New(env, RemoveEdgeLabels, "removeEdgeLabels"));
  exports.Set("contactFilter", Napi::Function::New(env, ContactFilter, "contactFilter"));
  exports.Set("matchNucleusCytosol", Napi::Function::New(env, MatchNucleusCytosol, "matchNucleusCytosol"));
}

}  // namespace scseg::binding
