/* Header self-containment test, compiled once per public header as C (and,
 * through header_test.cpp, as C++) with -Wall -Wextra -pedantic -Werror.
 * meson defines MARLIN_TEST_HEADER (e.g. <marlin/marlin.h>); with
 * MARLIN_TEST_CUDART=1 or 2 the CUDA runtime header is included before or
 * after it, checking that marlin.h's cudaStream_t typedef agrees with CUDA's. */
#if MARLIN_TEST_CUDART == 1
#ifdef __cplusplus
#include <cuda_runtime.h>
#else
#include <cuda_runtime_api.h>
#endif
#endif

#include MARLIN_TEST_HEADER
#include MARLIN_TEST_HEADER /* include guard */

#if MARLIN_TEST_CUDART == 2
#ifdef __cplusplus
#include <cuda_runtime.h>
#else
#include <cuda_runtime_api.h>
#endif
#endif

int main(void) {
#if MARLIN_TEST_CUDART
  cudaStream_t stream = 0;
  (void)stream;
#endif
  return 0;
}
