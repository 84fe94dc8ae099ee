// Median filter with a disk footprint, as skimage.filters.median(image, disk(r)) (= scipy.ndimage.median_filter
// with that footprint, mode "nearest"): the exact median of the 2r+1-wide disk around each pixel, image edges
// replicated. Output dtype = input dtype; values are always elements of the input.
//
// Algorithm: pixel values are replaced by dense ranks, then a rank histogram slides along a snake path
// (right on even rows, left on odd rows, one step down between rows). Each step adds and removes one disk edge
// (2r+1 pixels each) and moves the median pointer by the few bins it shifted; a coarse histogram of 64-bin
// blocks lets the pointer skip empty ranges. Cost per pixel is O(r), not O(r^2).
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "common.hpp"
#include "ranks.hpp"

namespace scseg {
namespace detail {

template <typename R>
class RankHistogram {
 public:
  RankHistogram(size_t bins, uint32_t k) : fine_(bins + 64, 0), coarse_(bins / 64 + 2, 0), k_(k) {}

  void add(R v) {
    ++fine_[v];
    ++coarse_[v >> 6];
    below_ += (v < m_);
  }
  void remove(R v) {
    --fine_[v];
    --coarse_[v >> 6];
    below_ -= (v < m_);
  }
  // Moves m_ to the bin holding the k-th smallest element (0-based) and returns it.
  uint32_t median() {
    while (below_ > k_) {
      if ((m_ & 63) == 0 && coarse_[(m_ >> 6) - 1] == 0) {
        m_ -= 64;
        continue;
      }
      --m_;
      below_ -= fine_[m_];
    }
    while (below_ + fine_[m_] <= k_) {
      if ((m_ & 63) == 0 && coarse_[m_ >> 6] == 0) {
        m_ += 64;
        continue;
      }
      below_ += fine_[m_];
      ++m_;
    }
    return m_;
  }

 private:
  std::vector<uint32_t> fine_, coarse_;
  uint32_t k_;
  uint32_t m_ = 0;      // current median candidate bin
  uint32_t below_ = 0;  // number of elements with rank < m_
};

// P: padded rank image (H + 2r rows of stride Wp = W + 2r); writes the median rank of each output pixel.
template <typename R>
void medianOnPaddedRanks(const R* P, size_t Wp, int64_t H, int64_t W, int r, size_t bins, uint32_t* outRank) {
  const std::vector<int> hw = diskHalfWidths(r);
  const uint32_t k = static_cast<uint32_t>(diskArea(r) / 2);
  RankHistogram<R> hist(bins, k);
  // Pixel (y, x) of the output sits at padded (y + r, x + r).
  auto at = [&](int64_t py, int64_t px) { return P[size_t(py) * Wp + size_t(px)]; };
  for (int dy = -r; dy <= r; ++dy)
    for (int dx = -hw[dy + r]; dx <= hw[dy + r]; ++dx) hist.add(at(r + dy, r + dx));

  for (int64_t y = 0; y < H; ++y) {
    const bool forward = (y % 2) == 0;
    const int64_t py = y + r;
    for (int64_t i = 0; i < W; ++i) {
      const int64_t x = forward ? i : W - 1 - i;
      if (i > 0) {
        const int64_t px = x + r;
        for (int dy = -r; dy <= r; ++dy) {
          const int h = hw[dy + r];
          if (forward) {
            hist.remove(at(py + dy, px - h - 1));
            hist.add(at(py + dy, px + h));
          } else {
            hist.remove(at(py + dy, px + h + 1));
            hist.add(at(py + dy, px - h));
          }
        }
      }
      outRank[size_t(y) * size_t(W) + size_t(x)] = hist.median();
    }
    if (y + 1 < H) {
      const int64_t px = (forward ? W - 1 : 0) + r;
      for (int dx = -r; dx <= r; ++dx) {
        const int h = hw[dx + r];
        hist.remove(at(py - h, px + dx));
        hist.add(at(py + 1 + h, px + dx));
      }
    }
  }
}

template <typename R, typename T>
void medianWithRankType(const Ranked<T>& ranked, int64_t H, int64_t W, int r, T* out) {
  const size_t Wp = size_t(W) + 2 * size_t(r), Hp = size_t(H) + 2 * size_t(r);
  std::vector<R> P(Wp * Hp);
  for (size_t py = 0; py < Hp; ++py) {
    const int64_t sy = std::clamp<int64_t>(int64_t(py) - r, 0, H - 1);
    const uint32_t* src = ranked.rank.data() + size_t(sy) * size_t(W);
    R* dst = P.data() + py * Wp;
    for (size_t px = 0; px < Wp; ++px) dst[px] = static_cast<R>(src[std::clamp<int64_t>(int64_t(px) - r, 0, W - 1)]);
  }
  std::vector<uint32_t> medianRank(size_t(H) * size_t(W));
  medianOnPaddedRanks<R>(P.data(), Wp, H, W, r, ranked.values.size(), medianRank.data());
  for (size_t i = 0; i < medianRank.size(); ++i) out[i] = ranked.values[medianRank[i]];
}

}  // namespace detail

template <typename T>
Status medianFilterDisk(const T* in, int64_t width, int64_t height, int radius, T* out) {
  size_t n;
  if (!checkedArea(width, height, n)) return Status::BadShape;
  if (radius < 0 || radius > 4096) return Status::BadArgument;
  Ranked<T> ranked;
  if (Status s = rankValues(in, n, ranked); s != Status::Ok) return s;
  if (ranked.values.size() <= 65536)
    detail::medianWithRankType<uint16_t>(ranked, height, width, radius, out);
  else
    detail::medianWithRankType<uint32_t>(ranked, height, width, radius, out);
  return Status::Ok;
}

}  // namespace scseg
