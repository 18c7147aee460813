#!/bin/sh
# Run one libFuzzer target for a bounded time.
# usage: run_fuzz.sh TARGET SEED_DIR SECONDS
# Exits 0 when the run ends without a finding, non-zero (libFuzzer's code)
# on a crash, leak or sanitizer report; the reproducer is kept under
# $MESON_BUILD_ROOT/fuzz-artifacts/.
set -eu
target=$1 seeds=$2 seconds=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
art=${MESON_BUILD_ROOT:-.}/fuzz-artifacts/$(basename "$target")
mkdir -p "$art"
set -- "$work"
[ -d "$seeds" ] && set -- "$@" "$seeds"
# -error_exitcode=1: libFuzzer's default (77) reads as "skipped" to meson.
exec "$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -error_exitcode=1 \
	-print_final_stats=1 -artifact_prefix="$art/" "$@"
