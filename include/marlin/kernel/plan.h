/* Shared between the C driver and the CUDA kernel templates (C-compatible):
 * the launch parameters of a dense GEMM, the tile-config table and the
 * shared-memory and workspace formulas. Internal; not part of the C API. */
#ifndef MARLIN_KERNEL_PLAN_H
#define MARLIN_KERNEL_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "marlin/marlin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Most stripes one output tile is cut into (the selector keeps to it). */
#define MARLIN_MAX_TILE_PARTS 16
/* Tokens (rows of A and C) per block of the column kernel (COLUMN configs,
 * dense_column.cuh): 8 per configs.def m_blocks (1: 8 tokens, one n8 token
 * tile of mma.m16n8k16; 2: 16 tokens, two). */
#define MARLIN_COLUMN_TOKENS(m_blocks) (8 * (m_blocks))
/* Floats per row of the column kernel's reduction buffer ([warp][token row]
 * [this]): 68, not 64, so that a warp's stores of rows 2t + e (t = 0..3),
 * columns c + g hit distinct banks. */
#define MARLIN_COLUMN_RED_LD 68
/* Bytes of one ring slot of the column kernel (dense_column.cuh ColumnSlot,
 * which static_asserts against it): a k16 row of 64 columns of bits-wide
 * weights, the tokens x 16 block of A, 8 scale vectors and 8 AWQ zero words. */
#define MARLIN_COLUMN_SLOT_BYTES(bits, tokens) (16 * 64 * (bits) / 8 + (tokens) * 16 * 2 + 8 * 16 + 8 * 4)

/* Counters of the split-K fix-up at the start of every workspace: one per
 * tile cut between CTAs, indexed by the tile's first CTA, so a grid that cuts
 * tiles has at most this many CTAs (the selector keeps to it: one wave of at
 * most 1024 CTAs). The region is the same for every problem, so a workspace
 * shared between problems (zeroed once; every call leaves its counters at
 * zero) never has another problem's partial sums or act-order copy of A
 * where a counter is. */
#define MARLIN_TILE_COUNTERS 1024

/* The kernel family of a tile config (configs.def). */
typedef enum marlin_tile_kind { MARLIN_TILE_MMA = 0, MARLIN_TILE_WGMMA = 1, MARLIN_TILE_COLUMN = 2 } marlin_tile_kind;

/* The weights a tile config is built and taken for (configs.def `weights`). */
typedef enum marlin_tile_weights {
  MARLIN_TILE_WEIGHTS_ANY = 0,
  MARLIN_TILE_WEIGHTS_W4 = 1,        /* 4-bit codes */
  MARLIN_TILE_WEIGHTS_W4_NOZERO = 2  /* 4-bit codes without zero points */
} marlin_tile_weights;

/* Whether a config of `weights` serves a scheme of `bits`-bit codes, with
 * zero points or not (a constant expression: the kernel units test it at
 * compile time, so they never instantiate a row the selector cannot take). */
#define MARLIN_TILE_SERVES(weights, bits, zeros)                                       \
  ((weights) == MARLIN_TILE_WEIGHTS_ANY ||                                             \
   ((bits) == 4 && ((weights) == MARLIN_TILE_WEIGHTS_W4 || !(zeros))))

typedef struct marlin_tile_config {
  int32_t kind; /* marlin_tile_kind */
  int32_t m_blocks, n_tile, k_tile, threads, stages, ctas_per_sm, step_ns;
  int32_t weights; /* marlin_tile_weights */
} marlin_tile_config;

enum {
#define MARLIN_TILE(id, ...) MARLIN_TILE_CONFIG_##id = id,
#include "marlin/kernel/configs.def"
#undef MARLIN_TILE
  MARLIN_TILE_CONFIG_COUNT
};

static inline marlin_tile_config marlin_tile_config_get(int id) {
  static const marlin_tile_config table[] = {
#define MARLIN_TILE(id, kind, mb, nt, kt, th, st, cps, ns, w) \
  {MARLIN_TILE_##kind, mb, nt, kt, th, st, cps, ns, MARLIN_TILE_WEIGHTS_##w},
#include "marlin/kernel/configs.def"
#undef MARLIN_TILE
  };
  return table[id];
}

/* How one GEMM is cut into CTAs (stream-K style "stripes"): the output is cut
 * into tiles of (16*m_blocks) x n_tile; each tile's K into ksteps steps of
 * k_tile rows. The U = tiles x ksteps units, tile-major, are divided evenly
 * over a persistent grid of `ctas` CTAs: with q = U / ctas and r = U % ctas,
 * CTA i takes the q + (i < r) units starting at i*q + min(i, r) (U < 2^31, so
 * the kernel's stripe arithmetic is 32-bit). A tile cut by stripe boundaries
 * is summed through fp32 partials in the workspace (two slots per CTA), in
 * CTA order, so the result is deterministic; the CTAs count their parts on
 * the counter of the tile's first CTA. The mma.sync kernel's sum is done by
 * the last CTA to arrive; the wgmma kernel's by the tile's first CTA, whose
 * part ends its stripe: it waits for the count (stripes.cuh, the owner
 * fix-up), which needs every CTA of the grid resident at once, as the
 * selector's one-wave grids are. */
typedef struct marlin_dense_plan {
  int32_t config;           /* MARLIN_TILE_CONFIG_*                          */
  int32_t m_tiles, n_tiles; /* output tiles                                  */
  int32_t ksteps;           /* k_tile steps covering Kp                      */
  int32_t ctas;             /* persistent grid size                          */
  int32_t units_per_cta;    /* q = units / ctas (>= 1)                       */
  int32_t units_extra;      /* r = units % ctas: CTAs < r take q + 1 units   */
  int32_t cluster;          /* > 1: a split plan (every tile cut into this
                               many equal parts, <= 8, CTA i holding part
                               i % cluster of tile i / cluster) of the mma.sync
                               kernel on sm90, whose parts sum in distributed
                               shared memory when the launcher can run the
                               grid as one wave of clusters of this size
                               (dense.cuh cluster_fits; it passes 1 to the
                               kernel otherwise); 1: the workspace fix-up.
                               COLUMN plans: the CTAs (a cluster on sm90)
                               that cut one 8 x 64 block's K (1, 2, 4, 8) */
  int32_t smem_bytes;       /* dynamic shared memory per CTA                 */
  size_t ws_counters;       /* byte offsets into the workspace               */
  size_t ws_partials;
  size_t ws_a_perm;         /* act-order: permuted copy of A (m x k)         */
  size_t workspace_bytes;   /* total                                         */
} marlin_dense_plan;

/* Everything a generated launcher needs. Pointers are device pointers. */
typedef struct marlin_dense_params {
  int32_t m, n, k;          /* logical problem                                */
  int32_t n_pad, k_pad;     /* packed dims: roundup(n, 64), roundup(k, 16)    */
  int32_t group_size;       /* rows per scale group (1 << 30 when channelwise) */
  int32_t per_row_groups;   /* act-order with !is_k_full: g_idx per row       */
  int32_t programmatic;     /* launched with programmatic dependent launch    */
  const void *a;            /* m x k, row stride lda (maybe the permuted copy) */
  int64_t lda;
  const void *b, *scales, *zeros;
  const int32_t *g_idx;     /* sorted g_idx when per_row_groups               */
  const void *bias;
  void *c;
  int64_t ldc;
  void *workspace;
  marlin_dense_plan plan;
  cudaStream_t stream;
} marlin_dense_params;

/* A generated launcher: enqueues the kernel of params->plan.config; returns a
 * cudaError_t value (0 on success). */
typedef int (*marlin_dense_launch_fn)(const marlin_dense_params *params);

/* Pipeline stages of a config of the given kind and stages (configs.def) with
 * bits-wide weights: the configured count, less one for the WGMMA rows with
 * 8-bit weights (twice the weight bytes per stage; all the stages would not
 * fit in 227 KB of shared memory). A macro so that the kernel launcher
 * (dense.cuh) can use it as a template argument. */
#define MARLIN_TILE_STAGES(kind, stages, bits) \
  ((kind) == MARLIN_TILE_WGMMA && (bits) == 8 ? (stages) - 1 : (stages))
static inline int32_t marlin_tile_stages(marlin_tile_config c, int bits) {
  return MARLIN_TILE_STAGES(c.kind, c.stages, bits);
}

/* Bytes of dynamic shared memory the dense kernel uses for config c with
 * bits-wide weights (4 or 8). Must match include/marlin/kernel/dense.cuh and
 * dense_wgmma.cuh (WGMMA: the same stage layout, marlin_tile_stages() of
 * them, no reduction buffer, and 1024 bytes of slack to align the swizzled
 * activations). */
static inline int32_t marlin_dense_smem_bytes(marlin_tile_config c, int bits) {
  if (c.kind == MARLIN_TILE_COLUMN) { /* dense_column.cuh: a ring of ColumnSlots per warp, or the reduction */
    const int32_t tok = MARLIN_COLUMN_TOKENS(c.m_blocks);
    int32_t ring = c.threads / 32 * c.stages * MARLIN_COLUMN_SLOT_BYTES(bits, tok);
    int32_t red = (c.threads / 32 * tok * MARLIN_COLUMN_RED_LD + tok * 64) * 4;
    return ring > red ? ring : red;
  }
  int32_t a_stage = 16 * c.m_blocks * c.k_tile * 2;         /* fp16/bf16 A      */
  int32_t b_stage = c.k_tile * c.n_tile * bits / 8;         /* packed weights   */
  int32_t s_stage = (c.k_tile / 16) * c.n_tile * 2;         /* <= k_tile/16 scale rows */
  int32_t z_stage = (c.k_tile / 16) * c.n_tile / 2;         /* int4 zero points */
  int32_t pipe = marlin_tile_stages(c, bits) * (a_stage + b_stage + s_stage + z_stage);
  if (c.kind == MARLIN_TILE_WGMMA) return pipe + 1024;
  int32_t warps_k = c.threads / 32 / (c.n_tile / 64);
  int32_t red = (warps_k - 1) * 16 * c.m_blocks * c.n_tile * 4; /* fp32 partials */
  return pipe > red ? pipe : red;
}

#ifdef __cplusplus
}
#endif

#endif
