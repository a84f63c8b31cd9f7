/* Launchers of the small helper kernels in src/repack.cu (internal). */
#ifndef MARLIN_SRC_LAUNCH_H
#define MARLIN_SRC_LAUNCH_H

#include "marlin/kernel/plan.h"

#ifdef __cplusplus
extern "C" {
#endif

/* out[r][i] = a[r][perm[i]] for r < m, i < k (16-bit elements); returns a cudaError_t. */
int marlin_launch_permute_cols(const void *a, int64_t lda, const int32_t *perm, int64_t m,
                               int64_t k, void *out, int64_t ldo, cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif
