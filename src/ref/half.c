/* marlin CPU reference: fp16 / bf16 <-> float conversions.
 *
 * Plain bit manipulation, round-to-nearest-even, no dependence on the
 * compiler's _Float16 / __bf16 support or the FPU rounding mode. */
#include <stdint.h>
#include <string.h>

#include "marlin/marlin_ref.h"

static uint32_t float_bits(float x) {
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  return u;
}

static float bits_float(uint32_t u) {
  float x;
  memcpy(&x, &u, sizeof x);
  return x;
}

/* Shifts v right by s (1..31) with round-to-nearest-even. */
static uint32_t shift_rne(uint32_t v, unsigned s) {
  uint32_t q = v >> s;
  uint32_t rem = v & ((UINT32_C(1) << s) - 1u);
  uint32_t half = UINT32_C(1) << (s - 1u);
  if (rem > half || (rem == half && (q & 1u))) q++;
  return q;
}

static uint16_t float_to_fp16(float x) {
  uint32_t f = float_bits(x);
  uint16_t sign = (uint16_t)((f >> 16) & 0x8000u);
  uint32_t a = f & 0x7fffffffu;
  if (a > 0x7f800000u) /* NaN: keep the top payload bits, force quiet */
    return (uint16_t)(sign | 0x7e00u | ((a >> 13) & 0x03ffu));
  if (a == 0x7f800000u) return (uint16_t)(sign | 0x7c00u);
  int e = (int)(a >> 23) - 127; /* unbiased exponent (-127 for float subnormals) */
  uint32_t mant = a & 0x7fffffu;
  if (e > 15) return (uint16_t)(sign | 0x7c00u);
  if (e >= -14) {
    /* normal fp16 range; a carry out of the mantissa bumps the exponent,
     * up to 0x7c00 = Inf, which is the correct overflow result */
    uint32_t h = ((uint32_t)(e + 15) << 10) | (mant >> 13);
    uint32_t rem = mant & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) h++;
    return (uint16_t)(sign | h);
  }
  /* fp16 subnormal or zero: value = m * 2^(e-23) = h * 2^-24 => h = m >> (-e-1) */
  if (a < 0x00800000u) return sign; /* float subnormals are far below 2^-25 */
  unsigned s = (unsigned)(-e - 1);
  if (s > 24u) return sign;
  uint32_t m = mant | 0x800000u;
  return (uint16_t)(sign | shift_rne(m, s)); /* may round up into the smallest normal */
}

static float fp16_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  uint32_t e = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x03ffu;
  if (e == 0x1fu) return bits_float(sign | 0x7f800000u | (mant << 13));
  if (e == 0) {
    if (mant == 0) return bits_float(sign);
    /* subnormal: normalise */
    int ee = -14;
    while (!(mant & 0x0400u)) {
      mant <<= 1;
      ee--;
    }
    mant &= 0x03ffu;
    return bits_float(sign | ((uint32_t)(ee + 127) << 23) | (mant << 13));
  }
  return bits_float(sign | ((e - 15u + 127u) << 23) | (mant << 13));
}

static uint16_t float_to_bf16(float x) {
  uint32_t f = float_bits(x);
  if ((f & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((f >> 16) | 0x0040u); /* quiet NaN */
  /* round to nearest even on the low 16 bits; overflow carries into Inf */
  uint32_t r = f + 0x7fffu + ((f >> 16) & 1u);
  return (uint16_t)(r >> 16);
}

static float bf16_to_float(uint16_t h) { return bits_float((uint32_t)h << 16); }

uint16_t marlin_ref_float_to_half(float x, marlin_dtype dtype) {
  switch (dtype) {
  case MARLIN_DTYPE_FP16:
    return float_to_fp16(x);
  case MARLIN_DTYPE_BF16:
    return float_to_bf16(x);
  default:
    return 0; /* not a 16-bit float dtype */
  }
}

float marlin_ref_half_to_float(uint16_t h, marlin_dtype dtype) {
  switch (dtype) {
  case MARLIN_DTYPE_FP16:
    return fp16_to_float(h);
  case MARLIN_DTYPE_BF16:
    return bf16_to_float(h);
  default:
    return bits_float(0x7fc00000u); /* not a 16-bit float dtype: NaN */
  }
}
