#!/bin/bash
# http_browser.sh - Chromium (playwright-core) plays live.mp4 from the HTTP
# export through Media Source Extensions, the way the viewer will.
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
sleep 2

timeout 90 node "$B/play.mjs" "http://127.0.0.1:$P" a "$T" >"$T/browser.out" 2>"$T/browser.err" ||
	fail "chromium: $(tail -5 "$T/browser.err") $(cat "$T/browser.out")"
ok "chromium played live.mp4 through MSE: $(cat "$T/browser.out")"
unmount_camfs "$M"
check_log
