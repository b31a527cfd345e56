#!/bin/bash
# diskfull.sh - a store on a small filesystem fills up: retention frees the
# oldest footage (at ENOSPC, and earlier when min_free asks), recording goes
# on, and no file is left empty or unplayable.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root to mount a small tmpfs"
mkdir -p "$T/store"
mount -t tmpfs -o size=5m camfs-test "$T/store" || skip "cannot mount tmpfs"
MOUNTS+=("$T/store")

ensure_clips
start_fixture cam --mount /cam=clip:"$CLIPS_DIR/bench-1080p.mp4"   # ~4 Mbit/s

run_until_full() {   # $1: min_free
	: >"$T/camfs.log"
	camfs_config segment_seconds=2 min_free="$1" retain_days=0 -- cam=rtsp://127.0.0.1:$cam_PORT/cam
	start_camfs --no-mount -o config="$T/camfs.conf"
	retained() { grep -q '\[retention\]' "$T/camfs.log"; }
	wait_until 60 retained || fail "min_free=$1: retention never ran"
	sleep 8   # keep recording on a full disk for a while
	kill -0 "$CAMFS_PID" || fail "camfs died on a full disk"
	newest=$(segments "$T/store" cam | tail -1)
	age=$(( $(date +%s) - $(stat -c %Y "$newest") ))
	[ "$age" -le 3 ] || fail "min_free=$1: recording stopped ($newest is $age s old)"
	stop_camfs
	check_log
	while read -r f; do
		[ -s "$f" ] || fail "empty file $f"
		plays "$f" || fail "$f does not play"
	done < <(find "$T/store" -name '*.mp4')
	ok "min_free=$1: $(grep -c '\[retention\]' "$T/camfs.log") retention runs, $(count_segments "$T/store" cam) segments kept, all play; $(df -h --output=avail "$T/store" | tail -1) free"
}

run_until_full 0        # nothing but ENOSPC triggers retention
rm -rf "${T:?}/store/"*
run_until_full 40%      # retention keeps 40% free as segments close
avail=$(df --output=avail -B1 "$T/store" | tail -1)
total=$(df --output=size -B1 "$T/store" | tail -1)
# At most one segment (~1 MB) past the limit at any moment.
[ $((avail * 100 / total)) -ge 30 ] || fail "min_free=40%: only $((avail * 100 / total))% free"
