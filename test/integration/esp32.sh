#!/bin/bash
# esp32.sh - ESP32-CAM boards pushing over WebSocket (docs/esp32.md), with
# fake_esp32.py speaking the firmware's wire protocol (status on connect,
# frames fragmented at 10 KiB with the board's time after FF D9, texts
# "#TIME|..."). A named board records: segments and live.mp4 play as
# MJPEG 800x600, frame times follow the board's clock, its MotionStart is a
# camera event, its settings show in status.json, commands reach it
# byte-exact and wrong ones are refused; a second board with the same
# hostName, an unknown one, bad frames, oversize messages, garbage, a
# stall and a slow sender each close their own connection only; a board
# without a hostName goes to esp32_accept_unknown's camera; a board that
# reconnects goes on in the same folder; an address outside esp32_allow is
# refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/http_lib.sh"

BOARD="python3 $(dirname "$0")/fake_esp32.py"
mkdir "$T/jpg"
ffmpeg -v error -f lavfi -i testsrc=size=800x600:rate=10 -frames:v 20 -q:v 5 "$T/jpg/%03d.jpg" ||
	fail "cannot make the frames"
EP=$(free_port)
HP=$(free_port)
WS=ws://127.0.0.1:$EP/ws
H=http://127.0.0.1:$HP
write_config() {   # extra [camfs] lines
	{
		printf '[camfs]\nstore = %s\nsegment_seconds = 4\nstall_seconds = 3\n' "$T/store"
		printf 'esp32_listen = 127.0.0.1:%s\nevent_pre_roll = 2\nevent_post_roll = 2\n' "$EP"
		printf '%s\n' "$@"
		printf '[camera garage]\npush = esp32\nesp32_host = garage-cam\n'
		printf '[camera bench]\npush = esp32\nesp32_host = bench-cam\n'
		# lobby takes unknown boards, so it exists only with esp32_accept_unknown.
		case "$*" in *esp32_accept_unknown*) printf '[camera lobby]\npush = esp32\n' ;; esac
	} >"$T/camfs.conf"
}
board() {   # NAME ARGS...: a fake board in the background, stderr in $T/NAME.err
	local name=$1; shift
	$BOARD --url "$WS" --jpegs "$T/jpg" "$@" 2>"$T/$name.err" &
	PIDS+=($!)
	eval "${name}_PID=$!"
}
closed_with() {   # NAME REGEX: the board was closed with a reason matching
	grep -Eq "^closed [0-9]+ .*($2)" "$T/$1.err"
}

write_config esp32_accept_unknown=lobby
M=$T/mnt
mount_camfs "$M" -o config="$T/camfs.conf" -o http=127.0.0.1:$HP
wait_until 10 grep -q "boards connect to $WS" "$T/camfs.log" || fail "the listener did not start"
[ "$(jq -r .online "$M/garage/status.json")" = false ] || fail "garage online without a board"

# A board 5 s ahead of us, so its clock shows in the times.
launched=$(date +%s)
board good --host-name garage-cam --clock-offset 5 --seconds 40 --motion-at 6 \
	--setting-at 4:framesize=7 --commands-out "$T/commands"
wait_until 15 grep -q '\[garage\] online: mjpeg 800x600' "$T/camfs.log" || fail "garage did not come online"
wait_until 10 grep -q '\[garage\] board 127.0.0.1 garage-cam connected' "$T/camfs.log" ||
	fail "the board's connection was not logged"
[ "$(timeout 10 ffprobe -v error -select_streams v:0 -show_entries stream=codec_name,width -of csv=p=0 "$M/garage/live.mp4")" = mjpeg,800 ] ||
	fail "garage/live.mp4 does not probe as mjpeg 800 wide"
wait_until 10 test -s "$M/garage/live.jpg" || fail "no live.jpg"
file "$M/garage/live.jpg" | grep -q 'JPEG image data.*800x600' || fail "live.jpg: $(file "$M/garage/live.jpg")"
ok "a board with hostName garage-cam records as camera garage (mjpeg 800x600): live.mp4 and live.jpg"

# Commands: sent byte-exact; the board's buffer and one-at-a-time respected.
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
[ "$(code --data-binary 'fps=5' "$H/cams/garage/command")" = 202 ] || fail "fps=5 was not sent"
wait_until 5 grep -qsx 'fps=5' "$T/commands" || fail "the board did not get fps=5: $(cat "$T/commands" 2>/dev/null)"
long=$(head -c 128 /dev/zero | tr '\0' a)
[ "$(code --data-binary "$long" "$H/cams/garage/command")" = 413 ] || fail "128 bytes were not refused"
[ "$(code --data-binary 'reset' "$H/cams/garage/command")" = 400 ] || fail "reset without confirm"
[ "$(code --data-binary 'a b' "$H/cams/garage/command")" = 400 ] || fail "'a b' is not a command"
[ "$(code -H 'Origin: http://evil.example' --data-binary 'fps=1' "$H/cams/garage/command")" = 403 ] ||
	fail "a command from another site was taken"
[ "$(code --data-binary 'fps=5' "$H/cams/bench/command")" = 503 ] || fail "bench has no board: not 503"
[ "$(code --data-binary 'fps=5' "$H/cams/nope/command")" = 404 ] || fail "no camera nope: not 404"
[ "$(code --data-binary 'status' "$H/cams/garage/command")" = 202 ] || fail "status was not sent"
wait_until 5 grep -qsx 'status' "$T/commands" || fail "the board did not get status"
[ "$(wc -l <"$T/commands")" = 2 ] || fail "the board got more than it was sent: $(cat "$T/commands")"
ok "commands: fps=5 and status arrive byte-exact; 128 bytes 413, unconfirmed reset 400, other site 403, no board 503"

# A second board claiming garage-cam is closed; the first records on.
board twin --host-name garage-cam --seconds 5
wait_until 10 closed_with twin 'hostName garage-cam is connected already' || fail "the twin: $(cat "$T/twin.err")"
grep -q 'board 127.0.0.1 garage-cam: closed: hostName garage-cam is connected already' "$T/camfs.log" ||
	fail "the twin was not logged"

# Bad boards on bench, one at a time, while garage records.
board notjpeg --host-name bench-cam --seconds 5 --bad notjpeg
wait_until 10 closed_with notjpeg 'not a JPEG' || fail "not a JPEG: $(cat "$T/notjpeg.err")"
board garbage --host-name bench-cam --seconds 5 --bad garbage
wait_until 10 closed_with garbage 'not the ESP32 protocol' || fail "garbage: $(cat "$T/garbage.err")"
board huge --host-name bench-cam --seconds 10 --bad huge
wait_until 15 closed_with huge 'a message over' || fail "8 MiB: $(cat "$T/huge.err")"
board stall --host-name bench-cam --seconds 30 --bad stall
board slow --host-name other-cam --seconds 30 --bad slowloris
t0=$SECONDS
wait_until 20 closed_with stall 'no complete message for 10 s' || fail "stall: $(cat "$T/stall.err")"
wait_until 20 closed_with slow 'no complete message|unknown hostName' || fail "slowloris: $(cat "$T/slow.err")"
took=$((SECONDS - t0))
ok "a twin hostName, a non-JPEG frame, garbage text, an 8 MiB message, a stalled and a slow sender: each closed with a reason (stall after ${took} s)"

board nots --host-name bench-cam --seconds 6 --bad nots
wait_until 15 grep -q '\[bench\] online: mjpeg' "$T/camfs.log" || fail "bench did not record frames without a time"
wait_until 10 grep -q 'board 127.0.0.1 sends frames without its time; using arrival times' "$T/camfs.log" ||
	fail "frames without a time were not logged"
wait "$nots_PID" || fail "the board without times was closed: $(cat "$T/nots.err")"
board wild --host-name bench-cam --seconds 5 --bad wildts
wait_until 10 grep -Eq "board 127.0.0.1's clock is -[0-9]+ s off ours; using arrival times" "$T/camfs.log" ||
	fail "a wild board time was not logged"
ok "frames without a time, or with a wild one, are recorded at their arrival (logged)"

# A board that never says who it is goes to esp32_accept_unknown's camera.
board anon --no-status --seconds 8
wait_until 15 grep -q '\[lobby\] board 127.0.0.1 connected without a hostName' "$T/camfs.log" ||
	fail "the unnamed board did not go to lobby"
wait_until 15 grep -q '\[lobby\] online: mjpeg' "$T/camfs.log" || fail "lobby did not record"
ok "a board without a hostName records as lobby (esp32_accept_unknown)"

# garage recorded through all of it.
[ "$(jq -r .online "$M/garage/status.json")" = true ] || fail "garage went offline: $(cat "$M/garage/status.json")"
board_json=$(jq -c .board "$M/garage/status.json")
[ "$(jq -r .board.hostName "$M/garage/status.json")" = garage-cam ] || fail "board: $board_json"
[ "$(jq -r .board.camModel "$M/garage/status.json")" = OV2640 ] || fail "board: $board_json"
[ "$(jq -r .board.connected "$M/garage/status.json")" = true ] || fail "board: $board_json"
offset=$(jq -r .board.clock_offset_s "$M/garage/status.json")
(( $(echo "$offset > 3.5 && $offset < 5.5" | bc -l) )) || fail "clock_offset_s $offset, the board runs 5 s ahead"
grep -q '\[garage\] offline' "$T/camfs.log" && fail "garage went offline: $(grep '\[garage\]' "$T/camfs.log")"
ok "garage stayed online; status.json's board: hostName, camModel, connected, clock 5 s ahead ($offset)"

# The board's MotionStart is a camera event with its frame as snapshot.
ev=$(find "$M/garage/events" -name '*-camera.jpg' | head -1)
[ -n "$ev" ] || fail "no camera event: $(ls -R "$M/garage/events" 2>&1)"
file "$ev" | grep -q 'JPEG image data.*800x600' || fail "the event's snapshot: $(file "$ev")"
wait "$good_PID" 2>/dev/null || true
clip=${ev%.jpg}.mp4
cdur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$clip") || fail "no event clip $clip"
(( $(echo "$cdur > 3 && $cdur < 5" | bc -l) )) || fail "the event clip lasts $cdur s (pre 2 + post 2)"
ok "MotionStart: camera event $(basename "$ev") with an 800x600 snapshot and a clip of $cdur s"

# Settings (framesize=7 after the status said 9) are kept... unless the
# status command's full status came later; both are the board's word.
fs=$(jq -r .board.framesize "$M/garage/status.json")
grep -q "framesize=7" "$T/camfs.log" || [ "$fs" = 7 ] || [ "$fs" = 9 ] || fail "framesize: $fs"

wait_until 10 grep -q '\[garage\] board 127.0.0.1 disconnected' "$T/camfs.log" || fail "the end was not logged"
# Segments play as MJPEG and are timed by the board's clock: the first
# segment's name is no earlier than the board's first frame.
wait_until 10 test "$(count_segments "$T/store" garage)" -ge 5 || fail "garage: $(count_segments "$T/store" garage) segments"
n=0
for seg in $(segments "$T/store" garage); do
	plays "$seg" || fail "$seg does not play"
	[ "$(codec_of "$seg" v:0)" = mjpeg ] || fail "$seg: $(codec_of "$seg" v:0)"
	n=$((n + 1))
done
frames=$(for seg in $(segments "$T/store" garage); do
	ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$seg"
done | paste -sd+ | bc)
(( frames > 250 && frames < 450 )) || fail "garage recorded $frames frames of ~400 pushed"
seg=$(segments "$T/store" garage | sed -n 2p)
timeout 30 mpv --no-config --vo=null --ao=null --untimed "$seg" >"$T/mpv.out" 2>&1 ||
	fail "mpv: $(tail -c 300 "$T/mpv.out")"
grep -q 'Exiting... (End of file)' "$T/mpv.out" || fail "mpv did not play $seg to its end"
first=$(segments "$T/store" garage | head -1)
hms=$(basename "$first" .mp4)
at=$(date -d "$(basename "$(dirname "$first")") ${hms//-/:}" +%s)
(( at - launched >= 4 && at - launched <= 8 )) ||
	fail "the first segment starts $((at - launched)) s after the board started; its clock is 5 s ahead"
ok "garage: $n segments, $frames frames, all play as MJPEG (ffmpeg; mpv to the end); the first starts at the board's time ($((at - launched)) s after launch, clock +5 s)"

# A board that drops its connection and comes back goes on as garage.
board again --host-name garage-cam --seconds 14 --drop-after 4 --reconnect
wait_until 20 grep -q '\[garage\] online again' "$T/camfs.log" || fail "garage did not come back"
before=$(grep -c '\[garage\] board 127.0.0.1 garage-cam connected' "$T/camfs.log")
wait_until 20 test "$(grep -c '\[garage\] board 127.0.0.1 garage-cam connected' "$T/camfs.log")" -ge 2 ||
	fail "the board did not reconnect: $(cat "$T/again.err")"
wait "$again_PID" || fail "the reconnecting board: $(cat "$T/again.err")"
ls "$T/store" | grep -vx -e garage -e bench -e lobby | grep -q . && fail "a folder not of a camera: $(ls "$T/store")"
for seg in $(segments "$T/store" garage | tail -2); do plays "$seg" || fail "$seg does not play"; done
ok "a board that reconnects records on in garage's folder"
unmount_camfs "$M"

# Without esp32_accept_unknown, an unnamed or unknown board is kept out;
# outside esp32_allow nobody gets in.
write_config 'esp32_allow = 10.0.0.0/8'
mount_camfs "$M" -o config="$T/camfs.conf"
board refused --host-name garage-cam --seconds 3
wait "$refused_PID" && fail "a board outside esp32_allow was let in"
grep -q 'refused a connection from 127.0.0.1: not in esp32_allow' "$T/camfs.log" || fail "the refusal was not logged"
unmount_camfs "$M"
write_config
mount_camfs "$M" -o config="$T/camfs.conf"
board stranger --host-name stranger-cam --seconds 3
board stranger2 --host-name stranger-cam --seconds 3
board nameless --no-status --seconds 3
wait_until 10 closed_with stranger 'unknown hostName' || fail "stranger: $(cat "$T/stranger.err")"
wait_until 10 closed_with nameless 'no hostName' || fail "nameless: $(cat "$T/nameless.err")"
wait "$stranger2_PID" 2>/dev/null || true
[ "$(grep -c 'board stranger-cam from 127.0.0.1: no camera has esp32_host = stranger-cam' "$T/camfs.log")" = 1 ] ||
	fail "the unknown board was not logged once"
grep -q 'sends frames but no hostName' "$T/camfs.log" || fail "the nameless board was not logged"
[ -z "$(ls "$T/store" | grep -v -x -e garage -e bench -e lobby)" ] || fail "an unknown board got a folder"
ok "outside esp32_allow refused; an unknown hostName and a nameless board kept out, logged once"
unmount_camfs "$M"
check_log 'offline|closed: |kept out|using arrival times|not in esp32_allow'
