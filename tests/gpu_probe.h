/* GPU presence probe for marlin's GPU test programs.
 *
 *   int main(int argc, char **argv) {
 *     if (!marlin_test_have_gpu()) return 77; // meson: SKIP
 *     ...
 *   }
 *
 * Probe in main(), never in a cmocka group setup: a skip there is reported as
 * a failed setup. On a machine without a GPU (or driver) cudaGetDeviceCount
 * fails (e.g. cudaErrorInsufficientDriver, 35) or reports 0 devices.
 */
#ifndef MARLIN_TESTS_GPU_PROBE_H
#define MARLIN_TESTS_GPU_PROBE_H

#include <stdio.h>

#include <cuda_runtime_api.h>

#if defined(__GNUC__)
#define MARLIN_PROBE_UNUSED __attribute__((unused))
#else
#define MARLIN_PROBE_UNUSED
#endif

/* 1 if at least one CUDA device is usable; else prints
 * "no CUDA device: skipping (...)" to stdout and returns 0. */
MARLIN_PROBE_UNUSED
static int marlin_test_have_gpu(void) {
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    printf("no CUDA device: skipping (cudaGetDeviceCount: %s, error %d)\n",
           cudaGetErrorString(err), (int)err);
    fflush(stdout);
    cudaGetLastError(); /* reset the error so later runtime calls do not report it */
    return 0;
  }
  if (count == 0) {
    printf("no CUDA device: skipping (cudaGetDeviceCount reported 0 devices)\n");
    fflush(stdout);
    return 0;
  }
  return 1;
}

#endif
