#!/bin/bash
# fdlimit.sh - day.mp4 over 600 segments with camfs limited to 256 fds
# while its camera records: four readers of day.mp4 and two of a clip get
# whole files (no segment left out), the camera records on without a gap or
# an error, and once the readers close camfs holds no store file but the
# one being written.
. "$(dirname "$0")/lib.sh"
: "${MAKE_STORE:?MAKE_STORE must name the make_store helper}"

# The long suite runs it with a day's 1,440 segments under 1024 fds.
SEGMENTS=${SEGMENTS:-600}
ULIMIT=${ULIMIT:-256}
reserve=$((ULIMIT / 4 > 128 ? ULIMIT / 4 : 128))
budget=$((ULIMIT > 2 * reserve ? ULIMIT - reserve : ULIMIT / 2))

# A keyframe every second: a 1 s segment each, 60 a minute.
ffmpeg -nostdin -loglevel error -f lavfi -i testsrc2=s=160x90:r=5:d=10 -c:v libx264 \
	-preset ultrafast -g 5 -keyint_min 5 -sc_threshold 0 -bf 0 -pix_fmt yuv420p "$T/gop1.mp4" ||
	fail "ffmpeg could not make the clip"
# Yesterday's: a store made in today's first minutes would overlap what
# the camera records now, early in the day.
day=$(date -d yesterday +%F)
start=$(date -d "$day 00:00" +%s)
"$MAKE_STORE" "$T/store" a "$T/gop1.mp4" $((SEGMENTS / 60)) "$start" 1 >"$T/make_store.out" 2>&1 ||
	fail "make_store: $(cat "$T/make_store.out")"
made=$(count_segments "$T/store" a)
[ "$made" -ge $((SEGMENTS - 10)) ] || fail "make_store made $made segments"

start_fixture cam --mount /a=h264
camfs_config segment_seconds=2 -- a=rtsp://127.0.0.1:$cam_PORT/a
M=$T/mnt
ulimit -n "$ULIMIT"   # soft and hard: camfs cannot raise it
mount_camfs "$M" -o config="$T/camfs.conf"
wait_until 20 grep -q '\[a\] online' "$T/camfs.log" || fail "camera did not come online"
grep -q "fd limit $ULIMIT: clips hold at most $budget open" "$T/camfs.log" || fail "no fd budget logged"
more_than() { [ "$(count_segments "$T/store" a)" -gt "$1" ]; }
wait_until 10 more_than "$made" || fail "not recording"
# fds camfs holds on store files (FUSE's worker threads keep splice pipes:
# those are bounded by the threads, not the readers).
store_fds() { find "/proc/$CAMFS_PID/fd" -mindepth 1 -lname "$T/store/*" | wc -l; }

# Four readers of day.mp4 and two of a clip at once, over the pool's bound.
clip=$(date -d "$day 00:02" +%Y-%m-%dT%H-%M-%S)+5m.mp4
t0=$SECONDS
readers=()
for i in 1 2 3 4; do cat "$M/a/$day/day.mp4" >"$T/day$i.mp4" & readers+=($!); done
for i in 1 2; do cat "$M/a/clips/$clip" >"$T/clip$i.mp4" & readers+=($!); done
for p in "${readers[@]}"; do wait "$p" || fail "a read failed"; done
echo "reads took $((SECONDS - t0)) s"
size=$(stat -c %s "$M/a/$day/day.mp4")
for i in 1 2 3 4; do
	[ "$(stat -c %s "$T/day$i.mp4")" = "$size" ] || fail "day.mp4 read $i is not $size bytes"
	cmp -s "$T/day1.mp4" "$T/day$i.mp4" || fail "day.mp4 reads differ"
done
frames=$(ffprobe -v error -count_packets -select_streams v -show_entries stream=nb_read_packets \
	-of csv=p=0 "$T/day1.mp4")
# 5 fps from the made store.
[ "$frames" -ge $(((SEGMENTS - 10) * 5)) ] || fail "day.mp4 has $frames frames: segments left out"
ok "day.mp4 over $made segments whole under a $ULIMIT-fd limit ($frames frames)"
cframes=$(ffprobe -v error -count_packets -select_streams v -show_entries stream=nb_read_packets \
	-of csv=p=0 "$T/clip1.mp4")
[ "$cframes" -ge 1490 ] && [ "$cframes" -le 1510 ] || fail "the 5 min clip has $cframes frames"
cmp -s "$T/clip1.mp4" "$T/clip2.mp4" || fail "clip reads differ"
ok "a 5 min clip read twice at once: $cframes frames"

# The readers are gone: their fds went with them (the writer holds its
# segment, maybe a sidecar).
at_most() { [ "$(store_fds)" -le "$1" ]; }
wait_until 5 at_most 2 || fail "camfs holds $(store_fds) store fds after the reads"
ok "store fds back to $(store_fds)"
grep -q '"online": *true' "$M/a/status.json" || fail "camera not online after the reads"
# Recorded throughout: the live segments follow each other without a gap.
sleep 4
no_gaps "$T/store" a "$made" || fail "footage lost during the reads"
ok "recorded on through the reads"
unmount_camfs "$M"
check_log
