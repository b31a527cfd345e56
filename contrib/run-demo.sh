#!/bin/sh
# Installs what camfs needs, builds it, and mounts the built-in demo cameras
# at ./demo-mnt (footage in ./demo-store) until Ctrl-C.
set -eu
cd "$(dirname "$0")/.."
./contrib/setup.sh
meson setup --reconfigure build >/dev/null 2>&1 || meson setup build
ninja -C build
store=${STORE:-$PWD/demo-store}
mnt=${MNT:-$PWD/demo-mnt}
mkdir -p "$mnt" 2>/dev/null || true
echo "camfs: two demo cameras mounted at $mnt (Ctrl-C stops). In another terminal:"
echo "  ls $mnt/demo-moving"
echo "  mpv $mnt/demo-moving/live.mp4"
exec ./build/camfs --demo -f -o store="$store" "$mnt"
