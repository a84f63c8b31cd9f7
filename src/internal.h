/* Internal helpers of the C driver (not installed). */
#ifndef MARLIN_SRC_INTERNAL_H
#define MARLIN_SRC_INTERNAL_H

#include <stdint.h>

#include "marlin/marlin.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define MARLIN_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define MARLIN_PRINTF(f, a)
#endif

/* Records a formatted message for marlin_last_error() on this thread and
 * returns status. */
marlin_status marlin_fail(marlin_status status, const char *fmt, ...) MARLIN_PRINTF(2, 3);
/* Records a CUDA failure (cudaError_t value err during `what`) and returns
 * MARLIN_STATUS_CUDA_ERROR. */
marlin_status marlin_fail_cuda(int err, const char *what);
/* Clears this thread's message; every public entry point calls it first. */
void marlin_clear_error(void);

/* One row of include/marlin/schemes.def. */
typedef enum { MARLIN_ZERO_NONE, MARLIN_ZERO_INT, MARLIN_ZERO_FLOAT } marlin_zero_kind;
typedef enum { MARLIN_SCALE_ACT, MARLIN_SCALE_E4M3, MARLIN_SCALE_E8M0 } marlin_scale_kind;
typedef struct marlin_scheme_info {
  marlin_scheme id;
  const char *name;
  int bits;
  marlin_zero_kind zero;
  marlin_scale_kind scale;
  uint32_t groups;      /* MARLIN_G_* */
  uint32_t acts;        /* MARLIN_A_* */
  uint32_t kernel_acts; /* MARLIN_A_* */
  int min_arch;
} marlin_scheme_info;

/* NULL for an unknown scheme. */
const marlin_scheme_info *marlin_scheme_info_get(marlin_scheme scheme);
/* MARLIN_A_* bit of an activation dtype, 0 if not an activation dtype. */
uint32_t marlin_act_bit(marlin_dtype dtype);

/* group_size -1 (or == k) is channelwise; otherwise one of the scheme's group
 * sizes dividing k. `what` names the argument in the message. */
marlin_status marlin_check_group(const marlin_scheme_info *s, int64_t k, int32_t group_size,
                                 const char *what, int *channelwise);

/* Validates a GEMM description (and args when non-NULL) and options (NULL =
 * defaults): every check of docs/api.md, one status per kind of error, with a
 * message. Does not look at the GPU. */
marlin_status marlin_check_gemm(const marlin_gemm_desc *desc, const marlin_gemm_args *args,
                                const marlin_options *options);

#ifdef __cplusplus
}
#endif

#endif
