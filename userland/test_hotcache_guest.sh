#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# numamigctl hotcache against the real module and a real page cache, TAP
# output (the plan comes last).  Run as root in the test VM (userland/TESTS)
# with numamig loaded and NUMAMIG_EXT4_DIR naming a directory on ext4 (or
# any block file system: tmpfs and 9p have no page cache to drop); skips
# without them.
#
#  - a reader process reads some ranges of a file many times, others once;
#    hotcache dump --pid lists the first as hot, not the second
#  - --all-resident lists exactly the cached pages, --cgroup finds the
#    reader, --file dumps one file
#  - after drop_caches, hotcache prefetch makes exactly the dumped ranges
#    cached again; a second prefetch finds them cached and reads nothing
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
if ! "$NM" --version 2>/dev/null | grep -q ' hotcache'; then
	echo "1..0 # SKIP the module lacks the hotcache feature"
	exit 0
fi
if [ ! -x "$PC" ]; then
	echo "1..0 # SKIP test_pagecache not built"
	exit 0
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/numamig-hc.XXXXXX") || exit 1
D=$(mktemp -d "$NUMAMIG_EXT4_DIR/numamig-hc.XXXXXX") || exit 1
reader=
cg=
cleanup() {
	[ -n "$reader" ] && kill "$reader" 2>/dev/null
	if [ -n "$cg" ]; then
		[ -n "$reader" ] && wait "$reader" 2>/dev/null
		rmdir "$cg" 2>/dev/null
	fi
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

# The last number before WORD in the prefetch report ($T/err).
report_num() {
	sed -n "s/.* \([0-9][0-9]*\) $1.*/\1/p" "$T/err" | tail -n 1
}

lru=classic
if [ -r /sys/kernel/mm/lru_gen/enabled ] &&
   [ "$(cat /sys/kernel/mm/lru_gen/enabled)" != 0x0000 ]; then
	lru=multi-gen
fi
echo "# $(uname -r), $lru LRU, files on $NUMAMIG_EXT4_DIR"

# A 64 MiB file: 16384 pages.  Hot: 2560 pages read 8 times; cold: 2048
# pages read once.  The reader asks for no readahead, so nothing else of
# the file gets cached.
F=$D/data
HOT=0+1024,4096+1024,8192+512
COLD=2048+1024,12288+1024
NHOT=2560
dd if=/dev/zero of="$F" bs=1M count=64 conv=fsync 2>/dev/null
drop_caches
"$PC" read "$F" "$HOT" 8 "$COLD" 1 >"$T/ready" &
reader=$!
i=0
while [ $i -lt 600 ] && ! grep -q ready "$T/ready"; do
	sleep 0.1
	i=$((i + 1))
done
if ! grep -q ready "$T/ready"; then
	not_ok "the reader process is ready" "no 'ready' after 60 s"
	echo "1..$n"
	exit 1
fi
ok "the reader read the hot ranges 8 times, the cold ones once"

# ---- dump ----------------------------------------------------------------

"$NM" hotcache dump --pid "$reader" -o "$T/d" 2>"$T/err"
rc=$?
if [ "$rc" = 0 ] && grep -q "^numamigctl: hotcache dump: [0-9]* files\{0,1\}, " "$T/err"; then
	ok "hotcache dump --pid of the reader: $(sed 's/^numamigctl: hotcache dump: //' "$T/err")"
else
	not_ok "hotcache dump --pid of the reader" "rc=$rc" "$(cat "$T/err")"
fi
hot=$("$PC" dumped "$T/d" "$F")
echo "# dumped as hot: $hot"
compare "$HOT" "$hot"
if [ "$missing" -le $((NHOT / 20)) ] && [ "$extra" -le $((NHOT / 20)) ]; then
	ok "the dump lists the re-read ranges as hot ($common of $NHOT, $extra other pages)"
else
	not_ok "the dump lists the re-read ranges as hot" \
		"common=$common missing=$missing extra=$extra"
fi
compare "$COLD" "$hot"
if [ "$common" -le 20 ]; then
	ok "the dump does not list the once-read ranges ($common of their pages)"
else
	not_ok "the dump does not list the once-read ranges" "$common of their pages are listed"
fi

"$NM" hotcache dump --pid "$reader" --all-resident --sync -o "$T/all" 2>"$T/err"
rc=$?
all=$("$PC" dumped "$T/all" "$F")
compare "$("$PC" resident "$F")" "$all"
if [ "$rc" = 0 ] && [ "$missing" = 0 ] && [ "$extra" = 0 ]; then
	ok "dump --all-resident --sync lists exactly the cached pages ($common)"
else
	not_ok "dump --all-resident --sync lists exactly the cached pages" \
		"rc=$rc common=$common missing=$missing extra=$extra"
fi
compare "$HOT,$COLD" "$all"
if [ "$missing" = 0 ]; then
	ok "dump --all-resident covers the hot and the cold ranges"
else
	not_ok "dump --all-resident covers the hot and the cold ranges" "missing=$missing"
fi

"$NM" hotcache dump --file "$F" -o "$T/f" 2>"$T/err"
rc=$?
if [ "$rc" = 0 ] && [ "$("$PC" dumped "$T/f" "$F")" = "$hot" ]; then
	ok "dump --file lists the same hot ranges"
else
	not_ok "dump --file lists the same hot ranges" "rc=$rc" "$(cat "$T/err")"
fi

cg=/sys/fs/cgroup/numamig-hc.$$
if [ -w /sys/fs/cgroup/cgroup.procs ] && mkdir "$cg" 2>/dev/null &&
   echo "$reader" >"$cg/cgroup.procs"; then
	"$NM" hotcache dump --cgroup "$cg" -o "$T/cg" 2>"$T/err"
	rc=$?
	if [ "$rc" = 0 ] && [ "$("$PC" dumped "$T/cg" "$F")" = "$hot" ] &&
	   grep -q ", 1 process\($\|;\)" "$T/err"; then
		ok "dump --cgroup finds the reader's hot ranges"
	else
		not_ok "dump --cgroup finds the reader's hot ranges" "rc=$rc" "$(cat "$T/err")"
	fi
else
	cg=
	skip "dump --cgroup finds the reader's hot ranges" "cannot make a cgroup"
fi

if "$NM" hotcache show "$T/d" >"$T/out" 2>"$T/err" &&
   grep -q " $F$" "$T/out"; then
	ok "show lists the file"
else
	not_ok "show lists the file" "$(cat "$T/err")"
fi
if "$NM" hotcache diff "$T/d" "$T/all" >"$T/out" 2>"$T/err" &&
   grep -q "^~ $F: [1-9][0-9]* pages added" "$T/out"; then
	ok "diff of the hot and the all-resident dump: the cold pages are added"
else
	not_ok "diff of the hot and the all-resident dump" "$(head -5 "$T/out")"
fi

# ---- prefetch ------------------------------------------------------------

kill "$reader" 2>/dev/null
wait "$reader" 2>/dev/null
[ -n "$cg" ] && rmdir "$cg" 2>/dev/null
cg=
reader=
drop_caches
left=$("$PC" resident "$F")
if [ "$left" = - ]; then
	ok "drop_caches emptied the file's cache"
else
	not_ok "drop_caches emptied the file's cache" "still cached: $left"
fi

"$NM" hotcache prefetch "$T/d" 2>"$T/err"
rc=$?
sed 's/^/# /' "$T/err"
now=$("$PC" resident "$F")
compare "$hot" "$now"
if [ "$rc" = 0 ] && [ "$missing" = 0 ] && [ "$extra" = 0 ]; then
	ok "prefetch makes exactly the dumped ranges cached again ($common pages)"
else
	not_ok "prefetch makes exactly the dumped ranges cached again" \
		"rc=$rc common=$common missing=$missing extra=$extra" "cached: $now"
fi
nread=$(report_num read)
if [ "${nread:-0}" -ge "$common" ]; then
	ok "prefetch reports $nread pages read"
else
	not_ok "prefetch reports the pages read" "$(tail -n 1 "$T/err")"
fi

"$NM" hotcache prefetch "$T/d" 2>"$T/err"
rc=$?
sed 's/^/# /' "$T/err"
res=$(report_num "already resident")
nread=$(report_num read)
req=$(report_num "pages requested")
if [ "$rc" = 0 ] && [ "${nread:-1}" -le $((${req:-0} / 100)) ] &&
   [ "${res:-0}" -ge $((${req:-0} * 99 / 100)) ]; then
	ok "a second prefetch finds the pages cached ($res of $req), reads $nread"
else
	not_ok "a second prefetch finds the pages cached, reads nothing" \
		"$(tail -n 1 "$T/err")"
fi

# The same with the other read methods and one job, from the --file dump.
for m in fadvise pread; do
	drop_caches
	NUMAMIGCTL_PREFETCH_METHOD=$m "$NM" hotcache prefetch "$T/f" --jobs 1 2>"$T/err"
	rc=$?
	compare "$hot" "$("$PC" resident "$F")"
	if [ "$rc" = 0 ] && [ "$missing" = 0 ] && [ "$extra" = 0 ]; then
		ok "prefetch with $m, one job: exactly the dumped ranges"
	else
		not_ok "prefetch with $m, one job: exactly the dumped ranges" \
			"rc=$rc common=$common missing=$missing extra=$extra"
	fi
done

echo "1..$n"
[ "$failed" = 0 ]
