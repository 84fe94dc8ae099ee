// Binding of cellpose_dynamics.hpp and cellpose_flows.hpp: Cellpose's masks from flows, and flows from masks.
#include "napi_args.hpp"
#include "../cellpose_dynamics.hpp"
#include "../cellpose_tiles.hpp"

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

// cellposeBlendTiles(y: Float32Array [tiles, channels, th, tw], origins: Int32Array [tiles, 2] (row, column),
//                    mask: Float64Array [th, tw], channels, tileHeight, tileWidth, width, height,
//                    out: Float32Array [channels, height, width], threads)
Napi::Value CellposeBlendTiles(const Napi::CallbackInfo& info) {
  return bound(info, "cellposeBlendTiles", [](Args& a) {
    size_t yLength = 0, originLength = 0, maskLength = 0, outLength = 0;
    const float* y = a.array<float>("y", yLength);
    const int32_t* origins = a.array<int32_t>("origins", originLength);
    const double* mask = a.array<double>("mask", maskLength);
    TileBlendShape s;
    s.channels = a.integer<int64_t>("channels");
    s.tileHeight = a.integer<int64_t>("tileHeight");
    s.tileWidth = a.integer<int64_t>("tileWidth");
    a.dims();
    s.width = a.width();
    s.height = a.height();
    float* out = a.outputArray<float>("out", outLength);
    const size_t threads = a.threads();
    s.tiles = originLength / 2;
    size_t inputs = 0, outputs = 0;
    // A bad shape is the kernel's to report; lengths are checked against a valid one.
    if (tileBlendSizes(s, inputs, outputs)) {
      a.requireLength(originLength, 2 * s.tiles, "origins (row, column per tile)");
      a.requireLength(yLength, inputs, "y (tiles × channels × tileHeight × tileWidth)");
      a.requireLength(maskLength, size_t(s.tileHeight) * size_t(s.tileWidth), "mask (tileHeight × tileWidth)");
      a.requireLength(outLength, outputs, "out (channels × height × width)");
    }
    return a.run([&] { return cellposeBlendTiles(y, origins, mask, s, out, threads); });
  });
}

}  // namespace

void registerCellpose(Napi::Env env, Napi::Object exports) {
  define(env, exports, "cellposeMasks", CellposeMasks);
  define(env, exports, "cellposeMasksToFlows", CellposeMasksToFlows);
  define(env, exports, "cellposeCleanMasks", CellposeCleanMasks);
  define(env, exports, "cellposeBlendTiles", CellposeBlendTiles);
}

}  // namespace scseg::binding
