// The nucleus labelling of scPortrait's classical workflows in one call: geodesic distance from the seeds through
// `allowed` (fmmDistance), then the marker watershed of that distance inside `allowed` (watershedFromMarkers,
// scikit-image 0.19–0.24 rules). Equal, bit for bit, to the two calls; the distance stays in a scratch array
// (huge pages on Linux) instead of an 8-byte-per-pixel output that the caller would only hand back.
#pragma once
#include <cstdint>

#include "common.hpp"
#include "fmm.hpp"
#include "scratch.hpp"
#include "watershed.hpp"

namespace scseg {

// seeds/allowed: 0 = no; markers: 0 = none; labels: width*height output.
// order: the markers' pop order among ties (MarkerRanks), or empty for skimage's.
inline Status distanceWatershed(const uint8_t* seeds, const uint8_t* allowed, const uint32_t* markers, int64_t width,
                                int64_t height, uint32_t* labels, size_t threads, const MarkerRanks& order = {}) {
  size_t area;
  if (!checkedArea(width, height, area)) return Status::BadShape;
  if (!validMarkerRanks(markers, area, order)) return Status::BadArgument;
  ScratchArray<double> distance(area, 0.0);
  if (Status s = fmmDistance(seeds, allowed, width, height, distance.data(), threads); s != Status::Ok) return s;
  return watershedFromMarkers(distance.data(), markers, allowed, width, height, labels, false, threads, order);
}

}  // namespace scseg
