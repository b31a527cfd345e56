#!/bin/bash
# reads.sh - benchmark, not a test: footage read throughput through the mount
# vs reading the same store file directly. One ~500 MB fragmented MP4 (the
# 1080p clip looped with -c copy) is put into the store as a finished segment
# of a configured camera; then `dd bs=1M` of it, through MNT and straight
# from the store:
#   cached:   the file read once before, the second read timed;
#   uncached: `echo 3 > /proc/sys/vm/drop_caches` before each read (needs
#             root; without it only the cached figures are printed).
# Each figure is the median (and range) of ROUNDS reads, the two ways
# alternating; ratios both as the ratio of medians and as the median of the
# per-round ratios; also camfs CPU per GB read through the mount.
# Usage: test/bench/reads.sh BUILD_DIR [ROUNDS]
. "$(dirname "$0")/lib.sh"
rounds=${2:-15}

# A finished segment from yesterday.
day=$(date -d yesterday +%F)
rel=a/$day/12-00-00.mp4
big_segment "$rel"
size=$(stat -c %s "$T/store/$rel")

# The camera need not be reachable: footage is served either way.
printf '[camfs]\nstore = %s/store\n\n[camera a]\nurl = rtsp://127.0.0.1:9/none\n' "$T" >"$T/camfs.conf"
mnt=$T/mnt
mkdir -p "$mnt" "$T/store"
"$camfs_bin" -f -o config="$T/camfs.conf" "$mnt" >"$T/camfs.log" 2>&1 &
camfs=$!
pids+=($camfs)
until [ -e "$mnt/status.json" ]; do sleep 0.1; done
[ "$(stat -c %s "$mnt/$rel")" = "$size" ] || { echo "reads.sh: $mnt/$rel is not the $size-byte segment" >&2; exit 1; }

drop=no
sync
if echo 3 2>/dev/null >/proc/sys/vm/drop_caches; then drop=yes; fi

ticks() { awk '{ print $14 + $15 }' "/proc/$camfs/stat"; }
# read_into CASE FILE: one dd of FILE; its MB/s (10^6 bytes) goes to
# $T/CASE and the camfs CPU ticks it took to $T/CASE.ticks.
read_into() {
	local t0 t1 c0 c1
	c0=$(ticks)
	t0=$EPOCHREALTIME
	dd if="$2" of=/dev/null bs=1M status=none
	t1=$EPOCHREALTIME
	c1=$(ticks)
	awk -v b="$size" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.0f\n", b / (t1 - t0) / 1e6 }' >>"$T/$1"
	echo $((c1 - c0)) >>"$T/$1.ticks"
}
stats() { sort -n "$1" | awk '{ v[NR] = $1 } END { printf "%s (%s..%s)", v[int((NR + 1) / 2)], v[1], v[NR] }'; }
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# ratio FUSE NATIVE: the ratio of the medians, and the median of the
# per-round ratios (each round reads both ways back to back, so it shares
# the host's mood).
ratio() {
	awk -v a="$(median "$1")" -v b="$(median "$2")" 'BEGIN { printf "%.2f", a / b }'
	printf ' (per round: %s)' "$(paste "$1" "$2" | awk '{ printf "%.3f\n", $1 / $2 }' | median /dev/stdin)"
}
# cpu_per_gb CASE: camfs CPU seconds per GB read in CASE.
cpu_per_gb() { awk -v hz="$(getconf CLK_TCK)" -v b="$size" '{ t += $1; n++ } END { printf "%.2f", t / hz / (n * b / 1e9) }' "$T/$1.ticks"; }

for i in $(seq 1 "$rounds"); do
	for way in native fuse; do
		f=$T/store/$rel; [ $way = fuse ] && f=$mnt/$rel
		read_into warmup.$way "$f"
		read_into cached.$way "$f"
		if [ $drop = yes ]; then
			sync; echo 3 >/proc/sys/vm/drop_caches
			read_into uncached.$way "$f"
		fi
	done
done

echo "one $((size / 1000000)) MB segment, dd bs=1M; MB/s as median (min..max) of $rounds reads each"
echo "  cached:   native $(stats "$T/cached.native"), through camfs $(stats "$T/cached.fuse")"
echo "            ratio $(ratio "$T/cached.fuse" "$T/cached.native")   (target >= 0.25); camfs CPU $(cpu_per_gb cached.fuse) s per GB"
if [ $drop = yes ]; then
	echo "  uncached: native $(stats "$T/uncached.native"), through camfs $(stats "$T/uncached.fuse")"
	echo "            ratio $(ratio "$T/uncached.fuse" "$T/uncached.native")   (target >= 0.9); camfs CPU $(cpu_per_gb uncached.fuse) s per GB"
else
	echo "  uncached: not measured (cannot write /proc/sys/vm/drop_caches; needs root)"
fi
ra_kb() { cat "/sys/class/bdi/$(stat -c '%Hd:%Ld' "$1")/read_ahead_kb" 2>/dev/null || echo '?'; }
echo "  read_ahead_kb: store's device $(ra_kb "$T/store/$rel"), camfs mount $(ra_kb "$mnt/$rel")"

fusermount3 -u "$mnt"
wait $camfs || echo "reads.sh: camfs exited with $?" >&2
mnt=
