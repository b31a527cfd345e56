#!/bin/bash
# readers.sh (long suite) - 256 live.mp4 readers and 24 clips of 20 minutes
# (over 1,200 one-second segments each) open at once while the camera
# records: the recording has no gap, every live reader gets the stream,
# every clip reads whole, and once they close camfs holds no store file
# but the one being written.
. "$(dirname "$0")/../integration/lib.sh"
: "${MAKE_STORE:?MAKE_STORE must name the make_store helper}"

LIVE=${LIVE:-256}
CLIPS=${CLIPS:-24}
ffmpeg -nostdin -loglevel error -f lavfi -i testsrc2=s=160x90:r=5:d=10 -c:v libx264 \
	-preset ultrafast -g 5 -keyint_min 5 -sc_threshold 0 -bf 0 -pix_fmt yuv420p "$T/gop1.mp4" ||
	fail "ffmpeg could not make the clip"
# Yesterday's: a store made in today's first minutes would overlap what
# the camera records now, early in the day.
day=$(date -d yesterday +%F)
start=$(date -d "$day 00:00" +%s)
"$MAKE_STORE" "$T/store" a "$T/gop1.mp4" 44 "$start" 1 >"$T/make_store.out" 2>&1 ||
	fail "make_store: $(cat "$T/make_store.out")"
made=$(count_segments "$T/store" a)

start_fixture cam --mount /a=h264
camfs_config segment_seconds=2 -- a=rtsp://127.0.0.1:$cam_PORT/a
M=$T/mnt
mount_camfs "$M" -o config="$T/camfs.conf"
wait_until 20 grep -q '\[a\] online' "$T/camfs.log" || fail "camera did not come online"
store_fds() { find "/proc/$CAMFS_PID/fd" -mindepth 1 -lname "$T/store/*" | wc -l; }

python3 - "$M/a" "$day" "$LIVE" "$CLIPS" <<'PY' || fail "readers failed"
import os, sys, threading, time
cam, day, live, clips = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
got = [0] * live
errors = []
stop = threading.Event()

def live_reader(i):
    try:
        fd = os.open(cam + '/live.mp4', os.O_RDONLY)
        while not stop.is_set():
            b = os.read(fd, 65536)
            if not b:
                break
            got[i] += len(b)
        os.close(fd)
    except OSError as e:
        errors.append('live %d: %s' % (i, e))

def clip_reader(k):
    # 20 minutes, each clip a minute later than the one before.
    name = '%sT00-%02d-00+20m.mp4' % (day, k)
    path = cam + '/clips/' + name
    try:
        size = os.stat(path).st_size
        n = 0
        with open(path, 'rb') as f:
            while True:
                b = f.read(1 << 20)
                if not b:
                    break
                n += len(b)
        if n != size:
            errors.append('%s: read %d of %d bytes' % (name, n, size))
    except OSError as e:
        errors.append('%s: %s' % (name, e))

t0 = time.time()
ts = [threading.Thread(target=live_reader, args=(i,)) for i in range(live)]
for t in ts: t.start()
cs = [threading.Thread(target=clip_reader, args=(k,)) for k in range(clips)]
for t in cs: t.start()
for t in cs: t.join()
time.sleep(max(0, 20 - (time.time() - t0)))   # the live readers go on a while
stop.set()
for t in ts: t.join(30)
starved = [i for i in range(live) if got[i] < 10000]
print('%d live readers: %d to %d bytes each; %d clips read whole in %.0f s'
      % (live, min(got), max(got), clips, time.time() - t0))
if starved:
    errors.append('%d live readers got (almost) nothing' % len(starved))
if errors:
    sys.exit('\n'.join(errors[:10]))
PY
ok "$LIVE live readers and $CLIPS clips at once"
sleep 4
no_gaps "$T/store" a "$made" || fail "footage lost during the reads"
ok "recorded on without a gap"
at_most() { [ "$(store_fds)" -le "$1" ]; }
wait_until 10 at_most 2 || fail "camfs holds $(store_fds) store fds after the readers closed"
unmount_camfs "$M"
check_log
