// Binding of threshold.hpp: the local median threshold map and the global Otsu threshold.
#include "napi_args.hpp"
#include "../threshold.hpp"

namespace scseg::binding {
namespace {

// localMedianThreshold(input: Float32Array, width, height, blockSize, step, offset, output: Float32Array, threads)
Napi::Value LocalMedianThreshold(const Napi::CallbackInfo& info) {
  return bound(info, "localMedianThreshold", [](Args& a) {
    const float* in = a.image<float>("input");
    a.dims();
    const int64_t blockSize = a.integer<int64_t>("blockSize"), step = a.integer<int64_t>("step");
    const double offset = a.number("offset");
    float* out = a.output<float>("output");
    const size_t threads = a.threads();
    return a.run([&] {
      return localMedianThreshold(in, a.width(), a.height(), blockSize, step, offset, out, threads);
    });
  });
}

// otsuThreshold(input, width, height) → number
Napi::Value OtsuThreshold(const Napi::CallbackInfo& info) {
  return bound(info, "otsuThreshold", [](Args& a) {
    const Pixels in = a.pixels("input");
    a.dims();
    double threshold = 0;
    return a.run(
        [&] {
          return forPixelType(in, [&](auto pixel) {
            using T = decltype(pixel);
            return otsuThreshold(static_cast<const T*>(in.data), a.width(), a.height(), threshold);
          });
        },
        [&] { return Napi::Number::New(a.env(), threshold); });
  });
}

}  // namespace

void registerThreshold(Napi::Env env, Napi::Object exports) {
  define(env, exports, "localMedianThreshold", LocalMedianThreshold);
  define(env, exports, "otsuThreshold", OtsuThreshold);
}

}  // namespace scseg::binding
