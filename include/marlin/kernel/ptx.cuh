// Thin wrappers over the PTX instructions the kernels use (sm80+):
// cp.async, ldmatrix, mma.sync, lop3, prmt, griddepcontrol, clusters. One place, named
// for what they do.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdint.h>

namespace marlin {
namespace ptx {

// 16-byte global -> shared copy; zero-fills the destination when !pred.
__device__ __forceinline__ void cp_async16(void *smem, const void *gmem, bool pred) {
  const uint32_t s = static_cast<uint32_t>(__cvta_generic_to_shared(smem));
  const int bytes = pred ? 16 : 0;
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(s), "l"(gmem), "r"(bytes));
}

// The same, issued only when `issue` (no shared-memory write otherwise);
// the destination as a pointer or as a shared-memory address.
__device__ __forceinline__ void cp_async16_if(uint32_t s, const void *gmem, bool issue, bool pred) {
  const int bytes = pred ? 16 : 0;
  asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %3, 0;\n@p cp.async.cg.shared.global [%0], [%1], 16, %2;\n}\n"
               ::"r"(s), "l"(gmem), "r"(bytes), "r"(int(issue)));
}
__device__ __forceinline__ void cp_async16_if(void *smem, const void *gmem, bool issue, bool pred) {
  cp_async16_if(static_cast<uint32_t>(__cvta_generic_to_shared(smem)), gmem, issue, pred);
}

// 4-byte global -> shared copy (L1-cached), issued only when `issue`.
__device__ __forceinline__ void cp_async4_if(uint32_t s, const void *gmem, bool issue) {
  asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %2, 0;\n@p cp.async.ca.shared.global [%0], [%1], 4;\n}\n"
               ::"r"(s), "l"(gmem), "r"(int(issue)));
}

__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }

template <int N>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

// Hides a value's origin from the compiler, so that it keeps the value in a
// register instead of recomputing it where it is used (e.g. inside a loop).
__device__ __forceinline__ void opaque(uint32_t &x) { asm volatile("" : "+r"(x)); }
template <class P>
__device__ __forceinline__ void opaque(P *&x) { asm volatile("" : "+l"(x)); }

// Two 8x8 b16 matrices from shared memory (the B fragment of one k16n8 block;
// lanes 0..15 give the row addresses).
__device__ __forceinline__ void ldmatrix_x2(uint32_t (&r)[2], uint32_t s) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0,%1}, [%2];\n" : "=r"(r[0]), "=r"(r[1]) : "r"(s));
}

// Four 8x8 b16 matrices from shared memory (the A fragment of one m16k16 block).
// (at a shared-memory address, or at a pointer)
__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], uint32_t s) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(s));
}
__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], const void *smem) {
  ldmatrix_x4(r, static_cast<uint32_t>(__cvta_generic_to_shared(smem)));
}

// Shared-memory loads at a shared-memory address.
__device__ __forceinline__ uint4 lds128(uint32_t s) {
  uint4 v;
  asm volatile("ld.shared.v4.u32 {%0,%1,%2,%3}, [%4];\n" : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w) : "r"(s) : "memory");
  return v;
}
__device__ __forceinline__ uint32_t lds32(uint32_t s) {
  uint32_t v;
  asm volatile("ld.shared.u32 %0, [%1];\n" : "=r"(v) : "r"(s) : "memory");
  return v;
}

// D = A(16x16) * B(16x8) + D, fp32 accumulate.
template <class T>
__device__ __forceinline__ void mma_16816(float (&d)[4], const uint32_t (&a)[4], uint32_t b0,
                                          uint32_t b1);

template <>
__device__ __forceinline__ void mma_16816<half>(float (&d)[4], const uint32_t (&a)[4], uint32_t b0,
                                                uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

template <>
__device__ __forceinline__ void mma_16816<__nv_bfloat16>(float (&d)[4], const uint32_t (&a)[4],
                                                         uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// Programmatic dependent launch (sm90+; no-ops before): let the next kernel
// in the stream launch now, and wait until the kernels before this one have
// completed and their writes are visible. Without the launch attribute the
// wait returns at once (the previous kernels are already done).
__device__ __forceinline__ void launch_dependents() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;\n" ::: "memory");
#endif
}
__device__ __forceinline__ void wait_prior_grids() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;\n" ::: "memory");
#endif
}

// Thread-block clusters (sm90+; callers compile them only there): this
// CTA's rank and the cluster's CTA count; a barrier of every thread of the
// cluster that orders shared-memory writes before it (release) before
// reads after it (acquire), cluster-wide (ptxas puts a MEMBAR.ALL.GPU before
// the arrive, which waits for the thread's outstanding global stores), and
// one that only waits for every thread to arrive (no release: for a barrier
// whose only job is that no CTA exits while others still read its shared
// memory, reads whose values have been used); the shared-memory address of
// the same variable in the CTA of rank `rank`, and a 16-byte load from it.
__device__ __forceinline__ uint32_t cluster_rank() {
  uint32_t r;
  asm volatile("mov.u32 %0, %%cluster_ctarank;\n" : "=r"(r));
  return r;
}
__device__ __forceinline__ uint32_t cluster_size() {
  uint32_t r;
  asm volatile("mov.u32 %0, %%cluster_nctarank;\n" : "=r"(r));
  return r;
}
__device__ __forceinline__ void cluster_sync() {
  asm volatile("barrier.cluster.arrive.release.aligned;\nbarrier.cluster.wait.acquire.aligned;\n" ::: "memory");
}
__device__ __forceinline__ void cluster_sync_relaxed() {
  asm volatile("barrier.cluster.arrive.relaxed.aligned;\nbarrier.cluster.wait.aligned;\n" ::: "memory");
}
__device__ __forceinline__ uint32_t cluster_map(const void *smem, uint32_t rank) {
  uint32_t r;
  asm volatile("mapa.shared::cluster.u32 %0, %1, %2;\n"
               : "=r"(r)
               : "r"(static_cast<uint32_t>(__cvta_generic_to_shared(smem))), "r"(rank));
  return r;
}
__device__ __forceinline__ float4 cluster_load16(uint32_t addr) {
  float4 v;
  asm volatile("ld.shared::cluster.v4.f32 {%0,%1,%2,%3}, [%4];\n"
               : "=f"(v.x), "=f"(v.y), "=f"(v.z), "=f"(v.w)
               : "r"(addr)
               : "memory");
  return v;
}

// Adds v to the counter at p at GPU scope and returns the old value, with
// acquire-release semantics: the calling CTA's writes ordered before this
// call (by a barrier, for other threads of the CTA) are visible to whoever
// acquires the counter after it, and the reads after it (ordered by a
// barrier for the other threads) see what the earlier releasers wrote. One
// thread's atomic instead of a fence.sc.gpu (MEMBAR.SC.GPU) in every thread.
__device__ __forceinline__ int atom_add_acq_rel_gpu(int *p, int v) {
  int old;
  asm volatile("atom.add.acq_rel.gpu.global.s32 %0, [%1], %2;\n" : "=r"(old) : "l"(p), "r"(v) : "memory");
  return old;
}

// A cut tile's counter (stripes.cuh, the owner fix-up): a part's warp adds 1
// with release semantics (after __syncwarp, for its other lanes' stores; no
// value back, so only the calling warp waits for the stores to complete);
// the owner reads it with acquire semantics until it holds the count.
__device__ __forceinline__ void red_add_release_gpu(int *p, int v) {
  asm volatile("red.release.gpu.global.add.s32 [%0], %1;\n" ::"l"(p), "r"(v) : "memory");
}
__device__ __forceinline__ int ld_acquire_gpu(const int *p) {
  int v;
  asm volatile("ld.acquire.gpu.global.s32 %0, [%1];\n" : "=r"(v) : "l"(p) : "memory");
  return v;
}

// (a & b) | c in one instruction.
__device__ __forceinline__ uint32_t and_or(uint32_t a, uint32_t b, uint32_t c) {
  uint32_t d;
  asm("lop3.b32 %0, %1, %2, %3, 0xEA;\n" : "=r"(d) : "r"(a), "r"(b), "r"(c));
  return d;
}

__device__ __forceinline__ uint32_t prmt(uint32_t a, uint32_t b, uint32_t sel) {
  uint32_t d;
  asm("prmt.b32 %0, %1, %2, %3;\n" : "=r"(d) : "r"(a), "r"(b), "r"(sel));
  return d;
}

}  // namespace ptx
}  // namespace marlin
