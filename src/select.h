/* Run-time kernel selection for the dense GEMM (internal). */
#ifndef MARLIN_SRC_SELECT_H
#define MARLIN_SRC_SELECT_H

#include "marlin/kernel/plan.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct marlin_device_info {
  int sms;      /* multiprocessors                              */
  int max_smem; /* opt-in shared memory per block, bytes        */
  int arch;     /* compute capability x10                       */
  int wgmma;    /* the WGMMA configs may be chosen: the kernel found
                   is an sm_90a build and the problem has no per-row
                   groups (set by marlin_gemm, not by the query)      */
  int column;   /* the COLUMN configs may be chosen: no per-row groups
                   (set by marlin_gemm)                                */
} marlin_device_info;

/* Chooses the tile config (the one with the lowest estimated time among the
 * MMA configs, and the WGMMA ones when dev->wgmma; forced_config >= 0 forces one), the K split and the workspace layout for an
 * m x n x k problem with bits-wide weights, with zero points when zeros is
 * non-zero (AWQ, HQQ: the column rule differs). act_order_copy: room for a
 * permuted copy of A (m x k 16-bit) is reserved. Fails with
 * MARLIN_STATUS_INVALID_VALUE if the forced config (or, unforced, every
 * config) does not fit the device's shared memory or the problem is too
 * large for the 32-bit stripe arithmetic, or a forced WGMMA config without
 * dev->wgmma. */
marlin_status marlin_dense_select(int64_t m, int64_t n, int64_t k, int bits, int zeros, int act_order_copy,
                                  const marlin_device_info *dev, int forced_config,
                                  marlin_dense_plan *plan);

#ifdef __cplusplus
}
#endif

#endif
