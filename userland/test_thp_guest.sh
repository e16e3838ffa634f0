#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# numamigctl migrate keeps transparent huge pages huge, against the real
# module, TAP output (the plan comes last).  Run as root in the test VM
# (userland/TESTS) with numamig loaded, 2+ NUMA nodes and THP not "never";
# skips without them.  What a user relies on:
#  - a THP-backed process moved in the background (no --wait), eager and
#    mild, stopped-by-nothing and writing: when the job is reported done,
#    >= 95% of what was huge is huge again, every page on the destination,
#    the contents intact, and status counts the folios moved whole
#  - mild keeps its order with huge pages: the hot part first
#  - a THP partly mprotect'ed (PTE-mapped) is moved, not left as pinned
#  - a MADV_NOHUGEPAGE range stays small
#  - --split-huge: the old behaviour, huge pages split
#  - the helper that moves them killed: the job still moves everything
#  - 6.8+: 64 KiB multi-size THPs are moved whole
#
# (The kselftests check the NUMAMIG_IOC_HUGE protocol and its errors.)
#
# Environment: NUMAMIGCTL (the binary), THP_TARGET (test_thp_target).

here=$(cd "$(dirname "$0")" && pwd)
NM=${NUMAMIGCTL:-$here/numamigctl}
TGT=${THP_TARGET:-$here/test_thp_target}
THP=/sys/kernel/mm/transparent_hugepage

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

[ "$(id -u)" = 0 ] || skip_all "not root"
[ -w /dev/numamig ] && [ -z "${NUMAMIGCTL_DEVICE:-}" ] || skip_all "no writable /dev/numamig"
[ -d /sys/devices/system/node/node1 ] || skip_all "fewer than 2 NUMA nodes"
[ -r $THP/enabled ] || skip_all "no transparent huge pages"
grep -q '\[never\]' $THP/enabled && skip_all "transparent huge pages disabled"
[ -x "$TGT" ] || skip_all "test_thp_target not built ($TGT)"
command -v jq >/dev/null || skip_all "jq is not installed"
command -v numactl >/dev/null || skip_all "numactl is not installed"

T=$(mktemp -d "${TMPDIR:-/tmp}/numamig-thp.XXXXXX") || exit 1
pids=()
n=0
failed=0
balancing=$(cat /proc/sys/kernel/numa_balancing 2>/dev/null || echo 0)
echo 0 >/proc/sys/kernel/numa_balancing 2>/dev/null
defrag=$(sed 's/.*\[\(.*\)\].*/\1/' $THP/defrag)
# Huge pages at fault time, so the target starts huge.
echo always >$THP/defrag 2>/dev/null

cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	echo "$balancing" >/proc/sys/kernel/numa_balancing 2>/dev/null
	echo "$defrag" >$THP/defrag 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
	n=$((n + 1)); failed=$((failed + 1))
	echo "not ok $n - $1"; shift
	for l in "$@"; do echo "#   $l"; done
}

# AnonHugePages of PID in kB.
huge_kb() {
	awk '/^AnonHugePages:/ { s += $2 } END { print s + 0 }' "/proc/$1/smaps_rollup"
}

# start NAME ARGS...: a target on node 0; its pid in $tpid.
start() {
	local name=$1
	shift
	numactl --membind=0 "$TGT" -o "$T/$name.report" "$@" >"$T/$name.out" 2>&1 &
	tpid=$!
	pids+=("$tpid")
	for _ in $(seq 100); do
		grep -q ready "$T/$name.out" && return 0
		sleep 0.1
	done
	echo "# target $name did not get ready: $(cat "$T/$name.out")"
	return 1
}

# report NAME: ask the target for its check; lines in $T/NAME.report.
report() {
	rm -f "$T/$1.report"
	kill -USR1 "$tpid"
	for _ in $(seq 200); do
		[ -s "$T/$1.report" ] && grep -q '^cold' "$T/$1.report" && return 0
		sleep 0.1
	done
	return 1
}

# job_wait ID: poll status (no --wait anywhere) until the job ends.
job_wait() {
	local s
	for _ in $(seq 1200); do
		s=$("$NM" status "$1" --json 2>/dev/null) || return 1
		[ "$(jq -r .state <<<"$s")" != running ] && { echo "$s" >"$T/st.json"; return 0; }
		sleep 0.25
	done
	return 1
}

st() { jq -r ".$1" "$T/st.json"; }

# moved_huge NAME DESC POLICY [migrate options]: the main check, on the
# target start NAME started.
moved_huge() {
	local key=$1 name=$2 policy=$3 before after id
	shift 3
	before=$(huge_kb "$tpid")
	if [ "$before" -lt 8192 ]; then
		ok "$name: moved, huge pages kept # SKIP only $before kB of THP at the start"
		return
	fi
	id=$("$NM" migrate --pid "$tpid" --to 1 --policy "$policy" "$@" 2>"$T/err")
	if [ -z "$id" ] || ! job_wait "$id"; then
		not_ok "$name: migrate finished" "$(cat "$T/err")"
		return
	fi
	after=$(huge_kb "$tpid")
	report "$key"
	if [ "$(st state)" = done ] && grep -q '^verify ok' "$T/$key.report" &&
	   awk '/^hot|^cold/ { if ($2 != $3) bad = 1 } END { exit bad }' "$T/$key.report" &&
	   [ $((after * 100)) -ge $((before * 95)) ] &&
	   [ "$(st huge_moved)" -gt 0 ]; then
		ok "$name: done, every page on node 1, contents intact, huge pages kept ($before -> $after kB, $(st huge_moved) folios moved whole)"
	else
		not_ok "$name: done, every page on node 1, contents intact, huge pages kept" \
			"AnonHugePages $before -> $after kB" "$(tr '\n' ' ' <"$T/$key.report")" \
			"$(jq -c '{state,pages_migrated,skipped,thp_split,huge_moved,huge_pages,huge_small,huge_split}' "$T/st.json")"
	fi
}

# -- eager and mild, read-only and writing targets --------------------------
start eager -m 64 -H 10 && moved_huge eager eager eager
start mild -m 64 -H 10 -w && moved_huge mild "mild, writing" mild --batch 2048 --sleep 20
start periodical -m 32 -H 0 && moved_huge periodical "periodical, idle" periodical --batch 1024 --sleep 10

# -- mild moves the hot huge pages first ------------------------------------
# 64 MiB, the first 25% hot: one huge page per batch, half a second apart.
if start order -m 64 -H 25; then
	id=$("$NM" migrate --pid "$tpid" --to 1 --policy mild --batch 512 --sleep 500 2>"$T/err")
	# The hot part is 8 huge pages: after ~10 batches it is across, the cold not.
	for _ in $(seq 100); do
		s=$("$NM" status "$id" --json 2>/dev/null)
		[ "$(jq -r .pages_migrated <<<"$s")" -ge $((10 * 512)) ] && break
		[ "$(jq -r .state <<<"$s")" != running ] && break
		sleep 0.2
	done
	report order
	read -r _ hot_on hot_all < <(grep '^hot' "$T/order.report")
	read -r _ cold_on cold_all < <(grep '^cold' "$T/order.report")
	if [ "${hot_on:-0}" = "${hot_all:-x}" ] && [ "${cold_on:-0}" -lt $((cold_all / 2)) ]; then
		ok "mild: the hot huge pages move first (hot $hot_on/$hot_all, cold $cold_on/$cold_all on node 1)"
	else
		not_ok "mild: the hot huge pages move first" "hot ${hot_on:-?}/${hot_all:-?}, cold ${cold_on:-?}/${cold_all:-?} on node 1" "$s"
	fi
	"$NM" cancel "$id" >/dev/null 2>&1
	kill -9 "$tpid" 2>/dev/null; wait "$tpid" 2>/dev/null
fi

# -- a PTE-mapped THP -------------------------------------------------------
if start ptemap -m 8 -H 0 -p; then
	id=$("$NM" migrate --pid "$tpid" --to 1 --policy eager 2>"$T/err")
	if [ -n "$id" ] && job_wait "$id" && report ptemap &&
	   [ "$(st 'skipped.pinned // 0')" = 0 ] &&
	   awk '/^cold/ { exit !($2 == $3) }' "$T/ptemap.report" && grep -q '^verify ok' "$T/ptemap.report"; then
		ok "a partly mprotect'ed (PTE-mapped) THP is moved, nothing left as pinned"
	else
		not_ok "a partly mprotect'ed (PTE-mapped) THP is moved, nothing left as pinned" \
			"$(tr '\n' ' ' <"$T/ptemap.report" 2>/dev/null)" "$(jq -c . "$T/st.json" 2>/dev/null | head -c 600)"
	fi
fi

# -- MADV_NOHUGEPAGE stays small --------------------------------------------
if start nohuge -m 16 -H 0 -n; then
	id=$("$NM" migrate --pid "$tpid" --to 1 --policy eager 2>"$T/err")
	if [ -n "$id" ] && job_wait "$id" && report nohuge &&
	   [ "$(huge_kb "$tpid")" = 0 ] && [ "$(st huge_moved)" = 0 ] &&
	   awk '/^cold/ { exit !($2 == $3) }' "$T/nohuge.report"; then
		ok "a MADV_NOHUGEPAGE range is moved and stays small"
	else
		not_ok "a MADV_NOHUGEPAGE range is moved and stays small" \
			"AnonHugePages $(huge_kb "$tpid") kB" "$(tr '\n' ' ' <"$T/nohuge.report" 2>/dev/null)"
	fi
fi

# -- --split-huge: the huge pages are split ---------------------------------
if start split -m 16 -H 0; then
	before=$(huge_kb "$tpid")
	id=$("$NM" migrate --pid "$tpid" --to 1 --policy eager --split-huge 2>"$T/err")
	if [ -n "$id" ] && job_wait "$id" && report split &&
	   [ "$before" -gt 0 ] && [ "$(huge_kb "$tpid")" -lt "$before" ] &&
	   [ "$(st thp_split)" -gt 0 ] && [ "$(st keep_huge)" = false ] &&
	   awk '/^cold/ { exit !($2 == $3) }' "$T/split.report"; then
		ok "--split-huge: moved, the huge pages split ($before -> $(huge_kb "$tpid") kB)"
	else
		not_ok "--split-huge: moved, the huge pages split" "AnonHugePages $before -> $(huge_kb "$tpid") kB" \
			"$(jq -c . "$T/st.json" 2>/dev/null | head -c 600)"
	fi
fi

# -- the helper killed: the job splits the rest and still moves everything --
if start killed -m 64 -H 0; then
	id=$("$NM" migrate --pid "$tpid" --to 1 --policy periodical --batch 512 --sleep 200 2>"$T/err")
	sleep 1.5
	pkill -9 -f "^$NM migrate --pid $tpid " 2>/dev/null
	# The mover is a detached numamigctl whose parent exited.
	for p in $(pgrep -x numamigctl); do
		[ "$(ps -o ppid= -p "$p" | tr -d ' ')" = 1 ] && kill -9 "$p" 2>/dev/null
	done
	"$NM" set "$id" --sleep 0 >/dev/null 2>&1
	if [ -n "$id" ] && job_wait "$id" && report killed &&
	   [ "$(st state)" = done ] && [ "$(st huge_split)" -gt 0 ] &&
	   awk '/^cold/ { exit !($2 == $3) }' "$T/killed.report" && grep -q '^verify ok' "$T/killed.report"; then
		ok "the helper killed mid-job: the job splits the rest and moves everything ($(st huge_moved) whole, $(st huge_split) split)"
	else
		not_ok "the helper killed mid-job: the job splits the rest and moves everything" \
			"$(tr '\n' ' ' <"$T/killed.report" 2>/dev/null)" \
			"$(jq -c '{state,huge_moved,huge_split,thp_split}' "$T/st.json" 2>/dev/null)"
	fi
fi

# -- 6.12: multi-size THP (64 KiB folios) are moved whole ------------------
m64=$THP/hugepages-64kB
if [ -w $m64/enabled ] && [ -w $THP/hugepages-2048kB/enabled ]; then
	e64=$(sed 's/.*\[\(.*\)\].*/\1/' $m64/enabled)
	e2m=$(sed 's/.*\[\(.*\)\].*/\1/' $THP/hugepages-2048kB/enabled)
	echo always >$m64/enabled
	echo never >$THP/hugepages-2048kB/enabled
	if start mthp -m 16 -H 0; then
		id=$("$NM" migrate --pid "$tpid" --to 1 --policy eager 2>"$T/err")
		if [ -n "$id" ] && job_wait "$id" && report mthp &&
		   [ "$(st huge_moved)" -gt 0 ] && [ "$(st huge_split)" = 0 ] &&
		   [ "$(st 'skipped.pinned // 0')" = 0 ] &&
		   awk '/^cold/ { exit !($2 == $3) }' "$T/mthp.report" && grep -q '^verify ok' "$T/mthp.report"; then
			ok "64 KiB multi-size THPs are moved whole ($(st huge_moved) folios)"
		else
			not_ok "64 KiB multi-size THPs are moved whole" "$(tr '\n' ' ' <"$T/mthp.report" 2>/dev/null)" \
				"$(jq -c '{state,skipped,huge_moved,huge_small,huge_split}' "$T/st.json" 2>/dev/null)"
		fi
		kill -9 "$tpid" 2>/dev/null; wait "$tpid" 2>/dev/null
	fi
	echo "$e64" >$m64/enabled
	echo "$e2m" >$THP/hugepages-2048kB/enabled
else
	ok "64 KiB multi-size THPs are moved whole # SKIP no multi-size THP (6.8+)"
fi

echo "1..$n"
[ "$failed" = 0 ]
