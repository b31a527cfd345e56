# lib.sh - shared by the mount benchmarks: the build dir and camfs binary,
# a temp dir, and a cleanup trap that unmounts and stops what was started.
# Sourced with BUILD_DIR as the script's first argument.
set -euo pipefail
build=$(realpath "${1:-build}")
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
camfs_bin=$build/camfs
T=$(mktemp -d /tmp/camfs-bench.XXXXXX)
pids=()
readers=()
mnt=
cleanup() {
	[ ${#readers[@]} -gt 0 ] && kill "${readers[@]}" 2>/dev/null || true
	[ -n "$mnt" ] && { fusermount3 -u "$mnt" 2>/dev/null || fusermount3 -u -z "$mnt" 2>/dev/null || true; }
	[ ${#pids[@]} -gt 0 ] && kill "${pids[@]}" 2>/dev/null || true
	wait 2>/dev/null || true
	[ -n "${KEEP:-}" ] && echo "kept $T" || rm -rf "$T"
}
trap cleanup EXIT
