// SPDX-License-Identifier: GPL-2.0
/*
 * migbench - what moving a process's anonymous memory to another NUMA node
 * costs: migrate_pages(2), move_pages(2) and the numamig policies, side by
 * side on the same machine in the same run.
 *
 * Every run forks a fresh target that maps SIZE MiB of private anonymous
 * memory (4 KiB pages unless --thp), fills it on the source node and then
 * either stops (SIGSTOP: "stopped") or keeps writing one word of every page
 * of its second half (the "hot" half) on a CPU of the destination node
 * ("running").  The parent, on a CPU of the source node, moves the target
 * to the destination node with one mechanism and measures:
 *
 *   wall_ms        start of the call/job until it returned/finished
 *   cpu_ms         CPU time of the migrating thread: the calling thread
 *                  (CLOCK_THREAD_CPUTIME_ID) for the syscalls, the job's
 *                  kthread (numamig_job_status.cpu_ns) for numamig
 *   cpu_s_per_gib  cpu_ms per GiB actually moved
 *   pages          pages of the region on the destination afterwards
 *                  (move_pages(2) with NULL nodes over every page)
 *   hot_local_ms   running only: first poll (every --poll ms) at which 95%
 *                  of a fixed sample of hot pages was on the destination
 *   all_local_ms   wall_ms when at least 99% of the region moved, else NA
 *
 * One CSV line per run goes to --output, medians to stdout.  The target
 * checks its data after each run (data_ok).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <numa.h>
#include <numaif.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/numamig.h>

#define PROG		"migbench"
#define PAGE		4096UL
#define MiB		(1UL << 20)
#define GiB		(1UL << 30)
#define WORDS		(PAGE / sizeof(uint64_t))
#define FILL_BYTE	0x5a
#define FILL_WORD	0x5a5a5a5a5a5a5a5aULL
#define TAG_SEED	0x6d6967626e6368ULL	/* "migbnch" */
#define HOT_PCT		95	/* "hot half is local" threshold */
#define ALL_PCT		99	/* "everything is local" threshold */
#define MAX_SAMPLE	1024	/* pages per placement sample */
#define MAX_RUNS	4096

enum mb_case {
	C_MIGRATE_PAGES,
	C_MOVE_PAGES,
	C_EAGER,
	C_PERIODICAL,
	C_MILD,
	C_SEVERE,
	C_MAX,
};

static const char * const case_names[C_MAX] = {
	"migrate_pages", "move_pages", "eager", "periodical", "mild", "severe",
};

/* The numamig policy of a case, or -1 for the syscalls. */
static const int case_policy[C_MAX] = {
	-1, -1, NUMAMIG_POLICY_EAGER, NUMAMIG_POLICY_PERIODICAL,
	NUMAMIG_POLICY_MILD, NUMAMIG_POLICY_SEVERE,
};

enum mb_variant { V_STOPPED, V_RUNNING, V_MAX };

static const char * const variant_names[V_MAX] = { "stopped", "running" };

static const char * const state_names[] = {
	"RUNNING", "DONE", "CANCELLED", "FAILED", "EXITED",
};

struct opts {
	unsigned long size_mb;
	unsigned int reps;
	unsigned int cases;		/* bit per enum mb_case */
	unsigned int variants;		/* bit per enum mb_variant */
	unsigned int batch;		/* numamig n */
	unsigned int sleep_ms;		/* numamig t */
	unsigned int poll_ms;
	unsigned int chunk;		/* move_pages(2) pages per call */
	unsigned int timeout_s;		/* per migration */
	int src, dst;
	int src_cpu, dst_cpu;
	bool thp;
	bool pin_kthread;
	const char *csv;
	const char *timeline;
	const char *quiet_file;
	unsigned int quiet_wait_s;
	unsigned int retries;
};

struct tl_point {
	float t_ms, hot_pct, cold_pct;
};

struct result {
	int c, v, rep;
	double wall_ms, cpu_ms, cpu_s_per_gib;
	long pages;		/* region pages on dst afterwards */
	long pages_total;	/* region pages */
	long reported;		/* moved, as the mechanism itself says */
	double hot_local_ms;	/* < 0: NA */
	double all_local_ms;	/* < 0: NA */
	double walk_done_ms;	/* numamig: end of the first walk; < 0: NA */
	double sleep_ms;	/* numamig: time slept for the throttle */
	long tlb_ipis;		/* TLB shootdown interrupts, all CPUs; < 0: NA */
	int data_bad;		/* pages whose data the target found wrong */
	char status[32];	/* "ok", or what went wrong */
	struct tl_point *tl;	/* placement polls (running) */
	size_t ntl;
};

/* A forked target process. */
struct target {
	pid_t pid;
	char *base;		/* region address in the target */
	size_t npages;
	int rfd;		/* the target's reports */
	bool stopped;
};

static struct result results[MAX_RUNS];
static unsigned int nresults;
static int failures;
static int disturbed_runs;	/* left out: still disturbed after retries */

/* ---- small helpers ---- */

static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void warnx(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static uint64_t clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static uint64_t now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int read_full(int fd, void *buf, size_t len, int timeout_ms)
{
	size_t done = 0;

	while (done < len) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;
		int r = poll(&pfd, 1, timeout_ms);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		n = read(fd, (char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		done += n;
	}
	return 0;
}

static void write_full(int fd, const void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, (const char *)buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			_exit(2);
		done += n;
	}
}

static void pin_to_cpu(pid_t pid, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(pid, sizeof(set), &set))
		warnx("cannot pin %d to CPU %d: %s", pid, cpu, strerror(errno));
}

/* The first CPU of a node, or -1. */
static int node_first_cpu(int node)
{
	struct bitmask *cpus = numa_allocate_cpumask();
	int cpu = -1;
	unsigned int i;

	if (!numa_node_to_cpus(node, cpus)) {
		for (i = 0; i < cpus->size; i++) {
			if (numa_bitmask_isbitset(cpus, i)) {
				cpu = i;
				break;
			}
		}
	}
	numa_free_cpumask(cpus);
	return cpu;
}

static uint64_t page_tag(size_t i)
{
	return (i * 0x9e3779b97f4a7c15ULL) ^ TAG_SEED;
}

/*
 * TLB shootdown interrupts received so far, summed over the CPUs: the
 * "TLB:" line of /proc/interrupts (x86).  -1 when there is none.
 */
static long tlb_shootdowns(void)
{
	char line[4096];
	long sum = -1;
	FILE *f = fopen("/proc/interrupts", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *end;

		while (*p == ' ')
			p++;
		if (strncmp(p, "TLB:", 4))
			continue;
		p += 4;
		sum = 0;
		for (;;) {
			long v = strtol(p, &end, 10);

			if (end == p)
				break;
			sum += v;
			p = end;
		}
		break;
	}
	fclose(f);
	return sum;
}

/* ---- the target ---- */

static volatile sig_atomic_t target_quit;

static void target_on_usr1(int sig)
{
	(void)sig;
	target_quit = 1;
}

/*
 * The target's life: map and fill the region on the source node, report
 * its address, then stay idle (stopped variant; the parent stops it) or
 * write the hot half until SIGUSR1; then check the data, report, exit.
 */
static void target_main(const struct opts *o, int variant, size_t npages,
			int wfd)
{
	struct sigaction sa = { .sa_handler = target_on_usr1 };
	unsigned long mask = 1UL << o->src;
	size_t len = npages * PAGE, i, hot = npages / 2;
	sigset_t block, old;
	long bad = 0;
	char *p;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &old);

	pin_to_cpu(0, o->dst_cpu);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		_exit(3);
	if (!o->thp && madvise(p, len, MADV_NOHUGEPAGE))
		_exit(3);
	if (set_mempolicy(MPOL_BIND, &mask, sizeof(mask) * 8))
		_exit(4);
	for (i = 0; i < npages; i++) {
		uint64_t *w = (uint64_t *)(p + i * PAGE);

		memset(w, FILL_BYTE, PAGE);
		w[0] = page_tag(i);
	}
	/* Pages moved later must not be pulled back by the policy. */
	if (set_mempolicy(MPOL_DEFAULT, NULL, 0))
		_exit(4);
	write_full(wfd, &p, sizeof(p));

	if (variant == V_RUNNING) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		while (!target_quit)
			for (i = hot; i < npages; i++)
				((volatile uint64_t *)(p + i * PAGE))[1]++;
	} else {
		while (!target_quit)
			sigsuspend(&old);
	}

	for (i = 0; i < npages; i++) {
		const uint64_t *w = (const uint64_t *)(p + i * PAGE);

		if (w[0] != page_tag(i) || w[WORDS - 1] != FILL_WORD ||
		    (i < hot && w[1] != FILL_WORD))
			bad++;
	}
	write_full(wfd, &bad, sizeof(bad));
	_exit(0);
}

static int target_start(struct target *t, const struct opts *o, int variant)
{
	int fds[2], st, ret;

	memset(t, 0, sizeof(*t));
	t->npages = o->size_mb * MiB / PAGE;
	if (pipe2(fds, O_CLOEXEC))
		die("pipe: %s", strerror(errno));
	fflush(NULL);
	t->pid = fork();
	if (t->pid < 0)
		die("fork: %s", strerror(errno));
	if (t->pid == 0) {
		close(fds[0]);
		target_main(o, variant, t->npages, fds[1]);
	}
	close(fds[1]);
	t->rfd = fds[0];
	/* TCG fills ~1 GB/s; allow for a slow, busy host. */
	ret = read_full(t->rfd, &t->base, sizeof(t->base), 120000);
	if (ret) {
		kill(t->pid, SIGKILL);
		waitpid(t->pid, &st, 0);
		close(t->rfd);
		warnx("the target did not get ready: %s", strerror(-ret));
		return ret;
	}
	if (variant == V_STOPPED) {
		kill(t->pid, SIGSTOP);
		if (waitpid(t->pid, &st, WUNTRACED) != t->pid || !WIFSTOPPED(st))
			die("the target did not stop");
		t->stopped = true;
	}
	return 0;
}

/* Ask the target to check its data and end it; pages it found bad or -1. */
static long target_finish(struct target *t)
{
	long bad = -1;
	int st;

	kill(t->pid, SIGUSR1);
	if (t->stopped)
		kill(t->pid, SIGCONT);
	if (read_full(t->rfd, &bad, sizeof(bad), 120000))
		bad = -1;
	kill(t->pid, SIGKILL);
	waitpid(t->pid, &st, 0);
	close(t->rfd);
	return bad;
}

/* ---- placement ---- */

/*
 * Count the pages of @addrs on @node with move_pages(2) NULL nodes, 16384
 * at a time.  Pages not present or under migration (status < 0) count as
 * not there.  Returns -1 when the call itself fails.
 */
static long count_on_node(pid_t pid, void **addrs, int *status, size_t n,
			  int node)
{
	size_t i, k, step;
	long on = 0;

	for (i = 0; i < n; i += step) {
		step = n - i < 16384 ? n - i : 16384;
		if (move_pages(pid, step, addrs + i, NULL, status + i, 0))
			return -1;
		for (k = i; k < i + step; k++)
			on += status[k] == node;
	}
	return on;
}

/* A sample of @n pages spread evenly over [first, first + count). */
static void **sample_pages(const struct target *t, size_t first, size_t count,
			   size_t *n)
{
	size_t want = count < MAX_SAMPLE ? count : MAX_SAMPLE, i;
	void **a = calloc(want ? want : 1, sizeof(*a));

	if (!a)
		die("out of memory");
	for (i = 0; i < want; i++)
		a[i] = t->base + (first + i * count / want) * PAGE;
	*n = want;
	return a;
}

/* ---- the placement poller (running variant) ---- */

struct poller {
	pthread_t thread;
	pid_t pid;
	int dst;
	unsigned int poll_ms;
	uint64_t t0;
	void **hot, **cold;
	int *status;
	size_t nhot, ncold;
	atomic_bool stop;
	double hot_local_ms;
	struct tl_point *tl;
	size_t ntl, captl;
};

static void *poller_main(void *arg)
{
	struct poller *p = arg;

	while (!atomic_load(&p->stop)) {
		uint64_t t = now_ns();
		long h = count_on_node(p->pid, p->hot, p->status, p->nhot,
				       p->dst);
		long c = count_on_node(p->pid, p->cold, p->status, p->ncold,
				       p->dst);
		double ms = (t - p->t0) / 1e6;

		if (h >= 0 && p->hot_local_ms < 0 &&
		    (size_t)h * 100 >= HOT_PCT * p->nhot)
			p->hot_local_ms = ms;
		if (h >= 0 && c >= 0 && p->ntl < p->captl) {
			p->tl[p->ntl].t_ms = ms;
			p->tl[p->ntl].hot_pct = 100.0 * h / p->nhot;
			p->tl[p->ntl].cold_pct = 100.0 * c / p->ncold;
			p->ntl++;
		}
		sleep_ms(p->poll_ms);
	}
	return NULL;
}

static void poller_start(struct poller *p, const struct target *t,
			 const struct opts *o, uint64_t t0)
{
	size_t half = t->npages / 2;

	memset(p, 0, sizeof(*p));
	p->pid = t->pid;
	p->dst = o->dst;
	p->poll_ms = o->poll_ms;
	p->t0 = t0;
	p->hot_local_ms = -1;
	p->hot = sample_pages(t, half, t->npages - half, &p->nhot);
	p->cold = sample_pages(t, 0, half, &p->ncold);
	p->status = calloc(MAX_SAMPLE, sizeof(int));
	p->captl = 1 + (size_t)o->timeout_s * 1000 / (o->poll_ms ? o->poll_ms : 1);
	p->tl = calloc(p->captl, sizeof(*p->tl));
	if (!p->status || !p->tl)
		die("out of memory");
	atomic_store(&p->stop, false);
	if (pthread_create(&p->thread, NULL, poller_main, p))
		die("pthread_create failed");
}

static void poller_stop(struct poller *p)
{
	atomic_store(&p->stop, true);
	pthread_join(p->thread, NULL);
	free(p->hot);
	free(p->cold);
	free(p->status);
}

/* ---- the mechanisms ---- */

static void run_migrate_pages(const struct opts *o, const struct target *t,
			      long before, struct result *r)
{
	unsigned long from = 1UL << o->src, to = 1UL << o->dst;
	uint64_t c0, c1, w0, w1;
	long left;

	c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	w0 = now_ns();
	left = migrate_pages(t->pid, sizeof(from) * 8, &from, &to);
	w1 = now_ns();
	c1 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	if (left < 0) {
		snprintf(r->status, sizeof(r->status), "migrate_pages:%s",
			 strerrorname_np(errno) ?: "?");
		left = before;
	}
	r->wall_ms = (w1 - w0) / 1e6;
	r->cpu_ms = (c1 - c0) / 1e6;
	/* It returns how many pages of the whole mm it could not move. */
	r->reported = before - left;
}

static void run_move_pages(const struct opts *o, const struct target *t,
			   struct result *r)
{
	size_t n = t->npages, i, step;
	void **addrs = malloc(n * sizeof(*addrs));
	int *nodes = malloc(n * sizeof(*nodes));
	int *status = malloc(n * sizeof(*status));
	uint64_t c0, c1, w0, w1;
	long moved = 0;

	if (!addrs || !nodes || !status)
		die("out of memory");
	for (i = 0; i < n; i++) {
		addrs[i] = t->base + i * PAGE;
		nodes[i] = o->dst;
		status[i] = -1;
	}
	c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	w0 = now_ns();
	for (i = 0; i < n; i += step) {
		step = n - i < o->chunk ? n - i : o->chunk;
		if (move_pages(t->pid, step, addrs + i, nodes + i, status + i,
			       MPOL_MF_MOVE) < 0) {
			snprintf(r->status, sizeof(r->status), "move_pages:%s",
				 strerrorname_np(errno) ?: "?");
			break;
		}
	}
	w1 = now_ns();
	c1 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	for (i = 0; i < n; i++)
		moved += status[i] == o->dst;
	r->wall_ms = (w1 - w0) / 1e6;
	r->cpu_ms = (c1 - c0) / 1e6;
	r->reported = moved;
	free(addrs);
	free(nodes);
	free(status);
}

/* The job's kthread is "numamig/<target pid>": put it beside the caller. */
static bool pin_numamig_thread(pid_t target, int cpu)
{
	char want[32], path[300], comm[32];
	struct dirent *de;
	bool done = false;
	DIR *d;

	snprintf(want, sizeof(want), "numamig/%d\n", target);
	d = opendir("/proc");
	if (!d)
		return false;
	while (!done && (de = readdir(d))) {
		ssize_t n;
		int fd;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, comm, sizeof(comm) - 1);
		close(fd);
		if (n <= 0)
			continue;
		comm[n] = 0;
		if (strcmp(comm, want))
			continue;
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		done = !sched_setaffinity(atoi(de->d_name), sizeof(set), &set);
	}
	closedir(d);
	return done;
}

static int numamig_fd = -1;

static void numamig_open(void)
{
	struct numamig_api api = { .api = NUMAMIG_API };

	numamig_fd = open(NUMAMIG_DEVICE, O_RDWR | O_CLOEXEC);
	if (numamig_fd < 0)
		die("%s: %s (insmod numamig.ko, or leave the numamig cases out with -c)",
		    NUMAMIG_DEVICE, strerror(errno));
	if (ioctl(numamig_fd, NUMAMIG_IOC_API, &api))
		die("NUMAMIG_IOC_API: %s", strerror(errno));
}

static void run_numamig(const struct opts *o, const struct target *t,
			int policy, struct result *r)
{
	struct numamig_migrate m = {
		.pid = t->pid,
		.dst_node = o->dst,
		.policy = policy,
		.batch_pages = o->batch,
		.sleep_ms = o->sleep_ms,
	};
	struct numamig_job_status st = { 0 };
	struct numamig_wait w = { 0 };
	struct numamig_job_ref ref = { 0 };
	uint64_t w0, w1;
	int ret;

	m.src_nodes[o->src / 64] = 1ULL << (o->src % 64);
	w0 = now_ns();
	if (ioctl(numamig_fd, NUMAMIG_IOC_MIGRATE, &m)) {
		snprintf(r->status, sizeof(r->status), "MIGRATE:%s",
			 strerrorname_np(errno) ?: "?");
		return;
	}
	if (o->pin_kthread && !pin_numamig_thread(t->pid, o->src_cpu))
		warnx("job %llu: could not pin its thread (finished already?)",
		      (unsigned long long)m.job_id);
	w.job_id = m.job_id;
	w.timeout_ms = (uint64_t)o->timeout_s * 1000;
	do {
		ret = ioctl(numamig_fd, NUMAMIG_IOC_WAIT, &w) ? errno : 0;
	} while (ret == EINTR);
	w1 = now_ns();
	if (ret) {
		warnx("job %llu: WAIT: %s (state %u) -- cancelling",
		      (unsigned long long)m.job_id, strerror(ret), w.state);
		ref.job_id = m.job_id;
		ioctl(numamig_fd, NUMAMIG_IOC_CANCEL, &ref);
		memset(&w, 0, sizeof(w));
		w.job_id = m.job_id;
		w.timeout_ms = 10000;
		ioctl(numamig_fd, NUMAMIG_IOC_WAIT, &w);
		snprintf(r->status, sizeof(r->status), "WAIT:%s",
			 strerrorname_np(ret) ?: "?");
	}
	st.job_id = m.job_id;
	if (ioctl(numamig_fd, NUMAMIG_IOC_STATUS, &st)) {
		snprintf(r->status, sizeof(r->status), "STATUS:%s",
			 strerrorname_np(errno) ?: "?");
		return;
	}
	if (!ret && st.state != NUMAMIG_STATE_DONE)
		snprintf(r->status, sizeof(r->status), "%s:%d",
			 st.state < 5 ? state_names[st.state] : "?", st.error);
	r->wall_ms = (w1 - w0) / 1e6;
	r->cpu_ms = st.cpu_ns / 1e6;
	r->reported = st.pages_migrated;
	r->walk_done_ms = st.walk_done_ns / 1e6;
	r->sleep_ms = st.sleep_ns / 1e6;
}

/* ---- one run ---- */

static FILE *csv_file, *tl_file;

static void csv_num(FILE *f, double v, const char *fmt)
{
	if (v < 0)
		fputs(",NA", f);
	else
		fprintf(f, fmt, v);
}

static void csv_write(const struct result *r)
{
	FILE *f = csv_file;

	if (!f)
		return;
	fprintf(f, "%s,%s,%d,%.1f,%.1f,%.3f,%ld", case_names[r->c],
		variant_names[r->v], r->rep, r->wall_ms, r->cpu_ms,
		r->cpu_s_per_gib, r->pages);
	csv_num(f, r->hot_local_ms, ",%.1f");
	csv_num(f, r->all_local_ms, ",%.1f");
	fprintf(f, ",%ld,%ld", r->pages_total, r->reported);
	csv_num(f, r->walk_done_ms, ",%.1f");
	csv_num(f, r->sleep_ms, ",%.1f");
	fprintf(f, ",%d,%s", r->data_bad, r->status);
	if (r->tlb_ipis < 0)
		fputs(",NA\n", f);
	else
		fprintf(f, ",%ld\n", r->tlb_ipis);
	fflush(f);
}

/*
 * One run: a fresh target, one mechanism, the checks, into *r.  The
 * placement polls of a running target are left in r->tl (the caller frees
 * them).  Returns -1 when no target could be started.
 */
static int run_one(const struct opts *o, int c, int v, int rep,
		   struct result *r)
{
	struct target t;
	struct poller p;
	void **all;
	int *status;
	size_t i;
	uint64_t t0;
	long before, tlb0, tlb1;

	memset(r, 0, sizeof(*r));
	r->c = c;
	r->v = v;
	r->rep = rep;
	r->hot_local_ms = r->all_local_ms = -1;
	r->walk_done_ms = r->sleep_ms = -1;
	strcpy(r->status, "ok");

	if (target_start(&t, o, v))
		return -1;
	r->pages_total = t.npages;
	all = malloc(t.npages * sizeof(*all));
	status = malloc(t.npages * sizeof(*status));
	if (!all || !status)
		die("out of memory");
	for (i = 0; i < t.npages; i++)
		all[i] = t.base + i * PAGE;

	before = count_on_node(t.pid, all, status, t.npages, o->src);
	if (before < 0 || (size_t)before * 100 < ALL_PCT * t.npages) {
		warnx("%s/%s: only %ld of %zu pages on node %d before the move",
		      case_names[c], variant_names[v], before, t.npages,
		      o->src);
		snprintf(r->status, sizeof(r->status), "premise");
	}

	tlb0 = tlb_shootdowns();
	t0 = now_ns();
	if (v == V_RUNNING)
		poller_start(&p, &t, o, t0);
	if (c == C_MIGRATE_PAGES)
		run_migrate_pages(o, &t, before, r);
	else if (c == C_MOVE_PAGES)
		run_move_pages(o, &t, r);
	else
		run_numamig(o, &t, case_policy[c], r);
	if (v == V_RUNNING)
		poller_stop(&p);
	tlb1 = tlb_shootdowns();
	r->tlb_ipis = tlb0 >= 0 && tlb1 >= 0 ? tlb1 - tlb0 : -1;

	r->pages = count_on_node(t.pid, all, status, t.npages, o->dst);
	if (r->pages > 0)
		r->cpu_s_per_gib = r->cpu_ms / 1e3 /
				   ((double)r->pages * PAGE / GiB);
	if ((size_t)r->pages * 100 >= ALL_PCT * t.npages)
		r->all_local_ms = r->wall_ms;
	else if (!strcmp(r->status, "ok"))
		snprintf(r->status, sizeof(r->status), "moved:%ld", r->pages);
	if (v == V_RUNNING) {
		/*
		 * A poll may land after the end; and the end may come between
		 * two polls: then the hot half was local by the end at latest.
		 */
		r->hot_local_ms = p.hot_local_ms;
		if (r->hot_local_ms > r->wall_ms)
			r->hot_local_ms = r->wall_ms;
		if (r->hot_local_ms < 0) {
			size_t nh;
			void **hot = sample_pages(&t, t.npages / 2,
						  t.npages - t.npages / 2, &nh);
			long h = count_on_node(t.pid, hot, status, nh, o->dst);

			if (h >= 0 && (size_t)h * 100 >= HOT_PCT * nh)
				r->hot_local_ms = r->wall_ms;
			free(hot);
		}
		r->tl = p.tl;
		r->ntl = p.ntl;
	}

	r->data_bad = target_finish(&t);
	if (r->data_bad && !strcmp(r->status, "ok"))
		snprintf(r->status, sizeof(r->status), "data:%d", r->data_bad);
	free(all);
	free(status);
	return 0;
}

static void print_run(const struct result *r, bool warmup)
{
	if (warmup)
		fprintf(stderr, "(warm-up, %ld pages) ", r->pages_total);
	fprintf(stderr, "%-13s %-7s rep %d: wall %8.1f ms  cpu %8.1f ms  %6.2f CPU-s/GiB  %ld/%ld pages",
		case_names[r->c], variant_names[r->v], r->rep, r->wall_ms,
		r->cpu_ms, r->cpu_s_per_gib, r->pages, r->pages_total);
	if (r->v == V_RUNNING)
		fprintf(stderr, "  hot-local %.0f ms", r->hot_local_ms);
	fprintf(stderr, "  %ld TLB IPIs  %s\n", r->tlb_ipis, r->status);
}

static void timeline_write(const struct result *r)
{
	size_t i;

	if (!tl_file)
		return;
	for (i = 0; i < r->ntl; i++)
		fprintf(tl_file, "%s,%s,%d,%.1f,%.1f,%.1f\n",
			case_names[r->c], variant_names[r->v], r->rep,
			r->tl[i].t_ms, r->tl[i].hot_pct, r->tl[i].cold_pct);
	fflush(tl_file);
}

/* ---- the host: other guests sharing its CPUs ---- */

/*
 * run.sh's monitor keeps "BUSY QUIET" in the --quiet-file: BUSY counts the
 * samples (two a second) that saw another QEMU guest on the host, QUIET is
 * 1 when the last one saw none.  Under TCG a guest whose vCPU threads are
 * descheduled on the host waits for its own IPIs: such runs say nothing.
 */
static bool host_read(const char *path, long *busy, int *quiet)
{
	FILE *f = fopen(path, "r");
	bool ok;

	if (!f)
		return false;
	ok = fscanf(f, "%ld %d", busy, quiet) == 2;
	fclose(f);
	return ok;
}

/* Wait up to max_s seconds for a quiet host; returns the busy count. */
static long host_wait_quiet(const char *path, unsigned int max_s)
{
	unsigned int waited = 0;
	long busy = -1;
	int quiet = 1;

	while (host_read(path, &busy, &quiet) && !quiet &&
	       waited < max_s * 2) {
		if (!waited)
			fprintf(stderr, PROG ": waiting for the host to be quiet (other QEMU guests)\n");
		sleep_ms(500);
		waited++;
	}
	return busy;
}

/*
 * Run one case until it was not disturbed by other guests (at most
 * o->retries more times); disturbed attempts go to the CSV with status
 * "disturbed" and are left out of the medians.
 */
static void run_case(const struct opts *o, int c, int v, int rep)
{
	bool warmup = rep < 0;
	unsigned int attempt;

	for (attempt = 0;; attempt++) {
		struct result *r;
		long busy0 = -1, busy1 = -1;
		int quiet = 1;
		bool disturbed = false;

		if (nresults >= MAX_RUNS)
			die("too many runs");
		r = &results[nresults];
		if (o->quiet_file)
			busy0 = host_wait_quiet(o->quiet_file, o->quiet_wait_s);
		if (run_one(o, c, v, rep, r)) {
			failures++;
			return;
		}
		if (o->quiet_file && host_read(o->quiet_file, &busy1, &quiet))
			disturbed = busy1 != busy0;
		if (disturbed && !strcmp(r->status, "ok"))
			strcpy(r->status, "disturbed");
		print_run(r, warmup);
		if (!warmup) {
			csv_write(r);
			if (!disturbed) {
				timeline_write(r);
				nresults++;
			}
		}
		free(r->tl);
		r->tl = NULL;
		if (strcmp(r->status, "ok") && strcmp(r->status, "disturbed"))
			failures++;
		if (disturbed && !warmup) {
			if (attempt < o->retries)
				continue;
			disturbed_runs++;
		}
		return;
	}
}

/* ---- the summary ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

enum field { F_WALL, F_CPU, F_CPG, F_PAGES, F_HOT, F_ALL, F_TLB };

static double field_of(const struct result *r, enum field f)
{
	switch (f) {
	case F_WALL:	return r->wall_ms;
	case F_CPU:	return r->cpu_ms;
	case F_CPG:	return r->cpu_s_per_gib;
	case F_PAGES:	return r->pages;
	case F_HOT:	return r->hot_local_ms;
	case F_ALL:	return r->all_local_ms;
	case F_TLB:	return r->tlb_ipis;
	}
	return -1;
}

/* Median of one field over the runs of (c, v) that have it; < 0: none. */
static double median(int c, int v, enum field f)
{
	double vals[MAX_RUNS];
	unsigned int i, n = 0;

	for (i = 0; i < nresults; i++) {
		const struct result *r = &results[i];
		double x = field_of(r, f);

		if (r->c == c && r->v == v && x >= 0)
			vals[n++] = x;
	}
	if (!n)
		return -1;
	qsort(vals, n, sizeof(*vals), cmp_double);
	return n % 2 ? vals[n / 2] : (vals[n / 2 - 1] + vals[n / 2]) / 2;
}

static void print_num(double v, const char *fmt, int width)
{
	if (v < 0)
		printf(" %*s", width, "NA");
	else
		printf(fmt, v);
}

static void print_summary(const struct opts *o)
{
	int c, v;

	printf("\nmedians of %u run(s) per case; %lu MiB, 4 KiB pages%s; numamig n=%u pages, t=%u ms\n",
	       o->reps, o->size_mb, o->thp ? " (THP allowed)" : "", o->batch,
	       o->sleep_ms);
	printf("%-13s %-7s %9s %9s %9s %8s %9s %9s %7s %7s %7s\n", "case",
	       "variant", "wall_ms", "cpu_ms", "CPU-s/GiB", "vs_mp", "hot_ms",
	       "all_ms", "hot/all", "ipi/pg", "pages");
	for (v = 0; v < V_MAX; v++) {
		double base = median(C_MIGRATE_PAGES, v,
				     F_CPG);

		if (!(o->variants & (1u << v)))
			continue;
		for (c = 0; c < C_MAX; c++) {
			double cpg, hot, all, tlb, pages;

			if (!(o->cases & (1u << c)))
				continue;
			cpg = median(c, v, F_CPG);
			hot = median(c, v, F_HOT);
			all = median(c, v, F_ALL);
			printf("%-13s %-7s", case_names[c], variant_names[v]);
			print_num(median(c, v, F_WALL), " %9.1f", 9);
			print_num(median(c, v, F_CPU), " %9.1f", 9);
			print_num(cpg, " %9.3f", 9);
			print_num(base > 0 && cpg >= 0 ? cpg / base : -1, " %7.2fx", 7);
			print_num(hot, " %9.1f", 9);
			print_num(all, " %9.1f", 9);
			print_num(hot >= 0 && all > 0 ? hot / all : -1, " %7.2f", 7);
			tlb = median(c, v, F_TLB);
			pages = median(c, v, F_PAGES);
			print_num(tlb >= 0 && pages > 0 ? tlb / pages : -1, " %7.3f", 7);
			printf(" %7.0f\n", pages);
		}
	}
}

/* ---- options ---- */

static void usage(FILE *f)
{
	fprintf(f,
"Usage: " PROG " [options]\n"
"\n"
"Move a forked target's anonymous memory from one NUMA node to another with\n"
"migrate_pages(2), move_pages(2) and numamig (eager, periodical, mild,\n"
"severe), the target stopped and running; print one CSV line per run and\n"
"the medians.  Run as root with numamig loaded and NUMA balancing off.\n"
"\n"
"Options:\n"
"  -s, --size MB       target memory (default 256)\n"
"  -r, --reps N        runs per case and variant (default 3)\n"
"  -c, --cases LIST    comma list of: migrate_pages, move_pages, eager,\n"
"                      periodical, mild, severe, numamig, all (default all)\n"
"  -V, --variants LIST stopped, running or both (default both)\n"
"  -b, --batch N       numamig pages per batch (default 4096)\n"
"  -t, --sleep MS      numamig sleep between batches (default 50)\n"
"  -p, --poll MS       placement poll interval, running variant (default 20)\n"
"  -k, --chunk N       move_pages(2) pages per call (default 16384)\n"
"      --from NODE     source node (default 0)\n"
"      --to NODE       destination node (default 1)\n"
"      --thp           leave transparent huge pages on (default: 4 KiB pages)\n"
"      --no-pin        leave numamig's kthread where the scheduler puts it\n"
"      --timeout S     give up on one migration after S seconds (default 120)\n"
"      --warmup MB     first run every case once, unrecorded, with MB MiB\n"
"                      (default 16; 0 = no warm-up)\n"
"      --quiet-file F  \"BUSY QUIET\" from the host (run.sh): before each run\n"
"                      wait for QUIET=1, redo a run during which BUSY changed\n"
"      --quiet-wait S  wait at most S seconds for a quiet host (default 300)\n"
"      --retries N     redo a disturbed run at most N times (default 3)\n"
"  -o, --output FILE   CSV, one line per run\n"
"  -T, --timeline FILE CSV of the placement polls of the running variant\n"
"  -h, --help          this help\n"
"\n"
"CSV columns: case,variant,rep,wall_ms,cpu_ms,cpu_s_per_gib,pages,\n"
"hot_local_ms,all_local_ms,pages_total,reported,walk_done_ms,sleep_ms,\n"
"data_bad,status,tlb_ipis\n");
}

static unsigned long parse_num(const char *s, const char *what,
			       unsigned long min, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		die("%s: '%s' is not a number in [%lu, %lu]", what, s, min, max);
	return v;
}

static unsigned int parse_list(const char *s, const char * const *names,
			       int n, const char *what)
{
	char *copy = strdup(s), *tok, *save = NULL;
	unsigned int mask = 0;
	int i;

	if (!copy)
		die("out of memory");
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "all") || !strcmp(tok, "both")) {
			mask |= (1u << n) - 1;
			continue;
		}
		if (names == case_names && !strcmp(tok, "numamig")) {
			mask |= (1u << C_EAGER) | (1u << C_PERIODICAL) |
				(1u << C_MILD) | (1u << C_SEVERE);
			continue;
		}
		for (i = 0; i < n; i++)
			if (!strcmp(tok, names[i]))
				break;
		if (i == n)
			die("%s: unknown '%s'", what, tok);
		mask |= 1u << i;
	}
	free(copy);
	if (!mask)
		die("%s: empty list", what);
	return mask;
}

enum { OPT_FROM = 256, OPT_TO, OPT_THP, OPT_NO_PIN, OPT_TIMEOUT, OPT_WARMUP,
       OPT_QUIET_FILE, OPT_QUIET_WAIT, OPT_RETRIES };

static const struct option longopts[] = {
	{ "size",	required_argument, NULL, 's' },
	{ "reps",	required_argument, NULL, 'r' },
	{ "cases",	required_argument, NULL, 'c' },
	{ "variants",	required_argument, NULL, 'V' },
	{ "batch",	required_argument, NULL, 'b' },
	{ "sleep",	required_argument, NULL, 't' },
	{ "poll",	required_argument, NULL, 'p' },
	{ "chunk",	required_argument, NULL, 'k' },
	{ "from",	required_argument, NULL, OPT_FROM },
	{ "to",		required_argument, NULL, OPT_TO },
	{ "thp",	no_argument,	   NULL, OPT_THP },
	{ "no-pin",	no_argument,	   NULL, OPT_NO_PIN },
	{ "timeout",	required_argument, NULL, OPT_TIMEOUT },
	{ "warmup",	required_argument, NULL, OPT_WARMUP },
	{ "quiet-file",	required_argument, NULL, OPT_QUIET_FILE },
	{ "quiet-wait",	required_argument, NULL, OPT_QUIET_WAIT },
	{ "retries",	required_argument, NULL, OPT_RETRIES },
	{ "output",	required_argument, NULL, 'o' },
	{ "timeline",	required_argument, NULL, 'T' },
	{ "help",	no_argument,	   NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int main(int argc, char **argv)
{
	struct opts o = {
		.size_mb = 256, .reps = 3, .cases = (1u << C_MAX) - 1,
		.variants = (1u << V_MAX) - 1, .batch = 4096, .sleep_ms = 50,
		.poll_ms = 20, .chunk = 16384, .timeout_s = 120,
		.src = 0, .dst = 1, .pin_kthread = true,
		.quiet_wait_s = 300, .retries = 3,
	};
	unsigned long warmup_mb = 16;
	unsigned int rep;
	int opt, c, v, bal;
	FILE *f;

	while ((opt = getopt_long(argc, argv, "s:r:c:V:b:t:p:k:o:T:h",
				  longopts, NULL)) != -1) {
		switch (opt) {
		case 's': o.size_mb = parse_num(optarg, "--size", 2, 1UL << 20); break;
		case 'r': o.reps = parse_num(optarg, "--reps", 1, 100); break;
		case 'c': o.cases = parse_list(optarg, case_names, C_MAX, "--cases"); break;
		case 'V': o.variants = parse_list(optarg, variant_names, V_MAX, "--variants"); break;
		case 'b': o.batch = parse_num(optarg, "--batch", 1, NUMAMIG_MAX_BATCH); break;
		case 't': o.sleep_ms = parse_num(optarg, "--sleep", 1, NUMAMIG_MAX_SLEEP); break;
		case 'p': o.poll_ms = parse_num(optarg, "--poll", 1, 10000); break;
		case 'k': o.chunk = parse_num(optarg, "--chunk", 1, 1U << 24); break;
		case OPT_FROM: o.src = parse_num(optarg, "--from", 0, 63); break;
		case OPT_TO: o.dst = parse_num(optarg, "--to", 0, 63); break;
		case OPT_THP: o.thp = true; break;
		case OPT_NO_PIN: o.pin_kthread = false; break;
		case OPT_WARMUP: warmup_mb = parse_num(optarg, "--warmup", 0, 1UL << 20); break;
		case OPT_QUIET_FILE: o.quiet_file = optarg; break;
		case OPT_QUIET_WAIT: o.quiet_wait_s = parse_num(optarg, "--quiet-wait", 0, 86400); break;
		case OPT_RETRIES: o.retries = parse_num(optarg, "--retries", 0, 100); break;
		case OPT_TIMEOUT: o.timeout_s = parse_num(optarg, "--timeout", 1, 3600); break;
		case 'o': o.csv = optarg; break;
		case 'T': o.timeline = optarg; break;
		case 'h': usage(stdout); return 0;
		default:
			fprintf(stderr, "Try '" PROG " --help'.\n");
			return 1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s'\nTry '" PROG " --help'.\n",
			argv[optind]);
		return 1;
	}
	if (o.src == o.dst)
		die("--from and --to name the same node");
	if (numa_available() < 0 || numa_max_node() < (o.src > o.dst ? o.src : o.dst))
		die("needs NUMA nodes %d and %d", o.src, o.dst);
	o.src_cpu = node_first_cpu(o.src);
	o.dst_cpu = node_first_cpu(o.dst);
	if (o.src_cpu < 0 || o.dst_cpu < 0)
		die("nodes %d and %d need a CPU each", o.src, o.dst);
	f = fopen("/proc/sys/kernel/numa_balancing", "r");
	if (f) {
		if (fscanf(f, "%d", &bal) == 1 && bal)
			warnx("kernel.numa_balancing=%d: it moves pages too and hides them from move_pages(2)", bal);
		fclose(f);
	}
	if (o.cases & ~((1u << C_MIGRATE_PAGES) | (1u << C_MOVE_PAGES)))
		numamig_open();
	if (o.csv) {
		csv_file = fopen(o.csv, "w");
		if (!csv_file)
			die("%s: %s", o.csv, strerror(errno));
		fprintf(csv_file, "# migbench size_mb=%lu reps=%u batch=%u sleep_ms=%u poll_ms=%u chunk=%u thp=%d from=%d to=%d\n",
			o.size_mb, o.reps, o.batch, o.sleep_ms, o.poll_ms,
			o.chunk, o.thp, o.src, o.dst);
		fprintf(csv_file, "case,variant,rep,wall_ms,cpu_ms,cpu_s_per_gib,pages,hot_local_ms,all_local_ms,pages_total,reported,walk_done_ms,sleep_ms,data_bad,status,tlb_ipis\n");
		fflush(csv_file);
	}
	if (o.timeline) {
		tl_file = fopen(o.timeline, "w");
		if (!tl_file)
			die("%s: %s", o.timeline, strerror(errno));
		fprintf(tl_file, "case,variant,rep,t_ms,hot_pct,cold_pct\n");
	}

	/* The migrating side lives on the source node's CPU. */
	pin_to_cpu(0, o.src_cpu);
	if (warmup_mb) {
		struct opts w = o;

		w.size_mb = warmup_mb < o.size_mb ? warmup_mb : o.size_mb;
		for (v = 0; v < V_MAX; v++)
			for (c = 0; c < C_MAX; c++)
				if ((o.cases & (1u << c)) &&
				    (o.variants & (1u << v)))
					run_case(&w, c, v, -1);
	}
	/* Interleave the cases so that a disturbance hits them all alike. */
	for (rep = 0; rep < o.reps; rep++)
		for (v = 0; v < V_MAX; v++)
			for (c = 0; c < C_MAX; c++)
				if ((o.cases & (1u << c)) &&
				    (o.variants & (1u << v)))
					run_case(&o, c, v, rep);

	print_summary(&o);
	if (csv_file)
		fclose(csv_file);
	if (tl_file)
		fclose(tl_file);
	if (disturbed_runs)
		fprintf(stderr, PROG ": %d run(s) left out: other guests ran on the host every time\n",
			disturbed_runs);
	if (failures)
		fprintf(stderr, PROG ": %d run(s) did not go as expected (status column)\n",
			failures);
	return failures ? 2 : 0;
}
