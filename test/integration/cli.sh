#!/bin/bash
# cli.sh - the command line a user meets first: --help lists every key with
# its default, --check-config names file, line and key, -o overrides.
. "$(dirname "$0")/lib.sh"

"$CAMFS" --help >"$T/help" || fail "--help failed"
for key in store segment_seconds retain_days max_store_size min_free timezone log_level stall_seconds url transport; do
	grep -q "$key" "$T/help" || fail "--help does not list $key"
done
ok "--help lists every key"

cat >"$T/good.conf" <<'CONF'
[camfs]
store = /tmp/x
[camera door]
url = rtsp://u:${PASSWORD_FOR_TEST}@127.0.0.1/x
CONF
PASSWORD_FOR_TEST=hunter2 "$CAMFS" --check-config "$T/good.conf" >"$T/out" 2>&1 || fail "good config rejected: $(cat "$T/out")"
ok "$(cat "$T/out")"

cat >"$T/bad.conf" <<'CONF'
[camfs]
store = /tmp/x
segment_seconds = soon
[camera door]
url = rtsp://u:secret@127.0.0.1/x
colour = blue
CONF
if "$CAMFS" --check-config "$T/bad.conf" >"$T/out" 2>&1; then fail "bad config accepted"; fi
grep -q "bad.conf:3: segment_seconds" "$T/out" || fail "no line/key for segment_seconds: $(cat "$T/out")"
grep -q "bad.conf:6: colour" "$T/out" || fail "no line/key for the unknown key: $(cat "$T/out")"
grep -q secret "$T/out" && fail "a password was printed"
ok "bad config: $(tr '\n' ' ' <"$T/out")"

if "$CAMFS" --no-mount -o segment_seconds=1 --demo -o store="$T/s" >"$T/out" 2>&1; then fail "-o segment_seconds=1 accepted"; fi
grep -q segment_seconds "$T/out" || fail "bad -o not named: $(cat "$T/out")"
ok "bad -o named: $(head -1 "$T/out")"

# Without -f camfs daemonizes, as a user runs it: it serves, and unmounting
# stops it. Its threads start after the fork, which keeps only one thread.
mkdir -p "$T/mnt-daemon"
FUSE_MOUNTS+=("$T/mnt-daemon")
"$CAMFS" --demo -o http=off -o store="$T/daemon-store" "$T/mnt-daemon" >"$T/out" 2>&1 || fail "camfs did not daemonize: $(cat "$T/out")"
wait_until 20 test -e "$T/mnt-daemon/demo-moving/status.json" || fail "the daemon does not serve"
pid=$(pgrep -f -- "-o store=$T/daemon-store") || fail "no daemon process"
PIDS+=($pid)
has_segment() { [ "$(count_segments "$T/daemon-store" demo-moving)" -ge 1 ]; }
wait_until 20 has_segment || fail "the daemon does not record"
fusermount3 -u "$T/mnt-daemon" || fail "fusermount3 -u failed"
gone() { ! kill -0 "$pid" 2>/dev/null; }
wait_until 10 gone || fail "the daemon did not stop after fusermount3 -u"
ok "daemonized: served, recorded, stopped on unmount"

# A store that does not exist is refused (more likely a disk not mounted than
# a wish to fill the root filesystem), unless store_create = yes or --demo
# (which made its own above).
printf '[camfs]\nstore = %s/missing/store\nhttp = off\n[camera door]\nurl = rtsp://127.0.0.1:9/none\n' "$T" >"$T/missing.conf"
if "$CAMFS" --no-mount -o config="$T/missing.conf" >"$T/out" 2>&1; then fail "camfs started without its store"; fi
grep -q "store $T/missing/store: No such file or directory; mount its disk" "$T/out" ||
	fail "no reason given: $(cat "$T/out")"
[ ! -e "$T/missing" ] || fail "the missing store was created"
ok "a missing store is refused: $(grep store "$T/out")"
"$CAMFS" --no-mount -o config="$T/missing.conf" -o store_create=yes >"$T/out" 2>&1 &
pid=$!
PIDS+=($pid)
wait_until 10 test -d "$T/missing/store" || fail "store_create = yes did not create the store: $(cat "$T/out")"
# SIGTERM once it records: the store is made before camfs takes the stop
# signals, and a signal before that ends it as any process (143).
wait_until 10 grep -q 'recording 1 camera' "$T/out" || fail "camfs did not start recording: $(cat "$T/out")"
kill -TERM "$pid"
wait "$pid" || fail "camfs exited with $? on SIGTERM"
grep -q "created store $T/missing/store" "$T/out" || fail "no notice of the store made"
ok "store_create = yes makes it"

# --no-mount ends on SIGHUP as a mounted camfs does (cleanly, exit 0), and a
# SIGPIPE does not end it at all.
"$CAMFS" --no-mount --demo -o http=off -o store="$T/nomount" >"$T/out" 2>&1 &
pid=$!
PIDS+=($pid)
wait_until 20 grep -q '\[demo-moving\] online' "$T/out" || fail "--no-mount did not record: $(cat "$T/out")"
kill -PIPE "$pid"
sleep 0.5
kill -0 "$pid" 2>/dev/null || fail "SIGPIPE ended camfs --no-mount"
kill -HUP "$pid"
wait "$pid" || fail "camfs --no-mount exited with $? on SIGHUP"
grep -q 'Hangup: stopping' "$T/out" || fail "no stop notice on SIGHUP: $(tail -3 "$T/out")"
ok "--no-mount: SIGPIPE ignored, SIGHUP stops it cleanly"

# --no-mount has no tree to export: it says so, and what that costs.
printf '[camfs]\nstore = %s\nstore_create = yes\nhttp = 127.0.0.1:%s\n[camera phone]\npush = browser\ntoken = ${CLI_TOKEN}\n' \
	"$T/nohttp" 18081 >"$T/nohttp.conf"
CLI_TOKEN=0123456789abcdefXYZ "$CAMFS" --no-mount -o config="$T/nohttp.conf" >"$T/out" 2>&1 &
pid=$!
PIDS+=($pid)
wait_until 10 grep -q 'no HTTP export on port [0-9]*, so browser cameras cannot connect' "$T/out" ||
	fail "--no-mount with http and a browser camera said nothing: $(cat "$T/out")"
wait_until 10 grep -q 'recording 1 camera' "$T/out" || fail "camfs did not start recording: $(cat "$T/out")"
kill -TERM "$pid"
wait "$pid" || fail "camfs --no-mount exited with $? on SIGTERM"
ok "--no-mount warns: $(grep -o 'no HTTP export.*' "$T/out")"
