#!/bin/bash
# http.sh - the HTTP export with real clients: curl for the viewer, every
# error code and the limits; ffprobe, ffmpeg and mpv on live.mp4 over
# HTTP/1.1 and over TLS with h2; live.mjpeg and the event feed; a client that
# goes away mid-stream and one that stops reading harm nobody; SIGHUP reads
# a new certificate.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/http_lib.sh"

ensure_clips
start_fixture cam --gop 30 --mount /a=h264 --mount /b=clip:"$CLIPS_DIR/bench-1080p.mp4"
camfs_config -- a=rtsp://127.0.0.1:$cam_PORT/a b=rtsp://127.0.0.1:$cam_PORT/b
mkdir -p "$T/web/js"
printf '<!doctype html><title>camfs</title>\n' >"$T/web/index.html"
printf 'console.log(1);\n' >"$T/web/js/app.js"
printf 'hidden\n' >"$T/web/.secret"
make_ca "$T/tls" server
P=$(free_port)
H=http://127.0.0.1:$P
M=$T/mnt
mount_camfs "$M" -o config="$T/camfs.conf" -o http=127.0.0.1:$P -o http_webview="$T/web" \
	-o http_rate=0 -o http_stall_seconds=5
wait_until 20 grep -q '\[b\] online' "$T/camfs.log" || fail "cameras did not come online"
wait_http "$H/"
sleep 2   # a GOP in the cache

# The viewer: files with their types, validators and 304s.
[ "$(curl -s "$H/")" = "<!doctype html><title>camfs</title>" ] || fail "GET / is not the viewer"
curl -sI "$H/js/app.js" >"$T/h" || fail "HEAD app.js"
grep -qi '^content-type: text/javascript' "$T/h" || fail "app.js type: $(cat "$T/h")"
grep -qi '^content-length: 16' "$T/h" || fail "HEAD app.js length"
grep -qi '^x-content-type-options: nosniff' "$T/h" || fail "no nosniff"
etag=$(sed -n 's/^etag: *//Ip' "$T/h" | tr -d '\r')
[[ $etag == \"*\" ]] || fail "ETag not quoted: $etag"
expect_code 304 "$H/js/app.js" -H "If-None-Match: $etag"
lm=$(sed -n 's/^last-modified: *//Ip' "$T/h" | tr -d '\r')
expect_code 304 "$H/js/app.js" -H "If-Modified-Since: $lm"
expect_code 200 "$H/js/app.js" -H 'If-None-Match: "other"'
ok "viewer: GET, HEAD, types, quoted ETag, 304 by ETag and by date"

# Every refusal, with the path checked before anything is looked up.
expect_code 404 "$H/.secret"
expect_code 404 "$H/nothing.html"
expect_code 404 "$H/cams/nocam/live.mp4"
expect_code 400 "$H/cams/%c0%ae%c0%ae/x"          # overlong "..": never a name
expect_code 400 "$H/cams/a%01b"
expect_code 400 "$H/cams/a%5Cb"                   # a backslash
expect_code 414 "$H/$(head -c 1100 /dev/zero | tr '\0' a)"
expect_code 405 "$H/cams/" -X POST
expect_code 405 "$H/cams/" -X DELETE
expect_code 403 "$H/cams/" -X POST -H 'Origin: http://evil.example'
expect_code 426 "$H/ws/live"
# lws folds "..", "." and "//" before camfs sees the path; what is left can
# never climb out of the viewer's folder or the tree.
[ "$(code "$H/../../../etc/passwd" --path-as-is)" = 404 ] || fail "../etc/passwd"
[ "$(code "$H/js/%2e%2e/%2e%2e/%2e%2e/etc/passwd" --path-as-is)" = 404 ] || fail "encoded .."
# A request whose headers exceed the limit is refused, the server goes on.
got=$(code "$H/" -H "X-Big: $(head -c 9000 /dev/zero | tr '\0' a)")
[ "$got" != 200 ] || fail "9000 bytes of header accepted"
expect_code 200 "$H/"
ok "refusals: 400, 404, 405, 403 (origin), 414, 426, oversized headers"

# live.mp4 over HTTP/1.1 with the usual players.
got=$(timeout 20 ffprobe -v error -select_streams v:0 -show_entries stream=codec_name,width,height \
	-of csv=p=0 "$H/cams/a/live.mp4") || fail "ffprobe live.mp4 over http"
[ "$got" = "h264,640,360" ] || fail "ffprobe: $got"
timeout 30 mpv --no-config --vo=null --ao=null --frames=30 "$H/cams/a/live.mp4" >"$T/mpv.out" 2>&1 ||
	fail "mpv over http: $(tail -3 "$T/mpv.out")"
timeout 30 ffmpeg -v error -nostdin -i "$H/cams/a/live.mp4" -c copy -t 5 -y "$T/a.mp4" ||
	fail "ffmpeg -c copy over http"
plays "$T/a.mp4" || fail "the copy of live.mp4 does not play"
read -r _ _ frames < <(video_span "$T/a.mp4")
[ "$frames" -ge 60 ] || fail "ffmpeg -t 5 over http got $frames frames"
# HTTP/1.1 gets the endless body in chunks; HTTP/1.0, which has none,
# gets it ended by closing.
curl -s -D "$T/h11" -o /dev/null --max-time 1 "$H/cams/a/live.mp4" || true
grep -qi '^transfer-encoding: chunked' "$T/h11" && ! grep -qi '^connection: close' "$T/h11" ||
	fail "live.mp4 over HTTP/1.1 is not chunked: $(cat "$T/h11")"
curl -s -0 -D "$T/h10" -o /dev/null --max-time 1 "$H/cams/a/live.mp4" || true
! grep -qi '^transfer-encoding' "$T/h10" && grep -qi '^connection: close' "$T/h10" ||
	fail "live.mp4 over HTTP/1.0: $(cat "$T/h10")"
curl -sI "$H/cams/a/live.mp4" >"$T/h"
grep -qi '^content-type: video/mp4' "$T/h" && grep -qi '^cache-control: no-store' "$T/h" ||
	fail "HEAD live.mp4: $(cat "$T/h")"
ok "live.mp4 over HTTP/1.1: ffprobe, mpv, ffmpeg -c copy -t 5 ($frames frames), chunked (HTTP/1.0: closed), HEAD"

# Time to first byte: from the GOP cache at once (each curl is cut after
# 1 s: the body never ends).
best=9
for i in 1 2 3 4 5; do
	t=$(curl -s -o /dev/null --max-time 1 -w '%{time_starttransfer}' "$H/cams/a/live.mp4" || true)
	t=${t:-9}
	best=$(echo "if ($t < $best) $t else $best" | bc)
done
(( $(echo "$best < 0.05" | bc) )) || fail "first byte of live.mp4 after ${best}s"
ok "live.mp4 first byte after ${best}s"

# A client that vanishes mid-stream, and one that stops reading (SIGSTOP):
# the others go on at full rate, and the stalled one is closed in the end.
for i in 1 2 3; do
	timeout 2 curl -s -o /dev/null "$H/cams/a/live.mp4" || true
done
# The frozen client asks, then never reads; at b's 4 Mbit/s the buffers
# fill in a second.
python3 -c '
import os, signal, socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /cams/b/live.mp4 HTTP/1.1\r\nHost: x\r\n\r\n")
os.kill(os.getpid(), signal.SIGSTOP)' "$P" &
slow=$!
PIDS+=($slow)
timeout 30 ffmpeg -v error -nostdin -i "$H/cams/b/live.mp4" -c copy -t 5 -y "$T/b.mp4" ||
	fail "live.mp4 with a stopped client beside it"
read -r _ _ frames < <(video_span "$T/b.mp4")
[ "$frames" -ge 60 ] || fail "with a stopped client beside it: $frames frames in 5 s"
wait_until 20 grep -q 'not reading for 5 s: closed' "$T/camfs.log" ||
	fail "the stopped client was not closed after http_stall_seconds"
kill -CONT $slow 2>/dev/null || true
ok "disconnects mid-stream, a stopped client is closed and slows nobody ($frames frames)"

# live.mjpeg: multipart JPEGs at the asked rate at most.
timeout 5 curl -s "$H/cams/a/live.mjpeg?fps=1" -o "$T/m.bin" || true
n=$(grep -c 'Content-Type: image/jpeg' "$T/m.bin" || true)
[ "$n" -ge 1 ] && [ "$n" -le 6 ] || fail "live.mjpeg?fps=1 gave $n pictures in 5 s"
python3 "$(dirname "$0")/mjpeg_parts.py" "$T/m.bin" >"$T/parts" ||
	fail "live.mjpeg parts are not JPEGs: $(cat "$T/parts")"
ok "live.mjpeg?fps=1: $n JPEGs in 5 s"

# The event feed: the state of every camera first, then changes.
timeout 3 curl -sN "$H/events" >"$T/events" || true
grep -q '^event: status' "$T/events" || fail "no status event: $(cat "$T/events")"
grep -q '"camera":"a","online":true' "$T/events" || fail "camera a not online in the feed"
grep -q '"camera":"b"' "$T/events" || fail "camera b missing from the feed"
ok "/events: the state of each camera"

# Peers that close, or send more, while an endless answer goes on: lws 4.1
# does not read such a connection and its poll spun the server thread at
# 100 % of a core until the answer's next write failed (15 s on /events) or
# for ever; camfs closes them at once and the thread idles.
http_ticks() {   # CPU ticks of camfs's HTTP thread so far
	local t
	for t in /proc/$CAMFS_PID/task/*; do
		if [ "$(cat "$t/comm")" = camfs-http ]; then awk '{ print $14 + $15 }' "$t/stat"; fi
	done
}
curl -sN "$H/events" >/dev/null &
sleep 1
kill -9 $!
wait $! 2>/dev/null || true
python3 -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /cams/a/live.mp4 HTTP/1.1\r\nHost: x\r\n\r\n")
time.sleep(0.5)
s.sendall(b"X")
s.settimeout(10)
end = time.time() + 10
try:
    while s.recv(65536):
        if time.time() > end:
            sys.exit(1)
except ConnectionResetError:
    pass' "$P" || fail "a live.mp4 client that sent more was not closed within 10 s"
before=$(http_ticks)
sleep 3
spun=$(( $(http_ticks) - before ))
[ "$spun" -lt $(( $(getconf CLK_TCK) * 3 / 4 )) ] ||
	fail "the HTTP thread ran $spun ticks in 3 s after peers closed or sent more during an answer"
[ "$(grep -c 'closed, or sent more, during an answer' "$T/camfs.log")" -ge 2 ] ||
	fail "camfs did not close both: $(grep 'during an answer' "$T/camfs.log")"
ok "peers that close or send more during an answer are closed at once; the HTTP thread then ran $spun ticks in 3 s"

# Limits: a connection that sends nothing, headers a byte at a time
# (slowloris) or nothing after a request is closed; past http_max_clients
# a clear 503; rate past http_rate a 429.
unmount_camfs "$M"
: >"$T/camfs.log"
mount_camfs "$M" -o config="$T/camfs.conf" -o http=127.0.0.1:$P -o http_webview="$T/web" \
	-o http_max_clients=2 -o http_rate=5 -o http_header_seconds=3 -o http_idle_seconds=4
wait_http "$H/"
pids=()
for mode in silent slow idle; do
	python3 "$(dirname "$0")/idle_client.py" "$P" $mode >"$T/$mode" & pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || fail "a connection held open was never closed"; done
closed_within() {   # closed_within MODE LOW HIGH
	awk -v t="$(cat "$T/$1")" -v lo="$2" -v hi="$3" 'BEGIN { exit !(t >= lo && t <= hi) }' ||
		fail "$1 connection closed after $(cat "$T/$1") s, not within $2..$3"
}
closed_within silent 2.5 5
closed_within slow 2.5 5
closed_within idle 3.5 6.5
ok "closed: silent after $(cat "$T/silent") s, slowloris after $(cat "$T/slow") s (http_header_seconds=3), idle after $(cat "$T/idle") s (http_idle_seconds=4)"
pids=()
for i in 1 2 3; do
	curl -s -o /dev/null --max-time 8 "$H/cams/a/live.mp4" & pids+=($!)
done
sleep 1
got=$(curl -s -D - -o /dev/null "$H/" | tr -d '\r')
grep -q '^HTTP/1.1 503' <<<"$got" || fail "past http_max_clients: $got"
grep -qi '^retry-after:' <<<"$got" || fail "503 without Retry-After"
kill "${pids[@]}" 2>/dev/null || true
wait "${pids[@]}" 2>/dev/null || true
# The readers' slots come free once the server sees them gone (slower under
# sanitizers); until then everything gets 503 and the rate is never reached.
slots_free() { [ "$(curl -s -o /dev/null -w '%{http_code}' "$H/")" = 200 ]; }
wait_until 20 slots_free || fail "the live readers' slots did not come free"
sleep 1   # the rate's window starts afresh
# Two at a time (http_max_clients): one after another, a loaded machine may
# take longer than the burst lasts and never pass the rate.
codes=$(seq 40 | xargs -P 2 -I{} curl -s -o /dev/null -w '%{http_code}\n' "$H/?{}" | sort | uniq -c)
grep -q ' 429$' <<<"$codes" || fail "40 requests at once at http_rate=5: $codes"
ok "limits: 503 past http_max_clients, 429 past http_rate"

# TLS: h2 by ALPN, the test CA's certificate; SIGHUP reads a new one.
unmount_camfs "$M"
: >"$T/camfs.log"
S=https://127.0.0.1:$P
mount_camfs "$M" -o config="$T/camfs.conf" -o http=127.0.0.1:$P -o http_webview="$T/web" \
	-o http_tls_cert="$T/tls/server.pem" -o http_tls_key="$T/tls/server.key"
wait_http "$S/" --cacert "$T/tls/ca.pem"
wait_until 20 grep -q '\[a\] online' "$T/camfs.log" || fail "camera a did not come online"
sleep 2
[ "$(curl -s --cacert "$T/tls/ca.pem" -o /dev/null -w '%{http_version}' "$S/")" = 2 ] ||
	fail "no h2 over TLS"
expect_code 000 "$H/"   # plain HTTP on the TLS port is not served
timeout 30 ffmpeg -v error -nostdin -tls_verify 1 -ca_file "$T/tls/ca.pem" -i "$S/cams/a/live.mp4" \
	-c copy -t 3 -y "$T/tls.mp4" || fail "ffmpeg over https"
plays "$T/tls.mp4" || fail "live.mp4 over https does not play"
# HTTP/1.1 over TLS at b's 4 Mbit/s: a frame (~20 KiB) is one chunk of up
# to 32 KiB, two TLS records sent corked; the raw chunks must frame and play.
timeout 3 curl -s --raw --http1.1 --cacert "$T/tls/ca.pem" "$S/cams/b/live.mp4" -o "$T/tls-b.raw" || true
big=$(python3 -c '
import sys
raw, out, big = open(sys.argv[1], "rb").read(), open(sys.argv[2], "wb"), 0
while True:
    eol = raw.find(b"\r\n")
    if eol < 0:
        break
    n = int(raw[:eol], 16)
    if len(raw) < eol + 2 + n + 2:
        break   # cut by the timeout
    if raw[eol + 2 + n:eol + 4 + n] != b"\r\n":
        sys.exit("chunk framing broken")
    out.write(raw[eol + 2:eol + 2 + n])
    big += n > 16384
    raw = raw[eol + 4 + n:]
print(big)' "$T/tls-b.raw" "$T/tls-b.mp4") || fail "HTTP/1.1 TLS live.mp4: $big"
[ "$big" -gt 0 ] || fail "HTTP/1.1 TLS live.mp4 of a 4 Mbit/s camera: no chunk over 16 KiB"
plays "$T/tls-b.mp4" || fail "HTTP/1.1 TLS live.mp4 of a 4 Mbit/s camera does not play"
read -r _ _ frames < <(video_span "$T/tls-b.mp4")
[ "$frames" -ge 25 ] || fail "HTTP/1.1 TLS live.mp4: $frames frames in 3 s"
# Six endless h2 streams on one connection, each at full rate.
h2load -n 6 -c 1 -m 6 -D 4 "$S/cams/a/live.mp4" >"$T/h2load" 2>&1 || true
grep -q 'status codes: 6 2xx' "$T/h2load" || fail "h2load: $(grep -E 'status|requests' "$T/h2load")"
bytes=$(sed -n 's/^traffic: .*(\([0-9]*\)) data$/\1/p' "$T/h2load")
single=$(stat -c %s "$T/tls.mp4")
(( bytes > single * 6 / 2 )) || fail "6 h2 streams for 4 s carried $bytes bytes (one for 3 s: $single)"
ok "TLS: h2, ffmpeg over https, HTTP/1.1 live in chunks up to 32 KiB ($big over 16 KiB, $frames frames), 6 endless h2 streams on one connection ($bytes bytes)"

# Suites: the server's order wins (AES-128-GCM over the AES-256-GCM a client
# asks first) but for a client asking ChaCha20 first; TLS 1.2 without AEAD
# (CBC) is refused.
suite() {   # suite OPTIONS...: the suite s_client gets, or nothing
	openssl s_client -connect 127.0.0.1:$P -CAfile "$T/tls/ca.pem" "$@" </dev/null 2>/dev/null |
		sed -n 's/^New, .*Cipher is //p' || true   # s_client fails on a refusal
}
got=$(suite -ciphersuites TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256)
[ "$got" = TLS_AES_128_GCM_SHA256 ] || fail "TLS 1.3 suite: '$got'"
got=$(suite -ciphersuites TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384)
[ "$got" = TLS_CHACHA20_POLY1305_SHA256 ] || fail "TLS 1.3 suite for a client asking ChaCha20 first: '$got'"
got=$(suite -tls1_2 -cipher ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256)
case $got in *AES128-GCM-SHA256) ;; *) fail "TLS 1.2 suite: '$got'" ;; esac
for weak in ECDHE-ECDSA-AES128-SHA ECDHE-ECDSA-AES128-SHA256; do
	got=$(suite -tls1_2 -cipher $weak)
	[ -z "$got" ] || [ "$got" = "(NONE)" ] || fail "TLS 1.2 $weak accepted"
done
ok "TLS suites: the server's order (AES-128-GCM; ChaCha20 for a client asking it first), no TLS 1.2 CBC"

serial() {
	openssl s_client -connect 127.0.0.1:$P -CAfile "$T/tls/ca.pem" -verify_return_error \
		</dev/null 2>/dev/null | openssl x509 -noout -serial
}
old=$(serial) || fail "openssl s_client did not verify the certificate"
make_ca "$T/tls" server2
cp "$T/tls/server2.pem" "$T/tls/server.pem"
cp "$T/tls/server2.key" "$T/tls/server.key"
kill -HUP "$CAMFS_PID"
wait_until 10 grep -q 'SIGHUP: TLS certificate' "$T/camfs.log" || fail "no reload on SIGHUP"
new=$(serial) || fail "openssl s_client after the reload"
[ "$old" != "$new" ] || fail "SIGHUP: still the old certificate ($old)"
# A broken certificate on SIGHUP: the old one stays, camfs says so.
echo junk >"$T/tls/server.pem"
kill -HUP "$CAMFS_PID"
wait_until 10 grep -q 'not a usable certificate' "$T/camfs.log" || fail "a broken certificate was taken"
[ "$(serial)" = "$new" ] || fail "the certificate changed to a broken one"
expect_code 200 "$S/" --cacert "$T/tls/ca.pem"
ok "SIGHUP: a new certificate is served (s_client), a broken one refused"

unmount_camfs "$M"
check_log 'not a usable certificate'
