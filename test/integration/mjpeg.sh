#!/bin/bash
# mjpeg.sh - MJPEG over HTTP, pulled (url = http://...): an ESP32-CAM's
# /sustain?video=1 (chunked, space-padded Content-Length) and the older
# /stream, behind Basic auth with the password from ${VAR}. Each records
# like an RTSP camera: status.json says mjpeg, segments play, live.jpg and
# live.mjpeg are the camera's own JPEGs, live.mp4 and a clip probe; no
# password in the log, status or tree; a camera that freezes is stalled
# within stall_seconds and comes back; a wrong password is "authentication
# failed".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/http_lib.sh"

ffmpeg -v error -f lavfi -i testsrc=size=640x360:rate=10 -frames:v 6 -q:v 5 "$T/f%d.jpg" ||
	fail "cannot make the frames"
start_mjpeg() {   # $1: its port, 0 for any
	rm -f "$T/mjpeg.port"
	python3 "$(dirname "$0")/fake_mjpeg.py" "$1" "$T/mjpeg.port" admin "s3cr3t-mjpeg" 10 "$T"/f*.jpg &
	MJPEG_PID=$!
	PIDS+=($MJPEG_PID)
	wait_until 10 test -s "$T/mjpeg.port" || fail "the fake camera did not start"
	MJPEG_PORT=$(cat "$T/mjpeg.port")
}
start_mjpeg 0
export ESP_PASSWORD=s3cr3t-mjpeg WRONG_PASSWORD=nope
STALL=3
camfs_config segment_seconds=2 stall_seconds=$STALL -- \
	esp="http://admin:\${ESP_PASSWORD}@127.0.0.1:$MJPEG_PORT/sustain?video=1" \
	old="http://admin:\${ESP_PASSWORD}@127.0.0.1:$MJPEG_PORT/stream" \
	bad="http://admin:\${WRONG_PASSWORD}@127.0.0.1:$MJPEG_PORT/stream"
M=$T/mnt
P=$(free_port)
mount_camfs "$M" -o config="$T/camfs.conf" -o http=127.0.0.1:$P
for cam in esp old; do
	wait_until 20 grep -q "\\[$cam\\] online: mjpeg 640x360" "$T/camfs.log" || fail "$cam did not come online as MJPEG"
done
wait_until 20 grep -q '\[bad\] offline: cannot connect: authentication failed' "$T/camfs.log" ||
	fail "the wrong password: $(grep '\[bad\]' "$T/camfs.log")"
three() { [ "$(count_segments "$T/store" esp)" -ge 3 ] && [ "$(count_segments "$T/store" old)" -ge 3 ]; }
wait_until 20 three || fail "no segments"
[ "$(jq -r .codec "$M/esp/status.json")" = mjpeg ] || fail "status.json: $(cat "$M/esp/status.json")"
for cam in esp old; do
	seg=$(segments "$T/store" $cam | head -1)
	plays "$seg" || fail "$cam's segment does not play"
	[ "$(codec_of "$seg" v:0)" = mjpeg ] || fail "$cam's segment: $(codec_of "$seg" v:0)"
	dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$seg")
	(( $(echo "$dur > 1.5 && $dur < 2.6" | bc -l) )) || fail "$cam's first segment lasts $dur s"
done
file "$M/esp/live.jpg" | grep -q 'JPEG image data.*640x360' || fail "live.jpg: $(file "$M/esp/live.jpg")"
# The camera's own JPEG, byte for byte: never decoded and encoded again.
cp "$M/esp/live.jpg" "$T/live.jpg"
own=0
for f in "$T"/f*.jpg; do cmp -s "$f" "$T/live.jpg" && own=1; done
[ $own = 1 ] || fail "live.jpg is not one of the camera's JPEGs ($(stat -c %s "$T/live.jpg") bytes)"
[ "$(timeout 10 ffprobe -v error -select_streams v:0 -show_entries stream=codec_name -of csv=p=0 "$M/esp/live.mp4")" = mjpeg ] ||
	fail "live.mp4 does not probe as mjpeg"
start=$(date -d '-5 sec' +%Y-%m-%dT%H-%M-%S)
cdur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$M/esp/clips/$start+3s.mp4") || fail "no clip"
(( $(echo "$cdur > 2.8 && $cdur < 3.2" | bc -l) )) || fail "a 3 s clip lasts $cdur s"
ok "ESP32 /sustain (chunked) and /stream: online as mjpeg, segments of $dur s play, live.jpg, live.mp4, a clip of $cdur s"

# live.mjpeg over HTTP: the camera's own JPEGs at its rate (10 a second),
# not a keyframe decoded and encoded again four times a second.
# 6 s: about 60 pictures; a re-encode would give at most 25.
timeout 6 curl -s "http://127.0.0.1:$P/cams/esp/live.mjpeg" -o "$T/m.bin" || true
python3 "$(dirname "$0")/mjpeg_parts.py" "$T/m.bin" "$T"/f*.jpg >"$T/parts" ||
	fail "live.mjpeg: $(cat "$T/parts")"
n=$(cat "$T/parts")
[ "$n" -ge 36 ] || fail "live.mjpeg gave $n pictures in 6 s of a 10 fps camera"
ok "live.mjpeg over HTTP: $n of the camera's own JPEGs in 6 s"

grep -rq 's3cr3t-mjpeg' "$T/camfs.log" "$M/status.json" "$M/esp/status.json" && fail "the password shows"
grep -q 'nope' "$T/camfs.log" && fail "the wrong password shows"
ok "no password in the log or status.json; the wrong one is 'authentication failed'"

# Frozen (SIGSTOP: the connection stays open, nothing comes): stalled.
kill -STOP "$MJPEG_PID"
t_stop=$(date +%s.%N)
wait_until 20 grep -q '\[esp\] offline: stalled' "$T/camfs.log" || fail "the frozen camera was not found stalled"
took=$(echo "$(date +%s.%N) - $t_stop" | bc -l)
(( $(echo "$took < $STALL + 1.5" | bc -l) )) || fail "stalled after $took s (stall_seconds = $STALL)"
kill -CONT "$MJPEG_PID"
kill "$MJPEG_PID"
start_mjpeg "$MJPEG_PORT"
wait_until 30 grep -q '\[esp\] online again' "$T/camfs.log" || fail "the camera did not come back"
ok "frozen: stalled after $took s (stall_seconds $STALL); back once it answers again"
unmount_camfs "$M"
check_log 'offline|authentication'
