#!/bin/sh
# Installs what camfs needs, builds it, and mounts the built-in demo cameras
# at ./demo-mnt (footage in ./demo-store) and serves the web viewer from this
# tree at http://127.0.0.1:8080/ until Ctrl-C.
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
echo "The web viewer: http://127.0.0.1:${PORT:-8080}/"
exec ./build/camfs --demo -f -o store="$store",http=127.0.0.1:"${PORT:-8080}",http_webview="$PWD/webview" "$mnt"
