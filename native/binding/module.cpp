// Module entry: each binding file registers its kernels here.
#include "napi_args.hpp"

namespace scseg::binding {
void registerFilters(Napi::Env env, Napi::Object exports);
}  // namespace scseg::binding

namespace {
Napi::Object Init(Napi::Env env, Napi::Object exports) {
  scseg::binding::registerFilters(env, exports);
  return exports;
}
}  // namespace

NODE_API_MODULE(scseg_kernels, Init)
