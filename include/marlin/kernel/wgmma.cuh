// sm_90a warpgroup MMA (wgmma) primitives for the Hopper path
// (dense_wgmma.cuh; tests/gpu/test_wgmma.cu checks them on the GPU).
//
// The form the Hopper path uses ("operand swap", docs/hopper.md): the
// dequantized weights are wgmma's register operand A (64 output columns x
// k16), the activations its shared-memory operand B (tokens x k16, K-major),
// so D is 64 output columns x N tokens.
//   A fragment: warp w of the warpgroup gives rows 16w .. 16w+15, each lane
//     the mma.m16n8k16 A fragment of them: {a0, a1, a2, a3} = rows (g, g+8)
//     x k pairs (2t, 2t+8), g = lane / 4, t = lane % 4.
//   D fragment (m64nN, fp32): per n8 chunk j, d[4j + 2h + e] = D[16w + g +
//     8h][8j + 2t + e].
//   B descriptor: start address, LBO (byte offset between 8 x 16-byte core
//     matrices adjacent in K), SBO (adjacent in N), swizzle mode.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

namespace marlin {
namespace wgmma {

enum Swizzle : uint32_t { SWIZZLE_NONE = 0, SWIZZLE_128B = 1, SWIZZLE_64B = 2, SWIZZLE_32B = 3 };

// Shared-memory matrix descriptor. For a K-major operand with 128-byte
// swizzle (a token's 64 k values in one 128-byte row, its 16-byte chunk c
// stored at c ^ (row % 8), 1024-byte aligned atoms): sbo = 1024, lbo unused,
// and k16 step s starts at row 0 + 32 s bytes.
__device__ __forceinline__ uint64_t smem_desc(const void *smem, uint32_t lbo, uint32_t sbo, Swizzle swz) {
  const uint32_t a = static_cast<uint32_t>(__cvta_generic_to_shared(smem));
  return uint64_t((a >> 4) & 0x3fff) | (uint64_t((lbo >> 4) & 0x3fff) << 16) |
         (uint64_t((sbo >> 4) & 0x3fff) << 32) | (uint64_t(swz) << 62);
}

__device__ __forceinline__ void fence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void commit() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }
template <int N>
__device__ __forceinline__ void wait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
}
// Generic-proxy writes to shared memory that a wgmma will read.
__device__ __forceinline__ void fence_shared_for_async() {
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
}

// D (64 x N, fp32) (+)= A (registers, 16-bit) * B (descriptor, 16-bit,
// K-major), N = 16, 32, 64, 128 or 256; accumulate = 0 ignores D's old value.
// The accumulator operand lists are written out (inline asm cannot count);
// MARLIN_WGMMA_D8(i) names d[i .. i+7].
#define MARLIN_WGMMA_D8(i)                                                                              \
  "+f"(d[i]), "+f"(d[i + 1]), "+f"(d[i + 2]), "+f"(d[i + 3]), "+f"(d[i + 4]), "+f"(d[i + 5]), "+f"(d[i + 6]), \
      "+f"(d[i + 7])
#define MARLIN_WGMMA_D32(i) MARLIN_WGMMA_D8(i), MARLIN_WGMMA_D8(i + 8), MARLIN_WGMMA_D8(i + 16), MARLIN_WGMMA_D8(i + 24)
#define MARLIN_WGMMA_OUT16 MARLIN_WGMMA_D8(0)
#define MARLIN_WGMMA_OUT32 MARLIN_WGMMA_D8(0), MARLIN_WGMMA_D8(8)
#define MARLIN_WGMMA_OUT64 MARLIN_WGMMA_D32(0)
#define MARLIN_WGMMA_OUT128 MARLIN_WGMMA_D32(0), MARLIN_WGMMA_D32(32)
#define MARLIN_WGMMA_OUT256 MARLIN_WGMMA_D32(0), MARLIN_WGMMA_D32(32), MARLIN_WGMMA_D32(64), MARLIN_WGMMA_D32(96)
#define MARLIN_WGMMA_REGS16 \
  "%0, %1, %2, %3, %4, %5, %6, %7"
#define MARLIN_WGMMA_REGS32 \
  "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15"
#define MARLIN_WGMMA_REGS64 \
  "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, " \
  "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31"
#define MARLIN_WGMMA_REGS128 \
  "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, " \
  "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, " \
  "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, " \
  "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63"
#define MARLIN_WGMMA_REGS256 \
  "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, " \
  "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, " \
  "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, " \
  "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63, " \
  "%64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79, " \
  "%80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95, " \
  "%96, %97, %98, %99, %100, %101, %102, %103, %104, %105, %106, %107, %108, %109, %110, %111, " \
  "%112, %113, %114, %115, %116, %117, %118, %119, %120, %121, %122, %123, %124, %125, %126, %127"

template <int N, class T>
struct MmaRs;
// One specialization per (N, 16-bit type): %0 .. %(N/2 - 1) are D, then the 4
// A registers, the descriptor and the accumulate flag.
#define MARLIN_WGMMA_RS(N, TYPE, PTX_TYPE, A0, A1, A2, A3, DESC, FLAG)                                        \
  template <>                                                                                                 \
  struct MmaRs<N, TYPE> {                                                                                     \
    __device__ __forceinline__ static void run(float (&d)[N / 2], const uint32_t (&a)[4], uint64_t b,         \
                                               int accumulate) {                                              \
      asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %" #FLAG ", 0;\n"                                        \
                   "wgmma.mma_async.sync.aligned.m64n" #N "k16.f32." PTX_TYPE "." PTX_TYPE " {" MARLIN_WGMMA_REGS##N \
                   "}, {%" #A0 ", %" #A1 ", %" #A2 ", %" #A3 "}, %" #DESC ", p, 1, 1, 0;\n}\n"                    \
                   : MARLIN_WGMMA_OUT##N                                                                      \
                   : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b), "r"(accumulate));                   \
    }                                                                                                         \
  };
MARLIN_WGMMA_RS(16, half, "f16", 8, 9, 10, 11, 12, 13)
MARLIN_WGMMA_RS(16, __nv_bfloat16, "bf16", 8, 9, 10, 11, 12, 13)
MARLIN_WGMMA_RS(32, half, "f16", 16, 17, 18, 19, 20, 21)
MARLIN_WGMMA_RS(32, __nv_bfloat16, "bf16", 16, 17, 18, 19, 20, 21)
MARLIN_WGMMA_RS(64, half, "f16", 32, 33, 34, 35, 36, 37)
MARLIN_WGMMA_RS(64, __nv_bfloat16, "bf16", 32, 33, 34, 35, 36, 37)
MARLIN_WGMMA_RS(128, half, "f16", 64, 65, 66, 67, 68, 69)
MARLIN_WGMMA_RS(128, __nv_bfloat16, "bf16", 64, 65, 66, 67, 68, 69)
MARLIN_WGMMA_RS(256, half, "f16", 128, 129, 130, 131, 132, 133)
MARLIN_WGMMA_RS(256, __nv_bfloat16, "bf16", 128, 129, 130, 131, 132, 133)
#undef MARLIN_WGMMA_RS

template <int N, class T>
__device__ __forceinline__ void mma_rs(float (&d)[N / 2], const uint32_t (&a)[4], uint64_t b, int accumulate) {
  MmaRs<N, T>::run(d, a, b, accumulate);
}


// ---- the warp-specialized pipeline's synchronization (sm_90) ----

// Shared-memory mbarrier, named by its shared-window address (smem_u32):
// init (one thread, before a CTA barrier), arrive (release), and wait for the
// phase of the given parity to complete (acquire). A fresh barrier is in
// phase 0, so waiting on parity 1 returns at once. The kernels compute the
// addresses once: converting a generic pointer at every call costs a
// special-register read and address arithmetic per stage.
__device__ __forceinline__ uint32_t smem_u32(const void *p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}
__device__ __forceinline__ void mbar_init(uint32_t bar, int count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(bar), "r"(count) : "memory");
}
__device__ __forceinline__ void mbar_arrive(uint32_t bar) {
  asm volatile("{\n.reg .b64 st;\nmbarrier.arrive.shared::cta.b64 st, [%0];\n}\n" ::"r"(bar) : "memory");
}
__device__ __forceinline__ void mbar_wait(uint32_t bar, uint32_t parity) {
  asm volatile(
      "{\n.reg .pred done;\nwait_%=:\n"
      "mbarrier.try_wait.parity.shared::cta.b64 done, [%0], %1;\n"
      "@!done bra wait_%=;\n}\n" ::"r"(bar),
      "r"(parity)
      : "memory");
}

// Bulk copies (the copy engine, no per-thread chunks; sm_90): bulk_copy
// moves `bytes` (a multiple of 16, both addresses 16-byte aligned) from
// global memory to this CTA's shared memory and counts them as
// transactions on `bar`; mbar_expect_tx adds them to what the barrier's
// current phase waits for. A thread calls expect_tx before its own arrival
// on the barrier, so the phase cannot complete without the bytes. They are
// visible to the threads that saw the phase complete (mbar_wait).
__device__ __forceinline__ void mbar_expect_tx(uint32_t bar, uint32_t bytes) {
  asm volatile("mbarrier.expect_tx.relaxed.cta.shared::cta.b64 [%0], %1;\n" ::"r"(bar), "r"(bytes) : "memory");
}
__device__ __forceinline__ void bulk_copy(uint32_t dst, const void *src, uint32_t bytes, uint32_t bar) {
  asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];\n" ::"r"(dst),
               "l"(src), "r"(bytes), "r"(bar)
               : "memory");
}

// Per-thread register budget of the calling warpgroup (multiple of 8, 24..256).
template <int N>
__device__ __forceinline__ void regs_dec() {
  asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(N));
}
template <int N>
__device__ __forceinline__ void regs_inc() {
  asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(N));
}

}  // namespace wgmma
}  // namespace marlin
