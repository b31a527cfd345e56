#!/bin/bash
# stall.sh - a camera that freezes (SIGSTOP: the connection stays open, no
# packet comes) is found stalled within stall_seconds of its last packet,
# and status.json says offline from then on. Once it thaws it comes back:
# the gap logged is counted from its last frame, and status.json counts one
# reconnection, however many attempts failed meanwhile. live.mp4 opened
# while it is offline gives nothing stale: it waits for the next session.
. "$(dirname "$0")/lib.sh"

STALL=3
start_fixture cam --mount /cam=h264
# A stopped camera ignores SIGTERM: thaw it before the cleanup stops it.
trap 'kill -CONT "$cam_PID" 2>/dev/null; cleanup' EXIT
camfs_config segment_seconds=2 stall_seconds=$STALL -- cam=rtsp://127.0.0.1:$cam_PORT/cam
M=$T/mnt
mount_camfs "$M" -o config="$T/camfs.conf"
wait_until 20 grep -q '\[cam\] online' "$T/camfs.log" || fail "camera did not come online"
online() { [ "$(jq -r .online "$M/cam/status.json")" = "$1" ]; }
wait_until 10 online true || fail "status.json does not say online"
sleep 2

now() { date +%s.%N; }
kill -STOP "$cam_PID"
t_stop=$(now)
wait_until 20 grep -q '\[cam\] offline: stalled' "$T/camfs.log" || fail "the frozen camera was not found stalled"
t_found=$(now)
wait_until 2 online false || fail "status.json still says online once stalled"
took=$(echo "$t_found - $t_stop" | bc -l)
# Polling adds up to 0.1 s; the last packet came at most a frame before the
# stop; 1.5 s leaves room for a loaded machine and still fails a deadline
# counted from anything but the last packet (off by stall_seconds or more).
(( $(echo "$took < $STALL + 1.5" | bc -l) )) || fail "stall found after $took s (stall_seconds = $STALL)"
ok "stall found $(printf %.1f "$took") s after the camera froze (stall_seconds = $STALL), status offline"

# Opened while the camera is offline, live.mp4 gives nothing stale: it
# waits for the next session's first keyframe.
got=$( (timeout 2 cat "$M/cam/live.mp4" || true) | wc -c)
[ "$got" = 0 ] || fail "live.mp4 opened while offline gave $got stale bytes"
cat "$M/cam/live.mp4" >"$T/waiting.mp4" &
waiting=$!
PIDS+=($waiting)
ok "live.mp4 opened while offline: nothing stale"

sleep 4   # a few reconnect attempts against the frozen camera
kill -CONT "$cam_PID"
wait_until 40 grep -q '\[cam\] online again after' "$T/camfs.log" || fail "camera did not come back"
t_back=$(now)
wait_until 5 online true || fail "status.json does not say online again"
# The gap is counted from the last frame (about when it froze), not from
# when the stall was found.
gap=$(sed -n 's/.*\[cam\] online again after \([0-9.]*\) s.*/\1/p' "$T/camfs.log")
outage=$(echo "$t_back - $t_stop" | bc -l)
(( $(echo "$gap > $outage - 1.0 && $gap < $outage + 1.0" | bc -l) )) ||
	fail "online again after $gap s, but the camera was gone $(printf %.1f "$outage") s"
ok "$(grep '\[cam\] online again' "$T/camfs.log") (gone $(printf %.1f "$outage") s)"
# Several attempts failed while it was frozen; it reconnected once.
[ "$(jq .reconnects "$M/cam/status.json")" = 1 ] ||
	fail "status.json: reconnects $(jq .reconnects "$M/cam/status.json") after one outage"
ok "status.json: reconnects 1 after one outage"
# The reader that opened while offline got the new session, from its
# first keyframe: a stream that plays.
grow() { [ "$(stat -c %s "$T/waiting.mp4")" -gt 100000 ]; }
wait_until 10 grow || fail "a reader waiting while offline got nothing once back"
kill $waiting
wait $waiting 2>/dev/null || true   # its open file would keep the mount busy
[ "$(ffprobe -v error -select_streams v:0 -show_entries packet=flags -of csv=p=0 "$T/waiting.mp4" | head -1)" = K_ ] ||
	fail "the waiting reader's stream does not start at a keyframe"
plays "$T/waiting.mp4" || fail "the waiting reader's stream does not play"
ok "the reader that waited got the next session from its keyframe"
unmount_camfs "$M"
check_log '\[cam\] offline: (stalled|cannot connect): no answer in time'
