/* marlin C API: status strings, per-thread error messages, version and build
 * introspection, scheme/dtype tables, options, packed sizes, the MoE stubs and
 * the argument validation of a GEMM request (marlin_check_gemm).
 *
 * The GEMM launch (src/gemm.c), kernel selection (src/select.c) and the GPU
 * repack (src/repack.cu) live elsewhere; they call marlin_check_gemm and the
 * error helpers declared in src/internal.h.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cuda_runtime_api.h>

#include "internal.h"
#include "marlin/kernel/plan.h" /* MARLIN_TILE_CONFIG_COUNT */
#include "marlin/marlin.h"
#include "marlin/marlin_ref.h"

/* MARLIN_BUILD_CONFIG_STRING from the generated dispatch table; its kernel
 * rows are not needed here. */
#define MARLIN_DENSE_KERNEL(...)
#include "marlin_dispatch.inc"
#undef MARLIN_DENSE_KERNEL

#ifndef MARLIN_BUILD_CONFIG_STRING
#error "marlin_dispatch.inc did not define MARLIN_BUILD_CONFIG_STRING"
#endif

/* ---- status strings ------------------------------------------------------ */

const char *marlin_status_string(marlin_status status) {
  switch (status) {
  case MARLIN_STATUS_SUCCESS:
    return "success";
  case MARLIN_STATUS_NULL_POINTER:
    return "a required pointer argument is NULL";
  case MARLIN_STATUS_INVALID_SHAPE:
    return "invalid shape: m, n, k, lda or ldc out of range";
  case MARLIN_STATUS_MISALIGNED:
    return "a pointer or leading dimension is not aligned as required";
  case MARLIN_STATUS_INVALID_GROUP:
    return "group size not allowed for the scheme, or k not a multiple of it";
  case MARLIN_STATUS_INVALID_DTYPE:
    return "activation or output dtype not allowed for the scheme";
  case MARLIN_STATUS_INVALID_SCHEME:
    return "unknown weight scheme or checkpoint format";
  case MARLIN_STATUS_INVALID_VALUE:
    return "an argument is out of range";
  case MARLIN_STATUS_WORKSPACE_TOO_SMALL:
    return "workspace smaller than marlin_gemm_workspace_size() reported";
  case MARLIN_STATUS_NOT_COMPILED:
    return "this scheme/activation pair is not compiled into this marlin build: add the scheme "
           "to -Dschemes= and the activation to -Dacts=, then rebuild";
  case MARLIN_STATUS_ARCH_NOT_COMPILED:
    return "no kernel in this marlin build runs on this GPU's architecture: add the GPU's arch "
           "to -Darchs= (e.g. -Darchs=80,90a), then rebuild";
  case MARLIN_STATUS_NOT_IMPLEMENTED:
    return "valid request, but this version of marlin has no kernel for it";
  case MARLIN_STATUS_CUDA_ERROR:
    return "a CUDA runtime call failed (see marlin_last_cuda_error())";
  }
  return "unknown status";
}

/* ---- per-thread error state ---------------------------------------------- */

static _Thread_local char last_message[512];
static _Thread_local int last_cuda_error;

marlin_status marlin_fail(marlin_status status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_message, sizeof last_message, fmt, ap);
  va_end(ap);
  return status;
}

marlin_status marlin_fail_cuda(int err, const char *what) {
  last_cuda_error = err;
  const char *name = cudaGetErrorName((cudaError_t)err);
  const char *text = cudaGetErrorString((cudaError_t)err);
  snprintf(last_message, sizeof last_message, "%s failed: %s (%s, cudaError_t %d)",
           what ? what : "a CUDA call", text ? text : "unknown error", name ? name : "unknown",
           err);
  return MARLIN_STATUS_CUDA_ERROR;
}

void marlin_clear_error(void) {
  last_message[0] = '\0';
  last_cuda_error = 0;
}

const char *marlin_last_error(void) { return last_message; }

int marlin_last_cuda_error(void) { return last_cuda_error; }

/* ---- version and build --------------------------------------------------- */

#define MARLIN_STR_(x) #x
#define MARLIN_STR(x) MARLIN_STR_(x)

const char *marlin_version(void) {
  return MARLIN_STR(MARLIN_VERSION_MAJOR) "." MARLIN_STR(MARLIN_VERSION_MINOR) "." MARLIN_STR(
      MARLIN_VERSION_PATCH);
}

uint32_t marlin_version_number(void) { return (uint32_t)MARLIN_VERSION; }

const char *marlin_build_config(void) { return MARLIN_BUILD_CONFIG_STRING; }

/* ---- scheme and dtype tables --------------------------------------------- */

static const marlin_scheme_info scheme_table[] = {
#define MARLIN_SCHEME(ID, name, value, bits, zero, scale, groups, acts, kernel_acts, min_arch) \
  {MARLIN_SCHEME_##ID, name, bits, MARLIN_ZERO_##zero, MARLIN_SCALE_##scale, (uint32_t)(groups), \
   (uint32_t)(acts), (uint32_t)(kernel_acts), min_arch},
#include "marlin/schemes.def"
#undef MARLIN_SCHEME
};
#define SCHEME_COUNT (sizeof scheme_table / sizeof scheme_table[0])

typedef struct {
  marlin_dtype id;
  const char *name;
  uint32_t bit;
  int bytes;
} act_info;

static const act_info act_table[] = {
#define MARLIN_ACT(ID, name, value, bytes, min_arch) \
  {MARLIN_DTYPE_##ID, name, MARLIN_A_##ID, bytes},
#include "marlin/schemes.def"
#undef MARLIN_ACT
};
#define ACT_COUNT (sizeof act_table / sizeof act_table[0])

const marlin_scheme_info *marlin_scheme_info_get(marlin_scheme scheme) {
  for (size_t i = 0; i < SCHEME_COUNT; i++)
    if (scheme_table[i].id == scheme) return &scheme_table[i];
  return NULL;
}

static const act_info *act_info_get(marlin_dtype dtype) {
  for (size_t i = 0; i < ACT_COUNT; i++)
    if (act_table[i].id == dtype) return &act_table[i];
  return NULL;
}

uint32_t marlin_act_bit(marlin_dtype dtype) {
  const act_info *a = act_info_get(dtype);
  return a ? a->bit : 0;
}

const char *marlin_scheme_name(marlin_scheme scheme) {
  const marlin_scheme_info *s = marlin_scheme_info_get(scheme);
  return s ? s->name : NULL;
}

const char *marlin_dtype_name(marlin_dtype dtype) {
  if (dtype == MARLIN_DTYPE_FP32) return "fp32";
  const act_info *a = act_info_get(dtype);
  return a ? a->name : NULL;
}

/* "fp16, bf16" for an MARLIN_A_* mask. */
static void act_list(uint32_t mask, char *out, size_t size) {
  out[0] = '\0';
  for (size_t i = 0; i < ACT_COUNT; i++) {
    if (!(mask & act_table[i].bit)) continue;
    size_t len = strlen(out);
    snprintf(out + len, size - len, "%s%s", len ? ", " : "", act_table[i].name);
  }
}

/* "-1 (channelwise), 32, 64, 128" for a MARLIN_G_* mask. */
static void group_list(uint32_t mask, char *out, size_t size) {
  static const struct {
    uint32_t bit;
    const char *text;
  } g[] = {{MARLIN_G_CHANNEL, "-1 (channelwise)"},
           {MARLIN_G_16, "16"},
           {MARLIN_G_32, "32"},
           {MARLIN_G_64, "64"},
           {MARLIN_G_128, "128"}};
  out[0] = '\0';
  for (size_t i = 0; i < sizeof g / sizeof g[0]; i++) {
    if (!(mask & g[i].bit)) continue;
    size_t len = strlen(out);
    snprintf(out + len, size - len, "%s%s", len ? ", " : "", g[i].text);
  }
}

static const char *dtype_label(marlin_dtype d) {
  const char *name = marlin_dtype_name(d);
  return name ? name : "unknown";
}

/* ---- options ------------------------------------------------------------- */

void marlin_options_init(marlin_options *options) {
  if (!options) return;
  memset(options, 0, sizeof *options);
  options->struct_size = (uint32_t)sizeof *options;
  options->reduction = MARLIN_REDUCTION_DETERMINISTIC;
  options->max_sms = 0;
  options->tile_config = -1;
  options->programmatic_launch = 0;
}

static marlin_status check_options(const marlin_options *o) {
  if (!o) return MARLIN_STATUS_SUCCESS;
  if (o->struct_size != sizeof(marlin_options))
    return marlin_fail(MARLIN_STATUS_INVALID_VALUE,
                       "options->struct_size = %" PRIu32
                       " but this library's marlin_options has %zu bytes; fill options with "
                       "marlin_options_init()",
                       o->struct_size, sizeof(marlin_options));
  if (o->reduction != MARLIN_REDUCTION_DETERMINISTIC && o->reduction != MARLIN_REDUCTION_ATOMIC)
    return marlin_fail(MARLIN_STATUS_INVALID_VALUE,
                       "options->reduction = %d is not a marlin_reduction value",
                       (int)o->reduction);
  if (o->max_sms < 0)
    return marlin_fail(MARLIN_STATUS_INVALID_VALUE,
                       "options->max_sms = %" PRId32 " is negative (0 means all SMs)", o->max_sms);
  if (o->tile_config < -1 || o->tile_config >= MARLIN_TILE_CONFIG_COUNT)
    return marlin_fail(MARLIN_STATUS_INVALID_VALUE,
                       "options->tile_config = %" PRId32
                       " is out of range (-1 for automatic, or 0..%d)",
                       o->tile_config, MARLIN_TILE_CONFIG_COUNT - 1);
  if (o->programmatic_launch != 0 && o->programmatic_launch != 1)
    return marlin_fail(MARLIN_STATUS_INVALID_VALUE,
                       "options->programmatic_launch = %" PRId32 " must be 0 or 1",
                       o->programmatic_launch);
  return MARLIN_STATUS_SUCCESS;
}

/* ---- shared checks ------------------------------------------------------- */

static marlin_status check_scheme(marlin_scheme scheme, const char *what,
                                  const marlin_scheme_info **out) {
  *out = marlin_scheme_info_get(scheme);
  if (!*out)
    return marlin_fail(MARLIN_STATUS_INVALID_SCHEME, "%s = %d is not a marlin_scheme value", what,
                       (int)scheme);
  return MARLIN_STATUS_SUCCESS;
}

static marlin_status check_act(const marlin_scheme_info *s, marlin_dtype act, const char *what) {
  if (!(marlin_act_bit(act) & s->acts)) {
    char allowed[64];
    act_list(s->acts, allowed, sizeof allowed);
    return marlin_fail(MARLIN_STATUS_INVALID_DTYPE,
                       "%s = %d (%s) is not an activation dtype of scheme %s (allowed: %s)", what,
                       (int)act, dtype_label(act), s->name, allowed);
  }
  return MARLIN_STATUS_SUCCESS;
}

#define MARLIN_MAX_NK ((int64_t)INT32_MAX / 2)

static marlin_status check_nk(int64_t v, const char *what) {
  if (v <= 0)
    return marlin_fail(MARLIN_STATUS_INVALID_SHAPE, "%s = %" PRId64 " must be positive", what, v);
  if (v % 8)
    return marlin_fail(MARLIN_STATUS_INVALID_SHAPE, "%s = %" PRId64 " is not a multiple of 8", what,
                       v);
  if (v > MARLIN_MAX_NK)
    return marlin_fail(MARLIN_STATUS_INVALID_SHAPE, "%s = %" PRId64 " exceeds %" PRId64, what, v,
                       MARLIN_MAX_NK);
  return MARLIN_STATUS_SUCCESS;
}

/* Nonzero when group_size is one of the scheme's group sizes (16..128; the
 * channelwise -1 is not a size). */
static int has_group_size(const marlin_scheme_info *s, int32_t group_size) {
  static const struct {
    int32_t size;
    uint32_t bit;
  } sizes[] = {{16, MARLIN_G_16}, {32, MARLIN_G_32}, {64, MARLIN_G_64}, {128, MARLIN_G_128}};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
    if (sizes[i].size == group_size) return (s->groups & sizes[i].bit) != 0;
  return 0;
}

/* INVALID_GROUP for a group size the scheme does not have; the message lists them. */
static marlin_status fail_group_size(const marlin_scheme_info *s, int32_t group_size,
                                     const char *what) {
  char allowed[96];
  group_list(s->groups & ~MARLIN_G_ACT_ORDER, allowed, sizeof allowed);
  return marlin_fail(MARLIN_STATUS_INVALID_GROUP,
                     "%s = %" PRId32 " is not a group size of scheme %s (allowed: %s)", what,
                     group_size, s->name, allowed);
}

/* group_size -1, or equal to k, is channelwise; otherwise it must be one of
 * the scheme's group sizes and divide k. */
marlin_status marlin_check_group(const marlin_scheme_info *s, int64_t k, int32_t group_size,
                                 const char *what, int *channelwise) {
  *channelwise = group_size == -1 || (int64_t)group_size == k;
  if (has_group_size(s, group_size)) {
    if (k % group_size)
      return marlin_fail(MARLIN_STATUS_INVALID_GROUP,
                         "k = %" PRId64 " is not a multiple of %s = %" PRId32, k, what, group_size);
    return MARLIN_STATUS_SUCCESS;
  }
  if (*channelwise && (s->groups & MARLIN_G_CHANNEL)) return MARLIN_STATUS_SUCCESS;
  return fail_group_size(s, group_size, what);
}

/* ---- packed sizes -------------------------------------------------------- */

marlin_status marlin_get_packed_sizes(marlin_scheme scheme, marlin_dtype act_type, int64_t k,
                                      int64_t n, int32_t group_size, marlin_packed_sizes *sizes) {
  marlin_clear_error();
  const marlin_scheme_info *s;
  marlin_status st;
  int channelwise;
  if (!sizes) return marlin_fail(MARLIN_STATUS_NULL_POINTER, "sizes is NULL");
  if ((st = check_scheme(scheme, "scheme", &s))) return st;
  if ((st = check_act(s, act_type, "act_type"))) return st;
  if ((st = check_nk(k, "k"))) return st;
  if ((st = check_nk(n, "n"))) return st;
  if ((st = marlin_check_group(s, k, group_size, "group_size", &channelwise))) return st;
  st = marlin_ref_packed_sizes(scheme, k, n, group_size, sizes);
  if (st != MARLIN_STATUS_SUCCESS && marlin_last_error()[0] == '\0')
    marlin_fail(st,
                "marlin_ref_packed_sizes(%s, k = %" PRId64 ", n = %" PRId64
                ", group_size = %" PRId32 ") failed: %s",
                s->name, k, n, group_size, marlin_status_string(st));
  return st;
}

/* ---- GEMM validation ----------------------------------------------------- */

static int misaligned16(const void *p) { return ((uintptr_t)p & 15u) != 0; }

static marlin_status need_ptr(const void *p, const char *what, const char *why) {
  if (!p) return marlin_fail(MARLIN_STATUS_NULL_POINTER, "%s is NULL%s", what, why);
  return MARLIN_STATUS_SUCCESS;
}

static marlin_status forbid_ptr(const void *p, const char *what, const char *why) {
  if (p)
    return marlin_fail(MARLIN_STATUS_INVALID_VALUE, "%s = %p must be NULL %s", what,
                       (void *)(uintptr_t)p, why);
  return MARLIN_STATUS_SUCCESS;
}

static marlin_status check_aligned(const void *p, const char *what) {
  if (p && misaligned16(p))
    return marlin_fail(MARLIN_STATUS_MISALIGNED, "%s = %p is not 16-byte aligned", what,
                       (void *)(uintptr_t)p);
  return MARLIN_STATUS_SUCCESS;
}

/* Leading dimension ld of a rows x cols matrix of elem-byte elements. */
static marlin_status check_ld(int64_t ld, int64_t rows, int64_t cols, int elem, const char *what,
                              const char *cols_name) {
  if (ld < cols)
    return marlin_fail(MARLIN_STATUS_INVALID_SHAPE, "%s = %" PRId64 " is less than %s = %" PRId64,
                       what, ld, cols_name, cols);
  if (ld > INT64_MAX / 16 / (rows > 0 ? rows : 1))
    return marlin_fail(MARLIN_STATUS_INVALID_SHAPE,
                       "%s = %" PRId64 " is too large (%s * m overflows)", what, ld, what);
  if ((ld * elem) % 16)
    return marlin_fail(MARLIN_STATUS_MISALIGNED,
                       "%s = %" PRId64 " is not a multiple of %d elements (rows must stay "
                       "16-byte aligned)",
                       what, ld, 16 / elem);
  return MARLIN_STATUS_SUCCESS;
}

/* Status choices where the brief leaves room:
 *  - act_order with a channelwise group (-1 or group_size == k) is
 *    MARLIN_STATUS_INVALID_VALUE (act_order is the bad argument: with one
 *    group the permutation is the identity, so pack without it);
 *  - a pointer that must be NULL but is not is MARLIN_STATUS_INVALID_VALUE;
 *  - a and c may be NULL when m == 0 (a no-op), as empty framework tensors
 *    often have no storage;
 *  - 8-bit activations take a 16-bit output (fp16 or bf16). */
marlin_status marlin_check_gemm(const marlin_gemm_desc *desc, const marlin_gemm_args *args,
                                const marlin_options *options) {
  const marlin_scheme_info *s;
  marlin_status st;
  int channelwise;

  if (!desc) return marlin_fail(MARLIN_STATUS_NULL_POINTER, "desc is NULL");

  /* scheme and dtypes */
  if ((st = check_scheme(desc->scheme, "desc->scheme", &s))) return st;
  if ((st = check_act(s, desc->act_type, "desc->act_type"))) return st;
  const act_info *act = act_info_get(desc->act_type);
  if (act->bytes == 2) {
    if (desc->out_type != desc->act_type)
      return marlin_fail(MARLIN_STATUS_INVALID_DTYPE,
                         "desc->out_type = %d (%s) differs from desc->act_type = %d (%s); 16-bit "
                         "activations write C in their own dtype",
                         (int)desc->out_type, dtype_label(desc->out_type), (int)desc->act_type,
                         act->name);
  } else if (desc->out_type != MARLIN_DTYPE_FP16 && desc->out_type != MARLIN_DTYPE_BF16) {
    return marlin_fail(MARLIN_STATUS_INVALID_DTYPE,
                       "desc->out_type = %d (%s) is not fp16 or bf16, the outputs of %s "
                       "activations",
                       (int)desc->out_type, dtype_label(desc->out_type), act->name);
  }

  /* shape */
  if (desc->m < 0)
    return marlin_fail(MARLIN_STATUS_INVALID_SHAPE, "desc->m = %" PRId64 " is negative", desc->m);
  if (desc->m > INT32_MAX)
    return marlin_fail(MARLIN_STATUS_INVALID_SHAPE, "desc->m = %" PRId64 " exceeds %d", desc->m,
                       INT32_MAX);
  if ((st = check_nk(desc->n, "desc->n"))) return st;
  if ((st = check_nk(desc->k, "desc->k"))) return st;

  /* groups and act-order */
  if (desc->act_order != 0 && desc->act_order != 1)
    return marlin_fail(MARLIN_STATUS_INVALID_VALUE, "desc->act_order = %" PRId32 " is not 0 or 1",
                       desc->act_order);
  if (desc->is_k_full != 0 && desc->is_k_full != 1)
    return marlin_fail(MARLIN_STATUS_INVALID_VALUE, "desc->is_k_full = %" PRId32 " is not 0 or 1",
                       desc->is_k_full);
  const int per_row_groups = desc->act_order && !desc->is_k_full;
  if (per_row_groups) {
    /* A K shard: rows come from any of the layer's groups (g_idx), so k need
     * not be a multiple of the group size, and group_size == k is not one
     * group. The size must still be one of the scheme's. */
    if (desc->group_size <= 0)
      return marlin_fail(MARLIN_STATUS_INVALID_GROUP,
                         "desc->group_size = %" PRId32 " with act-order on a K shard "
                         "(is_k_full = 0): pass the layer's group size",
                         desc->group_size);
    if (!has_group_size(s, desc->group_size))
      return fail_group_size(s, desc->group_size, "desc->group_size");
    channelwise = 0;
  } else if ((st = marlin_check_group(s, desc->k, desc->group_size, "desc->group_size",
                                      &channelwise))) {
    return st;
  }
  if (desc->act_order) {
    if (!(s->groups & MARLIN_G_ACT_ORDER))
      return marlin_fail(MARLIN_STATUS_INVALID_VALUE,
                         "desc->act_order = 1 but scheme %s has no act-order support", s->name);
    if (channelwise)
      return marlin_fail(MARLIN_STATUS_INVALID_VALUE,
                         "desc->act_order = 1 with a channelwise desc->group_size = %" PRId32
                         " (k = %" PRId64 "): one group needs no act-order; pack without perm "
                         "and pass act_order = 0",
                         desc->group_size, desc->k);
  }

  if ((st = check_options(options))) return st;
  if (!args) return MARLIN_STATUS_SUCCESS;

  /* required and forbidden pointers */
  const int has_zeros = s->zero != MARLIN_ZERO_NONE;
  const int act8 = act->bytes == 1;
  const int global = s->scale == MARLIN_SCALE_E4M3;
  if (desc->m > 0) {
    if ((st = need_ptr(args->a, "args->a", ""))) return st;
    if ((st = need_ptr(args->c, "args->c", ""))) return st;
  }
  if ((st = need_ptr(args->b, "args->b", ""))) return st;
  if ((st = need_ptr(args->scales, "args->scales", ""))) return st;
  if (has_zeros) {
    if ((st = need_ptr(args->zeros, "args->zeros", " (the scheme has zero points)"))) return st;
  } else if ((st = forbid_ptr(args->zeros, "args->zeros", "(the scheme has no zero points)"))) {
    return st;
  }
  if (desc->act_order) {
    if ((st = need_ptr(args->perm, "args->perm", " (required with desc->act_order = 1)")))
      return st;
  } else if ((st = forbid_ptr(args->perm, "args->perm", "when desc->act_order = 0"))) {
    return st;
  }
  if (per_row_groups) {
    if ((st = need_ptr(args->g_idx, "args->g_idx",
                       " (required with desc->act_order = 1 and desc->is_k_full = 0)")))
      return st;
  } else if ((st = forbid_ptr(args->g_idx, "args->g_idx",
                              "unless desc->act_order = 1 and desc->is_k_full = 0"))) {
    return st;
  }
  if (act8) {
    if ((st = need_ptr(args->a_scales, "args->a_scales", " (required for 8-bit activations)")))
      return st;
  } else if ((st = forbid_ptr(args->a_scales, "args->a_scales", "for 16-bit activations"))) {
    return st;
  }
  if (global) {
    if ((st = need_ptr(args->global_scale, "args->global_scale", " (required for nvfp4)")))
      return st;
  } else if ((st = forbid_ptr(args->global_scale, "args->global_scale",
                              "unless the scheme is nvfp4"))) {
    return st;
  }

  /* leading dimensions */
  const int out_bytes = 2;
  if ((st = check_ld(args->lda, desc->m, desc->k, act->bytes, "args->lda", "desc->k"))) return st;
  if ((st = check_ld(args->ldc, desc->m, desc->n, out_bytes, "args->ldc", "desc->n"))) return st;

  /* alignment */
  if ((st = check_aligned(args->a, "args->a"))) return st;
  if ((st = check_aligned(args->c, "args->c"))) return st;
  if ((st = check_aligned(args->b, "args->b"))) return st;
  if ((st = check_aligned(args->scales, "args->scales"))) return st;
  if ((st = check_aligned(args->zeros, "args->zeros"))) return st;
  if ((st = check_aligned(args->bias, "args->bias"))) return st;
  if (args->g_idx && ((uintptr_t)args->g_idx & 7u))
    return marlin_fail(MARLIN_STATUS_MISALIGNED,
                       "args->g_idx = %p is not 8-byte aligned (the kernel reads row pairs)",
                       (void *)(uintptr_t)args->g_idx);
  return MARLIN_STATUS_SUCCESS;
}

/* ---- Mixture of Experts (declared, not implemented in this version) ------ */

marlin_status marlin_moe_gemm_workspace_size(const marlin_moe_desc *desc,
                                             const marlin_options *options, int device,
                                             size_t *bytes) {
  (void)options;
  (void)device;
  marlin_clear_error();
  if (!desc) return marlin_fail(MARLIN_STATUS_NULL_POINTER, "desc is NULL");
  if (!bytes) return marlin_fail(MARLIN_STATUS_NULL_POINTER, "bytes is NULL");
  *bytes = 0;
  return marlin_fail(MARLIN_STATUS_NOT_IMPLEMENTED,
                     "marlin_moe_gemm_workspace_size: Mixture-of-Experts GEMM is not implemented "
                     "in marlin %s",
                     marlin_version());
}

marlin_status marlin_moe_gemm(const marlin_moe_desc *desc, const marlin_moe_args *args,
                              const marlin_options *options, void *workspace,
                              size_t workspace_bytes, cudaStream_t stream) {
  (void)options;
  (void)workspace;
  (void)workspace_bytes;
  (void)stream;
  marlin_clear_error();
  if (!desc) return marlin_fail(MARLIN_STATUS_NULL_POINTER, "desc is NULL");
  if (!args) return marlin_fail(MARLIN_STATUS_NULL_POINTER, "args is NULL");
  return marlin_fail(MARLIN_STATUS_NOT_IMPLEMENTED,
                     "marlin_moe_gemm: Mixture-of-Experts GEMM is not implemented in marlin %s",
                     marlin_version());
}
