#!/bin/bash
# keyframe.sh - a camera that sends one keyframe and never another: the
# segment is cut without one after waiting 20 s past its length (logged),
# plays alone, and nothing more is recorded until a keyframe comes.
. "$(dirname "$0")/lib.sh"

start_fixture cam --gop 10000 --mount /a=h264
camfs_config segment_seconds=2 -- a=rtsp://127.0.0.1:$cam_PORT/a
M=$T/mnt
mount_camfs "$M" -o config="$T/camfs.conf"
wait_until 20 grep -q '\[a\] online' "$T/camfs.log" || fail "camera did not come online"
wait_until 40 grep -q '\[a\] no keyframe for' "$T/camfs.log" || fail "the segment was never cut"
seg=$(segments "$T/store" a | head -n 1)
[ "$(count_segments "$T/store" a)" = 1 ] || fail "$(count_segments "$T/store" a) segments, want 1"
dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$seg")
python3 -c "import sys; d = float('$dur'); sys.exit(0 if 21 <= d <= 23.5 else 1)" ||
	fail "the segment lasts $dur s, want 22"
plays "$seg" || fail "$seg does not play"
ok "cut without a keyframe after $dur s"
sleep 3
[ "$(count_segments "$T/store" a)" = 1 ] || fail "a segment began without a keyframe"
ok "nothing recorded until a keyframe"
unmount_camfs "$M"
check_log '\[a\] no keyframe for'
