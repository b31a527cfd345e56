#!/bin/bash
# clips.sh - virtual clips and day.mp4: a 40 s clip lasts 40 s to the frame
# and starts on the frame recorded at its start; clips across segment
# boundaries and a recording gap play end to end; random reads equal a
# sequential read; stat equals bytes read; two opens are identical; bad
# names are ENOENT; mpv seeks inside day.mp4; an open clip survives the
# deletion of its segments; audio comes along; a codec change ends a clip;
# a clip of a still picture copies whole with O_DIRECT reads.
. "$(dirname "$0")/lib.sh"

ensure_clips
start_fixture cam --mount /a=h264 --mount /b=h264+aac
# c has its own camera: it stays online through a's and b's gap.
start_fixture still --mount /c=clip:"$CLIPS_DIR/static-h264.mp4"
camfs_config segment_seconds=10 stall_seconds=2 -- a=rtsp://127.0.0.1:$cam_PORT/a \
	b=rtsp://127.0.0.1:$cam_PORT/b c=rtsp://127.0.0.1:$still_PORT/c
M=$T/mnt
mount_camfs "$M" -o config="$T/camfs.conf"
wait_until 20 grep -q '\[a\] online' "$T/camfs.log" || fail "camera did not come online"
wait_until 20 grep -q '\[c\] online' "$T/camfs.log" || fail "camera c did not come online"
sleep 58
# A gap of a few seconds, then more footage.
kill -KILL "$cam_PID"
sleep 4
# b comes back as H.265: a new codec.
restart_fixture cam "$cam_PORT" --mount /a=h264 --mount /b=h265+aac
back() { grep -q '\[a\] online again' "$T/camfs.log" && grep -q '\[b\] online again' "$T/camfs.log"; }
wait_until 30 back || fail "cameras did not come back"
sleep 12

walls() { python3 "$(dirname "$0")/segment_walls.py" "$@"; }
iso() { date -d "@$1" +%Y-%m-%dT%H-%M-%S; }
day=$(date +%F)
segs=($(ls "$T/store/a/$day"/*.mp4 | sort))
[ ${#segs[@]} -ge 6 ] || fail "only ${#segs[@]} segments"

# A 40 s clip from 3 s into the first whole segment.
w1=$(walls first "${segs[1]}")
start=$(python3 -c "import math; print(math.ceil($w1) + 3)")
name="$(iso "$start")+40s.mp4"
clip="$M/a/clips/$name"
[ -f "$clip" ] || fail "clips/$name does not exist"
dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$clip")
(( $(echo "${dur} - 40 < 0.07 && 40 - ${dur} < 0.07" | bc -l) )) || fail "$name lasts $dur s"
ok "$name: ffprobe duration $dur s"
m1=$(stat -c %Y "$clip"); sleep 1.5; m2=$(stat -c %Y "$clip")
[ "$m1" = $((start + 40)) ] && [ "$m2" = "$m1" ] || fail "$name: mtime $m1 then $m2, not its end $((start + 40))"
ok "$name: mtime is its end and stays"

# Its first displayed frame is the one recorded at start: the first frame of
# that segment whose wall time is at or after start. A frame's wall time
# comes from its own fragment's prft, which can be ms off the first prft
# plus 1/15 s a frame.
k=$(walls first-at "${segs[1]}" "$start")
want=$(ffmpeg -v error -i "${segs[1]}" -map 0:v -f framemd5 - | grep -v '^#' | sed -n "$((k + 1))p" | awk -F, '{print $NF}')
got=$(ffmpeg -v error -i "$clip" -frames:v 1 -f framemd5 - | grep -v '^#' | head -1 | awk -F, '{print $NF}')
[ -n "$want" ] && [ "$want" = "$got" ] || fail "first frame $got, want frame $k of ${segs[1]##*/} ($want)"
ok "first frame of the clip is frame $k of ${segs[1]##*/} (md5 $got)"

# A clip across the gap plays end to end and is shorter by the gap.
gap_name="$(iso $((start + 40)))--$(iso $(date +%s)).mp4"
plays "$M/a/clips/$gap_name" || fail "the clip across the gap does not play"
mpv --no-config --vo=null --ao=null "$M/a/clips/$gap_name" >/dev/null 2>&1 || fail "mpv cannot play the clip across the gap"
ok "clip across segment boundaries and the gap plays in ffmpeg and mpv"

# Audio comes along: camera b's clip of the same range has its AAC track.
bclip="$M/b/clips/$name"
[ "$(codec_of "$bclip" v:0),$(codec_of "$bclip" a:0)" = "h264,aac" ] || fail "b's clip lacks audio"
plays "$bclip" || fail "b's clip with audio does not play"
adur=$(ffprobe -v error -select_streams a:0 -show_entries stream=duration -of csv=p=0 "$bclip")
# Audio rides in the same fragments as the video, so a few AAC frames past
# either end come along; the edit list ends playback with the video.
(( $(echo "$adur > 39.0 && $adur < 41.0" | bc -l) )) || fail "b's clip has $adur s of audio"
ok "audio: b's clip has H.264 and AAC ($adur s), plays"

# A codec change ends the clip: b is H.265 after the gap.
bgap="$M/b/clips/$gap_name"
[ "$(ffprobe -v error -show_entries stream=codec_name -of csv=p=0 "$bgap" | sort -u | tr '\n' ' ')" = "aac h264 " ] ||
	fail "b's clip across the codec change: $(ffprobe -v error -show_entries stream=codec_name -of csv=p=0 "$bgap")"
bdur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$bgap")
adur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$M/a/clips/$gap_name")
(( $(echo "$bdur < $adur - 8" | bc -l) )) || fail "b's clip ($bdur s) did not end at the codec change (a's: $adur s)"
plays "$bgap" || fail "b's clip up to the codec change does not play"
ok "codec change: b's clip ends at it ($bdur s, H.264 only; a's clip over the same range $adur s)"

# Exact size, any order, same bytes every open.
size=$(stat -c %s "$clip")
cat "$clip" >"$T/seq.mp4"
[ "$(stat -c %s "$T/seq.mp4")" = "$size" ] || fail "stat says $size, read gave $(stat -c %s "$T/seq.mp4")"
cmp "$T/seq.mp4" <(cat "$clip") || fail "two opens differ"
python3 - "$clip" "$T/seq.mp4" <<'PY' || fail "random reads differ from a sequential read"
import os, random, sys
fd = os.open(sys.argv[1], os.O_RDONLY); ref = open(sys.argv[2], 'rb').read()
random.seed(7)
for _ in range(2000):
    off = random.randrange(0, len(ref) + 100); n = random.choice([1, 7, 4096, 65536, 1 << 20, random.randrange(1, 300000)])
    if os.pread(fd, n, off) != ref[off:off + n]:
        sys.exit("mismatch at %d+%d" % (off, n))
PY
ok "clip: $size bytes, stat = bytes read, 2000 random preads = sequential read, two opens identical"

# A clip whose range ends while a reader holds an early build: once it is
# fixed, the early reader still reads its own build to its end, and a new
# open reads the whole fixed clip, not the early reader's pages or size.
# It waits for the range to end and settle, so it runs beside the checks
# below; it is done before the segments are deleted.
now=$(date +%s)
late="$M/a/clips/$(iso $((now - 10)))+20s.mp4"
python3 - "$late" "$T/early.mp4" "$T/late.mp4" $((now + 10)) <<'PY' >"$T/late.out" 2>&1 &
import os, sys, time
early = os.open(sys.argv[1], os.O_RDONLY)
early_size = os.fstat(early).st_size
data = os.read(early, 65536)
time.sleep(max(0, int(sys.argv[4]) + 7.5 - time.time()))   # past its end and settling
fixed_size = os.stat(sys.argv[1]).st_size                  # the lookup that builds it fixed
if early_size >= fixed_size:
    sys.exit("the early build is not smaller (%d, fixed %d)" % (early_size, fixed_size))
data += b''.join(iter(lambda: os.read(early, 1 << 20), b''))
if len(data) != early_size:
    sys.exit("the early open read %d of its %d bytes" % (len(data), early_size))
open(sys.argv[2], 'wb').write(data)
with open(sys.argv[1], 'rb') as f:
    data = f.read()
if len(data) != fixed_size:
    sys.exit("a new open read %d of the fixed clip's %d bytes" % (len(data), fixed_size))
open(sys.argv[3], 'wb').write(data)
PY
late_pid=$!
PIDS+=($late_pid)

# Every read is answered whole, also where it spans segments: a short reply
# reads as EOF (some kernels shrink the file to it and a cp stops there,
# others ask again for the missing pages, but an O_DIRECT read comes back
# short on any). c's 40 s of a still picture span four segments of about
# 26 KB, so the first 128 KiB read spans the header and all 4: more
# than the 4 pieces the mount tries first. The size is taken before reading.
still="$M/c/clips/$name"
ssize=$(stat -c %s "$still")
python3 - "$still" "$ssize" <<'PY' || fail "c's clip was read short"
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECT)
size, buf, off = int(sys.argv[2]), mmap.mmap(-1, 1 << 17), 0
while off < size:
    n = os.preadv(fd, [buf], off)
    if n != min(1 << 17, size - off):
        sys.exit("a 128 KiB O_DIRECT read at %d gave %d bytes (file: %d)" % (off, n, size))
    off += n
PY
cp "$still" "$T/still.mp4"
[ "$(stat -c %s "$T/still.mp4")" = "$ssize" ] || fail "copy of c's clip: $(stat -c %s "$T/still.mp4") of $ssize bytes"
plays "$T/still.mp4" || fail "copy of c's clip does not play"
ok "still clip: 128 KiB O_DIRECT reads and cp give all $ssize bytes, plays"

# day.mp4: the whole day; mpv seeks inside it.
ffprobe -v error -show_entries format=duration -of csv=p=0 "$M/a/$day/day.mp4" >"$T/daydur" || fail "day.mp4 unreadable"
timeout 60 mpv --no-config --vo=null --ao=null --start=50 --frames=15 "$M/a/$day/day.mp4" >"$T/mpv.out" 2>&1 || fail "mpv --start=50 day.mp4: $(tail -2 "$T/mpv.out")"
ok "day.mp4: $(cat "$T/daydur") s; mpv --start=50 plays"

# A later lookup of today's day.mp4 covers newer footage; and two opens of
# the growing file hold two builds: a reader part way through the older one
# still reads the older one to its end, not the newer one's pages.
python3 - "$M/a/$day/day.mp4" "$T/older.mp4" <<'PY' >"$T/grew" || fail "today's day.mp4: $(cat "$T/grew")"
import os, sys, time
older = os.open(sys.argv[1], os.O_RDONLY)
size = os.fstat(older).st_size
data = os.read(older, 1 << 20)
time.sleep(2.5)
newer = os.open(sys.argv[1], os.O_RDONLY)
if os.fstat(newer).st_size <= size:
    sys.exit("it did not grow (%d -> %d bytes)" % (size, os.fstat(newer).st_size))
print("%d -> %d bytes" % (size, os.fstat(newer).st_size))
rest = lambda fd: b''.join(iter(lambda: os.read(fd, 1 << 20), b''))
rest(newer)
data += rest(older)
if len(data) != size:
    sys.exit("a reader of it got another build's bytes: the older open read %d bytes of %d" % (len(data), size))
# fstat on the older open (nginx's, smbd's way to size a body) says its
# own build's size, though the inode's newest build is bigger.
os.close(newer)
if os.fstat(older).st_size != size:
    sys.exit("fstat of the older open: %d bytes, its build has %d" % (os.fstat(older).st_size, size))
open(sys.argv[2], 'wb').write(data)
PY
plays "$T/older.mp4" || fail "the older build does not decode cleanly"
ok "day.mp4 grew ($(cat "$T/grew")); opened twice, 2.5 s apart: the first open reads and fstats its own build whole and it decodes cleanly"

wait $late_pid || fail "a clip fixed under an open early build: $(cat "$T/late.out")"
plays "$T/early.mp4" || fail "the early build does not decode cleanly"
plays "$T/late.mp4" || fail "the fixed clip read after an early open does not decode cleanly"
ldur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$T/late.mp4")
(( $(echo "$ldur > 19.5 && $ldur < 20.5" | bc -l) )) || fail "the fixed clip lasts $ldur s, not 20"
ok "a 20 s clip fixed while an early build is open: a new open reads all of it ($ldur s), decodes cleanly"

# Names that are no clip.
for bad in "2026-02-30T10-00-00+5s.mp4" "$(iso "$start")+0s.mp4" "$(iso "$start")+5s.avi" "junk.mp4" \
	   "$(iso $((start - 86400 * 3)))+10s.mp4"; do
	[ ! -e "$M/a/clips/$bad" ] || fail "clips/$bad exists"
done
[ "$(ls "$M/a/clips")" = README.txt ] || fail "clips/ lists $(ls "$M/a/clips")"
ok "bad names and ranges without footage are ENOENT; clips/ lists only README.txt"

# A clip open before retention deletes its segments reads to the end.
python3 - "$clip" "$T/seq.mp4" "$T/store/a/$day" <<'PY' || fail "an open clip lost footage to deletion"
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
head = os.read(fd, 4096)
for name in os.listdir(sys.argv[3]):      # what retention would do
    if name.endswith('.mp4'):
        os.unlink(os.path.join(sys.argv[3], name))
data = head
while True:
    b = os.read(fd, 1 << 20)
    if not b:
        break
    data += b
if data != open(sys.argv[2], 'rb').read():
    sys.exit("differs after the segments were deleted")
PY
ok "a clip opened before its segments were deleted read whole"

unmount_camfs "$M"
check_log '\[[ab]\] offline: (lost|stalled|cannot connect)'
