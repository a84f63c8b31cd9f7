/* marlin CPU reference: GPTQ and AWQ checkpoint packers (docs/layout.md,
 * "Checkpoint layouts").
 *
 * int32 words are written and read through uint32_t (same object type up to
 * signedness, so the aliasing is allowed) to avoid implementation-defined
 * conversions of codes with the top bit set. */
#include <stddef.h>
#include <stdint.h>

#include "marlin/marlin_ref.h"

/* AWQ: nibble i of a word holds column 8w + awq_order[i]. */
static const int awq_order[8] = {0, 2, 4, 6, 1, 3, 5, 7};

static int valid_dim(int64_t d) { return d > 0 && d <= INT32_MAX; }

static marlin_status check_gptq(const void *in, const void *out, int64_t k, int64_t n, int bits) {
  if (!in || !out) return MARLIN_STATUS_NULL_POINTER;
  if (bits != 4 && bits != 8) return MARLIN_STATUS_INVALID_VALUE;
  if (!valid_dim(k) || !valid_dim(n) || k % (32 / bits) != 0) return MARLIN_STATUS_INVALID_SHAPE;
  return MARLIN_STATUS_SUCCESS;
}

marlin_status marlin_ref_gptq_pack(const uint8_t *codes, int64_t k, int64_t n, int bits,
                                   int32_t *qweight) {
  marlin_status st = check_gptq(codes, qweight, k, n, bits);
  if (st != MARLIN_STATUS_SUCCESS) return st;
  const unsigned qmax = (1u << bits) - 1u;
  for (int64_t i = 0; i < k * n; i++)
    if (codes[i] > qmax) return MARLIN_STATUS_INVALID_VALUE;

  const int per = 32 / bits;
  uint32_t *out = (uint32_t *)qweight;
  for (int64_t r = 0; r < k / per; r++)
    for (int64_t c = 0; c < n; c++) {
      uint32_t word = 0;
      for (int i = 0; i < per; i++)
        word |= (uint32_t)codes[(r * per + i) * n + c] << (bits * i);
      out[r * n + c] = word;
    }
  return MARLIN_STATUS_SUCCESS;
}

marlin_status marlin_ref_gptq_unpack(const int32_t *qweight, int64_t k, int64_t n, int bits,
                                     uint8_t *codes) {
  marlin_status st = check_gptq(qweight, codes, k, n, bits);
  if (st != MARLIN_STATUS_SUCCESS) return st;
  const int per = 32 / bits;
  const uint32_t mask = (1u << bits) - 1u;
  const uint32_t *in = (const uint32_t *)qweight;
  for (int64_t r = 0; r < k / per; r++)
    for (int64_t c = 0; c < n; c++) {
      uint32_t word = in[r * n + c];
      for (int i = 0; i < per; i++)
        codes[(r * per + i) * n + c] = (uint8_t)((word >> (bits * i)) & mask);
    }
  return MARLIN_STATUS_SUCCESS;
}

static marlin_status check_awq(const void *in, const void *out, int64_t rows, int64_t n) {
  if (!in || !out) return MARLIN_STATUS_NULL_POINTER;
  if (!valid_dim(rows) || !valid_dim(n) || n % 8 != 0) return MARLIN_STATUS_INVALID_SHAPE;
  return MARLIN_STATUS_SUCCESS;
}

marlin_status marlin_ref_awq_pack(const uint8_t *codes, int64_t rows, int64_t n, int32_t *packed) {
  marlin_status st = check_awq(codes, packed, rows, n);
  if (st != MARLIN_STATUS_SUCCESS) return st;
  for (int64_t i = 0; i < rows * n; i++)
    if (codes[i] > 15u) return MARLIN_STATUS_INVALID_VALUE;

  uint32_t *out = (uint32_t *)packed;
  for (int64_t r = 0; r < rows; r++)
    for (int64_t w = 0; w < n / 8; w++) {
      uint32_t word = 0;
      for (int i = 0; i < 8; i++) word |= (uint32_t)codes[r * n + 8 * w + awq_order[i]] << (4 * i);
      out[r * (n / 8) + w] = word;
    }
  return MARLIN_STATUS_SUCCESS;
}

marlin_status marlin_ref_awq_unpack(const int32_t *packed, int64_t rows, int64_t n,
                                    uint8_t *codes) {
  marlin_status st = check_awq(packed, codes, rows, n);
  if (st != MARLIN_STATUS_SUCCESS) return st;
  const uint32_t *in = (const uint32_t *)packed;
  for (int64_t r = 0; r < rows; r++)
    for (int64_t w = 0; w < n / 8; w++) {
      uint32_t word = in[r * (n / 8) + w];
      for (int i = 0; i < 8; i++)
        codes[r * n + 8 * w + awq_order[i]] = (uint8_t)((word >> (4 * i)) & 0xfu);
    }
  return MARLIN_STATUS_SUCCESS;
}
