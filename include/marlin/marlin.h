/* marlin: weight-quantized GEMM kernels for LLM inference. Public C API.
 *
 * Conventions (docs/api.md has the full contract):
 *  - C[m,n] = A[m,k] * W[k,n] (+ bias[n]); A, C row-major with leading dimensions
 *    in elements; W is the quantized weight in marlin's packed layout
 *    (docs/layout.md), produced by marlin_repack_* (GPU) or marlin_ref_pack_*
 *    (CPU, marlin_ref.h) from checkpoint tensors.
 *  - Every call that touches the GPU takes an explicit cudaStream_t and only
 *    enqueues work on it: no allocation, no synchronisation, graph-capturable.
 *  - Device scratch is caller-owned: ask marlin_gemm_workspace_size(), allocate,
 *    zero it once (cudaMemset); every call leaves its counters (the first
 *    4 KB) zeroed again, so one workspace serves any sequence of problems
 *    that fit in it.
 *  - Results are bitwise reproducible run to run for the same problem on the
 *    same GPU unless marlin_options.reduction opts into atomics.
 *  - Functions are thread-safe; concurrent calls need distinct workspaces.
 *  - A non-success status comes with a message for the calling thread:
 *    marlin_last_error().
 */
#ifndef MARLIN_MARLIN_H
#define MARLIN_MARLIN_H

#include <stddef.h>
#include <stdint.h>

#include "marlin/version.h"

#if defined(_WIN32)
#if defined(MARLIN_BUILDING_DLL)
#define MARLIN_API __declspec(dllexport)
#else
#define MARLIN_API
#endif
#elif defined(__GNUC__)
#define MARLIN_API __attribute__((visibility("default")))
#else
#define MARLIN_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The CUDA runtime's own stream type, declared here so this header needs no
 * CUDA include path (an identical typedef in cuda_runtime.h is allowed). */
struct CUstream_st;
typedef struct CUstream_st *cudaStream_t;

/* ---- status ------------------------------------------------------------ */

typedef enum marlin_status {
  MARLIN_STATUS_SUCCESS = 0,
  MARLIN_STATUS_NULL_POINTER = 1,        /* a required pointer is NULL                    */
  MARLIN_STATUS_INVALID_SHAPE = 2,       /* m, n, k, lda or ldc out of range              */
  MARLIN_STATUS_MISALIGNED = 3,          /* pointer or leading dimension misaligned       */
  MARLIN_STATUS_INVALID_GROUP = 4,       /* group size not allowed, or k % group != 0     */
  MARLIN_STATUS_INVALID_DTYPE = 5,       /* activation / output dtype not allowed         */
  MARLIN_STATUS_INVALID_SCHEME = 6,      /* unknown scheme or checkpoint format           */
  MARLIN_STATUS_INVALID_VALUE = 7,       /* another argument out of range                 */
  MARLIN_STATUS_WORKSPACE_TOO_SMALL = 8, /* workspace_bytes below the queried size        */
  MARLIN_STATUS_NOT_COMPILED = 9,        /* scheme/activation not in -Dschemes= / -Dacts= */
  MARLIN_STATUS_ARCH_NOT_COMPILED = 10,  /* the GPU's architecture not in -Darchs=        */
  MARLIN_STATUS_NOT_IMPLEMENTED = 11,    /* valid request this version has no kernel for  */
  MARLIN_STATUS_CUDA_ERROR = 12          /* a CUDA runtime call failed                    */
} marlin_status;

/* Fixed text for a status ("unknown status" for values outside the enum). */
MARLIN_API const char *marlin_status_string(marlin_status status);
/* Detailed message of the last non-success status returned on this thread
 * (names the argument, the value and, for NOT_COMPILED, the -D option to
 * add); "" if none. Valid until the thread's next marlin call. */
MARLIN_API const char *marlin_last_error(void);
/* cudaError_t value behind the last MARLIN_STATUS_CUDA_ERROR on this thread. */
MARLIN_API int marlin_last_cuda_error(void);

/* ---- version and build introspection ------------------------------------- */

MARLIN_API const char *marlin_version(void);      /* "0.1.0"                      */
MARLIN_API uint32_t marlin_version_number(void);  /* MARLIN_VERSION of the library */
/* The options this library was built with, e.g.
 * "schemes=gptq4,awq4 acts=fp16,bf16 archs=80". */
MARLIN_API const char *marlin_build_config(void);

/* ---- schemes and dtypes (values come from include/marlin/schemes.def) ----- */

typedef enum marlin_scheme {
  MARLIN_SCHEME_INVALID = 0,
#define MARLIN_SCHEME(ID, name, value, ...) MARLIN_SCHEME_##ID = value,
#include "marlin/schemes.def"
#undef MARLIN_SCHEME
  MARLIN_SCHEME_END_
} marlin_scheme;

/* Activation dtypes first (values from schemes.def), then output-only ones. */
typedef enum marlin_dtype {
  MARLIN_DTYPE_INVALID = 0,
#define MARLIN_ACT(ID, name, value, ...) MARLIN_DTYPE_##ID = value,
#include "marlin/schemes.def"
#undef MARLIN_ACT
  MARLIN_DTYPE_FP32 = 16
} marlin_dtype;

MARLIN_API const char *marlin_scheme_name(marlin_scheme scheme); /* NULL if unknown */
MARLIN_API const char *marlin_dtype_name(marlin_dtype dtype);    /* NULL if unknown */
/* 1 if a kernel for (scheme, act) was compiled for a target that runs on a GPU
 * of compute capability arch (x10, e.g. 86), else 0. */
MARLIN_API int marlin_is_compiled(marlin_scheme scheme, marlin_dtype act, int arch);

/* ---- options ------------------------------------------------------------- */

typedef enum marlin_reduction {
  MARLIN_REDUCTION_DETERMINISTIC = 0, /* fixed-order fp32 reduction (default)     */
  MARLIN_REDUCTION_ATOMIC = 1         /* reserved: faster, not reproducible; this
                                         version runs the deterministic reduction */
} marlin_reduction;

typedef struct marlin_options {
  uint32_t struct_size;       /* sizeof(marlin_options); set by marlin_options_init */
  marlin_reduction reduction; /* MARLIN_REDUCTION_DETERMINISTIC                     */
  int32_t max_sms;            /* 0: all SMs of the device; else an upper bound      */
  int32_t tile_config;        /* -1: chosen at run time; >= 0 forces one (checker)  */
  /* 1: launch the GEMM kernel with programmatic dependent launch (sm90+; ignored
   * before): it may start while the previous kernel in the stream is still
   * running and reads the weights, scales and zero points before that kernel
   * has finished (activations, bias, output and workspace only after). Set it
   * only when the preceding kernels do not write those three buffers. 0: the
   * default, ordinary stream order. */
  int32_t programmatic_launch;
} marlin_options;

/* Fills *options with the defaults. Passing NULL options to a call = defaults. */
MARLIN_API void marlin_options_init(marlin_options *options);

/* ---- dense GEMM ------------------------------------------------------------ */

typedef struct marlin_gemm_desc {
  marlin_scheme scheme;
  marlin_dtype act_type; /* MARLIN_DTYPE_FP16 or _BF16 (int8/fp8: later)       */
  marlin_dtype out_type; /* equal to act_type for 16-bit activations           */
  int64_t m, n, k;       /* m >= 0 (0 is a no-op); n, k > 0 and multiples of 8  */
  int32_t group_size;    /* -1 channelwise (a group of k is the same), else one of the scheme's sizes */
  int32_t act_order;     /* 1: weight rows were packed in perm = argsort(g_idx) order */
  int32_t is_k_full;     /* act_order only: 1 when k is the layer's whole K; 0 for a
                            tensor-parallel K shard (rows from arbitrary groups; the
                            scales are then the layer's, docs/api.md "Act-order") */
} marlin_gemm_desc;

typedef struct marlin_gemm_args {
  const void *a;          /* m x k activations, row stride lda elements, 16-byte aligned  */
  int64_t lda;            /* >= k, multiple of 8                                          */
  const void *b;          /* packed weights (marlin_packed_sizes().weights bytes)          */
  const void *scales;     /* packed scales                                                */
  const void *zeros;      /* packed zero points for awq4/hqq4, else NULL                  */
  const int32_t *perm;    /* act_order: argsort(g_idx), k entries; else NULL              */
  const int32_t *g_idx;   /* act_order && !is_k_full: g_idx[perm] (sorted, 8-byte aligned,
                             values < the layer's group count); else NULL            */
  const float *a_scales;  /* int8/fp8 activations: m per-token scales; else NULL           */
  const float *global_scale; /* nvfp4: one fp32 scale; else NULL                         */
  const void *bias;       /* NULL or n values of out_type                                 */
  void *c;                /* m x n output, row stride ldc elements, 16-byte aligned       */
  int64_t ldc;            /* >= n, multiple of 8                                          */
} marlin_gemm_args;

/* Bytes of device workspace marlin_gemm needs for this problem on `device`
 * (-1: the current device). options may be NULL. */
MARLIN_API marlin_status marlin_gemm_workspace_size(const marlin_gemm_desc *desc,
                                                    const marlin_options *options, int device,
                                                    size_t *bytes);

/* Enqueues C = A * dequant(B) (+ bias) on stream. workspace: >= the queried
 * size, 256-byte aligned, zeroed once before first use. */
MARLIN_API marlin_status marlin_gemm(const marlin_gemm_desc *desc, const marlin_gemm_args *args,
                                     const marlin_options *options, void *workspace,
                                     size_t workspace_bytes, cudaStream_t stream);

/* ---- weight preparation ------------------------------------------------------ */

typedef struct marlin_packed_sizes {
  size_t weights; /* bytes of the packed weight tensor           */
  size_t scales;  /* bytes of the packed scales                  */
  size_t zeros;   /* bytes of the packed zero points (0 if none) */
} marlin_packed_sizes;

/* Sizes of the packed tensors for a k x n weight (docs/layout.md). For
 * act-order on a K shard (is_k_full = 0) the weights are the shard's k rows
 * (their size does not depend on group_size: pass -1 if k is not a multiple
 * of it) and the scales are the layer's: ask with the layer's K. */
MARLIN_API marlin_status marlin_get_packed_sizes(marlin_scheme scheme, marlin_dtype act_type,
                                                 int64_t k, int64_t n, int32_t group_size,
                                                 marlin_packed_sizes *sizes);

typedef enum marlin_checkpoint_format {
  MARLIN_CHECKPOINT_GPTQ = 1, /* qweight int32 [k*bits/32][n], code of row 8r+i in nibble i */
  MARLIN_CHECKPOINT_AWQ = 2   /* qweight int32 [k][n/8], AWQ nibble order                   */
} marlin_checkpoint_format;

/* GPU repack of a checkpoint qweight into the packed layout. perm: NULL, or
 * argsort(g_idx) (k entries) for act-order GPTQ checkpoints. */
MARLIN_API marlin_status marlin_repack_weights(marlin_scheme scheme, marlin_checkpoint_format format,
                                               int64_t k, int64_t n, const int32_t *qweight,
                                               const int32_t *perm, void *packed,
                                               cudaStream_t stream);
/* GPU permutation of scales [groups][n] (act_type elements) into the packed
 * layout; groups = k / group_size (1 if channelwise). A K shard with act-order
 * passes the layer's K: its scale tensor is the layer's. */
MARLIN_API marlin_status marlin_repack_scales(marlin_scheme scheme, marlin_dtype act_type,
                                              int64_t k, int64_t n, int32_t group_size,
                                              const void *scales, void *packed,
                                              cudaStream_t stream);
/* GPU repack of checkpoint zero points: AWQ qzeros int32 [groups][n/8]. */
MARLIN_API marlin_status marlin_repack_zeros(marlin_scheme scheme, marlin_checkpoint_format format,
                                             int64_t k, int64_t n, int32_t group_size,
                                             const int32_t *qzeros, void *packed,
                                             cudaStream_t stream);

/* ---- Mixture of Experts (declared; returns NOT_IMPLEMENTED in this version) -- */

typedef struct marlin_moe_desc {
  marlin_scheme scheme;
  marlin_dtype act_type, out_type;
  int64_t tokens, n, k;   /* per expert: W_e is k x n                       */
  int32_t num_experts, top_k, group_size;
} marlin_moe_desc;

typedef struct marlin_moe_args {
  const void *a;               /* tokens x k                                        */
  int64_t lda;
  const void *b, *scales, *zeros, *bias; /* per-expert packed tensors, concatenated */
  const int32_t *topk_ids;     /* tokens x top_k expert ids                         */
  const float *topk_weights;   /* tokens x top_k router weights, or NULL            */
  void *c;                     /* (tokens * top_k) x n                              */
  int64_t ldc;
} marlin_moe_args;

MARLIN_API marlin_status marlin_moe_gemm_workspace_size(const marlin_moe_desc *desc,
                                                        const marlin_options *options,
                                                        int device, size_t *bytes);
MARLIN_API marlin_status marlin_moe_gemm(const marlin_moe_desc *desc, const marlin_moe_args *args,
                                         const marlin_options *options, void *workspace,
                                         size_t workspace_bytes, cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif /* MARLIN_MARLIN_H */
