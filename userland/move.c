// SPDX-License-Identifier: GPL-2.0
/*
 * numamigctl move: move a whole container (a cgroup and its descendants)
 * to another node, lazily, as one item with an id "mN".  The work is done
 * by a detached helper (movehelper.c); this file checks the request,
 * starts the helper and shows, waits for and cancels moves.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>
#include <numa.h>

#include "args.h"
#include "cgroup.h"
#include "cli.h"
#include "container.h"
#include "cpuset.h"
#include "json.h"
#include "move.h"
#include "movestate.h"
#include "msg.h"
#include "nmctl_ioctl.h"
#include "show.h"
#include "watch.h"

#define POLL_MS		200
#define START_WAIT_S	30	/* for the helper's first round */
#define MOVES_KEPT	64	/* ended moves that list and status still know */

static const char usage_move[] =
"Usage:\n"
" numamigctl move (--cgroup DIR | --container ID) --to NODE [options]\n"
"\n"
"Move a container - every process of a cgroup and of its descendants -\n"
"to NODE, lazily: its CPUs first (cpuset.cpus), then cpuset.mems widened\n"
"to old + NODE, a throttled job per address space, and cpuset.mems\n"
"narrowed to NODE when all are done.  Prints the move's id (mN).  A\n"
"cancelled or failed move puts the cpuset files back.\n"
"\n"
"Options:\n"
"     --cgroup DIR      the cgroup (v2, or a v1 cpuset cgroup)\n"
"     --container ID    a Docker, podman, CRI-O, containerd or runc\n"
"                       container id, or a unique prefix of 4+ characters\n"
"     --to NODE         destination node\n"
"     --from NODES      only pages on these nodes (default: all but NODE)\n"
"     --policy POLICY   eager, periodical, severe or mild (default: mild)\n"
"     --batch PAGES     pages per batch, 1..16777216 (default: 4096)\n"
"     --sleep MS        pause after each batch, 0..60000 (default: 100)\n"
"     --cpu PERCENT     hold each job to PERCENT of one CPU, 0..100\n"
"     --wait            wait for the move to end, showing progress;\n"
"                       Ctrl-C cancels it\n"
"     --json            print JSON: {\"move\":\"mN\",...}, or with --wait the\n"
"                       final status\n"
" -h, --help            display this help\n";

struct move_args {
	const char *cgroup;
	const char *container;
	const char *to_arg;
	const char *from_arg;
	struct numamig_migrate req;
	bool sleep_given;
	bool wait;
	bool json;
};

static const struct option move_opts[] = {
	{ "cgroup",    required_argument, NULL, OPT_CGROUP },
	{ "container", required_argument, NULL, OPT_CONTAINER },
	{ "to",        required_argument, NULL, OPT_TO },
	{ "from",      required_argument, NULL, OPT_FROM },
	{ "policy",    required_argument, NULL, OPT_POLICY },
	{ "batch",     required_argument, NULL, OPT_BATCH },
	{ "sleep",     required_argument, NULL, OPT_SLEEP },
	{ "cpu",       required_argument, NULL, OPT_CPU },
	{ "wait",      no_argument,       NULL, OPT_WAIT },
	{ "json",      no_argument,       NULL, OPT_JSON },
	{ "help",      no_argument,       NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int move_parse_opt(int c, struct move_args *a)
{
	const char *cmd = "move";
	int p;

	switch (c) {
	case OPT_CGROUP:
		a->cgroup = optarg;
		return 0;
	case OPT_CONTAINER:
		a->container = optarg;
		return 0;
	case OPT_TO:
		a->to_arg = optarg;
		return 0;
	case OPT_FROM:
		a->from_arg = optarg;
		return 0;
	case OPT_POLICY:
		p = parse_policy(optarg);
		if (p < 0) {
			nm_msg("%s: invalid --policy '%s': must be eager, periodical, severe or mild",
			       cmd, optarg);
			return -1;
		}
		a->req.policy = (__u32)p;
		return 0;
	case OPT_BATCH:
		return opt_u32(cmd, "--batch", optarg, 1, NUMAMIG_MAX_BATCH,
			       &a->req.batch_pages);
	case OPT_SLEEP:
		a->sleep_given = true;
		a->req.flags |= NUMAMIG_MIGRATE_SLEEP_SET;
		return opt_u32(cmd, "--sleep", optarg, 0, NUMAMIG_MAX_SLEEP,
			       &a->req.sleep_ms);
	case OPT_CPU:
		return opt_u32(cmd, "--cpu", optarg, 0, 100, &a->req.cpu_pct);
	case OPT_WAIT:
		a->wait = true;
		return 0;
	case OPT_JSON:
		a->json = true;
		return 0;
	}
	return -1;
}

/* Return: -1 to go on, else the exit status. */
static int move_parse(int argc, char **argv, struct move_args *a)
{
	const char *cmd = "move";
	char why[160];
	unsigned int to;
	int c;

	memset(a, 0, sizeof(*a));
	a->req.policy = NUMAMIG_POLICY_MILD;
	while ((c = next_opt(cmd, argc, argv, move_opts)) != -1) {
		if (c == 'h')
			return help(usage_move);
		if (move_parse_opt(c, a) < 0)
			return EXIT_USAGE;
	}
	if (no_positional(cmd, argc, argv) < 0)
		return EXIT_USAGE;
	if (!!a->cgroup + !!a->container != 1) {
		nm_msg("%s: give exactly one of --cgroup DIR or --container ID", cmd);
		return EXIT_USAGE;
	}
	if (!a->to_arg) {
		nm_msg("%s: --to NODE is required", cmd);
		return EXIT_USAGE;
	}
	if (parse_node(a->to_arg, &to, why, sizeof(why)) < 0) {
		nm_msg("%s: invalid --to '%s': %s", cmd, a->to_arg, why);
		return EXIT_USAGE;
	}
	a->req.dst_node = to;
	if (a->from_arg &&
	    opt_from_nodes(cmd, a->from_arg, to, a->req.src_nodes) < 0)
		return EXIT_USAGE;
	if (a->req.policy == NUMAMIG_POLICY_EAGER &&
	    (a->req.batch_pages || a->sleep_given || a->req.cpu_pct))
		nm_warn("--batch, --sleep and --cpu have no effect with --policy eager");
	return -1;
}

/* ------------------------------------------------------------------ */
/* Checks before anything is written                                  */
/* ------------------------------------------------------------------ */

static int check_cgroup(struct move_state *m)
{
	int r = cpuset_probe(m->cgroup, &m->cs);

	if (strchr(m->cgroup, '\n')) {
		nm_msg("move: cgroup path with a newline: %s", m->cgroup);
		return -1;
	}
	if (r == -ENOENT) {
		nm_msg("move: no such cgroup: %s", m->cgroup);
		return -1;
	}
	if (r == -ENOTDIR) {
		nm_msg("move: %s is not a cgroup (not a directory)", m->cgroup);
		return -1;
	}
	if (r == -EINVAL) {
		nm_msg("move: %s is not a cgroup (no cgroup.procs on a cgroup file system)",
		       m->cgroup);
		return -1;
	}
	if (r < 0) {
		nm_err(-r, NULL, "move: cannot access cgroup %s", m->cgroup);
		return -1;
	}
	if (m->cs.is_root) {
		nm_msg("move: %s is a hierarchy's root cgroup: move a child cgroup", m->cgroup);
		return -1;
	}
	return 0;
}

/* A second move of the same cgroup would fight the first over its files. */
static int check_not_moving(const struct move_state *m)
{
	unsigned int *ids;
	size_t n;
	int ret = 0;

	if (move_ids(&ids, &n) < 0)
		return 0;
	for (size_t i = 0; i < n && !ret; i++) {
		struct move_state o;

		if (move_load(ids[i], &o) < 0)
			continue;
		if (o.result == MOVE_RUNNING && !strcmp(o.cgroup, m->cgroup)) {
			nm_msg("move: cgroup %s is being moved already (move m%u)",
			       m->cgroup, o.id);
			ret = -1;
		}
		move_free(&o);
	}
	free(ids);
	return ret;
}

static const char *num_to_list(unsigned int v, char *buf, size_t len)
{
	snprintf(buf, len, "%u", v);
	return buf;
}

/* Read the files as they are, and compute what the move will write. */
static int plan_cpuset(struct move_state *m)
{
	char allowed[CPUSET_LIST_MAX], node_cpus[CPUSET_LIST_MAX];
	char eff[CPUSET_LIST_MAX], num[16];
	int r;

	m->old_memory_migrate = -1;
	if (!m->cs.has_cpuset) {
		nm_warn("cgroup %s has no cpuset controller: its memory is moved, but nothing keeps it on node %u",
			m->cgroup, m->to);
		return 0;
	}
	r = cg_read(m->cgroup, "cpuset.cpus", m->old_cpus, sizeof(m->old_cpus));
	if (r == 0)
		r = cg_read(m->cgroup, "cpuset.mems", m->old_mems, sizeof(m->old_mems));
	if (r == 0 && !m->cs.v2) {
		r = cg_read(m->cgroup, "cpuset.memory_migrate", num, sizeof(num));
		m->old_memory_migrate = r == 0 ? atoi(num) : -1;
	}
	if (r < 0) {
		nm_err(-r, NULL, "move: cannot read the cpuset files of %s", m->cgroup);
		return -1;
	}
	r = cpuset_parent_allows(m->cgroup, &m->cs, "mems", allowed, sizeof(allowed));
	if (r < 0 || !list_has(allowed, m->to)) {
		nm_msg("move: node %u is not among the memory nodes the parent of %s allows (%s)",
		       m->to, m->cgroup, r < 0 ? "unknown" : allowed);
		return -1;
	}
	r = cpuset_effective(m->cgroup, &m->cs, "mems", eff, sizeof(eff));
	if (r < 0 || list_or(eff, num_to_list(m->to, num, sizeof(num)),
			     m->wide_mems, sizeof(m->wide_mems)) < 0) {
		nm_msg("move: cannot read the memory nodes of %s", m->cgroup);
		return -1;
	}
	if (node_cpulist(m->to, node_cpus, sizeof(node_cpus)) < 0 || !node_cpus[0]) {
		nm_warn("node %u has no CPUs: the CPUs of %s stay as they are",
			m->to, m->cgroup);
		return 0;
	}
	r = cpuset_parent_allows(m->cgroup, &m->cs, "cpus", allowed, sizeof(allowed));
	if (r < 0 || list_and(node_cpus, allowed, m->new_cpus, sizeof(m->new_cpus)) < 0 ||
	    !m->new_cpus[0]) {
		nm_msg("move: none of node %u's CPUs (%s) is allowed by the parent of %s (%s)",
		       m->to, node_cpus, m->cgroup, r < 0 ? "unknown" : allowed);
		return -1;
	}
	return 0;
}

static bool from_has(const struct numamig_migrate *req, unsigned int node)
{
	bool any = false;

	for (int w = 0; w < NUMAMIG_NODE_WORDS; w++)
		any |= req->src_nodes[w] != 0;
	return !any || node_word_isset(req->src_nodes, node);
}

/*
 * Anything to do?  Pages the jobs would move, summed over the cgroup's
 * address spaces (the module's count; unknown when it may not look).
 * Return: 0 when there is, or when we cannot tell; -1 after the error.
 */
static int check_something_to_move(struct nmctl_dev *dev, struct move_state *m,
				   pid_t *pids, size_t n)
{
	unsigned long long away = 0;
	bool known = false, kcmp_ok;

	distinct_mms(pids, &n, &kcmp_ok);
	for (size_t i = 0; i < n; i++) {
		struct numamig_locality loc;

		if (nmctl_locality(dev, pids[i], 0, &loc) < 0)
			continue;
		known = true;
		for (unsigned int node = 0; node < loc.nr_nodes; node++)
			if (node != m->to && from_has(&m->req, node))
				away += loc.pages[node];
	}
	if (!known || away)
		return 0;
	nm_msg("move: nothing to move: the memory of %s is on node %u already", m->cgroup, m->to);
	return -1;
}

static int move_check(struct nmctl_dev *dev, const struct move_args *a,
		      struct move_state *m)
{
	pid_t *pids;
	size_t n;
	int r;

	memset(m, 0, sizeof(*m));
	m->to = a->req.dst_node;
	m->req = a->req;
	if (numa_node_size64((int)m->to, NULL) <= 0) {
		nm_msg("move: node %u has no memory", m->to);
		return -1;
	}
	if (a->container) {
		char *dir;

		if (container_resolve(a->container, &dir) < 0)
			return -1;
		snprintf(m->cgroup, sizeof(m->cgroup), "%s", dir);
		snprintf(m->container, sizeof(m->container), "%s", a->container);
		free(dir);
	} else if (!realpath(a->cgroup, m->cgroup)) {
		snprintf(m->cgroup, sizeof(m->cgroup), "%s", a->cgroup);
	}
	if (check_cgroup(m) < 0 || check_not_moving(m) < 0)
		return -1;
	r = cgroup_procs(m->cgroup, true, &pids, &n);
	if (r < 0) {
		nm_err(-r, NULL, "move: cannot read the processes of %s", m->cgroup);
		return -1;
	}
	if (!n) {
		nm_msg("move: cgroup %s has no processes", m->cgroup);
		free(pids);
		return -1;
	}
	r = check_something_to_move(dev, m, pids, n);
	free(pids);
	if (r < 0)
		return -1;
	return plan_cpuset(m);
}

/* ------------------------------------------------------------------ */
/* Showing a move                                                     */
/* ------------------------------------------------------------------ */

struct move_view {
	struct move_state m;
	struct job *jobs;	/* one per m.jobs, status when have_st */
	struct progress total;
	char cpus[CPUSET_LIST_MAX], mems[CPUSET_LIST_MAX];	/* now */
};

static void view_free(struct move_view *v)
{
	free(v->jobs);
	move_free(&v->m);
}

static int view_load(struct nmctl_dev *dev, unsigned int id, struct move_view *v)
{
	int r;

	memset(v, 0, sizeof(*v));
	r = move_load(id, &v->m);
	if (r < 0)
		return r;
	v->jobs = calloc(v->m.nr_jobs + 1, sizeof(*v->jobs));
	if (!v->jobs) {
		move_free(&v->m);
		return -ENOMEM;
	}
	for (size_t i = 0; i < v->m.nr_jobs; i++) {
		struct job *j = &v->jobs[i];

		j->id = v->m.jobs[i].job;
		j->pid = v->m.jobs[i].pid;
		if (dev && nmctl_status(dev, j->id, &j->st) == 0) {
			j->have_st = true;
			progress_add(&v->total, &j->st);
		}
	}
	if (v->m.cs.has_cpuset) {
		if (cg_read(v->m.cgroup, "cpuset.cpus", v->cpus, sizeof(v->cpus)) < 0)
			snprintf(v->cpus, sizeof(v->cpus), "?");
		if (cg_read(v->m.cgroup, "cpuset.mems", v->mems, sizeof(v->mems)) < 0)
			snprintf(v->mems, sizeof(v->mems), "?");
	}
	return 0;
}

static const char *job_state(const struct job *j, const struct move_job *mj)
{
	if (mj->dropped)
		return "dropped";
	return j->have_st ? nmctl_state_name(j->st.state) : "gone";
}

static void show_move_text(FILE *f, const struct move_view *v)
{
	const struct move_state *m = &v->m;
	char prog[160];

	fprintf(f, "move m%u: %s%s%s\n", m->id, move_result_name(m->result),
		m->reason[0] ? ": " : "", m->reason);
	fprintf(f, "  cgroup:    %s%s%s%s\n", m->cgroup,
		m->container[0] ? " (container " : "", m->container,
		m->container[0] ? ")" : "");
	fprintf(f, "  to:        node %u, policy %s\n", m->to,
		nmctl_policy_name(m->req.policy));
	if (m->cs.has_cpuset) {
		fprintf(f, "  cpuset:    cgroup v%d, before: cpus '%s' mems '%s'; now: cpus '%s' mems '%s'\n",
			m->cs.v2 ? 2 : 1, m->old_cpus, m->old_mems, v->cpus, v->mems);
	} else {
		fprintf(f, "  cpuset:    none (cgroup v%d without the cpuset controller)\n",
			m->cs.v2 ? 2 : 1);
	}
	format_progress(prog, sizeof(prog), &v->total, false);
	fprintf(f, "  progress:  %s\n", prog);
	fprintf(f, "  jobs:      %zu (processes sharing a moved address space or skipped: %zu)\n",
		m->nr_jobs, m->nr_covered);
	fprintf(f, "  %-8s %-8s %-10s %10s %10s %10s\n", "JOB", "PID", "STATE",
		"MIGRATED", "REMAINING", "FAILED");
	for (size_t i = 0; i < m->nr_jobs; i++) {
		const struct job *j = &v->jobs[i];

		fprintf(f, "  %-8llu %-8d %-10s %10llu %10llu %10llu\n",
			(unsigned long long)j->id, j->pid, job_state(j, &m->jobs[i]),
			(unsigned long long)j->st.pages_migrated,
			(unsigned long long)j->st.pages_remaining,
			(unsigned long long)j->st.pages_failed);
	}
}

static void json_move_head(struct json *j, const struct move_view *v)
{
	const struct move_state *m = &v->m;
	char id[24];

	snprintf(id, sizeof(id), "m%u", m->id);
	json_string(j, "move", id);
	json_string(j, "state", move_result_name(m->result));
	json_string(j, "reason", m->reason);
	json_string(j, "cgroup", m->cgroup);
	if (m->container[0])
		json_string(j, "container", m->container);
	else
		json_null(j, "container");
	json_u64(j, "cgroup_version", m->cs.v2 ? 2 : 1);
	json_bool(j, "cpuset", m->cs.has_cpuset);
	json_u64(j, "to", m->to);
	json_string(j, "policy", nmctl_policy_name(m->req.policy));
	json_string(j, "old_cpus", m->old_cpus);
	json_string(j, "old_mems", m->old_mems);
	json_string(j, "cpus", v->cpus);
	json_string(j, "mems", v->mems);
	json_u64(j, "pages_migrated", v->total.migrated);
	json_u64(j, "pages_queued", v->total.queued);
	json_u64(j, "pages_remaining", v->total.remaining);
	json_u64(j, "pages_failed", v->total.failed);
	json_i64(j, "helper", m->helper);
	json_i64(j, "started", m->started);
	if (m->ended)
		json_i64(j, "ended", m->ended);
	else
		json_null(j, "ended");
}

static void show_move_json(struct json *j, const struct move_view *v, bool full)
{
	json_begin_object(j, NULL);
	json_move_head(j, v);
	json_begin_array(j, "jobs");
	for (size_t i = 0; i < v->m.nr_jobs; i++) {
		const struct job *jb = &v->jobs[i];

		json_begin_object(j, NULL);
		json_u64(j, "job", jb->id);
		json_i64(j, "pid", jb->pid);
		/* "dropped": it left the cgroup, and we cancelled its job. */
		json_string(j, "state", job_state(jb, &v->m.jobs[i]));
		json_u64(j, "pages_migrated", jb->st.pages_migrated);
		json_u64(j, "pages_remaining", jb->st.pages_remaining);
		if (full) {
			json_u64(j, "pages_queued", jb->st.pages_queued);
			json_u64(j, "pages_failed", jb->st.pages_failed);
			json_i64(j, "error", jb->st.error);
			json_u64(j, "elapsed_ns", jb->st.elapsed_ns);
			json_u64(j, "cpu_ns", jb->st.cpu_ns);
		}
		json_end_object(j);
	}
	json_end_array(j);
	json_end_object(j);
}

static int move_exit(const struct move_state *m)
{
	return m->result == MOVE_DONE ? EXIT_OK : EXIT_FAIL;
}

static void move_outcome_msg(const struct move_state *m)
{
	if (m->result == MOVE_FAILED)
		nm_msg("move m%u failed: %s", m->id, m->reason);
	else if (m->result == MOVE_CANCELLED)
		nm_msg("move m%u was cancelled: cpuset files put back", m->id);
}

static int print_move(unsigned int id, bool json, bool full)
{
	struct nmctl_dev dev;
	struct move_view v;
	bool have_dev;
	int r;

	have_dev = nmctl_open_quiet(&dev, 0) == 0;
	r = view_load(have_dev ? &dev : NULL, id, &v);
	if (have_dev)
		nmctl_close(&dev);
	if (r < 0) {
		nm_err(-r, r == -ENOENT ? "see numamigctl list" : NULL, "move m%u", id);
		return -1;
	}
	if (json) {
		struct json j;

		json_init(&j, stdout);
		show_move_json(&j, &v, full);
	} else {
		show_move_text(stdout, &v);
	}
	r = move_exit(&v.m);
	view_free(&v);
	return r;
}

int move_status_cmd(unsigned int id, bool json)
{
	int r;

	move_recover();
	r = print_move(id, json, true);
	if (finish_stdout() != EXIT_OK)
		return EXIT_FAIL;
	return r < 0 ? EXIT_FAIL : EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* Waiting and cancelling                                             */
/* ------------------------------------------------------------------ */

/*
 * Block until move @id has ended, taking a dead helper's place.
 * Return: 0 with *m loaded, or -errno.
 */
static int wait_ended(unsigned int id, struct move_state *m)
{
	for (;;) {
		int fd = move_lock(id, true), r;

		if (fd < 0)
			return fd;
		r = move_load(id, m);
		if (r < 0) {
			close(fd);
			return r;
		}
		if (m->result != MOVE_RUNNING) {
			close(fd);
			return 0;
		}
		/* The helper died: start another and wait for that one. */
		nm_warn("move m%u: its helper (pid %d) died; resuming it", id, m->helper);
		r = move_spawn_helper(m, fd);
		move_free(m);
		if (r < 0)
			return r;
	}
}

int move_wait_cmd(unsigned int id)
{
	struct move_state m;
	int r;

	r = move_load(id, &m);
	if (r < 0) {
		nm_err(-r, r == -ENOENT ? "see numamigctl list" : NULL, "wait for move m%u", id);
		return EXIT_FAIL;
	}
	move_free(&m);
	r = wait_ended(id, &m);
	if (r < 0) {
		nm_err(-r, NULL, "wait for move m%u", id);
		return EXIT_FAIL;
	}
	move_free(&m);
	r = print_move(id, false, false);
	if (finish_stdout() != EXIT_OK)
		return EXIT_FAIL;
	if (r != EXIT_OK && move_load(id, &m) == 0) {
		move_outcome_msg(&m);
		move_free(&m);
	}
	return r < 0 ? EXIT_FAIL : r;
}

/* Ask for the cancel, then wait for the helper to have put the files back. */
static int cancel_and_wait(unsigned int id, struct move_state *m)
{
	int r = move_request_cancel(id);

	if (r < 0)
		return r;
	move_recover();
	return wait_ended(id, m);
}

int move_cancel_cmd(unsigned int id)
{
	struct move_state m;
	int r;

	r = move_load(id, &m);
	if (r < 0) {
		nm_err(-r, r == -ENOENT ? "see numamigctl list" : NULL, "cancel move m%u", id);
		return EXIT_FAIL;
	}
	/* Like a finished job: cancelling an ended move changes nothing. */
	if (m.result != MOVE_RUNNING) {
		move_free(&m);
		return EXIT_OK;
	}
	move_free(&m);
	r = cancel_and_wait(id, &m);
	if (r < 0) {
		nm_err(-r, NULL, "cancel move m%u", id);
		return EXIT_FAIL;
	}
	if (m.result == MOVE_FAILED)
		move_outcome_msg(&m);
	move_free(&m);
	return EXIT_OK;
}

bool move_of_job(__u64 job, unsigned int *id)
{
	unsigned int *ids;
	bool found = false;
	size_t n;

	if (move_ids(&ids, &n) < 0)
		return false;
	for (size_t i = n; i-- > 0 && !found;) {
		struct move_state m;

		if (move_load(ids[i], &m) < 0)
			continue;
		for (size_t k = 0; k < m.nr_jobs && !found; k++)
			found = m.jobs[k].job == job;
		if (found)
			*id = m.id;
		move_free(&m);
	}
	free(ids);
	return found;
}

/* ------------------------------------------------------------------ */
/* list                                                               */
/* ------------------------------------------------------------------ */

void move_list_rows(struct nmctl_dev *dev, FILE *f, struct json *j,
		    const __u64 *ids, size_t n, bool *shown)
{
	unsigned int *mids;
	size_t nm;

	move_recover();
	if (move_ids(&mids, &nm) < 0)
		return;
	for (size_t i = 0; i < nm; i++) {
		struct move_view v;
		char prog[160];

		if (view_load(dev, mids[i], &v) < 0)
			continue;
		for (size_t k = 0; k < v.m.nr_jobs; k++)
			for (size_t x = 0; x < n; x++)
				if (ids[x] == v.m.jobs[k].job)
					shown[x] = true;
		if (j) {
			show_move_json(j, &v, false);
			view_free(&v);
			continue;
		}
		format_progress(prog, sizeof(prog), &v.total, false);
		fprintf(f, "m%-7u %-9s to %u  %s  %s%s%s\n", v.m.id,
			move_result_name(v.m.result), v.m.to, v.m.cgroup, prog,
			v.m.reason[0] ? "  " : "", v.m.reason);
		for (size_t k = 0; k < v.m.nr_jobs; k++) {
			if (v.jobs[k].have_st) {
				fputs("  ", f);
				show_list_row(f, &v.jobs[k].st);
			} else {
				fprintf(f, "  %-6llu %-7d %s\n",
					(unsigned long long)v.jobs[k].id,
					v.jobs[k].pid, job_state(&v.jobs[k], &v.m.jobs[k]));
			}
		}
		view_free(&v);
	}
	free(mids);
}

/* ------------------------------------------------------------------ */
/* move                                                               */
/* ------------------------------------------------------------------ */

/* Wait for the helper's first round, so that errors are reported here. */
static int wait_first_round(unsigned int id, struct move_state *m)
{
	for (int i = 0; i < START_WAIT_S * 1000 / POLL_MS; i++) {
		if (move_load(id, m) == 0) {
			if (m->result != MOVE_RUNNING || m->rounds > 0)
				return 0;
			move_free(m);
		}
		movestate_sleep_ms(POLL_MS);
	}
	return move_load(id, m);
}

static void print_started(const struct move_state *m, bool json)
{
	struct json j;
	char id[24];

	if (!json) {
		printf("m%u\n", m->id);
		return;
	}
	snprintf(id, sizeof(id), "m%u", m->id);
	json_init(&j, stdout);
	json_begin_object(&j, NULL);
	json_string(&j, "move", id);
	json_string(&j, "cgroup", m->cgroup);
	json_begin_array(&j, "jobs");
	for (size_t i = 0; i < m->nr_jobs; i++) {
		json_begin_object(&j, NULL);
		json_u64(&j, "job", m->jobs[i].job);
		json_i64(&j, "pid", m->jobs[i].pid);
		json_end_object(&j);
	}
	json_end_array(&j);
	json_end_object(&j);
}

/* --wait: progress on stderr until the move ends; Ctrl-C cancels it. */
static int move_follow(unsigned int id, bool json)
{
	bool tty = isatty(STDERR_FILENO), drawn = false;
	struct sigaction old_sa;
	struct move_state m;
	struct nmctl_dev dev;
	int r;

	sigint_catch(&old_sa);
	if (nmctl_open_quiet(&dev, 0) < 0)
		dev.fd = -1;
	for (;;) {
		struct move_view v;

		if (sigint_caught()) {
			if (drawn)
				fputc('\n', stderr);
			cancel_and_wait(id, &m);
			move_free(&m);
			break;
		}
		if (view_load(dev.fd >= 0 ? &dev : NULL, id, &v) < 0)
			break;
		if (v.m.result != MOVE_RUNNING) {
			view_free(&v);
			break;
		}
		if (tty) {
			char prog[160];

			format_progress(prog, sizeof(prog), &v.total, true);
			fprintf(stderr, "\r\033[Km%u %zu job(s) %s", id, v.m.nr_jobs, prog);
			drawn = true;
		}
		view_free(&v);
		movestate_sleep_ms(POLL_MS);
		/* A helper that died is replaced from here too. */
		move_recover();
	}
	if (drawn && !sigint_caught())
		fputc('\n', stderr);
	sigaction(SIGINT, &old_sa, NULL);
	if (dev.fd >= 0)
		nmctl_close(&dev);
	r = wait_ended(id, &m);
	if (r < 0) {
		nm_err(-r, NULL, "wait for move m%u", id);
		return EXIT_FAIL;
	}
	move_free(&m);
	r = print_move(id, json, true);
	if (finish_stdout() != EXIT_OK)
		r = EXIT_FAIL;
	if (move_load(id, &m) == 0) {
		move_outcome_msg(&m);
		move_free(&m);
	}
	return r < 0 ? EXIT_FAIL : r;
}

static int move_start(struct move_state *m)
{
	int fd, r;

	r = move_new_id(&m->id);
	if (r < 0) {
		nm_err(-r, NULL, "move: cannot create the state in %s", move_dir());
		return -1;
	}
	move_prune(MOVES_KEPT);
	m->started = time(NULL);
	r = move_save(m);
	fd = r < 0 ? r : move_lock(m->id, false);
	if (fd < 0) {
		nm_err(-fd, NULL, "move: cannot write the state in %s", move_dir());
		return -1;
	}
	r = move_spawn_helper(m, fd);
	if (r < 0) {
		nm_err(-r, NULL, "move: cannot start the helper");
		return -1;
	}
	return 0;
}

int cmd_move(int argc, char **argv)
{
	struct move_state m, now;
	struct move_args a;
	struct nmctl_dev dev;
	int ret;

	ret = move_parse(argc, argv, &a);
	if (ret >= 0)
		return ret;
	if (nmctl_open(&dev, a.req.cpu_pct ? NUMAMIG_FEATURE_CPU_BUDGET : 0) < 0)
		return EXIT_FAIL;
	move_recover();
	ret = move_check(&dev, &a, &m);
	nmctl_close(&dev);
	if (ret < 0 || move_start(&m) < 0)
		return EXIT_FAIL;
	if (a.wait)
		return move_follow(m.id, a.json);
	if (wait_first_round(m.id, &now) < 0) {
		nm_msg("move m%u: its helper did not start", m.id);
		return EXIT_FAIL;
	}
	if (now.result == MOVE_FAILED || now.result == MOVE_CANCELLED) {
		move_outcome_msg(&now);
		move_free(&now);
		return EXIT_FAIL;
	}
	print_started(&now, a.json);
	move_free(&now);
	return finish_stdout();
}
