#!/bin/bash
# sources.sh BUILD [SECONDS] [N] - camfs CPU per camera by kind of source,
# recording N (4) cameras for SECONDS (20) each, with --no-mount (browser
# cameras mounted: they need the HTTP export):
#   esp32  N ESP32-CAM boards pushing 800x600 10 fps MJPEG over WebSocket
#          (test/integration/fake_esp32.py: fragments of 10 KiB, board time)
#   mjpeg  N MJPEG-over-HTTP pulls of the same frames (fake_mjpeg.py, /sustain)
#   rtsp   N RTSP pulls of an 800x600 10 fps H.264 clip of the same bitrate
#          (the baseline: the kind of camera camfs was built around)
#   browser N browser cameras pushing that same H.264 as camera.html does
#          (fragmented MP4, a fragment a second over /ws/push/NAME;
#          push_browser.mjs, so Chromium's encoder is not in the figure)
#   rtsp720, browser720  the same pair at what camera.html sends at 720p:
#          1280x720 30 fps H.264 at 2 Mbit/s
# Prints each as % of a core per camera and the ratio to rtsp. The fake
# peers' own CPU is not counted (they are other processes).
. "$(dirname "$0")/lib.sh"
secs=${2:-20}
N=${3:-4}
integ=$src/test/integration

mkdir -p "$T/jpg" "$T/store"
ffmpeg -nostdin -v error -f lavfi -i testsrc=size=800x600:rate=10 -frames:v 50 -q:v 5 "$T/jpg/%03d.jpg"
bytes=$(cat "$T"/jpg/*.jpg | wc -c)
kbit=$((bytes * 8 * 10 / 50 / 1000))
ffmpeg -nostdin -v error -f lavfi -i testsrc=size=800x600:rate=10 -t 60 -c:v libx264 \
	-b:v "${kbit}k" -maxrate "${kbit}k" -bufsize "${kbit}k" -g 20 -bf 0 -pix_fmt yuv420p "$T/h264.mp4"
echo "sources: $N cameras each, 800x600 10 fps, ~$kbit kbit/s (MJPEG q5; H.264 at the same rate)"

ffmpeg -nostdin -v error -f lavfi -i testsrc=size=1280x720:rate=30 -t 60 -c:v libx264 \
	-b:v 2000k -maxrate 2000k -bufsize 2000k -g 30 -bf 0 -pix_fmt yuv420p "$T/h264-720.mp4"

# Fragments of 1 s, as MediaRecorder's: the browser cameras' stream.
for clip in h264 h264-720; do
	ffmpeg -nostdin -v error -i "$T/$clip.mp4" -c copy -movflags frag_keyframe+empty_moov+default_base_moof \
		-frag_duration 1000000 "$T/$clip-frag.mp4"
done
http=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
esp=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
run() {   # KIND: camfs recording N cameras of KIND; prints its CPU per camera
	local kind=$1 i camfs
	{
		printf '[camfs]\nstore = %s\nhttp = 127.0.0.1:%s\nesp32_listen = 127.0.0.1:%s\n' "$T/store" "$http" "$esp"
		for i in $(seq 1 "$N"); do
			case $kind in
			esp32) printf '[camera c%d]\npush = esp32\nesp32_host = board%d\n' "$i" "$i" ;;
			mjpeg) printf '[camera c%d]\nurl = http://u:p@127.0.0.1:%s/sustain?video=1\n' "$i" "$mjpeg_port" ;;
			rtsp) printf '[camera c%d]\nurl = rtsp://127.0.0.1:%s/c%d\n' "$i" "$rtsp_port" "$i" ;;
			rtsp720) printf '[camera c%d]\nurl = rtsp://127.0.0.1:%s/h%d\n' "$i" "$rtsp_port" "$i" ;;
			browser*) printf '[camera c%d]\npush = browser\ntoken = bench-token-0123456789\n' "$i" ;;
			esac
		done
	} >"$T/$kind.conf"
	if [ "${kind#browser}" != "$kind" ]; then
		# Its camera page talks to the HTTP export, which serves the tree.
		mkdir -p "$T/mnt"
		"$camfs_bin" -f -o config="$T/$kind.conf" "$T/mnt" 2>"$T/$kind.log" &
	else
		"$camfs_bin" --no-mount -o config="$T/$kind.conf" 2>"$T/$kind.log" &
	fi
	camfs=$!
	pids+=($camfs)
	if [ "$kind" = esp32 ]; then
		for i in $(seq 1 "$N"); do
			python3 "$integ/fake_esp32.py" --url "ws://127.0.0.1:$esp/ws" --host-name "board$i" \
				--jpegs "$T/jpg" --seconds $((secs + 10)) 2>/dev/null &
			pids+=($!)
		done
	fi
	if [ "${kind#browser}" != "$kind" ]; then
		until grep -qs 'serving http' "$T/$kind.log"; do sleep 0.1; done
		clip=h264-frag.mp4
		[ "$kind" = browser720 ] && clip=h264-720-frag.mp4
		for i in $(seq 1 "$N"); do
			node --experimental-websocket "$src/test/bench/push_browser.mjs" \
				"ws://127.0.0.1:$http/ws/push/c$i" bench-token-0123456789 "$T/$clip" \
				$((secs + 10)) 2>/dev/null &
			pids+=($!)
		done
	fi
	sleep 5
	online=$(grep -c 'online: ' "$T/$kind.log" || true)
	[ "$online" -eq "$N" ] || echo "  ($kind: only $online of $N cameras online)" >&2
	cpu=$(proc_cpu "$secs" $camfs)
	kill -TERM $camfs; wait $camfs || true
	echo "scale=4; $cpu * 100 / $N" | bc
}

python3 "$integ/fake_mjpeg.py" 0 "$T/mjpeg.port" u p 10 "$T"/jpg/*.jpg &
pids+=($!)
until [ -s "$T/mjpeg.port" ]; do sleep 0.1; done
mjpeg_port=$(cat "$T/mjpeg.port")
mounts=()
for i in $(seq 1 "$N"); do mounts+=(--mount "/c$i=clip:$T/h264.mp4" --mount "/h$i=clip:$T/h264-720.mp4"); done
"$build/test/fixture/rtsp-camera" --port 0 "${mounts[@]}" >"$T/fixture.out" 2>&1 &
pids+=($!)
until grep -qs '^ready port=' "$T/fixture.out"; do sleep 0.1; done
rtsp_port=$(sed -n 's/^ready port=//p' "$T/fixture.out")

rtsp=$(run rtsp)
esp32=$(run esp32)
mjpeg=$(run mjpeg)
browser=$(run browser)
rtsp720=$(run rtsp720)
browser720=$(run browser720)
printf 'rtsp  (H.264 pulled):        %s%% of a core per camera\n' "$rtsp"
printf 'esp32 (MJPEG pushed, WS):    %s%% of a core per camera (%sx rtsp)\n' "$esp32" \
	"$(echo "scale=2; $esp32 / $rtsp" | bc)"
printf 'mjpeg (MJPEG pulled, HTTP):  %s%% of a core per camera (%sx rtsp)\n' "$mjpeg" \
	"$(echo "scale=2; $mjpeg / $rtsp" | bc)"
printf 'browser (H.264 pushed, WS):  %s%% of a core per camera (%sx rtsp)\n' "$browser" \
	"$(echo "scale=2; $browser / $rtsp" | bc)"
printf 'rtsp720 (H.264 720p30 2 Mbit/s): %s%% of a core per camera\n' "$rtsp720"
printf 'browser720 (the same, pushed):   %s%% of a core per camera (%sx rtsp720)\n' "$browser720" \
	"$(echo "scale=2; $browser720 / $rtsp720" | bc)"
