/* The consumer's program: uses libmarlin through the public C API only.
 *
 * Without a usable GPU it checks what needs none (version, build
 * configuration, introspection, sizes) and exits 77, which meson test reports
 * as SKIP. With one it runs a small GEMM whose result is known exactly:
 * every weight code is 9 (gptq4 value (9 - 8) * s), every scale and every
 * activation 1.0, so every output element is k. */
#include <marlin/marlin.h>

#include <cuda_runtime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SKIP 77

static int failures;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "consumer: %s:%d: check failed: %s\n", __FILE__,         \
              __LINE__, #cond);                                                \
      failures++;                                                              \
    }                                                                          \
  } while (0)

#define CHECK_STATUS(call)                                                     \
  do {                                                                         \
    marlin_status st_ = (call);                                                \
    if (st_ != MARLIN_STATUS_SUCCESS) {                                        \
      fprintf(stderr, "consumer: %s:%d: %s -> %s: %s\n", __FILE__, __LINE__,   \
              #call, marlin_status_string(st_), marlin_last_error());         \
      return 1;                                                                \
    }                                                                          \
  } while (0)

#define CHECK_CUDA(call)                                                       \
  do {                                                                         \
    cudaError_t e_ = (call);                                                   \
    if (e_ != cudaSuccess) {                                                   \
      fprintf(stderr, "consumer: %s:%d: %s -> %s\n", __FILE__, __LINE__,      \
              #call, cudaGetErrorString(e_));                                  \
      return 1;                                                                \
    }                                                                          \
  } while (0)

#define STR_(x) #x
#define STR(x) STR_(x)

/* Checks that need no GPU. */
static void check_host_side(void) {
  const char *want_version = STR(MARLIN_VERSION_MAJOR) "." STR(MARLIN_VERSION_MINOR) "." STR(
      MARLIN_VERSION_PATCH);
  printf("marlin %s, built with: %s\n", marlin_version(), marlin_build_config());
  CHECK(strcmp(marlin_version(), want_version) == 0);
  CHECK(marlin_version_number() == MARLIN_VERSION);
  /* The options this project asked for in dependency('marlin', default_options: ...). */
  CHECK(strcmp(marlin_build_config(), "schemes=gptq4 acts=fp16 archs=80") == 0);

  marlin_options opt;
  memset(&opt, 0xff, sizeof opt);
  marlin_options_init(&opt);
  CHECK(opt.struct_size == sizeof opt);
  CHECK(opt.reduction == MARLIN_REDUCTION_DETERMINISTIC);

  /* Only gptq4 x fp16 for sm_80 was compiled; sm_80 code also runs on 8.6/8.9. */
  CHECK(marlin_is_compiled(MARLIN_SCHEME_GPTQ4, MARLIN_DTYPE_FP16, 80) == 1);
  CHECK(marlin_is_compiled(MARLIN_SCHEME_GPTQ4, MARLIN_DTYPE_FP16, 86) == 1);
  CHECK(marlin_is_compiled(MARLIN_SCHEME_GPTQ4, MARLIN_DTYPE_FP16, 90) == 0);
  CHECK(marlin_is_compiled(MARLIN_SCHEME_GPTQ4, MARLIN_DTYPE_BF16, 80) == 0);
  CHECK(marlin_is_compiled(MARLIN_SCHEME_AWQ4, MARLIN_DTYPE_FP16, 80) == 0);

  marlin_packed_sizes sizes;
  CHECK(marlin_get_packed_sizes(MARLIN_SCHEME_GPTQ4, MARLIN_DTYPE_FP16, 128, 64, -1, &sizes) ==
        MARLIN_STATUS_SUCCESS);
  CHECK(sizes.weights == 128 * 64 / 2); /* 4-bit codes, no padding at this shape */
  CHECK(sizes.scales == 64 * 2);        /* one fp16 row, channelwise           */
  CHECK(sizes.zeros == 0);
}

static int run_gemm(int cc) {
  const int64_t m = 5, n = 64, k = 128;
  marlin_gemm_desc desc = {
      .scheme = MARLIN_SCHEME_GPTQ4,
      .act_type = MARLIN_DTYPE_FP16,
      .out_type = MARLIN_DTYPE_FP16,
      .m = m, .n = n, .k = k,
      .group_size = -1,
      .act_order = 0,
      .is_k_full = 1,
  };
  marlin_options opt;
  marlin_options_init(&opt);

  marlin_packed_sizes sizes;
  CHECK_STATUS(marlin_get_packed_sizes(desc.scheme, desc.act_type, k, n, -1, &sizes));
  size_t ws_bytes = 0;
  CHECK_STATUS(marlin_gemm_workspace_size(&desc, &opt, -1, &ws_bytes));
  printf("sm_%d: packed weights %zu B, scales %zu B, workspace %zu B\n", cc, sizes.weights,
         sizes.scales, ws_bytes);

  const uint16_t one = 0x3C00; /* fp16 1.0 */
  uint16_t *h_a = malloc((size_t)(m * k) * 2), *h_s = malloc(sizes.scales);
  uint16_t *h_c = malloc((size_t)(m * n) * 2);
  if (!h_a || !h_s || !h_c) return 1;
  for (int64_t i = 0; i < m * k; i++) h_a[i] = one;
  for (size_t i = 0; i < sizes.scales / 2; i++) h_s[i] = one;

  void *d_a, *d_b, *d_s, *d_c, *d_ws;
  CHECK_CUDA(cudaMalloc(&d_a, (size_t)(m * k) * 2));
  CHECK_CUDA(cudaMalloc(&d_b, sizes.weights));
  CHECK_CUDA(cudaMalloc(&d_s, sizes.scales));
  CHECK_CUDA(cudaMalloc(&d_c, (size_t)(m * n) * 2));
  CHECK_CUDA(cudaMalloc(&d_ws, ws_bytes ? ws_bytes : 256));
  CHECK_CUDA(cudaMemcpy(d_a, h_a, (size_t)(m * k) * 2, cudaMemcpyHostToDevice));
  CHECK_CUDA(cudaMemset(d_b, 0x99, sizes.weights)); /* every 4-bit code = 9 */
  CHECK_CUDA(cudaMemcpy(d_s, h_s, sizes.scales, cudaMemcpyHostToDevice));
  CHECK_CUDA(cudaMemset(d_c, 0, (size_t)(m * n) * 2));
  CHECK_CUDA(cudaMemset(d_ws, 0, ws_bytes ? ws_bytes : 256));

  cudaStream_t stream;
  CHECK_CUDA(cudaStreamCreate(&stream));
  marlin_gemm_args args = {
      .a = d_a, .lda = k, .b = d_b, .scales = d_s, .c = d_c, .ldc = n,
  };
  CHECK_STATUS(marlin_gemm(&desc, &args, &opt, d_ws, ws_bytes, stream));
  CHECK_CUDA(cudaStreamSynchronize(stream));
  CHECK_CUDA(cudaMemcpy(h_c, d_c, (size_t)(m * n) * 2, cudaMemcpyDeviceToHost));

  const uint16_t want = 0x5800; /* fp16 128.0 = k */
  int bad = 0;
  for (int64_t i = 0; i < m * n; i++) {
    if (h_c[i] != want && bad++ < 5)
      fprintf(stderr, "consumer: C[%lld][%lld] = 0x%04x, expected 0x%04x\n", (long long)(i / n),
              (long long)(i % n), h_c[i], want);
  }
  CHECK(bad == 0);
  printf("gemm %lldx%lldx%lld on sm_%d: %s\n", (long long)m, (long long)n, (long long)k, cc,
         bad ? "WRONG" : "ok");

  cudaStreamDestroy(stream);
  cudaFree(d_a);
  cudaFree(d_b);
  cudaFree(d_s);
  cudaFree(d_c);
  cudaFree(d_ws);
  free(h_a);
  free(h_s);
  free(h_c);
  return 0;
}

int main(void) {
  check_host_side();
  if (failures) return 1;

  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess || count == 0) {
    printf("no GPU (%s): host-side checks passed, GEMM skipped\n",
           err != cudaSuccess ? cudaGetErrorString(err) : "no devices");
    return SKIP;
  }
  int major = 0, minor = 0;
  if (cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, 0) != cudaSuccess ||
      cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, 0) != cudaSuccess) {
    fprintf(stderr, "consumer: cannot read the compute capability of device 0\n");
    return 1;
  }
  int cc = major * 10 + minor;
  if (!marlin_is_compiled(MARLIN_SCHEME_GPTQ4, MARLIN_DTYPE_FP16, cc)) {
    printf("GPU sm_%d: this build has sm_80 code only, which does not run there; GEMM skipped\n",
           cc);
    return SKIP;
  }
  if (run_gemm(cc) != 0) return 1;
  return failures ? 1 : 0;
}
