#!/bin/sh
# Installs what camfs needs, builds it twice (normal, and with -Werror plus
# AddressSanitizer/UBSan) and runs every test suite against real peers.
set -eu
cd "$(dirname "$0")/.."
./contrib/setup.sh

meson setup --reconfigure build >/dev/null 2>&1 || meson setup build
ninja -C build
meson test -C build --print-errorlogs --num-processes 2 --suite unit
meson test -C build --print-errorlogs --num-processes 2 --suite integration
# The long suite (test/long/: 100 camera flaps, day.mp4 over 1,440 segments
# under ulimit -n 1024, 256 live readers and 24 clips while recording; about
# 20 minutes here) is not part of a plain `meson test`. It runs when
# CAMFS_LONG_BUDGET gives it a budget in seconds, e.g.
#   CAMFS_LONG_BUDGET=2400 contrib/test.sh
# and fails if it does not finish within it. By hand:
#   meson test -C build --suite long --print-errorlogs
if [ -n "${CAMFS_LONG_BUDGET:-}" ]; then
	timeout --foreground "$CAMFS_LONG_BUDGET" \
		meson test -C build --print-errorlogs --num-processes 1 --suite long ||
		{ echo "long suite failed or took over ${CAMFS_LONG_BUDGET} s" >&2; exit 1; }
fi

# Everything again with warnings as errors and sanitizers on.
meson setup --reconfigure build-asan -Dwerror=true -Db_sanitize=address,undefined \
	-Db_lundef=false >/dev/null 2>&1 ||
	meson setup build-asan -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false
ninja -C build-asan
ASAN_OPTIONS=detect_leaks=1 meson test -C build-asan --print-errorlogs --num-processes 2 --suite unit
# camfs built with sanitizers, against the same real peers; not the viewer's
# own tests, which exercise its JavaScript (the server paths they use have
# http_* tests of their own).
meson test -C build-asan --print-errorlogs --num-processes 2 --suite integration --no-suite viewer
FUZZ_SECONDS=20 ./contrib/fuzz.sh
