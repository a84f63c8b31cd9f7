/* Compiles against marlin-headers alone: the public C header is
 * self-contained and needs neither CUDA's include path nor the library. */
#include <marlin/marlin.h>
#include <stdio.h>

int main(void) {
  marlin_scheme s = MARLIN_SCHEME_GPTQ4;
  marlin_dtype a = MARLIN_DTYPE_FP16;
  printf("marlin headers %d.%d.%d: scheme %d, act %d\n", MARLIN_VERSION_MAJOR,
         MARLIN_VERSION_MINOR, MARLIN_VERSION_PATCH, (int)s, (int)a);
  return 0;
}
