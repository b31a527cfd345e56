#!/bin/bash
# discover.sh - camfs --discover in a network namespace of its own, against
# fake devices (fake_onvif.py): the ONVIF camera is found by WS-Discovery,
# its profiles and stream URIs are read with a UsernameToken digest the
# camera checks, and the printed section (placeholders, no password) passes
# --check-config; without credentials it says so; hostile answers (not XML,
# a file:// XAddr, one with a password in it) are not followed; a device
# that never answers and one that answers 5 MiB cost no more than the
# timeout; the SSDP ESP32-CAM is listed with its MJPEG URL.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root for a network namespace"
command -v unshare >/dev/null && command -v ip >/dev/null || skip "no unshare or ip"
FAKE=$(dirname "$0")/fake_onvif.py

# in_netns SCRIPT: runs SCRIPT with bash in a new network namespace whose
# loopback carries multicast, next to the fake devices.
in_netns() {
	unshare -n bash -c '
		set -e
		ip link set lo up
		ip link set lo multicast on
		ip route add 239.0.0.0/8 dev lo
		python3 "$1" "$2/ready" &
		fake=$!
		for _ in $(seq 50); do [ -e "$2/ready" ] && break; sleep 0.1; done
		rm -f "$2/ready"
		shift 2
		bash -c "$1"
		ret=$?
		kill $fake
		exit $ret' _ "$FAKE" "$T" "$1"
}

start=$(date +%s)
CAMFS="$CAMFS" in_netns '"$CAMFS" --discover --timeout 2' >"$T/anon.out" 2>&1 ||
	fail "--discover failed: $(cat "$T/anon.out")"
grep -q '^# 3 ONVIF devices, 1 SSDP device answered; [0-9]* answers\? ignored' "$T/anon.out" ||
	fail "the answers: $(head -3 "$T/anon.out")"
grep -q 'authentication needed' "$T/anon.out" || fail "no word of authentication: $(cat "$T/anon.out")"
grep -q '^\[camera' "$T/anon.out" && fail "a section without credentials: $(cat "$T/anon.out")"
ok "without credentials: 3 ONVIF devices (of 5 answers), 'authentication needed'"

export ONVIF_USER=admin ONVIF_PASSWORD=secret
CAMFS="$CAMFS" in_netns '"$CAMFS" --discover --timeout 2' >"$T/out" 2>&1 || fail "--discover failed: $(cat "$T/out")"
elapsed=$(( $(date +%s) - start ))
cat "$T/out"
grep -qx '\[camera Front_Door\]' "$T/out" || fail "no section for the camera"
grep -qx 'url = rtsp://${FRONT_DOOR_USER}:${FRONT_DOOR_PASSWORD}@127.0.0.1:554/Streaming/Channels/101' "$T/out" ||
	fail "the main stream's URL: $(grep url "$T/out")"
grep -qx '#motion_url = rtsp://${FRONT_DOOR_USER}:${FRONT_DOOR_PASSWORD}@127.0.0.1:554/Streaming/Channels/102' "$T/out" ||
	fail "the substream as motion_url: $(grep motion_url "$T/out")"
grep -q 'secret\|leakedpw\|toor' "$T/out" && fail "a password was printed"
grep -q 'shadow\|Userinfo\|9/x' "$T/out" && fail "a hostile XAddr was followed or printed"
grep -A2 'Silent' "$T/out" | grep -q 'Timeout\|timed out' || fail "the silent device: $(grep -A2 Silent "$T/out")"
grep -A2 'Huge' "$T/out" | grep -q 'over 1 MiB' || fail "the huge answer: $(grep -A2 Huge "$T/out")"
grep -q 'http://127.0.0.1/sustain?video=1' "$T/out" || fail "the ESP32-CAM's MJPEG URL is missing"
# Two runs of a 2 s probe, the silent device's 2 s call each: well under 20 s.
[ "$elapsed" -lt 20 ] || fail "two runs took $elapsed s"
ok "with ONVIF_USER: the camera's section (digest accepted), motion_url from the substream, no password; silent and huge devices bounded ($elapsed s for both runs)"

# The section is a config camfs accepts.
{ echo "[camfs]"; echo "store = $T/store"; sed -n '/^\[camera/,/^$/p' "$T/out"; } >"$T/found.conf"
FRONT_DOOR_USER=viewer FRONT_DOOR_PASSWORD=x "$CAMFS" --check-config "$T/found.conf" >"$T/check" 2>&1 ||
	fail "--check-config of the printed section: $(cat "$T/check")"
ok "$(cat "$T/check")"
