/* Internal to the CPU reference (src/ref/): the scheme facts it needs, read
 * from include/marlin/schemes.def, shared by quantize.c and layout.c. */
#ifndef MARLIN_SRC_REF_SCHEME_H
#define MARLIN_SRC_REF_SCHEME_H

#include <stdint.h>

#include "marlin/marlin.h"

typedef struct {
  int bits;
  int has_zero;    /* integer zero point per (group, column) */
  uint32_t groups; /* MARLIN_G_* */
} ref_scheme_info;

/* The schemes with a reference (gptq4, gptq8, awq4): SUCCESS; other table
 * rows: NOT_IMPLEMENTED; unknown values: INVALID_SCHEME. */
marlin_status marlin_ref_scheme(marlin_scheme scheme, ref_scheme_info *info);

/* Number of groups for a group size the scheme allows (-1 or k: 1), else 0. */
int64_t marlin_ref_scheme_groups(uint32_t allowed, int64_t k, int32_t group_size);

#endif
