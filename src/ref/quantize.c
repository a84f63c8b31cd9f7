/* marlin CPU reference: groups, act-order permutation, quantizers.
 *
 * Value rules: docs/layout.md ("Values"). Only gptq4, gptq8 and awq4 have a
 * reference quantizer; the other schemes of schemes.def give
 * MARLIN_STATUS_NOT_IMPLEMENTED. No allocation (work is done in column chunks
 * with stack scratch) and no libm (rounding is done here, ties to even). */
#include <stddef.h>
#include <stdint.h>

#include "marlin/marlin_ref.h"
#include "scheme.h"

/* Columns processed at once by the quantizer (stack scratch). */
#define REF_CHUNK 256

/* ---- scheme table (declared in scheme.h) ----------------------------------- */

marlin_status marlin_ref_scheme(marlin_scheme scheme, ref_scheme_info *info) {
  switch (scheme) {
#define MARLIN_SCHEME(ID, name, value, bits_, zero, scale, groups_, ...)                           \
  case MARLIN_SCHEME_##ID:                                                                         \
    info->bits = bits_;                                                                            \
    info->groups = groups_;                                                                        \
    break;
#include "marlin/schemes.def"
#undef MARLIN_SCHEME
  default:
    return MARLIN_STATUS_INVALID_SCHEME;
  }
  switch (scheme) {
  case MARLIN_SCHEME_GPTQ4:
  case MARLIN_SCHEME_GPTQ8:
    info->has_zero = 0;
    return MARLIN_STATUS_SUCCESS;
  case MARLIN_SCHEME_AWQ4:
    info->has_zero = 1;
    return MARLIN_STATUS_SUCCESS;
  default:
    return MARLIN_STATUS_NOT_IMPLEMENTED;
  }
}

int64_t marlin_ref_scheme_groups(uint32_t allowed, int64_t k, int32_t group_size) {
  if (group_size == -1 || (int64_t)group_size == k) return (allowed & MARLIN_G_CHANNEL) ? 1 : 0;
  uint32_t bit = 0;
  switch (group_size) {
  case 16: bit = MARLIN_G_16; break;
  case 32: bit = MARLIN_G_32; break;
  case 64: bit = MARLIN_G_64; break;
  case 128: bit = MARLIN_G_128; break;
  default: return 0;
  }
  if (!(allowed & bit) || k % group_size != 0) return 0;
  return k / group_size;
}

static int valid_dtype(marlin_dtype dtype) {
  return dtype == MARLIN_DTYPE_FP16 || dtype == MARLIN_DTYPE_BF16;
}

static int valid_dim(int64_t d) { return d > 0 && d <= INT32_MAX; }

/* ---- groups and act-order -------------------------------------------------------- */

int64_t marlin_ref_num_groups(int64_t k, int32_t group_size) {
  if (k <= 0) return 0;
  if (group_size == -1) return 1;
  if (group_size <= 0 || k % group_size != 0) return 0;
  return k / group_size;
}

/* Key order of the stable argsort: (g_idx[i], i). Distinct for distinct i,
 * so an unstable in-place heapsort gives the stable order. */
static int key_less(const int32_t *g, int32_t a, int32_t b) {
  return g[a] < g[b] || (g[a] == g[b] && a < b);
}

static void sift_down(const int32_t *g, int32_t *p, int64_t root, int64_t end) {
  for (;;) {
    int64_t child = 2 * root + 1;
    if (child >= end) return;
    if (child + 1 < end && key_less(g, p[child], p[child + 1])) child++;
    if (!key_less(g, p[root], p[child])) return;
    int32_t t = p[root];
    p[root] = p[child];
    p[child] = t;
    root = child;
  }
}

marlin_status marlin_ref_act_order_perm(const int32_t *g_idx, int64_t k, int32_t *perm,
                                        int32_t *sorted_g_idx) {
  if (!g_idx || !perm) return MARLIN_STATUS_NULL_POINTER;
  if (!valid_dim(k)) return MARLIN_STATUS_INVALID_SHAPE;
  for (int64_t i = 0; i < k; i++) perm[i] = (int32_t)i;
  for (int64_t i = k / 2; i-- > 0;) sift_down(g_idx, perm, i, k);
  for (int64_t end = k - 1; end > 0; end--) {
    int32_t t = perm[0];
    perm[0] = perm[end];
    perm[end] = t;
    sift_down(g_idx, perm, 0, end);
  }
  if (sorted_g_idx)
    for (int64_t i = 0; i < k; i++) sorted_g_idx[i] = g_idx[perm[i]];
  return MARLIN_STATUS_SUCCESS;
}

/* ---- shared validation --------------------------------------------------------- */

/* Checks scheme, dtype, shape and group; *groups receives G. */
static marlin_status check_common(marlin_scheme scheme, marlin_dtype dtype, int64_t k, int64_t n,
                                  int32_t group_size, const int32_t *g_idx,
                                  ref_scheme_info *info, int64_t *groups) {
  marlin_status st = marlin_ref_scheme(scheme, info);
  if (st != MARLIN_STATUS_SUCCESS) return st;
  if (!valid_dtype(dtype)) return MARLIN_STATUS_INVALID_DTYPE;
  if (!valid_dim(k) || !valid_dim(n)) return MARLIN_STATUS_INVALID_SHAPE;
  *groups = marlin_ref_scheme_groups(info->groups, k, group_size);
  if (*groups == 0) return MARLIN_STATUS_INVALID_GROUP;
  if (g_idx) {
    if (!(info->groups & MARLIN_G_ACT_ORDER)) return MARLIN_STATUS_INVALID_GROUP;
    for (int64_t r = 0; r < k; r++)
      if (g_idx[r] < 0 || g_idx[r] >= *groups) return MARLIN_STATUS_INVALID_GROUP;
  }
  return MARLIN_STATUS_SUCCESS;
}

static int64_t row_group(int64_t r, int64_t groups, int32_t group_size, const int32_t *g_idx) {
  if (g_idx) return g_idx[r];
  if (groups == 1) return 0;
  return r / group_size;
}

/* Round half to even, independent of the FPU rounding mode. NaN, Inf and
 * values beyond 2^52 (already integers) are returned unchanged. */
static double round_even(double x) {
  if (!(x < 4503599627370496.0 && x > -4503599627370496.0)) return x;
  double t = (double)(int64_t)x; /* truncated toward zero */
  double f = x - t;               /* exact */
  if (f > 0.5 || (f == 0.5 && ((int64_t)t & 1))) t += 1.0;
  else if (f < -0.5 || (f == -0.5 && ((int64_t)t & 1))) t -= 1.0;
  return t;
}

/* Rounds a positive scale to dtype; saturates at the largest finite value. */
static uint16_t round_scale(double s, marlin_dtype dtype) {
  const int bf16 = dtype == MARLIN_DTYPE_BF16;
  uint16_t h = marlin_ref_float_to_half((float)s, dtype);
  if (h == (bf16 ? 0x7f80u : 0x7c00u)) h = bf16 ? 0x7f7fu : 0x7bffu; /* +Inf -> max finite */
  return h;
}

static double clamp_code(double q, double hi) {
  if (!(q >= 0.0)) return 0.0; /* also NaN */
  if (q > hi) return hi;
  return q;
}

/* ---- quantizer ------------------------------------------------------------------ */

marlin_status marlin_ref_quantize(marlin_scheme scheme, marlin_dtype dtype, const float *w,
                                  int64_t k, int64_t n, int32_t group_size, const int32_t *g_idx,
                                  uint8_t *codes, uint16_t *scales, uint8_t *zeros) {
  ref_scheme_info info;
  int64_t groups = 0;
  if (!w || !codes || !scales) return MARLIN_STATUS_NULL_POINTER;
  marlin_status st = marlin_ref_scheme(scheme, &info);
  if (st != MARLIN_STATUS_SUCCESS) return st;
  if (info.has_zero && !zeros) return MARLIN_STATUS_NULL_POINTER;
  st = check_common(scheme, dtype, k, n, group_size, g_idx, &info, &groups);
  if (st != MARLIN_STATUS_SUCCESS) return st;

  const double qmax = (double)((1 << info.bits) - 1);
  const double bias = (double)(1 << (info.bits - 1));
  const double sym_div = bias - 0.5; /* 7.5 or 127.5 */
  float hi[REF_CHUNK], lo[REF_CHUNK];
  double sv[REF_CHUNK], zv[REF_CHUNK];

  for (int64_t c0 = 0; c0 < n; c0 += REF_CHUNK) {
    int64_t nc = (n - c0 < REF_CHUNK) ? n - c0 : REF_CHUNK;
    for (int64_t g = 0; g < groups; g++) {
      /* rows of group g: contiguous without g_idx, scattered with it */
      int64_t r_begin = 0, r_end = k;
      if (!g_idx && groups > 1) {
        r_begin = g * group_size;
        r_end = r_begin + group_size;
      }
      for (int64_t j = 0; j < nc; j++) hi[j] = lo[j] = 0.0f; /* range always includes 0 */
      for (int64_t r = r_begin; r < r_end; r++) {
        if (row_group(r, groups, group_size, g_idx) != g) continue;
        const float *wr = w + r * n + c0;
        for (int64_t j = 0; j < nc; j++) {
          if (info.has_zero) {
            if (wr[j] > hi[j]) hi[j] = wr[j];
            if (wr[j] < lo[j]) lo[j] = wr[j];
          } else {
            float a = wr[j] < 0.0f ? -wr[j] : wr[j];
            if (a > hi[j]) hi[j] = a;
          }
        }
      }
      for (int64_t j = 0; j < nc; j++) {
        uint16_t sh;
        if (info.has_zero) {
          double range = (double)hi[j] - (double)lo[j];
          if (!(range >= 1e-5)) range = 1e-5;
          sh = round_scale(range / qmax, dtype);
          sv[j] = marlin_ref_half_to_float(sh, dtype);
          zv[j] = clamp_code(round_even(-(double)lo[j] / sv[j]), qmax);
          zeros[g * n + c0 + j] = (uint8_t)zv[j];
        } else {
          sh = round_scale((double)hi[j] / sym_div, dtype);
          sv[j] = marlin_ref_half_to_float(sh, dtype);
          zv[j] = bias;
        }
        scales[g * n + c0 + j] = sh;
      }
      for (int64_t r = r_begin; r < r_end; r++) {
        if (row_group(r, groups, group_size, g_idx) != g) continue;
        const float *wr = w + r * n + c0;
        uint8_t *qr = codes + r * n + c0;
        for (int64_t j = 0; j < nc; j++) {
          double q = (sv[j] > 0.0) ? round_even((double)wr[j] / sv[j]) + zv[j] : zv[j];
          qr[j] = (uint8_t)clamp_code(q, qmax);
        }
      }
    }
  }
  return MARLIN_STATUS_SUCCESS;
}

marlin_status marlin_ref_dequantize(marlin_scheme scheme, marlin_dtype dtype,
                                    const uint8_t *codes, const uint16_t *scales,
                                    const uint8_t *zeros, int64_t k, int64_t n,
                                    int32_t group_size, const int32_t *g_idx, float *w) {
  ref_scheme_info info;
  int64_t groups = 0;
  if (!codes || !scales || !w) return MARLIN_STATUS_NULL_POINTER;
  marlin_status st = marlin_ref_scheme(scheme, &info);
  if (st != MARLIN_STATUS_SUCCESS) return st;
  if (info.has_zero && !zeros) return MARLIN_STATUS_NULL_POINTER;
  st = check_common(scheme, dtype, k, n, group_size, g_idx, &info, &groups);
  if (st != MARLIN_STATUS_SUCCESS) return st;

  const unsigned qmax = (1u << info.bits) - 1u;
  for (int64_t i = 0; i < k * n; i++)
    if (codes[i] > qmax) return MARLIN_STATUS_INVALID_VALUE;
  if (info.has_zero)
    for (int64_t i = 0; i < groups * n; i++)
      if (zeros[i] > qmax) return MARLIN_STATUS_INVALID_VALUE;

  const int bias = 1 << (info.bits - 1);
  for (int64_t r = 0; r < k; r++) {
    int64_t g = row_group(r, groups, group_size, g_idx);
    for (int64_t c = 0; c < n; c++) {
      int z = info.has_zero ? (int)zeros[g * n + c] : bias;
      double s = marlin_ref_half_to_float(scales[g * n + c], dtype);
      /* (q - z) has <= 9 significant bits and s <= 11: the product is exact */
      w[r * n + c] = (float)((double)((int)codes[r * n + c] - z) * s);
    }
  }
  return MARLIN_STATUS_SUCCESS;
}
