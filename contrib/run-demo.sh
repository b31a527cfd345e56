#!/bin/sh
# Installs what camfs needs, builds it, and records the built-in demo cameras
# into ./demo-store until Ctrl-C.
set -eu
cd "$(dirname "$0")/.."
./contrib/setup.sh
meson setup --reconfigure build >/dev/null 2>&1 || meson setup build
ninja -C build
store=${STORE:-$PWD/demo-store}
echo "camfs: recording two demo cameras into $store (Ctrl-C stops)"
echo "camfs: play a finished segment with: mpv $store/demo-moving/*/*.mp4"
exec ./build/daemon/camfs --demo --no-mount -o store="$store"
