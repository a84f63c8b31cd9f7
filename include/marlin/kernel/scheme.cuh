// Compile-time traits of the schemes.def rows that have kernels, and the
// activation types: what the kernel templates are instantiated over.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "marlin/kernel/plan.h"
#include "marlin/marlin.h"

namespace marlin {

template <marlin_scheme S>
struct Scheme;
template <>
struct Scheme<MARLIN_SCHEME_GPTQ4> {
  static constexpr int bits = 4, bias = 8;
  static constexpr bool has_zero = false, act_order = true;
};
template <>
struct Scheme<MARLIN_SCHEME_GPTQ8> {
  static constexpr int bits = 8, bias = 128;
  static constexpr bool has_zero = false, act_order = true;
};
template <>
struct Scheme<MARLIN_SCHEME_AWQ4> {
  static constexpr int bits = 4, bias = 0;
  static constexpr bool has_zero = true, act_order = false;
};

// The packed weights (docs/layout.md) of BITS-bit codes: words per 64
// columns of a k16 row, and words from one k16 row to the next.
template <int BITS>
constexpr int kPackedWords64 = BITS == 4 ? 128 : 256;
template <int BITS>
__device__ __forceinline__ int64_t packed_row_words(const marlin_dense_params &p) {
  return int64_t(kPackedWords64<BITS> / 64) * p.n_pad;
}

template <marlin_dtype A>
struct Act;
template <>
struct Act<MARLIN_DTYPE_FP16> {
  using type = half;
};
template <>
struct Act<MARLIN_DTYPE_BF16> {
  using type = __nv_bfloat16;
};

}  // namespace marlin
