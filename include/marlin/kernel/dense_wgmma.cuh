// The dense GEMM on Hopper (sm_90a): the problem, packed weights, plan and
// fix-up of the mma.sync family (dense.cuh), with the tensor-core work done by
// warpgroup MMAs. docs/hopper.md has the design; in short, the operand swap:
//   D[64 columns][TM tokens] += dequant(W)ᵀ (registers, wgmma's A)
//                               · Aᵀ (activations in shared memory, wgmma's B)
// so one dequantized weight fragment feeds TM tokens and the token count is
// wgmma's N.
//
//   wgmma_kernel<S, T, TAG, TM, NT, KT, STAGES, WGS, CTAS_PER_SM>
//     a persistent grid over the same stripes of (tile, k-step) units as the
//     mma.sync kernel; tile = TM tokens x NT columns; warp-specialized, one
//     CTA per SM:
//     - warpgroup 0, the producer (64 registers per thread after
//       setmaxnreg), copies each stage: 8-bit weights as one bulk copy per
//       k16 row (the copy engine, counted on the stage's full mbarrier),
//       4-bit weights, scales and zero points by cp.async as in dense.cuh
//       (stage.cuh), activations by cp.async into 128-byte-swizzled K-major
//       rows; each producer thread arrives on the full mbarrier once its
//       cp.async copies have landed (cp.async.wait_group + proxy fence), keeping
//       LAG = STAGES - 2 later stages in flight;
//     - warpgroups 1 .. WGS, the consumers (the registers the producer gave
//       up), each own NT / WGS columns: per stage they wait on the full
//       barrier, dequantize the stage's k16 blocks into registers, issue
//       the wgmmas back to back, wait for them and arrive on the slot's
//       empty barrier; then write C or the fp32 partials (stripes.cuh,
//       named barrier 1 among the consumers).
//
// Why a whole stage per batch: ptxas serializes wgmmas whose register
// operands are written while earlier wgmmas are in flight (C7513), so a
// warpgroup cannot overlap its own dequantization with its MMAs. Two
// consumer warpgroups that wait on mbarriers, not on each other, can: one
// dequantizes while the other's batch runs (docs/hopper.md).
#pragma once

#include <cuda_runtime.h>

#include "marlin/kernel/dequant.cuh"
#include "marlin/kernel/plan.h"
#include "marlin/kernel/ptx.cuh"
#include "marlin/kernel/scheme.cuh"
#include "marlin/kernel/stage.cuh"
#include "marlin/kernel/stripes.cuh"
#include "marlin/kernel/wgmma.cuh"

namespace marlin {

template <int TM, int NT, int KT, int STAGES, int BITS, int WGS>
struct WgTile {
  static constexpr int MW = NT / 64 / WGS;      // 64-column wgmma row blocks per consumer warpgroup
  static constexpr int BATCH = KT / 16 < 8 / MW ? KT / 16 : 8 / MW;  // k16 blocks per wgmma batch (32 fragment registers)
  static constexpr int CONSUMERS = 128 * WGS;   // WGS consumer warpgroups (dequantize + wgmma)
  static constexpr int PRODUCERS = 128;         // one producer warpgroup (the copies), warpgroup 0
  static constexpr int THREADS = PRODUCERS + CONSUMERS;
  static constexpr int LAG = STAGES - 2;        // copies a producer thread keeps in flight before it publishes a stage
  // Registers per thread: the CTA is launched with LAUNCH_REGS each (the
  // __launch_bounds__ cap, 1 CTA per SM); setmaxnreg then moves the producer's
  // share to the consumers inside that pool (asking for more than the pool
  // holds would block the consumers forever).
  static constexpr int LAUNCH_REGS = (65536 / THREADS / 8 * 8) > 255 ? 248 : 65536 / THREADS / 8 * 8;
  static constexpr int PRODUCER_REGS = 64;
  static constexpr int CONSUMER_REGS_POOL = (LAUNCH_REGS * THREADS - PRODUCER_REGS * PRODUCERS) / CONSUMERS / 8 * 8;
  static constexpr int CONSUMER_REGS = CONSUMER_REGS_POOL > 240 ? 240 : CONSUMER_REGS_POOL;
  static_assert(PRODUCER_REGS * PRODUCERS + CONSUMER_REGS * CONSUMERS <= LAUNCH_REGS * THREADS,
                "setmaxnreg: the warpgroups' registers must fit the CTA's allocation");
  static_assert(PRODUCER_REGS <= LAUNCH_REGS && CONSUMER_REGS >= LAUNCH_REGS, "setmaxnreg: dec for the producer, inc for the consumers");
  static constexpr int KB = KT / 16;            // k16 blocks per stage
  static constexpr int LOG2_KT = KT == 64 ? 6 : KT == 128 ? 7 : KT == 256 ? 8 : -1;
  static constexpr int W64 = kPackedWords64<BITS>;  // packed words per 64 columns of a k16 row
  static constexpr int B_ROW_CHUNKS = NT / 64 * W64 / 4;  // 16-byte chunks per k16 row of the tile
  // shared memory per stage (bytes); marlin_dense_smem_bytes() mirrors this
  static constexpr int A_STAGE = TM * KT * 2;   // KT/64 atoms of TM 128-byte rows
  static constexpr int B_STAGE = KT * NT * BITS / 8;
  static constexpr int S_STAGE = KB * NT * 2;
  static constexpr int Z_STAGE = KB * NT / 2;
  static_assert(TM == 16 || TM == 32 || TM == 64 || TM == 128 || TM == 256, "wgmma N: 16, 32, 64, 128 or 256 tokens");
  static_assert(MW == 1 || MW == 2 || MW == 4, "a warp's words of a 64-column block: 1, 2 or 4");
  static_assert(NT % 64 == 0 && KT % 64 == 0 && LOG2_KT > 0, "tile: 64-column and 64-k multiples");
  static_assert(TM * KT / 8 % PRODUCERS == 0, "activation chunks must split evenly (weights: stage.cuh)");
  static_assert(KB * NT / 8 <= PRODUCERS, "one producer thread per 16 bytes of a stage's scales");
  static_assert(STAGES >= 3, "the producer publishes a stage while the next LAG are in flight");
};

// N words from shared memory in the widest loads (p aligned to 4 N bytes, at
// most 16). Inline PTX: left to itself, ptxas splits the 8-byte loads of the
// 8-bit path into two 4-byte ones (measured 10 % slower at M = 128).
template <int N>
__device__ __forceinline__ void lds(uint32_t (&r)[N], const void *p) {
  const uint32_t a = static_cast<uint32_t>(__cvta_generic_to_shared(p));
  if constexpr (N % 4 == 0) {
#pragma unroll
    for (int i = 0; i < N / 4; ++i)
      asm volatile("ld.shared.v4.u32 {%0, %1, %2, %3}, [%4];\n"
                   : "=r"(r[4 * i]), "=r"(r[4 * i + 1]), "=r"(r[4 * i + 2]), "=r"(r[4 * i + 3])
                   : "r"(a + 16 * i));
  } else if constexpr (N == 2) {
    asm volatile("ld.shared.v2.u32 {%0, %1}, [%2];\n" : "=r"(r[0]), "=r"(r[1]) : "r"(a));
  } else {
    static_assert(N == 1, "1, 2 or a multiple of 4 words");
    asm volatile("ld.shared.u32 %0, [%1];\n" : "=r"(r[0]) : "r"(a));
  }
}

template <class S, class T, int TAG, int TM, int NT, int KT, int STAGES, int WGS, int CTAS_PER_SM>
__global__ void __launch_bounds__(WgTile<TM, NT, KT, STAGES, S::bits, WGS>::THREADS, CTAS_PER_SM)
    wgmma_kernel(const marlin_dense_params p) {
#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
  using G = WgTile<TM, NT, KT, STAGES, S::bits, WGS>;
  static_assert(CTAS_PER_SM == 1, "WgTile's register split assumes one CTA per SM");
  using T2 = typename Vec2<T>::type;
  constexpr int PRODUCERS = G::PRODUCERS, CONSUMERS = G::CONSUMERS;

  // wgmma's swizzled operand wants 1024-byte alignment: the launcher adds
  // 1024 bytes of slack.
  // (An offset from smem_raw, not a rounded integer cast back to a pointer:
  // the compiler keeps the shared address space, so the consumers' reads are
  // LDS with 32-bit addresses instead of generic loads.)
  extern __shared__ uint8_t smem_raw[];
  uint8_t *const smem = smem_raw + ((1024 - (wgmma::smem_u32(smem_raw) & 1023)) & 1023);
  uint8_t *const sA = smem;
  uint8_t *const sB = sA + STAGES * G::A_STAGE;
  uint8_t *const sS = sB + STAGES * G::B_STAGE;
  uint8_t *const sZ = sS + STAGES * G::S_STAGE;
  // full[s]: stage slot s holds its data (the producer threads' arrivals);
  // empty[s]: every consumer thread is done reading slot s (each arrives: an
  // arrival per warp after __syncwarp is enough in practice, but racecheck
  // flags the other lanes' reads).
  __shared__ uint64_t full[STAGES], empty[STAGES];
  // per consumer warp: 8 tokens x 16 columns of C on their way out
  __shared__ alignas(16) uint16_t c_stage[CONSUMERS / 32][8 * 16];
  // slot s's barriers at full0 + 8 s, empty0 + 8 s (opaque to the compiler,
  // which would otherwise recompute them from the CTA's shared window in
  // every stage)
  uint32_t full0 = wgmma::smem_u32(full), empty0 = wgmma::smem_u32(empty);
  ptx::opaque(full0), ptx::opaque(empty0);

  const int lane = threadIdx.x & 31;
  if (threadIdx.x == 0) {
#pragma unroll
    for (int s = 0; s < STAGES; ++s) {
      wgmma::mbar_init(full0 + 8 * s, PRODUCERS);
      wgmma::mbar_init(empty0 + 8 * s, CONSUMERS);
    }
  }
  __syncthreads();  // the last CTA-wide barrier: the warpgroups part here

  ptx::launch_dependents();
  ptx::wait_prior_grids();  // activations, C and the workspace belong to the kernels before

  const Stripes stripes(p.plan);
  const int ksteps = p.plan.ksteps;
  const int u_begin = stripes.begin(blockIdx.x), u_end = stripes.end(blockIdx.x);
  const int gshift = 31 - __clz(p.group_size);

  if (threadIdx.x < PRODUCERS) {
    // ================= producer warpgroup: global -> shared, by cp.async =================
    wgmma::regs_dec<G::PRODUCER_REGS>();
    const T *const A = static_cast<const T *>(p.a);
    const int tid = threadIdx.x;
    const int num_groups = max(1, p.k >> gshift);
    const int srows = stage_scale_rows<G::LOG2_KT>(gshift);

    constexpr int A_ROWS = PRODUCERS / (KT / 8);  // rows apart of a thread's activation chunks
    static_assert(A_ROWS % 8 == 0, "a thread's activation chunks share their swizzle");
    const int a_r0 = tid / (KT / 8), a_ch = tid % (KT / 8);
    const int a_dst = (a_ch / 8) * TM * 64 + a_r0 * 64 + ((a_ch % 8) ^ (a_r0 & 7)) * 8;
    const int a_k_end = p.k - a_ch * 8;  // k0 < a_k_end: the chunk is inside K
    const int64_t a_row_step = int64_t(A_ROWS) * p.lda;

    // 8-bit weights as bulk copies by warp 0's first KB lanes, completing on
    // the slot's full barrier: on the H100 that made gptq8 M = 32 / 128
    // 1.34 / 0.97 -> 1.37 / 1.08, but gptq4 M = 32 / 64 / 128 1.94 / 1.56 /
    // 1.23 -> 1.89 / 1.50 / 1.19 (same run; seventeenth session,
    // docs/performance.md), so 4-bit weights keep cp.async
    constexpr bool BULK_WEIGHTS = S::bits == 8;
    [[maybe_unused]] uint32_t sB0 = 0;  // the bulk copies' destination
    if constexpr (BULK_WEIGHTS) {
      sB0 = wgmma::smem_u32(sB);
      ptx::opaque(sB0);
    }

    // cp.async weights (4-bit): a thread copies chunk b_cc of k16 rows b_kb +
    // RPI i of every stage, so its sources are one running pointer (advanced
    // a stage per stage) plus i strides, and a chunk's bounds test is one
    // compare of its row against the k16 rows left in K (copy_stage_weights
    // computed each chunk's 64-bit address from the step: ~11 instructions a
    // chunk). H100, twenty-third session, same run with and without it (both
    // with group sums): gptq4 M = 32 1.99 -> 2.06, M = 64 1.66 -> 1.72, bf16
    // M = 32 1.91 -> 1.99
    constexpr int RC = G::B_ROW_CHUNKS, RPI = PRODUCERS / RC, B_ITERS = G::KB * RC / PRODUCERS;
    static_assert(BULK_WEIGHTS || (PRODUCERS % RC == 0 && B_ITERS * PRODUCERS == G::KB * RC),
                  "weight chunks must split evenly over the producers, whole rows at a time");
    const int b_cc = tid % RC, b_kb = tid / RC;
    const int kb_rows = p.k_pad / 16;
    const int64_t b_row_words = packed_row_words<S::bits>(p), b_stride = RPI * b_row_words;
    const int32_t *const B = static_cast<const int32_t *>(p.b);

    int slot = 0;
    uint32_t phase = 0;
    for (int u = u_begin; u < u_end;) {
      const Segment sg = stripes.next_segment<TM, NT>(u, u_end, p.plan.m_tiles);
      const int step_begin = sg.step_begin, step_end = sg.step_end, m0 = sg.m0, n0 = sg.n0;
      const T *const a_src = A + int64_t(m0 + a_r0) * p.lda + a_ch * 8;
      const int a_rows_left = p.m - m0 - a_r0;
      // this segment's weight source and the thread's first row in a stage
      // (none when its column chunk lies past Np)
      const int32_t *b_src = B + (int64_t(step_begin) * G::KB + b_kb) * b_row_words + (n0 / 64) * G::W64 + b_cc * 4;
      const int b_row0 = n0 / 64 + b_cc / (G::W64 / 4) < p.n_pad / 64 ? b_kb : kb_rows;

      int pending = 0;  // stages copied, not yet published
      for (int step = step_begin; step < step_end; ++step) {
        wgmma::mbar_wait(empty0 + 8 * slot, phase ^ 1);  // the consumers are done with this slot's last use
        const int k0 = step * KT;
        // weights, scales and zero points in the layout of dense.cuh's stages
        // (stage.cuh; the producer warpgroup is threads 0 .. 127)
        if constexpr (BULK_WEIGHTS) {
          if (tid < 32) bulk_stage_weights<S::bits, G::KB, NT>(p, sB0 + slot * G::B_STAGE, k0, n0, full0 + 8 * slot, tid);
        } else {
          const int rows_left = kb_rows - step * G::KB;  // k16 rows inside K from this stage's first
          uint8_t *const dB = sB + slot * G::B_STAGE + tid * 16;
#pragma unroll
          for (int i = 0; i < B_ITERS; ++i) {
            const bool ok = b_row0 + i * RPI < rows_left;
            ptx::cp_async16(dB + i * PRODUCERS * 16, ok ? b_src + i * b_stride : B, ok);
          }
          b_src += G::KB * b_row_words;
        }
        copy_stage_scales<T, S::has_zero, NT>(p, reinterpret_cast<T *>(sS + slot * G::S_STAGE),
                                              reinterpret_cast<int32_t *>(sZ + slot * G::Z_STAGE), k0, n0, gshift,
                                              num_groups, srows);
        // activations, K-major with 128-byte swizzle: token row r of atom a
        // (k 64a .. 64a + 63) at a*TM*128 + r*128, its 16-byte chunk c at
        // c ^ (r % 8); rows past m are zeros. A thread copies chunk a_ch of
        // rows a_r0 + A_ROWS i (the same chunk column and swizzle each time).
        {
          T *const dA = reinterpret_cast<T *>(sA + slot * G::A_STAGE) + a_dst;
          const T *src = a_src + k0;
          const bool k_ok = k0 < a_k_end;
#pragma unroll
          for (int i = 0; i < TM * KT / 8 / PRODUCERS; ++i) {
            const bool ok = k_ok && i * A_ROWS < a_rows_left;
            ptx::cp_async16(dA + i * A_ROWS * 64, ok ? src : A, ok);
            src += a_row_step;
          }
        }
        ptx::cp_async_commit();
        // publish the stage LAG copies back: this thread's copies of it have
        // landed; the proxy fence orders them before the wgmmas' reads
        if (pending == G::LAG) {
          ptx::cp_async_wait<G::LAG>();
          wgmma::fence_shared_for_async();
          wgmma::mbar_arrive(full0 + 8 * (slot >= G::LAG ? slot - G::LAG : slot + STAGES - G::LAG));
        } else {
          ++pending;
        }
        if (++slot == STAGES) slot = 0, phase ^= 1;
      }
      ptx::cp_async_wait<0>();
      wgmma::fence_shared_for_async();
      for (int i = pending; i > 0; --i) wgmma::mbar_arrive(full0 + 8 * (slot >= i ? slot - i : slot + STAGES - i));
    }
    return;
  }

  // ================= consumer warpgroups: dequantize, wgmma, epilogue =================
  wgmma::regs_inc<G::CONSUMER_REGS>();
  const int ctid = threadIdx.x - PRODUCERS;  // 0 .. CONSUMERS - 1
  const int w = ctid >> 5;  // consumer warp (its rank in its warpgroup, w % 4, is its wgmma row block's rows 16 (w % 4) ..)

  // ---- shared -> registers: k16 block kb of this warp's columns,
  // dequantized and scaled, as wgmma A fragments (docs/hopper.md). Warp w
  // takes words j0 .. j0 + MW - 1 (j0 = w MW % 4) of the lane's 4 words per
  // k16 row of 64-column block w MW / 4 (layout.md): one 4 MW-byte load, as
  // the mma.sync kernel's 16-byte one when MW = 4. Word j0 + i, dequantized,
  // is warp w's fragment of wgmma row block i: {a0, a1, a2, a3} = {v0, v2,
  // v1, v3}, rows (g, g + 8) = tile columns 16 (w MW + i) + g (+ 8) ----
  constexpr int MW = G::MW;
  const int b64 = w * MW / 4, j0 = (w * MW) % 4;
  const int group_mask = p.group_size - 1;  // a power of 2 (channelwise: 2^30)
  // AWQ: the zero-point offsets of the lane's MW words for the scale group
  // of k16 block kb. The consumer loop computes them when a block starts a
  // group (once per stage for groups of >= k_tile rows), not per block.
  // KEEP_ZEROS (the 32-token tile): each word's offsets built alone
  // (dequant.cuh word_zero_offsets: no lane swizzle), and kept over the
  // stages of a group of more rows than a stage. H100, awq4 fp16, against
  // per-stage zeros4 (twentieth session): M = 32 1.86 / 1.88 -> 1.91 / 1.91
  // (8192 x 57344 123.0 -> 120.7 us); the same on the 64- and 128-token
  // tiles lost M = 64, 1.57 / 1.56 -> 1.53 / 1.54 (4096 x 4096 on config 3
  // 15.0 -> 15.8 us), so they keep the per-stage zeros4.
  constexpr bool KEEP_ZEROS = TM <= 32;
  auto zero_offsets = [&](Offset4<T> (&za)[MW], Offset4<T> (&zb)[MW], int slot, int kb) {
    const int srow = stage_scale_row<G::LOG2_KT>(gshift, kb);
    // byte j: zero points of columns c + 16j, c + 16j + 8
    const uint32_t zword =
        reinterpret_cast<const uint32_t *>(sZ + slot * G::Z_STAGE)[srow * (NT / 8) + b64 * 8 + (lane >> 2)];
#pragma unroll
    for (int i = 0; i < MW; ++i) {
      if constexpr (KEEP_ZEROS) {
        word_zero_offsets(zword, j0 + i, za[i], zb[i]);
      } else {
        // j0 depends on the warp: shift byte j0 + i down and read pair 0
        // (a run-time index into Zeros4's arrays would go to local memory)
        const Zeros4<T> z = zeros4(zword >> (8 * (j0 + i)), static_cast<T *>(nullptr));
        za[i] = z.a(0);
        zb[i] = z.b(0);
      }
    }
  };
  // word i: the scales of the lane's columns c + 16j, c + 16j + 8 (j = j0 + i,
  // c = lane / 4) in scale row srow of the slot
  auto scale_words = [&](uint32_t (&sw)[MW], int slot, int srow) {
    const T *const tS = reinterpret_cast<const T *>(sS + slot * G::S_STAGE);
    lds(sw, tS + srow * NT + b64 * 64 + (lane >> 2) * 8 + 2 * j0);
  };
  // scaled = false (GROUP_SUMS): the codes less their offset or zero point,
  // small integers exact in T
  auto dequant_block = [&](bool scaled, uint32_t (&a)[MW][4], int slot, int kb, const Offset4<T> (&zoa)[MW],
                           const Offset4<T> (&zob)[MW]) {
    const uint8_t *const tB = sB + slot * G::B_STAGE;
    uint32_t sw[MW];
    if (scaled) scale_words(sw, slot, stage_scale_row<G::LOG2_KT>(gshift, kb));
    if constexpr (S::bits == 4) {
      uint32_t words[MW];
      lds(words, tB + (kb * G::B_ROW_CHUNKS + b64 * 32 + lane) * 16 + j0 * 4);
#pragma unroll
      for (int i = 0; i < MW; ++i) {
        Offset4<T> za, zb;
        if constexpr (S::has_zero) {
          za = zoa[i];
          zb = zob[i];
        } else {
          za = zb = offset4(T(float(S::bias)));
        }
        T2 sa{}, sb{};
        if (scaled) {
          const T2 s2 = as_vec2<T2>(sw[i]);
          sa = broadcast2(s2.x), sb = broadcast2(s2.y);
        }
        T2 v[4];
        dequant4(words[i], za, zb, v);
        a[i][0] = as_u32(scaled ? __hmul2(v[0], sa) : v[0]);
        a[i][1] = as_u32(scaled ? __hmul2(v[2], sb) : v[2]);
        a[i][2] = as_u32(scaled ? __hmul2(v[1], sa) : v[1]);
        a[i][3] = as_u32(scaled ? __hmul2(v[3], sb) : v[3]);
      }
    } else {
      // words 2j, 2j + 1 of the lane's 8 (n8 tiles 2j, 2j + 1): 8 MW bytes
      uint32_t words[2 * MW];
      lds(words, tB + (kb * G::B_ROW_CHUNKS + b64 * 64 + 2 * lane) * 16 + j0 * 8);
#pragma unroll
      for (int i = 0; i < MW; ++i) {
        T2 sa{}, sb{};
        if (scaled) {
          const T2 s2 = as_vec2<T2>(sw[i]);
          sa = broadcast2(s2.x), sb = broadcast2(s2.y);
        }
        T2 v[2], u[2];
        dequant8(words[2 * i], v);
        dequant8(words[2 * i + 1], u);
        a[i][0] = as_u32(scaled ? __hmul2(v[0], sa) : v[0]);
        a[i][1] = as_u32(scaled ? __hmul2(u[0], sb) : u[0]);
        a[i][2] = as_u32(scaled ? __hmul2(v[1], sa) : v[1]);
        a[i][3] = as_u32(scaled ? __hmul2(u[1], sb) : u[1]);
      }
    }
  };
  // B operand of k16 block kb: atom kb / 4, 32 bytes per k16 inside it. The
  // descriptor's start address is in 16-byte units in its low 14 bits, which
  // hold any shared address (< 256 KB): an offset is added, not re-encoded.
  const uint64_t desc_a = wgmma::smem_desc(sA, 16, 1024, wgmma::SWIZZLE_128B);
  uint32_t desc_lo = uint32_t(desc_a);
  ptx::opaque(desc_lo);
  auto act_desc = [&](int slot, int kb) {
    const uint32_t lo = desc_lo + uint32_t(slot * (G::A_STAGE / 16) + ((kb / 4) * TM * 128 + (kb % 4) * 32) / 16);
    return (desc_a & ~uint64_t(0xffffffff)) | lo;
  };

  float acc[MW][TM / 2];  // acc[i][4j + 2h + e]: token 8j + 2t + e, column 16 (w MW + i) + g + 8h
  // GROUP_SUMS (the 32 x 128 x 128 tile, configs.def row 12, with GPTQ
  // weights): with groups of >= k_tile rows the wgmmas take the unscaled
  // weights (dequant_block scaled = false: no scale loads, no HMUL2) and sum
  // a group into gacc; acc += scale * gacc in fp32 where the group ends
  // (once per group instead of 4 HMUL2 per word per k16 block; more
  // accurate too). Smaller groups keep the scaled weights.
  // H100, twenty-third session: the sums won on the 32 x 128 x 128 tile with
  // GPTQ weights (M = 32: 14336 x 4096 21.2 -> 19.9 us, 8192 x 8192 23.6 ->
  // 21.6) and lost on the 32 x 256 x 64 one (8192 x 57344 100.7 -> 104.2)
  // and with AWQ zero points (awq4 M = 32 1.99 -> 1.94). Kept where they
  // won: gptq4 M = 32 2.15 / 2.13 -> 2.20 / 2.20, bf16 2.11 / 2.12 -> 2.17
  // / 2.18 (same run)
  constexpr bool GROUP_SUMS = TM <= 32 && KT == 128 && !S::has_zero;
  [[maybe_unused]] float gacc[MW][TM / 2];
  const int g = lane >> 2, t4 = lane & 3;

  int slot = 0;
  uint32_t phase = 0;
  // A published partial's counter, until this warp counts on it: some
  // k-steps into the next segment, when the partial's stores are done and
  // the release no longer waits for them (stripes.cuh publish_warp)
  int *unpublished = nullptr;
  constexpr int PUBLISH_AFTER_STEPS = 4;
  for (int u = u_begin; u < u_end;) {
    const Segment sg = stripes.next_segment<TM, NT>(u, u_end, p.plan.m_tiles);
    const int t = sg.t, step_begin = sg.step_begin, step_end = sg.step_end, m0 = sg.m0, n0 = sg.n0;
    // The segment's first wgmma overwrites acc (scale-d 0), but ptxas cannot
    // see that through the asm: without this the previous segment's
    // accumulators stay live through its fix-up, which then spills.
#pragma unroll
    for (int i = 0; i < MW; ++i)
#pragma unroll
      for (int e = 0; e < TM / 2; ++e) acc[i][e] = 0.f;
    if constexpr (GROUP_SUMS) {
#pragma unroll
      for (int i = 0; i < MW; ++i)
#pragma unroll
        for (int e = 0; e < TM / 2; ++e) gacc[i][e] = 0.f;
    }

    // ---- main loop, per stage: wait for its data; in batches of BATCH k16
    // blocks, dequantize the batch, issue its wgmmas, wait for them; then
    // hand the slot back. The warpgroups do not wait for each other, so one
    // dequantizes while the other's wgmmas run ----
    // AWQ: zero_offsets of the current group, rebuilt where a group starts
    // (KEEP_ZEROS: a stage's first block only at the segment's first stage,
    // or where its first row starts a group: groups of more rows than a
    // stage keep them over stages)
    [[maybe_unused]] Offset4<T> zoa[MW], zob[MW];
    // the step at which a partial published by the previous segment is
    // counted (one compare per stage; none without one)
    const int publish_step = unpublished ? step_begin + PUBLISH_AFTER_STEPS : -1;
    // sums (GROUP_SUMS with groups of >= KT rows): the wgmmas sum a group's
    // unscaled weights into gacc, scaled into acc in fp32 where the group
    // (or the segment) ends
    auto stage_loop = [&](bool sums) {
      for (int step = step_begin; step < step_end; ++step) {
        if (step == publish_step) publish_warp(unpublished, lane), unpublished = nullptr;
        wgmma::mbar_wait(full0 + 8 * slot, phase);
        const bool group_start = sums && (step == step_begin || ((step * KT) & group_mask) == 0);
#pragma unroll
        for (int kb0 = 0; kb0 < G::KB; kb0 += G::BATCH) {
          uint32_t frag[G::BATCH][MW][4];
#pragma unroll
          for (int kb = 0; kb < G::BATCH; ++kb) {
            // (a block at an odd multiple of 16 rows never starts a group: the
            // kernel schemes with zero points have groups of >= 32 rows,
            // test_api.c scheme_info_table; no test for it in the loop)
            if constexpr (S::has_zero)
              if (kb0 + kb == 0 ? !KEEP_ZEROS || step == step_begin || ((step * KT) & group_mask) == 0
                                : (kb0 + kb) % 2 == 0 && (((kb0 + kb) * 16) & group_mask) == 0)
                zero_offsets(zoa, zob, slot, kb0 + kb);
            dequant_block(!sums, frag[kb], slot, kb0 + kb, zoa, zob);
          }
          wgmma::fence();
#pragma unroll
          for (int kb = 0; kb < G::BATCH; ++kb)
#pragma unroll
            for (int i = 0; i < MW; ++i) {
              if (sums)
                wgmma::mma_rs<TM, T>(gacc[i], frag[kb][i], act_desc(slot, kb0 + kb), !group_start || kb0 + kb > 0);
              else
                wgmma::mma_rs<TM, T>(acc[i], frag[kb][i], act_desc(slot, kb0 + kb), step > step_begin || kb0 + kb > 0);
            }
          wgmma::commit();
          wgmma::wait<0>();
        }
        if (sums) {
          if (step + 1 == step_end || (((step + 1) * KT) & group_mask) == 0) {
            uint32_t sw[MW];
            scale_words(sw, slot, 0);  // the group's scales: the stage's only row
#pragma unroll
            for (int i = 0; i < MW; ++i) {
              const T2 s2 = as_vec2<T2>(sw[i]);
              const float sc[2] = {float(s2.x), float(s2.y)};
#pragma unroll
              for (int e = 0; e < TM / 2; ++e) acc[i][e] += sc[(e >> 1) & 1] * gacc[i][e];
            }
          }
        }
        wgmma::mbar_arrive(empty0 + 8 * slot);  // every thread: its reads of the slot are done
        if (++slot == STAGES) slot = 0, phase ^= 1;
      }
    };
    if (GROUP_SUMS && p.group_size >= KT)
      stage_loop(true);
    else
      stage_loop(false);
    if (unpublished) publish_warp(unpublished, lane), unpublished = nullptr;

    // ---- a cut tile (stripes.cuh, the owner fix-up): the parts after the
    // first publish their partial; the first adds them to its own ----
    if (step_begin != 0 || step_end != ksteps) {
      const int first = stripes.first_of(t), rows = min(TM, p.m - m0);
      // float4 q = i TM / 8 + j of a thread: acc[i][4j .. 4j + 3], tokens
      // 8j + 2 t4 (+1), written and read only when token 8j + 2 t4 is < m
      // (quad_in_m); at q CONSUMERS + ctid of the slot (coalesced)
      constexpr int Q = MW * TM / 8;
      auto quad_in_m = [&](int q) { return 8 * (q % (TM / 8)) + 2 * t4 < rows; };
      if (int(blockIdx.x) != first) {
        float4 *const mine = reinterpret_cast<float4 *>(partial_slot<TM, NT>(p, stripes, t)) + ctid;
#pragma unroll
        for (int i = 0; i < MW; ++i)
#pragma unroll
          for (int j = 0; j < TM / 8; ++j)
            if (quad_in_m(i * (TM / 8) + j))
              __stcg(mine + (i * (TM / 8) + j) * CONSUMERS,
                     make_float4(acc[i][4 * j], acc[i][4 * j + 1], acc[i][4 * j + 2], acc[i][4 * j + 3]));
        unpublished = tile_counter(p, first);
        continue;
      }
      const int last = stripes.last_of(t);
      owner_wait<1, CONSUMERS>(p, first, (last - first) * (CONSUMERS / 32), ctid);
      // JB parts x QB float4s in flight per thread (all of a 32-token
      // tile's parts in one round trip when it has at most 4)
      constexpr int QB = Q < 8 ? Q : 8, JB = TM == 256 ? 1 : 3;
      for (int j0 = first + 1; j0 <= last; j0 += JB) {
#pragma unroll
        for (int q0 = 0; q0 < Q; q0 += QB) {
          float4 v[JB][QB];
#pragma unroll
          for (int jj = 0; jj < JB; ++jj) {
            const float4 *const part =
                reinterpret_cast<const float4 *>(partial_slot<TM, NT>(p, stripes, t, min(j0 + jj, last))) + ctid;
#pragma unroll
            for (int qq = 0; qq < QB; ++qq)
              if (j0 + jj <= last && quad_in_m(q0 + qq))
                v[jj][qq] = __ldcg(part + (q0 + qq) * CONSUMERS);
          }
#pragma unroll
          for (int jj = 0; jj < JB; ++jj)
#pragma unroll
            for (int qq = 0; qq < QB; ++qq)
              if (j0 + jj <= last && quad_in_m(q0 + qq)) {
                float *const a = &acc[(q0 + qq) / (TM / 8)][4 * ((q0 + qq) % (TM / 8))];
                a[0] += v[jj][qq].x, a[1] += v[jj][qq].y, a[2] += v[jj][qq].z, a[3] += v[jj][qq].w;
              }
        }
      }
    }
    // ---- a whole tile, or a cut tile summed: write C. Per 8 tokens x 16
    // columns of a warp (acc[i][4j ..]), through the warp's 256 bytes of
    // shared memory: each lane writes its 4 values, then stores 4 adjacent
    // columns of a token as one 8-byte store (a token's 16 columns are one
    // 32-byte sector), instead of 2-byte stores, 4 tokens x 8 columns per
    // warp store (2.1-2.5 us per 64 x 256 tile on the H100, the owner
    // fix-up's longest step) ----
    {
      T *const C = static_cast<T *>(p.c);
      const T *const bias = static_cast<const T *>(p.bias);
      T *const stage = reinterpret_cast<T *>(c_stage[w]);
      const int sr = lane >> 2, sc = (lane & 3) * 4;  // the lane's token and first column in the block
#pragma unroll
      for (int i = 0; i < MW; ++i) {
        const int cb = n0 + 16 * (w * MW + i), c = cb + sc;  // the block's first column, the lane's store's
        float bv[2] = {0.f, 0.f};  // the bias of the lane's columns cb + g (+ 8)
        if (bias)
#pragma unroll
          for (int h = 0; h < 2; ++h)
            if (cb + g + 8 * h < p.n) bv[h] = float(bias[cb + g + 8 * h]);
#pragma unroll
        for (int j = 0; j < TM / 8; ++j) {
          if (m0 + 8 * j >= p.m) break;  // (warp-uniform)
          __syncwarp();
#pragma unroll
          for (int h = 0; h < 2; ++h)
#pragma unroll
            for (int e = 0; e < 2; ++e) stage[(2 * t4 + e) * 16 + g + 8 * h] = T(acc[i][4 * j + 2 * h + e] + bv[h]);
          __syncwarp();
          const int r = m0 + 8 * j + sr;
          if (r < p.m && c < p.n)
            *reinterpret_cast<uint2 *>(C + int64_t(r) * p.ldc + c) = *reinterpret_cast<const uint2 *>(stage + sr * 16 + sc);
        }
      }
    }
  }
  if (unpublished) publish_warp(unpublished, lane);
#endif
}

}  // namespace marlin
