// Binding of normalize.hpp: quantiles, percentile normalisation, bound normalisation, the WGA speed map.
#include "napi_args.hpp"
#include "../normalize.hpp"

namespace scseg::binding {
namespace {

// quantiles(input, width, height, q: Float64Array, output: Float64Array of q's length, threads)
Napi::Value Quantiles(const Napi::CallbackInfo& info) {
  return bound(info, "quantiles", [](Args& a) {
    const Pixels in = a.pixels("input");
    a.dims();
    size_t count = 0, outCount = 0;
    const double* q = a.array<double>("q", count);
    double* out = a.outputArray<double>("output", outCount);
    const size_t threads = a.threads();
    a.requireLength(outCount, count, "output (one per q)");
    return a.run([&] {
      return forPixelType(in, [&](auto pixel) {
        using T = decltype(pixel);
        return quantiles(static_cast<const T*>(in.data), a.width(), a.height(), q, count, out, threads);
      });
    });
  });
}

// percentileNormalize(input, width, height, lower, upper, output: Float32Array, threads)
Napi::Value PercentileNormalize(const Napi::CallbackInfo& info) {
  return bound(info, "percentileNormalize", [](Args& a) {
    const Pixels in = a.pixels("input");
    a.dims();
    const double lower = a.number("lower"), upper = a.number("upper");
    float* out = a.output<float>("output");
    const size_t threads = a.threads();
    return a.run([&] {
      return forPixelType(in, [&](auto pixel) {
        using T = decltype(pixel);
        return percentileNormalize(static_cast<const T*>(in.data), a.width(), a.height(), lower, upper, out, threads);
      });
    });
  });
}

// normalizeRange(input, width, height, l, u, output: Float32Array, threads)
Napi::Value NormalizeRange(const Napi::CallbackInfo& info) {
  return bound(info, "normalizeRange", [](Args& a) {
    const Pixels in = a.pixels("input");
    a.dims();
    const double l = a.number("l"), u = a.number("u");
    float* out = a.output<float>("output");
    const size_t threads = a.threads();
    return a.run([&] {
      return forPixelType(in, [&](auto pixel) {
        using T = decltype(pixel);
        scaleToUnit(static_cast<const T*>(in.data), a.area(), l, u, out, threads);
        return Status::Ok;
      });
    });
  });
}

// wgaSpeedMap(channel, nuclei: Uint8Array, width, height, q02, q98, minClip, maxClip, output: Float64Array, threads)
Napi::Value WgaSpeedMap(const Napi::CallbackInfo& info) {
  return bound(info, "wgaSpeedMap", [](Args& a) {
    const Pixels in = a.pixels("channel");
    const uint8_t* nuclei = a.image<uint8_t>("nuclei");
    a.dims();
    const double q02 = a.number("q02"), q98 = a.number("q98");
    const double minClip = a.number("minClip"), maxClip = a.number("maxClip");
    double* out = a.output<double>("output");
    const size_t threads = a.threads();
    return a.run([&] {
      return forPixelType(in, [&](auto pixel) {
        using T = decltype(pixel);
        return wgaSpeedMap(static_cast<const T*>(in.data), nuclei, a.width(), a.height(), q02, q98, minClip, maxClip,
                           out, threads);
      });
    });
  });
}

}  // namespace

void registerNormalize(Napi::Env env, Napi::Object exports) {
  define(env, exports, "quantiles", Quantiles);
  define(env, exports, "percentileNormalize", PercentileNormalize);
  define(env, exports, "normalizeRange", NormalizeRange);
  define(env, exports, "wgaSpeedMap", WgaSpeedMap);
}

}  // namespace scseg::binding
