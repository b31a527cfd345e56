#!/bin/bash
# webview_mjpeg.sh - recorded playback of an MJPEG camera in the viewer
# (Chromium): an ESP32-CAM board (fake_esp32.py) records a few seconds with
# a MotionStart; the camera page plays its footage from a timeline click on
# a canvas (frames drawn at the recorded rate, its size, seeking, speed,
# pause) and the events page its event clip; screenshots at 1280x800 and
# 390x844.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/http_lib.sh"
. "$(dirname "$0")/webview_lib.sh"

mkdir "$T/jpg"
ffmpeg -v error -f lavfi -i testsrc=size=640x480:rate=10 -frames:v 30 -q:v 5 "$T/jpg/%03d.jpg" ||
	fail "cannot make the frames"
EP=$(free_port)
P=$(free_port)
{
	printf '[camfs]\nstore = %s\nsegment_seconds = 2\nstall_seconds = 3\n' "$T/store"
	printf 'esp32_listen = 127.0.0.1:%s\nevent_pre_roll = 2\nevent_post_roll = 2\n' "$EP"
	printf '[camera door]\npush = esp32\nesp32_host = door-cam\n'
} >"$T/camfs.conf"
M=$T/mnt
mount_camfs "$M" -o config="$T/camfs.conf" -o http=127.0.0.1:$P -o http_webview="$WEBVIEW"
python3 "$(dirname "$0")/fake_esp32.py" --url "ws://127.0.0.1:$EP/ws" --host-name door-cam \
	--jpegs "$T/jpg" --fps 10 --motion-at 3 2>"$T/board.err" &
PIDS+=($!)
wait_until 15 grep -q '\[door\] online: mjpeg 640x480' "$T/camfs.log" || fail "door did not come online as MJPEG"
# Footage to play and seek in (16 s), and the MotionStart's event clip.
recorded() { [ "$(count_segments "$T/store" door)" -ge 8 ]; }
wait_until 30 recorded || fail "door: $(count_segments "$T/store" door) segments"
ev=$(find "$M/door/events" -name '*-camera.jpg' | head -1)
[ -n "$ev" ] || fail "no camera event: $(ls -R "$M/door/events" 2>&1)"
[ "$(codec_of "${ev%.jpg}.mp4" v:0)" = mjpeg ] || fail "the event clip is not MJPEG"
ok "door records MJPEG 640x480: $(count_segments "$T/store" door) segments, event $(basename "$ev")"

out=$ARTIFACTS/webview_mjpeg
rm -rf "$out"
mkdir -p "$out"
if ! timeout 90 node "$B/mjpeg.mjs" "http://127.0.0.1:$P" "$M" "$out" door >"$T/browser.out" 2>"$T/browser.err"; then
	fail "chromium: $(tail -20 "$T/browser.err") $(cat "$T/browser.out") (screenshots in $out)"
fi
ok "MJPEG playback in the viewer: $(cat "$T/browser.out"); screenshots in $out"
unmount_camfs "$M"
check_log
