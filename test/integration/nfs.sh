#!/bin/bash
# nfs.sh - the mount exported over NFSv4 by nfs-ganesha (FSAL VFS) with
# contrib/ganesha.conf, read with libnfs's tools: the tree listed, a
# segment byte-identical to the store, a clip identical to the mount's,
# day.mp4, and a bounded read of live.mp4 that plays. Then what
# NFS needs of the node ids, by the same calls ganesha and the kernel's nfsd
# make (open_by_handle_at): a handle still opens its file after the kernel
# forgot the inode and after camfs restarted, and a directory's handle
# finds its parent.
. "$(dirname "$0")/lib.sh"

[ -e /dev/fuse ] || skip "no /dev/fuse"
command -v ganesha.nfsd >/dev/null || skip "nfs-ganesha not installed"
command -v nfs-cp >/dev/null || skip "libnfs-utils not installed"
HANDLES="python3 $(dirname "$0")/handles.py"
NFS_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
nfs() { echo "nfs://127.0.0.1/cams/$1?version=4&nfsport=$NFS_PORT"; }

start_fixture cam --mount /a=h264
camfs_config segment_seconds=2 -- a=rtsp://127.0.0.1:$cam_PORT/a
M=$T/mnt
mount_camfs "$M" -o config="$T/camfs.conf" -o allow_other
two_closed() { [ "$(count_segments "$T/store" a)" -ge 3 ]; }
wait_until 30 two_closed || fail "no closed segments"
seg=$(segments "$T/store" a | head -1)
rel=a/${seg#"$T/store/a/"}
day=$(basename "$(dirname "$seg")")

# ganesha with the project's config, on a port of its own, loopback only.
mkdir -p "$T/ganesha"
sed -e "s|Path = /mnt/cams;|Path = $M;|" \
	-e "0,/^\tProtocols = 4;/s||\tProtocols = 4;\n\tNFS_Port = $NFS_PORT;\n\tBind_addr = 127.0.0.1;|" \
	-e "s|^\tGraceless = true;|\tGraceless = true;\n\tRecoveryBackend = fs;\n\tRecoveryRoot = $T/ganesha;|" \
	"$FIXTURE_DIR/../../contrib/ganesha.conf" >"$T/ganesha.conf"
ganesha.nfsd -F -f "$T/ganesha.conf" -L "$T/ganesha.log" -p "$T/ganesha.pid" &
GANESHA=$!
PIDS+=($GANESHA)
serves() { timeout 10 nfs-ls "$(nfs '')" >"$T/ls-root" 2>/dev/null; }
wait_until 30 serves || fail "ganesha does not serve: $(grep -E 'CRIT|MAJ|FATAL' "$T/ganesha.log" | grep -v krb5 | tail -3)"
grep -q ' a$' "$T/ls-root" && grep -q ' status.json$' "$T/ls-root" || fail "nfs-ls /: $(cat "$T/ls-root")"
timeout 10 nfs-ls "$(nfs "a/$day")" >"$T/ls-day" || fail "nfs-ls a/$day failed"
grep -q " $(basename "$seg")$" "$T/ls-day" || fail "nfs-ls a/$day lacks $(basename "$seg")"
ok "nfs-ls: the root and a day folder"

timeout 20 nfs-cp "$(nfs "$rel")" "$T/seg.mp4" >/dev/null || fail "nfs-cp $rel failed"
cmp -s "$T/seg.mp4" "$seg" || fail "$rel over NFS differs from the store"
start=$(date -d "@$(( $(date +%s) - 6 ))" +%Y-%m-%dT%H-%M-%S)
clip="a/clips/$start+4s.mp4"
cp "$M/$clip" "$T/clip-mount.mp4" || fail "no clip $clip on the mount"
sleep 6   # the clip's range settles: the same bytes at every open
cp "$M/$clip" "$T/clip-mount.mp4"
timeout 20 nfs-cp "$(nfs "$clip")" "$T/clip.mp4" >/dev/null || fail "nfs-cp $clip failed"
cmp -s "$T/clip.mp4" "$T/clip-mount.mp4" || fail "the clip over NFS differs from the mount's"
timeout 20 nfs-cp "$(nfs "a/$day/day.mp4")" "$T/day.mp4" >/dev/null || fail "nfs-cp day.mp4 failed"
dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$T/day.mp4") || fail "ffprobe day.mp4"
ok "nfs-cp: a segment identical to the store, a clip to the mount's ($(stat -c %s "$T/clip.mp4") bytes), day.mp4 of $dur s"

# live.mp4: endless, so bounded reads. ganesha reads the mount with pread,
# an NFSv4 open with an open of its own: two readers at once, the second
# starting 2 s later, each get a stream that plays.
nfs_live() {
	timeout "$2" nfs-cat "$(nfs a/live.mp4)" >"$T/live-$1.mp4" 2>"$T/nfs-cat-$1.err" &&
		echo "nfs-cat of live.mp4 ended" >>"$T/nfs-cat-$1.err"
	return 0
}
nfs_live 1 7 &
first=$!
sleep 2
nfs_live 2 5
wait "$first"
for i in 1 2; do
	codec=$(codec_of "$T/live-$i.mp4" v:0 2>"$T/ffprobe.err") || true
	read -r _ _ frames < <(video_span "$T/live-$i.mp4" 2>>"$T/ffprobe.err") || frames=0
	[ "$codec" = h264 ] && [ "$frames" -ge 15 ] ||
		fail "live.mp4 over NFS, reader $i: codec '$codec', $frames frames: $(cat "$T/nfs-cat-$i.err"; head -3 "$T/ffprobe.err")"
	ok "live.mp4 over NFS, reader $i: $(stat -c %s "$T/live-$i.mp4") bytes, $codec, $frames frames"
done
kill "$GANESHA"
wait "$GANESHA" 2>/dev/null

# Handles: the segment and its day folder.
$HANDLES save "$M/$rel" "$T/seg.fh" || fail "name_to_handle_at on the mount"
$HANDLES save "$M/a/$day" "$T/day.fh" || fail "name_to_handle_at on a day folder"
sync
echo 2 >/proc/sys/vm/drop_caches   # the kernel forgets the inodes
$HANDLES cat "$M" "$T/seg.fh" "$T/seg-forgot.mp4" || fail "the handle after the kernel forgot the inode"
cmp -s "$T/seg-forgot.mp4" "$seg" || fail "the handle opened another file after a forget"
fusermount3 -u "$M" || fail "unmount"
wait "$CAMFS_PID"
mount_camfs "$M" -o config="$T/camfs.conf" -o allow_other
$HANDLES cat "$M" "$T/seg.fh" "$T/seg-restart.mp4" || fail "the handle after camfs restarted"
cmp -s "$T/seg-restart.mp4" "$seg" || fail "the handle opened another file after a restart"
$HANDLES parent "$M" "$T/day.fh" >"$T/parent" || fail "the day folder's parent, by handle"
grep -qx live.mp4 "$T/parent" && grep -qx "$day" "$T/parent" || fail "the day folder's parent: $(cat "$T/parent")"
ok "handles: a segment opens by handle after a forget and after a restart, identical; a day folder's parent is its camera"
stop_camfs
check_log
