// Global -> shared copies of one pipeline stage's weights, scales and zero
// points, in the shared-memory layout both dense kernels read (dense.cuh,
// dense_wgmma.cuh): per k16 row of the stage, the tile's NT / 64 blocks of
// packed words (docs/layout.md) as 16-byte chunks; one row of NT scales (and
// NT / 8 zero-point words) per scale group the stage touches.
#pragma once

#include "marlin/kernel/plan.h"
#include "marlin/kernel/ptx.cuh"

namespace marlin {

// The stage's KB k16 rows of packed weights from k row k0, columns from n0.
template <int BITS, int KB, int NT, int THREADS>
__device__ __forceinline__ void copy_stage_weights(const marlin_dense_params &p, uint8_t *dB, int k0, int n0) {
  constexpr int W64 = BITS == 4 ? 128 : 256;  // packed words per 64 columns of a k16 row
  constexpr int ROW_CHUNKS = NT / 64 * W64 / 4;
  static_assert(KB * ROW_CHUNKS % THREADS == 0, "weight chunks must split evenly over threads");
  const int32_t *const B = static_cast<const int32_t *>(p.b);
  const int64_t b_row_words = int64_t(BITS == 4 ? 2 : 4) * p.n_pad;
  const int tid = threadIdx.x;
#pragma unroll
  for (int i = 0; i < KB * ROW_CHUNKS / THREADS; ++i) {
    const int c = tid + i * THREADS;
    const int kb = c / ROW_CHUNKS, cc = c % ROW_CHUNKS;
    const int grow = k0 / 16 + kb, nb = n0 / 64 + cc / (W64 / 4);
    const bool ok = grow < p.k_pad / 16 && nb < p.n_pad / 64;
    const int32_t *src = B + grow * b_row_words + (n0 / 64) * W64 + cc * 4;
    ptx::cp_async16(dB + c * 16, ok ? src : B, ok);
  }
}

// The scale rows (and, HAS_ZERO, zero-point rows) of groups k0 >> gshift ..
// + srows - 1 (those < num_groups), columns from n0.
template <class T, bool HAS_ZERO, int NT>
__device__ __forceinline__ void copy_stage_scales(const marlin_dense_params &p, T *dS, int32_t *dZ, int k0, int n0,
                                                  int gshift, int num_groups, int srows) {
  const T *const scales = static_cast<const T *>(p.scales);
  const int32_t *const zeros = static_cast<const int32_t *>(p.zeros);
  const int tid = threadIdx.x, g0 = k0 >> gshift;
  if (tid < srows * (NT / 8)) {
    const int r = tid / (NT / 8), cc = tid % (NT / 8);
    const int g = g0 + r, col = n0 + cc * 8;
    const bool ok = g < num_groups && col < p.n_pad;
    ptx::cp_async16(dS + r * NT + cc * 8, ok ? scales + int64_t(g) * p.n_pad + col : scales, ok);
  }
  if constexpr (HAS_ZERO) {
    if (tid < srows * (NT / 32)) {
      const int r = tid / (NT / 32), cc = tid % (NT / 32);
      const int g = g0 + r, word = n0 / 8 + cc * 4;
      const bool ok = g < num_groups && word < p.n_pad / 8;
      ptx::cp_async16(dZ + r * (NT / 8) + cc * 4, ok ? zeros + int64_t(g) * (p.n_pad / 8) + word : zeros, ok);
    }
  }
}

}  // namespace marlin
