#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# run.sh - the page-cache carry-over benchmark: build hcreader (and numamig
# if needed), make an ext4 disk image, run guest.sh in a 2-node QEMU VM,
# then tabulate and plot on the host.
#
# Usage: bench/hotcache/run.sh [options]
#
#   --size MB       data file size (default 1024)
#   --time S        seconds the reader runs after the "migration" (default 10)
#   --reps N        repetitions (default 3)
#   --rate MB       storage bandwidth, MiB/s, io.max rbps (default 64)
#   --warm N        source warm-up: mean reads per hot block (default 8)
#   --jobs N        numamigctl prefetch --jobs (default 4)
#   --pf-rate MB    prefetch --rate of the hot-rate case (default rate / 2)
#   --delay MS      per-read latency of the lat profile (dm-delay, default 1:
#                   one jiffy, 4 ms at HZ=250)
#   --profiles LIST storage profiles (default "bw lat": bandwidth only, and
#                   bandwidth plus latency)
#   --cases LIST    cases, space separated (default
#                   "none hot hot-before hot-rate whole whole-cat")
#   --mem MB        memory per node of the VM (default 1536)
#   --timeout S     give the VM up after S seconds (default 2400)
#   --wait-quiet S  first wait up to S seconds until no other QEMU runs on
#                   the host (default 0: do not wait; see below)
#   --publish       afterwards copy the plots and results.md into results/
#   --plot-only     only redo the table and the plots from out/
#   --publish-only  only copy out/*.png and out/results.md into results/
#
# The guest runs under TCG on the host's CPUs: another QEMU guest (or any
# load) on the host slows the reader's cache hits, which are CPU-bound, and
# so the reads per second of every case (storage reads are paced by the
# throttle, in wall-clock time, and suffer less). host.txt records whether
# other guests ran; results.md repeats it.
#
# Everything lands in out/ (meant to be git-ignored): runs.csv, dumps.csv,
# timeline/, iotl/, env.txt, host.txt, console.log, dmesg.log, *.png and
# results.md. The disk image is $BUILD_DIR/hcbench-ext4.img (default
# build/ of the repository); the data file in it is written once and kept.

set -euo pipefail

# One compound command: bash reads all of it before running it, so that
# editing this file during a run does not derail the run.
{

hc=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo=${hc%/bench/hotcache}
out=$hc/out
BUILD_DIR=${BUILD_DIR:-$repo/build}
img=$BUILD_DIR/hcbench-ext4.img
img_gb=3
mem=1536
timeout_s=2400
wait_quiet=0
publish=0
mode=run
envs=()

die() {
	echo "run.sh: $*" >&2
	exit 1
}

while [ $# -gt 0 ]; do
	case $1 in
	--size)		envs+=(--env "HC_SIZE_MB=${2:?}"); shift 2 ;;
	--time)		envs+=(--env "HC_T=${2:?}"); shift 2 ;;
	--reps)		envs+=(--env "HC_R=${2:?}"); shift 2 ;;
	--rate)		envs+=(--env "HC_RATE_MB=${2:?}"); shift 2 ;;
	--warm)		envs+=(--env "HC_WARM=${2:?}"); shift 2 ;;
	--jobs)		envs+=(--env "HC_JOBS=${2:?}"); shift 2 ;;
	--delay)	envs+=(--env "HC_DELAY_MS=${2:?}"); shift 2 ;;
	--profiles)	envs+=(--env "HC_PROFILES=${2:?}"); shift 2 ;;
	--pf-rate)	envs+=(--env "HC_PF_RATE=${2:?}"); shift 2 ;;
	--cases)	envs+=(--env "HC_CASES=${2:?}"); shift 2 ;;
	--mem)		mem=${2:?}; shift 2 ;;
	--timeout)	timeout_s=${2:?}; shift 2 ;;
	--wait-quiet)	wait_quiet=${2:?}; shift 2 ;;
	--publish)	publish=1; shift ;;
	--plot-only)	mode=plot; shift ;;
	--publish-only)	mode=publish; shift ;;
	-h|--help)	awk 'NR > 2 && !/^#/ { exit } NR > 2 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
	*)		echo "run.sh: unknown option '$1'" >&2
			echo "Try 'run.sh --help'." >&2
			exit 2 ;;
	esac
done

# A python3 with matplotlib (Debian's python3-matplotlib is in
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
	"$py" "$hc/plot.py" "$out"
}

publish_results() {
	mkdir -p "$hc/results"
	cp "$out/results.md" "$out"/*.png "$out/runs.csv" "$out/dumps.csv" \
		"$out/env.txt" "$hc/results/"
	[ ! -f "$out/host.txt" ] || cp "$out/host.txt" "$hc/results/"
	echo "run.sh: copied the results to $hc/results/" >&2
}

case $mode in
plot)		plot; exit 0 ;;
publish)	publish_results; exit 0 ;;
esac

# ---- build ---------------------------------------------------------------

make -C "$hc" --no-print-directory out/hcreader
[ -x "$repo/userland/numamigctl" ] || make -C "$repo/userland" --no-print-directory numamigctl

# The kernel the VM boots (run-vm.sh's default: the one linux-headers-amd64
# points at) and a numamig.ko built for it: module/numamig.ko when it is,
# else a private build of module/ under $BUILD_DIR/hcbench-module (module/
# may hold a build for another kernel that someone else is testing).
KVER=${KVER:-$(dpkg-query -W -f='${Depends}' linux-headers-amd64 2>/dev/null |
	sed -n 's/^linux-headers-\([^ ,]*\).*/\1/p')}
[ -n "$KVER" ] || die "cannot tell the kernel version (set KVER)"
export KVER
ko=$repo/module/numamig.ko
if [ "$(modinfo -F vermagic "$ko" 2>/dev/null | cut -d' ' -f1)" != "$KVER" ]; then
	priv=$BUILD_DIR/hcbench-module
	echo "run.sh: module/numamig.ko is not built for $KVER: building a copy in $priv" >&2
	mkdir -p "$priv/module" "$priv/uapi/linux"
	cp -p "$repo"/module/*.[ch] "$repo/module/Kbuild" "$priv/module/"
	cp -p "$repo/uapi/linux/numamig.h" "$priv/uapi/linux/"
	make -C "/lib/modules/$KVER/build" M="$priv/module" modules >"$priv/build.log" 2>&1 ||
		die "building numamig.ko for $KVER failed: see $priv/build.log"
	ko=$priv/module/numamig.ko
fi
envs+=(--env "HC_MODULE=$ko")

# ---- the disk ------------------------------------------------------------

mkdir -p "$BUILD_DIR" "$out"
if [ ! -f "$img" ]; then
	truncate -s "${img_gb}G" "$img.tmp"
	# Inode tables and journal initialised now, so that no lazy-init
	# thread writes during the measurements.
	mkfs.ext4 -q -F -b 4096 -E lazy_itable_init=0,lazy_journal_init=0 "$img.tmp"
	mv "$img.tmp" "$img"
fi

# ---- run -----------------------------------------------------------------

others() { pgrep -c -f '^[^ ]*qemu-system-' || true; }
if [ "$wait_quiet" -gt 0 ] && [ "$(others)" -gt 0 ]; then
	echo "run.sh: waiting up to ${wait_quiet}s for $(others) other QEMU guest(s) to end" >&2
	for ((i = 0; i < wait_quiet; i += 5)); do
		[ "$(others)" -gt 0 ] || break
		sleep 5
	done
fi

rm -rf "$out/timeline" "$out/iotl" "$out"/dump-*.json "$out/runs.csv" "$out/dumps.csv" \
	"$out"/*.png "$out/results.md"
{
	echo "host: $(uname -r), $(nproc) CPUs"
	echo "qemu: $(qemu-system-x86_64 --version | head -n 1)"
	echo "module: $ko ($(modinfo -F srcversion "$ko"))"
	echo "other QEMU guests at start: $(others)"
	echo "loadavg at start: $(cat /proc/loadavg)"
} >"$out/host.txt"

# How many QEMU guests run besides ours, every 5 s (ours counts once the VM
# is up: the log is read minus one).
while :; do echo "$(date +%s) $(others)"; sleep 5; done >"$out/qemu-count.log" &
mon=$!
set +e
"$repo/selftests/vm/run-vm.sh" --nodes 2 --mem "$mem" --disk "$img" \
	--outdir "$out" --timeout "$timeout_s" "${envs[@]}" \
	-- "$hc/guest.sh" "$out"
rc=$?
set -e
kill "$mon" 2>/dev/null || true
wait "$mon" 2>/dev/null || true
{
	awk 'NR > 2 { n++; if ($2 > 1) busy++; if ($2 - 1 > max) max = $2 - 1 }
	     END { printf "other QEMU guests during the run: up to %d, in %d of %d samples\n", max, busy, n }' \
		"$out/qemu-count.log"
	echo "other QEMU guests at end: $(others)"
	echo "loadavg at end: $(cat /proc/loadavg)"
} >>"$out/host.txt"
[ "$rc" = 0 ] || die "the VM run failed (status $rc); see $out/console.log"

plot
[ "$publish" = 0 ] || publish_results
exit 0
}
