#!/bin/bash
# fanout.sh - one camera, many live.mp4 readers: 100 readers all get data
# over one RTSP session with a bounded number of threads; a reader stopped
# for 10 s stalls nobody and resumes on a keyframe; Ctrl-C on a reader whose
# read is parked returns at once.
. "$(dirname "$0")/lib.sh"

start_fixture cam --mount /a=h264
camfs_config segment_seconds=5 stall_seconds=20 -- a=rtsp://127.0.0.1:$cam_PORT/a
M=$T/mnt
mount_camfs "$M" -o config="$T/camfs.conf"
wait_until 20 grep -q '\[a\] online' "$T/camfs.log" || fail "camera did not come online"
threads() { awk '/^Threads:/ { print $2 }' "/proc/$CAMFS_PID/status"; }

# One reader first, for the thread count to compare against.
timeout 3 cat "$M/a/live.mp4" >/dev/null || true
threads_one=$(threads)

# 100 readers at once.
readers=()
for i in $(seq 1 100); do
	timeout 8 cat "$M/a/live.mp4" >"$T/r$i.mp4" 2>/dev/null &
	readers+=($!)
done
sleep 4
threads_many=$(threads)
wait "${readers[@]}" 2>/dev/null || true
for i in $(seq 1 100); do
	[ "$(stat -c %s "$T/r$i.mp4")" -gt 10000 ] || fail "reader $i got $(stat -c %s "$T/r$i.mp4") bytes"
done
for i in 1 50 100; do
	[ "$(codec_of "$T/r$i.mp4" v:0)" = h264 ] || fail "reader $i's stream is not H.264"
	plays "$T/r$i.mp4" || fail "reader $i's stream does not decode cleanly"
done
[ "$(sessions cam /a)" = 1 ] || fail "the camera served $(sessions cam /a) RTSP sessions, want 1"
# Bounded: main, writer, reaper, one per camera and at most 16 FUSE workers,
# however many readers.
[ "$threads_many" -le 24 ] || fail "threads grew from $threads_one to $threads_many with 100 readers"
ok "100 readers got data over 1 RTSP session; daemon threads $threads_one with 1 reader, $threads_many with 100"

# A reader stopped for 10 s (its read not outstanding: cat is between reads),
# five GOPs: what it would read next has long left the hub's ring.
cat "$M/a/live.mp4" >"$T/stopped.mp4" &
stopped=$!
cat "$M/a/live.mp4" >"$T/steady.mp4" &
steady=$!
PIDS+=($stopped $steady)
sleep 2
kill -STOP $stopped
s1=$(stat -c %s "$T/steady.mp4")
segs1=$(count_segments "$T/store" a)
sleep 10
s2=$(stat -c %s "$T/steady.mp4")
segs2=$(count_segments "$T/store" a)
[ "$s2" -gt $((s1 + 100000)) ] || fail "the other reader stalled ($s1 -> $s2 bytes)"
# Segments are 6 s (5 s due, cut at the next keyframe of a 2 s GOP): 10 s
# always holds the start of one.
[ "$segs2" -ge $((segs1 + 1)) ] || fail "recording stalled ($segs1 -> $segs2 segments)"
kill -CONT $stopped
sleep 3
kill $stopped $steady
wait $stopped $steady 2>/dev/null || true
plays "$T/stopped.mp4" || fail "the resumed reader's stream does not decode cleanly"
read -r start end frames < <(video_span "$T/stopped.mp4")
span=$(echo "$end - $start" | bc -l)
# It skipped: at 15 fps its span would hold 15 * span frames; at least 5 s
# of them are missing.
(( $(echo "$frames < 15 * ($span - 5) && $span > 10" | bc -l) )) ||
	fail "stopped reader: $frames frames over $span s, expected a skip"
ok "a reader stopped 10 s stalled nobody, then resumed at a keyframe ($frames frames over $span s)"

# Ctrl-C on a reader parked in read(): stop the camera so no data comes.
# (A background job of a script ignores SIGINT unless told otherwise.)
env --default-signal=INT cat "$M/a/live.mp4" >/dev/null &
blocked=$!
PIDS+=($blocked)
sleep 1
kill -STOP "$cam_PID"
sleep 1
grep -q '^State:.*(sleeping)' "/proc/$blocked/status" || fail "the reader is not blocked"
t0=$(date +%s.%N)
kill -INT $blocked
gone() { ! kill -0 $blocked 2>/dev/null; }
wait_until 5 gone || fail "SIGINT did not end a blocked reader within 5 s"
t1=$(date +%s.%N)
kill -CONT "$cam_PID"
took=$(echo "$t1 - $t0" | bc)
(( $(echo "$took < 0.5" | bc -l) )) || fail "SIGINT to a blocked reader took $took s"
ok "SIGINT to a blocked reader returned in $took s"

unmount_camfs "$M"
check_log
