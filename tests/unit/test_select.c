/* The run-time selector (src/select.c) against the invariants the dense
 * kernel relies on, over many shapes and GPUs: the grid partitions every
 * (tile, k-step) unit exactly once; no tile is cut into more parts than the
 * kernel's per-tile table holds (MARLIN_MAX_TILE_PARTS + 2); the workspace has
 * room for every partial slot and counter; a cut tile's first CTA ends its
 * stripe in it and a wgmma grid that cuts tiles is one wave (the owner
 * fix-up's waits); forced configs are honoured or refused. The partition
 * formulas are restated here as an independent oracle of
 * include/marlin/kernel/dense.cuh. */
#include <stdlib.h>
#include <string.h>

#include "select.h"
#include "test_main.h"

/* {sms, max_smem, arch, wgmma, column}: column = 1, problems without per-row groups */
static const marlin_device_info h100 = {132, 227 * 1024, 90, 0, 1};
static const marlin_device_info h100_wgmma = {132, 227 * 1024, 90, 1, 1}; /* an sm_90a kernel */
static const marlin_device_info a10 = {72, 99 * 1024, 86, 0, 1};
static const marlin_device_info tiny = {4, 99 * 1024, 80, 0, 1}; /* 4 SMs: many parts per tile */

/* First unit of CTA i (plan.h: i * q + min(i, r)). */
static int64_t begin_of(const marlin_dense_plan *p, int64_t i) {
  return i * p->units_per_cta + (i < p->units_extra ? i : p->units_extra);
}

static void check_plan(int64_t m, int64_t n, int64_t k, int bits, const marlin_device_info *dev) {
  marlin_dense_plan p;
  assert_int_equal(marlin_dense_select(m, n, k, bits, 0, 0, dev, -1, &p), MARLIN_STATUS_SUCCESS);
  const marlin_tile_config c = marlin_tile_config_get(p.config);
  assert_true(p.config >= 0 && p.config < MARLIN_TILE_CONFIG_COUNT);
  assert_true(p.smem_bytes <= dev->max_smem);
  const int64_t tile_m = c.kind == MARLIN_TILE_COLUMN ? MARLIN_COLUMN_TOKENS(c.m_blocks) : 16 * c.m_blocks;
  assert_int_equal(p.m_tiles, (m + tile_m - 1) / tile_m);
  assert_int_equal(p.n_tiles, ((n + 63) / 64 * 64 + c.n_tile - 1) / c.n_tile);
  assert_int_equal(p.ksteps, ((k + 15) / 16 * 16 + c.k_tile - 1) / c.k_tile);
  const int64_t tiles = (int64_t)p.m_tiles * p.n_tiles, units = tiles * p.ksteps;
  assert_int_equal(p.ws_counters, 0);
  assert_true(p.ws_partials >= MARLIN_TILE_COUNTERS * 4);
  if (c.kind == MARLIN_TILE_COLUMN) { /* one CTA per 8 x 64 block, or a cluster of K parts (sm90) */
    assert_true(p.cluster == 1 || p.cluster == 2 || p.cluster == 4 || p.cluster == 8);
    if (p.cluster > 1) assert_true(dev->arch >= 90 && p.ksteps >= p.cluster);
    assert_int_equal(p.ctas, tiles * p.cluster);
    assert_true(dev->column);
    return;
  }
  assert_true(p.ctas >= 1 && p.ctas <= units);
  assert_int_equal(p.units_per_cta, units / p.ctas);
  assert_int_equal(p.units_extra, units % p.ctas);
  assert_int_equal(begin_of(&p, p.ctas), units);
  /* every CTA gets >= 1 unit; count the CTAs touching each tile */
  int *parts = calloc((size_t)tiles, sizeof(int));
  for (int64_t i = 0; i < p.ctas; ++i) {
    const int64_t b = begin_of(&p, i), e = begin_of(&p, i + 1);
    assert_true(e > b);
    for (int64_t t = b / p.ksteps; t <= (e - 1) / p.ksteps; ++t) parts[t]++;
    /* at most two partial segments per CTA: its first and last tile */
    const int64_t first = b / p.ksteps, last = (e - 1) / p.ksteps;
    for (int64_t t = first + 1; t < last; ++t)
      assert_true(t * p.ksteps >= b && (t + 1) * p.ksteps <= e); /* whole tiles in between */
  }
  for (int64_t t = 0; t < tiles; ++t) {
    assert_true(parts[t] >= 1);
    if (parts[t] > MARLIN_MAX_TILE_PARTS + 2)
      fail_msg("m=%lld n=%lld k=%lld: tile %lld cut into %d parts (> %d)", (long long)m,
               (long long)n, (long long)k, (long long)t, parts[t], MARLIN_MAX_TILE_PARTS + 2);
  }
  /* workspace: the fixed counter region, then 2 fp32 slots of a whole tile
   * per CTA; a grid that cuts tiles has at most one counter per CTA (a cut
   * tile's counter is its first CTA's) */
  assert_int_equal(p.ws_counters, 0);
  assert_true(p.ws_partials >= MARLIN_TILE_COUNTERS * 4);
  int cut = 0;
  for (int64_t t = 0; t < tiles; ++t) cut |= parts[t] > 1;
  if (cut) assert_true(p.ctas <= MARLIN_TILE_COUNTERS);
  /* each CTA starts at most one cut tile (holds its first k-step: is its
   * first CTA), and (the owner fix-up, stripes.cuh) ends its stripe inside
   * it, so the tile is its stripe's last segment, the only place it waits
   * for the other parts; a wgmma kernel's grid that cuts tiles, whose
   * owners wait, is one wave (a grid of whole tiles may be larger: nobody
   * waits there) */
  for (int64_t i = 0; i < p.ctas; ++i) {
    const int64_t b = begin_of(&p, i), e = begin_of(&p, i + 1);
    int starts = 0;
    for (int64_t t = (b + p.ksteps - 1) / p.ksteps; t * p.ksteps < e; ++t)
      if (parts[t] > 1) {
        ++starts;
        if (e >= (t + 1) * p.ksteps)
          fail_msg("m=%lld n=%lld k=%lld config %d: cut tile %lld's first CTA %lld ends at %lld, past the tile",
                   (long long)m, (long long)n, (long long)k, p.config, (long long)t, (long long)i, (long long)e);
      }
    assert_true(starts <= 1);
  }
  if (cut && c.kind == MARLIN_TILE_WGMMA && p.ctas > (int64_t)dev->sms * c.ctas_per_sm)
    fail_msg("m=%lld n=%lld k=%lld config %d: %d CTAs", (long long)m, (long long)n, (long long)k, p.config, p.ctas);
  /* a plan that may sum its parts in clusters (plan.h): the mma.sync kernel
   * on sm90, every tile cut into `cluster` equal parts (2..8), held by the
   * consecutive CTAs that a cluster of that size is */
  if (p.cluster != 1) {
    assert_true(p.cluster >= 2 && p.cluster <= 8);
    assert_int_equal(c.kind, MARLIN_TILE_MMA);
    assert_true(dev->arch >= 90);
    assert_int_equal(p.ctas, tiles * p.cluster);
    assert_int_equal(p.units_extra, 0);
    assert_int_equal(p.units_per_cta * p.cluster, p.ksteps);
    for (int64_t t = 0; t < tiles; ++t) assert_int_equal(parts[t], p.cluster);
  }
  free(parts);
  assert_true(p.ws_partials + (size_t)p.ctas * 2 * 16 * c.m_blocks * c.n_tile * 4 <= p.ws_a_perm);
  assert_true(p.ws_a_perm <= p.workspace_bytes);
  assert_int_equal(p.ws_partials % 256, 0);
}

static void select_grid_invariants_h100(void **s) {
  (void)s;
  const int64_t ms[] = {1, 7, 16, 17, 32, 33, 64, 100, 257, 1024, 4096, 65536};
  const int64_t nks[][2] = {{64, 16},    {72, 136},    {4096, 4096}, {6144, 4096},  {28672, 4096},
                            {4096, 14336}, {57344, 8192}, {8192, 28672}, {5472, 7392}, {256, 28672},
                            {64, 65536}};
  for (size_t i = 0; i < sizeof ms / sizeof *ms; ++i)
    for (size_t j = 0; j < sizeof nks / sizeof *nks; ++j) {
      check_plan(ms[i], nks[j][0], nks[j][1], 4, &h100);
      check_plan(ms[i], nks[j][0], nks[j][1], 8, &h100);
      check_plan(ms[i], nks[j][0], nks[j][1], 4, &h100_wgmma);
    }
}

static void select_grid_invariants_small_gpus(void **s) {
  (void)s;
  for (int64_t m = 1; m <= 300; m += 37)
    for (int64_t n = 64; n <= 8192; n *= 2)
      for (int64_t k = 16; k <= 16384; k *= 4) {
        check_plan(m, n, k, 4, &a10);
        check_plan(m, n, k, 4, &tiny);
      }
}

/* A sweep over units per SM near the split/stripe switch, where the stripes
 * are shortest. */
static void select_grid_invariants_sweep(void **s) {
  (void)s;
  for (int64_t n = 64; n <= 4096; n += 448)
    for (int64_t k = 16; k <= 8192; k += 496) check_plan(1, n, k, 4, &h100);
  /* the wgmma kernel's plans (its owner fix-up) over M, N and K */
  const int64_t ms[] = {17, 32, 64, 100, 128, 256, 1000};
  for (size_t i = 0; i < sizeof ms / sizeof *ms; ++i)
    for (int64_t n = 64; n <= 16384; n += 1472)
      for (int64_t k = 16; k <= 16384; k += 1008) {
        check_plan(ms[i], n, k, 4, &h100_wgmma);
        check_plan(ms[i], n, k, 8, &h100_wgmma);
      }
}

/* The plan of tile config `config` (-1: the selector's choice) for weights
 * with (zeros) or without zero points, which must succeed. */
static marlin_dense_plan plan_of_scheme(int64_t m, int64_t n, int64_t k, int bits, int zeros,
                                        const marlin_device_info *dev, int config) {
  marlin_dense_plan p;
  assert_int_equal(marlin_dense_select(m, n, k, bits, zeros, 0, dev, config, &p), MARLIN_STATUS_SUCCESS);
  return p;
}
static marlin_dense_plan plan_of(int64_t m, int64_t n, int64_t k, int bits, const marlin_device_info *dev,
                                 int config) {
  return plan_of_scheme(m, n, k, bits, 0, dev, config);
}
/* The config the selector picks (and that it succeeds). */
static int picked(int64_t m, int64_t n, int64_t k, int bits, const marlin_device_info *dev) {
  return plan_of(m, n, k, bits, dev, -1).config;
}

/* The config with the lowest estimated time (select.c: estimate_ns), pinned
 * to the winners of the H100 sweep in docs/performance.md. */
static void select_config_by_cost(void **s) {
  (void)s;
  marlin_dense_plan p;
  const int64_t nk[][2] = {{4096, 4096}, {8192, 28672}};
  for (int i = 0; i < 2; ++i) {
    assert_int_equal(picked(8, nk[i][0], nk[i][1], 4, &h100), MARLIN_TILE_CONFIG_0); /* 16-row tiles */
    assert_int_not_equal(marlin_tile_config_get(picked(1, nk[i][0], nk[i][1], 4, &a10)).kind,
                         MARLIN_TILE_COLUMN); /* no column kernel before sm90 */
    assert_int_equal(picked(32, nk[i][0], nk[i][1], 4, &h100), MARLIN_TILE_CONFIG_1);
  }
  /* the column kernel at M <= 4 on sm90 with 4-bit weights (select.c
   * column_config, column_cluster; H100 M = 1, us, against the MMA configs' choice in the
   * same run): 64 blocks of K = 4096 in clusters of 2 of 8-warp CTAs (7.3
   * against 9.4), of K = 14336 in 16-warp CTAs (14.6 against 16.6); 96 and
   * 128 blocks one 16-warp CTA each (4096 x 6144 8.6 against 10.5, 8192 x
   * 8192 15.6 against 17.8); up to 4 blocks per SM 4-warp CTAs in clusters
   * of 2 (8192 x 10240 20.1 against 22.3 for 8-warp CTAs, 4096 x 28672 28.2
   * against 29.7); more blocks 8-warp CTAs in clusters of 2 (8192 x 57344
   * 88.5 against 94.4) */
  const int64_t col[][5] = {{4096, 4096, MARLIN_TILE_CONFIG_8, 2, 128},   {4096, 14336, MARLIN_TILE_CONFIG_7, 2, 128},
                            {6144, 4096, MARLIN_TILE_CONFIG_7, 1, 96},    {8192, 8192, MARLIN_TILE_CONFIG_7, 1, 128},
                            {57344, 8192, MARLIN_TILE_CONFIG_8, 2, 1792}, {10240, 8192, MARLIN_TILE_CONFIG_9, 2, 320},
                            {28672, 4096, MARLIN_TILE_CONFIG_9, 2, 896}};
  for (size_t i = 0; i < sizeof col / sizeof *col; ++i)
    for (int64_t m = 1; m <= 4; ++m) {
      p = plan_of(m, col[i][0], col[i][1], 4, &h100_wgmma, -1);
      assert_int_equal(p.config, col[i][2]);
      assert_int_equal(p.cluster, col[i][3]);
      assert_int_equal(p.ctas, col[i][4]);
    }
  assert_int_equal(picked(5, 4096, 4096, 4, &h100), MARLIN_TILE_CONFIG_0);
  /* with zero points (AWQ) 4-warp CTAs only up to 2 blocks per SM: 4096 x
   * 28672 stays on 8-warp CTAs (awq4 29.7-29.9 us against 31.2), 8192 x
   * 10240 takes them (22.8 against 24.1) */
  for (int64_t m = 1; m <= 4; ++m) {
    p = plan_of_scheme(m, 28672, 4096, 4, 1, &h100_wgmma, -1);
    assert_int_equal(p.config, MARLIN_TILE_CONFIG_8);
    assert_int_equal(p.cluster, 2);
    assert_int_equal(plan_of_scheme(m, 10240, 8192, 4, 1, &h100_wgmma, -1).config, MARLIN_TILE_CONFIG_9);
    assert_int_equal(plan_of_scheme(m, 57344, 8192, 4, 1, &h100_wgmma, -1).config, MARLIN_TILE_CONFIG_8);
  }
  /* 8-bit weights (select.c column_config8): the column kernel, one 8-warp
   * CTA per block, on layers of at most one block per two SMs and K <= 8192
   * (H100 M = 1: 4096 x 4096 10.0 us against 11.7); the MMA configs on the
   * others (4096 x 6144: 12.7 against 13.1; 28672 x 8192: 84.1 against
   * 87.1; 4096 x 28672: 47.3 against 49.4-60.3) and past M = 4 */
  const int64_t col8[][2] = {{4096, 4096}, {4224, 8192}};
  for (size_t i = 0; i < sizeof col8 / sizeof *col8; ++i)
    for (int64_t m = 1; m <= 4; ++m) {
      p = plan_of(m, col8[i][0], col8[i][1], 8, &h100, -1);
      assert_int_equal(p.config, MARLIN_TILE_CONFIG_8);
      assert_int_equal(p.cluster, 1);
      assert_int_equal(p.ctas, col8[i][0] / 64);
    }
  assert_int_equal(picked(1, 6144, 4096, 8, &h100), MARLIN_TILE_CONFIG_0);
  assert_int_equal(picked(1, 8192, 8192, 8, &h100), MARLIN_TILE_CONFIG_0);
  assert_int_equal(picked(1, 4288, 4096, 8, &h100), MARLIN_TILE_CONFIG_0); /* 67 blocks */
  assert_int_equal(picked(1, 8192, 28672, 8, &h100), MARLIN_TILE_CONFIG_0);
  assert_int_equal(picked(1, 28672, 4096, 8, &h100), MARLIN_TILE_CONFIG_0);
  assert_int_equal(picked(1, 8192, 8200, 8, &h100), MARLIN_TILE_CONFIG_0); /* K > 8192 */
  assert_int_equal(picked(5, 4096, 4096, 8, &h100), MARLIN_TILE_CONFIG_0);
  /* 64 rows: 64 x 256 tiles on a large layer; on 4096 x 4096 they would be cut
   * into 8 parts of 64 KB partials each, so 32 x 128 tiles win there */
  assert_int_equal(picked(64, 8192, 28672, 4, &h100), MARLIN_TILE_CONFIG_2);
  assert_int_equal(picked(64, 4096, 4096, 4, &h100), MARLIN_TILE_CONFIG_1);
  assert_int_equal(picked(4096, 4096, 4096, 4, &h100), MARLIN_TILE_CONFIG_2);
  /* with an sm_90a kernel: mma.sync for the smallest M, then the wgmma
   * tiles (32 and 64 tokens on large layers, 128, and 256 for the largest M;
   * docs/performance.md). 28672 x 8192: M = 32 60.1 us (config 5) against
   * 75.1 (config 1); M = 64 76.4 (config 6) against 102.5 (config 2) */
  assert_int_equal(picked(8, 8192, 28672, 4, &h100_wgmma), MARLIN_TILE_CONFIG_0);
  assert_int_equal(picked(32, 8192, 28672, 4, &h100_wgmma), MARLIN_TILE_CONFIG_5);
  assert_int_equal(picked(64, 8192, 28672, 4, &h100_wgmma), MARLIN_TILE_CONFIG_6);
  assert_int_equal(picked(128, 8192, 28672, 4, &h100_wgmma), MARLIN_TILE_CONFIG_3);
  /* small layers take the 128-column wgmma tiles of 128 K rows a stage,
   * two parts per tile where the 256-column ones need four (twenty-third
   * session, H100, forced): M = 32 4096 x 4096 10.8 us (config 12) against
   * 11.5 (config 1) and 13.6 (config 5); M = 64 4096 x 4096 11.5 (config
   * 13) against 13.8 (config 3), 4096 x 6144 14.6 against 17.5; the
   * 128-token tile at M = 128 (21.9 against 24.0 for config 1) */
  assert_int_equal(picked(32, 4096, 4096, 4, &h100_wgmma), MARLIN_TILE_CONFIG_12);
  assert_int_equal(picked(128, 4096, 4096, 4, &h100_wgmma), MARLIN_TILE_CONFIG_3);
  assert_int_equal(picked(48, 4096, 4096, 4, &h100_wgmma), MARLIN_TILE_CONFIG_13);
  assert_int_equal(picked(64, 4096, 4096, 4, &h100_wgmma), MARLIN_TILE_CONFIG_13);
  assert_int_equal(picked(64, 6144, 4096, 4, &h100_wgmma), MARLIN_TILE_CONFIG_13);
  /* ... but not the largest layers, where the 256-column tiles' k-step is
   * faster (M = 32 8192 x 57344 104.7 us against 116.2; M = 64 28672 x
   * 8192 68.8 against 71.0) */
  assert_int_equal(picked(32, 57344, 8192, 4, &h100_wgmma), MARLIN_TILE_CONFIG_5);
  /* the 16-token wgmma tile at M <= 16 on the largest layers with GPTQ
   * (8192 x 57344 at M = 16 91.5 us against 97.7 for config 0), not with
   * AWQ zero points (105.9 against 100.6) */
  assert_int_equal(picked(16, 57344, 8192, 4, &h100_wgmma), MARLIN_TILE_CONFIG_11);
  assert_int_equal(plan_of_scheme(16, 57344, 8192, 4, 1, &h100_wgmma, -1).config, MARLIN_TILE_CONFIG_0);
  /* at 8 < M <= 16 the 16-token column CTA on layers of <= 1 block per SM
   * and K <= 4096 (select.c column16_config; M = 16: 4096 x 4096 8.6 us in
   * clusters of 2 against 10.7 for config 0, 4096 x 6144 10.2 without
   * clusters against 11.0), the decode tile elsewhere (14336 x 4096: 18.0
   * against 19.0 for config 10; 8192 x 8192 19.4 against 20.8) and at M <= 8 */
  for (int64_t m = 9; m <= 16; ++m) {
    p = plan_of(m, 4096, 4096, 4, &h100_wgmma, -1);
    assert_int_equal(p.config, MARLIN_TILE_CONFIG_10);
    assert_int_equal(p.cluster, 2);
    assert_int_equal(p.ctas, 128);
    p = plan_of(m, 6144, 4096, 4, &h100_wgmma, -1);
    assert_int_equal(p.config, MARLIN_TILE_CONFIG_10);
    assert_int_equal(p.cluster, 1);
    assert_int_equal(p.ctas, 96);
    assert_int_equal(plan_of_scheme(m, 4096, 4096, 4, 1, &h100_wgmma, -1).config, MARLIN_TILE_CONFIG_10); /* AWQ */
    assert_int_equal(picked(m, 4096, 14336, 4, &h100_wgmma), MARLIN_TILE_CONFIG_0);
    assert_int_equal(picked(m, 8192, 8192, 4, &h100_wgmma), MARLIN_TILE_CONFIG_0);
    assert_int_equal(picked(m, 4096, 4096, 8, &h100_wgmma), MARLIN_TILE_CONFIG_0); /* 8-bit: not measured */
    assert_int_not_equal(marlin_tile_config_get(picked(m, 4096, 4096, 4, &a10)).kind, MARLIN_TILE_COLUMN);
  }
  assert_int_equal(picked(8, 4096, 4096, 4, &h100_wgmma), MARLIN_TILE_CONFIG_0);
  assert_int_equal(picked(17, 4096, 4096, 4, &h100_wgmma), MARLIN_TILE_CONFIG_1);
  /* the 256-token tile from M = 192 on the large layers: 8192 x 57344
   * 357 us against 429 (config 3) */
  assert_int_equal(picked(192, 57344, 8192, 4, &h100_wgmma), MARLIN_TILE_CONFIG_4);
  /* the 32- and 64-token tiles only when M fits one tile: config 6 at M = 128
   * (two tiles) measured 287.8 us on 8192 x 57344 against 217.1 for config 3 */
  assert_int_equal(picked(128, 57344, 8192, 4, &h100_wgmma), MARLIN_TILE_CONFIG_3);
  assert_int_equal(picked(65, 57344, 8192, 4, &h100_wgmma), MARLIN_TILE_CONFIG_3);
  assert_int_equal(picked(4096, 4096, 4096, 4, &h100_wgmma), MARLIN_TILE_CONFIG_4);
  /* the twenty-third session's forced runs: on 14336 x 4096 the 128-column
   * tiles win M = 64 (22.5 us against 28.0 for config 6) and M = 32 (19.9
   * against 21.4 for config 5), as on 4096 x 6144 at M = 32 (13.4 against
   * 15.3) */
  assert_int_equal(picked(64, 4096, 14336, 4, &h100_wgmma), MARLIN_TILE_CONFIG_13);
  assert_int_equal(picked(32, 4096, 14336, 4, &h100_wgmma), MARLIN_TILE_CONFIG_12);
  assert_int_equal(picked(32, 6144, 4096, 4, &h100_wgmma), MARLIN_TILE_CONFIG_12);
  /* 8-bit weights slow the 32- and 64-token tiles more (select.c
   * WGMMA_SMALL_TILE_8BIT_STEP): gptq8 14336 x 4096 keeps config 3 at
   * M = 64 (32.6 us against 36.4 for config 6) and config 1 at M = 32
   * (28.4 against 31.3 for config 5); 4096 x 6144 takes config 5 at M = 32
   * (17.9 against 19.0 for config 1) */
  assert_int_equal(picked(64, 4096, 14336, 8, &h100_wgmma), MARLIN_TILE_CONFIG_3);
  assert_int_equal(picked(32, 4096, 14336, 8, &h100_wgmma), MARLIN_TILE_CONFIG_1);
  assert_int_equal(picked(32, 6144, 4096, 8, &h100_wgmma), MARLIN_TILE_CONFIG_5);
  /* 8-bit weights: the WGMMA rows fit with one stage less, and are taken */
  assert_int_equal(marlin_tile_stages(marlin_tile_config_get(MARLIN_TILE_CONFIG_3), 8),
                   marlin_tile_config_get(MARLIN_TILE_CONFIG_3).stages - 1);
  assert_int_equal(marlin_dense_select(128, 8192, 28672, 8, 0, 0, &h100_wgmma, -1, &p), MARLIN_STATUS_SUCCESS);
  assert_int_equal(p.config, MARLIN_TILE_CONFIG_3);
  assert_true(p.smem_bytes <= 227 * 1024);
  /* only the 16-row tile fits this shared memory: it is chosen, not an error */
  const marlin_device_info small_smem = {132, 60 * 1024, 80, 0, 1};
  assert_int_equal(marlin_dense_select(64, 4096, 4096, 4, 0, 0, &small_smem, -1, &p), MARLIN_STATUS_SUCCESS);
  assert_int_equal(p.config, MARLIN_TILE_CONFIG_0);
}

static void select_forced_config(void **s) {
  (void)s;
  marlin_dense_plan p;
  for (int c = 0; c < MARLIN_TILE_CONFIG_COUNT; ++c) {
    assert_int_equal(marlin_dense_select(5, 1024, 1024, 4, 0, 0, &h100_wgmma, c, &p), MARLIN_STATUS_SUCCESS);
    assert_int_equal(p.config, c);
    /* a WGMMA config without an sm_90a kernel: refused with a message */
    const int wgmma = marlin_tile_config_get(c).kind == MARLIN_TILE_WGMMA;
    assert_int_equal(marlin_dense_select(5, 1024, 1024, 4, 0, 0, &h100, c, &p),
                     wgmma ? MARLIN_STATUS_INVALID_VALUE : MARLIN_STATUS_SUCCESS);
    if (wgmma) assert_non_null(strstr(marlin_last_error(), "90a"));
    /* a COLUMN config for act-order on a K shard (per-row groups): refused */
    const marlin_device_info shard = {132, 227 * 1024, 90, 0, 0};
    const int column = marlin_tile_config_get(c).kind == MARLIN_TILE_COLUMN;
    assert_int_equal(marlin_dense_select(5, 1024, 1024, 4, 0, 0, &shard, c, &p),
                     column || wgmma ? MARLIN_STATUS_INVALID_VALUE : MARLIN_STATUS_SUCCESS);
    if (column) assert_non_null(strstr(marlin_last_error(), "K shard"));
  }
  const marlin_device_info no_smem = {132, 1024, 90, 1, 1};
  assert_int_equal(marlin_dense_select(5, 1024, 1024, 4, 0, 0, &no_smem, -1, &p), MARLIN_STATUS_INVALID_VALUE);
}

/* A row is built and taken only for the weights configs.def gives it:
 * forcing it for others is refused with a message, and the selector never
 * picks it for them, at any M. */
static void select_rows_by_weights(void **s) {
  (void)s;
  marlin_dense_plan p;
  for (int c = 0; c < MARLIN_TILE_CONFIG_COUNT; ++c) {
    const marlin_tile_config tc = marlin_tile_config_get(c);
    for (int w = 0; w < 3; ++w) { /* 4-bit, 4-bit with zero points, 8-bit */
      const int bits = w == 2 ? 8 : 4, zeros = w == 1;
      const int serves = MARLIN_TILE_SERVES(tc.weights, bits, zeros);
      assert_int_equal(marlin_dense_select(5, 1024, 1024, bits, zeros, 0, &h100_wgmma, c, &p),
                       serves ? MARLIN_STATUS_SUCCESS : MARLIN_STATUS_INVALID_VALUE);
      if (!serves) assert_non_null(strstr(marlin_last_error(), "configs.def"));
    }
  }
  assert_int_equal(marlin_tile_config_get(MARLIN_TILE_CONFIG_0).weights, MARLIN_TILE_WEIGHTS_ANY);
  assert_int_equal(marlin_tile_config_get(MARLIN_TILE_CONFIG_11).weights, MARLIN_TILE_WEIGHTS_W4_NOZERO);
  assert_int_equal(marlin_tile_config_get(MARLIN_TILE_CONFIG_12).weights, MARLIN_TILE_WEIGHTS_W4);
  const int64_t ms[] = {1, 8, 16, 24, 32, 48, 64, 128, 4096};
  const int64_t nk[][2] = {{6144, 4096}, {4096, 4096}, {28672, 4096}, {4096, 14336},
                           {10240, 8192}, {8192, 8192}, {57344, 8192}, {8192, 28672}};
  for (size_t i = 0; i < sizeof ms / sizeof *ms; ++i)
    for (size_t j = 0; j < sizeof nk / sizeof *nk; ++j)
      for (int w = 0; w < 3; ++w) {
        const int bits = w == 2 ? 8 : 4, zeros = w == 1;
        assert_int_equal(marlin_dense_select(ms[i], nk[j][0], nk[j][1], bits, zeros, 0, &h100_wgmma, -1, &p),
                         MARLIN_STATUS_SUCCESS);
        assert_true(MARLIN_TILE_SERVES(marlin_tile_config_get(p.config).weights, bits, zeros));
      }
}

static void select_act_order_copy(void **s) {
  (void)s;
  marlin_dense_plan a, b;
  marlin_dense_select(100, 1024, 1000, 4, 0, 0, &h100, -1, &a);
  marlin_dense_select(100, 1024, 1000, 4, 0, 1, &h100, -1, &b);
  assert_int_equal(a.workspace_bytes, a.ws_a_perm);
  assert_true(b.workspace_bytes >= b.ws_a_perm + (size_t)100 * 1000 * 2);
}

/* More (tile, k-step) units than the kernel's 32-bit stripe arithmetic holds:
 * refused with a message, never wrapped around. */
static void select_too_large(void **s) {
  (void)s;
  marlin_dense_plan p;
  assert_int_equal(marlin_dense_select(65536, 1 << 20, 1 << 20, 4, 0, 0, &h100, -1, &p),
                   MARLIN_STATUS_INVALID_VALUE);
  assert_non_null(strstr(marlin_last_error(), "too large"));
  assert_int_equal(marlin_dense_select(65536, 57344, 28672, 4, 0, 0, &h100, -1, &p), MARLIN_STATUS_SUCCESS);
}

/* Which plans may sum their parts in clusters: split plans of the mma.sync
 * kernel on sm90 (H100, M = 1: 4096 x 6144 is cut 4 ways over 192 CTAs,
 * 4096 x 4096 8 ways over 256), not the stripes of a large layer, not
 * before sm90. */
static void select_cluster_plans(void **s) {
  (void)s;
  marlin_dense_plan p = plan_of(1, 6144, 4096, 4, &h100, MARLIN_TILE_CONFIG_0);
  assert_int_equal(p.cluster, 4);
  assert_int_equal(p.ctas, 192);
  assert_int_equal(plan_of(1, 4096, 4096, 4, &h100, MARLIN_TILE_CONFIG_0).cluster, 8);
  assert_int_equal(plan_of(1, 57344, 8192, 4, &h100, MARLIN_TILE_CONFIG_0).cluster, 1); /* stripes */
  assert_int_equal(plan_of(1, 6144, 4096, 4, &a10, MARLIN_TILE_CONFIG_0).cluster, 1); /* sm86 */
  /* the column kernel (forced): K cut over a cluster on sm90 only
   * (select.c column_cluster: config 8 in clusters of 2 with 4-bit weights) */
  p = plan_of(1, 4096, 4096, 4, &h100, MARLIN_TILE_CONFIG_8);
  assert_int_equal(p.config, MARLIN_TILE_CONFIG_8);
  assert_int_equal(p.cluster, 2);
  assert_int_equal(p.ctas, 128);
  p = plan_of(1, 4096, 4096, 4, &a10, MARLIN_TILE_CONFIG_8);
  assert_int_equal(p.cluster, 1);
  assert_int_equal(p.ctas, 64);
  p = plan_of(1, 4096, 4096, 8, &h100, MARLIN_TILE_CONFIG_8); /* 8-bit weights: no cluster */
  assert_int_equal(p.cluster, 1);
  assert_int_equal(p.ctas, 64);
  /* the cases of test_gpu.c gemm_cluster_fixup */
  p = plan_of(5, 3072, 4096, 8, &h100, -1);
  assert_int_equal(p.cluster, 8);
  assert_int_equal(p.ctas, 192);
  p = plan_of(29, 3072, 4096, 4, &h100, MARLIN_TILE_CONFIG_1);
  assert_int_equal(p.cluster, 4);
  assert_int_equal(p.ctas, 96);
  assert_int_equal(plan_of(13, 6136, 4000, 4, &h100, MARLIN_TILE_CONFIG_0).cluster, 4);
}

/* The bytes-bound grids of config 0 on sm90 (select.c grid_cost), pinned to
 * the fastest plans of the twentieth session's H100 split sweep
 * (docs/performance.md). */
static void select_grid_bytes_bound(void **s) {
  (void)s;
  struct {
    int64_t m, n, k;
    int bits;
    int32_t ctas, cluster;
  } const cases[] = {
      {16, 28672, 4096, 4, 224, 1},  /* one CTA per tile: 27.7 us against 31.7 for stripes over 264 */
      {16, 8192, 8192, 4, 128, 2},   /* 2 parts, one CTA per SM: 18.6 against 19.3 for 4 parts */
      {16, 8192, 28672, 4, 256, 4},  /* 4 parts: 49.3 against 52.0 for 2 */
      {16, 10240, 8192, 4, 264, 1},  /* stripes: 25.8 against 27.9 for 2 parts */
      {16, 57344, 8192, 4, 264, 1},  /* stripes: 4-bit grids of two waves cost waves x steps */
      {1, 10240, 8192, 8, 80, 1},    /* one CTA per tile: 34.6 against 37.3 for stripes or 2 parts */
      {1, 8192, 28672, 8, 128, 2},   /* 2 parts: 81.7 against 84.5 for 4 */
      {1, 57344, 8192, 8, 448, 1},   /* two waves of one CTA per tile: 160.1 against 164.5 for stripes */
      {16, 6144, 4096, 8, 96, 2},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; ++i) {
    const marlin_dense_plan p = plan_of(cases[i].m, cases[i].n, cases[i].k, cases[i].bits, &h100, -1);
    assert_int_equal(p.config, MARLIN_TILE_CONFIG_0);
    assert_int_equal(p.ctas, cases[i].ctas);
    assert_int_equal(p.cluster, cases[i].cluster);
  }
  /* not before sm90: the compute-bound model (stripes over the 216 slots of an
   * A100-sized sm80 GPU) */
  const marlin_device_info a100 = {108, 163 * 1024, 80, 0, 1};
  const marlin_dense_plan p = plan_of(16, 28672, 4096, 4, &a100, MARLIN_TILE_CONFIG_0);
  assert_int_equal(p.ctas, 216);
}

int main(int argc, char **argv) {
  static const struct CMUnitTest tests[] = {
      cmocka_unit_test(select_grid_invariants_h100),  cmocka_unit_test(select_grid_invariants_small_gpus),
      cmocka_unit_test(select_grid_invariants_sweep), cmocka_unit_test(select_config_by_cost),
      cmocka_unit_test(select_forced_config),         cmocka_unit_test(select_rows_by_weights),
      cmocka_unit_test(select_act_order_copy),
      cmocka_unit_test(select_too_large),             cmocka_unit_test(select_cluster_plans),
      cmocka_unit_test(select_grid_bytes_bound),
  };
  return marlin_test_main(tests, sizeof tests / sizeof tests[0], argc, argv);
}
