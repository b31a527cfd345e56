#!/bin/bash
# clips.sh - benchmark, not a test: virtual clips (CAMERA/clips/<start>+<dur>.mp4).
#  1. Lookup to first byte of a 1 h clip over 60 one-minute 640x360 15 fps
#     segments (54000 samples): open() + read(1) timed in python, cold (the
#     first lookup of a fresh camfs after drop_caches: every segment's index
#     is read from its file; COLD times, remounting in between) and warm (10
#     other names over the same hour: new clips built from the indexes camfs
#     keeps). Baseline: the same open + read(1) of a plain segment file
#     through the mount. Also the first lookup of a fresh camfs with the
#     store files still in the page cache (index reading without the disk).
#  2. Throughput of a clip over MINUTES one-minute 1080p ~4 Mbit/s segments
#     (`dd bs=1M` of the clip) vs reading those segments through the mount
#     one after another (`dd bs=1M` each), ROUNDS times:
#       cached:   each read once before, the second read timed;
#       uncached: `echo 3 > /proc/sys/vm/drop_caches` before each read;
#       served:   only the store files in the page cache (dropped, then
#                 `cat` of the store files), so camfs answers every read.
# The stores are written offline by make_store (the recorder's fragmenter
# and writer on a simulated clock) at fixed local times today (01:00 and
# 03:00, no midnight in between); the cameras' URLs lead nowhere, footage is
# served either way. drop_caches needs root: without it only the warm and
# cached figures are measured.
# Usage: test/bench/clips.sh BUILD_DIR [MINUTES] [ROUNDS] [COLD]   (15, 5, 3)
set -euo pipefail
build=$(realpath "${1:-build}")
hd_minutes=${2:-15}
rounds=${3:-5}
colds=${4:-3}
src=$(cd "$(dirname "$0")/../.." && pwd)
camfs_bin=$build/camfs
make_store=$build/test/bench/make_store
[ -x "$make_store" ] || { echo "clips.sh: $make_store not built (ninja -C $build)" >&2; exit 1; }
T=$(mktemp -d /tmp/camfs-bench.XXXXXX)
mnt=
camfs=
cleanup() {
	[ -n "$mnt" ] && { fusermount3 -u "$mnt" 2>/dev/null || fusermount3 -u -z "$mnt" 2>/dev/null || true; }
	[ -n "$camfs" ] && { kill "$camfs" 2>/dev/null || true; wait "$camfs" 2>/dev/null || true; }
	[ -n "${KEEP:-}" ] && echo "kept $T" || rm -rf "$T"
}
trap cleanup EXIT

clips=$build/test/clips
bash "$src/test/fixture/make_clips.sh" "$clips" moving-h264.mp4 bench-1080p.mp4 >/dev/null
day=$(date +%F)
"$make_store" "$T/store" cam "$clips/moving-h264.mp4" 60 "$(date -d "$day 01:00" +%s)" 60 >/dev/null
"$make_store" "$T/store" hd "$clips/bench-1080p.mp4" "$hd_minutes" "$(date -d "$day 03:00" +%s)" 60 >/dev/null

printf '[camfs]\nstore = %s/store\n\n[camera cam]\nurl = rtsp://127.0.0.1:1/none\n\n[camera hd]\nurl = rtsp://127.0.0.1:1/none\n' \
	"$T" >"$T/camfs.conf"
mkdir -p "$T/mnt"
mount_camfs() {
	mnt=$T/mnt
	"$camfs_bin" -f -o config="$T/camfs.conf" "$mnt" >>"$T/camfs.log" 2>&1 &
	camfs=$!
	until [ -e "$mnt/status.json" ]; do
		kill -0 "$camfs" 2>/dev/null || { cat "$T/camfs.log" >&2; exit 1; }
		sleep 0.1
	done
}
unmount_camfs() {
	fusermount3 -u "$mnt"
	wait "$camfs" || echo "clips.sh: camfs exited with $?" >&2
	mnt=
	camfs=
}

drop=no
sync
if echo 3 2>/dev/null >/proc/sys/vm/drop_caches; then drop=yes; fi
drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }
# Only the store's files in the page cache, not the mount's pages: every
# read through the mount is then answered by camfs.
store_cached() { drop_caches; cat "$T/store/hd/$day"/*.mp4 >/dev/null; }

# first_byte PATH...: per path "TOTAL_MS OPEN_MS" of open() + read(1).
first_byte() {
	python3 -c '
import os, sys, time
for p in sys.argv[1:]:
    t0 = time.perf_counter()
    fd = os.open(p, os.O_RDONLY)
    t1 = time.perf_counter()
    b = os.read(fd, 1)
    t2 = time.perf_counter()
    os.close(fd)
    if len(b) != 1:
        sys.exit("clips.sh: no first byte from " + p)
    print("%.2f %.2f" % ((t2 - t0) * 1e3, (t1 - t0) * 1e3))
' "$@"
}
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# ms FILE: "p50 X ms (open Y ms), max Z ms" over its lines.
ms() {
	sort -n "$1" | awk '{ t[NR] = $1; o[NR] = $2 }
		END { m = int((NR + 1) / 2); printf "p50 %.1f ms (open %.1f), max %.1f ms", t[m], o[m], t[NR] }'
}
ratio() { awk -v a="$(median "$1")" -v b="$(median "$2")" 'BEGIN { printf "%.1f", a / b }'; }

# --- 1. lookup to first byte --------------------------------------------
segdir=$T/mnt/cam/$day
clipdir=$T/mnt/cam/clips
hour=${day}T01-00-00
mount_camfs
if [ $drop = yes ]; then
	for i in $(seq 1 "$colds"); do
		[ "$i" = 1 ] || { unmount_camfs; mount_camfs; }   # a camfs without indexes
		drop_caches
		first_byte "$clipdir/$hour+1h.mp4" >>"$T/cold.clip"
		drop_caches
		first_byte "$segdir/$(printf '01-%02d-00.mp4' $((i % 60)))" >>"$T/cold.seg"
		# The same first lookup with the store still in the page cache:
		# what reading the indexes costs camfs without the disk.
		unmount_camfs
		mount_camfs
		cat "$T/store/cam/$day"/*.mp4 >/dev/null
		first_byte "$clipdir/$hour+1h.mp4" >>"$T/fresh.clip"
	done
fi
# Warm: ten names over the same hour camfs has not built yet (59m59s..59m50s).
names=()
for s in $(seq 59 -1 50); do names+=("$clipdir/$hour+59m${s}s.mp4"); done
first_byte "${names[@]}" >"$T/warm.clip"
segs=()
for m in $(seq 10 19); do segs+=("$segdir/01-$m-00.mp4"); done
first_byte "${segs[@]}" >"$T/warm.seg"

probe=$(ffprobe -v error -count_packets -show_entries format=duration,size:stream=nb_read_packets \
	-of default=nw=1:nk=1 "$clipdir/$hour+1h.mp4" | tr '\n' ' ')
read -r packets dur size <<<"$probe"
echo "1 h clip over 60 one-minute 640x360 15 fps segments: $packets samples, $(printf '%.1f' "$dur") s, $((size / 1000)) kB"
echo "lookup -> first byte (python: open, read 1 byte):"
if [ $drop = yes ]; then
	echo "  cold, $hour+1h.mp4, $colds fresh mounts: $(ms "$T/cold.clip")   (target <= 50 ms)"
	echo "        a plain segment: $(ms "$T/cold.seg");  clip/segment $(ratio "$T/cold.clip" "$T/cold.seg")x"
	echo "        the clip in a fresh camfs, store files in the page cache: $(ms "$T/fresh.clip")"
else
	echo "  cold: not measured (cannot write /proc/sys/vm/drop_caches; needs root)"
fi
echo "  warm, 10 new names (+59m59s..+59m50s): $(ms "$T/warm.clip")   (target <= 50 ms)"
echo "        10 plain segments: $(ms "$T/warm.seg");  clip/segment $(ratio "$T/warm.clip" "$T/warm.seg")x"

# --- 2. throughput -------------------------------------------------------
hdsegs=("$mnt/hd/$day"/[0-9][0-9]-[0-9][0-9]-[0-9][0-9].mp4)   # not day.mp4
hdclip=$mnt/hd/clips/${day}T03-00-00+${hd_minutes}m.mp4
clip_bytes=$(stat -c %s "$hdclip")
seg_bytes=$(stat -c %s "${hdsegs[@]}" | awk '{ t += $1 } END { print t }')

ticks() { awk '{ print $14 + $15 }' "/proc/$camfs/stat"; }
# read_into CASE BYTES FILE...: dd each FILE in turn; MB/s (10^6 bytes) of
# the whole to $T/CASE, camfs CPU ticks to $T/CASE.ticks.
read_into() {
	local c=$1 bytes=$2 t0 t1 c0 c1 f
	shift 2
	c0=$(ticks)
	t0=$EPOCHREALTIME
	for f in "$@"; do dd if="$f" of=/dev/null bs=1M status=none; done
	t1=$EPOCHREALTIME
	c1=$(ticks)
	awk -v b="$bytes" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.0f\n", b / (t1 - t0) / 1e6 }' >>"$T/$c"
	echo $((c1 - c0)) >>"$T/$c.ticks"
}
stats() { sort -n "$1" | awk '{ v[NR] = $1 } END { printf "%s MB/s (%s..%s)", v[int((NR + 1) / 2)], v[1], v[NR] }'; }
cpu_per_gb() { awk -v hz="$(getconf CLK_TCK)" -v b="$2" '{ t += $1; n++ } END { printf "%.2f", t / hz / (n * b / 1e9) }' "$T/$1.ticks"; }
# line CASE LABEL: the two figures, their ratio, camfs CPU per GB.
line() {
	echo "  $2 segments $(stats "$T/$1.segs"), clip $(stats "$T/$1.clip")"
	echo "            clip/segments $(awk -v a="$(median "$T/$1.clip")" -v b="$(median "$T/$1.segs")" 'BEGIN { printf "%.2f", a / b }')   (target >= 0.8);" \
		"camfs CPU s/GB: segments $(cpu_per_gb "$1.segs" "$seg_bytes"), clip $(cpu_per_gb "$1.clip" "$clip_bytes")"
}

for i in $(seq 1 "$rounds"); do
	read_into warmup.segs "$seg_bytes" "${hdsegs[@]}"
	read_into cached.segs "$seg_bytes" "${hdsegs[@]}"
	read_into warmup.clip "$clip_bytes" "$hdclip"
	read_into cached.clip "$clip_bytes" "$hdclip"
	if [ $drop = yes ]; then
		drop_caches
		read_into uncached.segs "$seg_bytes" "${hdsegs[@]}"
		drop_caches
		read_into uncached.clip "$clip_bytes" "$hdclip"
		store_cached
		read_into served.segs "$seg_bytes" "${hdsegs[@]}"
		store_cached
		read_into served.clip "$clip_bytes" "$hdclip"
	fi
done

echo "throughput: ${#hdsegs[@]} one-minute 1080p segments ($((seg_bytes / 1000000)) MB) one after another vs the clip over them ($((clip_bytes / 1000000)) MB), through the mount, dd bs=1M, median (min..max) of $rounds:"
line cached "cached:  "
if [ $drop = yes ]; then
	line uncached "uncached:"
	line served "served:  "
else
	echo "  uncached, served: not measured (cannot write /proc/sys/vm/drop_caches; needs root)"
fi

unmount_camfs
