#!/bin/bash
# http_fanout.sh - 220 live.mp4 clients over HTTP/1.1 and 220 h2 streams
# over TLS on one camera: one RTSP session at the camera, every client
# served at the camera's rate, no more camfs threads than with one client.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/http_lib.sh"

N=220
start_fixture cam --gop 30 --mount /a=h264
camfs_config -- a=rtsp://127.0.0.1:$cam_PORT/a
make_ca "$T/tls" server
P=$(free_port)
Q=$(free_port)
M=$T/mnt
mount_camfs "$M" -o config="$T/camfs.conf" -o http=127.0.0.1:$P -o http_rate=0 \
	-o http_max_clients=1000
wait_until 20 grep -q '\[a\] online' "$T/camfs.log" || fail "camera did not come online"
wait_http "http://127.0.0.1:$P/"
sleep 2

threads() { ls "/proc/$CAMFS_PID/task" | wc -l; }
# One client alone for 5 s: the rate each of the many should get, and the
# threads camfs runs with one client.
timeout 10 curl -s -o "$T/one" --max-time 5 "http://127.0.0.1:$P/cams/a/live.mp4" &
sleep 2
alone=$(threads)
wait $! || true
one=$(stat -c %s "$T/one")
[ "$one" -gt 10000 ] || fail "one client got $one bytes in 5 s"

h2load --h1 -n $N -c $N -D 5 "http://127.0.0.1:$P/cams/a/live.mp4" >"$T/h1" 2>&1 &
sleep 3
many=$(threads)
wait $! || true
grep -q "status codes: $N 2xx" "$T/h1" || fail "h2load --h1: $(grep -E 'status|errored' "$T/h1")"
bytes=$(sed -n 's/^traffic: .*(\([0-9]*\)) data$/\1/p' "$T/h1")
(( bytes > N * one * 6 / 10 )) || fail "$N HTTP/1.1 clients got $bytes bytes in 5 s; one alone $one"
# No thread per client: the same threads serve one client and N.
(( many <= alone )) || fail "camfs ran $alone threads with one client and $many with $N"
ok "$N HTTP/1.1 clients: $bytes bytes in 5 s ($(( bytes / N )) each; one alone $one), $many threads (with one client $alone)"

[ "$(sessions cam /a)" = 1 ] || fail "the camera served $(sessions cam /a) sessions, not 1"
ok "one RTSP session at the camera"

unmount_camfs "$M"
: >"$T/camfs.log"
mount_camfs "$M" -o config="$T/camfs.conf" -o http=127.0.0.1:$Q -o http_rate=0 \
	-o http_max_clients=1000 -o http_tls_cert="$T/tls/server.pem" -o http_tls_key="$T/tls/server.key"
wait_until 20 grep -q '\[a\] online' "$T/camfs.log" || fail "camera did not come online"
wait_http "https://127.0.0.1:$Q/" --cacert "$T/tls/ca.pem"
sleep 2
# This camfs's own count before the streams: another start may have one
# FUSE worker more or less (libfuse starts one when a request finds every
# worker busy, as the mount's first lookups can).
alone=$(threads)
h2load -n $N -c 4 -m $((N / 4)) -D 5 "https://127.0.0.1:$Q/cams/a/live.mp4" >"$T/h2" 2>&1 &
sleep 3
many=$(threads)
wait $! || true
(( many <= alone )) || fail "camfs ran $many threads with $N h2 streams, $alone before them"
grep -q "status codes: $N 2xx" "$T/h2" || fail "h2load over TLS: $(grep -E 'status|errored' "$T/h2")"
bytes=$(sed -n 's/^traffic: .*(\([0-9]*\)) data$/\1/p' "$T/h2")
(( bytes > N * one * 6 / 10 )) || fail "$N h2 streams got $bytes bytes in 5 s; one alone $one"
ok "$N h2 streams on 4 TLS connections: $bytes bytes in 5 s, $many threads"
unmount_camfs "$M"
check_log
