/* Unit tests of the fp16 / bf16 conversions of the CPU reference. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "marlin/marlin_ref.h"
#include "test_main.h"

#define FP16 MARLIN_DTYPE_FP16
#define BF16 MARLIN_DTYPE_BF16

static float bits_float(uint32_t u) {
  float x;
  memcpy(&x, &u, sizeof x);
  return x;
}

static uint32_t float_bits(float x) {
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  return u;
}

/* 2^e as a float, for -149 <= e <= 127, built from bits. */
static float pow2f(int e) {
  if (e >= -126) return bits_float((uint32_t)(e + 127) << 23);
  return bits_float(UINT32_C(1) << (e + 149));
}

static int is_nan_bits(float x) { return x != x; }

static void ref_half_fp16_known_values(void **state) {
  (void)state;
  assert_int_equal(marlin_ref_float_to_half(1.0f, FP16), 0x3C00);
  assert_int_equal(marlin_ref_float_to_half(-2.0f, FP16), 0xC000);
  assert_int_equal(marlin_ref_float_to_half(0.5f, FP16), 0x3800);
  assert_int_equal(marlin_ref_float_to_half(0.1f, FP16), 0x2E66);
  assert_int_equal(marlin_ref_float_to_half(3.140625f, FP16), 0x4248);
  assert_int_equal(marlin_ref_float_to_half(65504.0f, FP16), 0x7BFF);
  assert_int_equal(marlin_ref_float_to_half(-65504.0f, FP16), 0xFBFF);
  assert_int_equal(marlin_ref_float_to_half(pow2f(-14), FP16), 0x0400); /* smallest normal */
  assert_int_equal(marlin_ref_float_to_half(0.0f, FP16), 0x0000);
  assert_int_equal(marlin_ref_float_to_half(-0.0f, FP16), 0x8000);
  assert_true(marlin_ref_half_to_float(0x3C00, FP16) == 1.0f);
  assert_true(marlin_ref_half_to_float(0xC000, FP16) == -2.0f);
  assert_true(marlin_ref_half_to_float(0x7BFF, FP16) == 65504.0f);
  assert_true(marlin_ref_half_to_float(0x3555, FP16) == 0.333251953125f);
  assert_int_equal(float_bits(marlin_ref_half_to_float(0x8000, FP16)), 0x80000000u);
}

static void ref_half_bf16_known_values(void **state) {
  (void)state;
  assert_int_equal(marlin_ref_float_to_half(1.0f, BF16), 0x3F80);
  assert_int_equal(marlin_ref_float_to_half(-2.0f, BF16), 0xC000);
  assert_int_equal(marlin_ref_float_to_half(0.1f, BF16), 0x3DCD); /* 0x3DCCCCCD rounds up */
  assert_int_equal(marlin_ref_float_to_half(-0.0f, BF16), 0x8000);
  assert_int_equal(marlin_ref_float_to_half(bits_float(0x7F7F0000u), BF16), 0x7F7F); /* max */
  assert_int_equal(marlin_ref_float_to_half(pow2f(-126), BF16), 0x0080);
  assert_int_equal(marlin_ref_float_to_half(pow2f(-133), BF16), 0x0001); /* subnormal */
  assert_true(marlin_ref_half_to_float(0x3F80, BF16) == 1.0f);
  assert_true(marlin_ref_half_to_float(0x4049, BF16) == 3.140625f);
  assert_true(marlin_ref_half_to_float(0x0001, BF16) == pow2f(-133));
}

static void ref_half_fp16_subnormals(void **state) {
  (void)state;
  assert_int_equal(marlin_ref_float_to_half(pow2f(-24), FP16), 0x0001);
  assert_int_equal(marlin_ref_float_to_half(-pow2f(-24), FP16), 0x8001);
  assert_int_equal(marlin_ref_float_to_half(1023.0f * pow2f(-24), FP16), 0x03FF);
  assert_int_equal(marlin_ref_float_to_half(pow2f(-15), FP16), 0x0200);
  /* exactly half the smallest subnormal: tie to even -> 0 */
  assert_int_equal(marlin_ref_float_to_half(pow2f(-25), FP16), 0x0000);
  assert_int_equal(marlin_ref_float_to_half(-pow2f(-25), FP16), 0x8000);
  /* just above half -> smallest subnormal */
  assert_int_equal(marlin_ref_float_to_half(1.5f * pow2f(-25), FP16), 0x0001);
  /* 1.5 * 2^-24: tie between 1 and 2 -> 2 */
  assert_int_equal(marlin_ref_float_to_half(3.0f * pow2f(-25), FP16), 0x0002);
  /* 2.5 * 2^-24: tie between 2 and 3 -> 2 */
  assert_int_equal(marlin_ref_float_to_half(5.0f * pow2f(-25), FP16), 0x0002);
  /* rounds up from the largest subnormal into the smallest normal */
  assert_int_equal(marlin_ref_float_to_half(1023.75f * pow2f(-24), FP16), 0x0400);
  /* float subnormals and tiny values vanish */
  assert_int_equal(marlin_ref_float_to_half(pow2f(-140), FP16), 0x0000);
  assert_int_equal(marlin_ref_float_to_half(pow2f(-30), FP16), 0x0000);
  /* back */
  assert_true(marlin_ref_half_to_float(0x0001, FP16) == pow2f(-24));
  assert_true(marlin_ref_half_to_float(0x03FF, FP16) == 1023.0f * pow2f(-24));
  assert_true(marlin_ref_half_to_float(0x8200, FP16) == -pow2f(-15));
}

static void ref_half_rounding_ties(void **state) {
  (void)state;
  /* fp16 ulp at 1 is 2^-10 */
  assert_int_equal(marlin_ref_float_to_half(1.0f + pow2f(-11), FP16), 0x3C00);        /* tie, even */
  assert_int_equal(marlin_ref_float_to_half(1.0f + 3.0f * pow2f(-11), FP16), 0x3C02); /* tie, up */
  assert_int_equal(marlin_ref_float_to_half(1.0f + pow2f(-11) + pow2f(-20), FP16), 0x3C01);
  assert_int_equal(marlin_ref_float_to_half(1.0f + pow2f(-11) - pow2f(-20), FP16), 0x3C00);
  assert_int_equal(marlin_ref_float_to_half(2048.0f + 1.0f, FP16), 0x6800);           /* 2049 -> 2048 */
  assert_int_equal(marlin_ref_float_to_half(2048.0f + 3.0f, FP16), 0x6802);           /* 2051 -> 2052 */
  assert_int_equal(marlin_ref_float_to_half(65519.0f, FP16), 0x7BFF);
  assert_int_equal(marlin_ref_float_to_half(65520.0f, FP16), 0x7C00); /* tie to even -> Inf */
  assert_int_equal(marlin_ref_float_to_half(-1e6f, FP16), 0xFC00);
  /* bf16 ulp at 1 is 2^-7 */
  assert_int_equal(marlin_ref_float_to_half(1.0f + pow2f(-8), BF16), 0x3F80);
  assert_int_equal(marlin_ref_float_to_half(1.0f + 3.0f * pow2f(-8), BF16), 0x3F82);
  assert_int_equal(marlin_ref_float_to_half(1.0f + pow2f(-8) + pow2f(-20), BF16), 0x3F81);
  assert_int_equal(marlin_ref_float_to_half(bits_float(0x7F7FFFFFu), BF16), 0x7F80); /* -> Inf */
  assert_int_equal(marlin_ref_float_to_half(bits_float(0x7F7F7FFFu), BF16), 0x7F7F);
}

static void ref_half_inf_nan(void **state) {
  (void)state;
  const float inf = bits_float(0x7F800000u);
  const float qnan = bits_float(0x7FC00000u);
  const float snan = bits_float(0x7F800001u); /* payload only in the low bits */
  assert_int_equal(marlin_ref_float_to_half(inf, FP16), 0x7C00);
  assert_int_equal(marlin_ref_float_to_half(-inf, FP16), 0xFC00);
  assert_int_equal(marlin_ref_float_to_half(inf, BF16), 0x7F80);
  assert_int_equal(marlin_ref_float_to_half(-inf, BF16), 0xFF80);
  uint16_t h = marlin_ref_float_to_half(qnan, FP16);
  assert_int_equal(h & 0x7C00, 0x7C00);
  assert_true((h & 0x03FF) != 0);
  h = marlin_ref_float_to_half(snan, FP16); /* must not become Inf */
  assert_true((h & 0x7C00) == 0x7C00 && (h & 0x03FF) != 0);
  h = marlin_ref_float_to_half(snan, BF16);
  assert_true((h & 0x7F80) == 0x7F80 && (h & 0x007F) != 0);
  h = marlin_ref_float_to_half(-qnan, BF16);
  assert_true((h & 0x8000) && (h & 0x007F) != 0);
  assert_true(marlin_ref_half_to_float(0x7C00, FP16) == inf);
  assert_true(marlin_ref_half_to_float(0xFC00, FP16) == -inf);
  assert_true(is_nan_bits(marlin_ref_half_to_float(0x7E00, FP16)));
  assert_true(is_nan_bits(marlin_ref_half_to_float(0x7C01, FP16)));
  assert_true(marlin_ref_half_to_float(0xFF80, BF16) == -inf);
  assert_true(is_nan_bits(marlin_ref_half_to_float(0x7FC1, BF16)));
}

/* Every 16-bit pattern survives half -> float -> half (NaNs stay NaN). */
static void ref_half_roundtrip_all_patterns(void **state) {
  (void)state;
  for (int d = 0; d < 2; d++) {
    marlin_dtype dt = d ? BF16 : FP16;
    uint16_t exp_mask = d ? 0x7F80 : 0x7C00, man_mask = d ? 0x007F : 0x03FF;
    for (uint32_t u = 0; u < 65536u; u++) {
      uint16_t h = (uint16_t)u;
      float f = marlin_ref_half_to_float(h, dt);
      uint16_t back = marlin_ref_float_to_half(f, dt);
      if ((h & exp_mask) == exp_mask && (h & man_mask)) {
        assert_true(is_nan_bits(f));
        assert_true((back & exp_mask) == exp_mask && (back & man_mask));
      } else if (back != h) {
        fail_msg("dtype %d: 0x%04x -> %g -> 0x%04x", d, (unsigned)h, (double)f, (unsigned)back);
      }
    }
  }
}

/* For random floats the result is the nearest representable value, ties to
 * the even one (checked against both neighbours, in double). */
static void ref_half_nearest_property(void **state) {
  (void)state;
  uint32_t s = 12345u;
  for (int d = 0; d < 2; d++) {
    marlin_dtype dt = d ? BF16 : FP16;
    for (int it = 0; it < 200000; it++) {
      s = s * 1664525u + 1013904223u;
      /* fp16: exponents in about [-26, 16]; bf16: anything finite */
      uint32_t bits = s;
      if (!d) bits = (bits & 0x807FFFFFu) | ((uint32_t)(101 + (s >> 9) % 43) << 23);
      float x = bits_float(bits);
      if (x != x || x - x != 0.0f) continue; /* NaN / Inf */
      uint16_t h = marlin_ref_float_to_half(x, dt);
      float y = marlin_ref_half_to_float(h, dt);
      uint16_t mag = h & 0x7FFF;
      uint16_t inf = d ? 0x7F80 : 0x7C00;
      if (mag == inf) {
        /* overflow: x must be at least max + half ulp */
        double maxv = d ? (double)bits_float(0x7F7F0000u) : 65504.0;
        double half_ulp = d ? (double)pow2f(127 - 8) : 16.0;
        double ax = x < 0 ? -(double)x : (double)x;
        assert_true(ax >= maxv + half_ulp);
        continue;
      }
      double err = (double)y - (double)x;
      if (err < 0) err = -err;
      /* neighbours of h in magnitude */
      uint16_t sign = h & 0x8000;
      float up = marlin_ref_half_to_float((uint16_t)(sign | (mag + 1)), dt);
      double e_up = (double)up - (double)x;
      if (e_up < 0) e_up = -e_up;
      assert_true(err <= e_up);
      if (err == e_up) assert_true((h & 1) == 0);
      if (mag > 0) {
        float dn = marlin_ref_half_to_float((uint16_t)(sign | (mag - 1)), dt);
        double e_dn = (double)dn - (double)x;
        if (e_dn < 0) e_dn = -e_dn;
        assert_true(err <= e_dn);
        if (err == e_dn) assert_true((h & 1) == 0);
      }
    }
  }
}

static void ref_half_invalid_dtype(void **state) {
  (void)state;
  assert_int_equal(marlin_ref_float_to_half(1.0f, MARLIN_DTYPE_FP32), 0);
  assert_int_equal(marlin_ref_float_to_half(1.0f, MARLIN_DTYPE_INVALID), 0);
  assert_true(is_nan_bits(marlin_ref_half_to_float(0x3C00, MARLIN_DTYPE_INT8)));
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(ref_half_fp16_known_values),
    cmocka_unit_test(ref_half_bf16_known_values),
    cmocka_unit_test(ref_half_fp16_subnormals),
    cmocka_unit_test(ref_half_rounding_ties),
    cmocka_unit_test(ref_half_inf_nan),
    cmocka_unit_test(ref_half_roundtrip_all_patterns),
    cmocka_unit_test(ref_half_nearest_property),
    cmocka_unit_test(ref_half_invalid_dtype),
};

int main(int argc, char **argv) {
  return marlin_test_main(tests, sizeof tests / sizeof tests[0], argc, argv);
}
