/* Unit tests of marlin's packed layout (docs/layout.md) in the CPU reference:
 * hand-computed positions, an independent re-implementation of vLLM's
 * reference construction, padding, scales, zero points, round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "marlin/marlin_ref.h"
#include "test_main.h"

#define REF_TEST_SEED 99u
#include "ref_test_util.h"


static void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  assert_non_null(p);
  return p;
}

static int64_t roundup(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

static size_t weight_words(int bits, int64_t k, int64_t n) {
  return (size_t)(roundup(k, 16) / 16 * (bits / 2) * roundup(n, 64));
}

/* Packs a k x n code matrix holding a single code v at (r, c) and returns
 * the one non-zero word index and slot (nibble or byte). */
static void locate(marlin_scheme scheme, int64_t k, int64_t n, int64_t r, int64_t c, size_t *word,
                   int *slot) {
  const int bits = scheme == GPTQ8 ? 8 : 4;
  const uint8_t v = bits == 8 ? 0xA5 : 0x9;
  uint8_t *codes = xmalloc((size_t)(k * n));
  size_t nw = weight_words(bits, k, n);
  uint32_t *packed = xmalloc(nw * 4);
  memset(codes, 0, (size_t)(k * n));
  memset(packed, 0xFF, nw * 4);
  codes[r * n + c] = v;
  assert_int_equal(marlin_ref_pack_weights(scheme, codes, k, n, NULL, packed),
                   MARLIN_STATUS_SUCCESS);
  int found = 0;
  for (size_t i = 0; i < nw; i++) {
    if (!packed[i]) continue;
    assert_int_equal(found, 0);
    found = 1;
    *word = i;
    *slot = -1;
    for (int s = 0; s < 32 / bits; s++) {
      uint32_t x = (packed[i] >> (bits * s)) & ((1u << bits) - 1u);
      if (x) {
        assert_int_equal(x, v);
        assert_int_equal(*slot, -1);
        *slot = s;
      }
    }
  }
  assert_int_equal(found, 1);
  free(codes);
  free(packed);
}

#define EXPECT_AT(scheme, k, n, r, c, want_word, want_slot)                                        \
  do {                                                                                             \
    size_t w_;                                                                                     \
    int s_;                                                                                        \
    locate(scheme, k, n, r, c, &w_, &s_);                                                          \
    if (w_ != (size_t)(want_word) || s_ != (want_slot))                                            \
      fail_msg("(k=%d,n=%d): word %zu slot %d, want word %d slot %d", (int)(r), (int)(c), w_, s_,  \
               (int)(want_word), (int)(want_slot));                                                \
  } while (0)

/* 4-bit: word[kt][nb*128 + 4l + j], nibble i = (R, C) of the table. */
static void ref_layout4_positions_hand(void **state) {
  (void)state;
  /* k = 32 (Kp 32), n = 128 (Np 128): a row kt has 2*128 = 256 words */
  EXPECT_AT(GPTQ4, 32, 128, 0, 0, 0, 0);
  EXPECT_AT(GPTQ4, 32, 128, 1, 0, 0, 4);   /* r0+1 -> nibble 4 */
  EXPECT_AT(GPTQ4, 32, 128, 8, 0, 0, 1);   /* r0+8 -> nibble 1 */
  EXPECT_AT(GPTQ4, 32, 128, 9, 0, 0, 5);   /* r0+9 -> nibble 5 */
  EXPECT_AT(GPTQ4, 32, 128, 0, 8, 0, 2);   /* c+8 -> nibble 2 */
  EXPECT_AT(GPTQ4, 32, 128, 9, 8, 0, 7);   /* (r0+9, c+8) -> nibble 7 */
  EXPECT_AT(GPTQ4, 32, 128, 0, 16, 1, 0);  /* sub-tile j = 1 */
  EXPECT_AT(GPTQ4, 32, 128, 0, 48, 3, 0);  /* j = 3 */
  EXPECT_AT(GPTQ4, 32, 128, 2, 0, 4, 0);   /* lane 1: r0 = 2 */
  EXPECT_AT(GPTQ4, 32, 128, 7, 0, 12, 4);  /* lane 3: r0 = 6, +1 */
  EXPECT_AT(GPTQ4, 32, 128, 0, 1, 16, 0);  /* lane 4: c = 1 */
  EXPECT_AT(GPTQ4, 32, 128, 0, 7, 112, 0); /* lane 28: c = 7 */
  EXPECT_AT(GPTQ4, 32, 128, 3, 57, 23, 6); /* lane 5 (c 1, r0 2), j 3, (r0+1, c+8) */
  EXPECT_AT(GPTQ4, 32, 128, 0, 64, 128, 0);   /* block nb = 1 */
  EXPECT_AT(GPTQ4, 32, 128, 16, 0, 256, 0);   /* kt = 1 */
  EXPECT_AT(GPTQ4, 32, 128, 31, 127, 511, 7); /* last element: lane 31, j 3, (r0+9, c+8) */
  /* awq4 has the same layout */
  EXPECT_AT(AWQ4, 32, 128, 3, 57, 23, 6);
  /* ragged n: Np = 128 for n = 72, so kt = 1 starts at word 256 */
  EXPECT_AT(GPTQ4, 24, 72, 16, 0, 256, 0);
}

/* 8-bit: word[kt][nb*256 + 8l + 2j + h], byte b = rows (r0, r0+8, r0+1, r0+9). */
static void ref_layout8_positions_hand(void **state) {
  (void)state;
  EXPECT_AT(GPTQ8, 32, 128, 0, 0, 0, 0);
  EXPECT_AT(GPTQ8, 32, 128, 8, 0, 0, 1);
  EXPECT_AT(GPTQ8, 32, 128, 1, 0, 0, 2);
  EXPECT_AT(GPTQ8, 32, 128, 9, 0, 0, 3);
  EXPECT_AT(GPTQ8, 32, 128, 0, 8, 1, 0);   /* h = 1 */
  EXPECT_AT(GPTQ8, 32, 128, 0, 16, 2, 0);  /* j = 1 */
  EXPECT_AT(GPTQ8, 32, 128, 9, 56, 7, 3);  /* j 3, h 1, r0+9 */
  EXPECT_AT(GPTQ8, 32, 128, 2, 0, 8, 0);   /* lane 1 */
  EXPECT_AT(GPTQ8, 32, 128, 0, 1, 32, 0);  /* lane 4 */
  EXPECT_AT(GPTQ8, 32, 128, 0, 64, 256, 0);  /* nb = 1 */
  EXPECT_AT(GPTQ8, 32, 128, 16, 0, 512, 0);  /* kt = 1: 4 * Np words per row */
  EXPECT_AT(GPTQ8, 32, 128, 31, 127, 1023, 3);
}

/* vLLM's reference construction (marlin_utils_test.py: marlin_permute_weights
 * with get_weight_perm, then marlin_weights), written out literally for a
 * Kp x Np code matrix. */
static void vllm_construction(int bits, const uint8_t *q, int64_t K, int64_t N, uint32_t *out) {
  int perm[1024];
  int np = 0;
  for (int i = 0; i < 32; i++) {
    int perm1[8], n1 = 0;
    int col = i / 4;
    for (int block = 0; block < 2; block++) {
      const int rows[4] = {2 * (i % 4), 2 * (i % 4) + 1, 2 * (i % 4 + 4), 2 * (i % 4 + 4) + 1};
      for (int rr = 0; rr < 4; rr++) perm1[n1++] = 16 * rows[rr] + col + 8 * block;
    }
    for (int j = 0; j < 4; j++)
      for (int e = 0; e < 8; e++) perm[np++] = perm1[e] + 256 * j;
  }
  const int il4[8] = {0, 2, 4, 6, 1, 3, 5, 7}, il8[4] = {0, 2, 1, 3};
  const int ilen = bits == 4 ? 8 : 4;
  int permi[1024];
  for (int b = 0; b < 1024 / ilen; b++)
    for (int e = 0; e < ilen; e++) permi[b * ilen + e] = perm[b * ilen + (bits == 4 ? il4[e] : il8[e])];
  /* tile-major rows: row kt = [tile (kt, 0) row-major, tile (kt, 1), ...] */
  const int64_t row_len = N * 16;
  uint8_t *tiled = xmalloc((size_t)(K * N));
  uint8_t *permuted = xmalloc((size_t)(K * N));
  for (int64_t kt = 0; kt < K / 16; kt++)
    for (int64_t nt = 0; nt < N / 16; nt++)
      for (int a = 0; a < 16; a++)
        for (int b = 0; b < 16; b++)
          tiled[kt * row_len + nt * 256 + a * 16 + b] = q[(kt * 16 + a) * N + nt * 16 + b];
  for (int64_t blk = 0; blk < K * N / 1024; blk++)
    for (int p = 0; p < 1024; p++) permuted[blk * 1024 + p] = tiled[blk * 1024 + permi[p]];
  const int per = 32 / bits;
  for (int64_t w = 0; w < K * N / per; w++) {
    uint32_t word = 0;
    for (int i = 0; i < per; i++) word |= (uint32_t)permuted[w * per + i] << (bits * i);
    out[w] = word;
  }
  free(tiled);
  free(permuted);
}

/* Packs a random ragged k x n matrix and compares with vLLM's construction
 * of the zero-padded Kp x Np matrix: checks the layout and the zero padding. */
static void check_against_vllm(marlin_scheme scheme, int64_t k, int64_t n) {
  const int bits = scheme == GPTQ8 ? 8 : 4;
  const int64_t kp = roundup(k, 16), np = roundup(n, 64);
  uint8_t *codes = xmalloc((size_t)(k * n));
  uint8_t *padded = xmalloc((size_t)(kp * np));
  size_t nw = weight_words(bits, k, n);
  uint32_t *got = xmalloc(nw * 4), *want = xmalloc(nw * 4);
  memset(padded, 0, (size_t)(kp * np));
  for (int64_t r = 0; r < k; r++)
    for (int64_t c = 0; c < n; c++)
      padded[r * np + c] = codes[r * n + c] = (uint8_t)(rng() & ((1u << bits) - 1u));
  memset(got, 0xFF, nw * 4);
  assert_int_equal(marlin_ref_pack_weights(scheme, codes, k, n, NULL, got), MARLIN_STATUS_SUCCESS);
  assert_int_equal(nw, (size_t)(kp * np * bits / 32));
  vllm_construction(bits, padded, kp, np, want);
  assert_memory_equal(got, want, nw * 4);
  free(codes);
  free(padded);
  free(got);
  free(want);
}

static void ref_layout4_matches_vllm_construction(void **state) {
  (void)state;
  check_against_vllm(GPTQ4, 64, 128);
  check_against_vllm(GPTQ4, 16, 64);
  check_against_vllm(AWQ4, 128, 192);
}

static void ref_layout8_matches_vllm_construction(void **state) {
  (void)state;
  check_against_vllm(GPTQ8, 64, 128);
  check_against_vllm(GPTQ8, 32, 256);
}

/* Ragged shapes: padding is zero (compared against the padded construction). */
static void ref_layout_ragged_padding_zero(void **state) {
  (void)state;
  check_against_vllm(GPTQ4, 40, 72);
  check_against_vllm(GPTQ4, 8, 8);
  check_against_vllm(AWQ4, 24, 200);
  check_against_vllm(GPTQ8, 40, 72);
  check_against_vllm(GPTQ8, 8, 136);
}

static void roundtrip_weights(marlin_scheme scheme, int64_t k, int64_t n) {
  const int bits = scheme == GPTQ8 ? 8 : 4;
  uint8_t *codes = xmalloc((size_t)(k * n)), *back = xmalloc((size_t)(k * n));
  size_t nw = weight_words(bits, k, n);
  uint32_t *packed = xmalloc(nw * 4);
  for (int64_t i = 0; i < k * n; i++) codes[i] = (uint8_t)(rng() & ((1u << bits) - 1u));
  assert_int_equal(marlin_ref_pack_weights(scheme, codes, k, n, NULL, packed), MARLIN_STATUS_SUCCESS);
  memset(back, 0xEE, (size_t)(k * n));
  assert_int_equal(marlin_ref_unpack_weights(scheme, packed, k, n, back), MARLIN_STATUS_SUCCESS);
  assert_memory_equal(back, codes, (size_t)(k * n));
  free(codes);
  free(back);
  free(packed);
}

static void ref_layout_weights_roundtrip(void **state) {
  (void)state;
  const int64_t shapes[][2] = {{16, 64}, {40, 72}, {8, 8}, {136, 328}, {256, 64}};
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
    roundtrip_weights(GPTQ4, shapes[i][0], shapes[i][1]);
    roundtrip_weights(GPTQ8, shapes[i][0], shapes[i][1]);
    roundtrip_weights(AWQ4, shapes[i][0], shapes[i][1]);
  }
}

/* perm: packed row r = codes row perm[r]; unpack returns packed row order. */
static void ref_layout_weights_perm(void **state) {
  (void)state;
  enum { K = 40, N = 72 };
  static uint8_t codes[K * N], permuted[K * N], back[K * N];
  static uint32_t p1[48 * 2 * 128 / 4 * 2], p2[48 * 2 * 128 / 4 * 2];
  int32_t perm[K];
  for (int r = 0; r < K; r++) perm[r] = r;
  for (int r = K - 1; r > 0; r--) {
    int j = (int)(rng() % (uint32_t)(r + 1));
    int32_t t = perm[r];
    perm[r] = perm[j];
    perm[j] = t;
  }
  for (int s = 0; s < 2; s++) {
    marlin_scheme scheme = s ? GPTQ8 : GPTQ4;
    const unsigned mask = s ? 0xFFu : 0xFu;
    for (int i = 0; i < K * N; i++) codes[i] = (uint8_t)(rng() & mask);
    for (int r = 0; r < K; r++) memcpy(permuted + r * N, codes + perm[r] * N, N);
    assert_int_equal(marlin_ref_pack_weights(scheme, codes, K, N, perm, p1), MARLIN_STATUS_SUCCESS);
    assert_int_equal(marlin_ref_pack_weights(scheme, permuted, K, N, NULL, p2), MARLIN_STATUS_SUCCESS);
    assert_memory_equal(p1, p2, weight_words(s ? 8 : 4, K, N) * 4);
    assert_int_equal(marlin_ref_unpack_weights(scheme, p1, K, N, back), MARLIN_STATUS_SUCCESS);
    assert_memory_equal(back, permuted, sizeof back);
  }
}

static void ref_packed_sizes_values(void **state) {
  (void)state;
  marlin_packed_sizes s;
  assert_int_equal(marlin_ref_packed_sizes(GPTQ4, 4096, 4096, 128, &s), MARLIN_STATUS_SUCCESS);
  assert_int_equal(s.weights, 4096u * 4096u / 2u);
  assert_int_equal(s.scales, 32u * 4096u * 2u);
  assert_int_equal(s.zeros, 0u);
  assert_int_equal(marlin_ref_packed_sizes(GPTQ8, 4096, 4096, -1, &s), MARLIN_STATUS_SUCCESS);
  assert_int_equal(s.weights, 4096u * 4096u);
  assert_int_equal(s.scales, 4096u * 2u);
  assert_int_equal(s.zeros, 0u);
  assert_int_equal(marlin_ref_packed_sizes(AWQ4, 4096, 11008, 64, &s), MARLIN_STATUS_SUCCESS);
  /* Np = 11008 (a multiple of 64) */
  assert_int_equal(s.weights, 4096u * 11008u / 2u);
  assert_int_equal(s.scales, 64u * 11008u * 2u);
  assert_int_equal(s.zeros, 64u * (11008u / 8u) * 4u);
  /* ragged: k 40 -> Kp 48, n 72 -> Np 128 */
  assert_int_equal(marlin_ref_packed_sizes(AWQ4, 40, 72, -1, &s), MARLIN_STATUS_SUCCESS);
  assert_int_equal(s.weights, 3u * 256u * 4u);
  assert_int_equal(s.scales, 128u * 2u);
  assert_int_equal(s.zeros, 16u * 4u);
  assert_int_equal(marlin_ref_packed_sizes(GPTQ8, 40, 72, 40, &s), MARLIN_STATUS_SUCCESS);
  assert_int_equal(s.weights, 3u * 512u * 4u);
  assert_int_equal(s.scales, 128u * 2u);
  /* 7392 x 5472 (from docs/layout.md) with group 32 */
  assert_int_equal(marlin_ref_packed_sizes(GPTQ4, 7392, 5472, 32, &s), MARLIN_STATUS_SUCCESS);
  assert_int_equal(s.weights, (size_t)(7392 / 16) * (2u * 5504u) * 4u);
  assert_int_equal(s.scales, (size_t)(7392 / 32) * 5504u * 2u);
}

static void ref_packed_sizes_errors(void **state) {
  (void)state;
  marlin_packed_sizes s;
  memset(&s, 0x3C, sizeof s);
  marlin_packed_sizes s0 = s;
  assert_int_equal(marlin_ref_packed_sizes(GPTQ4, 64, 64, -1, NULL), MARLIN_STATUS_NULL_POINTER);
  assert_int_equal(marlin_ref_packed_sizes(MARLIN_SCHEME_INVALID, 64, 64, -1, &s), MARLIN_STATUS_INVALID_SCHEME);
  assert_int_equal(marlin_ref_packed_sizes((marlin_scheme)1000, 64, 64, -1, &s), MARLIN_STATUS_INVALID_SCHEME);
  assert_int_equal(marlin_ref_packed_sizes(MARLIN_SCHEME_HQQ4, 64, 64, 64, &s), MARLIN_STATUS_NOT_IMPLEMENTED);
  assert_int_equal(marlin_ref_packed_sizes(MARLIN_SCHEME_MXFP4, 64, 64, 32, &s), MARLIN_STATUS_NOT_IMPLEMENTED);
  assert_int_equal(marlin_ref_packed_sizes(GPTQ4, 60, 64, -1, &s), MARLIN_STATUS_INVALID_SHAPE);
  assert_int_equal(marlin_ref_packed_sizes(GPTQ4, 64, 4, -1, &s), MARLIN_STATUS_INVALID_SHAPE);
  assert_int_equal(marlin_ref_packed_sizes(GPTQ4, 0, 64, -1, &s), MARLIN_STATUS_INVALID_SHAPE);
  assert_int_equal(marlin_ref_packed_sizes(GPTQ4, 64, -64, -1, &s), MARLIN_STATUS_INVALID_SHAPE);
  assert_int_equal(marlin_ref_packed_sizes(GPTQ4, 96, 64, 64, &s), MARLIN_STATUS_INVALID_GROUP);
  assert_int_equal(marlin_ref_packed_sizes(GPTQ4, 64, 64, 16, &s), MARLIN_STATUS_INVALID_GROUP);
  assert_int_equal(marlin_ref_packed_sizes(GPTQ4, 64, 64, 8, &s), MARLIN_STATUS_INVALID_GROUP);
  assert_int_equal(marlin_ref_packed_sizes(AWQ4, 64, 64, 0, &s), MARLIN_STATUS_INVALID_GROUP);
  assert_memory_equal(&s, &s0, sizeof s);
}

/* Scales: position 64nb + 8i + t holds column 64nb + i + 8t. */
static void ref_scales_perm_hand(void **state) {
  (void)state;
  enum { G = 2, N = 72, NP = 128 };
  uint16_t sc[G * N], packed[G * NP], back[G * N];
  for (int g = 0; g < G; g++)
    for (int c = 0; c < N; c++) sc[g * N + c] = (uint16_t)(1000 * g + c + 1);
  memset(packed, 0xFF, sizeof packed);
  assert_int_equal(marlin_ref_pack_scales(sc, G, N, packed), MARLIN_STATUS_SUCCESS);
  assert_int_equal(packed[0], 1);       /* column 0 */
  assert_int_equal(packed[1], 8 + 1);   /* i 0, t 1 -> column 8 */
  assert_int_equal(packed[7], 56 + 1);  /* column 56 */
  assert_int_equal(packed[8], 1 + 1);   /* i 1, t 0 -> column 1 */
  assert_int_equal(packed[9], 9 + 1);   /* column 9 */
  assert_int_equal(packed[63], 63 + 1);
  assert_int_equal(packed[64], 64 + 1); /* block 1, column 64 */
  assert_int_equal(packed[65], 0);      /* column 72: padding */
  assert_int_equal(packed[64 + 8 * 7], 71 + 1);
  assert_int_equal(packed[127], 0);
  assert_int_equal(packed[NP + 1], 1000 + 8 + 1); /* group 1 row */
  int nonzero_pad = 0;
  for (int g = 0; g < G; g++)
    for (int p = 64; p < NP; p++)
      if (p % 8 != 0 && packed[g * NP + p] != 0) nonzero_pad++;
  assert_int_equal(nonzero_pad, 0);
  memset(back, 0, sizeof back);
  assert_int_equal(marlin_ref_unpack_scales(packed, G, N, back), MARLIN_STATUS_SUCCESS);
  assert_memory_equal(back, sc, sizeof sc);
}

static void ref_scales_roundtrip_random(void **state) {
  (void)state;
  const int64_t ns[4] = {8, 64, 200, 1024};
  for (int q = 0; q < 4; q++) {
    int64_t n = ns[q], g = 3, np = roundup(n, 64);
    uint16_t *sc = xmalloc(sizeof(uint16_t) * (size_t)(g * n));
    uint16_t *back = xmalloc(sizeof(uint16_t) * (size_t)(g * n));
    uint16_t *packed = xmalloc(sizeof(uint16_t) * (size_t)(g * np));
    for (int64_t i = 0; i < g * n; i++) sc[i] = (uint16_t)(rng() | 1u);
    assert_int_equal(marlin_ref_pack_scales(sc, g, n, packed), MARLIN_STATUS_SUCCESS);
    int64_t zeros_seen = 0;
    for (int64_t i = 0; i < g * np; i++) zeros_seen += packed[i] == 0;
    assert_int_equal(zeros_seen, g * (np - n)); /* exactly the padding */
    assert_int_equal(marlin_ref_unpack_scales(packed, g, n, back), MARLIN_STATUS_SUCCESS);
    assert_memory_equal(back, sc, sizeof(uint16_t) * (size_t)(g * n));
    free(sc);
    free(back);
    free(packed);
  }
}

/* Zero points: word 8nb + i, nibble t = zero of column 64nb + i + 8t. */
static void ref_zeros_perm_hand(void **state) {
  (void)state;
  enum { N = 72, W = 16 };
  uint8_t z[N], back[N];
  int32_t packed[W];
  for (int c = 0; c < N; c++) z[c] = (uint8_t)(c % 16);
  memset(packed, 0x55, sizeof packed);
  assert_int_equal(marlin_ref_pack_zeros(z, 1, N, packed), MARLIN_STATUS_SUCCESS);
  /* word 0: columns 0, 8, ..., 56 -> codes 0, 8, 0, 8, 0, 8, 0, 8 */
  assert_int_equal((uint32_t)packed[0], 0x80808080u);
  /* word 1: columns 1, 9, 17, ... -> 1, 9, 1, 9, ... */
  assert_int_equal((uint32_t)packed[1], 0x91919191u);
  /* word 7: columns 7, 15, ... -> 7, 15, ... */
  assert_int_equal((uint32_t)packed[7], 0xF7F7F7F7u);
  /* block 1: column 64 + i only (72.. is padding) -> code (64 + i) % 16 = i */
  for (int i = 0; i < 8; i++) assert_int_equal((uint32_t)packed[8 + i], (uint32_t)i);
  memset(back, 0xEE, sizeof back);
  assert_int_equal(marlin_ref_unpack_zeros(packed, 1, N, back), MARLIN_STATUS_SUCCESS);
  assert_memory_equal(back, z, sizeof z);
}

static void ref_zeros_roundtrip_random(void **state) {
  (void)state;
  enum { G = 4, N = 136, NP = 192 };
  uint8_t z[G * N], back[G * N];
  int32_t packed[G * NP / 8];
  for (int i = 0; i < G * N; i++) z[i] = (uint8_t)(rng() & 15u);
  assert_int_equal(marlin_ref_pack_zeros(z, G, N, packed), MARLIN_STATUS_SUCCESS);
  /* padding columns 136..191 of block 2 are zero nibbles: word 16 + i, t >= 1 */
  for (int g = 0; g < G; g++)
    for (int i = 0; i < 8; i++) assert_int_equal((uint32_t)packed[g * 24 + 16 + i] >> 4, 0u);
  assert_int_equal(marlin_ref_unpack_zeros(packed, G, N, back), MARLIN_STATUS_SUCCESS);
  assert_memory_equal(back, z, sizeof z);
}

/* AWQ checkpoint -> codes -> marlin zero points, against the spec directly. */
static void ref_zeros_from_awq_checkpoint(void **state) {
  (void)state;
  enum { G = 2, N = 64 };
  uint8_t z[G * N], z2[G * N];
  int32_t qzeros[G * N / 8], packed[G * N / 8];
  for (int i = 0; i < G * N; i++) z[i] = (uint8_t)(rng() & 15u);
  assert_int_equal(marlin_ref_awq_pack(z, G, N, qzeros), MARLIN_STATUS_SUCCESS);
  assert_int_equal(marlin_ref_awq_unpack(qzeros, G, N, z2), MARLIN_STATUS_SUCCESS);
  assert_int_equal(marlin_ref_pack_zeros(z2, G, N, packed), MARLIN_STATUS_SUCCESS);
  for (int g = 0; g < G; g++)
    for (int i = 0; i < 8; i++)
      for (int t = 0; t < 8; t++)
        assert_int_equal(((uint32_t)packed[g * 8 + i] >> (4 * t)) & 15u, z[g * N + i + 8 * t]);
}

/* Checkpoint -> packed -> back -> dequantize, for each scheme, group and
 * act-order: the values the GPU kernel must reproduce survive unchanged. */
static void pipeline(marlin_scheme scheme, marlin_dtype dt, int64_t k, int64_t n, int32_t gs,
                     int act_order) {
  const int bits = scheme == GPTQ8 ? 8 : 4;
  const int64_t G = marlin_ref_num_groups(k, gs);
  marlin_packed_sizes sz;
  assert_int_equal(marlin_ref_packed_sizes(scheme, k, n, gs, &sz), MARLIN_STATUS_SUCCESS);
  float *w = xmalloc(sizeof(float) * (size_t)(k * n));
  float *dq1 = xmalloc(sizeof(float) * (size_t)(k * n)), *dq2 = xmalloc(sizeof(float) * (size_t)(k * n));
  uint8_t *codes = xmalloc((size_t)(k * n)), *codes2 = xmalloc((size_t)(k * n));
  uint8_t *unpacked = xmalloc((size_t)(k * n));
  uint16_t *scales = xmalloc(sizeof(uint16_t) * (size_t)(G * n)), *scales2 = xmalloc(sizeof(uint16_t) * (size_t)(G * n));
  uint8_t *zeros = xmalloc((size_t)(G * n)), *zeros2 = xmalloc((size_t)(G * n));
  int32_t *qweight = xmalloc((size_t)(k * n)); /* >= k*n*bits/32 words */
  void *pw = xmalloc(sz.weights);
  uint16_t *ps = xmalloc(sz.scales);
  int32_t *pz = xmalloc(sz.zeros ? sz.zeros : 4);
  int32_t *g_idx = NULL, *perm = NULL, *sorted = NULL;
  if (act_order) {
    g_idx = xmalloc(sizeof(int32_t) * (size_t)k);
    perm = xmalloc(sizeof(int32_t) * (size_t)k);
    sorted = xmalloc(sizeof(int32_t) * (size_t)k);
    for (int64_t r = 0; r < k; r++) g_idx[r] = (int32_t)(r / gs);
    for (int64_t r = k - 1; r > 0; r--) {
      int64_t j = (int64_t)(rng() % (uint32_t)(r + 1));
      int32_t t = g_idx[r];
      g_idx[r] = g_idx[j];
      g_idx[j] = t;
    }
    assert_int_equal(marlin_ref_act_order_perm(g_idx, k, perm, sorted), MARLIN_STATUS_SUCCESS);
  }
  for (int64_t i = 0; i < k * n; i++) w[i] = randn(0.05f);
  uint8_t *zp = scheme == AWQ4 ? zeros : NULL;
  assert_int_equal(marlin_ref_quantize(scheme, dt, w, k, n, gs, g_idx, codes, scales, zp),
                   MARLIN_STATUS_SUCCESS);
  assert_int_equal(marlin_ref_dequantize(scheme, dt, codes, scales, zp, k, n, gs, g_idx, dq1),
                   MARLIN_STATUS_SUCCESS);
  /* through the checkpoint format */
  if (scheme == AWQ4) {
    assert_int_equal(marlin_ref_awq_pack(codes, k, n, qweight), MARLIN_STATUS_SUCCESS);
    assert_int_equal(marlin_ref_awq_unpack(qweight, k, n, codes2), MARLIN_STATUS_SUCCESS);
  } else {
    assert_int_equal(marlin_ref_gptq_pack(codes, k, n, bits, qweight), MARLIN_STATUS_SUCCESS);
    assert_int_equal(marlin_ref_gptq_unpack(qweight, k, n, bits, codes2), MARLIN_STATUS_SUCCESS);
  }
  assert_memory_equal(codes2, codes, (size_t)(k * n));
  /* into the packed layout and back */
  assert_int_equal(marlin_ref_pack_weights(scheme, codes2, k, n, perm, pw), MARLIN_STATUS_SUCCESS);
  assert_int_equal(marlin_ref_pack_scales(scales, G, n, ps), MARLIN_STATUS_SUCCESS);
  if (zp) assert_int_equal(marlin_ref_pack_zeros(zeros, G, n, pz), MARLIN_STATUS_SUCCESS);
  assert_int_equal(marlin_ref_unpack_weights(scheme, pw, k, n, unpacked), MARLIN_STATUS_SUCCESS);
  assert_int_equal(marlin_ref_unpack_scales(ps, G, n, scales2), MARLIN_STATUS_SUCCESS);
  if (zp) assert_int_equal(marlin_ref_unpack_zeros(pz, G, n, zeros2), MARLIN_STATUS_SUCCESS);
  assert_memory_equal(scales2, scales, sizeof(uint16_t) * (size_t)(G * n));
  if (zp) assert_memory_equal(zeros2, zeros, (size_t)(G * n));
  /* unpacked rows are in packed (sorted) order: dequantize with g_idx[perm] */
  assert_int_equal(marlin_ref_dequantize(scheme, dt, unpacked, scales2, zp ? zeros2 : NULL, k, n, gs,
                                         sorted, dq2),
                   MARLIN_STATUS_SUCCESS);
  for (int64_t r = 0; r < k; r++) {
    int64_t src = perm ? perm[r] : r;
    assert_memory_equal(unpacked + r * n, codes + src * n, (size_t)n);
    for (int64_t c = 0; c < n; c++)
      if (dq2[r * n + c] != dq1[src * n + c]) fail_msg("value mismatch at (%lld,%lld)", (long long)r, (long long)c);
  }
  free(w); free(dq1); free(dq2); free(codes); free(codes2); free(unpacked); free(scales);
  free(scales2); free(zeros); free(zeros2); free(qweight); free(pw); free(ps); free(pz);
  free(g_idx); free(perm); free(sorted);
}

static void ref_pipeline_gptq4(void **state) {
  (void)state;
  const int32_t gs[4] = {-1, 32, 64, 128};
  for (int i = 0; i < 4; i++) pipeline(GPTQ4, FP16, 256, 136, gs[i], 0);
  for (int i = 1; i < 4; i++) pipeline(GPTQ4, BF16, 256, 72, gs[i], 1);
  pipeline(GPTQ4, FP16, 40, 72, -1, 0);
}

static void ref_pipeline_gptq8(void **state) {
  (void)state;
  const int32_t gs[4] = {-1, 32, 64, 128};
  for (int i = 0; i < 4; i++) pipeline(GPTQ8, BF16, 256, 136, gs[i], 0);
  for (int i = 1; i < 4; i++) pipeline(GPTQ8, FP16, 256, 72, gs[i], 1);
  pipeline(GPTQ8, FP16, 40, 72, -1, 0);
}

static void ref_pipeline_awq4(void **state) {
  (void)state;
  const int32_t gs[4] = {-1, 32, 64, 128};
  for (int i = 0; i < 4; i++) pipeline(AWQ4, FP16, 256, 136, gs[i], 0);
  for (int i = 0; i < 4; i++) pipeline(AWQ4, BF16, 128, 64, gs[i], 0);
  pipeline(AWQ4, FP16, 96, 200, 32, 0);
}

static void ref_layout_weights_errors(void **state) {
  (void)state;
  enum { K = 16, N = 64 };
  static uint8_t codes[K * N];
  static uint32_t packed[K * N / 4];
  int32_t perm[K];
  for (int r = 0; r < K; r++) perm[r] = K - 1 - r;
  memset(codes, 1, sizeof codes);
  memset(packed, 0x3C, sizeof packed);
#define PW(s, c, k, n, p, o) marlin_ref_pack_weights(s, c, k, n, p, o)
  assert_int_equal(PW(GPTQ4, NULL, K, N, NULL, packed), MARLIN_STATUS_NULL_POINTER);
  assert_int_equal(PW(GPTQ4, codes, K, N, NULL, NULL), MARLIN_STATUS_NULL_POINTER);
  assert_int_equal(PW(MARLIN_SCHEME_INVALID, codes, K, N, NULL, packed), MARLIN_STATUS_INVALID_SCHEME);
  assert_int_equal(PW(MARLIN_SCHEME_FP8, codes, K, N, NULL, packed), MARLIN_STATUS_NOT_IMPLEMENTED);
  assert_int_equal(PW(GPTQ4, codes, 12, N, NULL, packed), MARLIN_STATUS_INVALID_SHAPE);
  assert_int_equal(PW(GPTQ4, codes, K, 60, NULL, packed), MARLIN_STATUS_INVALID_SHAPE);
  assert_int_equal(PW(GPTQ4, codes, 0, N, NULL, packed), MARLIN_STATUS_INVALID_SHAPE);
  assert_int_equal(PW(GPTQ8, codes, K, -64, NULL, packed), MARLIN_STATUS_INVALID_SHAPE);
  perm[3] = K;
  assert_int_equal(PW(GPTQ4, codes, K, N, perm, packed), MARLIN_STATUS_INVALID_VALUE);
  perm[3] = -1;
  assert_int_equal(PW(GPTQ4, codes, K, N, perm, packed), MARLIN_STATUS_INVALID_VALUE);
  perm[3] = K - 4;
  codes[100] = 16;
  assert_int_equal(PW(AWQ4, codes, K, N, perm, packed), MARLIN_STATUS_INVALID_VALUE);
#undef PW
  for (size_t i = 0; i < K * N / 4; i++) assert_int_equal(packed[i], 0x3C3C3C3Cu);
  assert_int_equal(marlin_ref_unpack_weights(GPTQ4, NULL, K, N, codes), MARLIN_STATUS_NULL_POINTER);
  assert_int_equal(marlin_ref_unpack_weights(GPTQ4, packed, K, N, NULL), MARLIN_STATUS_NULL_POINTER);
  assert_int_equal(marlin_ref_unpack_weights((marlin_scheme)42, packed, K, N, codes), MARLIN_STATUS_INVALID_SCHEME);
  assert_int_equal(marlin_ref_unpack_weights(MARLIN_SCHEME_NVFP4, packed, K, N, codes), MARLIN_STATUS_NOT_IMPLEMENTED);
  assert_int_equal(marlin_ref_unpack_weights(GPTQ8, packed, 4, N, codes), MARLIN_STATUS_INVALID_SHAPE);
  assert_int_equal(codes[0], 1);
  assert_int_equal(codes[100], 16);
}

static void ref_layout_scales_zeros_errors(void **state) {
  (void)state;
  uint16_t sc[64], ps[64];
  uint8_t z[64];
  int32_t pz[8];
  memset(sc, 1, sizeof sc);
  memset(ps, 0x3C, sizeof ps);
  memset(z, 2, sizeof z);
  memset(pz, 0x3C, sizeof pz);
  assert_int_equal(marlin_ref_pack_scales(NULL, 1, 64, ps), MARLIN_STATUS_NULL_POINTER);
  assert_int_equal(marlin_ref_pack_scales(sc, 1, 64, NULL), MARLIN_STATUS_NULL_POINTER);
  assert_int_equal(marlin_ref_pack_scales(sc, 0, 64, ps), MARLIN_STATUS_INVALID_SHAPE);
  assert_int_equal(marlin_ref_pack_scales(sc, -1, 64, ps), MARLIN_STATUS_INVALID_SHAPE);
  assert_int_equal(marlin_ref_pack_scales(sc, 1, 60, ps), MARLIN_STATUS_INVALID_SHAPE);
  assert_int_equal(marlin_ref_pack_scales(sc, 1, 0, ps), MARLIN_STATUS_INVALID_SHAPE);
  assert_int_equal(marlin_ref_unpack_scales(NULL, 1, 64, sc), MARLIN_STATUS_NULL_POINTER);
  assert_int_equal(marlin_ref_unpack_scales(ps, 1, 64, NULL), MARLIN_STATUS_NULL_POINTER);
  assert_int_equal(marlin_ref_unpack_scales(ps, 1, 12, sc), MARLIN_STATUS_INVALID_SHAPE);
  assert_int_equal(marlin_ref_pack_zeros(NULL, 1, 64, pz), MARLIN_STATUS_NULL_POINTER);
  assert_int_equal(marlin_ref_pack_zeros(z, 1, 64, NULL), MARLIN_STATUS_NULL_POINTER);
  assert_int_equal(marlin_ref_pack_zeros(z, 0, 64, pz), MARLIN_STATUS_INVALID_SHAPE);
  assert_int_equal(marlin_ref_pack_zeros(z, 1, 36, pz), MARLIN_STATUS_INVALID_SHAPE);
  z[9] = 16;
  assert_int_equal(marlin_ref_pack_zeros(z, 1, 64, pz), MARLIN_STATUS_INVALID_VALUE);
  assert_int_equal(marlin_ref_unpack_zeros(NULL, 1, 64, z), MARLIN_STATUS_NULL_POINTER);
  assert_int_equal(marlin_ref_unpack_zeros(pz, 1, 64, NULL), MARLIN_STATUS_NULL_POINTER);
  assert_int_equal(marlin_ref_unpack_zeros(pz, 1, -8, z), MARLIN_STATUS_INVALID_SHAPE);
  for (int i = 0; i < 64; i++) assert_int_equal(ps[i], 0x3C3C);
  for (int i = 0; i < 8; i++) assert_int_equal((uint32_t)pz[i], 0x3C3C3C3Cu);
  for (int i = 0; i < 64; i++) assert_int_equal(sc[i], 0x0101);
  assert_int_equal(z[0], 2);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(ref_layout4_positions_hand),
    cmocka_unit_test(ref_layout8_positions_hand),
    cmocka_unit_test(ref_layout4_matches_vllm_construction),
    cmocka_unit_test(ref_layout8_matches_vllm_construction),
    cmocka_unit_test(ref_layout_ragged_padding_zero),
    cmocka_unit_test(ref_layout_weights_roundtrip),
    cmocka_unit_test(ref_layout_weights_perm),
    cmocka_unit_test(ref_packed_sizes_values),
    cmocka_unit_test(ref_packed_sizes_errors),
    cmocka_unit_test(ref_scales_perm_hand),
    cmocka_unit_test(ref_scales_roundtrip_random),
    cmocka_unit_test(ref_zeros_perm_hand),
    cmocka_unit_test(ref_zeros_roundtrip_random),
    cmocka_unit_test(ref_zeros_from_awq_checkpoint),
    cmocka_unit_test(ref_pipeline_gptq4),
    cmocka_unit_test(ref_pipeline_gptq8),
    cmocka_unit_test(ref_pipeline_awq4),
    cmocka_unit_test(ref_layout_weights_errors),
    cmocka_unit_test(ref_layout_scales_zeros_errors),
};

int main(int argc, char **argv) {
  return marlin_test_main(tests, sizeof tests / sizeof tests[0], argc, argv);
}
