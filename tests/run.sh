#!/bin/bash
# DeeTune's test runner.
#
#   tests/run.sh [--unit-only] O
#
# Runs every unit test binary O/tests/test_* (cmocka; one test each, passes
# on exit 0), then, unless --unit-only, every tests/integration/test_*.sh in
# a fresh scratch directory with DEETUNE=O/deetune, each under a timeout.
# Prints PASS/FAIL/SKIP per test, the log of each failure, and last one
# summary line "N passed, N failed" (", N skipped" when some were).
# Exits 1 when a test failed. Under CI=true nothing may skip: a test that
# would skip (no root, no BPF) fails instead.
set -uo pipefail

UNIT_TIMEOUT=300
INTEGRATION_TIMEOUT=240
SKIP_RC=77

usage()
{
	echo "usage: $0 [--unit-only] BUILD-DIR" >&2
	exit 2
}

unit_only=0
if [ "${1:-}" = --unit-only ]; then
	unit_only=1
	shift
fi
[ $# -eq 1 ] || usage
[ -d "$1" ] || { echo "$0: no build directory $1" >&2; exit 2; }
O=$(cd "$1" && pwd)
TESTS_DIR=$(cd "$(dirname "$0")" && pwd)

SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/deetune-tests.XXXXXX")
passed=0
failed=0
skipped=0

# report NAME RC LOG [DIR]: prints the outcome of one test.
report()
{
	local name=$1 rc=$2 log=$3 dir=${4:-} reason
	if [ "$rc" -eq 0 ]; then
		echo "PASS $name"
		passed=$((passed + 1))
		return
	fi
	if [ "$rc" -eq "$SKIP_RC" ] && [ "${CI:-}" != true ]; then
		reason=$(sed -n 's/^SKIP: //p' "$log" | tail -n 1)
		echo "SKIP $name (${reason:-no reason given})"
		skipped=$((skipped + 1))
		return
	fi
	case $rc in
	124) why="timed out" ;;
	"$SKIP_RC") why="skipped, but CI=true forbids skipping" ;;
	*) why="exit $rc" ;;
	esac
	echo "FAIL $name ($why)"
	echo "---- log of $name${dir:+ (files kept in $dir)} ----"
	cat "$log"
	echo "---- end of $name ----"
	failed=$((failed + 1))
}

run_unit_tests()
{
	local bin name rc
	for bin in "$O"/tests/test_*; do
		[ -f "$bin" ] || continue
		[ -x "$bin" ] || continue
		name=unit/$(basename "$bin")
		rc=0
		timeout -k 10 "$UNIT_TIMEOUT" "$bin" \
			>"$SCRATCH/$(basename "$bin").log" 2>&1 || rc=$?
		report "$name" "$rc" "$SCRATCH/$(basename "$bin").log"
	done
}

run_integration_tests()
{
	local script name dir rc deetune=$O/deetune
	if [ ! -x "$deetune" ]; then
		echo "FAIL integration ($deetune is missing)"
		failed=$((failed + 1))
		return
	fi
	for script in "$TESTS_DIR"/integration/test_*.sh; do
		[ -f "$script" ] || continue
		name=integration/$(basename "$script" .sh)
		dir=$SCRATCH/$(basename "$script" .sh)
		mkdir -p "$dir"
		rc=0
		(cd "$dir" && DEETUNE=$deetune timeout -k 10 \
			"$INTEGRATION_TIMEOUT" bash "$script") \
			>"$dir.log" 2>&1 </dev/null || rc=$?
		if [ "$rc" -eq 0 ] ||
			{ [ "$rc" -eq "$SKIP_RC" ] && [ "${CI:-}" != true ]; }; then
			report "$name" "$rc" "$dir.log"
			rm -rf "$dir"
		else
			report "$name" "$rc" "$dir.log" "$dir"
		fi
	done
}

run_unit_tests
[ "$unit_only" -eq 1 ] || run_integration_tests

if [ "$failed" -eq 0 ]; then
	rm -rf "$SCRATCH"
fi
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
