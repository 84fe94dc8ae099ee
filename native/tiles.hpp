// A tiled layout for kernels that visit pixels in no spatial order (fast marching, watershed flooding): the image
// framed by one pixel on every side (and rounded up to whole tiles) is stored as 16 x 16 tiles, row-major inside
// a tile, tiles row-major. A pixel's 4-neighbours then mostly share its tile — one 4 KiB page for 16-byte cells —
// where plain rows put them on pages far apart (TLB misses were a third of the time of a 2048² march). The frame
// means every in-image pixel has all four neighbours: kernels mark frame pixels closed instead of checking bounds.
#pragma once
#include <cstddef>
#include <cstdint>
#include <limits>

#include "common.hpp"

namespace scseg {

class TiledGrid {
 public:
  static constexpr uint32_t kBits = 4, kTile = 1u << kBits, kMask = kTile - 1, kArea = kTile * kTile;

  // false if the framed grid would not fit 32-bit indices.
  bool init(int64_t width, int64_t height) {
    size_t area;
    if (!checkedArea(width, height, area)) return false;
    const auto tiles = [](int64_t len) { return (len + 2 + int64_t(kMask)) / int64_t(kTile); };
    const int64_t tx = tiles(width), ty = tiles(height);
    if (!checkedArea(tx * int64_t(kTile), ty * int64_t(kTile), framed_) ||
        framed_ > size_t(std::numeric_limits<uint32_t>::max()) - 1)
      return false;
    tilesPerRow_ = static_cast<size_t>(tx);
    tileRow_ = static_cast<uint32_t>(tilesPerRow_ * kArea);
    return true;
  }

  size_t framedArea() const { return framed_; }
  size_t tilesPerRow() const { return tilesPerRow_; }

  // Index of image pixel (x, y) (frame excluded: the framed coordinates are x + 1, y + 1).
  uint32_t at(size_t x, size_t y) const { return framedAt(x + 1, y + 1); }
  uint32_t framedAt(size_t x, size_t y) const {
    return static_cast<uint32_t>((((y >> kBits) * tilesPerRow_ + (x >> kBits)) << (2 * kBits)) +
                                 ((y & kMask) << kBits) + (x & kMask));
  }

  // Neighbour directions: 0 = row above, 1 = row below, 2 = column left, 3 = column right.
  uint32_t neighbour(uint32_t i, int dir) const {
    const uint32_t r = (i >> kBits) & kMask, col = i & kMask;
    switch (dir) {
      case 0: return r != 0 ? i - kTile : i - tileRow_ + (kArea - kTile);
      case 1: return r != kMask ? i + kTile : i + tileRow_ - (kArea - kTile);
      case 2: return col != 0 ? i - 1 : i - kArea + kMask;
      default: return col != kMask ? i + 1 : i + kArea - kMask;
    }
  }

 private:
  size_t framed_ = 0, tilesPerRow_ = 0;
  uint32_t tileRow_ = 0;  // pixels in one row of tiles
};

}  // namespace scseg
