/* GPU suite: the GPU repack kernels bit-exact against the CPU packers, and a
 * few marlin_gemm calls against the CPU reference. Exit 77 without a GPU. */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include <cuda_runtime_api.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gpu_probe.h"
#include "marlin/marlin.h"
#include "marlin/kernel/plan.h" /* MARLIN_TILE_CONFIG_COUNT, MARLIN_TILE_COUNTERS */
#include "marlin/marlin_ref.h"
#include "test_main.h"

static uint64_t rng = 88172645463325252ULL;
static uint32_t next_u32(void) {
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return (uint32_t)(rng >> 11);
}

static void *upload(const void *h, size_t bytes) {
  void *d = NULL;
  assert_int_equal(cudaMalloc(&d, bytes), cudaSuccess);
  assert_int_equal(cudaMemcpy(d, h, bytes, cudaMemcpyHostToDevice), cudaSuccess);
  return d;
}

static void *download(const void *d, size_t bytes) {
  void *h = malloc(bytes);
  assert_int_equal(cudaDeviceSynchronize(), cudaSuccess);
  assert_int_equal(cudaMemcpy(h, d, bytes, cudaMemcpyDeviceToHost), cudaSuccess);
  return h;
}

/* Random codes -> checkpoint qweight -> GPU repack == CPU pack (with perm). */
static void check_weight_repack(marlin_scheme scheme, int64_t k, int64_t n, int act_order) {
  const int bits = scheme == MARLIN_SCHEME_GPTQ8 ? 8 : 4;
  const int awq = scheme == MARLIN_SCHEME_AWQ4;
  uint8_t *codes = malloc(k * n);
  for (int64_t i = 0; i < k * n; ++i) codes[i] = (uint8_t)(next_u32() & ((1u << bits) - 1));
  int32_t *perm = NULL, *g_idx = NULL;
  if (act_order) {
    g_idx = malloc(sizeof(int32_t) * k);
    perm = malloc(sizeof(int32_t) * k);
    for (int64_t r = 0; r < k; ++r) g_idx[r] = (int32_t)(next_u32() % (uint32_t)(k / 32));
    assert_int_equal(marlin_ref_act_order_perm(g_idx, k, perm, NULL), MARLIN_STATUS_SUCCESS);
  }
  const size_t qbytes = awq ? (size_t)k * (n / 8) * 4 : (size_t)k * bits / 32 * n * 4;
  int32_t *qweight = malloc(qbytes);
  if (awq) assert_int_equal(marlin_ref_awq_pack(codes, k, n, qweight), MARLIN_STATUS_SUCCESS);
  else assert_int_equal(marlin_ref_gptq_pack(codes, k, n, bits, qweight), MARLIN_STATUS_SUCCESS);
  marlin_packed_sizes sz;
  assert_int_equal(marlin_ref_packed_sizes(scheme, k, n, -1, &sz), MARLIN_STATUS_SUCCESS);
  void *cpu = malloc(sz.weights);
  assert_int_equal(marlin_ref_pack_weights(scheme, codes, k, n, perm, cpu), MARLIN_STATUS_SUCCESS);
  void *d_q = upload(qweight, qbytes), *d_perm = perm ? upload(perm, sizeof(int32_t) * k) : NULL;
  void *d_out = NULL;
  assert_int_equal(cudaMalloc(&d_out, sz.weights), cudaSuccess);
  assert_int_equal(cudaMemset(d_out, 0xA5, sz.weights), cudaSuccess); /* poison */
  assert_int_equal(marlin_repack_weights(scheme, awq ? MARLIN_CHECKPOINT_AWQ : MARLIN_CHECKPOINT_GPTQ,
                                         k, n, qweight ? d_q : NULL, d_perm, d_out, 0),
                   MARLIN_STATUS_SUCCESS);
  void *gpu = download(d_out, sz.weights);
  assert_memory_equal(gpu, cpu, sz.weights);
  cudaFree(d_q), cudaFree(d_perm), cudaFree(d_out);
  free(codes), free(perm), free(g_idx), free(qweight), free(cpu), free(gpu);
}

static void repack_gptq4(void **s) { (void)s; check_weight_repack(MARLIN_SCHEME_GPTQ4, 1024, 256, 0); }
static void repack_gptq4_ragged(void **s) { (void)s; check_weight_repack(MARLIN_SCHEME_GPTQ4, 7392 / 4, 5472 / 4, 0); }
static void repack_gptq4_act_order(void **s) { (void)s; check_weight_repack(MARLIN_SCHEME_GPTQ4, 1408, 832, 1); }
static void repack_gptq8(void **s) { (void)s; check_weight_repack(MARLIN_SCHEME_GPTQ8, 640, 448, 0); }
static void repack_gptq8_act_order(void **s) { (void)s; check_weight_repack(MARLIN_SCHEME_GPTQ8, 1024, 1792, 1); }
static void repack_awq4(void **s) { (void)s; check_weight_repack(MARLIN_SCHEME_AWQ4, 1408, 3328, 0); }
static void repack_awq4_ragged(void **s) { (void)s; check_weight_repack(MARLIN_SCHEME_AWQ4, 200, 72, 0); }

static void repack_scales_and_zeros(void **state) {
  (void)state;
  const int64_t k = 1024, n = 200, g = 8; /* group 128, N not a multiple of 64 */
  uint16_t *sc = malloc(2 * g * n);
  uint8_t *z = malloc(g * n);
  for (int64_t i = 0; i < g * n; ++i) sc[i] = (uint16_t)next_u32(), z[i] = (uint8_t)(next_u32() & 15);
  marlin_packed_sizes sz;
  assert_int_equal(marlin_ref_packed_sizes(MARLIN_SCHEME_AWQ4, k, n, 128, &sz), MARLIN_STATUS_SUCCESS);
  uint16_t *cpu_s = malloc(sz.scales);
  int32_t *cpu_z = malloc(sz.zeros);
  assert_int_equal(marlin_ref_pack_scales(sc, g, n, cpu_s), MARLIN_STATUS_SUCCESS);
  assert_int_equal(marlin_ref_pack_zeros(z, g, n, cpu_z), MARLIN_STATUS_SUCCESS);
  int32_t *qz = malloc(g * (n / 8) * 4);
  assert_int_equal(marlin_ref_awq_pack(z, g, n, qz), MARLIN_STATUS_SUCCESS);
  void *d_s = upload(sc, 2 * g * n), *d_qz = upload(qz, g * (n / 8) * 4), *d_ps, *d_pz;
  assert_int_equal(cudaMalloc(&d_ps, sz.scales), cudaSuccess);
  assert_int_equal(cudaMalloc(&d_pz, sz.zeros), cudaSuccess);
  cudaMemset(d_ps, 0xA5, sz.scales), cudaMemset(d_pz, 0xA5, sz.zeros);
  assert_int_equal(marlin_repack_scales(MARLIN_SCHEME_AWQ4, MARLIN_DTYPE_FP16, k, n, 128, d_s, d_ps, 0),
                   MARLIN_STATUS_SUCCESS);
  assert_int_equal(marlin_repack_zeros(MARLIN_SCHEME_AWQ4, MARLIN_CHECKPOINT_AWQ, k, n, 128, d_qz, d_pz, 0),
                   MARLIN_STATUS_SUCCESS);
  void *gs = download(d_ps, sz.scales), *gz = download(d_pz, sz.zeros);
  assert_memory_equal(gs, cpu_s, sz.scales);
  assert_memory_equal(gz, cpu_z, sz.zeros);
  cudaFree(d_s), cudaFree(d_qz), cudaFree(d_ps), cudaFree(d_pz);
  free(sc), free(z), free(cpu_s), free(cpu_z), free(qz), free(gs), free(gz);
}

static void repack_rejects_bad_arguments(void **state) {
  (void)state;
  void *d = NULL;
  assert_int_equal(cudaMalloc(&d, 1 << 20), cudaSuccess);
  assert_int_equal(marlin_repack_weights(MARLIN_SCHEME_GPTQ4, MARLIN_CHECKPOINT_GPTQ, 100, 64, d, NULL, d, 0),
                   MARLIN_STATUS_INVALID_SHAPE);
  assert_int_equal(marlin_repack_weights(MARLIN_SCHEME_AWQ4, MARLIN_CHECKPOINT_GPTQ, 128, 64, d, NULL, d, 0),
                   MARLIN_STATUS_INVALID_SCHEME);
  assert_int_equal(marlin_repack_weights(MARLIN_SCHEME_AWQ4, MARLIN_CHECKPOINT_AWQ, 128, 64, d, d, d, 0),
                   MARLIN_STATUS_INVALID_VALUE);
  assert_int_equal(marlin_repack_weights(MARLIN_SCHEME_GPTQ4, MARLIN_CHECKPOINT_GPTQ, 128, 64, NULL, NULL, d, 0),
                   MARLIN_STATUS_NULL_POINTER);
  assert_int_equal(marlin_repack_scales(MARLIN_SCHEME_GPTQ4, MARLIN_DTYPE_FP16, 128, 64, 48, d, d, 0),
                   MARLIN_STATUS_INVALID_GROUP);
  assert_int_equal(marlin_repack_zeros(MARLIN_SCHEME_GPTQ4, MARLIN_CHECKPOINT_AWQ, 128, 64, 32, d, d, 0),
                   MARLIN_STATUS_INVALID_SCHEME);
  cudaFree(d);
}

/* End to end: quantize -> GPU repack from the checkpoint -> marlin_gemm vs the
 * CPU reference of the dequantized weights. tp > 0: act-order on a K shard
 * (is_k_full = 0): the layer has tp * k rows, this rank holds rows k .. 2k - 1
 * of it and the layer's whole scale tensor (any of its groups may occur).
 * act_order 2: a checkpoint without act-order (row r in group r / group),
 * passed as act-order with perm = identity, the way docs/api.md runs a K
 * shard whose first row is not a multiple of the group size. */
/* >= 0: the tile config the next gemm_case forces (marlin_options.tile_config) */
static int forced_config = -1;
/* Non-NULL: gemm_case runs in this workspace (shared by every call, as an
 * engine shares one between layers) and checks that the call left the
 * fix-up counters at its start zeroed again. */
static void *shared_ws;
static size_t shared_ws_bytes;

/* Whether this build has a (scheme, act) kernel for this GPU. */
static int compiled_here(marlin_scheme scheme, marlin_dtype act) {
  int dev, ma, mi;
  cudaGetDevice(&dev);
  cudaDeviceGetAttribute(&ma, cudaDevAttrComputeCapabilityMajor, dev);
  cudaDeviceGetAttribute(&mi, cudaDevAttrComputeCapabilityMinor, dev);
  return marlin_is_compiled(scheme, act, ma * 10 + mi);
}

/* gemm_case also runs the call again with the workspace fix-up only
 * (MARLIN_CLUSTER_FIXUP=0), and the two outputs must be the same bits. */
static int compare_fixups = 0;

static void gemm_case(marlin_scheme scheme, marlin_dtype act, int64_t m, int64_t n, int64_t k,
                      int32_t group, int act_order, int tp) {
  if (!compiled_here(scheme, act)) skip();
  const int awq = scheme == MARLIN_SCHEME_AWQ4, bits = scheme == MARLIN_SCHEME_GPTQ8 ? 8 : 4;
  const int64_t kl = tp ? tp * k : k, off = tp ? k : 0; /* the layer's rows; the shard's first */
  const int64_t groups = marlin_ref_num_groups(kl, group);
  float *w = malloc(sizeof(float) * kl * n), *wd = malloc(sizeof(float) * kl * n);
  for (int64_t i = 0; i < kl * n; ++i) w[i] = ((int32_t)(next_u32() % 2001) - 1000) * 1e-4f;
  int32_t *g_idx = NULL, *perm = NULL, *sorted = NULL;
  if (act_order) {
    g_idx = malloc(4 * kl), perm = malloc(4 * k), sorted = malloc(4 * k);
    for (int64_t r = 0; r < kl; ++r) g_idx[r] = (int32_t)((act_order == 2 ? r : (r * 7919) % kl) / group);
    marlin_ref_act_order_perm(g_idx + off, k, perm, sorted);
  }
  uint8_t *codes = malloc(kl * n), *z = awq ? malloc(groups * n) : NULL;
  uint16_t *sc = malloc(2 * groups * n);
  assert_int_equal(marlin_ref_quantize(scheme, act, w, kl, n, group, g_idx, codes, sc, z), MARLIN_STATUS_SUCCESS);
  assert_int_equal(marlin_ref_dequantize(scheme, act, codes, sc, z, kl, n, group, g_idx, wd), MARLIN_STATUS_SUCCESS);
  const size_t qbytes = awq ? (size_t)k * (n / 8) * 4 : (size_t)k * bits / 32 * n * 4;
  int32_t *q = malloc(qbytes), *qz = awq ? malloc(groups * (n / 8) * 4) : NULL;
  if (awq) marlin_ref_awq_pack(codes, k, n, q), marlin_ref_awq_pack(z, groups, n, qz);
  else marlin_ref_gptq_pack(codes + off * n, k, n, bits, q); /* the shard's rows of qweight */
  /* a shard: its weights from its k rows, the scales from the layer's K */
  marlin_packed_sizes sz, lz;
  assert_int_equal(marlin_get_packed_sizes(scheme, act, k, n, tp ? -1 : group, &sz), MARLIN_STATUS_SUCCESS);
  assert_int_equal(marlin_get_packed_sizes(scheme, act, kl, n, group, &lz), MARLIN_STATUS_SUCCESS);
  void *d_q = upload(q, qbytes), *d_s = upload(sc, 2 * groups * n);
  void *d_qz = qz ? upload(qz, groups * (n / 8) * 4) : NULL;
  void *d_perm = perm ? upload(perm, 4 * k) : NULL, *d_gidx = tp ? upload(sorted, 4 * k) : NULL;
  void *d_b, *d_ps, *d_pz = NULL;
  cudaMalloc(&d_b, sz.weights), cudaMalloc(&d_ps, lz.scales);
  if (sz.zeros) cudaMalloc(&d_pz, sz.zeros);
  const marlin_checkpoint_format fmt = awq ? MARLIN_CHECKPOINT_AWQ : MARLIN_CHECKPOINT_GPTQ;
  assert_int_equal(marlin_repack_weights(scheme, fmt, k, n, d_q, d_perm, d_b, 0), MARLIN_STATUS_SUCCESS);
  assert_int_equal(marlin_repack_scales(scheme, act, kl, n, group, d_s, d_ps, 0), MARLIN_STATUS_SUCCESS);
  if (awq) assert_int_equal(marlin_repack_zeros(scheme, fmt, k, n, group, d_qz, d_pz, 0), MARLIN_STATUS_SUCCESS);

  uint16_t *ha = malloc(2 * m * k);
  float *fa = malloc(sizeof(float) * m * k);
  for (int64_t i = 0; i < m * k; ++i) {
    ha[i] = marlin_ref_float_to_half(((int32_t)(next_u32() % 2001) - 1000) * 1e-3f, act);
    fa[i] = marlin_ref_half_to_float(ha[i], act);
  }
  void *d_a = upload(ha, 2 * m * k), *d_c, *ws = NULL;
  cudaMalloc(&d_c, 2 * m * n);
  cudaMemset(d_c, 0xff, 2 * m * n); /* NaN poison */
  marlin_gemm_desc desc = {scheme, act, act, m, n, k, group, act_order != 0, act_order && !tp};
  marlin_gemm_args args = {d_a, k, d_b, d_ps, d_pz, d_perm, d_gidx, NULL, NULL, NULL, d_c, n};
  marlin_options options;
  marlin_options_init(&options);
  options.tile_config = forced_config;
  size_t ws_bytes = 0;
  assert_int_equal(marlin_gemm_workspace_size(&desc, &options, -1, &ws_bytes), MARLIN_STATUS_SUCCESS);
  if (shared_ws) {
    assert_true(ws_bytes <= shared_ws_bytes);
    ws = shared_ws, ws_bytes = shared_ws_bytes;
  } else {
    cudaMalloc(&ws, ws_bytes + 256), cudaMemset(ws, 0, ws_bytes + 256);
  }
  assert_int_equal(marlin_gemm(&desc, &args, &options, ws, ws_bytes, 0), MARLIN_STATUS_SUCCESS);
  uint16_t *hc = download(d_c, 2 * m * n);
  if (compare_fixups) {
    cudaMemset(d_c, 0xff, 2 * m * n);
    setenv("MARLIN_CLUSTER_FIXUP", "0", 1);
    const marlin_status st = marlin_gemm(&desc, &args, &options, ws, ws_bytes, 0);
    unsetenv("MARLIN_CLUSTER_FIXUP");
    assert_int_equal(st, MARLIN_STATUS_SUCCESS);
    uint16_t *hc2 = download(d_c, 2 * m * n);
    if (memcmp(hc, hc2, 2 * m * n) != 0) fail_msg("the cluster and the workspace fix-up differ");
    free(hc2);
  }
  if (shared_ws) {
    const size_t counters = MARLIN_TILE_COUNTERS * sizeof(int32_t);
    uint8_t *hw = download(shared_ws, counters);
    size_t nonzero = 0;
    for (size_t i = 0; i < counters; ++i) nonzero += hw[i] != 0;
    free(hw);
    if (nonzero) fail_msg("%zu bytes of the fix-up counters left non-zero", nonzero);
  }
  double *ref = malloc(sizeof(double) * m * n);
  marlin_ref_gemm(fa, k, wd + off * n, NULL, m, n, k, ref);
  double num = 0, den = 0;
  for (int64_t i = 0; i < m * n; ++i) {
    double o = marlin_ref_half_to_float(hc[i], act);
    assert_true(isfinite(o));
    num += (o - ref[i]) * (o - ref[i]), den += ref[i] * ref[i];
  }
  const double rel = sqrt(num / den), tol = act == MARLIN_DTYPE_FP16 ? 2e-3 : 1e-2;
  if (rel > tol) fail_msg("relative error %.3e > %.0e", rel, tol);
  cudaFree(d_q), cudaFree(d_s), cudaFree(d_qz), cudaFree(d_perm), cudaFree(d_b), cudaFree(d_ps);
  cudaFree(d_pz), cudaFree(d_a), cudaFree(d_c), cudaFree(shared_ws ? NULL : ws), cudaFree(d_gidx);
  free(w), free(wd), free(g_idx), free(perm), free(sorted), free(codes), free(z), free(sc), free(q), free(qz);
  free(ha), free(fa), free(hc), free(ref);
}

static void gemm_gptq4_fp16(void **s) { (void)s; gemm_case(MARLIN_SCHEME_GPTQ4, MARLIN_DTYPE_FP16, 7, 512, 1024, 128, 0, 0); }
static void gemm_gptq4_bf16_ragged(void **s) { (void)s; gemm_case(MARLIN_SCHEME_GPTQ4, MARLIN_DTYPE_BF16, 33, 5472 / 4, 7392 / 4, -1, 0, 0); }
static void gemm_gptq4_act_order(void **s) { (void)s; gemm_case(MARLIN_SCHEME_GPTQ4, MARLIN_DTYPE_FP16, 20, 256, 1024, 64, 1, 0); }
/* A 4-way K shard whose k (576) is not a multiple of the group size (128). */
static void gemm_gptq4_act_order_shard(void **s) { (void)s; gemm_case(MARLIN_SCHEME_GPTQ4, MARLIN_DTYPE_FP16, 20, 256, 576, 128, 1, 4); }
static void gemm_gptq8_bf16_act_order_shard(void **s) { (void)s; gemm_case(MARLIN_SCHEME_GPTQ8, MARLIN_DTYPE_BF16, 3, 520, 384, 32, 1, 2); }
/* A shard of a checkpoint without act-order that starts inside a group: rank
 * 1 of 16 of a K = 29568 layer (Qwen2-72B's down_proj), group 128: rows
 * 1848 .. 3695, the first 56 rows into group 14 (docs/api.md "A K shard
 * that starts inside a group"). */
static void gemm_gptq4_shard_mid_group(void **s) { (void)s; gemm_case(MARLIN_SCHEME_GPTQ4, MARLIN_DTYPE_FP16, 5, 264, 1848, 128, 2, 16); }
static void gemm_gptq8_fp16(void **s) { (void)s; gemm_case(MARLIN_SCHEME_GPTQ8, MARLIN_DTYPE_FP16, 65, 384, 512, 32, 0, 0); }
static void gemm_awq4_bf16(void **s) { (void)s; gemm_case(MARLIN_SCHEME_AWQ4, MARLIN_DTYPE_BF16, 1, 2048, 4096, 128, 0, 0); }
/* Runs gemm_case for (scheme, act) at this shape with forced_config, if
 * that config runs here; returns whether it ran. A config this GPU or build
 * cannot run, or one not built for the scheme's weights (configs.def
 * `weights`), is INVALID_VALUE and skipped. */
static int forced_case(marlin_scheme scheme, marlin_dtype act, int64_t m, int64_t n, int64_t k, int32_t group) {
  if (!compiled_here(scheme, act)) return 0;
  marlin_gemm_desc d = {scheme, act, act, m, n, k, group, 0, 1};
  size_t bytes;
  marlin_options o;
  marlin_options_init(&o);
  o.tile_config = forced_config;
  const marlin_status st = marlin_gemm_workspace_size(&d, &o, -1, &bytes);
  assert_true(st == MARLIN_STATUS_SUCCESS || st == MARLIN_STATUS_INVALID_VALUE);
  if (st != MARLIN_STATUS_SUCCESS) return 0;
  gemm_case(scheme, act, m, n, k, group, 0, 0);
  return 1;
}

/* Every tile config forced in turn (those this GPU and build cannot run are
 * skipped): the wgmma tiles of an sm_90a build included. */
static void gemm_every_config(void **s) {
  (void)s;
  int cases = 0;
  for (int c = 0; c < MARLIN_TILE_CONFIG_COUNT; ++c) {
    forced_config = c;
    cases += forced_case(MARLIN_SCHEME_AWQ4, MARLIN_DTYPE_FP16, 200, 384, 1024, 64);
    cases += forced_case(MARLIN_SCHEME_GPTQ4, MARLIN_DTYPE_BF16, 130, 256, 1040, -1);
    /* 8-bit weights: ragged M, N not a multiple of a 256-column tile */
    cases += forced_case(MARLIN_SCHEME_GPTQ8, MARLIN_DTYPE_FP16, 40, 320, 1152, 128);
  }
  forced_config = -1;
  if (!cases) skip(); /* none of the three (scheme, act) kernels in this build */
}
/* One workspace for problems with different plans, as an engine uses one for
 * all its layers: each call must find its counters zero wherever an earlier
 * call put its partial sums or its act-order copy of A. Past the counters
 * the workspace starts as garbage (what earlier calls may leave there). */
static void gemm_shared_workspace(void **s) {
  (void)s;
  if (!compiled_here(MARLIN_SCHEME_GPTQ4, MARLIN_DTYPE_FP16)) skip();
  shared_ws_bytes = (size_t)64 << 20;
  assert_int_equal(cudaMalloc(&shared_ws, shared_ws_bytes), cudaSuccess);
  assert_int_equal(cudaMemset(shared_ws, 0xA5, shared_ws_bytes), cudaSuccess);
  assert_int_equal(cudaMemset(shared_ws, 0, MARLIN_TILE_COUNTERS * sizeof(int32_t)), cudaSuccess);
  gemm_case(MARLIN_SCHEME_GPTQ4, MARLIN_DTYPE_FP16, 16, 512, 4096, 128, 0, 0);   /* 4 tiles in many parts */
  gemm_case(MARLIN_SCHEME_GPTQ4, MARLIN_DTYPE_FP16, 1, 16384, 4096, 128, 0, 0);  /* 128 tiles cut in two */
  gemm_case(MARLIN_SCHEME_GPTQ4, MARLIN_DTYPE_FP16, 20, 1024, 2048, 64, 1, 0);   /* A's copy in the workspace */
  gemm_case(MARLIN_SCHEME_GPTQ4, MARLIN_DTYPE_FP16, 64, 8192, 1024, 128, 0, 0);  /* counters past the copy */
  gemm_case(MARLIN_SCHEME_GPTQ4, MARLIN_DTYPE_FP16, 3, 1032, 7296, 128, 0, 0);   /* ragged n: partials < n only */
  gemm_case(MARLIN_SCHEME_GPTQ4, MARLIN_DTYPE_FP16, 130, 2048, 1024, -1, 0, 0);
  gemm_case(MARLIN_SCHEME_GPTQ4, MARLIN_DTYPE_FP16, 1, 16384, 4096, 128, 0, 0);
  cudaFree(shared_ws);
  shared_ws = NULL;
}
/* Split plans whose parts sum in clusters on sm90 (test_select; H100: 4096
 * x 6144 at M <= 16 in 4 parts over 192 CTAs, x 3072 in 8 over 192, and the
 * 32-row tile in 4 over 96), ragged in M, N and K: the result within
 * tolerance and bitwise equal to the workspace fix-up's. */
static void gemm_cluster_fixup(void **s) {
  (void)s;
  compare_fixups = 1;
  /* forced: at M = 1 the selector takes the column kernel, at 8 < M <= 16
   * on these layers the 16-token one (select.c column16_config) */
  forced_config = MARLIN_TILE_CONFIG_0;
  gemm_case(MARLIN_SCHEME_GPTQ4, MARLIN_DTYPE_FP16, 1, 6144, 4096, 128, 0, 0);
  gemm_case(MARLIN_SCHEME_GPTQ4, MARLIN_DTYPE_BF16, 13, 6136, 4000, 32, 0, 0);
  gemm_case(MARLIN_SCHEME_AWQ4, MARLIN_DTYPE_FP16, 16, 6144, 4096, 64, 0, 0);
  forced_config = MARLIN_TILE_CONFIG_1;
  gemm_case(MARLIN_SCHEME_GPTQ4, MARLIN_DTYPE_FP16, 29, 3072, 4096, -1, 0, 0);
  forced_config = -1;
  if (compiled_here(MARLIN_SCHEME_GPTQ8, MARLIN_DTYPE_FP16)) /* gemm_case skips the whole test */
    gemm_case(MARLIN_SCHEME_GPTQ8, MARLIN_DTYPE_FP16, 5, 3072, 4096, 128, 0, 0);
  compare_fixups = 0;
}
/* The column kernel (each COLUMN config of configs.def forced) at M <= 21,
 * ragged in M, N and K, with its K cut over clusters of 1, 2, 4 and 8 CTAs
 * (MARLIN_COLUMN_CLUSTER; sizes past 1 on sm90 only, where they are taken). */
static void gemm_column(void **s) {
  (void)s;
  for (int c = 0; c < MARLIN_TILE_CONFIG_COUNT; ++c) {
    marlin_tile_config tc = marlin_tile_config_get(c);
    if (tc.kind != MARLIN_TILE_COLUMN) continue;
    forced_config = c;
    for (int kc = 1; kc <= 8; kc *= 2) {
      char v[8];
      snprintf(v, sizeof v, "%d", kc);
      setenv("MARLIN_COLUMN_CLUSTER", v, 1);
      gemm_case(MARLIN_SCHEME_GPTQ4, MARLIN_DTYPE_FP16, 1, 4096, 4096, 128, 0, 0);
      gemm_case(MARLIN_SCHEME_GPTQ4, MARLIN_DTYPE_BF16, 13, 5472 / 4, 7392 / 4, -1, 0, 0);
      gemm_case(MARLIN_SCHEME_AWQ4, MARLIN_DTYPE_FP16, 16, 1032, 2048, 64, 0, 0);
      gemm_case(MARLIN_SCHEME_GPTQ4, MARLIN_DTYPE_FP16, 5, 2048, 1024, 64, 1, 0); /* act-order, whole K */
      if (compiled_here(MARLIN_SCHEME_GPTQ8, MARLIN_DTYPE_FP16)) /* gemm_case skips the whole test */
        gemm_case(MARLIN_SCHEME_GPTQ8, MARLIN_DTYPE_FP16, 9, 520, 1152, 32, 0, 0);
      gemm_case(MARLIN_SCHEME_GPTQ4, MARLIN_DTYPE_FP16, 21, 776, 7392 / 4, -1, 0, 0); /* three token blocks */
    }
    unsetenv("MARLIN_COLUMN_CLUSTER");
  }
  forced_config = -1;
}
/* 8-bit weights at M <= 4 on a layer of few 64-column blocks: on sm90 the
 * selector takes the column kernel (select.c column_config8), unforced;
 * ragged in N (17 blocks, the last half full) and M. */
static void gemm_gptq8_fp16_column_selected(void **s) {
  (void)s;
  gemm_case(MARLIN_SCHEME_GPTQ8, MARLIN_DTYPE_FP16, 3, 1032, 2048, 128, 0, 0);
  gemm_case(MARLIN_SCHEME_GPTQ8, MARLIN_DTYPE_FP16, 1, 1024, 4096, -1, 0, 0);
}
static void gemm_awq4_fp16_large_m(void **s) { (void)s; gemm_case(MARLIN_SCHEME_AWQ4, MARLIN_DTYPE_FP16, 300, 1024, 768, 64, 0, 0); }

int main(int argc, char **argv) {
  static const struct CMUnitTest tests[] = {
      cmocka_unit_test(repack_gptq4),           cmocka_unit_test(repack_gptq4_ragged),
      cmocka_unit_test(repack_gptq4_act_order), cmocka_unit_test(repack_gptq8),
      cmocka_unit_test(repack_gptq8_act_order), cmocka_unit_test(repack_awq4),
      cmocka_unit_test(repack_awq4_ragged),     cmocka_unit_test(repack_scales_and_zeros),
      cmocka_unit_test(repack_rejects_bad_arguments),
      cmocka_unit_test(gemm_gptq4_fp16),        cmocka_unit_test(gemm_gptq4_bf16_ragged),
      cmocka_unit_test(gemm_gptq4_act_order),   cmocka_unit_test(gemm_gptq4_act_order_shard),
      cmocka_unit_test(gemm_gptq8_bf16_act_order_shard), cmocka_unit_test(gemm_gptq4_shard_mid_group), cmocka_unit_test(gemm_gptq8_fp16),
      cmocka_unit_test(gemm_gptq8_fp16_column_selected),
      cmocka_unit_test(gemm_awq4_bf16),         cmocka_unit_test(gemm_awq4_fp16_large_m),
      cmocka_unit_test(gemm_every_config),      cmocka_unit_test(gemm_shared_workspace),
      cmocka_unit_test(gemm_cluster_fixup),     cmocka_unit_test(gemm_column),
  };
  const int listing = argc > 1 && strncmp(argv[1], "--", 2) == 0; /* --list, --check-registered */
  if (!listing && !marlin_test_have_gpu()) return 77;
  return marlin_test_main(tests, sizeof tests / sizeof tests[0], argc, argv);
}
