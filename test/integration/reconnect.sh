#!/bin/bash
# reconnect.sh - a camera whose server dies comes back on its own once the
# server returns (gap logged, recording resumes in a new segment), while a
# camera on another server records on undisturbed. A live.mp4 reader open
# across the reconnect (same settings) reads on: one stream whose time jumps
# forward over the gap and never goes back.
. "$(dirname "$0")/lib.sh"

start_fixture flaky --mount /cam=h264
start_fixture steady --mount /cam=h264

camfs_config segment_seconds=2 stall_seconds=2 -- \
	flaky=rtsp://127.0.0.1:$flaky_PORT/cam steady=rtsp://127.0.0.1:$steady_PORT/cam

M=$T/mnt
mount_camfs "$M" -o config="$T/camfs.conf"
both_online() { [ "$(grep -c '\] online:' "$T/camfs.log")" -eq 2 ]; }
wait_until 20 both_online || fail "cameras did not come online"
have() { [ "$(count_segments "$T/store" "$1")" -ge "$2" ]; }
wait_until 20 have flaky 2 || fail "flaky camera did not record"

cat "$M/flaky/live.mp4" >"$T/span.mp4" &
reader=$!
PIDS+=($reader)
sleep 1
kill -KILL "$flaky_PID"
t_kill=$SECONDS
wait_until 10 grep -q '\[flaky\] offline:' "$T/camfs.log" || fail "lost camera not reported offline"
ok "lost camera reported within $((SECONDS - t_kill)) s: $(grep '\[flaky\] offline:' "$T/camfs.log" | head -1)"
before=$(count_segments "$T/store" flaky)
sleep 3   # the server stays down for a while
restart_fixture flaky "$flaky_PORT" --mount /cam=h264
wait_until 40 grep -q '\[flaky\] online again after' "$T/camfs.log" || fail "camera did not come back"
ok "$(grep '\[flaky\] online again' "$T/camfs.log")"
wait_until 20 have flaky $((before + 2)) || fail "recording did not resume"
kill -0 $reader 2>/dev/null || fail "the live reader ended at the reconnect"
kill $reader
wait $reader 2>/dev/null || true   # its open file would keep the mount busy
unmount_camfs "$M"
check_log '\[flaky\] offline: (lost|stalled|cannot connect)'

# The steady camera never stopped: its segments are contiguous end to end.
while read -r f; do plays "$f" || fail "$f does not decode cleanly"; done < <(segments "$T/store" steady)
contiguous "$T/store" steady || fail "steady: footage lost between segments"
ok "steady camera recorded without a gap ($(count_segments "$T/store" steady) segments)"
while read -r f; do plays "$f" || fail "$f does not decode cleanly"; done < <(segments "$T/store" flaky)
ok "every flaky segment plays ($(count_segments "$T/store" flaky) segments)"

# The reader's capture: dts never decreases, and one step forward is the
# outage (the server was down 3 s or more).
ffprobe -v quiet -select_streams v:0 -show_entries packet=dts_time -of csv=p=0 "$T/span.mp4" |
	awk -F, 'NR > 1 { d = $1 - p; if (d < 0) { print "back " p " -> " $1; bad = 1; exit 1 } if (d > g) g = d }
		{ p = $1; n++ } END { if (bad) exit 1; if (n < 30 || g < 3) { print "frames " n ", largest step " g; exit 1 }
		printf "ok: live reader across the reconnect: %d frames, time never back, gap %.1f s\n", n, g }' ||
	fail "the live reader's time is not one stream"
