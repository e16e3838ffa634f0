#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# demo.sh - numamig moves a running process from node 0 to node 1.
#
# Runs as root in the VM ("make demo"). Starts build/workload on node 0
# (256 MiB, the first half kept hot), asks numamig to move it to node 1 and
# prints where its pages are every second until the job is done.
#
# Usage: demo.sh [numamigctl migrate options]   (default: --policy mild)
# Environment: SIZE_MB (default 256).

set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
ctl=$repo/userland/numamigctl
workload=${WORKLOAD:-${BUILD_DIR:-$repo/build}/workload}
ko=$repo/module/numamig.ko
size_mb=${SIZE_MB:-256}
[ $# -gt 0 ] || set -- --policy mild

die() {
	echo "demo: $*" >&2
	exit 1
}

for f in "$ko" "$ctl" "$workload"; do
	[ -e "$f" ] || die "$f is not built (make all)"
done
[ "$(cat /sys/devices/system/node/online)" != 0 ] || die "needs two NUMA nodes"

wpid=
loaded_here=0
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
	if [ -n "$wpid" ]; then
		kill "$wpid" 2>/dev/null || true
		wait "$wpid" 2>/dev/null || true
	fi
	if [ "$loaded_here" = 1 ]; then
		rmmod numamig || echo "demo: rmmod numamig failed" >&2
	fi
}
trap cleanup EXIT

section() {
	printf '\n== %s\n' "$*"
}

section "setup"
# NUMA balancing would move the pages too; the demo shows numamig alone.
sysctl -w kernel.numa_balancing=0
if [ ! -d /sys/module/numamig ]; then
	insmod "$ko"
	loaded_here=1
fi
for _ in 1 2 3 4 5 6 7 8 9 10; do
	[ -e /dev/numamig ] && break
	sleep 0.2
done
[ -c /dev/numamig ] || die "/dev/numamig did not appear"

wout=/tmp/workload.out
numactl --cpunodebind=0 --preferred=0 "$workload" --size "$size_mb" --hot 50 >"$wout" 2>&1 &
wpid=$!
for _ in $(seq 600); do
	grep -q ready "$wout" && break
	kill -0 "$wpid" 2>/dev/null || { cat "$wout"; die "the workload died"; }
	sleep 0.1
done
grep -q ready "$wout" || die "the workload did not get ready"
cat "$wout"

section "before: numastat -p $wpid"
numastat -p "$wpid"
section "before: numamigctl locality --pid $wpid"
"$ctl" locality --pid "$wpid"

section "numamigctl migrate --pid $wpid --to 1 $* --wait"
start=$(date +%s)
# Its output (a progress bar on a terminal) comes at the end, so as not
# to mix with the locality tables.
"$ctl" migrate --pid "$wpid" --to 1 "$@" --wait >/tmp/migrate.out 2>&1 &
mpid=$!
while kill -0 "$mpid" 2>/dev/null; do
	sleep 1
	kill -0 "$mpid" 2>/dev/null || break
	echo "-- t=$(($(date +%s) - start))s"
	"$ctl" locality --pid "$wpid" || true
done
mrc=0
wait "$mpid" || mrc=$?
echo "-- migrate finished after $(($(date +%s) - start))s, exit status $mrc:"
cat /tmp/migrate.out

section "after: numamigctl status"
"$ctl" status || true
section "after: numamigctl locality --pid $wpid"
"$ctl" locality --pid "$wpid"
section "after: numastat -p $wpid"
numastat -p "$wpid"

kill "$wpid"
wait "$wpid" || true
wpid=
tail -n 1 "$wout"

# -- a whole container: a cgroup of two processes, moved as one ----------
section "container: two processes in cgroup demo-ctr, cpuset on node 0"
cg=/sys/fs/cgroup/demo-ctr
echo +cpuset >/sys/fs/cgroup/cgroup.subtree_control
mkdir -p "$cg"
echo 0 >"$cg/cpuset.cpus"
echo 0 >"$cg/cpuset.mems"
cpids=()
for i in 1 2; do
	(echo "$BASHPID" >"$cg/cgroup.procs" &&
	 exec "$workload" --size $((size_mb / 2)) --hot 50) >"/tmp/ctr$i.out" 2>&1 &
	cpids+=("$!")
done
for i in 1 2; do
	for _ in $(seq 600); do grep -q ready "/tmp/ctr$i.out" && break; sleep 0.1; done
done
echo "cpuset.cpus=$(cat "$cg/cpuset.cpus") cpuset.mems=$(cat "$cg/cpuset.mems")"

# Slow enough (about 15 s) for top to show it on its way.
section "numamigctl move --cgroup $cg --to 1 --batch 1024 --sleep 200, watched with numamigctl top"
mid=$("$ctl" move --cgroup "$cg" --to 1 --batch 1024 --sleep 200) || die "move failed"
echo "move $mid started"
"$ctl" top --cgroup "$cg" --interval 2 --count 4 | cat
"$ctl" list
echo "cpuset during the move: cpus=$(cat "$cg/cpuset.cpus") mems=$(cat "$cg/cpuset.mems")"
crc=0
"$ctl" wait "$mid" || crc=$?
echo "cpuset after the move:  cpus=$(cat "$cg/cpuset.cpus") mems=$(cat "$cg/cpuset.mems")"
"$ctl" top --cgroup "$cg" --interval 0.5 --count 1 | cat
kill "${cpids[@]}"
wait "${cpids[@]}" 2>/dev/null || true
rmdir "$cg"
[ "$mrc" = 0 ] || exit "$mrc"
exit "$crc"
