#!/bin/bash
# DeeTune's benchmark suite (`make bench`, as root); see bench/README.md.
#
#   bench/run.sh path/to/deetune [--profile]
#
# Starts its own nginx, redis-server and mariadbd on loopback ports
# (BENCH_PORT_BASE, default 18580..18584), measures, prints one table and
# writes it as JSON to bench/results/ (or BENCH_OUT=FILE). Takes about 12
# minutes on a 2-core machine. Everything it starts is stopped on exit;
# its scratch directory is removed unless BENCH_KEEP=1.
# --profile instead profiles wrk -> nginx with and without recording
# (perf record -a -g, BPF program times): bench/profile.py.
set -euo pipefail

DEETUNE=${1:?usage: bench/run.sh path/to/deetune [--profile]}
MODE=${2:-}
HERE=$(cd "$(dirname "$0")" && pwd)

die()
{
	echo "bench: $*" >&2
	exit 2
}

[ -x "$DEETUNE" ] || die "$DEETUNE is not executable (run 'make' first)"
[ "$(id -u)" -eq 0 ] || die "recording uses eBPF: run me as root"
[ -z "$MODE" ] || [ "$MODE" = --profile ] || die "unknown option $MODE"
for c in python3 gcc wrk nginx redis-server redis-cli redis-benchmark \
	mariadbd mariadb-install-db mariadb mariadb-admin mysqlslap tcpdump \
	bpftool; do
	command -v "$c" >/dev/null || die "$c is missing (run 'make deps')"
done

WORK=$(mktemp -d /tmp/deetune-bench.XXXXXX)
# Capture files (sessions, pcaps: ~100 MiB/s from tcpdump at saturation)
# go to tmpfs: disk stalls caused by other work on the machine would
# otherwise show up as noise in whichever capturer is writing.
if [ -d /dev/shm ] && [ "$(stat -f -c %T /dev/shm)" = tmpfs ]; then
	CAPTURE=$(mktemp -d /dev/shm/deetune-bench.XXXXXX)
else
	CAPTURE=$WORK/capture
	mkdir "$CAPTURE"
fi
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup()
{
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		echo "bench: scratch directories kept: $WORK $CAPTURE" >&2
	else
		rm -rf "$WORK" "$CAPTURE"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A private copy: a rebuild in the tree during the run changes nothing.
cp "$DEETUNE" "$WORK/deetune"
gcc -O2 -Wall -Wextra -Werror -o "$WORK/syscall_load" "$HERE/syscall_load.c"

# Everything the suite starts (servers, load, capturers) runs at one
# raised priority: among themselves nothing changes, but other work on a
# shared machine (builds, fuzzers) takes much less from the measurements.
NICE=${BENCH_NICE:--10}
rc=0
if [ "$MODE" = --profile ]; then
	command -v perf >/dev/null || die "perf is missing"
	nice -n "$NICE" python3 -B "$HERE/profile.py" "$WORK/deetune" \
		"$WORK" || rc=$?
else
	nice -n "$NICE" python3 -B "$HERE/bench.py" "$WORK/deetune" \
		"$WORK/syscall_load" "$WORK" "$CAPTURE" || rc=$?
fi
exit "$rc"
