/* Unit tests of the reference GEMM of the CPU reference. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "marlin/marlin_ref.h"
#include "test_main.h"

/* c = a * w + bias on a 2x3 * 3x2 case computed by hand. */
static void ref_gemm_hand(void **state) {
  (void)state;
  const float a[2 * 3] = {1, 2, 3, 4, 5, 6};
  const float w[3 * 2] = {1, -1, 0.5f, 2, -2, 0};
  const float bias[2] = {10, -10};
  double c[4];
  assert_int_equal(marlin_ref_gemm(a, 3, w, NULL, 2, 2, 3, c), MARLIN_STATUS_SUCCESS);
  /* row 0: 1*1 + 2*0.5 + 3*-2 = -4 ; 1*-1 + 2*2 + 0 = 3 */
  /* row 1: 4 + 2.5 - 12 = -5.5 ; -4 + 10 = 6 */
  assert_true(c[0] == -4.0 && c[1] == 3.0 && c[2] == -5.5 && c[3] == 6.0);
  assert_int_equal(marlin_ref_gemm(a, 3, w, bias, 2, 2, 3, c), MARLIN_STATUS_SUCCESS);
  assert_true(c[0] == 6.0 && c[1] == -7.0 && c[2] == 4.5 && c[3] == -4.0);
}

/* a's rows are lda apart; the elements between k and lda are never read. */
static void ref_gemm_lda(void **state) {
  (void)state;
  const uint32_t nan_bits = 0x7FC00000u;
  float nan;
  memcpy(&nan, &nan_bits, sizeof nan);
  float a[2 * 5];
  for (int i = 0; i < 10; i++) a[i] = nan;
  a[0] = 1;
  a[1] = 2;
  a[5] = 3;
  a[6] = -1;
  const float w[2 * 3] = {1, 2, 3, 4, 5, 6};
  double c[2 * 3];
  assert_int_equal(marlin_ref_gemm(a, 5, w, NULL, 2, 3, 2, c), MARLIN_STATUS_SUCCESS);
  const double want[6] = {9, 12, 15, -1, 1, 3};
  for (int i = 0; i < 6; i++) assert_true(c[i] == want[i]);
}

/* Accumulation is in double: a float sum would lose the 1. */
static void ref_gemm_double_accumulation(void **state) {
  (void)state;
  const float a[3] = {1e8f, 1.0f, -1e8f};
  const float w[3] = {1.0f, 1.0f, 1.0f};
  const float bias[1] = {0.25f};
  double c[1];
  assert_int_equal(marlin_ref_gemm(a, 3, w, bias, 1, 1, 3, c), MARLIN_STATUS_SUCCESS);
  assert_true(c[0] == 1.25);
  /* products of floats are exact in double */
  const float a2[1] = {4194304.5f}; /* 2^22 + 2^-1: 24 significant bits */
  const float w2[1] = {3.0f};
  assert_int_equal(marlin_ref_gemm(a2, 1, w2, NULL, 1, 1, 1, c), MARLIN_STATUS_SUCCESS);
  assert_true(c[0] == 12582913.5); /* 25 bits: not a float */
}

static void ref_gemm_m_zero_and_errors(void **state) {
  (void)state;
  const float a[4] = {1, 2, 3, 4}, w[4] = {1, 2, 3, 4};
  double c[4] = {7, 7, 7, 7};
  assert_int_equal(marlin_ref_gemm(a, 2, w, NULL, 0, 2, 2, c), MARLIN_STATUS_SUCCESS);
  assert_int_equal(marlin_ref_gemm(NULL, 2, w, NULL, 2, 2, 2, c), MARLIN_STATUS_NULL_POINTER);
  assert_int_equal(marlin_ref_gemm(a, 2, NULL, NULL, 2, 2, 2, c), MARLIN_STATUS_NULL_POINTER);
  assert_int_equal(marlin_ref_gemm(a, 2, w, NULL, 2, 2, 2, NULL), MARLIN_STATUS_NULL_POINTER);
  assert_int_equal(marlin_ref_gemm(a, 1, w, NULL, 2, 2, 2, c), MARLIN_STATUS_INVALID_SHAPE);
  assert_int_equal(marlin_ref_gemm(a, 2, w, NULL, -1, 2, 2, c), MARLIN_STATUS_INVALID_SHAPE);
  assert_int_equal(marlin_ref_gemm(a, 2, w, NULL, 2, 0, 2, c), MARLIN_STATUS_INVALID_SHAPE);
  assert_int_equal(marlin_ref_gemm(a, 2, w, NULL, 2, 2, 0, c), MARLIN_STATUS_INVALID_SHAPE);
  for (int i = 0; i < 4; i++) assert_true(c[i] == 7.0);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(ref_gemm_hand),
    cmocka_unit_test(ref_gemm_lda),
    cmocka_unit_test(ref_gemm_double_accumulation),
    cmocka_unit_test(ref_gemm_m_zero_and_errors),
};

int main(int argc, char **argv) {
  return marlin_test_main(tests, sizeof tests / sizeof tests[0], argc, argv);
}
