#!/bin/bash
# debian.sh - contrib/deb.sh builds the Debian package from the tree; it
# holds the binary, camfs(1), the unit (running /usr/bin/camfs, neither
# enabled nor started), the viewer, /etc/camfs/camfs.conf as a conffile and
# /var/lib/camfs; dpkg installs it, the installed camfs records the demo and
# serves the viewer from where the package put it (no http_webview), and
# dpkg --purge takes it all away again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/http_lib.sh"

SRC=$FIXTURE_DIR/../..
if dpkg-query -W -f='${Status}' camfs 2>/dev/null | grep -q "ok installed"; then
	echo "SKIP: a camfs package is installed already; this test installs and purges its own" >&2
	exit 77
fi
"$SRC/contrib/deb.sh" "$T/deb" >"$T/deb.log" 2>&1 || fail "contrib/deb.sh: $(tail -20 "$T/deb.log")"
deb=$(ls "$T"/deb/camfs_*_*.deb) || fail "no package built: $(cat "$T/deb.log")"

# The package's version is the project's (contrib/debian/changelog follows meson.build).
want=$(sed -n "s/^  version: '\(.*\)',$/\1/p" "$SRC/meson.build")
got=$(dpkg-deb -f "$deb" Version)
[ "$got" = "$want" ] || fail "the package is version $got, meson.build says $want"
dpkg-deb -c "$deb" | awk '{ print $NF }' | sed 's|^\./|/|' >"$T/contents"
for f in /usr/bin/camfs /usr/share/man/man1/camfs.1.gz /usr/lib/systemd/system/camfs.service \
	/usr/share/camfs/webview/index.html /etc/camfs/camfs.conf /var/lib/camfs/; do
	grep -qx "$f" "$T/contents" || fail "the package has no $f"
done
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles >"$T/conffiles"
grep -qx /etc/camfs/camfs.conf "$T/conffiles" || fail "camfs.conf is not a conffile: $(cat "$T/conffiles")"
ok "$(basename "$deb"): $(wc -l <"$T/contents") paths, /etc/camfs/camfs.conf a conffile"

trap 'dpkg --purge camfs >/dev/null 2>&1; cleanup' EXIT
dpkg -i "$deb" >"$T/dpkg.log" 2>&1 || fail "dpkg -i: $(tail -10 "$T/dpkg.log")"
[ "$(dpkg-query -W -f='${Status}' camfs)" = "install ok installed" ] || fail "dpkg does not list camfs as installed"
grep -q "^ExecStart=/usr/bin/camfs " /usr/lib/systemd/system/camfs.service ||
	fail "the unit does not run /usr/bin/camfs"
if command -v systemd-analyze >/dev/null; then
	out=$(systemd-analyze verify /usr/lib/systemd/system/camfs.service 2>&1) || fail "systemd-analyze verify: $out"
fi
# Not enabled: no wants link (the user writes the config first).
[ -z "$(find /etc/systemd/system -name camfs.service 2>/dev/null)" ] || fail "the package enabled camfs.service"
/usr/bin/camfs --check-config /etc/camfs/camfs.conf >"$T/check.out" 2>&1 ||
	fail "the installed config does not check: $(cat "$T/check.out")"
[ -d /var/lib/camfs ] || fail "no /var/lib/camfs"
ok "dpkg -i: /usr/bin/camfs, the unit (not enabled), /etc/camfs/camfs.conf checks"

# The installed binary finds the installed viewer by itself.
cmp -s "$SRC/webview/index.html" /usr/share/camfs/webview/index.html || fail "the packaged index.html differs"
CAMFS=/usr/bin/camfs
demo_serves /usr/share/camfs/webview
ok "the packaged camfs: --demo mounted, live.mp4 is h264, the packaged viewer served at /"

dpkg --purge camfs >"$T/purge.log" 2>&1 || fail "dpkg --purge: $(tail -5 "$T/purge.log")"
for f in /usr/bin/camfs /etc/camfs/camfs.conf /usr/lib/systemd/system/camfs.service /usr/share/camfs; do
	[ -e "$f" ] && fail "$f is left after dpkg --purge"
done
ok "dpkg --purge removed it"
