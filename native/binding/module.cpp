// Module entry: each binding file (named after the kernel header it binds) registers its kernels; `limits`
// exports native/limits.hpp, so JavaScript validates against the very numbers the kernels enforce.
#include "napi_args.hpp"

namespace scseg::binding {
void registerCellpose(Napi::Env env, Napi::Object exports);
void registerDistanceWatershed(Napi::Env env, Napi::Object exports);
void registerEdt(Napi::Env env, Napi::Object exports);
void registerFmm(Napi::Env env, Napi::Object exports);
void registerLabels(Napi::Env env, Napi::Object exports);
void registerMedian(Napi::Env env, Napi::Object exports);
void registerMorphology(Napi::Env env, Napi::Object exports);
void registerNormalize(Napi::Env env, Napi::Object exports);
void registerPeaks(Napi::Env env, Napi::Object exports);
void registerQcOverlay(Napi::Env env, Napi::Object exports);
void registerThreshold(Napi::Env env, Napi::Object exports);
void registerTravelWatershed(Napi::Env env, Napi::Object exports);
void registerWatershed(Napi::Env env, Napi::Object exports);

namespace {

Napi::Object exportLimits(Napi::Env env) {
  Napi::Object l = Napi::Object::New(env);
  l.Set("maxMedianRadius", Napi::Number::New(env, limits::kMaxMedianRadius));
  l.Set("maxMorphologyRadius", Napi::Number::New(env, limits::kMaxMorphologyRadius));
  l.Set("maxPeakFootprintRadius", Napi::Number::New(env, limits::kMaxPeakFootprintRadius));
  l.Set("maxMedianBlock", Napi::Number::New(env, limits::kMaxMedianBlock));
  l.Set("maxThreads", Napi::Number::New(env, double(limits::kMaxThreads)));
  l.Set("maxPixels", Napi::Number::New(env, double(limits::kMaxPixels)));
  l.Set("maxFastMarchingPixels", Napi::Number::New(env, double(limits::kMaxFastMarchingPixels)));
  l.Set("maxTravelWatershedPixels", Napi::Number::New(env, double(limits::kMaxTravelWatershedPixels)));
  l.Set("maxCellposePixels", Napi::Number::New(env, double(limits::kMaxCellposePixels)));
  l.Set("maxCellposeIterations", Napi::Number::New(env, double(limits::kMaxCellposeIterations)));
  l.Freeze();
  return l;
}

}  // namespace

Napi::Object init(Napi::Env env, Napi::Object exports) {
  registerCellpose(env, exports);
  registerDistanceWatershed(env, exports);
  registerEdt(env, exports);
  registerFmm(env, exports);
  registerLabels(env, exports);
  registerMedian(env, exports);
  registerMorphology(env, exports);
  registerNormalize(env, exports);
  registerPeaks(env, exports);
  registerQcOverlay(env, exports);
  registerThreshold(env, exports);
  registerTravelWatershed(env, exports);
  registerWatershed(env, exports);
  exports.Set("limits", exportLimits(env));
  return exports;
}

}  // namespace scseg::binding

namespace {
Napi::Object Init(Napi::Env env, Napi::Object exports) { return scseg::binding::init(env, exports); }
}  // namespace

NODE_API_MODULE(scseg_kernels, Init)
