#!/bin/bash
# flaps.sh (long suite) - a camera flaps FLAPS times (100 by default), half
# dropping its connection (killed, restarted), half freezing (SIGSTOP, then
# SIGCONT): every freeze is found within stall_seconds of the stop, the
# camera comes back each time, and afterwards camfs holds as many fds and
# threads as before and about the same RSS.
. "$(dirname "$0")/../integration/lib.sh"

FLAPS=${FLAPS:-100}
STALL=2
start_fixture cam --mount /a=h264
trap 'kill -CONT "$cam_PID" 2>/dev/null; cleanup' EXIT
camfs_config segment_seconds=2 stall_seconds=$STALL -- a=rtsp://127.0.0.1:$cam_PORT/a
M=$T/mnt
mount_camfs "$M" -o config="$T/camfs.conf"
wait_until 20 grep -q '\[a\] online' "$T/camfs.log" || fail "camera did not come online"

count() { grep -c "$1" "$T/camfs.log" || true; }
grown() { [ "$(count "$1")" -gt "$2" ]; }   # more lines match $1 than $2
usage() {
	echo "$(find "/proc/$CAMFS_PID/fd" -mindepth 1 | wc -l) $(find "/proc/$CAMFS_PID/task" -mindepth 1 -maxdepth 1 | wc -l) $(awk '/VmRSS/ { print $2 }' "/proc/$CAMFS_PID/status")"
}
# flap N: one outage and the camera back.
flap() {
	local off back t0 took
	off=$(count '\[a\] offline:')
	back=$(count '\[a\] online again')
	if [ $(($1 % 2)) = 0 ]; then
		kill -STOP "$cam_PID"
		t0=$(date +%s.%N)
		wait_until 20 grown '\[a\] offline:' "$off" || fail "flap $1: freeze not found"
		took=$(echo "$(date +%s.%N) - $t0" | bc -l)
		(( $(echo "$took < $STALL + 1.0" | bc -l) )) || fail "flap $1: stall found after $took s"
		echo "$took" >>"$T/stall_times"
		kill -CONT "$cam_PID"
	else
		kill -KILL "$cam_PID"
		wait "$cam_PID" 2>/dev/null || true
		wait_until 20 grown '\[a\] offline:' "$off" || fail "flap $1: drop not seen"
		restart_fixture cam "$cam_PORT" --mount /a=h264
	fi
	wait_until 60 grown '\[a\] online again' "$back" || fail "flap $1: camera did not come back"
}

for i in 1 2; do flap "$i"; done   # warm up: first-use allocations
sleep 3
read -r fds0 threads0 rss0 <<<"$(usage)"
for i in $(seq 3 $((FLAPS + 2))); do flap "$i"; done
sleep 3
read -r fds threads rss <<<"$(usage)"
echo "before: $fds0 fds, $threads0 threads, $rss0 kB; after $FLAPS flaps: $fds fds, $threads threads, $rss kB"
ok "stall found in $(sort -n "$T/stall_times" | tail -1) s at most (stall_seconds = $STALL)"
[ "$fds" -le $((fds0 + 2)) ] || fail "fds grew from $fds0 to $fds"
[ "$threads" -le "$threads0" ] || fail "threads grew from $threads0 to $threads"
[ "$rss" -le $((rss0 * 12 / 10 + 8192)) ] || fail "RSS grew from $rss0 to $rss kB"
plays "$(segments "$T/store" a | tail -n 2 | head -n 1)" || fail "the footage does not play"
ok "$FLAPS flaps: fds, threads and RSS back to where they were"
unmount_camfs "$M"
check_log '\[a\] offline: '
