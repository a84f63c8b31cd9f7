#!/usr/bin/env bash
# The GPU workflow: build marlin for this machine's GPU and verify every
# compiled kernel on it.
#
#   tests/run-gpu.sh [options] [-- extra meson setup arguments]
#
# 1. finds the GPU(s) with nvidia-smi and maps the compute capability to
#    -Darchs (9.0 -> 90a, whose build adds the Hopper wgmma kernels to the
#    mma.sync ones; 8.6 -> 86, 12.1 -> 120); no GPU: a message, exit 77;
# 2. configures BUILD (release, -Dtests=enabled -Dchecker=enabled) for that arch
#    with every scheme and activation that has kernels (from schemes.def),
#    builds it with ninja;
# 3. runs `meson test --suite gpu` (cmocka GPU tests and the checker), then
#    `meson test --benchmark` (marlin-check timing every kernel);
# 4. writes the logs to OUT and prints a summary, the last line
#    "N passed, N failed, N skipped". Exit 0 when everything passed.
#
# Options:
#   --build DIR           build directory (default: build-gpu in the checkout)
#   --out DIR             where the logs go (default: the build directory)
#   --schemes LIST        e.g. gptq4,awq4 (default: all schemes with kernels)
#   --acts LIST           e.g. fp16 (default: all activations with kernels)
#   --arch LIST           -Darchs value instead of the detected one, e.g. 90a
#   --cmocka-prefix DIR   cmocka from DIR: a tree unpacked with `dpkg -x`, or a
#                         folder of .deb files (tests/fetch-cmocka.sh); default:
#                         the system's, else .deb/ in the checkout if present
#   --install-deps        install what is missing: Meson (>= the floor) and
#                         ninja into a venv (wheels from .whl/ in the checkout if
#                         present, else PyPI), cmocka with apt-get (as root)
#   --skip-bench          do not run the benchmark
#   --sanitize            also run compute-sanitizer on the cmocka GPU tests:
#                         memcheck on all of them, racecheck and synccheck on
#                         the GEMM tests (a few minutes); log in sanitize.log
#   --timeout-multiplier N   passed to meson test
#   -h, --help
set -Euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$root/build-gpu
out=
schemes=
acts=
archs=
cmocka_prefix=
install_deps=0
skip_bench=0
sanitize=0
timeout_mult=
extra=()

need_arg() { [ $# -ge 2 ] || { echo "run-gpu.sh: $1 needs a value" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
  case $1 in
    --build) need_arg "$@"; build=$2; shift 2 ;;
    --out) need_arg "$@"; out=$2; shift 2 ;;
    --schemes) need_arg "$@"; schemes=$2; shift 2 ;;
    --acts) need_arg "$@"; acts=$2; shift 2 ;;
    --arch|--archs) need_arg "$@"; archs=$2; shift 2 ;;
    --cmocka-prefix) need_arg "$@"; cmocka_prefix=$2; shift 2 ;;
    --timeout-multiplier) need_arg "$@"; timeout_mult=$2; shift 2 ;;
    --build=*|--out=*|--schemes=*|--acts=*|--arch=*|--archs=*|--cmocka-prefix=*|--timeout-multiplier=*)
      set -- "${1%%=*}" "${1#*=}" "${@:2}" ;;
    --install-deps) install_deps=1; shift ;;
    --skip-bench) skip_bench=1; shift ;;
    --sanitize) sanitize=1; shift ;;
    -h|--help) sed -n '2,34p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "run-gpu.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

say() { printf 'run-gpu: %s\n' "$*"; }
die() { printf 'run-gpu: error: %s\n' "$*" >&2; exit 1; }
abspath() { mkdir -p "$1" && (cd "$1" && pwd); }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { s = b - a; printf "%dm%04.1fs", s / 60, s - 60 * int(s / 60) }'; }

case :$PATH: in *:/usr/local/cuda/bin:*) ;; *) [ -d /usr/local/cuda/bin ] && PATH=$PATH:/usr/local/cuda/bin ;; esac
export PATH

# ---- 1. the GPU ------------------------------------------------------------------
if ! command -v nvidia-smi >/dev/null; then
  echo "run-gpu: no NVIDIA GPU found (nvidia-smi is not installed); nothing to verify here."
  echo "run-gpu: the CPU-only tests: meson setup build --wrap-mode=nodownload && meson test -C build --print-errorlogs"
  exit 77
fi
if ! gpus=$(nvidia-smi --query-gpu=index,compute_cap,name,driver_version --format=csv,noheader 2>&1) ||
   [ -z "$gpus" ]; then
  echo "run-gpu: no NVIDIA GPU found (nvidia-smi: ${gpus:-no devices}); nothing to verify here."
  exit 77
fi
# Honour a numeric CUDA_VISIBLE_DEVICES.
if [[ ${CUDA_VISIBLE_DEVICES-} =~ ^[0-9]+(,[0-9]+)*$ ]]; then
  gpus=$(printf '%s\n' "$gpus" | awk -F', *' -v vis="$CUDA_VISIBLE_DEVICES" \
    'BEGIN { n = split(vis, v, ","); for (i = 1; i <= n; i++) keep[v[i]] = 1 } ($1 in keep)')
  [ -n "$gpus" ] || { echo "run-gpu: no NVIDIA GPU found (none of CUDA_VISIBLE_DEVICES=$CUDA_VISIBLE_DEVICES)"; exit 77; }
fi
say "GPU(s):"
printf '%s\n' "$gpus" | sed 's/^/    /'

arch_choices=$(python3 - "$root/meson_options.txt" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
m = re.search(r"option\(\s*'archs'.*?choices\s*:\s*\[(.*?)\]", text, re.S)
print(' '.join(re.findall(r"'([^']*)'", m.group(1))) if m else '')
EOF
) || die "cannot read -Darchs choices from meson_options.txt"

# compute capability "9.0" -> the -Darchs entry whose code runs on it.
cc_to_arch() {
  local cc=$1 major minor best='' c
  major=${cc%%.*}; minor=${cc#*.}
  # the arch-specific target of exactly this GPU (90a on 9.0) holds the most kernels
  for c in $arch_choices; do [ "$c" = "$major${minor}a" ] && { echo "$c"; return; }; done
  for c in $arch_choices; do
    [[ $c =~ ^[0-9]+$ ]] || continue          # other arch-specific targets do not run here
    [ "$c" = "$major$minor" ] && { echo "$c"; return; }
    # SASS for X.y runs on X.z, z >= y (Hopper 9.0 and the 'a' targets aside).
    if [ "${c:0:${#c}-1}" = "$major" ] && [ "${c: -1}" -le "$minor" ]; then best=$c; fi
  done
  [ -n "$best" ] && echo "$best"
}

detected=
while IFS= read -r line; do
  cc=$(printf '%s\n' "$line" | awk -F', *' '{print $2}')
  a=$(cc_to_arch "$cc") || die "GPU compute capability $cc has no -Darchs choice (choices: $arch_choices)"
  case ,$detected, in *,"$a",*) ;; *) detected=${detected:+$detected,}$a ;; esac
done <<<"$gpus"
archs=${archs:-$detected}
say "archs: $archs (detected: $detected)"
gpu_line=$(printf '%s\n' "$gpus" | head -n1 | awk -F', *' '{printf "%s (compute capability %s), driver %s", $3, $2, $4}')

# ---- 2. defaults from the scheme table ------------------------------------------------
read -r def_schemes def_acts < <(python3 - "$root/include/marlin/schemes.def" "$archs" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
top = max(int(re.match(r'\d+', a).group()) for a in sys.argv[2].split(','))
acts = {}  # MARLIN_A_<ID> -> (name, min_arch)
for m in re.finditer(r'^MARLIN_ACT\((\w+),\s*"(\w+)",\s*\d+,\s*\d+,\s*(\d+)\)', text, re.M):
    acts['MARLIN_A_' + m.group(1)] = (m.group(2), int(m.group(3)))
schemes, used = [], set()
for m in re.finditer(r'^MARLIN_SCHEME\((.*)\)\s*$', text, re.M):
    f = [x.strip() for x in m.group(1).split(',')]
    name, kernel_acts, min_arch = f[1].strip('"'), f[8], int(f[9])
    ka = [a for a in acts if a in kernel_acts and acts[a][1] <= top]
    if kernel_acts != '0' and ka and min_arch <= top:
        schemes.append(name)
        used.update(ka)
print(','.join(schemes), ','.join(acts[a][0] for a in acts if a in used))
EOF
) || die "cannot read include/marlin/schemes.def"
schemes=${schemes:-$def_schemes}
acts=${acts:-$def_acts}
{ [ -n "$schemes" ] && [ -n "$acts" ]; } || die "no scheme with kernels for archs=$archs"

build=$(abspath "$build")
out=$(abspath "${out:-$build}")
deps=$build/marlin-deps
mkdir -p "$deps"

# ---- tools -------------------------------------------------------------------------------
floor=$(sed -n "s/.*meson_version: *'>= *\([0-9.]*\)'.*/\1/p" "$root/meson.build" | head -n1)
floor=${floor:-1.4.0}
version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }
meson_ok() { command -v meson >/dev/null && version_ge "$(meson --version 2>/dev/null)" "$floor"; }

if ! meson_ok || ! command -v ninja >/dev/null; then
  venv=${MARLIN_VENV:-/tmp/marlin-meson-venv}
  if [ -x "$venv/bin/meson" ]; then PATH=$venv/bin:$PATH; fi
fi
if ! meson_ok || ! command -v ninja >/dev/null; then
  [ $install_deps = 1 ] || die "need Meson >= $floor and ninja on PATH (have: meson $(meson --version 2>/dev/null || echo none), ninja $(ninja --version 2>/dev/null || echo none)); rerun with --install-deps"
  want=()
  meson_ok || want+=(meson)
  command -v ninja >/dev/null || want+=(ninja)
  say "installing ${want[*]} into $venv"
  python3 -m venv "$venv" || die "python3 -m venv failed"
  if ls "$root"/.whl/meson-*.whl >/dev/null 2>&1; then
    "$venv/bin/python" -m pip install -q --no-index --find-links "$root/.whl" "${want[@]}" ||
      die "pip install ${want[*]} from .whl/ failed"
  else
    "$venv/bin/python" -m pip install -q "${want[@]/#meson/meson==1.12.0}" || die "pip install ${want[*]} failed"
  fi
  PATH=$venv/bin:$PATH
  { meson_ok && command -v ninja >/dev/null; } || die "still no Meson >= $floor / ninja"
fi
export PATH
say "meson $(meson --version), ninja $(ninja --version), $(nvcc --version 2>/dev/null | grep -o 'release [0-9.]*' || echo 'nvcc not found')"

# ---- cmocka ------------------------------------------------------------------------------
setup_args=()
have_pkg_config() { command -v pkg-config >/dev/null || command -v pkgconf >/dev/null; }
system_cmocka() { have_pkg_config && { pkg-config --exists cmocka 2>/dev/null || pkgconf --exists cmocka 2>/dev/null; }; }

if [ -z "$cmocka_prefix" ] && ! system_cmocka; then
  if ls "$root"/.deb/libcmocka-dev_*.deb >/dev/null 2>&1; then
    cmocka_prefix=$root/.deb
    say "cmocka: not installed; using the packages in .deb/"
  elif [ $install_deps = 1 ] && command -v apt-get >/dev/null && [ "$(id -u)" -eq 0 ]; then
    say "cmocka: apt-get install libcmocka-dev pkg-config"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q libcmocka-dev pkg-config ||
      { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q libcmocka-dev pkg-config; } ||
      die "apt-get install libcmocka-dev failed"
  else
    die "cmocka not found: install libcmocka-dev, or run tests/fetch-cmocka.sh where apt works and carry .deb/ here (or pass --cmocka-prefix DIR)"
  fi
fi

if [ -n "$cmocka_prefix" ]; then
  cmocka_prefix=$(cd "$cmocka_prefix" && pwd) || die "--cmocka-prefix: no such directory"
  tree=$cmocka_prefix
  if ! ls "$tree"/usr/lib/*/pkgconfig/cmocka.pc >/dev/null 2>&1; then
    # A folder of .deb files: unpack them (no root, nothing outside $deps).
    ls "$cmocka_prefix"/*.deb >/dev/null 2>&1 || die "--cmocka-prefix $cmocka_prefix: neither usr/lib/*/pkgconfig/cmocka.pc nor .deb files"
    tree=$deps/root
    rm -rf "$tree"; mkdir -p "$tree"
    for f in "$cmocka_prefix"/*.deb; do
      if command -v dpkg-deb >/dev/null; then
        dpkg-deb -x "$f" "$tree" || die "dpkg-deb -x $f"
      else
        (cd "$deps" && rm -f data.tar.* && ar x "$f" "$(ar t "$f" | grep '^data\.tar')" &&
           tar -xf data.tar.* -C "$tree" && rm -f data.tar.*) || die "cannot unpack $f (no dpkg-deb, ar or tar?)"
      fi
    done
  fi
  pc=$(find "$tree"/usr/lib -path "*/pkgconfig/cmocka.pc" 2>/dev/null | head -n1)
  [ -n "$pc" ] || die "no cmocka.pc under $tree/usr/lib/*/pkgconfig"
  libdir=$(dirname "$(dirname "$pc")")
  # Debian's cmocka.pc hard-codes /usr paths: write a copy pointing into the tree.
  mkdir -p "$deps/pkgconfig"
  cat >"$deps/pkgconfig/cmocka.pc" <<EOF
prefix=$tree/usr
libdir=$libdir
includedir=$tree/usr/include

Name: cmocka
Description: The cmocka unit testing library (from $cmocka_prefix)
Version: $(sed -n 's/^Version: *//p' "$pc")
Libs: -L\${libdir} -lcmocka
Cflags: -I\${includedir}
EOF
  export LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  setup_args+=("-Dpkg_config_path=$deps/pkgconfig")
  if ! have_pkg_config; then
    [ -x "$tree/usr/bin/pkgconf" ] || die "no pkg-config on this machine and no pkgconf in $cmocka_prefix (tests/fetch-cmocka.sh fetches it)"
    mkdir -p "$deps/bin"
    # shellcheck disable=SC2016 # $LD_LIBRARY_PATH and $@ belong to the wrapper
    printf '#!/bin/sh\nLD_LIBRARY_PATH=%s${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} exec %s "$@"\n' \
      "$libdir" "$tree/usr/bin/pkgconf" >"$deps/bin/pkg-config"
    chmod +x "$deps/bin/pkg-config"
    PATH=$deps/bin:$PATH
  fi
  say "cmocka $(PKG_CONFIG_PATH=$deps/pkgconfig pkg-config --modversion cmocka) from $tree (LD_LIBRARY_PATH=$libdir)"
fi

# ---- 2. configure and build ---------------------------------------------------------
t_build=$(now)
config="schemes=$schemes acts=$acts archs=$archs"
[ -f "$build/meson-private/coredata.dat" ] && setup_args+=(--reconfigure)
say "configuring $build: $config"
{
  meson setup "$build" "$root" --wrap-mode=nodownload -Dbuildtype=release \
    "-Dschemes=$schemes" "-Dacts=$acts" "-Darchs=$archs" \
    -Dtests=enabled -Dchecker=enabled "${setup_args[@]}" "${extra[@]}"
} 2>&1 | tee "$out/setup.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || die "meson setup failed (log: $out/setup.log, $build/meson-logs/meson-log.txt)"

say "building (ninja -C $build)"
ninja -C "$build" 2>&1 | tee "$out/build.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || die "build failed (log: $out/build.log)"
build_time=$(elapsed "$t_build")

# ---- 3. tests and benchmark --------------------------------------------------------------
mt_args=(--print-errorlogs)
[ -z "$timeout_mult" ] || mt_args+=(--timeout-multiplier "$timeout_mult")

t_gpu=$(now)
say "meson test --suite gpu"
meson test -C "$build" --suite gpu --logbase gpulog "${mt_args[@]}" 2>&1 | tee "$out/gpu.log"
gpu_rc=${PIPESTATUS[0]}
gpu_time=$(elapsed "$t_gpu")
[ "$out" = "$build" ] || cp -f "$build"/meson-logs/gpulog.* "$out/" 2>/dev/null || true

# compute-sanitizer: each run is one result (0 errors and the tests passed).
san_p=0 san_f=0 san_time=
if [ $sanitize = 1 ]; then
  t_san=$(now)
  san=$(command -v compute-sanitizer || echo /usr/local/cuda/compute-sanitizer/compute-sanitizer)
  [ -x "$san" ] || die "--sanitize: compute-sanitizer not found (PATH, /usr/local/cuda/compute-sanitizer)"
  test_gpu=$build/tests/gpu/test_gpu
  gemm_cases=$("$test_gpu" --list 2>/dev/null | grep '^gemm_' || true)
  [ -n "$gemm_cases" ] || gemm_cases="gemm_gptq4_fp16 gemm_gptq4_act_order gemm_awq4_fp16_large_m"
  : >"$out/sanitize.log"
  san_run() { # san_run TOOL [CASE]
    say "compute-sanitizer --tool $1 test_gpu ${2:-(all cases)}"
    if "$san" --tool "$1" --error-exitcode 3 "$test_gpu" ${2:+"$2"} >>"$out/sanitize.log" 2>&1; then
      san_p=$((san_p + 1))
    else
      san_f=$((san_f + 1)); say "  FAILED (see sanitize.log)"
    fi
  }
  san_run memcheck
  for c in $gemm_cases; do san_run racecheck "$c"; san_run synccheck "$c"; done
  san_time=$(elapsed "$t_san")
fi

bench_rc=0
bench_time=
if [ $skip_bench = 0 ]; then
  t_bench=$(now)
  say "meson test --benchmark"
  meson test -C "$build" --benchmark --logbase benchmarklog --verbose "${mt_args[@]}" 2>&1 |
    tee "$out/bench.log"
  bench_rc=${PIPESTATUS[0]}
  bench_time=$(elapsed "$t_bench")
  [ "$out" = "$build" ] || cp -f "$build"/meson-logs/benchmarklog.* "$out/" 2>/dev/null || true
fi

# ---- 4. summary ----------------------------------------------------------------------------
count() { # count FILE -> "passed failed skipped"
  python3 - "$1" <<'EOF'
import json, sys
p = f = s = 0
try:
    for line in open(sys.argv[1]):
        if line.strip():
            r = json.loads(line).get('result')
            if r in ('OK', 'EXPECTEDFAIL'): p += 1
            elif r == 'SKIP': s += 1
            else: f += 1
except OSError:
    pass
print(p, f, s)
EOF
}
read -r gp gf gs < <(count "$build/meson-logs/gpulog.json")
bp=0 bf=0 bs=0
[ $skip_bench = 1 ] || read -r bp bf bs < <(count "$build/meson-logs/benchmarklog.json")

status=0
notes=()
[ "$gpu_rc" -eq 0 ] && [ "$gf" -eq 0 ] || status=1
[ "$bench_rc" -eq 0 ] && [ "$bf" -eq 0 ] || status=1
[ "$san_f" -eq 0 ] || status=1
if [ $((gp + gf + gs)) -eq 0 ]; then
  status=1; notes+=("the gpu suite ran no test")
elif [ "$gp" -eq 0 ] && [ "$gf" -eq 0 ]; then
  # Every GPU test skipped although nvidia-smi sees a GPU: the runtime cannot use it.
  status=1; notes+=("every gpu test was skipped although a GPU is present (driver too old for this CUDA? see gpu.log)")
fi

{
  echo
  echo "== marlin on $gpu_line"
  echo "   build      $config, release ($build_time) in $build"
  echo "   gpu suite  $gp passed, $gf failed, $gs skipped ($gpu_time)"
  [ $sanitize = 0 ] || echo "   sanitizer  $san_p passed, $san_f failed ($san_time); log in sanitize.log"
  if [ $skip_bench = 1 ]; then
    echo "   benchmark  not run (--skip-bench)"
  else
    echo "   benchmark  $bp passed, $bf failed, $bs skipped ($bench_time); results in bench.log"
  fi
  logs="setup.log build.log gpu.log${bench_time:+ bench.log}"
  if [ "$out" = "$build" ]; then
    logs="$logs, meson-logs/gpulog.*${bench_time:+ meson-logs/benchmarklog.*}"
  else
    logs="$logs gpulog.*${bench_time:+ benchmarklog.*}"
  fi
  echo "   logs       $out: $logs"
  for n in "${notes[@]}"; do echo "   NOTE       $n"; done
  echo "$((gp + bp + san_p)) passed, $((gf + bf + san_f)) failed, $((gs + bs)) skipped"
} | tee "$out/summary.txt"
exit $status
