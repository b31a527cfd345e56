#!/bin/sh
# Installs what camfs needs, builds it twice (normal, and with -Werror plus
# AddressSanitizer/UBSan) and runs every test suite against real peers.
set -eu
cd "$(dirname "$0")/.."
./contrib/setup.sh

meson setup --reconfigure build >/dev/null 2>&1 || meson setup build
ninja -C build
meson test -C build --print-errorlogs --num-processes 2 --suite unit
meson test -C build --print-errorlogs --num-processes 1 --suite integration

# Everything again with warnings as errors and sanitizers on.
meson setup --reconfigure build-asan -Dwerror=true -Db_sanitize=address,undefined \
	-Db_lundef=false >/dev/null 2>&1 ||
	meson setup build-asan -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false
ninja -C build-asan
ASAN_OPTIONS=detect_leaks=1 meson test -C build-asan --print-errorlogs --num-processes 2 --suite unit
# camfs built with sanitizers, against the same real peers.
meson test -C build-asan --print-errorlogs --num-processes 1 --suite integration
FUZZ_SECONDS=20 ./contrib/fuzz.sh
