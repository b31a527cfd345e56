#!/bin/bash
# substream.sh - motion_url: motion is scored on a low-resolution substream,
# decoded frame by frame, while the main stream is recorded untouched. The
# main stream stands still and the substream moves, so events prove which
# one was scored. A substream that cannot be reached costs only motion: the
# camera keeps recording, and its password is never logged.
. "$(dirname "$0")/lib.sh"

ensure_clips
export SUB_PASS='sub-Pa55word'
start_fixture cam --mount /main=clip:"$CLIPS_DIR/static-h264.mp4" \
	--mount /sub=clip:"$CLIPS_DIR/motion-h264.mp4"
closed_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

cat >"$T/camfs.conf" <<CONF
[camfs]
store = $T/store
segment_seconds = 10
motion = pixels

[camera scored]
url = rtsp://127.0.0.1:$cam_PORT/main
motion_url = rtsp://127.0.0.1:$cam_PORT/sub

[camera plain]
url = rtsp://127.0.0.1:$cam_PORT/main

[camera deadsub]
url = rtsp://127.0.0.1:$cam_PORT/main
motion_url = rtsp://viewer:\${SUB_PASS}@127.0.0.1:$closed_port/sub
CONF

start_camfs --no-mount -o config="$T/camfs.conf"
snapshots() { find "$T/store/$1/events" -name '*-motion.jpg' 2>/dev/null | wc -l; }
has_event() { [ "$(snapshots "$1")" -ge 1 ]; }
# The substream's box moves 10 s of every 20: an event within ~25 s.
wait_until 40 has_event scored || fail "no motion event from the substream"
ok "substream event after ${SECONDS}s: $(find "$T/store/scored/events" -name '*.jpg' -printf '%f ')"
max_score() { cat "$T/store/$1"/*/*.motion.csv 2>/dev/null | awk -F, '$2 ~ /^[0-9]+$/ && $2 + 0 > m { m = $2 + 0 } END { print m + 0 }'; }
scored_rows() { [ "$(max_score scored)" -ge 2 ]; }
wait_until 5 scored_rows || fail "the event's scores are not in the sidecar"
[ "$(snapshots plain)" -eq 0 ] || fail "the still main stream had a motion event"
[ "$(max_score plain)" -le 1 ] || fail "the still main stream scored $(max_score plain)"
ok "max scores: scored $(max_score scored), plain $(max_score plain)"

# The snapshot is of the recorded (main) stream: its full size, not the substream's.
jpg=$(find "$T/store/scored/events" -name '*-motion.jpg' | head -n 1)
size=$(ffprobe -v error -show_entries stream=width,height -of csv=p=0 "$jpg")
[ "$size" = "640,360" ] || fail "snapshot is $size, not the main stream's 640,360"

grep -q '\[deadsub\] motion substream cannot connect: connection refused; still recording' "$T/camfs.log" ||
	fail "the unreachable substream was not reported"
[ "$(count_segments "$T/store" deadsub)" -ge 1 ] || fail "deadsub stopped recording"
! grep -q "$SUB_PASS" "$T/camfs.log" || fail "the substream's password is in the log"
! grep -q 'deadsub\] offline' "$T/camfs.log" || fail "a dead substream took the camera offline"
ok "dead substream: reported once ($(grep -c 'motion substream' "$T/camfs.log") lines), camera recording"
stop_camfs
check_log 'motion substream cannot connect'
