// Global -> shared copies of one pipeline stage's weights, scales and zero
// points, in the shared-memory layout both dense kernels read (dense.cuh,
// dense_wgmma.cuh): per k16 row of the stage, the tile's NT / 64 blocks of
// packed words (docs/layout.md) as 16-byte chunks; one row of NT scales (and
// NT / 8 zero-point words) per scale group the stage touches.
#pragma once

#include "marlin/kernel/plan.h"
#include "marlin/kernel/ptx.cuh"
#include "marlin/kernel/scheme.cuh"
#include "marlin/kernel/wgmma.cuh"

namespace marlin {

// The scale (and zero-point) rows of a stage of 2^LOG2_KT k rows, with scale
// groups of 2^gshift rows: how many the stage holds (one per group it
// touches), and the row of its k16 block kb.
template <int LOG2_KT>
__device__ __forceinline__ int stage_scale_rows(int gshift) {
  return gshift >= LOG2_KT ? 1 : (1 << LOG2_KT) >> gshift;
}
template <int LOG2_KT>
__device__ __forceinline__ int stage_scale_row(int gshift, int kb) {
  return gshift >= LOG2_KT ? 0 : (kb * 16) >> gshift;
}

// The stage's KB k16 rows of packed weights from k row k0, columns from n0.
template <int BITS, int KB, int NT, int THREADS>
__device__ __forceinline__ void copy_stage_weights(const marlin_dense_params &p, uint8_t *dB, int k0, int n0) {
  constexpr int W64 = kPackedWords64<BITS>;
  constexpr int ROW_CHUNKS = NT / 64 * W64 / 4;
  static_assert(KB * ROW_CHUNKS % THREADS == 0, "weight chunks must split evenly over threads");
  const int32_t *const B = static_cast<const int32_t *>(p.b);
  const int64_t b_row_words = packed_row_words<BITS>(p);
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

// The same weights as bulk copies (sm_90, the wgmma kernel's producer):
// lane kb < KB of the calling warp copies k16 row kb, a contiguous run of
// the tile's packed words in global memory as in shared memory, and adds
// its bytes to the stage's full barrier `bar` (wgmma.cuh bulk_copy). Rows
// past K and 64-column blocks past Np are not copied: the slot keeps what
// it held (finite codes whatever the bits, which meet zero-filled
// activations or scales, as the zero-filled rows of copy_stage_weights do).
template <int BITS, int KB, int NT>
__device__ __forceinline__ void bulk_stage_weights(const marlin_dense_params &p, uint32_t dB, int k0, int n0,
                                                   uint32_t bar, int lane) {
  constexpr int W64 = kPackedWords64<BITS>;
  constexpr int ROW_BYTES = NT / 64 * W64 * 4;
  static_assert(KB <= 32, "one lane per k16 row of the stage");
  const int grow = k0 / 16 + lane;
  const int blocks = min(NT / 64, p.n_pad / 64 - n0 / 64);
  if (lane < KB && grow < p.k_pad / 16) {
    const uint32_t bytes = uint32_t(blocks) * W64 * 4;
    const int32_t *const src =
        static_cast<const int32_t *>(p.b) + grow * packed_row_words<BITS>(p) + (n0 / 64) * W64;
    wgmma::mbar_expect_tx(bar, bytes);
    wgmma::bulk_copy(dB + lane * ROW_BYTES, src, bytes, bar);
  }
}

// One thread's 16-byte chunk of a stage's scale rows or zero-point rows: its
// source (zero-filled when !ok: past the groups or past Np) and its element
// offset in the stage's rows.
template <class E>
struct StageChunk {
  const E *src;
  bool ok;
  int dst;
};

// Thread tid's chunk of the scale rows of groups k0 >> gshift .. (row
// tid / (NT / 8); the threads below srows * NT / 8 copy one), columns from n0.
template <class T, int NT>
__device__ __forceinline__ StageChunk<T> scale_chunk(const marlin_dense_params &p, int k0, int n0, int gshift,
                                                     int num_groups, int tid) {
  const T *const scales = static_cast<const T *>(p.scales);
  const int r = tid / (NT / 8), cc = tid % (NT / 8);
  const int g = (k0 >> gshift) + r, col = n0 + cc * 8;
  const bool ok = g < num_groups && col < p.n_pad;
  return {ok ? scales + int64_t(g) * p.n_pad + col : scales, ok, r * NT + cc * 8};
}

// The same for the zero-point rows (row tid / (NT / 32); the threads below
// srows * NT / 32 copy one).
template <int NT>
__device__ __forceinline__ StageChunk<int32_t> zero_chunk(const marlin_dense_params &p, int k0, int n0, int gshift,
                                                          int num_groups, int tid) {
  const int32_t *const zeros = static_cast<const int32_t *>(p.zeros);
  const int r = tid / (NT / 32), cc = tid % (NT / 32);
  const int g = (k0 >> gshift) + r, word = n0 / 8 + cc * 4;
  const bool ok = g < num_groups && word < p.n_pad / 8;
  return {ok ? zeros + int64_t(g) * (p.n_pad / 8) + word : zeros, ok, r * (NT / 8) + cc * 4};
}

// The scale rows (and, HAS_ZERO, zero-point rows) of groups k0 >> gshift ..
// + srows - 1 (those < num_groups), columns from n0.
template <class T, bool HAS_ZERO, int NT>
__device__ __forceinline__ void copy_stage_scales(const marlin_dense_params &p, T *dS, int32_t *dZ, int k0, int n0,
                                                  int gshift, int num_groups, int srows) {
  const int tid = threadIdx.x;
  if (tid < srows * (NT / 8)) {
    const StageChunk<T> c = scale_chunk<T, NT>(p, k0, n0, gshift, num_groups, tid);
    ptx::cp_async16(dS + c.dst, c.src, c.ok);
  }
  if constexpr (HAS_ZERO) {
    if (tid < srows * (NT / 32)) {
      const StageChunk<int32_t> c = zero_chunk<NT>(p, k0, n0, gshift, num_groups, tid);
      ptx::cp_async16(dZ + c.dst, c.src, c.ok);
    }
  }
}

}  // namespace marlin
