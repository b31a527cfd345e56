#!/bin/bash
# http_ws.sh - /ws/live: two cameras on one WebSocket, each binary message a
# whole init segment or fragment tagged with its camera, each camera's
# messages a playable stream; other sites' pages and oversized messages are
# refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/http_lib.sh"

WS=$(dirname "$0")/ws_live.py
start_fixture cam --gop 30 --mount /a=h264 --mount /b=h264
camfs_config -- a=rtsp://127.0.0.1:$cam_PORT/a b=rtsp://127.0.0.1:$cam_PORT/b
P=$(free_port)
M=$T/mnt
mount_camfs "$M" -o config="$T/camfs.conf" -o http=127.0.0.1:$P
wait_until 20 grep -q '\[b\] online' "$T/camfs.log" || fail "cameras did not come online"
wait_http "http://127.0.0.1:$P/"
sleep 2

timeout 30 /usr/bin/python3 "$WS" "ws://127.0.0.1:$P/ws/live" 8 "$T" a b >"$T/ws.out" 2>&1 ||
	fail "ws_live.py: $(tail -5 "$T/ws.out")"
for c in a b; do
	plays "$T/$c.mp4" || fail "camera $c's messages do not play"
	read -r _ _ frames < <(video_span "$T/$c.mp4")
	[ "$frames" -ge 90 ] || fail "camera $c: $frames frames in 8 s (15 fps)"
done
ok "two cameras on one WebSocket: $(tr '\n' ';' <"$T/ws.out")"

/usr/bin/python3 "$WS" --expect-refused "ws://127.0.0.1:$P/ws/live" "Origin=http://evil.example" \
	>"$T/r.out" 2>&1 || fail "a WebSocket from another site's page was accepted"
/usr/bin/python3 "$WS" --expect-refused "ws://127.0.0.1:$P/ws/other" >"$T/r.out" 2>&1 ||
	fail "a WebSocket at another path was accepted"
/usr/bin/python3 - "ws://127.0.0.1:$P/ws/live" <<'PY' || fail "an oversized control message was not refused"
import asyncio, sys, websockets
async def main():
    async with websockets.connect(sys.argv[1], origin=sys.argv[1].replace('ws:', 'http:').rsplit('/', 2)[0]) as ws:
        await ws.send('x' * 5000)
        try:
            await asyncio.wait_for(ws.recv(), 5)
        except websockets.exceptions.ConnectionClosed:
            return
    raise SystemExit('still open')
asyncio.run(main())
PY
ok "refused: another site's origin, another path, a 5000-byte control message"

unmount_camfs "$M"
check_log
