/* marlin CPU reference: the packed layout of docs/layout.md.
 *
 * The packer and unpacker walk the packed words in order and compute, for
 * every nibble / byte, which code it holds: the executable form of the tables
 * in docs/layout.md. Padding (rows >= k of Kp, columns >= n of Np) is written
 * as 0. int32 words are accessed through uint32_t (allowed aliasing). */
#include <stddef.h>
#include <stdint.h>

#include "marlin/marlin_ref.h"
#include "scheme.h"


/* k or n of the packed layout: positive multiple of 8 that fits int32. */
static int valid_dim8(int64_t d) { return d > 0 && d <= INT32_MAX && d % 8 == 0; }

static int64_t roundup(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

/* ---- sizes ------------------------------------------------------------------------ */

marlin_status marlin_ref_packed_sizes(marlin_scheme scheme, int64_t k, int64_t n,
                                      int32_t group_size, marlin_packed_sizes *sizes) {
  ref_scheme_info info;
  if (!sizes) return MARLIN_STATUS_NULL_POINTER;
  marlin_status st = marlin_ref_scheme(scheme, &info);
  if (st != MARLIN_STATUS_SUCCESS) return st;
  if (!valid_dim8(k) || !valid_dim8(n)) return MARLIN_STATUS_INVALID_SHAPE;
  const int bits = info.bits, has_zero = info.has_zero;
  int64_t groups = marlin_ref_scheme_groups(info.groups, k, group_size);
  if (groups == 0) return MARLIN_STATUS_INVALID_GROUP;
  int64_t kp = roundup(k, 16), np = roundup(n, 64);
  sizes->weights = (size_t)(kp / 16) * (size_t)(bits / 2 * np) * 4u; /* 2*Np or 4*Np words */
  sizes->scales = (size_t)groups * (size_t)np * 2u;
  sizes->zeros = has_zero ? (size_t)groups * (size_t)(np / 8) * 4u : 0u;
  return MARLIN_STATUS_SUCCESS;
}

/* ---- weights ------------------------------------------------------------------------ */

/* Row within the 16-row tile, for nibble i (4-bit) and byte b (8-bit). */
static const int nib_row[8] = {0, 8, 0, 8, 1, 9, 1, 9};
static const int nib_col[8] = {0, 0, 8, 8, 0, 0, 8, 8};
static const int byte_row[4] = {0, 8, 1, 9};

/* Shape of a packed weight tensor. */
typedef struct {
  int bits;
  int64_t k, n, kp, np;
} layout_geom;

static void geom_init(layout_geom *g, int bits, int64_t k, int64_t n) {
  g->bits = bits;
  g->k = k;
  g->n = n;
  g->kp = roundup(k, 16);
  g->np = roundup(n, 64);
}

/* Position of slot `s` (nibble for 4-bit, byte for 8-bit) of packed word
 * `wi`, as (row, column) of the padded Kp x Np code matrix. */
static void slot_position(const layout_geom *g, int64_t wi, int s, int64_t *row, int64_t *col) {
  if (g->bits == 4) {
    int64_t row_words = 2 * g->np;
    int64_t kt = wi / row_words, in_row = wi % row_words;
    int64_t nb = in_row / 128, in_blk = in_row % 128;
    int l = (int)(in_blk / 4), j = (int)(in_blk % 4);
    int r0 = 2 * (l % 4), c = l / 4;
    *row = 16 * kt + r0 + nib_row[s];
    *col = 64 * nb + 16 * j + c + nib_col[s];
  } else {
    int64_t row_words = 4 * g->np;
    int64_t kt = wi / row_words, in_row = wi % row_words;
    int64_t nb = in_row / 256, in_blk = in_row % 256;
    int l = (int)(in_blk / 8), j = (int)((in_blk % 8) / 2), h = (int)(in_blk % 2);
    int r0 = 2 * (l % 4), c = l / 4;
    *row = 16 * kt + r0 + byte_row[s];
    *col = 64 * nb + 16 * j + c + 8 * h;
  }
}

static marlin_status check_weights(marlin_scheme scheme, const void *in, const void *out,
                                   int64_t k, int64_t n, int *bits) {
  ref_scheme_info info;
  if (!in || !out) return MARLIN_STATUS_NULL_POINTER;
  marlin_status st = marlin_ref_scheme(scheme, &info);
  if (st != MARLIN_STATUS_SUCCESS) return st;
  *bits = info.bits;
  if (!valid_dim8(k) || !valid_dim8(n)) return MARLIN_STATUS_INVALID_SHAPE;
  return MARLIN_STATUS_SUCCESS;
}

marlin_status marlin_ref_pack_weights(marlin_scheme scheme, const uint8_t *codes, int64_t k,
                                      int64_t n, const int32_t *perm, void *packed) {
  int bits = 0;
  marlin_status st = check_weights(scheme, codes, packed, k, n, &bits);
  if (st != MARLIN_STATUS_SUCCESS) return st;
  const unsigned qmax = (1u << bits) - 1u;
  for (int64_t i = 0; i < k * n; i++)
    if (codes[i] > qmax) return MARLIN_STATUS_INVALID_VALUE;
  if (perm)
    for (int64_t r = 0; r < k; r++)
      if (perm[r] < 0 || perm[r] >= k) return MARLIN_STATUS_INVALID_VALUE;

  layout_geom g;
  geom_init(&g, bits, k, n);
  const int slots = 32 / bits;
  const int64_t words = g.kp / 16 * (bits / 2) * g.np;
  uint32_t *out = (uint32_t *)packed;
  for (int64_t wi = 0; wi < words; wi++) {
    uint32_t word = 0;
    for (int s = 0; s < slots; s++) {
      int64_t row, col;
      slot_position(&g, wi, s, &row, &col);
      if (row < k && col < n) {
        int64_t src = perm ? perm[row] : row;
        word |= (uint32_t)codes[src * n + col] << (bits * s);
      }
    }
    out[wi] = word;
  }
  return MARLIN_STATUS_SUCCESS;
}

marlin_status marlin_ref_unpack_weights(marlin_scheme scheme, const void *packed, int64_t k,
                                        int64_t n, uint8_t *codes) {
  int bits = 0;
  marlin_status st = check_weights(scheme, packed, codes, k, n, &bits);
  if (st != MARLIN_STATUS_SUCCESS) return st;

  layout_geom g;
  geom_init(&g, bits, k, n);
  const int slots = 32 / bits;
  const uint32_t mask = (1u << bits) - 1u;
  const int64_t words = g.kp / 16 * (bits / 2) * g.np;
  const uint32_t *in = (const uint32_t *)packed;
  for (int64_t wi = 0; wi < words; wi++) {
    uint32_t word = in[wi];
    for (int s = 0; s < slots; s++) {
      int64_t row, col;
      slot_position(&g, wi, s, &row, &col);
      if (row < k && col < n) codes[row * n + col] = (uint8_t)((word >> (bits * s)) & mask);
    }
  }
  return MARLIN_STATUS_SUCCESS;
}

/* ---- scales and zero points ------------------------------------------------------------ */

static marlin_status check_gn(const void *in, const void *out, int64_t groups, int64_t n) {
  if (!in || !out) return MARLIN_STATUS_NULL_POINTER;
  if (groups <= 0 || groups > INT32_MAX || !valid_dim8(n)) return MARLIN_STATUS_INVALID_SHAPE;
  return MARLIN_STATUS_SUCCESS;
}

/* Column held at position p (0..Np-1) of a packed scale row: 64nb + 8i + t
 * holds 64nb + i + 8t. The map is its own inverse. */
static int64_t scale_col(int64_t p) { return p / 64 * 64 + (p % 8) * 8 + (p % 64) / 8; }

marlin_status marlin_ref_pack_scales(const uint16_t *scales, int64_t groups, int64_t n,
                                     uint16_t *packed) {
  marlin_status st = check_gn(scales, packed, groups, n);
  if (st != MARLIN_STATUS_SUCCESS) return st;
  const int64_t np = roundup(n, 64);
  for (int64_t g = 0; g < groups; g++)
    for (int64_t p = 0; p < np; p++) {
      int64_t col = scale_col(p);
      packed[g * np + p] = col < n ? scales[g * n + col] : 0;
    }
  return MARLIN_STATUS_SUCCESS;
}

marlin_status marlin_ref_unpack_scales(const uint16_t *packed, int64_t groups, int64_t n,
                                       uint16_t *scales) {
  marlin_status st = check_gn(packed, scales, groups, n);
  if (st != MARLIN_STATUS_SUCCESS) return st;
  const int64_t np = roundup(n, 64);
  for (int64_t g = 0; g < groups; g++)
    for (int64_t p = 0; p < np; p++) {
      int64_t col = scale_col(p);
      if (col < n) scales[g * n + col] = packed[g * np + p];
    }
  return MARLIN_STATUS_SUCCESS;
}

marlin_status marlin_ref_pack_zeros(const uint8_t *zeros, int64_t groups, int64_t n,
                                    int32_t *packed) {
  marlin_status st = check_gn(zeros, packed, groups, n);
  if (st != MARLIN_STATUS_SUCCESS) return st;
  for (int64_t i = 0; i < groups * n; i++)
    if (zeros[i] > 15u) return MARLIN_STATUS_INVALID_VALUE;
  const int64_t words = roundup(n, 64) / 8;
  uint32_t *out = (uint32_t *)packed;
  for (int64_t g = 0; g < groups; g++)
    for (int64_t wi = 0; wi < words; wi++) {
      int64_t nb = wi / 8, i = wi % 8;
      uint32_t word = 0;
      for (int t = 0; t < 8; t++) {
        int64_t col = 64 * nb + i + 8 * t;
        if (col < n) word |= (uint32_t)zeros[g * n + col] << (4 * t);
      }
      out[g * words + wi] = word;
    }
  return MARLIN_STATUS_SUCCESS;
}

marlin_status marlin_ref_unpack_zeros(const int32_t *packed, int64_t groups, int64_t n,
                                      uint8_t *zeros) {
  marlin_status st = check_gn(packed, zeros, groups, n);
  if (st != MARLIN_STATUS_SUCCESS) return st;
  const int64_t words = roundup(n, 64) / 8;
  const uint32_t *in = (const uint32_t *)packed;
  for (int64_t g = 0; g < groups; g++)
    for (int64_t wi = 0; wi < words; wi++) {
      int64_t nb = wi / 8, i = wi % 8;
      uint32_t word = in[g * words + wi];
      for (int t = 0; t < 8; t++) {
        int64_t col = 64 * nb + i + 8 * t;
        if (col < n) zeros[g * n + col] = (uint8_t)((word >> (4 * t)) & 0xfu);
      }
    }
  return MARLIN_STATUS_SUCCESS;
}
