// Fuzz target: labels.hpp (labelCentroids, labelAreas, removeLabels, removeEdgeLabels, contactFilter,
// matchNucleusCytosol) on label images with dense, sparse and extreme (up to 2^32−1) ids. Checks: BadShape /
// BadArgument as documented; on Ok, per-id results in ascending id order matching a plain recount, outputs that
// keep or zero whole ids (a matched cytosol takes its nucleus's id), and the same result on one thread as on several.
#include <algorithm>
#include <map>

#include "fuzz_input.hpp"
#include "../labels.hpp"

using namespace scseg;
using namespace scseg::fuzz;

// Every pixel of an id has the same fate: out is a function of the input id (kept, zeroed or renamed).
static void checkPerId(const std::vector<uint32_t>& in, const std::vector<uint32_t>& out, bool renames) {
  std::map<uint32_t, uint32_t> fate;
  for (size_t i = 0; i < in.size(); ++i) {
    if (!renames) FUZZ_CHECK(out[i] == in[i] || out[i] == 0);
    auto [it, fresh] = fate.emplace(in[i], out[i]);
    FUZZ_CHECK(fresh || it->second == out[i]);
  }
  FUZZ_CHECK(fate.count(0) == 0 || fate[0] == 0 || renames);
}

template <typename F>
static void sameOnOneThread(size_t threads, size_t area, const std::vector<uint32_t>& out, F&& rerun) {
  if (threads == 1 || area < 4096) return;
  std::vector<uint32_t> one(area);
  FUZZ_CHECK(rerun(one.data()) == Status::Ok);
  FUZZ_CHECK(one == out);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const Shape s = consumeShape(in);
  const size_t threads = consumeThreads(in);
  const int kernel = in.ConsumeIntegralInRange<int>(0, 5);
  const std::vector<uint32_t> labels = consumeLabels(in, s.elements());
  const int64_t W = s.width, H = s.height;
  std::map<uint32_t, uint64_t> count;
  if (s.valid())
    for (uint32_t v : labels)
      if (v) ++count[v];
  switch (kernel) {
    case 0: {
      std::vector<uint32_t> ids;
      std::vector<double> y, x;
      const Status st = labelCentroids(labels.data(), W, H, ids, y, x, threads);
      if (!s.valid()) return FUZZ_CHECK(st == Status::BadShape), 0;
      FUZZ_CHECK(st == Status::Ok && ids.size() == count.size() && y.size() == ids.size() && x.size() == ids.size());
      size_t k = 0;
      for (const auto& [id, n] : count) {
        FUZZ_CHECK(ids[k] == id);
        FUZZ_CHECK(y[k] >= 0 && y[k] <= double(H - 1) && x[k] >= 0 && x[k] <= double(W - 1));
        ++k;
      }
      return 0;
    }
    case 1: {
      std::vector<uint32_t> ids;
      std::vector<double> areas;
      const Status st = labelAreas(labels.data(), W, H, ids, areas, threads);
      if (!s.valid()) return FUZZ_CHECK(st == Status::BadShape), 0;
      FUZZ_CHECK(st == Status::Ok && areas.size() == ids.size());
      FUZZ_CHECK(ids.size() == count.size());  // every non-zero id present, ascending
      size_t k = 0;
      for (const auto& [id, n] : count) {
        FUZZ_CHECK(ids[k] == id && areas[k] == double(n));
        ++k;
      }
      return 0;
    }
    case 2: {
      const size_t nRemove = in.ConsumeIntegralInRange<size_t>(0, 16);
      std::vector<uint32_t> remove;
      for (size_t r = 0; r < nRemove; ++r)
        remove.push_back(in.ConsumeBool() || !s.valid() ? in.ConsumeIntegral<uint32_t>()
                                                        : labels[in.ConsumeIntegralInRange<size_t>(0, s.area - 1)]);
      std::vector<uint32_t> out(s.elements(), 77);
      const Status st = removeLabels(labels.data(), W, H, remove.data(), remove.size(), out.data(), threads);
      if (!s.valid()) return FUZZ_CHECK(st == Status::BadShape), 0;
      FUZZ_CHECK(st == Status::Ok);
      std::sort(remove.begin(), remove.end());
      for (size_t i = 0; i < s.area; ++i) {
        const bool gone = labels[i] != 0 && std::binary_search(remove.begin(), remove.end(), labels[i]);
        FUZZ_CHECK(out[i] == (gone ? 0u : labels[i]));
      }
      sameOnOneThread(threads, s.area, out, [&](uint32_t* o) {
        return removeLabels(labels.data(), W, H, remove.data(), remove.size(), o, 1);
      });
      return 0;
    }
    case 3: {
      std::vector<uint32_t> out(s.elements(), 77);
      const Status st = removeEdgeLabels(labels.data(), W, H, out.data(), threads);
      if (!s.valid()) return FUZZ_CHECK(st == Status::BadShape), 0;
      FUZZ_CHECK(st == Status::Ok);
      checkPerId(labels, out, false);
      for (int64_t y = 0; y < H; ++y)
        for (int64_t x = 0; x < W; ++x)
          if (y == 0 || x == 0 || y == H - 1 || x == W - 1) FUZZ_CHECK(out[size_t(y * W + x)] == 0);
      sameOnOneThread(threads, s.area, out, [&](uint32_t* o) { return removeEdgeLabels(labels.data(), W, H, o, 1); });
      return 0;
    }
    case 4: {
      const double threshold = consumeParam(in);
      std::vector<uint32_t> out(s.elements(), 77);
      const Status st = contactFilter(labels.data(), W, H, threshold, out.data(), threads);
      if (!s.valid()) return FUZZ_CHECK(st == Status::BadShape), 0;
      if (std::isnan(threshold)) return FUZZ_CHECK(st == Status::BadArgument), 0;
      FUZZ_CHECK(st == Status::Ok);
      checkPerId(labels, out, false);
      if (threshold <= 0) FUZZ_CHECK(out == labels);  // bg / other > 0 is never below it
      sameOnOneThread(threads, s.area, out,
                      [&](uint32_t* o) { return contactFilter(labels.data(), W, H, threshold, o, 1); });
      return 0;
    }
    default: {
      // A cytosol image: the nucleus ids grown or shifted, or independent labels.
      std::vector<uint32_t> cytosol = consumeLabels(in, s.elements());
      if (in.ConsumeBool())
        for (size_t i = 0; i < cytosol.size(); ++i) cytosol[i] = labels[i] ? labels[i] + (cytosol[i] & 1) : cytosol[i] & 3;
      const double threshold = consumeParam(in);
      std::vector<uint32_t> nOut(s.elements(), 77), cOut(s.elements(), 77);
      const Status st = matchNucleusCytosol(labels.data(), cytosol.data(), W, H, threshold, nOut.data(), cOut.data(),
                                            threads);
      if (!s.valid()) return FUZZ_CHECK(st == Status::BadShape), 0;
      if (std::isnan(threshold)) return FUZZ_CHECK(st == Status::BadArgument), 0;
      FUZZ_CHECK(st == Status::Ok);
      checkPerId(labels, nOut, false);
      checkPerId(cytosol, cOut, true);
      std::map<uint32_t, bool> keptNucleus;
      for (size_t i = 0; i < s.area; ++i) keptNucleus[nOut[i]] = true;
      for (size_t i = 0; i < s.area; ++i) FUZZ_CHECK(cOut[i] == 0 || cOut[i] == cytosol[i] || keptNucleus.count(cOut[i]));
      if (threads > 1 && s.area >= 4096) {
        std::vector<uint32_t> n1(s.area), c1(s.area);
        FUZZ_CHECK(matchNucleusCytosol(labels.data(), cytosol.data(), W, H, threshold, n1.data(), c1.data(), 1) ==
                   Status::Ok);
        FUZZ_CHECK(n1 == nOut && c1 == cOut);
      }
      return 0;
    }
  }
}
