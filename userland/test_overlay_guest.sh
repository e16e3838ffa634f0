#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The hot page cache of files reached through overlayfs and bind mounts
# (every container's root file system), TAP output (the plan comes last).
# Run as root in the test VM (userland/TESTS) with numamig loaded and
# NUMAMIG_EXT4_DIR naming a directory on ext4; skips without them.
#
# An overlay with its lower, upper and work dirs on ext4, mounted on a
# tmpfs directory; in each LRU mode the kernel offers (classic, multi-gen):
#  - a process read()s a hot and a cold set of a file through the overlay:
#    the dump lists the file under its overlay path with the hot set (the
#    cache is on the lower inode; the overlay inode has none)
#  - a file only mapped through the overlay, and one both open and mapped,
#    are listed once each, with every cached page (--all-resident)
#  - the same through a bind mount of the overlay: the bind mount's path
#  - the first file is copied up while cached and its hot set read again:
#    the dump follows it to the upper inode
#  - dump -> drop caches -> prefetch through the overlay: the hot pages are
#    cached again, the cold ones are not
#
# Environment: NUMAMIG_EXT4_DIR, NUMAMIGCTL (the binary).

here=$(cd "$(dirname "$0")" && pwd)
NM=${NUMAMIGCTL:-$here/numamigctl}
PC=$here/test_pagecache

if [ -z "${NUMAMIG_EXT4_DIR:-}" ] || [ ! -d "$NUMAMIG_EXT4_DIR" ]; then
	echo "1..0 # SKIP NUMAMIG_EXT4_DIR is not set (a directory on ext4)"
	exit 0
fi
if [ ! -w /dev/numamig ] || [ -n "${NUMAMIGCTL_DEVICE:-}" ]; then
	echo "1..0 # SKIP no writable /dev/numamig"
	exit 0
fi
if [ ! -w /proc/sys/vm/drop_caches ]; then
	echo "1..0 # SKIP cannot drop caches (not root?)"
	exit 0
fi
if [ ! -x "$PC" ] || ! command -v jq >/dev/null; then
	echo "1..0 # SKIP test_pagecache not built or jq missing"
	exit 0
fi
modprobe overlay 2>/dev/null
if ! grep -qw overlay /proc/filesystems; then
	echo "1..0 # SKIP no overlayfs in this kernel"
	exit 0
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/numamig-ovl.XXXXXX") || exit 1
D=$(mktemp -d "$NUMAMIG_EXT4_DIR/numamig-ovl.XXXXXX") || exit 1
LRU_GEN=/sys/kernel/mm/lru_gen/enabled
lru_saved=
[ -r "$LRU_GEN" ] && lru_saved=$(cat "$LRU_GEN")
readers=
mounts=
stop_readers() {
	for p in $readers; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	readers=
}
unmount_all() {
	for m in $mounts; do
		umount "$m" 2>/dev/null
	done
	mounts=
}
cleanup() {
	stop_readers
	unmount_all
	[ -n "$lru_saved" ] && echo "$lru_saved" >"$LRU_GEN" 2>/dev/null
	rm -rf "$T" "$D"
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
}

skip() {
	n=$((n + 1))
	echo "ok $n - $1 # SKIP $2"
}

# test_pagecache cmp WANT GOT into $common, $missing, $extra.
compare() {
	# shellcheck disable=SC2046 # split into words on purpose
	set -- $("$PC" cmp "$1" "$2" | tr '=' ' ')
	common=$2 missing=$4 extra=$6
}

drop_caches() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
}

# Start a test_pagecache reader: $1 its ready file, the rest its arguments.
# Sets $pid; waits for its "ready" line.
start_reader() {
	out=$1
	shift
	"$PC" "$@" >"$out" &
	pid=$!
	readers="$readers $pid"
	wait_ready "$out" 1
}

# Wait until FILE holds COUNT "ready" lines (60 s at most).
wait_ready() {
	i=0
	while [ $i -lt 600 ] && [ "$(grep -c ready "$1")" -lt "$2" ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ "$(grep -c ready "$1")" -ge "$2" ]
}

# The dump's records for PATH: "count open mapped".
records() {
	"$NM" hotcache show --json "$1" |
		jq -r --arg p "$2" '[.files[] | select(.path == $p)] |
			"\(length) \(.[0].open // false) \(.[0].mapped // false)"'
}

# 16 MiB files: 4096 pages.  Hot: 640 pages read 8 times; cold: 512 once.
HOT=0+256,1024+256,2048+128
COLD=512+256,3072+256
NHOT=640
MAPPED=100+300,2000+50

# One round of every case, in the LRU mode named $1.
round() {
	mode=$1
	R=$D/$mode
	M=$T/merged-$mode
	B=$T/bind-$mode
	mkdir -p "$R/lower" "$R/upper" "$R/work" "$M" "$B"
	for f in read map both bind; do
		dd if=/dev/urandom of="$R/lower/$f" bs=1M count=16 2>/dev/null
	done
	sync
	if ! mount -t overlay overlay \
	     -o "lowerdir=$R/lower,upperdir=$R/upper,workdir=$R/work" "$M"; then
		not_ok "$mode: mount an overlay on ext4"
		return
	fi
	mounts="$B $M"
	mount --bind "$M" "$B" || not_ok "$mode: bind mount of the overlay"
	drop_caches

	start_reader "$T/r1" read "$M/read" "$HOT" 8 "$COLD" 1 || {
		not_ok "$mode: the reader is ready"
		return
	}
	r1=$pid
	start_reader "$T/r2" map "$M/map" "$MAPPED" || not_ok "$mode: the mapper is ready"
	r2=$pid
	start_reader "$T/r3" map "$M/both" "$MAPPED" keepfd || not_ok "$mode: the mapper with an fd is ready"
	r3=$pid
	start_reader "$T/r4" read "$B/bind" "$HOT" 8 "$COLD" 1 || not_ok "$mode: the bind-mount reader is ready"
	r4=$pid

	# -- read() through the overlay -------------------------------------
	if "$NM" hotcache dump --pid "$r1" -o "$T/d1" 2>"$T/err"; then
		hot=$("$PC" dumped "$T/d1" "$M/read")
		compare "$HOT" "$hot"
		if [ "$missing" -le $((NHOT / 20)) ] && [ "$extra" -le $((NHOT / 20)) ]; then
			ok "$mode: read() through the overlay: the dump lists the hot set under the overlay path ($common of $NHOT, $extra other)"
		else
			not_ok "$mode: read() through the overlay: the dump lists the hot set" \
				"common=$common missing=$missing extra=$extra" "dumped: $hot"
		fi
		compare "$COLD" "$hot"
		if [ "$common" -le 20 ]; then
			ok "$mode: ... and not the cold set ($common of its pages)"
		else
			not_ok "$mode: ... and not the cold set" "$common of its pages listed"
		fi
		set -- $(records "$T/d1" "$M/read")
		if [ "$1" = 1 ] && ! "$NM" hotcache show "$T/d1" | grep -q "$R/lower"; then
			ok "$mode: one record for the file, no layer path in the dump"
		else
			not_ok "$mode: one record for the file, no layer path" \
				"records: $*" "$("$NM" hotcache show "$T/d1" | head -5)"
		fi
	else
		not_ok "$mode: hotcache dump of the overlay reader" "$(cat "$T/err")"
	fi

	# -- mmap through the overlay ---------------------------------------
	"$NM" hotcache dump --pid "$r2" --all-resident -o "$T/d2" 2>"$T/err"
	rc=$?
	compare "$("$PC" resident "$M/map")" "$("$PC" dumped "$T/d2" "$M/map")"
	set -- $(records "$T/d2" "$M/map")
	if [ "$rc" = 0 ] && [ "$missing" = 0 ] && [ "$extra" = 0 ] &&
	   [ "$common" -ge 350 ] && [ "$1 $3" = "1 true" ]; then
		ok "$mode: a file only mapped through the overlay: listed once, mapped, every cached page ($common)"
	else
		not_ok "$mode: a file only mapped through the overlay" \
			"rc=$rc common=$common missing=$missing extra=$extra records: $*" "$(cat "$T/err")"
	fi
	"$NM" hotcache dump --pid "$r3" --all-resident -o "$T/d3" 2>"$T/err"
	rc=$?
	set -- $(records "$T/d3" "$M/both")
	if [ "$rc" = 0 ] && [ "$*" = "1 true true" ]; then
		ok "$mode: a file both open and mapped through the overlay is one record, open and mapped"
	else
		not_ok "$mode: a file both open and mapped is one record" \
			"rc=$rc records: $*" "$("$NM" hotcache show "$T/d3" 2>&1 | head -8)"
	fi

	# -- a bind mount of the overlay ------------------------------------
	"$NM" hotcache dump --pid "$r4" -o "$T/d4" 2>"$T/err"
	compare "$HOT" "$("$PC" dumped "$T/d4" "$B/bind")"
	if [ "$missing" -le $((NHOT / 20)) ] && [ "$extra" -le $((NHOT / 20)) ]; then
		ok "$mode: through a bind mount: the hot set under the bind mount's path"
	else
		not_ok "$mode: through a bind mount: the hot set under the bind path" \
			"common=$common missing=$missing extra=$extra"
	fi

	# -- copy-up while cached -------------------------------------------
	touch "$M/read"		# copies the file up (metacopy is off)
	if [ -f "$R/upper/read" ]; then
		kill -USR1 "$r1"
		if wait_ready "$T/r1" 2; then
			"$NM" hotcache dump --pid "$r1" -o "$T/d1" 2>"$T/err"
			hot=$("$PC" dumped "$T/d1" "$M/read")
			compare "$HOT" "$hot"
			if [ "$missing" -le $((NHOT / 20)) ] && [ "$extra" -le $((NHOT / 20)) ]; then
				ok "$mode: after copy-up the dump follows the upper inode ($common of $NHOT hot, $extra other)"
			else
				not_ok "$mode: after copy-up the dump follows the upper inode" \
					"common=$common missing=$missing extra=$extra"
			fi
		else
			not_ok "$mode: the reader read the hot set again after copy-up"
		fi
	else
		not_ok "$mode: touch through the overlay copies the file up"
	fi

	# -- drop caches, prefetch through the overlay ----------------------
	stop_readers
	drop_caches
	for f in read map bind; do
		p=$M/$f
		[ $f = bind ] && p=$B/bind
		[ "$("$PC" resident "$p")" = - ] ||
			not_ok "$mode: drop_caches emptied $f" "$("$PC" resident "$p")"
	done
	for d in d1 d2 d4; do
		"$NM" hotcache prefetch "$T/$d" 2>"$T/err" ||
			not_ok "$mode: prefetch $d" "$(cat "$T/err")"
	done
	compare "$("$PC" dumped "$T/d1" "$M/read")" "$("$PC" resident "$M/read")"
	m1=$missing e1=$extra
	compare "$HOT" "$("$PC" resident "$M/read")"
	h1=$common
	compare "$COLD" "$("$PC" resident "$M/read")"
	if [ "$m1" = 0 ] && [ "$e1" = 0 ] && [ "$h1" -ge $((NHOT * 95 / 100)) ] &&
	   [ "$common" -le 20 ]; then
		ok "$mode: prefetch through the overlay caches the hot set of the copied-up file again, not the cold one"
	else
		not_ok "$mode: prefetch through the overlay: hot set cached, cold not" \
			"vs the dump: missing=$m1 extra=$e1; hot cached=$h1 of $NHOT, cold cached=$common"
	fi
	compare "$("$PC" dumped "$T/d2" "$M/map")" "$("$PC" resident "$M/map")"
	if [ "$missing" = 0 ] && [ "$extra" = 0 ]; then
		ok "$mode: prefetch of the mapped file caches exactly its dumped pages ($common)"
	else
		not_ok "$mode: prefetch of the mapped file" "common=$common missing=$missing extra=$extra"
	fi
	compare "$("$PC" dumped "$T/d4" "$B/bind")" "$("$PC" resident "$B/bind")"
	m4=$missing e4=$extra
	compare "$HOT" "$("$PC" resident "$B/bind")"
	if [ "$m4" = 0 ] && [ "$e4" = 0 ] && [ "$common" -ge $((NHOT * 95 / 100)) ]; then
		ok "$mode: prefetch through the bind mount caches exactly the dumped pages ($common)"
	else
		not_ok "$mode: prefetch through the bind mount" "vs the dump: missing=$m4 extra=$e4; hot cached=$common of $NHOT"
	fi
	unmount_all
}

echo "# $(uname -r), overlay on $NUMAMIG_EXT4_DIR"
if [ -w "$LRU_GEN" ]; then
	for mode in classic multi-gen; do
		v=n
		[ $mode = multi-gen ] && v=y
		if echo $v >"$LRU_GEN"; then
			round $mode
		else
			not_ok "switch to the $mode LRU"
		fi
	done
else
	skip "both LRU modes" "$LRU_GEN is not writable: one round in the current mode"
	round current
fi

echo "1..$n"
[ "$failed" = 0 ]
