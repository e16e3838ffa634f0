#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Command-line tests of numamigctl, TAP output (the plan comes last).
#
#  - usage errors: exit 2, exactly one line on stderr, nothing on stdout
#  - --help of every command: exit 0, usage on stdout
#  - no device: exit 1, one line naming the likely cause
#  - with FAKEDEV (test_fakedev.so, an LD_PRELOAD stand-in for the module):
#    every command against a simulated module, on any machine
#  - with a real /dev/numamig (the guest): a few live checks; the "module
#    not loaded" case is skipped there.
#
# Environment: NUMAMIGCTL (the binary), FAKEDEV (the stand-in library).

here=$(cd "$(dirname "$0")" && pwd)
NM=${NUMAMIGCTL:-$here/numamigctl}
[ -x "$NM" ] || NM=$(command -v numamigctl)
FAKEDEV=${FAKEDEV:-$here/test_fakedev.so}
case $FAKEDEV in /*) ;; *) FAKEDEV=$PWD/$FAKEDEV ;; esac

if [ -z "$NM" ] || [ ! -x "$NM" ]; then
	echo "1..0 # SKIP numamigctl binary not found"
	exit 0
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/numamigctl-cli.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
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
	if [ -s "$T/err" ]; then
		sed 's/^/#   stderr: /' "$T/err" | head -5
	fi
}

skip() {
	n=$((n + 1))
	echo "ok $n - $1 # SKIP $2"
}

# run ARGS...: the binary's exit status in $rc, its output in $T/out, $T/err
run() {
	"$NM" "$@" >"$T/out" 2>"$T/err"
	rc=$?
}

lines() {
	wc -l <"$1" | tr -d ' '
}

# check DESC WANT_RC [GREP_STDOUT [GREP_STDERR]]
check() {
	desc=$1 want=$2 out_re=$3 err_re=$4
	if [ "$rc" != "$want" ]; then
		not_ok "$desc" "exit status $rc, want $want"
	elif [ -n "$out_re" ] && ! grep -q -- "$out_re" "$T/out"; then
		not_ok "$desc" "stdout lacks /$out_re/"
	elif [ -n "$err_re" ] && ! grep -q -- "$err_re" "$T/err"; then
		not_ok "$desc" "stderr lacks /$err_re/"
	else
		ok "$desc"
	fi
}

# One line on stderr, starting with our name: the error contract.
check_one_error_line() {
	desc=$1 want=$2 err_re=$3
	if [ "$rc" != "$want" ]; then
		not_ok "$desc" "exit status $rc, want $want"
	elif [ "$(lines "$T/err")" != 1 ]; then
		not_ok "$desc" "$(lines "$T/err") lines on stderr, want 1"
	elif ! grep -q '^numamigctl: ' "$T/err"; then
		not_ok "$desc" "stderr does not start with 'numamigctl: '"
	elif [ -n "$err_re" ] && ! grep -q -- "$err_re" "$T/err"; then
		not_ok "$desc" "stderr lacks /$err_re/"
	elif [ -s "$T/out" ]; then
		not_ok "$desc" "unexpected stdout"
	else
		ok "$desc"
	fi
}

usage_error() {
	desc="usage error: numamigctl $*"
	run "$@"
	check_one_error_line "$desc" 2
}

# Valid JSON, if there is a python to tell.
check_json() {
	desc=$1
	if ! command -v python3 >/dev/null 2>&1; then
		skip "$desc" "no python3"
	elif python3 -c 'import json,sys; json.load(sys.stdin)' <"$T/out" 2>/dev/null; then
		ok "$desc"
	else
		not_ok "$desc" "stdout is not valid JSON: $(head -c 200 "$T/out")"
	fi
}

# ---- usage errors (parsed before the device is opened) ---------------

usage_error
usage_error --bogus
usage_error frobnicate
usage_error migrate
usage_error migrate --pid 1
usage_error migrate --to 0
usage_error migrate --pid 1 --cgroup /sys/fs/cgroup --to 0
usage_error migrate --pid abc --to 0
usage_error migrate --pid 0 --to 0
usage_error migrate --pid -5 --to 0
usage_error migrate --pid 99999999999 --to 0
usage_error migrate --pid 1 --to x
usage_error migrate --pid 1 --to 1023
usage_error migrate --pid 1 --to 4096
usage_error migrate --pid 1 --to 0 --policy fast
usage_error migrate --pid 1 --to 0 --batch 0
usage_error migrate --pid 1 --to 0 --batch 16777217
usage_error migrate --pid 1 --to 0 --batch 12k
usage_error migrate --pid 1 --to 0 --sleep 60001
usage_error migrate --pid 1 --to 0 --cpu 101
usage_error migrate --pid 1 --to 0 --from nodes
usage_error migrate --pid 1 --to 0 --from 0
usage_error migrate --pid 1 --to 0 --from ""
usage_error migrate --pid 1 --to 0 --unknown
usage_error migrate --pid 1 --to 0 --json=yes
usage_error migrate --pid
usage_error migrate --pid 1 --to 0 extra
usage_error status abc
usage_error status 0
usage_error status -1
usage_error status 1 2
usage_error status --bogus
usage_error status 18446744073709551616
usage_error list extra
usage_error list --all
usage_error cancel
usage_error cancel x
usage_error cancel 1 2
usage_error wait
usage_error wait 0
usage_error set 1
usage_error set --batch 5
usage_error set 1 --batch 0
usage_error set 1 --sleep 60001
usage_error set 1 --cpu 200
usage_error set 1 --cpu
usage_error locality
usage_error locality --pid x
usage_error locality --pid 1 extra
usage_error locality --pid 1 --json=1
usage_error hotcache
usage_error hotcache frobnicate
usage_error hotcache --bogus
usage_error hotcache dump
usage_error hotcache dump --pid 1 --cgroup /sys/fs/cgroup
usage_error hotcache dump --pid 1 --file /etc/hostname
usage_error hotcache dump --pid abc
usage_error hotcache dump --pid 0
usage_error hotcache dump --pid 1 extra
usage_error hotcache dump --pid 1 -o
usage_error hotcache dump --pid 1 --output=
usage_error hotcache dump --file ""
usage_error hotcache dump --pid 1 --bogus
usage_error hotcache dump --pid 1 -x
usage_error hotcache show
usage_error hotcache show a b
usage_error hotcache show --bogus a
usage_error hotcache prefetch
usage_error hotcache prefetch a b
usage_error hotcache prefetch a --jobs 0
usage_error hotcache prefetch a --jobs 257
usage_error hotcache prefetch a --jobs x
usage_error hotcache prefetch a --rate 0
usage_error hotcache prefetch a --rate 5M
usage_error hotcache prefetch a --root ""
usage_error hotcache prefetch a --json
usage_error hotcache diff
usage_error hotcache diff a
usage_error hotcache diff a b c
usage_error hotcache diff - -

run migrate --pid 1 --to 0 --batch 0
check "the usage error names the bad option" 2 "" "--batch '0'"

# ---- help and version -------------------------------------------------

for args in --help -h "migrate --help" "status --help" "list --help" \
	    "cancel --help" "wait --help" "set --help" "locality --help" \
	    "migrate -h" "set 1 --help" "hotcache --help" "hotcache -h" \
	    "hotcache dump --help" "hotcache show --help" \
	    "hotcache prefetch --help" "hotcache diff --help" \
	    "hotcache dump --pid 1 -h"; do
	# shellcheck disable=SC2086 # split on purpose
	run $args
	if [ "$rc" = 0 ] && grep -q '^Usage:' "$T/out" && [ ! -s "$T/err" ]; then
		ok "numamigctl $args: usage on stdout, exit 0"
	else
		not_ok "numamigctl $args: usage on stdout, exit 0" "exit status $rc"
	fi
done

run --version
check "--version exits 0 and names the tool" 0 "^numamigctl "

# ---- no device --------------------------------------------------------

NUMAMIGCTL_DEVICE=$T/no-such-device "$NM" list >"$T/out" 2>"$T/err"
rc=$?
check_one_error_line "missing device (NUMAMIGCTL_DEVICE): exit 1, one line" 1 \
	"module not loaded?"

if [ -e /dev/numamig ]; then
	skip "missing /dev/numamig: exit 1, module not loaded?" "/dev/numamig exists"
else
	(unset NUMAMIGCTL_DEVICE; "$NM" status) >"$T/out" 2>"$T/err"
	rc=$?
	check_one_error_line "missing /dev/numamig: exit 1, module not loaded?" 1 \
		"/dev/numamig: No such file or directory (numamig module not loaded?)"
fi

# Wait (up to 10 s) until PID has exec'd sleep(1).
exec_done() {
	i=0
	while [ "$(cat "/proc/$1/comm" 2>/dev/null)" != sleep ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

# ---- against the stand-in module --------------------------------------

fake() {
	NUMAMIGCTL_DEVICE=/dev/null LD_PRELOAD=$FAKEDEV "$@"
}

frun() {
	fake "$NM" "$@" >"$T/out" 2>"$T/err"
	rc=$?
}

# With the real module loaded (the test VM) the stand-in tests are slow
# under emulation and have already run on the host (make check runs
# make -C userland check first); NUMAMIG_FAKE_TESTS=1 runs them anyway.
fake_tests() {
	[ -n "${NUMAMIG_FAKE_TESTS:-}" ] || [ ! -e /dev/numamig ]
}

if ! fake_tests; then
	skip "stand-in module tests" "the real module is loaded: they ran on the host"
elif [ ! -r "$FAKEDEV" ]; then
	skip "stand-in module tests" "test_fakedev.so not built"
else
	JOBS="1:running,2:done,3:failed:12,4:exited,5:cancelled"
	export FAKEDEV_LOG="$T/log"

	frun --version
	check "fake: --version shows the module API" 0 "^module: API 1"

	FAKEDEV_JOBS=$JOBS frun list
	check "fake: list has the header" 0 "JOB *PID *STATE *POLICY *TO *MIGRATED *QUEUED *ELAPSED"
	if [ "$(lines "$T/out")" = 6 ] && grep -q '^ *3 .*failed' "$T/out"; then
		ok "fake: list has one line per job"
	else
		not_ok "fake: list has one line per job"
	fi
	FAKEDEV_JOBS=$JOBS frun list --json
	check "fake: list --json" 0 '^\[{"job":1,'
	check_json "fake: list --json is valid JSON"

	FAKEDEV_JOBS=$JOBS frun status 3
	check "fake: status shows the error text" 0 "state: *failed (Cannot allocate memory)"
	check "fake: status lists only non-zero skip reasons" 0 "skipped: *file 150, pinned 2$"
	FAKEDEV_JOBS=$JOBS frun status 3 --json
	check "fake: status --json types numbers" 0 '"error":12,"error_text":"Cannot allocate memory"'
	check_json "fake: status JOB --json is valid JSON"
	FAKEDEV_JOBS=$JOBS frun status --json
	check "fake: status --json of all jobs" 0 '^{"jobs":\[{"job":1,'
	check_json "fake: status --json is valid JSON"
	FAKEDEV_JOBS=$JOBS frun status
	if [ "$rc" = 0 ] && [ "$(grep -c '^job ' "$T/out")" = 5 ]; then
		ok "fake: status without JOB shows every job"
	else
		not_ok "fake: status without JOB shows every job"
	fi
	FAKEDEV_JOBS=$JOBS frun status 9
	check_one_error_line "fake: status of a missing job" 1 "(no such job 9)"

	frun migrate --pid $$ --to 0
	check "fake: migrate prints the job id" 0 "^100$"
	if grep -q "migrate pid=$$ dst=0 policy=3 batch=0 sleep=0 cpu=0 group=0" "$T/log"; then
		ok "fake: migrate defaults: mild, module's batch and sleep"
	else
		not_ok "fake: migrate defaults: mild, module's batch and sleep" "$(cat "$T/log")"
	fi
	: >"$T/log"
	frun migrate --pid $$ --to 0 --policy severe --batch 512 --sleep 0 --json
	check "fake: migrate --json" 0 "^{\"jobs\":\[{\"job\":100,\"pid\":$$}\]}$"
	# flags: SLEEP_SET (4) and KEEP_HUGE (8), which the stand-in offers
	if grep -q "policy=2 batch=512 sleep=0 .* flags=c$" "$T/log"; then
		ok "fake: --sleep 0 is passed with NUMAMIG_MIGRATE_SLEEP_SET, huge pages kept by default"
	else
		not_ok "fake: --sleep 0 is passed with NUMAMIG_MIGRATE_SLEEP_SET, huge pages kept by default" "$(cat "$T/log")"
	fi
	: >"$T/log"
	frun migrate --pid $$ --to 0 --split-huge
	if [ "$rc" = 0 ] && grep -q "migrate pid=$$ .* flags=0$" "$T/log"; then
		ok "fake: --split-huge asks for no KEEP_HUGE"
	else
		not_ok "fake: --split-huge asks for no KEEP_HUGE" "rc=$rc" "$(cat "$T/log")"
	fi

	frun migrate --pid $$ --to 0 --wait
	check "fake: migrate --wait prints the final status" 0 "state: *done"
	FAKEDEV_END=failed:12 frun migrate --pid $$ --to 0 --wait --json
	check "fake: migrate --wait, job failed: exit 1" 1 '"state":"failed"' \
		"job 100 failed: Cannot allocate memory"
	check_json "fake: migrate --wait --json is valid JSON"
	FAKEDEV_END=cancelled frun migrate --pid $$ --to 0 --wait
	check "fake: migrate --wait, job cancelled: exit 1" 1 "state: *cancelled" "cancelled"
	FAKEDEV_END=exited frun migrate --pid $$ --to 0 --wait
	check "fake: migrate --wait, target exited: warning, exit 0" 0 "state: *exited" \
		"warning: job 100: process $$ exited"

	FAKEDEV_MIGRATE_ERR=19 frun migrate --pid $$ --to 0
	check_one_error_line "fake: ENODEV names the node" 1 "node 0 has no memory or is offline"
	FAKEDEV_MIGRATE_ERR=1 frun migrate --pid $$ --to 0
	check_one_error_line "fake: EPERM explains permissions" 1 "Operation not permitted (need"
	FAKEDEV_MIGRATE_ERR=16 frun migrate --pid $$ --to 0
	check_one_error_line "fake: EBUSY" 1 "too many running jobs"
	FAKEDEV_FEATURES=0 frun migrate --pid $$ --to 0 --cpu 20
	check_one_error_line "fake: --cpu needs the cpu-budget feature" 1 "lacks: cpu-budget"

	# A fake cgroup: cgroup.procs is all numamigctl reads.
	mkdir "$T/cg"
	sleep 60 &
	s1=$!
	printf '%s\n%s\n%s\n%s\n' $$ "$s1" 999999 $$ >"$T/cg/cgroup.procs"
	: >"$T/log"
	FAKEDEV_ESRCH_PIDS=999999 frun migrate --cgroup "$T/cg" --to 0
	if [ "$rc" = 0 ] && [ "$(lines "$T/out")" = 2 ] &&
	   grep -q "pid 999999 skipped" "$T/err"; then
		ok "fake: --cgroup: one job per process, vanished pid skipped"
	else
		not_ok "fake: --cgroup: one job per process, vanished pid skipped" "rc=$rc"
	fi
	ino=$(stat -c %i "$T/cg")
	if [ "$(grep -c "group=$ino " "$T/log")" = 2 ]; then
		ok "fake: --cgroup ties the jobs with the directory's inode"
	else
		not_ok "fake: --cgroup ties the jobs with the directory's inode" "$(cat "$T/log")"
	fi
	FAKEDEV_ESRCH_PIDS="999999,$$,$s1" frun migrate --cgroup "$T/cg" --to 0
	check "fake: --cgroup with no process left: exit 1" 1 "" "could be migrated"
	frun migrate --cgroup "$T/nonexistent" --to 0
	check_one_error_line "fake: --cgroup of a missing directory" 1 "cannot access cgroup"

	# Ctrl-C during --wait cancels the jobs.  Not through fake(): $! must
	# be numamigctl itself.  The first plain progress line (after ~1 s)
	# shows the handler is in place; a guard keeps a bug from hanging us.
	NUMAMIGCTL_DEVICE=/dev/null LD_PRELOAD=$FAKEDEV FAKEDEV_END=never \
		"$NM" migrate --cgroup "$T/cg" --to 0 --wait >"$T/out" 2>"$T/err" &
	m=$!
	i=0
	while [ $i -lt 100 ] && ! grep -q '^job ' "$T/err"; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -INT $m
	i=0
	while [ $i -lt 50 ] && kill -0 $m 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 $m 2>/dev/null; then
		kill -KILL $m
		wait $m
		not_ok "fake: SIGINT during --wait cancels, exit 1" "still running 5 s after SIGINT"
	else
		wait $m
		rc=$?
		check "fake: SIGINT during --wait cancels, exit 1" 1 "state: *cancelled" "interrupted"
	fi
	kill "$s1" 2>/dev/null

	FAKEDEV_JOBS=$JOBS frun set 1 --batch 10 --sleep 5 --cpu 0
	check "fake: set" 0
	FAKEDEV_JOBS=$JOBS frun set 2 --batch 10
	check_one_error_line "fake: set on a finished job" 1 "job 2 has already finished"
	FAKEDEV_JOBS=$JOBS frun cancel 1
	check "fake: cancel" 0
	FAKEDEV_JOBS=$JOBS frun cancel 7
	check_one_error_line "fake: cancel of a missing job" 1 "no such job 7"
	FAKEDEV_JOBS=$JOBS frun wait 1
	check "fake: wait for a running job: done, exit 0" 0 "state: *done"
	FAKEDEV_JOBS=$JOBS frun wait 3
	check "fake: wait for a failed job: exit 1" 1 "state: *failed" "job 3 failed"
	FAKEDEV_JOBS=$JOBS frun wait 5
	check "fake: wait for a cancelled job: exit 1" 1 "state: *cancelled"
	FAKEDEV_JOBS=$JOBS frun wait 4
	check "fake: wait for an exited job: warning, exit 0" 0 "state: *exited" "warning"

	frun locality --pid $$
	check "fake: locality table" 0 "^total *4000 *15.6 *150 *100.0%"
	frun locality --pid $$ --json --clear
	check "fake: locality --json" 0 '"nodes":\[{"node":0,"pages":1000,"referenced":100}'
	check_json "fake: locality --json is valid JSON"
	FAKEDEV_ESRCH_PIDS=$$ frun locality --pid $$
	check_one_error_line "fake: locality of a missing process" 1 "No such process"
	FAKEDEV_FEATURES=1 frun locality --pid $$
	check_one_error_line "fake: locality needs the feature" 1 "lacks: locality"
	unset FAKEDEV_LOG
fi

# ---- hotcache: dump format, dump, show, diff, prefetch ------------------
#
# Dumps come from the stand-in module (FAKEDEV_HC lists the files it
# reports); prefetch needs a file system whose page cache can be dropped
# (not tmpfs): NUMAMIG_EXT4_DIR, /var/tmp or ../build, the first where
# POSIX_FADV_DONTNEED works.

PC=$here/test_pagecache

# Exit status, one line on stderr, nothing on stdout: a rejected dump.
bad_dump() {
	desc=$1 want=$2
	shift 2
	run hotcache show "$@"
	check_one_error_line "$desc" 1 "$want"
}

# The report's "N read" / "N already resident" numbers, from $T/err.
report_num() {
	sed -n "s/.* \([0-9][0-9]*\) $1.*/\1/p" "$T/err" | tail -n 1
}

if ! fake_tests; then
	skip "hotcache tests" "the real module is loaded: they ran on the host"
elif [ ! -r "$FAKEDEV" ] || [ ! -x "$PC" ]; then
	skip "hotcache tests" "test_fakedev.so or test_pagecache not built"
else
	export FAKEDEV_LOG="$T/log"
	: >"$T/log"
	hc="/srv/a=0+2:a,2+3:a,10+1:r,20+4:i;/srv/b=0+8:i;/srv/c=5+5:a@m;/srv/gone=0+1:a@d"

	FAKEDEV_HC=$hc FAKEDEV_HC_MAXRANGES=1 FAKEDEV_HC_PERCALL=1 \
		frun hotcache dump --pid $$ --sync -o "$T/d1"
	check "fake: hotcache dump -o, records one per call" 0 "" \
		"hotcache dump: 2 files, 10 hot pages (0.0 MiB) of 23 cached"
	if [ "$(grep -c "^hotcache pid=$$ fd=0 flags=2 " "$T/log")" -ge 6 ] &&
	   grep -q "cursor=0,1$" "$T/log" && grep -q "cursor=2,0$" "$T/log"; then
		ok "fake: dump follows the cursor, passes NUMAMIG_HOTCACHE_SYNC"
	else
		not_ok "fake: dump follows the cursor, passes NUMAMIG_HOTCACHE_SYNC" \
			"$(cat "$T/log")"
	fi
	check "fake: a deleted file is left out and counted" 0 "" \
		"left out: 1 deleted, 0 without a path"
	ls "$T" >"$T/ls"
	if grep -q '^d1\.' "$T/ls"; then
		not_ok "fake: dump -o leaves no temporary file" "$(cat "$T/ls")"
	else
		ok "fake: dump -o leaves no temporary file"
	fi
	run hotcache show "$T/d1"
	check "show: header" 0 "^contents: *hot pages only, page size [0-9]*, files synced first"
	check "show: columns" 0 "PAGES *MIB *RANGES *SIZE *MTIME *DEV:INODE *FILE"
	check "show: CONTINUED records joined, only hot ranges" 0 \
		"^ *5 *0.0 *1 *1048576 .* 0:1:[0-9]* *\/srv\/a$"
	check "show: totals" 0 "^total: 2 files, 10 pages"
	if grep -q "/srv/b" "$T/out"; then
		not_ok "show: a file without hot pages is dropped"
	else
		ok "show: a file without hot pages is dropped"
	fi
	run hotcache show "$T/d1" --json
	check "show --json: ranges" 0 \
		'"path":"/srv/a",.*"ranges":\[{"start":0,"pages":5,"class":"active"}\]'
	check_json "show --json is valid JSON"
	run hotcache show - <"$T/d1"
	check "show - reads standard input" 0 "^total: 2 files"

	FAKEDEV_HC=$hc frun hotcache dump --pid $$ --all-resident
	check "fake: dump to standard output (not a terminal)" 0 "" \
		"23 cached pages (0.1 MiB), 10 of them hot"
	cp "$T/out" "$T/dall"
	run hotcache show "$T/dall"
	check "show --all-resident dump: class columns" 0 \
		"^ *10 *5 *1 *4 .* /srv/a$"
	check "show --all-resident dump: the inactive file is kept" 0 \
		"^ *8 *0 *0 *8 .* /srv/b$"
	FAKEDEV_HC=$hc frun hotcache dump --pid $$ --json --all-resident
	check "fake: dump --json" 0 '"all_resident":true'
	check_json "dump --json is valid JSON"

	if command -v script >/dev/null 2>&1; then
		FAKEDEV_HC=$hc NUMAMIGCTL_DEVICE=/dev/null LD_PRELOAD=$FAKEDEV \
			script -qec "$NM hotcache dump --pid $$" /dev/null \
			>"$T/tty" 2>&1 </dev/null
		rc=$?
		if [ "$rc" = 2 ] && grep -q "refusing to write a binary dump to a terminal" "$T/tty"; then
			ok "dump refuses to write binary to a terminal: exit 2"
		else
			not_ok "dump refuses to write binary to a terminal: exit 2" \
				"rc=$rc: $(head -c 200 "$T/tty")"
		fi
	else
		skip "dump refuses to write binary to a terminal: exit 2" "no script(1)"
	fi

	# Two processes of a cgroup share a file: one entry, ranges united.
	mkdir -p "$T/hcg"
	sleep 60 &
	s2=$!
	printf '%s\n%s\n999999\n' $$ "$s2" >"$T/hcg/cgroup.procs"
	env "FAKEDEV_HC_$$=/srv/a=0+4:a;/srv/only1=0+1:a" \
	    "FAKEDEV_HC_$s2=/srv/a=2+6:a,20+2:a;/srv/only2=3+1:a" \
	    FAKEDEV_ESRCH_PIDS=999999 NUMAMIGCTL_DEVICE=/dev/null \
	    LD_PRELOAD="$FAKEDEV" "$NM" hotcache dump --cgroup "$T/hcg" --json \
	    >"$T/out" 2>"$T/err"
	rc=$?
	check "fake: dump --cgroup: files of all processes, exited one skipped" 0 \
		'"total_files":3' "pid 999999 skipped: it exited"
	check "fake: dump --cgroup: a shared file's ranges are united" 0 \
		'"path":"/srv/a",.*"ranges":\[{"start":0,"pages":8,"class":"active"},{"start":20,"pages":2,'
	check "fake: dump --cgroup: summary counts processes" 0 "" ", 2 processes"
	kill "$s2" 2>/dev/null
	printf '999999\n' >"$T/hcg/cgroup.procs"
	FAKEDEV_ESRCH_PIDS=999999 frun hotcache dump --cgroup "$T/hcg" -o "$T/x"
	check "fake: dump --cgroup with no process left: exit 1" 1 "" "could be dumped"

	FAKEDEV_ESRCH_PIDS=$$ frun hotcache dump --pid $$ -o "$T/x"
	check_one_error_line "fake: dump of a missing process" 1 "No such process"
	FAKEDEV_HC=$hc FAKEDEV_HC_BAD=1 frun hotcache dump --pid $$ -o "$T/x"
	check_one_error_line "fake: a malformed record from the module: exit 1" 1 \
		"malformed dump"
	if [ -e "$T/x" ]; then
		not_ok "fake: a failed dump writes no file"
	else
		ok "fake: a failed dump writes no file"
	fi
	FAKEDEV_FEATURES=7 frun hotcache dump --pid $$ -o "$T/x"
	check_one_error_line "fake: dump needs the hotcache feature" 1 "lacks: hotcache"
	frun hotcache dump --file "$T/no-such-file" -o "$T/x"
	check_one_error_line "dump --file of a missing file" 1 "cannot open"

	# ---- invalid dumps: one line, exit 1, never a crash ----
	bad_dump "show of a missing dump" "cannot read" "$T/no-such-dump"
	bad_dump "show of a file that is not a dump" "not a hotcache dump" "$here/Makefile"
	head -c 100 "$T/d1" >"$T/trunc"
	bad_dump "show of a truncated header" "truncated" "$T/trunc"
	size=$(wc -c <"$T/d1" | tr -d ' ')
	head -c $((size - 3)) "$T/d1" >"$T/trunc"
	bad_dump "show of a truncated dump" "truncated: .* bytes of files" "$T/trunc"
	# Flip one byte of the file list (after the 144-byte header).
	{ head -c 160 "$T/d1"; printf 'X'; tail -c +162 "$T/d1"; } >"$T/flip"
	bad_dump "show of a corrupted dump" "corrupted" "$T/flip"
	run hotcache prefetch "$T/flip"
	check_one_error_line "prefetch of a corrupted dump: exit 1" 1 "invalid hotcache dump"
	run hotcache diff "$T/d1" "$T/flip"
	check_one_error_line "diff with a corrupted dump: exit 1" 1 "invalid hotcache dump"
	# A little fuzzing: random cuts and flipped bytes.
	fuzz_bad=0
	i=0
	while [ $i -lt 40 ]; do
		r=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
		cut=$((r % size))
		pos=$((r % (size - 1) + 1))
		head -c "$cut" "$T/d1" >"$T/f1"
		{ head -c $((pos - 1)) "$T/d1"; printf '\377';
		  tail -c +$((pos + 1)) "$T/d1"; } >"$T/f2"
		for f in "$T/f1" "$T/f2"; do
			"$NM" hotcache show "$f" >"$T/out" 2>"$T/err"
			rc=$?
			if cmp -s "$f" "$T/d1"; then
				continue	# the byte was 0xff already
			fi
			if [ "$rc" != 1 ] || [ "$(lines "$T/err")" != 1 ] || [ -s "$T/out" ]; then
				fuzz_bad=$((fuzz_bad + 1))
				cp "$f" "$T/fuzz-failed"
			fi
		done
		i=$((i + 1))
	done
	if [ "$fuzz_bad" = 0 ]; then
		ok "fuzz: 40 truncated and 40 corrupted dumps: exit 1, one line each"
	else
		not_ok "fuzz: 40 truncated and 40 corrupted dumps: exit 1, one line each" \
			"$fuzz_bad bad"
	fi

	# ---- diff ----
	FAKEDEV_HC="/srv/f=0+64:a,256+64:a;/srv/gone=0+4:a" \
		frun hotcache dump --pid $$ -o "$T/old"
	FAKEDEV_HC="/srv/f=32+64:a,256+32:a;/srv/new=0+10:a" \
		frun hotcache dump --pid $$ -o "$T/new"
	run hotcache diff "$T/old" "$T/new"
	check "diff: pages added and dropped per file" 0 \
		"^~ /srv/f: 32 pages added (0.1 MiB), 64 dropped"
	check "diff: ranges" 0 "^    - 288-319$"
	check "diff: new file" 0 "^+ /srv/new (new file): 10 pages added"
	check "diff: gone file" 0 "^- /srv/gone (gone): 0 pages added (0.0 MiB), 4 dropped"
	check "diff: totals" 0 \
		"^total: 1 new, 1 gone, 1 changed, 0 unchanged files; 42 pages added (0.2 MiB), 68 dropped"
	run hotcache diff "$T/old" "$T/old"
	check "diff of a dump with itself: nothing" 0 \
		"^total: 0 new, 0 gone, 0 changed, 2 unchanged files; 0 pages added"
	run hotcache diff "$T/old" "$T/new" --json
	check "diff --json" 0 '"added_pages":42,"dropped_pages":68}$'
	check_json "diff --json is valid JSON"

	# ---- the CRIU action script ----
	A=$here/numamig-criu-action
	mkdir -p "$T/img" "$T/run"
	criu_action() {
		NUMAMIGCTL=$NM NUMAMIGCTL_DEVICE=/dev/null LD_PRELOAD=$FAKEDEV \
			CRTOOLS_IMAGE_DIR=$T/img NUMAMIG_RUNDIR=$T/run \
			CRTOOLS_SCRIPT_ACTION=$1 sh "$A" >"$T/out" 2>"$T/err"
		rc=$?
	}
	: >"$T/log"
	FAKEDEV_HC="/srv/a=0+4:a" CRTOOLS_INIT_PID=$$ criu_action post-dump
	if [ "$rc" = 0 ] && [ -f "$T/img/numamig-hotcache.bin" ] &&
	   grep -q "^hotcache pid=$$ fd=0 flags=2 " "$T/log"; then
		ok "criu action post-dump: dump --pid CRTOOLS_INIT_PID --sync into the images"
	else
		not_ok "criu action post-dump: dump --pid CRTOOLS_INIT_PID --sync into the images" \
			"rc=$rc $(cat "$T/log")"
	fi
	: >"$T/log"
	printf '%s\n' $$ >"$T/hcg/cgroup.procs"
	FAKEDEV_HC="/srv/a=0+4:a" NUMAMIG_HOTCACHE_CGROUP=$T/hcg criu_action post-dump
	check "criu action post-dump with NUMAMIG_HOTCACHE_CGROUP: --cgroup" 0 "" \
		"1 process$"
	# The CRIU plugin runs the script with every task of the tree.
	: >"$T/log"
	FAKEDEV_HC="/srv/a=0+4:a" CRTOOLS_INIT_PID=$$ NUMAMIG_CRIU_PLUGIN=1 \
		NUMAMIG_CRIU_CALLER=plugin NUMAMIG_CRIU_PIDS="$$ $PPID" criu_action post-dump
	if [ "$rc" = 0 ] && grep -q "^hotcache pid=$$ " "$T/log" &&
	   grep -q "^hotcache pid=$PPID " "$T/log" && grep -q "2 processes" "$T/err"; then
		ok "criu action post-dump from the plugin: dumps every task of NUMAMIG_CRIU_PIDS"
	else
		not_ok "criu action post-dump from the plugin: dumps every task" "rc=$rc" "$(cat "$T/err")"
	fi
	: >"$T/log"
	rm -f "$T/img/numamig-hotcache.bin"
	FAKEDEV_HC="/srv/a=0+4:a" CRTOOLS_INIT_PID=$$ NUMAMIG_CRIU_PLUGIN=1 criu_action post-dump
	if [ "$rc" = 0 ] && [ ! -s "$T/log" ] && [ ! -e "$T/img/numamig-hotcache.bin" ]; then
		ok "criu action with the plugin loaded: --action-script does nothing (no double dump)"
	else
		not_ok "criu action with the plugin loaded does nothing" "rc=$rc" "$(cat "$T/log")"
	fi
	FAKEDEV_ESRCH_PIDS=$$ CRTOOLS_INIT_PID=$$ criu_action post-dump
	if [ "$rc" = 0 ] && [ ! -e "$T/img/numamig-hotcache.bin" ] &&
	   grep -q "hot page cache not dumped" "$T/err"; then
		ok "criu action post-dump: a failed dump does not fail the checkpoint"
	else
		not_ok "criu action post-dump: a failed dump does not fail the checkpoint" "rc=$rc"
	fi
	criu_action pre-restore
	check "criu action pre-restore without a dump: exit 0, says so" 0 "" \
		"no hot page cache dump in the images"
	FAKEDEV_HC="/srv/a=0+4:a" CRTOOLS_INIT_PID=$$ criu_action post-dump
	NUMAMIG_HOTCACHE_MODE=sync criu_action pre-restore
	check "criu action pre-restore, sync: prefetches, never fails" 0 "" \
		"hotcache prefetch: 0 of 1 file (1 missing"
	criu_action pre-restore
	check "criu action pre-restore: prefetch in the background" 0 "" \
		"prefetching the hot page cache in the background"
	NUMAMIG_HOTCACHE_WAIT=10 criu_action post-restore
	if [ "$rc" = 0 ] && grep -q "post-restore: numamigctl: hotcache prefetch: 0 of 1 file " "$T/err" &&
	   grep -q "post-restore: numamigctl exit status 1" "$T/err" &&
	   [ -z "$(ls "$T/run" | grep -v '^prefetched\.')" ]; then
		ok "criu action post-restore: waits for the prefetch, reports it"
	else
		not_ok "criu action post-restore: waits for the prefetch, reports it" \
			"rc=$rc" "$(ls "$T/run")"
	fi
	CRTOOLS_IMAGE_DIR='' CRTOOLS_SCRIPT_ACTION=post-dump sh "$A" >"$T/out" 2>"$T/err"
	rc=$?
	check "criu action without CRIU's variables: exit 0" 0 "" "no images directory"
	criu_action network-lock
	if [ "$rc" = 0 ] && [ ! -s "$T/err" ]; then
		ok "criu action: other stages do nothing"
	else
		not_ok "criu action: other stages do nothing"
	fi

	# ---- prefetch on a file system with a page cache ----
	D=
	for base in "${NUMAMIG_EXT4_DIR:-}" /var/tmp "$here/../build"; do
		if [ -z "$base" ] || [ ! -d "$base" ] || [ ! -w "$base" ]; then
			continue
		fi
		D=$(mktemp -d "$base/numamigctl-hc.XXXXXX") || continue
		dd if=/dev/zero of="$D/f" bs=4096 count=1024 2>/dev/null
		if "$PC" evict "$D/f" 2>/dev/null && [ "$("$PC" resident "$D/f")" = - ]; then
			break
		fi
		rm -rf "$D"
		D=
	done
	if [ -z "$D" ]; then
		skip "prefetch tests" "no directory where the page cache can be dropped"
	else
		trap 'rm -rf "$T" "$D"' EXIT
		F=$D/f
		FAKEDEV_HC="$F=0+64:a,256+64:a,512+8:i;$D/missing=0+10:a" \
			frun hotcache dump --pid $$ -o "$T/p"
		"$PC" evict "$F"
		run hotcache prefetch "$T/p"
		check "prefetch: exit 0, a missing file counted" 0 "" \
			"1 of 2 files (1 missing, 0 unreadable), 128 pages requested"
		check "prefetch: warns about the missing file" 0 "" \
			"warning: $D/missing: missing, skipped"
		if [ "$("$PC" resident "$F")" = "0+64,256+64" ] &&
		   [ "$(report_num read)" = 128 ]; then
			ok "prefetch: exactly the dumped ranges are cached, 128 read"
		else
			not_ok "prefetch: exactly the dumped ranges are cached, 128 read" \
				"cached: $("$PC" resident "$F")" "$(tail -n 1 "$T/err")"
		fi
		run hotcache prefetch "$T/p"
		if [ "$(report_num "already resident")" = 128 ] &&
		   [ "$(report_num read)" = 0 ]; then
			ok "prefetch again: everything already resident, nothing read"
		else
			not_ok "prefetch again: everything already resident, nothing read" \
				"$(tail -n 1 "$T/err")"
		fi
		for m in fadvise pread; do
			"$PC" evict "$F"
			NUMAMIGCTL_PREFETCH_METHOD=$m run hotcache prefetch "$T/p" --jobs 1
			if [ "$rc" = 0 ] && [ "$("$PC" resident "$F")" = "0+64,256+64" ]; then
				ok "prefetch with $m, one job: the dumped ranges are cached"
			else
				not_ok "prefetch with $m, one job: the dumped ranges are cached" \
					"rc=$rc cached: $("$PC" resident "$F")"
			fi
		done
		"$PC" evict "$F"
		NUMAMIGCTL_PREFETCH_CHUNK_KB=16 run hotcache prefetch "$T/p" --jobs 8
		if [ "$rc" = 0 ] && [ "$("$PC" resident "$F")" = "0+64,256+64" ] &&
		   [ "$(report_num read)" = 128 ]; then
			ok "prefetch with 8 jobs and 16 KiB chunks"
		else
			not_ok "prefetch with 8 jobs and 16 KiB chunks" \
				"rc=$rc cached: $("$PC" resident "$F")"
		fi
		# 512 KiB at 1 MiB/s: the second 256 KiB run waits ~0.25 s.
		"$PC" evict "$F"
		run hotcache prefetch "$T/p" --rate 1
		secs=$(sed -n 's/.*; \([0-9]*\.[0-9]*\) s,.*/\1/p' "$T/err")
		if [ "$rc" = 0 ] && awk "BEGIN { exit !($secs >= 0.2) }"; then
			ok "prefetch --rate 1 takes its time (${secs} s)"
		else
			not_ok "prefetch --rate 1 takes its time" "rc=$rc secs=$secs"
		fi

		# --root: the dump's paths are looked up under DIR, symlinks
		# resolved inside it.
		mkdir -p "$D/root/sub" "$D/root2/sub"
		dd if=/dev/zero of="$D/root/sub/g" bs=4096 count=16 2>/dev/null
		"$PC" evict "$D/root/sub/g"
		ln -s "$D/root/sub/g" "$D/root2/sub/g"
		FAKEDEV_HC="/sub/g=0+4:a" frun hotcache dump --pid $$ -o "$T/r"
		run hotcache prefetch "$T/r" --root "$D/root/"
		if [ "$rc" = 0 ] && [ "$("$PC" resident "$D/root/sub/g")" = "0+4" ]; then
			ok "prefetch --root DIR reads DIR/path"
		else
			not_ok "prefetch --root DIR reads DIR/path" "rc=$rc"
		fi
		run hotcache prefetch "$T/r"
		check "prefetch without --root: every file missing, exit 1" 1 "" \
			"no file of the dump could be read"
		run hotcache prefetch "$T/r" --root "$D/root2"
		check "prefetch --root: an absolute symlink stays inside the root" 1 "" \
			"root2/sub/g: missing"
		run hotcache prefetch "$T/r" --root "$D/nonexistent"
		check_one_error_line "prefetch --root of a missing directory: exit 1" 1 \
			"cannot open root"

		# Identity: a file that changed since the dump.
		"$PC" evict "$F"
		touch -d "2001-01-01" "$F"
		run hotcache prefetch "$T/p" --verify-identity
		check "prefetch --verify-identity skips a changed file: exit 1" 1 "" \
			"$F changed since the dump (mtime), skipped"
		check "prefetch --verify-identity: counted as changed" 1 "" \
			"1 changed (skipped)"
		if [ "$("$PC" resident "$F")" = - ]; then
			ok "prefetch --verify-identity read nothing of it"
		else
			not_ok "prefetch --verify-identity read nothing of it"
		fi
		run hotcache prefetch "$T/p"
		check "prefetch of a changed file without --verify-identity: warning, read" 0 "" \
			"changed since the dump (mtime): prefetching within its current size"
		# Shrunk below the second range: only what is left is read.
		"$PC" evict "$F"
		truncate -s $((4096 * 100)) "$F"
		run hotcache prefetch "$T/p"
		if [ "$rc" = 0 ] && [ "$("$PC" resident "$F")" = "0+64" ] &&
		   grep -q "size 4194304 -> 409600" "$T/err" &&
		   grep -q "64 pages requested" "$T/err"; then
			ok "prefetch of a shrunk file reads only within its size"
		else
			not_ok "prefetch of a shrunk file reads only within its size" \
				"rc=$rc cached: $("$PC" resident "$F")"
		fi

		# dump --file: the file's cached pages.
		"$PC" evict "$F"
		"$PC" read "$F" 3+5 1 40+2 1 >"$T/rd" &
		rp=$!
		i=0
		while [ $i -lt 50 ] && ! grep -q ready "$T/rd"; do
			sleep 0.1
			i=$((i + 1))
		done
		kill "$rp" 2>/dev/null
		wait "$rp" 2>/dev/null
		frun hotcache dump --file "$F" -o "$T/fd"
		if [ "$rc" = 0 ] && [ "$("$PC" dumped "$T/fd" "$F")" = "3+5,40+2" ] &&
		   grep -q "hotcache pid=0 fd=[0-9]* flags=1 " "$T/log"; then
			ok "fake: dump --file passes NUMAMIG_HOTCACHE_FD, lists its pages"
		else
			not_ok "fake: dump --file passes NUMAMIG_HOTCACHE_FD, lists its pages" \
				"rc=$rc: $("$PC" dumped "$T/fd" "$F")"
		fi
	fi
	unset FAKEDEV_LOG
fi

# ---- against the real module (guest) ----------------------------------

if [ ! -w /dev/numamig ] || [ -n "$NUMAMIGCTL_DEVICE" ]; then
	skip "live module tests" "no writable /dev/numamig"
else
	run --version
	check "live: --version shows the module API" 0 "^module: API "
	run list
	check "live: list" 0 "^ *JOB"
	run status 18446744073709551615
	check_one_error_line "live: status of a missing job" 1 "no such job"
	run locality --pid $$
	check "live: locality of this shell" 0 "^total "
	# Moving a sleeping process to node 0: whatever the topology, it ends.
	# Wait for its exec first: a job started on the forked shell's mm
	# rightly ends "exited" when exec replaces that mm.
	sleep 60 &
	s1=$!
	exec_done "$s1"
	run migrate --pid "$s1" --to 0 --wait
	check "live: migrate --wait of a sleeping process" 0 "state: *done"
	run migrate --pid "$s1" --to 0 --policy eager --json
	check "live: migrate --json" 0 '^{"jobs":\[{"job":'
	job=$(sed 's/.*"job":\([0-9]*\).*/\1/' "$T/out")
	run wait "$job"
	check "live: wait JOB" 0 "state: *done"
	if [ -d /sys/devices/system/node/node1 ]; then
		run migrate --pid "$s1" --to 1 --from 0 --wait
		check "live: migrate --from 0 --to 1 --wait" 0 "state: *done"
	else
		skip "live: migrate --from 0 --to 1 --wait" "one node"
	fi
	run cancel "$job"
	check "live: cancel of a finished job succeeds" 0
	run hotcache dump --pid $$ --all-resident -o "$T/live.hc"
	check "live: hotcache dump of this shell" 0 "" "^numamigctl: hotcache dump: "
	run hotcache show "$T/live.hc"
	check "live: hotcache show of that dump" 0 "^total: "
	run hotcache dump --pid 999999999 -o "$T/live.hc"
	check_one_error_line "live: hotcache dump of a missing process" 1 "No such process"

	# A real cgroup (v2) holding two processes: two jobs, one group.
	cg=/sys/fs/cgroup/numamigctl-test.$$
	if [ -w /sys/fs/cgroup/cgroup.procs ] && mkdir "$cg" 2>/dev/null; then
		sleep 60 &
		s2=$!
		exec_done "$s2"
		echo "$s1" >"$cg/cgroup.procs"
		echo "$s2" >"$cg/cgroup.procs"
		run migrate --cgroup "$cg" --to 0 --wait --json
		check "live: migrate --cgroup --wait --json" 0 '"state":"done"'
		ino=$(stat -c %i "$cg")
		if [ "$(grep -o "\"group\":$ino," "$T/out" | wc -l)" = 2 ]; then
			ok "live: --cgroup started one job per process, one group"
		else
			not_ok "live: --cgroup started one job per process, one group" \
				"$(head -c 300 "$T/out")"
		fi
		kill "$s2" 2>/dev/null
		wait "$s2" 2>/dev/null
		echo "$s1" >/sys/fs/cgroup/cgroup.procs
		rmdir "$cg"
	else
		skip "live: migrate --cgroup" "cannot make a cgroup"
		skip "live: --cgroup started one job per process, one group" "cannot make a cgroup"
	fi
	kill "$s1" 2>/dev/null
fi

echo "1..$n"
[ "$failed" = 0 ]
