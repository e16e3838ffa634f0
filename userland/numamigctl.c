// SPDX-License-Identifier: GPL-2.0
/*
 * numamigctl - control numamig, throttled hot-first NUMA migration of a
 * process's anonymous memory (/dev/numamig), and carry its hot page cache
 * to another host (hotcache.c).  See numamigctl(8).
 *
 * Exit status: 0 success, 1 failure, 2 usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"
#include "move.h"
#include "movestate.h"
#include "msg.h"
#include "nmctl_ioctl.h"
#include "show.h"
#include "watch.h"

#ifndef NUMAMIGCTL_VERSION
#define NUMAMIGCTL_VERSION "0.1"
#endif

/* ------------------------------------------------------------------ */
/* Usage                                                              */
/* ------------------------------------------------------------------ */

static const char usage_main[] =
"Usage:\n"
" numamigctl <command> [options]\n"
"\n"
"Move a process's anonymous memory to another NUMA node, lazily: a\n"
"throttled kernel thread moves the hot pages first (/dev/numamig).\n"
"\n"
"Commands:\n"
" migrate (--pid PID | --cgroup DIR) --to NODE [options]\n"
"                     start migrating; prints the job id(s)\n"
" move (--cgroup DIR | --container ID) --to NODE [options]\n"
"                     move a whole container: CPUs, memory, cpuset\n"
"                     files; prints the move id (mN)\n"
" top [--cgroup DIR ... | --container ID ... | -p PID ...]\n"
"                     memory and hot memory per node, moves in flight\n"
" status [JOB|MOVE]   show one job or move, or every job, in detail\n"
" list                one line per move and job\n"
" cancel JOB|MOVE     stop a job, or a whole move\n"
" wait JOB|MOVE       block until a job or move has finished\n"
" set JOB [options]   change the throttle of a running job\n"
" locality --pid PID  pages of a process per node, and referenced pages\n"
" hotcache dump|show|prefetch|diff\n"
"                     carry a process's hot page cache to another host\n"
"\n"
"Options:\n"
" -h, --help          display this help\n"
" -V, --version       display the version and the module's API\n"
"\n"
"Run 'numamigctl <command> --help' for the options of a command.\n"
"Exit status: 0 success, 1 failure, 2 usage error.  See numamigctl(8).\n";


static const char usage_status[] =
"Usage:\n"
" numamigctl status [JOB|MOVE] [--json]\n"
"\n"
"Show a job (or every job the module holds) in detail: state, throttle,\n"
"pages scanned/referenced/queued/migrated/failed/remaining, skipped pages\n"
"by reason, THP splits, batches, elapsed, CPU and sleep time.  For a move\n"
"(mN): its state, cgroup, cpuset files before and now, totals, and one\n"
"line per process.\n"
"\n"
"Options:\n"
"     --json            print JSON (an object for JOB, else {\"jobs\":[...]})\n"
" -h, --help            display this help\n";

static const char usage_list[] =
"Usage:\n"
" numamigctl list [--json]\n"
"\n"
"One line per move (mN), with its jobs indented under it, then one line\n"
"per other job, oldest first.\n"
"Columns: JOB PID STATE POLICY TO MIGRATED QUEUED ELAPSED\n"
"(MIGRATED and QUEUED in pages).  --json: an array of job objects and\n"
"move objects ({\"move\":\"mN\",...,\"jobs\":[...]}).\n"
"\n"
"Options:\n"
"     --json            print a JSON array\n"
" -h, --help            display this help\n";

static const char usage_cancel[] =
"Usage:\n"
" numamigctl cancel JOB|MOVE\n"
"\n"
"Stop a job; pages already moved stay where they are.  Cancelling a\n"
"finished job succeeds and changes nothing.  A move (mN), or any job of\n"
"one, is stopped as a whole and its cpuset files are put back.\n"
"\n"
"Options:\n"
" -h, --help            display this help\n";

static const char usage_wait[] =
"Usage:\n"
" numamigctl wait JOB|MOVE\n"
"\n"
"Block until JOB (or move mN) has finished, then print its status.  Exit\n"
"status 0 when it is done (or its process exited: a warning), 1 when it\n"
"failed or was cancelled.\n"
"\n"
"Options:\n"
" -h, --help            display this help\n";

static const char usage_set[] =
"Usage:\n"
" numamigctl set JOB [--batch PAGES] [--sleep MS] [--cpu PERCENT]\n"
"\n"
"Change the throttle of a running job; it takes effect at once.\n"
"\n"
"Options:\n"
"     --batch PAGES     pages per batch, 1..16777216\n"
"     --sleep MS        pause after each batch, 0..60000\n"
"     --cpu PERCENT     CPU budget, 0 (off)..100\n"
" -h, --help            display this help\n";

static const char usage_locality[] =
"Usage:\n"
" numamigctl locality --pid PID [--clear] [--json]\n"
"\n"
"Present anonymous pages of a process per node, and how many of them are\n"
"referenced (Accessed bit or PG_referenced set).\n"
"Columns: NODE PAGES MIB REFERENCED PERCENT (of all pages)\n"
"\n"
"Options:\n"
"     --pid PID         the process\n"
"     --clear           also clear the Accessed bits, so that the next call\n"
"                       counts the pages referenced since this one\n"
"     --json            print JSON\n"
" -h, --help            display this help\n";

/* ------------------------------------------------------------------ */
/* status, list                                                       */
/* ------------------------------------------------------------------ */

static const struct option json_opts[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/*
 * Status of every job the module holds, oldest first.  Jobs pushed out
 * between LIST and STATUS are simply gone: skip them.
 */
static int all_statuses(struct nmctl_dev *dev, struct job **jobs, size_t *n)
{
	__u64 *ids;
	size_t count, kept = 0;
	int r;

	r = nmctl_list(dev, &ids, &count);
	if (r < 0) {
		nm_err(-r, nmctl_common_hint(-r), "list jobs");
		return -1;
	}
	*jobs = calloc(count ? count : 1, sizeof(**jobs));
	if (!*jobs) {
		free(ids);
		nm_err(ENOMEM, NULL, "list jobs");
		return -1;
	}
	for (size_t i = 0; i < count; i++) {
		struct job *j = &(*jobs)[kept];

		r = nmctl_status(dev, ids[i], &j->st);
		if (r == -ENOENT)
			continue;
		if (r < 0) {
			job_error(-r, "status of", ids[i]);
			free(ids);
			free(*jobs);
			*jobs = NULL;
			return -1;
		}
		j->id = ids[i];
		j->pid = j->st.pid;
		j->have_st = true;
		kept++;
	}
	free(ids);
	*n = kept;
	return 0;
}

static int cmd_status(int argc, char **argv)
{
	const char *cmd = "status", *arg;
	struct nmctl_dev dev;
	struct job one = { 0 }, *jobs = NULL;
	bool json = false;
	size_t n = 0;
	__u64 id = 0;
	int c, r, ret = EXIT_OK;

	while ((c = next_opt(cmd, argc, argv, json_opts)) != -1) {
		if (c == 'h')
			return help(usage_status);
		if (c != OPT_JSON)
			return EXIT_USAGE;
		json = true;
	}
	if (positional(cmd, argc, argv, true, &arg) < 0)
		return EXIT_USAGE;
	if (arg && move_is_id(arg)) {
		unsigned int mid;

		move_parse_id(arg, &mid);
		return move_status_cmd(mid, json);
	}
	if (arg && parse_job(cmd, arg, &id) < 0)
		return EXIT_USAGE;
	if (nmctl_open(&dev, 0) < 0)
		return EXIT_FAIL;

	if (arg) {
		r = nmctl_status(&dev, id, &one.st);
		if (r < 0) {
			job_error(-r, "status of", id);
			ret = EXIT_FAIL;
		} else if (json) {
			struct json j;

			json_init(&j, stdout);
			show_status_json(&j, &one.st);
		} else {
			show_status_text(stdout, &one.st);
		}
	} else if (all_statuses(&dev, &jobs, &n) < 0) {
		ret = EXIT_FAIL;
	} else {
		print_statuses(jobs, n, json);
	}
	free(jobs);
	nmctl_close(&dev);
	if (finish_stdout() != EXIT_OK)
		ret = EXIT_FAIL;
	return ret;
}

/* Moves with their jobs first, then the jobs of no move. */
static int list_all(struct nmctl_dev *dev, const struct job *jobs, size_t n,
		    bool json)
{
	__u64 *ids = calloc(n + 1, sizeof(*ids));
	bool *shown = calloc(n + 1, sizeof(*shown));
	struct json j;

	if (!ids || !shown) {
		free(ids);
		free(shown);
		nm_err(ENOMEM, NULL, "list");
		return EXIT_FAIL;
	}
	for (size_t i = 0; i < n; i++)
		ids[i] = jobs[i].id;
	if (json) {
		json_init(&j, stdout);
		json_begin_array(&j, NULL);
	} else {
		show_list_header(stdout);
	}
	move_list_rows(dev, stdout, json ? &j : NULL, ids, n, shown);
	for (size_t i = 0; i < n; i++) {
		if (shown[i])
			continue;
		if (json)
			show_list_json(&j, &jobs[i].st);
		else
			show_list_row(stdout, &jobs[i].st);
	}
	if (json)
		json_end_array(&j);
	free(ids);
	free(shown);
	return EXIT_OK;
}

static int cmd_list(int argc, char **argv)
{
	const char *cmd = "list";
	struct nmctl_dev dev;
	struct job *jobs = NULL;
	bool json = false;
	size_t n = 0;
	int c, ret = EXIT_OK;

	while ((c = next_opt(cmd, argc, argv, json_opts)) != -1) {
		if (c == 'h')
			return help(usage_list);
		if (c != OPT_JSON)
			return EXIT_USAGE;
		json = true;
	}
	if (no_positional(cmd, argc, argv) < 0)
		return EXIT_USAGE;
	if (nmctl_open(&dev, 0) < 0)
		return EXIT_FAIL;
	if (all_statuses(&dev, &jobs, &n) < 0) {
		ret = EXIT_FAIL;
	} else {
		ret = list_all(&dev, jobs, n, json);
	}
	free(jobs);
	nmctl_close(&dev);
	if (finish_stdout() != EXIT_OK)
		ret = EXIT_FAIL;
	return ret;
}

/* ------------------------------------------------------------------ */
/* cancel, wait, set                                                  */
/* ------------------------------------------------------------------ */

static const struct option help_opts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/*
 * Options, then exactly one JOB, or a move id (then *move is set, *id 0).
 * Return: -1 to go on, else exit status.
 */
static int job_only_args(const char *cmd, const char *usage, int argc,
			 char **argv, __u64 *id, unsigned int *move)
{
	const char *arg;
	int c;

	*move = 0;
	c = next_opt(cmd, argc, argv, help_opts);
	if (c == 'h')
		return help(usage);
	if (c != -1)
		return EXIT_USAGE;
	if (positional(cmd, argc, argv, false, &arg) < 0)
		return EXIT_USAGE;
	if (move_parse_id(arg, move) == 0) {
		*id = 0;
		return -1;
	}
	if (arg[0] == 'm') {
		nm_msg("%s: invalid MOVE '%s': must be m followed by a positive integer",
		       cmd, arg);
		return EXIT_USAGE;
	}
	if (parse_job(cmd, arg, id) < 0)
		return EXIT_USAGE;
	return -1;
}

static int cmd_cancel(int argc, char **argv)
{
	struct nmctl_dev dev;
	unsigned int move;
	__u64 id;
	int r, ret;

	ret = job_only_args("cancel", usage_cancel, argc, argv, &id, &move);
	if (ret >= 0)
		return ret;
	/* A job of a move: the move goes as a whole. */
	if (move || move_of_job(id, &move))
		return move_cancel_cmd(move);
	if (nmctl_open(&dev, 0) < 0)
		return EXIT_FAIL;
	r = nmctl_cancel(&dev, id);
	if (r < 0)
		job_error(-r, "cancel", id);
	nmctl_close(&dev);
	return r < 0 ? EXIT_FAIL : EXIT_OK;
}

static int cmd_wait(int argc, char **argv)
{
	struct nmctl_dev dev;
	struct job j = { 0 };
	unsigned int move;
	int r, ret;

	ret = job_only_args("wait", usage_wait, argc, argv, &j.id, &move);
	if (ret >= 0)
		return ret;
	if (move)
		return move_wait_cmd(move);
	if (nmctl_open(&dev, 0) < 0)
		return EXIT_FAIL;
	/* The module answers EINTR after e.g. SIGSTOP/SIGCONT: wait on. */
	do
		r = nmctl_wait(&dev, j.id, NMCTL_WAIT_FOREVER, NULL);
	while (r == -EINTR);
	if (r == 0)
		r = nmctl_status(&dev, j.id, &j.st);
	if (r < 0) {
		job_error(-r, "wait for", j.id);
		nmctl_close(&dev);
		return EXIT_FAIL;
	}
	j.have_st = true;
	j.finished = true;
	show_status_text(stdout, &j.st);
	ret = finish_stdout();
	if (job_outcome(&j, false) != EXIT_OK)
		ret = EXIT_FAIL;
	nmctl_close(&dev);
	return ret;
}

static const struct option set_opts[] = {
	{ "batch", required_argument, NULL, OPT_BATCH },
	{ "sleep", required_argument, NULL, OPT_SLEEP },
	{ "cpu",   required_argument, NULL, OPT_CPU },
	{ "help",  no_argument,       NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int cmd_set(int argc, char **argv)
{
	const char *cmd = "set", *arg;
	__u32 batch = 0, sleep_ms = 0, cpu = 0;
	struct nmctl_dev dev;
	__u64 id, flags = 0;
	int c, r;

	while ((c = next_opt(cmd, argc, argv, set_opts)) != -1) {
		switch (c) {
		case 'h':
			return help(usage_set);
		case OPT_BATCH:
			if (opt_u32(cmd, "--batch", optarg, 1, NUMAMIG_MAX_BATCH, &batch) < 0)
				return EXIT_USAGE;
			flags |= NUMAMIG_THROTTLE_BATCH;
			break;
		case OPT_SLEEP:
			if (opt_u32(cmd, "--sleep", optarg, 0, NUMAMIG_MAX_SLEEP, &sleep_ms) < 0)
				return EXIT_USAGE;
			flags |= NUMAMIG_THROTTLE_SLEEP;
			break;
		case OPT_CPU:
			if (opt_u32(cmd, "--cpu", optarg, 0, 100, &cpu) < 0)
				return EXIT_USAGE;
			flags |= NUMAMIG_THROTTLE_CPU;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (positional(cmd, argc, argv, false, &arg) < 0 ||
	    parse_job(cmd, arg, &id) < 0)
		return EXIT_USAGE;
	if (!flags) {
		nm_msg("%s: nothing to change: give --batch, --sleep or --cpu", cmd);
		return EXIT_USAGE;
	}
	if (nmctl_open(&dev, (flags & NUMAMIG_THROTTLE_CPU) ?
			     NUMAMIG_FEATURE_CPU_BUDGET : 0) < 0)
		return EXIT_FAIL;
	r = nmctl_set(&dev, id, flags, batch, sleep_ms, cpu);
	if (r < 0)
		job_error(-r, "set throttle of", id);
	nmctl_close(&dev);
	return r < 0 ? EXIT_FAIL : EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* locality                                                           */
/* ------------------------------------------------------------------ */

static const struct option locality_opts[] = {
	{ "pid",   required_argument, NULL, OPT_PID },
	{ "clear", no_argument,       NULL, OPT_CLEAR },
	{ "json",  no_argument,       NULL, OPT_JSON },
	{ "help",  no_argument,       NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int cmd_locality(int argc, char **argv)
{
	const char *cmd = "locality";
	struct numamig_locality loc;
	struct nmctl_dev dev;
	bool json = false;
	__u64 flags = 0;
	pid_t pid = 0;
	int c, r, ret;

	while ((c = next_opt(cmd, argc, argv, locality_opts)) != -1) {
		switch (c) {
		case 'h':
			return help(usage_locality);
		case OPT_PID:
			if (opt_pid(cmd, optarg, &pid) < 0)
				return EXIT_USAGE;
			break;
		case OPT_CLEAR:
			flags |= NUMAMIG_LOCALITY_CLEAR;
			break;
		case OPT_JSON:
			json = true;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (no_positional(cmd, argc, argv) < 0)
		return EXIT_USAGE;
	if (!pid) {
		nm_msg("%s: --pid PID is required", cmd);
		return EXIT_USAGE;
	}
	if (nmctl_open(&dev, NUMAMIG_FEATURE_LOCALITY) < 0)
		return EXIT_FAIL;
	r = nmctl_locality(&dev, pid, flags, &loc);
	nmctl_close(&dev);
	if (r < 0) {
		nm_err(-r, nmctl_pid_hint(-r), "locality of pid %d", pid);
		return EXIT_FAIL;
	}
	if (json) {
		struct json j;

		json_init(&j, stdout);
		show_locality_json(&j, pid, &loc);
	} else {
		show_locality_text(stdout, &loc);
	}
	ret = finish_stdout();
	return ret;
}

/* ------------------------------------------------------------------ */
/* main                                                               */
/* ------------------------------------------------------------------ */

static int version(void)
{
	struct nmctl_dev dev;
	int r;

	printf("numamigctl %s (numamig API %llu)\n", NUMAMIGCTL_VERSION,
	       (unsigned long long)NUMAMIG_API);
	r = nmctl_open_quiet(&dev, 0);
	if (r < 0) {
		printf("module: not available (%s: %s)\n", nmctl_device_path(),
		       strerror(-r));
		return finish_stdout();
	}
	printf("module: API %llu, max jobs %llu, features",
	       (unsigned long long)dev.api.api,
	       (unsigned long long)dev.api.max_jobs);
	for (unsigned int bit = 0; bit < 64; bit++) {
		const char *name = nmctl_feature_name(bit);

		if (!(dev.api.features & (1ULL << bit)))
			continue;
		if (name)
			printf(" %s", name);
		else
			printf(" bit%u", bit);
	}
	printf("%s\n", dev.api.features ? "" : " none");
	nmctl_close(&dev);
	return finish_stdout();
}

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
};

static const struct command commands[] = {
	{ "migrate", cmd_migrate },
	{ "move", cmd_move },
	{ "top", cmd_top },
	{ "status", cmd_status },
	{ "list", cmd_list },
	{ "cancel", cmd_cancel },
	{ "wait", cmd_wait },
	{ "set", cmd_set },
	{ "locality", cmd_locality },
	{ "hotcache", cmd_hotcache },
};

int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : NULL;

	if (!name) {
		nm_msg("missing command (see numamigctl --help)");
		return EXIT_USAGE;
	}
	if (!strcmp(name, "-h") || !strcmp(name, "--help"))
		return help(usage_main);
	if (!strcmp(name, "-V") || !strcmp(name, "--version"))
		return version();
	if (name[0] == '-') {
		nm_msg("invalid option '%s' (see numamigctl --help)", name);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(name, commands[i].name))
			continue;
		/* The subcommand parses argv[1..] as its own argv, from scratch. */
		optind = 0;
		return commands[i].fn(argc - 1, argv + 1);
	}
	nm_msg("unknown command '%s' (see numamigctl --help)", name);
	return EXIT_USAGE;
}

