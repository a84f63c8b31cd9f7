/* Unit tests of src/api.c: status strings, per-thread errors, version and
 * build introspection, scheme/dtype tables, options, packed sizes, the MoE
 * stubs and every error path of marlin_check_gemm. No GPU needed: pointers
 * are only checked, never dereferenced. */
#include <pthread.h>
#include <stdlib.h>

#include "test_main.h"

#include "internal.h"
#include "marlin/kernel/plan.h"
#include "marlin/marlin.h"

#ifndef MARLIN_TEST_BUILD_CONFIG
#error "meson passes -DMARLIN_TEST_BUILD_CONFIG=\"schemes=... acts=... archs=...\""
#endif

/* ---- helpers ------------------------------------------------------------- */

/* Fake device pointers: distinct, 16-byte aligned addresses in one buffer. */
static _Alignas(256) unsigned char arena[16 * 1024];
#define PTR(i) ((void *)(arena + 1024 * (i)))

typedef struct {
  marlin_gemm_desc d;
  marlin_gemm_args a;
} request;

static request make(marlin_scheme scheme, marlin_dtype act, int32_t group_size) {
  request r;
  memset(&r, 0, sizeof r);
  r.d.scheme = scheme;
  r.d.act_type = act;
  r.d.out_type = act;
  r.d.m = 16;
  r.d.n = 256;
  r.d.k = 512;
  r.d.group_size = group_size;
  r.d.act_order = 0;
  r.d.is_k_full = 1;
  r.a.a = PTR(0);
  r.a.lda = r.d.k;
  r.a.b = PTR(1);
  r.a.scales = PTR(2);
  const marlin_scheme_info *info = marlin_scheme_info_get(scheme);
  r.a.zeros = info && info->zero != MARLIN_ZERO_NONE ? PTR(3) : NULL;
  r.a.bias = PTR(4);
  r.a.c = PTR(5);
  r.a.ldc = r.d.n;
  return r;
}

static request gptq4(void) { return make(MARLIN_SCHEME_GPTQ4, MARLIN_DTYPE_FP16, 128); }
static request awq4(void) { return make(MARLIN_SCHEME_AWQ4, MARLIN_DTYPE_BF16, 128); }

static request act_order_req(int is_k_full) {
  request r = gptq4();
  r.d.act_order = 1;
  r.d.is_k_full = is_k_full;
  r.a.perm = (const int32_t *)PTR(6);
  r.a.g_idx = is_k_full ? NULL : (const int32_t *)PTR(7);
  return r;
}

/* Runs marlin_check_gemm and asserts the status and that the message names
 * `needle` (the argument at fault). */
static void want_status(const request *r, const marlin_options *o, marlin_status want,
                        const char *needle) {
  marlin_clear_error();
  marlin_status got = marlin_check_gemm(&r->d, &r->a, o);
  const char *msg = marlin_last_error();
  if (got != want || (want != MARLIN_STATUS_SUCCESS && (!msg[0] || !strstr(msg, needle))) ||
      (want == MARLIN_STATUS_SUCCESS && msg[0])) {
    fail_msg("marlin_check_gemm: status %d (%s), want %d (%s); message \"%s\", want it to name "
             "\"%s\"",
             (int)got, marlin_status_string(got), (int)want, marlin_status_string(want), msg,
             needle ? needle : "");
  }
}

static void expect_ok(const request *r) { want_status(r, NULL, MARLIN_STATUS_SUCCESS, NULL); }

/* ---- status strings and the error state ---------------------------------- */

static void status_strings_distinct(void **state) {
  (void)state;
  for (int s = MARLIN_STATUS_SUCCESS; s <= MARLIN_STATUS_CUDA_ERROR; s++) {
    const char *text = marlin_status_string((marlin_status)s);
    assert_non_null(text);
    assert_true(text[0] != '\0');
    assert_string_not_equal(text, "unknown status");
    for (int t = MARLIN_STATUS_SUCCESS; t < s; t++)
      assert_string_not_equal(text, marlin_status_string((marlin_status)t));
  }
}

static void status_string_unknown(void **state) {
  (void)state;
  assert_string_equal(marlin_status_string((marlin_status)-1), "unknown status");
  assert_string_equal(marlin_status_string((marlin_status)(MARLIN_STATUS_CUDA_ERROR + 1)),
                      "unknown status");
  assert_string_equal(marlin_status_string((marlin_status)1000), "unknown status");
}

static void status_string_build_options(void **state) {
  (void)state;
  const char *nc = marlin_status_string(MARLIN_STATUS_NOT_COMPILED);
  assert_non_null(strstr(nc, "-Dschemes="));
  assert_non_null(strstr(nc, "-Dacts="));
  assert_non_null(strstr(nc, "rebuild"));
  const char *arch = marlin_status_string(MARLIN_STATUS_ARCH_NOT_COMPILED);
  assert_non_null(strstr(arch, "-Darchs="));
  assert_string_equal(marlin_status_string(MARLIN_STATUS_SUCCESS), "success");
}

static void error_state_fail_and_clear(void **state) {
  (void)state;
  marlin_clear_error();
  assert_string_equal(marlin_last_error(), "");
  assert_int_equal(marlin_fail(MARLIN_STATUS_INVALID_VALUE, "x = %d is bad", 42),
                   MARLIN_STATUS_INVALID_VALUE);
  assert_string_equal(marlin_last_error(), "x = 42 is bad");
  marlin_clear_error();
  assert_string_equal(marlin_last_error(), "");
}

static void error_state_long_message(void **state) {
  (void)state;
  char big[2048];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  marlin_fail(MARLIN_STATUS_INVALID_VALUE, "%s", big);
  size_t len = strlen(marlin_last_error());
  assert_true(len > 100 && len < sizeof big - 1); /* truncated, terminated */
  marlin_clear_error();
}

static void error_state_cuda(void **state) {
  (void)state;
  marlin_clear_error();
  assert_int_equal(marlin_last_cuda_error(), 0);
  assert_int_equal(marlin_fail_cuda(35, "cudaLaunchKernel"), MARLIN_STATUS_CUDA_ERROR);
  assert_int_equal(marlin_last_cuda_error(), 35);
  assert_non_null(strstr(marlin_last_error(), "cudaLaunchKernel"));
  assert_non_null(strstr(marlin_last_error(), "35"));
  marlin_clear_error();
  assert_int_equal(marlin_last_cuda_error(), 0);
  assert_string_equal(marlin_last_error(), "");
}

static void *thread_body(void *arg) {
  int *seen_empty = arg;
  *seen_empty = marlin_last_error()[0] == '\0' && marlin_last_cuda_error() == 0;
  marlin_fail_cuda(2, "other thread");
  return NULL;
}

static void error_state_thread_local(void **state) {
  (void)state;
  marlin_clear_error();
  marlin_fail(MARLIN_STATUS_INVALID_SHAPE, "main thread message");
  int seen_empty = 0;
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, thread_body, &seen_empty), 0);
  assert_int_equal(pthread_join(t, NULL), 0);
  assert_true(seen_empty);
  assert_string_equal(marlin_last_error(), "main thread message");
  assert_int_equal(marlin_last_cuda_error(), 0);
  marlin_clear_error();
}

/* ---- version, build config, names ---------------------------------------- */

static void version_matches_macros(void **state) {
  (void)state;
  char want[32];
  snprintf(want, sizeof want, "%d.%d.%d", MARLIN_VERSION_MAJOR, MARLIN_VERSION_MINOR,
           MARLIN_VERSION_PATCH);
  assert_string_equal(marlin_version(), want);
  assert_int_equal(marlin_version_number(), MARLIN_VERSION);
  assert_int_equal(
      marlin_version_number(),
      MARLIN_MAKE_VERSION(MARLIN_VERSION_MAJOR, MARLIN_VERSION_MINOR, MARLIN_VERSION_PATCH));
}

static void build_config_matches_options(void **state) {
  (void)state;
  assert_string_equal(marlin_build_config(), MARLIN_TEST_BUILD_CONFIG);
}

static void scheme_names(void **state) {
  (void)state;
  assert_string_equal(marlin_scheme_name(MARLIN_SCHEME_GPTQ4), "gptq4");
  assert_string_equal(marlin_scheme_name(MARLIN_SCHEME_GPTQ8), "gptq8");
  assert_string_equal(marlin_scheme_name(MARLIN_SCHEME_AWQ4), "awq4");
  assert_string_equal(marlin_scheme_name(MARLIN_SCHEME_AWQ8), "awq8");
  assert_string_equal(marlin_scheme_name(MARLIN_SCHEME_HQQ4), "hqq4");
  assert_string_equal(marlin_scheme_name(MARLIN_SCHEME_FP8), "fp8");
  assert_string_equal(marlin_scheme_name(MARLIN_SCHEME_NVFP4), "nvfp4");
  assert_string_equal(marlin_scheme_name(MARLIN_SCHEME_MXFP4), "mxfp4");
  assert_null(marlin_scheme_name(MARLIN_SCHEME_INVALID));
  assert_null(marlin_scheme_name(MARLIN_SCHEME_END_));
  assert_null(marlin_scheme_name((marlin_scheme)-3));
}

static void dtype_names(void **state) {
  (void)state;
  assert_string_equal(marlin_dtype_name(MARLIN_DTYPE_FP16), "fp16");
  assert_string_equal(marlin_dtype_name(MARLIN_DTYPE_BF16), "bf16");
  assert_string_equal(marlin_dtype_name(MARLIN_DTYPE_INT8), "int8");
  assert_string_equal(marlin_dtype_name(MARLIN_DTYPE_FP8), "fp8");
  assert_string_equal(marlin_dtype_name(MARLIN_DTYPE_FP32), "fp32");
  assert_null(marlin_dtype_name(MARLIN_DTYPE_INVALID));
  assert_null(marlin_dtype_name((marlin_dtype)5));
  assert_null(marlin_dtype_name((marlin_dtype)-1));
}

static void scheme_info_table(void **state) {
  (void)state;
  const marlin_scheme_info *g = marlin_scheme_info_get(MARLIN_SCHEME_GPTQ4);
  assert_non_null(g);
  assert_int_equal(g->id, MARLIN_SCHEME_GPTQ4);
  assert_int_equal(g->bits, 4);
  assert_int_equal(g->zero, MARLIN_ZERO_NONE);
  assert_int_equal(g->scale, MARLIN_SCALE_ACT);
  assert_true(g->groups & MARLIN_G_ACT_ORDER);
  assert_true(g->kernel_acts & MARLIN_A_FP16);
  assert_int_equal(g->min_arch, 75);
  assert_int_equal(marlin_scheme_info_get(MARLIN_SCHEME_GPTQ8)->bits, 8);
  assert_int_equal(marlin_scheme_info_get(MARLIN_SCHEME_AWQ4)->zero, MARLIN_ZERO_INT);
  assert_false(marlin_scheme_info_get(MARLIN_SCHEME_AWQ4)->groups & MARLIN_G_ACT_ORDER);
  assert_int_equal(marlin_scheme_info_get(MARLIN_SCHEME_HQQ4)->zero, MARLIN_ZERO_FLOAT);
  assert_int_equal(marlin_scheme_info_get(MARLIN_SCHEME_NVFP4)->scale, MARLIN_SCALE_E4M3);
  assert_int_equal(marlin_scheme_info_get(MARLIN_SCHEME_MXFP4)->scale, MARLIN_SCALE_E8M0);
  assert_int_equal(marlin_scheme_info_get(MARLIN_SCHEME_MXFP4)->min_arch, 80);
  assert_null(marlin_scheme_info_get(MARLIN_SCHEME_INVALID));
  assert_null(marlin_scheme_info_get(MARLIN_SCHEME_END_));
  for (int s = 1; s < MARLIN_SCHEME_END_; s++) {
    const marlin_scheme_info *i = marlin_scheme_info_get((marlin_scheme)s);
    assert_non_null(i);
    assert_string_equal(i->name, marlin_scheme_name((marlin_scheme)s));
    assert_int_equal(i->kernel_acts & ~i->acts, 0); /* kernel_acts is a subset */
    /* the dense kernels' AWQ path shares a warp's two k16 blocks' zero
     * points (dense.cuh pair_zeros): a kernel scheme with zero points has
     * no groups of 16 rows */
    if (i->kernel_acts && i->zero != MARLIN_ZERO_NONE) assert_false(i->groups & MARLIN_G_16);
  }
}

static void act_bits(void **state) {
  (void)state;
  assert_int_equal(marlin_act_bit(MARLIN_DTYPE_FP16), MARLIN_A_FP16);
  assert_int_equal(marlin_act_bit(MARLIN_DTYPE_BF16), MARLIN_A_BF16);
  assert_int_equal(marlin_act_bit(MARLIN_DTYPE_INT8), MARLIN_A_INT8);
  assert_int_equal(marlin_act_bit(MARLIN_DTYPE_FP8), MARLIN_A_FP8);
  assert_int_equal(marlin_act_bit(MARLIN_DTYPE_FP32), 0);
  assert_int_equal(marlin_act_bit(MARLIN_DTYPE_INVALID), 0);
}

/* ---- options ------------------------------------------------------------- */

static void options_init_defaults(void **state) {
  (void)state;
  marlin_options o;
  memset(&o, 0xab, sizeof o);
  marlin_options_init(&o);
  assert_int_equal(o.struct_size, sizeof(marlin_options));
  assert_int_equal(o.reduction, MARLIN_REDUCTION_DETERMINISTIC);
  assert_int_equal(o.max_sms, 0);
  assert_int_equal(o.tile_config, -1);
  assert_int_equal(o.programmatic_launch, 0);
  marlin_options_init(NULL); /* no crash */
  request r = gptq4();
  want_status(&r, &o, MARLIN_STATUS_SUCCESS, NULL);
}

static void options_valid_values(void **state) {
  (void)state;
  marlin_options o;
  marlin_options_init(&o);
  o.reduction = MARLIN_REDUCTION_ATOMIC;
  o.max_sms = 7;
  o.tile_config = MARLIN_TILE_CONFIG_COUNT - 1;
  o.programmatic_launch = 1;
  request r = gptq4();
  want_status(&r, &o, MARLIN_STATUS_SUCCESS, NULL);
  o.tile_config = 0;
  want_status(&r, &o, MARLIN_STATUS_SUCCESS, NULL);
}

static void options_bad_struct_size(void **state) {
  (void)state;
  marlin_options o;
  marlin_options_init(&o);
  request r = gptq4();
  o.struct_size = 0;
  want_status(&r, &o, MARLIN_STATUS_INVALID_VALUE, "struct_size");
  o.struct_size = sizeof o + 4;
  want_status(&r, &o, MARLIN_STATUS_INVALID_VALUE, "struct_size");
}

static void options_bad_reduction(void **state) {
  (void)state;
  marlin_options o;
  marlin_options_init(&o);
  request r = gptq4();
  o.reduction = (marlin_reduction)2;
  want_status(&r, &o, MARLIN_STATUS_INVALID_VALUE, "reduction");
  o.reduction = (marlin_reduction)-1;
  want_status(&r, &o, MARLIN_STATUS_INVALID_VALUE, "reduction");
}

static void options_bad_max_sms(void **state) {
  (void)state;
  marlin_options o;
  marlin_options_init(&o);
  request r = gptq4();
  o.max_sms = -1;
  want_status(&r, &o, MARLIN_STATUS_INVALID_VALUE, "max_sms");
}

static void options_bad_tile_config(void **state) {
  (void)state;
  marlin_options o;
  marlin_options_init(&o);
  request r = gptq4();
  o.tile_config = -2;
  want_status(&r, &o, MARLIN_STATUS_INVALID_VALUE, "tile_config");
  o.tile_config = MARLIN_TILE_CONFIG_COUNT;
  want_status(&r, &o, MARLIN_STATUS_INVALID_VALUE, "tile_config");
}

static void options_bad_programmatic_launch(void **state) {
  (void)state;
  marlin_options o;
  marlin_options_init(&o);
  request r = gptq4();
  o.programmatic_launch = 2;
  want_status(&r, &o, MARLIN_STATUS_INVALID_VALUE, "programmatic_launch");
  o.programmatic_launch = -1;
  want_status(&r, &o, MARLIN_STATUS_INVALID_VALUE, "programmatic_launch");
}

/* ---- repack argument checks (they run on the host before any launch) ------ */

/* The scale and zero-point repacks take the GEMM's group rule: one of the
 * scheme's sizes dividing k, or channelwise. Nothing is enqueued when they
 * refuse, so host pointers stand in for device ones. */
static void repack_group_rule(void **state) {
  (void)state;
  static _Alignas(16) uint8_t buf[64];
  /* 16 divides 256 but is not a group size of gptq4/awq4 */
  assert_int_equal(marlin_repack_scales(MARLIN_SCHEME_GPTQ4, MARLIN_DTYPE_FP16, 256, 64, 16, buf, buf, 0),
                   MARLIN_STATUS_INVALID_GROUP);
  assert_non_null(strstr(marlin_last_error(), "allowed"));
  assert_int_equal(marlin_repack_zeros(MARLIN_SCHEME_AWQ4, MARLIN_CHECKPOINT_AWQ, 256, 64, 16,
                                       (const int32_t *)buf, buf, 0),
                   MARLIN_STATUS_INVALID_GROUP);
  /* an allowed size that does not divide k */
  assert_int_equal(marlin_repack_scales(MARLIN_SCHEME_GPTQ4, MARLIN_DTYPE_FP16, 200, 64, 64, buf, buf, 0),
                   MARLIN_STATUS_INVALID_GROUP);
  assert_non_null(strstr(marlin_last_error(), "multiple"));
  /* NULL pointers are still reported after a valid group */
  assert_int_equal(marlin_repack_scales(MARLIN_SCHEME_GPTQ4, MARLIN_DTYPE_FP16, 256, 64, -1, NULL, buf, 0),
                   MARLIN_STATUS_NULL_POINTER);
  assert_int_equal(marlin_repack_zeros(MARLIN_SCHEME_AWQ4, MARLIN_CHECKPOINT_AWQ, 256, 64, 256, NULL, buf, 0),
                   MARLIN_STATUS_NULL_POINTER);
}

/* ---- marlin_check_gemm: valid requests ----------------------------------- */

static void check_valid_basic(void **state) {
  (void)state;
  request r = gptq4();
  expect_ok(&r);
  r = awq4();
  expect_ok(&r);
  r = make(MARLIN_SCHEME_GPTQ8, MARLIN_DTYPE_BF16, -1);
  expect_ok(&r);
  r = gptq4();
  r.a.bias = NULL; /* bias is optional */
  expect_ok(&r);
  marlin_clear_error();
  assert_int_equal(marlin_check_gemm(&r.d, NULL, NULL), MARLIN_STATUS_SUCCESS); /* desc only */
}

static void check_valid_groups(void **state) {
  (void)state;
  static const int32_t groups[] = {-1, 32, 64, 128, 512};
  for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++) {
    request r = gptq4();
    r.d.group_size = groups[i]; /* 512 == k: channelwise */
    expect_ok(&r);
  }
  request r = gptq4();
  r.d.k = r.a.lda = 8; /* smallest k, channelwise */
  r.d.group_size = -1;
  expect_ok(&r);
  r = make(MARLIN_SCHEME_HQQ4, MARLIN_DTYPE_FP16, 64);
  expect_ok(&r);
  r = make(MARLIN_SCHEME_NVFP4, MARLIN_DTYPE_BF16, 16);
  r.a.global_scale = (const float *)PTR(8);
  expect_ok(&r);
}

static void check_valid_shapes(void **state) {
  (void)state;
  request r = gptq4();
  r.d.m = 1;
  r.d.n = 8;
  r.d.k = 128;
  r.a.lda = 136; /* padded rows */
  r.a.ldc = 16;
  expect_ok(&r);
  r.d.m = INT32_MAX;
  expect_ok(&r);
  r = make(MARLIN_SCHEME_GPTQ4, MARLIN_DTYPE_FP16, -1);
  r.d.n = r.a.ldc = (INT32_MAX / 2) / 8 * 8;
  r.d.m = 1;
  expect_ok(&r);
}

static void check_valid_m0_null_io(void **state) {
  (void)state;
  request r = gptq4();
  r.d.m = 0;
  r.a.a = NULL;
  r.a.c = NULL;
  expect_ok(&r);
}

static void check_valid_act_order(void **state) {
  (void)state;
  request r = act_order_req(1);
  expect_ok(&r);
  r = act_order_req(0);
  expect_ok(&r);
  r = make(MARLIN_SCHEME_GPTQ8, MARLIN_DTYPE_BF16, 32);
  r.d.act_order = 1;
  r.a.perm = (const int32_t *)PTR(6);
  expect_ok(&r);
}

/* ---- NULL_POINTER -------------------------------------------------------- */

static void check_null_desc(void **state) {
  (void)state;
  request r = gptq4();
  marlin_clear_error();
  assert_int_equal(marlin_check_gemm(NULL, &r.a, NULL), MARLIN_STATUS_NULL_POINTER);
  assert_non_null(strstr(marlin_last_error(), "desc"));
}

static void check_null_a(void **state) {
  (void)state;
  request r = gptq4();
  r.a.a = NULL;
  want_status(&r, NULL, MARLIN_STATUS_NULL_POINTER, "args->a");
}

static void check_null_b(void **state) {
  (void)state;
  request r = gptq4();
  r.a.b = NULL;
  want_status(&r, NULL, MARLIN_STATUS_NULL_POINTER, "args->b");
}

static void check_null_scales(void **state) {
  (void)state;
  request r = awq4();
  r.a.scales = NULL;
  want_status(&r, NULL, MARLIN_STATUS_NULL_POINTER, "args->scales");
}

static void check_null_c(void **state) {
  (void)state;
  request r = gptq4();
  r.a.c = NULL;
  want_status(&r, NULL, MARLIN_STATUS_NULL_POINTER, "args->c");
}

static void check_null_zeros(void **state) {
  (void)state;
  request r = awq4();
  r.a.zeros = NULL;
  want_status(&r, NULL, MARLIN_STATUS_NULL_POINTER, "args->zeros");
  r = make(MARLIN_SCHEME_HQQ4, MARLIN_DTYPE_FP16, 64);
  r.a.zeros = NULL;
  want_status(&r, NULL, MARLIN_STATUS_NULL_POINTER, "args->zeros");
}

static void check_null_perm(void **state) {
  (void)state;
  request r = act_order_req(1);
  r.a.perm = NULL;
  want_status(&r, NULL, MARLIN_STATUS_NULL_POINTER, "args->perm");
}

static void check_null_g_idx(void **state) {
  (void)state;
  request r = act_order_req(0);
  r.a.g_idx = NULL;
  want_status(&r, NULL, MARLIN_STATUS_NULL_POINTER, "args->g_idx");
}

static void check_null_global_scale(void **state) {
  (void)state;
  request r = make(MARLIN_SCHEME_NVFP4, MARLIN_DTYPE_FP16, 16);
  want_status(&r, NULL, MARLIN_STATUS_NULL_POINTER, "args->global_scale");
}

/* ---- pointers that must be NULL: INVALID_VALUE --------------------------- */

static void check_forbidden_zeros(void **state) {
  (void)state;
  request r = gptq4();
  r.a.zeros = PTR(3);
  want_status(&r, NULL, MARLIN_STATUS_INVALID_VALUE, "args->zeros");
}

static void check_forbidden_perm(void **state) {
  (void)state;
  request r = gptq4();
  r.a.perm = (const int32_t *)PTR(6);
  want_status(&r, NULL, MARLIN_STATUS_INVALID_VALUE, "args->perm");
}

static void check_forbidden_g_idx(void **state) {
  (void)state;
  request r = gptq4();
  r.a.g_idx = (const int32_t *)PTR(7);
  want_status(&r, NULL, MARLIN_STATUS_INVALID_VALUE, "args->g_idx");
  r = act_order_req(1); /* k full: rows are whole groups, no g_idx */
  r.a.g_idx = (const int32_t *)PTR(7);
  want_status(&r, NULL, MARLIN_STATUS_INVALID_VALUE, "args->g_idx");
}

static void check_forbidden_a_scales(void **state) {
  (void)state;
  request r = gptq4();
  r.a.a_scales = (const float *)PTR(8);
  want_status(&r, NULL, MARLIN_STATUS_INVALID_VALUE, "args->a_scales");
}

static void check_forbidden_global_scale(void **state) {
  (void)state;
  request r = awq4();
  r.a.global_scale = (const float *)PTR(8);
  want_status(&r, NULL, MARLIN_STATUS_INVALID_VALUE, "args->global_scale");
}

/* ---- INVALID_SCHEME, INVALID_DTYPE --------------------------------------- */

static void check_bad_scheme(void **state) {
  (void)state;
  static const int values[] = {MARLIN_SCHEME_INVALID, MARLIN_SCHEME_END_, -1, 99};
  for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
    request r = gptq4();
    r.d.scheme = (marlin_scheme)values[i];
    want_status(&r, NULL, MARLIN_STATUS_INVALID_SCHEME, "desc->scheme");
  }
}

static void check_bad_act_type(void **state) {
  (void)state;
  request r = make(MARLIN_SCHEME_GPTQ8, MARLIN_DTYPE_INT8, 128); /* gptq8 takes fp16/bf16 */
  r.d.out_type = MARLIN_DTYPE_FP16;
  want_status(&r, NULL, MARLIN_STATUS_INVALID_DTYPE, "desc->act_type");
  r = make(MARLIN_SCHEME_MXFP4, MARLIN_DTYPE_FP16, 32); /* mxfp4 takes bf16/fp8 */
  want_status(&r, NULL, MARLIN_STATUS_INVALID_DTYPE, "desc->act_type");
  static const int values[] = {MARLIN_DTYPE_INVALID, MARLIN_DTYPE_FP32, 5, -1};
  for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
    r = gptq4();
    r.d.act_type = r.d.out_type = (marlin_dtype)values[i];
    want_status(&r, NULL, MARLIN_STATUS_INVALID_DTYPE, "desc->act_type");
  }
}

static void check_bad_out_type(void **state) {
  (void)state;
  static const marlin_dtype outs[] = {MARLIN_DTYPE_BF16, MARLIN_DTYPE_FP32, MARLIN_DTYPE_INVALID};
  for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++) {
    request r = gptq4(); /* fp16 activations */
    r.d.out_type = outs[i];
    want_status(&r, NULL, MARLIN_STATUS_INVALID_DTYPE, "desc->out_type");
  }
  request r = gptq4();
  r.d.act_type = MARLIN_DTYPE_INT8; /* allowed by the format: 16-bit output required */
  r.d.out_type = MARLIN_DTYPE_INT8;
  want_status(&r, NULL, MARLIN_STATUS_INVALID_DTYPE, "desc->out_type");
}

/* ---- INVALID_SHAPE ------------------------------------------------------- */

static void check_bad_m(void **state) {
  (void)state;
  request r = gptq4();
  r.d.m = -1;
  want_status(&r, NULL, MARLIN_STATUS_INVALID_SHAPE, "desc->m");
  r.d.m = (int64_t)INT32_MAX + 1;
  want_status(&r, NULL, MARLIN_STATUS_INVALID_SHAPE, "desc->m");
}

static void check_bad_n(void **state) {
  (void)state;
  static const int64_t values[] = {0, -8, 12, 4, (int64_t)INT32_MAX / 2 + 8, INT64_MAX};
  for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
    request r = gptq4();
    r.d.n = values[i];
    r.a.ldc = values[i] > 0 ? values[i] : 8;
    want_status(&r, NULL, MARLIN_STATUS_INVALID_SHAPE, "desc->n");
  }
}

static void check_bad_k(void **state) {
  (void)state;
  static const int64_t values[] = {0, -128, 100, 132, (int64_t)INT32_MAX / 2 + 8};
  for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
    request r = gptq4();
    r.d.group_size = -1;
    r.d.k = values[i];
    r.a.lda = values[i] > 0 ? values[i] : 8;
    want_status(&r, NULL, MARLIN_STATUS_INVALID_SHAPE, "desc->k");
  }
}

static void check_bad_lda(void **state) {
  (void)state;
  request r = gptq4();
  r.a.lda = r.d.k - 8;
  want_status(&r, NULL, MARLIN_STATUS_INVALID_SHAPE, "args->lda");
  r.a.lda = INT64_MAX / 8;
  want_status(&r, NULL, MARLIN_STATUS_INVALID_SHAPE, "args->lda");
}

static void check_bad_ldc(void **state) {
  (void)state;
  request r = gptq4();
  r.a.ldc = r.d.n - 8;
  want_status(&r, NULL, MARLIN_STATUS_INVALID_SHAPE, "args->ldc");
  r.a.ldc = -1;
  want_status(&r, NULL, MARLIN_STATUS_INVALID_SHAPE, "args->ldc");
}

/* ---- MISALIGNED ---------------------------------------------------------- */

static void check_misaligned_a_c(void **state) {
  (void)state;
  request r = gptq4();
  r.a.a = arena + 8;
  want_status(&r, NULL, MARLIN_STATUS_MISALIGNED, "args->a");
  r = gptq4();
  r.a.c = arena + 1024 * 5 + 2;
  want_status(&r, NULL, MARLIN_STATUS_MISALIGNED, "args->c");
}

static void check_misaligned_ld(void **state) {
  (void)state;
  request r = gptq4();
  r.a.lda = r.d.k + 4;
  want_status(&r, NULL, MARLIN_STATUS_MISALIGNED, "args->lda");
  r = gptq4();
  r.a.ldc = r.d.n + 1;
  want_status(&r, NULL, MARLIN_STATUS_MISALIGNED, "args->ldc");
}

static void check_misaligned_weights(void **state) {
  (void)state;
  request r = awq4();
  r.a.b = arena + 1024 + 4;
  want_status(&r, NULL, MARLIN_STATUS_MISALIGNED, "args->b");
  r = awq4();
  r.a.scales = arena + 2048 + 8;
  want_status(&r, NULL, MARLIN_STATUS_MISALIGNED, "args->scales");
  r = awq4();
  r.a.zeros = arena + 3072 + 12;
  want_status(&r, NULL, MARLIN_STATUS_MISALIGNED, "args->zeros");
}

static void check_misaligned_bias(void **state) {
  (void)state;
  request r = gptq4();
  r.a.bias = arena + 4096 + 2;
  want_status(&r, NULL, MARLIN_STATUS_MISALIGNED, "args->bias");
}

/* ---- INVALID_GROUP ------------------------------------------------------- */

static void check_bad_group_size(void **state) {
  (void)state;
  static const int32_t values[] = {0, -2, 1, 16, 48, 256, 96};
  for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
    request r = gptq4(); /* k = 512; gptq4: -1, 32, 64, 128 */
    r.d.group_size = values[i];
    want_status(&r, NULL, MARLIN_STATUS_INVALID_GROUP, "group_size");
  }
  request r = awq4();
  r.d.group_size = 16;
  want_status(&r, NULL, MARLIN_STATUS_INVALID_GROUP, "group_size");
}

static void check_group_not_dividing_k(void **state) {
  (void)state;
  request r = gptq4();
  r.d.k = r.a.lda = 96;
  r.d.group_size = 64;
  want_status(&r, NULL, MARLIN_STATUS_INVALID_GROUP, "group_size");
  r.d.k = r.a.lda = 200;
  r.d.group_size = 128;
  want_status(&r, NULL, MARLIN_STATUS_INVALID_GROUP, "group_size");
}

static void check_channelwise_not_allowed(void **state) {
  (void)state;
  request r = make(MARLIN_SCHEME_HQQ4, MARLIN_DTYPE_FP16, -1); /* hqq4: group 64 only */
  want_status(&r, NULL, MARLIN_STATUS_INVALID_GROUP, "group_size");
  r.d.group_size = (int32_t)r.d.k; /* == k counts as channelwise */
  want_status(&r, NULL, MARLIN_STATUS_INVALID_GROUP, "group_size");
  r = make(MARLIN_SCHEME_NVFP4, MARLIN_DTYPE_FP16, -1);
  r.a.global_scale = (const float *)PTR(8);
  want_status(&r, NULL, MARLIN_STATUS_INVALID_GROUP, "group_size");
}

/* ---- act-order: INVALID_VALUE -------------------------------------------- */

static void check_act_order_unsupported(void **state) {
  (void)state;
  request r = awq4();
  r.d.act_order = 1;
  r.a.perm = (const int32_t *)PTR(6);
  want_status(&r, NULL, MARLIN_STATUS_INVALID_VALUE, "act_order");
}

static void check_act_order_channelwise(void **state) {
  (void)state;
  request r = act_order_req(1);
  r.d.group_size = -1;
  want_status(&r, NULL, MARLIN_STATUS_INVALID_VALUE, "act_order");
  r.d.group_size = (int32_t)r.d.k;
  want_status(&r, NULL, MARLIN_STATUS_INVALID_VALUE, "act_order");
}

static void check_act_order_not_bool(void **state) {
  (void)state;
  request r = act_order_req(1);
  r.d.act_order = 2;
  want_status(&r, NULL, MARLIN_STATUS_INVALID_VALUE, "desc->act_order");
  r.d.act_order = -1;
  want_status(&r, NULL, MARLIN_STATUS_INVALID_VALUE, "desc->act_order");
}

static void check_is_k_full_not_bool(void **state) {
  (void)state;
  request r = act_order_req(1);
  r.d.is_k_full = 2;
  want_status(&r, NULL, MARLIN_STATUS_INVALID_VALUE, "desc->is_k_full");
  r = gptq4();
  r.d.is_k_full = -1;
  want_status(&r, NULL, MARLIN_STATUS_INVALID_VALUE, "desc->is_k_full");
}

/* A K shard (is_k_full = 0): its rows come from any of the layer's groups, so
 * k need not be a multiple of the group size and group_size == k is not
 * channelwise; the group size must still be one of the scheme's. */
static void check_shard_groups(void **state) {
  (void)state;
  request r = act_order_req(0);
  r.d.k = 520; /* not a multiple of 128 */
  r.a.lda = 520;
  expect_ok(&r);
  r.d.is_k_full = 1; /* the whole K: 520 rows cannot be groups of 128 */
  r.a.g_idx = NULL;
  want_status(&r, NULL, MARLIN_STATUS_INVALID_GROUP, "desc->group_size");
  r = act_order_req(0);
  r.d.k = 128, r.a.lda = 128; /* group_size == k: still many groups */
  expect_ok(&r);
  r.d.group_size = -1;
  want_status(&r, NULL, MARLIN_STATUS_INVALID_GROUP, "desc->group_size");
  r.d.group_size = 96;
  want_status(&r, NULL, MARLIN_STATUS_INVALID_GROUP, "desc->group_size");
  r.d.group_size = 0;
  want_status(&r, NULL, MARLIN_STATUS_INVALID_GROUP, "desc->group_size");
  r = act_order_req(0);
  r.d.scheme = MARLIN_SCHEME_AWQ4; /* no act-order */
  r.a.zeros = PTR(3);
  want_status(&r, NULL, MARLIN_STATUS_INVALID_VALUE, "desc->act_order");
}

/* docs/api.md "A K shard that starts inside a group": k = 7392 of a K = 29568
 * layer with groups of 128 is INVALID_GROUP as an ordinary grouped problem
 * (GPTQ and AWQ); GPTQ runs it as a K shard (perm = identity, g_idx of its
 * rows), AWQ has no such path. */
static void check_shard_mid_group(void **state) {
  (void)state;
  request r = gptq4();
  r.d.k = 7392, r.a.lda = 7392;
  want_status(&r, NULL, MARLIN_STATUS_INVALID_GROUP, "multiple");
  r = act_order_req(0);
  r.d.k = 7392, r.a.lda = 7392;
  expect_ok(&r);
  r = awq4();
  r.d.k = 7392, r.a.lda = 7392;
  want_status(&r, NULL, MARLIN_STATUS_INVALID_GROUP, "multiple");
}

static void check_misaligned_g_idx(void **state) {
  (void)state;
  request r = act_order_req(0);
  r.a.g_idx = (const int32_t *)((char *)PTR(7) + 4);
  want_status(&r, NULL, MARLIN_STATUS_MISALIGNED, "args->g_idx");
  r.a.g_idx = (const int32_t *)((char *)PTR(7) + 8); /* 8 bytes is enough */
  expect_ok(&r);
}

/* Every failure leaves a message; the next successful check clears nothing by
 * itself, but a public entry point's marlin_clear_error() does. */
static void check_desc_only_errors(void **state) {
  (void)state;
  request r = gptq4();
  r.d.n = 12;
  marlin_clear_error();
  assert_int_equal(marlin_check_gemm(&r.d, NULL, NULL), MARLIN_STATUS_INVALID_SHAPE);
  assert_non_null(strstr(marlin_last_error(), "desc->n"));
  assert_non_null(strstr(marlin_last_error(), "12"));
}

/* ---- packed sizes -------------------------------------------------------- */

static void packed_sizes_errors(void **state) {
  (void)state;
  marlin_packed_sizes sz;
  assert_int_equal(
      marlin_get_packed_sizes(MARLIN_SCHEME_GPTQ4, MARLIN_DTYPE_FP16, 128, 128, 128, NULL),
      MARLIN_STATUS_NULL_POINTER);
  assert_non_null(strstr(marlin_last_error(), "sizes"));
  assert_int_equal(marlin_get_packed_sizes((marlin_scheme)0, MARLIN_DTYPE_FP16, 128, 128, 128, &sz),
                   MARLIN_STATUS_INVALID_SCHEME);
  assert_non_null(strstr(marlin_last_error(), "scheme"));
  assert_int_equal(
      marlin_get_packed_sizes(MARLIN_SCHEME_GPTQ4, MARLIN_DTYPE_FP32, 128, 128, 128, &sz),
      MARLIN_STATUS_INVALID_DTYPE);
  assert_non_null(strstr(marlin_last_error(), "act_type"));
  assert_int_equal(
      marlin_get_packed_sizes(MARLIN_SCHEME_GPTQ4, MARLIN_DTYPE_FP16, 100, 128, -1, &sz),
      MARLIN_STATUS_INVALID_SHAPE);
  assert_non_null(strstr(marlin_last_error(), "k"));
  assert_int_equal(marlin_get_packed_sizes(MARLIN_SCHEME_GPTQ4, MARLIN_DTYPE_FP16, 128, 0, -1, &sz),
                   MARLIN_STATUS_INVALID_SHAPE);
  assert_non_null(strstr(marlin_last_error(), "n"));
  assert_int_equal(
      marlin_get_packed_sizes(MARLIN_SCHEME_GPTQ4, MARLIN_DTYPE_FP16, 128, 128, 48, &sz),
      MARLIN_STATUS_INVALID_GROUP);
  assert_non_null(strstr(marlin_last_error(), "group_size"));
}

/* Sizes from docs/layout.md: Kp = roundup(k, 16), Np = roundup(n, 64);
 * 4-bit weights Kp * Np / 2 bytes, 8-bit Kp * Np; scales G * Np * 2;
 * awq4 zero points G * Np / 8 int32 words. */
static void packed_sizes_gptq4(void **state) {
  (void)state;
  marlin_packed_sizes sz;
  assert_int_equal(
      marlin_get_packed_sizes(MARLIN_SCHEME_GPTQ4, MARLIN_DTYPE_FP16, 4096, 11008, 128, &sz),
      MARLIN_STATUS_SUCCESS);
  assert_string_equal(marlin_last_error(), "");
  assert_int_equal(sz.weights, (size_t)4096 * 11008 / 2);
  assert_int_equal(sz.scales, (size_t)(4096 / 128) * 11008 * 2);
  assert_int_equal(sz.zeros, 0);
  /* padding: k = 8 -> Kp = 16, n = 8 -> Np = 64; channelwise */
  assert_int_equal(marlin_get_packed_sizes(MARLIN_SCHEME_GPTQ4, MARLIN_DTYPE_BF16, 8, 8, -1, &sz),
                   MARLIN_STATUS_SUCCESS);
  assert_int_equal(sz.weights, (size_t)16 * 64 / 2);
  assert_int_equal(sz.scales, (size_t)64 * 2);
}

static void packed_sizes_awq4_gptq8(void **state) {
  (void)state;
  marlin_packed_sizes sz;
  assert_int_equal(
      marlin_get_packed_sizes(MARLIN_SCHEME_AWQ4, MARLIN_DTYPE_FP16, 512, 256, 64, &sz),
      MARLIN_STATUS_SUCCESS);
  assert_int_equal(sz.weights, (size_t)512 * 256 / 2);
  assert_int_equal(sz.scales, (size_t)8 * 256 * 2);
  assert_int_equal(sz.zeros, (size_t)8 * 256 / 8 * 4);
  assert_int_equal(
      marlin_get_packed_sizes(MARLIN_SCHEME_GPTQ8, MARLIN_DTYPE_FP16, 512, 200, 128, &sz),
      MARLIN_STATUS_SUCCESS);
  assert_int_equal(sz.weights, (size_t)512 * 256);
  assert_int_equal(sz.scales, (size_t)4 * 256 * 2);
  assert_int_equal(sz.zeros, 0);
}

static void packed_sizes_clears_error(void **state) {
  (void)state;
  marlin_packed_sizes sz;
  marlin_fail(MARLIN_STATUS_INVALID_VALUE, "stale");
  assert_int_equal(
      marlin_get_packed_sizes(MARLIN_SCHEME_GPTQ4, MARLIN_DTYPE_FP16, 128, 128, -1, &sz),
      MARLIN_STATUS_SUCCESS);
  assert_string_equal(marlin_last_error(), "");
}

/* ---- MoE stubs ----------------------------------------------------------- */

static void moe_workspace_size_stub(void **state) {
  (void)state;
  marlin_moe_desc d;
  memset(&d, 0, sizeof d);
  size_t bytes = 123;
  assert_int_equal(marlin_moe_gemm_workspace_size(NULL, NULL, -1, &bytes),
                   MARLIN_STATUS_NULL_POINTER);
  assert_non_null(strstr(marlin_last_error(), "desc"));
  assert_int_equal(marlin_moe_gemm_workspace_size(&d, NULL, -1, NULL), MARLIN_STATUS_NULL_POINTER);
  assert_non_null(strstr(marlin_last_error(), "bytes"));
  assert_int_equal(marlin_moe_gemm_workspace_size(&d, NULL, -1, &bytes),
                   MARLIN_STATUS_NOT_IMPLEMENTED);
  assert_int_equal(bytes, 0);
  assert_non_null(strstr(marlin_last_error(), "not implemented"));
}

static void moe_gemm_stub(void **state) {
  (void)state;
  marlin_moe_desc d;
  marlin_moe_args a;
  memset(&d, 0, sizeof d);
  memset(&a, 0, sizeof a);
  assert_int_equal(marlin_moe_gemm(NULL, &a, NULL, NULL, 0, NULL), MARLIN_STATUS_NULL_POINTER);
  assert_non_null(strstr(marlin_last_error(), "desc"));
  assert_int_equal(marlin_moe_gemm(&d, NULL, NULL, NULL, 0, NULL), MARLIN_STATUS_NULL_POINTER);
  assert_non_null(strstr(marlin_last_error(), "args"));
  assert_int_equal(marlin_moe_gemm(&d, &a, NULL, NULL, 0, NULL), MARLIN_STATUS_NOT_IMPLEMENTED);
  assert_non_null(strstr(marlin_last_error(), "not implemented"));
}

int main(int argc, char **argv) {
  static const struct CMUnitTest tests[] = {
      cmocka_unit_test(status_strings_distinct),
      cmocka_unit_test(status_string_unknown),
      cmocka_unit_test(status_string_build_options),
      cmocka_unit_test(error_state_fail_and_clear),
      cmocka_unit_test(error_state_long_message),
      cmocka_unit_test(error_state_cuda),
      cmocka_unit_test(error_state_thread_local),
      cmocka_unit_test(version_matches_macros),
      cmocka_unit_test(build_config_matches_options),
      cmocka_unit_test(scheme_names),
      cmocka_unit_test(dtype_names),
      cmocka_unit_test(scheme_info_table),
      cmocka_unit_test(act_bits),
      cmocka_unit_test(options_init_defaults),
      cmocka_unit_test(options_valid_values),
      cmocka_unit_test(options_bad_struct_size),
      cmocka_unit_test(options_bad_reduction),
      cmocka_unit_test(options_bad_max_sms),
      cmocka_unit_test(options_bad_tile_config),
      cmocka_unit_test(options_bad_programmatic_launch),
      cmocka_unit_test(repack_group_rule),
      cmocka_unit_test(check_valid_basic),
      cmocka_unit_test(check_valid_groups),
      cmocka_unit_test(check_valid_shapes),
      cmocka_unit_test(check_valid_m0_null_io),
      cmocka_unit_test(check_valid_act_order),
      cmocka_unit_test(check_null_desc),
      cmocka_unit_test(check_null_a),
      cmocka_unit_test(check_null_b),
      cmocka_unit_test(check_null_scales),
      cmocka_unit_test(check_null_c),
      cmocka_unit_test(check_null_zeros),
      cmocka_unit_test(check_null_perm),
      cmocka_unit_test(check_null_g_idx),
      cmocka_unit_test(check_null_global_scale),
      cmocka_unit_test(check_forbidden_zeros),
      cmocka_unit_test(check_forbidden_perm),
      cmocka_unit_test(check_forbidden_g_idx),
      cmocka_unit_test(check_forbidden_a_scales),
      cmocka_unit_test(check_forbidden_global_scale),
      cmocka_unit_test(check_bad_scheme),
      cmocka_unit_test(check_bad_act_type),
      cmocka_unit_test(check_bad_out_type),
      cmocka_unit_test(check_bad_m),
      cmocka_unit_test(check_bad_n),
      cmocka_unit_test(check_bad_k),
      cmocka_unit_test(check_bad_lda),
      cmocka_unit_test(check_bad_ldc),
      cmocka_unit_test(check_misaligned_a_c),
      cmocka_unit_test(check_misaligned_ld),
      cmocka_unit_test(check_misaligned_weights),
      cmocka_unit_test(check_misaligned_bias),
      cmocka_unit_test(check_bad_group_size),
      cmocka_unit_test(check_group_not_dividing_k),
      cmocka_unit_test(check_channelwise_not_allowed),
      cmocka_unit_test(check_act_order_unsupported),
      cmocka_unit_test(check_act_order_channelwise),
      cmocka_unit_test(check_act_order_not_bool),
      cmocka_unit_test(check_is_k_full_not_bool),
      cmocka_unit_test(check_shard_groups),
      cmocka_unit_test(check_shard_mid_group),
      cmocka_unit_test(check_misaligned_g_idx),
      cmocka_unit_test(check_desc_only_errors),
      cmocka_unit_test(packed_sizes_errors),
      cmocka_unit_test(packed_sizes_gptq4),
      cmocka_unit_test(packed_sizes_awq4_gptq8),
      cmocka_unit_test(packed_sizes_clears_error),
      cmocka_unit_test(moe_workspace_size_stub),
      cmocka_unit_test(moe_gemm_stub),
  };
  return marlin_test_main(tests, sizeof tests / sizeof tests[0], argc, argv);
}
