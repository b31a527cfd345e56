#!/bin/sh
# Installs every Debian package camfs needs to build, run and test.
# Idempotent; run as root on Debian 12. Used by the README and by .ci/run.
set -eu

build="meson ninja-build pkg-config gcc clang libclang-rt-14-dev
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev
  libfuse3-dev fuse3 libinotifytools0-dev libinih-dev libjansson-dev
  libwebsockets-dev libcrypt-dev libssl-dev libcmocka-dev libsystemd-dev
  libxml2-dev libcurl4-openssl-dev"
test="ffmpeg mpv procps psmisc
  libgstrtspserver-1.0-dev libgstreamer1.0-dev gstreamer1.0-tools
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-ugly gstreamer1.0-plugins-bad
  samba smbclient bc python3 pure-ftpd curl openssl
  nfs-ganesha nfs-ganesha-vfs libnfs-utils
  nghttp2-client nginx chromium python3-websockets
  vlc-bin vlc-plugin-base mediainfo gstreamer1.0-plugins-base-apps
  man-db groff-base debhelper"

missing=""
for p in $build $test; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing
fi

# Node for the browser tests (test/browser): Debian's nodejs and npm unless a
# node with npm is there already; then the pinned packages, with no browser
# download (Debian's chromium is the browser).
if ! command -v npm >/dev/null 2>&1; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm
fi
cd "$(dirname "$0")/../test/browser"
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
