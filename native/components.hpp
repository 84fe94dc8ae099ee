// 4-connected components of an image's open pixels, each with its bounding box and whether it holds a source
// pixel (a seed, a marker). Kernels whose work never crosses from one component to another (fast marching,
// watershed flooding) run component by component with the same results: each part's window is small enough to
// stay in cache, and parts go to different threads.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "scratch.hpp"

namespace scseg {

struct Components {
  struct Box {
    size_t x0, y0, x1, y1;  // inclusive
    size_t pixels = 0;
    bool seeded = false;  // holds a source pixel
  };
  ScratchArray<uint32_t> id;  // per pixel: component + 1, 0 = not open
  std::vector<Box> boxes;

  // Run-based: each row's runs of open pixels are united with the runs they touch in the row above, so the
  // union-find works on runs (a few per object and row), not pixels.
  // open: 0 = not open, else open (row-major bytes).
  template <typename Source>
  Components(size_t w, size_t h, const uint8_t* open, const Source& source) : id(w * h, 0u) {
    struct Run {
      uint32_t y, x0, x1;  // [x0, x1)
      uint32_t label;      // provisional, then component + 1
    };
    std::vector<Run> runs;
    std::vector<uint32_t> parent;
    auto find = [&](uint32_t a) {
      while (parent[a] != a) a = parent[a] = parent[parent[a]];
      return a;
    };
    size_t above = 0, aboveEnd = 0;  // runs of the previous row: [above, aboveEnd)
    for (size_t y = 0; y < h; ++y) {
      const size_t rowStart = runs.size();
      size_t a = above;
      const uint8_t* row = open + y * w;
      for (size_t x = 0; x < w;) {
        if (!row[x]) {
          // Background comes in long stretches: skip it eight bytes at a time.
          uint64_t word;
          while (x + 8 <= w && (std::memcpy(&word, row + x, 8), word == 0)) x += 8;
          while (x < w && !row[x]) ++x;
          continue;
        }
        const size_t x0 = x;
        while (x < w && row[x]) ++x;
        uint32_t label = static_cast<uint32_t>(parent.size());
        parent.push_back(label);
        // Runs above overlapping [x0, x): skip those ending before x0; unite every one starting before x.
        while (a < aboveEnd && runs[a].x1 <= x0) ++a;
        for (size_t b = a; b < aboveEnd && runs[b].x0 < x; ++b) {
          const uint32_t r = find(runs[b].label), l = find(label);
          if (r != l) parent[std::max(r, l)] = std::min(r, l);
        }
        runs.push_back(Run{uint32_t(y), uint32_t(x0), uint32_t(x), label});
      }
      above = rowStart;
      aboveEnd = runs.size();
    }
    // Components numbered in raster order of their first pixel (= first run).
    std::vector<uint32_t> dense(parent.size(), 0);
    for (Run& r : runs) {
      const uint32_t root = find(r.label);
      if (!dense[root]) {
        boxes.push_back(Box{r.x0, r.y, size_t(r.x1) - 1, r.y});
        dense[root] = static_cast<uint32_t>(boxes.size());
      }
      const uint32_t c = dense[root];
      Box& b = boxes[c - 1];
      b.x0 = std::min<size_t>(b.x0, r.x0);
      b.x1 = std::max<size_t>(b.x1, size_t(r.x1) - 1);
      b.y1 = r.y;  // runs come in row order
      b.pixels += r.x1 - r.x0;
      const size_t row = size_t(r.y) * w;
      for (size_t x = r.x0; x < r.x1; ++x) {
        id[row + x] = c;
        b.seeded = b.seeded || source(row + x);
      }
    }
  }
};

// Parts worth marching or flooding one by one: several, and none holding more than a quarter of the image.
inline bool worthSplitting(const Components& parts, size_t area) {
  size_t largest = 0;
  for (const Components::Box& b : parts.boxes) largest = std::max(largest, b.pixels);
  return parts.boxes.size() >= 2 && largest <= area / 4;
}

}  // namespace scseg
