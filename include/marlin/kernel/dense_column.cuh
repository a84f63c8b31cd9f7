// The column kernel of the dense GEMM (mma.sync, sm80+), for small M:
//   C[m,n] = A[m,k] * dequant(W)[k,n] (+ bias[n])
// with the problem, packed weights and scales of dense.cuh (docs/layout.md).
//
// One CTA owns one 64-column strip of C for TOK rows of A (tokens: 8, or
// 16 for the configs.def rows of m_blocks 2), over the whole of K, or (sm90,
// plan.cluster = KC > 1) a cluster of KC CTAs owns it, each CTA one
// contiguous KC-th of K. The warps of a CTA split its K into contiguous
// ranges of k16 rows and sum their fp32 accumulators in shared memory at the
// end, in warp order; a cluster's CTAs then sum their CTA sums in rank order
// through distributed shared memory, each writing a share of the block. So
// nothing goes through the workspace: no partials, no counter, no fix-up
// chain, and the result is deterministic. The grid is (n / 64) x (m / TOK)
// x KC CTAs, the KC of a block consecutive (one cluster).
//
// The products are transposed, C^T = W^T A^T: the dequantized weights are
// the A operand of mma.m16n8k16 (16 columns of C) and each 8 tokens its B
// operand, so a k16 row of 64 columns takes 4 mma per 8 tokens: at M <= 8
// half the 8 that the other kernels' 16-token tiles need (those mostly
// multiply zero rows). The packed
// weights need no other layout: a lane's B fragments of two adjacent n8
// tiles (columns g and g + 8 of a 16-column group) are, reordered, its A
// fragment of that group.
//
// Each warp streams its own K range through a private ring of STAGES slots
// of one k16 row each (cp.async): its lanes' 16-byte weight fragments (the
// packed layout is the mma.m16n8k16 B fragment of each lane), the TOK x 16
// block of A, and the scale vector (and AWQ zero-point word) of the row's
// group for the 8 column groups. A lane reads its own weight fragment back,
// so the ring needs no CTA barrier: a __syncwarp before a slot is refilled
// (the A block and scales are read by every lane). The dequantization is
// that of dense.cuh's compute (dequant4 / dequant8), then one mma.m16n8k16
// per 4-bit weight word (one per pair of 8-bit words) and 8 tokens into fp32
// sums of the scale group, which are scaled (fp32) and added up once per
// group.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>

#include "marlin/kernel/dequant.cuh"
#include "marlin/kernel/plan.h"
#include "marlin/kernel/ptx.cuh"
#include "marlin/kernel/scheme.cuh"
#include "marlin/kernel/stripes.cuh"

namespace marlin {

// One warp's pipeline slot: one k16 row of its 64 columns.
template <int BITS, int TOK>
struct ColumnSlot {
  uint4 w[32 * (BITS / 4)];  // lane l's weight fragment(s) at [l * BITS / 4]
  uint4 a[2 * TOK];          // A's TOK x 16 block: row r, half h at chunk 2r + (h ^ (r / 4 % 2))
  uint4 s[8];                // scales of columns c + 8t (t = 0..7) at [c]
  uint32_t z[8];             // AWQ zero points of the same columns at [c]
};
// marlin_dense_smem_bytes() (plan.h) sizes the ring with MARLIN_COLUMN_SLOT_BYTES.
static_assert(sizeof(ColumnSlot<4, 8>) == MARLIN_COLUMN_SLOT_BYTES(4, 8), "plan.h: slot layout");
static_assert(sizeof(ColumnSlot<8, 8>) == MARLIN_COLUMN_SLOT_BYTES(8, 8), "plan.h: slot layout");
static_assert(sizeof(ColumnSlot<4, 16>) == MARLIN_COLUMN_SLOT_BYTES(4, 16), "plan.h: slot layout");
static_assert(sizeof(ColumnSlot<8, 16>) == MARLIN_COLUMN_SLOT_BYTES(8, 16), "plan.h: slot layout");
// The reduction buffer: [warp][TOK rows][COLUMN_RED_LD floats] (plan.h).
constexpr int COLUMN_RED_LD = MARLIN_COLUMN_RED_LD;

template <class S, class T, int TAG, int TOK, int THREADS, int STAGES, int CTAS_PER_SM>
__global__ void __launch_bounds__(THREADS, CTAS_PER_SM) column_kernel(const marlin_dense_params p) {
  static_assert(TAG >= 800, "the mma.sync kernels need sm80+");
  static_assert(STAGES >= 2, "a ring of at least two slots");
  static_assert(TOK == 8 || TOK == 16, "plan.h MARLIN_COLUMN_TOKENS: 8 or 16 tokens");
  constexpr int WARPS = THREADS / 32, WV = S::bits / 4, W64 = kPackedWords64<S::bits>;
  constexpr int TT = TOK / 8;  // n8 token tiles
  using T2 = typename Vec2<T>::type;
  using Slot = ColumnSlot<S::bits, TOK>;

  extern __shared__ __align__(16) uint8_t smem[];
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;

  // Programmatic dependent launch: only the weights and scales are read
  // before wait_prior_grids().
  ptx::launch_dependents();

  const int kc = p.plan.cluster, rank = blockIdx.x % kc, block = blockIdx.x / kc;
  const int nb = block % p.plan.n_tiles;          // 64-column strip
  const int m0 = (block / p.plan.n_tiles) * TOK;  // first row
  const int kb = p.k_pad / 16;                    // k16 rows
  const int cta_per = (kb + kc - 1) / kc, cta_kt0 = min(kb, rank * cta_per), cta_kt1 = min(kb, cta_kt0 + cta_per);
  const int per = (cta_kt1 - cta_kt0 + WARPS - 1) / WARPS;
  const int kt0 = min(cta_kt1, cta_kt0 + warp * per), kt1 = min(cta_kt1, kt0 + per);  // this warp's k16 rows

  const int gshift = 31 - __clz(p.group_size);  // a power of 2 (1 << 30: channelwise)
  const int64_t b_row_words = packed_row_words<S::bits>(p);
  const int32_t *const B = static_cast<const int32_t *>(p.b);
  const T *const A = static_cast<const T *>(p.a);

  // Copy sources per lane: its weight fragment; lanes 0 .. 2 TOK - 1: row
  // lane / 2, half lane % 2 of the A block (rows past m: zeros); lanes 0..7
  // the scale vector of column group `lane`, lanes 8..15 (AWQ) the
  // zero-point word of column group `lane - 8`.
  const int32_t *b_src = B + int64_t(kt0) * b_row_words + nb * W64 + lane * 4 * WV;
  const int a_row = (lane >> 1) % TOK, a_half = lane & 1;
  const bool a_row_ok = m0 + a_row < p.m;
  const T *a_src = A + (a_row_ok ? int64_t(m0 + a_row) * p.lda : 0) + kt0 * 16 + a_half * 8;
  uint32_t a_k_lim = a_row_ok ? p.k - a_half * 8 : 0;  // A chunk of row kt is read when 16 kt < a_k_lim
  uint32_t copies_a = lane < 2 * TOK, copies_s = lane < 8, copies_z = S::has_zero && lane >= 8 && lane < 16;
  ptx::opaque(a_k_lim), ptx::opaque(copies_a), ptx::opaque(copies_s), ptx::opaque(copies_z);
  const T *s_src = static_cast<const T *>(p.scales) + nb * 64 + 8 * (lane & 7);
  ptx::opaque(s_src);  // kept in a register, not recomputed per row
  // AWQ: the scale vector (lanes 0..7) and the zero word (lanes 8..15) of a
  // row's group g sit at sz_src + g * sz_stride (bytes): one address per
  // row for both copies (an IMAD.WIDE.U32; a scale tensor is far below
  // 4 GB), instead of a 64-bit product and a scaled add for each: ~5 fewer
  // instructions per row (sm_90a, 8-token CTA, fp16 94 -> 89, bf16 107 ->
  // 100; H100, twenty-third session: awq4 M = 1 2.67 -> 2.73, M = 4 2.62 ->
  // 2.70, bf16 M = 1 2.58 -> 2.64). GPTQ keeps s_src (the same change there
  // saved no instruction).
  [[maybe_unused]] const uint8_t *sz_src = nullptr;
  [[maybe_unused]] uint32_t sz_stride = 0;
  if constexpr (S::has_zero) {  // (p.zeros is NULL for the other schemes)
    sz_src = lane < 8 ? reinterpret_cast<const uint8_t *>(s_src)
                      : reinterpret_cast<const uint8_t *>(static_cast<const int32_t *>(p.zeros) + nb * 8 + (lane & 7));
    sz_stride = lane < 8 ? uint32_t(p.n_pad) * sizeof(T) : uint32_t(p.n_pad) / 2;
    ptx::opaque(sz_src), ptx::opaque(sz_stride);
  }

  // Shared-memory addresses in slot 0 of this warp's ring (slot s: + s *
  // sizeof(Slot)), kept in registers (opaque: not recomputed per row).
  // Stores: the weight fragment, the A chunk, the scale vector / zero word;
  // loads: the same weight fragment, the ldmatrix row (lane L gives row
  // L % 8 + 8 (L / 16), half L / 8 % 2: b0, b1 of the k16n8 fragment of
  // token tile L / 16; .x2 reads lanes 0..15's), the scale vector and zero
  // word of column group lane / 4.
  uint32_t ring = static_cast<uint32_t>(__cvta_generic_to_shared(smem)) + warp * STAGES * sizeof(Slot);
  const int ld_row = (lane & 7) + (TT > 1 ? 8 * (lane >> 4) : 0), ld_half = (lane >> 3) & 1;
  uint32_t w_at = ring + offsetof(Slot, w) + lane * 16 * WV;
  uint32_t a_st = ring + offsetof(Slot, a) + 16 * (2 * a_row + (a_half ^ ((a_row >> 2) & 1)));
  uint32_t a_ld = ring + offsetof(Slot, a) + 16 * (2 * ld_row + (ld_half ^ ((ld_row >> 2) & 1)));
  uint32_t sz_st = ring + (lane < 8 ? offsetof(Slot, s) + 16 * lane : offsetof(Slot, z) + 4 * (lane & 7));
  uint32_t s_ld = ring + offsetof(Slot, s) + 16 * (lane >> 2);
  uint32_t z_ld = ring + offsetof(Slot, z) + 4 * (lane >> 2);
  ptx::opaque(w_at), ptx::opaque(a_st), ptx::opaque(a_ld), ptx::opaque(sz_st), ptx::opaque(s_ld), ptx::opaque(z_ld);

  auto load_weights = [&](int kt, int slot) {
    const uint32_t off = slot * sizeof(Slot);
    const bool ok = kt < kt1;
#pragma unroll
    for (int v = 0; v < WV; ++v) ptx::cp_async16_if(w_at + off + 16 * v, b_src + 4 * v, ok, true);
    b_src += b_row_words;
    if constexpr (S::has_zero) {
      const uint8_t *const sz = sz_src + uint64_t(uint32_t((kt * 16) >> gshift)) * sz_stride;
      ptx::cp_async16_if(sz_st + off, sz, ok && copies_s, true);
      ptx::cp_async4_if(sz_st + off, sz, ok && copies_z);
    } else {
      const int g = (kt * 16) >> gshift;
      ptx::cp_async16_if(sz_st + off, s_src + int64_t(g) * p.n_pad, ok && copies_s, true);
    }
  };
  auto load_act = [&](int kt, int slot) {
    // rows past m and columns past k read as zero
    ptx::cp_async16_if(a_st + slot * sizeof(Slot), a_src, kt < kt1 && copies_a, uint32_t(kt * 16) < a_k_lim);
    a_src += 16;
  };

  // acc[u][j]: columns 16j + g (e = 0, 1) and 16j + 8 + g (e = 2, 3) for
  // tokens 8u + 2t + e % 2 (g = lane / 4, t = lane % 4); grp: the same sums of
  // the current scale group, of the unscaled weights (codes less their
  // offsets: small integers, exact in T), added to acc times the group's
  // scales (fp32) at the group's last row: 16 FFMA per group instead of 16
  // HMUL2 per k16 row
  float acc[TT][4][4], grp[TT][4][4];
#pragma unroll
  for (int u = 0; u < TT; ++u)
#pragma unroll
    for (int nt = 0; nt < 4; ++nt)
#pragma unroll
      for (int e = 0; e < 4; ++e) acc[u][nt][e] = grp[u][nt][e] = 0.f;
  const int gmask = p.group_size - 1;

  const Offset4<T> fixed = offset4(T(float(S::bias)));  // the offsets without zero points
  // AWQ: the zero-point offsets. KEEP_ZEROS (fp16, 8-token CTAs): the
  // current group's, rebuilt at the rows that start a group (and the warp's
  // first row), not at every row. H100, awq4 fp16, against a build per row
  // (twentieth session, alternately): M = 1 2.62 / 2.61 -> 2.66 / 2.66, M = 4
  // 2.59 / 2.59 -> 2.61 / 2.61. With bf16 (M = 1 2.58 -> 2.55) and in the
  // 16-token CTA (4096 x 6144 at M = 16 11.1 -> 11.4 us) it lost: those build
  // them per row.
  constexpr bool KEEP_ZEROS = std::is_same<T, half>::value && TOK == 8;
  [[maybe_unused]] Zeros4<T> zeros;
  auto compute = [&](int slot, int kt) {
    const uint32_t off = slot * sizeof(Slot);
    uint32_t a[2 * TT];  // the tokens: the B operand of token tile u at a[2u], a[2u + 1]
    if constexpr (TT == 1)
      ptx::ldmatrix_x2(reinterpret_cast<uint32_t(&)[2]>(a), a_ld + off);
    else
      ptx::ldmatrix_x4(reinterpret_cast<uint32_t(&)[4]>(a), a_ld + off);
    if constexpr (S::bits == 4) {
      const uint4 b = ptx::lds128(w_at + off);
      const uint32_t words[4] = {b.x, b.y, b.z, b.w};
      if constexpr (S::has_zero)
        if (!KEEP_ZEROS || kt == kt0 || ((kt * 16) & gmask) == 0)
          zeros = zeros4(ptx::lds32(z_ld + off), static_cast<T *>(nullptr));
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        Offset4<T> za, zb;
        word_offsets<S::has_zero>(zeros, fixed, j, za, zb);
        T2 v[4];
        dequant4(words[j], za, zb, v);
        // n8 tiles 2j, 2j + 1 (v[0..1], v[2..3]) as rows g, g + 8 of the A fragment
        const uint32_t w[4] = {as_u32(v[0]), as_u32(v[2]), as_u32(v[1]), as_u32(v[3])};
#pragma unroll
        for (int u = 0; u < TT; ++u) ptx::mma_16816<T>(grp[u][j], w, a[2 * u], a[2 * u + 1]);
      }
    } else {
      const uint4 b0 = ptx::lds128(w_at + off), b1 = ptx::lds128(w_at + off + 16);
      const uint32_t words[8] = {b0.x, b0.y, b0.z, b0.w, b1.x, b1.y, b1.z, b1.w};
#pragma unroll
      for (int j = 0; j < 4; ++j) {  // n8 tiles 2j, 2j + 1: columns c + 16j, c + 16j + 8
        T2 va[2], vb[2];
        dequant8(words[2 * j], va);
        dequant8(words[2 * j + 1], vb);
        const uint32_t w[4] = {as_u32(va[0]), as_u32(vb[0]), as_u32(va[1]), as_u32(vb[1])};
#pragma unroll
        for (int u = 0; u < TT; ++u) ptx::mma_16816<T>(grp[u][j], w, a[2 * u], a[2 * u + 1]);
      }
    }
    if ((((kt + 1) * 16) & gmask) == 0 || kt + 1 == kt1) {  // the group's last row (groups are k16 rows)
      const uint4 sv = ptx::lds128(s_ld + off);
      const T *const s8 = reinterpret_cast<const T *>(&sv);  // columns c + 8t
#pragma unroll
      for (int u = 0; u < TT; ++u)
#pragma unroll
        for (int j = 0; j < 4; ++j)
#pragma unroll
          for (int e = 0; e < 4; ++e) {
            acc[u][j][e] = fmaf(grp[u][j][e], float(s8[2 * j + (e >> 1)]), acc[u][j][e]);
            grp[u][j][e] = 0.f;
          }
    }
  };

  // ---- the ring: STAGES - 1 rows in flight; weights first, then (once the
  // previous kernels are done) the activations; one commit group per row ----
#pragma unroll
  for (int s = 0; s < STAGES - 1; ++s) load_weights(kt0 + s, s);
  ptx::wait_prior_grids();
#pragma unroll
  for (int s = 0; s < STAGES - 1; ++s) {
    load_act(kt0 + s, s);
    ptx::cp_async_commit();
  }
  // unrolled over the ring, so that the slots' addresses are constants
  for (int kt = kt0; kt < kt1; kt += STAGES) {
#pragma unroll
    for (int s = 0; s < STAGES; ++s) {
      if (kt + s < kt1) {
        ptx::cp_async_wait<STAGES - 2>();
        __syncwarp();  // row kt + s has landed for every lane; all are done with the previous slot
        load_weights(kt + s + STAGES - 1, (s + STAGES - 1) % STAGES);
        load_act(kt + s + STAGES - 1, (s + STAGES - 1) % STAGES);
        ptx::cp_async_commit();
        compute(s, kt + s);
      }
    }
  }

  // ---- the warps' sums, in warp order; bias; C ----
  ptx::cp_async_wait<0>();
  __syncthreads();  // the ring becomes the reduction buffer
  float *const red = reinterpret_cast<float *>(smem);
  const int rows = min(TOK, p.m - m0);
  {
    const int g = lane >> 2, t2 = 2 * (lane & 3);
    float *const mine = red + warp * TOK * COLUMN_RED_LD;
#pragma unroll
    for (int u = 0; u < TT; ++u)
#pragma unroll
      for (int j = 0; j < 4; ++j)
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const int r = 8 * u + t2 + (e & 1);
          if (r < rows) mine[r * COLUMN_RED_LD + 16 * j + 8 * (e >> 1) + g] = acc[u][j][e];
        }
  }
  __syncthreads();
  // 4 columns at a time: a float4 of each warp's row (COLUMN_RED_LD * 4
  // bytes is a multiple of 16), summed in warp order from zero
  auto warp_sum4 = [&](int r, int c) {
    float4 v = make_float4(0.f, 0.f, 0.f, 0.f);
#pragma unroll 4
    for (int w = 0; w < WARPS; ++w) {
      const float4 x = *reinterpret_cast<const float4 *>(red + (w * TOK + r) * COLUMN_RED_LD + c);
      v.x += x.x, v.y += x.y, v.z += x.z, v.w += x.w;
    }
    return v;
  };
  if constexpr (TAG >= 900) {
    if (kc > 1) {  // this CTA's sum of the block (row-major, past the warps' buffer); the cluster's sums add
                   // in rank order as a split plan's parts do (stripes.cuh cluster_sum)
      float *const part = red + WARPS * TOK * COLUMN_RED_LD;
      for (int i = tid; i < rows * 16; i += THREADS)
        *reinterpret_cast<float4 *>(part + 4 * i) = warp_sum4(i >> 4, 4 * (i & 15));
      cluster_sum<T, TOK, 64, THREADS>(p, part, m0, nb * 64, tid);
      return;
    }
  }
  for (int i = tid; i < rows * 16; i += THREADS) {
    const int r = i >> 4, c = 4 * (i & 15);
    if (nb * 64 + c < p.n)  // n % 8 == 0: 4 columns are all in or all out
      store_sum4<T>(p, warp_sum4(r, c), m0 + r, nb * 64 + c);
  }
}

}  // namespace marlin
