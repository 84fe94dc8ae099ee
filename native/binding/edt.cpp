// Binding of edt.hpp: the exact Euclidean distance transform.
#include "napi_args.hpp"
#include "../edt.hpp"

namespace scseg::binding {
namespace {

// distanceTransform(mask: Uint8Array, width, height, output: Float64Array, threads)
Napi::Value DistanceTransform(const Napi::CallbackInfo& info) {
  return bound(info, "distanceTransform", [](Args& a) {
    const uint8_t* mask = a.image<uint8_t>("mask");
    a.dims();
    double* out = a.output<double>("output");
    const size_t threads = a.threads();
    return a.run([&] { return distanceTransformEdt(mask, a.width(), a.height(), out, threads); });
  });
}

}  // namespace

void registerEdt(Napi::Env env, Napi::Object exports) { define(env, exports, "distanceTransform", DistanceTransform); }

}  // namespace scseg::binding
