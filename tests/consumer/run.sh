#!/usr/bin/env bash
# Builds tests/consumer (a C project that pulls marlin in through a wrap) and
# checks what the subproject compiled.
#
#   tests/consumer/run.sh [--workdir DIR] [--source REPO]
#
# Steps:
#  1. copy the consumer project to DIR/project (default: a new /tmp/marlin-consumer.*);
#  2. write DIR/project/subprojects/marlin.wrap from marlin.wrap.in: a [wrap-git]
#     whose url is REPO (default: this checkout) at its HEAD commit. If REPO has
#     uncommitted or untracked files, a snapshot repository of the working tree
#     is made in DIR/marlin-snapshot and used instead, so what is tested is what
#     is on disk;
#  3. `meson subprojects download` (a local clone), then `meson setup
#     --wrap-mode=nodownload` (no buildtype: Meson's default, debug) and a build;
#  4. checks: the only kernel TU generated and compiled is
#     marlin_gemm_gptq4_fp16_sm80.cu; no nvcc line of the subproject has -G;
#     marlin's own tests are not registered (tests=disabled);
#  5. meson test (the consumer's program exits 77, SKIP, without a GPU).
# Results: DIR/build/meson-logs/testlog.json. Exit status non-zero on any failure.
set -Eeuo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_repo=$(cd "$here/../.." && pwd)
workdir=

while [ $# -gt 0 ]; do
  case $1 in
    --workdir) workdir=$2; shift 2 ;;
    --workdir=*) workdir=${1#*=}; shift ;;
    --source) source_repo=$(cd "$2" && pwd); shift 2 ;;
    --source=*) source_repo=$(cd "${1#*=}" && pwd); shift ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

say() { printf 'consumer: %s\n' "$*"; }
die() { printf 'consumer: FAILED: %s\n' "$*" >&2; exit 1; }

case :$PATH: in *:/usr/local/cuda/bin:*) ;; *) [ -d /usr/local/cuda/bin ] && PATH=$PATH:/usr/local/cuda/bin ;; esac
export PATH
command -v meson >/dev/null || die "meson is not on PATH"
command -v git >/dev/null || die "git is not installed (the wrap is a [wrap-git])"

if [ -z "$workdir" ]; then
  workdir=$(mktemp -d /tmp/marlin-consumer.XXXXXX)
else
  rm -rf "$workdir"
  mkdir -p "$workdir"
  workdir=$(cd "$workdir" && pwd)
fi
project=$workdir/project
build=$workdir/build
say "work directory $workdir (meson $(meson --version))"

# ---- 1. the project ----------------------------------------------------------
mkdir -p "$project/subprojects"
cp "$here/meson.build" "$here/main.c" "$here/headers.c" "$project/"

# ---- 2. the wrap -------------------------------------------------------------
url=$source_repo
revision=
if git -C "$source_repo" rev-parse --verify -q HEAD >/dev/null 2>&1 &&
   [ "$(git -C "$source_repo" rev-parse --show-toplevel)" = "$source_repo" ] &&
   [ -z "$(git -C "$source_repo" status --porcelain --untracked-files=normal)" ]; then
  revision=$(git -C "$source_repo" rev-parse HEAD)
  say "wrap source: $source_repo at $revision (clean checkout)"
else
  # Tracked and untracked-but-not-ignored files, as they are on disk.
  snap=$workdir/marlin-snapshot
  mkdir -p "$snap"
  if git -C "$source_repo" rev-parse --git-dir >/dev/null 2>&1; then
    (cd "$source_repo" && git ls-files -z --cached --others --exclude-standard |
       while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
       tar --null -T - -cf -) | tar -xf - -C "$snap"
  else
    (cd "$source_repo" && tar --exclude='./build*' --exclude=./.git -cf - .) | tar -xf - -C "$snap"
  fi
  git -C "$snap" init -q
  git -C "$snap" add -A
  git -C "$snap" -c user.name=marlin-consumer -c user.email=consumer@invalid \
      -c commit.gpgsign=false commit -q -m "snapshot of $source_repo"
  url=$snap
  revision=$(git -C "$snap" rev-parse HEAD)
  say "wrap source: snapshot of the working tree of $source_repo (it has uncommitted files) at $revision"
fi
sed -e "s|@URL@|$url|" -e "s|@REVISION@|$revision|" \
    "$here/subprojects/marlin.wrap.in" >"$project/subprojects/marlin.wrap"
say "subprojects/marlin.wrap:"
sed 's/^/    /' "$project/subprojects/marlin.wrap"

# ---- 3. fetch (local clone), configure without downloads, build -------------
(cd "$project" && meson subprojects download marlin) || die "meson subprojects download"
[ -f "$project/subprojects/marlin/meson.build" ] || die "the wrap did not produce subprojects/marlin"

meson setup "$build" "$project" --wrap-mode=nodownload || die "meson setup (see $build/meson-logs/meson-log.txt)"
meson compile -C "$build" || die "build"

# ---- 4. checks ---------------------------------------------------------------
sub=$build/subprojects/marlin
[ -d "$sub" ] || die "no subproject build directory $sub"

want=marlin_gemm_gptq4_fp16_sm80.cu
generated=$(find "$sub" -name 'marlin_gemm_*.cu' -printf '%f\n' | sort)
say "generated kernel TUs: ${generated:-<none>}"
[ "$generated" = "$want" ] || die "expected exactly $want to be generated"

# The parent's own run of the exported generator (find_program('marlin-gen')).
[ "$(cat "$build/marlin-gen-list.txt")" = "$want" ] || die "marlin-gen --list via find_program printed something else"

objects=$(find "$sub" -name '*marlin_gemm_*.o' | sort)
say "compiled kernel objects:"
printf '%s\n' "${objects:-<none>}" | sed 's/^/    /'
if [ "$(printf '%s\n' "$objects" | grep -c .)" != 1 ] || [[ $objects != *"$want.o" ]]; then
  die "expected exactly one kernel object, compiled from $want"
fi

# Every nvcc compile line of the subproject, with its ARGS.
nvcc_lines=$(awk '/^build subprojects\/marlin\/.*: cuda_COMPILER /{t=$2; sub(/:$/, "", t); next}
                  t != "" && /^ ARGS = /{print t " " $0; t=""}' "$build/build.ninja")
[ -n "$nvcc_lines" ] || die "no nvcc compile line for the subproject in build.ninja"
say "nvcc compile lines of the subproject:"
printf '%s\n' "$nvcc_lines" | awk '{ line = "    " $1 ":"
  for (i = 2; i <= NF; i++) if ($i ~ /^(-O.*|-G|-g|-dopt=.*|-lineinfo|-DNDEBUG|arch=.*)$/) line = line " " $i
  print line }'
if printf '%s\n' "$nvcc_lines" | grep -E -- '(^| )-G( |$)' >/dev/null; then
  printf '%s\n' "$nvcc_lines" | grep -E -- '(^| )-G( |$)' >&2
  die "-G (device debug) on a kernel compile line of the subproject"
fi
say "no -G on the subproject's nvcc lines (parent buildtype: $(meson introspect --buildoptions "$build" |
  python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]=="buildtype"))'))"

tests=$(meson test -C "$build" --list 2>/dev/null)
say "registered tests: $(printf '%s\n' "$tests" | paste -sd' ')"
[ "$tests" = "consumer:consumer" ] || die "expected the consumer's one test only (marlin's own tests should be disabled)"

# ---- 5. run ------------------------------------------------------------------
meson test -C "$build" --print-errorlogs || die "meson test"
say "ok"
