#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# guest-check.sh - load numamig and run its tests; as root, in the test VM
# (or on a disposable NUMA machine).
#
# Loads module/numamig.ko, mounts the ext4 disk named by NUMAMIG_EXT4_DEV
# (if any) for the page-cache tests, runs every program named in
# selftests/TESTS and userland/TESTS (one name per line) with a timeout
# each, unloads the module and looks for Oops/BUG/WARNING in the kernel log.
# Each program's output is kept in $NUMAMIG_CHECK_OUT (default: check/ in
# the VM's output directory).
#
# Counting: every TAP "ok" line is a pass (a "# SKIP" one too, and it is
# listed), every "not ok" a failure. A program that prints no TAP counts as
# one test: exit 0 passes, 4 (KSFT_SKIP) skips, anything else fails. A
# program that times out or dies after its TAP lines adds one failure.
# The last line is "N passed, N failed"; the exit status is 1 if any failed.

set -u

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
out=${NUMAMIG_CHECK_OUT:-${NUMAMIG_VM_OUTDIR:-/tmp}/check}
test_timeout=${TEST_TIMEOUT:-300}
ko=$repo/module/numamig.ko

# shellcheck source=selftests/vm/lib.sh
. "$repo/selftests/vm/lib.sh"

passed=0
failed=0
failures=()
skips=()

fail() {
	failed=$((failed + 1))
	failures+=("$*")
	echo "not ok - $*"
}

# The programs named in DIR/TESTS, without blank lines and # comments.
list_tests() {
	sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$1/TESTS"
}

# Run DIR/NAME with the timeout, its output to the console and to a file,
# and count its results.
run_test() {
	local dir=$1 name=$2 log rc oks nots

	log=$out/${dir##*/}-$name.log
	echo
	echo "# ---- ${dir#"$repo"/}/$name"
	if [ ! -x "$dir/$name" ]; then
		fail "${dir##*/}/$name: not built"
		return
	fi

	(cd "$dir" && TMPDIR=/tmp timeout -k 10 "$test_timeout" "./$name" </dev/null) 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}

	oks=$(grep -cE '^ok ' "$log")
	nots=$(grep -cE '^not ok ' "$log")
	passed=$((passed + oks))
	failed=$((failed + nots))
	while IFS= read -r line; do
		[ -z "$line" ] || skips+=("${dir##*/}/$name: $line")
	done <<<"$(grep -E '^ok .*#[[:space:]]*SKIP' "$log")"
	while IFS= read -r line; do
		[ -z "$line" ] || failures+=("${dir##*/}/$name: $line")
	done <<<"$(grep -E '^not ok ' "$log")"

	case $rc in
	0)	[ $((oks + nots)) -gt 0 ] || passed=$((passed + 1)) ;;
	4)	if [ $((oks + nots)) = 0 ]; then
			passed=$((passed + 1))
			skips+=("${dir##*/}/$name: skipped (exit status 4)")
		fi ;;
	124|137)
		fail "${dir##*/}/$name: timed out after ${test_timeout}s" ;;
	*)	# A failing harness already said "not ok"; a crash did not.
		[ "$nots" -gt 0 ] || fail "${dir##*/}/$name: exit status $rc" ;;
	esac
}

run_list() {
	local dir=$repo/$1 names name

	if [ ! -f "$dir/TESTS" ]; then
		echo "# $1/TESTS does not exist yet: no $1 tests to run"
		return
	fi
	names=$(list_tests "$dir") || { fail "cannot read $1/TESTS"; return; }
	for name in $names; do
		run_test "$dir" "$name"
	done
}

mkdir -p "$out" || exit 1
rm -f "$out"/*.log "$out"/summary
# NUMAMIG_KO: for the tests that unload and reload the module.
export NUMAMIG_CHECK_OUT=$out NUMAMIG_KO=$ko

echo "# numamig check on $(uname -r), $(nproc) CPUs, nodes: $(cat /sys/devices/system/node/online)"
echo "numamig-check: start" >/dev/kmsg

# -- load ------------------------------------------------------------------
loaded=0
if [ -d /sys/module/numamig ]; then
	echo "# numamig was loaded already; reloading it"
	rmmod numamig || fail "rmmod of the numamig loaded before"
fi
if [ ! -f "$ko" ]; then
	fail "insmod: $ko is not built (make -C module)"
elif ! insmod "$ko"; then
	fail "insmod $ko"
	echo "# kernel log:"
	dmesg | tail -n 30 | sed 's/^/#   /'
else
	loaded=1
	echo "# loaded $ko"
	# udev does not run in the VM: devtmpfs makes the node.
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		[ -e /dev/numamig ] && break
		sleep 0.2
	done
	[ -c /dev/numamig ] || fail "/dev/numamig missing after insmod"
fi

# -- a block file system for the page-cache tests --------------------------
# check.sh attaches an ext4 disk and names it in NUMAMIG_EXT4_DEV; the tests
# that need a real page cache (tmpfs and 9p have none) use the directory in
# NUMAMIG_EXT4_DIR and skip without one. (On a real machine set
# NUMAMIG_EXT4_DIR to any ext4/xfs directory instead.)
ext4_mnt=
if [ -n "${NUMAMIG_EXT4_DEV:-}" ] && [ -z "${NUMAMIG_EXT4_DIR:-}" ]; then
	if modprobe -a virtio_blk ext4; then
		for _ in $(seq 25); do
			[ -b "$NUMAMIG_EXT4_DEV" ] && break
			sleep 0.2
		done
	fi
	# /tmp is a tmpfs in the VM: a mount point inside it is fine.
	if mkdir -p /tmp/numamig-ext4 &&
	   mount -t ext4 "$NUMAMIG_EXT4_DEV" /tmp/numamig-ext4; then
		ext4_mnt=/tmp/numamig-ext4
		export NUMAMIG_EXT4_DIR=$ext4_mnt
		echo "# ext4 on $NUMAMIG_EXT4_DEV at $NUMAMIG_EXT4_DIR for the page-cache tests"
	else
		fail "mount ext4 $NUMAMIG_EXT4_DEV (page-cache tests will skip)"
	fi
fi

# -- tests -----------------------------------------------------------------
if [ "$loaded" = 1 ]; then
	run_list selftests
else
	echo "# numamig is not loaded: selftests not run"
fi
run_list userland

# -- unload and the kernel log ---------------------------------------------
echo
if [ -n "$ext4_mnt" ]; then
	umount "$ext4_mnt" || fail "umount $ext4_mnt"
fi
if [ "$loaded" = 1 ]; then
	if rmmod numamig; then
		echo "# unloaded numamig"
	else
		fail "rmmod numamig"
		lsmod | grep -E '^numamig ' | sed 's/^/#   /'
	fi
fi

dmesg | sed -n '/numamig-check: start/,$p' >"$out/dmesg.log"
kernel_problems=0
if problems=$(klog_problems <"$out/dmesg.log"); then
	kernel_problems=1
	fail "kernel log shows Oops/BUG/WARNING"
	printf '%s\n' "$problems" | sed 's/^/#   /'
fi

# -- summary ---------------------------------------------------------------
echo
echo "# ==== summary"
for s in "${skips[@]}"; do
	echo "# skipped: $s"
done
for f in "${failures[@]}"; do
	echo "# failed:  $f"
done
printf 'passed=%d\nfailed=%d\nkernel_problems=%d\n' "$passed" "$failed" "$kernel_problems" >"$out/summary"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
