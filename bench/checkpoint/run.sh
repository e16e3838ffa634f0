#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# run.sh - the residual-checkpoint benchmark (PAPERS.md 002): full vs
# incremental checkpoints after a restore, and what tracking costs.  Boots
# the 2-node VM, runs guest.sh there, writes out/results.md.
#
# Usage: bench/checkpoint/run.sh [--size MIB] [--share PERCENT] [--reps N]
#                                [--publish]
#   --size MIB       the workload's memory (default 256)
#   --share PERCENT  share of its pages written after the restore (default 10)
#   --reps N         repetitions (default 3)
#   --publish        copy out/results.md and out/runs.csv into results/
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo=${here%/bench/checkpoint}
out=$here/out
size=256 share=10 reps=3 publish=0
while [ $# -gt 0 ]; do
	case $1 in
	--size) size=$2; shift 2 ;;
	--share) share=$2; shift 2 ;;
	--reps) reps=$2; shift 2 ;;
	--publish) publish=1; shift ;;
	*) echo "run.sh: unknown option '$1'" >&2; exit 2 ;;
	esac
done
[ -f "$repo/module/numamig.ko" ] || make -C "$repo/module"
make -s -C "$repo/userland"
rm -rf "$out"
mkdir -p "$out"
"$repo/selftests/vm/run-vm.sh" --nodes 2 --mem 1024 --timeout 1200 \
	--outdir "$out" --env OUT="$out" --env SIZE="$size" \
	--env SHARE="$share" --env REPS="$reps" -- "$here/guest.sh" >"$out/vm.log" 2>&1 ||
	{ tail -n 20 "$out/vm.log" >&2; exit 1; }
python3 - "$out" <<'PY'
import csv, statistics, sys
out = sys.argv[1]
rows = list(csv.DictReader(open(out + "/runs.csv")))
env = open(out + "/env.txt").read().strip().replace("\n", "; ")
v = {}
for r in rows:
    try:
        v.setdefault(r["metric"], []).append(float(r["value"]))
    except ValueError:
        pass
med = lambda k: statistics.median(v[k]) if k in v else float("nan")
mib = lambda b: b / 2**20
lines = [
    "# Residual checkpoints: results", "",
    "Environment: " + env + ".", "",
    "Medians over the repetitions. The workload is restored from a full dump, "
    "rewrites its share of pages, and is dumped again: in full, and with "
    "`numamig-checkpoint` (incremental against the images it was restored from).", "",
    "| dump after a restore | dump s | image MiB | pages written | pages in parent |",
    "|---|--:|--:|--:|--:|",
    "| full (`criu dump`) | %.2f | %.1f | – | – |" % (med("full2_dump_s"), mib(med("full2_bytes"))),
    "| incremental (`numamig-checkpoint`) | %.2f | %.1f | %d | %d |" % (
        med("inc_dump_s"), mib(med("inc_bytes")), med("inc_pages_written"), med("inc_pages_skipped")),
    "", "Ratio incremental / full: dump time %.2fx, image bytes %.2fx." % (
        med("inc_dump_s") / med("full2_dump_s"), med("inc_bytes") / med("full2_bytes")), "",
    "| restore | s |", "|---|--:|",
    "| `criu restore`, no tracking | %.2f |" % med("restore_s"),
    "| `criu restore` + the action script, no tracking (`NUMAMIG_TRACK_MEM=0`) | %.2f |" % med("restore_script_s"),
    "| `criu restore` + the action script with tracking (clear_refs at pre-resume) | %.2f |" % med("restore_tracked_s"),
    "| restore from the incremental chain | %.2f |" % med("chain_restore_s"),
    "", "Tracking's cost on the restored workload: its writes after the restore took "
    "%.1f ms untracked, %.1f ms tracked (%.2fx). Restore with tracking vs the same "
    "restore with the script but no tracking: %.2fx (vs plain criu restore: %.2fx)." % (
        med("write_ms"), med("write_tracked_ms"), med("write_tracked_ms") / med("write_ms"),
        med("restore_tracked_s") / med("restore_script_s"),
        med("restore_tracked_s") / med("restore_s")),
    "", "Every page verified after the chain restore: %d of %d repetitions." % (
        sum(v.get("verify_ok", [])), len(v.get("verify_ok", []))),
]
open(out + "/results.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
if [ "$publish" = 1 ]; then
	mkdir -p "$here/results"
	cp "$out/results.md" "$out/runs.csv" "$out/env.txt" "$here/results/"
fi
