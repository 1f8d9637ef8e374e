#!/bin/sh
# Runs every libFuzzer target in DIR for SECONDS each, starting from the
# seed corpus in fixtures/fuzz/<target>/ (copied: seeds stay as committed).
# Exits non-zero on the first target that finds a crash, leak or timeout;
# the reproducer is left in build's fuzz directory as crash-*/leak-*/...
set -eu
dir=$1
seconds=$2
status=0
for bin in "$dir"/fuzz_*; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin" | sed 's/^fuzz_//')
	work="$dir/corpus-$name"
	mkdir -p "$work"
	if [ -d "fixtures/fuzz/$name" ]; then
		cp -n "fixtures/fuzz/$name"/* "$work"/ 2>/dev/null || true
	fi
	echo "fuzz: $name for ${seconds}s"
	if ! (cd "$dir" && "./$(basename "$bin")" -max_total_time="$seconds" \
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		"corpus-$name" >"fuzz-$name.log" 2>&1); then
		echo "fuzz: $name FAILED, see $dir/fuzz-$name.log:" >&2
		tail -n 40 "$dir/fuzz-$name.log" >&2
		status=1
	else
		grep -E '^stat::number_of_executed_units' "$dir/fuzz-$name.log" |
			sed "s/^/fuzz: $name /"
	fi
done
exit $status
