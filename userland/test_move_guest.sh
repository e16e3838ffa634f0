#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# numamigctl move (whole containers) against the real module and real
# cgroups, TAP output (the plan comes last).  Run as root in the test VM
# (userland/TESTS) with numamig loaded, 2+ NUMA nodes and one CPU per node;
# skips without them.  What a user relies on:
#  - cgroup v1 (a cpuset hierarchy mounted here) and v2: several processes
#    and a nested cgroup end on the destination, cpuset.cpus and .mems are
#    the destination's, v1's memory_migrate is put back
#  - a cgroup without the cpuset controller is migrated, with a warning
#  - cancel (by move id and by a job id), a failed move (destination full,
#    cgroup removed) put the files back; exit status 1 for a failure
#  - joiners are moved, leavers dropped
#  - the helper killed mid-move: the next numamigctl finishes the move; the
#    starter killed: the move finishes without any numamigctl
#  - NUMA balancing on: the memory stays on the destination
#  - --container by id (systemd, cgroupfs and runc namings) and a real runc
#    container when runc is installed
#  - bad input: one line, the right exit status, no cpuset file changed
#
# Environment: NUMAMIGCTL (the binary), WORKLOAD (selftests/vm/workload).

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
NM=${NUMAMIGCTL:-$here/numamigctl}
WL=${WORKLOAD:-${BUILD_DIR:-$repo/build}/workload}
CG2=/sys/fs/cgroup

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

[ "$(id -u)" = 0 ] || skip_all "not root"
[ -w /dev/numamig ] && [ -z "${NUMAMIGCTL_DEVICE:-}" ] || skip_all "no writable /dev/numamig"
[ -d /sys/devices/system/node/node1 ] || skip_all "fewer than 2 NUMA nodes"
[ "$(stat -f -c %T $CG2)" = cgroup2fs ] || skip_all "$CG2 is not cgroup v2"
[ -x "$WL" ] || skip_all "workload not built ($WL)"
command -v jq >/dev/null || skip_all "jq is not installed"

T=$(mktemp -d "${TMPDIR:-/tmp}/numamig-move.XXXXXX") || exit 1
export NUMAMIGCTL_STATE_DIR=$T/state
V1=$T/cpuset-v1
pids=()
n=0
failed=0
balancing=$(cat /proc/sys/kernel/numa_balancing 2>/dev/null || echo 0)

cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	echo "$balancing" >/proc/sys/kernel/numa_balancing 2>/dev/null
	for d in $(find $CG2/nmt "$V1" -depth -type d 2>/dev/null); do rmdir "$d" 2>/dev/null; done
	umount "$V1" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
	n=$((n + 1)); failed=$((failed + 1))
	echo "not ok $n - $1"; shift
	for l in "$@"; do echo "#   $l"; done
	[ -s "$T/err" ] && sed 's/^/#   stderr: /' "$T/err" | head -5
}
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
run() { "$NM" "$@" >"$T/out" 2>"$T/err"; rc=$?; }
# expect DESC WANT_RC [STDERR_RE]: with an error, exactly one stderr line
expect() {
	if [ "$rc" != "$2" ]; then
		not_ok "$1" "exit status $rc, want $2"
	elif [ "$2" != 0 ] && [ "$(wc -l <"$T/err")" != 1 ]; then
		not_ok "$1" "want one line on stderr, got $(wc -l <"$T/err")"
	elif [ -n "${3:-}" ] && ! grep -q -- "$3" "$T/err"; then
		not_ok "$1" "stderr lacks /$3/"
	else
		ok "$1"
	fi
}

# start CGROUP MIB: a workload in CGROUP (placed by its cpuset), pid in $wpid
start() {
	local log=$T/wl.$RANDOM
	(echo "$BASHPID" >"$1/cgroup.procs" && exec "$WL" --size "$2" --hot 30) >"$log" 2>&1 &
	wpid=$!
	pids+=("$wpid")
	for _ in $(seq 100); do
		grep -q ready "$log" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "# workload $wpid did not get ready"
	return 1
}

stop() { kill -9 "$@" 2>/dev/null; for p in "$@"; do wait "$p" 2>/dev/null; done; }

# pct PID NODE: percent of PID's anonymous pages on NODE (numa_maps)
pct() {
	awk -v node="N$2=" '/anon=/ {
		for (i = 1; i <= NF; i++) if ($i ~ /^N[0-9]+=/) {
			split($i, kv, "="); all += kv[2]; if ($i ~ "^" node) on += kv[2]
		} } END { print all ? int(on * 100 / all) : -1 }' "/proc/$1/numa_maps" 2>/dev/null
}

# on_node DESC NODE PID...: every PID has 95% of its memory on NODE
on_node() {
	local desc=$1 node=$2 p v bad=
	shift 2
	for p in "$@"; do
		v=$(pct "$p" "$node")
		[ "${v:--1}" -ge 95 ] || bad="$bad pid $p: ${v}% on node $node;"
	done
	if [ -z "$bad" ]; then ok "$desc"; else not_ok "$desc" "$bad"; fi
}

# files_are DESC DIR CPUS MEMS [MIGRATE]
files_are() {
	local c m mm
	c=$(cat "$2/cpuset.cpus") m=$(cat "$2/cpuset.mems")
	mm=$(cat "$2/cpuset.memory_migrate" 2>/dev/null)
	if [ "$c" = "$3" ] && [ "$m" = "$4" ] && { [ -z "${5:-}" ] || [ "$mm" = "$5" ]; }; then
		ok "$1"
	else
		not_ok "$1" "cpus '$c' mems '$m' memory_migrate '$mm', want '$3' '$4' '${5:-}'"
	fi
}

# place DIR: back on node 0 (the kernel moves the memory back at once)
place() { echo 0 >"$1/cpuset.cpus"; echo 0 >"$1/cpuset.mems"; }

move_id() { sed -n 's/^\(m[0-9]*\)$/\1/p' "$T/out" | head -1; }
jfield() { "$NM" status "$1" --json 2>/dev/null | jq -r "$2"; }

# wait_state MOVE STATE: poll status without waiting (up to 60 s)
wait_running_jobs() {
	for _ in $(seq 100); do
		[ "$(jfield "$1" '.jobs | length')" -ge "$2" ] 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

SLOW="--batch 64 --sleep 300"
node1_cpus=$(cat /sys/devices/system/node/node1/cpulist)

# ---------------------------------------------------------------- v1 ---
v1_tests() {
	local cg=$V1/nm1 a b id
	mkdir -p "$V1"
	if ! mount -t cgroup -o cpuset none "$V1" 2>"$T/err"; then
		skip "cgroup v1: move" "cannot mount a v1 cpuset hierarchy"
		return
	fi
	mkdir "$cg"
	place "$cg"
	echo 1 >"$cg/cpuset.memory_migrate"
	start "$cg" 32 && a=$wpid
	start "$cg" 32 && b=$wpid
	run move --cgroup "$cg" --to 1 --wait
	expect "cgroup v1: move --wait succeeds" 0
	files_are "cgroup v1: cpus and mems are node 1's, memory_migrate put back" \
		"$cg" "$node1_cpus" 1 1
	on_node "cgroup v1: both processes' memory is on node 1" 1 $a $b

	place "$cg"	# memory_migrate=1: the kernel moves it back
	run move --cgroup "$cg" --to 1 $SLOW
	id=$(move_id)
	sleep 1
	run cancel "$id"
	expect "cgroup v1: cancel $id" 0
	files_are "cgroup v1: cancel puts cpus, mems and memory_migrate back" "$cg" 0 0 1
	stop $a $b
	rmdir "$cg"
	umount "$V1"
}

# ------------------------------------------------------ v2, no cpuset ---
nocpuset_tests() {
	local cg=$CG2/nmt-nocpuset a
	mkdir -p "$cg"
	(echo "$BASHPID" >"$cg/cgroup.procs" && exec numactl --cpunodebind=0 --preferred=0 "$WL" --size 32 --hot 30) >"$T/wlnc" 2>&1 &
	a=$!
	pids+=("$a")
	for _ in $(seq 100); do grep -q ready "$T/wlnc" && break; sleep 0.1; done
	run move --cgroup "$cg" --to 1 --wait
	expect "no cpuset controller: the move succeeds with a warning" 0 "no cpuset controller"
	on_node "no cpuset controller: the memory is on node 1" 1 $a
	stop $a
	rmdir "$cg"
}

# ---------------------------------------------------------------- v2 ---
v2_setup() {
	echo +cpuset >$CG2/cgroup.subtree_control || return 1
	mkdir -p $CG2/nmt/ctr/sub $CG2/nmt/other || return 1
	echo +cpuset >$CG2/nmt/cgroup.subtree_control || return 1
	place $CG2/nmt/ctr
	place $CG2/nmt/other
}

v2_tests() {
	local ctr=$CG2/nmt/ctr a b c d id job st
	start $ctr 32 && a=$wpid
	start $ctr 32 && b=$wpid
	start $ctr/sub 32 && c=$wpid
	on_node "v2: the workloads start on node 0" 0 $a $b $c

	run move --cgroup $ctr --to 1 --wait --json
	expect "v2: move --wait --json succeeds" 0
	st=$(jq -r .state "$T/out" 2>/dev/null)
	[ "$st" = done ] && ok "v2: --json reports done" || not_ok "v2: --json reports done" "state '$st'"
	files_are "v2: cpuset.cpus and cpuset.mems are node 1's" $ctr "$node1_cpus" 1
	on_node "v2: three processes, one in a nested cgroup, on node 1" 1 $a $b $c

	# bad input after a move: everything is on node 1 already
	run move --cgroup $ctr --to 1
	expect "v2: the destination already holding everything is an error" 1 "nothing to move"
	[ "$(cat $ctr/cpuset.cpus)" = "$node1_cpus" ] && [ "$(cat $ctr/cpuset.mems)" = 1 ] &&
		ok "v2: ... and changes no cpuset file" || not_ok "v2: ... and changes no cpuset file"

	# cancel by move id
	place $ctr
	run move --cgroup $ctr --to 1 $SLOW
	expect "v2: a background move starts" 0
	id=$(move_id)
	[ -n "$id" ] && ok "v2: move prints its id ($id)" || not_ok "v2: move prints its id"
	sleep 1
	st=$(jfield "$id" .state)
	[ "$st" = running ] && ok "v2: status $id: running" || not_ok "v2: status $id: running" "state '$st'"
	files_are "v2: mid-move: cpus are node 1's, mems widened" $ctr "$node1_cpus" 0-1
	run list
	grep -q "^$id " "$T/out" && ok "v2: list shows the move" || not_ok "v2: list shows the move"
	run cancel "$id"
	expect "v2: cancel $id" 0
	files_are "v2: cancel puts cpus and mems back" $ctr 0 0
	st=$(jfield "$id" .state)
	[ "$st" = cancelled ] && ok "v2: status: cancelled" || not_ok "v2: status: cancelled" "state '$st'"
	run wait "$id"
	expect "v2: wait on a cancelled move fails" 1

	# cancel by the id of one of its jobs
	place $ctr
	run move --cgroup $ctr --to 1 $SLOW
	id=$(move_id)
	wait_running_jobs "$id" 3
	job=$(jfield "$id" '.jobs[0].job')
	run cancel "$job"
	expect "v2: cancel with a job id ($job) of $id" 0
	st=$(jfield "$id" .state)
	[ "$st" = cancelled ] && ok "v2: ... cancels the whole move" || not_ok "v2: ... cancels the whole move" "state '$st'"
	files_are "v2: ... and puts the files back" $ctr 0 0

	# joiner and leaver
	place $ctr
	run move --cgroup $ctr --to 1 $SLOW
	id=$(move_id)
	sleep 0.5
	start $ctr 16 && d=$wpid
	echo $a >$CG2/nmt/other/cgroup.procs
	"$NM" set "$(jfield "$id" '.jobs[0].job')" --batch 4096 --sleep 0 >/dev/null 2>&1
	for j in $(jfield "$id" '.jobs[].job'); do "$NM" set "$j" --batch 4096 --sleep 0 >/dev/null 2>&1; done
	sleep 0.5
	for j in $(jfield "$id" '.jobs[].job'); do "$NM" set "$j" --batch 4096 --sleep 0 >/dev/null 2>&1; done
	run wait "$id"
	expect "v2: a move with a joiner and a leaver succeeds" 0
	on_node "v2: the joiner was moved too" 1 $d $b $c
	st=$(jfield "$id" "[.jobs[] | select(.pid == $a) | .state] | first")
	[ "$st" = dropped ] || [ "$st" = done ] && ok "v2: the leaver is dropped without error ($st)" ||
		not_ok "v2: the leaver is dropped without error" "state '$st'"
	echo $a >$ctr/cgroup.procs
	stop $d

	# the helper killed mid-move: a later numamigctl finishes it
	place $ctr
	run move --cgroup $ctr --to 1 --batch 256 --sleep 100
	id=$(move_id)
	sleep 0.5
	hp=$(jfield "$id" .helper)
	kill -9 "$hp" 2>/dev/null && ok "v2: helper $hp killed mid-move" || not_ok "v2: helper killed mid-move" "pid '$hp'"
	sleep 0.5
	run wait "$id"
	expect "v2: wait resumes the orphaned move and it succeeds" 0 "resuming"
	files_are "v2: the resumed move narrowed mems" $ctr "$node1_cpus" 1
	on_node "v2: ... and the memory is on node 1" 1 $a $b $c

	# the starter killed: the move ends without any numamigctl
	place $ctr
	"$NM" move --cgroup $ctr --to 1 --batch 256 --sleep 100 --wait >/dev/null 2>&1 &
	sp=$!
	sleep 1
	kill -9 $sp; wait $sp 2>/dev/null
	for _ in $(seq 600); do [ "$(cat $ctr/cpuset.mems)" = 1 ] && break; sleep 0.1; done
	files_are "v2: starter killed: the move still ends narrowed" $ctr "$node1_cpus" 1
	on_node "v2: ... with the memory on node 1" 1 $a $b $c

	# automatic NUMA balancing on
	if echo 1 >/proc/sys/kernel/numa_balancing 2>/dev/null; then
		place $ctr
		run move --cgroup $ctr --to 1 --wait
		expect "v2: move with NUMA balancing on" 0
		sleep 10
		on_node "v2: 10 s later, balancing left the memory on node 1" 1 $a $b $c
		echo "$balancing" >/proc/sys/kernel/numa_balancing
	else
		skip "v2: NUMA balancing" "kernel.numa_balancing not writable"
	fi

	# a failed move: the destination full
	place $ctr
	full_test $ctr
	stop $a $b $c
}

# full_test CTR: fill node 1, then the move fails and puts the files back
full_test() {
	local ctr=$1 free high hog mib
	free=$(awk '/MemFree/ {print $4}' /sys/devices/system/node/node1/meminfo)
	high=$(awk '/^Node 1, zone/ {in1=1; next} /^Node/ {in1=0} in1 && $1 == "high" {s += $2} END {print s * 4}' /proc/zoneinfo)
	mib=$(( (free - high) / 1024 - 24 ))
	if [ "$mib" -lt 64 ]; then
		skip "v2: a full destination fails the move" "node 1 has only $mib MiB to fill"
		return
	fi
	numactl --membind=1 "$WL" --size $mib --hot 0 >"$T/hog" 2>&1 &
	hog=$!
	pids+=("$hog")
	for _ in $(seq 300); do grep -q ready "$T/hog" && break; sleep 0.1; done
	run move --cgroup $ctr --to 1 --wait
	expect "v2: a full destination fails the move, exit status 1" 1 "full"
	files_are "v2: ... and the failed move put the files back" $ctr 0 0
	stop $hog
}

# a removed cgroup fails the move
removed_test() {
	local cg=$CG2/nmt/gone a id
	mkdir $cg && place $cg
	start $cg 32 && a=$wpid
	run move --cgroup $cg --to 1 $SLOW
	id=$(move_id)
	sleep 0.5
	# Stop the helper meanwhile: a cgroup emptied between two of its
	# rounds would end the move as done (nothing left to move) instead.
	hp=$(jfield "$id" .helper)
	kill -STOP "$hp"
	stop $a
	rmdir $cg
	kill -CONT "$hp"
	run wait "$id"
	expect "v2: a cgroup removed mid-move fails the move" 1 "removed"
}

# ------------------------------------------------------- bad input ---
bad_input_tests() {
	local ctr=$CG2/nmt/ctr
	mkdir -p $CG2/nmt/empty
	local c1 m1
	c1=$(cat $ctr/cpuset.cpus) m1=$(cat $ctr/cpuset.mems)
	run move --cgroup $CG2/nmt/nosuch --to 1
	expect "bad input: no such cgroup" 1 "no such cgroup"
	run move --cgroup $ctr/cpuset.cpus --to 1
	expect "bad input: a file instead of a cgroup" 1 "not a cgroup"
	run move --cgroup $CG2/nmt/empty --to 1
	expect "bad input: an empty cgroup" 1 "no processes"
	run move --cgroup $ctr --to 9
	expect "bad input: no such node" 2 "no such node"
	run move --cgroup $ctr
	expect "bad input: no --to" 2
	run move --cgroup $ctr --container abcd --to 1
	expect "bad input: --cgroup with --container" 2
	run move --container ffffffffffff --to 1
	expect "bad input: unknown container id" 1 "no container matches"
	run status m999999
	expect "bad input: status of an unknown move" 1
	run cancel mx
	expect "bad input: cancel of a malformed move id" 2
	[ "$(cat $ctr/cpuset.cpus)" = "$c1" ] && [ "$(cat $ctr/cpuset.mems)" = "$m1" ] &&
		ok "bad input: no cpuset file changed" || not_ok "bad input: no cpuset file changed"
	rmdir $CG2/nmt/empty
}

# ----------------------------------------------------- --container ---
container_tests() {
	local id=4f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c
	local sd=$CG2/nmt/system.slice/docker-$id.scope a other
	other=$CG2/nmt/docker/${id:0:4}$(printf '0%.0s' $(seq 60))
	mkdir -p $CG2/nmt/system.slice
	echo +cpuset >$CG2/nmt/system.slice/cgroup.subtree_control
	mkdir -p $sd && place $sd
	start $sd 16 && a=$wpid
	run move --container ${id:0:12} --to 1 --wait
	expect "--container: a docker scope by a 12-character prefix" 0
	on_node "--container: its memory is on node 1" 1 $a
	files_are "--container: its cpuset files are node 1's" $sd "$node1_cpus" 1
	mkdir -p $other
	run move --container ${id:0:4} --to 1
	expect "--container: an ambiguous prefix lists the matches" 1 "ambiguous"
	rmdir $other
	stop $a
}

runc_test() {
	local b=$T/bundle id=nmrunc1 pid st
	if ! command -v runc >/dev/null; then
		skip "runc: move --container of a real container" "runc is not installed"
		return
	fi
	# The container's root: a tmpfs directory holding the workload and
	# the libraries it needs (nothing of the 9p root inside: runc's mount
	# work on 9p paths soft-locked a TCG guest once); on node 0 by its cpuset.
	mkdir -p $b/rootfs/proc $b/rootfs/dev $b/rootfs/sys $b/rootfs/tmp
	for f in "$WL" $(ldd "$WL" | grep -o '/[^ ]*'); do
		mkdir -p "$b/rootfs$(dirname "$f")" && cp -L "$f" "$b/rootfs$f"
	done
	(cd $b && runc spec) || { not_ok "runc: spec"; return; }
	jq --arg wl "$WL" '.process.terminal = false |
		.process.args = [$wl, "--size", "32", "--hot", "30"] |
		.linux.resources.cpu = {"cpus": "0", "mems": "0"}' \
		$b/config.json >$b/c2 && mv $b/c2 $b/config.json
	(cd $b && exec runc run -d --no-pivot $id </dev/null >$T/runc.out 2>&1)
	pid=$(runc state $id 2>/dev/null | jq -r .pid)
	if [ -z "$pid" ] || [ "$pid" = null ]; then
		not_ok "runc: a container starts" "$(head -3 $T/runc.out)"
		return
	fi
	ok "runc: container $id runs (pid $pid)"
	sleep 2
	run move --container $id --to 1 --wait
	expect "runc: move --container $id" 0
	on_node "runc: its memory is on node 1" 1 $pid
	st=$(runc state $id 2>/dev/null | jq -r .status)
	[ "$st" = running ] && ok "runc: the container runs on" || not_ok "runc: the container runs on" "status '$st'"
	runc kill $id KILL 2>/dev/null; sleep 0.5; runc delete -f $id 2>/dev/null
}

balancing_warning_test() {
	local a
	if ! echo 1 >/proc/sys/kernel/numa_balancing 2>/dev/null; then
		skip "migrate --pid: balancing warning" "kernel.numa_balancing not writable"
		return
	fi
	taskset -c 0 "$WL" --size 16 --hot 30 >"$T/wlb" 2>&1 &
	a=$!
	pids+=("$a")
	for _ in $(seq 100); do grep -q ready "$T/wlb" && break; sleep 0.1; done
	run migrate --pid $a --to 1 --wait
	expect "migrate --pid: a warning when balancing may pull the memory back" 0 "balancing"
	echo "$balancing" >/proc/sys/kernel/numa_balancing
	stop $a
}

echo 0 >/proc/sys/kernel/numa_balancing 2>/dev/null
# NUMAMIG_MOVE_ONLY=runc: just the real-container test (to repeat it).
if [ "${NUMAMIG_MOVE_ONLY:-}" = runc ]; then
	v2_setup && runc_test
	echo "1..$n"
	[ "$failed" = 0 ]
	exit
fi
v1_tests
nocpuset_tests
if v2_setup; then
	v2_tests
	removed_test
	bad_input_tests
	container_tests
	runc_test
else
	not_ok "v2: enable the cpuset controller"
fi
balancing_warning_test
echo "1..$n"
[ "$failed" = 0 ]
