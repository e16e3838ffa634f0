#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The hot page cache through a real CRIU checkpoint and restore, TAP output
# (the plan comes last).  Run as root in the test VM (userland/TESTS), with
# numamig loaded, criu installed and NUMAMIG_EXT4_DIR naming a directory on
# ext4 (a file system with a page cache to drop); skips without them.  Runs
# by hand as well, from anywhere:
#
#   NUMAMIG_EXT4_DIR=/mnt/ext4 sh userland/test_criu_guest.sh
#
# A reader process (its own session, so no --shell-job) reads a hot region
# of a file 8 times and a cold region once; then, three times:
#
#  - plugin: the CRIU plugin (a copy of numamig-criu-plugin.so in a temp
#    plugin directory, criu --libdir) and no action script.  criu dump
#    writes IMAGES/numamig-hotcache.bin listing the hot pages, not the cold
#    ones; after drop_caches, criu restore -d (NUMAMIG_HOTCACHE_MODE=sync:
#    prefetched before the tree resumes) makes the hot region cached again
#    and leaves the cold one out; the process runs on; pre-resume wrote the
#    restore record (images=) and cleared the soft-dirty bits, which a write
#    of the process sets again;
#  - action script: no plugin (an empty --libdir), --action-script: the
#    same through pre-restore, and pre-resume does not prefetch again;
#  - both: the plugin and --action-script: one dump, one prefetch.
#
# Environment: NUMAMIG_EXT4_DIR, NUMAMIGCTL (the binary), CRIU (default
# criu).  The plugin finds this tree's action script and numamigctl through
# NUMAMIG_CRIU_ACTION_PATH and NUMAMIGCTL; nothing is installed.

# check() evaluates single-quoted conditions: for the whole file.
# shellcheck disable=SC2016,SC2034

here=$(cd "$(dirname "$0")" && pwd)
NM=${NUMAMIGCTL:-$here/numamigctl}
PC=$here/test_pagecache
ACTION=$here/numamig-criu-action
PLUGIN=$here/numamig-criu-plugin.so
CRIU=${CRIU:-criu}

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

command -v "$CRIU" >/dev/null 2>&1 || skip_all "criu is not installed"
if [ -z "${NUMAMIG_EXT4_DIR:-}" ] || [ ! -d "$NUMAMIG_EXT4_DIR" ]; then
	skip_all "NUMAMIG_EXT4_DIR is not set (a directory on ext4)"
fi
[ "$(id -u)" = 0 ] || skip_all "not root"
if [ ! -w /dev/numamig ] || [ -n "${NUMAMIGCTL_DEVICE:-}" ]; then
	skip_all "no writable /dev/numamig"
fi
"$NM" --version 2>/dev/null | grep -q ' hotcache' ||
	skip_all "the module lacks the hotcache feature"
[ -x "$PC" ] || skip_all "test_pagecache not built"
[ -f "$PLUGIN" ] || skip_all "numamig-criu-plugin.so not built (no criu-plugin.h?)"

# What CRIU needs in the test VM: loopback, nftables and the socket-diag
# modules, the xtables bits of its network lock.
ip link set lo up 2>/dev/null
modprobe -a nf_tables unix_diag inet_diag tcp_diag udp_diag raw_diag \
	netlink_diag packet_diag nft_compat x_tables xt_mark tun 2>/dev/null
if ! out=$("$CRIU" check 2>&1); then
	echo "$out" | tail -n 5 | sed 's/^/# /'
	skip_all "criu check fails here"
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/numamig-criu.XXXXXX") || exit 1
D=$(mktemp -d "$NUMAMIG_EXT4_DIR/numamig-criu.XXXXXX") || exit 1
reader=
restored=
cleanup() {
	for p in $reader $restored; do
		kill -9 "$p" 2>/dev/null
	done
	[ -n "$reader" ] && wait "$reader" 2>/dev/null
	sleep 0.2
	rm -rf "$T" "$D"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM
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
}

skip() {
	n=$((n + 1))
	echo "ok $n - $1 # SKIP $2"
}

# check TEST CONDITION [DIAGNOSTICS...]: CONDITION is evaluated (hence the
# single-quoted conditions, SC2016 and SC2034 off above).
check() {
	t=$1
	c=$2
	shift 2
	if eval "$c"; then
		ok "$t"
	else
		not_ok "$t" "$@"
	fi
}

# test_pagecache cmp WANT GOT into $common, $missing, $extra.
compare() {
	# shellcheck disable=SC2046 # split into words on purpose
	set -- $("$PC" cmp "$1" "$2" | tr '=' ' ')
	common=${2:-0} missing=${4:-0} extra=${6:-0}
}

drop_caches() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
}

# wait_for CONDITION TENTHS
wait_for() {
	i=0
	while [ "$i" -lt "$2" ]; do
		eval "$1" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# Field 22 of /proc/PID/stat (start time); field 3 (state) with state.
stat_field() {
	want=${2:-starttime}
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	# shellcheck disable=SC2086 # fields
	set -- ${st##*) }
	case $want in
	state)	echo "$1" ;;
	*)	echo "${20}" ;;
	esac
}

# softdirty PID: "PRESENT SOFTDIRTY" pages of its [heap] (pagemap bits 63
# and 55: the top bits of the first and third hex digit), where
# test_pagecache's read buffer is.
softdirty() {
	range=$(sed -n 's/^\([0-9a-f]*\)-\([0-9a-f]*\) .*\[heap\]$/\1 \2/p' \
		"/proc/$1/maps" 2>/dev/null | head -n 1)
	[ -n "$range" ] || { echo "0 0"; return; }
	# shellcheck disable=SC2086 # two words
	set -- "$1" $range
	first=$((0x$2 / pgsz))
	count=$((0x$3 / pgsz - first))
	dd if="/proc/$1/pagemap" bs=8 skip="$first" count="$count" 2>/dev/null |
		od -An -v -tx8 | awk '
		{ for (i = 1; i <= NF; i++) {
			hi = index("0123456789abcdef", substr($i, 1, 1)) - 1
			sd = index("0123456789abcdef", substr($i, 3, 1)) - 1
			if (hi >= 8) { p++; if (sd >= 8) s++ }
		} }
		END { printf "%d %d\n", p, s }'
}

pgsz=$(getconf PAGESIZE)
# Without CONFIG_MEM_SOFT_DIRTY pre-resume starts no tracking, writes no record.
softdirty_ok=1
"$CRIU" check --feature mem_dirty_track >/dev/null 2>&1 || softdirty_ok=0
lru=classic
if [ -r /sys/kernel/mm/lru_gen/enabled ] &&
   [ "$(cat /sys/kernel/mm/lru_gen/enabled)" != 0x0000 ]; then
	lru=multi-gen
fi
echo "# $(uname -r), $lru LRU, $("$CRIU" --version | head -n 1), files on $NUMAMIG_EXT4_DIR"

# The plugin in a plugin directory of its own; an empty one for no plugin
# (so that an installed /usr/lib/criu/numamig.so does not count).
mkdir -p "$T/lib" "$T/nolib" "$T/run"
cp "$PLUGIN" "$T/lib/numamig.so"
export NUMAMIGCTL="$NM" NUMAMIG_CRIU_ACTION_PATH="$ACTION"
export NUMAMIG_RUNDIR="$T/run" NUMAMIG_HOTCACHE_MODE=sync
unset NUMAMIG_HOTCACHE NUMAMIG_HOTCACHE_CGROUP NUMAMIG_HOTCACHE_ROOT \
	NUMAMIG_CRIU_PLUGIN NUMAMIG_CRIU_CALLER NUMAMIG_CRIU_PIDS NUMAMIG_TRACK_MEM

# A 64 MiB file: 16384 pages.  Hot: 2560 pages read 8 times; cold: 2048
# pages read once, without readahead (as in test_hotcache_guest.sh).
F=$D/data
HOT=0+1024,4096+1024,8192+512
COLD=2048+1024,12288+1024
NHOT=2560
NCOLD=2048
dd if=/dev/zero of="$F" bs=1M count=64 conv=fsync 2>/dev/null

# cycle NAME LIBDIR SCRIPT(0/1): start a reader, checkpoint, drop the
# cache, restore; the checks of every variant.
cycle() {
	name=$1
	lib=$2
	ia=
	[ "$3" = 1 ] && ia="--action-script $ACTION"
	img=$T/img.$name
	rdy=$T/ready.$name
	mkdir -p "$img"

	drop_caches
	# Its own session, stdio not on a terminal: no --shell-job.  (Not a
	# process group leader here, so setsid does not fork: $! is it.)
	setsid "$PC" read "$F" "$HOT" 8 "$COLD" 1 </dev/null >"$rdy" 2>/dev/null &
	reader=$!
	if ! wait_for 'grep -q ready "$rdy"' 600; then
		not_ok "$name: the reader is ready" "no 'ready' after 60 s"
		return
	fi
	pid=$reader

	# shellcheck disable=SC2086 # $ia: no or two words
	timeout 300 "$CRIU" dump -t "$pid" -D "$img" -v4 -o dump.log \
		--libdir "$lib" $ia >"$T/dump.out" 2>"$T/dump.err"
	rc=$?
	# CRIU gives an action script its log as stdout and stderr; the
	# plugin's script has CRIU's stderr: look at both.
	cat "$T/dump.err" >"$T/dump.all"
	grep -h 'numamig' "$img/dump.log" >>"$T/dump.all" 2>/dev/null
	sed 's/^/# dump: /' "$T/dump.all"
	wait "$reader" 2>/dev/null	# CRIU killed it: free the pid
	reader=
	if [ "$rc" != 0 ]; then
		not_ok "$name: criu dump" "rc=$rc" "$(grep -h Error "$img/dump.log" | tail -n 3)"
		return
	fi
	ok "$name: criu dump of the reader (pid $pid)"
	hc=$img/numamig-hotcache.bin
	if [ ! -s "$hc" ]; then
		not_ok "$name: the images hold numamig-hotcache.bin" "$(ls "$img")"
		return
	fi
	ndump=$(grep -c 'numamigctl: hotcache dump: [0-9]* file' "$T/dump.all")
	check "$name: the hot page cache was dumped once ($ndump)" '[ "$ndump" = 1 ]'
	hot=$("$PC" dumped "$hc" "$F")
	compare "$HOT" "$hot"
	check "$name: the dump lists the hot region ($common of $NHOT pages, $extra others)" \
		'[ "$missing" -le $((NHOT / 20)) ] && [ "$extra" -le $((NHOT / 20)) ]' \
		"common=$common missing=$missing extra=$extra"
	compare "$COLD" "$hot"
	check "$name: the dump leaves the cold region out ($common of its pages)" \
		'[ "$common" -le $((NCOLD / 20)) ]'

	drop_caches
	left=$("$PC" resident "$F")
	compare "$HOT,$COLD" "$left"
	check "$name: drop_caches emptied the file's cache" '[ "$common" -le 16 ]' \
		"still cached: $left"

	# shellcheck disable=SC2086
	timeout 300 "$CRIU" restore -d -D "$img" -v4 -o restore.log \
		--libdir "$lib" $ia >"$T/restore.out" 2>"$T/restore.err"
	rc=$?
	cat "$T/restore.err" >"$T/restore.all"
	grep -h 'numamig' "$img/restore.log" >>"$T/restore.all" 2>/dev/null
	sed 's/^/# restore: /' "$T/restore.all"
	if [ "$rc" != 0 ] || ! kill -0 "$pid" 2>/dev/null; then
		not_ok "$name: criu restore -d" "rc=$rc" \
			"$(grep -h Error "$img/restore.log" | tail -n 3)"
		return
	fi
	restored="$restored $pid"
	ok "$name: criu restore -d: pid $pid is back"
	# Sync mode: the prefetch ended before CRIU let the tree run.
	now=$("$PC" resident "$F")
	npf=$(grep -c 'numamigctl: hotcache prefetch: [0-9]* of [0-9]* file' "$T/restore.all")
	check "$name: prefetched once ($npf)" '[ "$npf" = 1 ]'
	compare "$HOT" "$now"
	check "$name: the hot region is cached again ($common of $NHOT pages)" \
		'[ "$common" -ge $((NHOT * 95 / 100)) ]' "cached: $now"
	compare "$COLD" "$now"
	check "$name: the cold region is not ($common of $NCOLD pages)" \
		'[ "$common" -le $((NCOLD / 20)) ]' "cached: $now"
	sleep 0.3
	state=$(stat_field "$pid" state)
	check "$name: the restored process runs on (state $state)" \
		'[ "$state" = S ] || [ "$state" = R ]'

	rec=$NUMAMIG_RUNDIR/restored/$pid
	real=$(cd "$img" && pwd -P)
	if [ "$softdirty_ok" = 0 ]; then
		skip "$name: restore record and soft-dirty bits" "the kernel keeps no soft-dirty bits"
	elif [ -f "$rec" ]; then
		sed 's/^/#   /' "$rec"
		ri=$(sed -n 's/^images=//p' "$rec")
		rs=$(sed -n 's/^starttime=//p' "$rec")
		rt=$(sed -n 's/^tracking=//p' "$rec")
		st=$(stat_field "$pid")
		check "$name: restore record $rec: images=, starttime=, tracking=" \
			'[ "$ri" = "$real" ] && [ "$rs" = "$st" ] && [ "$rt" = soft-dirty ] &&
			 grep -q "^pids=$pid\$" "$rec"' \
			"want images=$real starttime=$st"
	else
		not_ok "$name: restore record $rec" "$(ls "$NUMAMIG_RUNDIR" "$NUMAMIG_RUNDIR/restored" 2>&1)"
	fi

	read -r pres sd <<EOF
$(softdirty "$pid")
EOF
	if [ "$softdirty_ok" = 0 ]; then
		:
	elif [ "${pres:-0}" -gt 0 ]; then
		check "$name: after restore no heap page is soft-dirty ($sd of $pres present)" \
			'[ "$sd" = 0 ]'
		kill -USR1 "$pid"	# reads again into its heap buffer
		if wait_for '[ "$(grep -c ready "$rdy")" -ge 2 ]' 300; then
			read -r pres sd <<EOF
$(softdirty "$pid")
EOF
			check "$name: a write makes heap pages soft-dirty ($sd of $pres)" \
				'[ "${sd:-0}" -ge 1 ]'
		else
			not_ok "$name: the restored reader answers SIGUSR1"
		fi
	else
		skip "$name: soft-dirty bits after restore" "no present heap page"
	fi
	kill -9 "$pid" 2>/dev/null
	wait_for '! kill -0 "$pid" 2>/dev/null' 50
	restored=
}

cycle plugin "$T/lib" 0
cycle action-script "$T/nolib" 1
cycle both "$T/lib" 1

echo "1..$n"
[ "$failed" = 0 ]
