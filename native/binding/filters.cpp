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
    Status s;
    switch (in.type) {
      case napi_uint8_array:
        s = scseg::medianFilterDisk(static_cast<const uint8_t*>(in.data), w, h, radius, static_cast<uint8_t*>(out.data));
        break;
      case napi_uint16_array:
        s = scseg::medianFilterDisk(static_cast<const uint16_t*>(in.data), w, h, radius, static_cast<uint16_t*>(out.data));
        break;
      case napi_float32_array:
        s = scseg::medianFilterDisk(static_cast<const float*>(in.data), w, h, radius, static_cast<float*>(out.data));
        break;
      default:
        throwError(env, "ERR_SCSEG_DTYPE", "medianFilter: input must be Uint8Array, Uint16Array or Float32Array");
        return env.Undefined();
    }
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
    Status s;
    float* o = static_cast<float*>(out.data);
    switch (in.type) {
      case napi_uint8_array:
        s = scseg::percentileNormalize(static_cast<const uint8_t*>(in.data), w, h, lo, hi, o);
        break;
      case napi_uint16_array:
        s = scseg::percentileNormalize(static_cast<const uint16_t*>(in.data), w, h, lo, hi, o);
        break;
      case napi_float32_array:
        s = scseg::percentileNormalize(static_cast<const float*>(in.data), w, h, lo, hi, o);
        break;
      default:
        throwError(env, "ERR_SCSEG_DTYPE", "percentileNormalize: input must be Uint8Array, Uint16Array or Float32Array");
        return env.Undefined();
    }
    if (throwStatus(env, s, "percentileNormalize")) return env.Undefined();
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
    Status s;
    switch (in.type) {
      case napi_uint8_array:
        s = scseg::quantiles(static_cast<const uint8_t*>(in.data), w, h, qs, q.length, o);
        break;
      case napi_uint16_array:
        s = scseg::quantiles(static_cast<const uint16_t*>(in.data), w, h, qs, q.length, o);
        break;
      case napi_float32_array:
        s = scseg::quantiles(static_cast<const float*>(in.data), w, h, qs, q.length, o);
        break;
      default:
        throwError(env, "ERR_SCSEG_DTYPE", "quantiles: input must be Uint8Array, Uint16Array or Float32Array");
        return env.Undefined();
    }
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
}

}  // namespace scseg::binding
