#!/bin/bash
# crash.sh - camfs killed with SIGKILL mid-segment loses at most about a
# second; a segment torn mid-fragment (as by a power cut) is trimmed at the
# next start-up, and every file in the store plays.
. "$(dirname "$0")/lib.sh"

start_fixture cam --mount /a=h264 --mount /b=h265
camfs_config segment_seconds=30 -- a=rtsp://127.0.0.1:$cam_PORT/a b=rtsp://127.0.0.1:$cam_PORT/b

start_camfs -d --no-mount -o config="$T/camfs.conf"
recording() { [ "$(grep -c 'recording to' "$T/camfs.log")" -ge 2 ]; }
wait_until 20 recording || fail "cameras did not start recording"
sleep 6
kill -KILL "$CAMFS_PID"
t_kill=$(date +%s.%N)
wait "$CAMFS_PID" 2>/dev/null || true

for c in a b; do
	line=$(grep "\[$c\] recording to" "$T/camfs.log" | tail -1)
	f=$(echo "$line" | sed -E 's/.*recording to (.*) from .*/\1/')
	t0=$(echo "$line" | sed -E 's/.* from ([0-9.]+)$/\1/')
	read -r start end frames < <(video_span "$f")
	lost=$(echo "$t_kill - ($t0 + $end - $start)" | bc -l)
	(( $(echo "$lost < 1.2" | bc -l) )) || fail "$c: SIGKILL lost $lost s"
	ok "$c: SIGKILL lost $lost s of footage"
	eval "last_$c=$f"
done

# Tear camera a's segment inside its last fragment, as a power cut might.
size=$(stat -c %s "$last_a")
truncate -s $((size - 100)) "$last_a"
start_camfs -d --no-mount -o config="$T/camfs.conf"
wait_until 20 grep -q '\[recovery\].*trimmed' "$T/camfs.log" || fail "recovery did not trim the torn segment"
ok "$(grep '\[recovery\]' "$T/camfs.log" | head -1)"
have_new() { [ "$(grep -c 'recording to' "$T/camfs.log")" -ge 4 ]; }
wait_until 20 have_new || fail "recording did not resume after restart"
sleep 2
stop_camfs
check_log

n=0
while read -r f; do
	plays "$f" || fail "$f does not play after the crash"
	n=$((n + 1))
done < <(find "$T/store" -name '*.mp4')
ok "all $n segments play after the crash"
