// Bindings of the mask morphology and threshold kernels: disk erosion/dilation, local median threshold map,
// global Otsu threshold.
#include "napi_args.hpp"
#include "../morphology.hpp"
#include "../threshold.hpp"

namespace scseg::binding {
namespace {

// binaryErosion / binaryDilation(input: Uint8Array, width, height, radius, outside 0|1, output: Uint8Array)
template <Status (*Kernel)(const uint8_t*, int64_t, int64_t, int, int, uint8_t*)>
Napi::Value DiskMorphology(const Napi::CallbackInfo& info, const char* name) {
  return guarded(info, name, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    ArrayView in, out;
    int64_t w, h, r, outside;
    if (!getArray(info, 0, in, "input") || !getInt(info, 1, w, "width") || !getInt(info, 2, h, "height") ||
        !getInt(info, 3, r, "radius") || !getInt(info, 4, outside, "outside") || !getArray(info, 5, out, "output"))
      return env.Undefined();
    if (!checkImage(env, in, w, h, "input") || !checkImage(env, out, w, h, "output")) return env.Undefined();
    if (in.type != napi_uint8_array || out.type != napi_uint8_array) {
      throwError(env, "ERR_SCSEG_DTYPE", std::string(name) + ": input and output must be Uint8Array");
      return env.Undefined();
    }
    if (r < 0 || r > scseg::kMaxMorphologyRadius || (outside != 0 && outside != 1)) {
      throwError(env, "ERR_SCSEG_ARGUMENT", std::string(name) + ": radius must be in [0, 4096] and outside 0 or 1");
      return env.Undefined();
    }
    const Status s = Kernel(static_cast<const uint8_t*>(in.data), w, h, static_cast<int>(r), static_cast<int>(outside),
                            static_cast<uint8_t*>(out.data));
    if (throwStatus(env, s, name)) return env.Undefined();
    syncOutput(env, out);
    return env.Undefined();
  });
}

Napi::Value BinaryErosion(const Napi::CallbackInfo& info) {
  return DiskMorphology<scseg::binaryErosionDisk>(info, "binaryErosion");
}

Napi::Value BinaryDilation(const Napi::CallbackInfo& info) {
  return DiskMorphology<scseg::binaryDilationDisk>(info, "binaryDilation");
}

// localMedianThreshold(input: Float32Array, width, height, blockSize, step, offset, output: Float32Array)
Napi::Value LocalMedianThreshold(const Napi::CallbackInfo& info) {
  return guarded(info, "localMedianThreshold", [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    ArrayView in, out;
    int64_t w, h, block, step;
    double offset;
    if (!getArray(info, 0, in, "input") || !getInt(info, 1, w, "width") || !getInt(info, 2, h, "height") ||
        !getInt(info, 3, block, "blockSize") || !getInt(info, 4, step, "step") ||
        !getDouble(info, 5, offset, "offset") || !getArray(info, 6, out, "output"))
      return env.Undefined();
    if (!checkImage(env, in, w, h, "input") || !checkImage(env, out, w, h, "output")) return env.Undefined();
    if (in.type != napi_float32_array || out.type != napi_float32_array) {
      throwError(env, "ERR_SCSEG_DTYPE", "localMedianThreshold: input and output must be Float32Array");
      return env.Undefined();
    }
    const Status s = scseg::localMedianThreshold(static_cast<const float*>(in.data), w, h, block, step, offset,
                                                 static_cast<float*>(out.data));
    if (throwStatus(env, s, "localMedianThreshold")) return env.Undefined();
    syncOutput(env, out);
    return env.Undefined();
  });
}

// otsuThreshold(input: Uint8Array | Uint16Array | Float32Array, width, height) → number
Napi::Value OtsuThreshold(const Napi::CallbackInfo& info) {
  return guarded(info, "otsuThreshold", [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    ArrayView in;
    int64_t w, h;
    if (!getArray(info, 0, in, "input") || !getInt(info, 1, w, "width") || !getInt(info, 2, h, "height"))
      return env.Undefined();
    if (!checkImage(env, in, w, h, "input")) return env.Undefined();
    double t = 0;
    Status s = Status::Ok;
    const bool known = dispatchPixelType(env, in, "otsuThreshold", [&](auto pixel) {
      using T = decltype(pixel);
      s = scseg::otsuThreshold(static_cast<const T*>(in.data), w, h, t);
    });
    if (!known) return env.Undefined();
    if (throwStatus(env, s, "otsuThreshold")) return env.Undefined();
    return Napi::Number::New(env, t);
  });
}

}  // namespace

void registerMorphology(Napi::Env env, Napi::Object exports) {
  exports.Set("binaryErosion", Napi::Function::New(env, BinaryErosion, "binaryErosion"));
  exports.Set("binaryDilation", Napi::Function::New(env, BinaryDilation, "binaryDilation"));
  exports.Set("localMedianThreshold", Napi::Function::New(env, LocalMedianThreshold, "localMedianThreshold"));
  exports.Set("otsuThreshold", Napi::Function::New(env, OtsuThreshold, "otsuThreshold"));
}

}  // namespace scseg::binding
