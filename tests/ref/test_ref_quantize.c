/* Unit tests of groups, act-order and the quantizers of the CPU reference. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "marlin/marlin_ref.h"
#include "test_main.h"

#define REF_TEST_SEED 7u
#include "ref_test_util.h"

static double dabs(double x) { return x < 0 ? -x : x; }

static void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  assert_non_null(p);
  return p;
}

/* A random act-order assignment: each group gets exactly group_size rows. */
static void random_g_idx(int32_t *g_idx, int64_t k, int32_t group_size) {
  for (int64_t r = 0; r < k; r++) g_idx[r] = (int32_t)(r / group_size);
  for (int64_t r = k - 1; r > 0; r--) {
    int64_t j = (int64_t)(rng() % (uint32_t)(r + 1));
    int32_t t = g_idx[r];
    g_idx[r] = g_idx[j];
    g_idx[j] = t;
  }
}

static void ref_num_groups_values(void **state) {
  (void)state;
  assert_int_equal(marlin_ref_num_groups(4096, -1), 1);
  assert_int_equal(marlin_ref_num_groups(4096, 128), 32);
  assert_int_equal(marlin_ref_num_groups(4096, 4096), 1);
  assert_int_equal(marlin_ref_num_groups(96, 32), 3);
  assert_int_equal(marlin_ref_num_groups(40, 8), 5); /* any positive divisor */
  assert_int_equal(marlin_ref_num_groups(96, 64), 0);
  assert_int_equal(marlin_ref_num_groups(96, 0), 0);
  assert_int_equal(marlin_ref_num_groups(96, -2), 0);
  assert_int_equal(marlin_ref_num_groups(0, -1), 0);
  assert_int_equal(marlin_ref_num_groups(-64, 32), 0);
}

static void ref_act_order_perm_hand(void **state) {
  (void)state;
  const int32_t g_idx[7] = {2, 0, 1, 0, 2, 1, 0};
  int32_t perm[7], sorted[7];
  assert_int_equal(marlin_ref_act_order_perm(g_idx, 7, perm, sorted), MARLIN_STATUS_SUCCESS);
  const int32_t want_perm[7] = {1, 3, 6, 2, 5, 0, 4};
  const int32_t want_sorted[7] = {0, 0, 0, 1, 1, 2, 2};
  assert_memory_equal(perm, want_perm, sizeof perm);
  assert_memory_equal(sorted, want_sorted, sizeof sorted);
  /* sorted_g_idx may be NULL */
  memset(perm, 0, sizeof perm);
  assert_int_equal(marlin_ref_act_order_perm(g_idx, 7, perm, NULL), MARLIN_STATUS_SUCCESS);
  assert_memory_equal(perm, want_perm, sizeof perm);
}

/* Large random g_idx: perm is a permutation, sorted by group, stable. */
static void ref_act_order_perm_stable(void **state) {
  (void)state;
  enum { K = 3000 };
  static int32_t g_idx[K], perm[K], sorted[K];
  static uint8_t seen[K];
  for (int r = 0; r < K; r++) g_idx[r] = (int32_t)(rng() % 23u);
  g_idx[17] = -5; /* any int32 value sorts */
  assert_int_equal(marlin_ref_act_order_perm(g_idx, K, perm, sorted), MARLIN_STATUS_SUCCESS);
  memset(seen, 0, sizeof seen);
  for (int r = 0; r < K; r++) {
    assert_true(perm[r] >= 0 && perm[r] < K);
    assert_int_equal(seen[perm[r]], 0);
    seen[perm[r]] = 1;
    assert_int_equal(sorted[r], g_idx[perm[r]]);
    if (r > 0) {
      assert_true(sorted[r - 1] <= sorted[r]);
      if (sorted[r - 1] == sorted[r]) assert_true(perm[r - 1] < perm[r]);
    }
  }
  assert_int_equal(perm[0], 17);
}

/* gptq4 by hand: max|w| = 7.5 gives s = 1 exactly; q = round_even(w) + 8. */
static void ref_quantize_gptq4_hand(void **state) {
  (void)state;
  const float w[8] = {0.0f, 1.0f, -1.0f, 7.5f, -7.5f, 2.5f, 3.4f, -0.5f};
  const uint8_t want[8] = {8, 9, 7, 15, 0, 10, 11, 8};
  uint8_t codes[8];
  uint16_t scale = 0;
  for (int d = 0; d < 2; d++) {
    marlin_dtype dt = d ? BF16 : FP16;
    assert_int_equal(marlin_ref_quantize(GPTQ4, dt, w, 8, 1, -1, NULL, codes, &scale, NULL),
                     MARLIN_STATUS_SUCCESS);
    assert_int_equal(scale, d ? 0x3F80 : 0x3C00);
    assert_memory_equal(codes, want, 8);
  }
}

/* gptq8 by hand: max|w| = 127.5 * 0.5 gives s = 0.5. */
static void ref_quantize_gptq8_hand(void **state) {
  (void)state;
  const float w[4] = {63.75f, -63.75f, 0.25f, 10.0f};
  const uint8_t want[4] = {255, 0, 128, 148}; /* 127.5->128 (even)+128 clamps; 0.5->0 */
  uint8_t codes[4];
  uint16_t scale;
  assert_int_equal(marlin_ref_quantize(GPTQ8, FP16, w, 4, 1, -1, NULL, codes, &scale, NULL),
                   MARLIN_STATUS_SUCCESS);
  assert_int_equal(scale, 0x3800);
  assert_memory_equal(codes, want, 4);
}

/* awq4 by hand: min -1.5, max 6 -> s = 0.5, z = 3. */
static void ref_quantize_awq4_hand(void **state) {
  (void)state;
  const float w[8] = {-1.5f, 0.0f, 6.0f, 1.25f, 1.75f, -1.0f, 5.9f, 0.2f};
  const uint8_t want[8] = {0, 3, 15, 5, 7, 1, 15, 3};
  uint8_t codes[8], zero = 99;
  uint16_t scale;
  assert_int_equal(marlin_ref_quantize(AWQ4, FP16, w, 8, 1, -1, NULL, codes, &scale, &zero),
                   MARLIN_STATUS_SUCCESS);
  assert_int_equal(scale, 0x3800);
  assert_int_equal(zero, 3);
  assert_memory_equal(codes, want, 8);
}

static void ref_dequantize_hand(void **state) {
  (void)state;
  /* two groups of 32 rows, two columns */
  enum { K = 64, N = 2 };
  uint8_t codes[K * N];
  uint16_t scales[2 * N] = {0x3800, 0x4000, 0xBC00, 0x3400}; /* 0.5 2 | -1 0.25 */
  uint8_t zeros[2 * N] = {0, 15, 5, 8};
  float w[K * N];
  for (int i = 0; i < K * N; i++) codes[i] = (uint8_t)(i % 16);
  assert_int_equal(marlin_ref_dequantize(GPTQ4, FP16, codes, scales, NULL, K, N, 32, NULL, w),
                   MARLIN_STATUS_SUCCESS);
  assert_true(w[0] == (0 - 8) * 0.5f);          /* row 0 col 0 */
  assert_true(w[1] == (1 - 8) * 2.0f);          /* row 0 col 1 */
  assert_true(w[33 * N + 0] == (2 - 8) * -1.0f); /* row 33 col 0: code 66 % 16 = 2 */
  assert_true(w[33 * N + 1] == (3 - 8) * 0.25f);
  assert_int_equal(marlin_ref_dequantize(AWQ4, FP16, codes, scales, zeros, K, N, 32, NULL, w),
                   MARLIN_STATUS_SUCCESS);
  assert_true(w[0] == 0.0f);
  assert_true(w[1] == (1 - 15) * 2.0f);
  assert_true(w[33 * N + 0] == (2 - 5) * -1.0f);
  assert_true(w[33 * N + 1] == (3 - 8) * 0.25f);
  /* gptq8, bf16 scale 0.25 = 0x3E80 */
  const uint8_t c8[1] = {255};
  const uint16_t s8[1] = {0x3E80};
  float w8[1];
  assert_int_equal(marlin_ref_dequantize(GPTQ8, BF16, c8, s8, NULL, 1, 1, -1, NULL, w8),
                   MARLIN_STATUS_SUCCESS);
  assert_true(w8[0] == 31.75f);
}

/* Quantize random weights and check |w - dequant| <= s/2 + eps for every
 * element, with eps covering the rounding of the scale to dtype (the stored
 * scale s may be slightly below max / 7.5, so the extreme weights can fall
 * just outside the grid). */
static void check_error_bound(marlin_scheme scheme, marlin_dtype dt, int64_t k, int64_t n,
                              int32_t gs, int act_order) {
  int64_t groups = marlin_ref_num_groups(k, gs);
  assert_true(groups > 0);
  float *w = xmalloc(sizeof(float) * (size_t)(k * n));
  float *dq = xmalloc(sizeof(float) * (size_t)(k * n));
  uint8_t *codes = xmalloc((size_t)(k * n));
  uint16_t *scales = xmalloc(sizeof(uint16_t) * (size_t)(groups * n));
  uint8_t *zeros = xmalloc((size_t)(groups * n));
  int32_t *g_idx = act_order ? xmalloc(sizeof(int32_t) * (size_t)k) : NULL;
  if (g_idx) random_g_idx(g_idx, k, gs);
  for (int64_t i = 0; i < k * n; i++) w[i] = randn(0.02f);
  /* a column of zeros and one offset column (all positive) */
  for (int64_t r = 0; r < k; r++) {
    w[r * n + 1] = 0.0f;
    w[r * n + 2] = 1.0f + dabs(randn(0.3f));
  }
  uint8_t *zp = scheme == AWQ4 ? zeros : NULL;
  assert_int_equal(marlin_ref_quantize(scheme, dt, w, k, n, gs, g_idx, codes, scales, zp),
                   MARLIN_STATUS_SUCCESS);
  assert_int_equal(marlin_ref_dequantize(scheme, dt, codes, scales, zp, k, n, gs, g_idx, dq),
                   MARLIN_STATUS_SUCCESS);
  const unsigned qmax = scheme == GPTQ8 ? 255u : 15u;
  /* the scale is rounded by up to a relative 2^-11 (fp16) / 2^-8 (bf16); at
   * the ends of the range that moves the grid by up to qmax times that */
  const double rel = 1.1 * qmax * (dt == BF16 ? 1.0 / 256 : 1.0 / 2048);
  for (int64_t r = 0; r < k; r++) {
    int64_t g = g_idx ? g_idx[r] : (groups == 1 ? 0 : r / gs);
    for (int64_t c = 0; c < n; c++) {
      assert_true(codes[r * n + c] <= qmax);
      double s = marlin_ref_half_to_float(scales[g * n + c], dt);
      double err = dabs((double)w[r * n + c] - (double)dq[r * n + c]);
      if (err > s / 2 + rel * s + 1e-12)
        fail_msg("scheme %d dt %d k %lld n %lld g %d act %d: (%lld,%lld) w %g dq %g s %g", scheme,
                 dt, (long long)k, (long long)n, gs, act_order, (long long)r, (long long)c,
                 (double)w[r * n + c], (double)dq[r * n + c], s);
    }
  }
  for (int64_t r = 0; r < k; r++) assert_true(dq[r * n + 1] == 0.0f);
  free(w);
  free(dq);
  free(codes);
  free(scales);
  free(zeros);
  free(g_idx);
}

static void ref_quantize_gptq4_error_bound(void **state) {
  (void)state;
  const int32_t gs[4] = {-1, 32, 64, 128};
  for (int d = 0; d < 2; d++)
    for (int i = 0; i < 4; i++) check_error_bound(GPTQ4, d ? BF16 : FP16, 256, 24, gs[i], 0);
}

static void ref_quantize_gptq8_error_bound(void **state) {
  (void)state;
  const int32_t gs[4] = {-1, 32, 64, 128};
  for (int d = 0; d < 2; d++)
    for (int i = 0; i < 4; i++) check_error_bound(GPTQ8, d ? BF16 : FP16, 256, 24, gs[i], 0);
}

static void ref_quantize_awq4_error_bound(void **state) {
  (void)state;
  const int32_t gs[4] = {-1, 32, 64, 128};
  for (int d = 0; d < 2; d++)
    for (int i = 0; i < 4; i++) check_error_bound(AWQ4, d ? BF16 : FP16, 256, 24, gs[i], 0);
}

static void ref_quantize_act_order_error_bound(void **state) {
  (void)state;
  const int32_t gs[3] = {32, 64, 128};
  for (int i = 0; i < 3; i++) {
    check_error_bound(GPTQ4, FP16, 384, 16, gs[i], 1);
    check_error_bound(GPTQ8, BF16, 384, 16, gs[i], 1);
  }
}

/* Ragged shapes and more than one 256-column chunk. */
static void ref_quantize_ragged_shapes(void **state) {
  (void)state;
  check_error_bound(GPTQ4, FP16, 40, 72, -1, 0);
  check_error_bound(AWQ4, BF16, 96, 8, 32, 0);
  check_error_bound(GPTQ8, FP16, 64, 520, 64, 0);
  check_error_bound(AWQ4, FP16, 64, 300, 32, 0);
  check_error_bound(GPTQ4, BF16, 7, 3, -1, 0); /* the quantizer itself takes any k, n */
}

/* Quantizing with g_idx gives the same codes and scales as quantizing the
 * rows sorted by perm = argsort(g_idx) with ordinary groups. */
static void ref_quantize_act_order_matches_sorted(void **state) {
  (void)state;
  enum { K = 128, N = 16, GS = 32, G = K / GS };
  static float w[K * N], ws[K * N];
  static uint8_t c1[K * N], c2[K * N];
  static uint16_t s1[G * N], s2[G * N];
  static int32_t g_idx[K], perm[K], sorted[K];
  random_g_idx(g_idx, K, GS);
  for (int i = 0; i < K * N; i++) w[i] = randn(1.0f);
  assert_int_equal(marlin_ref_act_order_perm(g_idx, K, perm, sorted), MARLIN_STATUS_SUCCESS);
  for (int r = 0; r < K; r++) {
    memcpy(ws + r * N, w + perm[r] * N, sizeof(float) * N);
    assert_int_equal(sorted[r], r / GS); /* full K: sorted rows are the ordinary groups */
  }
  assert_int_equal(marlin_ref_quantize(GPTQ4, FP16, w, K, N, GS, g_idx, c1, s1, NULL),
                   MARLIN_STATUS_SUCCESS);
  assert_int_equal(marlin_ref_quantize(GPTQ4, FP16, ws, K, N, GS, NULL, c2, s2, NULL),
                   MARLIN_STATUS_SUCCESS);
  assert_memory_equal(s1, s2, sizeof s1);
  for (int r = 0; r < K; r++) assert_memory_equal(c2 + r * N, c1 + perm[r] * N, N);
  /* the scale of group g is max|w| over the rows with g_idx == g, / 7.5 */
  for (int g = 0; g < G; g++)
    for (int c = 0; c < N; c++) {
      float mx = 0.0f;
      for (int r = 0; r < K; r++)
        if (g_idx[r] == g && (float)dabs(w[r * N + c]) > mx) mx = (float)dabs(w[r * N + c]);
      assert_int_equal(s1[g * N + c], marlin_ref_float_to_half((float)(mx / 7.5), FP16));
    }
}

static void ref_quantize_group_equals_k(void **state) {
  (void)state;
  enum { K = 64, N = 8 };
  float w[K * N];
  uint8_t c1[K * N], c2[K * N];
  uint16_t s1[N], s2[N];
  uint8_t z1[N], z2[N];
  for (int i = 0; i < K * N; i++) w[i] = randn(1.0f);
  assert_int_equal(marlin_ref_quantize(AWQ4, FP16, w, K, N, 64, NULL, c1, s1, z1),
                   MARLIN_STATUS_SUCCESS);
  assert_int_equal(marlin_ref_quantize(AWQ4, FP16, w, K, N, -1, NULL, c2, s2, z2),
                   MARLIN_STATUS_SUCCESS);
  assert_memory_equal(c1, c2, sizeof c1);
  assert_memory_equal(s1, s2, sizeof s1);
  assert_memory_equal(z1, z2, sizeof z1);
  /* a group of k that is not one of the table's sizes is channelwise too */
  assert_int_equal(marlin_ref_quantize(GPTQ4, FP16, w, 40, 8, 40, NULL, c1, s1, NULL),
                   MARLIN_STATUS_SUCCESS);
}

/* All-zero groups: gptq codes are the bias, awq codes and zero are 0, and
 * dequantization gives exact zeros. */
static void ref_quantize_zero_weights(void **state) {
  (void)state;
  enum { K = 32, N = 8 };
  float w[K * N], dq[K * N];
  uint8_t codes[K * N], zeros[N];
  uint16_t scales[N];
  memset(w, 0, sizeof w);
  assert_int_equal(marlin_ref_quantize(GPTQ4, FP16, w, K, N, -1, NULL, codes, scales, NULL),
                   MARLIN_STATUS_SUCCESS);
  for (int i = 0; i < K * N; i++) assert_int_equal(codes[i], 8);
  assert_int_equal(marlin_ref_quantize(GPTQ8, BF16, w, K, N, 32, NULL, codes, scales, NULL),
                   MARLIN_STATUS_SUCCESS);
  for (int i = 0; i < K * N; i++) assert_int_equal(codes[i], 128);
  assert_int_equal(marlin_ref_quantize(AWQ4, FP16, w, K, N, 32, NULL, codes, scales, zeros),
                   MARLIN_STATUS_SUCCESS);
  for (int i = 0; i < K * N; i++) assert_int_equal(codes[i], 0);
  for (int i = 0; i < N; i++) assert_int_equal(zeros[i], 0);
  assert_int_equal(marlin_ref_dequantize(AWQ4, FP16, codes, scales, zeros, K, N, 32, NULL, dq),
                   MARLIN_STATUS_SUCCESS);
  for (int i = 0; i < K * N; i++) assert_true(dq[i] == 0.0f);
}

/* Huge weights saturate the fp16 scale instead of storing Inf. */
static void ref_quantize_scale_saturates(void **state) {
  (void)state;
  const float w[8] = {1e6f, -3.0f, 0, 0, 0, 0, 0, 0};
  uint8_t codes[8];
  uint16_t scale;
  assert_int_equal(marlin_ref_quantize(GPTQ4, FP16, w, 8, 1, -1, NULL, codes, &scale, NULL),
                   MARLIN_STATUS_SUCCESS);
  assert_int_equal(scale, 0x7BFF);
  assert_int_equal(codes[0], 15);
  assert_int_equal(codes[1], 8);
}

static void ref_quantize_errors(void **state) {
  (void)state;
  enum { K = 64, N = 8 };
  float w[K * N];
  uint8_t codes[K * N], zeros[2 * N];
  uint16_t scales[2 * N];
  int32_t g_idx[K];
  for (int i = 0; i < K * N; i++) w[i] = randn(1.0f);
  for (int r = 0; r < K; r++) g_idx[r] = r % 2;
  memset(codes, 0xAB, sizeof codes);
  memset(scales, 0xAB, sizeof scales);
  memset(zeros, 0xAB, sizeof zeros);
#define Q(sch, dt, ww, k, n, gs, gi, c, s, z) marlin_ref_quantize(sch, dt, ww, k, n, gs, gi, c, s, z)
  assert_int_equal(Q(GPTQ4, FP16, NULL, K, N, 32, NULL, codes, scales, NULL), MARLIN_STATUS_NULL_POINTER);
  assert_int_equal(Q(GPTQ4, FP16, w, K, N, 32, NULL, NULL, scales, NULL), MARLIN_STATUS_NULL_POINTER);
  assert_int_equal(Q(GPTQ4, FP16, w, K, N, 32, NULL, codes, NULL, NULL), MARLIN_STATUS_NULL_POINTER);
  assert_int_equal(Q(AWQ4, FP16, w, K, N, 32, NULL, codes, scales, NULL), MARLIN_STATUS_NULL_POINTER);
  assert_int_equal(Q(MARLIN_SCHEME_INVALID, FP16, w, K, N, 32, NULL, codes, scales, zeros),
                   MARLIN_STATUS_INVALID_SCHEME);
  assert_int_equal(Q((marlin_scheme)99, FP16, w, K, N, 32, NULL, codes, scales, zeros),
                   MARLIN_STATUS_INVALID_SCHEME);
  assert_int_equal(Q(MARLIN_SCHEME_AWQ8, FP16, w, K, N, 32, NULL, codes, scales, zeros),
                   MARLIN_STATUS_NOT_IMPLEMENTED);
  assert_int_equal(Q(MARLIN_SCHEME_NVFP4, FP16, w, K, N, 16, NULL, codes, scales, zeros),
                   MARLIN_STATUS_NOT_IMPLEMENTED);
  assert_int_equal(Q(GPTQ4, MARLIN_DTYPE_FP32, w, K, N, 32, NULL, codes, scales, NULL),
                   MARLIN_STATUS_INVALID_DTYPE);
  assert_int_equal(Q(GPTQ4, MARLIN_DTYPE_INT8, w, K, N, 32, NULL, codes, scales, NULL),
                   MARLIN_STATUS_INVALID_DTYPE);
  assert_int_equal(Q(GPTQ4, MARLIN_DTYPE_INVALID, w, K, N, 32, NULL, codes, scales, NULL),
                   MARLIN_STATUS_INVALID_DTYPE);
  assert_int_equal(Q(GPTQ4, FP16, w, 0, N, -1, NULL, codes, scales, NULL), MARLIN_STATUS_INVALID_SHAPE);
  assert_int_equal(Q(GPTQ4, FP16, w, K, -8, -1, NULL, codes, scales, NULL), MARLIN_STATUS_INVALID_SHAPE);
  assert_int_equal(Q(GPTQ4, FP16, w, K, N, 48, NULL, codes, scales, NULL), MARLIN_STATUS_INVALID_GROUP);
  assert_int_equal(Q(GPTQ4, FP16, w, K, N, 16, NULL, codes, scales, NULL), MARLIN_STATUS_INVALID_GROUP);
  assert_int_equal(Q(GPTQ4, FP16, w, K, N, 0, NULL, codes, scales, NULL), MARLIN_STATUS_INVALID_GROUP);
  assert_int_equal(Q(GPTQ4, FP16, w, K, N, -2, NULL, codes, scales, NULL), MARLIN_STATUS_INVALID_GROUP);
  assert_int_equal(Q(GPTQ4, FP16, w, K, N, 128, NULL, codes, scales, NULL), MARLIN_STATUS_INVALID_GROUP);
  assert_int_equal(Q(GPTQ4, FP16, w, 48, N, 32, NULL, codes, scales, NULL), MARLIN_STATUS_INVALID_GROUP);
  /* g_idx: entries must be < num_groups; awq4 has no act-order */
  g_idx[5] = 2;
  assert_int_equal(Q(GPTQ4, FP16, w, K, N, 32, g_idx, codes, scales, NULL), MARLIN_STATUS_INVALID_GROUP);
  g_idx[5] = -1;
  assert_int_equal(Q(GPTQ4, FP16, w, K, N, 32, g_idx, codes, scales, NULL), MARLIN_STATUS_INVALID_GROUP);
  g_idx[5] = 1;
  assert_int_equal(Q(AWQ4, FP16, w, K, N, 32, g_idx, codes, scales, zeros), MARLIN_STATUS_INVALID_GROUP);
#undef Q
  for (size_t i = 0; i < sizeof codes; i++) assert_int_equal(codes[i], 0xAB);
  for (size_t i = 0; i < 2 * N; i++) assert_int_equal(scales[i], 0xABAB);
  for (size_t i = 0; i < sizeof zeros; i++) assert_int_equal(zeros[i], 0xAB);
  /* the same g_idx is fine for gptq4 */
  assert_int_equal(marlin_ref_quantize(GPTQ4, FP16, w, K, N, 32, g_idx, codes, scales, NULL),
                   MARLIN_STATUS_SUCCESS);
}

static void ref_dequantize_errors(void **state) {
  (void)state;
  enum { K = 32, N = 8 };
  uint8_t codes[K * N], zeros[N];
  uint16_t scales[N];
  float w[K * N];
  int32_t g_idx[K];
  memset(codes, 3, sizeof codes);
  memset(zeros, 3, sizeof zeros);
  for (int i = 0; i < N; i++) scales[i] = 0x3C00;
  for (int i = 0; i < K * N; i++) w[i] = 42.0f;
  for (int r = 0; r < K; r++) g_idx[r] = 0;
#define D(sch, dt, c, s, z, k, n, gs, gi, ww) marlin_ref_dequantize(sch, dt, c, s, z, k, n, gs, gi, ww)
  assert_int_equal(D(GPTQ4, FP16, NULL, scales, NULL, K, N, -1, NULL, w), MARLIN_STATUS_NULL_POINTER);
  assert_int_equal(D(GPTQ4, FP16, codes, NULL, NULL, K, N, -1, NULL, w), MARLIN_STATUS_NULL_POINTER);
  assert_int_equal(D(GPTQ4, FP16, codes, scales, NULL, K, N, -1, NULL, NULL), MARLIN_STATUS_NULL_POINTER);
  assert_int_equal(D(AWQ4, FP16, codes, scales, NULL, K, N, -1, NULL, w), MARLIN_STATUS_NULL_POINTER);
  assert_int_equal(D((marlin_scheme)0, FP16, codes, scales, zeros, K, N, -1, NULL, w), MARLIN_STATUS_INVALID_SCHEME);
  assert_int_equal(D(MARLIN_SCHEME_FP8, FP16, codes, scales, zeros, K, N, -1, NULL, w), MARLIN_STATUS_NOT_IMPLEMENTED);
  assert_int_equal(D(GPTQ4, (marlin_dtype)3, codes, scales, NULL, K, N, -1, NULL, w), MARLIN_STATUS_INVALID_DTYPE);
  assert_int_equal(D(GPTQ4, FP16, codes, scales, NULL, K, 0, -1, NULL, w), MARLIN_STATUS_INVALID_SHAPE);
  assert_int_equal(D(GPTQ4, FP16, codes, scales, NULL, K, N, 64, NULL, w), MARLIN_STATUS_INVALID_GROUP);
  g_idx[0] = 1;
  assert_int_equal(D(GPTQ4, FP16, codes, scales, NULL, K, N, -1, g_idx, w), MARLIN_STATUS_INVALID_GROUP);
  g_idx[0] = 0;
  codes[7] = 16;
  assert_int_equal(D(GPTQ4, FP16, codes, scales, NULL, K, N, -1, NULL, w), MARLIN_STATUS_INVALID_VALUE);
  assert_int_equal(D(GPTQ8, FP16, codes, scales, NULL, K, N, -1, NULL, w), MARLIN_STATUS_SUCCESS);
  for (int i = 0; i < K * N; i++) w[i] = 42.0f;
  codes[7] = 3;
  zeros[2] = 16;
  assert_int_equal(D(AWQ4, FP16, codes, scales, zeros, K, N, -1, NULL, w), MARLIN_STATUS_INVALID_VALUE);
  /* gptq ignores zeros */
  assert_int_equal(D(GPTQ4, FP16, codes, scales, zeros, K, N, -1, g_idx, w), MARLIN_STATUS_SUCCESS);
  assert_true(w[0] == -5.0f);
#undef D
}

static void ref_act_order_perm_errors(void **state) {
  (void)state;
  int32_t g_idx[4] = {1, 0, 1, 0}, perm[4] = {9, 9, 9, 9};
  assert_int_equal(marlin_ref_act_order_perm(NULL, 4, perm, NULL), MARLIN_STATUS_NULL_POINTER);
  assert_int_equal(marlin_ref_act_order_perm(g_idx, 4, NULL, NULL), MARLIN_STATUS_NULL_POINTER);
  assert_int_equal(marlin_ref_act_order_perm(g_idx, 0, perm, NULL), MARLIN_STATUS_INVALID_SHAPE);
  assert_int_equal(marlin_ref_act_order_perm(g_idx, -4, perm, NULL), MARLIN_STATUS_INVALID_SHAPE);
  assert_int_equal(marlin_ref_act_order_perm(g_idx, (int64_t)1 << 40, perm, NULL),
                   MARLIN_STATUS_INVALID_SHAPE);
  for (int i = 0; i < 4; i++) assert_int_equal(perm[i], 9);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(ref_num_groups_values),
    cmocka_unit_test(ref_act_order_perm_hand),
    cmocka_unit_test(ref_act_order_perm_stable),
    cmocka_unit_test(ref_quantize_gptq4_hand),
    cmocka_unit_test(ref_quantize_gptq8_hand),
    cmocka_unit_test(ref_quantize_awq4_hand),
    cmocka_unit_test(ref_dequantize_hand),
    cmocka_unit_test(ref_quantize_gptq4_error_bound),
    cmocka_unit_test(ref_quantize_gptq8_error_bound),
    cmocka_unit_test(ref_quantize_awq4_error_bound),
    cmocka_unit_test(ref_quantize_act_order_error_bound),
    cmocka_unit_test(ref_quantize_ragged_shapes),
    cmocka_unit_test(ref_quantize_act_order_matches_sorted),
    cmocka_unit_test(ref_quantize_group_equals_k),
    cmocka_unit_test(ref_quantize_zero_weights),
    cmocka_unit_test(ref_quantize_scale_saturates),
    cmocka_unit_test(ref_quantize_errors),
    cmocka_unit_test(ref_dequantize_errors),
    cmocka_unit_test(ref_act_order_perm_errors),
};

int main(int argc, char **argv) {
  return marlin_test_main(tests, sizeof tests / sizeof tests[0], argc, argv);
}
