#!/bin/bash
# http_files.sh - the tree over HTTP with real clients: curl for HEAD, ranges
# (suffix, open, 416), both 304s, If-Range, types and caching, listings as
# the mount's .index.json byte for byte and as HTML, every error code; the
# segment being written at its committed size; ffprobe of a segment, a clip
# and day.mp4, ffmpeg seeking inside a clip; clients that leave mid-body or
# read slowly for longer than lws's timeout; the same over TLS with h2.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/http_lib.sh"

ensure_clips
start_fixture cam --gop 25 --mount /a=h264
camfs_config segment_seconds=8 -- a=rtsp://127.0.0.1:$cam_PORT/a
make_ca "$T/tls" server
P=$(free_port)
H=http://127.0.0.1:$P
M=$T/mnt
mount_camfs "$M" -o config="$T/camfs.conf" -o http=127.0.0.1:$P -o http_rate=0
wait_until 20 grep -q '\[a\] online' "$T/camfs.log" || fail "camera did not come online"
wait_http "$H/cams/"
day=$(date +%F)
# Three finished segments and one being written; the oldest settled.
enough() { [ "$(count_segments "$T/store" a)" -ge 4 ]; }
wait_until 60 enough || fail "too few segments"
segs=($(segments "$T/store" a))
fin=a/$day/$(basename "${segs[0]}")
grow=a/$day/$(basename "${segs[-1]}")
size=$(stat -c %s "$T/store/$fin")
settled() { (( $(date +%s) - $(stat -c %Y "$T/store/$fin") >= 6 )); }
wait_until 10 settled || fail "not settled"

hdr() { sed -n "s/^$1: *//Ip" "$T/h" | tr -d '\r'; }

# A finished segment: HEAD says what GET sends, cacheable for good.
curl -sI "$H/cams/$fin" >"$T/h" || fail "HEAD $fin"
head -1 "$T/h" | grep -q ' 200' || fail "HEAD $fin: $(cat "$T/h")"
[ "$(hdr content-length)" = "$size" ] || fail "Content-Length $(hdr content-length), file $size"
[ "$(hdr content-type)" = video/mp4 ] || fail "type $(hdr content-type)"
[ "$(hdr accept-ranges)" = bytes ] || fail "no Accept-Ranges"
grep -qi '^cache-control: .*immutable' "$T/h" || fail "a finished segment not immutable: $(cat "$T/h")"
etag=$(hdr etag); lm=$(hdr last-modified)
[[ $etag == \"*\" ]] || fail "ETag not quoted: $etag"
[ "$lm" = "$(TZ=GMT date -d "@$(stat -c %Y "$T/store/$fin")" '+%a, %d %b %Y %H:%M:%S GMT')" ] ||
	fail "Last-Modified $lm"
curl -s -o "$T/get" "$H/cams/$fin" && cmp -s "$T/get" "$T/store/$fin" || fail "GET $fin differs"
ok "finished segment: HEAD ($size bytes), GET identical, quoted ETag, Last-Modified, immutable"

# Ranges: a span, a suffix, an open end; past the end 416; two ranges the whole.
range() {   # RANGE WANT_CODE WANT_FROM WANT_LEN
	local got
	got=$(curl -s -D "$T/h" -o "$T/part" -w '%{http_code}' -r "$1" "$H/cams/$fin")
	[ "$got" = "$2" ] || fail "Range $1: $got, not $2"
	[ "$2" = 206 ] || return 0
	cmp -s "$T/part" <(tail -c +$(($3 + 1)) "$T/store/$fin" | head -c "$4") || fail "Range $1: bytes differ"
	[ "$(hdr content-range)" = "bytes $3-$(($3 + $4 - 1))/$size" ] ||
		fail "Range $1: Content-Range $(hdr content-range)"
}
range 0-99 206 0 100
range 1000-1999 206 1000 1000
range -500 206 $((size - 500)) 500
range 4096- 206 4096 $((size - 4096))
range "$((size - 1))-$((size + 99))" 206 $((size - 1)) 1
range "$size-" 416
[ "$(hdr content-range)" = "bytes */$size" ] || fail "416 Content-Range $(hdr content-range)"
range 0-1,5-6 200
cmp -s "$T/part" "$T/store/$fin" || fail "two ranges: not the whole file"
ok "ranges: span, suffix, open end, cut at the end, 416 with bytes */$size, two ranges whole"

# Conditional requests, and If-Range: a range only of these very bytes.
expect_code 304 "$H/cams/$fin" -H "If-None-Match: $etag"
expect_code 304 "$H/cams/$fin" -H "If-Modified-Since: $lm"
expect_code 200 "$H/cams/$fin" -H 'If-None-Match: "other"'
expect_code 200 "$H/cams/$fin" -H "If-Modified-Since: Thu, 01 Jan 2015 00:00:00 GMT"
expect_code 206 "$H/cams/$fin" -r 0-9 -H "If-Range: $etag"
expect_code 200 "$H/cams/$fin" -r 0-9 -H 'If-Range: "other"'
ok "304 by ETag and by date, 200 when changed; If-Range"

# The segment being written: at the size the mount shows (the writer's
# committed size), never cacheable, its bytes those of the file.
gsize() { curl -sI "$H/cams/$grow" | sed -n 's/^content-length: *//Ip' | tr -d '\r'; }
same_size() { [ "$(gsize)" = "$(stat -c %s "$M/$grow")" ]; }
wait_until 10 same_size || fail "growing: HTTP $(gsize), mount $(stat -c %s "$M/$grow")"
curl -sI "$H/cams/$grow" >"$T/h"
[ "$(hdr cache-control)" = no-cache ] || fail "growing segment: Cache-Control $(hdr cache-control)"
curl -s -o "$T/g" "$H/cams/$grow"
gs=$(stat -c %s "$T/g")
(( gs > 0 && gs <= $(stat -c %s "$T/store/$grow") )) || fail "growing segment: $gs bytes"
cmp -s "$T/g" <(head -c "$gs" "$T/store/$grow") || fail "growing segment: bytes differ"
ok "growing segment: served at its committed size ($gs bytes), no-cache"

# Types and caching of the generated files.
for f in status.json:application/json a/status.json:application/json \
	a/$day/motion.csv:text/csv a/clips/README.txt:text/plain a/live.jpg:image/jpeg \
	a/$day/.index.json:application/json; do
	curl -sI "$H/cams/${f%%:*}" >"$T/h"
	[ "$(hdr content-type)" = "${f#*:}" ] || fail "${f%%:*}: type $(hdr content-type)"
	[ "$(hdr cache-control)" = no-cache ] || fail "${f%%:*}: Cache-Control $(hdr cache-control)"
done
ok "types: application/json, text/csv, text/plain, image/jpeg, video/mp4; generated files no-cache"

# Directories: the mount's .index.json, byte for byte (both are made now:
# read them within one second); HTML for a browser.
same_listing() {   # URL MOUNT_FILE
	curl -s -o "$T/l.http" "$1" && cat "$2" >"$T/l.fuse" && cmp -s "$T/l.http" "$T/l.fuse"
}
for d in "" a/ a/$day/ a/clips/ a/events/; do
	wait_until 5 same_listing "$H/cams/$d" "$M/$d.index.json" ||
		fail "listing of /$d differs: $(diff <(tr , '\n' <"$T/l.http") <(tr , '\n' <"$T/l.fuse") | head)"
done
python3 - "$T/l.http" "$H" "$day" "$(basename "$fin")" <<'EOF' || fail "listing of a/$day"
import json, sys, urllib.request
d = json.load(open(sys.argv[1]))
assert d['path'] == '/a/events/', d['path']
d = json.load(urllib.request.urlopen(sys.argv[2] + '/cams/a/' + sys.argv[3]))
assert d['path'] == '/a/%s/' % sys.argv[3], d['path']
e = {x['name']: x for x in d['entries']}
s = e[sys.argv[4]]
assert s['type'] == 'file' and s['size'] > 0 and isinstance(s['mtime'], int), s
assert 5 < s['duration'] < 12 and abs(s['start'] - s['mtime']) < 15, s
assert '.index.json' not in e and 'day.mp4' in e, list(e)
EOF
curl -s -D "$T/h" -o "$T/html" -H 'Accept: text/html,application/xhtml+xml,*/*;q=0.8' "$H/cams/a/$day/"
[ "$(hdr content-type)" = "text/html; charset=utf-8" ] || fail "HTML listing: $(hdr content-type)"
grep -q "<a href=\"/cams/$fin\">$(basename "$fin")</a>" "$T/html" || fail "HTML listing: $(head -c 600 "$T/html")"
grep -q "<a href=\"/cams/a/\">../</a>" "$T/html" || fail "HTML listing: no way up"
curl -sI -H 'Accept: application/json, text/html;q=0.5' "$H/cams/a" >"$T/h"
[ "$(hdr content-type)" = application/json ] || fail "Accept preferring JSON: $(hdr content-type)"
ok "listings: HTTP = the mount's .index.json (root, camera, day, clips, events); HTML for browsers"

# Every error code.
expect_code 404 "$H/cams/nocam"
expect_code 404 "$H/cams/a/nothing"
expect_code 404 "$H/cams/a/$day/23-59-59.mp4"
expect_code 404 "$H/cams/a/status.json/"
expect_code 404 "$H/cams/a/clips/not-a-clip.mp4"
expect_code 404 "$H/cams/a/clips/2001-01-01T00-00-00+5m.mp4"   # no footage then
expect_code 404 "$H/cams/a/.hidden"
expect_code 400 "$H/cams/a%01b"
expect_code 400 "$H/cams/a/%c0%ae%c0%ae"
expect_code 405 "$H/cams/$fin" -X POST
expect_code 405 "$H/cams/$fin" -X PUT -d x
ok "errors: 404 unknown, 400 bad path, 405 method"

# Players over HTTP: ffprobe of a segment, a clip by name and day.mp4;
# ffmpeg seeking inside the clip (range requests) decodes from the seek.
ffprobe -v error -show_entries format=duration -of csv=p=0 "$H/cams/$fin" >/dev/null ||
	fail "ffprobe of a segment over http"
first=$(curl -s "$H/cams/a/$day/.index.json" | python3 -c 'import json, sys
print([int(e["start"]) + 1 for e in json.load(sys.stdin)["entries"] if e["name"] == sys.argv[1]][0])' \
	"$(basename "$fin")")
clip=a/clips/$(date -d "@$first" +%Y-%m-%dT%H-%M-%S)+20s.mp4
dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$H/cams/$clip") ||
	fail "ffprobe $clip over http"
(( $(echo "$dur > 19.9 && $dur < 20.1" | bc -l) )) || fail "$clip lasts $dur s over http"
curl -sI "$H/cams/$clip" >"$T/h"
grep -qi '^accept-ranges: bytes' "$T/h" || fail "clip: no ranges"
ffprobe -v error -show_entries format=duration -of csv=p=0 "$H/cams/a/$day/day.mp4" >/dev/null ||
	fail "ffprobe day.mp4 over http"
fps=$(ffprobe -v error -select_streams v:0 -show_entries stream=r_frame_rate -of csv=p=0 "$H/cams/$clip")
frames=$(ffmpeg -v error -nostdin -ss 12 -i "$H/cams/$clip" -map 0:v -f framecrc - | grep -vc '^#')
want=$(echo "8 * $fps" | bc -l | cut -d. -f1)
(( frames >= want - 2 && frames <= want + 2 )) || fail "ffmpeg -ss 12 in a 20 s clip decoded $frames frames, not $want"
curl -s -r 1000-2999 -o "$T/c1" "$H/cams/$clip"
curl -s -o "$T/c" "$H/cams/$clip"
cmp -s "$T/c1" <(tail -c +1001 "$T/c" | head -c 2000) || fail "a range of the clip differs from its whole"
ok "ffprobe of segment, clip ($dur s) and day.mp4; ffmpeg -ss 12 in the clip: $frames frames ($want)"

# Clients that leave mid-body, and one that reads slowly past lws's own
# timeout: the server goes on, the slow one gets every byte.
curl -s --limit-rate $((size / 13)) -o "$T/slow" "$H/cams/$fin" &
slow=$!
for i in 1 2 3; do
	timeout 0.5 curl -s --limit-rate 50k -o /dev/null "$H/cams/a/$day/day.mp4" || true
	python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /cams/" + sys.argv[2].encode() + b" HTTP/1.1\r\nHost: x\r\n\r\n")
s.recv(1000)
s.close()' "$P" "$fin"
done
curl -s -o "$T/get" "$H/cams/$fin" && cmp -s "$T/get" "$T/store/$fin" || fail "GET after disconnects"
wait $slow && cmp -s "$T/slow" "$T/store/$fin" ||
	fail "a download lasting 13 s was cut at $(stat -c %s "$T/slow") of $size bytes"
ok "clients leaving mid-body harm nobody; a reader taking 13 s gets its whole body"

# TLS: h2, the same bytes, ranges.
unmount_camfs "$M"
mount_camfs "$M" -o config="$T/camfs.conf" -o http=127.0.0.1:$P -o http_rate=0 \
	-o http_tls_cert="$T/tls/server.pem" -o http_tls_key="$T/tls/server.key"
S=https://127.0.0.1:$P
wait_http "$S/" --cacert "$T/tls/ca.pem"
v=$(curl -s --cacert "$T/tls/ca.pem" -o "$T/get" -w '%{http_version}' "$S/cams/$fin")
[ "$v" = 2 ] && cmp -s "$T/get" "$T/store/$fin" || fail "GET over h2: version $v, bytes differ"
curl -s --cacert "$T/tls/ca.pem" -r 5000-70000 -o "$T/part" "$S/cams/$clip"
curl -s --cacert "$T/tls/ca.pem" -o "$T/c2" "$S/cams/$clip"
cmp -s "$T/part" <(tail -c +5001 "$T/c2" | head -c 65001) || fail "clip range over h2 differs"
ffprobe -v error -ca_file "$T/tls/ca.pem" -show_entries format=duration -of csv=p=0 "$S/cams/$clip" \
	>/dev/null || fail "ffprobe of the clip over https"
ok "TLS h2: a segment, a clip and its ranges"

unmount_camfs "$M"
check_log
