#!/bin/bash
# stale.sh - a camfs killed with SIGKILL leaves its mountpoint answering
# "Transport endpoint is not connected"; the next camfs says so and mounts
# there anyway. SIGTERM then unmounts and stops cleanly, segments closed.
. "$(dirname "$0")/lib.sh"

start_fixture cam --mount /a=h264
camfs_config segment_seconds=2 -- a=rtsp://127.0.0.1:$cam_PORT/a
M=$T/mnt
mount_camfs "$M" -o config="$T/camfs.conf"
one() { [ "$(count_segments "$T/store" a)" -ge 1 ]; }
wait_until 20 one || fail "nothing recorded"
kill -KILL "$CAMFS_PID"
wait "$CAMFS_PID" 2>/dev/null || true
err=$(stat "$M" 2>&1) && fail "the mountpoint still answers after SIGKILL"
echo "$err" | grep -q 'Transport endpoint is not connected' || fail "unexpected: $err"
ok "after SIGKILL: $err"

mount_camfs "$M" -o config="$T/camfs.conf"
grep -q "stale mount left by a stopped camfs" "$T/camfs.log" || fail "the stale mount was not reported"
ls "$M/a" >/dev/null || fail "the new mount does not answer"
ok "$(grep 'stale mount' "$T/camfs.log")"
have() { [ "$(count_segments "$T/store" a)" -ge 3 ]; }
wait_until 20 have || fail "recording did not go on"

stop_camfs
mountpoint -q "$M" && fail "SIGTERM left the tree mounted"
ok "SIGTERM: camfs exited 0 and unmounted"
while read -r f; do plays "$f" || fail "$f does not play"; done < <(segments "$T/store" a)
ok "all $(count_segments "$T/store" a) segments play, the last one closed by SIGTERM"
check_log 'stale mount left by a stopped camfs'
