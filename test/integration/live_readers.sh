#!/bin/bash
# live_readers.sh - live.mp4 read by offset and through the page cache: its
# size survives readahead, fadvise and VLC; reads at any offset an open has
# reached give the same bytes; ffprobe answers at once although the file is
# seekable; VLC plays it, nginx serves it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/http_lib.sh"

chmod 755 "$T"   # the mount is read by VLC as an unprivileged user
start_fixture cam --gop 30 --mount /a=h264
camfs_config -- a=rtsp://127.0.0.1:$cam_PORT/a
M=$T/mnt
mount_camfs "$M" -o config="$T/camfs.conf",allow_other
wait_until 20 grep -q '\[a\] online' "$T/camfs.log" || fail "the camera did not come online"
sleep 2   # a GOP in the cache
LIVE=$M/a/live.mp4
big=$(stat -c %s "$LIVE")
[ "$big" -gt $((1 << 30)) ] || fail "live.mp4 reports $big bytes"

# The page cache: fadvise(WILLNEED) and readahead(2) read through it, where a
# short answer would be taken for the end of the file and every later stat
# would report the init segment's size.
python3 - "$LIVE" <<'PY' || fail "page-cache reads of live.mp4"
import ctypes, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
os.posix_fadvise(fd, 0, 4096, os.POSIX_FADV_WILLNEED)
ctypes.CDLL(None, use_errno=True).readahead(fd, ctypes.c_longlong(0), ctypes.c_size_t(1 << 16))
first = os.read(fd, 8)
if first[4:8] != b"ftyp":
    sys.exit("the stream does not start with ftyp after fadvise: %r" % first)
os.close(fd)
PY
sleep 0.5   # readahead is asynchronous
got=$(stat -c %s "$LIVE")
[ "$got" = "$big" ] || fail "after fadvise/readahead, stat says $got bytes (was $big)"
ok "fadvise and readahead leave the size at $got and the stream whole"

# Reads by offset (pread, as Samba, NFS servers and demuxers that seek do):
# the head and any bytes the open has reached read the same again, in any
# order; a read far past what has come is the end, not a wait.
python3 - "$LIVE" <<'PY' || fail "reads of live.mp4 by offset"
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
def pread_full(n, at):
    out = b""
    while len(out) < n:
        got = os.pread(fd, n - len(out), at + len(out))
        if not got:
            sys.exit("end of stream at %d" % (at + len(out)))
        out += got
    return out
ahead = pread_full(64, 200000)          # waits for the stream to get there
stream = pread_full(200064, 0)          # everything up to it, read again
if stream[200000:] != ahead:
    sys.exit("bytes at 200000 differ between two reads")
if stream[4:8] != b"ftyp" or b"sidx" not in stream[:4096]:
    sys.exit("no ftyp and sidx at the start: %r" % stream[:64])
if pread_full(100, 123) != stream[123:223]:
    sys.exit("a read back into the head differs")
if os.pread(fd, 4096, 1 << 39) != b"":
    sys.exit("a read 512 GiB ahead did not read as the end")
os.close(fd)
PY
ok "reads by offset: ahead, back, out of order give one stream; far ahead is the end"

# Seekable, yet FFmpeg does not scan it for fragments to its 1 TiB end: the
# sidx after the moov says they are indexed.
start=$(date +%s%N)
got=$(timeout 20 ffprobe -v error -select_streams v:0 -show_entries stream=codec_name -of csv=p=0 "$LIVE")
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$got" = h264 ] || fail "ffprobe of live.mp4: '$got'"
[ "$ms" -lt 5000 ] || fail "ffprobe took $ms ms on live.mp4"
ok "ffprobe answers on live.mp4 in $ms ms"

# MediaInfo walks every box of a file before it reports; the REDA box in
# the head stops it.
start=$(date +%s%N)
timeout 20 mediainfo --Output=JSON "$LIVE" >"$T/mediainfo.json" || fail "mediainfo did not answer on live.mp4 in 20 s"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
got=$(python3 -c 'import json, sys
t = [x for x in json.load(open(sys.argv[1]))["media"]["track"] if x["@type"] == "Video"][0]
print(t["Format"], t["Width"], t["Height"])' "$T/mediainfo.json") || fail "mediainfo: $(head -c 300 "$T/mediainfo.json")"
[ "$got" = "AVC 640 360" ] || fail "mediainfo of live.mp4 says '$got'"
ok "mediainfo answers on live.mp4 in $ms ms: $got"

# VLC (as an unprivileged user, as it insists) opens it with fadvise, probes
# it, reads its tags with TagLib and plays it; the size stays what it was.
# (VLC's --run-time counts media time, which starts at the session's time:
# it is stopped with a signal instead.)
command -v cvlc >/dev/null || fail "no cvlc (contrib/setup.sh installs vlc-bin)"
mkdir -m 777 "$T/vlc"
runuser -u nobody -- timeout -s INT 8 cvlc --intf dummy \
	--sout "#std{access=file,mux=ts,dst=$T/vlc/live.ts}" "$LIVE" >"$T/vlc.log" 2>&1 || true
read -r _ _ frames < <(video_span "$T/vlc/live.ts" 2>/dev/null) || frames=0
[ "$frames" -ge 30 ] || fail "VLC got $frames frames of live.mp4 in 8 s: $(grep -a -i error "$T/vlc.log" | head -5)"
got=$(stat -c %s "$LIVE")
[ "$got" = "$big" ] || fail "after VLC opened live.mp4, stat says $got bytes"
ok "VLC plays live.mp4 ($frames frames in 8 s) and it is still $big bytes"

# nginx serving the mount: it takes a short read for a truncated file, so
# its `directio` (O_DIRECT, set with fcntl) asks camfs for whole reads.
command -v nginx >/dev/null || fail "no nginx (contrib/setup.sh installs it)"
NP=$(free_port)
mkdir -p "$T/nginx"
cat >"$T/nginx/nginx.conf" <<CONF
user root;
daemon off;
pid $T/nginx/nginx.pid;
error_log $T/nginx/error.log warn;
events { worker_connections 16; }
http {
	access_log off;
$(nginx_temp_paths "$T/nginx")
	server {
		listen 127.0.0.1:$NP;
		root $M;
		location ~ live\.mp4\$ { directio 4k; }
	}
}
CONF
nginx -c "$T/nginx/nginx.conf" -p "$T/nginx" >"$T/nginx/out" 2>&1 &
NGINX=$!
PIDS+=($NGINX)
wait_http "http://127.0.0.1:$NP/status.json"
timeout 6 curl -s -o "$T/nginx.mp4" "http://127.0.0.1:$NP/a/live.mp4" &&
	fail "nginx's live.mp4 ended: $(tail -3 "$T/nginx/error.log")"
read -r _ _ frames < <(video_span "$T/nginx.mp4" 2>/dev/null) || frames=0
[ "$frames" -ge 30 ] || fail "nginx gave $frames frames of live.mp4 in 6 s: $(tail -3 "$T/nginx/error.log")"
ok "nginx with directio streams live.mp4 ($frames frames in 6 s)"
kill "$NGINX"
wait "$NGINX" 2>/dev/null || true

unmount_camfs "$M"
check_log
