/* Shared by the CPU-reference tests: short names and a seedable xorshift RNG
 * (each test program keeps its own seed, so the data stay as they were). */
#ifndef MARLIN_TESTS_REF_TEST_UTIL_H
#define MARLIN_TESTS_REF_TEST_UTIL_H

#include <stdint.h>

#include "marlin/marlin_ref.h"

#define FP16 MARLIN_DTYPE_FP16
#define BF16 MARLIN_DTYPE_BF16
#define GPTQ4 MARLIN_SCHEME_GPTQ4
#define GPTQ8 MARLIN_SCHEME_GPTQ8
#define AWQ4 MARLIN_SCHEME_AWQ4

#ifndef REF_TEST_SEED
#error "define REF_TEST_SEED before including ref_test_util.h"
#endif

static uint32_t rng_state = REF_TEST_SEED;
static inline uint32_t rng(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return rng_state;
}
/* Roughly normal, mean 0, sd ~ scale. */
static inline float randn(float scale) {
  float s = 0.0f;
  for (int i = 0; i < 4; i++) s += (float)(rng() >> 8) / 16777216.0f - 0.5f;
  return s * 1.7f * scale;
}

#endif
