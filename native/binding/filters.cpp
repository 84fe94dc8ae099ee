// Bindings of the filter kernels: disk median, percentile normalisation.
#include "napi_args.hpp"
#include "../median.hpp"
#include "../normalize.hpp"

namespace scseg::binding {
namespace {

// medianFilter(input, width, height, radius, output) — output has the input's type.
Napi::Value MedianFilter(const Napi::CallbackInfo& info) {
  return guarded(info, "medianFilter", [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    ArrayView in, out;
    int64_t w, h, r;
    if (!getArray(info, 0, in, "input") || !getInt(info, 1, w, "width") || !getInt(info, 2, h, "height") ||
        !getInt(info, 3, r, "radius") || !getArray(info, 4, out, "output"))
      return env.Undefined();
    if (!checkImage(env, in, w, h, "input") || !checkImage(env, out, w, h, "output")) return env.Undefined();
    if (out.type != in.type) {
      throwError(env, "ERR_SCSEG_ARGUMENT", "medianFilter: output must have the input's type");
      return env.Undefined();
    }
    if (r < 0 || r > 4096) {
      throwError(env, "ERR_SCSEG_ARGUMENT", "medianFilter: radius must be in [0, 4096]");
      return env.Undefined();
    }
    const int radius = static_cast<int>(r);
    Status s = Status::Ok;
    const bool known = dispatchPixelType(env, in, "medianFilter", [&](auto pixel) {
      using T = decltype(pixel);
      s = scseg::medianFilterDisk(static_cast<const T*>(in.data), w, h, radius, static_cast<T*>(out.data));
    });
    if (!known) return env.Undefined();
    if (throwStatus(env, s, "medianFilter")) return env.Undefined();
    syncOutput(env, out);
    return env.Undefined();
  });
}

// percentileNormalize(input, width, height, lower, upper, output: Float32Array)
Napi::Value PercentileNormalize(const Napi::CallbackInfo& info) {
  return guarded(info, "percentileNormalize", [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    ArrayView in, out;
    int64_t w, h;
    double lo, hi;
    if (!getArray(info, 0, in, "input") || !getInt(info, 1, w, "width") || !getInt(info, 2, h, "height") ||
        !getDouble(info, 3, lo, "lower") || !getDouble(info, 4, hi, "upper") || !getArray(info, 5, out, "output"))
      return env.Undefined();
    if (!checkImage(env, in, w, h, "input") || !checkImage(env, out, w, h, "output")) return env.Undefined();
    if (out.type != napi_float32_array) {
      throwError(env, "ERR_SCSEG_ARGUMENT", "percentileNormalize: output must be a Float32Array");
      return env.Undefined();
    }
    float* o = static_cast<float*>(out.data);
    Status s = Status::Ok;
    const bool known = dispatchPixelType(env, in, "percentileNormalize", [&](auto pixel) {
      using T = decltype(pixel);
      s = scseg::percentileNormalize(static_cast<const T*>(in.data), w, h, lo, hi, o);
    });
    if (!known) return env.Undefined();
    if (throwStatus(env, s, "percentileNormalize")) return env.Undefined();
    syncOutput(env, out);
    return env.Undefined();
  });
}

// normalizeRange(input, width, height, l, u, output: Float32Array) — percentileNormalize with given quantiles.
Napi::Value NormalizeRange(const Napi::CallbackInfo& info) {
  return guarded(info, "normalizeRange", [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    ArrayView in, out;
    int64_t w, h;
    double l, u;
    if (!getArray(info, 0, in, "input") || !getInt(info, 1, w, "width") || !getInt(info, 2, h, "height") ||
        !getDouble(info, 3, l, "l") || !getDouble(info, 4, u, "u") || !getArray(info, 5, out, "output"))
      return env.Undefined();
    if (!checkImage(env, in, w, h, "input") || !checkImage(env, out, w, h, "output")) return env.Undefined();
    if (out.type != napi_float32_array) {
      throwError(env, "ERR_SCSEG_ARGUMENT", "normalizeRange: output must be a Float32Array");
      return env.Undefined();
    }
    const bool known = dispatchPixelType(env, in, "normalizeRange", [&](auto pixel) {
      using T = decltype(pixel);
      scseg::scaleToUnit(static_cast<const T*>(in.data), in.length, l, u, static_cast<float*>(out.data));
    });
    if (!known) return env.Undefined();
    syncOutput(env, out);
    return env.Undefined();
  });
}

// wgaSpeedMap(channel, nuclei: Uint8Array, width, height, q02, q98, minClip, maxClip, output: Float64Array)
Napi::Value WgaSpeedMap(const Napi::CallbackInfo& info) {
  return guarded(info, "wgaSpeedMap", [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    ArrayView in, nuclei, out;
    int64_t w, h;
    double q02, q98, minClip, maxClip;
    if (!getArray(info, 0, in, "channel") || !getArray(info, 1, nuclei, "nuclei") || !getInt(info, 2, w, "width") ||
        !getInt(info, 3, h, "height") || !getDouble(info, 4, q02, "q02") || !getDouble(info, 5, q98, "q98") ||
        !getDouble(info, 6, minClip, "minClip") || !getDouble(info, 7, maxClip, "maxClip") ||
        !getArray(info, 8, out, "output"))
      return env.Undefined();
    if (!checkImage(env, in, w, h, "channel") || !checkImage(env, nuclei, w, h, "nuclei") ||
        !checkImage(env, out, w, h, "output"))
      return env.Undefined();
    if (nuclei.type != napi_uint8_array || out.type != napi_float64_array) {
      throwError(env, "ERR_SCSEG_ARGUMENT", "wgaSpeedMap: nuclei must be a Uint8Array and output a Float64Array");
      return env.Undefined();
    }
    Status s = Status::Ok;
    const bool known = dispatchPixelType(env, in, "wgaSpeedMap", [&](auto pixel) {
      using T = decltype(pixel);
      s = scseg::wgaSpeedMap(static_cast<const T*>(in.data), static_cast<const uint8_t*>(nuclei.data), w, h, q02, q98,
                             minClip, maxClip, static_cast<double*>(out.data));
    });
    if (!known) return env.Undefined();
    if (throwStatus(env, s, "wgaSpeedMap")) return env.Undefined();
    syncOutput(env, out);
    return env.Undefined();
  });
}

// quantiles(input, width, height, q: Float64Array, output: Float64Array) — numpy.quantile, "linear".
Napi::Value Quantiles(const Napi::CallbackInfo& info) {
  return guarded(info, "quantiles", [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    ArrayView in, q, out;
    int64_t w, h;
    if (!getArray(info, 0, in, "input") || !getInt(info, 1, w, "width") || !getInt(info, 2, h, "height") ||
        !getArray(info, 3, q, "q") || !getArray(info, 4, out, "output"))
      return env.Undefined();
    if (!checkImage(env, in, w, h, "input")) return env.Undefined();
    if (q.type != napi_float64_array || out.type != napi_float64_array || q.length != out.length) {
      throwError(env, "ERR_SCSEG_ARGUMENT", "quantiles: q and output must be Float64Arrays of equal length");
      return env.Undefined();
    }
    const double* qs = static_cast<const double*>(q.data);
    double* o = static_cast<double*>(out.data);
    Status s = Status::Ok;
    const bool known = dispatchPixelType(env, in, "quantiles", [&](auto pixel) {
      using T = decltype(pixel);
      s = scseg::quantiles(static_cast<const T*>(in.data), w, h, qs, q.length, o);
    });
    if (!known) return env.Undefined();
    if (throwStatus(env, s, "quantiles")) return env.Undefined();
    syncOutput(env, out);
    return env.Undefined();
  });
}

}  // namespace

void registerFilters(Napi::Env env, Napi::Object exports) {
  exports.Set("medianFilter", Napi::Function::New(env, MedianFilter, "medianFilter"));
  exports.Set("percentileNormalize", Napi::Function::New(env, PercentileNormalize, "percentileNormalize"));
  exports.Set("quantiles", Napi::Function::New(env, Quantiles, "quantiles"));
  exports.Set("normalizeRange", Napi::Function::New(env, NormalizeRange, "normalizeRange"));
  exports.Set("wgaSpeedMap", Napi::Function::New(env, WgaSpeedMap, "wgaSpeedMap"));
}

}  // namespace scseg::binding
