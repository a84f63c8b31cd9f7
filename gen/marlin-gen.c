/* marlin-gen: decides which kernel translation units exist for a set of build
 * options and writes them.
 *
 *   marlin-gen --schemes=gptq4,awq4 --acts=fp16,bf16 --archs=80,90a --list
 *   marlin-gen --schemes=gptq4,awq4 --acts=fp16,bf16 --archs=80,90a --outdir DIR
 *
 * The rules come from include/marlin/schemes.def (compile with -I include):
 * one TU per valid (scheme, activation, arch) triple, named
 * marlin_gemm_<scheme>_<act>_sm<arch>.cu, ordered by scheme table order, then
 * activation table order, then the order of --archs. --list prints the names,
 * one per line; --outdir writes the TUs plus marlin_dispatch.inc (one
 * MARLIN_DENSE_KERNEL line per TU, same order), rewriting a file only when its
 * bytes change so that ninja's restat skips recompiles.
 *
 * Invalid option combinations print a message naming the -D option to change
 * on stderr and exit with status 2.
 *
 * Plain C11, no dependencies beyond the C library.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "marlin/schemes.def"

#define EXIT_USAGE 2

/* ---- tables -------------------------------------------------------------- */

typedef struct {
  const char *id;   /* upper-case identifier (MARLIN_SCHEME_<ID>) */
  const char *name; /* -Dschemes= spelling                       */
  unsigned acts;    /* MARLIN_A_* the format allows              */
  unsigned kernel_acts;
  int min_arch;
} scheme_row;

static const scheme_row schemes[] = {
#define MARLIN_SCHEME(ID, name, value, bits, zero, scale, groups, acts, kernel_acts, min_arch) \
  {#ID, name, (acts), (kernel_acts), (min_arch)},
#include "marlin/schemes.def"
#undef MARLIN_SCHEME
};
#define NUM_SCHEMES ((int)(sizeof schemes / sizeof schemes[0]))

typedef struct {
  const char *id;
  const char *name;
  unsigned bit; /* MARLIN_A_<ID> */
  int min_arch;
} act_row;

static const act_row acts[] = {
#define MARLIN_ACT(ID, name, value, bytes, min_arch) {#ID, name, MARLIN_A_##ID, (min_arch)},
#include "marlin/schemes.def"
#undef MARLIN_ACT
};
#define NUM_ACTS ((int)(sizeof acts / sizeof acts[0]))

/* The GPU targets -Darchs= accepts (meson_options.txt has the same list).
 * A trailing 'a' is an arch-specific target (sm_90a): same compute capability,
 * arch-specific instructions, no forward compatibility. */
static const char *const arch_names[] = {"75", "80", "86", "87", "89", "90", "90a", "100", "120"};
#define NUM_ARCHS ((int)(sizeof arch_names / sizeof arch_names[0]))

#define MAX_SEL 64

typedef struct {
  int n;
  int idx[MAX_SEL]; /* indices into the table, in command-line order */
} selection;

/* ---- messages ------------------------------------------------------------ */

static int errors;

static void error(const char *fmt, ...) {
  va_list ap;
  fputs("marlin-gen: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  errors++;
}

static void usage(FILE *f) {
  fputs("usage: marlin-gen --schemes=LIST --acts=LIST --archs=LIST (--list | --outdir DIR)\n"
        "\n"
        "  --schemes=LIST  comma-separated weight schemes:",
        f);
  for (int i = 0; i < NUM_SCHEMES; i++) fprintf(f, " %s", schemes[i].name);
  fputs("\n  --acts=LIST     comma-separated activation dtypes:", f);
  for (int i = 0; i < NUM_ACTS; i++) fprintf(f, " %s", acts[i].name);
  fputs("\n  --archs=LIST    comma-separated GPU targets:", f);
  for (int i = 0; i < NUM_ARCHS; i++) fprintf(f, " %s", arch_names[i]);
  fputs("\n  --list          print the kernel translation units, one per line\n"
        "  --outdir DIR    write the translation units and marlin_dispatch.inc to DIR\n"
        "                  (files whose bytes are unchanged are left untouched)\n"
        "  --help          this text\n"
        "\n"
        "Exit status: 0 on success, 2 for invalid options (message on stderr).\n",
        f);
}

/* ---- option parsing ------------------------------------------------------ */

static int arch_cc(int a) { return atoi(arch_names[a]); }
static int arch_specific(int a) {
  size_t len = strlen(arch_names[a]);
  return arch_names[a][len - 1] == 'a';
}

/* Splits a comma-separated list and maps each name through lookup(). */
static void parse_list(const char *opt, const char *value, selection *sel, int count,
                       const char *(*name_of)(int), const char *what) {
  sel->n = 0;
  if (value == NULL) {
    error("missing --%s= (the -D%s= option)", opt, opt);
    return;
  }
  const char *p = value;
  if (*p == '\0') {
    error("-D%s= is empty: select at least one %s", opt, what);
    return;
  }
  for (;;) {
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    int found = -1;
    for (int i = 0; i < count; i++) {
      const char *name = name_of(i);
      if (strlen(name) == len && strncmp(name, p, len) == 0) found = i;
    }
    if (len == 0) {
      error("-D%s=%s: empty %s name in the list", opt, value, what);
    } else if (found < 0) {
      char known[512] = "";
      for (int i = 0; i < count; i++) {
        if (i) strncat(known, " ", sizeof known - strlen(known) - 1);
        strncat(known, name_of(i), sizeof known - strlen(known) - 1);
      }
      error("-D%s: unknown %s '%.*s' (known: %s)", opt, what, (int)len, p, known);
    } else {
      int dup = 0;
      for (int i = 0; i < sel->n; i++) dup |= sel->idx[i] == found;
      if (dup) {
        error("-D%s: %s '%s' is listed twice", opt, what, name_of(found));
      } else if (sel->n == MAX_SEL) {
        error("-D%s: too many entries", opt);
        return;
      } else {
        sel->idx[sel->n++] = found;
      }
    }
    if (!end) break;
    p = end + 1;
  }
}

static const char *scheme_name_of(int i) { return schemes[i].name; }
static const char *act_name_of(int i) { return acts[i].name; }
static const char *arch_name_of(int i) { return arch_names[i]; }

static int selected(const selection *sel, int i) {
  for (int j = 0; j < sel->n; j++)
    if (sel->idx[j] == i) return 1;
  return 0;
}

/* ---- the output set ------------------------------------------------------ */

typedef struct {
  int scheme, act, arch;
  char name[96];
} unit;

static int max_int(int a, int b) { return a > b ? a : b; }

/* Checks the selection; returns 0 (with messages printed) if invalid. */
static int validate(const selection *s, const selection *a, const selection *r) {
  int max_cc = 0;
  for (int j = 0; j < r->n; j++) max_cc = max_int(max_cc, arch_cc(r->idx[j]));

  /* Every selected activation must be allowed by some selected scheme. */
  for (int j = 0; j < a->n; j++) {
    const act_row *act = &acts[a->idx[j]];
    int ok = 0;
    for (int i = 0; i < s->n; i++) ok |= (schemes[s->idx[i]].acts & act->bit) != 0;
    if (!ok) {
      char takers[256] = "";
      for (int i = 0; i < NUM_SCHEMES; i++) {
        if (!(schemes[i].acts & act->bit)) continue;
        if (takers[0]) strncat(takers, ", ", sizeof takers - strlen(takers) - 1);
        strncat(takers, schemes[i].name, sizeof takers - strlen(takers) - 1);
      }
      error("-Dacts: %s activations are not taken by any scheme in -Dschemes; remove %s from "
            "-Dacts= or add a scheme that takes it (%s)",
            act->name, act->name, takers[0] ? takers : "none");
    }
    if (max_cc < act->min_arch)
      error("-Darchs: %s activations need an sm%d+ arch in -Darchs (the highest selected is sm%d)",
            act->name, act->min_arch, max_cc);
  }

  /* Every selected scheme must have a selected activation it allows. */
  for (int i = 0; i < s->n; i++) {
    const scheme_row *sc = &schemes[s->idx[i]];
    int ok = 0;
    for (int j = 0; j < a->n; j++) ok |= (sc->acts & acts[a->idx[j]].bit) != 0;
    if (!ok) {
      char need[128] = "";
      for (int j = 0; j < NUM_ACTS; j++) {
        if (!(sc->acts & acts[j].bit)) continue;
        if (need[0]) strncat(need, " or ", sizeof need - strlen(need) - 1);
        strncat(need, acts[j].name, sizeof need - strlen(need) - 1);
      }
      error("-Dschemes: scheme %s takes none of the activations in -Dacts; add %s to -Dacts=",
            sc->name, need);
    }
    if (max_cc < sc->min_arch)
      error("-Darchs: scheme %s needs an sm%d+ arch in -Darchs (the highest selected is sm%d)",
            sc->name, sc->min_arch, max_cc);
    /* Pairs the format allows but no kernel is written for. */
    for (int j = 0; j < a->n; j++) {
      const act_row *act = &acts[a->idx[j]];
      if ((sc->acts & act->bit) && !(sc->kernel_acts & act->bit))
        error("-Dschemes/-Dacts: scheme %s with %s activations has no kernel yet; remove %s from "
              "%s",
              sc->name, act->name, sc->kernel_acts ? act->name : sc->name,
              sc->kernel_acts ? "-Dacts=" : "-Dschemes=");
    }
  }
  return errors == 0;
}

static int build_units(const selection *s, const selection *a, const selection *r, unit *out) {
  int n = 0;
  for (int si = 0; si < NUM_SCHEMES; si++) {
    if (!selected(s, si)) continue;
    for (int ai = 0; ai < NUM_ACTS; ai++) {
      if (!selected(a, ai)) continue;
      if (!(schemes[si].acts & acts[ai].bit)) continue; /* the format does not allow it */
      int min_cc = max_int(schemes[si].min_arch, acts[ai].min_arch);
      for (int k = 0; k < r->n; k++) {
        int ri = r->idx[k];
        if (arch_cc(ri) < min_cc) continue;
        unit *u = &out[n++];
        u->scheme = si;
        u->act = ai;
        u->arch = ri;
        snprintf(u->name, sizeof u->name, "marlin_gemm_%s_%s_sm%s.cu", schemes[si].name,
                 acts[ai].name, arch_names[ri]);
      }
    }
  }
  return n;
}

/* ---- writing ------------------------------------------------------------- */

typedef struct {
  char *data;
  size_t len, cap;
} buffer;

static void buf_printf(buffer *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int need = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (need < 0) abort();
  if (b->len + (size_t)need + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + (size_t)need + 1) cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) {
      fputs("marlin-gen: out of memory\n", stderr);
      exit(1);
    }
    b->data = p;
    b->cap = cap;
  }
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
  va_end(ap);
  b->len += (size_t)need;
}

static const char header[] =
    "/* Generated by marlin-gen from include/marlin/schemes.def; do not edit. */\n";

/* Writes path unless it already holds exactly these bytes. Returns 0 on success. */
static int write_if_changed(const char *path, const char *data, size_t len) {
  FILE *f = fopen(path, "rb");
  if (f) {
    int same = 1;
    size_t i = 0;
    int c;
    while ((c = fgetc(f)) != EOF) {
      if (i >= len || (unsigned char)data[i] != (unsigned char)c) {
        same = 0;
        break;
      }
      i++;
    }
    if (ferror(f)) same = 0;
    fclose(f);
    if (same && i == len) return 0;
  }
  f = fopen(path, "wb");
  if (!f) {
    fprintf(stderr, "marlin-gen: cannot write %s\n", path);
    return 1;
  }
  int bad = fwrite(data, 1, len, f) != len;
  bad |= fclose(f) != 0;
  if (bad) {
    fprintf(stderr, "marlin-gen: error writing %s\n", path);
    remove(path);
    return 1;
  }
  return 0;
}

static int write_outputs(const char *outdir, const unit *units, int n, const char *config) {
  int failed = 0;
  buffer path = {0}, text = {0};
  buffer dispatch = {0};
  buf_printf(&dispatch, "%s", header);
  buf_printf(&dispatch, "#define MARLIN_BUILD_CONFIG_STRING \"%s\"\n", config);
  for (int i = 0; i < n; i++) {
    const unit *u = &units[i];
    int cc = arch_cc(u->arch), specific = arch_specific(u->arch);
    char launcher[96];
    snprintf(launcher, sizeof launcher, "%.*s", (int)(strlen(u->name) - 3), u->name);

    text.len = 0;
    buf_printf(&text, "%s", header);
    buf_printf(&text, "#include \"marlin/kernel/dense.cuh\"\n");
    buf_printf(&text, "MARLIN_DENSE_INSTANCE(%s, %s, %d, %s)\n", schemes[u->scheme].id,
               acts[u->act].id, cc * 10 + specific, launcher);
    path.len = 0;
    buf_printf(&path, "%s/%s", outdir, u->name);
    failed |= write_if_changed(path.data, text.data, text.len);

    buf_printf(&dispatch, "MARLIN_DENSE_KERNEL(%s, %s, %d, %d, %s)\n", schemes[u->scheme].id,
               acts[u->act].id, cc, specific, launcher);
  }
  path.len = 0;
  buf_printf(&path, "%s/marlin_dispatch.inc", outdir);
  failed |= write_if_changed(path.data, dispatch.data, dispatch.len);
  free(path.data);
  free(text.data);
  free(dispatch.data);
  return failed;
}

/* ---- main ---------------------------------------------------------------- */

static const char *match_opt(const char *arg, const char *name, int argc, char **argv, int *i) {
  size_t len = strlen(name);
  if (strncmp(arg, name, len) != 0) return NULL;
  if (arg[len] == '=') return arg + len + 1;
  if (arg[len] == '\0') {
    if (*i + 1 >= argc) {
      error("%s needs a value", name);
      return "";
    }
    return argv[++*i];
  }
  return NULL;
}

int main(int argc, char **argv) {
  const char *scheme_arg = NULL, *act_arg = NULL, *arch_arg = NULL, *outdir = NULL;
  int list = 0;

  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i], *v;
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
      usage(stdout);
      return 0;
    } else if (strcmp(arg, "--list") == 0) {
      list = 1;
    } else if ((v = match_opt(arg, "--schemes", argc, argv, &i))) {
      scheme_arg = v;
    } else if ((v = match_opt(arg, "--acts", argc, argv, &i))) {
      act_arg = v;
    } else if ((v = match_opt(arg, "--archs", argc, argv, &i))) {
      arch_arg = v;
    } else if ((v = match_opt(arg, "--outdir", argc, argv, &i))) {
      outdir = v;
    } else {
      error("unknown argument '%s' (see --help)", arg);
    }
  }
  if (errors) return EXIT_USAGE;
  if (list == (outdir != NULL)) {
    usage(stderr);
    fputs("marlin-gen: give exactly one of --list and --outdir DIR\n", stderr);
    return EXIT_USAGE;
  }
  if (outdir && !*outdir) {
    error("--outdir needs a directory");
    return EXIT_USAGE;
  }

  selection s, a, r;
  parse_list("schemes", scheme_arg, &s, NUM_SCHEMES, scheme_name_of, "scheme");
  parse_list("acts", act_arg, &a, NUM_ACTS, act_name_of, "activation dtype");
  parse_list("archs", arch_arg, &r, NUM_ARCHS, arch_name_of, "arch");
  if (errors) return EXIT_USAGE;
  if (!validate(&s, &a, &r)) return EXIT_USAGE;

  static unit units[NUM_SCHEMES * NUM_ACTS * MAX_SEL];
  int n = build_units(&s, &a, &r, units);
  if (n == 0) { /* cannot happen after validate(); kept as a guard */
    error("the options select no kernel translation unit");
    return EXIT_USAGE;
  }

  if (list) {
    for (int i = 0; i < n; i++) printf("%s\n", units[i].name);
    return fflush(stdout) == 0 ? 0 : 1;
  }

  char config[1024];
  snprintf(config, sizeof config, "schemes=%s acts=%s archs=%s", scheme_arg, act_arg, arch_arg);
  return write_outputs(outdir, units, n, config) ? 1 : 0;
}
