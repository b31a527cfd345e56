#!/bin/bash
# webview_lag.sh - benchmark, not a test: the web viewer's live grid of 16
# tiles in Chromium over plain HTTP (the export's one WebSocket): 14 test
# cameras (the RTSP fixture looping the 640x360 15 fps H.264 clip) and the
# two demo cameras. Prints, per tile and overall, the time to first picture
# and the live lag p50/p95 (now - wall clock of the frame on screen, from
# the fragments' prft), and camfs's CPU per viewer: (cpu with V pages open
# - cpu with none) / V, for V = 1 and 2; and the lag of one tile alone
# (demo-moving), the figure without 16 software decoders competing.
# Usage: test/bench/webview_lag.sh BUILD_DIR [SECONDS]
. "$(dirname "$0")/lib.sh"
secs=${2:-20}
browser=$src/test/browser
[ -d "$browser/node_modules/playwright-core" ] || { echo "run npm ci in $browser first"; exit 1; }

bash "$src/test/fixture/make_clips.sh" "$build/test/clips" moving-h264.mp4 >/dev/null
mounts=()
for i in $(seq -w 1 14); do mounts+=(--mount "/c$i=clip:$build/test/clips/moving-h264.mp4"); done
"$build/test/fixture/rtsp-camera" --port 0 "${mounts[@]}" >"$T/fixture.out" 2>&1 &
pids+=($!)
until grep -qs '^ready port=' "$T/fixture.out"; do sleep 0.1; done
port=$(sed -n 's/^ready port=//p' "$T/fixture.out")
hp=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
{
	printf '[camfs]\nstore = %s/store\n' "$T"
	for i in $(seq -w 1 14); do printf '\n[camera c%s]\nurl = rtsp://127.0.0.1:%d/c%s\n' "$i" "$port" "$i"; done
} >"$T/camfs.conf"
mnt=$T/mnt
mkdir -p "$mnt"
"$camfs_bin" -f --demo -o config="$T/camfs.conf" -o http=127.0.0.1:$hp -o http_webview="$src/webview" "$mnt" \
	>"$T/camfs.log" 2>&1 &
camfs=$!
pids+=($camfs)
until [ "$(grep -c '\] online' "$T/camfs.log")" -ge 16 ]; do sleep 0.2; done
sleep 3

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
cpu_of() {   # cpu_of SECONDS: camfs's share of one core over SECONDS
	local a b
	a=$(ticks "$camfs"); sleep "$1"; b=$(ticks "$camfs")
	echo "scale=5; ($b - $a) / $(getconf CLK_TCK) / $1" | bc
}
pct() { awk -v c="$1" 'BEGIN { printf "%.2f", c * 100 }'; }

node "$browser/lag.mjs" "http://127.0.0.1:$hp/#/?cams=demo-moving" 1 1 "$secs" >"$T/one.out" 2>"$T/one.err" ||
	{ echo "chromium failed: $(tail -3 "$T/one.err")"; exit 1; }
node -e 'const r = JSON.parse(process.argv[1]);
	console.log(`one tile (demo-moving): lag p50 ${r.lagP50Ms} ms, p95 ${r.lagP95Ms} ms; first picture ${r.firstPictureP50Ms} ms`);' \
	"$(tail -1 "$T/one.out")"
# The baseline twice in a row, the lower one kept
# (start-up work, first segments and indexes, settles in the first minute).
cpu0=$(cpu_of "$secs")
cpu0b=$(cpu_of "$secs")
cpu0=$(awk -v a="$cpu0" -v b="$cpu0b" 'BEGIN { print (a < b ? a : b) }')
echo "camfs recording 16 cameras, no viewer: $(pct "$cpu0")% of a core (lower of $(pct "$cpu0b")% and the first)"
for v in 1 2; do
	out=$T/lag$v.out
	node "$browser/lag.mjs" "http://127.0.0.1:$hp" 16 "$v" "$secs" >"$out" 2>"$T/lag$v.err" &
	node_pid=$!
	until grep -qs '^ready' "$out" || ! kill -0 $node_pid 2>/dev/null; do sleep 0.2; done
	grep -qs '^ready' "$out" || { echo "chromium failed: $(tail -3 "$T/lag$v.err")"; exit 1; }
	cpu=$(cpu_of "$secs")
	wait $node_pid
	json=$(tail -1 "$out")
	echo "$v viewer(s) x 16 tiles: camfs $(pct "$cpu")% of a core," \
		"per viewer $(awk -v a="$cpu" -v b="$cpu0" -v n="$v" 'BEGIN { printf "%.2f", (a - b) / n * 100 }')%"
	node -e '
		const r = JSON.parse(process.argv[1]);
		console.log(`  lag p50 ${r.lagP50Ms} ms, p95 ${r.lagP95Ms} ms; first picture p50 ${r.firstPictureP50Ms} ms, max ${r.firstPictureMaxMs} ms`);
		if (process.argv[2] === "1")
			for (const [cam, t] of Object.entries(r.tiles))
				console.log(`  ${cam.padEnd(12)} first picture ${String(t.firstPictureMs).padStart(5)} ms  lag p50 ${t.lagP50Ms} p95 ${t.lagP95Ms} ms  frames ${t.frames}`);
	' "$json" "$v"
done
