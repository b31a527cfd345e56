#!/bin/bash
# fstab.sh - mount(8) and fstab: "mount -t fuse.camfs CONFIG MOUNTPOINT"
# and the matching fstab line start camfs through mount.fuse3 (which finds
# camfs on the standard PATH, as an installed one is), the tree answers and
# records, and umount stops camfs. Run in a mount namespace of its own, where
# /usr/local/sbin holds this build's camfs.
. "$(dirname "$0")/lib.sh"

[ -e /dev/fuse ] || skip "no /dev/fuse"
[ -x /sbin/mount.fuse3 ] || skip "no mount.fuse3 (fuse3)"
command -v unshare >/dev/null || skip "no unshare (util-linux)"
start_fixture cam --mount /a=h264
camfs_config segment_seconds=2 http=off -- a=rtsp://127.0.0.1:$cam_PORT/a
MNT=$T/mnt
mkdir -p "$MNT" "$T/bin"
ln -s "$CAMFS" "$T/bin/camfs"
echo "$T/camfs.conf $MNT fuse.camfs allow_other,noauto,nofail 0 0" >"$T/fstab"

unshare --mount --propagation private bash -s "$T" "$MNT" "$CAMFS" <<'SH' >"$T/ns.log" 2>&1 || fail "$(cat "$T/ns.log")"
set -u
T=$1 MNT=$2 CAMFS=$3
mount --bind "$T/bin" /usr/local/sbin
up() { for _ in $(seq 100); do [ -e "$MNT/a/live.mp4" ] && return 0; sleep 0.2; done; return 1; }
gone() {   # camfs for this config ended
	for _ in $(seq 50); do pgrep -f "camfs $T/camfs.conf" >/dev/null || return 0; sleep 0.2; done
	return 1
}
recorded() { for _ in $(seq 100); do ls "$MNT"/a/*/*.mp4 >/dev/null 2>&1 && return 0; sleep 0.2; done; return 1; }

mount -t fuse.camfs "$T/camfs.conf" "$MNT" -o allow_other || { echo "mount -t fuse.camfs failed"; exit 1; }
up || { echo "mount -t fuse.camfs: no tree"; exit 1; }
grep -q " $MNT fuse.camfs " /proc/mounts || { echo "not listed as fuse.camfs: $(grep "$MNT" /proc/mounts)"; exit 1; }
recorded || { echo "nothing recorded under mount -t fuse.camfs"; exit 1; }
umount "$MNT" || exit 1
gone || { echo "camfs still runs after umount"; exit 1; }
echo "ok: mount -t fuse.camfs mounted, recorded; umount stopped camfs"

mount -T "$T/fstab" "$MNT" || { echo "mount by the fstab line failed"; exit 1; }
up || { echo "fstab: no tree"; exit 1; }
opts=$(awk -v m="$MNT" '$2 == m { print $4 }' /proc/mounts)
case ",$opts," in *,allow_other,*) ;; *) echo "fstab: allow_other not in effect ($opts)"; exit 1;; esac
umount "$MNT" || exit 1
gone || { echo "camfs still runs after umount (fstab)"; exit 1; }
echo "ok: the fstab line mounted with allow_other; umount stopped camfs"
SH
cat "$T/ns.log"
mountpoint -q "$MNT" && fail "the namespace's mount is seen outside it"
ok "mount(8) and fstab through mount.fuse3"
