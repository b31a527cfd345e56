#!/bin/bash
# live_readers.sh - live.mp4 with readers that go through the page cache:
# its size survives readahead, fadvise and VLC, and the stream stays whole.
. "$(dirname "$0")/lib.sh"

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

# VLC (as an unprivileged user, as it insists) opens it with fadvise and
# probing reads; the size must stay what it was for every later reader.
command -v cvlc >/dev/null || fail "no cvlc (contrib/setup.sh installs vlc-bin)"
runuser -u nobody -- timeout 10 cvlc --intf dummy --play-and-exit --run-time 3 "$LIVE" vlc://quit \
	>"$T/vlc.log" 2>&1 || true
got=$(stat -c %s "$LIVE")
[ "$got" = "$big" ] || fail "after VLC opened live.mp4, stat says $got bytes"
got=$(timeout 20 ffprobe -v error -select_streams v:0 -show_entries stream=codec_name -of csv=p=0 "$LIVE")
[ "$got" = h264 ] || fail "after VLC, ffprobe of live.mp4: $got"
ok "after VLC, live.mp4 is still $big bytes and probes as $got"

unmount_camfs "$M"
check_log
