// SPDX-License-Identifier: GPL-2.0
/*
 * numamigctl top: one sample of every cgroup or process it watches -
 * memory per node, hot memory per node, moves in flight, LLC misses.
 *
 * What one sample costs the target:
 *  - hot memory: NUMAMIG_IOC_LOCALITY with NUMAMIG_LOCALITY_CLEAR, once
 *    per address space.  The module walks the page tables of every
 *    anonymous VMA under mmap_read_lock (dropped every 64 MiB of address
 *    space), test-and-clears the Accessed bit of each present PTE/PMD,
 *    then flushes the mm's TLB (an IPI to each CPU running the target).
 *    Meanwhile mmap, munmap, brk wait for the lock.  Afterwards the
 *    target pays, once per page it touches again, a TLB miss and the
 *    page walker's atomic update of the Accessed bit.
 *  - memory: memory.numa_stat where the cgroup has it (memcg counters,
 *    nothing walked); otherwise, and for -p, /proc/PID/numa_maps: a
 *    read-only walk of every VMA's page tables under mmap_read_lock, no
 *    bit cleared, no flush.
 *  - moves: NUMAMIG_IOC_LIST and _STATUS, nothing of the target.
 *  - perf: counting mode, no interrupts; counters are switched at the
 *    target's context switches.
 * Measured on a 2-CPU VM (Linux 6.18, 4 KiB pages, THP off), with
 * /proc/PID/clear_refs standing in for the CLEAR walk (the same walk,
 * clear and flush): per 1 GiB resident, the clearing walk 11 ms and
 * reading numa_maps 10 ms of numamigctl's CPU, both holding the target's
 * mmap_read_lock (~0.8 ms each per 64 MiB), and the target's next pass
 * over that memory 43 ms slower (~165 ns per page to set the Accessed
 * bit again; 1.2 ms per 64 MiB).  With THP: 0.07 ms, 0.2 ms and 0.3 ms.
 * So at the default 1 s, a target touching 1 GiB of small pages every
 * interval loses ~4% of one CPU; a THP-backed one nothing measurable.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <numa.h>

#include "cgroup.h"
#include "container.h"
#include "movestate.h"
#include "msg.h"
#include "topstat.h"

#define LLC_LINE	64	/* bytes a miss moves, for the bandwidth */
#define MOVE_ID_MASK	0xffffffffULL

static unsigned long long page_bytes(void)
{
	static long ps;

	if (!ps)
		ps = sysconf(_SC_PAGESIZE);
	return ps > 0 ? (unsigned long long)ps : 4096;
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int path_join(char *buf, const char *dir, const char *name)
{
	if ((size_t)snprintf(buf, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX)
		return -ENAMETOOLONG;
	return 0;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

static bool pid_in(const pid_t *sorted, size_t n, pid_t pid)
{
	return n && bsearch(&pid, sorted, n, sizeof(pid), cmp_pid);
}

/* ------------------------------------------------------------------ */
/* Items                                                              */
/* ------------------------------------------------------------------ */

static void perf_close(struct top_perf *p)
{
	for (size_t i = 0; i < p->n; i++)
		close(p->fd[i]);
	free(p->fd);
	free(p->last);
	memset(p, 0, sizeof(*p));
}

static void item_free(struct top_item *it)
{
	if (!it)
		return;
	perf_close(&it->perf);
	free(it->cgroup);
	free(it->pids);
	free(it->mms);
	free(it->mem);
	free(it->hot);
	free(it->moves);
	free(it);
}

/* A new item at the end of the list; NULL (printed) without memory. */
static struct top_item *item_new(struct top_ctx *c)
{
	struct top_item *it, **items;

	items = realloc(c->items, (c->n + 1) * sizeof(*items));
	if (items)
		c->items = items;
	it = calloc(1, sizeof(*it));
	if (it) {
		it->mem = calloc(c->nr_nodes, sizeof(*it->mem));
		it->hot = calloc(c->nr_nodes, sizeof(*it->hot));
	}
	if (!items || !it || !it->mem || !it->hot) {
		item_free(it);
		nm_err(ENOMEM, NULL, "top");
		return NULL;
	}
	c->items[c->n++] = it;
	return it;
}

/* A copy of @dir without trailing slashes ("/" stays "/"). */
static char *dir_name(const char *dir)
{
	char *d = strdup(dir);
	size_t len = d ? strlen(d) : 0;

	while (len > 1 && d[len - 1] == '/')
		d[--len] = '\0';
	return d;
}

int top_add_cgroup(struct top_ctx *c, const char *dir, const char *container)
{
	char path[PATH_MAX];
	struct top_item *it;
	struct stat sb;

	if (stat(dir, &sb) < 0) {
		nm_err(errno, NULL, "top: cannot access cgroup %s", dir);
		return -1;
	}
	if (path_join(path, dir, "cgroup.procs") < 0) {
		nm_err(ENAMETOOLONG, NULL, "top: cgroup %s", dir);
		return -1;
	}
	if (!S_ISDIR(sb.st_mode) || (access(path, R_OK) < 0 && errno == ENOENT)) {
		nm_msg("top: %s is not a cgroup directory (no cgroup.procs)", dir);
		return -1;
	}
	if (access(path, R_OK) < 0) {
		nm_err(errno, NULL, "top: cannot read %s", path);
		return -1;
	}
	it = item_new(c);
	if (!it)
		return -1;
	it->container = container;
	it->cgroup = dir_name(dir);
	if (!it->cgroup) {
		nm_err(ENOMEM, NULL, "top");
		return -1;
	}
	return 0;
}

/*
 * The start time of a live process (field 22 of /proc/PID/stat), so
 * that a recycled pid is not taken for the process we watch.
 * Return: 0, or -ESRCH when there is no such process or it is a zombie.
 */
static int proc_start(pid_t pid, unsigned long long *start)
{
	char path[64], buf[2048], *p;
	ssize_t len;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ESRCH;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return -ESRCH;
	buf[len] = '\0';
	/* The name may hold spaces and ')': fields restart after the last. */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || strchr("ZXx", p[2]))
		return -ESRCH;
	p += 2;			/* field 3, the state */
	for (int f = 3; f < 22 && p; f++) {
		p = strchr(p, ' ');
		p = p ? p + 1 : NULL;
	}
	if (!p)
		return -ESRCH;
	*start = strtoull(p, NULL, 10);
	return 0;
}

int top_add_pid(struct top_ctx *c, pid_t pid)
{
	unsigned long long start;
	struct top_item *it;

	if (proc_start(pid, &start) < 0) {
		nm_err(ESRCH, NULL, "top: pid %d", pid);
		return -1;
	}
	it = item_new(c);
	if (!it)
		return -1;
	it->pid = pid;
	it->start = start;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Processes                                                          */
/* ------------------------------------------------------------------ */

static int pids_append(struct top_item *it, const pid_t *p, size_t n)
{
	pid_t *np;

	if (!n)
		return 0;
	np = realloc(it->pids, (it->npids + n) * sizeof(*np));
	if (!np)
		return -ENOMEM;
	memcpy(np + it->npids, p, n * sizeof(*np));
	it->pids = np;
	it->npids += n;
	return 0;
}

/* Append the processes of @dir/cgroup.procs; a missing file adds none. */
static int procs_append(struct top_item *it, const char *dir)
{
	char path[PATH_MAX];
	pid_t *p;
	size_t n;
	int r;

	if (path_join(path, dir, "cgroup.procs") < 0 ||
	    read_pids(path, &p, &n) < 0)
		return 0;
	r = pids_append(it, p, n);
	free(p);
	return r;
}

/* Call @fn for every subdirectory of @dir, depth first. */
static int for_each_subdir(const char *dir, void *arg,
			   int (*fn)(const char *dir, void *arg))
{
	char path[PATH_MAX];
	struct dirent *de;
	int r = 0;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return 0;	/* removed meanwhile: it has nothing */
	while (r == 0 && (de = readdir(d))) {
		if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") ||
		    !strcmp(de->d_name, ".."))
			continue;
		if (path_join(path, dir, de->d_name) == 0)
			r = fn(path, arg);
	}
	closedir(d);
	return r;
}

static int tree_pids(const char *dir, void *arg)
{
	struct top_item *it = arg;
	int r = procs_append(it, dir);

	return r < 0 ? r : for_each_subdir(dir, it, tree_pids);
}

/* The processes of an item now; -p: sets ->gone when it has exited. */
static int item_pids(struct top_item *it)
{
	unsigned long long start;

	if (it->own_only)
		return 0;	/* the scan of the tree read them */
	it->npids = 0;
	if (it->cgroup)
		return tree_pids(it->cgroup, it);
	if (proc_start(it->pid, &start) < 0 || start != it->start) {
		it->gone = true;
		return 0;
	}
	return pids_append(it, &it->pid, 1);
}

/* One process per address space, for the walks. */
static int item_mms(struct top_ctx *c, struct top_item *it)
{
	bool kcmp_ok = true;
	pid_t *mms;

	mms = realloc(it->mms, (it->npids ? it->npids : 1) * sizeof(*mms));
	if (!mms)
		return -ENOMEM;
	it->mms = mms;
	memcpy(mms, it->pids, it->npids * sizeof(*mms));
	it->nmms = it->npids;
	if (it->nmms > 1)
		distinct_mms(mms, &it->nmms, &kcmp_ok);
	if (!kcmp_ok && !c->warned_kcmp) {
		nm_warn("cannot compare address spaces (kcmp): processes sharing memory may be counted twice");
		c->warned_kcmp = true;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* The default list: every cgroup with processes of its own            */
/* ------------------------------------------------------------------ */

static void perf_attach(struct top_ctx *c, struct top_item *it);

static struct top_item *find_cgroup(struct top_ctx *c, const char *dir)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->items[i]->cgroup, dir))
			return c->items[i];
	return NULL;
}

static int scan_one(const char *dir, void *arg)
{
	struct top_ctx *c = arg;
	struct top_item *it;
	pid_t *p = NULL;
	size_t n = 0;
	char path[PATH_MAX];

	if (path_join(path, dir, "cgroup.procs") == 0 &&
	    read_pids(path, &p, &n) == 0 && n) {
		it = find_cgroup(c, dir);
		if (!it && (it = item_new(c))) {
			it->cgroup = strdup(dir);
			it->own_only = true;
			perf_attach(c, it);
		}
		if (!it || !it->cgroup) {
			free(p);
			return -ENOMEM;
		}
		free(it->pids);
		it->pids = p;
		it->npids = n;
		it->mark = true;
	} else {
		free(p);
	}
	return for_each_subdir(dir, c, scan_one);
}

/* Rescan the tree: new cgroups join, emptied or removed ones leave. */
static int scan_all(struct top_ctx *c)
{
	size_t kept = 0;
	int r;

	for (size_t i = 0; i < c->n; i++)
		c->items[i]->mark = false;
	r = for_each_subdir(nmctl_cgroup_root(), c, scan_one);
	for (size_t i = 0; i < c->n; i++) {
		if (c->items[i]->mark && c->items[i]->cgroup)
			c->items[kept++] = c->items[i];
		else
			item_free(c->items[i]);
	}
	c->n = kept;
	return r;
}

/* ------------------------------------------------------------------ */
/* Memory per node                                                    */
/* ------------------------------------------------------------------ */

/* Add the "N<node>=<count>" tokens of @line, times @unit, to @acc. */
static void add_node_counts(const struct top_ctx *c, char *line,
			    unsigned long long unit, unsigned long long *acc)
{
	char *tok, *save = NULL;

	for (tok = strtok_r(line, " \n", &save); tok;
	     tok = strtok_r(NULL, " \n", &save)) {
		unsigned long long v;
		unsigned int node;

		if (sscanf(tok, "N%u=%llu", &node, &v) == 2 && node < c->nr_nodes)
			acc[node] += v * unit;
	}
}

/*
 * Bytes per unit of a memory.numa_stat line we add up, else 0: cgroup v2
 * "anon N0=<bytes> ..." and "file ...", cgroup v1 "hierarchical_anon=<total>
 * N0=<pages> ..." and "hierarchical_file=...".  Both include descendants.
 */
static unsigned long long numa_stat_unit(const char *line)
{
	if (!strncmp(line, "anon ", 5) || !strncmp(line, "file ", 5))
		return 1;
	if (!strncmp(line, "hierarchical_anon=", 18) ||
	    !strncmp(line, "hierarchical_file=", 18))
		return page_bytes();
	return 0;
}

/* Return: 0, or -1 when the cgroup has no (usable) memory.numa_stat. */
static int read_numa_stat(const struct top_ctx *c, const char *dir,
			  unsigned long long *mem)
{
	char path[PATH_MAX], *line = NULL;
	bool found = false;
	size_t len = 0;
	FILE *f;

	if (path_join(path, dir, "memory.numa_stat") < 0)
		return -1;
	f = fopen(path, "re");
	if (!f)
		return -1;
	memset(mem, 0, c->nr_nodes * sizeof(*mem));
	while (getline(&line, &len, f) > 0) {
		unsigned long long unit = numa_stat_unit(line);

		if (!unit)
			continue;
		add_node_counts(c, line, unit, mem);
		found = true;
	}
	free(line);
	fclose(f);
	return found ? 0 : -1;
}

/*
 * /proc/PID/numa_maps: "N<node>=<pages>" per VMA, in pages of
 * kernelpagesize_kB (huge pages for hugetlbfs).  A process that has
 * exited has nothing.
 */
static void read_numa_maps(struct top_ctx *c, pid_t pid,
			   unsigned long long *mem)
{
	char path[64], *line = NULL, *k;
	size_t len = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/numa_maps", pid);
	f = fopen(path, "re");
	if (!f && errno != ENOENT && errno != ESRCH && !c->warned_maps) {
		nm_err(errno, "its memory is not counted", "warning: cannot read %s",
		       path);
		c->warned_maps = true;
	}
	if (!f)
		return;
	while (getline(&line, &len, f) > 0) {
		unsigned long long unit = page_bytes();

		k = strstr(line, " kernelpagesize_kB=");
		if (k)
			unit = strtoull(k + 19, NULL, 10) * 1024;
		add_node_counts(c, line, unit, mem);
	}
	free(line);
	fclose(f);
}

/* ------------------------------------------------------------------ */
/* The address spaces of a sample, each walked once                   */
/* ------------------------------------------------------------------ */

struct mm_stat {
	pid_t pid;
	bool maps;		/* numa_maps wanted */
	bool cleared;		/* LOCALITY with CLEAR succeeded */
	bool hot_ok;		/* ... and it had been cleared before */
	unsigned long long *mem, *hot;
};

struct mm_table {
	struct mm_stat *e;
	size_t n;
	unsigned long long *buf;
};

static int cmp_mm(const void *a, const void *b)
{
	return cmp_pid(&((const struct mm_stat *)a)->pid,
		       &((const struct mm_stat *)b)->pid);
}

static struct mm_stat *mm_find(const struct mm_table *t, pid_t pid)
{
	struct mm_stat key = { .pid = pid };

	return t->n ? bsearch(&key, t->e, t->n, sizeof(key), cmp_mm) : NULL;
}

/* Every address space of every item once, sorted by pid. */
static int mm_table_build(struct top_ctx *c, struct mm_table *t)
{
	size_t total = 0, k = 0;

	for (size_t i = 0; i < c->n; i++)
		total += c->items[i]->nmms;
	t->e = calloc(total ? total : 1, sizeof(*t->e));
	if (!t->e)
		return -ENOMEM;
	for (size_t i = 0; i < c->n; i++) {
		const struct top_item *it = c->items[i];

		for (size_t m = 0; m < it->nmms; m++) {
			t->e[k].pid = it->mms[m];
			t->e[k++].maps = it->use_maps;
		}
	}
	qsort(t->e, total, sizeof(*t->e), cmp_mm);
	for (size_t i = 0; i < total; i++) {
		if (t->n && t->e[t->n - 1].pid == t->e[i].pid)
			t->e[t->n - 1].maps |= t->e[i].maps;
		else
			t->e[t->n++] = t->e[i];
	}
	t->buf = calloc(t->n * 2 * c->nr_nodes + 1, sizeof(*t->buf));
	if (!t->buf)
		return -ENOMEM;
	for (size_t i = 0; i < t->n; i++) {
		t->e[i].mem = t->buf + 2 * i * c->nr_nodes;
		t->e[i].hot = t->e[i].mem + c->nr_nodes;
	}
	return 0;
}

/*
 * Clear the Accessed bits of @e's mm, and count the pages referenced
 * since the previous sample cleared them: a mm not cleared then
 * (new in the watch) tells nothing about this interval.
 */
static void mm_hot(struct top_ctx *c, struct mm_stat *e)
{
	unsigned int nodes = c->nr_nodes;
	struct numamig_locality loc;
	int r;

	r = nmctl_locality(&c->dev, e->pid, NUMAMIG_LOCALITY_CLEAR, &loc);
	if (r < 0) {
		/* ESRCH: it exited meanwhile, or is a kernel thread. */
		if (r != -ESRCH && !c->warned_hot) {
			nm_err(-r, nmctl_pid_hint(-r),
			       "warning: hot memory of pid %d not counted", e->pid);
			c->warned_hot = true;
		}
		return;
	}
	e->cleared = true;
	if (!pid_in(c->primed, c->nprimed, e->pid))
		return;
	e->hot_ok = true;
	if (loc.nr_nodes < nodes)
		nodes = loc.nr_nodes;
	for (unsigned int n = 0; n < nodes && n < NUMAMIG_LOCALITY_NODES; n++)
		e->hot[n] = loc.referenced[n] * page_bytes();
}

/* The mms cleared now are the ones the next sample may count. */
static void mm_primed(struct top_ctx *c, const struct mm_table *t)
{
	size_t k = 0;
	pid_t *p;

	p = realloc(c->primed, (t->n ? t->n : 1) * sizeof(*p));
	if (!p)
		return;		/* keep the old set: worst, one sample too few */
	for (size_t i = 0; i < t->n; i++)
		if (t->e[i].cleared)
			p[k++] = t->e[i].pid;
	c->primed = p;
	c->nprimed = k;
}

static void item_sum(const struct top_ctx *c, struct top_item *it,
		     const struct mm_table *t)
{
	bool any_hot = false;

	memset(it->hot, 0, c->nr_nodes * sizeof(*it->hot));
	if (it->use_maps)
		memset(it->mem, 0, c->nr_nodes * sizeof(*it->mem));
	for (size_t m = 0; m < it->nmms; m++) {
		const struct mm_stat *e = mm_find(t, it->mms[m]);

		if (!e)
			continue;
		for (unsigned int n = 0; n < c->nr_nodes; n++) {
			if (it->use_maps)
				it->mem[n] += e->mem[n];
			if (e->hot_ok)
				it->hot[n] += e->hot[n];
		}
		any_hot |= e->hot_ok;
	}
	it->hot_known = c->have_hot && (any_hot || !it->nmms);
	it->mem_total = 0;
	for (unsigned int n = 0; n < c->nr_nodes; n++)
		it->mem_total += it->mem[n];
}

static int sample_mms(struct top_ctx *c, bool prime)
{
	struct mm_table t = { 0 };
	int r = mm_table_build(c, &t);

	for (size_t i = 0; r == 0 && i < t.n; i++) {
		if (c->have_hot)
			mm_hot(c, &t.e[i]);
		if (t.e[i].maps && !prime)
			read_numa_maps(c, t.e[i].pid, t.e[i].mem);
	}
	if (r == 0) {
		mm_primed(c, &t);
		for (size_t i = 0; i < c->n; i++)
			item_sum(c, c->items[i], &t);
	}
	free(t.e);
	free(t.buf);
	return r;
}

/* ------------------------------------------------------------------ */
/* Moves in flight                                                    */
/* ------------------------------------------------------------------ */

/* The status of every running job; NULL/0 when there is none. */
static int running_jobs(struct top_ctx *c, struct numamig_job_status **sts,
			size_t *n)
{
	size_t count, kept = 0;
	__u64 *ids;
	int r;

	*sts = NULL;
	*n = 0;
	r = nmctl_list(&c->dev, &ids, &count);
	if (r < 0)
		return r;
	*sts = calloc(count ? count : 1, sizeof(**sts));
	if (!*sts) {
		free(ids);
		return -ENOMEM;
	}
	/* Jobs pushed out between LIST and STATUS are simply gone. */
	for (size_t i = 0; i < count; i++)
		if (nmctl_status(&c->dev, ids[i], &(*sts)[kept]) == 0 &&
		    (*sts)[kept].state == NUMAMIG_STATE_RUNNING)
			kept++;
	free(ids);
	*n = kept;
	return 0;
}

static bool item_has_pid(const struct top_item *it, pid_t pid)
{
	for (size_t i = 0; i < it->npids; i++)
		if (it->pids[i] == pid)
			return true;
	return false;
}

static void item_moves(struct top_item *it,
		       const struct numamig_job_status *sts, size_t n)
{
	struct top_move *mv = realloc(it->moves, (n ? n : 1) * sizeof(*mv));

	it->nmoves = 0;
	if (!mv)
		return;
	it->moves = mv;
	for (size_t i = 0; i < n; i++) {
		const struct numamig_job_status *st = &sts[i];

		if (!item_has_pid(it, st->pid))
			continue;
		mv = &it->moves[it->nmoves++];
		memset(mv, 0, sizeof(*mv));
		mv->job = st->job_id;
		mv->tagged = st->group & NMCTL_MOVE_GROUP_TAG;
		mv->move = st->group & MOVE_ID_MASK;
		mv->to = st->dst_node;
		mv->state = st->state;
		progress_add(&mv->prog, st);
	}
}

static void sample_moves(struct top_ctx *c)
{
	struct numamig_job_status *sts;
	size_t n;
	int r;

	if (!c->have_dev)
		return;
	r = running_jobs(c, &sts, &n);
	if (r < 0) {
		nm_err(-r, nmctl_common_hint(-r),
		       "warning: list jobs: moves not shown from now on");
		c->have_dev = false;
		return;
	}
	for (size_t i = 0; i < c->n; i++)
		item_moves(c->items[i], sts, n);
	free(sts);
}

/* ------------------------------------------------------------------ */
/* Perf counters                                                      */
/* ------------------------------------------------------------------ */

static int perf_open(const struct top_ctx *c, __u64 config, pid_t pid,
		     int cpu, int group, unsigned long flags)
{
	struct perf_event_attr a;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = PERF_TYPE_HARDWARE;
	a.config = config;
	a.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED |
			PERF_FORMAT_TOTAL_TIME_RUNNING;
	/* A process: its threads and children to come too. */
	a.inherit = !(flags & PERF_FLAG_PID_CGROUP);
	a.exclude_hv = 1;
	a.exclude_kernel = c->perf_user_only;
	return (int)syscall(SYS_perf_event_open, &a, pid, cpu, group,
			    flags | PERF_FLAG_FD_CLOEXEC);
}

static int perf_keep(struct top_perf *p, int fd)
{
	unsigned long long (*last)[3];
	int *fds;

	fds = realloc(p->fd, (p->n + 1) * sizeof(*fds));
	if (fds)
		p->fd = fds;
	last = realloc(p->last, (p->n + 1) * sizeof(*last));
	if (last)
		p->last = last;
	if (!fds || !last) {
		close(fd);
		return -ENOMEM;
	}
	p->fd[p->n] = fd;
	if (read(fd, p->last[p->n], sizeof(p->last[0])) != sizeof(p->last[0]))
		memset(p->last[p->n], 0, sizeof(p->last[0]));
	p->n++;
	p->since = now_ns();
	return 0;
}

/*
 * Instructions and LLC misses of @pid (a thread, or with
 * PERF_FLAG_PID_CGROUP the fd of a cgroup directory) on @cpu, in one
 * group so that they are counted over the same time.
 * Return: 0 or -errno.
 */
static int perf_pair(struct top_ctx *c, struct top_perf *p, pid_t pid,
		     int cpu, unsigned long flags)
{
	int lead, miss;

	lead = perf_open(c, PERF_COUNT_HW_INSTRUCTIONS, pid, cpu, -1, flags);
	if (lead < 0 && errno == EACCES && !c->perf_user_only) {
		/* perf_event_paranoid 2: user mode only. */
		c->perf_user_only = true;
		lead = perf_open(c, PERF_COUNT_HW_INSTRUCTIONS, pid, cpu, -1, flags);
	}
	if (lead < 0)
		return -errno;
	miss = perf_open(c, PERF_COUNT_HW_CACHE_MISSES, pid, cpu, lead, flags);
	if (miss < 0) {
		int err = errno;

		close(lead);
		return -err;
	}
	if (perf_keep(p, lead) < 0) {
		close(miss);
		return -ENOMEM;
	}
	return perf_keep(p, miss);
}

/* The online CPUs, "0-3,8" in /sys: a cgroup event is one per CPU. */
static int perf_cgroup(struct top_ctx *c, struct top_item *it)
{
	char buf[4096], *s;
	int fd, r = 0;
	FILE *f;

	f = fopen("/sys/devices/system/cpu/online", "re");
	if (!f)
		return -errno;
	s = fgets(buf, sizeof(buf), f);
	fclose(f);
	fd = open(it->cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!s || fd < 0)
		return fd < 0 ? -errno : -EIO;
	while (r == 0 && *s >= '0' && *s <= '9') {
		long lo = strtol(s, &s, 10), hi = lo;

		if (*s == '-')
			hi = strtol(s + 1, &s, 10);
		for (long cpu = lo; r == 0 && cpu <= hi; cpu++)
			r = perf_pair(c, &it->perf, fd, (int)cpu,
				      PERF_FLAG_PID_CGROUP);
		if (*s == ',')
			s++;
	}
	close(fd);		/* the events hold the cgroup */
	return r;
}

/* Every thread of the process now; inherit covers those to come. */
static int perf_process(struct top_ctx *c, struct top_item *it)
{
	struct dirent *de;
	char path[64];
	int r = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", it->pid);
	d = opendir(path);
	if (!d)
		return -ESRCH;
	while (r == 0 && (de = readdir(d))) {
		pid_t tid = (pid_t)strtol(de->d_name, NULL, 10);

		if (tid <= 0)
			continue;
		r = perf_pair(c, &it->perf, tid, -1, 0);
		if (r == -ESRCH)
			r = 0;	/* the thread has just exited */
	}
	closedir(d);
	return r;
}

static const char *perf_hint(int err, bool cgroup)
{
	switch (err) {
	case ENOENT:
	case EOPNOTSUPP:
	case ENODEV:
	case EBADF:
		return cgroup ? ", not in a cgroup hierarchy with perf_event?" :
				", no hardware PMU (QEMU TCG?)";
	case EACCES:
	case EPERM:
		return ", see kernel.perf_event_paranoid, or CAP_PERFMON";
	case EMFILE:
	case ENFILE:
		return ", too many open files";
	default:
		return "";
	}
}

/* Can this machine count instructions at all?  Ask for ourselves. */
static void perf_probe(struct top_ctx *c)
{
	struct top_perf p = { 0 };
	int r = perf_pair(c, &p, 0, -1, 0);

	perf_close(&p);
	if (r == 0) {
		c->perf = TOP_PERF_ON;
		return;
	}
	c->perf = TOP_PERF_OFF;
	nm_warn("no perf counters (perf_event_open: %s%s): LLC misses and bandwidth not shown",
		strerror(-r), perf_hint(-r, false));
}

static void perf_attach(struct top_ctx *c, struct top_item *it)
{
	int r;

	if (c->perf != TOP_PERF_ON || c->perf_full)
		return;
	r = it->cgroup ? perf_cgroup(c, it) : perf_process(c, it);
	if (r == 0)
		return;
	perf_close(&it->perf);
	/* Out of fds: the items to come would fail the same way. */
	c->perf_full = r == -EMFILE || r == -ENFILE;
	if (c->warned_perf)
		return;
	c->warned_perf = true;
	nm_warn("no perf counters for %s (perf_event_open: %s%s): LLC misses and bandwidth not shown for it%s",
		it->cgroup ? it->cgroup : "a process", strerror(-r),
		perf_hint(-r, it->cgroup), c->perf_full ? " and newer items" : "");
}

/* Deltas since the previous read, scaled for multiplexing. */
static void perf_read(struct top_item *it, long long now)
{
	double d[2] = { 0, 0 }, secs;
	struct top_perf *p = &it->perf;

	for (size_t i = 0; i < p->n; i++) {
		unsigned long long v[3], *l = p->last[i];

		if (read(p->fd[i], v, sizeof(v)) != sizeof(v))
			continue;
		if (v[2] > l[2])
			d[i % 2] += (double)(v[0] - l[0]) *
				    (double)(v[1] - l[1]) / (double)(v[2] - l[2]);
		memcpy(l, v, sizeof(v));
	}
	secs = (double)(now - p->since) / 1e9;
	p->since = now;
	it->have_perf = p->n && secs > 0;
	it->have_mpki = it->have_perf && d[0] >= 1;
	it->mpki = it->have_mpki ? 1000.0 * d[1] / d[0] : 0;
	it->bw = it->have_perf ? d[1] * LLC_LINE / secs : 0;
}

/* ------------------------------------------------------------------ */
/* Samples                                                            */
/* ------------------------------------------------------------------ */

static void drop_gone(struct top_ctx *c)
{
	size_t kept = 0;

	for (size_t i = 0; i < c->n; i++) {
		if (c->items[i]->gone)
			item_free(c->items[i]);
		else
			c->items[kept++] = c->items[i];
	}
	c->n = kept;
}

static int cmp_items(const void *a, const void *b)
{
	const struct top_item *x = *(const struct top_item *const *)a;
	const struct top_item *y = *(const struct top_item *const *)b;

	if (x->mem_total != y->mem_total)
		return x->mem_total < y->mem_total ? 1 : -1;
	return strcmp(x->cgroup, y->cgroup);
}

/* Processes, address spaces, and memory where memcg counts it. */
static int sample_items(struct top_ctx *c, bool prime)
{
	for (size_t i = 0; i < c->n; i++)
		if (item_pids(c->items[i]) < 0)
			return -ENOMEM;
	drop_gone(c);
	for (size_t i = 0; i < c->n; i++) {
		struct top_item *it = c->items[i];

		if (item_mms(c, it) < 0)
			return -ENOMEM;
		it->use_maps = !it->cgroup ||
			       (!prime && read_numa_stat(c, it->cgroup, it->mem) < 0);
	}
	return 0;
}

int top_sample(struct top_ctx *c, bool prime)
{
	long long now = now_ns();
	int r;

	/* First: the counters' interval is the one between samples. */
	for (size_t i = 0; i < c->n; i++)
		perf_read(c->items[i], now);
	r = c->all ? scan_all(c) : 0;
	if (r == 0)
		r = sample_items(c, prime);
	if (r == 0)
		r = sample_mms(c, prime);
	if (r < 0) {
		nm_err(-r, NULL, "top: sample");
		return -1;
	}
	if (!prime)
		sample_moves(c);
	if (c->all)
		qsort(c->items, c->n, sizeof(*c->items), cmp_items);
	return 0;
}

bool top_node_shown(const struct top_ctx *c, unsigned int n)
{
	if (n >= c->nr_nodes)
		return false;
	if (n == 0)
		return true;
	if (numa_available() >= 0 && numa_bitmask_isbitset(numa_nodes_ptr, n))
		return true;
	for (size_t i = 0; i < c->n; i++)
		if (c->items[i]->mem[n] || c->items[i]->hot[n])
			return true;
	return false;
}

/* ------------------------------------------------------------------ */
/* Setup                                                              */
/* ------------------------------------------------------------------ */

int top_init(struct top_ctx *c, bool all)
{
	const char *root = nmctl_cgroup_root();
	struct rlimit rl;

	memset(c, 0, sizeof(*c));
	c->dev.fd = -1;
	c->all = all;
	c->nr_nodes = numa_available() < 0 ? 1 : (unsigned int)numa_max_node() + 1;
	if (all && access(root, R_OK | X_OK) < 0) {
		nm_err(errno, NULL, "top: cannot read the cgroup tree %s", root);
		return -1;
	}
	/* Perf counters take two fds per CPU and cgroup. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	return 0;
}

static void open_module(struct top_ctx *c)
{
	int r = nmctl_open_quiet(&c->dev, NUMAMIG_FEATURE_LOCALITY);

	if (r == 0) {
		c->have_dev = c->have_hot = true;
		return;
	}
	if (r == -EINVAL && nmctl_open_quiet(&c->dev, 0) == 0) {
		c->have_dev = true;
		nm_warn("the numamig module lacks the locality feature: hot memory not shown");
		return;
	}
	nm_warn("no numamig module (%s: %s): hot memory and moves not shown",
		nmctl_device_path(), strerror(-r));
}

void top_start(struct top_ctx *c)
{
	open_module(c);
	perf_probe(c);
	for (size_t i = 0; i < c->n; i++)
		perf_attach(c, c->items[i]);
}

void top_free(struct top_ctx *c)
{
	for (size_t i = 0; i < c->n; i++)
		item_free(c->items[i]);
	free(c->items);
	free(c->primed);
	if (c->have_dev)
		nmctl_close(&c->dev);
	memset(c, 0, sizeof(*c));
	c->dev.fd = -1;
}
