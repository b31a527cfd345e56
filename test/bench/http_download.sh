#!/bin/bash
# http_download.sh - benchmark, not a test: download throughput over HTTP of
# a finished ~500 MB segment and of a clip over 15 one-minute 1080p
# segments, from camfs and from nginx serving the same store files on
# 127.0.0.1 (started here with its own conf and prefix), plain and with TLS.
# Files cached (each read once before); each figure is the median of ROUNDS
# `curl -o /dev/null` downloads, camfs and nginx alternating; the ratio is
# camfs / nginx. The clip's baseline is nginx serving the 15 segments one
# after another (the bytes a clip is made of).
# Usage: test/bench/http_download.sh BUILD_DIR [ROUNDS]
. "$(dirname "$0")/lib.sh"
rounds=${2:-7}
command -v nginx >/dev/null || { echo "http_download.sh: no nginx (contrib/setup.sh installs it)" >&2; exit 1; }

day=$(date -d yesterday +%F)
seg=a/$day/12-00-00.mp4
big_segment "$seg"
"$build/test/bench/make_store" "$T/store" hd "$build/test/clips/bench-1080p.mp4" 15 \
	"$(date -d "$day 03:00" +%s)" 60 >/dev/null
clip=hd/clips/${day}T03-00-00+15m.mp4
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$T/key.pem" \
	-out "$T/cert.pem" -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
cp=$(free_port); ctp=$(free_port); np=$(free_port); ntp=$(free_port)
mkdir -p "$T/nginx/logs"
chmod 755 "$T"   # nginx's workers run as another user
cat >"$T/nginx/nginx.conf" <<EOF
daemon off;
worker_processes 1;
error_log $T/nginx/logs/error.log;
pid $T/nginx/nginx.pid;
events { worker_connections 64; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	types { video/mp4 mp4; }
	server { listen 127.0.0.1:$np; root $T/store; }
	server { listen 127.0.0.1:$ntp ssl http2; root $T/store;
		ssl_certificate $T/cert.pem; ssl_certificate_key $T/key.pem; }
}
EOF
nginx -p "$T/nginx" -c "$T/nginx/nginx.conf" &
pids+=($!)

printf '[camfs]\nstore = %s/store\n\n[camera a]\nurl = rtsp://127.0.0.1:9/none\n\n[camera hd]\nurl = rtsp://127.0.0.1:9/none\n' \
	"$T" >"$T/camfs.conf"
mnt=$T/mnt
mkdir -p "$mnt" "$T/mnt2"
"$camfs_bin" -f -o config="$T/camfs.conf" -o http=127.0.0.1:$cp -o http_rate=0 "$mnt" \
	>"$T/camfs.log" 2>&1 &
pids+=($!)
# The TLS one records nothing and mounts elsewhere: a second daemon on the
# same store, serving only.
"$camfs_bin" -f -o config="$T/camfs.conf" -o http=127.0.0.1:$ctp -o http_rate=0 \
	-o http_tls_cert="$T/cert.pem" -o http_tls_key="$T/key.pem" "$T/mnt2" >"$T/camfs2.log" 2>&1 &
pids+=($!)
for p in $cp $np; do until curl -s -o /dev/null "http://127.0.0.1:$p/"; do sleep 0.1; done; done
for p in $ctp $ntp; do until curl -sk -o /dev/null "https://127.0.0.1:$p/"; do sleep 0.1; done; done

# speed URL...: bytes per second of downloading the URLs one after another.
speed() {
	local t0 t1 bytes=0 u
	t0=$(date +%s.%N)
	for u in "$@"; do
		bytes=$((bytes + $(curl -s -o /dev/null --cacert "$T/cert.pem" -w '%{size_download}' "$u")))
	done
	t1=$(date +%s.%N)
	echo "$bytes / ($t1 - $t0)" | bc
}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
mbps() { echo "scale=0; $1 / 1000000" | bc; }
# compare LABEL CAMFS_URLS -- NGINX_URLS
compare() {
	local label=$1 cam=() ngx=() c n i f; shift
	f=$T/$(tr -c 'A-Za-z0-9' _ <<<"$label")
	while [ "$1" != -- ]; do cam+=("$1"); shift; done; shift
	ngx=("$@")
	speed "${cam[@]}" >/dev/null; speed "${ngx[@]}" >/dev/null   # cached, clip built
	for i in $(seq "$rounds"); do
		speed "${cam[@]}" >>"$f.camfs"
		speed "${ngx[@]}" >>"$f.nginx"
	done
	c=$(median <"$f.camfs"); n=$(median <"$f.nginx")
	printf '%-24s camfs %5s MB/s  nginx %5s MB/s  ratio %s\n' "$label" "$(mbps "$c")" \
		"$(mbps "$n")" "$(echo "scale=2; $c / $n" | bc)"
}

segs=()
for f in $(cd "$T/store" && ls hd/"$day"/*.mp4 | sort); do segs+=("$f"); done
for u in "http://127.0.0.1:$cp/cams/$seg" "http://127.0.0.1:$np/$seg" "https://127.0.0.1:$ctp/cams/$clip" \
	"https://127.0.0.1:$ntp/${segs[0]}"; do
	code=$(curl -s --cacert "$T/cert.pem" -o /dev/null -w '%{http_code}' "$u")
	[ "$code" = 200 ] || { echo "$u: $code" >&2; exit 1; }
done
echo "segment $(( $(stat -c %s "$T/store/$seg") / 1000000 )) MB; clip of ${#segs[@]} segments; median of $rounds"
compare "segment, HTTP/1.1" "http://127.0.0.1:$cp/cams/$seg" -- "http://127.0.0.1:$np/$seg"
compare "segment, TLS (h2)" "https://127.0.0.1:$ctp/cams/$seg" -- "https://127.0.0.1:$ntp/$seg"
compare "clip, HTTP/1.1" "http://127.0.0.1:$cp/cams/$clip" -- "${segs[@]/#/http://127.0.0.1:$np/}"
compare "clip, TLS (h2)" "https://127.0.0.1:$ctp/cams/$clip" -- "${segs[@]/#/https://127.0.0.1:$ntp/}"
