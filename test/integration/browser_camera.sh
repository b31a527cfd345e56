#!/bin/bash
# browser_camera.sh - a browser camera (docs/browser-cameras.md): Chromium
# with a fake camera opens camfs's camera.html and pushes MediaRecorder's
# H.264 for ~20 s, is reloaded (a forced reconnect) and goes on, then a
# second device with the token takes the camera over (pushcam.mjs). The
# camera's segments play in ffprobe, ffmpeg and mpv, the reload leaves no
# gap longer than the page's own, live.mp4 is H.264 1280x720. Bad
# connections (no token, a wrong one, the stream first, text after the
# token, bytes that are no video) are refused each with its reason while
# nothing recorded is lost. The token shows nowhere: not in the log, the
# tree, status.json or camfs's command line. A second camera gets WebM VP9
# (what a browser without H.264 recording sends): its segments are VP9 in
# MP4 and play.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/http_lib.sh"

B=$(cd "$(dirname "$0")/../browser" && pwd)
WEBVIEW=$(cd "$(dirname "$0")/../../webview" && pwd)
[ -x /usr/bin/chromium ] || skip "no /usr/bin/chromium (contrib/setup.sh installs it)"
[ -d "$B/node_modules/playwright-core" ] || skip "no playwright-core (contrib/setup.sh runs npm ci)"
ARTIFACTS=${WEBVIEW_ARTIFACTS:-$PWD/webview-artifacts}/browser_camera
SECONDS_PUSHED=${PUSH_SECONDS:-20}

export PHONE_TOKEN=pht-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
export TABLET_TOKEN=tab-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
P=$(free_port)
{
	printf '[camfs]\nstore = %s\nsegment_seconds = 5\nstall_seconds = 4\n' "$T/store"
	printf '[camera phone]\npush = browser\ntoken = ${PHONE_TOKEN}\n'
	printf '[camera tablet]\npush = browser\ntoken = ${TABLET_TOKEN}\n'
} >"$T/camfs.conf"
M=$T/mnt
mount_camfs "$M" -o config="$T/camfs.conf" -o http=127.0.0.1:$P -o http_webview="$WEBVIEW"
wait_http "http://127.0.0.1:$P/"
grep -q '\[phone\] record a phone or laptop as this camera: open camera.html?cam=phone' "$T/camfs.log" ||
	fail "camfs did not say where the camera page is"
[ "$(jq -r .online "$M/phone/status.json")" = false ] || fail "phone online without a browser"

rm -rf "$ARTIFACTS"
mkdir -p "$ARTIFACTS"
timeout 180 node "$B/pushcam.mjs" "http://127.0.0.1:$P" phone "$PHONE_TOKEN" "$ARTIFACTS" "$SECONDS_PUSHED" \
	tablet "$TABLET_TOKEN" \
	>"$T/browser.out" 2>"$T/browser.err" &
node_pid=$!
wait_until 40 grep -q '\[phone\] online: h264 1280x720' "$T/camfs.log" || fail "phone did not come online: $(cat "$T/browser.err")"
[ "$(timeout 10 ffprobe -v error -select_streams v:0 -show_entries stream=codec_name,width,height -of csv=p=0 "$M/phone/live.mp4")" = h264,1280,720 ] ||
	fail "phone/live.mp4 does not probe as h264 1280x720"
ok "phone/live.mp4 is H.264 1280x720 while the browser pushes"
wait $node_pid || fail "chromium: $(tail -20 "$T/browser.err") $(cat "$T/browser.out") (screenshots in $ARTIFACTS)"
summary=$(cat "$T/browser.out")
ok "refused, each with its reason: $(jq -c .refused <<<"$summary") (1008 stream before the token, wrong or overlong token, silence; 1003 text after the token; 1001 bytes that are no video; 1006 no such camera)"
ok "Chromium pushed $(jq -r .mime <<<"$summary") at $(jq -r .size <<<"$summary"); a reload reconnected in $(jq -r '.reconnect_s*10|floor/10' <<<"$summary") s; a second device took over"

# What was recorded: H.264 1280x720 segments that play to their end.
wait_until 10 grep -q '\[phone\] browser 127.0.0.1 disconnected' "$T/camfs.log" || fail "the last browser's leaving was not logged"
for f in "$M/status.json" "$M/phone/status.json" /proc/$CAMFS_PID/cmdline; do
	! grep -qF "$PHONE_TOKEN" "$f" || fail "the token is in $f"
done
answer=$(curl -fsS "http://127.0.0.1:$P/cams/phone/status.json") || fail "no phone/status.json over HTTP"
jq -e '.online != null' <<<"$answer" >/dev/null || fail "phone/status.json over HTTP is not the camera's: $answer"
! grep -qF "$PHONE_TOKEN" <<<"$answer" || fail "the token is in an HTTP answer"
stop_camfs
mapfile -t segs < <(segments "$T/store" phone)
[ "${#segs[@]}" -ge 4 ] || fail "only ${#segs[@]} segments"
total=0
for seg in "${segs[@]}"; do
	plays "$seg" || fail "$seg does not decode"
	[ "$(codec_of "$seg" v:0)" = h264 ] || fail "$seg is not H.264"
	read -r first end frames < <(video_span "$seg") || fail "$seg has no video"
	total=$(awk -v t="$total" -v f="$first" -v e="$end" 'BEGIN { print t + e - f }')
done
last=${segs[${#segs[@]}-1]}
timeout 30 mpv --no-config --vo=null --ao=null --untimed "$last" >"$T/mpv.out" 2>&1 || fail "mpv: $(tail -c 300 "$T/mpv.out")"
grep -q 'Exiting... (End of file)' "$T/mpv.out" || fail "mpv did not play $last to its end"
awk -v t="$total" -v s="$SECONDS_PUSHED" 'BEGIN { exit !(t >= s * 1.1) }' ||
	fail "only $total s recorded of ~$((SECONDS_PUSHED * 4 / 3 + 3)) s pushed"
# The time without footage, as camfs logs it: from the end of the last
# frame to the new stream (segment names have whole seconds only, too
# coarse for this). camfs times pushed frames by their arrival, so the
# page's own gap bounds it: from its last chunk before the reload to the
# chunk that carries the new recording's first frames (its second). camfs
# may add no more than 1 s to that.
gaps=$(grep -oE '\[phone\] online again after [0-9.]+ s' "$T/camfs.log" | awk '{ print $5 }' | paste -sd/)
reload_gap=${gaps%%/*}
page_gap=$(jq -r .page_gap_s <<<"$summary")
[ -n "$reload_gap" ] || fail "camfs did not log the reload's gap"
awk -v g="$reload_gap" -v p="$page_gap" 'BEGIN { exit !(p > 0 && g <= p + 1) }' ||
	fail "the reload cost $reload_gap s of footage, more than the page's own gap ($page_gap s) + 1 s"
ok "phone: ${#segs[@]} segments, ${total%.*} s of H.264 1280x720 that decode (ffmpeg) and play to the end (mpv); without footage at the reload and the takeover: $gaps s (the page's own gap at the reload: $(printf %.1f "$page_gap") s)"

# The tablet's VP9, kept as VP9 in MP4 segments that play.
grep -qE '\[tablet\] online: vp9 [0-9]+x[0-9]+' "$T/camfs.log" ||
	fail "the tablet's VP9 was not recorded: $(grep '\[tablet\]' "$T/camfs.log" | tail -3)"
mapfile -t segs < <(segments "$T/store" tablet)
[ "${#segs[@]}" -ge 1 ] || fail "no segments of the tablet"
for seg in "${segs[@]}"; do
	plays "$seg" || fail "$seg does not decode"
	[ "$(codec_of "$seg" v:0)" = vp9 ] || fail "$seg is not VP9"
done
timeout 30 mpv --no-config --vo=null --ao=null --untimed "${segs[0]}" >"$T/mpv.out" 2>&1 || fail "mpv: $(tail -c 300 "$T/mpv.out")"
grep -q 'Exiting... (End of file)' "$T/mpv.out" || fail "mpv did not play ${segs[0]} to its end"
ok "tablet: $(jq -r .vp9_mime <<<"$summary") kept as VP9 in ${#segs[@]} MP4 segment(s) that decode and play (mpv)"

# The tokens are nowhere but the config's environment.
! grep -rqF -e "$PHONE_TOKEN" -e "$TABLET_TOKEN" "$T/camfs.log" "$T/store" || fail "a token is in the log or the store"
ok "the tokens are in neither the log nor the store"
check_log '\[(phone|tablet)\] (browser 127.0.0.1: closed: |offline: )'
