// Dequantization in registers: packed integer codes -> pairs of fp16/bf16
// values laid out as mma.m16n8k16 B fragments (docs/layout.md), with the
// scheme's offset (fixed bias or zero point) subtracted exactly. Scaling is
// done by the caller.
//
// The tricks: a 4-bit code OR-ed into the low mantissa of 1024.0 (fp16) or
// 128.0 (bf16) gives 1024 + q (128 + q) exactly, so one subtraction of
// (1024 + offset) yields q - offset with no rounding. 8-bit codes use a byte
// permute to build 1024 + q in fp16, or 2^23 + q in fp32 for bf16 (whose 8-bit
// mantissa cannot hold 128 + q for q >= 128).
#pragma once

#include <type_traits>

#include "marlin/kernel/ptx.cuh"

namespace marlin {

template <class T>
struct Vec2;
template <>
struct Vec2<half> {
  using type = half2;
};
template <>
struct Vec2<__nv_bfloat16> {
  using type = __nv_bfloat162;
};

template <class T2>
__device__ __forceinline__ T2 as_vec2(uint32_t u) {
  return *reinterpret_cast<T2 *>(&u);
}
template <class T2>
__device__ __forceinline__ uint32_t as_u32(T2 v) {
  return *reinterpret_cast<uint32_t *>(&v);
}

__device__ __forceinline__ half2 broadcast2(half x) { return __half2half2(x); }
__device__ __forceinline__ __nv_bfloat162 broadcast2(__nv_bfloat16 x) { return __bfloat162bfloat162(x); }

__device__ __forceinline__ half2 to_vec2(float a, float b, half *) { return __floats2half2_rn(a, b); }
__device__ __forceinline__ __nv_bfloat162 to_vec2(float a, float b, __nv_bfloat16 *) {
  return __floats2bfloat162_rn(a, b);
}

// Offsets subtracted from the magic-biased codes of one 8-column half: `lo`
// for codes in bits 0..3 of each 16-bit lane, `hi` for bits 4..7 (fp16 only).
template <class T>
struct Offset4 {
  typename Vec2<T>::type lo, hi;
};

// Offset for a code minus `zero` (zero = fixed bias or zero point, 0..15).
__device__ __forceinline__ Offset4<half> offset4(half zero) {
  const half2 z = __half2half2(zero);
  Offset4<half> o;
  o.lo = __hadd2(z, __half2half2(__ushort_as_half(0x6400)));  // 1024 + z
  o.hi = __hneg2(__hadd2(z, __half2half2(__ushort_as_half(0x5400))));  // -(64 + z)
  return o;
}
__device__ __forceinline__ Offset4<__nv_bfloat16> offset4(__nv_bfloat16 zero) {
  const __nv_bfloat162 z = __bfloat162bfloat162(zero);
  Offset4<__nv_bfloat16> o;
  o.lo = __hadd2(z, __bfloat162bfloat162(__ushort_as_bfloat16(0x4300)));  // 128 + z
  o.hi = o.lo;
  return o;
}

// Half-2 lane h of x in both lanes (a free operand swizzle for the consumer).
__device__ __forceinline__ half2 lane2(half2 x, int h) { return h ? __high2half2(x) : __low2half2(x); }
__device__ __forceinline__ __nv_bfloat162 lane2(__nv_bfloat162 x, int h) {
  return h ? __high2bfloat162(x) : __low2bfloat162(x);
}

// AWQ zero points of one k16 block for one lane. The packed word's byte j
// holds the zero of column c + 16j in bits 0..3 and of column c + 16j + 8 in
// bits 4..7: the same magic-number OR as for the codes turns it, four lop3s
// for the whole block, into pairs (1024 + z, 1024 + z') of two columns' offsets
// (128 + z in bf16); for fp16 one subtraction per pair gives the high-nibble
// offsets -(64 + z). Column pair j then reads lane j / 2 of pair j % 2.
template <class T>
struct Zeros4 {
  using T2 = typename Vec2<T>::type;
  T2 lo_a[2], lo_b[2];  // [j % 2]: columns c + 16j (a) and c + 16j + 8 (b)
  T2 hi_a[2], hi_b[2];  // fp16 only (bf16 uses lo for both nibbles)
  __device__ __forceinline__ Offset4<T> a(int j) const { return pick(lo_a, hi_a, j); }
  __device__ __forceinline__ Offset4<T> b(int j) const { return pick(lo_b, hi_b, j); }

 private:
  __device__ __forceinline__ static Offset4<T> pick(const T2 (&lo)[2], const T2 (&hi)[2], int j) {
    Offset4<T> o;
    o.lo = lane2(lo[j & 1], j >> 1);
    if constexpr (std::is_same<T, half>::value) {
      o.hi = lane2(hi[j & 1], j >> 1);
    } else {
      o.hi = o.lo;  // bf16 subtracts the same offset from both nibbles
    }
    return o;
  }
};

// fp16: the high-nibble offset -(64 + z) from the low-nibble one 1024 + z
// (dequant4 scales the high nibble's 1024 + 16 q by 1/16 first).
__device__ __forceinline__ half2 high_nibble_offset(half2 lo) {
  return __hsub2(__half2half2(__ushort_as_half(0x6380)), lo);  // 960 - (1024 + z) = -(64 + z)
}

template <class T>
__device__ __forceinline__ Zeros4<T> zeros4(uint32_t z, T *) {
  using T2 = typename Vec2<T>::type;
  constexpr bool fp16 = std::is_same<T, half>::value;
  const uint32_t magic = fp16 ? 0x64006400u : 0x43004300u;  // 1024 (fp16), 128 (bf16)
  Zeros4<T> r;
  r.lo_a[0] = as_vec2<T2>(ptx::and_or(z, 0x000f000fu, magic));        // bytes 0, 2
  r.lo_a[1] = as_vec2<T2>(ptx::and_or(z >> 8, 0x000f000fu, magic));   // bytes 1, 3
  r.lo_b[0] = as_vec2<T2>(ptx::and_or(z >> 4, 0x000f000fu, magic));
  r.lo_b[1] = as_vec2<T2>(ptx::and_or(z >> 12, 0x000f000fu, magic));
  if constexpr (fp16) {
    for (int i = 0; i < 2; ++i) {
      r.hi_a[i] = high_nibble_offset(r.lo_a[i]);
      r.hi_b[i] = high_nibble_offset(r.lo_b[i]);
    }
  }
  return r;
}

// AWQ, one word alone: the offsets of 4-bit word j's two columns (c + 16j,
// c + 16j + 8) from the packed zero-point word z (byte j: their zero points
// in bits 0..3 and 4..7), each broadcast over both halves: a byte permute
// puts byte j in bytes 0 and 2, then the same magic-number OR as zeros4.
// For consumers that need a few words' offsets held in registers (the
// wgmma kernel): zeros4 builds all four words' at once, but as pairs that
// need a lane swizzle, which costs a permute when the offsets are kept.
template <class T>
__device__ __forceinline__ void word_zero_offsets(uint32_t z, int j, Offset4<T> &za, Offset4<T> &zb) {
  using T2 = typename Vec2<T>::type;
  constexpr bool fp16 = std::is_same<T, half>::value;
  const uint32_t magic = fp16 ? 0x64006400u : 0x43004300u;  // 1024 (fp16), 128 (bf16)
  const uint32_t t = ptx::prmt(z, 0u, 0x4040u | uint32_t(j) | (uint32_t(j) << 8));
  za.lo = as_vec2<T2>(ptx::and_or(t, 0x000f000fu, magic));
  zb.lo = as_vec2<T2>(ptx::and_or(t >> 4, 0x000f000fu, magic));
  if constexpr (fp16) {
    za.hi = high_nibble_offset(za.lo);
    zb.hi = high_nibble_offset(zb.lo);
  } else {
    za.hi = za.lo;
    zb.hi = zb.lo;
  }
}

// The offsets of 4-bit word j's two columns (c + 16j, c + 16j + 8): the AWQ
// zero points of the block, or `fixed` (offset4 of the scheme's bias).
template <bool HAS_ZERO, class T>
__device__ __forceinline__ void word_offsets(const Zeros4<T> &zeros, const Offset4<T> &fixed, int j,
                                             Offset4<T> &za, Offset4<T> &zb) {
  if constexpr (HAS_ZERO) {
    za = zeros.a(j);
    zb = zeros.b(j);
  } else {
    za = zb = fixed;
  }
}

// One 32-bit word of 4-bit codes (nibbles in layout order) -> four register
// pairs: v[0] = rows (r0, r0+1) and v[1] = rows (r0+8, r0+9) of column c;
// v[2], v[3] the same for column c+8. Values are code - zero, exact.
__device__ __forceinline__ void dequant4(uint32_t q, const Offset4<half> &za,
                                         const Offset4<half> &zb, half2 (&v)[4]) {
  const uint32_t magic = 0x64006400u;
  const uint32_t q8 = q >> 8;
  const half2 sixteenth = __half2half2(__ushort_as_half(0x2c00));  // 1/16
  v[0] = __hsub2(as_vec2<half2>(ptx::and_or(q, 0x000f000fu, magic)), za.lo);
  v[1] = __hfma2(as_vec2<half2>(ptx::and_or(q, 0x00f000f0u, magic)), sixteenth, za.hi);
  v[2] = __hsub2(as_vec2<half2>(ptx::and_or(q8, 0x000f000fu, magic)), zb.lo);
  v[3] = __hfma2(as_vec2<half2>(ptx::and_or(q8, 0x00f000f0u, magic)), sixteenth, zb.hi);
}

__device__ __forceinline__ void dequant4(uint32_t q, const Offset4<__nv_bfloat16> &za,
                                         const Offset4<__nv_bfloat16> &zb,
                                         __nv_bfloat162 (&v)[4]) {
  const uint32_t magic = 0x43004300u;
  v[0] = __hsub2(as_vec2<__nv_bfloat162>(ptx::and_or(q, 0x000f000fu, magic)), za.lo);
  v[1] = __hsub2(as_vec2<__nv_bfloat162>(ptx::and_or(q >> 4, 0x000f000fu, magic)), za.lo);
  v[2] = __hsub2(as_vec2<__nv_bfloat162>(ptx::and_or(q >> 8, 0x000f000fu, magic)), zb.lo);
  v[3] = __hsub2(as_vec2<__nv_bfloat162>(ptx::and_or(q >> 12, 0x000f000fu, magic)), zb.lo);
}

// One 32-bit word of 8-bit codes, bytes = rows (r0, r0+8, r0+1, r0+9) of one
// column -> v[0] = rows (r0, r0+1), v[1] = rows (r0+8, r0+9); values code - 128.
__device__ __forceinline__ void dequant8(uint32_t q, half2 (&v)[2]) {
  const half2 bias = __half2half2(__ushort_as_half(0x6480));  // 1024 + 128
  v[0] = __hsub2(as_vec2<half2>(ptx::prmt(q, 0x64646464u, 0x4240u)), bias);
  v[1] = __hsub2(as_vec2<half2>(ptx::prmt(q, 0x64646464u, 0x4341u)), bias);
}

__device__ __forceinline__ void dequant8(uint32_t q, __nv_bfloat162 (&v)[2]) {
  const float bias = 8388736.0f;  // 2^23 + 128
  const float r0 = __uint_as_float(ptx::prmt(q, 0x4b000000u, 0x7540u)) - bias;
  const float r8 = __uint_as_float(ptx::prmt(q, 0x4b000000u, 0x7541u)) - bias;
  const float r1 = __uint_as_float(ptx::prmt(q, 0x4b000000u, 0x7542u)) - bias;
  const float r9 = __uint_as_float(ptx::prmt(q, 0x4b000000u, 0x7543u)) - bias;
  v[0] = __floats2bfloat162_rn(r0, r1);
  v[1] = __floats2bfloat162_rn(r8, r9);
}

}  // namespace marlin
