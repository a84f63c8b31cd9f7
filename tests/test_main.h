/* Shared main() helper for marlin's cmocka test programs.
 *
 *   int main(int argc, char **argv) {
 *     static const struct CMUnitTest tests[] = {cmocka_unit_test(test_x), ...};
 *     return marlin_test_main(tests, sizeof tests / sizeof tests[0], argc, argv);
 *   }
 *
 * prog            runs every case
 * prog NAME [...] runs only the case named NAME (exit 99 if there is none);
 *                 further arguments are left to the program
 * prog --list     prints the case names, one per line
 * prog --check-registered NAME...
 *                 exits 0 iff the NAMEs are exactly the program's cases (in any
 *                 order): meson.build registers it so that a case missing from
 *                 the meson test list fails instead of silently not running
 *
 * Each tests/<dir>/meson.build registers every case as its own meson test
 * (args: [NAME]), so `meson test` counts cases. Exit status: 0 when every selected case
 * passes, non-zero otherwise (cmocka's failure count).
 */
#ifndef MARLIN_TESTS_TEST_MAIN_H
#define MARLIN_TESTS_TEST_MAIN_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#if defined(__GNUC__)
#define MARLIN_TEST_UNUSED __attribute__((unused))
#else
#define MARLIN_TEST_UNUSED
#endif

/* The group name cmocka prints: the program's base name. */
static const char *marlin_test_group_name(const char *argv0) {
  const char *name = argv0 ? argv0 : "marlin-test";
  for (const char *p = name; *p; p++)
    if (*p == '/' || *p == '\\') name = p + 1;
  return name;
}

MARLIN_TEST_UNUSED
static int marlin_test_main(const struct CMUnitTest *tests, size_t count, int argc, char **argv) {
  const char *group = marlin_test_group_name(argc > 0 ? argv[0] : NULL);
  if (argc < 2) return _cmocka_run_group_tests(group, tests, count, NULL, NULL);

  if (strcmp(argv[1], "--list") == 0) {
    for (size_t i = 0; i < count; i++) printf("%s\n", tests[i].name);
    return 0;
  }
  if (strcmp(argv[1], "--check-registered") == 0) {
    int bad = 0;
    for (size_t i = 0; i < count; i++) {
      int found = 0;
      for (int j = 2; j < argc; j++) found |= strcmp(argv[j], tests[i].name) == 0;
      if (!found) {
        fprintf(stderr, "%s: case '%s' is not registered in meson.build\n", group, tests[i].name);
        bad = 1;
      }
    }
    for (int j = 2; j < argc; j++) {
      int found = 0;
      for (size_t i = 0; i < count; i++) found |= strcmp(argv[j], tests[i].name) == 0;
      if (!found) {
        fprintf(stderr, "%s: meson.build registers '%s', which is not a case\n", group, argv[j]);
        bad = 1;
      }
    }
    return bad;
  }
  for (size_t i = 0; i < count; i++)
    if (strcmp(tests[i].name, argv[1]) == 0)
      return _cmocka_run_group_tests(group, &tests[i], 1, NULL, NULL);
  fprintf(stderr, "%s: no test case named '%s' (--list prints the names)\n", group, argv[1]);
  return 99;
}

#endif
