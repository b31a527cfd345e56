#!/bin/bash
# ttff.sh - benchmark, not a test: time to first frame of live.mp4, from
# starting a player on it to the first decoded keyframe, for a camera with a
# 2 s and a 10 s GOP, against opening the camera's RTSP URL directly.
#
# Each figure is one `ffmpeg -nostdin -v error [-fpsprobesize 0] -i INPUT
# -frames:v 1 -f null -` run timed by this shell, done two ways:
#   default:     ffmpeg's own probing, which reads ~20 frames to guess the
#                frame rate before it decodes anything (what a user sees);
#   first frame: -fpsprobesize 0, so ffmpeg stops probing at the first
#                keyframe (the time the data itself takes).
# The same command on a small local file (the same 640x360 stream), in the
# same run, is the baseline for ffmpeg's own start-up; "net" subtracts its
# median from every sample.
#
# camfs opens are spread over the GOP: each follows a random pause of
# U[0, GOP), as a viewer's click falls at any point of the GOP.
#
# Direct: the test camera starts a fresh encoder for each RTSP session, so its
# first frame is always a keyframe. A real camera already running sends its
# next keyframe only when its GOP comes round, so the direct time is the
# measured RTSP connect + first frame PLUS a keyframe wait uniform over
# [0, GOP): every measured sample is combined with GOP*(j+0.5)/20, j=0..19
# (the measured distribution convolved with the uniform one), and p50/p95
# are taken over those 20*N values.
# Usage: test/bench/ttff.sh BUILD_DIR [N]
. "$(dirname "$0")/lib.sh"
n=${2:-20}
FPS=25

# ms ARGS...: wall time in ms of `ffmpeg ARGS -frames:v 1 -f null -`.
ms() {
	local t0=$EPOCHREALTIME t1
	timeout 30 ffmpeg -nostdin -v error "$@" -frames:v 1 -f null - </dev/null >/dev/null 2>&1 ||
		echo "ttff.sh: failed: ffmpeg $*" >&2
	t1=$EPOCHREALTIME
	echo "($t1 - $t0) * 1000" | bc
}
# both NAME INPUT_ARGS...: one sample of each probing mode into $d/NAME.{default,first}.
both() {
	local name=$1; shift
	ms "$@" >>"$d/$name.default"
	ms -fpsprobesize 0 "$@" >>"$d/$name.first"
}
# pct P FILE: the P-th percentile (nearest rank) of the numbers in FILE.
pct() { sort -n "$2" | awk -v p="$1" '{ v[NR] = $1 } END { i = int(NR * p / 100 + 0.999999); if (i < 1) i = 1; printf "%.0f", v[i] }'; }
# minus FILE MS: each number in FILE less MS.
minus() { awk -v b="$2" '{ print $1 - b }' "$1"; }
# plus_gop FILE GOP_MS: each number combined with a keyframe wait uniform over the GOP.
plus_gop() { awk -v g="$2" '{ for (j = 0; j < 20; j++) print $1 + g * (j + 0.5) / 20 }' "$1"; }
# ratio A B: A / B, B floored at 1 ms.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / (b < 1 ? 1 : b) }'; }
pp() { echo "$(pct 50 "$1") / $(pct 95 "$1")"; }

for gop_s in 2 10; do
	gop=$((gop_s * FPS))
	d=$T/gop$gop_s
	mkdir -p "$d"
	"$build/test/fixture/rtsp-camera" --port 0 --fps $FPS --gop $gop --mount /a=h264 >"$d/fixture.out" 2>&1 &
	fixture=$!
	pids+=($fixture)
	until grep -qs '^ready port=' "$d/fixture.out"; do sleep 0.1; done
	port=$(sed -n 's/^ready port=//p' "$d/fixture.out")
	url=rtsp://127.0.0.1:$port/a

	printf '[camfs]\nstore = %s/store\n\n[camera a]\nurl = %s\n' "$d" "$url" >"$d/camfs.conf"
	mnt=$d/mnt
	mkdir -p "$mnt" "$d/store"
	"$camfs_bin" -f -o config="$d/camfs.conf" "$mnt" >"$d/camfs.log" 2>&1 &
	camfs=$!
	pids+=($camfs)
	until grep -qs '\[a\] online' "$d/camfs.log"; do sleep 0.1; done
	# The local baseline: the same stream as a small file.
	ffmpeg -nostdin -v error -rtsp_transport tcp -i "$url" -frames:v $((2 * FPS)) -c copy -y "$d/local.mp4"
	sleep $((gop_s + 1))   # a whole GOP in the cache

	for i in $(seq 1 "$n"); do
		sleep "$(echo "scale=3; $RANDOM * $gop_s / 32768" | bc)"
		both camfs -i "$mnt/a/live.mp4"
		both local -i "$d/local.mp4"
		both rtsp -rtsp_transport tcp -i "$url"
	done

	echo "GOP $gop_s s ($gop frames at $FPS fps, 640x360 H.264), $n opens each; ms, p50 / p95"
	for mode in default first; do
		s=$d/$mode
		base=$(pct 50 "$d/local.$mode")
		for x in camfs rtsp; do minus "$d/$x.$mode" "$base" >"$s.$x.net"; done
		plus_gop "$d/rtsp.$mode" $((gop_s * 1000)) >"$s.direct"
		plus_gop "$s.rtsp.net" $((gop_s * 1000)) >"$s.direct.net"
		[ $mode = default ] && echo " ffmpeg default probing:" || echo " first frame only (-fpsprobesize 0):"
		echo "  local file (ffmpeg start-up):     $(pp "$d/local.$mode")"
		echo "  camfs live.mp4:                   raw $(pp "$d/camfs.$mode"),  net $(pp "$s.camfs.net")   (target p95 <= 200)"
		echo "  RTSP, fixture (keyframe at once): raw $(pp "$d/rtsp.$mode"),  net $(pp "$s.rtsp.net")"
		echo "  direct = RTSP + U[0,${gop_s}s) wait:   raw $(pp "$s.direct"),  net $(pp "$s.direct.net")"
		echo "  direct / camfs:  raw p50 $(ratio "$(pct 50 "$s.direct")" "$(pct 50 "$d/camfs.$mode")")x" \
			"p95 $(ratio "$(pct 95 "$s.direct")" "$(pct 95 "$d/camfs.$mode")")x;" \
			"net p50 $(ratio "$(pct 50 "$s.direct.net")" "$(pct 50 "$s.camfs.net")")x" \
			"p95 $(ratio "$(pct 95 "$s.direct.net")" "$(pct 95 "$s.camfs.net")")x   (target >= 10x)"
	done

	fusermount3 -u "$mnt"
	wait $camfs || echo "ttff.sh: camfs exited with $?" >&2
	mnt=
	kill $fixture
	wait $fixture 2>/dev/null || true
done
echo "(net = raw minus the local-file median of the same mode; a ratio's divisor is floored at 1 ms)"
