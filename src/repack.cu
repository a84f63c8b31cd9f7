// GPU weight preparation: checkpoint qweight/qzeros/scales -> marlin's packed
// layout (docs/layout.md), bit-exact with the CPU packers in src/ref/layout.c,
// and the act-order column permutation of A used by marlin_gemm.
// One thread per output word: simple, and a repack runs once per model load.
#include <cuda_runtime.h>
#include <stdint.h>

#include "internal.h"
#include "launch.h"

namespace {


// Code of checkpoint row `row`, column `col`.
template <marlin_checkpoint_format F, int BITS>
__device__ __forceinline__ uint32_t checkpoint_code(const int32_t *q, int64_t n, int64_t row,
                                                    int64_t col) {
  if (F == MARLIN_CHECKPOINT_GPTQ) {
    constexpr int per = 32 / BITS;
    const uint32_t w = static_cast<uint32_t>(q[(row / per) * n + col]);
    return (w >> (BITS * (row % per))) & ((1u << BITS) - 1);
  } else {  // AWQ: nibble i of word (row, col/8) holds column 8*(col/8) + [0,2,4,6,1,3,5,7][i]
    const int pos[8] = {0, 4, 1, 5, 2, 6, 3, 7};
    const uint32_t w = static_cast<uint32_t>(q[row * (n / 8) + col / 8]);
    return (w >> (4 * pos[col % 8])) & 0xf;
  }
}

template <marlin_checkpoint_format F, int BITS>
__global__ void repack_weights_kernel(const int32_t *__restrict__ q, const int32_t *__restrict__ perm,
                                      int64_t k, int64_t n, int64_t n_pad, int64_t total,
                                      uint32_t *__restrict__ out) {
  const int64_t w = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (w >= total) return;
  const int64_t row_words = (BITS == 4 ? 2 : 4) * n_pad;
  const int64_t kt = w / row_words, x = w % row_words;
  uint32_t word = 0;
  if (BITS == 4) {
    const int64_t nb = x / 128;
    const int rem = int(x % 128), l = rem / 4, j = rem % 4;
    const int r0 = 2 * (l % 4), c = l / 4;
    const int R[8] = {r0, r0 + 8, r0, r0 + 8, r0 + 1, r0 + 9, r0 + 1, r0 + 9};
    const int C[8] = {c, c, c + 8, c + 8, c, c, c + 8, c + 8};
#pragma unroll
    for (int i = 0; i < 8; ++i) {
      const int64_t kk = 16 * kt + R[i], nn = 64 * nb + 16 * j + C[i];
      if (kk < k && nn < n) word |= checkpoint_code<F, 4>(q, n, perm ? perm[kk] : kk, nn) << (4 * i);
    }
  } else {
    const int64_t nb = x / 256;
    const int rem = int(x % 256), l = rem / 8, j = (rem % 8) / 2, h = rem % 2;
    const int r0 = 2 * (l % 4), c = l / 4;
    const int R[4] = {r0, r0 + 8, r0 + 1, r0 + 9};
    const int64_t nn = 64 * nb + 16 * j + c + 8 * h;
#pragma unroll
    for (int b = 0; b < 4; ++b) {
      const int64_t kk = 16 * kt + R[b];
      if (kk < k && nn < n) word |= checkpoint_code<F, 8>(q, n, perm ? perm[kk] : kk, nn) << (8 * b);
    }
  }
  out[w] = word;
}

__global__ void repack_scales_kernel(const uint16_t *__restrict__ s, int64_t n, int64_t n_pad,
                                     int64_t total, uint16_t *__restrict__ out) {
  const int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i >= total) return;
  const int64_t g = i / n_pad, p = i % n_pad;
  const int64_t col = (p / 64) * 64 + (p % 8) * 8 + (p % 64) / 8;
  out[i] = col < n ? s[g * n + col] : uint16_t(0);
}

__global__ void repack_awq_zeros_kernel(const int32_t *__restrict__ qz, int64_t n, int64_t n_pad,
                                        int64_t total, uint32_t *__restrict__ out) {
  const int64_t w = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (w >= total) return;
  const int64_t words = n_pad / 8, g = w / words, x = w % words;
  const int64_t nb = x / 8, i = x % 8;
  uint32_t word = 0;
#pragma unroll
  for (int t = 0; t < 8; ++t) {
    const int64_t col = 64 * nb + i + 8 * t;
    if (col < n) word |= checkpoint_code<MARLIN_CHECKPOINT_AWQ, 4>(qz, n, g, col) << (4 * t);
  }
  out[w] = word;
}

__global__ void permute_cols_kernel(const uint16_t *__restrict__ a, int64_t lda,
                                    const int32_t *__restrict__ perm, int64_t m, int64_t k,
                                    uint16_t *__restrict__ out, int64_t ldo) {
  const int64_t r = blockIdx.y;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < k;
       i += int64_t(gridDim.x) * blockDim.x)
    out[r * ldo + i] = a[r * lda + perm[i]];
}

int grid_for(int64_t total) { return int((total + 255) / 256); }

}  // namespace

extern "C" int marlin_launch_permute_cols(const void *a, int64_t lda, const int32_t *perm,
                                          int64_t m, int64_t k, void *out, int64_t ldo,
                                          cudaStream_t stream) {
  // grid.y = rows (<= 65535 per launch); longer M is done in chunks
  for (int64_t r0 = 0; r0 < m; r0 += 65535) {
    const int64_t rows = m - r0 < 65535 ? m - r0 : 65535;
    const dim3 grid(unsigned((k + 255) / 256 < 64 ? (k + 255) / 256 : 64), unsigned(rows));
    permute_cols_kernel<<<grid, 256, 0, stream>>>(static_cast<const uint16_t *>(a) + r0 * lda, lda,
                                                  perm, rows, k,
                                                  static_cast<uint16_t *>(out) + r0 * ldo, ldo);
  }
  return cudaGetLastError();
}

// ---- public entry points: validate, then launch ----------------------------------

static marlin_status check_kn(int64_t k, int64_t n) {
  if (k <= 0 || n <= 0 || k % 8 || n % 8 || k > (INT32_MAX / 2) || n > (INT32_MAX / 2))
    return marlin_fail(MARLIN_STATUS_INVALID_SHAPE,
                       "k = %lld and n = %lld must be positive multiples of 8", (long long)k,
                       (long long)n);
  return MARLIN_STATUS_SUCCESS;
}

// The GEMM's group rule (one of the scheme's sizes dividing k, or channelwise),
// and the number of scale rows.
static marlin_status check_groups(const marlin_scheme_info *si, int64_t k, int32_t group_size,
                                  int64_t *groups) {
  int channelwise = 0;
  const marlin_status st = marlin_check_group(si, k, group_size, "group_size", &channelwise);
  if (st != MARLIN_STATUS_SUCCESS) return st;
  *groups = channelwise ? 1 : k / group_size;
  return MARLIN_STATUS_SUCCESS;
}

// Status of the launch just enqueued.
static marlin_status launched(const char *what) {
  const cudaError_t err = cudaGetLastError();
  return err ? marlin_fail_cuda(err, what) : MARLIN_STATUS_SUCCESS;
}

static marlin_status check_format(const marlin_scheme_info *si, marlin_checkpoint_format format,
                                  marlin_scheme scheme) {
  if (!si) return marlin_fail(MARLIN_STATUS_INVALID_SCHEME, "unknown scheme %d", int(scheme));
  if (format != MARLIN_CHECKPOINT_GPTQ && format != MARLIN_CHECKPOINT_AWQ)
    return marlin_fail(MARLIN_STATUS_INVALID_SCHEME, "unknown checkpoint format %d", int(format));
  const bool gptq = scheme == MARLIN_SCHEME_GPTQ4 || scheme == MARLIN_SCHEME_GPTQ8;
  const bool awq = scheme == MARLIN_SCHEME_AWQ4;
  if (!gptq && !awq)
    return marlin_fail(MARLIN_STATUS_NOT_IMPLEMENTED, "no GPU repack for scheme %s yet", si->name);
  if ((format == MARLIN_CHECKPOINT_GPTQ) != gptq)
    return marlin_fail(MARLIN_STATUS_INVALID_SCHEME, "scheme %s is not stored in the %s format",
                       si->name, format == MARLIN_CHECKPOINT_GPTQ ? "GPTQ" : "AWQ");
  return MARLIN_STATUS_SUCCESS;
}

extern "C" marlin_status marlin_repack_weights(marlin_scheme scheme, marlin_checkpoint_format format,
                                               int64_t k, int64_t n, const int32_t *qweight,
                                               const int32_t *perm, void *packed,
                                               cudaStream_t stream) {
  marlin_clear_error();
  const marlin_scheme_info *si = marlin_scheme_info_get(scheme);
  marlin_status st = check_format(si, format, scheme);
  if (st != MARLIN_STATUS_SUCCESS) return st;
  if ((st = check_kn(k, n)) != MARLIN_STATUS_SUCCESS) return st;
  if (!qweight) return marlin_fail(MARLIN_STATUS_NULL_POINTER, "qweight is NULL");
  if (!packed) return marlin_fail(MARLIN_STATUS_NULL_POINTER, "packed is NULL");
  if (perm && format != MARLIN_CHECKPOINT_GPTQ)
    return marlin_fail(MARLIN_STATUS_INVALID_VALUE, "perm (act-order) applies to GPTQ checkpoints only");
  if (reinterpret_cast<uintptr_t>(qweight) % 4 || (perm && reinterpret_cast<uintptr_t>(perm) % 4))
    return marlin_fail(MARLIN_STATUS_MISALIGNED, "qweight and perm must be 4-byte aligned");
  if (reinterpret_cast<uintptr_t>(packed) % 16)
    return marlin_fail(MARLIN_STATUS_MISALIGNED, "packed must be 16-byte aligned");
  const int64_t n_pad = (n + 63) / 64 * 64, k_pad = (k + 15) / 16 * 16;
  const int64_t total = (k_pad / 16) * (si->bits == 4 ? 2 : 4) * n_pad;
  uint32_t *out = static_cast<uint32_t *>(packed);
  if (format == MARLIN_CHECKPOINT_AWQ)
    repack_weights_kernel<MARLIN_CHECKPOINT_AWQ, 4><<<grid_for(total), 256, 0, stream>>>(qweight, perm, k, n, n_pad, total, out);
  else if (si->bits == 4)
    repack_weights_kernel<MARLIN_CHECKPOINT_GPTQ, 4><<<grid_for(total), 256, 0, stream>>>(qweight, perm, k, n, n_pad, total, out);
  else
    repack_weights_kernel<MARLIN_CHECKPOINT_GPTQ, 8><<<grid_for(total), 256, 0, stream>>>(qweight, perm, k, n, n_pad, total, out);
  return launched("launching the weight repack");
}

extern "C" marlin_status marlin_repack_scales(marlin_scheme scheme, marlin_dtype act_type,
                                              int64_t k, int64_t n, int32_t group_size,
                                              const void *scales, void *packed,
                                              cudaStream_t stream) {
  marlin_clear_error();
  const marlin_scheme_info *si = marlin_scheme_info_get(scheme);
  if (!si) return marlin_fail(MARLIN_STATUS_INVALID_SCHEME, "unknown scheme %d", int(scheme));
  if (si->scale != MARLIN_SCALE_ACT)
    return marlin_fail(MARLIN_STATUS_NOT_IMPLEMENTED, "no GPU scale repack for scheme %s yet", si->name);
  if (act_type != MARLIN_DTYPE_FP16 && act_type != MARLIN_DTYPE_BF16)
    return marlin_fail(MARLIN_STATUS_INVALID_DTYPE, "scales must be fp16 or bf16 (act_type %d)", int(act_type));
  marlin_status st = check_kn(k, n);
  if (st != MARLIN_STATUS_SUCCESS) return st;
  int64_t groups = 0;
  if ((st = check_groups(si, k, group_size, &groups)) != MARLIN_STATUS_SUCCESS) return st;
  if (!scales) return marlin_fail(MARLIN_STATUS_NULL_POINTER, "scales is NULL");
  if (!packed) return marlin_fail(MARLIN_STATUS_NULL_POINTER, "packed is NULL");
  if (reinterpret_cast<uintptr_t>(scales) % 2 || reinterpret_cast<uintptr_t>(packed) % 16)
    return marlin_fail(MARLIN_STATUS_MISALIGNED, "scales must be 2-byte and packed 16-byte aligned");
  const int64_t n_pad = (n + 63) / 64 * 64, total = groups * n_pad;
  repack_scales_kernel<<<grid_for(total), 256, 0, stream>>>(static_cast<const uint16_t *>(scales), n,
                                                           n_pad, total, static_cast<uint16_t *>(packed));
  return launched("launching the scale repack");
}

extern "C" marlin_status marlin_repack_zeros(marlin_scheme scheme, marlin_checkpoint_format format,
                                             int64_t k, int64_t n, int32_t group_size,
                                             const int32_t *qzeros, void *packed,
                                             cudaStream_t stream) {
  marlin_clear_error();
  const marlin_scheme_info *si = marlin_scheme_info_get(scheme);
  if (!si) return marlin_fail(MARLIN_STATUS_INVALID_SCHEME, "unknown scheme %d", int(scheme));
  if (si->zero != MARLIN_ZERO_INT || si->bits != 4)
    return marlin_fail(MARLIN_STATUS_INVALID_SCHEME,
                       "scheme %s has no integer zero points to repack", si->name);
  if (format != MARLIN_CHECKPOINT_AWQ)
    return marlin_fail(MARLIN_STATUS_INVALID_SCHEME, "zero points are read from AWQ qzeros only");
  marlin_status st = check_kn(k, n);
  if (st != MARLIN_STATUS_SUCCESS) return st;
  int64_t groups = 0;
  if ((st = check_groups(si, k, group_size, &groups)) != MARLIN_STATUS_SUCCESS) return st;
  if (!qzeros) return marlin_fail(MARLIN_STATUS_NULL_POINTER, "qzeros is NULL");
  if (!packed) return marlin_fail(MARLIN_STATUS_NULL_POINTER, "packed is NULL");
  if (reinterpret_cast<uintptr_t>(qzeros) % 4 || reinterpret_cast<uintptr_t>(packed) % 16)
    return marlin_fail(MARLIN_STATUS_MISALIGNED, "qzeros must be 4-byte and packed 16-byte aligned");
  const int64_t n_pad = (n + 63) / 64 * 64, total = groups * (n_pad / 8);
  repack_awq_zeros_kernel<<<grid_for(total), 256, 0, stream>>>(qzeros, n, n_pad, total,
                                                              static_cast<uint32_t *>(packed));
  return launched("launching the zero-point repack");
}
