// The Hopper path's inner step on the GPU: marlin's packed gptq4 weights,
// dequantized by the library's dequant4 into wgmma's register operand A (the
// operand swap, docs/hopper.md), times fp16 activations in 128-byte-swizzled
// shared memory (operand B), against the CPU reference. sm_90 only: exit 77
// elsewhere and without a GPU.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "gpu_probe.h"
#include "marlin/kernel/dequant.cuh"
#include "marlin/kernel/wgmma.cuh"
#include "marlin/marlin_ref.h"

namespace {

constexpr int COLS = 64, K = 64, TOKENS = 16;  // one 64-column block, 4 k16 blocks, wgmma N = 16

// C[token][col] = X[token][:] . W[:][col]; one warpgroup.
__global__ void gptq4_rs_step(const uint32_t *packed_w, const half *packed_s, const half *x, float *c) {
  __shared__ __align__(1024) half sx[TOKENS * K];
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  for (int i = tid; i < TOKENS * K; i += blockDim.x) {  // 128-byte swizzle: chunk k/8 of row n at (k/8) ^ (n%8)
    const int n = i / K, k = i % K;
    sx[n * K + (((k / 8) ^ (n % 8)) * 8) + k % 8] = x[i];
  }
  marlin::wgmma::fence_shared_for_async();
  __syncthreads();

  // Warp w gives A rows 16w .. 16w+15 = the block's 16-column sub-tile j = w:
  // word j of the lane's 4 words per k16 row (docs/layout.md).
  const int g = lane / 4;
  const half2 sa = __half2half2(packed_s[8 * g + 2 * warp]);      // column g + 16w
  const half2 sb = __half2half2(packed_s[8 * g + 2 * warp + 1]);  // column g + 16w + 8
  const marlin::Offset4<half> off = marlin::offset4(__float2half(8.f));
  uint32_t a[K / 16][4];
  for (int kb = 0; kb < K / 16; ++kb) {
    half2 v[4];  // v[0], v[1]: column g + 16w, k rows (2t, 2t+1), (2t+8, 2t+9); v[2], v[3]: column + 8
    marlin::dequant4(packed_w[kb * 2 * COLS + 4 * lane + warp], off, off, v);
    v[0] = __hmul2(v[0], sa), v[1] = __hmul2(v[1], sa), v[2] = __hmul2(v[2], sb), v[3] = __hmul2(v[3], sb);
    a[kb][0] = marlin::as_u32(v[0]);  // rows (g, g+8) x k pairs (2t, 2t+8)
    a[kb][1] = marlin::as_u32(v[2]);
    a[kb][2] = marlin::as_u32(v[1]);
    a[kb][3] = marlin::as_u32(v[3]);
  }
  float d[8];
  marlin::wgmma::fence();
  for (int kb = 0; kb < K / 16; ++kb)
    marlin::wgmma::mma_rs<16, half>(
        d, a[kb], marlin::wgmma::smem_desc(sx + kb * 16, 16, 1024, marlin::wgmma::SWIZZLE_128B), kb > 0);
  marlin::wgmma::commit();
  marlin::wgmma::wait<0>();
  const int t = lane % 4;
  for (int j = 0; j < 2; ++j)
    for (int h = 0; h < 2; ++h)
      for (int e = 0; e < 2; ++e) c[(8 * j + 2 * t + e) * COLS + 16 * warp + g + 8 * h] = d[4 * j + 2 * h + e];
}

}  // namespace

int main() {
  if (!marlin_test_have_gpu()) return 77;
  int dev = 0, major = 0, minor = 0;
  cudaGetDevice(&dev);
  cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev);
  cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev);
  if (major != 9 || minor != 0) {
    printf("sm_%d%d: the wgmma test needs sm_90: skipped\n", major, minor);
    return 77;
  }
  const marlin_dtype dt = MARLIN_DTYPE_FP16;
  std::vector<float> w(K * COLS), wd(K * COLS), fx(TOKENS * K);
  std::vector<uint8_t> codes(K * COLS);
  std::vector<uint16_t> scales(COLS), hx(TOKENS * K);
  srand(7);
  for (auto &v : w) v = (rand() % 2001 - 1000) * 1e-4f;
  for (int i = 0; i < TOKENS * K; ++i) {
    hx[i] = marlin_ref_float_to_half((rand() % 2001 - 1000) * 1e-3f, dt);
    fx[i] = marlin_ref_half_to_float(hx[i], dt);
  }
  marlin_packed_sizes sz;
  if (marlin_ref_quantize(MARLIN_SCHEME_GPTQ4, dt, w.data(), K, COLS, -1, nullptr, codes.data(), scales.data(),
                          nullptr) ||
      marlin_ref_dequantize(MARLIN_SCHEME_GPTQ4, dt, codes.data(), scales.data(), nullptr, K, COLS, -1, nullptr,
                            wd.data()) ||
      marlin_ref_packed_sizes(MARLIN_SCHEME_GPTQ4, K, COLS, -1, &sz)) {
    printf("CPU reference failed\n");
    return 1;
  }
  std::vector<uint8_t> pw(sz.weights), ps(sz.scales);
  marlin_ref_pack_weights(MARLIN_SCHEME_GPTQ4, codes.data(), K, COLS, nullptr, pw.data());
  marlin_ref_pack_scales(scales.data(), 1, COLS, reinterpret_cast<uint16_t *>(ps.data()));

  uint32_t *d_w;
  half *d_s, *d_x;
  float *d_c;
  cudaMalloc(&d_w, sz.weights), cudaMalloc(&d_s, sz.scales), cudaMalloc(&d_x, 2 * TOKENS * K);
  cudaMalloc(&d_c, sizeof(float) * TOKENS * COLS);
  cudaMemcpy(d_w, pw.data(), sz.weights, cudaMemcpyHostToDevice);
  cudaMemcpy(d_s, ps.data(), sz.scales, cudaMemcpyHostToDevice);
  cudaMemcpy(d_x, hx.data(), 2 * TOKENS * K, cudaMemcpyHostToDevice);
  cudaMemset(d_c, 0xff, sizeof(float) * TOKENS * COLS);  // NaN poison
  gptq4_rs_step<<<1, 128>>>(d_w, d_s, d_x, d_c);
  const cudaError_t err = cudaDeviceSynchronize();
  std::vector<float> out(TOKENS * COLS);
  cudaMemcpy(out.data(), d_c, sizeof(float) * TOKENS * COLS, cudaMemcpyDeviceToHost);
  if (err != cudaSuccess) {
    printf("kernel: %s\n", cudaGetErrorString(err));
    return 1;
  }
  // fp16 products of a dequantized weight and an activation are exact in the
  // fp32 accumulator up to rounding of the dequantized weight (w * s in fp16)
  double num = 0, den = 0;
  int bad = 0;
  for (int t = 0; t < TOKENS; ++t)
    for (int col = 0; col < COLS; ++col) {
      double ref = 0;
      for (int k = 0; k < K; ++k) ref += double(fx[t * K + k]) * wd[k * COLS + col];
      const double o = out[t * COLS + col];
      if (!std::isfinite(o)) ++bad;
      num += (o - ref) * (o - ref), den += ref * ref;
    }
  const double rel = std::sqrt(num / den);
  printf("wgmma m64n16k16 RS, gptq4 packed weights: relative error %.3e (tolerance 2e-3), %d unwritten\n", rel, bad);
  cudaFree(d_w), cudaFree(d_s), cudaFree(d_x), cudaFree(d_c);
  return bad == 0 && rel <= 2e-3 ? 0 : 1;
}
