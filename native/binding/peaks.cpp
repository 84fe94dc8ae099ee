// Binding of peaks.hpp: peak_local_max.
#include <vector>

#include "napi_args.hpp"
#include "../peaks.hpp"

namespace scseg::binding {
namespace {

// peakLocalMax(image: Float64Array, width, height, minDistance, footprintRadius) → Int32Array [y0, x0, y1, x1, …]
Napi::Value PeakLocalMax(const Napi::CallbackInfo& info) {
  return bound(info, "peakLocalMax", [](Args& a) {
    const double* image = a.image<double>("image");
    a.dims();
    const int64_t minDistance = a.integer<int64_t>("minDistance"), radius = a.integer<int64_t>("footprintRadius");
    std::vector<int32_t> peaks;
    return a.run([&] { return peakLocalMax(image, a.width(), a.height(), minDistance, radius, peaks); },
                 [&] { return newTypedArray(a.env(), peaks); });
  });
}

}  // namespace

void registerPeaks(Napi::Env env, Napi::Object exports) { define(env, exports, "peakLocalMax", PeakLocalMax); }

}  // namespace scseg::binding
