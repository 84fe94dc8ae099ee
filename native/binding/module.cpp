// Module entry: each binding file registers its kernels here.
#include "napi_args.hpp"

namespace scseg::binding {
void registerFilters(Napi::Env env, Napi::Object exports);
void registerFmm(Napi::Env env, Napi::Object exports);
void registerDistance(Napi::Env env, Napi::Object exports);
void registerLabels(Napi::Env env, Napi::Object exports);
void registerMorphology(Napi::Env env, Napi::Object exports);
}  // namespace scseg::binding

namespace {
Napi::Object Init(Napi::Env env, Napi::Object exports) {
  scseg::binding::registerFilters(env, exports);
  scseg::binding::registerFmm(env, exports);
  scseg::binding::registerDistance(env, exports);
  scseg::binding::registerLabels(env, exports);
  scseg::binding::registerMorphology(env, exports);
  return exports;
}
}  // namespace

NODE_API_MODULE(scseg_kernels, Init)
