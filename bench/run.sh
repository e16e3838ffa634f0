#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# run.sh - build migbench, run it in a 2-node QEMU VM, plot the results.
#
# Usage: bench/run.sh [--mem MB] [--publish] [--] [migbench options]
#        bench/run.sh --plot-only | --publish-only
#
#   --mem MB        memory per node of the VM (default 1536)
#   --timeout S     give the VM up after S seconds (default 1800; migbench
#                   waits for a quiet host before each run, see below)
#   --wait-quiet S  first wait up to S seconds until no other QEMU runs on
#                   the host (default 0: do not wait)
#   --publish       afterwards copy the plots, results.md and bench.csv into
#                   results/ (what is committed)
#   --plot-only     only redo the plots and the table from out/bench.csv
#   --publish-only  only copy them (from the last run) into results/
#
# Other QEMU guests and other load on this host steal CPU from the two
# vCPUs, and under TCG that makes timings meaningless (a CPU that waits for
# a TLB-flush IPI waits for a descheduled vCPU thread). run.sh watches the
# host; migbench waits until it is quiet before each run and redoes a run
# that overlapped load (BUSY_LIMIT=ticks per half second, default 10).
#
# Everything lands in bench/out/ (git-ignored): bench.csv (one line per
# run), timeline.csv (placement polls), migbench.txt (medians), env.txt,
# console.log and dmesg.log of the VM, *.png and results.md.

set -euo pipefail

bench=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo=${bench%/bench}
out=$bench/out
mem=1536
timeout_s=1800
wait_quiet=0
busy_limit=${BUSY_LIMIT:-10}
publish=0
mode=run

die() {
	echo "run.sh: $*" >&2
	exit 1
}

while [ $# -gt 0 ]; do
	case $1 in
	--mem)		mem=${2:?}; shift 2 ;;
	--timeout)	timeout_s=${2:?}; shift 2 ;;
	--wait-quiet)	wait_quiet=${2:?}; shift 2 ;;
	--publish)	publish=1; shift ;;
	--plot-only)	mode=plot; shift ;;
	--publish-only)	mode=publish; shift ;;
	-h|--help)	awk 'NR > 2 && !/^#/ { exit } NR > 2 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
	--)		shift; break ;;
	*)		break ;;
	esac
done

# A python3 with matplotlib (Debian's python3-matplotlib lives in
# /usr/bin/python3, which a pyenv or venv python3 earlier in PATH hides).
find_python() {
	local py
	for py in ${PYTHON:-} python3 /usr/bin/python3; do
		if "$py" -c 'import matplotlib' 2>/dev/null; then
			echo "$py"
			return 0
		fi
	done
	return 1
}

plot() {
	local py
	py=$(find_python) || die "no python3 with matplotlib (apt-get install python3-matplotlib, or set PYTHON=)"
	"$py" "$bench/plot.py" --csv "$out/bench.csv" \
		--timeline "$out/timeline.csv" --env "$out/env.txt" \
		--host "$out/host.txt" --outdir "$out"
}

publish_results() {
	mkdir -p "$bench/results"
	cp "$out"/*.png "$out/results.md" "$out/bench.csv" "$bench/results/"
	echo "run.sh: copied $(cd "$out" && echo *.png) results.md bench.csv to bench/results/"
}

case $mode in
plot)		plot; exit ;;
publish)	publish_results; exit ;;
esac

mkdir -p "$out"
make -C "$bench" --no-print-directory migbench
if [ ! -f "$repo/module/numamig.ko" ]; then
	make -C "$repo/module" --no-print-directory
fi
rm -f "$out/bench.csv" "$out/timeline.csv" "$out/migbench.txt" "$out/host.txt"
echo "0 1" >"$out/host-quiet"

# Other QEMU guests on the host take CPU from our two vCPUs: TCG timings
# then mean little (an IPI waits for a descheduled vCPU thread). Count them.
other_qemus() {
	local n
	# (the command name, cut to 15 characters)
	n=$(pgrep -c -x qemu-system-x86 2>/dev/null || true)
	n=${n:-0}
	echo $((n > ours ? n - ours : 0))
}

ours=0
if [ "$wait_quiet" -gt 0 ] && [ "$(other_qemus)" -gt 0 ]; then
	echo "run.sh: waiting up to ${wait_quiet}s for other QEMU guests to end"
	for ((i = 0; i < wait_quiet; i++)); do
		[ "$(other_qemus)" -gt 0 ] || break
		sleep 1
	done
fi

echo "run.sh: host load before: $(cut -d' ' -f1-3 /proc/loadavg), other QEMU guests: $(other_qemus)"
# Our QEMU's CPU time and the host's, in clock ticks (USER_HZ): what the
# host spends beyond our guest is someone else's load.
qemu_pid() {
	pgrep -f -- "^qemu-system-x86_64 .*path=$out,mount_tag=out" | head -n 1
}
host_ticks() {
	awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat
}
proc_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0
}

# Sample twice a second while the VM runs: a sample is busy when another
# QEMU guest runs or the rest of the host used more than $busy_limit ticks
# (of 100 a second per CPU). host-quiet ("BUSY QUIET") is read by migbench
# in the guest: it waits for a quiet host before each run and redoes runs
# during which the host was busy (see migbench --quiet-file).
ours=1
(
	busy=0 total=0 qpid='' prev_h='' prev_q=0 q=0
	while sleep 0.5; do
		total=$((total + 1))
		[ -n "$qpid" ] || qpid=$(qemu_pid)
		h=$(host_ticks)
		if [ -n "$qpid" ]; then q=$(proc_ticks "$qpid"); fi
		rest=0
		[ -z "$prev_h" ] || rest=$(( (h - prev_h) - (q - prev_q) ))
		prev_h=$h prev_q=$q
		quiet=1
		if [ "$(other_qemus)" -gt 0 ] || [ "$rest" -gt "$busy_limit" ]; then
			busy=$((busy + 1))
			quiet=0
		fi
		echo "$busy $quiet" >"$out/host-quiet.tmp"
		mv "$out/host-quiet.tmp" "$out/host-quiet"
		echo "samples=$total busy_samples=$busy cpus=$(nproc) busy_limit=$busy_limit last_rest=$rest" >"$out/host.txt.tmp"
		mv "$out/host.txt.tmp" "$out/host.txt"
	done
) &
monitor=$!
trap 'kill "$monitor" 2>/dev/null || true' EXIT
vm_rc=0
"$repo/selftests/vm/run-vm.sh" --nodes 2 --mem "$mem" --timeout "$timeout_s" \
	--outdir "$out" -- "$bench/guest.sh" "$out" --quiet-file "$out/host-quiet" "$@" ||
	vm_rc=$?
kill "$monitor" 2>/dev/null || true
wait "$monitor" 2>/dev/null || true
echo "run.sh: host load after: $(cut -d' ' -f1-3 /proc/loadavg); $(cat "$out/host.txt" 2>/dev/null)"

[ -s "$out/bench.csv" ] || die "no results (VM status $vm_rc, see $out/console.log)"
plot
[ "$publish" = 0 ] || publish_results
if [ "$vm_rc" != 0 ]; then
	echo "run.sh: the VM run exited with $vm_rc: some runs failed or the kernel complained (see $out/console.log)" >&2
fi
exit "$vm_rc"
