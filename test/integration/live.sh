#!/bin/bash
# live.sh - live.mp4 with plain players: ffprobe, mpv, ffmpeg -c copy and a
# pipe, no extra flags; the first frame comes well within one GOP; live.jpg is
# the newest keyframe as a real JPEG; a codec change ends open readers of
# the mount and of HTTP.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/http_lib.sh"

start_fixture cam --gop 30 --mount /a=h264 --mount /b=h265
start_fixture other --mount /c=h264
camfs_config -- a=rtsp://127.0.0.1:$cam_PORT/a b=rtsp://127.0.0.1:$cam_PORT/b \
	c=rtsp://127.0.0.1:$other_PORT/c
M=$T/mnt
P=$(free_port)
mount_camfs "$M" -o config="$T/camfs.conf" -o http=127.0.0.1:$P
wait_until 20 grep -q '\[b\] online' "$T/camfs.log" || fail "cameras did not come online"
sleep 2   # a GOP in the cache

for c in a b; do
	want=h264; [ $c = b ] && want=hevc
	got=$(timeout 20 ffprobe -v error -select_streams v:0 -show_entries stream=codec_name,width,height -of csv=p=0 "$M/$c/live.mp4") ||
		fail "ffprobe $c/live.mp4 failed"
	[ "$got" = "$want,640,360" ] || fail "ffprobe $c/live.mp4: $got"
	timeout 30 mpv --no-config --vo=null --ao=null --frames=30 "$M/$c/live.mp4" >"$T/mpv.out" 2>&1 ||
		fail "mpv $c/live.mp4: $(tail -3 "$T/mpv.out")"
	timeout 30 ffmpeg -v error -nostdin -i "$M/$c/live.mp4" -c copy -t 5 -y "$T/out-$c.mp4" ||
		fail "ffmpeg -c copy from $c/live.mp4 failed"
	plays "$T/out-$c.mp4" || fail "the copy of $c/live.mp4 does not play"
	read -r start end frames < <(video_span "$T/out-$c.mp4")
	[ "$frames" -ge 60 ] || fail "ffmpeg -t 5 got only $frames frames"
	# cat | ffprobe -: cat ends on SIGPIPE once ffprobe has seen enough.
	got=$(timeout 20 ffprobe -v error -select_streams v:0 -show_entries stream=codec_name -of csv=p=0 - < <(cat "$M/$c/live.mp4")) ||
		fail "ffprobe through a pipe failed"
	[ "$got" = "$want" ] || fail "pipe: $got"
	ok "$c/live.mp4 ($want): ffprobe, mpv, ffmpeg -c copy -t 5 ($frames frames), pipe"
done

# Time to first frame: open, then the first decodable keyframe comes at once
# from the GOP cache (the GOP here is 2 s).
for i in 1 2 3 4 5; do
	t0=$(date +%s.%N)
	timeout 10 ffmpeg -v error -nostdin -i "$M/a/live.mp4" -frames:v 1 -f null - || fail "no first frame"
	t1=$(date +%s.%N)
	echo "$t1 - $t0" | bc
done >"$T/ttff"
worst=$(sort -n "$T/ttff" | tail -1)
(( $(echo "$worst < 1.0" | bc -l) )) || fail "time to first frame up to $worst s (GOP 2 s)"
ok "time to first frame (ffmpeg process start included): $(sort -n "$T/ttff" | tr '\n' ' ')"

# live.jpg: a JPEG of the picture, the same bytes for the whole of one open,
# and fstat on that open says how many even after a newer keyframe came:
# nginx and smbd open, fstat, and send that many bytes.
size=$(
	python3 - "$M/a/live.jpg" "$T/snap.jpg" <<'PY'
import os, subprocess, sys, time
path = sys.argv[1]
fd = os.open(path, os.O_RDONLY)
at_open = os.fstat(fd).st_size
def others():   # the size another process sees now
    return int(subprocess.run(['stat', '-c', '%s', path], capture_output=True, text=True).stdout)
end = time.time() + 8   # keyframes every 2 s: a newer one, of another size
while others() == at_open and time.time() < end:
    time.sleep(0.2)
newest = others()
later, data = os.fstat(fd).st_size, b''
while chunk := os.read(fd, 1 << 16):
    data += chunk
open(sys.argv[2], 'wb').write(data)
print(f'opened {at_open}, fstat later {later}, read {len(data)}; others see {newest}', file=sys.stderr)
if newest == at_open:
    sys.exit('no newer live.jpg of another size in 8 s')
if not at_open == later == len(data):
    sys.exit(1)
print(at_open)
PY
) || fail "live.jpg: an open's fstat is not its size"
[ "$(ffprobe -v error -show_entries stream=codec_name,width,height -of csv=p=0 "$T/snap.jpg")" = "mjpeg,640,360" ] ||
	fail "live.jpg is not a 640x360 JPEG"
ok "live.jpg: $size bytes, a 640x360 JPEG, fixed for one open"

# poll(): after draining what is there, the file is not readable until the
# next fragment comes, and then it is.
python3 - "$M/a/live.mp4" <<'PY' || fail "poll on live.mp4 does not work"
import os, select, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
p = select.poll()
p.register(fd, select.POLLIN)
start = time.time()
while p.poll(0):
    if not os.read(fd, 1 << 20):
        sys.exit("EOF")
    if time.time() - start > 3:
        sys.exit("poll always says readable")
t = time.time()
if not p.poll(3000):
    sys.exit("poll never said readable")
print("ok: poll: drained, then readable after %.3f s" % (time.time() - t))
PY

# A codec change (the camera comes back as H.265) ends open readers, of
# the mount and over HTTP: the response's last chunk comes.
H=http://127.0.0.1:$P/cams/c/live.mp4
cat "$M/c/live.mp4" >"$T/before.mp4" &
reader=$!
# The HTTP reader reads the chunked body to its end, then asks again on the
# same connection: the end of the stream is not the end of the connection.
python3 - "$P" "$T/before-http.mp4" <<'PY' >"$T/http-reader.out" 2>&1 &
import http.client, sys
conn = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=60)
conn.request("GET", "/cams/c/live.mp4")
r = conn.getresponse()
if r.getheader("Transfer-Encoding") != "chunked":
    sys.exit("live.mp4 over HTTP/1.1 is not chunked: %s" % r.getheaders())
open(sys.argv[2], "wb").write(r.read())   # raises if a chunk is cut short
conn.request("GET", "/cams/c/status.json")
r = conn.getresponse()
if r.status != 200:
    sys.exit("the next request on the connection: %d" % r.status)
r.read()
PY
http_reader=$!
PIDS+=($reader $http_reader)
sleep 2
kill -KILL "$other_PID"
restart_fixture other "$other_PORT" --mount /c=h265
ended() { ! kill -0 $reader 2>/dev/null && ! kill -0 $http_reader 2>/dev/null; }
wait_until 30 ended || fail "a reader of c/live.mp4 did not get EOF at the codec change"
wait $reader || fail "the reader ended with an error, not EOF"
wait $http_reader || fail "the HTTP reader: $(cat "$T/http-reader.out")"
for f in before before-http; do
	[ "$(codec_of "$T/$f.mp4" v:0)" = h264 ] && plays "$T/$f.mp4" || fail "the old stream ($f) is broken"
done
got=$(timeout 20 ffprobe -v error -select_streams v:0 -show_entries stream=codec_name -of csv=p=0 "$M/c/live.mp4")
[ "$got" = hevc ] || fail "after the change live.mp4 is $got"
got=$(timeout 20 ffprobe -v error -select_streams v:0 -show_entries stream=codec_name -of csv=p=0 "$H")
[ "$got" = hevc ] || fail "after the change live.mp4 over HTTP is $got"
ok "codec change: open readers (mount and HTTP, its connection kept) got the end after a whole H.264 stream; new opens get hevc"

unmount_camfs "$M"
check_log '\[c\] offline: (lost|stalled)'
