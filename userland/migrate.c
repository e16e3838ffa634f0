// SPDX-License-Identifier: GPL-2.0
/*
 * numamigctl migrate: start jobs for a process or for every address space
 * of a cgroup, and optionally wait for them.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/stat.h>

#include <numa.h>

#include "args.h"
#include "cgroup.h"
#include "cli.h"
#include "hugemover.h"
#include "json.h"
#include "msg.h"
#include "nmctl_ioctl.h"
#include "watch.h"

static const char usage_migrate[] =
"Usage:\n"
" numamigctl migrate (--pid PID | --cgroup DIR) --to NODE [options]\n"
"\n"
"Start moving the anonymous memory of a process (or of every process of a\n"
"cgroup, one job per address space) to NODE.  Prints one job id per line.\n"
"\n"
"Options:\n"
"     --pid PID         the process to move\n"
"     --cgroup DIR      every process in DIR/cgroup.procs\n"
"     --to NODE         destination node\n"
"     --from NODES      only pages on these nodes (e.g. 0,2-3; default: all\n"
"                       nodes but NODE)\n"
"     --policy POLICY   eager, periodical, severe or mild (default: mild)\n"
"     --batch PAGES     pages per batch, 1..16777216 (default: 4096)\n"
"     --sleep MS        pause after each batch, 0..60000 (default: 100)\n"
"     --cpu PERCENT     hold the job to PERCENT of one CPU, 0..100\n"
"                       (replaces --sleep; 0 = off, the default)\n"
"     --split-huge      split transparent huge pages to move them (default:\n"
"                       keep them huge; a helper moves them whole)\n"
"     --wait            wait for the job(s) to finish, showing progress;\n"
"                       Ctrl-C cancels them\n"
"     --json            print JSON: {\"jobs\":[{\"job\":N,\"pid\":P}]}, or with\n"
"                       --wait {\"jobs\":[<status>...]}\n"
" -h, --help            display this help\n";



struct migrate_args {
	pid_t pid;
	const char *cgroup;
	const char *to_arg;
	const char *from_arg;
	struct numamig_migrate req;	/* everything but pid and group */
	bool sleep_given;
	bool split_huge;
	bool wait;
	bool json;
};

static const struct option migrate_opts[] = {
	{ "pid",    required_argument, NULL, OPT_PID },
	{ "cgroup", required_argument, NULL, OPT_CGROUP },
	{ "to",     required_argument, NULL, OPT_TO },
	{ "from",   required_argument, NULL, OPT_FROM },
	{ "policy", required_argument, NULL, OPT_POLICY },
	{ "batch",  required_argument, NULL, OPT_BATCH },
	{ "sleep",  required_argument, NULL, OPT_SLEEP },
	{ "cpu",    required_argument, NULL, OPT_CPU },
	{ "wait",   no_argument,       NULL, OPT_WAIT },
	{ "split-huge", no_argument,   NULL, OPT_SPLIT_HUGE },
	{ "json",   no_argument,       NULL, OPT_JSON },
	{ "help",   no_argument,       NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Return: -1 to go on, else the exit status (after --help or an error). */
static int migrate_parse(int argc, char **argv, struct migrate_args *a)
{
	const char *cmd = "migrate";
	int c, p;

	memset(a, 0, sizeof(*a));
	a->req.policy = NUMAMIG_POLICY_MILD;
	while ((c = next_opt(cmd, argc, argv, migrate_opts)) != -1) {
		switch (c) {
		case 'h':
			return help(usage_migrate);
		case OPT_PID:
			if (opt_pid(cmd, optarg, &a->pid) < 0)
				return EXIT_USAGE;
			break;
		case OPT_CGROUP:
			a->cgroup = optarg;
			break;
		case OPT_TO:
			a->to_arg = optarg;
			break;
		case OPT_FROM:
			a->from_arg = optarg;
			break;
		case OPT_POLICY:
			p = parse_policy(optarg);
			if (p < 0) {
				nm_msg("%s: invalid --policy '%s': must be eager, periodical, severe or mild",
				       cmd, optarg);
				return EXIT_USAGE;
			}
			a->req.policy = (__u32)p;
			break;
		case OPT_BATCH:
			if (opt_u32(cmd, "--batch", optarg, 1, NUMAMIG_MAX_BATCH,
				    &a->req.batch_pages) < 0)
				return EXIT_USAGE;
			break;
		case OPT_SLEEP:
			if (opt_u32(cmd, "--sleep", optarg, 0, NUMAMIG_MAX_SLEEP,
				    &a->req.sleep_ms) < 0)
				return EXIT_USAGE;
			a->sleep_given = true;
			a->req.flags |= NUMAMIG_MIGRATE_SLEEP_SET;
			break;
		case OPT_CPU:
			if (opt_u32(cmd, "--cpu", optarg, 0, 100, &a->req.cpu_pct) < 0)
				return EXIT_USAGE;
			break;
		case OPT_WAIT:
			a->wait = true;
			break;
		case OPT_SPLIT_HUGE:
			a->split_huge = true;
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

static bool nodes_empty(const __u64 *words)
{
	for (int w = 0; w < NUMAMIG_NODE_WORDS; w++)
		if (words[w])
			return false;
	return true;
}

int opt_from_nodes(const char *cmd, const char *arg, unsigned int to,
		   __u64 words[NUMAMIG_NODE_WORDS])
{
	char why[160];

	if (parse_nodelist(arg, words, why, sizeof(why)) < 0) {
		nm_msg("%s: invalid --from '%s': %s", cmd, arg, why);
		return -1;
	}
	/*
	 * Pages already on the destination have nothing to do; the module
	 * refuses a source set holding it, so "--from all" and friends
	 * would otherwise never work.
	 */
	words[to / 64] &= ~(1ULL << (to % 64));
	if (nodes_empty(words)) {
		nm_msg("%s: invalid --from '%s': only the destination node %u",
		       cmd, arg, to);
		return -1;
	}
	return 0;
}

/* Cross-option checks, and the node arguments (which need each other). */
static int migrate_check(struct migrate_args *a)
{
	const char *cmd = "migrate";
	char why[160];
	unsigned int to;

	if (a->pid && a->cgroup) {
		nm_msg("%s: --pid and --cgroup are mutually exclusive", cmd);
		return EXIT_USAGE;
	}
	if (!a->pid && !a->cgroup) {
		nm_msg("%s: one of --pid PID or --cgroup DIR is required", cmd);
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
	else if (a->req.cpu_pct && a->sleep_given)
		nm_warn("--sleep has no effect with --cpu: the budget sets the pause");
	return -1;
}

/* One pid for --pid; for --cgroup, one per address space, and the group id. */
static int migrate_targets(const struct migrate_args *a, pid_t **pids,
			   size_t *n, __u64 *group)
{
	char path[PATH_MAX];
	struct stat sb;
	bool kcmp_ok;
	int r;

	*group = 0;
	if (!a->cgroup) {
		*pids = malloc(sizeof(**pids));
		if (!*pids) {
			nm_err(ENOMEM, NULL, "migrate");
			return -1;
		}
		(*pids)[0] = a->pid;
		*n = 1;
		return 0;
	}
	if (stat(a->cgroup, &sb) < 0) {
		nm_err(errno, NULL, "cannot access cgroup %s", a->cgroup);
		return -1;
	}
	/* The directory's inode is the cgroup's id on cgroup v2: stable, unique. */
	*group = sb.st_ino;
	if ((size_t)snprintf(path, sizeof(path), "%s/cgroup.procs", a->cgroup) >=
	    sizeof(path)) {
		nm_err(ENAMETOOLONG, NULL, "cgroup %s", a->cgroup);
		return -1;
	}
	r = read_pids(path, pids, n);
	if (r < 0) {
		nm_err(-r, r == -ENOENT ? "not a cgroup directory?" :
			   r == -EINVAL ? "unexpected content" : NULL,
		       "cannot read %s", path);
		return -1;
	}
	if (*n == 0) {
		nm_msg("cgroup %s has no processes", a->cgroup);
		free(*pids);
		return -1;
	}
	distinct_mms(*pids, n, &kcmp_ok);
	if (!kcmp_ok)
		nm_warn("cannot compare address spaces (kcmp): processes sharing memory may get one job each");
	return 0;
}

/* Does this MIGRATE error doom the other pids too?  Then stop trying. */
static bool migrate_error_is_global(int err)
{
	return err != ESRCH && err != EPERM;
}

static void migrate_error(int err, pid_t pid, unsigned int node)
{
	char hint[96];

	if (err == ENODEV)
		snprintf(hint, sizeof(hint), "node %u has no memory or is offline", node);
	else
		snprintf(hint, sizeof(hint), "%s",
			 nmctl_pid_hint(err) ? nmctl_pid_hint(err) : "");
	nm_err(err, hint, "migrate pid %d to node %u", pid, node);
}

/*
 * Automatic NUMA balancing moves pages towards the CPUs that touch them:
 * memory moved away from where the target runs is pulled back.  Say so
 * when the target may run only outside the destination node.
 */
static void warn_balancing(pid_t pid, unsigned int node)
{
	struct bitmask *cpus;
	cpu_set_t set;
	bool inside = false;
	FILE *f;
	int on = 0;

	f = fopen("/proc/sys/kernel/numa_balancing", "re");
	if (!f)
		return;
	if (fscanf(f, "%d", &on) != 1)
		on = 0;
	fclose(f);
	if (!on || sched_getaffinity(pid, sizeof(set), &set) < 0)
		return;
	cpus = numa_allocate_cpumask();
	if (!cpus)
		return;
	if (numa_node_to_cpus((int)node, cpus) == 0) {
		for (unsigned int c = 0; c < cpus->size && c < CPU_SETSIZE; c++)
			inside |= numa_bitmask_isbitset(cpus, c) && CPU_ISSET(c, &set);
		if (!inside && numa_bitmask_weight(cpus))
			nm_warn("NUMA balancing is on and pid %d runs only on CPUs outside node %u: it may pull the memory back (use 'numamigctl move', or move its CPUs too)",
				pid, node);
	}
	numa_free_cpumask(cpus);
}

/* Start a job per target.  Return: jobs started; *failed on any error. */
static size_t migrate_start(struct nmctl_dev *dev, const struct migrate_args *a,
			    const pid_t *pids, size_t n, __u64 group,
			    struct job *jobs, bool *failed)
{
	size_t started = 0;

	*failed = false;
	for (size_t i = 0; i < n && !sigint_caught(); i++) {
		struct numamig_migrate m = a->req;
		int r;

		m.pid = pids[i];
		m.group = group;
		huge_keep_request(dev, &m, a->split_huge);
		r = nmctl_migrate(dev, &m);
		if (r == -ESRCH && a->cgroup) {
			/* Processes come and go in a cgroup: not an error. */
			nm_warn("pid %d skipped: it exited (or is a zombie or kernel thread)",
				pids[i]);
			continue;
		}
		if (r < 0) {
			migrate_error(-r, pids[i], a->req.dst_node);
			*failed = true;
			if (migrate_error_is_global(-r))
				break;
			continue;
		}
		r = huge_mover_start(&m);
		if (r < 0)
			nm_warn("job %llu: no helper to keep huge pages huge (%s): they are split",
				(unsigned long long)m.job_id, strerror(-r));
		jobs[started].id = m.job_id;
		jobs[started].pid = pids[i];
		started++;
	}
	return started;
}

static void migrate_print_ids(const struct job *jobs, size_t n, bool json)
{
	struct json j;

	if (!json) {
		for (size_t i = 0; i < n; i++)
			printf("%llu\n", (unsigned long long)jobs[i].id);
		return;
	}
	json_init(&j, stdout);
	json_begin_object(&j, NULL);
	json_begin_array(&j, "jobs");
	for (size_t i = 0; i < n; i++) {
		json_begin_object(&j, NULL);
		json_u64(&j, "job", jobs[i].id);
		json_i64(&j, "pid", jobs[i].pid);
		json_end_object(&j);
	}
	json_end_array(&j);
	json_end_object(&j);
}

int cmd_migrate(int argc, char **argv)
{
	struct sigaction old_sa;
	struct migrate_args a;
	struct nmctl_dev dev;
	struct job *jobs = NULL;
	pid_t *pids = NULL;
	size_t n, started;
	bool failed;
	__u64 group;
	int ret;

	ret = migrate_parse(argc, argv, &a);
	if (ret < 0)
		ret = migrate_check(&a);
	if (ret >= 0)
		return ret;
	if (nmctl_open(&dev, a.req.cpu_pct ? NUMAMIG_FEATURE_CPU_BUDGET : 0) < 0)
		return EXIT_FAIL;
	if (a.pid)
		warn_balancing(a.pid, a.req.dst_node);
	if (migrate_targets(&a, &pids, &n, &group) < 0) {
		nmctl_close(&dev);
		return EXIT_FAIL;
	}
	jobs = calloc(n, sizeof(*jobs));
	if (!jobs) {
		nm_err(ENOMEM, NULL, "migrate");
		ret = EXIT_FAIL;
		goto out;
	}
	if (a.wait)
		sigint_catch(&old_sa);
	started = migrate_start(&dev, &a, pids, n, group, jobs, &failed);
	if (!started) {
		if (a.wait)
			sigaction(SIGINT, &old_sa, NULL);
		if (sigint_caught())
			nm_msg("interrupted");
		else if (!failed)
			nm_msg("no process of cgroup %s could be migrated", a.cgroup);
		ret = EXIT_FAIL;
		goto out;
	}
	if (a.wait) {
		ret = wait_jobs(&dev, jobs, started, a.json, &old_sa);
	} else {
		migrate_print_ids(jobs, started, a.json);
		ret = finish_stdout();
	}
	if (failed)
		ret = EXIT_FAIL;
out:
	free(jobs);
	free(pids);
	nmctl_close(&dev);
	return ret;
}
