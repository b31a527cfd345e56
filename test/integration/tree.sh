#!/bin/bash
# tree.sh - the mounted tree as ordinary files: find/ls/stat, every file's
# stat size equals the bytes read, cp -r of a day is byte-identical to the
# store, segments play, new segments show up, links planted in the store
# are not followed, and every write is EROFS.
. "$(dirname "$0")/lib.sh"

start_fixture cam --mount /a=h264 --mount /b=h265
camfs_config segment_seconds=2 -- a=rtsp://127.0.0.1:$cam_PORT/a b=rtsp://127.0.0.1:$cam_PORT/b
M=$T/mnt
mount_camfs "$M" -o config="$T/camfs.conf"
day=$(date +%F)
have() { [ "$(ls "$M/a/$day" 2>/dev/null | grep -cE '^[0-9]{2}-[0-9]{2}-[0-9]{2}(_[0-9]+)?\.mp4$')" -ge "$1" ]; }
wait_until 30 have 3 || fail "segments did not appear in the mount"
ok "tree: $(cd "$M" && find . | sort | head -12 | tr '\n' ' ')"

# Names and kinds.
[ -d "$M/a" ] && [ -d "$M/b" ] && [ -d "$M/a/$day" ] || fail "camera or day folder missing"
for f in status.json a/status.json a/live.mp4 a/live.jpg a/.index.json a/$day/.index.json; do
	[ -f "$M/$f" ] || fail "$f missing"
done
[ ! -e "$M/a/nonsense" ] || fail "a made-up name exists"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [c["name"] for c in d["cameras"]] == ["a","b"], d; assert all(c["online"] for c in d["cameras"]), d' "$M/status.json" ||
	fail "status.json: $(cat "$M/status.json")"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["codec"] == "hevc" and d["width"] == 640, d' "$M/b/status.json" ||
	fail "b/status.json: $(cat "$M/b/status.json")"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); n=[e["name"] for e in d["entries"]]; assert "live.mp4" in n and sys.argv[2] in n, n' "$M/a/.index.json" "$day" ||
	fail "a/.index.json: $(cat "$M/a/.index.json")"
ok "status.json and listings are valid JSON with the cameras, dates and files"

# stat size == bytes read, for every file but the endless live.mp4. The
# segment being written (the newest in its folder) and its sidecar grow like
# logs between the stat and the read: they read at least what stat said, all
# of it recorded. The day's motion.csv is made at open, so a stat after it
# may count a newer row.
# measure FILE: its size by stat once open ($size), then what a read of
# that open gives ($T/read, $got bytes).
measure() {
	exec 3<"$1"
	size=$(stat -L -c %s /dev/fd/3)
	cat <&3 >"$T/read"
	exec 3<&-
	got=$(stat -c %s "$T/read")
}
newest_in() { ls "$1" | grep -E '^[0-9]{2}-[0-9]{2}-[0-9]{2}(_[0-9]+)?\.mp4$' | tail -1 || true; }
while read -r f; do
	# Newest before or after the read: a cut between them ends its growth.
	was_newest=$(newest_in "$(dirname "$f")")
	measure "$f"
	newest=$(newest_in "$(dirname "$f")")
	case $(basename "$f") in
	"$newest" | "${newest%.mp4}.motion.csv" | "$was_newest" | "${was_newest%.mp4}.motion.csv")
		[ "$got" -ge "$size" ] || fail "$f (growing): stat says $size, read gave only $got"
		cmp -n "$got" "$T/read" "$T/store/${f#$M/}" || fail "$f (growing): read differs from the store"
		;;
	motion.csv)
		# The day's rows as of the open; the stat after it may count a newer row.
		cat "$f" >"$T/again"
		[ "$got" -le "$size" ] || fail "$f: stat says $size after the open, read gave $got"
		cmp -n "$got" "$T/read" "$T/again" || fail "$f: a later read does not start with the earlier one"
		;;
	status.json)
		# Made afresh at every open and every uncached stat from the
		# cameras' measured fps and bitrate, whose digits come and go
		# under load: a stat and a read agree when nothing changed in
		# between, so a mismatch is tried again (3 times at most).
		for try in 2 3; do
			[ "$size" = "$got" ] || measure "$f"
		done
		[ "$size" = "$got" ] || fail "$f: stat says $size, read gave $got (3 tries)"
		python3 -m json.tool "$T/read" >/dev/null || fail "$f: the bytes read are not JSON"
		;;
	*)
		[ "$size" = "$got" ] || fail "$f: stat says $size, read gave $got"
		;;
	esac
done < <(find "$M" -type f ! -name live.mp4)
ok "stat size equals bytes read for $(find "$M" -type f ! -name live.mp4 | wc -l) files (growing ones: at least, or a prefix)"

# A finished segment: byte-identical, plays.
finished=$(ls "$M/a/$day"/*.mp4 | head -1)
cmp "$finished" "$T/store/a/$day/$(basename "$finished")" || fail "segment differs from the store"
plays "$finished" || fail "$finished does not play"
mpv --no-config --vo=null --ao=null --frames=10 "$finished" >/dev/null 2>&1 || fail "mpv cannot play $finished"
ok "segment plays in ffmpeg and mpv, identical to the store"

# The segment being written (the newest; not day.mp4, which sorts after the
# digits) grows like a log. It may end just after the first stat, so this
# retries with the next one; it never shrinks.
grows() {
	local seg s1 s2
	seg=$(ls "$M/a/$day" | grep -E '^[0-9]{2}-[0-9]{2}-[0-9]{2}(_[0-9]+)?\.mp4$' | tail -1)
	s1=$(stat -c %s "$M/a/$day/$seg"); sleep 1; s2=$(stat -c %s "$M/a/$day/$seg")
	[ "$s2" -ge "$s1" ] || fail "growing segment $seg shrank: $s1 then $s2"
	[ "$s2" -gt "$s1" ]
}
wait_until 5 grows || fail "the segment being written did not grow"
ok "the segment being written grows"

# New segments and dates appear promptly in ls.
n1=$(ls "$M/a/$day" | wc -l)
wait_until 10 bash -c "[ \$(ls '$M/a/$day' | wc -l) -gt $n1 ]" || fail "new segment did not appear in ls"
ok "new segments appear in ls"

# cp -r of the day folder is byte-identical to the store (finished files).
cp -r "$M/a/$day" "$T/copy"
for f in "$T/copy"/*.mp4; do
	name=$(basename "$f")
	[ "$name" = day.mp4 ] && continue   # virtual: not in the store
	[ "$(stat -c %s "$f")" -le "$(stat -c %s "$T/store/a/$day/$name")" ] || fail "$name: copy longer than the store"
	cmp -n "$(stat -c %s "$f")" "$f" "$T/store/a/$day/$name" || fail "$name: copy differs"
done
ok "cp -r of a day is byte-identical to the store"

# Links planted in the store (by anyone who can write there) to a file only
# root may read: camfs runs as root, yet they are neither listed nor read.
printf 'only root may read this\nSECRET\n' >"$T/secret"
chmod 600 "$T/secret"
mkdir -p "$T/store/a/events/$day"
planted="a/$day/00-00-01.mp4 a/$day/00-00-01.motion.csv a/events/$day/00-00-01-camera.jpg a/events/$day/00-00-02-motion.jpg"
for f in $planted; do ln -s "$T/secret" "$T/store/$f"; done
for f in $planted a/events/$day/00-00-02-motion.mp4; do
	! ls "$M/$(dirname "$f")" | grep -qx "$(basename "$f")" || fail "planted link $f is listed"
	err=$(cat "$M/$f" 2>&1) && fail "planted link $f reads: $err"
	echo "$err" | grep -q "No such file or directory" || fail "$f: $err"
done
! grep -rqs SECRET "$M/a/$day" "$M/a/events" || fail "a planted link's target shows in the mount"
ok "links planted in a day and an events day folder are neither listed nor read"

# Read-only: writes, creates, renames, deletes and chmods fail with EROFS.
cp "$T/store/a/$day/$(basename "$finished")" "$T/before.mp4"
for try in "touch '$M/a/new'" "echo x >> '$finished'" "rm '$finished'" "mv '$finished' '$M/a/x.mp4'" \
	   "mkdir '$M/a/d'" "chmod 600 '$finished'" "rmdir '$M/a/$day'" "ln -s x '$M/a/l'"; do
	err=$(bash -c "$try" 2>&1) && fail "allowed: $try"
	echo "$err" | grep -q "Read-only file system" || fail "$try: $err"
done
cmp "$T/before.mp4" "$T/store/a/$day/$(basename "$finished")" || fail "the store changed"
[ ! -e "$T/store/a/new" ] && [ ! -e "$T/store/a/d" ] || fail "something was created in the store"
ok "writes, deletes, renames, chmod: EROFS, store untouched"

unmount_camfs "$M"
check_log
