#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# run-vm.sh - boot Debian's kernel in QEMU and run one command inside it.
#
# A small virtme-ng: the guest is a busybox initramfs that mounts the host's
# root read-only over virtio-9p, puts tmpfs on /tmp /run /var/tmp /root,
# chroots into it and runs COMMAND from the directory run-vm.sh was started
# in. The output directory (build/vm-out by default) is shared read-write at
# the same path, so the guest can leave results there. The exit status is
# COMMAND's; 1 with a message when the guest did not finish or the kernel
# logged an Oops, BUG, WARNING or panic.

set -euo pipefail

prog=${0##*/}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
# shellcheck source=selftests/vm/lib.sh
. "$repo/selftests/vm/lib.sh"

usage() {
	cat <<EOF
Usage: $prog [options] -- COMMAND [ARG...]
       $prog [options] --shell

Boot the Debian kernel in QEMU with emulated NUMA nodes and run COMMAND as
root in a chroot of the host's root file system (read-only), in the current
directory.

Options:
  --nodes N         NUMA nodes, one CPU each, 2..4 (default 2)
  --mem MB          memory per node in MiB (default 1024)
  --disk IMG        attach IMG as a raw virtio disk (/dev/vda in the guest)
  --timeout S       give up after S seconds (default 600)
  --append ARGS     extra kernel command line arguments
  --env NAME=VALUE  set an environment variable for COMMAND (repeatable)
  --outdir DIR      read-write directory shared with the guest at the same
                    path (default \$BUILD_DIR/vm-out)
  --switch-root     switch_root into the host's root instead of chroot'ing
                    (COMMAND runs as a child of PID 1 with the 9p mount as
                    the real root: what CRIU needs to checkpoint a runc
                    container)
  --shell           run an interactive shell on the console instead
  -h, --help        show this help

Environment:
  KERNEL     kernel image to boot instead (bzImage or PVH vmlinux)
  KVER       kernel version to boot (default: the one linux-headers-amd64
             depends on, $(default_kver 2>/dev/null || echo '?'))
  BUILD_DIR  where the initramfs is cached (default $repo/build)
  QEMU       QEMU binary (default qemu-system-x86_64)
  ACCEL      auto (default: kvm when it works, else tcg), kvm or tcg

Files in the output directory: console.log (the whole serial console),
dmesg.log (the guest's kernel log at the end of the run) and run-vm.status
(finished=0|1, command_status=N, kernel_problems=0|1, seconds=S).
EOF
}

die() {
	echo "$prog: $*" >&2
	exit 1
}

# The kernel that Debian's linux-headers-amd64 meta package points at.
default_kver() {
	local dep
	dep=$(dpkg-query -W -f='${Depends}' linux-headers-amd64 2>/dev/null) || return 1
	dep=${dep%% *}
	[ -n "$dep" ] || return 1
	echo "${dep#linux-headers-}"
}

nodes=2
mem=1024
disk=
timeout_s=600
append=
shell=0
switch_root=0
outdir=${OUTDIR:-}
envs=()

while [ $# -gt 0 ]; do
	case $1 in
	--nodes)	nodes=${2:?}; shift 2 ;;
	--mem)		mem=${2:?}; shift 2 ;;
	--disk)		disk=${2:?}; shift 2 ;;
	--timeout)	timeout_s=${2:?}; shift 2 ;;
	--append)	append=${2:?}; shift 2 ;;
	--env)		envs+=("${2:?}"); shift 2 ;;
	--outdir)	outdir=${2:?}; shift 2 ;;
	--shell)	shell=1; shift ;;
	--switch-root)	switch_root=1; shift ;;
	-h|--help)	usage; exit 0 ;;
	--)		shift; break ;;
	-*)		echo "$prog: unknown option '$1'" >&2
			echo "Try '$prog --help'." >&2
			exit 1 ;;
	*)		break ;;
	esac
done

[ $# -gt 0 ] || [ "$shell" = 1 ] || { usage >&2; exit 1; }
case $nodes in [2-4]) ;; *) die "--nodes must be 2, 3 or 4" ;; esac
if ! [[ $mem =~ ^[0-9]+$ ]] || [ "$mem" -lt 128 ]; then
	die "--mem must be at least 128 (MiB)"
fi
[[ $timeout_s =~ ^[0-9]+$ ]] || die "--timeout must be a number of seconds"
for e in "${envs[@]}"; do
	[[ $e =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || die "--env wants NAME=VALUE, got '$e'"
done

KVER=${KVER:-$(default_kver)} || die "cannot tell the kernel version: is linux-headers-amd64 installed? (or set KVER)"
vmlinuz=/boot/vmlinuz-$KVER
moddir=/lib/modules/$KVER
[ -r "$vmlinuz" ] || die "$vmlinuz not found or not readable (apt-get install linux-image-$KVER)"
[ -r "$moddir/modules.dep" ] || die "$moddir/modules.dep not found"
[ -x /bin/busybox ] || die "/bin/busybox not found (apt-get install busybox-static)"
qemu=${QEMU:-qemu-system-x86_64}
command -v "$qemu" >/dev/null || die "$qemu not found (apt-get install qemu-system-x86)"
if [ -n "$disk" ]; then
	[ -f "$disk" ] || die "--disk $disk: no such file"
	disk=$(realpath "$disk")
fi

BUILD_DIR=${BUILD_DIR:-$repo/build}
outdir=${outdir:-$BUILD_DIR/vm-out}
mkdir -p "$BUILD_DIR/vm" "$outdir"
BUILD_DIR=$(cd "$BUILD_DIR" && pwd -P)
outdir=$(cd "$outdir" && pwd -P)
cwd=$(pwd -P)
vm_lock "$outdir"

# ---------------------------------------------------------------------------
# The kernel: the uncompressed vmlinux inside Debian's bzImage boots through
# QEMU's PVH entry without decompressing ~60 MB of xz under TCG (5 s saved).
# ---------------------------------------------------------------------------

extract_vmlinux() {
	local out=$BUILD_DIR/vm/vmlinux-$KVER off
	if [ ! -s "$out" ] || [ "$vmlinuz" -nt "$out" ]; then
		off=$(LC_ALL=C grep -obUaP -m1 '\xfd7zXZ\x00' "$vmlinuz" | head -n 1 | cut -d: -f1)
		[ -n "$off" ] || return 1
		# (tail dies of SIGPIPE when xz stops at the end of the stream.)
		tail -c +"$((off + 1))" "$vmlinuz" | xz -dc --single-stream >"$out.tmp" 2>/dev/null
		# An ELF with a PVH entry point (XEN_ELFNOTE_PHYS32_ENTRY, 18)?
		if [ "$(head -c 4 "$out.tmp")" != $'\x7fELF' ] ||
		   ! readelf -n "$out.tmp" 2>/dev/null | grep -c 'Unknown note type: (0x00000012)' >/dev/null; then
			rm -f "$out.tmp"
			return 1
		fi
		mv "$out.tmp" "$out"
	fi
	echo "$out"
}

if [ -n "${KERNEL:-}" ]; then
	kernel=$KERNEL
elif ! kernel=$(extract_vmlinux); then
	kernel=$vmlinuz
fi

# ---------------------------------------------------------------------------
# The initramfs: busybox, the modules that reach the host's root, and /init.
# ---------------------------------------------------------------------------

# Modules to load, dependencies first, as paths relative to $moddir.
# Built-in ones are skipped.
resolve_modules() {
	local -A seen=()
	local -a order=()
	local m

	visit() {
		local path=$1 dep
		[ -z "${seen[$path]:-}" ] || return 0
		seen[$path]=1
		local line
		line=$(grep -m1 -E "^${path//./\\.}:" "$moddir/modules.dep") || return 0
		for dep in ${line#*:}; do
			visit "$dep"
		done
		order+=("$path")
	}

	for m in "$@"; do
		local p
		p=$(grep -m1 -oE "^[^:]*/${m}\.ko(\.[a-z]+)?:" "$moddir/modules.dep") || {
			grep -qE "/${m}\.ko$" "$moddir/modules.builtin" 2>/dev/null && continue
			die "module $m not found for $KVER"
		}
		visit "${p%:}"
	done
	printf '%s\n' "${order[@]}"
}

# /init of the guest, run by busybox sh as PID 1. The per-run settings come
# from /vmrun, a second cpio archive appended to the initramfs.
init_script() {
	cat <<'EOF'
#!/bin/sh
export PATH=/bin

fail() {
	echo "NUMAMIG-VM-INIT-FAILED: $*"
	poweroff -f
}

/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# "quiet" kept the boot short; from here on show warnings too, so that a
# WARN splat reaches the console even if the guest hangs after it.
echo 5 >/proc/sys/kernel/printk

while read -r m; do
	insmod "/lib/modules/$m" || fail "insmod $m"
done </lib/modules/load.order

mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144 hostroot /mnt ||
	fail "cannot mount the host root over 9p"

# Host directories that the tmpfs mounts below would hide (a checkout in
# /tmp): hold them with a bind mount and put them back afterwards.
n=0
while read -r p; do
	mkdir -p "/keep/$n" && mount -o bind "/mnt$p" "/keep/$n" || fail "bind $p"
	n=$((n + 1))
done </vmrun/keep

for d in /tmp /var/tmp; do
	mount -t tmpfs -o mode=1777 tmpfs "/mnt$d" || fail "tmpfs on $d"
done
for d in /run /root; do
	mount -t tmpfs -o mode=0755 tmpfs "/mnt$d" || fail "tmpfs on $d"
done

n=0
while read -r p; do
	mkdir -p "/mnt$p" && mount -o move "/keep/$n" "/mnt$p" || fail "move $p"
	n=$((n + 1))
done </vmrun/keep

mount -t proc proc /mnt/proc
mount -t sysfs sysfs /mnt/sys
mount -t devtmpfs devtmpfs /mnt/dev
mkdir -p /mnt/dev/pts /mnt/dev/shm
# What udev would add: bash's process substitution needs /dev/fd.
ln -s /proc/self/fd /mnt/dev/fd
ln -s /proc/self/fd/0 /mnt/dev/stdin
ln -s /proc/self/fd/1 /mnt/dev/stdout
ln -s /proc/self/fd/2 /mnt/dev/stderr
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /mnt/dev/pts
mount -t tmpfs -o mode=1777 tmpfs /mnt/dev/shm
mount -t cgroup2 cgroup2 /mnt/sys/fs/cgroup || fail "cgroup2"
mount -t debugfs debugfs /mnt/sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /mnt/sys/kernel/tracing 2>/dev/null

. /vmrun/config
mkdir -p "/mnt$VM_OUTDIR"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 out "/mnt$VM_OUTDIR" ||
	fail "cannot mount the output directory over 9p"

hostname numamig-vm
cp -r /vmrun /mnt/run/numamig-vm

# With switch_root the host's root becomes the real root and the rest of
# the run (the verdict, the power-off) happens in /run/numamig-vm/init2.sh.
if [ "$VM_SWITCH_ROOT" = 1 ]; then
	exec switch_root /mnt /bin/bash /run/numamig-vm/init2.sh
	fail "switch_root"
fi
if [ "$VM_SHELL" = 1 ]; then
	chroot /mnt /bin/bash /run/numamig-vm/cmd.sh </dev/ttyS0 >/dev/ttyS0 2>&1
else
	chroot /mnt /bin/bash /run/numamig-vm/cmd.sh </dev/null
fi
rc=$?

dmesg >"/mnt$VM_OUTDIR/dmesg.log"
echo
echo "NUMAMIG-VM-EXIT $rc"
sync
poweroff -f
EOF
}

build_initramfs() {
	local -a mods
	local key img tmp m name

	mapfile -t mods < <(resolve_modules virtio_pci 9pnet_virtio 9p)
	key=$( { echo "$KVER"; printf '%s\n' "${mods[@]}"; init_script; cksum </bin/busybox; } |
		sha1sum | cut -c1-12)
	img=$BUILD_DIR/vm/initramfs-$KVER-$key.cpio
	if [ ! -f "$img" ]; then
		tmp=$(mktemp -d "$BUILD_DIR/vm/.initramfs.XXXXXX")
		mkdir -p "$tmp"/{bin,dev,proc,sys,mnt,keep,lib/modules}
		cp /bin/busybox "$tmp/bin/busybox"
		ln -s busybox "$tmp/bin/sh"
		for m in "${mods[@]}"; do
			name=${m##*/}
			case $name in
			*.ko)		cp "$moddir/$m" "$tmp/lib/modules/$name" ;;
			*.ko.xz)	xz -dc "$moddir/$m" >"$tmp/lib/modules/${name%.xz}" ;;
			*.ko.gz)	gzip -dc "$moddir/$m" >"$tmp/lib/modules/${name%.gz}" ;;
			*.ko.zst)	zstd -qdc "$moddir/$m" >"$tmp/lib/modules/${name%.zst}" ;;
			*)		die "cannot unpack module $m" ;;
			esac
			echo "${name%.ko*}.ko" >>"$tmp/lib/modules/load.order"
		done
		init_script >"$tmp/init"
		chmod 755 "$tmp/init"
		(cd "$tmp" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$img.tmp"
		mv "$img.tmp" "$img"
		rm -rf "$tmp"
		find "$BUILD_DIR/vm" -maxdepth 1 -name "initramfs-$KVER-*.cpio" ! -name "${img##*/}" -delete
	fi
	echo "$img"
}

# Single-quote a string for sh.
shquote() {
	printf "'%s'" "${1//\'/\'\\\'\'}"
}

# The per-run part: settings, the command, the directories to keep visible.
build_runfs() {
	local dir=$1 img=$2 p
	shift 2
	mkdir -p "$dir/vmrun"
	{
		echo "VM_OUTDIR=$(shquote "$outdir")"
		echo "VM_SHELL=$shell"
		echo "VM_SWITCH_ROOT=$switch_root"
	} >"$dir/vmrun/config"
	# PID 1 after switch_root: what /init does after the chroot.
	cat >"$dir/vmrun/init2.sh" <<'EOF2'
#!/bin/bash
. /run/numamig-vm/config
if [ "$VM_SHELL" = 1 ]; then
	/bin/bash /run/numamig-vm/cmd.sh </dev/ttyS0 >/dev/ttyS0 2>&1
else
	/bin/bash /run/numamig-vm/cmd.sh </dev/null
fi
rc=$?
dmesg >"$VM_OUTDIR/dmesg.log"
echo
echo "NUMAMIG-VM-EXIT $rc"
sync
/bin/busybox poweroff -f
EOF2

	: >"$dir/vmrun/keep"
	for p in "$repo" "$cwd"; do
		[ "$p" = "$repo" ] || [[ $p != "$repo"/* ]] || continue
		case $p in
		/tmp/*|/var/tmp/*|/run/*|/root/*|/tmp|/var/tmp|/run|/root)
			echo "$p" >>"$dir/vmrun/keep" ;;
		esac
	done
	[[ $repo$cwd != *$'\n'* ]] || die "newlines in paths are not supported"

	{
		echo '#!/bin/bash'
		echo 'export HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
		echo "export TERM=$(shquote "$([ "$shell" = 1 ] && echo "${TERM:-linux}" || echo dumb)")"
		echo "export NUMAMIG_VM=1 NUMAMIG_VM_OUTDIR=$(shquote "$outdir")"
		for p in "${envs[@]}"; do
			echo "export ${p%%=*}=$(shquote "${p#*=}")"
		done
		echo "cd $(shquote "$cwd") || { echo 'run-vm: cannot enter $cwd in the guest' >&2; exit 125; }"
		if [ "$shell" = 1 ]; then
			# A session with the console as its terminal, for job control.
			echo 'exec setsid -c -w bash -i'
		else
			printf '%q ' "$@"
			echo
		fi
	} >"$dir/vmrun/cmd.sh"
	(cd "$dir" && find vmrun | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$img"
}

base=$(build_initramfs)
rundir=$(mktemp -d "$BUILD_DIR/vm/.run.XXXXXX")
trap 'rm -rf "$rundir"' EXIT
build_runfs "$rundir" "$rundir/run.cpio" "$@"
cat "$base" "$rundir/run.cpio" >"$rundir/initrd.cpio"

# ---------------------------------------------------------------------------
# QEMU
# ---------------------------------------------------------------------------

# KVM only when it really runs a guest with -cpu host: some sandboxes offer
# a /dev/kvm that opens but cannot. The probe is a 64 KiB "BIOS" whose reset
# vector writes to isa-debug-exit (QEMU then exits with status 3).
kvm_works() {
	local probe=$BUILD_DIR/vm/kvm-probe.bin
	[ -c /dev/kvm ] && (exec 3<>/dev/kvm) 2>/dev/null || return 1
	if [ ! -f "$probe" ]; then
		{
			head -c 65520 /dev/zero | tr '\0' '\377'
			printf '\xb0\x01\xe6\xf4\xf4\xeb\xfd'	# mov al,1; out 0xf4,al; hlt; jmp $-1
			head -c 9 /dev/zero | tr '\0' '\377'
		} >"$probe.tmp" && mv "$probe.tmp" "$probe"
	fi
	# In a subshell, so that bash does not report a crashing QEMU.
	(
		timeout 10 "$qemu" -accel kvm -cpu host -machine pc -nodefaults \
			-display none -m 16 -bios "$probe" \
			-device isa-debug-exit,iobase=0xf4,iosize=1 </dev/null >/dev/null 2>&1
		[ $? = 3 ]
	) 2>/dev/null
}

case ${ACCEL:-auto} in
auto)	if kvm_works; then
		accel=kvm
	else
		accel=tcg,thread=multi
		[ ! -e /dev/kvm ] || echo "$prog: /dev/kvm does not run guests here, using TCG" >&2
	fi ;;
kvm)	accel=kvm ;;
tcg)	accel=tcg,thread=multi ;;
*)	die "ACCEL must be auto, kvm or tcg" ;;
esac

qargs=(
	-nodefaults -no-user-config -nographic -no-reboot
	-accel "$accel"
	-machine pc
	-cpu "$([ "$accel" = kvm ] && echo host || echo qemu64)"
	-smp "$nodes,sockets=$nodes"
	-m "$((nodes * mem))M"
	-serial mon:stdio
	-kernel "$kernel"
	-initrd "$rundir/initrd.cpio"
	-append "console=ttyS0 quiet panic=-1 oops=panic${append:+ $append}"
	-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap"
	-virtfs "local,path=$outdir,mount_tag=out,security_model=none,multidevs=remap"
)
[ -f /usr/share/qemu/qboot.rom ] && qargs+=(-bios /usr/share/qemu/qboot.rom)
for ((i = 0; i < nodes; i++)); do
	qargs+=(-object "memory-backend-ram,id=mem$i,size=${mem}M"
		-numa "node,nodeid=$i,memdev=mem$i,cpus=$i")
done
[ -z "$disk" ] || qargs+=(-drive "file=$disk,if=virtio,format=raw,cache=writeback")

log=$outdir/console.log
rm -f "$log" "$outdir/dmesg.log" "$outdir/run-vm.status"

start=$(date +%s%N)
set +e
if [ "$shell" = 1 ]; then
	"$qemu" "${qargs[@]}" 2>&1 | tee "$log"
	qrc=${PIPESTATUS[0]}
else
	timeout -k 10 "$timeout_s" "$qemu" "${qargs[@]}" </dev/null 2>&1 |
		sed -u 's/\r$//' | tee "$log"
	qrc=${PIPESTATUS[0]}
fi
set -e
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
elapsed=$((elapsed_ms / 1000)).$(printf '%03d' $((elapsed_ms % 1000)))

# ---------------------------------------------------------------------------
# Verdict
# ---------------------------------------------------------------------------

bad=$(
	{
		# Kernel lines on the console carry a printk timestamp.
		grep -aE '^\[ *[0-9]+\.[0-9]+\]' "$log"
		[ ! -f "$outdir/dmesg.log" ] || cat "$outdir/dmesg.log"
	} | klog_problems
) || true

status=$(grep -aE '^NUMAMIG-VM-EXIT [0-9]+'$'\r''?$' "$log" | tail -n 1 | tr -d '\r' || true)
initfail=$(grep -a 'NUMAMIG-VM-INIT-FAILED' "$log" | tail -n 1 || true)

[ -z "$(tail -c 1 "$log")" ] || echo >&2	# the console may end mid-line
rc=0
if [ -n "$bad" ]; then
	echo "$prog: the guest kernel reported problems:" >&2
	printf '%s\n' "$bad" | sed 's/^/    /' >&2
	rc=1
fi
if [ -n "$initfail" ]; then
	echo "$prog: guest init failed: ${initfail#*: }" >&2
	rc=1
elif [ -z "$status" ]; then
	case $qrc in
	124|137)	echo "$prog: timed out after ${timeout_s}s without an exit marker" >&2 ;;
	*)		echo "$prog: the guest stopped without an exit marker (panic? QEMU status $qrc)" >&2 ;;
	esac
	rc=1
elif [ "$rc" = 0 ]; then
	rc=${status#NUMAMIG-VM-EXIT }
fi

# For callers that must tell a failing COMMAND from a failing guest.
{
	echo "finished=$([ -n "$status" ] && echo 1 || echo 0)"
	echo "command_status=${status#NUMAMIG-VM-EXIT }"
	echo "kernel_problems=$([ -n "$bad" ] && echo 1 || echo 0)"
	echo "seconds=$elapsed"
} >"$outdir/run-vm.status"

echo "$prog: ${elapsed}s, exit status $rc (log: $log)" >&2
exit "$rc"
