/* marlin CPU reference GEMM: c = a * w (+ bias), accumulated in double.
 *
 * Every product of two floats is exact in double; the sum runs over k in
 * increasing order, then the bias is added. */
#include <stddef.h>
#include <stdint.h>

#include "marlin/marlin_ref.h"

marlin_status marlin_ref_gemm(const float *a, int64_t lda, const float *w, const float *bias,
                              int64_t m, int64_t n, int64_t k, double *c) {
  if (!a || !w || !c) return MARLIN_STATUS_NULL_POINTER;
  if (m < 0 || n <= 0 || k <= 0 || lda < k) return MARLIN_STATUS_INVALID_SHAPE;
  for (int64_t i = 0; i < m; i++) {
    double *ci = c + i * n;
    const float *ai = a + i * lda;
    for (int64_t j = 0; j < n; j++) ci[j] = 0.0;
    for (int64_t kk = 0; kk < k; kk++) {
      const double av = ai[kk];
      const float *wk = w + kk * n;
      for (int64_t j = 0; j < n; j++) ci[j] += av * (double)wk[j];
    }
    if (bias)
      for (int64_t j = 0; j < n; j++) ci[j] += (double)bias[j];
  }
  return MARLIN_STATUS_SUCCESS;
}
