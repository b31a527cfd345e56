#!/bin/bash
# heldclip.sh - a clip held open while min_free retention runs: the
# segments it holds are deleted but free nothing until it closes, and
# retention does not delete more footage for that space (kept footage stays
# about the same), then it comes free when the clip closes.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root to mount a small tmpfs"
mount -t tmpfs -o size=24m camfs-test "$T/store" || skip "cannot mount tmpfs"
MOUNTS+=("$T/store")

ensure_clips
start_fixture cam --mount /cam=clip:"$CLIPS_DIR/bench-1080p.mp4"   # ~4 Mbit/s
camfs_config segment_seconds=2 min_free=40% retain_days=0 -- cam=rtsp://127.0.0.1:$cam_PORT/cam
M=$T/mnt
mount_camfs "$M" -o config="$T/camfs.conf"
deleting() { [ "$(grep -c '\[retention\] deleted' "$T/camfs.log")" -ge 3 ]; }
wait_until 90 deleting || fail "retention did not run"
kept0=$(count_segments "$T/store" cam)

# Hold a clip of the oldest 12 s open, its header read.
oldest=$(basename "$(segments "$T/store" cam | head -n 1)" .mp4)
day=$(basename "$(dirname "$(segments "$T/store" cam | head -n 1)")")
exec 7<"$M/cam/clips/${day}T${oldest}+12s.mp4" || fail "cannot open the clip"
head -c 4096 <&7 >/dev/null
sleep 12   # two retention runs at least (one per 5 s), the clip's segments deleted
kept1=$(count_segments "$T/store" cam)
grep -q 'still open: free when their readers close them' "$T/camfs.log" ||
	fail "retention never deleted a held segment"
echo "segments kept: $kept0 before the clip was opened, $kept1 with it held"
[ "$kept1" -ge $((kept0 - 2)) ] || fail "retention deleted more footage for the held clip: $kept0 -> $kept1"
ok "a held clip does not make retention delete more ($kept0 -> $kept1 segments)"
held_free=$(df --output=avail -B1 "$T/store" | tail -1)
exec 7<&-
sleep 1
free=$(df --output=avail -B1 "$T/store" | tail -1)
echo "free: $held_free bytes with the clip held, $free after it closed"
unmount_camfs "$M"
check_log
