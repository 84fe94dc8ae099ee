// Binding of qc_overlay.hpp: the QC overlay's grey background, outlines and downsampling in one call.
#include <vector>

#include "napi_args.hpp"
#include "../qc_overlay.hpp"

namespace scseg::binding {
namespace {

// The label images of a JS array of Uint32Arrays (data pointers and lengths), or false with a JS error thrown.
// Read before Args reads anything (Args reads positionally and has no list type), so no error is pending yet.
bool labelImageList(Napi::Env env, Napi::Value value, std::vector<const uint32_t*>& data, std::vector<size_t>& lengths) {
  if (!value.IsArray()) {
    throwError(env, "ERR_SCSEG_ARGUMENT", "qcOverlay: masks must be an array of Uint32Array label images");
    return false;
  }
  const Napi::Array list = value.As<Napi::Array>();
  const uint32_t n = list.Length();
  data.resize(n);
  lengths.resize(n);
  for (uint32_t k = 0; k < n; ++k) {
    napi_value v;
    bool is = false;
    napi_typedarray_type type;
    void* p = nullptr;
    if (napi_get_element(env, list, k, &v) != napi_ok || napi_is_typedarray(env, v, &is) != napi_ok || !is ||
        napi_get_typedarray_info(env, v, &type, &lengths[k], &p, nullptr, nullptr) != napi_ok ||
        type != napi_uint32_array) {
      throwError(env, "ERR_SCSEG_DTYPE", "qcOverlay: masks[" + std::to_string(k) + "] must be a Uint32Array");
      return false;
    }
    data[k] = static_cast<const uint32_t*>(p);
  }
  return true;
}

// qcOverlay(background, width, height, factor, p0, scale, colors: Uint8Array (r, g, b per mask),
//           rgba: Uint8Array (qcOverlaySize bytes), threads, masks: Uint32Array[])
Napi::Value QcOverlay(const Napi::CallbackInfo& info) {
  return bound(info, "qcOverlay", [&info](Args& a) {
    std::vector<const uint32_t*> masks;
    std::vector<size_t> maskLengths;
    if (!labelImageList(a.env(), info[9], masks, maskLengths)) return a.env().Undefined();
    const Pixels background = a.pixels("background");
    a.dims();
    const int64_t factor = a.integer<int64_t>("factor");
    const double p0 = a.number("p0"), scale = a.number("scale");
    size_t colorBytes = 0, rgbaBytes = 0;
    const uint8_t* colors = a.array<uint8_t>("colors", colorBytes);
    uint8_t* rgba = a.outputArray<uint8_t>("rgba", rgbaBytes);
    const size_t threads = a.threads();
    for (size_t k = 0; k < masks.size(); ++k) a.requireLength(maskLengths[k], a.area(), "masks[k] (width*height)");
    a.requireLength(colorBytes, 3 * masks.size(), "colors (r, g, b per mask)");
    int64_t w, h;
    size_t bytes;
    // A bad factor or shape is the kernel's to report, before it touches rgba.
    if (qcOverlaySize(a.width(), a.height(), factor, w, h, bytes)) a.requireLength(rgbaBytes, bytes, "rgba");
    return a.run([&] {
      return forPixelType(background, [&](auto pixel) {
        using T = decltype(pixel);
        return qcOverlay(static_cast<const T*>(background.data), a.width(), a.height(), masks.data(), masks.size(),
                         colors, factor, p0, scale, rgba, threads);
      });
    });
  });
}

}  // namespace

void registerQcOverlay(Napi::Env env, Napi::Object exports) { define(env, exports, "qcOverlay", QcOverlay); }

}  // namespace scseg::binding
