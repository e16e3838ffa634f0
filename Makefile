# SPDX-License-Identifier: GPL-2.0
#
# numamig - top-level build.
#
#   make            build the module, numamigctl, the selftests, the demo workload
#   make deps       install the Debian packages that are missing (apt-get)
#   make check      deps + all, then run the tests in a QEMU VM (NODES=2..4)
#   make demo       deps + all, then the migration demo in a 2-node VM
#   make bench      the benchmarks (bench/)
#   make dkms-build build the module with dkms for $(KVER), then remove it
#   make clean
#
# Kernel-side tests never run on the host: they boot Debian's kernel $(KVER)
# in QEMU (selftests/vm/run-vm.sh), so the module is built for that kernel.

# The kernel the VM boots: the one linux-headers-amd64 points at.
KVER		?= $(shell dpkg-query -W -f='$${Depends}' linux-headers-amd64 2>/dev/null | \
			sed -n 's/^linux-headers-\([^ ,]*\).*/\1/p')
KDIR		?= /lib/modules/$(KVER)/build
BUILD_DIR	?= $(CURDIR)/build
NODES		?= 2
CFLAGS		?= -O2 -Wall -Wextra

export BUILD_DIR
ifneq ($(KVER),)
export KVER
endif

DEB_PACKAGES	:= linux-image-amd64 linux-headers-amd64 linux-source-6.1 \
		   qemu-system-x86 busybox-static numactl libnuma-dev dkms cpio \
		   kmod xz-utils e2fsprogs gcc make python3-matplotlib \
		   dmsetup jq runc criu iptables

SUBDIRS		:= module userland selftests
WORKLOAD	:= $(BUILD_DIR)/workload
RUN_VM		:= selftests/vm/run-vm.sh

DKMS_NAME	:= numamig
DKMS_VERSION	:= 0.1.0

all: subdirs $(WORKLOAD)

# One after the other: userland and the selftests include the uapi header
# that the module is built against.
subdirs:
	@for d in $(SUBDIRS); do \
		if [ ! -f $$d/Makefile ]; then \
			echo "warning: $$d/Makefile does not exist yet, skipping $$d" >&2; \
			continue; \
		fi; \
		if [ $$d = module ]; then \
			$(MAKE) -C $$d KVER=$(KVER) KDIR=$(KDIR) || exit 1; \
		else \
			$(MAKE) -C $$d || exit 1; \
		fi; \
	done

$(WORKLOAD): selftests/vm/workload.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $<

deps:
	@missing=; \
	for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${db:Status-Abbrev}' $$p 2>/dev/null | grep -q '^ii' || \
			missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "deps: installing$$missing"; \
		if [ "$$(id -u)" != 0 ]; then \
			echo "deps: must be root to install packages" >&2; exit 1; \
		fi; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -q && apt-get install -y -q --no-install-recommends $$missing; \
	fi

check: deps
	$(MAKE) all
	$(MAKE) -C userland check
	NODES=$(NODES) selftests/vm/check.sh

demo: deps
	$(MAKE) all
	$(RUN_VM) --nodes 2 --env WORKLOAD=$(WORKLOAD) -- selftests/vm/demo.sh

bench:
	@if [ -f bench/Makefile ]; then \
		$(MAKE) -C bench; \
	else \
		echo "bench: no benchmarks yet (bench/Makefile does not exist)"; \
	fi

# dkms works on a copy in /usr/src; the module is removed again afterwards,
# so this only proves that dkms.conf builds.
dkms-build:
	@set -e; \
	src=/usr/src/$(DKMS_NAME)-$(DKMS_VERSION); \
	dkms remove $(DKMS_NAME)/$(DKMS_VERSION) --all >/dev/null 2>&1 || true; \
	rm -rf $$src; mkdir -p $$src; \
	cp -r dkms.conf module uapi $$src/; \
	$(MAKE) -C $$src/module clean KDIR=$(KDIR) >/dev/null; \
	dkms add $(DKMS_NAME)/$(DKMS_VERSION); \
	rc=0; dkms build $(DKMS_NAME)/$(DKMS_VERSION) -k $(KVER) || rc=$$?; \
	if [ $$rc = 0 ]; then \
		find /var/lib/dkms/$(DKMS_NAME)/$(DKMS_VERSION)/$(KVER) -name '*.ko*'; \
	else \
		cat /var/lib/dkms/$(DKMS_NAME)/$(DKMS_VERSION)/build/make.log 2>/dev/null | tail -n 30; \
	fi; \
	dkms remove $(DKMS_NAME)/$(DKMS_VERSION) --all >/dev/null; \
	rm -rf $$src; \
	exit $$rc

clean:
	@for d in $(SUBDIRS) bench; do \
		if [ -f $$d/Makefile ]; then \
			if [ $$d = module ]; then \
				$(MAKE) -C $$d clean KVER=$(KVER) KDIR=$(KDIR); \
			else \
				$(MAKE) -C $$d clean; \
			fi; \
		fi; \
	done
	rm -rf $(BUILD_DIR)

.PHONY: all subdirs deps check demo bench dkms-build clean
