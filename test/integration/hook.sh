#!/bin/bash
# hook.sh - the on_event hook on real motion events: it runs without a shell
# (a quoted argument stays one, $HOME stays literal), once at each event's
# start and once at its end, with CAMFS_* describing the event (a time
# matching the span, a snapshot file, a clip in the mount that plays); a hook
# that hangs is killed with its children after on_event_timeout (SIGTERM,
# or SIGKILL 2 s later for one that ignores SIGTERM), logged, while
# recording goes on without a missing second; no password reaches the log;
# the hook's environment holds PATH, HOME, LANG, LC_*, TZ and CAMFS_* only
# (camfs's own has the camera password).
. "$(dirname "$0")/lib.sh"

ensure_clips
export CAM_PASS='h00k-Pa55'
export NTFY_TOKEN='passed-on'   # named in on_event_env: the hook gets it
start_fixture cam --auth "viewer:$CAM_PASS" --mount /m=clip:"$CLIPS_DIR/motion-h264.mp4"

# The hook: writes its argv, its CAMFS_* variables, the names in its
# environment and whether the snapshot and clip are there to its own file;
# the hang-* cameras' hooks then hang (hang-kill's ignoring SIGTERM, as do
# their children). HOOK_DIR is written into it: the hook gets no more of
# camfs's environment than on_event_env passes.
HOOK_DIR=$T/hooks
mkdir "$HOOK_DIR"
cat >"$T/hook.sh" <<'SH'
#!/bin/sh
HOOK_DIR=@HOOK_DIR@
rec=$HOOK_DIR/$CAMFS_CAMERA.$CAMFS_PHASE.$$
{
	echo "started=$(date +%s.%N)"
	for a in "$@"; do printf 'arg=%s\n' "$a"; done
	env | grep '^CAMFS_' | sort
	echo "envnames=$(tr '\0' '\n' </proc/$$/environ | sed 's/=.*//' | LC_ALL=C sort | tr '\n' ' ')"
	[ -s "$CAMFS_SNAPSHOT" ] && echo snapshot_there=yes || echo snapshot_there=no
	[ -e "$CAMFS_CLIP" ] && echo clip_there=yes || echo clip_there=no
} >"$rec.tmp"
mv "$rec.tmp" "$rec"
[ "$CAMFS_CAMERA" = hang-kill ] && trap '' TERM
case $CAMFS_CAMERA in
hang-*)
	sleep 1000 &
	echo "$$ $!" >"$HOOK_DIR/$CAMFS_CAMERA.$CAMFS_PHASE.pids"
	wait
esac
exit 0
SH
sed -i "s|@HOOK_DIR@|'$HOOK_DIR'|" "$T/hook.sh"
chmod +x "$T/hook.sh"

url="rtsp://viewer:\${CAM_PASS}@127.0.0.1:$cam_PORT/m"
cat >"$T/camfs.conf" <<CONF
[camfs]
store = $T/store
segment_seconds = 2
motion = bitrate
motion_min_seconds = 1
event_pre_roll = 2
event_post_roll = 2
on_event = $T/hook.sh "two words" \$\$HOME x'y z'
on_event_timeout = 2
on_event_env = NTFY_TOKEN

[camera a]
url = $url

[camera hang-term]
url = $url

[camera hang-kill]
url = $url
CONF
cams="a hang-term hang-kill"
M=$T/mnt
mount_camfs "$M" -o config="$T/camfs.conf"
all_online() { [ "$(grep -c '\] online:' "$T/camfs.log")" -eq 3 ]; }
wait_until 20 all_online || fail "cameras did not all come online"
day=$(date +%F)

# gone PID...: none of them runs (a zombie does not).
gone() {
	local p
	for p; do
		[ -e "/proc/$p/stat" ] && [ "$(awk '{ print $3 }' "/proc/$p/stat" 2>/dev/null)" != Z ] && return 1
	done
	return 0
}
started_at() { sed -n 's/^started=//p' "$HOOK_DIR/$1".[0-9]*[0-9]; }

# The hanging hooks of the first event's start: gone after the timeout.
# Meanwhile their cameras record on.
for c in hang-term hang-kill; do
	wait_until 40 test -s "$HOOK_DIR/$c.start.pids" || fail "$c: no hook ran at an event start"
done
segs0=$(count_segments "$T/store" hang-kill)
read -r term_sh term_sleep <"$HOOK_DIR/hang-term.start.pids"
read -r kill_sh kill_sleep <"$HOOK_DIR/hang-kill.start.pids"
gone $term_sh $term_sleep $kill_sh $kill_sleep && fail "the hanging hooks were gone at once"
wait_until 8 gone $term_sh $term_sleep || fail "hang-term's hook (pids $term_sh $term_sleep) still there"
t_term=$(date +%s.%N)
wait_until 8 gone $kill_sh $kill_sleep || fail "hang-kill's hook (pids $kill_sh $kill_sleep) still there"
t_kill=$(date +%s.%N)
lat_term=$(echo "$t_term - $(started_at hang-term.start)" | bc)
lat_kill=$(echo "$t_kill - $(started_at hang-kill.start)" | bc)
(( $(echo "$lat_term >= 1.5 && $lat_term <= 3.5" | bc -l) )) || fail "hang-term's hook gone after $lat_term s, timeout 2"
(( $(echo "$lat_kill >= 3.5 && $lat_kill <= 5.5" | bc -l) )) || fail "hang-kill's hook (ignoring SIGTERM) gone after $lat_kill s, timeout 2 + 2"
for c in hang-term hang-kill; do
	grep -q "\[$c\] on_event hook (motion start) still running after 2 s: killed" "$T/camfs.log" ||
		fail "$c: the timeout was not logged"
done
segs1=$(count_segments "$T/store" hang-kill)
[ "$segs1" -gt "$segs0" ] || fail "hang-kill: no new segment while its hook hung ($segs0 -> $segs1)"
ok "hanging hooks and their children gone: SIGTERM after $lat_term s, SIGKILL (SIGTERM ignored) after $lat_kill s; timeouts logged; hang-kill's segments $segs0 -> $segs1 meanwhile"

# The first event ends: a's end hook runs; the hanging end hooks go too.
# The cameras stop then, in the still phase before the next event: camfs
# stopping during an event ends it, and kills the end hooks it starts.
have_record() { compgen -G "$HOOK_DIR/$1.[0-9]*[0-9]" >/dev/null; }
wait_until 40 have_record a.end || fail "a: no hook at the event's end"
kill -TERM "$cam_PID"
for c in hang-term hang-kill; do
	wait_until 10 test -s "$HOOK_DIR/$c.end.pids" || fail "$c: no hook at the event's end"
	read -r sh sl <"$HOOK_DIR/$c.end.pids"
	wait_until 8 gone $sh $sl || fail "$c: the end hook (pids $sh $sl) still there"
done
ok "end hooks ran; the hanging ones are gone too"

# What the hooks saw, against the event's span, snapshot and clip.
python3 - "$HOOK_DIR" "$T/store" "$M" <<'PY' || fail "the hooks' records"
import datetime, glob, os, re, subprocess, sys, time
hooks, store, mnt = sys.argv[1:]
def fail(msg):
    sys.exit('FAIL: ' + msg)
for cam in ('a', 'hang-term', 'hang-kill'):
    recs = {}
    for phase in ('start', 'end'):
        files = sorted(glob.glob('%s/%s.%s.[0-9]*[0-9]' % (hooks, cam, phase)))
        if not files:
            fail('%s: no %s record' % (cam, phase))
        r = {'arg': []}
        for l in open(files[0]).read().splitlines():
            k, v = l.split('=', 1)
            if k == 'arg':
                r['arg'].append(v)
            else:
                r[k] = v
        recs[phase] = r
    s, e = recs['start'], recs['end']
    want = sorted(['CAMFS_CAMERA', 'CAMFS_CLIP', 'CAMFS_EVENT', 'CAMFS_PHASE', 'CAMFS_SNAPSHOT',
                   'CAMFS_TIME', 'CAMFS_TIME_UNIX', 'NTFY_TOKEN', 'PATH'] +
                  [n for n in os.environ if n in ('HOME', 'LANG', 'TZ') or n.startswith('LC_')])
    for phase, r in recs.items():
        if r['envnames'].split() != want:
            fail('%s %s: environment %s, want %s' % (cam, phase, r['envnames'], ' '.join(want)))
    for phase, r in recs.items():
        if r['arg'] != ['two words', '$HOME', 'xy z']:
            fail('%s %s: argv %r' % (cam, phase, r['arg']))
        for k, want in (('CAMFS_CAMERA', cam), ('CAMFS_EVENT', 'motion'), ('CAMFS_PHASE', phase)):
            if r.get(k) != want:
                fail('%s %s: %s=%r' % (cam, phase, k, r.get(k)))
        t = r['CAMFS_TIME']
        if not re.fullmatch(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d', t):
            fail('%s %s: CAMFS_TIME=%r is not ISO 8601 with an offset' % (cam, phase, t))
        unix = int(r['CAMFS_TIME_UNIX'])
        if datetime.datetime.fromisoformat(t).timestamp() != unix:
            fail('%s %s: CAMFS_TIME %s is not CAMFS_TIME_UNIX %d' % (cam, phase, t, unix))
        if datetime.datetime.fromtimestamp(unix).astimezone().isoformat() != t:
            fail('%s %s: CAMFS_TIME %s is not local time' % (cam, phase, t))
    # The same event at both ends: same snapshot and clip.
    day = s['CAMFS_TIME'][:10]
    stem = time.strftime('%H-%M-%S', time.localtime(int(s['CAMFS_TIME_UNIX']))) + '-motion'
    snap = os.path.join(store, cam, 'events', day, stem + '.jpg')
    clip = os.path.join(mnt, cam, 'events', day, stem + '.mp4')
    for phase, r in recs.items():
        if os.path.realpath(r['CAMFS_SNAPSHOT']) != os.path.realpath(snap):
            fail('%s %s: CAMFS_SNAPSHOT=%s, want %s' % (cam, phase, r['CAMFS_SNAPSHOT'], snap))
        if r['CAMFS_CLIP'] != os.path.realpath(clip):
            fail('%s %s: CAMFS_CLIP=%s, want %s' % (cam, phase, r['CAMFS_CLIP'], clip))
        if r['snapshot_there'] != 'yes':
            fail('%s %s: the snapshot was not there when the hook ran' % (cam, phase))
    codec = subprocess.run(['ffprobe', '-v', 'error', '-show_entries', 'stream=codec_name',
                            '-of', 'csv=p=0', snap], capture_output=True).stdout.decode().strip()
    if codec != 'mjpeg':
        fail('%s: the snapshot is %r' % (snap, codec))
    # Times: the span's start and end.
    spans = {}
    for l in open(os.path.join(store, cam, 'events', day, '.spans')):
        st, a, b = l.split()
        spans[st] = (a, b)
    a, b = spans[stem]
    if b == '-' or int(a) // 1000000 != int(s['CAMFS_TIME_UNIX']) or \
            int(b) // 1000000 != int(e['CAMFS_TIME_UNIX']):
        fail('%s: hooks at %s and %s, span %s %s' % (cam, s['CAMFS_TIME_UNIX'],
                                                     e['CAMFS_TIME_UNIX'], a, b))
    # The clip the hooks were given: there, and it plays.
    err = subprocess.run(['ffmpeg', '-v', 'error', '-nostdin', '-i', clip, '-f', 'null', '-'],
                         capture_output=True).stderr
    dur = float(subprocess.run(['ffprobe', '-v', 'error', '-show_entries', 'format=duration',
                                '-of', 'csv=p=0', clip], capture_output=True).stdout or 0)
    if err or dur < 4:
        fail('%s: %s plays %.3f s: %s' % (cam, clip, dur, err.decode()))
    print('ok: %s: event %s, hook ran %.2f s after its start (clip there then: %s) and %.2f s '
          'after its end; CAMFS_TIME %s; clip %.3f s plays; argv %r' %
          (cam, stem, float(s['started']) - int(a) / 1e6, s['clip_there'],
           float(e['started']) - int(b) / 1e6, s['CAMFS_TIME'], dur, s['arg']))
PY

offline() { [ "$(grep -c '\] offline' "$T/camfs.log")" -ge 3 ]; }
wait_until 10 offline || fail "cameras did not go offline"
unmount_camfs "$M"
check_log '\[hang-(term|kill)\] on_event hook \(motion (start|end)\) still running after 2 s: killed|\] offline: (lost|cannot connect)'
! grep -q 'motion event .* started' <(sed -n '/offline/,$p' "$T/camfs.log") || fail "an event started as the cameras stopped"
! grep -q "$CAM_PASS" "$T/camfs.log" || fail "the password is in the log"
! grep -rq "$CAM_PASS" "$HOOK_DIR" || fail "the password reached a hook's CAMFS_* variables or argv"
ok "no password in the log or the hooks' records"

# Recording was not disturbed by the hanging hooks: contiguous segments,
# a sidecar row for every second.
for c in $cams; do
	contiguous "$T/store" "$c" || fail "$c: footage lost between segments"
	n=$(count_segments "$T/store" "$c")
	rows=$(cat "$T/store/$c/$day"/*.motion.csv | grep -v '^time,score$')
	python3 -c '
import sys, time
t = [int(time.mktime(time.strptime(l.split(",")[0], "%Y-%m-%d %H:%M:%S"))) for l in sys.stdin.read().split("\n") if l]
bad = [(a, b) for a, b in zip(t, t[1:]) if b != a + 1]
sys.exit("rows jump: %r" % bad if bad else 0)' <<<"$rows" || fail "$c: sidecar rows not one per second"
	ok "$c: $n contiguous segments, $(wc -l <<<"$rows") sidecar rows, one per second"
done
# In particular through the hang of hang-kill's start hook.
from=$(date -d "@$(started_at hang-kill.start)" '+%F %T')
to=$(date -d "@$t_kill" '+%F %T')
grep -q "^$from," "$T/store/hang-kill/$day"/*.motion.csv && grep -q "^$to," "$T/store/hang-kill/$day"/*.motion.csv ||
	fail "hang-kill: no sidecar rows for $from to $to, while its hook hung"
ok "hang-kill: sidecar rows from $from to $to (the hang) present"
