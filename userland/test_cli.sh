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

run migrate --pid 1 --to 0 --batch 0
check "the usage error names the bad option" 2 "" "--batch '0'"

# ---- help and version -------------------------------------------------

for args in --help -h "migrate --help" "status --help" "list --help" \
	    "cancel --help" "wait --help" "set --help" "locality --help" \
	    "migrate -h" "set 1 --help"; do
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

# ---- against the stand-in module --------------------------------------

fake() {
	NUMAMIGCTL_DEVICE=/dev/null LD_PRELOAD=$FAKEDEV "$@"
}

frun() {
	fake "$NM" "$@" >"$T/out" 2>"$T/err"
	rc=$?
}

if [ ! -r "$FAKEDEV" ]; then
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
	if grep -q "policy=2 batch=512 sleep=0 .* flags=4$" "$T/log"; then
		ok "fake: --sleep 0 is passed with NUMAMIG_MIGRATE_SLEEP_SET"
	else
		not_ok "fake: --sleep 0 is passed with NUMAMIG_MIGRATE_SLEEP_SET" "$(cat "$T/log")"
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
	sleep 60 &
	s1=$!
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

	# A real cgroup (v2) holding two processes: two jobs, one group.
	cg=/sys/fs/cgroup/numamigctl-test.$$
	if [ -w /sys/fs/cgroup/cgroup.procs ] && mkdir "$cg" 2>/dev/null; then
		sleep 60 &
		s2=$!
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
