# http_lib.sh - what the HTTP tests share, on top of lib.sh: a free port,
# a test CA with a server certificate, waiting for the server to answer, and
# an nginx of the test's own.

# free_port: a TCP port nobody listens on now, on 127.0.0.1.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# make_ca DIR NAME: a CA (DIR/ca.pem) and a certificate for 127.0.0.1 that
# it signed (DIR/NAME.pem, DIR/NAME.key), both EC P-256.
make_ca() {
	local d=$1 n=$2
	mkdir -p "$d"
	if [ ! -f "$d/ca.pem" ]; then
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-keyout "$d/ca.key" -out "$d/ca.pem" -days 2 -subj "/CN=camfs test CA" \
			2>/dev/null || fail "openssl: no CA"
	fi
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$d/$n.key" -out "$d/$n.csr" -subj "/CN=$n" 2>/dev/null || fail "openssl: no CSR"
	openssl x509 -req -in "$d/$n.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
		-days 2 -out "$d/$n.pem" -extfile <(printf 'subjectAltName=IP:127.0.0.1\n') \
		2>/dev/null || fail "openssl: no certificate"
}

# wait_http URL [CURL ARGS...]: until the server answers at all.
wait_http() {
	local url=$1; shift
	wait_until 20 curl -s -o /dev/null "$@" "$url" || fail "no answer at $url"
}

# code URL [CURL ARGS...]: the status code of a request.
code() {
	local url=$1; shift
	curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@" "$url" || true
}

# expect_code WANT URL [CURL ARGS...]
expect_code() {
	local want=$1 url=$2 got; shift 2
	got=$(code "$url" "$@")
	[ "$got" = "$want" ] || fail "$url $*: $got, not $want"
}

# demo_serves VIEWER_DIR [CAMFS OPTIONS...]: $CAMFS (an installed one) runs
# --demo with the HTTP export: it shows the demo cameras, serves
# VIEWER_DIR/index.html at / and live.mp4 is H.264; then it is unmounted and
# its log checked.
demo_serves() {
	local viewer=$1 port codec; shift
	port=$(free_port)
	mount_camfs "$T/mnt" --demo -o store="$T/store" -o http=127.0.0.1:$port "$@"
	wait_until 20 test -s "$T/mnt/demo-moving/status.json" || fail "$CAMFS shows no camera"
	wait_until 20 curl -sf -o "$T/index.html" "http://127.0.0.1:$port/" || fail "no viewer at /"
	cmp -s "$T/index.html" "$viewer/index.html" || fail "/ is not $viewer/index.html"
	codec=$(timeout 20 ffprobe -v error -select_streams v:0 -show_entries stream=codec_name -of csv=p=0 \
		"$T/mnt/demo-moving/live.mp4") || fail "ffprobe of live.mp4 failed"
	[ "$codec" = h264 ] || fail "live.mp4 codec: $codec"
	unmount_camfs "$T/mnt"
	check_log
}

# nginx_temp_paths DIR: http-block lines that put a test nginx's temporary
# files in DIR, not in the package's /var/lib/nginx that other nginxes share.
nginx_temp_paths() {
	local k
	for k in client_body proxy fastcgi uwsgi scgi; do
		printf '\t%s_temp_path %s/%s;\n' "$k" "$1" "$k"
	done
}
