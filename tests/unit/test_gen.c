/* Tests of the kernel generator, gen/marlin-gen.c: the exact --list output for
 * several option sets, the validation errors (exit status 2 with a message),
 * and --outdir's file contents and write-only-if-changed behaviour.
 *
 * The built marlin-gen is named by the MARLIN_GEN environment variable
 * (tests/unit/meson.build sets it). POSIX: popen, mkdtemp, utimensat. */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_main.h"

/* ---- running the generator ----------------------------------------------- */

typedef struct {
  int status; /* exit status, or -1 if it did not exit normally */
  char out[8192];
  char err[4096];
} run_result;

static const char *gen_path(void) {
  const char *p = getenv("MARLIN_GEN");
  if (!p || !*p) fail_msg("MARLIN_GEN is not set (tests/unit/meson.build sets it)");
  return p;
}

static void read_file(const char *path, char *buf, size_t size) {
  buf[0] = '\0';
  FILE *f = fopen(path, "rb");
  if (!f) return;
  size_t n = fread(buf, 1, size - 1, f);
  buf[n] = '\0';
  fclose(f);
}

/* Runs `marlin-gen ARGS`, capturing stdout and stderr. */
static run_result *run_gen(const char *args) {
  static run_result r;
  char errpath[] = "/tmp/marlin-gen-err-XXXXXX";
  int fd = mkstemp(errpath);
  assert_true(fd >= 0);
  close(fd);
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "'%s' %s 2>'%s'", gen_path(), args, errpath);
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  size_t n = fread(r.out, 1, sizeof r.out - 1, p);
  r.out[n] = '\0';
  int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  read_file(errpath, r.err, sizeof r.err);
  unlink(errpath);
  return &r;
}

static void expect_list(const char *options, const char *want) {
  char args[1024];
  snprintf(args, sizeof args, "%s --list", options);
  run_result *r = run_gen(args);
  if (r->status != 0) fail_msg("marlin-gen %s: exit %d, stderr: %s", args, r->status, r->err);
  if (strcmp(r->out, want) != 0)
    fail_msg("marlin-gen %s printed\n%s\nwant\n%s", args, r->out, want);
  assert_string_equal(r->err, "");
}

/* Asserts exit status 2, nothing on stdout and a message containing each of
 * the needles (NULL-terminated). */
static void expect_error(const char *options, const char *needle, ...) {
  char args[1024];
  snprintf(args, sizeof args, "%s --list", options);
  run_result *r = run_gen(args);
  if (r->status != 2)
    fail_msg("marlin-gen %s: exit %d, want 2; stdout: %s stderr: %s", args, r->status, r->out,
             r->err);
  assert_string_equal(r->out, "");
  va_list ap;
  va_start(ap, needle);
  for (const char *s = needle; s; s = va_arg(ap, const char *))
    if (!strstr(r->err, s)) fail_msg("marlin-gen %s: stderr \"%s\" lacks \"%s\"", args, r->err, s);
  va_end(ap);
}

/* ---- --list -------------------------------------------------------------- */

static void gen_list_gptq4_sm80(void **state) {
  (void)state;
  expect_list("--schemes=gptq4 --acts=fp16,bf16 --archs=80",
              "marlin_gemm_gptq4_fp16_sm80.cu\n"
              "marlin_gemm_gptq4_bf16_sm80.cu\n");
  expect_list("--schemes=gptq4 --acts=fp16 --archs=80", "marlin_gemm_gptq4_fp16_sm80.cu\n");
}

static void gen_list_add_awq4(void **state) {
  (void)state;
  expect_list("--schemes=gptq4,awq4 --acts=fp16,bf16 --archs=80",
              "marlin_gemm_gptq4_fp16_sm80.cu\n"
              "marlin_gemm_gptq4_bf16_sm80.cu\n"
              "marlin_gemm_awq4_fp16_sm80.cu\n"
              "marlin_gemm_awq4_bf16_sm80.cu\n");
  expect_list("--schemes=gptq4,gptq8,awq4 --acts=bf16 --archs=80",
              "marlin_gemm_gptq4_bf16_sm80.cu\n"
              "marlin_gemm_gptq8_bf16_sm80.cu\n"
              "marlin_gemm_awq4_bf16_sm80.cu\n");
}

static void gen_list_order(void **state) {
  (void)state;
  /* schemes and acts follow the table order, archs the command-line order */
  expect_list("--schemes=awq4,gptq4 --acts=bf16,fp16 --archs=90a,80",
              "marlin_gemm_gptq4_fp16_sm90a.cu\n"
              "marlin_gemm_gptq4_fp16_sm80.cu\n"
              "marlin_gemm_gptq4_bf16_sm90a.cu\n"
              "marlin_gemm_gptq4_bf16_sm80.cu\n"
              "marlin_gemm_awq4_fp16_sm90a.cu\n"
              "marlin_gemm_awq4_fp16_sm80.cu\n"
              "marlin_gemm_awq4_bf16_sm90a.cu\n"
              "marlin_gemm_awq4_bf16_sm80.cu\n");
}

static void gen_list_arch_names(void **state) {
  (void)state;
  expect_list("--schemes=gptq4 --acts=fp16 --archs=75,86,87,89,90,90a,100,120",
              "marlin_gemm_gptq4_fp16_sm75.cu\n"
              "marlin_gemm_gptq4_fp16_sm86.cu\n"
              "marlin_gemm_gptq4_fp16_sm87.cu\n"
              "marlin_gemm_gptq4_fp16_sm89.cu\n"
              "marlin_gemm_gptq4_fp16_sm90.cu\n"
              "marlin_gemm_gptq4_fp16_sm90a.cu\n"
              "marlin_gemm_gptq4_fp16_sm100.cu\n"
              "marlin_gemm_gptq4_fp16_sm120.cu\n");
}

static void gen_list_skips_low_archs(void **state) {
  (void)state;
  /* bf16 needs sm80: no bf16 TU for sm75, but fp16 gets both */
  expect_list("--schemes=gptq4 --acts=fp16,bf16 --archs=75,80",
              "marlin_gemm_gptq4_fp16_sm75.cu\n"
              "marlin_gemm_gptq4_fp16_sm80.cu\n"
              "marlin_gemm_gptq4_bf16_sm80.cu\n");
}

static void gen_list_option_forms(void **state) {
  (void)state;
  /* "--opt value" is accepted as well as "--opt=value" */
  expect_list("--schemes gptq4 --acts fp16 --archs 80", "marlin_gemm_gptq4_fp16_sm80.cu\n");
}

/* ---- validation ---------------------------------------------------------- */

static void gen_fp8_needs_sm89(void **state) {
  (void)state;
  expect_error("--schemes=gptq4 --acts=fp16,fp8 --archs=80", "fp8 activations need an sm89+ arch",
               "-Darchs", NULL);
}

static void gen_no_kernel_yet(void **state) {
  (void)state;
  expect_error("--schemes=hqq4 --acts=fp16 --archs=80", "hqq4", "no kernel yet", NULL);
  expect_error("--schemes=gptq4,hqq4 --acts=fp16 --archs=80", "hqq4", "no kernel yet", NULL);
  expect_error("--schemes=gptq4 --acts=fp16,int8 --archs=80", "int8", "no kernel yet", NULL);
  expect_error("--schemes=gptq4 --acts=fp16,fp8 --archs=89", "fp8", "no kernel yet", NULL);
  expect_error("--schemes=nvfp4 --acts=fp16 --archs=90a", "nvfp4", "no kernel yet", NULL);
}

static void gen_unknown_names(void **state) {
  (void)state;
  expect_error("--schemes=gptq3 --acts=fp16 --archs=80", "unknown scheme 'gptq3'", NULL);
  expect_error("--schemes=gptq4 --acts=fp32 --archs=80", "unknown activation dtype 'fp32'", NULL);
  expect_error("--schemes=gptq4 --acts=fp16 --archs=sm_80", "unknown arch 'sm_80'", NULL);
  expect_error("--schemes=gptq4 --acts=fp16 --archs=100a", "unknown arch '100a'", NULL);
  expect_error("--schemes=gptq4 --acts=fp16 --archs=8", "unknown arch '8'", NULL);
  expect_error("--schemes=GPTQ4 --acts=fp16 --archs=80", "unknown scheme", NULL);
  expect_error("--schemes=gptq4 --acts=fp16 --archs=80 --frobnicate", "--frobnicate", NULL);
}

static void gen_empty_lists(void **state) {
  (void)state;
  expect_error("--schemes= --acts=fp16 --archs=80", "-Dschemes", NULL);
  expect_error("--schemes=gptq4 --acts= --archs=80", "-Dacts", NULL);
  expect_error("--schemes=gptq4 --acts=fp16 --archs=", "-Darchs", NULL);
  expect_error("--acts=fp16 --archs=80", "--schemes", NULL);
  expect_error("--schemes=gptq4,,awq4 --acts=fp16 --archs=80", "empty", NULL);
}

static void gen_act_without_scheme(void **state) {
  (void)state;
  /* gptq8 takes only fp16/bf16 */
  expect_error("--schemes=gptq8 --acts=fp16,int8 --archs=80", "int8", "-Dacts", NULL);
}

static void gen_scheme_without_act(void **state) {
  (void)state;
  /* mxfp4 takes bf16 or fp8 only */
  expect_error("--schemes=gptq4,mxfp4 --acts=fp16 --archs=80", "mxfp4", "-Dacts=", "bf16", NULL);
}

static void gen_arch_too_low(void **state) {
  (void)state;
  expect_error("--schemes=gptq4 --acts=bf16 --archs=75", "bf16", "sm80", NULL);
  expect_error("--schemes=mxfp4 --acts=bf16 --archs=75", "mxfp4", "sm80", NULL);
}

static void gen_duplicates(void **state) {
  (void)state;
  expect_error("--schemes=gptq4,gptq4 --acts=fp16 --archs=80", "twice", NULL);
  expect_error("--schemes=gptq4 --acts=fp16 --archs=80,80", "twice", NULL);
}

static void gen_mode_required(void **state) {
  (void)state;
  run_result *r = run_gen("--schemes=gptq4 --acts=fp16 --archs=80");
  assert_int_equal(r->status, 2);
  assert_non_null(strstr(r->err, "--list"));
  r = run_gen("--schemes=gptq4 --acts=fp16 --archs=80 --list --outdir /tmp");
  assert_int_equal(r->status, 2);
}

static void gen_help(void **state) {
  (void)state;
  run_result *r = run_gen("--help");
  assert_int_equal(r->status, 0);
  assert_non_null(strstr(r->out, "usage: marlin-gen"));
  assert_non_null(strstr(r->out, "gptq4"));
  assert_non_null(strstr(r->out, "90a"));
}

/* ---- --outdir ------------------------------------------------------------ */

typedef struct {
  char path[256];
} tmpdir;

static void make_tmpdir(tmpdir *d) {
  snprintf(d->path, sizeof d->path, "/tmp/marlin-gen-test-XXXXXX");
  assert_non_null(mkdtemp(d->path));
}

static void remove_tmpdir(tmpdir *d) {
  DIR *dir = opendir(d->path);
  if (!dir) return;
  struct dirent *e;
  char p[512];
  while ((e = readdir(dir))) {
    if (e->d_name[0] == '.') continue;
    snprintf(p, sizeof p, "%s/%s", d->path, e->d_name);
    unlink(p);
  }
  closedir(dir);
  rmdir(d->path);
}

static void gen_outdir(const tmpdir *d, const char *options) {
  char args[1024];
  snprintf(args, sizeof args, "%s --outdir '%s'", options, d->path);
  run_result *r = run_gen(args);
  if (r->status != 0) fail_msg("marlin-gen %s: exit %d: %s", args, r->status, r->err);
  assert_string_equal(r->out, "");
}

static void file_text(const tmpdir *d, const char *name, char *buf, size_t size) {
  char p[512];
  snprintf(p, sizeof p, "%s/%s", d->path, name);
  struct stat st;
  if (stat(p, &st) != 0) fail_msg("%s was not written", p);
  read_file(p, buf, size);
}

static int count_files(const tmpdir *d) {
  DIR *dir = opendir(d->path);
  assert_non_null(dir);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(dir)))
    if (e->d_name[0] != '.') n++;
  closedir(dir);
  return n;
}

#define HEADER "/* Generated by marlin-gen from include/marlin/schemes.def; do not edit. */\n"

static void gen_outdir_contents(void **state) {
  (void)state;
  tmpdir d;
  make_tmpdir(&d);
  gen_outdir(&d, "--schemes=gptq4,awq4 --acts=fp16,bf16 --archs=80,90a");
  char buf[4096];
  file_text(&d, "marlin_gemm_gptq4_fp16_sm80.cu", buf, sizeof buf);
  assert_string_equal(buf, HEADER "#include \"marlin/kernel/dense.cuh\"\n"
                               "MARLIN_DENSE_INSTANCE(GPTQ4, FP16, 800, "
                               "marlin_gemm_gptq4_fp16_sm80)\n");
  file_text(&d, "marlin_gemm_awq4_bf16_sm90a.cu", buf, sizeof buf);
  assert_string_equal(buf, HEADER "#include \"marlin/kernel/dense.cuh\"\n"
                               "MARLIN_DENSE_INSTANCE(AWQ4, BF16, 901, "
                               "marlin_gemm_awq4_bf16_sm90a)\n");
  file_text(&d, "marlin_dispatch.inc", buf, sizeof buf);
  assert_string_equal(
      buf, HEADER
      "#define MARLIN_BUILD_CONFIG_STRING \"schemes=gptq4,awq4 acts=fp16,bf16 archs=80,90a\"\n"
      "MARLIN_DENSE_KERNEL(GPTQ4, FP16, 80, 0, marlin_gemm_gptq4_fp16_sm80)\n"
      "MARLIN_DENSE_KERNEL(GPTQ4, FP16, 90, 1, marlin_gemm_gptq4_fp16_sm90a)\n"
      "MARLIN_DENSE_KERNEL(GPTQ4, BF16, 80, 0, marlin_gemm_gptq4_bf16_sm80)\n"
      "MARLIN_DENSE_KERNEL(GPTQ4, BF16, 90, 1, marlin_gemm_gptq4_bf16_sm90a)\n"
      "MARLIN_DENSE_KERNEL(AWQ4, FP16, 80, 0, marlin_gemm_awq4_fp16_sm80)\n"
      "MARLIN_DENSE_KERNEL(AWQ4, FP16, 90, 1, marlin_gemm_awq4_fp16_sm90a)\n"
      "MARLIN_DENSE_KERNEL(AWQ4, BF16, 80, 0, marlin_gemm_awq4_bf16_sm80)\n"
      "MARLIN_DENSE_KERNEL(AWQ4, BF16, 90, 1, marlin_gemm_awq4_bf16_sm90a)\n");
  assert_int_equal(count_files(&d), 9);
  remove_tmpdir(&d);
}

static void gen_outdir_arch_tags(void **state) {
  (void)state;
  tmpdir d;
  make_tmpdir(&d);
  gen_outdir(&d, "--schemes=gptq8 --acts=bf16 --archs=120,86");
  char buf[4096];
  file_text(&d, "marlin_gemm_gptq8_bf16_sm120.cu", buf, sizeof buf);
  assert_non_null(strstr(buf, "MARLIN_DENSE_INSTANCE(GPTQ8, BF16, 1200, "
                              "marlin_gemm_gptq8_bf16_sm120)\n"));
  file_text(&d, "marlin_gemm_gptq8_bf16_sm86.cu", buf, sizeof buf);
  assert_non_null(strstr(buf, "MARLIN_DENSE_INSTANCE(GPTQ8, BF16, 860, "
                              "marlin_gemm_gptq8_bf16_sm86)\n"));
  file_text(&d, "marlin_dispatch.inc", buf, sizeof buf);
  assert_non_null(strstr(buf, "\"schemes=gptq8 acts=bf16 archs=120,86\""));
  assert_non_null(strstr(buf, "MARLIN_DENSE_KERNEL(GPTQ8, BF16, 120, 0, "
                              "marlin_gemm_gptq8_bf16_sm120)\n"
                              "MARLIN_DENSE_KERNEL(GPTQ8, BF16, 86, 0, "
                              "marlin_gemm_gptq8_bf16_sm86)\n"));
  remove_tmpdir(&d);
}

/* Sets every file's mtime to a fixed old time, so a rewrite is visible
 * however coarse the file system's clock is. */
static const time_t OLD = 1000000000;

static void age_files(const tmpdir *d) {
  DIR *dir = opendir(d->path);
  assert_non_null(dir);
  struct dirent *e;
  while ((e = readdir(dir))) {
    if (e->d_name[0] == '.') continue;
    struct timespec ts[2] = {{OLD, 0}, {OLD, 0}};
    assert_int_equal(utimensat(dirfd(dir), e->d_name, ts, 0), 0);
  }
  closedir(dir);
}

static time_t mtime_of(const tmpdir *d, const char *name) {
  char p[512];
  snprintf(p, sizeof p, "%s/%s", d->path, name);
  struct stat st;
  assert_int_equal(stat(p, &st), 0);
  return st.st_mtime;
}

static void gen_outdir_unchanged_not_touched(void **state) {
  (void)state;
  static const char *opts = "--schemes=gptq4,awq4 --acts=fp16,bf16 --archs=80";
  static const char *names[] = {"marlin_gemm_gptq4_fp16_sm80.cu", "marlin_gemm_gptq4_bf16_sm80.cu",
                                "marlin_gemm_awq4_fp16_sm80.cu", "marlin_gemm_awq4_bf16_sm80.cu",
                                "marlin_dispatch.inc"};
  tmpdir d;
  make_tmpdir(&d);
  gen_outdir(&d, opts);
  char first[5][2048], again[2048];
  for (int i = 0; i < 5; i++) file_text(&d, names[i], first[i], sizeof first[i]);
  age_files(&d);
  gen_outdir(&d, opts);
  for (int i = 0; i < 5; i++) {
    file_text(&d, names[i], again, sizeof again);
    assert_string_equal(again, first[i]);
    if (mtime_of(&d, names[i]) != OLD) fail_msg("%s was rewritten with identical bytes", names[i]);
  }
  remove_tmpdir(&d);
}

static void gen_outdir_rewrites_changed(void **state) {
  (void)state;
  tmpdir d;
  make_tmpdir(&d);
  gen_outdir(&d, "--schemes=gptq4 --acts=fp16 --archs=80");
  char want[2048], got[2048], p[512];
  file_text(&d, "marlin_gemm_gptq4_fp16_sm80.cu", want, sizeof want);
  /* a damaged TU is restored; a longer file is truncated back */
  snprintf(p, sizeof p, "%s/marlin_gemm_gptq4_fp16_sm80.cu", d.path);
  FILE *f = fopen(p, "ab");
  assert_non_null(f);
  fputs("// local edit\n", f);
  fclose(f);
  age_files(&d);
  gen_outdir(&d, "--schemes=gptq4 --acts=fp16 --archs=80");
  file_text(&d, "marlin_gemm_gptq4_fp16_sm80.cu", got, sizeof got);
  assert_string_equal(got, want);
  assert_true(mtime_of(&d, "marlin_gemm_gptq4_fp16_sm80.cu") != OLD);
  assert_int_equal(mtime_of(&d, "marlin_dispatch.inc"), OLD);

  /* new options: the existing TU stays untouched, new TUs and the dispatch change */
  age_files(&d);
  gen_outdir(&d, "--schemes=gptq4,awq4 --acts=fp16 --archs=80");
  assert_int_equal(mtime_of(&d, "marlin_gemm_gptq4_fp16_sm80.cu"), OLD);
  assert_true(mtime_of(&d, "marlin_dispatch.inc") != OLD);
  file_text(&d, "marlin_gemm_awq4_fp16_sm80.cu", got, sizeof got);
  assert_non_null(strstr(got, "MARLIN_DENSE_INSTANCE(AWQ4, FP16, 800,"));
  remove_tmpdir(&d);
}

static void gen_outdir_matches_list(void **state) {
  (void)state;
  static const char *opts = "--schemes=gptq4,gptq8,awq4 --acts=fp16,bf16 --archs=75,80,90a";
  char args[512];
  snprintf(args, sizeof args, "%s --list", opts);
  run_result *r = run_gen(args);
  assert_int_equal(r->status, 0);
  char list[8192];
  snprintf(list, sizeof list, "%s", r->out);
  tmpdir d;
  make_tmpdir(&d);
  gen_outdir(&d, opts);
  int n = 0;
  char buf[2048];
  for (char *line = strtok(list, "\n"); line; line = strtok(NULL, "\n"), n++)
    file_text(&d, line, buf, sizeof buf);
  assert_int_equal(n, 3 * (3 + 2)); /* per scheme: fp16 x 3 archs, bf16 x 2 */
  assert_int_equal(count_files(&d), n + 1);
  remove_tmpdir(&d);
}

static void gen_outdir_invalid_writes_nothing(void **state) {
  (void)state;
  tmpdir d;
  make_tmpdir(&d);
  char args[512];
  snprintf(args, sizeof args, "--schemes=hqq4 --acts=fp16 --archs=80 --outdir '%s'", d.path);
  run_result *r = run_gen(args);
  assert_int_equal(r->status, 2);
  assert_int_equal(count_files(&d), 0);
  remove_tmpdir(&d);
}

int main(int argc, char **argv) {
  static const struct CMUnitTest tests[] = {
      cmocka_unit_test(gen_list_gptq4_sm80),
      cmocka_unit_test(gen_list_add_awq4),
      cmocka_unit_test(gen_list_order),
      cmocka_unit_test(gen_list_arch_names),
      cmocka_unit_test(gen_list_skips_low_archs),
      cmocka_unit_test(gen_list_option_forms),
      cmocka_unit_test(gen_fp8_needs_sm89),
      cmocka_unit_test(gen_no_kernel_yet),
      cmocka_unit_test(gen_unknown_names),
      cmocka_unit_test(gen_empty_lists),
      cmocka_unit_test(gen_act_without_scheme),
      cmocka_unit_test(gen_scheme_without_act),
      cmocka_unit_test(gen_arch_too_low),
      cmocka_unit_test(gen_duplicates),
      cmocka_unit_test(gen_mode_required),
      cmocka_unit_test(gen_help),
      cmocka_unit_test(gen_outdir_contents),
      cmocka_unit_test(gen_outdir_arch_tags),
      cmocka_unit_test(gen_outdir_unchanged_not_touched),
      cmocka_unit_test(gen_outdir_rewrites_changed),
      cmocka_unit_test(gen_outdir_matches_list),
      cmocka_unit_test(gen_outdir_invalid_writes_nothing),
  };
  return marlin_test_main(tests, sizeof tests / sizeof tests[0], argc, argv);
}
