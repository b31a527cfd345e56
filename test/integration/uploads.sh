#!/bin/bash
# uploads.sh - camera snapshots uploaded by FTP (a real pure-ftpd on
# 127.0.0.1, uploads by curl) show in the mount under events/ within a
# second, byte for byte: at start, in subfolders, not before a slow upload
# ends, never overwriting; anything not a JPEG ends in rejected/; one over
# upload_max_size is deleted; the FTP credentials never reach camfs's log.
. "$(dirname "$0")/lib.sh"

command -v pure-ftpd >/dev/null && command -v pure-pw >/dev/null ||
	skip "pure-ftpd not installed (contrib/setup.sh)"
command -v curl >/dev/null && command -v openssl >/dev/null ||
	skip "curl, openssl not installed (contrib/setup.sh)"

FTP_USER=cam-a
FTP_PASS="ftp-Pa55-$RANDOM$RANDOM"
UP=$T/incoming/a                 # camera a's events_incoming, the FTP home
M=$T/mnt

# The first free port from 2121, and a passive range above it.
port=2121
while [ -n "$(ss -Hltn "sport = :$port")" ]; do port=$((port + 1)); done

# pure-ftpd will not run a virtual user as root: uploads are nobody's, so
# the FTP home is nobody's and the chrooted server must reach it. A SHA-512
# crypt hash instead of pure-pw's default argon2, which costs seconds per
# login.
mkdir -p "$UP"
chown 65534:65534 "$UP"
chmod 711 "$T"
hash=$(openssl passwd -6 "$FTP_PASS")
echo "$FTP_USER:$hash:65534:65534::$UP/./::::::::::::" >"$T/ftp.passwd"
pure-pw mkdb "$T/ftp.pdb" -f "$T/ftp.passwd" || fail "pure-pw mkdb failed"
# -E named accounts only, -A chroot, -H no DNS, -f none: no syslog.
pure-ftpd -S "127.0.0.1,$port" -l "puredb:$T/ftp.pdb" -E -A -H -f none \
	-p "$((port + 30000)):$((port + 30099))" -P 127.0.0.1 >"$T/ftpd.log" 2>&1 &
PIDS+=($!)
ftp_up() { curl -sS --max-time 5 "ftp://$FTP_USER:$FTP_PASS@127.0.0.1:$port/" -o /dev/null; }
wait_until 10 ftp_up || fail "pure-ftpd did not answer: $(cat "$T/ftpd.log")"

# upload FILE PATH [CURL_ARGS...]: FILE to PATH below the FTP home.
upload() {
	local file=$1 path=$2; shift 2
	curl -sS --ftp-create-dirs "$@" -T "$file" "ftp://$FTP_USER:$FTP_PASS@127.0.0.1:$port/$path" ||
		fail "curl upload of $path failed"
}

# Real JPEGs: small ones, and a ~40 KB one for the slow upload.
jpeg() { ffmpeg -v error -nostdin -f lavfi -i "testsrc2=size=$2" -frames:v 1 -q:v 2 -y "$1" ||
	fail "ffmpeg could not make $1"; }
for i in 1 2 3 4 5 6; do jpeg "$T/snap$i.jpg" "$((160 + 16 * i))x$((120 + 16 * i))"; done
jpeg "$T/big.jpg" 960x540
echo "not a picture" >"$T/notes.txt"

# An upload made while camfs is down is taken at start.
upload "$T/snap1.jpg" before.jpg

start_fixture cam --mount /a=h264
camfs_config upload_max_size=1M -- a=rtsp://127.0.0.1:$cam_PORT/a
echo "events_incoming = $UP" >>"$T/camfs.conf"
mount_camfs "$M" -o config="$T/camfs.conf"

# snapshots: the camera's upload snapshots, as the mount lists them.
snapshots() { ls -1 "$M"/a/events/*/*-camera*.jpg 2>/dev/null | LC_ALL=C sort || true; }
have() { [ "$(snapshots | wc -l)" -ge "$1" ]; }
now_ns() { date +%s%N; }

# wait_count N WHAT [MS [SINCE]]: waits (polling every 10 ms, at most MS,
# default 1000) until there are N snapshots; prints how long it took since
# SINCE (default: curl finished), that is, since the call.
wait_count() {
	local n=$1 what=$2 limit_ms=${3:-1000} since=${4:-curl finished} t0 ms
	t0=$(now_ns)
	while ! have "$n"; do
		[ $(($(now_ns) - t0)) -lt $((limit_ms * 1000000)) ] ||
			fail "$what: not in $M/a/events/ within $limit_ms ms"
		sleep 0.01
	done
	ms=$((($(now_ns) - t0) / 1000000))
	[ "$(snapshots | wc -l)" -eq "$n" ] || fail "$what: more snapshots than expected: $(snapshots)"
	echo "$what: in the mount ${ms} ms after $since"
}

# wait_snapshot N FILE WHAT [MS [SINCE]]: wait_count, and the newest
# snapshot must be FILE byte for byte. Sets SNAP to its path in the mount.
wait_snapshot() {
	wait_count "$1" "$3" "${4:-1000}" "${5:-curl finished}"
	SNAP=$(snapshots | tail -n 1)
	cmp -s "$2" "$SNAP" || fail "$3: $SNAP differs from the upload"
	echo "  as ${SNAP#"$M"/}"
}

wait_snapshot 1 "$T/snap1.jpg" "upload made before start" 10000 "the mount answered"
[ ! -e "$UP/before.jpg" ] || fail "before.jpg still in the incoming folder"
ok "an upload from before the start is filed"

upload "$T/snap2.jpg" snap.jpg
wait_snapshot 2 "$T/snap2.jpg" "upload"
# In the same second as the one before, it is -camera_2.jpg.
[[ "${SNAP#"$M"/}" =~ ^a/events/20[0-9][0-9]-[01][0-9]-[0-3][0-9]/[0-2][0-9]-[0-5][0-9]-[0-5][0-9]-camera(_2)?\.jpg$ ]] ||
	fail "unexpected snapshot name $SNAP"
ok "an upload shows as events/<date>/<HH-MM-SS>-camera.jpg within a second"

upload "$T/snap3.jpg" 2026-11-21/10/img.jpg
wait_snapshot 3 "$T/snap3.jpg" "upload into a new subfolder"
ok "an upload into subfolders the camera makes"

# A slow upload: curl sends from a FIFO that this script holds open after
# the first half. (curl's --limit-rate does not slow a 40 KB upload: it
# sends its first 64 KB buffer at once.)
mkfifo "$T/slow.fifo"
curl -sS -T - "ftp://$FTP_USER:$FTP_PASS@127.0.0.1:$port/slow.jpg" <"$T/slow.fifo" &
SLOW_CURL=$!
PIDS+=($SLOW_CURL)
exec 7>"$T/slow.fifo"
head -c 20000 "$T/big.jpg" >&7
half_there() { [ "$(stat -c %s "$UP/slow.jpg" 2>/dev/null)" = 20000 ]; }
wait_until 10 half_there || fail "the first half of the slow upload did not arrive"
# The watcher handles events in order: once this later upload is filed,
# the half-written one has been seen and left alone.
upload "$T/snap4.jpg" meanwhile.jpg
wait_snapshot 4 "$T/snap4.jpg" "upload during a slow one"
[ "$(stat -c %s "$UP/slow.jpg")" = 20000 ] || fail "the slow upload was taken while still uploading"
tail -c +20001 "$T/big.jpg" >&7
exec 7>&-
wait "$SLOW_CURL" || fail "the slow upload failed"
wait_snapshot 5 "$T/big.jpg" "slow upload"
ok "a slow upload is taken only once it is complete"

upload "$T/notes.txt" notes.txt
rejected_logged() { grep -q "rejected upload $UP/notes.txt: not a JPEG" "$T/camfs.log"; }
wait_until 5 rejected_logged || fail "no log line for the rejected upload"
cmp -s "$T/notes.txt" "$UP/rejected/notes.txt" || fail "notes.txt not in $UP/rejected/"
[ "$(snapshots | wc -l)" -eq 5 ] || fail "a non-JPEG became a snapshot"
ok "a non-JPEG upload ends in rejected/ with a log line"

# Two uploads in one second never overwrite: the second is -camera_2.jpg.
# Two curls at once, just after a second begins (one curl uploading both
# sometimes waits 1 s between them); should they still straddle two
# seconds, again.
same() { cmp -s "$1" "$3" && cmp -s "$2" "$4" || { cmp -s "$1" "$4" && cmp -s "$2" "$3"; }; }
paired=
for try in 1 2 3; do
	n=$(snapshots | wc -l)
	ns=$((1000000000 - 10#$(date +%N)))
	sleep "$((ns / 1000000000)).$(printf %09d $((ns % 1000000000)))"
	upload "$T/snap5.jpg" "pair$try/a.jpg" &
	p1=$!
	upload "$T/snap6.jpg" "pair$try/b.jpg" &
	p2=$!
	wait $p1 && wait $p2 || fail "an upload of the pair failed"
	wait_count $((n + 2)) "two uploads at once"
	mapfile -t pair < <(snapshots | tail -n 2)
	first=$(basename "${pair[0]}" .jpg)
	if [ "$(basename "${pair[1]}" .jpg)" = "${first}_2" ]; then
		paired=1
		break
	fi
	echo "the two uploads straddled a second: ${pair[*]##*/}; again"
done
[ -n "$paired" ] || fail "no two uploads in the same second in 3 tries"
same "$T/snap5.jpg" "$T/snap6.jpg" "${pair[0]}" "${pair[1]}" || fail "the pair's snapshots differ from the uploads"
ok "two uploads in one second: $first.jpg and ${first}_2.jpg"

# Over upload_max_size: deleted, not filed, not kept.
head -c $((2 << 20)) /dev/zero | cat "$T/snap1.jpg" - >"$T/huge.jpg"
upload "$T/huge.jpg" huge.jpg
n=$(snapshots | wc -l)
huge_logged() { grep -q "upload $UP/huge.jpg: $(stat -c %s "$T/huge.jpg") bytes, more than upload_max_size (1048576): deleted" "$T/camfs.log"; }
wait_until 5 huge_logged || fail "no log line for the upload over upload_max_size"
[ ! -e "$UP/huge.jpg" ] && [ ! -e "$UP/rejected/huge.jpg" ] || fail "huge.jpg was kept"
[ "$(snapshots | wc -l)" -eq "$n" ] || fail "an upload over upload_max_size was filed"
ok "an upload over upload_max_size is deleted, with a log line"

[ -z "$(find "$UP" -path "$UP/rejected" -prune -o -type f -print)" ] ||
	fail "uploads left in the incoming folder: $(find "$UP" -type f)"

unmount_camfs "$M"
check_log "rejected upload $UP/notes.txt: not a JPEG|upload $UP/huge.jpg: [0-9]+ bytes, more than upload_max_size"
grep -qF "$FTP_PASS" "$T/camfs.log" && fail "the FTP password is in camfs's log"
grep -qF "$FTP_USER:" "$T/camfs.log" && fail "the FTP user's credentials are in camfs's log"
ok "no FTP credential in the log"
