/* Unit tests of the GPTQ / AWQ checkpoint packers of the CPU reference. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "marlin/marlin_ref.h"
#include "test_main.h"

#define REF_TEST_SEED 1u
#include "ref_test_util.h"


/* GPTQ 4-bit: nibble i of word (r, c) is the code of row 8r + i. */
static void ref_gptq4_pack_hand(void **state) {
  (void)state;
  uint8_t codes[16 * 2];
  for (int r = 0; r < 16; r++) {
    codes[r * 2 + 0] = (uint8_t)(r % 8);       /* 0..7, 0..7 */
    codes[r * 2 + 1] = (uint8_t)(15 - r % 16); /* 15..0 */
  }
  int32_t q[2 * 2];
  memset(q, 0x5A, sizeof q);
  assert_int_equal(marlin_ref_gptq_pack(codes, 16, 2, 4, q), MARLIN_STATUS_SUCCESS);
  assert_int_equal((uint32_t)q[0], 0x76543210u);
  assert_int_equal((uint32_t)q[1], 0x89ABCDEFu);
  assert_int_equal((uint32_t)q[2], 0x76543210u);
  assert_int_equal((uint32_t)q[3], 0x01234567u);
  assert_true(q[1] < 0); /* the top nibble lands in the sign bit */
}

/* GPTQ 8-bit: byte i of word (r, c) is the code of row 4r + i. */
static void ref_gptq8_pack_hand(void **state) {
  (void)state;
  const uint8_t codes[4] = {0x11, 0x22, 0x33, 0xF4};
  int32_t q[1] = {0};
  assert_int_equal(marlin_ref_gptq_pack(codes, 4, 1, 8, q), MARLIN_STATUS_SUCCESS);
  assert_int_equal((uint32_t)q[0], 0xF4332211u);
  uint8_t back[4] = {0};
  assert_int_equal(marlin_ref_gptq_unpack(q, 4, 1, 8, back), MARLIN_STATUS_SUCCESS);
  assert_memory_equal(back, codes, 4);
}

static void ref_gptq_unpack_hand(void **state) {
  (void)state;
  const int32_t q[2] = {(int32_t)0x76543210u, (int32_t)0xFEDCBA98u};
  uint8_t codes[8 * 2];
  assert_int_equal(marlin_ref_gptq_unpack(q, 8, 2, 4, codes), MARLIN_STATUS_SUCCESS);
  for (int r = 0; r < 8; r++) {
    assert_int_equal(codes[r * 2 + 0], r);
    assert_int_equal(codes[r * 2 + 1], 8 + r);
  }
}

static void ref_gptq_roundtrip_random(void **state) {
  (void)state;
  enum { K = 64, N = 24 };
  static uint8_t codes[K * N], back[K * N];
  static int32_t q[K * N / 4];
  for (int bits = 4; bits <= 8; bits += 4) {
    for (int i = 0; i < K * N; i++) codes[i] = (uint8_t)(rng() & ((1u << bits) - 1u));
    assert_int_equal(marlin_ref_gptq_pack(codes, K, N, bits, q), MARLIN_STATUS_SUCCESS);
    memset(back, 0xEE, sizeof back);
    assert_int_equal(marlin_ref_gptq_unpack(q, K, N, bits, back), MARLIN_STATUS_SUCCESS);
    assert_memory_equal(back, codes, sizeof codes);
  }
}

/* AWQ: nibble i of word (row, w) holds column 8w + [0,2,4,6,1,3,5,7][i]. */
static void ref_awq_pack_hand(void **state) {
  (void)state;
  uint8_t codes[2 * 16];
  for (int c = 0; c < 16; c++) {
    codes[c] = (uint8_t)(c % 8);       /* column c holds c (first word) */
    codes[16 + c] = (uint8_t)(15 - c); /* row 1 */
  }
  int32_t p[2 * 2];
  assert_int_equal(marlin_ref_awq_pack(codes, 2, 16, p), MARLIN_STATUS_SUCCESS);
  /* nibbles = columns 0,2,4,6,1,3,5,7 */
  assert_int_equal((uint32_t)p[0], 0x75316420u);
  assert_int_equal((uint32_t)p[1], 0x75316420u);
  /* row 1: columns 0..7 hold 15..8 -> nibbles 15,13,11,9,14,12,10,8 */
  assert_int_equal((uint32_t)p[2], 0x8ACE9BDFu);
  /* columns 8..15 hold 7..0 -> nibbles 7,5,3,1,6,4,2,0 */
  assert_int_equal((uint32_t)p[3], 0x02461357u);
}

static void ref_awq_unpack_hand(void **state) {
  (void)state;
  /* one code 9 in nibble 1 = column 2; code 5 in nibble 4 = column 1 */
  const int32_t p[1] = {(int32_t)0x00050090u};
  uint8_t codes[8];
  assert_int_equal(marlin_ref_awq_unpack(p, 1, 8, codes), MARLIN_STATUS_SUCCESS);
  const uint8_t want[8] = {0, 5, 9, 0, 0, 0, 0, 0};
  assert_memory_equal(codes, want, 8);
}

static void ref_awq_roundtrip_random(void **state) {
  (void)state;
  enum { R = 9, N = 40 };
  uint8_t codes[R * N], back[R * N];
  int32_t p[R * N / 8];
  for (int i = 0; i < R * N; i++) codes[i] = (uint8_t)(rng() & 15u);
  assert_int_equal(marlin_ref_awq_pack(codes, R, N, p), MARLIN_STATUS_SUCCESS);
  assert_int_equal(marlin_ref_awq_unpack(p, R, N, back), MARLIN_STATUS_SUCCESS);
  assert_memory_equal(back, codes, sizeof codes);
}

static void ref_checkpoint_errors(void **state) {
  (void)state;
  uint8_t codes[32 * 8];
  int32_t q[32];
  memset(codes, 1, sizeof codes);
  memset(q, 0x77, sizeof q);
  int32_t q0[32];
  memcpy(q0, q, sizeof q);
  /* gptq pack */
  assert_int_equal(marlin_ref_gptq_pack(NULL, 8, 8, 4, q), MARLIN_STATUS_NULL_POINTER);
  assert_int_equal(marlin_ref_gptq_pack(codes, 8, 8, 4, NULL), MARLIN_STATUS_NULL_POINTER);
  assert_int_equal(marlin_ref_gptq_pack(codes, 8, 8, 3, q), MARLIN_STATUS_INVALID_VALUE);
  assert_int_equal(marlin_ref_gptq_pack(codes, 8, 8, 16, q), MARLIN_STATUS_INVALID_VALUE);
  assert_int_equal(marlin_ref_gptq_pack(codes, 12, 8, 4, q), MARLIN_STATUS_INVALID_SHAPE);
  assert_int_equal(marlin_ref_gptq_pack(codes, 6, 8, 8, q), MARLIN_STATUS_INVALID_SHAPE);
  assert_int_equal(marlin_ref_gptq_pack(codes, 0, 8, 4, q), MARLIN_STATUS_INVALID_SHAPE);
  assert_int_equal(marlin_ref_gptq_pack(codes, 8, 0, 4, q), MARLIN_STATUS_INVALID_SHAPE);
  assert_int_equal(marlin_ref_gptq_pack(codes, -8, 8, 4, q), MARLIN_STATUS_INVALID_SHAPE);
  codes[5] = 16;
  assert_int_equal(marlin_ref_gptq_pack(codes, 8, 8, 4, q), MARLIN_STATUS_INVALID_VALUE);
  assert_int_equal(marlin_ref_gptq_pack(codes, 8, 8, 8, q), MARLIN_STATUS_SUCCESS); /* 16 is fine */
  memcpy(q, q0, sizeof q);
  /* gptq unpack */
  assert_int_equal(marlin_ref_gptq_unpack(NULL, 8, 8, 4, codes), MARLIN_STATUS_NULL_POINTER);
  assert_int_equal(marlin_ref_gptq_unpack(q, 8, 8, 4, NULL), MARLIN_STATUS_NULL_POINTER);
  assert_int_equal(marlin_ref_gptq_unpack(q, 8, 8, 2, codes), MARLIN_STATUS_INVALID_VALUE);
  assert_int_equal(marlin_ref_gptq_unpack(q, 4, 8, 4, codes), MARLIN_STATUS_INVALID_SHAPE);
  /* awq */
  codes[5] = 1;
  assert_int_equal(marlin_ref_awq_pack(NULL, 1, 8, q), MARLIN_STATUS_NULL_POINTER);
  assert_int_equal(marlin_ref_awq_pack(codes, 1, 8, NULL), MARLIN_STATUS_NULL_POINTER);
  assert_int_equal(marlin_ref_awq_pack(codes, 1, 12, q), MARLIN_STATUS_INVALID_SHAPE);
  assert_int_equal(marlin_ref_awq_pack(codes, 0, 8, q), MARLIN_STATUS_INVALID_SHAPE);
  assert_int_equal(marlin_ref_awq_pack(codes, 1, -8, q), MARLIN_STATUS_INVALID_SHAPE);
  codes[3] = 0x10;
  assert_int_equal(marlin_ref_awq_pack(codes, 1, 8, q), MARLIN_STATUS_INVALID_VALUE);
  assert_int_equal(marlin_ref_awq_unpack(NULL, 1, 8, codes), MARLIN_STATUS_NULL_POINTER);
  assert_int_equal(marlin_ref_awq_unpack(q, 1, 8, NULL), MARLIN_STATUS_NULL_POINTER);
  assert_int_equal(marlin_ref_awq_unpack(q, 1, 4, codes), MARLIN_STATUS_INVALID_SHAPE);
  /* nothing was written on error */
  assert_memory_equal(q, q0, sizeof q);
  assert_int_equal(codes[0], 1);
  assert_int_equal(codes[3], 0x10);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(ref_gptq4_pack_hand),
    cmocka_unit_test(ref_gptq8_pack_hand),
    cmocka_unit_test(ref_gptq_unpack_hand),
    cmocka_unit_test(ref_gptq_roundtrip_random),
    cmocka_unit_test(ref_awq_pack_hand),
    cmocka_unit_test(ref_awq_unpack_hand),
    cmocka_unit_test(ref_awq_roundtrip_random),
    cmocka_unit_test(ref_checkpoint_errors),
};

int main(int argc, char **argv) {
  return marlin_test_main(tests, sizeof tests / sizeof tests[0], argc, argv);
}
