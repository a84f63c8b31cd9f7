#!/usr/bin/env bash
# Downloads cmocka's Debian packages (and pkgconf, for machines without a
# pkg-config) into a folder, to carry to a GPU machine that cannot reach a
# package registry. tests/run-gpu.sh uses that folder: it looks in .deb/ of
# the checkout by default, or takes it as --cmocka-prefix DIR, and unpacks the
# packages itself (dpkg-deb -x); nothing is installed system-wide.
#
#   tests/fetch-cmocka.sh [DIR]        (default DIR: .deb in the checkout)
#
# Runs on Debian or Ubuntu with apt (no root needed; `apt-get update` first
# if apt has no package lists). Packages: libcmocka0 libcmocka-dev
# pkgconf-bin libpkgconf3, for this machine's architecture.
set -Eeuo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=${1:-$root/.deb}
case $dir in -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac

command -v apt-get >/dev/null || { echo "fetch-cmocka.sh: apt-get not found (Debian/Ubuntu only)" >&2; exit 1; }
mkdir -p "$dir"
cd "$dir"
rm -f libcmocka0_*.deb libcmocka-dev_*.deb pkgconf-bin_*.deb libpkgconf3_*.deb
# As root, apt would hand the download to its _apt user, who may not be able
# to write here; download as the caller instead.
sandbox=()
[ "$(id -u)" -ne 0 ] || sandbox=(-o APT::Sandbox::User=root)
apt-get "${sandbox[@]}" download libcmocka0 libcmocka-dev pkgconf-bin libpkgconf3
ls -l ./*.deb
if [ "$dir" = "$root/.deb" ]; then
  echo "fetch-cmocka.sh: saved in .deb/ (ignored by git); tests/run-gpu.sh picks it up by itself."
else
  echo "fetch-cmocka.sh: saved in $dir; use: tests/run-gpu.sh --cmocka-prefix $dir"
fi
