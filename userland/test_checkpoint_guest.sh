#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# numamig-checkpoint (residual checkpoints, PAPERS.md 002) against the real
# CRIU, TAP output (the plan comes last).  Run as root in the test VM
# (userland/TESTS); skips (exit status 4) without criu, crit, python3, gcc
# or root.  What a user relies on:
#  - after a restore with tracking started at pre-resume (numamig-criu-action,
#    else simulated here), the next checkpoint writes about the pages changed
#    since, far fewer than a full dump, and a restore from it has every page
#    right
#  - a chain longer than --max-chain is re-based (a full dump, said so)
#  - --leave-running chains the next checkpoint on the new images
#  - a missing parent, a directory that is not images and the images of
#    another process are refused with one line; nothing is dumped and the
#    process goes on running
#
# Environment: CRIU, CRIT (the binaries), KEEP=1 keeps the temporary dir.

here=$(cd "$(dirname "$0")" && pwd)
CK=$here/numamig-checkpoint
ACTION=$here/numamig-criu-action
CRIU=${CRIU:-criu}
export CRIU CRIT=${CRIT:-crit}

skip_all() {
	echo "1..0 # SKIP $*"
	exit 4
}

[ "$(id -u)" = 0 ] || skip_all "not root"
command -v "$CRIU" >/dev/null || skip_all "criu is not installed"
command -v "$CRIT" >/dev/null || skip_all "crit is not installed"
command -v python3 >/dev/null || skip_all "python3 is not installed"
command -v gcc >/dev/null || skip_all "gcc is not installed"

# What CRIU needs in the guest (FACTS.md).
ip link set lo up 2>/dev/null
modprobe -a nf_tables unix_diag inet_diag tcp_diag udp_diag raw_diag \
	netlink_diag packet_diag nft_compat x_tables xt_mark tun 2>/dev/null
"$CRIU" check >/dev/null 2>&1 || skip_all "criu check fails: $("$CRIU" check 2>&1 | tail -n 1)"

T=$(mktemp -d "${TMPDIR:-/tmp}/numamig-ck.XXXXXX") || exit 1
export NUMAMIG_RUNDIR=$T/run
pids=()
# shellcheck disable=SC2317 # run by the trap
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	[ "${KEEP:-}" = 1 ] && { echo "# kept $T"; return; }
	rm -rf "$T"
}
trap cleanup EXIT
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
	n=$((n + 1)); failed=$((failed + 1))
	echo "not ok $n - $1"; shift
	for l in "$@"; do echo "#   $l"; done
	[ -s "$T/err" ] && sed 's/^/#   stderr: /' "$T/err" | head -5
}
finish() {
	echo "1..$n"
	[ "$failed" = 0 ]
	exit
}

# ---- the workload ----------------------------------------------------------
# wl STATE MIB: MIB MiB, page i filled with words of f(i, gen[i]); SIGUSR1
# rewrites the first 10% of the pages with gen + 1 (contiguous: a THP is
# soft-dirty as a whole, so scattered writes dirty every huge page), SIGUSR2 checks every page.  Each
# answer replaces the STATE file: "ready", "dirtied K", "verify ok N" or
# "verify bad N first I".
cat >"$T/wl.c" <<'EOF'
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#define PG 4096
static char *mem; static unsigned char *gen; static long npages; static const char *state;
static void fill(long i)
{
	uint64_t *w = (uint64_t *)(mem + i * PG), v = (uint64_t)i * 0x9E3779B97F4A7C15ull ^ gen[i];
	for (int k = 0; k < PG / 8; k++)
		w[k] = v + k;
}
static void say(const char *fmt, long a, long b)
{
	char tmp[4096]; FILE *f;
	snprintf(tmp, sizeof(tmp), "%s.tmp", state);
	if (!(f = fopen(tmp, "w"))) exit(1);
	fprintf(f, fmt, a, b); fputc('\n', f); fclose(f);
	rename(tmp, state);
}
int main(int argc, char **argv)
{
	sigset_t set; int sig; long i, k, bad, first;
	state = argv[1];
	npages = atol(argv[2]) * 1024 * 1024 / PG;
	mem = mmap(NULL, npages * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	gen = calloc(npages, 1);
	if (mem == MAP_FAILED || !gen) return 1;
	madvise(mem, npages * PG, MADV_NOHUGEPAGE);
	for (i = 0; i < npages; i++) fill(i);
	sigemptyset(&set); sigaddset(&set, SIGUSR1); sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	say("ready %ld%.0ld", npages, 0);
	for (;;) {
		if (sigwait(&set, &sig)) continue;
		if (sig == SIGUSR1) {
			for (i = k = 0; i < npages / 10; i++, k++) { gen[i]++; fill(i); }
			say("dirtied %ld%.0ld", k, 0);
		} else {
			for (i = bad = 0, first = -1; i < npages; i++) {
				uint64_t *w = (uint64_t *)(mem + i * PG), v = (uint64_t)i * 0x9E3779B97F4A7C15ull ^ gen[i];
				for (k = 0; k < PG / 8; k++)
					if (w[k] != v + k) break;
				if (k < PG / 8) { bad++; if (first < 0) first = i; }
			}
			if (bad) say("verify bad %ld first %ld", bad, first);
			else say("verify ok %ld%.0ld", npages, 0);
		}
	}
}
EOF
if ! gcc -O2 -Wall -o "$T/wl" "$T/wl.c" 2>"$T/err"; then
	not_ok "the workload builds"
	finish
fi

# wait_state FILE PATTERN: up to 60 s.
wait_state() {
	local i=0
	while [ $i -lt 600 ]; do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
# start STATE MIB: a detached workload, its pid in $wpid.
start() {
	setsid "$T/wl" "$1" "$2" </dev/null >/dev/null 2>&1 &
	wpid=$!
	pids+=("$wpid")
	wait_state "$1" '^ready'
}
# sig SIGNAL PATTERN: ask the workload, wait for its answer.
sig() {
	rm -f "$S"
	kill -"$1" "$wpid" && wait_state "$S" "$2"
}
# restore DIR: criu restore -d, with the action script at pre-resume; the
# record and the soft-dirty reset are simulated when it does not write it.
restore() {
	local i=0
	rm -f "$NUMAMIG_RUNDIR/restored/$wpid"
	while [ -d "/proc/$wpid" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	set -- restore -d -D "$1" -o restore.log
	[ -x "$ACTION" ] && set -- "$@" --action-script "$ACTION"
	"$CRIU" "$@" >/dev/null 2>"$T/err" || return 1
	[ -d "/proc/$wpid" ] || return 1
	if [ -f "$NUMAMIG_RUNDIR/restored/$wpid" ]; then
		how="numamig-criu-action at pre-resume"
		return 0
	fi
	# The workload waits for a signal: its memory is still the images'.
	how="simulated after the restore"
	echo 4 >"/proc/$wpid/clear_refs" || return 1
	s=$(cat "/proc/$wpid/stat"); s=${s##*) }
	# shellcheck disable=SC2086 # fields
	set -- $s
	mkdir -p "$NUMAMIG_RUNDIR/restored"
	{
		echo "pid=$wpid"; echo "starttime=${20}"; echo "images=$(cd "$D" && pwd -P)"
		echo "pids=$wpid"; echo "time=$(date +%s)"; echo "tracking=soft-dirty"
	} >"$NUMAMIG_RUNDIR/restored/$wpid"
}
# ck ARGS...: numamig-checkpoint --json, its fields in $j_*.
j_mode='' j_reason='' j_pages_written='' j_pages_skipped_parent='' j_chain_length='' j_dump_seconds=''
ck() {
	"$CK" --json "$@" >"$T/out" 2>"$T/err"
	rc=$?
	eval "$(python3 -c 'import json,sys
try: d=json.load(open(sys.argv[1]))
except Exception: d={}
for k in ("mode","reason","pages_written","pages_skipped_parent","chain_length","image_bytes","dump_seconds"):
	print("j_%s=%s" % (k, json.dumps(str(d.get(k, "")))))' "$T/out")"
}
stat_written() {
	"$CRIT" decode -i "$1/stats-dump" 2>/dev/null |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["entries"][0]["dump"]["pages_written"])'
}
alive() { [ -d "/proc/$wpid" ] && [ "$(cut -d ' ' -f 3 "/proc/$wpid/stat")" != Z ]; }

S=$T/state
MIB=64
PAGES=$((MIB * 256))
echo "# $(uname -r), $("$CRIU" --version | head -n 1), workload $MIB MiB"

# ---- full, restore, incremental, restore -----------------------------------

if ! start "$S" $MIB; then
	not_ok "the workload starts"
	finish
fi
D=$T/g1
mkdir -p "$D"
if "$CRIU" dump -t "$wpid" -D "$D" -o dump.log 2>"$T/err"; then
	wait "$wpid" 2>/dev/null
	full=$(stat_written "$D")
	ok "full dump (criu dump): $full pages written"
else
	not_ok "full dump (criu dump)" "$(grep Error "$D/dump.log" | tail -n 1)"
	finish
fi
if restore "$D" && sig USR2 '^verify'; then
	ok "restore -d of g1, tracking started ($how): $(cat "$S")"
else
	not_ok "restore -d of g1" "$(grep Error "$D/restore.log" | tail -n 1)"
	finish
fi

sig USR1 '^dirtied' || not_ok "the workload rewrites 10% of its pages"
dirtied=$(sed -n 's/^dirtied //p' "$S")
D=$T/g2
ck -t "$wpid" -D "$D"
echo "# $(cat "$T/out")"
wait "$wpid" 2>/dev/null
slack=512
if [ "$rc" = 0 ] && [ "$j_mode" = incremental ] && [ "$j_chain_length" = 2 ] &&
   [ "$j_pages_written" -ge "$dirtied" ] && [ "$j_pages_written" -le $((dirtied + slack)) ] &&
   [ "$j_pages_skipped_parent" -ge $((PAGES - dirtied - slack)) ]; then
	ok "incremental checkpoint: $j_pages_written pages written for $dirtied rewritten (full: $full), $j_pages_skipped_parent in parent, ${j_dump_seconds}s"
else
	not_ok "incremental checkpoint writes about the rewritten pages" \
		"rc=$rc mode=$j_mode chain=$j_chain_length written=$j_pages_written skipped=$j_pages_skipped_parent dirtied=$dirtied"
fi
if [ -n "$j_pages_written" ] && [ "$j_pages_written" -lt $((full / 4)) ]; then
	ok "far below the full dump ($j_pages_written < $full / 4)"
else
	not_ok "far below the full dump" "written=$j_pages_written full=$full"
fi
if [ -L "$D/parent" ]; then
	ok "g2 has a parent link ($(readlink "$D/parent"))"
else
	not_ok "g2 has a parent link"
fi
if restore "$D" && sig USR2 '^verify' && grep -q "^verify ok $PAGES$" "$S"; then
	ok "restore -d of g2 (through its parent): every page right ($(cat "$S"))"
else
	not_ok "restore -d of g2: every page right" "$(cat "$S" 2>/dev/null)" \
		"$(grep Error "$D/restore.log" 2>/dev/null | tail -n 1)"
fi

# ---- re-base, leave-running ---------------------------------------------------

sig USR1 '^dirtied'
D=$T/g3
ck -t "$wpid" -D "$D" --max-chain 2 --leave-running
if [ "$rc" = 0 ] && [ "$j_mode" = full ] && [ "$j_chain_length" = 1 ] &&
   echo "$j_reason" | grep -q 're-based' && [ "$j_pages_written" -ge "$PAGES" ] && alive; then
	ok "a chain past --max-chain 2 is re-based: $j_reason"
else
	not_ok "a chain past --max-chain 2 is re-based" \
		"rc=$rc mode=$j_mode chain=$j_chain_length reason=$j_reason written=$j_pages_written"
fi
if grep -q "^images=$D$" "$NUMAMIG_RUNDIR/restored/$wpid" 2>/dev/null; then
	ok "--leave-running rewrote the record: the next checkpoint chains on g3"
else
	not_ok "--leave-running rewrote the record" "$(cat "$NUMAMIG_RUNDIR/restored/$wpid" 2>&1)"
fi

# ---- refusals (the workload runs) ---------------------------------------------

mkdir "$T/notimages" && echo x >"$T/notimages/file"
o=''
start "$T/state2" 1 && o=$wpid
mkdir -p "$T/other"
if [ -n "$o" ] && "$CRIU" dump -t "$o" -D "$T/other" -o dump.log 2>"$T/err"; then
	wait "$o" 2>/dev/null
fi
wpid=${pids[0]}
# refused DESC PARENT WORD: exit 1, one line with WORD, nothing dumped.
refused() {
	rm -rf "$T/r"
	"$CK" -t "$wpid" -D "$T/r" --parent "$2" >"$T/out" 2>"$T/err"
	rc=$?
	if [ "$rc" = 1 ] && [ "$(wc -l <"$T/err")" = 1 ] && grep -q "$3" "$T/err" &&
	   [ ! -e "$T/r" ] && [ ! -s "$T/out" ] && alive; then
		ok "$1 is refused: $(cat "$T/err")"
	else
		not_ok "$1 is refused with one line, nothing dumped" "rc=$rc" \
			"r: $(find "$T/r" 2>&1 | head -3 | tr '\n' ' ')"
	fi
}
refused "a missing parent" "$T/nonexistent" "does not exist"
refused "a parent that is not images" "$T/notimages" "not a CRIU images directory"
if [ -f "$T/other/pstree.img" ]; then
	refused "the images of another process" "$T/other" "foreign"
else
	not_ok "the images of another process are refused" "could not dump the second workload"
fi
mkdir -p "$T/r" && touch "$T/r/x"
"$CK" -t "$wpid" -D "$T/r" >"$T/out" 2>"$T/err"
rc=$?
if [ "$rc" = 1 ] && grep -q "not empty" "$T/err" && alive; then
	ok "a non-empty IMAGES_DIR is refused: $(cat "$T/err")"
else
	not_ok "a non-empty IMAGES_DIR is refused" "rc=$rc"
fi
"$CK" -t "$wpid" >"$T/out" 2>"$T/err"
if [ $? = 2 ]; then ok "no -D: exit status 2"; else not_ok "no -D: exit status 2"; fi

# ---- chain on a --leave-running dump, restore -------------------------------

sig USR1 '^dirtied'
D=$T/g4
ck -t "$wpid" -D "$D"
wait "$wpid" 2>/dev/null
if [ "$rc" = 0 ] && [ "$j_mode" = incremental ] && [ "$j_chain_length" = 2 ] &&
   [ "$j_pages_written" -le $((dirtied + slack)) ]; then
	ok "incremental on the --leave-running dump: $j_pages_written pages written, chain $j_chain_length"
else
	not_ok "incremental on the --leave-running dump" \
		"rc=$rc mode=$j_mode chain=$j_chain_length written=$j_pages_written reason=$j_reason"
fi
if restore "$D" && sig USR2 '^verify' && grep -q "^verify ok $PAGES$" "$S"; then
	ok "restore -d of g4: every page right"
else
	not_ok "restore -d of g4: every page right" "$(cat "$S" 2>/dev/null)" \
		"$(grep Error "$D/restore.log" 2>/dev/null | tail -n 1)"
fi
finish
