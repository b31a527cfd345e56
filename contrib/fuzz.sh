#!/bin/sh
# Builds the libFuzzer targets (clang, ASan+UBSan everywhere) in build-fuzz and
# runs each for FUZZ_SECONDS (default 30) on a temp copy of its corpus.
#
# ./contrib/fuzz.sh [target...]   (default: every test/fuzz/fuzz_<target>.c)
# Fails if any target crashes, leaks, hits UB or times out; the input that did
# it is kept as build-fuzz/fuzz-artifacts/<target>-crash-<sha1>. The corpus in
# test/fuzz/corpus/<target> is only read; to keep what a run found, merge it:
#   build-fuzz/test/fuzz/fuzz_<t> -merge=1 test/fuzz/corpus/<t> <dir with new inputs>
set -eu
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-30}
build="build-fuzz"
# Coverage feedback needs the code under test instrumented too, not just the
# fuzz_*.c files (which link with -fsanitize=fuzzer themselves).
opts="-Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false -Dc_args=-fsanitize=fuzzer-no-link"
# shellcheck disable=SC2086 # opts is a list
CC=clang meson setup --reconfigure $opts "$build" >/dev/null 2>&1 ||
	CC=clang meson setup $opts "$build"
ninja -C "$build"

if [ $# -eq 0 ]; then
	for src in test/fuzz/fuzz_*.c; do
		t=${src#test/fuzz/fuzz_}
		set -- "$@" "${t%.c}"
	done
fi

tmp=$(mktemp -d /tmp/camfs-fuzz-XXXXXX)
pids=
trap '[ -z "$pids" ] || kill $pids 2>/dev/null || true; rm -rf "$tmp"' EXIT
artifacts=$build/fuzz-artifacts
mkdir -p "$artifacts"

# All targets at once (each is one process, bounded by wall time); the
# clipname target resolves names in a zone with DST changes.
for t in "$@"; do
	exe=$build/test/fuzz/fuzz_$t
	[ -x "$exe" ] || { echo "fuzz.sh: no target $exe" >&2; exit 1; }
	mkdir "$tmp/$t"
	if [ -d "test/fuzz/corpus/$t" ]; then
		cp test/fuzz/corpus/"$t"/* "$tmp/$t"/
	fi
	TZ=Europe/Berlin ASAN_OPTIONS=detect_leaks=1 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		"$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$artifacts/$t-" \
		"$tmp/$t" >"$tmp/$t.log" 2>&1 &
	echo $! >"$tmp/$t.pid"
	pids="$pids $!"
done

status=0
for t in "$@"; do
	if wait "$(cat "$tmp/$t.pid")"; then
		# e.g. "#412345 DONE cov: 81 ft: 150 corp: 40/1200b ..." and the stats
		echo "fuzz_$t: $(grep -m1 'DONE' "$tmp/$t.log" || true)"
		grep '^stat::' "$tmp/$t.log" | tr '\n' ' '
		echo
	else
		echo "fuzz_$t: FAILED" >&2
		tail -n 60 "$tmp/$t.log" >&2
		status=1
	fi
done
pids=
exit $status
