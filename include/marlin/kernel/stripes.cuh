// The persistent grid's work split and the fix-up of output tiles cut by
// stripe boundaries (plan.h), shared by the dense kernel families (dense.cuh,
// dense_wgmma.cuh; the column kernel, dense_column.cuh, uses cluster_sum).
// A kernel writes its part of a cut tile as fp32 partials into its slot
// (partial_slot); every part is summed in stripe order (deterministic) and C
// written by the last CTA to arrive (the mma.sync kernel: finish_part) or by
// the tile's first CTA (the wgmma kernel: the owner fix-up, below).
#pragma once

#include <cuda_runtime.h>

#include "marlin/kernel/dequant.cuh"
#include "marlin/kernel/plan.h"
#include "marlin/kernel/ptx.cuh"

namespace marlin {

// One segment of a CTA's stripe: k-steps [step_begin, step_end) of tile t,
// whose rows start at m0 and columns at n0.
struct Segment {
  int t, step_begin, step_end, m0, n0;
};

// CTA i's stripe: units [begin(i), end(i)) of the (tile, k-step) sequence.
struct Stripes {
  int q, r, ksteps;
  __device__ explicit Stripes(const marlin_dense_plan &plan)
      : q(plan.units_per_cta), r(plan.units_extra), ksteps(plan.ksteps) {}
  __device__ int begin(int i) const { return i * q + min(i, r); }
  __device__ int end(int i) const { return begin(i) + q + (i < r); }
  // Partial-sum slot of CTA i's segment of tile t: slot 2i for the tile its
  // stripe starts in, 2i+1 for the tile it ends in (the rest are whole tiles).
  __device__ int slot_of(int i, int t) const { return 2 * i + (begin(i) / ksteps == t ? 0 : 1); }
  // The segment that starts at unit u (< u_end) of a stripe, for TM x NT
  // tiles numbered M-tile first; advances u past it.
  template <int TM, int NT>
  __device__ Segment next_segment(int &u, int u_end, int m_tiles) const {
    Segment g;
    g.t = u / ksteps;
    g.step_begin = u - g.t * ksteps;
    g.step_end = min(ksteps, g.step_begin + (u_end - u));
    u += g.step_end - g.step_begin;
    g.m0 = (g.t % m_tiles) * TM;
    g.n0 = (g.t / m_tiles) * NT;
    return g;
  }
  // The CTAs first .. last (stripe order) whose stripes hold tile t.
  __device__ int first_of(int t) const { return cta_of(t * ksteps); }
  __device__ int last_of(int t) const { return cta_of((t + 1) * ksteps - 1); }
  // The CTA whose stripe holds unit u.
  __device__ int cta_of(int u) const {
    const int big = r * (q + 1);  // units of the CTAs with q + 1 units
    return u < big ? u / (q + 1) : r + (u - big) / q;
  }
};

// The fix-up's shared memory (static, per CTA).
struct FixupShared {
  int last_cta;
  int64_t part_slot[MARLIN_MAX_TILE_PARTS + 2];  // partial offsets of one tile
};

// The workspace's fp32 partial slots (plan.h).
__device__ __forceinline__ float *partials_of(const marlin_dense_params &p) {
  return reinterpret_cast<float *>(static_cast<uint8_t *>(p.workspace) + p.plan.ws_partials);
}

// The counter of a cut tile whose first CTA is `first` (plan.h: a CTA is
// the first of at most one cut tile, the one its stripe ends in).
__device__ __forceinline__ int *tile_counter(const marlin_dense_params &p, int first) {
  return reinterpret_cast<int *>(static_cast<uint8_t *>(p.workspace) + p.plan.ws_counters) + first;
}

// CTA cta's (by default this CTA's) partial of tile t.
template <int TM, int NT>
__device__ __forceinline__ float *partial_slot(const marlin_dense_params &p, const Stripes &s, int t,
                                               int cta = blockIdx.x) {
  return partials_of(p) + int64_t(s.slot_of(cta, t)) * (int64_t(TM) * NT);
}

// A barrier over the THREADS threads of the fix-up: the CTA (BAR 0) or, in a
// warp-specialized kernel, its consumer warps (named barrier BAR).
template <int BAR, int THREADS>
__device__ __forceinline__ void group_sync() {
  if constexpr (BAR == 0)
    __syncthreads();
  else
    asm volatile("bar.sync %0, %1;\n" ::"n"(BAR), "n"(THREADS) : "memory");
}

// Writes the sum v of four columns (c .. c+3, c < n) of row r of C, plus the
// bias.
template <class T>
__device__ __forceinline__ void store_sum4(const marlin_dense_params &p, float4 v, int r, int c) {
  using T2 = typename Vec2<T>::type;
  if (p.bias) {
    const T *const bb = static_cast<const T *>(p.bias) + c;
    v.x += float(bb[0]), v.y += float(bb[1]), v.z += float(bb[2]), v.w += float(bb[3]);
  }
  T2 out[2] = {to_vec2(v.x, v.y, static_cast<T *>(nullptr)), to_vec2(v.z, v.w, static_cast<T *>(nullptr))};
  *reinterpret_cast<uint2 *>(static_cast<T *>(p.c) + r * p.ldc + c) = *reinterpret_cast<const uint2 *>(out);
}

// All threads sum the tile flat, 4 columns each, VB groups of 4 columns per
// thread at a time: the contributions of a batch (VB items x JB parts, as
// many float4 loads and 4x as many registers: the kernel's register budget
// decides) are requested before their adds, so a large tile's partials (a
// 64 x 256 tile cut in 8: 448 KB from L2) take few round trips; the adds run
// in stripe order, so the result does not depend on which CTA came last.
template <class T, int TM, int NT, int THREADS, int BAR, int VB, int JB>
__device__ void sum_partials(const marlin_dense_params &p, const Stripes &s, FixupShared &sh, int t,
                             int first, int last, int m0, int n0, int tid) {
  const float *const partials = partials_of(p);
  const int rows = min(TM, p.m - m0);
  const int count = last - first + 1;  // <= MARLIN_MAX_TILE_PARTS + 1 (selector)
  if (tid < count) sh.part_slot[tid] = int64_t(s.slot_of(first + tid, t)) * (int64_t(TM) * NT);
  group_sync<BAR, THREADS>();
  const int items = rows * (NT / 4);
  for (int v0 = tid; v0 < items; v0 += VB * THREADS) {
    int at[VB];  // offset of the item in a partial, or -1: past the tile's rows or past n
    float4 sum[VB];
#pragma unroll
    for (int b = 0; b < VB; ++b) {
      const int v = v0 + b * THREADS, r = v / (NT / 4), c = (v % (NT / 4)) * 4;
      // n % 8 == 0: a group of 4 columns is all in or all out
      at[b] = v < items && n0 + c < p.n ? r * NT + c : -1;
      sum[b] = make_float4(0.f, 0.f, 0.f, 0.f);
    }
    for (int j0 = 0; j0 < count; j0 += JB) {
      float4 part[VB][JB];
#pragma unroll
      for (int b = 0; b < VB; ++b)
#pragma unroll
        for (int j = 0; j < JB; ++j)
          if (at[b] >= 0 && j0 + j < count)
            part[b][j] = __ldcg(reinterpret_cast<const float4 *>(partials + sh.part_slot[j0 + j] + at[b]));
#pragma unroll
      for (int b = 0; b < VB; ++b)
#pragma unroll
        for (int j = 0; j < JB; ++j)
          if (at[b] >= 0 && j0 + j < count)
            sum[b].x += part[b][j].x, sum[b].y += part[b][j].y, sum[b].z += part[b][j].z, sum[b].w += part[b][j].w;
    }
#pragma unroll
    for (int b = 0; b < VB; ++b)
      if (at[b] >= 0) store_sum4<T>(p, sum[b], m0 + at[b] / NT, n0 + at[b] % NT);
  }
}

// Called by every thread of the group (THREADS threads, tid 0 .. THREADS - 1,
// barrier BAR: group_sync) once this CTA's partial of tile t (rows from m0,
// columns from n0) is written: the tile's last CTA to arrive sums the parts.
template <class T, int TM, int NT, int THREADS, int BAR, int VB, int JB>
__device__ void finish_part(const marlin_dense_params &p, const Stripes &s, FixupShared &sh, int t, int m0,
                            int n0, int tid) {
  // (tile_counter's address, written out: through tile_counter the
  // mma.sync kernels' SASS changed, which no H100 run has measured)
  int *const counters = reinterpret_cast<int *>(static_cast<uint8_t *>(p.workspace) + p.plan.ws_counters);
  const int first = s.first_of(t), last = s.last_of(t);
  // The barrier orders the group's partial writes before thread 0's release;
  // its acquire and the next barrier order the last CTA's reads after every
  // other part's release (the pattern of a split-K semaphore; a
  // __threadfence in every thread, MEMBAR.SC.GPU, cost ~0.5 us per call on
  // 4096 x 4096 at M = 1, docs/performance.md).
  group_sync<BAR, THREADS>();
  if (tid == 0) sh.last_cta = ptx::atom_add_acq_rel_gpu(&counters[first], 1) == last - first;
  group_sync<BAR, THREADS>();
  if (sh.last_cta) {
    sum_partials<T, TM, NT, THREADS, BAR, VB, JB>(p, s, sh, t, first, last, m0, n0, tid);
    if (tid == 0) counters[first] = 0;  // leave the counters zeroed
  }
  group_sync<BAR, THREADS>();
}

// The owner fix-up (the wgmma kernel). Of a cut tile's CTAs first .. last,
// the first holds the tile's k-steps from 0 at the end of its stripe, so in
// a balanced grid it finishes its part last, or with the CTAs between, whose
// stripes are all inside the tile; the last CTA holds the tile's end at the
// start of its stripe. So the first CTA owns the tile: it keeps its part in
// registers, waits for the others' count on its counter (owner_wait), adds
// their fp32 partials to its registers in stripe order (deterministic) and
// writes C. The others write their partial into their slot in the layout of
// their accumulators (each thread's as coalesced float4s, read back by the
// same thread of the owner), and each of their warps counts once its stores
// are done (publish_warp). Only an owner waits, once, at the end of its
// stripe, and only for CTAs that publish before they wait for anything; the
// grid is one wave (select.c; test_select checks both), so it cannot
// deadlock. Against the last-arrival fix-up (finish_part): no partial write,
// counter round trip or read of its own partial for the CTA that sums.

// Called by every lane of a warp after its stores of the CTA's partial: the
// warp's count, with release semantics (the release waits until the stores
// are done, so a warp with more work calls it some k-steps later).
__device__ __forceinline__ void publish_warp(int *counter, int lane) {
  __syncwarp();
  if (lane == 0) ptx::red_add_release_gpu(counter, 1);
}

// Called by every thread of the owner's group: returns once the counter of
// the tile holds `count` (thread 0's acquire, then the barrier, orders the
// group's reads of the partials after it), and zeroes it for the next launch.
template <int BAR, int THREADS>
__device__ __forceinline__ void owner_wait(const marlin_dense_params &p, int first, int count, int tid) {
  if (tid == 0) {
    int *const counter = tile_counter(p, first);
    while (ptx::ld_acquire_gpu(counter) != count) {
    }
    *counter = 0;
  }
  group_sync<BAR, THREADS>();
}

// The fix-up of a split plan launched as clusters (plan.h `cluster`: the
// cluster's CTAs are one tile's parts, rank j holding part j), through
// distributed shared memory instead of the workspace: no fence, counter or
// L2 round trip. Called by all THREADS threads of every CTA of the cluster
// once its fp32 partial of the tile (row-major TM x NT, the rows < m - m0)
// is at `mine` in its shared memory. After a cluster barrier, rank j sums
// the j-th share of the tile's items over every rank's partial, in rank
// order from zero as sum_partials does (the same bits as the workspace
// fix-up), and writes C; the second barrier keeps each CTA's shared memory
// until every rank has read it (the sums used the loaded values, so the
// reads are done: a relaxed arrive, which does not wait for C's stores).
template <class T, int TM, int NT, int THREADS>
__device__ void cluster_sum(const marlin_dense_params &p, const float *mine, int m0, int n0, int tid) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  const int parts = int(ptx::cluster_size()), rank = int(ptx::cluster_rank());  // parts <= 8 (plan.h)
  ptx::cluster_sync();
  const int items = min(TM, p.m - m0) * (NT / 4);
  const int share = (items + parts - 1) / parts;
  const int v_end = min(items, (rank + 1) * share);
  for (int v = rank * share + tid; v < v_end; v += THREADS) {
    const int r = v / (NT / 4), c = (v % (NT / 4)) * 4;
    if (n0 + c >= p.n) continue;  // n % 8 == 0: 4 columns are all in or all out
    // (the loads are all issued before their adds; an array of the parts
    // instead made ptxas spill in the main loop of the decode tile)
    float4 sum = make_float4(0.f, 0.f, 0.f, 0.f);
#pragma unroll
    for (int j = 0; j < 8; ++j)
      if (j < parts) {
        const float4 x = ptx::cluster_load16(ptx::cluster_map(mine + r * NT + c, j));
        sum.x += x.x, sum.y += x.y, sum.z += x.z, sum.w += x.w;
      }
    store_sum4<T>(p, sum, m0 + r, n0 + c);
  }
  ptx::cluster_sync_relaxed();  // (not after C's stores complete: no release)
#endif
}

}  // namespace marlin
