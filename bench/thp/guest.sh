#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# guest.sh - the huge-page benchmark, inside the VM (run.sh boots it).
# Environment: OUT (results), KO (the module), SIZE (MiB), REPS.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
NM=$repo/userland/numamigctl
TGT=$repo/userland/test_thp_target
THP=/sys/kernel/mm/transparent_hugepage
csv=$OUT/runs-$(uname -r).csv

insmod "$KO" || exit 1
for _ in $(seq 20); do [ -e /dev/numamig ] && break; sleep 0.2; done
echo 0 >/proc/sys/kernel/numa_balancing
echo always >$THP/enabled
echo always >$THP/defrag
echo "kernel=$(uname -r) cpus=$(nproc) size_mib=$SIZE reps=$REPS thp=$(cat $THP/enabled)" >"$OUT/env-$(uname -r).txt"

# Busy CPU of the whole guest, in USER_HZ ticks: user nice system irq softirq.
busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
huge_kb() { awk '/^AnonHugePages:/ { s += $2 } END { print s + 0 }' "/proc/$1/smaps_rollup"; }
# Pages of the target's largest mapping on node 1, and in all.
on_n1() {
	awk '{ a = 0; n1 = 0; t = 0
	       for (i = 1; i <= NF; i++) {
		if ($i ~ /^anon=/) a = substr($i, 6)
		if ($i ~ /^N[0-9]+=/) { split($i, kv, "="); t += kv[2]; if (kv[1] == "N1") n1 = kv[2] }
	       }
	       if (a + 0 > best) { best = a + 0; b1 = n1; bt = t } }
	     END { print b1 + 0, bt + 0 }' "/proc/$1/numa_maps"
}

echo "kernel,mechanism,rep,wall_s,busy_s,huge_before_kb,huge_after_kb,n1_pages,all_pages,huge_moved,huge_split,job_s" >"$csv"
mechs=(migrate_pages numamig_keep numamig_split)
# Rep 0 warms up (binaries over 9p, first huge pages on node 1) and is not
# kept; the order rotates, so no mechanism always runs first.
for rep in $(seq 0 "$REPS"); do
	for i in 0 1 2; do
		mech=${mechs[$(((i + rep) % 3))]}
		sync; echo 3 >/proc/sys/vm/drop_caches; echo 1 >/proc/sys/vm/compact_memory
		numactl --membind=0 "$TGT" -m "$SIZE" -H 0 >"$OUT/tgt.out" 2>&1 &
		pid=$!
		for _ in $(seq 300); do grep -q ready "$OUT/tgt.out" && break; sleep 0.1; done
		kill -STOP "$pid"
		sleep 0.5
		hb=$(huge_kb "$pid")
		b0=$(busy); t0=$EPOCHREALTIME
		hm= hs= js=
		case $mech in
		migrate_pages) migratepages "$pid" 0 1 ;;
		numamig_keep)
			"$NM" migrate --pid "$pid" --to 1 --policy eager --wait --json >"$OUT/st.json" 2>/dev/null ;;
		numamig_split)
			"$NM" migrate --pid "$pid" --to 1 --policy eager --split-huge --wait --json >"$OUT/st.json" 2>/dev/null ;;
		esac
		t1=$EPOCHREALTIME; b1=$(busy)
		if [ "$mech" != migrate_pages ]; then
			hm=$(jq '.jobs[0].huge_moved' "$OUT/st.json")
			hs=$(jq '.jobs[0].huge_split' "$OUT/st.json")
			js=$(jq '.jobs[0].elapsed_ns / 1e9' "$OUT/st.json")
		fi
		read -r n1 all < <(on_n1 "$pid")
		ha=$(huge_kb "$pid")
		awk -v k="$(uname -r)" -v m="$mech" -v r="$rep" -v t0="$t0" -v t1="$t1" \
		    -v b0="$b0" -v b1="$b1" -v hb="$hb" -v ha="$ha" -v n1="$n1" -v all="$all" \
		    -v hm="$hm" -v hs="$hs" -v js="$js" \
		    'BEGIN { printf "%s,%s,%d,%.3f,%.2f,%d,%d,%d,%d,%s,%s,%s\n", k, m, r, t1 - t0, (b1 - b0) / 100, hb, ha, n1, all, hm, hs, js }' >>"$csv"
		kill -9 "$pid"; wait "$pid" 2>/dev/null
	done
done
cat "$csv"
rmmod numamig
