// The Node-API binding layer (native/binding/ is the only place that includes napi.h): one typed argument reader,
// status → JS error mapping and the WASM output sync, shared by the binding files (one per kernel header).
// Built twice from the same sources: as a native addon (node-addon-api) and as WebAssembly (emnapi).
// lib/kernels validates every argument against the kernels' documented ranges first; the checks here only keep
// a wrong call from touching memory out of bounds (array types and lengths, integers that fit their C++ type).
#pragma once
#ifndef NAPI_DISABLE_CPP_EXCEPTIONS
#define NAPI_DISABLE_CPP_EXCEPTIONS
#endif
#include <napi.h>
#ifdef __wasm__
#include <emnapi.h>
#endif

#include <cmath>
#include <cstdint>
#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "../common.hpp"
#include "../limits.hpp"

namespace scseg::binding {

using scseg::Status;

inline void throwError(Napi::Env env, const char* code, const std::string& message) {
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, code));
  err.ThrowAsJavaScriptException();
}

template <typename T>
constexpr napi_typedarray_type typedArrayType() {
  if constexpr (std::is_same_v<T, uint8_t>) return napi_uint8_array;
  else if constexpr (std::is_same_v<T, uint16_t>) return napi_uint16_array;
  else if constexpr (std::is_same_v<T, uint32_t>) return napi_uint32_array;
  else if constexpr (std::is_same_v<T, int32_t>) return napi_int32_array;
  else if constexpr (std::is_same_v<T, float>) return napi_float32_array;
  else {
    static_assert(std::is_same_v<T, double>, "no typed array holds this type");
    return napi_float64_array;
  }
}

inline const char* typedArrayName(napi_typedarray_type type) {
  switch (type) {
    case napi_uint8_array: return "Uint8Array";
    case napi_uint16_array: return "Uint16Array";
    case napi_uint32_array: return "Uint32Array";
    case napi_int32_array: return "Int32Array";
    case napi_float32_array: return "Float32Array";
    case napi_float64_array: return "Float64Array";
    default: return "typed array of another type";
  }
}

// An image of one of several element types (Args::pixels, Args::floats).
struct Pixels {
  napi_typedarray_type type = napi_uint8_array;
  void* data = nullptr;
};

// Calls f(T{}) with T the element type of an image from Args::pixels (uint8_t, uint16_t or float), so one generic
// lambda serves every pixel type.
template <typename F>
Status forPixelType(const Pixels& p, F&& f) {
  switch (p.type) {
    case napi_uint16_array: return f(uint16_t{});
    case napi_float32_array: return f(float{});
    default: return f(uint8_t{});
  }
}

// The same for an image from Args::floats (float or double).
template <typename F>
Status forFloatType(const Pixels& p, F&& f) {
  return p.type == napi_float32_array ? f(float{}) : f(double{});
}

// Reads a bound function's arguments in call order, each checked for type (and, for images, length against
// width×height). The first bad argument throws its JS error and turns every later read into a no-op, so a
// bound function reads all its arguments, then calls `run`, which calls the kernel only if they were all fine.
class Args {
 public:
  Args(const Napi::CallbackInfo& info, const char* kernel) : info_(info), env_(info.Env()), kernel_(kernel) {}

  int64_t width() const { return width_; }
  int64_t height() const { return height_; }
  size_t area() const { return area_; }

  // width, height: positive, width×height representable; images read before them are checked now.
  void dims() {
    const int64_t w = integer<int64_t>("width"), h = integer<int64_t>("height");
    if (!ok_) return;
    if (!checkedArea(w, h, area_))
      return fail("ERR_SCSEG_SHAPE", "width and height must be positive and their product fit in memory");
    width_ = w;
    height_ = h;
    haveDims_ = true;
    for (const Pending& p : pending_) checkLength(p.length, p.name, p.planes);
  }

  // A typed array of T holding width×height elements.
  template <typename T>
  T* image(const char* name) {
    return static_cast<T*>(imageOf(typedArrayType<T>(), name, false, false));
  }
  // The same, or nullptr for null / undefined.
  template <typename T>
  T* imageOrNull(const char* name) {
    return static_cast<T*>(imageOf(typedArrayType<T>(), name, true, false));
  }
  // An image the kernel writes (copied back to the JS array on WASM).
  template <typename T>
  T* output(const char* name) {
    return static_cast<T*>(imageOf(typedArrayType<T>(), name, false, true));
  }
  template <typename T>
  T* outputOrNull(const char* name) {
    return static_cast<T*>(imageOf(typedArrayType<T>(), name, true, true));
  }
  // A stack of `planes` images of T, plane after plane (planes × width × height elements), e.g. a flow field.
  template <typename T>
  T* planes(const char* name, size_t planes) {
    return static_cast<T*>(imageOf(typedArrayType<T>(), name, false, false, planes));
  }
  template <typename T>
  T* outputPlanes(const char* name, size_t planes) {
    return static_cast<T*>(imageOf(typedArrayType<T>(), name, false, true, planes));
  }
  // An output image of the same pixel type as `like`.
  void* outputLike(const Pixels& like, const char* name) { return imageOf(like.type, name, false, true); }

  // An image of any pixel type (Uint8Array, Uint16Array or Float32Array).
  Pixels pixels(const char* name) {
    return imageOfEither(name, {napi_uint8_array, napi_uint16_array, napi_float32_array},
                         "a Uint8Array, Uint16Array or Float32Array");
  }
  // A float image (Float32Array or Float64Array).
  Pixels floats(const char* name) {
    return imageOfEither(name, {napi_float32_array, napi_float64_array}, "a Float32Array or Float64Array");
  }

  // A typed array of T of any length (its length goes to *length).
  template <typename T>
  T* array(const char* name, size_t& length) {
    napi_value v = next();
    napi_typedarray_type type;
    void* data = nullptr;
    length = 0;
    if (!typedArray(v, name, type, data, length) || !requireType(type, typedArrayType<T>(), name)) return nullptr;
    return static_cast<T*>(data);
  }
  // The same, or nullptr (length 0) for null / undefined.
  template <typename T>
  T* arrayOrNull(const char* name, size_t& length) {
    length = 0;
    if (ok_ && isNullish(peek())) {
      ++index_;
      return nullptr;
    }
    return array<T>(name, length);
  }
  // An optional marker pop order (Int32Array of ranks, see MarkerRanks), null / undefined for skimage's.
  MarkerRanks markerRanks() {
    MarkerRanks order;
    order.ranks = arrayOrNull<int32_t>("markerRanks", order.count);
    return order;
  }
  // An array the kernel writes, of any length.
  template <typename T>
  T* outputArray(const char* name, size_t& length) {
    T* data = array<T>(name, length);
    if (ok_) outputs_.push_back(info_[index_ - 1]);
    return data;
  }

  // An array read with array() / outputArray() must hold `want` elements.
  void requireLength(size_t length, size_t want, const char* name) {
    if (ok_ && length != want)
      fail("ERR_SCSEG_SHAPE", std::string(name) + " must have " + std::to_string(want) + " elements, got " +
                                  std::to_string(length));
  }

  // A number that is an integer and fits I (the kernel checks its own range).
  template <typename I>
  I integer(const char* name) {
    const double d = number(name);
    if (!ok_) return I{};
    if (!(d >= double(std::numeric_limits<I>::min()) && d <= double(std::numeric_limits<I>::max())) ||
        d != std::trunc(d) || std::fabs(d) > 9007199254740991.0) {
      fail("ERR_SCSEG_ARGUMENT", std::string(name) + " must be an integer that fits the kernel's type");
      return I{};
    }
    return static_cast<I>(d);
  }

  double number(const char* name) {
    napi_value v = next();
    if (!ok_) return 0;
    double d = 0;
    if (napi_get_value_double(env_, v, &d) != napi_ok)
      fail("ERR_SCSEG_ARGUMENT", std::string(name) + " must be a number");
    return d;
  }
  // A number, or `fallback` for undefined.
  double numberOr(double fallback, const char* name) {
    if (ok_ && isUndefined(peek())) {
      ++index_;
      return fallback;
    }
    return number(name);
  }
  // A boolean, false for undefined.
  bool flag(const char* name) {
    napi_value v = next();
    if (!ok_ || isUndefined(v)) return false;
    bool b = false;
    if (napi_get_value_bool(env_, v, &b) != napi_ok)
      fail("ERR_SCSEG_ARGUMENT", std::string(name) + " must be a boolean");
    return b;
  }

  // The thread budget of this call (1..kMaxThreads). WASM accepts it and runs on the calling thread.
  size_t threads() {
    const double d = number("threads");
    if (ok_ && !(d >= 1 && d <= double(limits::kMaxThreads) && d == std::trunc(d)))
      fail("ERR_SCSEG_ARGUMENT", "threads must be an integer in [1, " + std::to_string(limits::kMaxThreads) + "]");
    return ok_ ? static_cast<size_t>(d) : 1;
  }

  // Calls kernel() (returning Status) if every argument was fine; a Status other than Ok becomes a JS error,
  // else the outputs are synced and result() (if given) is returned.
  template <typename Kernel>
  Napi::Value run(Kernel&& kernel) {
    return run(kernel, [&]() { return env_.Undefined(); });
  }
  template <typename Kernel, typename Result>
  Napi::Value run(Kernel&& kernel, Result&& result) {
    if (ok_ && !haveDims_) fail("ERR_SCSEG_INTERNAL", "binding reads no width and height");
    if (!ok_) return env_.Undefined();
    const Status s = kernel();
    if (s != Status::Ok) {
      const char* code = s == Status::BadShape   ? "ERR_SCSEG_SHAPE"
                         : s == Status::BadValue ? "ERR_SCSEG_VALUE"
                                                 : "ERR_SCSEG_ARGUMENT";
      throwError(env_, code, std::string(kernel_) + ": " + statusMessage(s));
      return env_.Undefined();
    }
#ifdef __wasm__
    // emnapi copies typed arrays into WASM memory; what the kernel wrote there must be copied back.
    for (napi_value& v : outputs_) emnapi_sync_memory(env_, false, &v, 0, NAPI_AUTO_LENGTH);
#endif
    return result();
  }

  Napi::Env env() const { return env_; }

 private:
  struct Pending {
    size_t length;
    const char* name;
    size_t planes;
  };

  napi_value peek() const { return index_ < info_.Length() ? static_cast<napi_value>(info_[index_]) : nullptr; }
  napi_value next() {
    napi_value v = peek();
    ++index_;
    return v;
  }
  bool isUndefined(napi_value v) const {
    napi_valuetype t = napi_undefined;
    return v == nullptr || (napi_typeof(env_, v, &t) == napi_ok && t == napi_undefined);
  }
  bool isNullish(napi_value v) const {
    napi_valuetype t = napi_undefined;
    return v == nullptr || (napi_typeof(env_, v, &t) == napi_ok && (t == napi_undefined || t == napi_null));
  }

  void fail(const char* code, const std::string& message) {
    if (!ok_) return;
    ok_ = false;
    throwError(env_, code, std::string(kernel_) + ": " + message);
  }

  bool typedArray(napi_value v, const char* name, napi_typedarray_type& type, void*& data, size_t& length) {
    if (!ok_) return false;
    bool is = false;
    if (v == nullptr || napi_is_typedarray(env_, v, &is) != napi_ok || !is) {
      fail("ERR_SCSEG_ARGUMENT", std::string(name) + " must be a typed array");
      return false;
    }
    if (napi_get_typedarray_info(env_, v, &type, &length, &data, nullptr, nullptr) != napi_ok) {
      fail("ERR_SCSEG_ARGUMENT", std::string(name) + ": cannot access the typed array's data");
      return false;
    }
    return true;
  }

  bool requireType(napi_typedarray_type got, napi_typedarray_type want, const char* name) {
    if (got == want) return true;
    fail("ERR_SCSEG_DTYPE", std::string(name) + " must be a " + typedArrayName(want) + ", got " + typedArrayName(got));
    return false;
  }

  void* imageOf(napi_typedarray_type want, const char* name, bool nullable, bool written, size_t planes = 1) {
    napi_value v = next();
    if (!ok_ || (nullable && isNullish(v))) return nullptr;
    napi_typedarray_type type;
    void* data = nullptr;
    size_t length = 0;
    if (!typedArray(v, name, type, data, length) || !requireType(type, want, name)) return nullptr;
    admitImage(length, name, planes);
    if (written) outputs_.push_back(v);
    return data;
  }

  Pixels imageOfEither(const char* name, std::initializer_list<napi_typedarray_type> types, const char* expected) {
    Pixels p;
    napi_value v = next();
    size_t length = 0;
    if (!typedArray(v, name, p.type, p.data, length)) return p;
    if (std::find(types.begin(), types.end(), p.type) == types.end()) {
      fail("ERR_SCSEG_DTYPE", std::string(name) + " must be " + expected + ", got " + typedArrayName(p.type));
      return p;
    }
    admitImage(length, name);
    return p;
  }

  void admitImage(size_t length, const char* name, size_t planes = 1) {
    if (haveDims_) checkLength(length, name, planes);
    else pending_.push_back({length, name, planes});
  }

  void checkLength(size_t length, const char* name, size_t planes) {
    const bool fits = area_ <= std::numeric_limits<size_t>::max() / planes;
    if (!fits || length != area_ * planes)
      fail("ERR_SCSEG_SHAPE", std::string(name) + ": length does not equal " +
                                  (planes == 1 ? std::string() : std::to_string(planes) + "*") + "width*height");
  }

  const Napi::CallbackInfo& info_;
  Napi::Env env_;
  const char* kernel_;
  size_t index_ = 0;
  bool ok_ = true;
  bool haveDims_ = false;
  int64_t width_ = 0, height_ = 0;
  size_t area_ = 0;
  std::vector<Pending> pending_;
  std::vector<napi_value> outputs_;
};

// Copies a result vector into a new JS typed array (on WASM the array's bytes live in JS: sync them back).
template <typename T>
Napi::Value newTypedArray(Napi::Env env, const std::vector<T>& values) {
  Napi::TypedArrayOf<T> arr = Napi::TypedArrayOf<T>::New(env, values.size());
  if (!values.empty()) {
    std::memcpy(arr.Data(), values.data(), values.size() * sizeof(T));
#ifdef __wasm__
    napi_value v = arr;
    emnapi_sync_memory(env, false, &v, 0, NAPI_AUTO_LENGTH);
#endif
  }
  return arr;
}

// A bound function: reads its arguments with an Args and runs its kernel. No C++ exception (only std::bad_alloc
// is possible) escapes into JavaScript: it becomes an ERR_SCSEG_INTERNAL error.
template <typename Body>
Napi::Value bound(const Napi::CallbackInfo& info, const char* kernel, Body&& body) {
#if defined(__cpp_exceptions)
  try {
    Args args(info, kernel);
    return body(args);
  } catch (const std::exception& e) {
    throwError(info.Env(), "ERR_SCSEG_INTERNAL", std::string(kernel) + ": " + e.what());
    return info.Env().Undefined();
  }
#else
  Args args(info, kernel);
  return body(args);
#endif
}

// exports[name] = the bound function.
inline void define(Napi::Env env, Napi::Object exports, const char* name, Napi::Function::Callback fn) {
  exports.Set(name, Napi::Function::New(env, fn, name));
}

}  // namespace scseg::binding
