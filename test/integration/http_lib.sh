# http_lib.sh - what the HTTP tests share, on top of lib.sh: a free port,
# a test CA with a server certificate, and waiting for the server to answer.

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
