// Binding of median.hpp: the disk median filter.
#include "napi_args.hpp"
#include "../median.hpp"

namespace scseg::binding {
namespace {

// medianFilter(input, width, height, radius, output: the input's type, threads)
Napi::Value MedianFilter(const Napi::CallbackInfo& info) {
  return bound(info, "medianFilter", [](Args& a) {
    const Pixels in = a.pixels("input");
    a.dims();
    const int radius = a.integer<int>("radius");
    void* out = a.outputLike(in, "output");
    const size_t threads = a.threads();
    return a.run([&] {
      return forPixelType(in, [&](auto pixel) {
        using T = decltype(pixel);
        return medianFilterDisk(static_cast<const T*>(in.data), a.width(), a.height(), radius, static_cast<T*>(out),
                                threads);
      });
    });
  });
}

}  // namespace

void registerMedian(Napi::Env env, Napi::Object exports) { define(env, exports, "medianFilter", MedianFilter); }

}  // namespace scseg::binding
