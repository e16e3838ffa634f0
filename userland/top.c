// SPDX-License-Identifier: GPL-2.0
/*
 * numamigctl top: memory and hot memory per NUMA node of containers,
 * cgroups or processes, the moves in flight, LLC misses, every S seconds.
 * topstat.c takes the samples (and says what one costs the target);
 * this file parses the options and draws: a table on a terminal, else
 * key=value lines, or JSON lines.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "container.h"
#include "json.h"
#include "movestate.h"
#include "msg.h"
#include "show.h"
#include "topstat.h"

#define NSEC_PER_SEC	1000000000LL
#define MIB		(1024.0 * 1024.0)
#define NAME_WIDTH	28
#define LINE_MAX_LEN	2048

static const char usage_top[] =
"Usage:\n"
" numamigctl top [--cgroup DIR... | --container ID... | -p PID...]\n"
"                [--interval S] [--count N] [--json]\n"
"\n"
"Memory per NUMA node of containers, cgroups or processes, how much of it\n"
"is hot, and the moves in flight, every S seconds.  By default every cgroup\n"
"with processes of its own, largest memory first.\n"
"\n"
"Per item and node: memory (memory.numa_stat anon + file where the cgroup\n"
"has it, else numa_maps summed over the address spaces) and hot memory\n"
"(anonymous pages referenced during the interval, from the module, which\n"
"clears their Accessed bits each sample); module jobs moving its processes\n"
"with their progress; where perf counters exist, LLC misses per 1000\n"
"instructions and the bandwidth they stand for (64 bytes each).\n"
"On a terminal a table that refreshes; otherwise one line of key=value\n"
"tokens per item and sample (\"-\": not known, moves \"none\": no job).\n"
"\n"
"Options:\n"
"     --cgroup DIR      a cgroup with its descendants (repeatable)\n"
"     --container ID    the cgroup of a container: id, or a unique prefix of\n"
"                       at least 4 characters (repeatable)\n"
" -p, --pid PID         a process (repeatable)\n"
"     --interval S      seconds between samples, 0.1..3600 (default: 1)\n"
"     --count N         stop after N samples (default: at Ctrl-C)\n"
"     --json            one JSON object per sample and line\n"
" -h, --help            display this help\n";

enum top_kind { KIND_ALL, KIND_CGROUP, KIND_CONTAINER, KIND_PID };

struct top_args {
	enum top_kind kind;
	const char **names;	/* --cgroup DIRs or --container IDs */
	pid_t *pids;
	size_t n;
	double interval;
	unsigned long long count;	/* 0: until stopped */
	bool json;
};

static const struct option top_opts[] = {
	{ "cgroup",    required_argument, NULL, OPT_CGROUP },
	{ "container", required_argument, NULL, OPT_CONTAINER },
	{ "pid",       required_argument, NULL, OPT_PID },
	{ "interval",  required_argument, NULL, OPT_INTERVAL },
	{ "count",     required_argument, NULL, OPT_COUNT },
	{ "json",      no_argument,       NULL, OPT_JSON },
	{ "help",      no_argument,       NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* ------------------------------------------------------------------ */
/* Options                                                            */
/* ------------------------------------------------------------------ */

/* Seconds, decimals allowed: "0.5", "2", "1.25". */
static int opt_interval(const char *cmd, const char *val, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(val, &end);
	if ((!isdigit((unsigned char)*val) && *val != '.') || end == val ||
	    *end || errno || !isfinite(v)) {
		nm_msg("%s: invalid --interval '%s': not a number", cmd, val);
		return -1;
	}
	if (v < 0.1 || v > 3600) {
		nm_msg("%s: invalid --interval '%s': must be 0.1..3600 seconds",
		       cmd, val);
		return -1;
	}
	*out = v;
	return 0;
}

static int top_item_opt(struct top_args *a, enum top_kind kind,
			const char *val)
{
	const char *cmd = "top";

	if (a->kind != KIND_ALL && a->kind != kind) {
		nm_msg("%s: --cgroup, --container and -p/--pid are mutually exclusive",
		       cmd);
		return -1;
	}
	a->kind = kind;
	if (kind == KIND_PID)
		return opt_pid(cmd, val, &a->pids[a->n++]);
	a->names[a->n++] = val;
	return 0;
}

/* Return: -1 to go on, else the exit status (after --help or an error). */
static int top_parse(int argc, char **argv, struct top_args *a)
{
	const char *cmd = "top";
	int c;

	a->interval = 1.0;
	a->names = calloc((size_t)argc + 1, sizeof(*a->names));
	a->pids = calloc((size_t)argc + 1, sizeof(*a->pids));
	if (!a->names || !a->pids) {
		nm_err(ENOMEM, NULL, "%s", cmd);
		return EXIT_FAIL;
	}
	while ((c = next_opt_short(cmd, argc, argv, ":hp:", top_opts)) != -1) {
		switch (c) {
		case 'h':
			return help(usage_top);
		case OPT_CGROUP:
			if (top_item_opt(a, KIND_CGROUP, optarg) < 0)
				return EXIT_USAGE;
			break;
		case OPT_CONTAINER:
			if (top_item_opt(a, KIND_CONTAINER, optarg) < 0)
				return EXIT_USAGE;
			break;
		case 'p':
		case OPT_PID:
			if (top_item_opt(a, KIND_PID, optarg) < 0)
				return EXIT_USAGE;
			break;
		case OPT_INTERVAL:
			if (opt_interval(cmd, optarg, &a->interval) < 0)
				return EXIT_USAGE;
			break;
		case OPT_COUNT:
			if (opt_number(cmd, "--count", optarg, 1, ULLONG_MAX,
				       &a->count) < 0)
				return EXIT_USAGE;
			break;
		case OPT_JSON:
			a->json = true;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (no_positional(cmd, argc, argv) < 0)
		return EXIT_USAGE;
	return -1;
}

/* The items named on the command line; one error line and -1 if one is bad. */
static int top_items(const struct top_args *a, struct top_ctx *c)
{
	char *dir;
	int r = 0;

	for (size_t i = 0; i < a->n && r == 0; i++) {
		switch (a->kind) {
		case KIND_PID:
			r = top_add_pid(c, a->pids[i]);
			break;
		case KIND_CONTAINER:
			if (container_resolve(a->names[i], &dir) < 0)
				return -1;
			r = top_add_cgroup(c, dir, a->names[i]);
			free(dir);
			break;
		default:
			r = top_add_cgroup(c, a->names[i], NULL);
			break;
		}
	}
	return r;
}

/* ------------------------------------------------------------------ */
/* Common to the three outputs                                        */
/* ------------------------------------------------------------------ */

struct sample_time {
	char iso[40];		/* 2026-12-02T18:00:01[.250] */
	char human[40];		/* 2026-12-02 18:00:01 */
};

/* No libm in the link: isfinite() is a macro, floor() is not. */
static bool whole(double v)
{
	return v == (double)(long long)v;
}

/* Local time; with milliseconds when samples come faster than 1/s. */
static void sample_time(struct sample_time *t, double interval)
{
	struct timespec ts;
	struct tm tm;
	size_t len;

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	len = strftime(t->iso, sizeof(t->iso), "%Y-%m-%dT%H:%M:%S", &tm);
	if (!whole(interval))
		snprintf(t->iso + len, sizeof(t->iso) - len, ".%03ld",
			 ts.tv_nsec / 1000000);
	strftime(t->human, sizeof(t->human), "%Y-%m-%d %H:%M:%S", &tm);
}

/* As show.c: what has been tried (moved or failed) of all it will try. */
static double move_pct(const struct progress *p)
{
	unsigned long long tried = p->migrated + p->failed;
	unsigned long long total = tried + p->remaining;

	return total ? 100.0 * (double)tried / (double)total : 0.0;
}

/* ------------------------------------------------------------------ */
/* key=value lines                                                    */
/* ------------------------------------------------------------------ */

/* A value without blanks: space, controls and '\' as octal (as mountinfo). */
static void put_token(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p <= ' ' || *p == '\\' || *p == 0x7f)
			printf("\\%03o", *p);
		else
			putchar(*p);
	}
}

/* " key=N0:10.0,N1:245.3", or " key=-" when not known. */
static void put_nodes(const struct top_ctx *c, const char *key,
		      const unsigned long long *bytes, bool known)
{
	const char *sep = "";

	printf(" %s=", key);
	if (!known) {
		putchar('-');
		return;
	}
	for (unsigned int n = 0; n < c->nr_nodes; n++) {
		if (!top_node_shown(c, n))
			continue;
		printf("%sN%u:%.1f", sep, n, (double)bytes[n] / MIB);
		sep = ",";
	}
}

/*
 * " moves=m3:17->N1:42.0%,18->N1:3.5%": [move id:]job->destination:progress,
 * "none", or "-" without a module.
 */
static void put_moves(const struct top_ctx *c, const struct top_item *it)
{
	fputs(" moves=", stdout);
	if (!c->have_dev) {
		putchar('-');
		return;
	}
	if (!it->nmoves)
		fputs("none", stdout);
	for (size_t i = 0; i < it->nmoves; i++) {
		const struct top_move *m = &it->moves[i];

		if (i)
			putchar(',');
		if (m->tagged)
			printf("m%llu:", m->move);
		printf("%llu->N%u:%.1f%%", (unsigned long long)m->job, m->to,
		       move_pct(&m->prog));
	}
}

static void print_line(const struct top_ctx *c, const struct top_item *it,
		       const struct sample_time *t)
{
	printf("time=%s", t->iso);
	if (it->container) {
		fputs(" container=", stdout);
		put_token(it->container);
	}
	if (it->cgroup) {
		fputs(" cgroup=", stdout);
		put_token(it->cgroup);
	} else {
		printf(" pid=%d", it->pid);
	}
	printf(" pids=%zu", it->npids);
	put_nodes(c, "mem_mib", it->mem, true);
	put_nodes(c, "hot_mib", it->hot, it->hot_known);
	put_moves(c, it);
	if (it->have_mpki)
		printf(" llc_mpki=%.2f", it->mpki);
	else
		fputs(" llc_mpki=-", stdout);
	if (it->have_perf)
		printf(" bw_mbps=%.1f\n", it->bw / 1e6);
	else
		fputs(" bw_mbps=-\n", stdout);
}

/* ------------------------------------------------------------------ */
/* JSON lines                                                         */
/* ------------------------------------------------------------------ */

/*
 * json.h writes no floating point: this is its member prologue (comma,
 * key) followed by a number, or null for what JSON cannot hold.
 */
static void json_double(struct json *j, const char *key, double v,
			const char *fmt)
{
	if (!isfinite(v)) {
		json_null(j, key);
		return;
	}
	if (!j->first[j->depth])
		fputc(',', j->f);
	j->first[j->depth] = false;
	json_write_string(j->f, key);
	fputc(':', j->f);
	fprintf(j->f, fmt, v);
}

static void json_nodes(struct json *j, const struct top_ctx *c,
		       const struct top_item *it)
{
	json_begin_array(j, "nodes");
	for (unsigned int n = 0; n < c->nr_nodes; n++) {
		if (!top_node_shown(c, n))
			continue;
		json_begin_object(j, NULL);
		json_u64(j, "node", n);
		json_u64(j, "mem_bytes", it->mem[n]);
		if (it->hot_known)
			json_u64(j, "hot_bytes", it->hot[n]);
		else
			json_null(j, "hot_bytes");
		json_end_object(j);
	}
	json_end_array(j);
}

static void json_moves(struct json *j, const struct top_ctx *c,
		       const struct top_item *it)
{
	char move[32];

	if (!c->have_dev) {
		json_null(j, "moves");
		return;
	}
	json_begin_array(j, "moves");
	for (size_t i = 0; i < it->nmoves; i++) {
		const struct top_move *m = &it->moves[i];

		json_begin_object(j, NULL);
		json_u64(j, "job", m->job);
		snprintf(move, sizeof(move), "m%llu", m->move);
		if (m->tagged)
			json_string(j, "move", move);
		else
			json_null(j, "move");
		json_u64(j, "to", m->to);
		json_double(j, "progress_pct", move_pct(&m->prog), "%.1f");
		json_string(j, "state", nmctl_state_name(m->state));
		json_end_object(j);
	}
	json_end_array(j);
}

static void json_item(struct json *j, const struct top_ctx *c,
		      const struct top_item *it)
{
	json_begin_object(j, NULL);
	if (it->container)
		json_string(j, "container", it->container);
	if (it->cgroup)
		json_string(j, "cgroup", it->cgroup);
	else
		json_i64(j, "pid", it->pid);
	json_begin_array(j, "pids");
	for (size_t i = 0; i < it->npids; i++)
		json_i64(j, NULL, it->pids[i]);
	json_end_array(j);
	json_nodes(j, c, it);
	json_moves(j, c, it);
	if (it->have_mpki)
		json_double(j, "llc_mpki", it->mpki, "%.3f");
	else
		json_null(j, "llc_mpki");
	if (it->have_perf)
		json_u64(j, "bandwidth_bytes_per_s", (unsigned long long)(it->bw + 0.5));
	else
		json_null(j, "bandwidth_bytes_per_s");
	json_end_object(j);
}

static void print_json(const struct top_args *a, const struct top_ctx *c,
		       const struct sample_time *t)
{
	struct json j;

	json_init(&j, stdout);
	json_begin_object(&j, NULL);
	json_string(&j, "time", t->iso);
	json_double(&j, "interval_s", a->interval,
		    whole(a->interval) ? "%.1f" : "%.10g");
	json_bool(&j, "perf", c->perf == TOP_PERF_ON);
	json_bool(&j, "hot", c->have_hot);
	json_begin_array(&j, "items");
	for (size_t i = 0; i < c->n; i++)
		json_item(&j, c, c->items[i]);
	json_end_array(&j);
	json_end_object(&j);
}

/* ------------------------------------------------------------------ */
/* The table on a terminal                                            */
/* ------------------------------------------------------------------ */

struct line {
	char buf[LINE_MAX_LEN];
	size_t len;
};

static void __attribute__((format(printf, 2, 3)))
line_add(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (l->len >= sizeof(l->buf) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(l->buf + l->len, sizeof(l->buf) - l->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->len += (size_t)n;
	if (l->len >= sizeof(l->buf))
		l->len = sizeof(l->buf) - 1;
}

/* Print @l cut to the terminal's width: a wrapped line breaks the table. */
static void line_put(struct line *l, int cols)
{
	if (cols > 1 && l->len >= (size_t)cols)
		l->buf[cols - 1] = '\0';
	puts(l->buf);
	l->len = 0;
	l->buf[0] = '\0';
}

/*
 * Fit @name into NAME_WIDTH: the last path component, and if that is
 * still too long its start (a container id's prefix) and its end.
 */
static void name_fit(const char *name, char *buf, size_t len)
{
	const char *base = strrchr(name, '/');
	size_t nlen = strlen(name), head = NAME_WIDTH - 10;

	if (nlen > NAME_WIDTH && base && base[1])
		name = base + 1;
	nlen = strlen(name);
	if (nlen <= NAME_WIDTH)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "%.*s..%s", (int)head, name, name + nlen - 8);
}

/* A container's id, the cgroup below the tree's root, or "PID comm". */
static void item_name(const struct top_item *it, char *buf, size_t len)
{
	const char *root = nmctl_cgroup_root(), *name = it->cgroup;
	size_t rlen = strlen(root);
	char comm[32] = "", path[64];
	FILE *f;

	if (it->container) {
		name_fit(it->container, buf, len);
	} else if (it->cgroup) {
		if (!strncmp(name, root, rlen) && name[rlen] == '/')
			name += rlen + 1;
		name_fit(*name ? name : "/", buf, len);
	} else {
		snprintf(path, sizeof(path), "/proc/%d/comm", it->pid);
		f = fopen(path, "re");
		if (f && fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = '\0';
		if (f)
			fclose(f);
		snprintf(buf, len, "%d %s", it->pid, comm);
	}
}

static void table_header(const struct top_args *a, const struct top_ctx *c,
			 const struct sample_time *t, int cols)
{
	struct line l = { .len = 0 };
	char name[16];

	line_add(&l, "numamigctl top - %s, every %gs, hot: %s, perf: %s",
		 t->human, a->interval,
		 c->have_hot ? "referenced during the interval" :
		 c->have_dev ? "unknown (the module lacks locality)" :
		 "unknown (no module)",
		 c->perf == TOP_PERF_ON ? "LLC misses" : "none (no counters)");
	line_put(&l, cols);
	line_put(&l, cols);
	line_add(&l, "%-*s %5s", NAME_WIDTH, "NAME", "PIDS");
	for (unsigned int n = 0; n < c->nr_nodes; n++) {
		if (!top_node_shown(c, n))
			continue;
		snprintf(name, sizeof(name), "N%u MEM", n);
		line_add(&l, " %9s", name);
		snprintf(name, sizeof(name), "N%u HOT", n);
		line_add(&l, " %9s", name);
	}
	if (c->perf == TOP_PERF_ON)
		line_add(&l, " %7s %8s", "MPKI", "MB/s");
	line_add(&l, "  MOVES");
	line_put(&l, cols);
}

static void table_row(const struct top_ctx *c, const struct top_item *it,
		      int cols)
{
	struct line l = { .len = 0 };
	char name[NAME_WIDTH + 8];

	item_name(it, name, sizeof(name));
	line_add(&l, "%-*s %5zu", NAME_WIDTH, name, it->npids);
	for (unsigned int n = 0; n < c->nr_nodes; n++) {
		if (!top_node_shown(c, n))
			continue;
		line_add(&l, " %9.1f", (double)it->mem[n] / MIB);
		if (it->hot_known)
			line_add(&l, " %9.1f", (double)it->hot[n] / MIB);
		else
			line_add(&l, " %9s", "-");
	}
	if (c->perf == TOP_PERF_ON && it->have_mpki)
		line_add(&l, " %7.2f %8.1f", it->mpki, it->bw / 1e6);
	else if (c->perf == TOP_PERF_ON)
		line_add(&l, " %7s %8s", "-", "-");
	if (!c->have_dev)
		line_add(&l, "  -");
	else
		line_add(&l, "  %zu", it->nmoves);
	line_put(&l, cols);
}

/* One line per move in flight, under its item. */
static void table_moves(const struct top_item *it, int cols)
{
	struct line l = { .len = 0 };
	char prog[160];

	for (size_t i = 0; i < it->nmoves; i++) {
		const struct top_move *m = &it->moves[i];

		format_progress(prog, sizeof(prog), &m->prog, true);
		line_add(&l, "  job %llu", (unsigned long long)m->job);
		if (m->tagged)
			line_add(&l, " (move m%llu)", m->move);
		line_add(&l, " -> node %u %s", m->to, prog);
		line_put(&l, cols);
	}
}

static void print_table(const struct top_args *a, const struct top_ctx *c,
			const struct sample_time *t)
{
	int rows = 24, cols = 80, used = 3;
	struct winsize ws;
	size_t i;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row) {
		rows = ws.ws_row;
		cols = ws.ws_col;
	}
	fputs("\033[H\033[2J", stdout);
	table_header(a, c, t, cols);
	for (i = 0; i < c->n; i++) {
		const struct top_item *it = c->items[i];

		/* Leave the last line for "... more". */
		if (used + 1 + (int)it->nmoves > rows - 1)
			break;
		table_row(c, it, cols);
		table_moves(it, cols);
		used += 1 + (int)it->nmoves;
	}
	if (i < c->n)
		printf("... %zu more (a larger terminal, or --json)\n", c->n - i);
}

/* ------------------------------------------------------------------ */
/* The loop                                                           */
/* ------------------------------------------------------------------ */

static volatile sig_atomic_t top_stop;

static void on_stop(int sig)
{
	(void)sig;
	top_stop = 1;
}

/*
 * SIGINT and SIGTERM end the loop cleanly.  They stay blocked but while
 * sleeping (ppoll unblocks them atomically), so none is lost between the
 * check and the sleep, and no read of /proc is interrupted.
 */
static void catch_stop(sigset_t *old)
{
	struct sigaction sa;
	sigset_t set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, old);
}

static long long mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static void sleep_until(long long deadline, const sigset_t *mask)
{
	struct timespec ts;
	long long left;

	while (!top_stop && (left = deadline - mono_ns()) > 0) {
		ts.tv_sec = left / NSEC_PER_SEC;
		ts.tv_nsec = left % NSEC_PER_SEC;
		ppoll(NULL, 0, &ts, mask);
	}
}

static void print_sample(const struct top_args *a, const struct top_ctx *c,
			 bool tty)
{
	struct sample_time t;

	sample_time(&t, a->interval);
	if (a->json)
		print_json(a, c, &t);
	else if (tty)
		print_table(a, c, &t);
	else
		for (size_t i = 0; i < c->n; i++)
			print_line(c, c->items[i], &t);
}

static int top_loop(const struct top_args *a, struct top_ctx *c)
{
	long long step = (long long)(a->interval * NSEC_PER_SEC + 0.5), deadline;
	bool tty = isatty(STDOUT_FILENO);
	int ret = EXIT_OK;
	sigset_t old;

	catch_stop(&old);
	/* The clearing sample: the first printed one covers an interval. */
	if (top_sample(c, true) < 0)
		ret = EXIT_FAIL;
	deadline = mono_ns() + step;
	for (unsigned long long k = 0; ret == EXIT_OK; k++) {
		if (a->count && k == a->count)
			break;
		sleep_until(deadline, &old);
		if (top_stop)
			break;
		if (top_sample(c, false) < 0) {
			ret = EXIT_FAIL;
			break;
		}
		if (!c->all && !c->n) {
			nm_msg("top: every process has exited");
			break;
		}
		print_sample(a, c, tty);
		ret = finish_stdout();
		/* Fell behind (a slow sample): do not catch up in a burst. */
		deadline += step;
		if (deadline <= mono_ns())
			deadline = mono_ns() + step;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return ret;
}

int cmd_top(int argc, char **argv)
{
	struct top_args a = { .kind = KIND_ALL };
	struct top_ctx c;
	int ret;

	ret = top_parse(argc, argv, &a);
	/* Moves in flight are shown: a dead helper's move is resumed first. */
	if (ret < 0)
		move_recover();
	if (ret < 0 && top_init(&c, a.kind == KIND_ALL) < 0)
		ret = EXIT_FAIL;
	if (ret < 0 && top_items(&a, &c) < 0) {
		top_free(&c);
		ret = EXIT_FAIL;
	}
	if (ret < 0) {
		top_start(&c);
		ret = top_loop(&a, &c);
		top_free(&c);
	}
	free(a.names);
	free(a.pids);
	return ret;
}
