// Binding of cellpose_dynamics.hpp and cellpose_flows.hpp: Cellpose's masks from flows, and flows from masks.
#include "napi_args.hpp"
#include "../cellpose_dynamics.hpp"

namespace scseg::binding {
namespace {

// cellposeMasks(dP: Float32Array [2, H, W], cellprob: Float32Array, width, height, niter, cellprobThreshold,
//               flowThreshold, minSize, maxSizeFraction, imagePixels, fixLabelGapQuirk, clean, interp, labels: Uint32Array,
//               threads)
Napi::Value CellposeMasks(const Napi::CallbackInfo& info) {
  return bound(info, "cellposeMasks", [](Args& a) {
    const float* dP = a.planes<float>("dP", 2);
    const float* cellprob = a.image<float>("cellprob");
    a.dims();
    CellposeMaskOptions o;
    o.niter = a.integer<int64_t>("niter");
    o.cellprobThreshold = a.number("cellprobThreshold");
    o.flowThreshold = a.number("flowThreshold");
    o.minSize = a.integer<int64_t>("minSize");
    o.maxSizeFraction = a.number("maxSizeFraction");
    o.imagePixels = a.number("imagePixels");
    o.fixLabelGapQuirk = a.flag("fixLabelGapQuirk");
    o.clean = a.flag("clean");
    o.interp = a.flag("interp");
    uint32_t* labels = a.output<uint32_t>("labels");
    const size_t threads = a.threads();
    return a.run([&] { return cellposeMasks(dP, cellprob, a.width(), a.height(), o, labels, threads); });
  });
}

// cellposeCleanMasks(labels: Uint32Array (in place), width, height, minSize, fixLabelGapQuirk)
Napi::Value CellposeCleanMasks(const Napi::CallbackInfo& info) {
  return bound(info, "cellposeCleanMasks", [](Args& a) {
    uint32_t* labels = a.output<uint32_t>("labels");
    a.dims();
    const int64_t minSize = a.integer<int64_t>("minSize");
    const bool fix = a.flag("fixLabelGapQuirk");
    return a.run([&] { return cellposeCleanMasks(labels, a.width(), a.height(), minSize, fix); });
  });
}

// cellposeMasksToFlows(labels: Uint32Array, width, height, flows: Float32Array [2, H, W], threads)
Napi::Value CellposeMasksToFlows(const Napi::CallbackInfo& info) {
  return bound(info, "cellposeMasksToFlows", [](Args& a) {
    const uint32_t* labels = a.image<uint32_t>("labels");
    a.dims();
    float* flows = a.outputPlanes<float>("flows", 2);
    const size_t threads = a.threads();
    return a.run([&] { return cellposeMasksToFlows(labels, a.width(), a.height(), flows, threads); });
  });
}

}  // namespace

void registerCellpose(Napi::Env env, Napi::Object exports) {
  define(env, exports, "cellposeMasks", CellposeMasks);
  define(env, exports, "cellposeMasksToFlows", CellposeMasksToFlows);
  define(env, exports, "cellposeCleanMasks", CellposeCleanMasks);
}

}  // namespace scseg::binding
