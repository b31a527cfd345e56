#!/bin/bash
# notify.sh - camfs under a Type=notify unit, with systemd's side played by a
# datagram socket: READY=1 comes once the tree is mounted, STATUS= counts
# the cameras online, WATCHDOG=1 pings come at half WATCHDOG_USEC, STOPPING=1
# at the end; and a wedged writer (CAMFS_TEST_WEDGE_WRITER, a test hook)
# stops the pings, so systemd would restart camfs.
. "$(dirname "$0")/lib.sh"

[ -e /dev/fuse ] || skip "no /dev/fuse"
start_fixture cam --mount /a=h264
camfs_config segment_seconds=2 -- a=rtsp://127.0.0.1:$cam_PORT/a
MNT=$T/mnt
mkdir -p "$MNT"

# listen LOG: what camfs tells systemd, a line per message with the time
# (s) and whether the tree answered then.
listen() {
	rm -f "$T/notify"
	python3 - "$T/notify" "$MNT" >"$1" <<'PY' &
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
while True:
    msg = s.recv(4096).decode()
    mounted = os.path.exists(os.path.join(sys.argv[2], 'status.json'))
    for line in msg.split('\n'):
        print('%.3f %s %s' % (time.monotonic(), 'mounted' if mounted else 'unmounted', line), flush=True)
PY
	LISTENER=$!
	PIDS+=($LISTENER)
	wait_until 5 test -S "$T/notify" || fail "the notify socket was not made"
}

run() {   # $@: environment for camfs
	FUSE_MOUNTS+=("$MNT")
	env NOTIFY_SOCKET="$T/notify" WATCHDOG_USEC=1000000 "$@" \
		"$CAMFS" -o http=off -f -o config="$T/camfs.conf" "$MNT" >>"$T/camfs.log" 2>&1 &
	CAMFS_PID=$!
	PIDS+=($CAMFS_PID)
}

# 1. A camfs that is well.
listen "$T/well.log"
run
wait_until 20 grep -q 'READY=1' "$T/well.log" || fail "no READY=1: $(cat "$T/camfs.log")"
grep -q 'mounted READY=1' "$T/well.log" || fail "READY=1 came before the tree was mounted"
wait_until 20 grep -q 'STATUS=1/1 camera online' "$T/well.log" ||
	fail "no STATUS with the camera online: $(grep STATUS "$T/well.log")"
grep -q 'STATUS=0/1 camera online' "$T/well.log" || fail "no STATUS before the camera came online"
sleep 3
pings=$(grep -c 'WATCHDOG=1' "$T/well.log")
[ "$pings" -ge 5 ] || fail "only $pings watchdog pings in over 3 s (WATCHDOG_USEC=1 s)"
stop_camfs
wait_until 5 grep -q 'STOPPING=1' "$T/well.log" || fail "no STOPPING=1"
ok "READY=1 once mounted, STATUS 0/1 then 1/1 camera online, $pings pings, STOPPING=1"
kill "$LISTENER"

# 2. The writer hangs 3 s after it started: the pings stop within the
# writer's bound (20 s), and the log says what is stuck.
listen "$T/wedged.log"
: >"$T/camfs.log"
run CAMFS_TEST_WEDGE_WRITER=3
wait_until 20 grep -q 'READY=1' "$T/wedged.log" || fail "no READY=1 (wedged run)"
wait_until 40 grep -q 'writer is stuck' "$T/camfs.log" ||
	fail "the wedged writer was not noticed: $(tail -5 "$T/camfs.log")"
before=$(grep -c 'WATCHDOG=1' "$T/wedged.log")
[ "$before" -ge 10 ] || fail "only $before pings before the writer hung"
sleep 3
after=$(grep -c 'WATCHDOG=1' "$T/wedged.log")
[ "$after" = "$before" ] || fail "pings went on with the writer stuck ($before, then $after)"
last=$(grep 'WATCHDOG=1' "$T/wedged.log" | tail -1 | cut -d' ' -f1)
first=$(head -1 "$T/wedged.log" | cut -d' ' -f1)
stop_camfs
ok "writer hung 3 s in: pings stopped $(echo "$last - $first" | bc) s after READY, $before in all, none since"
check_log 'CAMFS_TEST_WEDGE_WRITER|writer is stuck|no keyframe|queue'
