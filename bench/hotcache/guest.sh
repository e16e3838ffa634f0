#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# guest.sh - the part of bench/hotcache/run.sh that runs inside the VM, as
# root: the page-cache carry-over experiment of papers 001/003.
#
# Usage: guest.sh OUTDIR
#
# Per repetition: a reader (hcreader) warms the page cache at the "source"
# with a skewed random pattern and stops itself (as CRIU would freeze it);
# numamigctl hotcache dump --pid --sync takes its hot set; the reader is
# killed. Then, for each storage profile and each case, the caches are
# dropped (the destination's cache is empty) and the reader runs again for
# T seconds with the same pattern:
#
#   none        no prefetch
#   hot         numamigctl hotcache prefetch of the dump, started with the reader
#   hot-before  the same prefetch, run to completion before the reader starts
#   hot-rate    like hot, with prefetch --rate PF_RATE (half the storage's)
#   whole       numamigctl hotcache prefetch of a whole-file dump, with the reader
#   whole-cat   cat FILE >/dev/null, with the reader
#
# Storage: the file system is on a device-mapper "delay" device over the
# virtio disk. The reader and the prefetcher are in two child cgroups of one
# cgroup whose io.max caps the sum of their reads at RATE MiB/s (shared
# storage). Profiles:
#
#   bw   bandwidth only: io.max, no added latency
#   lat  the same io.max, and every read delayed by DELAY ms (dm-delay;
#        rounded up to whole jiffies, 4 ms at HZ=250), like a remote or
#        rotating disk: one synchronous reader cannot fill the bandwidth
#
# Settings (environment): HC_DEV (/dev/vda), HC_SIZE_MB (1024), HC_T (10 s),
# HC_R (3), HC_RATE_MB (64 MiB/s), HC_PF_RATE (HC_RATE_MB / 2), HC_DELAY_MS
# (1), HC_PROFILES ("bw lat"), HC_WARM (8: mean reads per hot block at the
# source), HC_CASES, HC_JOBS (prefetch --jobs, 4), HC_BS (65536),
# HC_HOT_FRAC (0.2), HC_HOT_SHARE (0.8), HC_REGIONS (8), HC_MODULE (the
# numamig.ko to load, default module/numamig.ko).
#
# Writes OUTDIR/runs.csv (one line per profile, case and repetition),
# OUTDIR/dumps.csv (one line per dump), OUTDIR/timeline/P-C-R.csv (the
# reader's counters every 100 ms), OUTDIR/iotl/P-C-R.csv (bytes read by each
# cgroup, every 0.5 s), OUTDIR/dump-R.json (hotcache show --json),
# OUTDIR/layout.txt, OUTDIR/env.txt.

set -uo pipefail

# All of it in one compound command, so that bash has read the whole script
# before it runs any of it: editing this file during a run (it is read over
# 9p from the host) cannot derail the run.
{

hc=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo=${hc%/bench/hotcache}
out=${1:?usage: guest.sh OUTDIR}
NM=$repo/userland/numamigctl
RD=$hc/out/hcreader

disk=${HC_DEV:-/dev/vda}
size_mb=${HC_SIZE_MB:-1024}
T=${HC_T:-10}
R=${HC_R:-3}
rate_mb=${HC_RATE_MB:-64}
pf_rate=${HC_PF_RATE:-$((rate_mb / 2))}
delay_ms=${HC_DELAY_MS:-1}
warm=${HC_WARM:-8}
jobs=${HC_JOBS:-4}
bs=${HC_BS:-65536}
read -ra profiles <<<"${HC_PROFILES:-bw lat}"
read -ra cases <<<"${HC_CASES:-none hot hot-before hot-rate whole whole-cat}"
rdopts=(--bs "$bs" --hot-frac "${HC_HOT_FRAC:-0.2}" --hot-share "${HC_HOT_SHARE:-0.8}"
	--regions "${HC_REGIONS:-8}")

dmname=hcbench
dev=/dev/mapper/$dmname
mnt=/tmp/hc-ext4
cgroot=/sys/fs/cgroup
cg=$cgroot/hcbench
tmp=/tmp/hcbench
mkdir -p "$tmp" "$out/timeline" "$out/iotl"

log() { echo "guest.sh: $*" >&2; }
die() { log "$*"; exit 1; }
now() { echo "$EPOCHREALTIME"; }
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'; }
# The value of KEY in a line of key=value pairs.
kv() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"; }

# ---- set up: module, disk, cgroups ---------------------------------------

[ -x "$RD" ] || die "$RD not built"
[ -x "$NM" ] || die "$NM not built"
if [ ! -d /sys/module/numamig ]; then
	insmod "${HC_MODULE:-$repo/module/numamig.ko}" || die "insmod ${HC_MODULE:-numamig.ko}"
fi
for _ in $(seq 50); do
	[ -c /dev/numamig ] && break
	sleep 0.1
done
[ -c /dev/numamig ] || die "no /dev/numamig"

modprobe -a virtio_blk ext4 dm_delay || die "modprobe -a virtio_blk ext4 dm_delay"
for _ in $(seq 50); do
	[ -b "$disk" ] && break
	sleep 0.1
done
[ -b "$disk" ] || die "no $disk (run-vm.sh --disk IMG)"

# dm-delay table: delay 0 is a plain remap.
dm_table() { echo "0 $(blockdev --getsz "$disk") delay $disk 0 $1"; }
dmsetup create "$dmname" --noudevsync --table "$(dm_table 0)" || die "dmsetup create"
dmsetup mknodes "$dmname"
[ -b "$dev" ] || die "no $dev"
cur_delay=0
set_delay() {	# set_delay MS
	[ "$1" != "$cur_delay" ] || return 0
	cur_delay=$1
	dmsetup suspend --noudevsync "$dmname" &&
	dmsetup reload --noudevsync "$dmname" --table "$(dm_table "$1")" &&
	dmsetup resume --noudevsync "$dmname" || die "dm-delay $1 ms"
}
majmin=$(dmsetup info -c --noheadings -o major,minor "$dmname" | tr -d ' ')
mkdir -p "$mnt"
mount -t ext4 "$dev" "$mnt" || die "mount $dev"
F=$mnt/data

cleanup() {
	umount "$mnt" 2>/dev/null
	dmsetup remove --noudevsync "$dmname" 2>/dev/null
}
trap cleanup EXIT

if [ "$(stat -c %s "$F" 2>/dev/null)" != $((size_mb << 20)) ]; then
	log "writing $F ($size_mb MiB)"
	rm -f "$F"
	# Real blocks: a preallocated (unwritten) extent would read as zeros
	# without any I/O.
	t0=$(now)
	head -c $((size_mb << 20)) /dev/urandom >"$F" || die "write $F"
	sync "$F"
	log "wrote $F in $(since "$t0") s"
fi

echo +io >"$cgroot/cgroup.subtree_control" || die "enable the io controller"
mkdir -p "$cg"
echo +io >"$cg/cgroup.subtree_control" || die "enable io in $cg"
mkdir -p "$cg/reader" "$cg/prefetch"

throttle() {	# throttle RATE_MB | off
	if [ "$1" = off ]; then
		echo "$majmin rbps=max" >"$cg/io.max"
	else
		echo "$majmin rbps=$(($1 << 20))" >"$cg/io.max"
	fi
}

# Storage as the destination sees it, or "off" for the source.
storage() {	# storage bw|lat|off
	case $1 in
	off)	throttle off; set_delay 0 ;;
	bw)	throttle "$rate_mb"; set_delay 0 ;;
	lat)	throttle "$rate_mb"; set_delay "$delay_ms" ;;
	*)	die "unknown storage profile $1" ;;
	esac
}

rbytes() {	# rbytes CGROUP: bytes read from the device so far
	local line
	while read -r line; do
		case $line in
		"$majmin "*) line=${line#*rbytes=}; echo "${line%% *}"; return ;;
		esac
	done <"$1/io.stat"
	echo 0
}

drop_caches() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
}

resident() {	# resident: "resident_pages hot_resident_pages" of $F
	"$RD" --resident "${rdopts[@]}" "$F" |
		sed 's/.* resident_pages=\([0-9]*\) .* hot_resident_pages=\([0-9]*\)/\1 \2/'
}

# Exec "$@" in cgroup $1: call it in a subshell, ( in_cg ... ) or in_cg ... &
in_cg() {
	echo "$BASHPID" >"$1/cgroup.procs" || exit 125
	shift
	exec "$@"
}

# Run a prefetcher in the prefetch cgroup; its wall time goes to $tmp/pf.wall
# when it finishes (not when it is killed), its stderr to $tmp/pf.err. (In
# the background, send the function's stderr to /dev/null: the shell says
# "Killed" there when the case ends it.)
prefetch() {
	(
		echo "$BASHPID" >"$cg/prefetch/cgroup.procs" || exit 125
		t=$(now)
		"$@" >/dev/null 2>"$tmp/pf.err" && since "$t" >"$tmp/pf.wall"
	)
}

# Sample the bytes read by both cgroups every 0.5 s until killed.
io_sampler() {
	local t0=$EPOCHREALTIME
	echo "t_s,reader_rbytes,prefetch_rbytes"
	while :; do
		echo "$(since "$t0"),$(rbytes "$cg/reader"),$(rbytes "$cg/prefetch")"
		sleep 0.5
	done
}

# The numbers of the prefetch report line: requested, already resident,
# read, not read, seconds.
pf_report() {
	local f=$1 r
	r=$(sed -n 's/.* \([0-9]*\) pages requested .*: \([0-9]*\) already resident, \([0-9]*\) read, \([0-9]*\) not read; \([0-9.]*\) s.*/\1,\2,\3,\4,\5/p' "$f" 2>/dev/null | tail -n 1)
	echo "${r:-,,,,}"
}

{
	echo "kernel: $(uname -r)"
	echo "cpus: $(nproc)"
	grep -h MemTotal /sys/devices/system/node/node*/meminfo
	echo "lru_gen: $(cat /sys/kernel/mm/lru_gen/enabled 2>/dev/null || echo none)"
	echo "disk: $dev ($majmin) = dm-delay over $disk, $(cat "/sys/dev/block/$majmin/queue/read_ahead_kb") KiB readahead, max_sectors_kb $(cat "/sys/dev/block/$majmin/queue/max_sectors_kb")"
	echo "file: $F, $size_mb MiB, block $bs"
	echo "throttle: io.max rbps $rate_mb MiB/s on $cg (reader + prefetcher)"
	echo "profiles: ${profiles[*]} (lat: dm-delay $delay_ms ms per read)"
	echo "settings: T=$T R=$R warm=$warm jobs=$jobs pf_rate=$pf_rate cases=${cases[*]}"
	echo "reader: ${rdopts[*]}"
	echo "numamigctl: $("$NM" --version 2>&1 | tr '\n' ' ')"
	echo "numamig srcversion: $(cat /sys/module/numamig/srcversion 2>/dev/null)"
} >"$out/env.txt"
"$RD" --layout "${rdopts[@]}" "$F" >"$out/layout.txt" || die "hcreader --layout"
hot_blocks=$(sed -n 's/.* hot_blocks=\([0-9]*\).*/\1/p' "$out/layout.txt")
warm_reads=$(awk -v h="$hot_blocks" -v w="$warm" -v s="${HC_HOT_SHARE:-0.8}" \
	'BEGIN { printf "%d", h * w / s }')

# ---- the whole-file dump -------------------------------------------------

storage off
drop_caches
cat "$F" >/dev/null
"$NM" hotcache dump --file "$F" --all-resident -o "$tmp/whole.bin" 2>"$tmp/whole.err" ||
	die "whole-file dump: $(cat "$tmp/whole.err")"
log "$(cat "$tmp/whole.err")"

echo "rep,dump_s,dump_bytes,hot_pages,cached_pages,src_reads,src_bytes,src_elapsed_s,src_hit_pages,src_pages" >"$out/dumps.csv"
echo "profile,rep,case,order,T_s,reader_bytes,reader_reads,hit_reads,hit_pages,pages,hot_reads,hot_hit_pages,reader_elapsed_s,reader_disk_bytes,prefetch_disk_bytes,prefetch_done,prefetch_wall_s,pf_requested,pf_already,pf_read,pf_not_read,pf_s,resident_pages,hot_resident_pages,first_read_ms" >"$out/runs.csv"

# One case: drop the caches, run the reader for T seconds with the case's
# prefetcher, append a line to runs.csv.
#
# first_read_ms REPORT CASE PREFETCH_WALL: milliseconds from the "restore"
# (the reader's start, or the prefetch's for hot-before, which the reader
# waits for) to the end of the reader's first read.
first_read_ms() {
	awk -v f="$(kv first_read_ms "$1")" -v c="$2" -v w="${3:-0}" \
		'BEGIN { if (f == "") exit; printf "%.1f", f + (c == "hot-before" ? w * 1000 : 0) }'
}

run_case() {	# run_case PROFILE REP CASE ORDER
	local p=$1 r=$2 c=$3 i=$4 tag=$1-$3-$2
	local pf='' pf_wall='' done='' smp rrc rr0 rr1 pr0 pr1 res0 res hres s

	storage off
	drop_caches
	read -r res0 _ < <(resident)
	[ "$res0" -lt 256 ] || log "warning: $res0 pages still cached after drop_caches"
	storage "$p"
	rr0=$(rbytes "$cg/reader")
	pr0=$(rbytes "$cg/prefetch")
	rm -f "$tmp/pf.err" "$tmp/pf.wall"
	io_sampler >"$out/iotl/$tag.csv" &
	smp=$!
	case $c in
	none)		;;
	hot)		prefetch "$NM" hotcache prefetch "$tmp/hot.bin" --jobs "$jobs" 2>/dev/null &
			pf=$! ;;
	hot-rate)	prefetch "$NM" hotcache prefetch "$tmp/hot.bin" --jobs "$jobs" \
				--rate "$pf_rate" 2>/dev/null &
			pf=$! ;;
	whole)		prefetch "$NM" hotcache prefetch "$tmp/whole.bin" --jobs "$jobs" 2>/dev/null &
			pf=$! ;;
	whole-cat)	prefetch cat "$F" 2>/dev/null &
			pf=$! ;;
	hot-before)	prefetch "$NM" hotcache prefetch "$tmp/hot.bin" --jobs "$jobs"
			done=1 ;;
	hot-j[0-9]*)	prefetch "$NM" hotcache prefetch "$tmp/hot.bin" --jobs "${c#hot-j}" 2>/dev/null &
			pf=$! ;;
	*)		die "unknown case $c" ;;
	esac
	( in_cg "$cg/reader" "$RD" "${rdopts[@]}" --duration "$T" --seed $((r * 104729 + i)) \
		--timeline "$out/timeline/$tag.csv" "$F" >"$tmp/dst.out" )
	rrc=$?
	rr1=$(rbytes "$cg/reader")
	pr1=$(rbytes "$cg/prefetch")
	if [ -n "$pf" ]; then
		done=1
		if kill -0 "$pf" 2>/dev/null; then
			done=0
			echo 1 >"$cg/prefetch/cgroup.kill"
		fi
		wait "$pf" 2>/dev/null
	fi
	[ -s "$tmp/pf.wall" ] && pf_wall=$(cat "$tmp/pf.wall")
	kill "$smp"
	wait "$smp" 2>/dev/null
	[ "$rrc" = 0 ] || { log "$tag: the reader failed ($rrc)"; rc=1; }
	read -r res hres < <(resident)
	s=$(cat "$tmp/dst.out")
	echo "$p,$r,$c,$i,$T,$(kv bytes "$s"),$(kv reads "$s"),$(kv hit_reads "$s"),$(kv hit_pages "$s"),$(kv pages "$s"),$(kv hot_reads "$s"),$(kv hot_hit_pages "$s"),$(kv elapsed_s "$s"),$((rr1 - rr0)),$((pr1 - pr0)),$done,$pf_wall,$(pf_report "$tmp/pf.err"),$res,$hres,$(first_read_ms "$s" "$c" "$pf_wall")" >>"$out/runs.csv"
	log "$tag: $(($(kv bytes "$s") >> 20)) MiB read in ${T}s; storage reads: reader $(((rr1 - rr0) >> 20)) MiB, prefetcher $(((pr1 - pr0) >> 20)) MiB${done:+ (finished: $done${pf_wall:+, ${pf_wall}s})}"
	[ ! -s "$tmp/pf.err" ] || sed 's/^/    /' "$tmp/pf.err" >&2
}

rc=0
for ((r = 1; r <= R; r++)); do
	# ---- the source ------------------------------------------------------
	storage off
	drop_caches
	in_cg "$cg/reader" "$RD" "${rdopts[@]}" --count "$warm_reads" --stop \
		--seed $((r * 7919)) "$F" >"$tmp/src.out" &
	src=$!
	t0=$(now)
	while [ "$(awk '{ print $3 }' "/proc/$src/stat" 2>/dev/null)" != T ]; do
		kill -0 "$src" 2>/dev/null || die "the source reader exited early"
		sleep 0.2
	done
	log "rep $r: source warm-up ($warm_reads reads) took $(since "$t0") s"
	t0=$(now)
	"$NM" hotcache dump --pid "$src" --sync -o "$tmp/hot.bin" 2>"$tmp/dump.err" ||
		die "dump: $(cat "$tmp/dump.err")"
	dump_s=$(since "$t0")
	log "rep $r: $(cat "$tmp/dump.err")"
	"$NM" hotcache dump --pid "$src" --all-resident -o "$tmp/all.bin" 2>/dev/null
	kill -CONT "$src"
	wait "$src"
	"$NM" hotcache show "$tmp/hot.bin" --json >"$out/dump-$r.json"
	hot_pages=$(sed -n 's/.*"total_pages":\([0-9]*\).*/\1/p' "$out/dump-$r.json" | head -n 1)
	cached=$("$NM" hotcache show "$tmp/all.bin" --json | sed -n 's/.*"total_pages":\([0-9]*\).*/\1/p' | head -n 1)
	s=$(cat "$tmp/src.out")
	echo "$r,$dump_s,$(stat -c %s "$tmp/hot.bin"),$hot_pages,$cached,$(kv reads "$s"),$(kv bytes "$s"),$(kv elapsed_s "$s"),$(kv hit_pages "$s"),$(kv pages "$s")" >>"$out/dumps.csv"

	# ---- the destination: the cases in an order rotated per repetition ---
	n=${#cases[@]}
	for p in "${profiles[@]}"; do
		for ((i = 0; i < n; i++)); do
			run_case "$p" "$r" "${cases[$(((i + r - 1) % n))]}" "$i"
		done
	done
done

storage off
exit "$rc"
}
