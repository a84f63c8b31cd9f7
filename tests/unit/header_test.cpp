/* The C++ variant of header_test.c: same checks under a C++ compiler. */
#include "header_test.c"
