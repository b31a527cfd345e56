# lib.sh - shared by the integration tests: a temp dir and a cleanup trap,
# the RTSP test camera, camfs itself, and checks on what they left behind.
# Sourced by bash scripts that meson runs with CAMFS, RTSP_CAMERA, CLIPS_DIR
# and FIXTURE_DIR set.
set -euo pipefail

: "${CAMFS:?CAMFS must name the camfs binary}"
: "${RTSP_CAMERA:?RTSP_CAMERA must name the test camera binary}"

T=$(mktemp -d /tmp/camfs-test.XXXXXX)
mkdir "$T/store"   # camfs records only into a store that exists
PIDS=()
MOUNTS=()
FUSE_MOUNTS=()
CAMFS_PID=

cleanup() {
	local p m
	for m in "${FUSE_MOUNTS[@]}"; do fusermount3 -u -z "$m" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	for m in "${MOUNTS[@]}"; do umount -l "$m" 2>/dev/null || true; done
	if [ -n "${KEEP_TEST_DIR:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; [ -f "$T/camfs.log" ] && tail -n 30 "$T/camfs.log" >&2; exit 1; }
ok() { echo "ok: $*"; }
skip() { echo "SKIP: $*"; exit 77; }

# wait_until SECONDS CMD...: polls CMD every 0.1 s until it succeeds.
wait_until() {
	local deadline=$((SECONDS + $1)); shift
	until "$@"; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# start_fixture NAME ARGS...: starts a test camera on a free port; sets
# ${NAME}_PORT and leaves its stats in $T/NAME.stats.
start_fixture() {
	local name=$1; shift
	"$RTSP_CAMERA" --port 0 --stats "$T/$name.stats" "$@" >"$T/$name.out" 2>"$T/$name.err" &
	PIDS+=($!)
	eval "${name}_PID=$!"
	wait_until 20 grep -q '^ready port=' "$T/$name.out" || fail "test camera $name did not start: $(cat "$T/$name.err")"
	eval "${name}_PORT=$(sed -n 's/^ready port=//p' "$T/$name.out")"
}

# restart_fixture NAME PORT ARGS...: the same camera again on a known port.
restart_fixture() {
	local name=$1 port=$2; shift 2
	: >"$T/$name.out"
	"$RTSP_CAMERA" --port "$port" --stats "$T/$name.stats" "$@" >"$T/$name.out" 2>"$T/$name.err" &
	PIDS+=($!)
	eval "${name}_PID=$!"
	wait_until 20 grep -q '^ready port=' "$T/$name.out" || fail "test camera $name did not restart"
}

# sessions NAME MOUNT: how many sessions the camera has served on MOUNT.
sessions() { awk -v m="$2" '$1 == "session" && $2 == m { print $3 }' "$T/$1.stats"; }

# ensure_clips: the test clips, made once into CLIPS_DIR.
ensure_clips() {
	CLIPS_DIR=${CLIPS_DIR:-$T/clips}
	bash "$FIXTURE_DIR/make_clips.sh" "$CLIPS_DIR" >/dev/null 2>&1 || fail "make_clips.sh failed"
}

# camfs_config [KEY=VALUE...] [-- NAME=URL...]: writes $T/camfs.conf with
# store = $T/store, the [camfs] settings given and one [camera NAME] each.
camfs_config() {
	{
		echo "[camfs]"
		echo "store = $T/store"
		while [ $# -gt 0 ] && [ "$1" != -- ]; do echo "${1%%=*} = ${1#*=}"; shift; done
		[ $# -gt 0 ] && shift
		for cam in "$@"; do printf '\n[camera %s]\nurl = %s\n' "${cam%%=*}" "${cam#*=}"; done
	} >"$T/camfs.conf"
}

# start_camfs ARGS...: camfs in the background, log in $T/camfs.log. Its
# HTTP export is off unless ARGS turn it on (-o http=..., which comes later
# and wins): tests run side by side, and 8080 may be taken.
start_camfs() {
	"$CAMFS" -o http=off "$@" >>"$T/camfs.log" 2>&1 &
	CAMFS_PID=$!
	PIDS+=($CAMFS_PID)
}

# mount_camfs MNT ARGS...: camfs mounted at MNT in the foreground (-f);
# returns once the tree answers.
mount_camfs() {
	local mnt=$1; shift
	mkdir -p "$mnt" 2>/dev/null || true   # a stale mount cannot be stat-ed
	FUSE_MOUNTS+=("$mnt")
	start_camfs -f "$@" "$mnt"
	wait_until 20 test -e "$mnt/status.json" || fail "camfs did not mount at $mnt"
}

# unmount_camfs MNT: fusermount3 -u, as a user stops it; camfs must exit 0.
unmount_camfs() {
	fusermount3 -u "$1" || fail "fusermount3 -u $1 failed"
	wait "$CAMFS_PID" || fail "camfs exited with $? after unmount"
}

stop_camfs() {
	kill -TERM "$CAMFS_PID" 2>/dev/null || true
	wait "$CAMFS_PID" || fail "camfs exited with $? on SIGTERM"
}

# check_log [ALLOWED_REGEX]: every warning or error camfs printed must match.
check_log() {
	local allowed=${1:-'^$'} bad
	# UBSan's reports ("file:line:col: runtime error: ...") in a sanitizer build, too.
	bad=$(grep -E '^(<[0-9]>)?(warning|error|critical|alert|emergency):|: runtime error: ' "$T/camfs.log" | grep -Ev "$allowed" || true)
	[ -z "$bad" ] || fail "unexpected messages from camfs:
$bad"
}

# fragment_seqs FILE: the sequence numbers (mfhd) of its first and last
# fragment.
fragment_seqs() {
	python3 - "$1" <<'PY'
import struct, sys
data = open(sys.argv[1], 'rb').read(); off = 0; seqs = []
while off + 8 <= len(data):
    size, kind = struct.unpack('>I4s', data[off:off + 8])
    if size < 8:
        break
    if kind == b'moof' and data[off + 12:off + 16] == b'mfhd':
        seqs.append(struct.unpack('>I', data[off + 20:off + 24])[0])
    off += size
print(seqs[0], seqs[-1])
PY
}

# contiguous STORE CAM: within one session, each segment's first fragment
# is the one after the previous segment's last (segments present from 0,
# so their times cannot show it). Names the first file that breaks it.
contiguous() {
	local f first last prev=
	while read -r f; do
		read -r first last < <(fragment_seqs "$f")
		if [ -n "$prev" ] && [ "$first" != $((prev + 1)) ]; then
			echo "$f: fragments $first.. after ..$prev in the previous segment" >&2
			return 1
		fi
		prev=$last
	done < <(segments "$1" "$2")
}

# no_gaps STORE CAM SKIP: the camera's segments after the first SKIP follow
# each other (by name, within a day) with no more than 3 s between starts:
# nothing was lost. Says the gaps otherwise.
no_gaps() {
	segments "$1" "$2" | tail -n +$(($3 + 1)) | python3 -c '
import os, sys
t = [sum(int(x) * m for x, m in zip(os.path.basename(p)[:8].split("-"), (3600, 60, 1)))
     for p in sys.stdin.read().split()]
gaps = [b - a for a, b in zip(t, t[1:]) if b - a > 3]
sys.exit("gaps in recording: %s" % gaps if gaps else 0)'
}

# segments STORE CAM: the camera's segment files, oldest first.
segments() { find "$1/$2" -name '[0-9][0-9]-[0-9][0-9]-[0-9][0-9]*.mp4' 2>/dev/null | sort; }

count_segments() { segments "$1" "$2" | wc -l; }

# video_span FILE: "first_pts end frames" of the video stream, in seconds,
# from the packets themselves (no container estimate).
video_span() {
	ffprobe -v error -select_streams v:0 -show_entries packet=pts_time,duration_time \
		-of csv=p=0 "$1" | awk -F, '
		NF == 0 { next }   # MPEG-TS: a blank line after some packets
		n == 0 || $1 < s { s = $1 }
		{ e = $1 + $2; if (e > m) m = e; n++ }
		END { if (n == 0) exit 1; printf "%.6f %.6f %d\n", s, m, n }'
}

# plays FILE: ffmpeg decodes the whole file with no error (else its first
# lines go to stderr). Frames keep the file's own time base: by default
# ffmpeg rounds them to ticks of the frame rate it guesses, and two frames
# of a variable-rate camera (a browser's, a board's) closer than one tick
# would be reported as out of order.
plays() {
	local err rc=0
	err=$(ffmpeg -v error -nostdin -i "$1" -enc_time_base -1 -f null - 2>&1) || rc=1
	[ $rc = 0 ] && [ -z "$err" ] && return 0
	echo "ffmpeg on $1: $(head -c 600 <<<"$err")" >&2
	return 1
}

codec_of() { ffprobe -v error -select_streams "$2" -show_entries stream=codec_name -of csv=p=0 "$1"; }
