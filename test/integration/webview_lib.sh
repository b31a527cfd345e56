# webview_lib.sh - what the viewer's browser tests share, on top of lib.sh
# and http_lib.sh: cameras (the RTSP fixture's H.264 and H.265 clips and
# the two demo cameras), camfs with its export, and a place for artifacts.

B=$(cd "$(dirname "$0")/../browser" && pwd)
WEBVIEW=$(cd "$(dirname "$0")/../../webview" && pwd)
[ -x /usr/bin/chromium ] || skip "no /usr/bin/chromium (contrib/setup.sh installs it)"
[ -d "$B/node_modules/playwright-core" ] || skip "no playwright-core (contrib/setup.sh runs npm ci)"

# Screenshots and downloads stay after the test (meson runs tests in the
# build directory).
ARTIFACTS=${WEBVIEW_ARTIFACTS:-$PWD/webview-artifacts}

# webview_camfs [-o OPTION...]: cameras a (H.264) and b (H.265) from the
# fixture, demo-moving and demo-static from --demo, recorded in 10 s
# segments, mounted at $M; $P is the export's port (plain HTTP).
webview_camfs() {
	ensure_clips
	start_fixture cam --mount "/a=clip:$CLIPS_DIR/moving-h264.mp4" --mount "/b=clip:$CLIPS_DIR/moving-h265.mp4"
	camfs_config segment_seconds=10 stall_seconds=3 \
		-- a=rtsp://127.0.0.1:$cam_PORT/a b=rtsp://127.0.0.1:$cam_PORT/b
	P=$(free_port)
	M=$T/mnt
	mount_camfs "$M" --demo -o config="$T/camfs.conf" -o http=127.0.0.1:$P -o http_webview="$WEBVIEW" "$@"
	for c in a b demo-moving demo-static; do
		wait_until 30 grep -q "\[$c\] online" "$T/camfs.log" || fail "camera $c did not come online"
	done
	# The timeline needs footage: three segments of the moving demo camera.
	wait_until 50 recorded 3 || fail "no segments recorded"
	# The events page needs one: the demo's box starts moving every ~20 s.
	wait_until 60 compgen -G "$T/store/demo-moving/events/*/*-motion.jpg" >/dev/null || fail "no motion event"
}

recorded() { [ "$(count_segments "$T/store" demo-moving)" -ge "$1" ]; }

# webview_run NAME MODE BASE [ARGS...]: webview.mjs against BASE, its
# screenshots kept in $ARTIFACTS/NAME.
webview_run() {
	local name=$1 mode=$2 base=$3; shift 3
	local out=$ARTIFACTS/$name
	rm -rf "$out"
	mkdir -p "$out"
	if ! timeout 170 node "$B/webview.mjs" "$base" "$M" "$out" "$mode" "$@" >"$T/browser.out" 2>"$T/browser.err"; then
		fail "chromium ($mode): $(tail -20 "$T/browser.err") $(cat "$T/browser.out") (screenshots in $out)"
	fi
	ok "the viewer ($mode): $(cat "$T/browser.out"); screenshots in $out"
}
