#!/bin/bash
# demo.sh - `camfs --demo --no-mount` records its two synthetic cameras with
# no config at all, as the README's first command does.
. "$(dirname "$0")/lib.sh"

start_camfs --demo --no-mount -o store="$T/store" -o segment_seconds=2
enough() { for c in demo-moving demo-static; do [ "$(count_segments "$T/store" $c)" -ge 3 ] || return 1; done; }
wait_until 30 enough || fail "demo cameras did not record"
stop_camfs
check_log
for c in demo-moving demo-static; do
	while read -r f; do
		[ "$(codec_of "$f" v:0)" = h264 ] || fail "$f is not H.264"
		plays "$f" || fail "$f does not play"
	done < <(segments "$T/store" $c)
	ok "$c: $(count_segments "$T/store" $c) segments"
done
