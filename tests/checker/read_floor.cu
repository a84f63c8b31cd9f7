// The benchmark's read floor: a kernel that only reads a buffer once, in
// 16-byte loads with four in flight per thread (enough bytes in flight to
// cover the DRAM latency), launched as the GEMMs are. Its time for a layer's
// packed weights bounds what any kernel that reads those weights once can
// reach with an ordinary launch: the launch gap, the first DRAM round trip
// and the transfer, nothing else (docs/performance.md).
#include <cuda_runtime.h>
#include <stdint.h>

namespace {

__device__ __forceinline__ uint32_t fold(uint4 v) { return v.x ^ v.y ^ v.z ^ v.w; }

__global__ void __launch_bounds__(256) read_floor_kernel(const uint4 *__restrict__ p, size_t n16, uint32_t *sink) {
  const size_t stride = size_t(gridDim.x) * blockDim.x;
  size_t i = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  uint32_t x = 0;
  for (; i + 3 * stride < n16; i += 4 * stride) {
    const uint4 a = __ldcs(p + i), b = __ldcs(p + i + stride), c = __ldcs(p + i + 2 * stride),
                d = __ldcs(p + i + 3 * stride);
    x ^= fold(a) ^ fold(b) ^ fold(c) ^ fold(d);
  }
  for (; i < n16; i += stride) x ^= fold(__ldcs(p + i));
  if (x == 0x9e3779b9u) *sink = x;  // (practically) never: keeps the loads
}

}  // namespace

// Enqueues one read of the first bytes (a multiple of 16) of p; sink: one
// device word. Returns a cudaError_t value.
extern "C" int marlin_check_read_floor(const void *p, size_t bytes, void *sink, int sms, cudaStream_t s) {
  const size_t n16 = bytes / 16;
  size_t blocks = (n16 + 4 * 256 - 1) / (4 * 256);
  if (blocks > size_t(sms) * 8) blocks = size_t(sms) * 8;  // 2048 threads per SM
  if (blocks < 1) blocks = 1;
  read_floor_kernel<<<unsigned(blocks), 256, 0, s>>>(static_cast<const uint4 *>(p), n16,
                                                      static_cast<uint32_t *>(sink));
  return int(cudaGetLastError());
}
