// Binary erosion and dilation of a 0/1 mask by disk(r) (skimage.morphology.disk: dy² + dx² <= r²), with a
// chosen value for the pixels beyond the image border. Any non-zero input pixel counts as 1; output is 0/1.
//
//   erosion(p)  = 1 iff every pixel of p + disk(r) is 1     (scipy binary_erosion, border_value = outside)
//   dilation(p) = 1 iff some pixel of p + disk(r) is 1      (binary_dilation, border_value = outside)
//
// The original calls: skimage binary_erosion (= ndi.binary_erosion(border_value=True) → outside = 1) and
// skimage dilation = ndi.grey_dilation, mode "reflect", on a 0/1 bool or float image. The latter equals a
// binary dilation with outside = 0: "reflect" replaces an outside coordinate c by a fold f(c) of the axis
// (…2 1 0 | 0 1 2 … n−1 | n−1 n−2 …, repeated), and the fold is 1-Lipschitz with f(c) = c inside, so for a
// pixel p inside and an outside q with |q_y − p_y| = a, |q_x − p_x| = b, the mirrored f(q) lies at offsets
// a' <= a, b' <= b from p; a disk contains (a', b') whenever it contains (a, b). Every value the reflected
// border contributes to the maximum over p + disk is therefore already a value of an in-image pixel of
// p + disk: the maximum equals the maximum over the in-image part alone, i.e. outside counts as 0.
// (test/kernels/morphology.test.ts checks this against both scipy calls.)
//
// Algorithm: bit-parallel. Rows are packed 64 pixels to a word, with margins of border pixels. For each input
// row the horizontal erosions E_h (AND of the row shifted by −h..h) are built incrementally for h = 0..r
// (two shifted word reads and two ANDs per word and level), and E_{hw(dy)} is ANDed into output row y − dy
// for every disk row dy whose half-width is h. Dilation is the complement of the erosion of the complement
// (the disk is symmetric), with the complementary border value. Cost per pixel: O(r / 64) word operations.
#pragma once
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

#include "common.hpp"
#include "limits.hpp"

namespace scseg {
namespace detail {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "bit packing assumes little-endian bytes (x86, arm, wasm32)");

// Byte i of kBitsToBytes[b] is bit i of b.
constexpr std::array<uint64_t, 256> makeBitsToBytes() {
  std::array<uint64_t, 256> t{};
  for (uint32_t b = 0; b < 256; ++b)
    for (uint32_t i = 0; i < 8; ++i) t[b] |= uint64_t((b >> i) & 1u) << (8 * i);
  return t;
}
inline constexpr std::array<uint64_t, 256> kBitsToBytes = makeBitsToBytes();

// Bit i of the result = (byte i of the 8 bytes at p != 0) XOR invert.
inline uint32_t packEightBytes(const uint8_t* p, bool invert) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  constexpr uint64_t lo7 = 0x7F7F7F7F7F7F7F7Full, ones = 0x0101010101010101ull;
  uint64_t nz = ((((v & lo7) + lo7) | v) >> 7) & ones;  // 1 per non-zero byte
  if (invert) nz ^= ones;
  return uint32_t((nz * 0x0102040810204080ull) >> 56);
}

// Erosion by disk(r) of a packed mask: out(y, x) = 1 iff all pixels of (y, x) + disk(r) are 1, pixels beyond
// the border being `border`. Input bytes are read as (byte != 0) XOR invert; output bytes are bit XOR invert.
inline void erodeDiskBits(const uint8_t* in, int64_t W, int64_t H, int r, bool border, bool invert, uint8_t* out) {
  const std::vector<int> hw = diskHalfWidths(r);
  std::vector<std::vector<int>> rowsWithHalfWidth(size_t(r) + 1);
  for (int dy = -r; dy <= r; ++dy) rowsWithHalfWidth[size_t(hw[size_t(dy + r)])].push_back(dy);

  const size_t pixelWords = (size_t(W) + 63) / 64;
  const size_t margin = (size_t(r) + 63) / 64 + 1;  // words of border on each side
  const size_t rowWords = pixelWords + 2 * margin + 1;
  const uint64_t fill = border ? ~uint64_t(0) : 0;
  std::vector<uint64_t> row(rowWords), level(pixelWords);
  std::vector<uint64_t> acc(pixelWords * size_t(H), ~uint64_t(0));
  // Reads the 64 bits of `row` starting at pixel position p (relative to pixel 0; may be negative).
  auto bitsAt = [&](int64_t p) -> uint64_t {
    const int64_t q = p + int64_t(margin) * 64;
    const size_t w = size_t(q >> 6);
    const unsigned b = unsigned(q & 63);
    return b ? (row[w] >> b) | (row[w + 1] << (64 - b)) : row[w];
  };

  for (int64_t yy = 0; yy < H; ++yy) {
    std::fill(row.begin(), row.end(), fill);
    const uint8_t* src = in + size_t(yy) * size_t(W);
    for (size_t j = 0; j < pixelWords; ++j) {
      const size_t x0 = j * 64, n = std::min<size_t>(64, size_t(W) - x0);
      uint8_t chunk[64] = {};
      const uint8_t* p = src + x0;
      if (n < 64) p = static_cast<const uint8_t*>(std::memcpy(chunk, p, n));
      uint64_t w = 0;
      for (unsigned i = 0; i < 64; i += 8) w |= uint64_t(packEightBytes(p + i, invert)) << i;
      if (n < 64) w = (w & ((uint64_t(1) << n) - 1)) | (fill << n);  // bits past the row: border pixels
      row[margin + j] = w;
    }
    for (int h = 0; h <= r; ++h) {
      if (h == 0) {
        for (size_t j = 0; j < pixelWords; ++j) level[j] = row[margin + j];
      } else {
        for (size_t j = 0; j < pixelWords; ++j) {
          const int64_t p = int64_t(j) * 64;
          level[j] &= bitsAt(p + h) & bitsAt(p - h);
        }
      }
      for (int dy : rowsWithHalfWidth[size_t(h)]) {
        const int64_t y = yy - dy;
        if (y < 0 || y >= H) continue;
        uint64_t* a = acc.data() + size_t(y) * pixelWords;
        for (size_t j = 0; j < pixelWords; ++j) a[j] &= level[j];
      }
    }
  }

  for (int64_t y = 0; y < H; ++y) {
    uint8_t* dst = out + size_t(y) * size_t(W);
    // Without a foreground border, rows whose disk reaches beyond the top or bottom erode away entirely.
    const bool cut = !border && (y < r || y + r >= H);
    const uint64_t* a = acc.data() + size_t(y) * pixelWords;
    for (size_t j = 0; j < pixelWords; ++j) {
      uint64_t w = cut ? 0 : a[j];
      if (invert) w = ~w;
      const size_t x0 = j * 64, n = std::min<size_t>(64, size_t(W) - x0);
      uint8_t chunk[64];
      uint8_t* p = n < 64 ? chunk : dst + x0;
      for (unsigned i = 0; i < 64; i += 8) {
        const uint64_t bytes = kBitsToBytes[(w >> i) & 0xFF];
        std::memcpy(p + i, &bytes, 8);
      }
      if (n < 64) std::memcpy(dst + x0, chunk, n);
    }
  }
}

}  // namespace detail

// Binary erosion by disk(radius); `outside` (0 or 1) is the value assumed beyond the image border.
inline Status binaryErosionDisk(const uint8_t* in, int64_t width, int64_t height, int radius, int outside,
                                uint8_t* out) {
  size_t n;
  if (!checkedArea(width, height, n)) return Status::BadShape;
  if (radius < 0 || radius > limits::kMaxMorphologyRadius || (outside != 0 && outside != 1)) return Status::BadArgument;
  detail::erodeDiskBits(in, width, height, radius, /*border=*/outside == 1, /*invert=*/false, out);
  return Status::Ok;
}

// Binary dilation by disk(radius); `outside` (0 or 1) is the value assumed beyond the image border.
inline Status binaryDilationDisk(const uint8_t* in, int64_t width, int64_t height, int radius, int outside,
                                 uint8_t* out) {
  size_t n;
  if (!checkedArea(width, height, n)) return Status::BadShape;
  if (radius < 0 || radius > limits::kMaxMorphologyRadius || (outside != 0 && outside != 1)) return Status::BadArgument;
  detail::erodeDiskBits(in, width, height, radius, /*border=*/outside == 0, /*invert=*/true, out);
  return Status::Ok;
}

}  // namespace scseg
