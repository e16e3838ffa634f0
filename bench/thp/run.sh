#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# run.sh - keeping huge pages huge (issue: THP kept huge): the cost of
# moving a THP-backed, stopped process from node 0 to node 1 with
# migrate_pages(2) (migratepages), numamig eager keeping its huge pages
# (the mover helper), and numamig eager with --split-huge; whole-guest
# busy CPU, wall time, and AnonHugePages before and after.  On every
# Debian kernel installed (6.1 and 6.12), side by side in one run each.
#
# Usage: bench/thp/run.sh [--size MIB] [--reps N] [--publish]
#   defaults: 512 MiB, 5 repetitions after one warm-up run
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo=${here%/bench/thp}
out=$here/out
size=512 reps=5 publish=0
while [ $# -gt 0 ]; do
	case $1 in
	--size) size=$2; shift 2 ;;
	--reps) reps=$2; shift 2 ;;
	--publish) publish=1; shift ;;
	*) echo "run.sh: unknown option '$1'" >&2; exit 2 ;;
	esac
done
command -v jq >/dev/null || { echo "run.sh: jq is needed (apt-get install jq)" >&2; exit 1; }
make -s -C "$repo/userland"
[ "${NUMAMIG_BENCH_REPORT_ONLY:-0}" = 1 ] || { rm -rf "$out"; mkdir -p "$out"; }
kvers=$(ls /boot/vmlinuz-* | sed 's|/boot/vmlinuz-||' | grep -E '^6\.(1|12)\.' | sort -V)
for kver in $kvers; do
	[ "${NUMAMIG_BENCH_REPORT_ONLY:-0}" = 1 ] && break
	kdir=/usr/src/linux-headers-$kver
	[ -d "$kdir" ] || kdir=/lib/modules/$kver/build
	[ -d "$kdir" ] || { echo "# $kver: no headers, skipped"; continue; }
	mkdir -p "$out/$kver"
	make -s -C "$repo/module" KVER="$kver" KDIR="$kdir" >/dev/null
	cp "$repo/module/numamig.ko" "$out/$kver/numamig.ko"
	KVER=$kver "$repo/selftests/vm/run-vm.sh" --nodes 2 --mem 1536 --timeout 1200 \
		--outdir "$out" --env OUT="$out" --env KO="$out/$kver/numamig.ko" \
		--env SIZE="$size" --env REPS="$reps" -- "$here/guest.sh" >"$out/vm-$kver.log" 2>&1 ||
		{ tail -n 20 "$out/vm-$kver.log" >&2; exit 1; }
done
make -s -C "$repo/module" >/dev/null	# back to the default kernel's build
python3 - "$out" "$size" <<'PY'
import csv, glob, statistics, sys
out, size = sys.argv[1], float(sys.argv[2])
rows = [r for f in sorted(glob.glob(out + "/runs-*.csv")) for r in csv.DictReader(open(f))
        if r["rep"] != "0"]
names = {"migrate_pages": "`migrate_pages(2)` (migratepages)",
         "numamig_keep": "numamig eager, huge pages kept (default)",
         "numamig_split": "numamig eager, `--split-huge`"}
lines = ["# Keeping huge pages huge: results", "",
         "A %d MiB process on THP (enabled=always), stopped, moved from node 0 "
         "to node 1; medians over the repetitions (a warm-up run first, the "
         "order rotating), per kernel. Wall and CPU include starting the tool "
         "(about 0.15 s for numamigctl under TCG); job s is the numamig job's own "
         "time, start to done, mover included. CPU is the whole "
         "guest's busy time (user+system+irq of all vCPUs, from /proc/stat), per "
         "GiB moved; the ratio is to `migrate_pages(2)` on the same kernel. "
         "Huge MiB is AnonHugePages before -> after; on node 1 is the share of "
         "the mapping's pages there afterwards." % size, ""]
lines += ["TCG timings are bimodal here (a run of any mechanism now and then takes "
          "3-4x its usual time), so the fastest run is shown next to the median.", ""]
lines += ["| kernel | mechanism | wall s | job s | CPU s/GiB median (fastest) | vs migrate_pages median (fastest) | huge MiB before -> after | on node 1 |",
          "|---|---|--:|--:|--:|--:|--:|--:|"]
for k in sorted({r["kernel"] for r in rows}):
    base = None
    for m in ["migrate_pages", "numamig_keep", "numamig_split"]:
        rs = [r for r in rows if r["kernel"] == k and r["mechanism"] == m]
        if not rs:
            continue
        med = lambda f: statistics.median(float(r[f]) for r in rs)
        cpu = med("busy_s") / (size / 1024)
        low = min(float(r["busy_s"]) for r in rs) / (size / 1024)
        if m == "migrate_pages":
            base, base_low = cpu, low
        job = "%.2f" % med("job_s") if rs[0]["job_s"] else "-"
        lines.append("| %s | %s | %.2f | %s | %.2f (%.2f) | %s | %d -> %d | %.1f%% |" % (
            k, names[m], med("wall_s"), job, cpu, low,
            "%.2fx (%.2fx)" % (cpu / base, low / base_low) if base else "-",
            med("huge_before_kb") / 1024, med("huge_after_kb") / 1024,
            100 * med("n1_pages") / max(med("all_pages"), 1)))
open(out + "/results.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
if [ "$publish" = 1 ]; then
	mkdir -p "$here/results"
	cp "$out/results.md" "$out"/runs-*.csv "$here/results/"
fi
