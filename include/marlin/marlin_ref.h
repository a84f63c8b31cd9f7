/* marlin CPU reference: quantizers, checkpoint packers, the packed-layout
 * packer/unpacker and a reference GEMM. Plain C11, no GPU needed: this is what
 * every GPU test compares against, and what a user without a GPU can use to
 * prepare weights. Layouts: docs/layout.md.
 *
 * Matrices are row-major. Weights are k x n (W[k][n], the transpose of
 * nn.Linear.weight). Codes are one byte per element (uint8_t, k x n). Scales
 * and zero points are g x n with g = marlin_ref_num_groups(k, group_size).
 * 16-bit floats are passed as their bit patterns (uint16_t) together with a
 * marlin_dtype (MARLIN_DTYPE_FP16 or MARLIN_DTYPE_BF16).
 *
 * Every function returns MARLIN_STATUS_SUCCESS, or a status for bad arguments
 * (NULL pointers, sizes, group sizes, schemes) without touching outputs.
 */
#ifndef MARLIN_MARLIN_REF_H
#define MARLIN_MARLIN_REF_H

#include "marlin/marlin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- 16-bit floats ------------------------------------------------------- */

/* Round-to-nearest-even conversion of a float to fp16 / bf16 bits (dtype
 * MARLIN_DTYPE_FP16 or _BF16), and back. NaN stays NaN, overflow gives Inf. */
MARLIN_API uint16_t marlin_ref_float_to_half(float x, marlin_dtype dtype);
MARLIN_API float marlin_ref_half_to_float(uint16_t h, marlin_dtype dtype);

/* ---- groups and act-order ---------------------------------------------------- */

/* Number of scale groups: 1 for group_size -1 (or == k), else k / group_size;
 * 0 if group_size is invalid (not -1 and not a positive divisor of k). */
MARLIN_API int64_t marlin_ref_num_groups(int64_t k, int32_t group_size);

/* perm = stable argsort(g_idx) (k entries); sorted_g_idx[r] = g_idx[perm[r]]
 * (may be NULL). */
MARLIN_API marlin_status marlin_ref_act_order_perm(const int32_t *g_idx, int64_t k, int32_t *perm,
                                                   int32_t *sorted_g_idx);

/* ---- quantizers ------------------------------------------------------------ */

/* Quantizes w (k x n floats) for scheme (gptq4, gptq8, awq4).
 * g_idx: NULL (group of row r = r / group_size), or the group of each row
 * (act-order; any assignment with groups < num_groups).
 * Outputs: codes (k x n), scales (g x n, 16-bit of dtype), zeros (g x n codes,
 * awq4 only; NULL otherwise).
 *   gptq4/gptq8 (symmetric): s = max|w| / (2^(bits-1) - 1/2), q = clamp(round(w/s) + 2^(bits-1));
 *   awq4 (asymmetric): s = max(max - min, 1e-5) / 15, z = clamp(round(-min / s), 0, 15),
 *                      q = clamp(round(w / s) + z, 0, 15).
 * Scales are rounded to dtype before the codes are computed, so dequantizing
 * with the stored scales is the closest representable weight. */
MARLIN_API marlin_status marlin_ref_quantize(marlin_scheme scheme, marlin_dtype dtype,
                                             const float *w, int64_t k, int64_t n,
                                             int32_t group_size, const int32_t *g_idx,
                                             uint8_t *codes, uint16_t *scales, uint8_t *zeros);

/* Dequantizes codes into w (k x n floats) with the value rules of
 * docs/layout.md; g_idx as for marlin_ref_quantize. */
MARLIN_API marlin_status marlin_ref_dequantize(marlin_scheme scheme, marlin_dtype dtype,
                                               const uint8_t *codes, const uint16_t *scales,
                                               const uint8_t *zeros, int64_t k, int64_t n,
                                               int32_t group_size, const int32_t *g_idx,
                                               float *w);

/* ---- checkpoint layouts --------------------------------------------------------- */

/* GPTQ qweight: int32 [k*bits/32][n]; bits 4 or 8 (k % (32/bits) == 0). */
MARLIN_API marlin_status marlin_ref_gptq_pack(const uint8_t *codes, int64_t k, int64_t n, int bits,
                                              int32_t *qweight);
MARLIN_API marlin_status marlin_ref_gptq_unpack(const int32_t *qweight, int64_t k, int64_t n,
                                                int bits, uint8_t *codes);
/* AWQ qweight/qzeros: int32 [rows][n/8] in AWQ nibble order (n % 8 == 0). */
MARLIN_API marlin_status marlin_ref_awq_pack(const uint8_t *codes, int64_t rows, int64_t n,
                                             int32_t *packed);
MARLIN_API marlin_status marlin_ref_awq_unpack(const int32_t *packed, int64_t rows, int64_t n,
                                               uint8_t *codes);

/* ---- marlin's packed layout (docs/layout.md) ------------------------------------- */

/* Sizes in bytes; same as marlin_get_packed_sizes. */
MARLIN_API marlin_status marlin_ref_packed_sizes(marlin_scheme scheme, int64_t k, int64_t n,
                                                 int32_t group_size, marlin_packed_sizes *sizes);

/* codes (k x n) -> packed weights. perm: NULL, or act-order row order
 * (packed row r = codes row perm[r]). Padding is written as 0. */
MARLIN_API marlin_status marlin_ref_pack_weights(marlin_scheme scheme, const uint8_t *codes,
                                                 int64_t k, int64_t n, const int32_t *perm,
                                                 void *packed);
/* packed weights -> codes (k x n), in packed row order (inverse of pack with perm NULL). */
MARLIN_API marlin_status marlin_ref_unpack_weights(marlin_scheme scheme, const void *packed,
                                                   int64_t k, int64_t n, uint8_t *codes);
/* scales (g x n, 16-bit) <-> packed scales (g x Np). */
MARLIN_API marlin_status marlin_ref_pack_scales(const uint16_t *scales, int64_t groups, int64_t n,
                                                uint16_t *packed);
MARLIN_API marlin_status marlin_ref_unpack_scales(const uint16_t *packed, int64_t groups, int64_t n,
                                                  uint16_t *scales);
/* zero-point codes (g x n) <-> packed zero points (int32 g x Np/8). */
MARLIN_API marlin_status marlin_ref_pack_zeros(const uint8_t *zeros, int64_t groups, int64_t n,
                                               int32_t *packed);
MARLIN_API marlin_status marlin_ref_unpack_zeros(const int32_t *packed, int64_t groups, int64_t n,
                                                 uint8_t *zeros);

/* ---- reference GEMM ----------------------------------------------------------- */

/* c[m][n] = sum_k a[m*lda + k] * w[k][n] (+ bias[n]), accumulated in double.
 * bias may be NULL. Rows of c are n apart. */
MARLIN_API marlin_status marlin_ref_gemm(const float *a, int64_t lda, const float *w,
                                         const float *bias, int64_t m, int64_t n, int64_t k,
                                         double *c);

#ifdef __cplusplus
}
#endif

#endif /* MARLIN_MARLIN_REF_H */
