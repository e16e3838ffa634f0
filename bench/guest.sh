#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# guest.sh - the part of run.sh that runs inside the VM, as root: load
# numamig, turn NUMA balancing off, run migbench, unload numamig.
#
# Usage: guest.sh OUTDIR [migbench options]
# Writes OUTDIR/bench.csv, OUTDIR/timeline.csv, OUTDIR/migbench.txt (the
# medians), OUTDIR/env.txt (what the guest looked like).

set -uo pipefail

bench=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo=${bench%/bench}
out=${1:?usage: guest.sh OUTDIR [migbench options]}
shift

loaded_here=0
if [ ! -d /sys/module/numamig ]; then
	insmod "$repo/module/numamig.ko" || exit 1
	loaded_here=1
fi
for _ in $(seq 50); do
	[ -c /dev/numamig ] && break
	sleep 0.1
done
sysctl -qw kernel.numa_balancing=0

{
	echo "kernel: $(uname -r)"
	echo "cpus: $(nproc)"
	grep -H . /sys/devices/system/node/node*/cpulist
	grep -h MemTotal /sys/devices/system/node/node*/meminfo
	echo "thp: $(cat /sys/kernel/mm/transparent_hugepage/enabled)"
	echo "numa_balancing: $(cat /proc/sys/kernel/numa_balancing)"
	echo "numamig srcversion: $(cat /sys/module/numamig/srcversion 2>/dev/null)"
} >"$out/env.txt"

"$bench/out/migbench" -o "$out/bench.csv" -T "$out/timeline.csv" "$@" \
	>"$out/migbench.txt"
rc=$?
cat "$out/migbench.txt"

if [ "$loaded_here" = 1 ]; then
	rmmod numamig || { echo "guest.sh: rmmod numamig failed" >&2; rc=1; }
fi
exit "$rc"
