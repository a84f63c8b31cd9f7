// sm_90a warpgroup MMA (wgmma) primitives for the Hopper path (not used by a
// kernel yet; tests/gpu/test_wgmma.cu checks them on the GPU).
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

// D (64 x 16, fp32) (+)= A (registers, fp16) * B (descriptor, fp16, K-major).
// accumulate = 0 ignores D's old value.
__device__ __forceinline__ void mma_m64n16k16_rs_f16(float (&d)[8], const uint32_t (&a)[4], uint64_t b,
                                                     int accumulate) {
  asm volatile(
      "{\n.reg .pred p;\nsetp.ne.b32 p, %13, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n16k16.f32.f16.f16 "
      "{%0, %1, %2, %3, %4, %5, %6, %7}, {%8, %9, %10, %11}, %12, p, 1, 1, 0;\n}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b), "r"(accumulate));
}

}  // namespace wgmma
}  // namespace marlin
