#!/bin/bash
# webview_nginx.sh - the viewer needs only files: nginx (TLS and h2 from a
# test CA) serves webview/ and the mount beside it; the timeline's playback
# and the events work as they do from camfs, and the grid shows live.jpg,
# refreshed and labelled (without `directio` nginx breaks the endless
# live.mp4 at its first short read: docs/webview.md).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/http_lib.sh"
. "$(dirname "$0")/webview_lib.sh"
command -v nginx >/dev/null || skip "no nginx (contrib/setup.sh installs it)"

webview_camfs
make_ca "$T/tls" 127.0.0.1
NP=$(free_port)
mkdir -p "$T/nginx"
# Live files block in read() until the camera publishes: reads go to
# nginx's thread pool (aio threads) so one stream never stalls a worker.
cat >"$T/nginx/nginx.conf" <<CONF
user root;
worker_processes 1;
daemon off;
pid $T/nginx/nginx.pid;
error_log $T/nginx/error.log warn;
thread_pool live threads=32;
events { worker_connections 256; }
http {
	include /etc/nginx/mime.types;
	types { application/manifest+json webmanifest; text/csv csv; }
	default_type application/octet-stream;
	access_log $T/nginx/access.log;
$(nginx_temp_paths "$T/nginx")
	server {
		listen 127.0.0.1:$NP ssl http2;
		ssl_certificate $T/tls/127.0.0.1.pem;
		ssl_certificate_key $T/tls/127.0.0.1.key;
		root $WEBVIEW;
		sendfile off;
		aio threads=live;
		location /cams/ {
			alias $M/;
			location ~ live\.mp4\$ { add_header Cache-Control no-store; }
		}
	}
}
CONF
nginx -c "$T/nginx/nginx.conf" -p "$T/nginx" >"$T/nginx/out" 2>&1 &
PIDS+=($!)
wait_http "https://127.0.0.1:$NP/" --cacert "$T/tls/ca.pem"
expect_code 200 "https://127.0.0.1:$NP/cams/demo-moving/.index.json" --cacert "$T/tls/ca.pem"
# Chromium trusts the test server by its key (it has no CA store to add to).
SPKI=$(openssl x509 -in "$T/tls/127.0.0.1.pem" -pubkey -noout | openssl pkey -pubin -outform der |
	openssl dgst -sha256 -binary | base64)
SPKI=$SPKI webview_run webview-nginx nginx "https://127.0.0.1:$NP"
unmount_camfs "$M"
check_log
