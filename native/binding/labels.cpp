// Binding of labels.hpp: the label utilities. Image outputs are allocated by JS; per-id results (variable length)
// come back as new typed arrays.
#include <vector>

#include "napi_args.hpp"
#include "../labels.hpp"

namespace scseg::binding {
namespace {

// labelCentroids(labels, width, height, threads) → { ids: Uint32Array, y: Float64Array, x: Float64Array }
Napi::Value LabelCentroids(const Napi::CallbackInfo& info) {
  return bound(info, "labelCentroids", [](Args& a) {
    const uint32_t* labels = a.image<uint32_t>("labels");
    a.dims();
    const size_t threads = a.threads();
    std::vector<uint32_t> ids;
    std::vector<double> y, x;
    return a.run([&] { return labelCentroids(labels, a.width(), a.height(), ids, y, x, threads); },
                 [&] {
                   Napi::Object result = Napi::Object::New(a.env());
                   result.Set("ids", newTypedArray(a.env(), ids));
                   result.Set("y", newTypedArray(a.env(), y));
                   result.Set("x", newTypedArray(a.env(), x));
                   return result;
                 });
  });
}

// labelAreas(labels, width, height, threads) → { ids: Uint32Array, areas: Float64Array }
Napi::Value LabelAreas(const Napi::CallbackInfo& info) {
  return bound(info, "labelAreas", [](Args& a) {
    const uint32_t* labels = a.image<uint32_t>("labels");
    a.dims();
    const size_t threads = a.threads();
    std::vector<uint32_t> ids;
    std::vector<double> areas;
    return a.run([&] { return labelAreas(labels, a.width(), a.height(), ids, areas, threads); },
                 [&] {
                   Napi::Object result = Napi::Object::New(a.env());
                   result.Set("ids", newTypedArray(a.env(), ids));
                   result.Set("areas", newTypedArray(a.env(), areas));
                   return result;
                 });
  });
}

// removeLabels(labels, width, height, ids: Uint32Array, output, threads)
Napi::Value RemoveLabels(const Napi::CallbackInfo& info) {
  return bound(info, "removeLabels", [](Args& a) {
    const uint32_t* labels = a.image<uint32_t>("labels");
    a.dims();
    size_t count = 0;
    const uint32_t* ids = a.array<uint32_t>("ids", count);
    uint32_t* out = a.output<uint32_t>("output");
    const size_t threads = a.threads();
    return a.run([&] { return removeLabels(labels, a.width(), a.height(), ids, count, out, threads); });
  });
}

// removeEdgeLabels(labels, width, height, output, threads)
Napi::Value RemoveEdgeLabels(const Napi::CallbackInfo& info) {
  return bound(info, "removeEdgeLabels", [](Args& a) {
    const uint32_t* labels = a.image<uint32_t>("labels");
    a.dims();
    uint32_t* out = a.output<uint32_t>("output");
    const size_t threads = a.threads();
    return a.run([&] { return removeEdgeLabels(labels, a.width(), a.height(), out, threads); });
  });
}

// contactFilter(labels, width, height, threshold, output, threads)
Napi::Value ContactFilter(const Napi::CallbackInfo& info) {
  return bound(info, "contactFilter", [](Args& a) {
    const uint32_t* labels = a.image<uint32_t>("labels");
    a.dims();
    const double threshold = a.number("threshold");
    uint32_t* out = a.output<uint32_t>("output");
    const size_t threads = a.threads();
    return a.run([&] { return contactFilter(labels, a.width(), a.height(), threshold, out, threads); });
  });
}

// matchNucleusCytosol(nucleus, cytosol, width, height, threshold, nucleusOut, cytosolOut, threads)
Napi::Value MatchNucleusCytosol(const Napi::CallbackInfo& info) {
  return bound(info, "matchNucleusCytosol", [](Args& a) {
    const uint32_t* nucleus = a.image<uint32_t>("nucleus");
    const uint32_t* cytosol = a.image<uint32_t>("cytosol");
    a.dims();
    const double threshold = a.number("threshold");
    uint32_t* nucleusOut = a.output<uint32_t>("nucleusOut");
    uint32_t* cytosolOut = a.output<uint32_t>("cytosolOut");
    const size_t threads = a.threads();
    return a.run([&] {
      return matchNucleusCytosol(nucleus, cytosol, a.width(), a.height(), threshold, nucleusOut, cytosolOut, threads);
    });
  });
}

}  // namespace

void registerLabels(Napi::Env env, Napi::Object exports) {
  define(env, exports, "labelCentroids", LabelCentroids);
  define(env, exports, "labelAreas", LabelAreas);
  define(env, exports, "removeLabels", RemoveLabels);
  define(env, exports, "removeEdgeLabels", RemoveEdgeLabels);
  define(env, exports, "contactFilter", ContactFilter);
  define(env, exports, "matchNucleusCytosol", MatchNucleusCytosol);
}

}  // namespace scseg::binding
