#!/bin/bash
# http_browser.sh - Chromium (playwright-core) plays live.mp4 from the HTTP
# export through Media Source Extensions, the way the viewer will, and a
# clip of the tree through <video src>, seeking into its middle.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/http_lib.sh"

B=$(cd "$(dirname "$0")/../browser" && pwd)
[ -x /usr/bin/chromium ] || skip "no /usr/bin/chromium (contrib/setup.sh installs it)"
[ -d "$B/node_modules/playwright-core" ] || skip "no playwright-core (contrib/setup.sh runs npm ci)"

start_fixture cam --gop 30 --mount /a=h264
camfs_config -- a=rtsp://127.0.0.1:$cam_PORT/a
mkdir -p "$T/web"
printf '<!doctype html><title>camfs test</title><body></body>\n' >"$T/web/test.html"
P=$(free_port)
M=$T/mnt
mount_camfs "$M" -o config="$T/camfs.conf" -o http=127.0.0.1:$P -o http_webview="$T/web"
wait_until 20 grep -q '\[a\] online' "$T/camfs.log" || fail "camera did not come online"
wait_http "http://127.0.0.1:$P/test.html"
# A 10 s clip from a second into the recording, once it is recorded.
first_start() {
	start=$(curl -s "http://127.0.0.1:$P/cams/a/$(date +%F)/" | python3 -c 'import json, sys
print(min(int(e["start"]) for e in json.load(sys.stdin)["entries"] if "start" in e) + 1)' 2>/dev/null)
}
wait_until 20 first_start || fail "no recorded segment in the listing"
clip=/cams/a/clips/$(date -d "@$start" +%Y-%m-%dT%H-%M-%S)+10s.mp4
recorded() { (( $(date +%s) >= start + 12 )); }
wait_until 20 recorded

timeout 90 node "$B/play.mjs" "http://127.0.0.1:$P" a "$T" "$clip" >"$T/browser.out" \
	2>"$T/browser.err" || fail "chromium: $(tail -5 "$T/browser.err") $(cat "$T/browser.out")"
ok "chromium played live.mp4 through MSE and $clip with a seek: $(cat "$T/browser.out")"
unmount_camfs "$M"
check_log
