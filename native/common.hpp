// Shared vocabulary of the kernels: status codes, overflow-safe sizes and the disk footprint.
// Kernels take plain pointers + dims, allocate only through std::vector and never throw on their own.
#pragma once
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace scseg {

enum class Status : int {
  Ok = 0,
  BadShape,     // zero/negative dims or width*height overflowing size_t
  BadArgument,  // a parameter outside its documented range
  BadValue,     // NaN or another value the kernel cannot order
};

inline const char* statusMessage(Status s) {
  switch (s) {
    case Status::Ok: return "ok";
    case Status::BadShape: return "invalid image shape";
    case Status::BadArgument: return "invalid argument";
    case Status::BadValue: return "image contains NaN";
  }
  return "unknown error";
}

// width*height without overflow; false if either is non-positive or the product does not fit.
inline bool checkedArea(int64_t width, int64_t height, size_t& area) {
  if (width <= 0 || height <= 0) return false;
  const uint64_t w = static_cast<uint64_t>(width), h = static_cast<uint64_t>(height);
  if (w > std::numeric_limits<size_t>::max() / h) return false;
  area = static_cast<size_t>(w * h);
  return true;
}

// Integer square root: largest s with s*s <= v.
inline int64_t isqrt(int64_t v) {
  if (v <= 0) return 0;
  int64_t s = 0;
  while ((s + 1) * (s + 1) <= v) ++s;
  return s;
}

// skimage.morphology.disk(r): offsets (dy, dx) with dy*dy + dx*dx <= r*r.
// halfWidth[dy + r] = largest |dx| in row dy; the disk is symmetric, so it is also the half-height per column.
inline std::vector<int> diskHalfWidths(int radius) {
  std::vector<int> hw(static_cast<size_t>(2 * radius + 1));
  for (int dy = -radius; dy <= radius; ++dy)
    hw[static_cast<size_t>(dy + radius)] = static_cast<int>(isqrt(int64_t(radius) * radius - int64_t(dy) * dy));
  return hw;
}

inline size_t diskArea(int radius) {
  size_t n = 0;
  for (int h : diskHalfWidths(radius)) n += static_cast<size_t>(2 * h + 1);
  return n;
}

// An explicit pop order for markers of equal surface value in the marker watersheds, replacing skimage's heap
// order (which depends on every marker of the image): ranks[k] for the k-th non-zero marker in raster order (inside
// the mask or not), distinct and >= 0; lower ranks pop first. A window of a larger image passes the whole image's
// order (computed once from all markers) so that its floods tie-break as the whole image's do. ranks == nullptr:
// skimage's own order.
struct MarkerRanks {
  const int32_t* ranks = nullptr;
  size_t count = 0;
};

}  // namespace scseg
