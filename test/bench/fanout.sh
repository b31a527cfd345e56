#!/bin/bash
# fanout.sh - benchmark, not a test: daemon CPU per live.mp4 reader. One
# camera serving the ~4 Mbit/s 1080p clip; camfs CPU (from /proc/PID/stat)
# with no reader, 1 reader and 64 readers (`cat live.mp4 > /dev/null`); the
# cost of a reader is (cpu64 - cpu1) / 63. Also the daemon's thread count,
# how many threads it creates per second (strace, after the CPU window), and
# the bytes the readers got, to show they all keep up.
# Usage: test/bench/fanout.sh BUILD_DIR [SECONDS]
. "$(dirname "$0")/lib.sh"
secs=${2:-15}
MANY=64

clip_camera

printf '[camfs]\nstore = %s/store\n\n[camera a]\nurl = rtsp://127.0.0.1:%d/a\n' "$T" "$port" >"$T/camfs.conf"
mnt=$T/mnt
mkdir -p "$mnt" "$T/store"
"$camfs_bin" -f -o config="$T/camfs.conf" "$mnt" >"$T/camfs.log" 2>&1 &
camfs=$!
pids+=($camfs)
until grep -qs '\[a\] online' "$T/camfs.log"; do sleep 0.1; done
sleep 3

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }   # utime+stime, clock ticks
# cpu_of SECONDS PID: share of one core used over SECONDS.
cpu_of() {
	local a b
	a=$(ticks "$2"); sleep "$1"; b=$(ticks "$2")
	echo "scale=5; ($b - $a) / $(getconf CLK_TCK) / $1" | bc
}
threads() { awk '/^Threads:/ { print $2 }' "/proc/$camfs/status"; }
# spawned SECONDS: threads camfs creates per second (strace -c of clone/clone3),
# which a snapshot of the thread count does not show; n/a without strace.
spawned() {
	command -v strace >/dev/null || { echo n/a; return; }
	timeout -s INT "$1" strace -c -f -e trace=clone,clone3 -p $camfs -o "$T/strace.clone" >/dev/null 2>&1 || true
	awk -v s="$1" '$NF ~ /^clone3?$/ { n += $4 } END { printf "%.0f", n / s }' "$T/strace.clone"
}
rchar() {   # bytes read so far by all readers
	local p total=0
	for p in "${readers[@]}"; do total=$((total + $(awk '/^rchar:/ { print $2 }' "/proc/$p/io"))); done
	echo $total
}
add_readers() {
	local i
	for i in $(seq 1 "$1"); do
		cat "$mnt/a/live.mp4" >/dev/null &
		readers+=($!)
	done
}
pct() { awk -v c="$1" 'BEGIN { printf "%.2f", c * 100 }'; }
# measure LABEL: camfs CPU, threads and reader throughput over $secs.
measure() {
	local r0 r1 cpu
	sleep 3   # readers settled
	r0=$(rchar)
	cpu=$(cpu_of "$secs" $camfs)
	r1=$(rchar)
	eval "cpu_$1=$cpu"
	eval "threads_$1=$(threads)"
	eval "spawned_$1=$(spawned 5)"
	eval "rate_$1=$(( (r1 - r0) * 8 / secs / 1000 / (${#readers[@]} > 0 ? ${#readers[@]} : 1) ))"
}

measure 0
add_readers 1
measure 1
add_readers $((MANY - 1))
measure many

bitrate=$(ffprobe -v error -show_entries format=bit_rate -of csv=p=0 "$clip")
echo "camera: 1920x1080 25 fps, $((bitrate / 1000)) kbit/s clip; camfs CPU over $secs s per case"
echo "  no reader:   $(pct "$cpu_0")% of a core, $threads_0 threads ($spawned_0 created/s)"
echo "  1 reader:    $(pct "$cpu_1")% of a core, $threads_1 threads ($spawned_1 created/s), reader got $rate_1 kbit/s"
echo "  $MANY readers:  $(pct "$cpu_many")% of a core, $threads_many threads ($spawned_many created/s), each reader got $rate_many kbit/s on average"
awk -v a="$cpu_many" -v b="$cpu_1" -v z="$cpu_0" -v n=$MANY -v s="$secs" -v hz="$(getconf CLK_TCK)" 'BEGIN {
	printf "per reader: (cpu%d - cpu1) / %d = %.3f%% of a core   (target <= 0.1%%)\n", n, n - 1, (a - b) * 100 / (n - 1)
	printf "  cross-check (cpu%d - cpu0) / %d = %.3f%%; one clock tick over %d s is %.4f%% per reader\n",
		n, n, (a - z) * 100 / n, s, 100 / hz / s / (n - 1)
}'

kill "${readers[@]}" 2>/dev/null || true
wait "${readers[@]}" 2>/dev/null || true
readers=()
fusermount3 -u "$mnt"
wait $camfs || echo "fanout.sh: camfs exited with $?" >&2
mnt=
