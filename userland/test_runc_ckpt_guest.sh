#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A runc container whose root file system is an overlay carries its hot
# page cache through a plain `runc checkpoint` / `runc restore`, across two
# boots of the guest (a real other kernel: nothing cached), TAP output.
#
#   test_runc_ckpt_guest.sh source        boot 1: build the overlay and the
#                                         bundle on the disk, run the
#                                         container, checkpoint it
#   test_runc_ckpt_guest.sh destination   boot 2: restore it from the disk
#
# selftests/vm/check.sh runs the two boots with --switch-root (CRIU cannot
# checkpoint a container from inside a chroot) and the same disk in
# NUMAMIG_CKPT_DEV.  numamig is put in place exactly as a user would:
# `make -C userland install` (on tmpfs over /usr/local and /usr/lib/criu,
# as the shared root is read-only), nothing else: no runc or CRIU option,
# no configuration file.
#
# The container reads a hot set of a 32 MiB file 8 times and a cold set
# once, then only writes a heartbeat.  After the restore the hot set must
# be cached again (>= 95%), the cold set not (<= 5%), the container must
# run on, and the restored tree must be tracked for an incremental next
# checkpoint (the restore record, soft-dirty bits clear).

repo=$(cd "$(dirname "$0")/.." && pwd -P)
stage=${1:-}
PC=$repo/userland/test_pagecache
ID=nmckpt
CK=/tmp/numamig-ckpt
B=$CK/bundle
IMG=$CK/images
HOT=0+1024,4096+512
COLD=2048+1024,6144+512
NHOT=1536
NCOLD=1536
n=0
failed=0

ok() {
	n=$((n + 1))
	echo "ok $n - $stage: $1"
}

not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $stage: $1"
	shift
	for line in "$@"; do
		echo "#   $line"
	done
}

finish() {
	echo "1..$n"
	[ "$failed" = 0 ]
	exit
}

bail() {
	not_ok "$@"
	finish
}

case $stage in
source|destination) ;;
*)	echo "usage: ${0##*/} source|destination" >&2; exit 2 ;;
esac
if [ -z "${NUMAMIG_CKPT_DEV:-}" ] || ! command -v criu >/dev/null ||
   ! command -v runc >/dev/null || [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP needs root, criu, runc and NUMAMIG_CKPT_DEV (a disk)"
	exit 4
fi

# test_pagecache cmp WANT GOT into $common, $missing, $extra.
compare() {
	# shellcheck disable=SC2046 # split into words on purpose
	set -- $("$PC" cmp "$1" "$2" | tr '=' ' ')
	common=$2 missing=$4 extra=$6
}

# Wait up to $2 tenths of a second for the command in $1 to succeed.
wait_for() {
	local i=0
	while [ $i -lt "$2" ]; do
		eval "$1" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# -- the machine ------------------------------------------------------------
# What CRIU needs in this guest (FACTS.md): loopback, nftables and the
# socket-diag modules, the xtables bits of runc's network lock.
ip link set lo up
modprobe -a overlay virtio_blk ext4 nf_tables unix_diag inet_diag tcp_diag \
	udp_diag raw_diag netlink_diag packet_diag nft_compat x_tables xt_mark \
	tun 2>/dev/null
insmod "$repo/module/numamig.ko" 2>/dev/null
wait_for '[ -c /dev/numamig ]' 50 || bail "numamig is loaded"

# The user's installation, on tmpfs over the read-only shared root.
mount -t tmpfs -o mode=0755 tmpfs /usr/local &&
	mount -t tmpfs -o mode=0755 tmpfs /usr/lib/criu ||
	bail "tmpfs over /usr/local and /usr/lib/criu"
if make -s -C "$repo/userland" install >/tmp/install.log 2>&1 &&
   [ -f /usr/lib/criu/numamig.so ]; then
	ok "make -C userland install puts the CRIU plugin in /usr/lib/criu"
else
	bail "make -C userland install puts the CRIU plugin in /usr/lib/criu" \
		"$(tail -n 3 /tmp/install.log)" "$(ls /usr/lib/criu)"
fi

mkdir -p $CK
wait_for "[ -b $NUMAMIG_CKPT_DEV ]" 50
mount -t ext4 "$NUMAMIG_CKPT_DEV" $CK || bail "mount the disk"
mount_overlay() {
	mount -t overlay overlay \
		-o lowerdir=$CK/lower,upperdir=$CK/upper,workdir=$CK/work \
		$B/rootfs
}

# Container stdio must be pipes (CRIU cannot look up a mount for a file
# outside the container): sleep feeds stdin, cat drains the output.
runc_bg() {
	(sleep 100000 | runc "$@" 2>&1 | cat >>$CK/runc.log) &
}

if [ $stage = source ]; then
	# -- boot 1: the container, its hot set, the checkpoint -------------
	rm -rf "${CK:?}"/{lower,upper,work,bundle,images,runc.log}
	mkdir -p $CK/lower $CK/upper $CK/work $B/rootfs
	mkdir -p $CK/lower/{proc,dev,sys,tmp}
	cat >/tmp/reader.c <<'EOF'
/* Read a hot set 8 times and a cold set once, then beat forever. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
static char buf[1 << 16];
static void spans(int fd, const long (*s)[2], int n, int times)
{
	for (int t = 0; t < times; t++)
		for (int i = 0; i < n; i++)
			for (long p = s[i][0]; p < s[i][0] + s[i][1]; p += 16)
				if (pread(fd, buf, 16 * 4096, p * 4096) <= 0)
					exit(1);
}
int main(void)
{
	static const long hot[][2] = { { 0, 1024 }, { 4096, 512 } };
	static const long cold[][2] = { { 2048, 1024 }, { 6144, 512 } };
	int fd = open("/data", O_RDONLY);
	char line[32];
	long beat = 0;

	if (fd < 0)
		return 1;
	posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);
	spans(fd, hot, 2, 8);
	spans(fd, cold, 2, 1);
	close(open("/ready", O_WRONLY | O_CREAT, 0644));
	for (;;) {
		int b = open("/beat", O_WRONLY | O_CREAT | O_TRUNC, 0644);

		int len = snprintf(line, sizeof(line), "%ld\n", ++beat);

		if (b >= 0 && write(b, line, len) < 0)
			return 1;
		close(b);
		usleep(200000);
	}
}
EOF
	gcc -O2 -static -o $CK/lower/reader /tmp/reader.c || bail "build the reader"
	dd if=/dev/urandom of=$CK/lower/data bs=1M count=32 2>/dev/null
	sync
	(cd $B && runc spec) || bail "runc spec"
	jq '.process.terminal = false | .process.args = ["/reader"] |
		.root.readonly = false' $B/config.json >$B/c2 && mv $B/c2 $B/config.json
	mount_overlay || bail "mount the overlay root file system"
	echo 3 >/proc/sys/vm/drop_caches
	runc_bg run -d --bundle $B $ID
	if wait_for "[ -f $B/rootfs/ready ]" 600; then
		ok "a runc container with an overlay root read its hot and cold sets"
	else
		bail "the container starts and reads" "$(tail -n 5 $CK/runc.log)"
	fi
	compare "$HOT,$COLD" "$("$PC" resident $B/rootfs/data)"
	echo "# cached before the checkpoint: $common of $((NHOT + NCOLD)) read pages, $extra others"

	if runc checkpoint --image-path $IMG $ID >>$CK/runc.log 2>&1; then
		ok "plain runc checkpoint"
	else
		bail "plain runc checkpoint" "$(tail -n 5 $CK/runc.log)"
	fi
	d=$IMG/numamig-hotcache.bin
	if [ -f $d ]; then
		ok "the images hold numamig-hotcache.bin"
	else
		bail "the images hold numamig-hotcache.bin" "$(ls $IMG | head -30 | tr '\n' ' ')"
	fi
	hot=$("$PC" dumped $d /data)
	compare "$HOT" "$hot"
	if [ "$missing" -le $((NHOT / 20)) ] && [ "$extra" -le $((NHOT / 20)) ]; then
		ok "the dump lists /data (the path inside the container) with the hot set ($common of $NHOT, $extra other)"
	else
		not_ok "the dump lists /data with the hot set" \
			"common=$common missing=$missing extra=$extra" \
			"$("$repo/userland/numamigctl" hotcache show $d 2>&1 | head -5)"
	fi
	if ! runc state $ID >/dev/null 2>&1; then
		ok "the container is gone from the source"
	else
		not_ok "the container is gone from the source" "$(runc state $ID)"
	fi
	umount $B/rootfs
	sync
	finish
fi

# -- boot 2: restore on a kernel that never cached the file ----------------
[ -d $IMG ] || bail "the images from boot 1 are on the disk"
mount_overlay || bail "mount the overlay root file system"
left=$("$PC" resident $B/rootfs/data)
compare "$HOT,$COLD" "$left"
if [ "$common" = 0 ]; then
	ok "nothing of the file is cached on the fresh kernel"
else
	not_ok "nothing of the file is cached on the fresh kernel" "cached: $left"
fi
beat0=$(head -n 1 $B/rootfs/beat 2>/dev/null | tr -cd 0-9)
runc_bg restore -d --image-path $IMG --bundle $B $ID
if wait_for "runc state $ID 2>/dev/null | grep -q '\"status\": \"running\"'" 600; then
	ok "plain runc restore"
else
	bail "plain runc restore" "$(tail -n 8 $CK/runc.log)"
fi
pid=$(runc state $ID | jq -r .pid)

# The prefetch runs in the background (the default): its report's last line
# says when it has finished.
if wait_for 'tail -qn 1 /run/numamig/prefetch.*.log 2>/dev/null | grep -q "exit status"' 600 &&
   grep -q 'hotcache prefetch: ' /run/numamig/prefetch.*.log; then
	ok "the background prefetch finished: $(grep -h 'prefetch' /run/numamig/prefetch.*.log | tail -n 1)"
else
	not_ok "the background prefetch finished" "$(cat /run/numamig/prefetch.*.log 2>&1 | tail -n 3)"
fi
now=$("$PC" resident $B/rootfs/data)
compare "$HOT" "$now"
if [ "$common" -ge $((NHOT * 95 / 100)) ]; then
	ok "the hot set is cached again ($common of $NHOT pages)"
else
	not_ok "the hot set is cached again" "$common of $NHOT pages; cached: $now"
fi
compare "$COLD" "$now"
if [ "$common" -le $((NCOLD / 20)) ]; then
	ok "the cold set is not ($common of $NCOLD pages)"
else
	not_ok "the cold set is not cached" "$common of $NCOLD pages"
fi
sleep 1
beat1=$(head -n 1 $B/rootfs/beat 2>/dev/null | tr -cd 0-9)
if [ -n "$beat1" ] && [ "${beat1:-0}" -gt "${beat0:-0}" ] &&
   [ "$(runc state $ID | jq -r .status)" = running ]; then
	ok "the container runs on (heartbeat $beat0 -> $beat1)"
else
	not_ok "the container runs on" "heartbeat '$beat0' -> '$beat1'"
fi

# Ready for an incremental next checkpoint: the record names the images.
rec=/run/numamig/restored/$pid
if [ -f "$rec" ] && grep -qx "images=$IMG" "$rec"; then
	ok "the restore record names the images the memory equals"
else
	not_ok "the restore record names the images" "$(ls /run/numamig/restored 2>&1) $(cat "$rec" 2>&1)"
fi

# The next checkpoint is incremental (runc checkpoint --parent-path).
CKPT=$repo/userland/numamig-checkpoint
"$CKPT" --runc $ID -D $CK/images2 --json >/tmp/ck.json 2>/tmp/ck.err
rc=$?
mode=$(jq -r .mode /tmp/ck.json 2>/dev/null)
skipped=$(jq -r .pages_skipped_parent /tmp/ck.json 2>/dev/null)
written=$(jq -r .pages_written /tmp/ck.json 2>/dev/null)
if [ "$rc" = 0 ] && [ "$mode" = incremental ] && [ "${skipped:-0}" -gt 0 ] &&
   [ -L $CK/images2/parent ]; then
	ok "numamig-checkpoint --runc after the restore is incremental ($written pages written, $skipped in parent)"
else
	not_ok "numamig-checkpoint --runc after the restore is incremental" "rc=$rc" \
		"$(cat /tmp/ck.json 2>/dev/null)" "$(tail -n 3 /tmp/ck.err)"
fi
wait_for "! runc state $ID >/dev/null 2>&1" 100
beat2=$(head -n 1 $B/rootfs/beat 2>/dev/null | tr -cd 0-9)

# Restore from the chain: the written pages from images2, the rest from the
# first images through images2/parent.  The heartbeat counter lives in the
# container's memory: it goes on from where the second checkpoint left it.
runc_bg restore -d --image-path $CK/images2 --bundle $B $ID
if wait_for "runc state $ID 2>/dev/null | grep -q '\"status\": \"running\"'" 600; then
	ok "runc restore from the incremental chain"
else
	bail "runc restore from the incremental chain" "$(tail -n 8 $CK/runc.log)"
fi
if wait_for "[ \"\$(head -n 1 $B/rootfs/beat 2>/dev/null | tr -cd 0-9)\" -gt $((beat2 + 2)) ]" 100; then
	ok "the container restored from the chain runs on from its heartbeat ($beat2 -> $(head -n 1 $B/rootfs/beat))"
else
	not_ok "the container restored from the chain runs on from its heartbeat" \
		"at the checkpoint $beat2, now '$(head -n 1 $B/rootfs/beat 2>/dev/null)'"
fi
pid=$(runc state $ID | jq -r .pid)
if grep -qx "images=$CK/images2" "/run/numamig/restored/$pid" 2>/dev/null; then
	ok "the restore record names the chain's newest images"
else
	not_ok "the restore record names the chain's newest images" "$(cat "/run/numamig/restored/$pid" 2>&1)"
fi

runc kill $ID KILL 2>/dev/null
wait_for "! runc state $ID 2>/dev/null | grep -q running" 50
runc delete -f $ID 2>/dev/null
umount $B/rootfs
finish
