/* marlin-check: the checker and benchmark of every compiled kernel.
 *
 *   marlin-check [--filter=SUBSTR] [--seed=N] [--quick]          verify
 *   (--filter: cases whose "scheme/act group" label holds SUBSTR, e.g.
 *   gptq4/fp16, bf16, g64, actorder, shard)
 *   marlin-check --bench [--scheme=gptq4] [--act=fp16] [--group=128]
 *                [--m=1,16,...] [--shapes=I] [--pdl] [--config=N]
 *                [--act-order | --shard=TP] [--csv=FILE] [--json=FILE]  benchmark
 *   (--pdl: marlin calls with programmatic dependent launch; --config=N:
 *   force tile config N of include/marlin/kernel/configs.def; --act-order:
 *   GPTQ act-order with the layer's whole K; --shard=TP: act-order on a K
 *   shard, the shape's K being one of TP shards of the layer)
 *
 * Verify: for every (scheme, activation) compiled for this GPU, a grid of
 * shapes (ragged M, N, K; channelwise, groups 32/64/128, act-order with the
 * whole K and on a K shard of a 2/4/8-way layer) on fresh
 * random data: weights quantized and packed by the CPU reference
 * (marlin_ref.h), the output poisoned with NaN before the run, compared with
 * the fp64-accumulated reference GEMM of the dequantized weights by
 * ||out - ref|| / ||ref||; every shape runs with the selector's choice and
 * then with every tile config forced that can take it (one reference per
 * shape); the deterministic reduction is checked bitwise over
 * 10 runs (half of them as two back-to-back calls with programmatic dependent
 * launch). Bench: the standard layer shapes against cuBLAS fp16/bf16 in the
 * same run, CUDA events around back-to-back launches, weights rotated over
 * copies past 4x L2, median of repeats, the HBM roofline from a measured
 * device-to-device copy, and the read floor: a kernel that only reads the
 * rotated weights once (read_floor.cu), timed the same way, whose time bounds
 * what any kernel reading the weights can reach with an ordinary launch.
 *
 * Exit: 0 all passed, 1 a failure, 77 no usable GPU (skip under meson test).
 */
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "marlin/marlin.h"
#include "marlin/marlin_ref.h"
#include "marlin/kernel/plan.h" /* MARLIN_TILE_CONFIG_COUNT: verify rotates forced configs */

#define CUDA_OK(call)                                                                       \
  do {                                                                                      \
    cudaError_t e_ = (call);                                                                \
    if (e_ != cudaSuccess) {                                                                \
      fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call, cudaGetErrorString(e_)); \
      exit(1);                                                                              \
    }                                                                                       \
  } while (0)

/* ---- random numbers (xorshift64*, seeded per case) ------------------------------ */

static uint64_t rng_state;
static uint64_t rng_next(void) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545F4914F6CDD1DULL;
}
static float rng_uniform(void) { return (float)((rng_next() >> 40) * (1.0 / 16777216.0)); }
static float rng_normal(void) {
  float u1 = rng_uniform(), u2 = rng_uniform();
  if (u1 < 1e-7f) u1 = 1e-7f;
  return sqrtf(-2.f * logf(u1)) * cosf(6.2831853f * u2);
}

/* ---- multithreaded reference GEMM (rows split over threads) ---------------------- */

typedef struct {
  const float *a, *w, *bias;
  int64_t lda, m0, m1, n, k;
  double *c;
} ref_job;

static void *ref_worker(void *arg) {
  ref_job *j = arg;
  if (j->m1 > j->m0)
    marlin_ref_gemm(j->a + j->m0 * j->lda, j->lda, j->w, j->bias, j->m1 - j->m0, j->n, j->k,
                    j->c + j->m0 * j->n);
  return NULL;
}

static void ref_gemm_mt(const float *a, int64_t lda, const float *w, const float *bias, int64_t m,
                        int64_t n, int64_t k, double *c) {
  enum { T = 16 };
  pthread_t th[T];
  ref_job jobs[T];
  int nt = m < T ? (int)m : T;
  for (int t = 0; t < nt; ++t) {
    jobs[t] = (ref_job){a, w, bias, lda, m * t / nt, m * (t + 1) / nt, n, k, c};
    pthread_create(&th[t], NULL, ref_worker, &jobs[t]);
  }
  for (int t = 0; t < nt; ++t) pthread_join(th[t], NULL);
}

/* ---- one prepared problem ------------------------------------------------------------- */

typedef struct {
  marlin_scheme scheme;
  marlin_dtype act;
  int64_t m, n, k, lda;
  int32_t group;
  int act_order, bias;
  /* act-order on a K shard (is_k_full = 0): k of the layer's k_layer rows,
   * from row k_off; the scales have the layer's groups. Not a shard: k_layer
   * = k, k_off = 0 */
  int shard;
  int64_t k_layer, k_off;
  /* device */
  void *d_a, *d_b, *d_s, *d_z, *d_bias, *d_c, *d_ws;
  int32_t *d_perm, *d_gidx;
  size_t ws_bytes, b_bytes;
  /* host */
  float *h_a, *h_w, *h_bias; /* A and bias as rounded to act; dequantized W */
} problem;

static void *dev_upload(const void *h, size_t bytes) {
  void *d = NULL;
  CUDA_OK(cudaMalloc(&d, bytes ? bytes : 16));
  if (h && bytes) CUDA_OK(cudaMemcpy(d, h, bytes, cudaMemcpyHostToDevice));
  return d;
}

/* count fp16/bf16 values of sd * N(0, 1) on the device. Benchmark data only:
 * one host chunk of 4M random values is made and copied over the buffer on the
 * device (making all of a large buffer on the host took most of a benchmark run). */
static void *random_half_device(size_t count, marlin_dtype dt, float sd) {
  const size_t chunk = count < ((size_t)1 << 22) ? count : ((size_t)1 << 22);
  uint16_t *h = malloc(sizeof(uint16_t) * (chunk ? chunk : 1));
  for (size_t i = 0; i < chunk; ++i) h[i] = marlin_ref_float_to_half(rng_normal() * sd, dt);
  uint16_t *d = dev_upload(NULL, sizeof(uint16_t) * count);
  CUDA_OK(cudaMemcpy(d, h, sizeof(uint16_t) * chunk, cudaMemcpyHostToDevice));
  for (size_t off = chunk; off < count; off += chunk) {
    const size_t len = count - off < chunk ? count - off : chunk;
    CUDA_OK(cudaMemcpy(d + off, d, sizeof(uint16_t) * len, cudaMemcpyDeviceToDevice));
  }
  free(h);
  return d;
}

static void *random_words_device(size_t bytes) {
  uint64_t *h = malloc(bytes + 8);
  for (size_t i = 0; i < (bytes + 7) / 8; ++i) h[i] = rng_next();
  void *d = dev_upload(h, bytes);
  free(h);
  return d;
}

/* The group of each of a layer's k rows as GPTQ's desc_act leaves them: every
 * group has group_size rows, in a random row order. */
static int32_t *act_order_groups(int64_t k, int32_t group) {
  int32_t *g_idx = malloc(sizeof(int32_t) * k);
  for (int64_t r = 0; r < k; ++r) g_idx[r] = (int32_t)(r / group);
  for (int64_t r = k - 1; r > 0; --r) {
    int64_t j = (int64_t)(rng_next() % (uint64_t)(r + 1));
    int32_t t = g_idx[r];
    g_idx[r] = g_idx[j];
    g_idx[j] = t;
  }
  return g_idx;
}

/* The packed sizes of p's weights (the shard's k rows; their size does not
 * depend on the group) and of its scales and zero points (the layer's groups). */
static int problem_sizes(const problem *p, marlin_packed_sizes *weights, marlin_packed_sizes *layer) {
  return marlin_ref_packed_sizes(p->scheme, p->k, p->n, p->shard ? -1 : p->group, weights) ==
             MARLIN_STATUS_SUCCESS &&
         marlin_ref_packed_sizes(p->scheme, p->k_layer, p->n, p->group, layer) == MARLIN_STATUS_SUCCESS;
}

/* Act-order from the layer's g_idx: perm = argsort of p's rows (k_off ..),
 * uploaded as d_perm, and for a shard their sorted groups as d_gidx. Returns
 * the host perm (the caller frees it). */
static int32_t *problem_act_order(problem *p, const int32_t *g_idx) {
  int32_t *perm = malloc(sizeof(int32_t) * p->k), *sorted = malloc(sizeof(int32_t) * p->k);
  marlin_ref_act_order_perm(g_idx + p->k_off, p->k, perm, sorted);
  p->d_perm = dev_upload(perm, sizeof(int32_t) * p->k);
  p->d_gidx = p->shard ? dev_upload(sorted, sizeof(int32_t) * p->k) : NULL;
  free(sorted);
  return perm;
}

/* Benchmark data: any bit pattern is a valid code, so random packed words and
 * random positive scales stand in for a quantized checkpoint (fast to make). */
static int problem_make_random(problem *p) {
  const int64_t k_layer = p->k_layer;
  const int64_t groups = marlin_ref_num_groups(k_layer, p->group);
  marlin_packed_sizes sz, lz;
  if (!problem_sizes(p, &sz, &lz)) return 0;
  p->b_bytes = sz.weights;
  p->d_b = random_words_device(sz.weights);
  const int64_t n_pad = lz.scales / 2 / groups;
  uint16_t *hs = malloc(lz.scales);
  for (int64_t i = 0; i < groups * n_pad; ++i)
    hs[i] = marlin_ref_float_to_half(0.001f + 0.01f * rng_uniform(), p->act);
  p->d_s = dev_upload(hs, lz.scales);
  free(hs);
  if (p->act_order) { /* a layer's random act-order groups */
    int32_t *g_idx = act_order_groups(k_layer, p->group);
    free(problem_act_order(p, g_idx));
    free(g_idx);
  }
  p->d_z = sz.zeros ? random_words_device(sz.zeros) : NULL;
  p->d_a = random_half_device((size_t)(p->m * p->lda), p->act, 1.f);
  p->d_c = dev_upload(NULL, sizeof(uint16_t) * p->m * p->n);
  return 1;
}

static int problem_make(problem *p, int want_host_ref) {
  if (!want_host_ref) return problem_make_random(p);
  const marlin_dtype dt = p->act;
  const int64_t m = p->m, n = p->n, k = p->k;
  /* The layer is quantized whole; a shard takes rows [k_off, k_off + k). */
  const int64_t k_layer = p->k_layer;
  const int64_t groups = marlin_ref_num_groups(k_layer, p->group);
  float *w = malloc(sizeof(float) * k_layer * n);
  for (int64_t i = 0; i < k_layer * n; ++i) w[i] = rng_normal() * 0.05f;
  int32_t *g_idx = NULL, *perm = NULL;
  if (p->act_order) {
    g_idx = act_order_groups(k_layer, p->group);
    perm = problem_act_order(p, g_idx);
  }
  uint8_t *codes = malloc(k_layer * n), *zeros = NULL;
  uint16_t *scales = malloc(sizeof(uint16_t) * groups * n);
  if (p->scheme == MARLIN_SCHEME_AWQ4) zeros = malloc(groups * n);
  marlin_status st =
      marlin_ref_quantize(p->scheme, dt, w, k_layer, n, p->group, g_idx, codes, scales, zeros);
  if (st != MARLIN_STATUS_SUCCESS) {
    fprintf(stderr, "quantize: %s\n", marlin_status_string(st));
    return 0;
  }
  marlin_packed_sizes sz, lz; /* the shard's weights, the layer's scales */
  if (!problem_sizes(p, &sz, &lz)) return 0;
  void *pb = calloc(1, sz.weights), *ps = calloc(1, lz.scales), *pz = lz.zeros ? calloc(1, lz.zeros) : NULL;
  marlin_ref_pack_weights(p->scheme, codes + p->k_off * n, k, n, perm, pb);
  marlin_ref_pack_scales(scales, groups, n, ps);
  if (pz) marlin_ref_pack_zeros(zeros, groups, n, pz);
  p->b_bytes = sz.weights;
  p->d_b = dev_upload(pb, sz.weights);
  p->d_s = dev_upload(ps, lz.scales);
  p->d_z = pz ? dev_upload(pz, lz.zeros) : NULL;

  uint16_t *ha = malloc(sizeof(uint16_t) * m * p->lda);
  p->h_a = want_host_ref ? malloc(sizeof(float) * m * p->lda) : NULL;
  for (int64_t i = 0; i < m * p->lda; ++i) {
    ha[i] = marlin_ref_float_to_half(rng_normal(), dt);
    if (p->h_a) p->h_a[i] = marlin_ref_half_to_float(ha[i], dt);
  }
  p->d_a = dev_upload(ha, sizeof(uint16_t) * m * p->lda);
  p->h_bias = NULL;
  p->d_bias = NULL;
  if (p->bias) {
    uint16_t *hb = malloc(sizeof(uint16_t) * n);
    p->h_bias = malloc(sizeof(float) * n);
    for (int64_t i = 0; i < n; ++i) {
      hb[i] = marlin_ref_float_to_half(rng_normal(), dt);
      p->h_bias[i] = marlin_ref_half_to_float(hb[i], dt);
    }
    p->d_bias = dev_upload(hb, sizeof(uint16_t) * n);
    free(hb);
  }
  p->h_w = NULL;
  if (want_host_ref) {
    p->h_w = malloc(sizeof(float) * k_layer * n);
    marlin_ref_dequantize(p->scheme, dt, codes, scales, zeros, k_layer, n, p->group, g_idx, p->h_w);
    if (p->k_off) memmove(p->h_w, p->h_w + p->k_off * n, sizeof(float) * k * n);
  }
  p->d_c = dev_upload(NULL, sizeof(uint16_t) * m * n);
  free(w), free(g_idx), free(perm), free(codes), free(zeros), free(scales), free(pb),
      free(ps), free(pz), free(ha);
  return 1;
}

static void problem_free(problem *p) {
  cudaFree(p->d_a), cudaFree(p->d_b), cudaFree(p->d_s), cudaFree(p->d_z), cudaFree(p->d_bias),
      cudaFree(p->d_c), cudaFree(p->d_perm), cudaFree(p->d_gidx), cudaFree(p->d_ws);
  free(p->h_a), free(p->h_w), free(p->h_bias);
}

static void desc_args(const problem *p, marlin_gemm_desc *d, marlin_gemm_args *a) {
  memset(d, 0, sizeof *d);
  memset(a, 0, sizeof *a);
  d->scheme = p->scheme;
  d->act_type = d->out_type = p->act;
  d->m = p->m, d->n = p->n, d->k = p->k;
  d->group_size = p->group;
  d->act_order = p->act_order;
  d->is_k_full = p->act_order && !p->shard;
  a->a = p->d_a, a->lda = p->lda, a->b = p->d_b, a->scales = p->d_s, a->zeros = p->d_z;
  a->perm = p->d_perm, a->g_idx = p->d_gidx, a->bias = p->d_bias, a->c = p->d_c, a->ldc = p->n;
}

static marlin_status run_gemm(problem *p, const marlin_options *o, cudaStream_t s) {
  marlin_gemm_desc d;
  marlin_gemm_args a;
  desc_args(p, &d, &a);
  size_t bytes;
  marlin_status st = marlin_gemm_workspace_size(&d, o, -1, &bytes);
  if (st) return st;
  if (!p->d_ws || bytes > p->ws_bytes) { /* another config may need more: a larger one, zeroed once */
    if (p->d_ws) CUDA_OK(cudaFree(p->d_ws));
    p->ws_bytes = bytes;
    CUDA_OK(cudaMalloc(&p->d_ws, p->ws_bytes ? p->ws_bytes : 256));
    CUDA_OK(cudaMemset(p->d_ws, 0, p->ws_bytes ? p->ws_bytes : 256));
  }
  return marlin_gemm(&d, &a, o, p->d_ws, p->ws_bytes, s);
}

/* ---- verify ------------------------------------------------------------------------ */

typedef struct {
  int cases, failed, shapes;
  int per_config[MARLIN_TILE_CONFIG_COUNT + 1]; /* runs per forced config; [COUNT]: the selector's */
  double worst_fp16, worst_bf16;
} verify_stats;

static const char *group_name(const problem *p) {
  static char buf[96];
  const int32_t g = p->group;
  if (p->shard)
    snprintf(buf, sizeof buf, "g%d-actorder-shard(rows %lld..%lld of %lld)", g, (long long)p->k_off,
             (long long)(p->k_off + p->k), (long long)p->k_layer);
  else if (p->act_order) snprintf(buf, sizeof buf, "g%d-actorder", g);
  else if (g < 0) snprintf(buf, sizeof buf, "channel");
  else snprintf(buf, sizeof buf, "g%d", g);
  return buf;
}

/* One run of a made problem with tile config `config` (-1: the selector's;
 * every run, the determinism reruns included, uses the same one), checked
 * against ref. A forced config that this scheme, GPU or shape cannot take
 * (the workspace query says INVALID_VALUE: not built for the scheme, or
 * more shared memory than the GPU has) is skipped. Runs on the shape's
 * stream s. */
static void verify_run(problem *p, const double *ref, int config, cudaStream_t s, verify_stats *vs,
                       int check_determinism) {
  const double tol = p->act == MARLIN_DTYPE_FP16 ? 2e-3 : 1e-2;
  const size_t cbytes = sizeof(uint16_t) * p->m * p->n;
  marlin_options base;
  marlin_options_init(&base);
  base.tile_config = config;
  if (config >= 0) {
    marlin_gemm_desc d;
    marlin_gemm_args a;
    size_t bytes;
    desc_args(p, &d, &a);
    if (marlin_gemm_workspace_size(&d, &base, -1, &bytes) == MARLIN_STATUS_INVALID_VALUE) return;
  }
  CUDA_OK(cudaMemset(p->d_c, 0xff, cbytes)); /* NaN poison: unwritten elements fail */
  marlin_status st = run_gemm(p, &base, s);
  CUDA_OK(cudaStreamSynchronize(s));
  uint16_t *out = malloc(cbytes);
  CUDA_OK(cudaMemcpy(out, p->d_c, cbytes, cudaMemcpyDeviceToHost));
  double num = 0, den = 0, worst = 0;
  int64_t worst_i = 0, nan_count = 0;
  for (int64_t i = 0; i < p->m * p->n; ++i) {
    double o = marlin_ref_half_to_float(out[i], p->act);
    if (!isfinite(o)) {
      nan_count++;
      continue;
    }
    double e = fabs(o - ref[i]);
    num += e * e, den += ref[i] * ref[i];
    if (e > worst) worst = e, worst_i = i;
  }
  double rel = den > 0 ? sqrt(num / den) : sqrt(num);
  int ok = st == MARLIN_STATUS_SUCCESS && nan_count == 0 && rel <= tol;
  int det_ok = 1;
  if (ok && check_determinism) { /* bitwise identical over 10 runs */
    /* odd runs: two calls back to back with programmatic dependent launch,
     * the second overlapping the first's tail (same output, same workspace) */
    marlin_options pdl = base;
    pdl.programmatic_launch = 1;
    uint16_t *again = malloc(cbytes);
    for (int r = 0; r < 10 && det_ok; ++r) {
      CUDA_OK(cudaMemset(p->d_c, 0xff, cbytes));
      if (r % 2) run_gemm(p, &pdl, s);
      run_gemm(p, r % 2 ? &pdl : &base, s);
      CUDA_OK(cudaMemcpy(again, p->d_c, cbytes, cudaMemcpyDeviceToHost));
      det_ok = memcmp(again, out, cbytes) == 0;
    }
    free(again);
    ok = det_ok;
  }
  vs->cases++;
  vs->per_config[base.tile_config >= 0 ? base.tile_config : MARLIN_TILE_CONFIG_COUNT]++;
  if (p->act == MARLIN_DTYPE_FP16 && rel > vs->worst_fp16) vs->worst_fp16 = rel;
  if (p->act == MARLIN_DTYPE_BF16 && rel > vs->worst_bf16) vs->worst_bf16 = rel;
  if (!ok) {
    vs->failed++;
    printf("FAIL %s/%s m=%lld n=%lld k=%lld lda=%lld %s%s config=%d: status=%s (%s) rel=%.3e (tol %.0e) "
           "unwritten/NaN=%lld worst |err|=%.3e at (%lld,%lld)%s\n",
           marlin_scheme_name(p->scheme), marlin_dtype_name(p->act), (long long)p->m,
           (long long)p->n, (long long)p->k, (long long)p->lda, group_name(p),
           p->bias ? " bias" : "", base.tile_config, marlin_status_string(st), marlin_last_error(), rel, tol,
           (long long)nan_count, worst, (long long)(worst_i / p->n), (long long)(worst_i % p->n),
           det_ok ? "" : " NONDETERMINISTIC");
  }
  free(out);
}

/* One shape on fresh random data (seeded), its fp64 reference computed
 * once, run with the selector's choice and then with every tile config that
 * can take it. */
static void verify_case(problem *p, uint64_t seed, verify_stats *vs, int check_determinism) {
  rng_state = seed * 0x9E3779B97F4A7C15ULL + 1;
  if (!problem_make(p, 1)) {
    vs->failed++;
    problem_free(p);
    return;
  }
  vs->shapes++;
  double *ref = malloc(sizeof(double) * p->m * p->n);
  ref_gemm_mt(p->h_a, p->lda, p->h_w, p->h_bias, p->m, p->n, p->k, ref);
  cudaStream_t s;
  CUDA_OK(cudaStreamCreate(&s));
  for (int c = -1; c < MARLIN_TILE_CONFIG_COUNT; ++c) verify_run(p, ref, c, s, vs, check_determinism);
  cudaStreamDestroy(s);
  free(ref);
  problem_free(p);
}

static int verbose;
static int run_verify(const char *filter, uint64_t seed, int quick) {
  const marlin_scheme schemes[] = {MARLIN_SCHEME_GPTQ4, MARLIN_SCHEME_GPTQ8, MARLIN_SCHEME_AWQ4};
  const marlin_dtype acts[] = {MARLIN_DTYPE_FP16, MARLIN_DTYPE_BF16};
  const int64_t ms[] = {1, 5, 16, 17, 32, 33, 64, 100, 257, 1000, 4097, 65536};
  const int64_t nks[][2] = {{64, 128},   {72, 136},   {256, 1024}, {200, 7392}, {5472, 256},
                            {1024, 384}, {4096, 512}, {136, 4096}, {2048, 2048}};
  const int32_t groups[] = {-1, 32, 64, 128, 0 /* act-order g128 */, 1 /* act-order K shard */};
  int dev, major, minor;
  CUDA_OK(cudaGetDevice(&dev));
  CUDA_OK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev));
  CUDA_OK(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev));
  const int arch = major * 10 + minor;
  verify_stats vs;
  memset(&vs, 0, sizeof vs);
  uint64_t case_id = 0;
  for (size_t si = 0; si < sizeof schemes / sizeof *schemes; ++si)
    for (size_t ai = 0; ai < sizeof acts / sizeof *acts; ++ai) {
      if (!marlin_is_compiled(schemes[si], acts[ai], arch)) continue;
      char name[64];
      snprintf(name, sizeof name, "%s/%s", marlin_scheme_name(schemes[si]), marlin_dtype_name(acts[ai]));
      const int before = vs.cases, failed_before = vs.failed, shapes_before = vs.shapes;
      for (size_t mi = 0; mi < sizeof ms / sizeof *ms; ++mi)
        for (size_t si2 = 0; si2 < sizeof nks / sizeof *nks; ++si2)
          for (size_t gi = 0; gi < sizeof groups / sizeof *groups; ++gi) {
            ++case_id;
            if (quick && case_id % 7) continue;
            problem p;
            memset(&p, 0, sizeof p);
            p.scheme = schemes[si], p.act = acts[ai];
            p.m = ms[mi], p.n = nks[si2][0], p.k = nks[si2][1];
            p.act_order = groups[gi] == 0 || groups[gi] == 1;
            p.shard = groups[gi] == 1;
            p.group = p.shard ? 32 << (case_id / 3 % 3) : p.act_order ? 128 : groups[gi];
            if (p.act_order && p.scheme == MARLIN_SCHEME_AWQ4) continue;
            if (p.shard) { /* rank case_id % tp of tp = 2, 4, 8; the layer's K a multiple of the group */
              int tp = 2 << (case_id % 3);
              while (tp > 2 && p.k * tp * p.n > (int64_t)1 << 25) tp /= 2;
              p.k_layer = (p.k * tp + p.group - 1) / p.group * p.group;
              p.k_off = (int64_t)(case_id % (uint64_t)tp) * p.k;
            } else {
              p.k_layer = p.k;
              if (p.act_order && p.k <= p.group) continue;
              if (p.group > 0 && p.k % p.group) continue;
            }
            if (p.m * p.n * p.k > (int64_t)1 << 31) continue; /* keep the CPU reference quick */
            p.lda = p.k + ((case_id % 3 == 0) ? 8 : 0);          /* some non-contiguous A */
            p.bias = case_id % 2;
            if (filter) { /* against "scheme/act group", e.g. gptq4/fp16, bf16, actorder, shard */
              char label[160];
              snprintf(label, sizeof label, "%s %s", name, group_name(&p));
              if (!strstr(label, filter)) continue;
            }
            if (verbose) {
              printf("case %llu: %s m=%lld n=%lld k=%lld %s\n", (unsigned long long)case_id, name,
                     (long long)p.m, (long long)p.n, (long long)p.k, group_name(&p));
              fflush(stdout);
            }
            verify_case(&p, seed + case_id, &vs, case_id % 5 == 0);
          }
      if (vs.cases > before)
        printf("%-12s %4d cases (%d shapes), %d failed\n", name, vs.cases - before, vs.shapes - shapes_before,
               vs.failed - failed_before);
    }
  printf("runs per tile config (sel = the selector's choice):");
  for (int c = 0; c <= MARLIN_TILE_CONFIG_COUNT; ++c)
    if (vs.per_config[c]) {
      if (c < MARLIN_TILE_CONFIG_COUNT) printf(" %d:%d", c, vs.per_config[c]);
      else printf(" sel:%d", vs.per_config[c]);
    }
  printf("\nverify: %d cases, %d failed; worst rel error fp16 %.3e (tol 2e-3), bf16 %.3e (tol 1e-2)\n",
         vs.cases, vs.failed, vs.worst_fp16, vs.worst_bf16);
  if (vs.cases == 0) {
    printf("no compiled kernel runs on this sm_%d GPU (%s)\n", arch, marlin_build_config());
    return 77;
  }
  return vs.failed ? 1 : 0;
}

/* ---- bench ------------------------------------------------------------------------- */

static int cmp_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return x < y ? -1 : x > y;
}

/* Median over `reps` graph replays of the mean time (us) of `iters` calls
 * captured back to back in one CUDA graph (no host launch overhead). */
typedef void (*call_fn)(void *ctx, int i, cudaStream_t s);
static float time_calls(call_fn fn, void *ctx, cudaStream_t s, int iters, int reps) {
  cudaEvent_t e0, e1;
  CUDA_OK(cudaEventCreate(&e0));
  CUDA_OK(cudaEventCreate(&e1));
  for (int i = 0; i < iters; ++i) fn(ctx, i, s); /* warm-up, outside the graph */
  CUDA_OK(cudaStreamSynchronize(s));
  cudaGraph_t graph;
  cudaGraphExec_t exec;
  CUDA_OK(cudaStreamBeginCapture(s, cudaStreamCaptureModeRelaxed));
  for (int i = 0; i < iters; ++i) fn(ctx, i, s);
  CUDA_OK(cudaStreamEndCapture(s, &graph));
  CUDA_OK(cudaGraphInstantiate(&exec, graph, 0));
  CUDA_OK(cudaGraphLaunch(exec, s)); /* warm-up replay */
  float t[32];
  for (int r = 0; r < reps; ++r) {
    CUDA_OK(cudaEventRecord(e0, s));
    CUDA_OK(cudaGraphLaunch(exec, s));
    CUDA_OK(cudaEventRecord(e1, s));
    CUDA_OK(cudaEventSynchronize(e1));
    CUDA_OK(cudaEventElapsedTime(&t[r], e0, e1));
    t[r] = t[r] * 1000.f / iters;
  }
  qsort(t, reps, sizeof(float), cmp_float);
  cudaGraphExecDestroy(exec), cudaGraphDestroy(graph);
  cudaEventDestroy(e0), cudaEventDestroy(e1);
  return t[reps / 2];
}

static marlin_options bench_options; /* --pdl, --config=N */

typedef struct {
  problem *p;
  void **b_copies;
  int copies;
  marlin_gemm_desc d;
  marlin_gemm_args a;
  marlin_status st;
} marlin_ctx;

static void call_marlin(void *ctx, int i, cudaStream_t s) {
  marlin_ctx *c = ctx;
  c->a.b = c->b_copies[i % c->copies];
  marlin_status st = marlin_gemm(&c->d, &c->a, &bench_options, c->p->d_ws, c->p->ws_bytes, s);
  if (st && !c->st) c->st = st;
}

typedef struct {
  cublasHandle_t h;
  void **w;
  int copies;
  void *a, *c;
  int m, n, k;
  cudaDataType_t t;
} cublas_ctx;

static void call_cublas(void *ctx, int i, cudaStream_t s) {
  cublas_ctx *c = ctx;
  const float one = 1.f, zero = 0.f;
  (void)s;
  cublasStatus_t st = cublasGemmEx(c->h, CUBLAS_OP_N, CUBLAS_OP_N, c->n, c->m, c->k, &one,
                                   c->w[i % c->copies], c->t, c->n, c->a, c->t, c->k, &zero, c->c,
                                   c->t, c->n, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
  if (st != CUBLAS_STATUS_SUCCESS) {
    fprintf(stderr, "cublasGemmEx failed: %d\n", (int)st);
    exit(1);
  }
}

/* The read floor (read_floor.cu): one read of the rotated weights, nothing else. */
int marlin_check_read_floor(const void *p, size_t bytes, void *sink, int sms, cudaStream_t s);
typedef struct {
  void **b_copies;
  int copies, sms;
  size_t bytes;
  void *sink;
} floor_ctx;

static void call_floor(void *ctx, int i, cudaStream_t s) {
  floor_ctx *c = ctx;
  CUDA_OK((cudaError_t)marlin_check_read_floor(c->b_copies[i % c->copies], c->bytes, c->sink, c->sms, s));
}

static double measure_copy_bw(cudaStream_t s) {
  const size_t bytes = (size_t)1 << 30;
  void *x, *y;
  CUDA_OK(cudaMalloc(&x, bytes));
  CUDA_OK(cudaMalloc(&y, bytes));
  CUDA_OK(cudaMemset(x, 1, bytes));
  cudaEvent_t e0, e1;
  cudaEventCreate(&e0), cudaEventCreate(&e1);
  cudaMemcpyAsync(y, x, bytes, cudaMemcpyDeviceToDevice, s);
  float best = 1e30f;
  for (int r = 0; r < 5; ++r) {
    cudaEventRecord(e0, s);
    cudaMemcpyAsync(y, x, bytes, cudaMemcpyDeviceToDevice, s);
    cudaEventRecord(e1, s);
    cudaEventSynchronize(e1);
    float ms;
    cudaEventElapsedTime(&ms, e0, e1);
    if (ms < best) best = ms;
  }
  cudaFree(x), cudaFree(y);
  cudaEventDestroy(e0), cudaEventDestroy(e1);
  return 2.0 * bytes / (best * 1e-3); /* read + write */
}

static int shape_filter = -1; /* bench: only this index of the standard shapes */
static int bench_act_order;   /* bench --act-order: act-order with the whole K */
static int bench_shard;       /* bench --shard=TP: act-order on a K shard of a TP-way layer */

static int parse_list(const char *s, int64_t *out, int max) {
  int n = 0;
  while (s && *s && n < max) {
    out[n++] = strtoll(s, (char **)&s, 10);
    if (*s == ',') ++s;
  }
  return n;
}

static int run_bench(marlin_scheme scheme, marlin_dtype act, int32_t group, const int64_t *ms, int nm,
                     const char *csv_path, const char *json_path) {
  static const int64_t shapes[8][2] = {{4096, 6144}, {4096, 4096},  {4096, 28672}, {14336, 4096},
                                       {8192, 10240}, {8192, 8192}, {8192, 57344}, {28672, 8192}};
  cudaStream_t s;
  CUDA_OK(cudaStreamCreate(&s));
  cublasHandle_t h;
  if (cublasCreate(&h) != CUBLAS_STATUS_SUCCESS) return 1;
  cublasSetStream(h, s);
  int l2 = 0, dev, major, minor, sms;
  CUDA_OK(cudaGetDevice(&dev));
  CUDA_OK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
  CUDA_OK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev));
  CUDA_OK(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev));
  if (!marlin_is_compiled(scheme, act, major * 10 + minor)) {
    printf("no %s/%s kernel for this sm_%d%d GPU in this build (%s): nothing to time\n",
           marlin_scheme_name(scheme), marlin_dtype_name(act), major, minor, marlin_build_config());
    return 77;
  }
  CUDA_OK(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, dev));
  void *sink; /* the read floor's output word */
  CUDA_OK(cudaMalloc(&sink, 256));
  const int iters = 20, reps = 7; /* calls per graph, graph replays (median) */
  const double bw = measure_copy_bw(s);
  const size_t rotate_bytes = 4 * (size_t)l2;
  FILE *csv = csv_path ? fopen(csv_path, "w") : NULL;
  FILE *json = json_path ? fopen(json_path, "w") : NULL;
  if (csv) fprintf(csv, "scheme,act,group,k,n,m,marlin_us,cublas_us,speedup,weight_gbps,roofline_frac,floor_us\n");
  if (json) fprintf(json, "{\"device_copy_gbps\": %.1f, \"results\": [\n", bw / 1e9);
  printf("device-to-device copy: %.0f GB/s; L2 %d MB; weights rotated over >= %zu MB\n", bw / 1e9,
         l2 >> 20, rotate_bytes >> 20);
  printf("%-7s %-5s %6s %6s %5s %10s %10s %8s %9s %9s\n", "scheme", "act", "K", "N", "M", "marlin us",
         "cublas us", "speedup", "roofline", "floor us");
  double log_sum[16] = {0}, roof_sum[16] = {0}, log_bound[16] = {0};
  int count[16] = {0}, first_json = 1, failed = 0;
  rng_state = 12345;
  for (int si = 0; si < 8; ++si) {
    if (shape_filter >= 0 && si != shape_filter) continue;
    const int64_t k = shapes[si][0], n = shapes[si][1];
    problem p;
    memset(&p, 0, sizeof p);
    p.scheme = scheme, p.act = act, p.group = group, p.n = n, p.k = k, p.m = ms[nm - 1], p.lda = k;
    p.act_order = bench_act_order || bench_shard > 0;
    p.shard = bench_shard > 0;
    p.k_layer = k * (bench_shard > 0 ? bench_shard : 1); /* the shard is rank 0 */
    if (!problem_make(&p, 0)) return 1;
    const int copies = (int)(rotate_bytes / p.b_bytes) + 2;
    void **b_copies = malloc(sizeof(void *) * copies);
    b_copies[0] = p.d_b;
    for (int c = 1; c < copies; ++c) {
      CUDA_OK(cudaMalloc(&b_copies[c], p.b_bytes));
      CUDA_OK(cudaMemcpy(b_copies[c], p.d_b, p.b_bytes, cudaMemcpyDeviceToDevice));
    }
    const size_t wbytes = (size_t)k * n * 2;
    const int wcopies = (int)(rotate_bytes / wbytes) + 2;
    cublas_ctx cc = {h, malloc(sizeof(void *) * wcopies), wcopies, NULL, NULL, 0, (int)n, (int)k,
                     act == MARLIN_DTYPE_FP16 ? CUDA_R_16F : CUDA_R_16BF};
    for (int c = 0; c < wcopies; ++c) cc.w[c] = random_half_device((size_t)k * n, act, 0.05f);
    cc.a = p.d_a;
    CUDA_OK(cudaMalloc(&cc.c, sizeof(uint16_t) * p.m * n));
    /* the read floor of this layer's packed weights (M does not enter) */
    floor_ctx fc = {b_copies, copies, sms, p.b_bytes / 16 * 16, sink};
    const float t_floor = time_calls(call_floor, &fc, s, iters, reps);
    for (int mi = 0; mi < nm; ++mi) {
      const int64_t m = ms[mi];
      problem q = p;
      q.m = m;
      q.d_ws = NULL;
      marlin_ctx mc;
      memset(&mc, 0, sizeof mc);
      mc.p = &q, mc.b_copies = b_copies, mc.copies = copies;
      desc_args(&q, &mc.d, &mc.a);
      if (marlin_gemm_workspace_size(&mc.d, &bench_options, -1, &q.ws_bytes)) {
        printf("workspace query failed: %s\n", marlin_last_error());
        return 1;
      }
      CUDA_OK(cudaMalloc(&q.d_ws, q.ws_bytes ? q.ws_bytes : 256));
      CUDA_OK(cudaMemset(q.d_ws, 0, q.ws_bytes ? q.ws_bytes : 256));
      const float t_marlin = time_calls(call_marlin, &mc, s, iters, reps);
      cc.m = (int)m;
      const float t_cublas = time_calls(call_cublas, &cc, s, iters, reps);
      if (mc.st) {
        printf("marlin_gemm failed: %s: %s\n", marlin_status_string(mc.st), marlin_last_error());
        failed = 1;
      }
      const double speed = t_cublas / t_marlin;
      const double bytes = (double)p.b_bytes + (double)(k / (group > 0 ? group : k)) * n * 2 +
                           (double)m * k * 2 + (double)m * n * 2;
      const double roof = bytes / (t_marlin * 1e-6) / bw;
      printf("%-7s %-5s %6lld %6lld %5lld %10.1f %10.1f %8.2f %8.0f%% %9.1f\n", marlin_scheme_name(scheme),
             marlin_dtype_name(act), (long long)k, (long long)n, (long long)m, t_marlin, t_cublas,
             speed, roof * 100, t_floor);
      if (csv)
        fprintf(csv, "%s,%s,%d,%lld,%lld,%lld,%.2f,%.2f,%.4f,%.1f,%.4f,%.2f\n", marlin_scheme_name(scheme),
                marlin_dtype_name(act), group, (long long)k, (long long)n, (long long)m, t_marlin,
                t_cublas, speed, p.b_bytes / (t_marlin * 1e-6) / 1e9, roof, t_floor);
      if (json)
        fprintf(json, "%s  {\"k\": %lld, \"n\": %lld, \"m\": %lld, \"marlin_us\": %.2f, \"cublas_us\": %.2f, \"speedup\": %.4f, \"roofline\": %.4f, \"floor_us\": %.2f}",
                first_json ? "" : ",\n", (long long)k, (long long)n, (long long)m, t_marlin, t_cublas,
                speed, roof, t_floor);
      first_json = 0;
      log_sum[mi] += log(speed), roof_sum[mi] += roof, count[mi]++;
      log_bound[mi] += log(t_cublas / t_floor);
      cudaFree(q.d_ws);
    }
    for (int c = 1; c < copies; ++c) cudaFree(b_copies[c]);
    for (int c = 0; c < wcopies; ++c) cudaFree(cc.w[c]);
    free(b_copies), free(cc.w);
    cudaFree(cc.c);
    problem_free(&p);
  }
  printf("\nsummary %s/%s group %d%s%s: geomean speedup over cuBLAS %s per M (%s)\n",
         marlin_scheme_name(scheme), marlin_dtype_name(act), group,
         bench_shard > 0 ? " act-order K shard" : bench_act_order ? " act-order" : "",
         bench_options.programmatic_launch ? " pdl" : "", marlin_dtype_name(act),
         shape_filter >= 0 ? "1 shape" : "8 shapes");
  printf("(floor bound: the geomean of cuBLAS time / read-floor time, the speedup a kernel that only\n"
         " read the packed weights once would reach)\n");
  printf("%6s %9s %9s %12s\n", "M", "speedup", "roofline", "floor bound");
  for (int mi = 0; mi < nm; ++mi)
    printf("%6lld %9.2f %8.0f%% %12.2f\n", (long long)ms[mi], exp(log_sum[mi] / count[mi]),
           100 * roof_sum[mi] / count[mi], exp(log_bound[mi] / count[mi]));
  if (json) fprintf(json, "\n]}\n"), fclose(json);
  if (csv) fclose(csv);
  cublasDestroy(h);
  cudaFree(sink);
  cudaStreamDestroy(s);
  return failed;
}

int main(int argc, char **argv) {
  int bench = 0, quick = 0;
  marlin_options_init(&bench_options);
  const char *filter = NULL, *csv = NULL, *json = NULL, *mlist = "1,16,32,64,128,256,512,1024,4096";
  uint64_t seed = 1;
  marlin_scheme scheme = MARLIN_SCHEME_GPTQ4;
  marlin_dtype act = MARLIN_DTYPE_FP16;
  int32_t group = 128;
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i];
    if (!strcmp(a, "--bench")) bench = 1;
    else if (!strcmp(a, "--verbose")) verbose = 1;
    else if (!strncmp(a, "--shapes=", 9)) shape_filter = atoi(a + 9);
    else if (!strcmp(a, "--quick")) quick = 1;
    else if (!strncmp(a, "--filter=", 9)) filter = a + 9;
    else if (!strncmp(a, "--seed=", 7)) seed = strtoull(a + 7, NULL, 10);
    else if (!strncmp(a, "--csv=", 6)) csv = a + 6;
    else if (!strncmp(a, "--json=", 7)) json = a + 7;
    else if (!strncmp(a, "--m=", 4)) mlist = a + 4;
    else if (!strncmp(a, "--group=", 8)) group = atoi(a + 8);
    else if (!strcmp(a, "--pdl")) bench_options.programmatic_launch = 1;
    else if (!strcmp(a, "--act-order")) bench_act_order = 1;
    else if (!strncmp(a, "--shard=", 8)) bench_shard = atoi(a + 8);
    else if (!strncmp(a, "--config=", 9)) bench_options.tile_config = atoi(a + 9);
    else if (!strncmp(a, "--scheme=", 9)) {
      scheme = MARLIN_SCHEME_INVALID;
      for (int s = 1; s < MARLIN_SCHEME_END_; ++s)
        if (marlin_scheme_name((marlin_scheme)s) && !strcmp(marlin_scheme_name((marlin_scheme)s), a + 9))
          scheme = (marlin_scheme)s;
    } else if (!strncmp(a, "--act=", 6)) act = !strcmp(a + 6, "bf16") ? MARLIN_DTYPE_BF16 : MARLIN_DTYPE_FP16;
    else {
      fprintf(stderr, "usage: %s [--filter=S] [--seed=N] [--quick] | --bench [--scheme=gptq4] "
                      "[--act=fp16|bf16] [--group=128] [--m=1,16,...] [--shapes=I] [--pdl] [--config=N] "
                      "[--act-order | --shard=TP] [--csv=F] [--json=F]\n", argv[0]);
      return 2;
    }
  }
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    printf("marlin-check: no CUDA device: nothing verified (%s); skipping\n", marlin_build_config());
    return 77;
  }
  printf("marlin %s (%s)\n", marlin_version(), marlin_build_config());
  if (!bench) return run_verify(filter, seed, quick);
  int64_t ms[16];
  int nm = parse_list(mlist, ms, 16);
  return run_bench(scheme, act, group, ms, nm, csv, json);
}
