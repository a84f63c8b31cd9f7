/* marlin_gemm: validation -> kernel lookup -> plan -> launch. */
#include <cuda_runtime_api.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "launch.h"
#include "select.h"

/* The generated table of compiled kernels, one row per translation unit. */
#define MARLIN_DENSE_KERNEL(S, A, CC, ARCH_SPECIFIC, NAME) extern int NAME(const marlin_dense_params *);
#include "marlin_dispatch.inc"
#undef MARLIN_DENSE_KERNEL

typedef struct kernel_entry {
  marlin_scheme scheme;
  marlin_dtype act;
  int cc;            /* compute capability x10 of the SASS target       */
  int arch_specific; /* built for sm_XXa: runs on exactly that cc       */
  marlin_dense_launch_fn launch;
} kernel_entry;

static const kernel_entry kernels[] = {
#define MARLIN_DENSE_KERNEL(S, A, CC, ARCH_SPECIFIC, NAME) \
  {MARLIN_SCHEME_##S, MARLIN_DTYPE_##A, CC, ARCH_SPECIFIC, NAME},
#include "marlin_dispatch.inc"
#undef MARLIN_DENSE_KERNEL
};
static const size_t kernel_count = sizeof kernels / sizeof kernels[0];

/* SASS for cc runs on a device of the same major version and a minor >= its own. */
static int runs_on(const kernel_entry *e, int device_cc) {
  if (e->arch_specific) return e->cc == device_cc;
  return e->cc / 10 == device_cc / 10 && e->cc % 10 <= device_cc % 10;
}

static const kernel_entry *find_kernel(marlin_scheme scheme, marlin_dtype act, int device_cc) {
  const kernel_entry *best = NULL;
  for (size_t i = 0; i < kernel_count; ++i) {
    const kernel_entry *e = &kernels[i];
    if (e->scheme != scheme || e->act != act || !runs_on(e, device_cc)) continue;
    if (!best || e->cc > best->cc || (e->cc == best->cc && e->arch_specific)) best = e;
  }
  return best;
}

static int compiled_at_all(marlin_scheme scheme, marlin_dtype act) {
  for (size_t i = 0; i < kernel_count; ++i)
    if (kernels[i].scheme == scheme && kernels[i].act == act) return 1;
  return 0;
}

int marlin_is_compiled(marlin_scheme scheme, marlin_dtype act, int arch) {
  return find_kernel(scheme, act, arch) != NULL;
}

/* Device attributes, read once per device (they do not change). */
enum { MAX_DEVICES = 64 };
static marlin_device_info info_cache[MAX_DEVICES];
static _Atomic int info_cached[MAX_DEVICES];

static marlin_status device_info(int device, const marlin_options *options,
                                 marlin_device_info *info) {
  cudaError_t err = cudaSuccess;
  if (device < 0) err = cudaGetDevice(&device);
  if (err != cudaSuccess) return marlin_fail_cuda(err, "querying the current device");
  if (device < MAX_DEVICES && atomic_load_explicit(&info_cached[device], memory_order_acquire)) {
    *info = info_cache[device];
  } else {
    int major = 0, minor = 0;
    err = cudaDeviceGetAttribute(&info->sms, cudaDevAttrMultiProcessorCount, device);
    if (err == cudaSuccess)
      err = cudaDeviceGetAttribute(&info->max_smem, cudaDevAttrMaxSharedMemoryPerBlockOptin, device);
    if (err == cudaSuccess) err = cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device);
    if (err == cudaSuccess) err = cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device);
    if (err != cudaSuccess) return marlin_fail_cuda(err, "querying the device");
    info->arch = major * 10 + minor;
    if (device < MAX_DEVICES) { /* benign race: every writer stores the same values */
      info_cache[device] = *info;
      atomic_store_explicit(&info_cached[device], 1, memory_order_release);
    }
  }
  info->wgmma = info->column = 0; /* prepare() decides, per kernel and problem */
  if (options && options->max_sms > 0 && options->max_sms < info->sms) info->sms = options->max_sms;
  return MARLIN_STATUS_SUCCESS;
}

/* Everything marlin_gemm and the workspace query share: checks, kernel, plan. */
static marlin_status prepare(const marlin_gemm_desc *desc, const marlin_gemm_args *args,
                             const marlin_options *options, int device,
                             const kernel_entry **kernel, marlin_dense_plan *plan) {
  marlin_status st = marlin_check_gemm(desc, args, options);
  if (st != MARLIN_STATUS_SUCCESS) return st;
  if (!compiled_at_all(desc->scheme, desc->act_type))
    return marlin_fail(MARLIN_STATUS_NOT_COMPILED,
                       "no kernel for scheme %s with %s activations in this build (%s); "
                       "reconfigure with %s added to -Dschemes= and %s to -Dacts=",
                       marlin_scheme_name(desc->scheme), marlin_dtype_name(desc->act_type),
                       marlin_build_config(), marlin_scheme_name(desc->scheme),
                       marlin_dtype_name(desc->act_type));
  marlin_device_info info;
  st = device_info(device, options, &info);
  if (st != MARLIN_STATUS_SUCCESS) return st;
  *kernel = find_kernel(desc->scheme, desc->act_type, info.arch);
  if (!*kernel)
    return marlin_fail(MARLIN_STATUS_ARCH_NOT_COMPILED,
                       "no %s/%s kernel runs on this sm_%d GPU (%s); reconfigure with %d added "
                       "to -Darchs=",
                       marlin_scheme_name(desc->scheme), marlin_dtype_name(desc->act_type),
                       info.arch, marlin_build_config(), info.arch);
  const int per_row_groups = desc->act_order && !desc->is_k_full; /* neither the COLUMN nor the WGMMA configs */
  info.column = !per_row_groups;
  info.wgmma = (*kernel)->arch_specific && (*kernel)->cc == 90 && !per_row_groups;
  const marlin_scheme_info *si = marlin_scheme_info_get(desc->scheme);
  return marlin_dense_select(desc->m, desc->n, desc->k, si->bits, si->zero != MARLIN_ZERO_NONE,
                             desc->act_order, &info,
                             options ? options->tile_config : -1, plan);
}

marlin_status marlin_gemm_workspace_size(const marlin_gemm_desc *desc, const marlin_options *options,
                                         int device, size_t *bytes) {
  marlin_clear_error();
  if (!bytes) return marlin_fail(MARLIN_STATUS_NULL_POINTER, "bytes is NULL");
  const kernel_entry *kernel;
  marlin_dense_plan plan;
  marlin_status st = prepare(desc, NULL, options, device, &kernel, &plan);
  if (st != MARLIN_STATUS_SUCCESS) return st;
  *bytes = plan.workspace_bytes;
  return MARLIN_STATUS_SUCCESS;
}

marlin_status marlin_gemm(const marlin_gemm_desc *desc, const marlin_gemm_args *args,
                          const marlin_options *options, void *workspace, size_t workspace_bytes,
                          cudaStream_t stream) {
  marlin_clear_error();
  if (!args) return marlin_fail(MARLIN_STATUS_NULL_POINTER, "args is NULL");
  const kernel_entry *kernel;
  marlin_dense_plan plan;
  marlin_status st = prepare(desc, args, options, -1, &kernel, &plan);
  if (st != MARLIN_STATUS_SUCCESS) return st;
  if (desc->m == 0) return MARLIN_STATUS_SUCCESS;
  if (workspace_bytes < plan.workspace_bytes)
    return marlin_fail(MARLIN_STATUS_WORKSPACE_TOO_SMALL,
                       "workspace_bytes = %zu, this problem needs %zu (marlin_gemm_workspace_size)",
                       workspace_bytes, plan.workspace_bytes);
  if (!workspace) return marlin_fail(MARLIN_STATUS_NULL_POINTER, "workspace is NULL");
  if ((uintptr_t)workspace % 256)
    return marlin_fail(MARLIN_STATUS_MISALIGNED, "workspace %p is not 256-byte aligned", workspace);

  marlin_dense_params p;
  memset(&p, 0, sizeof p);
  p.m = (int32_t)desc->m;
  p.n = (int32_t)desc->n;
  p.k = (int32_t)desc->k;
  p.n_pad = (int32_t)((desc->n + 63) / 64 * 64);
  p.k_pad = (int32_t)((desc->k + 15) / 16 * 16);
  const int channelwise = desc->group_size == -1 || desc->group_size == desc->k;
  p.group_size = channelwise ? (1 << 30) : desc->group_size;
  p.per_row_groups = desc->act_order && !desc->is_k_full;
  p.programmatic = options ? options->programmatic_launch : 0;
  p.a = args->a;
  p.lda = args->lda;
  p.b = args->b;
  p.scales = args->scales;
  p.zeros = args->zeros;
  p.g_idx = args->g_idx;
  p.bias = args->bias;
  p.c = args->c;
  p.ldc = args->ldc;
  p.workspace = workspace;
  p.plan = plan;
  p.stream = stream;

  if (desc->act_order) {
    void *a_perm = (char *)workspace + plan.ws_a_perm;
    const int64_t ld = (desc->k + 7) / 8 * 8;
    int err = marlin_launch_permute_cols(args->a, args->lda, args->perm, desc->m, desc->k, a_perm,
                                         ld, stream);
    if (err) return marlin_fail_cuda(err, "launching the act-order permutation of A");
    p.a = a_perm;
    p.lda = ld;
  }
  int err = kernel->launch(&p);
  if (err) return marlin_fail_cuda(err, "launching the GEMM kernel");
  return MARLIN_STATUS_SUCCESS;
}
