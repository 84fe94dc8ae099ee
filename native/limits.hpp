// Every bound a kernel puts on its arguments, in one place. The binding exports them to JavaScript as the
// module's `limits`, so the TypeScript facade validates against exactly these numbers.
#pragma once
#include <cstddef>
#include <cstdint>

namespace scseg::limits {

// The histogram median costs O(radius) per pixel: a sanity bound, far above any useful disk.
constexpr int kMaxMedianRadius = 4096;
// Disk erosion / dilation cost grows with radius / 64 per pixel.
constexpr int kMaxMorphologyRadius = 4096;
// peakLocalMax's maximum filter costs O(radius) per pixel.
constexpr int kMaxPeakFootprintRadius = 4096;
// localMedianThreshold's window median costs O(block) per downsampled pixel.
constexpr int kMaxMedianBlock = 4095;
// Thread budget of one kernel call; more would only add start-up cost on today's machines.
constexpr size_t kMaxThreads = 64;

// Cellpose's flow dynamics: Euler steps per pixel (Cellpose runs 200 / rescale).
constexpr int64_t kMaxCellposeIterations = int64_t(1) << 20;

#if defined(__wasm__)
// wasm32 linear memory is 4 GiB at most and the kernels need ~16 bytes/pixel of scratch beside their arrays;
// fast marching holds ~35 bytes/pixel (inputs, output, 17 bytes/pixel of state), so it gets half.
constexpr uint64_t kMaxPixels = uint64_t(1) << 27;
constexpr uint64_t kMaxFastMarchingPixels = uint64_t(1) << 26;
// WGA's fused march + flood, with the rest of a run in the same memory: a 7094² WGA run (50.3 Mpx) finished, an
// 8192² one (2^26) ran out of linear memory inside travelTimeWatershed.
constexpr uint64_t kMaxTravelWatershedPixels = uint64_t(3) << 24;
// Cellpose's dynamics hold ~50 bytes/pixel (inputs and output copied in, flow field, positions, histogram, masks).
constexpr uint64_t kMaxCellposePixels = uint64_t(1) << 25;
#else
// Native memory is the machine's: the only bound is JavaScript's exact integers (2^53 − 1).
constexpr uint64_t kMaxPixels = (uint64_t(1) << 53) - 1;
constexpr uint64_t kMaxFastMarchingPixels = kMaxPixels;
constexpr uint64_t kMaxTravelWatershedPixels = kMaxPixels;
// Torch's histogram of converged points counts in int32, and so do we.
constexpr uint64_t kMaxCellposePixels = (uint64_t(1) << 31) - 1;
#endif

}  // namespace scseg::limits
