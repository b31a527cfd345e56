#!/bin/bash
# http_auth.sh - users of the HTTP export: 401 without a login, 200 with a
# bcrypt or a SHA-512 user, a wrong password logged without the password, a
# session cookie after one login (for WebSockets too), and no Basic login
# over plain HTTP from another machine. Runs in its own network namespace,
# where 192.0.2.1 on lo plays that other machine's address.
if [ -z "${CAMFS_IN_NETNS:-}" ]; then
	command -v unshare >/dev/null || { echo "SKIP: no unshare"; exit 77; }
	exec unshare -n env CAMFS_IN_NETNS=1 bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/http_lib.sh"

ip link set lo up
ip addr add 192.0.2.1/32 dev lo
WS=$(dirname "$0")/ws_live.py

# bcrypt and SHA-512 crypt, as htpasswd -B and openssl passwd -6 make them.
hash_bcrypt() { /usr/bin/python3 -c 'import crypt, sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))' "$1" 2>/dev/null; }
{
	echo "# camfs users"
	echo "alice:$(hash_bcrypt 'alice secret')"
	echo "bob:$(openssl passwd -6 'bob-pw')"
} >"$T/users"
grep -q '^alice:\$2b\$' "$T/users" || fail "no bcrypt hash: $(cat "$T/users")"

start_fixture cam --gop 30 --mount /a=h264
camfs_config -- a=rtsp://127.0.0.1:$cam_PORT/a
mkdir -p "$T/web"
echo viewer >"$T/web/index.html"
P=$(free_port)
M=$T/mnt
mount_camfs "$M" -o config="$T/camfs.conf" -o http=0.0.0.0:$P -o http_users="$T/users" \
	-o http_webview="$T/web" -o http_rate=0
wait_until 20 grep -q '\[a\] online' "$T/camfs.log" || fail "camera did not come online"
L=http://127.0.0.1:$P
R=http://192.0.2.1:$P
wait_http "$L/"

curl -s -D "$T/h" -o /dev/null "$L/"
grep -q '^HTTP/1.1 401' "$T/h" || fail "no login: $(head -1 "$T/h")"
grep -qi '^www-authenticate: Basic realm="camfs"' "$T/h" || fail "401 without WWW-Authenticate"
expect_code 401 "$L/cams/a/live.mp4" -r 0-0
expect_code 401 "$L/events"
expect_code 200 "$L/" -u 'alice:alice secret'
expect_code 200 "$L/" -u bob:bob-pw
expect_code 401 "$L/" -u 'alice:wrong password 123'
expect_code 401 "$L/" -u 'nobody:alice secret'
wait_until 5 grep -q 'wrong password for user "alice"' "$T/camfs.log" || fail "no log of the wrong password"
grep -q 'unknown user "nobody"' "$T/camfs.log" || fail "no log of the unknown user"
! grep -q 'wrong password 123\|alice secret\|bob-pw' "$T/camfs.log" || fail "a password in the log"
timeout 10 ffprobe -v error -show_entries stream=codec_name -of csv=p=0 \
	"http://bob:bob-pw@127.0.0.1:$P/cams/a/live.mp4" >"$T/probe" || fail "ffprobe with a login"
[ "$(head -1 "$T/probe")" = h264 ] || fail "ffprobe with a login: $(cat "$T/probe")"
ok "401 without a login, 200 with bcrypt and SHA-512 users, wrong ones logged without passwords"

# One login, then the cookie: for requests and for a WebSocket.
curl -s -D "$T/h" -o /dev/null -u bob:bob-pw "$L/"
cookie=$(sed -n 's/^set-cookie: *\(camfs_session=[^;]*\);.*/\1/Ip' "$T/h" | tr -d '\r')
[ -n "$cookie" ] || fail "no session cookie after a login: $(cat "$T/h")"
grep -i '^set-cookie:' "$T/h" | grep -qi 'HttpOnly' || fail "the cookie is not HttpOnly"
expect_code 200 "$L/" -H "Cookie: $cookie"
# Forged: the signature's last digit changed (to 1 where it was 0, else the
# "forgery" is the cookie itself one time in 16).
[ "${cookie: -1}" = 0 ] && forged=${cookie%?}1 || forged=${cookie%?}0
expect_code 401 "$L/" -H "Cookie: $forged"
timeout 20 /usr/bin/python3 - "ws://127.0.0.1:$P/ws/live" "$cookie" <<'PY' || fail "WebSocket with the cookie"
import asyncio, sys, websockets
async def main():
    async with websockets.connect(sys.argv[1], extra_headers=[('Cookie', sys.argv[2])]) as ws:
        await ws.send('{"cameras": ["a"]}')
        msg = await asyncio.wait_for(ws.recv(), 10)
        assert isinstance(msg, bytes) and msg[1:2] == b'a', msg[:8]
asyncio.run(main())
PY
/usr/bin/python3 "$WS" --expect-refused "ws://127.0.0.1:$P/ws/live" >/dev/null 2>&1 ||
	fail "a WebSocket without a login was accepted"
ok "a session cookie after one login, for requests and a WebSocket; a forged one refused"

# From another address over plain HTTP, no password is even looked at.
curl -s -D "$T/h" -o /dev/null -u bob:bob-pw "$R/"
grep -q '^HTTP/1.1 403' "$T/h" || fail "Basic over plain HTTP from 192.0.2.1: $(head -1 "$T/h")"
expect_code 401 "$R/"
expect_code 200 "$R/" -H "Cookie: $cookie"
ok "no Basic login over plain HTTP from another address (403)"

# Over TLS from that address, it works.
unmount_camfs "$M"
make_ca "$T/tls" server
mount_camfs "$M" -o config="$T/camfs.conf" -o http=0.0.0.0:$P -o http_users="$T/users" \
	-o http_webview="$T/web" -o http_tls_cert="$T/tls/server.pem" \
	-o http_tls_key="$T/tls/server.key"
S=https://192.0.2.1:$P
wait_until 20 curl -s -o /dev/null -k "$S/" || fail "no TLS answer"
curl -s -D "$T/h" -o /dev/null --cacert "$T/tls/ca.pem" --resolve "127.0.0.1:$P:192.0.2.1" \
	-u 'alice:alice secret' "https://127.0.0.1:$P/"
grep -q '^HTTP/2 200' "$T/h" || fail "Basic over TLS from 192.0.2.1: $(head -1 "$T/h")"
grep -i '^set-cookie:' "$T/h" | grep -qi 'Secure' || fail "the cookie over TLS is not Secure"
ok "Basic over TLS from another address; the cookie is Secure"

# http_auth = none opens it to anybody, with a warning at each start.
unmount_camfs "$M"
: >"$T/camfs.log"
mount_camfs "$M" -o config="$T/camfs.conf" -o http=0.0.0.0:$P -o http_auth=none \
	-o http_webview="$T/web"
wait_http "$R/"
expect_code 200 "$R/"
grep -q 'http_auth = none: anybody' "$T/camfs.log" || fail "no warning for http_auth = none"
ok "http_auth = none: open, and warned"
wait_until 20 grep -q '\[a\] online' "$T/camfs.log" || fail "camera did not come online"
unmount_camfs "$M"
# Without users or none, camfs does not start on a public address.
if "$CAMFS" --no-mount -o config="$T/camfs.conf" -o http=0.0.0.0:$P >"$T/out" 2>&1; then
	fail "camfs started on 0.0.0.0 without users"
fi
grep -q 'is not loopback: set http_users' "$T/out" || fail "refusal message: $(cat "$T/out")"
ok "0.0.0.0 without users or http_auth = none is refused"
check_log 'http_auth = none'
