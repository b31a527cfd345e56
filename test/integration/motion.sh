#!/bin/bash
# motion.sh - motion scores and motion events from real cameras, in one
# mounted camfs: a box that stands still 10 s then moves 10 s (looped), scored
# by bitrate (H.264 and H.265) and by pixels, and a still scene. Every segment
# has a sidecar with one row per second of it; the day's motion.csv is the
# sidecars' rows; moving phases score at or above the threshold and still
# ones low, a still scene never starts an event; each event has a snapshot
# that is the picture at its start and a clip from pre-roll to post-roll
# that plays; status.json shows the score and whether an event is open.
. "$(dirname "$0")/lib.sh"

PRE=2 POST=2 MIN=2
ensure_clips
start_fixture cam --mount /motion264=clip:"$CLIPS_DIR/motion-h264.mp4" \
	--mount /motion265=clip:"$CLIPS_DIR/motion-h265.mp4" --mount /static=clip:"$CLIPS_DIR/static-h264.mp4"
url=rtsp://127.0.0.1:$cam_PORT
cat >"$T/camfs.conf" <<CONF
[camfs]
store = $T/store
segment_seconds = 10
event_pre_roll = $PRE
event_post_roll = $POST
motion_min_seconds = $MIN

[camera move-bitrate]
url = $url/motion264
motion = bitrate

[camera move-pixels]
url = $url/motion264
motion = pixels

[camera still-bitrate]
url = $url/static
motion = bitrate

[camera still-pixels]
url = $url/static
motion = pixels

[camera hevc-bitrate]
url = $url/motion265
motion = bitrate

[camera off]
url = $url/static
motion = off
CONF
moving="move-bitrate move-pixels hevc-bitrate"
still="still-bitrate still-pixels"
scored="$moving $still"

# check.py: the store- and mount-side checks that need arithmetic.
cat >"$T/check.py" <<'PY'
import glob, json, os, re, statistics, struct, subprocess, sys, time

ROW = re.compile(r'^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d+)$')

def fail(msg):
    sys.exit('FAIL: ' + msg)

def run(*cmd):
    return subprocess.run(cmd, check=True, capture_output=True).stdout

def wall_of(path):
    """Wall clock (s) of a segment's first frame: its first prft box."""
    data = open(path, 'rb').read(1 << 20)
    off = 0
    while off + 8 <= len(data):
        size, kind = struct.unpack('>I4s', data[off:off + 8])
        if kind == b'prft':
            ntp = struct.unpack('>Q', data[off + 16:off + 24])[0]
            return (ntp >> 32) - 2208988800 + (ntp & 0xffffffff) / 2**32
        if size < 8:
            break
        off += size
    fail(path + ': no prft box')

def frames(path):
    """[(wall, box_x)] of a segment's frames, in order."""
    w0 = wall_of(path)
    pts = [float(l.split(',')[0]) for l in
           run('ffprobe', '-v', 'error', '-select_streams', 'v:0', '-show_entries',
               'packet=pts_time', '-of', 'csv=p=0', path).decode().split()]
    pts.sort()
    raw = run('ffmpeg', '-v', 'error', '-nostdin', '-i', path, '-map', '0:v:0', '-vf',
              'crop=640:2:0:180', '-f', 'rawvideo', '-pix_fmt', 'gray', '-')
    xs = []
    for i in range(0, len(raw), 1280):
        row = raw[i:i + 640]
        xs.append(next((x for x, v in enumerate(row) if v > 200), -1))
    if len(xs) != len(pts):
        fail('%s: %d frames decoded, %d packets' % (path, len(xs), len(pts)))
    return [(w0 + p - pts[0], x) for p, x in zip(pts, xs)], pts[-1] - pts[0] + 1 / 15

def segments(store, cam):
    return sorted(glob.glob(os.path.join(store, cam, '????-??-??', '[0-9][0-9]-[0-9][0-9]-[0-9][0-9].mp4')))

def sidecar(seg):
    return seg[:-4] + '.motion.csv'

def secs(text):
    return int(time.mktime(time.strptime(text, '%Y-%m-%d %H:%M:%S')))

def scores(store, cam, expect, threshold):
    """Sidecars against their segments, scores against what the camera showed."""
    rows, fr = [], []
    segs = segments(store, cam)
    if len(segs) < 3:
        fail('%s: only %d segments' % (cam, len(segs)))
    for i, seg in enumerate(segs):
        f, dur = frames(seg)
        fr += f
        sc = sidecar(seg)
        if expect == 'off':
            if os.path.exists(sc):
                fail(sc + ' exists with motion = off')
            continue
        lines = open(sc).read().split('\n')
        if lines[0] != 'time,score' or lines[-1] != '':
            fail('%s: header %r, last line %r' % (sc, lines[0], lines[-1]))
        mine = []
        for l in lines[1:-1]:
            m = ROW.match(l)
            if not m or not 0 <= int(m.group(2)) <= 100:
                fail('%s: bad row %r' % (sc, l))
            mine.append((secs(m.group(1)), int(m.group(2))))
        # One row per wall-clock second of the segment, the first partial
        # second included; a second it shares with the next segment is
        # that one's. Rows go by arrival time: a segment lasts until the
        # next one's first frame arrives (after a stream's start, frames
        # may arrive faster than they play). The segment camfs was writing
        # when the stream ended has its last partial second too: up to 2
        # more rows than whole seconds of its video.
        last = seg == segs[-1]
        if not last:
            dur = wall_of(segs[i + 1]) - wall_of(seg)
        if not (-1 <= len(mine) - dur <= (2 if last else 1)):
            fail('%s: %d rows for %.3f s (%s)' % (sc, len(mine), dur, 'of video' if last else 'of wall clock'))
        # The row of the second a segment starts in goes to it, or to the
        # segment before (which has a part of that second too) when the
        # score reaches the writer before the new segment's first fragment.
        if mine[0][0] not in (int(f[0][0]), int(f[0][0]) + 1):
            fail('%s: first row at %d, the segment starts at %.3f' % (sc, mine[0][0], f[0][0]))
        print('  %s: %d rows for %.3f s%s' % (os.path.basename(sc), len(mine), dur,
                                              ' (the last segment)' if last else ''))
        rows += mine
    if expect == 'off':
        print('ok: %s: %d segments, no sidecar' % (cam, len(segs)))
        return
    for (a, _), (b, _) in zip(rows, rows[1:]):
        if b != a + 1:
            fail('%s: row %s follows %s' % (cam, time.ctime(b), time.ctime(a)))
    # What the camera showed in each second: moving when the box moved
    # since the frame before in every frame of it (0.15 s either side).
    moved = [(w, i > 0 and x != fr[i - 1][1]) for i, (w, x) in enumerate(fr)]
    phase = {}
    for s, score in rows:
        m = {mv for w, mv in moved if s - 0.15 <= w < s + 1.15}
        phase[s] = 'moving' if m == {True} else 'still' if m == {False} else 'mixed'
    mov = [sc for s, sc in rows if phase[s] == 'moving']
    sti = [sc for s, sc in rows if phase[s] == 'still']
    line = ''.join('M' if phase[s] == 'moving' else 's' if phase[s] == 'still' else '.' for s, _ in rows)
    print('  %s phases: %s' % (cam, line))
    print('  %s scores: %s' % (cam, ' '.join(str(sc) for _, sc in rows)))
    if expect == 'still':
        if mov:
            fail('%s: the static clip moved in %d seconds' % (cam, len(mov)))
        # The clip's first P-frame after its first keyframe is 3x the
        # size of the others: where it loops, bitrate scores one second ~15.
        high = [sc for sc in sti if sc > 5]
        if max(sti) > 25 or len(high) > len(sti) // 10:
            fail('%s: a still scene scored %s' % (cam, ' '.join(map(str, high))))
        print('ok: %s: %d rows, still scene scores max %d, median %g' %
              (cam, len(rows), max(sti), statistics.median(sti)))
        return
    if len(mov) < 8 or len(sti) < 8:
        fail('%s: only %d moving and %d still seconds recorded' % (cam, len(mov), len(sti)))
    if max(mov) < threshold:
        fail('%s: moving seconds score at most %d, threshold %d' % (cam, max(mov), threshold))
    if expect == 'bitrate':
        # Packet sizes: a still second is as cheap as the mean, scoring 0.
        if statistics.median(sti) > 5 or statistics.median(mov) < threshold:
            fail('%s: median score %g still, %g moving' %
                 (cam, statistics.median(sti), statistics.median(mov)))
    else:
        # Keyframes against a running-average background: where the box
        # stops, or left from, counts until the background has learnt it
        # (4 keyframes, 8 s); by the end of a still phase it is learnt.
        after = [sc for s, sc in rows if phase[s] == 'still' and
                 any(phase[t] == 'moving' for t, _ in rows if t < s)]
        if not statistics.median(sti) < statistics.median(mov) or (after and min(after) >= threshold):
            fail('%s: median score %g still, %g moving; after motion the still scene scores '
                 'at least %s' % (cam, statistics.median(sti), statistics.median(mov),
                                  min(after) if after else '-'))
    print('ok: %s: %d rows, one per second; moving: max %d median %g (%d s), still: max %d '
          'median %g (%d s), threshold %d' %
          (cam, len(rows), max(mov), statistics.median(mov), len(mov), max(sti),
           statistics.median(sti), len(sti), threshold))

def duration(path):
    return float(run('ffprobe', '-v', 'error', '-show_entries', 'format=duration', '-of',
                     'csv=p=0', path).decode())

def psnr(clip, jpeg, seconds):
    """PSNR (Y, dB) of the JPEG against each of the clip's first frames."""
    out = subprocess.run(
        ['ffmpeg', '-v', 'error', '-nostdin', '-t', str(seconds), '-i', clip, '-loop', '1',
         '-i', jpeg, '-lavfi',
         '[1:v]scale=in_range=full:out_range=limited,format=yuv420p[j];'
         '[0:v]format=yuv420p[c];[c][j]psnr=stats_file=-:shortest=1', '-f', 'null', '-'],
        check=True, capture_output=True).stdout.decode()
    vals = []
    for l in out.splitlines():
        m = re.search(r'psnr_y:(\S+)', l)
        if m:
            vals.append(float('inf') if m.group(1) == 'inf' else float(m.group(1)))
    return vals

def events(store, mnt, cam, pre, post, min_s):
    """Every event's snapshot and clip in the mount, against its span."""
    segs = segments(store, cam)
    rec_start = wall_of(segs[0])
    f, dur = frames(segs[-1])
    rec_end = f[0][0] + dur
    spans = {}
    for path in glob.glob(os.path.join(store, cam, 'events', '*', '.spans')):
        for l in open(path):
            stem, start, end = l.split()
            spans[(os.path.basename(os.path.dirname(path)), stem)] = (start, end)
    if not spans:
        fail(cam + ': no motion event')
    for (day, stem), (start, end) in sorted(spans.items()):
        if end == '-':
            fail('%s: event %s never ended (camfs ended it when the stream did)' % (cam, stem))
        start, end = int(start) / 1e6, int(end) / 1e6
        base = os.path.join(mnt, cam, 'events', day, stem)
        jpeg, clip = base + '.jpg', base + '.mp4'
        for p in (jpeg, clip):
            if not os.path.isfile(p):
                fail(p + ' missing in the mount')
        info = run('ffprobe', '-v', 'error', '-show_entries', 'stream=codec_name,width,height',
                   '-of', 'csv=p=0', jpeg).decode().strip()
        if info != 'mjpeg,640,360':
            fail('%s: %s, want an mjpeg 640x360' % (jpeg, info))
        if subprocess.run(['ffmpeg', '-v', 'error', '-nostdin', '-i', clip, '-f', 'null', '-'],
                          capture_output=True).stderr:
            fail(clip + ' does not decode cleanly')
        d = duration(clip)
        want = min(end + post, rec_end) - max(start - pre, rec_start)
        if d < pre + min_s or abs(d - want) > 0.3:
            fail('%s: %.3f s, want %.3f (span %.3f s, %d pre, %d post, recording to %.3f)' %
                 (clip, d, want, end - start, pre, post, rec_end))
        # The snapshot is the first keyframe at or after the start: within
        # a GOP (2 s) after the clip's pre-roll; the still frames of the
        # pre-roll's first second show the box elsewhere.
        p = psnr(clip, jpeg, pre + 2.5)
        best = max(range(len(p)), key=lambda i: p[i])
        early = max(p[:15])
        if p[best] < 30 or not pre - 0.1 <= best / 15 <= pre + 2.1 or early > p[best] - 10:
            fail('%s: best match %.1f dB at %.3f s into the clip, %.1f dB at best in its first '
                 'second' % (jpeg, p[best], best / 15, early))
        print('ok: %s/%s: span %.3f s; clip %.3f s (want %.3f: %s); snapshot = frame at %.3f s '
              'into the clip (%.1f dB; first second of the clip at best %.1f dB)' %
              (cam, stem, end - start, d, want,
               'pre + span + post' if end + post <= rec_end else 'ended with the stream',
               best / 15, p[best], early))

if sys.argv[1] == 'scores':
    scores(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
else:
    events(sys.argv[2], sys.argv[3], sys.argv[4], *map(int, sys.argv[5:8]))
PY

M=$T/mnt
t_start=$SECONDS
mount_camfs "$M" -o config="$T/camfs.conf"
all_online() { [ "$(grep -c '\] online:' "$T/camfs.log")" -eq 6 ]; }
wait_until 20 all_online || fail "cameras did not all come online"
day=$(date +%F)

# read_held FILE: its bytes, keeping it open a moment after the last read.
# camfs frees a generated file's (status.json, motion.csv) buffer when it is
# released, possibly while the FUSE thread that sent the last read's reply
# is still in writev(); ASan's writev interceptor checks the buffer after
# the call and aborts camfs (heap-use-after-free; reported, fs/mount.c).
read_held() { python3 -c 'import sys, time; f = open(sys.argv[1], "rb"); d = f.read(); time.sleep(0.3); sys.stdout.buffer.write(d)' "$1"; }
# status CHECK: a Python expression on c, the cameras by name in the
# top-level status.json, is true.
status() {
	read_held "$M/status.json" >"$T/status.json"
	python3 -c 'import json, sys; c = {x["name"]: x for x in json.load(open(sys.argv[1]))["cameras"]}; sys.exit(not eval(sys.argv[2]))' "$T/status.json" "$1"
}
started() { grep -q "\[$1\] motion event .* started" "$T/camfs.log"; }

# An event opens within the first loop of the clip (moving from 10 s).
wait_until 30 started move-bitrate || fail "move-bitrate: no event within 30 s"
t_seen=$(date +%s.%N)
status 'c["move-bitrate"]["in_event"] is True and type(c["move-bitrate"]["motion"]) is int and c["move-bitrate"]["motion"] >= 50 and c["off"]["motion"] is None and c["off"]["in_event"] is False' ||
	fail "status.json in an event: $(cat "$T/status.json")"
score=$(python3 -c 'import json, sys; print([x["motion"] for x in json.load(open(sys.argv[1]))["cameras"] if x["name"] == "move-bitrate"][0])' "$T/status.json")
read_held "$M/off/status.json" | python3 -c 'import json, sys; d = json.load(sys.stdin); sys.exit(not (d["name"] == "off" and d["motion"] is None and d["in_event"] is False))' ||
	fail "off/status.json: $(read_held "$M/off/status.json")"
ok "status.json: move-bitrate motion $score, in_event true; off (also off/status.json): motion null, in_event false"

# The open event: its snapshot and a clip that grows while it lasts.
snap=$(ls "$M/move-bitrate/events/$day/" | grep -- '-motion\.jpg$' | head -1) || fail "no snapshot in events/$day"
stem=${snap%.jpg}
open_clip=$M/move-bitrate/events/$day/$stem.mp4
start_s=$(date -d "$day ${stem:0:2}:${stem:3:2}:${stem:6:2}" +%s)
latency=$(echo "$t_seen - $start_s" | bc)
long_enough() { [ -f "$open_clip" ] && (( $(echo "$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$open_clip" || echo 0) >= $PRE + $MIN" | bc -l) )); }
wait_until 10 long_enough || fail "$stem.mp4 did not reach $PRE + $MIN s while open"
d1=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$open_clip")
plays "$open_clip" || fail "$stem.mp4 (open) does not play"
sleep 2.5
d2=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$open_clip")
(( $(echo "$d2 > $d1 + 1" | bc -l) )) || fail "the open event's clip did not grow ($d1 s, then $d2 s)"
ok "open event $stem: logged $latency s after its start; clip plays, grows $d1 s -> $d2 s"

# The day's motion.csv while recording: what the sidecars held a moment
# later starts with it.
csv_of_store() { echo time,score; for f in "$T/store/$1/$day"/*.motion.csv; do tail -n +2 "$f"; done; }
read_held "$M/move-bitrate/$day/motion.csv" >"$T/live.csv"
csv_of_store move-bitrate >"$T/store.csv"
cmp -s "$T/live.csv" <(head -c "$(stat -c %s "$T/live.csv")" "$T/store.csv") ||
	fail "motion.csv while recording is not a prefix of the sidecars' rows"
behind=$(( $(wc -l <"$T/store.csv") - $(wc -l <"$T/live.csv") ))
[ "$behind" -le 2 ] || fail "motion.csv lags the sidecars by $behind rows"
ok "live motion.csv: $(($(wc -l <"$T/live.csv") - 1)) rows, a prefix of the sidecars' rows ($behind newer)"

# Record on into the second moving phase: both bitrate cameras have started
# their second event and had it open for a few seconds.
second() { [ "$(grep -c "\[$1\] motion event .* started" "$T/camfs.log")" -ge 2 ]; }
wait_until 40 second move-bitrate || fail "move-bitrate: no second event"
wait_until 10 second hevc-bitrate || fail "hevc-bitrate: no second event"
grep -q "\[move-bitrate\] motion event $stem ended" "$T/camfs.log" || fail "the first event did not end"
sleep $((PRE + MIN))

# The cameras stop: open events end with the stream, and the tree stops
# changing.
kill -TERM "$cam_PID"
wait "$cam_PID" || true
ended() {
	for c in $scored off; do grep -q "\[$c\] offline" "$T/camfs.log" || return 1; done
	for c in $moving; do
		[ "$(grep -c "\[$c\] motion event .* started" "$T/camfs.log")" = \
		  "$(grep -c "\[$c\] motion event .* ended" "$T/camfs.log")" ] || return 1
	done
}
wait_until 20 ended || fail "cameras did not go offline, or events stayed open"
t_stopped=$SECONDS
sleep 1
status 'not any(c[n]["in_event"] for n in c) and all(type(c[n]["in_event"]) is bool for n in c)' ||
	fail "status.json once offline: $(cat "$T/status.json")"

for c in $scored; do
	cmp -s <(csv_of_store "$c") <(read_held "$M/$c/$day/motion.csv") || fail "$c/$day/motion.csv differs from its sidecars"
done
ok "motion.csv = header + the sidecars' rows, byte for byte, for $scored ($(wc -l <"$M/move-bitrate/$day/motion.csv") lines for move-bitrate)"
[ -d "$M/off/$day" ] || fail "off/$day missing from the mount"
[ -z "$(find "$M/off/$day" -maxdepth 1 -name '*.motion.csv')" ] || fail "off has sidecars in the mount: $(ls "$M/off/$day")"

for c in $moving; do
	python3 "$T/check.py" events "$T/store" "$M" "$c" $PRE $POST $MIN || fail "$c: events"
done
for c in $still; do
	! grep -q "\[$c\] motion event" "$T/camfs.log" || fail "$c: a motion event on a still scene"
	[ -z "$(ls -A "$M/$c/events/" 2>/dev/null)" ] || fail "$c: events: $(ls -R "$M/$c/events/")"
done
ok "still cameras: no event, events/ empty"
t_checked=$SECONDS

unmount_camfs "$M"
check_log '\] offline: (lost|stalled|cannot connect)'

python3 "$T/check.py" scores "$T/store" move-bitrate bitrate 50 || fail "move-bitrate: scores"
python3 "$T/check.py" scores "$T/store" hevc-bitrate bitrate 50 || fail "hevc-bitrate: scores"
python3 "$T/check.py" scores "$T/store" move-pixels pixels 2 || fail "move-pixels: scores"
python3 "$T/check.py" scores "$T/store" still-bitrate still 50 || fail "still-bitrate: scores"
python3 "$T/check.py" scores "$T/store" still-pixels still 2 || fail "still-pixels: scores"
python3 "$T/check.py" scores "$T/store" off off 0 || fail "off: sidecars"
while read -r f; do
	[ "$(codec_of "$f" v:0)" = hevc ] || fail "$f: $(codec_of "$f" v:0), want hevc"
done < <(segments "$T/store" hevc-bitrate)
ok "hevc-bitrate: $(count_segments "$T/store" hevc-bitrate) segments, all hevc"
ok "timing: recorded $((t_stopped - t_start)) s, mount checks $((t_checked - t_stopped)) s, store checks $((SECONDS - t_checked)) s"
