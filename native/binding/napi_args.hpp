// The Node-API binding layer (native/binding/ is the only place that includes napi.h): argument unpacking,
// status → JS error mapping and the WASM output sync, shared by the per-area binding files.
// Built twice from the same sources: as a native addon (node-addon-api) and as WebAssembly (emnapi).
// Callers (lib/kernels) validate arguments first; the checks here keep a wrong call from ever touching
// memory out of bounds.
#pragma once
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

#include "../common.hpp"

namespace scseg::binding {

using scseg::Status;

inline void throwError(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, code));
  err.ThrowAsJavaScriptException();
}

inline bool throwStatus(Napi::Env env, Status s, const char* kernel) {
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

// A typed-array argument of the one type a kernel takes; else ERR_SCSEG_DTYPE "<kernel>: <what>".
inline bool requireType(Napi::Env env, const ArrayView& a, napi_typedarray_type type, const char* kernel,
                        const char* what) {
  if (a.type == type) return true;
  throwError(env, "ERR_SCSEG_DTYPE", std::string(kernel) + ": " + what);
  return false;
}

inline bool getArray(const Napi::CallbackInfo& info, size_t i, ArrayView& out, const char* name) {
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

inline bool getInt(const Napi::CallbackInfo& info, size_t i, int64_t& out, const char* name) {
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

inline bool getDouble(const Napi::CallbackInfo& info, size_t i, double& out, const char* name) {
  if (i >= info.Length() || !info[i].IsNumber()) {
    throwError(info.Env(), "ERR_SCSEG_ARGUMENT", std::string(name) + " must be a number");
    return false;
  }
  out = info[i].As<Napi::Number>().DoubleValue();
  return true;
}

// Checks that an image array holds exactly width*height elements.
inline bool checkImage(Napi::Env env, const ArrayView& a, int64_t width, int64_t height, const char* name) {
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

// Calls f with a value of the pixel type of `a` (uint8_t, uint16_t or float), so one generic lambda serves
// every supported dtype; any other typed array is a JS error and returns false.
template <typename F>
inline bool dispatchPixelType(Napi::Env env, const ArrayView& a, const char* kernel, F&& f) {
  switch (a.type) {
    case napi_uint8_array:
      f(uint8_t{});
      return true;
    case napi_uint16_array:
      f(uint16_t{});
      return true;
    case napi_float32_array:
      f(float{});
      return true;
    default:
      throwError(env, "ERR_SCSEG_DTYPE", std::string(kernel) + ": input must be Uint8Array, Uint16Array or Float32Array");
      return false;
  }
}

// emnapi copies typed arrays into WASM memory; results written there must be copied back to the JS array.
inline void syncOutput(Napi::Env env, ArrayView& out) {
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
  (void)info;
  (void)kernel;
  return f();
#endif
}

}  // namespace scseg::binding
