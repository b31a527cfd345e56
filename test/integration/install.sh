#!/bin/bash
# install.sh - meson install into a DESTDIR puts the binary, camfs(1), the
# systemd unit, the web viewer and the example config where they belong;
# the installed camfs runs --demo and serves the installed viewer; the man
# page renders without a groff warning; the unit points at the installed
# binary and systemd-analyze finds nothing wrong with it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/http_lib.sh"

BUILD=$(dirname "$CAMFS")
SRC=$FIXTURE_DIR/../..
D=$T/dest
meson install -C "$BUILD" --no-rebuild --destdir "$D" --quiet >"$T/install.log" 2>&1 ||
	fail "meson install: $(tail -5 "$T/install.log")"
prefix=$(meson introspect "$BUILD" --buildoptions |
	python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"][0])')
P=$D$prefix
for f in bin/camfs share/man/man1/camfs.1 lib/systemd/system/camfs.service \
	share/camfs/webview/index.html share/camfs/webview/js/app.js share/doc/camfs/examples/camfs.conf; do
	[ -e "$P/$f" ] || fail "not installed: $prefix/$f"
done
[ -x "$P/bin/camfs" ] || fail "the installed camfs is not executable"
[ -e "$P/share/camfs/webview/README.md" ] && fail "webview/README.md installed"
cmp -s "$SRC/examples/camfs.conf" "$P/share/doc/camfs/examples/camfs.conf" || fail "the example config differs"
ok "installed under $prefix: bin/camfs, man1/camfs.1, the unit, the viewer, the example config"

# The man page renders with no warning, and lists the keys.
warn=$(groff -ww -man -Tutf8 "$P/share/man/man1/camfs.1" 2>&1 >"$T/man.txt")
[ -z "$warn" ] || fail "groff -ww: $warn"
MANWIDTH=80 man -l "$P/share/man/man1/camfs.1" >"$T/man-l.txt" 2>"$T/man-l.err" || fail "man -l failed: $(cat "$T/man-l.err")"
[ -s "$T/man-l.err" ] && fail "man -l: $(cat "$T/man-l.err")"
for key in store segment_seconds retain_days min_free http url motion; do
	grep -q "^ *$key = " "$T/man-l.txt" || fail "camfs(1) does not list $key"
done
ok "man -l renders camfs(1) with no warning ($(wc -l <"$T/man-l.txt") lines)"

# The unit runs the installed binary.
grep -q "^ExecStart=$prefix/bin/camfs " "$P/lib/systemd/system/camfs.service" ||
	fail "the unit does not run $prefix/bin/camfs: $(grep ExecStart "$P/lib/systemd/system/camfs.service")"
if command -v systemd-analyze >/dev/null; then
	sed "s|^ExecStart=$prefix/bin/camfs|ExecStart=$P/bin/camfs|" "$P/lib/systemd/system/camfs.service" >"$T/camfs.service"
	out=$(systemd-analyze verify "$T/camfs.service" 2>&1) || fail "systemd-analyze verify: $out"
	[ -z "$out" ] || fail "systemd-analyze verify: $out"
	ok "the installed unit runs $prefix/bin/camfs; systemd-analyze verify: no complaint"
fi

# The installed binary records the demo and serves the installed viewer.
"$P/bin/camfs" --check-config "$P/share/doc/camfs/examples/camfs.conf" >"$T/check.out" 2>&1 ||
	fail "the example config does not check: $(cat "$T/check.out")"
cmp -s "$SRC/webview/index.html" "$P/share/camfs/webview/index.html" || fail "the installed index.html differs"
CAMFS=$P/bin/camfs
demo_serves "$P/share/camfs/webview" -o http_webview="$P/share/camfs/webview"
ok "the installed camfs: --demo mounted, live.mp4 is h264, the viewer served at /"
