#!/bin/sh
# Builds the Debian package of camfs from this tree:
#   contrib/deb.sh [OUTDIR]      (default: build-deb/)
# The tree is copied (what git tracks, plus new files it does not ignore)
# with contrib/debian as debian/, and dpkg-buildpackage builds the binary
# package there. Needs debhelper (contrib/setup.sh installs it).
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$src/build-deb}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
mkdir -p "$work/camfs" "$out"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
	git -C "$src" ls-files -z --cached --others --exclude-standard |
		(cd "$src" && tar --null --ignore-failed-read -T - -cf - 2>/dev/null) |
		tar -C "$work/camfs" -xf -
else
	tar -C "$src" --exclude='./build*' -cf - . | tar -C "$work/camfs" -xf -
fi
rm -rf "$work/camfs/debian"
cp -r "$src/contrib/debian" "$work/camfs/debian"
(cd "$work/camfs" &&
	DEB_BUILD_OPTIONS="parallel=$(nproc)" dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1) ||
	{ tail -30 "$work/build.log" >&2; echo "dpkg-buildpackage failed" >&2; exit 1; }
cp "$work"/*.deb "$out"/
ls "$out"/*.deb
