#!/bin/bash
# service.sh - contrib/camfs.service: systemd-analyze verify finds nothing
# wrong; it asks for no mount namespace (camfs run in one, as systemd would
# run it with ProtectSystem= and the like, mounts where no one else sees);
# and camfs with only the capabilities the unit leaves it, under
# no_new_privs, mounts, records, takes an upload from a folder the FTP
# user owns, and is unmounted with fusermount3 from outside.
. "$(dirname "$0")/lib.sh"

[ -e /dev/fuse ] || skip "no /dev/fuse"
command -v setpriv >/dev/null && command -v unshare >/dev/null && command -v nsenter >/dev/null ||
	skip "setpriv, unshare, nsenter not installed (util-linux)"
UNIT=$FIXTURE_DIR/../../contrib/camfs.service

# 1. systemd reads it without a complaint (pointed at this build's camfs).
if command -v systemd-analyze >/dev/null; then
	sed "s|/usr/local/bin/camfs|$CAMFS|" "$UNIT" >"$T/camfs.service"
	out=$(systemd-analyze verify "$T/camfs.service" 2>&1) || fail "systemd-analyze verify: $out"
	[ -z "$out" ] || fail "systemd-analyze verify: $out"
	ok "systemd-analyze verify: no complaint"
else
	echo "systemd-analyze not installed: unit not verified"
fi

# 2. No option that makes a mount namespace.
ns_options='ProtectSystem|ProtectHome|PrivateTmp|PrivateDevices|ReadWritePaths|ReadOnlyPaths|InaccessiblePaths|ExecPaths|NoExecPaths|TemporaryFileSystem|BindPaths|BindReadOnlyPaths|ProtectKernelTunables|ProtectKernelModules|ProtectKernelLogs|ProtectControlGroups|ProtectProc|ProcSubset|ProtectHostname|PrivateMounts|MountFlags|RootDirectory|RootImage|MountAPIVFS|StateDirectory|CacheDirectory|LogsDirectory|RuntimeDirectory'
bad=$(grep -E "^($ns_options)=" "$UNIT" || true)
[ -z "$bad" ] || fail "camfs.service makes a mount namespace, which hides the mount: $bad"
ok "camfs.service asks for no mount namespace"

start_fixture cam --mount /a=h264
camfs_config segment_seconds=2 -- a=rtsp://127.0.0.1:$cam_PORT/a
UP=$T/incoming/a
mkdir -p "$UP"
chown 65534:65534 "$UP"
echo "events_incoming = $UP" >>"$T/camfs.conf"

# 3. Why: in a mount namespace of its own (slave, as systemd makes them),
# camfs mounts, but only there.
M=$T/mnt-ns
mkdir -p "$M"
unshare --mount --propagation slave "$CAMFS" -f -o config="$T/camfs.conf" "$M" \
	>>"$T/camfs-ns.log" 2>&1 &
NS_PID=$!
PIDS+=($NS_PID)
inside() { nsenter -t "$NS_PID" -m test -e "$M/status.json"; }
wait_until 20 inside || fail "camfs in its own mount namespace did not mount: $(cat "$T/camfs-ns.log")"
[ ! -e "$M/status.json" ] && ! mountpoint -q "$M" ||
	fail "the mount made in camfs's own namespace is visible outside it"
kill -TERM "$NS_PID"
wait "$NS_PID" || fail "camfs in its own mount namespace exited with $?"
ok "in a mount namespace of its own, camfs's mount is not seen outside it"

# 4. The unit's capabilities and no_new_privs (setpriv stands in for systemd).
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT")
[ -n "$caps" ] || fail "camfs.service has no CapabilityBoundingSet="
grep -qx 'NoNewPrivileges=yes' "$UNIT" || fail "camfs.service has no NoNewPrivileges=yes"
bset=-all
for c in $caps; do c=${c#CAP_}; bset+=",+${c,,}"; done
cat >"$T/camfs-sandboxed" <<SH
#!/bin/sh
exec setpriv --bounding-set $bset --inh-caps -all --no-new-privs "$CAMFS" "\$@"
SH
chmod +x "$T/camfs-sandboxed"
REAL_CAMFS=$CAMFS
CAMFS=$T/camfs-sandboxed
M=$T/mnt
mount_camfs "$M" -o config="$T/camfs.conf"
CAMFS=$REAL_CAMFS
want=$(printf '%x' $(( (1 << 1) | (1 << 2) | (1 << 21) )))   # dac_override, dac_read_search, sys_admin
got=$(awk '/^CapBnd:/ { sub(/^0+/, "", $2); print $2 }' "/proc/$CAMFS_PID/status")
[ "$got" = "$want" ] || fail "camfs's bounding set is $got, want $want"
grep -q '^NoNewPrivs:[[:space:]]*1' "/proc/$CAMFS_PID/status" || fail "camfs runs without no_new_privs"
day=$(date +%F)
segs() { ls "$M/a/$day" 2>/dev/null | grep -cE '^[0-9]{2}-[0-9]{2}-[0-9]{2}\.mp4$'; }
have() { [ "$(segs)" -ge 2 ]; }
wait_until 30 have || fail "no segments in the mount"
first=$(ls "$M/a/$day" | grep -E '^[0-9]{2}-[0-9]{2}-[0-9]{2}\.mp4$' | head -n 1)
cmp -s "$M/a/$day/$first" "$T/store/a/$day/$first" || fail "$first differs from the store"
ok "with only $caps and no_new_privs: mounted, recording"

# An upload the FTP user owns (0600, in its own 0755 folder).
ffmpeg -v error -nostdin -f lavfi -i testsrc2=size=160x120 -frames:v 1 -y "$T/snap.jpg" ||
	fail "ffmpeg could not make a JPEG"
cp "$T/snap.jpg" "$UP/.part"
chown 65534:65534 "$UP/.part"
chmod 600 "$UP/.part"
mv "$UP/.part" "$UP/snap.jpg"
filed() { compgen -G "$M/a/events/*/*-camera.jpg" >/dev/null; }
wait_until 10 filed || fail "the upload was not filed: $(grep -i upload "$T/camfs.log")"
cmp -s "$T/snap.jpg" "$(compgen -G "$M/a/events/*/*-camera.jpg" | head -n 1)" ||
	fail "the filed upload differs"
[ ! -e "$UP/snap.jpg" ] || fail "the upload was left in the FTP user's folder"
ok "an upload owned by the FTP user is filed and removed"

unmount_camfs "$M"
ok "fusermount3 -u from outside unmounts; camfs exits 0"
check_log
