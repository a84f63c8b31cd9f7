// The dense mixed-precision GEMM template family (mma.sync path, sm80+):
//   C[m,n] = A[m,k] * dequant(W)[k,n] (+ bias[n])
// A: fp16/bf16 activations; W: packed 4- or 8-bit codes (docs/layout.md) with
// per-group scales in A's dtype and optional zero points; fp32 accumulation.
//
// Structure, top down:
//   launch_dense<Scheme, T, Tag>   the generated launcher's body: switch over
//                                  the tile configs of configs.def (MMA rows:
//                                  this kernel; WGMMA rows: dense_wgmma.cuh)
//   dense_kernel<..., tile>        a persistent grid; each CTA walks one
//                                  stripe of (output tile, k-step) units:
//                                  (16*MB) x NT tiles, STAGES-deep cp.async
//                                  pipeline per tile segment
//   stage loads / compute_stage    A via ldmatrix (XOR-swizzled smem),
//                                  W as one 16-byte fragment per lane,
//                                  dequant in registers, mma.m16n8k16;
//                                  scales per group from smem, or per row
//                                  (ROW_GROUPS: act-order on a K shard)
//   reduction                      warps splitting K sum in shared memory;
//                                  a tile cut by stripe boundaries gets fp32
//                                  partials from each CTA; the last to finish
//                                  sums them in stripe order (deterministic)
//                                  and writes C; on sm90 a split plan whose
//                                  clusters fit in one wave is launched as
//                                  clusters of a tile's parts, which sum in
//                                  distributed shared memory instead (the
//                                  same bits).
#pragma once

#include <cuda_runtime.h>

#include <atomic>
#include <cstdlib>

#include "marlin/kernel/dequant.cuh"
#include "marlin/kernel/plan.h"
#include "marlin/kernel/dense_column.cuh"
#include "marlin/kernel/dense_wgmma.cuh"
#include "marlin/kernel/ptx.cuh"
#include "marlin/kernel/scheme.cuh"
#include "marlin/kernel/stage.cuh"
#include "marlin/kernel/stripes.cuh"

namespace marlin {

// ---- tile geometry ------------------------------------------------------------

template <int MB, int NT, int KT, int THREADS, int STAGES, int BITS>
struct Tile {
  static constexpr int TM = 16 * MB;              // rows of A / C per tile
  static constexpr int WARPS = THREADS / 32;
  static constexpr int WARPS_N = NT / 64;         // each warp owns 64 columns
  static constexpr int WARPS_K = WARPS / WARPS_N; // the rest split the stage's K
  static constexpr int KB = KT / 16;              // k16 blocks per stage
  static constexpr int KB_WARP = KB / WARPS_K;    // k16 blocks per warp per stage
  static constexpr int LOG2_KT = KT == 64 ? 6 : KT == 128 ? 7 : KT == 256 ? 8 : -1;
  // packed-weight words per 64 columns of one k16 row, and 16-byte chunks
  static constexpr int W64 = kPackedWords64<BITS>;
  static constexpr int B_ROW_CHUNKS = WARPS_N * W64 / 4;
  // shared memory per stage (bytes); marlin_dense_smem_bytes() mirrors this
  static constexpr int A_STAGE = TM * KT * 2;
  static constexpr int B_STAGE = KT * NT * BITS / 8;
  static constexpr int S_STAGE = KB * NT * 2;
  static constexpr int Z_STAGE = KB * NT / 2;
  static_assert(NT % 64 == 0 && WARPS % WARPS_N == 0, "warps must tile N");
  static_assert(KB % WARPS_K == 0, "k16 blocks must split evenly over warps");
  static_assert(LOG2_KT > 0, "k_tile must be 64, 128 or 256");
  static_assert(KB * B_ROW_CHUNKS % THREADS == 0, "weight chunks must split evenly over threads");
  static_assert(KB * NT / 8 <= THREADS, "one thread per 16 bytes of a stage's scales");
};

// ---- the kernel ------------------------------------------------------------------

// Whether the dense kernel has the cluster fix-up (stripes.cuh cluster_sum):
// sm90+, and not for per-row groups (where its code raised the spills at the
// 128-register cap from 8 to 32 bytes; the launcher gives those plans the
// workspace fix-up).
template <int TAG, bool ROW_GROUPS>
constexpr bool kClusterFixup = TAG >= 900 && !ROW_GROUPS;

// ROW_GROUPS: act-order on a K shard (is_k_full = 0). The sorted rows belong to
// arbitrary groups, so each B-fragment row takes its scale from its own group
// (g_idx, sorted) instead of one scale row per group-size block.
template <class S, class T, int TAG, bool ROW_GROUPS, int MB, int NT, int KT, int THREADS, int STAGES,
          int CTAS_PER_SM>
__global__ void __launch_bounds__(THREADS, CTAS_PER_SM)
    dense_kernel(const marlin_dense_params p) {
  static_assert(!ROW_GROUPS || (S::act_order && !S::has_zero), "per-row groups are for act-order schemes");
  static_assert(TAG >= 800, "the mma.sync kernel needs sm80+; sm75 kernels are not written yet");
  using G = Tile<MB, NT, KT, THREADS, STAGES, S::bits>;
  using T2 = typename Vec2<T>::type;

  extern __shared__ __align__(16) uint8_t smem[];
  uint8_t *const sA = smem;
  uint8_t *const sB = sA + STAGES * G::A_STAGE;
  uint8_t *const sS = sB + STAGES * G::B_STAGE;
  uint8_t *const sZ = sS + STAGES * G::S_STAGE;
  __shared__ FixupShared fixup;

  const T *const A = static_cast<const T *>(p.a);
  const int32_t *const B = static_cast<const int32_t *>(p.b);
  const T *const scales = static_cast<const T *>(p.scales);

  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int wn = warp % G::WARPS_N, wk = warp / G::WARPS_N;

  // Programmatic dependent launch: the next kernel may launch now; its CTAs
  // start as ours exit. Only the weights are read before wait_prior_grids().
  ptx::launch_dependents();

  // This CTA's stripe: units [u_begin, u_end) of the (tile, k-step) sequence,
  // tile-major, m-tiles fastest (CTAs running together share weight tiles).
  const Stripes stripes(p.plan);
  const int ksteps = p.plan.ksteps;
  const int u_begin = stripes.begin(blockIdx.x), u_end = stripes.end(blockIdx.x);
  int m0 = 0, n0 = 0;  // current tile's first row, first (padded) column

  const int gshift = 31 - __clz(p.group_size);                  // group size is a power of 2
  const int num_groups = max(1, p.k >> gshift);
  const int srows = stage_scale_rows<G::LOG2_KT>(gshift);       // scale rows per stage
  const int kb_rows = p.k_pad / 16;
  const int scale_warps = (srows * (NT / 8) + 31) / 32;  // warps holding a stage's scale chunks (ROTATE_SCALE_COPIES)
  const int64_t b_row_words = packed_row_words<S::bits>(p);

  // The decode tile (one m16 block), where instruction issue is the limit,
  // hoists the load addresses out of the main loop and unrolls that loop over
  // the STAGES slots (shared-memory offsets become constants): ~15 % fewer
  // instructions per stage, +4 % at M <= 16. The larger tiles keep per-stage
  // address arithmetic and a runtime slot: hoisted and unrolled, they spilled
  // at their register limit and ran 4-10 % slower (docs/performance.md).
  constexpr bool DECODE = MB == 1 && !ROW_GROUPS;  // ROW_GROUPS: no gain measured, fewer spills
  // AWQ's decode tile: a stage's scale and zero-point copies are addressed
  // and issued by one warp (scale_warps with groups of 32), the turn
  // rotating over the warps, instead of by every thread under a predicate:
  // ~10 % fewer instructions per stage on the other warps. H100, M = 16,
  // three runs (twenty-first session): awq4 fp16 +0.5-0.9 %, bf16 +1.8-2.7 %
  // (8192 x 8192, one CTA per SM, lost 20.1 -> 21.2 us with fp16); gptq4
  // gained nothing (4 % fewer instructions; 8192 x 8192 18.4 -> 19.1 us), so
  // it keeps every thread's copy.
  constexpr bool ROTATE_SCALE_COPIES = DECODE && S::has_zero;
  static_assert(!ROTATE_SCALE_COPIES || (G::WARPS & (G::WARPS - 1)) == 0, "the turn rotates over 2^n warps");
  constexpr int STEPS_UNROLLED = DECODE ? STAGES : 1;

  // ---- global -> shared addressing of the decode tile, per thread. Each
  // thread copies the same chunks of every stage (THREADS is a multiple of
  // the chunks per row), and a segment loads its stages in step order, so
  // the sources are running pointers advanced by one stage per load, and
  // each copy's bounds test is one compare of the step against a limit set
  // per segment. The copies of a stage are issued back to back: ptxas puts
  // three never-executed instructions before every run of cp.async
  // (LDGSTS), so interleaved address arithmetic multiplied them. ----
  constexpr int A_ROW_CHUNKS = KT / 8, A_ITERS = G::TM * KT / 8 / THREADS;
  constexpr int B_ITERS = G::KB * G::B_ROW_CHUNKS / THREADS;
  constexpr int B_ROWS_PER_ITER = THREADS / G::B_ROW_CHUNKS;  // k16 rows between a thread's chunks
  static_assert(THREADS % A_ROW_CHUNKS == 0 && (THREADS / A_ROW_CHUNKS) % 8 == 0 && A_ITERS >= 1 &&
                    G::TM * KT / 8 % THREADS == 0,
                "activation chunks must split evenly over threads");
  static_assert(THREADS % G::B_ROW_CHUNKS == 0 && B_ITERS >= 1, "weight chunks must split evenly over threads");
  const int a_ch = tid % A_ROW_CHUNKS, a_row = tid / A_ROW_CHUNKS;  // + i * THREADS / A_ROW_CHUNKS rows
  const int a_dst = a_row * KT + ((a_ch ^ (a_row & 7)) * 8);        // + i * THREADS * 8 elements
  const int b_cc = tid % G::B_ROW_CHUNKS, b_kb = tid / G::B_ROW_CHUNKS;  // + i * B_ROWS_PER_ITER
  const int64_t b_stride = B_ROWS_PER_ITER * b_row_words;                // words between a thread's chunks
  const int a_k_lim = (p.k - a_ch * 8 + KT - 1) >> G::LOG2_KT;  // steps whose chunk column is < k
  const T *a_next = A;          // this segment's next stage: row a_row of the tile, column a_ch * 8
  int a_lim[A_ITERS];           // steps whose chunk is loaded: rows < m, columns < k
  const int32_t *b_next = B;    // this segment's next stage: k16 row b_kb, chunk b_cc of the tile's columns
  int b_lim[B_ITERS];           // steps whose chunk is loaded: k16 rows < Kp, columns < Np

  // a segment of the decode tile: the step limits of its copies and the
  // sources of its first stage, `step`
  auto start_segment_loads = [&](int step) {
    if constexpr (DECODE) {
#pragma unroll
      for (int i = 0; i < A_ITERS; ++i)
        a_lim[i] = m0 + a_row + i * (THREADS / A_ROW_CHUNKS) < p.m ? a_k_lim : 0;
      const bool b_col_ok = n0 / 64 + b_cc / (G::W64 / 4) < p.n_pad / 64;
#pragma unroll
      for (int i = 0; i < B_ITERS; ++i) {
        const int rows_left = kb_rows - b_kb - i * B_ROWS_PER_ITER;  // k16 rows from this chunk's first
        b_lim[i] = b_col_ok && rows_left > 0 ? (rows_left + G::KB - 1) / G::KB : 0;
      }
      a_next = A + int64_t(m0 + a_row) * p.lda + a_ch * 8 + step * KT;
      b_next = B + (b_kb + int64_t(step) * G::KB) * b_row_words + (n0 / 64) * G::W64 + b_cc * 4;
    }
  };

  // ---- global -> shared, one pipeline stage: weights (with scales, zeros) ----
  auto load_weights = [&](int step, int slot) {
    const int k0 = step * KT;
    if constexpr (DECODE) {
      const int32_t *src[B_ITERS];
      bool ok[B_ITERS];
#pragma unroll
      for (int i = 0; i < B_ITERS; ++i) ok[i] = step < b_lim[i], src[i] = ok[i] ? b_next + i * b_stride : B;
      // scales and zero points are addressed per stage: pointers kept from
      // the segment's start spilled at the register cap (awq4)
      [[maybe_unused]] StageChunk<T> sc = {};
      [[maybe_unused]] StageChunk<int32_t> zc = {};
      if constexpr (!ROTATE_SCALE_COPIES) {
        sc = scale_chunk<T, NT>(p, k0, n0, gshift, num_groups, tid);
        if constexpr (S::has_zero) zc = zero_chunk<NT>(p, k0, n0, gshift, num_groups, tid);
      }
      uint8_t *const dB = sB + slot * G::B_STAGE + tid * 16;
#pragma unroll
      for (int i = 0; i < B_ITERS; ++i) ptx::cp_async16(dB + i * THREADS * 16, src[i], ok[i]);
      if constexpr (!ROTATE_SCALE_COPIES) {
        ptx::cp_async16_if(reinterpret_cast<T *>(sS + slot * G::S_STAGE) + sc.dst, sc.src, tid < srows * (NT / 8),
                           sc.ok);
        if constexpr (S::has_zero)
          ptx::cp_async16_if(reinterpret_cast<int32_t *>(sZ + slot * G::Z_STAGE) + zc.dst, zc.src,
                             tid < srows * (NT / 32), zc.ok);
      } else {
        // warp-uniform branches: the scale chunks from warps step % WARPS
        // .. + scale_warps - 1, the zero-point chunks (one warp's worth) from
        // the warp half a turn away, so no warp's stage carries both; 32-bit
        // element offsets (the tensors hold far fewer than 2^32 elements):
        // one wide multiply-add per pointer. H100, twenty-third session, with
        // the column kernel's AWQ copy change: awq4 M = 12 / 16 2.35 / 2.33
        // -> 2.41 / 2.38
        const int turn = (warp - step) & (G::WARPS - 1);
        const int g0 = k0 >> gshift;
        if (turn < scale_warps) {
          const int c = turn * 32 + lane;  // the thread's chunk
          const int g = g0 + c / (NT / 8), col = n0 + (c % (NT / 8)) * 8;
          const bool ok = g < num_groups && col < p.n_pad;
          const T *const src = static_cast<const T *>(p.scales) + (ok ? uint32_t(g) * uint32_t(p.n_pad) + col : 0u);
          ptx::cp_async16_if(reinterpret_cast<T *>(sS + slot * G::S_STAGE) + (c / (NT / 8)) * NT + (c % (NT / 8)) * 8,
                             src, c < srows * (NT / 8), ok);
        }
        static_assert(G::KB * NT / 32 <= 32 && G::KB * NT / 8 <= 32 * (G::WARPS / 2),
                      "a stage's zero-point chunks fit one warp, its scale chunks half the warps");
        if (turn == G::WARPS / 2) {
          const int g = g0 + lane / (NT / 32), word = n0 / 8 + (lane % (NT / 32)) * 4;
          const bool ok = g < num_groups && word < p.n_pad / 8;
          const int32_t *const src =
              static_cast<const int32_t *>(p.zeros) + (ok ? uint32_t(g) * uint32_t(p.n_pad / 8) + word : 0u);
          ptx::cp_async16_if(reinterpret_cast<int32_t *>(sZ + slot * G::Z_STAGE) + (lane / (NT / 32)) * (NT / 8) +
                                 (lane % (NT / 32)) * 4,
                             src, lane < srows * (NT / 32), ok);
        }
      }
      b_next += G::KB * b_row_words;
    } else {
      copy_stage_weights<S::bits, G::KB, NT, THREADS>(p, sB + slot * G::B_STAGE, k0, n0);
      // ROW_GROUPS reads its scales per row from global memory (fetch_row_groups)
      if constexpr (!ROW_GROUPS)
        copy_stage_scales<T, S::has_zero, NT>(p, reinterpret_cast<T *>(sS + slot * G::S_STAGE),
                                              reinterpret_cast<int32_t *>(sZ + slot * G::Z_STAGE), k0, n0, gshift,
                                              num_groups, srows);
    }
  };

  // ---- global -> shared, one pipeline stage: activations ----
  auto load_act = [&](int step, int slot) {
    if constexpr (DECODE) {
      T *const dA = reinterpret_cast<T *>(sA + slot * G::A_STAGE) + a_dst;
#pragma unroll
      for (int i = 0; i < A_ITERS; ++i) {
        const bool ok = step < a_lim[i];
        ptx::cp_async16(dA + i * THREADS * 8, ok ? a_next + i * (THREADS / A_ROW_CHUNKS) * p.lda : A, ok);
      }
      a_next += KT;
    } else {
      const int k0 = step * KT;
      T *const dA = reinterpret_cast<T *>(sA + slot * G::A_STAGE);
#pragma unroll
      for (int i = 0; i < A_ITERS; ++i) {
        const int c = tid + i * THREADS;
        const int row = c / A_ROW_CHUNKS, ch = c % A_ROW_CHUNKS;
        const int gr = m0 + row, gk = k0 + ch * 8;
        const bool ok = gr < p.m && gk < p.k;
        ptx::cp_async16(dA + row * KT + ((ch ^ (row & 7)) * 8), ok ? A + gr * p.lda + gk : A, ok);
      }
    }
  };

  float acc[MB][8][4];

  // ---- shared -> registers: one k16 block's fragments for this warp ----
  struct Frag {
    uint32_t a[MB][4];               // A, one m16k16 block per 16 rows
    uint4 b[S::bits == 4 ? 1 : 2];   // packed weights, 64 columns
    uint4 s;                         // scales of columns c + 8t, t = 0..7
    int2 g01, g89;                   // ROW_GROUPS: groups of rows (r0, r0+1), (r0+8, r0+9)
    uint32_t z;                      // zero points (AWQ)
  };
  // ROW_GROUPS: the fetch one block ahead reads the groups of the lane's 4
  // rows; compute() then reads their scale vectors (L1/L2) itself. Measured
  // alternatives, all slower at M = 1 on the standard shapes (a 4-way shard:
  // 1.20 / 1.27 / 1.24 against 1.42x cuBLAS): the 4 vectors read a block
  // ahead (16 more live registers: spills), the 4 read without skipping
  // equal groups, and a warp-uniform one-vector path for blocks inside one
  // group. The stage-unrolled decode main loop gains nothing here (1.43).
  auto fetch_row_groups = [&](Frag &f, int step, int kb) {
    const int r0 = step * KT + kb * 16 + 2 * (lane & 3);  // sorted row
    // rows past k (the last k16 block, the last step) multiply zero
    // activations: any group's scale will do, so clamp to the last row pair
    f.g01 = __ldg(reinterpret_cast<const int2 *>(p.g_idx + min(r0, p.k - 2)));
    f.g89 = __ldg(reinterpret_cast<const int2 *>(p.g_idx + min(r0 + 8, p.k - 2)));
  };
  // This lane's scale columns c + 8t in packed scale rows, set per tile;
  // n0 + wn*64 may lie past Np in a ragged last tile (its weights are zero):
  // it reads column 0 there.
  int row_scale_col = 0;
  auto row_scales = [&](const Frag &f, uint4 (&v)[4]) {
    auto row = [&](int g) { return __ldg(reinterpret_cast<const uint4 *>(scales + g * int64_t(p.n_pad) + row_scale_col)); };
    // g_idx is sorted: equal neighbours share one load (the common case)
    v[0] = row(f.g01.x);
    v[1] = f.g01.y == f.g01.x ? v[0] : row(f.g01.y);
    v[2] = f.g89.x == f.g01.y ? v[1] : row(f.g89.x);
    v[3] = f.g89.y == f.g89.x ? v[2] : row(f.g89.y);
  };
  auto fetch = [&](Frag &f, int slot, int i, int step) {
    const int kb = wk * G::KB_WARP + i;
    const T *const tA = reinterpret_cast<const T *>(sA + slot * G::A_STAGE);
    const uint8_t *const tB = sB + slot * G::B_STAGE;
    const T *const tS = reinterpret_cast<const T *>(sS + slot * G::S_STAGE);
#pragma unroll
    for (int mb = 0; mb < MB; ++mb) {
      const int row = mb * 16 + (lane & 15), ch = kb * 2 + (lane >> 4);
      ptx::ldmatrix_x4(f.a[mb], tA + row * KT + ((ch ^ (row & 7)) * 8));
    }
    const int srow = stage_scale_row<G::LOG2_KT>(gshift, kb);
    if constexpr (ROW_GROUPS)
      fetch_row_groups(f, step, kb);
    else
      f.s = *reinterpret_cast<const uint4 *>(tS + srow * NT + wn * 64 + (lane >> 2) * 8);
    if constexpr (S::bits == 4) {
      f.b[0] = *reinterpret_cast<const uint4 *>(tB + (kb * G::B_ROW_CHUNKS + wn * 32 + lane) * 16);
    } else {
      const uint4 *const bp =
          reinterpret_cast<const uint4 *>(tB + (kb * G::B_ROW_CHUNKS + wn * 64 + 2 * lane) * 16);
      f.b[0] = bp[0];
      f.b[1] = bp[1];
    }
    if constexpr (S::has_zero) {
      const int32_t *const tZ = reinterpret_cast<const int32_t *>(sZ + slot * G::Z_STAGE);
      if (!(i & 1)) f.z = tZ[srow * (NT / 8) + wn * 8 + (lane >> 2)];  // the pair's second block: pair_zeros
    }
  };

  // ---- registers: dequantize one k16 block and run its tensor-core work ----
  // ROW_GROUPS: the scale pair of rows (x, y) for column c + 8t from their
  // scale vectors: halves t of two words, one prmt.
  auto row_pair = [](const uint4 &x, const uint4 &y, int t) -> T2 {
    const uint32_t wx = reinterpret_cast<const uint32_t *>(&x)[t / 2];
    const uint32_t wy = reinterpret_cast<const uint32_t *>(&y)[t / 2];
    return as_vec2<T2>(ptx::prmt(wx, wy, t % 2 ? 0x7632u : 0x5410u));
  };
  // AWQ: a warp's k16 blocks 2j and 2j + 1 (kb = wk KB_WARP + i, KB_WARP
  // even) lie in one group (groups of >= 32 rows, aligned: schemes.def's
  // kernel schemes with zero points have no 16-row groups, test_api.c
  // scheme_info_table), so the pair's second block reuses the first's
  // zero-point offsets (pair_zeros) instead of loading and rebuilding them.
  // (Sharing the scales the same way costs register copies: the next
  // block's fetch overwrites the first block's fragment before the second
  // block's compute.)
  [[maybe_unused]] Zeros4<T> pair_zeros;
  auto compute = [&](const Frag &f, bool pair_second) {
    const T *const s8 = reinterpret_cast<const T *>(&f.s);  // columns c + 8t
    [[maybe_unused]] uint4 rs[4];  // ROW_GROUPS: scales of rows r0, r0+1, r0+8, r0+9
    if constexpr (ROW_GROUPS) row_scales(f, rs);
    if constexpr (S::bits == 4) {
      const uint32_t words[4] = {f.b[0].x, f.b[0].y, f.b[0].z, f.b[0].w};
      if constexpr (S::has_zero)
        if (!pair_second) pair_zeros = zeros4(f.z, static_cast<T *>(nullptr));
      [[maybe_unused]] const Zeros4<T> &zeros = pair_zeros;
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        Offset4<T> za, zb;
        word_offsets<S::has_zero>(zeros, offset4(T(float(S::bias))), j, za, zb);
        T2 v[4];
        dequant4(words[j], za, zb, v);
        if constexpr (ROW_GROUPS) {  // v[0], v[2]: rows (r0, r0+1); v[1], v[3]: (r0+8, r0+9)
          v[0] = __hmul2(v[0], row_pair(rs[0], rs[1], 2 * j));
          v[1] = __hmul2(v[1], row_pair(rs[2], rs[3], 2 * j));
          v[2] = __hmul2(v[2], row_pair(rs[0], rs[1], 2 * j + 1));
          v[3] = __hmul2(v[3], row_pair(rs[2], rs[3], 2 * j + 1));
        } else {
          const T2 sa = broadcast2(s8[2 * j]), sb = broadcast2(s8[2 * j + 1]);
          v[0] = __hmul2(v[0], sa);
          v[1] = __hmul2(v[1], sa);
          v[2] = __hmul2(v[2], sb);
          v[3] = __hmul2(v[3], sb);
        }
#pragma unroll
        for (int mb = 0; mb < MB; ++mb) {
          ptx::mma_16816<T>(acc[mb][2 * j], f.a[mb], as_u32(v[0]), as_u32(v[1]));
          ptx::mma_16816<T>(acc[mb][2 * j + 1], f.a[mb], as_u32(v[2]), as_u32(v[3]));
        }
      }
    } else {
      const uint32_t words[8] = {f.b[0].x, f.b[0].y, f.b[0].z, f.b[0].w,
                                 f.b[1].x, f.b[1].y, f.b[1].z, f.b[1].w};
#pragma unroll
      for (int t = 0; t < 8; ++t) {  // t = 2j + h: n8 tile t, column c + 8t
        T2 v[2];
        dequant8(words[t], v);
        if constexpr (ROW_GROUPS) {  // v[0]: rows (r0, r0+1); v[1]: (r0+8, r0+9)
          v[0] = __hmul2(v[0], row_pair(rs[0], rs[1], t));
          v[1] = __hmul2(v[1], row_pair(rs[2], rs[3], t));
        } else {
          const T2 sc = broadcast2(s8[t]);
          v[0] = __hmul2(v[0], sc);
          v[1] = __hmul2(v[1], sc);
        }
#pragma unroll
        for (int mb = 0; mb < MB; ++mb)
          ptx::mma_16816<T>(acc[mb][t], f.a[mb], as_u32(v[0]), as_u32(v[1]));
      }
    }
  };

  // Accumulator element (mb, nt, e): row mb*16 + lane/4 + 8*(e/2),
  // column wn*64 + nt*8 + 2*(lane%4) + e%2, relative to the tile.
  const int row_in_tile = lane >> 2, col_in_tile = wn * 64 + 2 * (lane & 3);

  // Calls f(row, column, v0, v1) for each pair of adjacent accumulator values
  // of this thread, (row, column) relative to the tile.
  auto for_each_pair = [&](auto &&f) {
#pragma unroll
    for (int mb = 0; mb < MB; ++mb)
#pragma unroll
      for (int nt = 0; nt < 8; ++nt)
#pragma unroll
        for (int h = 0; h < 2; ++h)
          f(mb * 16 + row_in_tile + 8 * h, col_in_tile + nt * 8, acc[mb][nt][2 * h], acc[mb][nt][2 * h + 1]);
  };

  auto store_c = [&]() {
    T *const C = static_cast<T *>(p.c);
    const T *const bias = static_cast<const T *>(p.bias);
    for_each_pair([&](int r, int c, float v0, float v1) {
      r += m0, c += n0;
      if (r < p.m && c < p.n) {
        if (bias) {
          const T2 b = *reinterpret_cast<const T2 *>(bias + c);
          v0 += float(b.x);
          v1 += float(b.y);
        }
        *reinterpret_cast<T2 *>(C + r * p.ldc + c) = to_vec2(v0, v1, static_cast<T *>(nullptr));
      }
    });
  };

  static_assert(G::KB_WARP >= 2 && G::KB_WARP % 2 == 0, "fragment double buffering needs an even count >= 2");
  bool first_segment = true;
  for (int u = u_begin; u < u_end;) {
    const Segment sg = stripes.next_segment<G::TM, NT>(u, u_end, p.plan.m_tiles);
    const int t = sg.t, step_begin = sg.step_begin, step_end = sg.step_end;
    m0 = sg.m0;
    n0 = sg.n0;
    start_segment_loads(step_begin);
    if constexpr (ROW_GROUPS) row_scale_col = n0 + wn * 64 < p.n_pad ? n0 + wn * 64 + (lane >> 2) * 8 : 0;

#pragma unroll
    for (int mb = 0; mb < MB; ++mb)
#pragma unroll
      for (int nt = 0; nt < 8; ++nt)
#pragma unroll
        for (int e = 0; e < 4; ++e) acc[mb][nt][e] = 0.f;

    // ---- pipeline fill: weights first, then (once the previous kernels are
    // done) the activations; one commit group per stage ----
#pragma unroll
    for (int s = 0; s < STAGES - 1; ++s)
      if (step_begin + s < step_end) load_weights(step_begin + s, s);
    if (first_segment) ptx::wait_prior_grids();
    first_segment = false;
#pragma unroll
    for (int s = 0; s < STAGES - 1; ++s) {
      if (step_begin + s < step_end) load_act(step_begin + s, s);
      ptx::cp_async_commit();
    }
    ptx::cp_async_wait<STAGES - 2>();
    __syncthreads();

    // ---- the main loop: k16 blocks, fragments fetched one block ahead; the
    // barrier before a stage's last block makes the next stage readable and
    // its predecessor's slot writable ----
    Frag frag[2];
    fetch(frag[0], 0, 0, step_begin);
    int slot_rt = 0;  // the slot when stages are not unrolled
    for (int step0 = step_begin; step0 < step_end; step0 += STEPS_UNROLLED) {
#pragma unroll
      for (int s = 0; s < STEPS_UNROLLED; ++s) {
        const int step = step0 + s;
        if (step >= step_end) break;
        const int slot = STEPS_UNROLLED == STAGES ? s : slot_rt;
#pragma unroll
        for (int i = 0; i < G::KB_WARP; ++i) {
          if (i == G::KB_WARP - 2) {
            const int next = step + STAGES - 1;
            if (next < step_end) {
              load_weights(next, (slot + STAGES - 1) % STAGES);
              load_act(next, (slot + STAGES - 1) % STAGES);
            }
            ptx::cp_async_commit();
          }
          if (i + 1 < G::KB_WARP) {
            fetch(frag[(i + 1) & 1], slot, i + 1, step);
          } else if (step + 1 < step_end) {
            fetch(frag[(i + 1) & 1], (slot + 1) % STAGES, 0, step + 1);
          }
          if (i == G::KB_WARP - 2) {
            ptx::cp_async_wait<STAGES - 2>();
            __syncthreads();
          }
          compute(frag[i & 1], (i & 1) != 0);
        }
        if constexpr (STEPS_UNROLLED != STAGES) slot_rt = (slot_rt + 1) % STAGES;
      }
    }
    ptx::cp_async_wait<0>();
    __syncthreads();

    // ---- warps that split K: sum into the wk == 0 warps (fixed order) ----
    if constexpr (G::WARPS_K > 1) {
      float4 *const red = reinterpret_cast<float4 *>(smem);
      if (wk > 0) {
        float4 *dst = red + (((wk - 1) * G::WARPS_N + wn) * MB * 8) * 32 + lane;
#pragma unroll
        for (int mb = 0; mb < MB; ++mb)
#pragma unroll
          for (int nt = 0; nt < 8; ++nt)
            dst[(mb * 8 + nt) * 32] = make_float4(acc[mb][nt][0], acc[mb][nt][1], acc[mb][nt][2], acc[mb][nt][3]);
      }
      __syncthreads();
      if (wk == 0) {
#pragma unroll 1
        for (int w = 1; w < G::WARPS_K; ++w) {
          const float4 *src = red + (((w - 1) * G::WARPS_N + wn) * MB * 8) * 32 + lane;
#pragma unroll
          for (int mb = 0; mb < MB; ++mb)
#pragma unroll
            for (int nt = 0; nt < 8; ++nt) {
              const float4 v = src[(mb * 8 + nt) * 32];
              acc[mb][nt][0] += v.x;
              acc[mb][nt][1] += v.y;
              acc[mb][nt][2] += v.z;
              acc[mb][nt][3] += v.w;
            }
        }
      }
    }

    if (step_begin == 0 && step_end == ksteps) {  // a whole tile: write C
      if (wk == 0) store_c();
      __syncthreads();  // the next segment's loads overwrite the reduction buffer
      continue;
    }

    // ---- a part of a tile launched as a cluster of the tile's parts: they
    // sum in distributed shared memory (stripes.cuh cluster_sum) ----
    if constexpr (kClusterFixup<TAG, ROW_GROUPS>) {
      static_assert(G::TM * NT * 4 <= STAGES * (G::A_STAGE + G::B_STAGE + G::S_STAGE),
                    "the tile's fp32 partial must fit in the pipeline's shared memory");
      if (p.plan.cluster > 1) {
        if constexpr (G::WARPS_K > 1) __syncthreads();  // the reduction buffer is read
        float *const mine = reinterpret_cast<float *>(smem);
        if (wk == 0)
          for_each_pair([&](int r, int c, float v0, float v1) {
            if (m0 + r < p.m) *reinterpret_cast<float2 *>(mine + r * NT + c) = make_float2(v0, v1);
          });
        cluster_sum<T, G::TM, NT, THREADS>(p, mine, m0, n0, tid);
        continue;
      }
    }

    // ---- a part of a tile: fp32 partial; the tile's last segment sums them ----
    if (wk == 0) {
      float *const mine = partial_slot<G::TM, NT>(p, stripes, t);
      for_each_pair([&](int r, int c, float v0, float v1) {
        if (m0 + r < p.m) __stcg(reinterpret_cast<float2 *>(mine + r * NT + c), make_float2(v0, v1));
      });
    }
    // partial loads in flight per thread (items x parts) within the tile's
    // register budget: 16 rows at a 128-register cap, 64 rows at 255 (no spills)
    constexpr int FIX_VB = MB == 2 ? 4 : MB == 4 ? 2 : 1, FIX_JB = MB == 1 ? 8 : 4;
    finish_part<T, G::TM, NT, THREADS, 0, FIX_VB, FIX_JB>(p, stripes, fixup, t, m0, n0, threadIdx.x);
  }
}

// ---- launch ----------------------------------------------------------------------

// Whether `ctas` CTAs of KERNEL, launched by lc as clusters of `size` (2..8),
// run in one wave (cudaSuccess) or not (cudaErrorNotSupported): a cluster
// takes its CTAs from one GPC, so fewer of them fit than SMs x CTAs per SM
// (H100, the 2-per-SM decode tile: 62 clusters of 4, 248 CTAs, and 30 of 8,
// 240 CTAs, not 264), and a split plan's grid is sized to the SMs' one wave
// (select.c). The occupancy query runs once per kernel, device and size.
// MARLIN_CLUSTER_FIXUP=0 in the environment: never (A/B measurements, and
// the GPU test that compares both fix-ups bit for bit).
template <auto KERNEL>
cudaError_t cluster_fits(const cudaLaunchConfig_t &lc, int dev, int size, int ctas) {
  const char *const env = getenv("MARLIN_CLUSTER_FIXUP");
  if (env && env[0] == '0') return cudaErrorNotSupported;
  static std::atomic<int> known[64][8];  // max active clusters + 1; 0: not asked yet
  int n = dev < 64 ? known[dev][size - 1].load(std::memory_order_relaxed) - 1 : -1;
  if (n < 0) {
    cudaLaunchConfig_t query = lc;  // the cluster attribute alone
    query.attrs = &lc.attrs[lc.numAttrs - 1];
    query.numAttrs = 1;
    const cudaError_t err = cudaOccupancyMaxActiveClusters(&n, KERNEL, &query);
    if (err != cudaSuccess) return err;
    if (dev < 64) known[dev][size - 1].store(n + 1, std::memory_order_relaxed);
  }
  return n * size >= ctas ? cudaSuccess : cudaErrorNotSupported;
}

// How a kernel uses plan.cluster > 1: never (WGMMA), as an option whose
// fallback is the workspace fix-up (MMA split plans), or always (COLUMN: its
// K parts sum only through distributed shared memory).
enum class ClusterUse { kNever, kIfOneWave, kAlways };

// Enqueues KERNEL on the persistent grid of p->plan with `smem` bytes of
// dynamic shared memory; a plan whose parts may sum in a cluster (plan.h) is
// launched as clusters when they all fit in one wave (cluster_fits), else
// with the workspace fix-up; a COLUMN plan with a cluster, always as clusters.
template <auto KERNEL, int THREADS, int TAG, ClusterUse CLUSTERS>
int launch_kernel(int smem, const marlin_dense_params *p) {
  // The dynamic shared-memory limit is per function and device: raise it once.
  static std::atomic<uint64_t> raised{0};
  int dev = 0;
  cudaError_t err = cudaGetDevice(&dev);
  if (err != cudaSuccess) return err;
  const uint64_t bit = dev < 64 ? (uint64_t(1) << dev) : 0;
  if (!bit || !(raised.load(std::memory_order_relaxed) & bit)) {
    err = cudaFuncSetAttribute(KERNEL, cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
    if (err != cudaSuccess) return err;
    raised.fetch_or(bit, std::memory_order_relaxed);
  }
  cudaLaunchConfig_t lc = {};
  lc.gridDim = dim3(p->plan.ctas);
  lc.blockDim = dim3(THREADS);
  lc.dynamicSmemBytes = smem;
  lc.stream = p->stream;
  cudaLaunchAttribute attr[2];
  lc.attrs = attr;
  if (p->programmatic && TAG >= 900) {  // griddepcontrol is sm90+
    attr[lc.numAttrs].id = cudaLaunchAttributeProgrammaticStreamSerialization;
    attr[lc.numAttrs++].val.programmaticStreamSerializationAllowed = 1;
  }
  if (p->plan.cluster > 1) {
    if constexpr (CLUSTERS != ClusterUse::kNever) {
      if constexpr (CLUSTERS == ClusterUse::kAlways && TAG < 900) return cudaErrorInvalidValue;  // sm80: no clusters
      attr[lc.numAttrs].id = cudaLaunchAttributeClusterDimension;
      attr[lc.numAttrs].val.clusterDim.x = p->plan.cluster;
      attr[lc.numAttrs].val.clusterDim.y = attr[lc.numAttrs].val.clusterDim.z = 1;
      ++lc.numAttrs;
      if constexpr (CLUSTERS == ClusterUse::kAlways) return cudaLaunchKernelEx(&lc, KERNEL, *p);
      err = cluster_fits<KERNEL>(lc, dev, p->plan.cluster, p->plan.ctas);
      if (err == cudaSuccess) return cudaLaunchKernelEx(&lc, KERNEL, *p);
      if (err != cudaErrorNotSupported) return err;
      --lc.numAttrs;
    }
    marlin_dense_params q = *p;
    q.plan.cluster = 1;  // the workspace fix-up
    return cudaLaunchKernelEx(&lc, KERNEL, q);
  }
  return cudaLaunchKernelEx(&lc, KERNEL, *p);
}

// One row of configs.def. WGMMA rows exist only in sm_90a builds (TAG 901)
// and not for per-row groups, and a row only for the weights it serves
// (configs.def `weights`); the selector never picks them elsewhere.
template <int KIND, int WEIGHTS, class S, class T, int TAG, bool ROW_GROUPS, int MB, int NT, int KT, int THREADS,
          int STAGES, int CTAS_PER_SM>
int launch_tile(const marlin_dense_params *p) {
  const marlin_tile_config cfg = {KIND, MB, NT, KT, THREADS, STAGES, CTAS_PER_SM, 0, WEIGHTS};  // step_ns: selector only
  const int smem = marlin_dense_smem_bytes(cfg, S::bits);
  if constexpr (!MARLIN_TILE_SERVES(WEIGHTS, S::bits, S::has_zero)) {
    (void)smem;
    return cudaErrorInvalidValue;
  } else if constexpr (KIND == MARLIN_TILE_MMA) {
    return launch_kernel<dense_kernel<S, T, TAG, ROW_GROUPS, MB, NT, KT, THREADS, STAGES, CTAS_PER_SM>, THREADS,
                         TAG, kClusterFixup<TAG, ROW_GROUPS> ? ClusterUse::kIfOneWave : ClusterUse::kNever>(smem, p);
  } else if constexpr (KIND == MARLIN_TILE_COLUMN) {
    if constexpr (ROW_GROUPS) {
      return cudaErrorInvalidValue;  // the selector never picks it for per-row groups
    } else {
      static_assert((MB == 1 || MB == 2) && NT == 64 && KT == 16,
                    "configs.def: a COLUMN row is m_blocks 1 or 2 (8 or 16 tokens), 64 columns, k16");
      return launch_kernel<column_kernel<S, T, TAG, MARLIN_COLUMN_TOKENS(MB), THREADS, STAGES, CTAS_PER_SM>, THREADS, TAG,
                           ClusterUse::kAlways>(smem, p);
    }
  } else if constexpr (TAG == 901 && !ROW_GROUPS) {
    static_assert(THREADS % 128 == 0 && THREADS >= 256, "configs.def: WGMMA threads are a producer warpgroup + consumer warpgroups");
    constexpr int ST = MARLIN_TILE_STAGES(KIND, STAGES, S::bits);
    return launch_kernel<wgmma_kernel<S, T, TAG, 16 * MB, NT, KT, ST, THREADS / 128 - 1, CTAS_PER_SM>, THREADS, TAG, ClusterUse::kNever>(smem, p);
  } else {
    return cudaErrorInvalidValue;
  }
}

template <class S, class T, int TAG, bool ROW_GROUPS>
int launch_config(const marlin_dense_params *p) {
  switch (p->plan.config) {
#define MARLIN_TILE(id, kind, mb, nt, kt, th, st, cps, ns, w)                                                  \
  case id:                                                                                                    \
    return launch_tile<MARLIN_TILE_##kind, MARLIN_TILE_WEIGHTS_##w, S, T, TAG, ROW_GROUPS, mb, nt, kt, th, st, \
                       cps>(p);
#include "marlin/kernel/configs.def"
#undef MARLIN_TILE
    default:
      return cudaErrorInvalidValue;
  }
}

// Every tile config; for the act-order schemes each twice, with one scale
// row per group and with per-row groups (a K shard).
template <class S, class T, int TAG>
int launch_dense(const marlin_dense_params *p) {
  if constexpr (S::act_order) {
    if (p->per_row_groups) return launch_config<S, T, TAG, true>(p);
  } else if (p->per_row_groups) {
    return cudaErrorInvalidValue;  // marlin_gemm refuses act-order for these schemes
  }
  return launch_config<S, T, TAG, false>(p);
}

}  // namespace marlin

// One generated translation unit = one of these: every tile config of one
// (scheme, activation dtype, arch), behind a C launcher named for all three.
#define MARLIN_DENSE_INSTANCE(SCHEME, ACT, TAG, NAME)                                          \
  extern "C" int NAME(const marlin_dense_params *p) {                                          \
    return marlin::launch_dense<marlin::Scheme<MARLIN_SCHEME_##SCHEME>,                        \
                                typename marlin::Act<MARLIN_DTYPE_##ACT>::type, TAG>(p);       \
  }
