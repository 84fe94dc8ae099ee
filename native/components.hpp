// 4-connected components of an image's open pixels, each with its bounding box and whether it holds a source
// pixel (a seed, a marker). Kernels whose work never crosses from one component to another (fast marching,
// watershed flooding) run component by component with the same results: each part's window is small enough to
// stay in cache, and parts go to different threads.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace scseg {

struct Components {
  struct Box {
    size_t x0, y0, x1, y1;  // inclusive
    size_t pixels = 0;
    bool seeded = false;  // holds a source pixel
  };
  std::vector<uint32_t> id;  // per pixel: component + 1, 0 = not open
  std::vector<Box> boxes;

  template <typename Open, typename Source>
  Components(size_t w, size_t h, const Open& open, const Source& source) : id(w * h, 0) {
    // Two passes with union-find over provisional labels.
    std::vector<uint32_t> parent(1, 0);
    auto find = [&](uint32_t a) {
      while (parent[a] != a) a = parent[a] = parent[parent[a]];
      return a;
    };
    for (size_t y = 0; y < h; ++y)
      for (size_t x = 0; x < w; ++x) {
        const size_t i = y * w + x;
        if (!open(i)) continue;
        const uint32_t up = y > 0 ? id[i - w] : 0, left = x > 0 ? id[i - 1] : 0;
        if (!up && !left) {
          parent.push_back(static_cast<uint32_t>(parent.size()));
          id[i] = static_cast<uint32_t>(parent.size() - 1);
        } else if (up && left) {
          const uint32_t a = find(up), b = find(left);
          id[i] = std::min(a, b);
          parent[std::max(a, b)] = std::min(a, b);
        } else {
          id[i] = up ? up : left;
        }
      }
    std::vector<uint32_t> dense(parent.size(), 0);
    for (size_t i = 0; i < id.size(); ++i) {
      if (!id[i]) continue;
      const uint32_t root = find(id[i]);
      if (!dense[root]) {
        boxes.push_back(Box{i % w, i / w, i % w, i / w});
        dense[root] = static_cast<uint32_t>(boxes.size());
      }
      id[i] = dense[root];
      Box& b = boxes[id[i] - 1];
      const size_t x = i % w, y = i / w;
      b.x0 = std::min(b.x0, x);
      b.x1 = std::max(b.x1, x);
      b.y1 = y;  // rows come in order
      ++b.pixels;
      b.seeded = b.seeded || source(i);
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
