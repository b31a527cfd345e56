# lib.sh - shared by the mount benchmarks: the build dir and camfs binary,
# a temp dir, and a cleanup trap that unmounts and stops what was started.
# Sourced with BUILD_DIR as the script's first argument.
set -euo pipefail
build=$(realpath "${1:-build}")
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
camfs_bin=$build/camfs
T=$(mktemp -d /tmp/camfs-bench.XXXXXX)
pids=()
readers=()
mnt=
cleanup() {
	[ ${#readers[@]} -gt 0 ] && kill "${readers[@]}" 2>/dev/null || true
	[ -n "$mnt" ] && { fusermount3 -u "$mnt" 2>/dev/null || fusermount3 -u -z "$mnt" 2>/dev/null || true; }
	[ ${#pids[@]} -gt 0 ] && kill "${pids[@]}" 2>/dev/null || true
	wait 2>/dev/null || true
	[ -n "${KEEP:-}" ] && echo "kept $T" || rm -rf "$T"
}
trap cleanup EXIT

# clip_camera: the RTSP test camera serving the ~4 Mbit/s 1080p clip at
# rtsp://127.0.0.1:$port/a; sets clip and port.
clip_camera() {
	bash "$src/test/fixture/make_clips.sh" "$build/test/clips" bench-1080p.mp4 >/dev/null
	clip=$build/test/clips/bench-1080p.mp4
	"$build/test/fixture/rtsp-camera" --port 0 --mount "/a=clip:$clip" >"$T/fixture.out" 2>&1 &
	pids+=($!)
	until grep -qs '^ready port=' "$T/fixture.out"; do sleep 0.1; done
	port=$(sed -n 's/^ready port=//p' "$T/fixture.out")
}

# big_segment REL: a finished ~500 MB segment (the 1080p clip looped, -c copy,
# fragmented so start-up recovery keeps it) at $T/store/REL.
big_segment() {
	bash "$src/test/fixture/make_clips.sh" "$build/test/clips" bench-1080p.mp4 >/dev/null
	mkdir -p "$(dirname "$T/store/$1")"
	ffmpeg -nostdin -v error -stream_loop 95 -i "$build/test/clips/bench-1080p.mp4" -c copy \
		-movflags +frag_keyframe+empty_moov+default_base_moof -f mp4 "$T/store/$1"
}

# proc_cpu SECONDS PID: the share of one core PID (all its threads) used
# over the next SECONDS, from utime + stime in /proc/PID/stat.
proc_cpu() {
	local a b
	a=$(awk '{ print $14 + $15 }' "/proc/$2/stat"); sleep "$1"; b=$(awk '{ print $14 + $15 }' "/proc/$2/stat")
	echo "scale=4; ($b - $a) / $(getconf CLK_TCK) / $1" | bc
}
