#!/bin/bash
# writefail.sh - failures to record are visible: with its store removed
# under it, camfs says in status.json that the camera is online but not
# recording, with the error and its time, and records again once the store
# is back. A daemonized camfs (stderr is /dev/null) logs to syslog: checked
# with a datagram socket at /dev/log in a mount namespace of its own.
. "$(dirname "$0")/lib.sh"

start_fixture cam --mount /a=h264
camfs_config segment_seconds=2 -- a=rtsp://127.0.0.1:$cam_PORT/a
M=$T/mnt
mount_camfs "$M" -o config="$T/camfs.conf"
wait_until 20 grep -q '\[a\] online' "$T/camfs.log" || fail "camera did not come online"
field() { python3 -c 'import json, sys; s = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$M/a/status.json" "$1"; }
recording() { [ "$(field 's["recording"]')" = "$1" ]; }
wait_until 30 recording True || fail "status.json: not recording"
[ "$(field 's["write_error"]')" = None ] || fail "a write error before any failed"
ok "recording, no write error"

mv "$T/store" "$T/store.away"; echo "moved away at $(date +%T.%N)"
wait_until 30 recording False || fail "status.json still says recording at $(date +%T.%N): $(cat "$M/a/status.json")"
[ "$(field 's["online"]')" = True ] || fail "the camera went offline"
field 's["write_error"]["error"]' | grep -q 'No such file or directory' ||
	fail "write_error: $(field 's["write_error"]')"
field 's["write_error"]["time"]' | grep -q "^$(date +%F)T" || fail "write_error has no time"
ok "store gone: online, not recording, $(field 's["write_error"]')"

mv "$T/store.away" "$T/store"
wait_until 30 recording True || fail "not recording once the store is back at $(date +%T.%N): $(cat "$M/a/status.json")"
grep -q '\[a\] recording again' "$T/camfs.log" || fail "no notice that recording resumed"
ok "recording again"
[ "$(grep -c 'cannot start a segment' "$T/camfs.log")" = 1 ] || fail "the failure was logged more than once"
unmount_camfs "$M"
check_log '\[(a|retention)\] (cannot start a segment in )?.*store: No such file or directory'

# Daemonized: every line reaches syslog.
mkdir -p "$T/olddev" "$T/dstore" "$T/dmnt"
cat >"$T/listen.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
out = open(sys.argv[2], 'w')
while True:
    out.write(s.recv(65536).decode(errors='replace').rstrip('\n') + '\n')
    out.flush()
PY
unshare -m --propagation private bash -c '
set -eu
T=$1; CAMFS=$2
mount --bind /dev "$T/olddev"
mount -t tmpfs tmpfs /dev
for n in null zero full random urandom fuse; do touch "/dev/$n"; mount --bind "$T/olddev/$n" "/dev/$n"; done
python3 "$T/listen.py" /dev/log "$T/syslog.txt" &
listener=$!
for i in $(seq 50); do [ -S /dev/log ] && break; sleep 0.1; done
"$CAMFS" -o http=off --demo -o store="$T/dstore" "$T/dmnt" 2>"$T/daemon.err"
for i in $(seq 100); do grep -q "mounted at" "$T/syslog.txt" 2>/dev/null && break; sleep 0.1; done
for i in $(seq 100); do grep -q "\[demo-moving\] online" "$T/syslog.txt" 2>/dev/null && break; sleep 0.1; done
fusermount3 -u "$T/dmnt"
for i in $(seq 100); do grep -q "unmounted: stopping" "$T/syslog.txt" && break; sleep 0.1; done
kill $listener
' bash "$T" "$CAMFS" || fail "the namespace script failed"
# Lines before it daemonized went to stderr, as they should; none after.
grep -q 'mounted at\|online' "$T/daemon.err" && fail "the daemon wrote to stderr: $(cat "$T/daemon.err")"
grep -Eq '^<29>.*camfs\[[0-9]+\]: \[mount\] mounted at' "$T/syslog.txt" ||
	fail "no 'mounted at' notice in syslog: $(head -c 600 "$T/syslog.txt")"
grep -q '\[demo-moving\] online' "$T/syslog.txt" || fail "no camera line in syslog"
grep -q 'unmounted: stopping' "$T/syslog.txt" || fail "no stop line in syslog"
ok "daemonized camfs logs to syslog ($(wc -l <"$T/syslog.txt") lines)"
