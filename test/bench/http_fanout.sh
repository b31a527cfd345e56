#!/bin/bash
# http_fanout.sh - benchmark, not a test: the HTTP export's live fan-out.
# One camera serving the ~4 Mbit/s 1080p clip. In one run:
#   - time to first byte of live.mp4 (curl, N opens), p50 and max;
#   - camfs CPU with 64 live.mp4 readers of each kind, per reader
#     (cpu64 - cpu0) / 64: FUSE (`cat`, the baseline), HTTP/1.1 (curl),
#     HTTP/1.1 over TLS (curl --http1.1), h2 over TLS (h2load, 64 streams on
#     one connection); the ratio of each to FUSE;
#   - 1,000 HTTP/1.1 live clients at once (h2load --h1): camfs CPU, threads,
#     and what each client got.
# Usage: test/bench/http_fanout.sh BUILD_DIR [SECONDS] [CLIENTS]
. "$(dirname "$0")/lib.sh"
secs=${2:-15}
BIG=${3:-1000}
MANY=64

clip_camera

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$T/key.pem" \
	-out "$T/cert.pem" -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
hp=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf '[camfs]\nstore = %s/store\nhttp_rate = 0\nhttp_max_clients = %d\n\n[camera a]\nurl = rtsp://127.0.0.1:%d/a\n' \
	"$T" $((BIG + 100)) "$port" >"$T/camfs.conf"
mnt=$T/mnt
mkdir -p "$mnt" "$T/store"

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
cpu_of() {   # cpu_of SECONDS PID: share of one core used over SECONDS
	local a b
	a=$(ticks "$2"); sleep "$1"; b=$(ticks "$2")
	echo "scale=5; ($b - $a) / $(getconf CLK_TCK) / $1" | bc
}
pct() { awk -v c="$1" 'BEGIN { printf "%.3f", c * 100 }'; }
threads() { awk '/^Threads:/ { print $2 }' "/proc/$camfs/status"; }
# start_camfs [TLS]: camfs on the same store, HTTP plain or with TLS.
start_camfs() {
	local tls=()
	[ "${1:-}" = tls ] && tls=(-o http_tls_cert="$T/cert.pem" -o http_tls_key="$T/key.pem")
	"$camfs_bin" -f -o config="$T/camfs.conf" -o http=127.0.0.1:$hp "${tls[@]}" "$mnt" \
		>"$T/camfs.log" 2>&1 &
	camfs=$!
	pids+=($camfs)
	until grep -qs '\[a\] online' "$T/camfs.log"; do sleep 0.1; done
	sleep 3   # a GOP in the cache
}
# stop_readers: kills them and waits for them (not for every child: a bare
# `wait` with no reader left would wait for camfs and the camera too).
stop_readers() {
	[ ${#readers[@]} -gt 0 ] || return 0
	kill "${readers[@]}" 2>/dev/null || true
	wait "${readers[@]}" 2>/dev/null || true
	readers=()
}
stop_camfs() {
	stop_readers
	fusermount3 -u "$mnt"
	wait $camfs || true
}
add() {   # add N CMD...: N readers running CMD
	local n=$1 i; shift
	for i in $(seq 1 "$n"); do "$@" >/dev/null 2>&1 & readers+=($!); done
}
# per_reader LABEL: camfs CPU with no reader, then with what add started.
per_reader() {
	sleep 3
	eval "cpu_$1=$(cpu_of "$secs" $camfs)"
}

start_camfs
H=http://127.0.0.1:$hp/cams/a/live.mp4
for i in $(seq 20); do
	curl -s -o /dev/null --max-time 5 -r 0-0 -w '%{time_starttransfer}\n' "$H" || true
done | sort -n >"$T/ttfb"
ttfb_p50=$(sed -n 10p "$T/ttfb")
ttfb_max=$(tail -1 "$T/ttfb")

cpu_idle=$(cpu_of "$secs" $camfs)
add $MANY cat "$mnt/a/live.mp4"
per_reader fuse
stop_readers
add $MANY curl -s -o /dev/null "$H"
per_reader h1
stop_readers

# 1,000 at once: h2load --h1 opens them all; bytes per client over the run.
h2load --h1 -n "$BIG" -c "$BIG" -D $((secs + 5)) "$H" >"$T/big" 2>&1 &
readers+=($!)
sleep 5
cpu_big=$(cpu_of "$secs" $camfs)
threads_big=$(threads)
wait "${readers[@]}" 2>/dev/null || true   # h2load ends by itself
readers=()
big_ok=$(sed -n 's/^status codes: \([0-9]*\) 2xx.*/\1/p' "$T/big")
big_bytes=$(sed -n 's/^traffic: .*(\([0-9]*\)) data$/\1/p' "$T/big")
stop_camfs

start_camfs tls
S=https://127.0.0.1:$hp/cams/a/live.mp4
cpu_tls_idle=$(cpu_of "$secs" $camfs)
add $MANY curl -s -o /dev/null --http1.1 --cacert "$T/cert.pem" "$S"
per_reader tls1
stop_readers
h2load -n $MANY -c 1 -m $MANY -D $((secs + 5)) "$S" >"$T/h2" 2>&1 &
readers+=($!)
per_reader h2
wait "${readers[@]}" 2>/dev/null || true   # h2load ends by itself
readers=()
h2_bytes=$(sed -n 's/^traffic: .*(\([0-9]*\)) data$/\1/p' "$T/h2")
stop_camfs

bitrate=$(ffprobe -v error -show_entries format=bit_rate -of csv=p=0 "$clip")
each() { echo "scale=5; ($1 - $2) / $MANY" | bc; }
fuse=$(each "$cpu_fuse" "$cpu_idle")
h1=$(each "$cpu_h1" "$cpu_idle")
tls1=$(each "$cpu_tls1" "$cpu_tls_idle")
h2=$(each "$cpu_h2" "$cpu_tls_idle")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) print "n/a"; else printf "%.2f", a / b }'; }
echo "camera: 1920x1080 25 fps, $((bitrate / 1000)) kbit/s clip; camfs CPU over $secs s per case"
echo "time to first byte of live.mp4 (curl, 20 opens): p50 ${ttfb_p50}s, max ${ttfb_max}s"
echo "no reader: $(pct "$cpu_idle")% of a core (TLS run: $(pct "$cpu_tls_idle")%)"
echo "per live.mp4 reader, $MANY readers (% of a core; ratio to FUSE):"
echo "  FUSE cat:          $(pct "$fuse")%"
echo "  HTTP/1.1 curl:     $(pct "$h1")%  ($(ratio "$h1" "$fuse")x)"
echo "  HTTP/1.1 TLS curl: $(pct "$tls1")%  ($(ratio "$tls1" "$fuse")x)"
echo "  h2 TLS, 1 conn:    $(pct "$h2")%  ($(ratio "$h2" "$fuse")x), $((h2_bytes * 8 / (secs + 5) / MANY / 1000)) kbit/s per stream"
echo "$BIG HTTP/1.1 clients at once: $(pct "$cpu_big")% of a core ($(pct "$(echo "scale=6; $cpu_big / $BIG" | bc)")% each), $threads_big threads, $big_ok answered 200, $((big_bytes * 8 / (secs + 5) / (BIG > 0 ? BIG : 1) / 1000)) kbit/s per client on average"
