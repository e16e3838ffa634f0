#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# numamigctl top against the real module, TAP output (the plan comes last).
# Run as root in the test VM (userland/TESTS) with numamig loaded, 2+ NUMA
# nodes and numactl; the cgroup checks also want cgroup v2 at /sys/fs/cgroup.
# Skips without them.
#
#  - -p PID --json: a 64 MiB workload bound to node 0, half of it kept hot,
#    shows ~64 MiB on node 0 and ~0 on node 1, hot memory on node 0 only,
#    about the hot half (referenced during the interval, not since ever);
#    exactly --count objects, one per line
#  - --cgroup DIR (the workload in a child cgroup) in pipe mode: one line
#    per sample, exactly --count lines, the same memory; the default list
#    (every cgroup with processes) finds the child cgroup
#  - a job migrating the workload shows in moves, running, to node 1
#  - SIGTERM ends it with exit status 0
#  - bad input (no such cgroup, not a cgroup, no such pid, --interval 0,
#    -p with --cgroup): exit 1 or 2, one line on stderr, nothing on stdout
#
# Environment: NUMAMIGCTL (the binary), WORKLOAD (selftests/vm/workload;
# without it a dd reading /dev/zero into a 64 MiB buffer, all of it hot).

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
NM=${NUMAMIGCTL:-$here/../userland/numamigctl}
WL=${WORKLOAD:-${BUILD_DIR:-$repo/build}/workload}
CG2=/sys/fs/cgroup
MIB=1048576

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

[ "$(id -u)" = 0 ] || skip_all "not root"
if [ ! -w /dev/numamig ] || [ -n "${NUMAMIGCTL_DEVICE:-}" ]; then
	skip_all "no writable /dev/numamig"
fi
[ -x "$NM" ] || skip_all "numamigctl not built ($NM)"
[ -d /sys/devices/system/node/node1 ] || skip_all "fewer than 2 NUMA nodes"
command -v numactl >/dev/null || skip_all "numactl is not installed"

T=$(mktemp -d "${TMPDIR:-/tmp}/numamig-top.XXXXXX") || exit 1
CG=
wpid=
balancing=$(cat /proc/sys/kernel/numa_balancing 2>/dev/null)
cleanup() {
	[ -n "$wpid" ] && kill -9 "$wpid" 2>/dev/null && wait "$wpid" 2>/dev/null
	[ -n "$balancing" ] && echo "$balancing" >/proc/sys/kernel/numa_balancing
	[ -n "$CG" ] && rmdir "$CG/w" "$CG" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
n=0
failed=0

ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}

not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
	shift
	for line in "$@"; do
		echo "#   $line"
	done
	if [ -s "$T/err" ]; then
		sed 's/^/#   stderr: /' "$T/err" | head -5
	fi
}

skip() {
	n=$((n + 1))
	echo "ok $n - $1 # SKIP $2"
}

# run ARGS...: the exit status in $rc, the output in $T/out and $T/err
run() {
	"$NM" "$@" >"$T/out" 2>"$T/err"
	rc=$?
}

# MiB of PID's anonymous memory on NODE, from numa_maps (0 if none)
anon_mib() {
	v=$(awk -v key="N$2=" '/anon=/ {
		for (i = 1; i <= NF; i++)
			if (index($i, key) == 1) pages += substr($i, length(key) + 1)
	} END { print int(pages * 4096 / 1048576) }' "/proc/$1/numa_maps" 2>/dev/null)
	echo "${v:-0}"
}

# Line LINE of FILE, a top --json object with one item: FIELD (mem or hot)
# of NODE in MiB, "null" when not known.
json_mib() {
	v=$(sed -n "${2}p" "$1" | sed -n \
		"s/.*{\"node\":$3,\"mem_bytes\":\([0-9]*\),\"hot_bytes\":\([0-9]*\|null\)}.*/\\$4/p")
	case $v in
	null | "") echo "${v:-none}" ;;
	*) echo $((v / MIB)) ;;
	esac
}

# Line LINE of FILE, a key=value line: the whole MiB of NODE in KEY
line_mib() {
	sed -n "${2}p" "$1" | tr ' ' '\n' | sed -n "s/^$3=//p" | tr ',' '\n' |
		sed -n "s/^N$4:\([0-9]*\).*/\1/p"
}

# between V LO HI
between() {
	case $1 in '' | *[!0-9]*) return 1 ;; esac
	[ "$1" -ge "$2" ] && [ "$1" -le "$3" ]
}

# check_bad DESC WANT_RC ARGS...: one stderr line, nothing on stdout
check_bad() {
	desc=$1 want=$2
	shift 2
	run top "$@"
	if [ "$rc" != "$want" ]; then
		not_ok "$desc" "exit status $rc, want $want"
	elif [ "$(wc -l <"$T/err")" != 1 ] || [ -s "$T/out" ]; then
		not_ok "$desc" "want one line on stderr and nothing on stdout," \
			"got $(wc -l <"$T/err") and $(wc -c <"$T/out") bytes"
	else
		ok "$desc: $(cat "$T/err")"
	fi
}

# NUMA balancing would move pages while we count them.
echo 0 >/proc/sys/kernel/numa_balancing 2>/dev/null

# ---- the workload: 64 MiB on node 0, in a cgroup when we can ----------------

cgv2=0
if [ "$(stat -f -c %T $CG2 2>/dev/null)" = cgroup2fs ]; then
	CG=$CG2/nmtop-test.$$
	# The memory controller gives memory.numa_stat; top copes without it.
	echo +memory >$CG2/cgroup.subtree_control 2>/dev/null
	if mkdir "$CG" && echo +memory >"$CG/cgroup.subtree_control" 2>/dev/null; then
		:
	fi
	mkdir -p "$CG/w" && cgv2=1
fi
if [ -x "$WL" ]; then
	set -- "$WL" --size 64 --hot 50 --sleep 20
	half=1
else
	echo "# $WL not built: dd instead, all of its buffer hot"
	set -- dd if=/dev/zero of=/dev/null bs=64M count=1000000000
	half=0
fi
if [ "$cgv2" = 1 ]; then
	# shellcheck disable=SC2016 # $$ and $1 belong to the inner shell
	sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh "$CG/w" \
		numactl --membind=0 "$@" >"$T/wl" 2>&1 &
else
	numactl --membind=0 "$@" >"$T/wl" 2>&1 &
fi
wpid=$!
i=0
while [ $i -lt 300 ] && [ "$(anon_mib $wpid 0)" -lt 63 ]; do
	sleep 0.1
	i=$((i + 1))
done
if [ "$(anon_mib $wpid 0)" -lt 63 ] || ! kill -0 $wpid 2>/dev/null; then
	not_ok "the workload has 64 MiB on node 0" "$(cat "$T/wl")"
	echo "1..$n"
	exit 1
fi
ok "the workload (pid $wpid) has $(anon_mib $wpid 0) MiB on node 0"

# ---- -p PID --json -------------------------------------------------------

run top -p $wpid --json --count 2 --interval 0.5
lines=$(wc -l <"$T/out")
if [ "$rc" = 0 ] && [ "$lines" = 2 ]; then
	ok "top -p --json --count 2: two lines"
else
	not_ok "top -p --json --count 2: two lines" "rc=$rc lines=$lines"
fi
if grep -q '"perf":true' "$T/out"; then
	echo "# perf counters: yes"
else
	echo "# perf counters: no ($(grep -c 'no perf counters' "$T/err") warning)"
fi
if command -v jq >/dev/null; then
	if jq -e '.items[0].pid' "$T/out" >/dev/null 2>&1; then
		ok "every line is a JSON object with the item"
	else
		not_ok "every line is a JSON object with the item" "$(head -c 300 "$T/out")"
	fi
else
	skip "every line is a JSON object with the item" "jq is not installed"
fi
if grep -q '"hot":true' "$T/out" && grep -q "\"pid\":$wpid,\"pids\":\[$wpid\]" "$T/out"; then
	ok "JSON names the pid, hot memory is known"
else
	not_ok "JSON names the pid, hot memory is known" "$(head -c 300 "$T/out")"
fi
for l in 1 2; do
	m0=$(json_mib "$T/out" $l 0 1) m1=$(json_mib "$T/out" $l 1 1)
	h0=$(json_mib "$T/out" $l 0 2) h1=$(json_mib "$T/out" $l 1 2)
	echo "# sample $l: node 0 $m0 MiB ($h0 hot), node 1 $m1 MiB ($h1 hot)"
	if between "$m0" 62 80 && between "$m1" 0 8; then
		ok "sample $l: ~64 MiB on node 0, ~0 on node 1"
	else
		not_ok "sample $l: ~64 MiB on node 0, ~0 on node 1" "$(sed -n "${l}p" "$T/out")"
	fi
	if [ "$half" = 1 ]; then
		lo=16 hi=48 what="about the hot half"
	else
		lo=1 hi=80 what="> 0"
	fi
	if between "$h0" $lo $hi && between "$h1" 0 1; then
		ok "sample $l: hot memory on node 0 $what ($h0 MiB), none on node 1"
	else
		not_ok "sample $l: hot memory on node 0 $what, none on node 1" \
			"$(sed -n "${l}p" "$T/out")"
	fi
done

# ---- --cgroup DIR, pipe mode; the default list -------------------------------

if [ "$cgv2" = 1 ]; then
	src="numa_maps"
	[ -r "$CG/memory.numa_stat" ] && src="memory.numa_stat"
	run top --cgroup "$CG" --count 3 --interval 0.5
	lines=$(wc -l <"$T/out")
	if [ "$rc" = 0 ] && [ "$lines" = 3 ] &&
	   [ "$(grep -c "^time=[0-9T:.-]* cgroup=$CG pids=1 mem_mib=" "$T/out")" = 3 ]; then
		ok "top --cgroup --count 3 | cat: three lines, one per sample"
	else
		not_ok "top --cgroup --count 3 | cat: three lines, one per sample" \
			"rc=$rc lines=$lines" "$(head -n 1 "$T/out")"
	fi
	m0=$(line_mib "$T/out" 3 mem_mib 0) m1=$(line_mib "$T/out" 3 mem_mib 1)
	h0=$(line_mib "$T/out" 3 hot_mib 0)
	echo "# $(tail -n 1 "$T/out")"
	if between "$m0" 62 80 && between "$m1" 0 8 && between "$h0" 1 80; then
		ok "the cgroup (memory from $src): ~64 MiB on node 0, ~0 on node 1, hot on node 0"
	else
		not_ok "the cgroup (memory from $src): ~64 MiB on node 0, ~0 on node 1, hot on node 0" \
			"$(tail -n 1 "$T/out")"
	fi
	NUMAMIGCTL_CGROUP_ROOT=$CG "$NM" top --count 1 --interval 0.2 >"$T/out" 2>"$T/err"
	rc=$?
	if [ "$rc" = 0 ] && [ "$(wc -l <"$T/out")" = 1 ] &&
	   grep -q " cgroup=$CG/w pids=1 " "$T/out"; then
		ok "the default list finds the cgroup with the process"
	else
		not_ok "the default list finds the cgroup with the process" \
			"rc=$rc" "$(head -n 2 "$T/out")"
	fi
	"$NM" top --cgroup "$CG" --interval 0.2 >"$T/out" 2>"$T/err" &
	tpid=$!
	sleep 1.5
	kill -TERM $tpid
	wait $tpid
	rc=$?
	last=$(tail -n 1 "$T/out")
	case $last in
	*" bw_mbps="*) whole=1 ;;
	*) whole=0 ;;
	esac
	if [ "$rc" = 0 ] && [ "$(wc -l <"$T/out")" -ge 2 ] && [ $whole = 1 ]; then
		ok "SIGTERM: exit status 0, whole lines ($(wc -l <"$T/out"))"
	else
		not_ok "SIGTERM: exit status 0, whole lines" "rc=$rc" "$last"
	fi
else
	skip "top --cgroup in pipe mode" "$CG2 is not cgroup v2"
	skip "the default list" "$CG2 is not cgroup v2"
	skip "SIGTERM" "$CG2 is not cgroup v2"
fi

# ---- a move in flight ------------------------------------------------------

# Slow on purpose: 16 pages every 500 ms, so that it is still running.
job=$("$NM" migrate --pid $wpid --to 1 --policy periodical --batch 16 --sleep 500 2>"$T/err")
if [ -n "$job" ]; then
	run top -p $wpid --json --count 1 --interval 0.5
	if grep -q "\"moves\":\[{\"job\":$job,\"move\":null,\"to\":1,\"progress_pct\":[0-9.]*,\"state\":\"running\"}\]" "$T/out"; then
		ok "job $job moving the workload shows in moves, to node 1, running"
	else
		not_ok "job $job moving the workload shows in moves" "$(head -c 400 "$T/out")"
	fi
	run top -p $wpid --count 1 --interval 0.2
	if grep -q " moves=$job->N1:[0-9.]*% " "$T/out"; then
		ok "... and in pipe mode: $(sed 's/.* \(moves=[^ ]*\) .*/\1/' "$T/out")"
	else
		not_ok "... and in pipe mode" "$(cat "$T/out")"
	fi
	"$NM" cancel "$job" 2>/dev/null
else
	not_ok "start a slow job to watch" "$(cat "$T/err")"
fi

# ---- bad input -------------------------------------------------------------

check_bad "no such cgroup: exit 1" 1 --cgroup $CG2/nmtop-no-such-cgroup --count 1
check_bad "not a cgroup: exit 1" 1 --cgroup "$T" --count 1
check_bad "no such pid: exit 1" 1 -p 2147483646 --count 1
check_bad "--interval 0: exit 2" 2 -p $wpid --interval 0
check_bad "--interval 0.05: exit 2" 2 -p $wpid --interval 0.05
check_bad "-p with --cgroup: exit 2" 2 -p $wpid --cgroup $CG2
check_bad "--count 0: exit 2" 2 -p $wpid --count 0

echo "1..$n"
[ "$failed" = 0 ]
