#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# check.sh - boot the test VM, run guest-check.sh in it, and give the verdict
# of both: the last line is "N passed, N failed" with a guest that did not
# finish, or whose kernel logged an Oops/BUG/WARNING, counted as one more
# failure. Exit status 1 when anything failed. Used by "make check".
#
# Environment: NODES (default 2), VM_TIMEOUT (seconds, default 540),
# TEST_TIMEOUT (seconds per test program, default 300), DISK_MB (size of
# the guest's ext4 disk, default 512), BUILD_DIR, KVER.

set -u

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
build=${BUILD_DIR:-$repo/build}
outdir=$build/vm-out
check=$outdir/check

# shellcheck source=selftests/vm/lib.sh
. "$repo/selftests/vm/lib.sh"

cd "$repo" || exit 1
mkdir -p "$check"
vm_lock "$outdir"
rm -f "$check/summary"

passed=0
failed=0

# A fresh ext4 disk for the page-cache tests (tmpfs and 9p have no
# reclaimable page cache), kept until the next run for a look after a
# failure; guest-check.sh mounts NUMAMIG_EXT4_DEV. 4 KiB
# blocks: the 1 KiB blocks mkfs picks for small disks cap files at 16 GiB.
disk=$build/vm-ext4.img
disk_args=()
rm -f "$disk"
if truncate -s "${DISK_MB:-512}M" "$disk" &&
   PATH=$PATH:/usr/sbin:/sbin mkfs.ext4 -q -F -b 4096 \
	-E lazy_itable_init=0,lazy_journal_init=0 "$disk"; then
	disk_args=(--disk "$disk" --env NUMAMIG_EXT4_DEV=/dev/vda)
else
	echo "not ok - cannot create the ext4 disk $disk (page-cache tests will skip)"
	failed=$((failed + 1))
fi

selftests/vm/run-vm.sh --nodes "${NODES:-2}" --timeout "${VM_TIMEOUT:-540}" \
	--outdir "$outdir" --env "TEST_TIMEOUT=${TEST_TIMEOUT:-300}" \
	"${disk_args[@]}" -- selftests/vm/guest-check.sh
vm_rc=$?

guest_saw_problems=0
if [ -f "$check/summary" ]; then
	passed=$(sed -n 's/^passed=//p' "$check/summary")
	guest_failed=$(sed -n 's/^failed=//p' "$check/summary")
	failed=$((failed + ${guest_failed:-1}))
	guest_saw_problems=$(sed -n 's/^kernel_problems=//p' "$check/summary")
else
	echo "not ok - guest-check.sh left no summary"
	failed=$((failed + 1))
fi

finished=0
kernel_problems=0
if [ -f "$outdir/run-vm.status" ]; then
	finished=$(sed -n 's/^finished=//p' "$outdir/run-vm.status")
	kernel_problems=$(sed -n 's/^kernel_problems=//p' "$outdir/run-vm.status")
fi
if [ "$finished" != 1 ]; then
	echo "not ok - the VM did not finish (see $outdir/console.log)"
	failed=$((failed + 1))
fi
if [ "$kernel_problems" = 1 ] && [ "$guest_saw_problems" != 1 ]; then
	echo "not ok - the guest kernel logged an Oops/BUG/WARNING (see above)"
	failed=$((failed + 1))
fi
if [ "$failed" = 0 ] && [ "$vm_rc" != 0 ]; then
	echo "not ok - run-vm.sh exited with $vm_rc"
	failed=1
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
