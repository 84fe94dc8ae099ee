// The only file that knows about Node-API: unpacks typed arrays, calls a kernel, maps statuses to JS errors.
// Built twice from this source: as a native addon (node-addon-api) and as WebAssembly (emnapi).
// Callers (lib/kernels) validate arguments first; the checks here keep a wrong call from ever touching
// memory out of bounds.
#ifndef NAPI_DISABLE_CPP_EXCEPTIONS
#define NAPI_DISABLE_CPP_EXCEPTIONS
#endif
#include <napi.h>
#ifdef __wasm__
#include <emnapi.h>
#endif

#include <cstdint>
#include <cstring>
#include <string>

#include "median.hpp"
#include "normalize.hpp"

namespace {

using scseg::Status;

void throwError(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, code));
  err.ThrowAsJavaScriptException();
}

bool throwStatus(Napi::Env env, Status s, const char* kernel) {
  if (s == Status::Ok) return false;
  const char* code = s == Status::BadShape ? "ERR_SCSEG_SHAPE" : s == Status::BadValue ? "ERR_SCSEG_VALUE" : "ERR_SCSEG_ARGUMENT";
  throwError(env, code, std::string(kernel) + ": " + scseg::statusMessage(s));
  return true;
}

struct ArrayView {
  napi_typedarray_type type;
  void* data;
  size_t length;
  Napi::Value value;
};

bool getArray(const Napi::CallbackInfo& info, size_t i, ArrayView& out, const char* name) {
  if (i >= info.Length() || !info[i].IsTypedArray()) {
    throwError(info.Env(), "ERR_SCSEG_ARGUMENT", std::string(name) + " must be a typed array");
    return false;
  }
  Napi::TypedArray arr = info[i].As<Napi::TypedArray>();
  out.type = arr.TypedArrayType();
  out.length = arr.ElementLength();
  out.value = info[i];
  napi_value v = info[i];
  napi_status st = napi_get_typedarray_info(info.Env(), v, nullptr, nullptr, &out.data, nullptr, nullptr);
  if (st != napi_ok) {
    throwError(info.Env(), "ERR_SCSEG_ARGUMENT", std::string(name) + ": cannot access typed array data");
    return false;
  }
  return true;
}

bool getInt(const Napi::CallbackInfo& info, size_t i, int64_t& out, const char* name) {
  if (i >= info.Length() || !info[i].IsNumber()) {
    throwError(info.Env(), "ERR_SCSEG_ARGUMENT", std::string(name) + " must be a number");
    return false;
  }
  const double d = info[i].As<Napi::Number>().DoubleValue();
  if (!(d >= -9007199254740991.0 && d <= 9007199254740991.0) || d != static_cast<double>(static_cast<int64_t>(d))) {
    throwError(info.Env(), "ERR_SCSEG_ARGUMENT", std::string(name) + " must be an integer");
    return false;
  }
  out = static_cast<int64_t>(d);
  return true;
}

bool getDouble(const Napi::CallbackInfo& info, size_t i, double& out, const char* name) {
  if (i >= info.Length() || !info[i].IsNumber()) {
    throwError(info.Env(), "ERR_SCSEG_ARGUMENT", std::string(name) + " must be a number");
    return false;
  }
  out = info[i].As<Napi::Number>().DoubleValue();
  return true;
}

// Checks that an image array holds exactly width*height elements.
bool checkImage(Napi::Env env, const ArrayView& a, int64_t width, int64_t height, const char* name) {
  size_t n;
  if (!scseg::checkedArea(width, height, n)) {
    throwError(env, "ERR_SCSEG_SHAPE", std::string(name) + ": width and height must be positive");
    return false;
  }
  if (a.length != n) {
    throwError(env, "ERR_SCSEG_SHAPE", std::string(name) + ": length does not equal width*height");
    return false;
  }
  return true;
}

// emnapi copies typed arrays into WASM memory; results written there must be copied back to the JS array.
void syncOutput(Napi::Env env, ArrayView& out) {
#ifdef __wasm__
  napi_value v = out.value;
  emnapi_sync_memory(env, false, &v, 0, NAPI_AUTO_LENGTH);
#else
  (void)env;
  (void)out;
#endif
}

// Runs f, turning any C++ exception (only std::bad_alloc is possible) into a JS error.
template <typename F>
Napi::Value guarded(const Napi::CallbackInfo& info, const char* kernel, F&& f) {
#if defined(__cpp_exceptions)
  try {
    return f();
  } catch (const std::exception& e) {
    throwError(info.Env(), "ERR_SCSEG_INTERNAL", std::string(kernel) + ": " + e.what());
    return info.Env().Undefined();
  }
#else
  (void)kernel;
  return f();
#endif
}

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

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("medianFilter", Napi::Function::New(env, MedianFilter, "medianFilter"));
  exports.Set("percentileNormalize", Napi::Function::New(env, PercentileNormalize, "percentileNormalize"));
  return exports;
}

}  // namespace

NODE_API_MODULE(scseg_kernels, Init)
