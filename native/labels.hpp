// Label-image utilities of scPortrait's segmentation (pipeline/_utils/segmentation.py, processing/masks/
// mask_filtering.py), on uint32 label images (0 = background). Ids may be sparse and as large as 2^32−1:
// per-id tables are indexed through LabelIndex (dense array for compact ids, a hash table otherwise — the
// results never depend on which one is used, and every per-id result is reported in ascending id order).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "common.hpp"
#include "parallel.hpp"

namespace scseg {

// Maps the ids present in an image to 0..count−1 in ascending id order.
class LabelIndex {
 public:
  static constexpr uint32_t kAbsent = 0xFFFFFFFFu;

  // Indexes every id present in `labels` (0 too when includeZero).
  LabelIndex(const uint32_t* labels, size_t n, bool includeZero, size_t threads) {
    const size_t chunks = chunkCount(threads, n, kLabelChunk);
    std::vector<uint32_t> chunkMax(chunks, 0);
    parallelChunks(n, chunks, [&](size_t c, size_t begin, size_t end) {
      uint32_t m = 0;
      for (size_t i = begin; i < end; ++i) m = std::max(m, labels[i]);
      chunkMax[c] = m;
    });
    const uint32_t maxId = *std::max_element(chunkMax.begin(), chunkMax.end());
    // A dense table costs 4 bytes per possible id: use it while that stays within ~4 bytes per pixel.
    dense_ = uint64_t(maxId) <= uint64_t(n) + 65536;
    if (dense_) {
      // Which ids occur; every thread may mark any id, all with the same value (relaxed atomic stores).
      std::vector<uint8_t> seen(size_t(maxId) + 1, 0);
      parallelChunks(n, chunks, [&](size_t, size_t begin, size_t end) {
        uint32_t previous = 0;
        bool any = false;
        for (size_t i = begin; i < end; ++i) {
          if (any && labels[i] == previous) continue;  // objects come in runs along rows
          previous = labels[i];
          any = true;
          __atomic_store_n(&seen[previous], uint8_t(1), __ATOMIC_RELAXED);
        }
      });
      table_.assign(size_t(maxId) + 1, kAbsent);
      for (size_t id = includeZero ? 0 : 1; id < table_.size(); ++id) {
        if (!seen[id]) continue;
        table_[id] = static_cast<uint32_t>(ids_.size());
        ids_.push_back(static_cast<uint32_t>(id));
      }
    } else {
      for (size_t i = 0; i < n; ++i)
        if (labels[i] != 0 || includeZero) insertKey(labels[i]);
      for (size_t s = 0; s < keys_.size(); ++s)
        if (used_[s]) ids_.push_back(keys_[s]);
      std::sort(ids_.begin(), ids_.end());  // distinct keys: the order is unique
      for (size_t k = 0; k < ids_.size(); ++k) values_[slotOf(ids_[k])] = static_cast<uint32_t>(k);
    }
  }

  // Pixels per chunk of the label passes: enough to outweigh starting a thread.
  static constexpr size_t kLabelChunk = size_t(1) << 18;

  // Ascending ids present.
  const std::vector<uint32_t>& ids() const { return ids_; }
  size_t size() const { return ids_.size(); }

  // Position of id in ids(), or kAbsent.
  uint32_t find(uint32_t id) const {
    if (dense_) return id < table_.size() ? table_[id] : kAbsent;
    if (keys_.empty()) return kAbsent;
    const size_t s = slotOf(id);
    return used_[s] ? values_[s] : kAbsent;
  }

 private:
  size_t hashSlot(uint32_t id) const { return size_t((uint64_t(id) * 0x9E3779B97F4A7C15ull) >> shift_); }

  // Slot holding id, or the empty slot where it would go (linear probing).
  size_t slotOf(uint32_t id) const {
    const size_t mask = keys_.size() - 1;
    size_t s = hashSlot(id);
    while (used_[s] && keys_[s] != id) s = (s + 1) & mask;
    return s;
  }

  void insertKey(uint32_t id) {
    if ((count_ + 1) * 2 > keys_.size()) grow();
    const size_t s = slotOf(id);
    if (used_[s]) return;
    used_[s] = 1;
    keys_[s] = id;
    ++count_;
  }

  void grow() {
    const size_t cap = keys_.empty() ? 1024 : keys_.size() * 2;
    std::vector<uint32_t> oldKeys;
    std::vector<uint8_t> oldUsed;
    oldKeys.swap(keys_);
    oldUsed.swap(used_);
    keys_.assign(cap, 0);
    used_.assign(cap, 0);
    values_.assign(cap, kAbsent);
    shift_ = 64;
    for (size_t c = cap; c > 1; c >>= 1) --shift_;
    for (size_t s = 0; s < oldKeys.size(); ++s) {
      if (!oldUsed[s]) continue;
      const size_t t = slotOf(oldKeys[s]);
      used_[t] = 1;
      keys_[t] = oldKeys[s];
    }
  }

  bool dense_ = true;
  std::vector<uint32_t> ids_;
  std::vector<uint32_t> table_;  // dense: id → position
  std::vector<uint32_t> keys_;   // hash: open addressing, power-of-two capacity
  std::vector<uint8_t> used_;
  std::vector<uint32_t> values_;
  size_t count_ = 0;
  int shift_ = 64;
};

// Pixel count per non-zero id (ids ascending). areas[k] belongs to index.ids()[k].
inline std::vector<uint64_t> labelPixelCounts(const uint32_t* labels, size_t n, const LabelIndex& index,
                                              size_t threads) {
  const size_t chunks = chunkCount(threads, n, LabelIndex::kLabelChunk);
  std::vector<std::vector<uint64_t>> partial(chunks);
  parallelChunks(n, chunks, [&](size_t c, size_t begin, size_t end) {
    std::vector<uint64_t>& counts = partial[c];
    counts.assign(index.size(), 0);
    for (size_t i = begin; i < end;) {  // one lookup per run of equal ids
      const uint32_t id = labels[i];
      size_t e = i + 1;
      while (e < end && labels[e] == id) ++e;
      if (id != 0) counts[index.find(id)] += e - i;
      i = e;
    }
  });
  for (size_t c = 1; c < chunks; ++c)
    for (size_t j = 0; j < index.size(); ++j) partial[0][j] += partial[c][j];
  return std::move(partial[0]);
}

// numba_mask_centroid: per non-zero id, mean row and mean column. Sums are accumulated in float64 in raster
// order and divided by the pixel count, as the original does.
inline Status labelCentroids(const uint32_t* labels, int64_t width, int64_t height, std::vector<uint32_t>& ids,
                             std::vector<double>& cy, std::vector<double>& cx, size_t threads) {
  size_t area;
  if (!checkedArea(width, height, area)) return Status::BadShape;
  const LabelIndex index(labels, area, false, threads);
  const size_t k = index.size();
  std::vector<double> sumX(k, 0.0), sumY(k, 0.0);
  std::vector<uint64_t> count(k, 0);
  for (int64_t y = 0; y < height; ++y) {
    const uint32_t* row = labels + size_t(y) * size_t(width);
    for (int64_t x = 0; x < width; ++x) {
      if (row[x] == 0) continue;
      const uint32_t j = index.find(row[x]);
      ++count[j];
      sumX[j] += double(x);
      sumY[j] += double(y);
    }
  }
  ids = index.ids();
  cy.resize(k);
  cx.resize(k);
  for (size_t j = 0; j < k; ++j) {
    cx[j] = sumX[j] / double(count[j]);
    cy[j] = sumY[j] / double(count[j]);
  }
  return Status::Ok;
}

// Non-zero ids with their pixel counts, ascending.
inline Status labelAreas(const uint32_t* labels, int64_t width, int64_t height, std::vector<uint32_t>& ids,
                         std::vector<double>& areas, size_t threads) {
  size_t area;
  if (!checkedArea(width, height, area)) return Status::BadShape;
  const LabelIndex index(labels, area, false, threads);
  const std::vector<uint64_t> counts = labelPixelCounts(labels, area, index, threads);
  ids = index.ids();
  areas.assign(counts.begin(), counts.end());
  return Status::Ok;
}

// out[i] = 0 where drop[index.find(labels[i])], else labels[i] (every label must be in the index; 0 is kept
// when the index leaves it out).
inline void dropIndexed(const uint32_t* labels, size_t n, const LabelIndex& index, const std::vector<uint8_t>& drop,
                        uint32_t* out, size_t threads) {
  parallelFor(threads, n, LabelIndex::kLabelChunk, [&](size_t begin, size_t end) {
    uint32_t previous = 0, kept = 0;  // id 0 maps to 0 whether it is dropped or absent
    for (size_t i = begin; i < end; ++i) {
      const uint32_t id = labels[i];
      if (id != previous) {
        const uint32_t j = index.find(id);
        previous = id;
        kept = j != LabelIndex::kAbsent && drop[j] ? 0u : id;
      }
      out[i] = kept;
    }
  });
}

// out = labels with every id listed in `remove` set to 0 (ids absent from the image, duplicates and 0 are fine).
inline Status removeLabels(const uint32_t* labels, int64_t width, int64_t height, const uint32_t* remove,
                           size_t removeCount, uint32_t* out, size_t threads) {
  size_t area;
  if (!checkedArea(width, height, area)) return Status::BadShape;
  const LabelIndex index(labels, area, false, threads);
  std::vector<uint8_t> drop(index.size(), 0);
  for (size_t r = 0; r < removeCount; ++r) {
    const uint32_t j = index.find(remove[r]);
    if (j != LabelIndex::kAbsent) drop[j] = 1;
  }
  dropIndexed(labels, area, index, drop, out, threads);
  return Status::Ok;
}

// remove_edge_labels: every id that occurs in the first/last row or column is set to 0 everywhere.
inline Status removeEdgeLabels(const uint32_t* labels, int64_t width, int64_t height, uint32_t* out, size_t threads) {
  size_t area;
  if (!checkedArea(width, height, area)) return Status::BadShape;
  const size_t w = size_t(width), h = size_t(height);
  std::vector<uint32_t> edge;
  edge.reserve(2 * (w + h));
  for (size_t x = 0; x < w; ++x) {
    edge.push_back(labels[x]);
    edge.push_back(labels[(h - 1) * w + x]);
  }
  for (size_t y = 0; y < h; ++y) {
    edge.push_back(labels[y * w]);
    edge.push_back(labels[y * w + w - 1]);
  }
  return removeLabels(labels, width, height, edge.data(), edge.size(), out, threads);
}

// contact_filter(labels, threshold, reindex=False, background=0). For every id (0 included) two counters start
// at 1; each interior pixel (not in the first/last row or column) with id c adds, over its 4 neighbours n,
// [n == 0] to bg[c] and [n != c] to other[c]. Ids ≠ 0 with bg/other < threshold (float64) are set to 0.
inline Status contactFilter(const uint32_t* labels, int64_t width, int64_t height, double threshold,
                            uint32_t* out, size_t threads) {
  size_t area;
  if (!checkedArea(width, height, area)) return Status::BadShape;
  if (std::isnan(threshold)) return Status::BadArgument;
  const LabelIndex index(labels, area, true, threads);
  const size_t w = size_t(width), h = size_t(height);
  const size_t rows = h > 2 ? h - 2 : 0;  // interior rows 1..h−2
  const size_t chunks = chunkCount(threads, rows, rowsPerChunk(width));
  // Integer counts: summing the chunks' partial counts gives exactly the serial totals.
  std::vector<std::vector<int64_t>> bgPart(chunks), otherPart(chunks);
  parallelChunks(rows, chunks, [&](size_t c, size_t r0, size_t r1) {
    std::vector<int64_t>& bg = bgPart[c];
    std::vector<int64_t>& other = otherPart[c];
    bg.assign(index.size(), 0);
    other.assign(index.size(), 0);
    for (size_t y = r0 + 1; y < r1 + 1; ++y) {
      uint32_t previous = 0, j = index.find(0);
      for (size_t x = 1; x + 1 < w; ++x) {
        const uint32_t* p = labels + y * w + x;
        const uint32_t c = *p;
        const uint32_t up = *(p - w), left = *(p - 1), down = *(p + w), right = *(p + 1);
        if (c != previous) {
          previous = c;
          j = index.find(c);
        }
        bg[j] += int64_t(up == 0) + int64_t(left == 0) + int64_t(down == 0) + int64_t(right == 0);
        other[j] += int64_t(up != c) + int64_t(left != c) + int64_t(down != c) + int64_t(right != c);
      }
    }
  });
  std::vector<int64_t> bg(index.size(), 1), other(index.size(), 1);
  for (size_t c = 0; c < chunks; ++c)
    for (size_t j = 0; j < index.size(); ++j) {
      bg[j] += bgPart[c][j];
      other[j] += otherPart[c][j];
    }
  std::vector<uint8_t> drop(index.size(), 0);
  for (size_t j = 0; j < index.size(); ++j)
    drop[j] = index.ids()[j] != 0 && double(bg[j]) / double(other[j]) < threshold;
  dropIndexed(labels, area, index, drop, out, threads);
  return Status::Ok;
}

// MatchNucleusCytosolIds(filtering_threshold).filter(nucleus, cytosol), without downsampling:
//  1. nucleus ids = unique values of `nucleus` minus the FIRST one (meant to be 0; if the mask has no
//     background its smallest id is skipped, and that nucleus is neither matched nor discarded);
//  2. a nucleus with any pixel on cytosol 0 is discarded; otherwise the cytosol ids under it, ascending, with
//     count/total (float64) >= threshold: the first such id is its match; none → nucleus discarded;
//  3. cytosol ids (unique values minus the first one) that no nucleus matched are discarded;
//  4. cytosols matched by more than one nucleus are discarded together with all those nuclei;
//  5. nucleus out = nucleus with discarded nuclei set to 0; cytosol out = cytosol with discarded cytosols set
//     to 0 and each remaining matched cytosol id renamed to its nucleus id (other ids kept as they are).
inline Status matchNucleusCytosol(const uint32_t* nucleus, const uint32_t* cytosol, int64_t width, int64_t height,
                                  double threshold, uint32_t* nucleusOut, uint32_t* cytosolOut, size_t threads) {
  size_t area;
  if (!checkedArea(width, height, area)) return Status::BadShape;
  if (std::isnan(threshold)) return Status::BadArgument;
  const LabelIndex nuc(nucleus, area, true, threads);
  const size_t nn = nuc.size();

  // Cytosol ids under each nucleus: bucket the pixels by nucleus (counting sort, raster order kept).
  std::vector<size_t> start(nn + 1, 0);
  for (size_t i = 0; i < area; ++i) ++start[nuc.find(nucleus[i]) + 1];
  for (size_t j = 0; j < nn; ++j) start[j + 1] += start[j];
  std::vector<uint32_t> under(area);
  {
    std::vector<size_t> fill(start.begin(), start.end() - 1);
    for (size_t i = 0; i < area; ++i) under[fill[nuc.find(nucleus[i])]++] = cytosol[i];
  }

  const uint32_t kNone = 0;  // 0 is never a cytosol match
  std::vector<uint32_t> match(nn, kNone);
  std::vector<uint8_t> nucDiscard(nn, 0);
  for (size_t j = 1; j < nn; ++j) {  // j = 0 is the first unique value, skipped as the original does
    uint32_t* b = under.data() + start[j];
    uint32_t* e = under.data() + start[j + 1];
    std::sort(b, e);  // plain values: sorting equal elements cannot change the result
    const double total = double(e - b);
    if (*b == 0) {  // some pixel lies on cytosol background
      nucDiscard[j] = 1;
      continue;
    }
    for (uint32_t* run = b; run != e;) {
      uint32_t* next = run;
      while (next != e && *next == *run) ++next;
      if (double(next - run) / total >= threshold) {
        match[j] = *run;
        break;
      }
      run = next;
    }
    if (match[j] == kNone) nucDiscard[j] = 1;
  }
  std::vector<uint32_t>().swap(under);

  const LabelIndex cyt(cytosol, area, true, threads);
  const size_t nc = cyt.size();
  std::vector<uint32_t> matchedBy(nc, 0);  // number of nuclei matched to each cytosol
  for (size_t j = 0; j < nn; ++j)
    if (match[j] != kNone) ++matchedBy[cyt.find(match[j])];
  std::vector<uint8_t> cytDiscard(nc, 0);
  for (size_t c = 1; c < nc; ++c)  // c = 0: first unique value, skipped as the original does
    if (matchedBy[c] == 0) cytDiscard[c] = 1;
  std::vector<uint32_t> renameTo(nc, 0);
  std::vector<uint8_t> renamed(nc, 0);
  for (size_t j = 0; j < nn; ++j) {
    if (match[j] == kNone) continue;
    const uint32_t c = cyt.find(match[j]);
    if (matchedBy[c] > 1) {
      nucDiscard[j] = 1;
      cytDiscard[c] = 1;
    } else {
      renamed[c] = 1;
      renameTo[c] = nuc.ids()[j];
    }
  }
  dropIndexed(nucleus, area, nuc, nucDiscard, nucleusOut, threads);
  for (size_t i = 0; i < area; ++i) {
    const uint32_t c = cyt.find(cytosol[i]);
    cytosolOut[i] = cytDiscard[c] ? 0u : renamed[c] ? renameTo[c] : cytosol[i];
  }
  return Status::Ok;
}

}  // namespace scseg
