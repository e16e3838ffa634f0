#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# check.sh - boot the test VM, run guest-check.sh in it, and give the verdict
# of both: the last line is "N passed, N failed" with a guest that did not
# finish, or whose kernel logged an Oops/BUG/WARNING, counted as one more
# failure. Exit status 1 when anything failed. Used by "make check".
#
# Environment: NODES (default 2), VM_TIMEOUT (seconds, default 1200),
# TEST_TIMEOUT (seconds per test program, default 300), DISK_MB (size of
# the guest's ext4 disk, default 512), BUILD_DIR, KVER,
# NUMAMIG_CHECK_TWO_BOOTS=0 (leave out the runc checkpoint across two boots).

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

selftests/vm/run-vm.sh --nodes "${NODES:-2}" --timeout "${VM_TIMEOUT:-1200}" \
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

# -- a container moved across two boots --------------------------------------
# userland/test_runc_ckpt_guest.sh: boot 1 checkpoints a runc container to a
# disk, boot 2 (a fresh kernel, nothing cached) restores it from there.
# Both switch_root into the shared root: CRIU cannot work from a chroot.
two_boots() {
	local ck=$build/vm-ckpt.img stage log rc oks nots st
	rm -f "$ck"
	if ! truncate -s 256M "$ck" ||
	   ! PATH=$PATH:/usr/sbin:/sbin mkfs.ext4 -q -F -b 4096 "$ck"; then
		echo "not ok - cannot create the checkpoint disk $ck"
		failed=$((failed + 1))
		return
	fi
	for stage in source destination; do
		log=$check/runc-ckpt-$stage.log
		selftests/vm/run-vm.sh --switch-root --nodes "${NODES:-2}" \
			--timeout 300 --outdir "$outdir" --disk "$ck" \
			--env NUMAMIG_CKPT_DEV=/dev/vda \
			-- userland/test_runc_ckpt_guest.sh $stage >"$log" 2>&1
		rc=$?
		grep -aE '^(not )?ok |^#  ' "$log" | sed 's/\r$//'
		oks=$(grep -caE '^ok ' "$log")
		nots=$(grep -caE '^not ok ' "$log")
		passed=$((passed + oks))
		failed=$((failed + nots))
		st=$(sed -n 's/^kernel_problems=//p' "$outdir/run-vm.status" 2>/dev/null)
		if [ "$st" = 1 ]; then
			echo "not ok - runc checkpoint $stage boot: the guest kernel logged a problem (see $log)"
			failed=$((failed + 1))
		elif [ "$rc" = 4 ] && [ $((oks + nots)) = 0 ]; then
			echo "ok - runc checkpoint across two boots # SKIP $(grep -a SKIP "$log" | head -n 1)"
			return
		elif [ "$rc" != 0 ] && [ "$nots" = 0 ]; then
			echo "not ok - runc checkpoint $stage boot: exit status $rc (see $log)"
			failed=$((failed + 1))
		fi
		[ "$rc" = 0 ] || return
	done
}
if [ "${NUMAMIG_CHECK_TWO_BOOTS:-1}" = 1 ]; then
	echo "# ---- userland/test_runc_ckpt_guest.sh (two boots)"
	two_boots
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
