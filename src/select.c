/* Run-time kernel selection: for every tile config of configs.def that fits
 * the device, the grid (how the (tile, k-step) units are shared by the CTAs in
 * stripes, plan.h) comes from the cost model in plan_config(); the config with
 * the lowest estimated time wins (estimate_ns()). */
#include "select.h"

#include <stdlib.h>

#include "internal.h"

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
static size_t align256(size_t x) { return (x + 255) & ~(size_t)255; }
/* One fp32 partial sum of a whole output tile (one workspace slot). */
static size_t tile_partial_bytes(marlin_tile_config c) {
  return (size_t)16 * c.m_blocks * c.n_tile * sizeof(float);
}

/* The column kernel (COLUMN configs, dense_column.cuh) is taken by a rule,
 * not by the cost model: on sm90, with 4-bit weights, at M <= COLUMN_MAX_M,
 * where it beat the MMA configs on 7 of the 8 standard shapes at M = 1
 * (geomean over cuBLAS 2.75 against 2.48; M = 4: 2.65 against 2.46; H100,
 * docs/performance.md, fourteenth session). At M = 8 it won on half of
 * them, at M = 16 on none; before sm90 (no clusters to cut K) it was not
 * measured. Its grid is chosen by the number of 64-column blocks against
 * the SMs (column_config, column_cluster).
 * With 8-bit weights it wins only on small layers, at most one 64-column
 * block per two SMs and K <= 8192: there, one 8-warp CTA per block
 * (column_config8). H100 M = 1, config 8 without clusters against config 0:
 * 4096 x 4096 10.0 against 11.7 us (sixteenth and twentieth sessions). With
 * the bytes-bound grids of config 0 (grid_cost) it lost the layers of one
 * to two blocks per SM, 4096 x 6144 13.1 against 12.7 and 8192 x 8192 26.5
 * against 26.4, even (twentieth session; before them it had won those, 13.4
 * against 13.6 and 27.4 against 28.5), and 28672 x 8192 (87.1 against
 * 84.1, sixteenth session).
 * Past COLUMN_MAX_M, 16-token blocks (config 10) win the small layers up
 * to M = 16 with 4-bit weights (column16_config). */
#ifndef COLUMN_MAX_M /* -DCOLUMN_MAX_M=0 in c_args: the column configs only when forced (A/B runs) */
#define COLUMN_MAX_M 4
#endif

/* The column grid for `blocks` 8 x 64 output blocks of `ksteps` k16 rows:
 *  - at most half as many blocks as SMs: clusters of 2; 16-warp CTAs
 *    (config 7) if each warp still gets >= 16 k16 rows, else 8-warp CTAs
 *    (config 8);
 *  - at most one block per SM: one 16-warp CTA per block (config 7);
 *  - up to 4 blocks per SM: 4-warp CTAs, 6 per SM, in clusters of 2
 *    (config 9; sixteenth session: 8192 x 10240 20.1 us against 22.3 for
 *    config 8, 4096 x 28672 28.2 against 29.7, the finer CTAs balancing
 *    the SMs' load);
 *  - more: 8-warp CTAs, 3 per SM, in clusters of 2 (config 8; 8192 x 57344
 *    88.8 us against 90.2 for config 9).
 * With zero points (AWQ) config 9 stops at 2 blocks per SM: on 4096 x 28672
 * (3.4 per SM) awq4 took 31.2 us on it against 29.7-29.9 on config 8,
 * while on 8192 x 10240 (1.2 per SM) it gained like gptq4 (24.1 -> 22.8;
 * sixteenth session).
 * Each choice was the fastest of configs 7, 8 with clusters of 1, 2 (and
 * config 9 with 1, 2, 4, 8), or within 0.4 us of it, at every standard
 * shape on the H100.
 * column_config is the selector's config; column_cluster the CTAs of a
 * cluster cutting each block's K for a given (or forced) column config
 * (sm90; else 1), MARLIN_COLUMN_CLUSTER=1|2|4|8 overriding it (tests and
 * A/B runs, docs/api.md). */
static int column_config(int64_t blocks, int64_t ksteps, int zeros, const marlin_device_info *dev) {
  if (2 * blocks <= dev->sms) return ksteps / 2 / 16 >= 16 ? MARLIN_TILE_CONFIG_7 : MARLIN_TILE_CONFIG_8;
  if (blocks <= dev->sms) return MARLIN_TILE_CONFIG_7;
  return blocks <= (zeros ? 2 : 4) * dev->sms ? MARLIN_TILE_CONFIG_9 : MARLIN_TILE_CONFIG_8;
}
/* 8-bit weights: the column config (8, one CTA per block: column_cluster)
 * where it wins (at most one block per two SMs, K <= 8192), else -1 (the
 * MMA configs). */
static int column_config8(int64_t blocks, int64_t ksteps, const marlin_device_info *dev) {
  return 2 * blocks <= dev->sms && ksteps <= 8192 / 16 ? MARLIN_TILE_CONFIG_8 : -1;
}
/* 4-bit weights at 8 < M <= 16: the 16-token column CTA (config 10; one
 * block of 16 tokens instead of the MMA tiles' split K) on layers of at
 * most one 64-column block per SM and K <= 4096, else -1 (the MMA
 * configs). H100, M = 16 / 13, gptq4 (nineteenth session): 4096 x 4096
 * 8.6 / 8.4 us in clusters of 2 against 10.7 / 10.6 for config 0, 4096 x
 * 6144 10.2 / 10.1 without clusters against 11.0 / 10.9; awq4 M = 16 9.7
 * against 11.3, 10.9 against 12.1. It lost 14336 x 4096 (19.0 against
 * 18.0) and 8192 x 8192 (20.8 against 19.4). */
static int column16_config(int64_t m, int64_t blocks, int64_t ksteps, const marlin_device_info *dev) {
  return m > 8 && m <= 16 && blocks <= dev->sms && ksteps <= 4096 / 16 ? MARLIN_TILE_CONFIG_10 : -1;
}
static int64_t column_cluster(int64_t blocks, int64_t ksteps, int bits, const marlin_device_info *dev,
                              marlin_tile_config c) {
  int64_t kc = dev->arch < 90 || bits == 8                                         ? 1
               : (c.threads / 32 > 8 || c.m_blocks > 1) && 2 * blocks > dev->sms ? 1
                                                                                 : 2;
  const char *const env = getenv("MARLIN_COLUMN_CLUSTER");
  const int64_t forced = env ? atoi(env) : 0;
  if ((forced == 1 || forced == 2 || forced == 4 || forced == 8) && dev->arch >= 90) kc = forced;
  return kc > 1 && ksteps < kc ? 1 : kc;
}

/* Fills *plan: `ctas` CTAs over the m_tiles x n_tiles tiles of ksteps
 * k-steps each (the stripe fields: units / ctas, units % ctas), and the
 * workspace layout: the fixed counter region, `partial_bytes` of fp32
 * partials per CTA, and (act_order_copy) room for the permuted copy of A. */
static void set_plan(marlin_dense_plan *plan, int config, int64_t m_tiles, int64_t n_tiles, int64_t ksteps,
                     int64_t ctas, int smem, int64_t cluster, size_t partial_bytes, int64_t m, int64_t k,
                     int act_order_copy) {
  const int64_t units = m_tiles * n_tiles * ksteps;
  plan->config = config;
  plan->m_tiles = (int32_t)m_tiles;
  plan->n_tiles = (int32_t)n_tiles;
  plan->ksteps = (int32_t)ksteps;
  plan->ctas = (int32_t)ctas;
  plan->units_per_cta = (int32_t)(units / ctas);
  plan->units_extra = (int32_t)(units % ctas);
  plan->smem_bytes = smem;
  plan->cluster = (int32_t)cluster;
  size_t off = 0;
  plan->ws_counters = off;
  off = align256(MARLIN_TILE_COUNTERS * sizeof(int32_t));
  plan->ws_partials = off;
  off = align256(off + (size_t)ctas * partial_bytes);
  plan->ws_a_perm = off;
  if (act_order_copy) off = align256(off + (size_t)(m > 0 ? m : 0) * (size_t)ceil_div(k, 8) * 8 * 2);
  plan->workspace_bytes = off;
}

/* Estimated time of an MMA or WGMMA plan (ns): a fixed cost per kernel
 * kind (launch, ring fill, the last CTAs' fix-up latency), plus the busiest
 * CTA's k-steps times the config's measured time per k-step (configs.def:
 * step_ns), plus the summing CTA reading the other parts' fp32 partials
 * (only the rows < m are read), per KB:
 *  - WGMMA: the owner fix-up (stripes.cuh), partials read into registers;
 *  - MMA, split into a cluster (sm90): summed through distributed shared
 *    memory;
 *  - MMA otherwise: the last CTA to arrive reads them from the workspace.
 * All were fitted (least squares on the log of the time) to the
 * nineteenth session's H100 sweep: every config forced on the 8 standard
 * shapes at M = 16, 32, 64, 128, gptq4 (docs/performance.md); rms error
 * 4 % against 11 % for the ninth session's constants, and the lowest
 * estimate is the fastest config measured at every one of those 32 points.
 * 8-bit weights use the same constants, but for the 32- and 64-token WGMMA
 * tiles, whose k-step slows more with them (one ring stage less, bound by
 * the weights' bytes): on the same plans the gptq8 time was a median 1.47x
 * gptq4's for config 5 and 1.31x for config 6, against 1.19x for config 1
 * and 1.09x for config 3. Their step costs 1.1x with 8-bit weights: without
 * it 14336 x 4096 went to config 6 at M = 48-64 (36.4 us against 32.6 for
 * config 3) and to config 5 at M = 32 (31.3 against 28.4 for config 1);
 * larger factors move unmeasured 8-bit picks (M = 64 on the large layers).
 * The 8-bit picks are not fitted: the sweep's best gptq8 config was
 * 3.2 / 3.4 % faster in geomean at M = 16 / 32 (docs/performance.md).
 * A WGMMA k-step is faster when the tiles' token rows are partly past m
 * (those rows are zero-filled, not loaded, and their MMA work is wasted):
 * on the H100 at half the rows 0.86x for 128-token tiles, 0.92x for 64 and
 * 0.96x for 32 (the smaller tiles are bound by the weights), so the time is
 * scaled by 1 - 0.28 x min(1, tokens / 128) x (1 - the rows' average use). */
#define WGMMA_FIXED_NS 5300.0
#define WGMMA_SMALL_TILE_8BIT_STEP 1.1
#define WGMMA_PARTIAL_NS_PER_KB 12.0
#define MMA_CLUSTER_FIXED_NS 3200.0
#define MMA_CLUSTER_PARTIAL_NS_PER_KB 25.0
#define MMA_FIXED_NS 4100.0
#define MMA_PARTIAL_NS_PER_KB 30.0
static double estimate_ns(const marlin_tile_config c, int bits, int64_t m, double steps, int64_t parts,
                          int64_t cluster) {
  const int64_t tm = 16 * (int64_t)c.m_blocks;
  const double use = (double)m / (double)(ceil_div(m, tm) * tm);
  const double partial_kb = (double)tile_partial_bytes(c) * use / 1024;
  double step_ns = c.step_ns, fixed_ns = MMA_FIXED_NS, partial_ns = MMA_PARTIAL_NS_PER_KB;
  if (c.kind == MARLIN_TILE_WGMMA) {
    step_ns *= 1 - 0.28 * (tm < 128 ? (double)tm / 128 : 1) * (1 - use);
    if (bits == 8 && tm < 128) step_ns *= WGMMA_SMALL_TILE_8BIT_STEP;
    fixed_ns = WGMMA_FIXED_NS, partial_ns = WGMMA_PARTIAL_NS_PER_KB;
  } else if (cluster > 1) {
    fixed_ns = MMA_CLUSTER_FIXED_NS, partial_ns = MMA_CLUSTER_PARTIAL_NS_PER_KB;
  }
  return steps * step_ns + (double)(parts - 1) * partial_kb * partial_ns + fixed_ns;
}

/* A split plan's parts may sum in a cluster (sm90: distributed shared
 * memory; the mma.sync kernel; portable cluster sizes, <= 8). */
static int64_t split_cluster(marlin_tile_config c, int64_t split, const marlin_device_info *dev) {
  return c.kind == MARLIN_TILE_MMA && dev->arch >= 90 && split >= 2 && split <= 8 ? split : 1;
}

/* The grid's cost in k-steps of its config's step_ns (a CTA's k-step with
 * the GPU full: every SM holding ctas_per_sm CTAs), each segment of a tile a
 * CTA works on costing 3 steps more (pipeline fill, epilogue).
 * The compute-bound model (every config but one, and every arch but sm90):
 * the waves times a CTA's steps.
 * The bytes-bound model: the 16-token MMA tile on sm90 (config 0, 2 CTAs per
 * SM, one token tile: M <= 16) reads 8 KB of 4-bit weights per k-step and
 * does little else, so the full GPU is bound by the weights' bytes and a
 * grid that leaves SMs with one CTA, or idle, runs its CTAs faster. Its
 * cost is the larger of
 *  - the bytes: all the CTAs' steps over the full GPU's slots, and
 *  - the busiest SM: a CTA's steps times `lone` where no SM holds two CTAs
 *    (at most one CTA per SM, in clusters of at most 2: larger clusters
 *    are placed two to an SM) or times `shared` (a CTA sharing its SM, the
 *    rest of the GPU less loaded);
 * a grid of several waves costs waves x steps with 4-bit weights, like the
 * compute-bound model (a wave of 448 CTAs on 8192 x 57344 lost to stripes
 * over one: awq4 113.1 us against 105.0, gptq4 bf16 102 against 98; gptq4
 * fp16 even), and its bytes with 8-bit ones (160.1 against 164.5). The
 * grids of this model are compared by their whole estimate (estimate_ns:
 * the fixed and fix-up costs of a cluster sum and of stripes differ), with
 * 8-bit weights at their own full-load step (1.36 us against step_ns'
 * 0.77: twice the bytes; step_scale); the config's estimate against the
 * other configs uses step_ns (the nineteenth session's fit).
 * H100, twentieth session: config 0 forced with every split (MARLIN_SPLIT)
 * on the 8 standard shapes, gptq4 at M = 16 and gptq8 at M = 1
 * (docs/performance.md). Least squares on the log of the time: lone 0.51,
 * shared 0.82 with 4-bit weights (rms 5.4 %), 0.31 and 0.62 of the 8-bit
 * step with 8-bit ones (rms 6.0 %); the picks are the fastest plan measured
 * on 7 of 8 shapes (4096 x 4096: 8 parts, 10.9 / 11.7 us against 10.5 /
 * 11.7 for 4 parts; the column configs are taken there). The old grid
 * model (waves x steps, the cheaper in steps) lost on 4096 x 28672 (stripes
 * over the 264 slots 31.7 us against 27.7 for one CTA per tile, 224 CTAs)
 * and 8192 x 8192 (4 parts 19.3 against 18.6 for 2), and with 8-bit weights
 * on 8192 x 10240 (stripes 37.3 against 34.6 for 80 CTAs, one per tile)
 * and 28672 x 8192 (4 parts 84.5 against 81.7 for 2). */
typedef struct grid_rates {
  int bound_by_bytes; /* else the compute-bound model */
  double lone, shared;
  double step_scale; /* the full-load k-step against step_ns (8-bit weights: more bytes) */
  int waves_by_bytes; /* a grid of several waves costs its bytes too (else waves x steps) */
} grid_rates;
static grid_rates grid_rates_of(marlin_tile_config c, int bits, int64_t m_tiles, int per_sm,
                                const marlin_device_info *dev) {
  grid_rates r = {0, 1, 1, 1, 0};
  if (c.kind == MARLIN_TILE_MMA && dev->arch >= 90 && per_sm >= 2 && c.m_blocks == 1 && m_tiles == 1) {
    r.bound_by_bytes = 1;
    r.lone = bits == 8 ? 0.31 : 0.51;
    r.shared = bits == 8 ? 0.62 : 0.82;
    r.step_scale = bits == 8 ? 1360.0 / 770 : 1;
    r.waves_by_bytes = bits == 8;
  }
  return r;
}
static double grid_cost(int64_t ctas, int64_t ksteps, int64_t segments, int64_t cluster, int64_t slots,
                        int64_t sms, grid_rates r) {
  const double waves = (double)ceil_div(ctas, slots), steps = (double)(ksteps + 3 * segments);
  if (!r.bound_by_bytes || (ctas > slots && !r.waves_by_bytes)) return waves * steps;
  const double bytes = (double)ctas * steps / (double)slots;
  const double sm = steps * (ctas <= sms && cluster <= 2 ? r.lone : waves * r.shared);
  return bytes > sm ? bytes : sm;
}

/* What plan_config compares a config's grids by: the bytes-bound model the
 * whole estimate (the fixed and fix-up costs of a cluster sum and a
 * workspace sum differ), at the weights' own full-load step; the
 * compute-bound one the grid's steps alone. */
static double grid_score(marlin_tile_config c, int bits, int64_t m, grid_rates r, double steps, int64_t parts,
                         int64_t cluster) {
  return r.bound_by_bytes ? estimate_ns(c, bits, m, steps * r.step_scale, parts, cluster) : steps;
}

/* The plan of one config, and *est_ns its estimated time (MMA and WGMMA
 * configs; the column configs are taken by rule, column_config). */
static marlin_status plan_config(int64_t m, int64_t n, int64_t k, int bits, int zeros, int act_order_copy,
                                 const marlin_device_info *dev, int config,
                                 marlin_dense_plan *plan, double *est_ns) {
  const marlin_tile_config c = marlin_tile_config_get(config);
  if (!MARLIN_TILE_SERVES(c.weights, bits, zeros))
    return marlin_fail(MARLIN_STATUS_INVALID_VALUE,
                       "tile config %d is built only for 4-bit weights%s (configs.def): not for %d-bit "
                       "weights%s",
                       config, c.weights == MARLIN_TILE_WEIGHTS_W4_NOZERO ? " without zero points" : "", bits,
                       zeros ? " with zero points" : "");
  if (c.kind == MARLIN_TILE_WGMMA && !dev->wgmma)
    return marlin_fail(MARLIN_STATUS_INVALID_VALUE,
                       "tile config %d is a wgmma (Hopper) config: it needs an sm_90 GPU, a build with "
                       "-Darchs=90a and no act-order K shard",
                       config);
  if (c.kind == MARLIN_TILE_COLUMN && !dev->column)
    return marlin_fail(MARLIN_STATUS_INVALID_VALUE,
                       "tile config %d is a column config: it does not run act-order on a K shard "
                       "(is_k_full = 0)",
                       config);
  const int smem = marlin_dense_smem_bytes(c, bits);
  if (smem > dev->max_smem)
    return marlin_fail(MARLIN_STATUS_INVALID_VALUE,
                       "tile config %d needs %d bytes of shared memory; the device allows %d",
                       config, smem, dev->max_smem);

  const int64_t n_pad = ceil_div(n, 64) * 64, k_pad = ceil_div(k, 16) * 16;
  const int64_t tile_m = c.kind == MARLIN_TILE_COLUMN ? MARLIN_COLUMN_TOKENS(c.m_blocks) : 16 * c.m_blocks;
  const int64_t m_tiles = ceil_div(m > 0 ? m : 1, tile_m);
  const int64_t n_tiles = ceil_div(n_pad, c.n_tile);
  const int64_t ksteps = ceil_div(k_pad, c.k_tile);
  const int64_t tiles = m_tiles * n_tiles;

  /* CTAs one SM holds at once: shared memory, and the kernel's launch bounds. */
  int per_sm = dev->max_smem / smem;
  if (per_sm > c.ctas_per_sm) per_sm = c.ctas_per_sm;
  if (per_sm < 1) per_sm = 1;

  /* The kernel's stripe arithmetic is 32-bit. */
  const int64_t units = tiles * ksteps;
  if (units > INT32_MAX)
    return marlin_fail(MARLIN_STATUS_INVALID_VALUE,
                       "m = %lld, n = %lld, k = %lld is too large: %lld tile steps (the limit is 2^31 - 1)",
                       (long long)m, (long long)n, (long long)k, (long long)units);

  if (c.kind == MARLIN_TILE_COLUMN) { /* one CTA per 8 x 64 output block, its warps splitting K */
    const int64_t blocks = m_tiles * n_tiles, kc = column_cluster(blocks, ksteps, bits, dev, c);
    if (blocks * kc > INT32_MAX)
      return marlin_fail(MARLIN_STATUS_INVALID_VALUE, "m = %lld, n = %lld is too large for the column kernel",
                         (long long)m, (long long)n);
    /* no workspace partials: the kernel does not use the stripe fields */
    set_plan(plan, config, m_tiles, n_tiles, ksteps, blocks * kc, smem, kc, 0, m, k, act_order_copy);
    return MARLIN_STATUS_SUCCESS;
  }

  /* Grid size from a small cost model in k-steps (grid_cost), over:
   *  - split: tiles x s CTAs, each tile's K cut into s equal parts, in
   *    ceil(CTAs / slots) waves; good when CTAs are short (small problems);
   *  - stripes: one full wave, every CTA the same number of units (+-1); no tail,
   *    good when the tiles alone would leave a partial last wave. */
  int64_t slots = (int64_t)dev->sms * per_sm;
  if (slots > MARLIN_TILE_COUNTERS) slots = MARLIN_TILE_COUNTERS; /* a grid that cuts tiles: plan.h */
  const grid_rates r = grid_rates_of(c, bits, m_tiles, per_sm, dev);
  int64_t ctas = tiles, parts = 1, cluster = 1;
  double best = -1, best_steps = 0;
  for (int64_t s = 1; s <= MARLIN_MAX_TILE_PARTS && s <= ksteps; ++s) {
    const int64_t per = ksteps / s;
    if (s > 1 && per < 2) break;
    if (ksteps % s) continue; /* equal parts, so stripes never straddle tiles */
    if (s > 1 && tiles * s > slots) break; /* a grid that cuts tiles is one wave */
    const int64_t cl = split_cluster(c, s, dev);
    const double steps = grid_cost(tiles * s, per, 1, cl, slots, dev->sms, r);
    const double score = grid_score(c, bits, m, r, steps, s, cl);
    if (best < 0 || score < best) best = score, best_steps = steps, ctas = tiles * s, parts = s, cluster = cl;
  }
  if (slots < units) {
    const int64_t per = ceil_div(units, slots), p = ceil_div(ksteps, per) + 1;
    const double steps = grid_cost(slots, per, 1 + ceil_div(per, ksteps), 1, slots, dev->sms, r);
    const double score = grid_score(c, bits, m, r, steps, p, 1);
    if (score < best && ceil_div(ksteps, units / slots) < MARLIN_MAX_TILE_PARTS)
      best = score, best_steps = steps, ctas = slots, parts = p, cluster = 1;
  }
  *est_ns = estimate_ns(c, bits, m, best_steps, parts, cluster);
  set_plan(plan, config, m_tiles, n_tiles, ksteps, ctas, smem, cluster, 2 * tile_partial_bytes(c), m, k,
           act_order_copy);
  return MARLIN_STATUS_SUCCESS;
}

marlin_status marlin_dense_select(int64_t m, int64_t n, int64_t k, int bits, int zeros, int act_order_copy,
                                  const marlin_device_info *dev, int forced_config,
                                  marlin_dense_plan *plan) {
  double t;
  if (forced_config >= 0) return plan_config(m, n, k, bits, zeros, act_order_copy, dev, forced_config, plan, &t);
  int rule = -1; /* the column kernel's rules (above) */
  if (dev->column && dev->arch >= 90) {
    const int64_t blocks = ceil_div(n, 64), ksteps = ceil_div(k, 16);
    if (m <= COLUMN_MAX_M)
      rule = bits == 4 ? column_config(blocks, ksteps, zeros, dev) : column_config8(blocks, ksteps, dev);
    else if (bits == 4)
      rule = column16_config(m, blocks, ksteps, dev);
  }
  if (rule >= 0) {
    if (plan_config(m, n, k, bits, zeros, act_order_copy, dev, rule, plan, &t) == MARLIN_STATUS_SUCCESS)
      return MARLIN_STATUS_SUCCESS;
    marlin_clear_error(); /* e.g. too little shared memory: the other configs */
  }
  double best = -1;
  marlin_status first_error = MARLIN_STATUS_SUCCESS;
  for (int config = 0; config < MARLIN_TILE_CONFIG_COUNT; ++config) {
    const marlin_tile_config c = marlin_tile_config_get(config);
    if (c.kind == MARLIN_TILE_WGMMA && !dev->wgmma) continue;
    /* The WGMMA tiles of fewer than 128 tokens exist for small M: with more
     * than one token tile they re-read every weight per tile and lost to
     * the 128-token tile at every standard shape measured (H100,
     * docs/performance.md). */
    if (c.kind == MARLIN_TILE_WGMMA && c.m_blocks < 8 && m > 16 * c.m_blocks) continue;
    /* only the rows built for these weights (configs.def `weights`) */
    if (!MARLIN_TILE_SERVES(c.weights, bits, zeros)) continue;
    if (c.kind == MARLIN_TILE_COLUMN) continue; /* by the rule above only */
    marlin_dense_plan p;
    const marlin_status st = plan_config(m, n, k, bits, zeros, act_order_copy, dev, config, &p, &t);
    if (st != MARLIN_STATUS_SUCCESS) {
      if (first_error == MARLIN_STATUS_SUCCESS) first_error = st;
      continue;
    }
    if (best < 0 || t < best) best = t, *plan = p;
  }
  if (best < 0) return first_error; /* the message of the last config tried */
  if (first_error != MARLIN_STATUS_SUCCESS) marlin_clear_error(); /* a config was skipped */
  return MARLIN_STATUS_SUCCESS;
}
