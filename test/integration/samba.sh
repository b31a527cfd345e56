#!/bin/bash
# samba.sh - the mount shared by a standalone smbd on 127.0.0.1 (guest, read-only):
# segments, listings, live.mp4 and refused writes as an SMB client sees them.
# contrib/samba.conf parses, and its share lets no guest in.
. "$(dirname "$0")/lib.sh"

command -v smbd >/dev/null && command -v smbclient >/dev/null && command -v smbget >/dev/null &&
	command -v testparm >/dev/null || skip "samba, smbclient not installed (contrib/setup.sh)"

# The sample: parses without a complaint, and shares read-only to the
# members of a group, with no guest at all.
SAMPLE=$FIXTURE_DIR/../../contrib/samba.conf
out=$(testparm -s "$SAMPLE" 2>&1) || fail "testparm -s contrib/samba.conf: $out"
! grep -Eiq 'unknown parameter|ignoring|invalid|error' <<<"$out" || fail "testparm -s contrib/samba.conf: $out"
param() { testparm -s --section-name="$1" --parameter-name="$2" "$SAMPLE" 2>/dev/null; }
[ "$(param global 'map to guest')" = Never ] || fail "contrib/samba.conf maps unknown users to the guest"
[ "$(param cams 'guest ok')" = No ] || fail "contrib/samba.conf lets guests in"
[ "$(param cams 'read only')" = Yes ] || fail "contrib/samba.conf is not read-only"
[ "$(param cams 'valid users')" = @camviewers ] || fail "contrib/samba.conf has no valid users"
ok "contrib/samba.conf parses; read-only to @camviewers, no guest"

# smbd listens with SO_REUSEPORT, so a second smbd on a busy port would
# silently share it: take the first free port from 4450.
port=4450
while [ -n "$(ss -Hltn "sport = :$port")" ]; do port=$((port + 1)); done

# smbd is stopped here, not by cleanup: on SIGTERM it signals its whole
# process group, which --no-process-group makes this script's (the test
# would die with it). SIGKILL stops it alone; its helpers follow it, but
# write into $T until they exit.
SMBD_PID=
smbd_gone() { ! pgrep -f -- "-s $T/smb.conf" >/dev/null; }
stop_smbd() {
	[ -n "$SMBD_PID" ] || return 0
	kill -KILL "$SMBD_PID" 2>/dev/null || true
	wait "$SMBD_PID" 2>/dev/null || true
	SMBD_PID=
	wait_until 10 smbd_gone || echo "smbd helpers still running: $(pgrep -af -- "-s $T/smb.conf")" >&2
}
trap 'stop_smbd; cleanup' EXIT

smb_fail() {
	echo "smbd log:" >&2
	grep -v '^  {"timestamp' "$T/smbd.log" 2>/dev/null | tail -n 20 >&2 || true
	fail "$@"
}

# smb CMDS: smbclient as the guest on the share.
smb() { smbclient //127.0.0.1/cams -p "$port" -N -c "$1" </dev/null 2>&1; }

start_fixture cam --mount /a=h264
camfs_config segment_seconds=2 -- a=rtsp://127.0.0.1:$cam_PORT/a
M=$T/mnt
mount_camfs "$M" -o config="$T/camfs.conf" -o allow_other
# The guest is nobody: it must be able to reach the mount point.
chmod 711 "$T"

mkdir -p "$T/smb"/{state,lock,cache,pid,private,ncalrpc}
cat >"$T/smb.conf" <<CONF
[global]
server role = standalone server
interfaces = 127.0.0.1
bind interfaces only = yes
smb ports = $port
state directory = $T/smb/state
lock directory = $T/smb/lock
cache directory = $T/smb/cache
pid directory = $T/smb/pid
private dir = $T/smb/private
ncalrpc dir = $T/smb/ncalrpc
log file = $T/smbd.log
log level = 1
max log size = 0
disable spoolss = yes
load printers = no
printcap name = /dev/null
map to guest = Bad User

[cams]
path = $M
guest ok = yes
read only = yes
CONF
# contrib/samba.conf's share as it is, but for its path: a guest is refused
# there even with this test's "map to guest = Bad User".
sed -n '/^\[cams\]/,$p' "$SAMPLE" | sed "s/^\[cams\]/[contrib]/; s|path = .*|path = $M|" >>"$T/smb.conf"
smbd --foreground --no-process-group -s "$T/smb.conf" >"$T/smbd.out" 2>&1 &
SMBD_PID=$!
smb_up() { smb ls >"$T/smbclient.out"; }
wait_until 20 smb_up || smb_fail "smbd did not serve //127.0.0.1/cams on port $port: $(cat "$T/smbclient.out" "$T/smbd.out")"
listening=$(ss -Hltunp | grep -F "pid=$SMBD_PID," | awk '{print $5}' | sort -u)
[ "$listening" = "127.0.0.1:$port" ] || fail "smbd listens on more than 127.0.0.1:$port: $listening"
ok "smbd serves the mount on 127.0.0.1:$port only"
out=$(smbclient //127.0.0.1/contrib -p "$port" -N -c ls </dev/null 2>&1) &&
	fail "a guest could list contrib/samba.conf's share: $out"
echo "$out" | grep -Eq 'NT_STATUS_(ACCESS_DENIED|LOGON_FAILURE)' ||
	smb_fail "contrib share, as a guest: $out"
ok "contrib/samba.conf's share refuses a guest: $(grep -Eo 'NT_STATUS_[A-Z_]+' <<<"$out" | head -n 1)"

day=$(date +%F)
# segs: the day's recorded segments (HH-MM-SS.mp4), oldest first.
segs() { ls "$M/a/$day" 2>/dev/null | grep -E '^[0-9]{2}-[0-9]{2}-[0-9]{2}\.mp4$'; }
have() { [ "$(segs | wc -l)" -ge "$1" ]; }
wait_until 30 have 3 || fail "segments did not appear in the mount"

# 1. A finished segment (not the newest, still growing) fetched over SMB:
# byte-identical to the store, plays.
name=$(segs | sed -n 1p)
out=$(smb "get a/$day/$name $T/x.mp4") || smb_fail "get a/$day/$name: $out"
cmp "$T/x.mp4" "$T/store/a/$day/$name" || smb_fail "$name over SMB differs from the store"
plays "$T/x.mp4" || fail "$name over SMB does not play"
ok "get of a finished segment is identical to the store ($(stat -c %s "$T/x.mp4") bytes) and plays"

# A virtual clip over SMB (read out of order by the client) is identical to
# the same clip copied locally. Its range (1 to 4 s into the first segment)
# must have settled first: a clip that ended less than 5 s before it was
# built is built again at a later lookup, with the frames committed since
# (fs/tree.c, SETTLE_US). Six 2 s segments put its end 6 s back at least.
wait_until 30 have 6 || fail "the camera stopped recording"
first=$(segs | sed -n 1p)
clip="$(date -d "$day ${first:0:2}:${first:3:2}:${first:6:2} 1 sec" +%Y-%m-%dT%H-%M-%S)+3s.mp4"
cp "$M/a/clips/$clip" "$T/clip-local.mp4" || fail "clips/$clip cannot be copied locally"
out=$(smb "get a/clips/$clip $T/clip-smb.mp4") || smb_fail "get a/clips/$clip: $out"
cmp "$T/clip-smb.mp4" "$T/clip-local.mp4" || smb_fail "clip over SMB differs from a local copy"
plays "$T/clip-smb.mp4" || fail "the clip fetched over SMB does not play"
ok "clip $clip over SMB is identical to a local copy ($(stat -c %s "$T/clip-smb.mp4") bytes)"

# 2. live.mp4: endless, so a bounded read. smbget reads it one block at a
# time and writes each block as it arrives (smbclient's get sends parallel
# 8 MiB reads and writes nothing until one is full).
out=$(smb "ls a/live.mp4")
echo "$out" | grep -Eq '^  live\.mp4 +[A-Z]* +1099511627776 ' || smb_fail "live.mp4 size over SMB: $out"
timeout 5 smbget -a -n -q -b 4096 -o "$T/live.mp4" "smb://127.0.0.1:$port/cams/a/live.mp4" >"$T/smbget.out" 2>&1 &&
	fail "smbget of live.mp4 ended: $(cat "$T/smbget.out")"
size=$(stat -c %s "$T/live.mp4" 2>/dev/null || echo 0)
[ "$size" -gt 0 ] || smb_fail "smbget wrote nothing of live.mp4: $(cat "$T/smbget.out")"
# (the last fragment is cut short: ffprobe's complaints about it go to a file)
codec=$(codec_of "$T/live.mp4" v:0 2>"$T/ffprobe.err")
dims=$(ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=p=0 "$T/live.mp4" 2>>"$T/ffprobe.err")
[ "$codec,$dims" = "h264,640,360" ] || fail "live.mp4 over SMB: '$codec' '$dims': $(cat "$T/ffprobe.err")"
read -r _ _ frames < <(video_span "$T/live.mp4" 2>>"$T/ffprobe.err") || fail "live.mp4 over SMB: no video packets"
[ "$frames" -ge 15 ] || fail "live.mp4 over SMB: only $frames frames in 5 s"
ok "5 s of live.mp4 over SMB: $size bytes, h264 640x360, $frames frames"

# 3. The day's listing over SMB: the sizes of finished segments match stat
# on the mount (the newest one is still growing).
finished=$(segs | head -n -1)
listing=$(smb "ls a/$day/*") || smb_fail "ls a/$day/*: $listing"
n=0
for f in $finished; do
	got=$(echo "$listing" | awk -v f="$f" '$1 == f { print $3 }')
	want=$(stat -c %s "$M/a/$day/$f")
	[ "$got" = "$want" ] || smb_fail "$f: SMB lists size '$got', stat on the mount says $want
$listing"
	n=$((n + 1))
done
[ "$n" -ge 2 ] || fail "only $n finished segments to compare"
ok "ls over SMB: sizes of $n finished segments match the mount"

# 4. Writes over SMB are refused and the store is untouched.
echo x >"$T/somefile"
cp "$T/store/a/$day/$name" "$T/before.mp4"
for c in "put $T/somefile a/x" "put $T/somefile x" "mkdir a/d" "rm a/$day/$name" \
	 "rename a/$day/$name a/y.mp4" "put $T/somefile a/$day/$name"; do
	out=$(smb "$c") || true
	echo "$out" | grep -Eq 'NT_STATUS_(ACCESS_DENIED|MEDIA_WRITE_PROTECTED)' || smb_fail "$c over SMB was not refused: $out"
done
cmp "$T/before.mp4" "$T/store/a/$day/$name" || fail "the store changed"
[ -z "$(find "$T/store" \( -name x -o -name d -o -name y.mp4 \))" ] || fail "something was created in the store"
ok "put, mkdir, rm, rename over SMB refused; store untouched"

# 5. Nothing went wrong on either side: no level 0 (error) messages from
# smbd besides its banner, no warnings from camfs.
stop_smbd
errors=$(awk '/^\[.*, +0\]/ { p = 1; next } /^\[/ { p = 0 } p' "$T/smbd.log" | grep -vE 'smbd version|Copyright' || true)
[ -z "$errors" ] || fail "smbd logged errors:
$errors"
unmount_camfs "$M"
check_log
