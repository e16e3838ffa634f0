# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# lib.sh - sourced by the VM scripts.

# An Oops, BUG, WARN, panic or sanitizer report. The CPU-bug mitigation
# notices at boot ("Spectre V2 : WARNING: Unprivileged eBPF ...") are not.
klog_bad_re='Oops|BUG:|WARNING:|Kernel panic|general protection|KASAN|UBSAN|Call Trace'
klog_benign_re='(RETBleed|Spectre V[12]|MDS|TAA|MMIO Stale Data|SRBDS|GDS|SRSO|BHI|ITS|TSA|VMSCAPE|Speculative Store Bypass)[^:]*: WARNING:'

# Print the troubling lines of the kernel log on stdin, each once.
# Succeeds when there were some.
klog_problems() {
	grep -aE "$klog_bad_re" | grep -avE "$klog_benign_re" | awk '!seen[$0]++ { print; n++ } END { exit n == 0 }'
}

# One VM at a time per output directory: its files (console.log, check/...)
# belong to one run. Waits for the lock on fd 9 unless the caller holds it
# already (NUMAMIG_VM_LOCKED=1 in the environment).
vm_lock() {
	local dir=$1

	[ "${NUMAMIG_VM_LOCKED:-0}" != 1 ] || return 0
	exec 9>"$dir/.lock"
	if ! flock -n 9; then
		echo "${0##*/}: waiting for another VM that uses $dir" >&2
		flock 9
	fi
	export NUMAMIG_VM_LOCKED=1
}
