#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# guest.sh - the residual-checkpoint benchmark, in the VM (run.sh boots it).
# One CSV line per measurement to $OUT/runs.csv: rep,metric,value.
#
#   full_dump_s, full_bytes      criu dump of the fresh workload (full)
#   restore_s                    criu restore -d, no tracking
#   restore_script_s             criu restore -d with numamig-criu-action,
#                                NUMAMIG_TRACK_MEM=0 (the script's own cost)
#   restore_tracked_s            criu restore -d with numamig-criu-action
#                                (tracking started at pre-resume)
#   write_ms, write_tracked_ms   the workload rewriting SHARE% of its pages
#                                after each restore (soft-dirty faults)
#   full2_dump_s, full2_bytes    a full dump (--leave-running) of the state
#                                after those writes
#   inc_dump_s, inc_bytes, inc_pages_written, inc_pages_skipped
#                                numamig-checkpoint of the same state
#   chain_restore_s, verify_ok   restore from the incremental images
#                                (follows the parent link), every page checked

set -u
repo=$(cd "$(dirname "$0")/../.." && pwd -P)
OUT=${OUT:?}
SIZE=${SIZE:-256}
SHARE=${SHARE:-10}
REPS=${REPS:-3}
W=$(mktemp -d /tmp/ckbench.XXXXXX)
CK=$repo/userland/numamig-checkpoint
ACTION=$repo/userland/numamig-criu-action
export NUMAMIG_RUNDIR=$W/run NUMAMIGCTL=$repo/userland/numamigctl
S=$W/state
csv=$OUT/runs.csv

ip link set lo up
modprobe -a nf_tables unix_diag inet_diag tcp_diag udp_diag raw_diag \
	netlink_diag packet_diag nft_compat x_tables xt_mark tun 2>/dev/null
insmod "$repo/module/numamig.ko" 2>/dev/null
gcc -O2 -o "$W/ckwork" "$repo/bench/checkpoint/ckwork.c" || exit 1
echo "rep,metric,value" >"$csv"
{
	echo "kernel=$(uname -r)"
	echo "criu=$(criu --version | head -n 1)"
	echo "size_mib=$SIZE share_percent=$SHARE reps=$REPS"
	echo "cpus=$(nproc)"
} >"$OUT/env.txt"

put() { echo "$rep,$1,$2" >>"$csv"; echo "# rep $rep: $1 = $2"; }
wait_state() {
	local i=0
	while [ $i -lt 1200 ]; do
		grep -q "$1" "$S" 2>/dev/null && return 0
		sleep 0.05
		i=$((i + 1))
	done
	echo "# timeout waiting for '$1' ($(cat "$S" 2>&1))"
	return 1
}
ask() { rm -f "$S"; kill -"$1" "$pid"; wait_state "$2"; }
gone() { while [ -d "/proc/$pid" ]; do sleep 0.05; done; }
secs() { local t0=$EPOCHREALTIME; "$@" >>"$W/log" 2>&1; rc=$?; awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'; return $rc; }
bytes() { du -sb --apparent-size "$1" | cut -f 1; }

for rep in $(seq "$REPS"); do
	rm -rf "$W/g0" "$W/g1full" "$W/g1inc" "$NUMAMIG_RUNDIR"
	mkdir -p "$W/g0" "$W/g1full"
	setsid "$W/ckwork" "$S" "$SIZE" "$SHARE" </dev/null >/dev/null 2>&1 &
	pid=$!
	wait_state '^ready' || exit 1
	put full_dump_s "$(secs criu dump -t "$pid" -D "$W/g0")"
	put full_bytes "$(bytes "$W/g0")"
	gone

	put restore_s "$(secs criu restore -d -D "$W/g0")"
	ask USR1 '^dirtied' && put write_ms "$(cut -d ' ' -f 3 "$S")"
	kill -9 "$pid"; gone

	put restore_script_s "$(NUMAMIG_TRACK_MEM=0 secs criu restore -d -D "$W/g0" --action-script "$ACTION")"
	kill -9 "$pid"; gone

	put restore_tracked_s "$(secs criu restore -d -D "$W/g0" --action-script "$ACTION")"
	[ -f "$NUMAMIG_RUNDIR/restored/$pid" ] || echo "# no restore record: tracking did not start"
	ask USR1 '^dirtied' && put write_tracked_ms "$(cut -d ' ' -f 3 "$S")"
	put full2_dump_s "$(secs criu dump -t "$pid" -D "$W/g1full" --leave-running)"
	put full2_bytes "$(bytes "$W/g1full")"
	"$CK" -t "$pid" -D "$W/g1inc" --json >"$W/inc.json" 2>>"$W/log"
	for k in dump_seconds image_bytes pages_written pages_skipped_parent; do
		v=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], ""))' "$W/inc.json" "$k" 2>/dev/null)
		case $k in
		dump_seconds) put inc_dump_s "$v" ;;
		image_bytes) put inc_bytes "$v" ;;
		pages_written) put inc_pages_written "$v" ;;
		pages_skipped_parent) put inc_pages_skipped "$v" ;;
		esac
	done
	gone
	put chain_restore_s "$(secs criu restore -d -D "$W/g1inc")"
	if ask USR2 '^verify' && grep -q '^verify ok' "$S"; then
		put verify_ok 1
	else
		put verify_ok 0
	fi
	kill -9 "$pid"; gone
done
cp "$W/log" "$OUT/criu.log" 2>/dev/null
rm -rf "$W"
