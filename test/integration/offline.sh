#!/bin/bash
# offline.sh - a wrong password, a closed port, a host that never answers, a
# camera that answers PLAY and sends no media, and one that answers with a
# server error each mark only their camera offline with a plain reason and
# no credential; the good camera records all along.
. "$(dirname "$0")/lib.sh"

export GOOD_PASS='right-Pa55' BAD_PASS='wrong-Pa55'
start_fixture cam --auth "viewer:$GOOD_PASS" --mount /cam=h264
# A port that accepts TCP and then says nothing, like a hung camera.
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
print(s.getsockname()[1], flush=True)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)
' >"$T/silent.port" &
PIDS+=($!)
wait_until 10 test -s "$T/silent.port" || fail "silent listener did not start"
silent_port=$(cat "$T/silent.port")
# Cameras that answer RTSP, then misbehave.
for m in mute status=503; do
	python3 "$FIXTURE_DIR/rtsp_misbehaving.py" $m >"$T/${m%%=*}.port" &
	PIDS+=($!)
	wait_until 10 grep -q '^ready port=' "$T/${m%%=*}.port" || fail "$m camera did not start"
done
mute_port=$(sed -n 's/^ready port=//p' "$T/mute.port")
broken_port=$(sed -n 's/^ready port=//p' "$T/status.port")
closed_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

cat >"$T/camfs.conf" <<CONF
[camfs]
store = $T/store
segment_seconds = 2
stall_seconds = 2

[camera good]
url = rtsp://viewer:\${GOOD_PASS}@127.0.0.1:$cam_PORT/cam

[camera badpass]
url = rtsp://viewer:\${BAD_PASS}@127.0.0.1:$cam_PORT/cam

[camera closed]
url = rtsp://viewer:\${GOOD_PASS}@127.0.0.1:$closed_port/cam

[camera silent]
url = rtsp://viewer:\${GOOD_PASS}@127.0.0.1:$silent_port/cam

[camera mute]
url = rtsp://viewer:\${GOOD_PASS}@127.0.0.1:$mute_port/cam

[camera broken]
url = rtsp://viewer:\${GOOD_PASS}@127.0.0.1:$broken_port/cam
CONF

start_camfs --no-mount -o config="$T/camfs.conf"
reported() { grep -q "\[$1\] offline: $2" "$T/camfs.log"; }
wait_until 15 reported badpass 'cannot connect: authentication failed' || fail "wrong password not reported"
wait_until 15 reported closed 'cannot connect: connection refused' || fail "closed port not reported"
wait_until 15 reported silent 'cannot connect: no answer in time' || fail "silent host not reported"
wait_until 15 reported mute 'no media in time$' || fail "mute camera not reported: $(grep '\[mute\]' "$T/camfs.log")"
wait_until 15 reported broken 'cannot connect: camera error [(]5xx[)]$' ||
	fail "server error not reported: $(grep '\[broken\]' "$T/camfs.log")"
ok "reasons: $(grep -o '\[[a-z]*\] offline: .*' "$T/camfs.log" | sort -u | tr '\n' ';')"
has_segments() { [ "$(count_segments "$T/store" good)" -ge 3 ]; }
wait_until 30 has_segments || fail "the good camera did not keep recording"
sleep 8   # several reconnect attempts of the bad cameras
stop_camfs

for c in badpass closed silent mute broken; do
	[ "$(grep -c "\[$c\] offline:" "$T/camfs.log")" -eq 1 ] || fail "$c: a repeating error must be logged once"
	[ "$(count_segments "$T/store" $c)" -eq 0 ] || fail "$c recorded something"
done
ok "each repeating error logged once"
grep -qE "$GOOD_PASS|$BAD_PASS" "$T/camfs.log" && fail "a password reached the log"
check_log '\[(badpass|closed|silent|broken)\] offline: cannot connect|\[mute\] offline: no media in time'
while read -r f; do plays "$f" || fail "$f does not decode cleanly"; done < <(segments "$T/store" good)
ok "good camera: $(count_segments "$T/store" good) segments while the others were offline"
