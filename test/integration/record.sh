#!/bin/bash
# record.sh - H.264 and H.265 cameras, with and without digest auth, record
# contiguous 2 s segments that play alone, each from 0, over one RTSP
# session each, and no credential reaches the log or the process arguments;
# AAC audio is kept;
# RTSP over UDP works when configured; a session's first keyframe is
# recorded (RTSP gives it no timestamp).
. "$(dirname "$0")/lib.sh"

ensure_clips
export CAM_PASS='s3cret-Pa55'
start_fixture open --mount /h264=h264 --mount /h265=h265 --mount /aac=h264+aac --mount /udp=h264 \
	--mount /first=clip:"$CLIPS_DIR/moving-h264.mp4"
start_fixture auth --auth "viewer:$CAM_PASS" --mount /h264=h264 --mount /h265=h265

cat >"$T/camfs.conf" <<CONF
[camfs]
store = $T/store
segment_seconds = 2

[camera h264]
url = rtsp://127.0.0.1:$open_PORT/h264

[camera h265]
url = rtsp://127.0.0.1:$open_PORT/h265

[camera aac]
url = rtsp://127.0.0.1:$open_PORT/aac

[camera udp]
url = rtsp://127.0.0.1:$open_PORT/udp
transport = udp

[camera h264-auth]
url = rtsp://viewer:\${CAM_PASS}@127.0.0.1:$auth_PORT/h264

[camera h265-auth]
url = rtsp://viewer:\${CAM_PASS}@127.0.0.1:$auth_PORT/h265

[camera first]
url = rtsp://127.0.0.1:$open_PORT/first
CONF

cams="h264 h265 aac udp h264-auth h265-auth"
start_camfs --no-mount -o config="$T/camfs.conf"
all_online() { [ "$(grep -c '\] online:' "$T/camfs.log")" -eq 7 ]; }
wait_until 20 all_online || fail "cameras did not all come online"
t_online=$(date +%s.%N)

enough() { for c in $cams; do [ "$(count_segments "$T/store" "$c")" -ge 6 ] || return 1; done; }
wait_until 40 enough || fail "too few segments after 40 s"

grep -q "$CAM_PASS" "/proc/$CAMFS_PID/cmdline" && fail "password in /proc/PID/cmdline"
stop_camfs
t_stop=$(date +%s.%N)
check_log
grep -q "$CAM_PASS" "$T/camfs.log" && fail "password in the log"
ok "no credential in log or cmdline"

for m in /aac /udp; do
	[ "$(sessions open $m)" = 1 ] || fail "open$m served $(sessions open $m) sessions, want 1"
done
for m in /h264 /h265; do
	[ "$(sessions open $m)" = 1 ] || fail "open$m served $(sessions open $m) sessions, want 1"
	[ "$(sessions auth $m)" = 1 ] || fail "auth$m served $(sessions auth $m) sessions, want 1"
done
ok "one RTSP session per camera"

wall=$(echo "$t_stop - $t_online" | bc)
for c in $cams; do
	want=h264; [[ $c == h265* ]] && want=hevc
	prev_seq= total=0
	while read -r f; do
		[ "$(codec_of "$f" v:0)" = "$want" ] || fail "$f: codec $(codec_of "$f" v:0), want $want"
		plays "$f" || fail "$f does not decode cleanly"
		if [ "$c" = aac ]; then
			[ "$(codec_of "$f" a:0)" = aac ] || fail "$f: no AAC audio track"
		fi
		read -r start end frames < <(video_span "$f")
		read -r first_seq last_seq < <(fragment_seqs "$f")
		# Every segment presents from 0 (its own timeline).
		(( $(echo "$start < 0.1" | bc -l) )) || fail "$f: starts at $start s"
		if [ -n "$prev_seq" ]; then
			# One muxer per session: a segment's first fragment is the one
			# after the previous segment's last, none lost between.
			[ "$first_seq" = $((prev_seq + 1)) ] ||
				fail "$f: fragments $first_seq.. after ..$prev_seq in the previous segment"
		fi
		dur=$(echo "$end - $start" | bc -l)
		total=$(echo "$total + $dur" | bc -l)
		prev_seq=$last_seq
	done < <(segments "$T/store" "$c")
	# The test camera's encoder holds about a GOP at start and sends it in
	# a burst, and the wall time counts from the last of the 7 cameras'
	# starts: the media time recorded may run up to a GOP (2 s) and a
	# second ahead (measured: 1.2-1.3 s). Behind, it may not fall by more
	# than the stop takes.
	diff=$(echo "$wall - $total" | bc -l)
	(( $(echo "$diff > -3 && $diff < 2.5" | bc -l) )) ||
		fail "$c: recorded $total s over $wall s of wall time"
	ok "$c: $(count_segments "$T/store" "$c") contiguous segments, $total s recorded in $wall s"
done

# The clip's box starts at x = 0 and moves 8 px a frame: the first recorded
# frame shows where the session began.
first=$(segments "$T/store" first | head -n 1)
x=$(ffmpeg -v error -i "$first" -frames:v 1 -vf crop=640:2:0:180 -f rawvideo -pix_fmt gray - |
	python3 -c 'import sys; d = sys.stdin.buffer.read()[:640]; print(min(i for i, b in enumerate(d) if b > 200))')
[ "$x" -lt 8 ] || fail "the first recorded frame has the box at x=$x: the session's first frames were lost"
ok "the session's first keyframe is recorded (box at x=$x)"
