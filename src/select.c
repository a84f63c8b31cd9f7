/* Run-time kernel selection: tile shape from M, K split from the SM count.
 *
 * Tiles: 16 rows for M <= 16 (decode), 32 rows for M <= 32, otherwise 64 x 256
 * tiles. Splits: when the tiles alone cannot fill the GPU (about two CTAs per
 * SM for the small tiles), each tile's K range is split over several CTAs,
 * by a small cost model (below); partial sums go through the workspace and
 * are added in a fixed order. */
#include "select.h"

#include "internal.h"

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
static size_t align256(size_t x) { return (x + 255) & ~(size_t)255; }

static int default_config(int64_t m) {
  if (m <= 16) return MARLIN_TILE_CONFIG_0;
  if (m <= 32) return MARLIN_TILE_CONFIG_1;
  return MARLIN_TILE_CONFIG_2;
}

marlin_status marlin_dense_select(int64_t m, int64_t n, int64_t k, int bits, int act_order_copy,
                                  const marlin_device_info *dev, int forced_config,
                                  marlin_dense_plan *plan) {
  const int config = forced_config >= 0 ? forced_config : default_config(m);
  const marlin_tile_config c = marlin_tile_config_get(config);
  const int smem = marlin_dense_smem_bytes(c, bits);
  if (smem > dev->max_smem)
    return marlin_fail(MARLIN_STATUS_INVALID_VALUE,
                       "tile config %d needs %d bytes of shared memory; the device allows %d",
                       config, smem, dev->max_smem);

  const int64_t n_pad = ceil_div(n, 64) * 64, k_pad = ceil_div(k, 16) * 16;
  const int64_t m_tiles = ceil_div(m > 0 ? m : 1, 16 * c.m_blocks);
  const int64_t n_tiles = ceil_div(n_pad, c.n_tile);
  const int64_t ksteps = ceil_div(k_pad, c.k_tile);
  const int64_t tiles = m_tiles * n_tiles;

  /* CTAs one SM holds at once: shared memory, and the kernel's launch bounds. */
  int per_sm = dev->max_smem / smem;
  const int bound = c.m_blocks <= 2 ? 2 : 1;
  if (per_sm > bound) per_sm = bound;
  if (per_sm < 1) per_sm = 1;
  const int64_t slots = (int64_t)dev->sms * per_sm;

  /* Split K to fill the GPU. Cost model in k-steps: each wave of CTAs costs
   * its steps plus a fixed ~3 steps of pipeline fill and epilogue, so fewer,
   * longer CTAs win over two short waves (memory-bound decode). */
  int64_t best_splits = 1, best_cost = -1;
  const int64_t max_splits = ksteps / 2 < MARLIN_MAX_SPLITS ? (ksteps / 2 > 0 ? ksteps / 2 : 1) : MARLIN_MAX_SPLITS;
  for (int64_t s = 1; s <= max_splits; ++s) {
    const int64_t per = ceil_div(ksteps, s);
    if (ceil_div(ksteps, per) != s) continue; /* s would leave an empty split */
    const int64_t waves = ceil_div(tiles * s, slots);
    const int64_t cost = waves * (per + 3);
    if (best_cost < 0 || cost < best_cost) best_cost = cost, best_splits = s;
  }

  plan->config = config;
  plan->m_tiles = (int32_t)m_tiles;
  plan->n_tiles = (int32_t)n_tiles;
  plan->ksteps = (int32_t)ksteps;
  plan->ksteps_per_split = (int32_t)ceil_div(ksteps, best_splits);
  plan->splits = (int32_t)best_splits;
  plan->smem_bytes = smem;

  size_t off = 0;
  plan->ws_counters = off;
  off = align256(off + (size_t)tiles * sizeof(int32_t));
  plan->ws_partials = off;
  if (best_splits > 1) off = align256(off + (size_t)tiles * (size_t)best_splits * 16 * c.m_blocks * c.n_tile * sizeof(float));
  plan->ws_a_perm = off;
  if (act_order_copy) off = align256(off + (size_t)(m > 0 ? m : 0) * (size_t)ceil_div(k, 8) * 8 * 2);
  plan->workspace_bytes = off;
  return MARLIN_STATUS_SUCCESS;
}
