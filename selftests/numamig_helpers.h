/* SPDX-License-Identifier: GPL-2.0 */
/*
 * numamig selftests: the device, target processes and placement checks
 * shared by the numamig_*_test.c files.  Include after kselftest_harness.h:
 * the helpers that take a struct __test_metadata assert on their own.
 *
 * A target is a forked child that maps private anonymous memory, fills it
 * on one node with a pattern that names each word's address, and then
 * obeys commands sent over a pipe: write or touch pages from a thread,
 * verify the pattern, exec, exit.  The parent checks where the target's
 * pages are with move_pages(2) and asks the target to check its data.
 */
#ifndef NUMAMIG_HELPERS_H
#define NUMAMIG_HELPERS_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <numa.h>
#include <numaif.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/numamig.h>

#define MiB			(1UL << 20)
#define NM_PAGE_SIZE		4096UL
#define NM_THP_SIZE		(2 * MiB)
#define NM_NODES		64	/* nodes the placement counters cover */
#define NM_MAX_TARGETS		4
#define NM_SENTINEL		0x5e5e5e5e5e5e5e5eULL
#define NM_BALANCING		"/proc/sys/kernel/numa_balancing"
#define NM_NOBODY		65534	/* uid and gid of an unprivileged user */
#define NM_WAIT_MS		60000	/* WAIT timeout where a job must finish */
/*
 * Seconds a test that migrates may take.  They need a few seconds; under
 * TCG on a busy host everything can get ten times slower.
 */
#define NM_TEST_TIMEOUT		180

/* Seeds of the patterns; a target mixes its own seed in. */
#define NM_SEED_SHM		0x5348u
#define NM_SEED_COW		0xc0c0u
#define NM_SEED_FILE		0xf11e0000f11eULL

/*
 * The 6.1 harness runs the test body even when FIXTURE_SETUP called SKIP()
 * (fixed in later kernels), so a setup that skips ends the test process
 * itself with the code the harness reads as "skipped".
 */
#define NM_SETUP_SKIP(fmt, ...) SKIP(_exit(255), fmt, ##__VA_ARGS__)

static const char * const nm_state_names[] = {
	"RUNNING", "DONE", "CANCELLED", "FAILED", "EXITED",
};

static inline const char *nm_state_name(__u32 state)
{
	return state < 5 ? nm_state_names[state] : "?";
}

static inline uint64_t nm_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static inline void nm_sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* The value every 8-byte word of a buffer holds: its address mixed with seed. */
static inline uint64_t nm_pattern(const void *addr, uint64_t seed)
{
	return (uint64_t)(uintptr_t)addr * 0x9e3779b97f4a7c15ULL ^ seed;
}

static inline void nm_fill(void *buf, size_t len, uint64_t seed)
{
	uint64_t *p = buf, *end = (uint64_t *)((char *)buf + len);

	for (; p < end; p++)
		*p = nm_pattern(p, seed);
}

/* Word at offset off of the test files. */
static inline uint64_t nm_file_word(uint64_t off)
{
	return nm_pattern((void *)(uintptr_t)off, NM_SEED_FILE);
}

static inline int nm_read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, (char *)buf + done, len - done);

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

static inline int nm_write_full(int fd, const void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, (const char *)buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += n;
	}
	return 0;
}

static inline int nm_read_int(const char *path, int *val)
{
	char buf[32] = "";
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	*val = atoi(buf);
	return 0;
}

static inline int nm_write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* -------------------------------------------------------------------------
 * The device
 */

/* ioctl(2) returning 0 or -errno, so a test reads ASSERT_EQ(-EINVAL, ...). */
static inline int nm_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

/* Open /dev/numamig and do the handshake; 0 or -errno. */
static inline int nm_open_dev(int *fdp, struct numamig_api *api)
{
	struct numamig_api a = { .api = NUMAMIG_API };
	int fd, ret;

	fd = open(NUMAMIG_DEVICE, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = nm_ioctl(fd, NUMAMIG_IOC_API, &a);
	if (ret) {
		close(fd);
		return ret;
	}
	if (api)
		*api = a;
	*fdp = fd;
	return 0;
}

/* A migrate request with everything the tests do not vary left at zero. */
static inline struct numamig_migrate nm_job(pid_t pid, int dst, __u32 policy,
					    __u32 batch, __u32 sleep_ms)
{
	struct numamig_migrate m;

	memset(&m, 0, sizeof(m));
	m.pid = pid;
	m.dst_node = dst;
	m.policy = policy;
	m.batch_pages = batch;
	m.sleep_ms = sleep_ms;
	return m;
}

/* One line of a job's status for TH_LOG. */
static inline const char *nm_status_str(const struct numamig_job_status *st)
{
	static char buf[512];

	snprintf(buf, sizeof(buf),
		 "job %llu %s err=%d scanned=%llu ref=%llu queued=%llu "
		 "migrated=%llu failed=%llu remaining=%llu skipped=[%llu %llu %llu %llu %llu %llu %llu] "
		 "thp_split=%llu batches=%llu rechecks=%llu n=%u t=%u cpu_pct=%u "
		 "walk=%llums elapsed=%llums cpu=%llums sleep=%llums",
		 (unsigned long long)st->job_id, nm_state_name(st->state), st->error,
		 (unsigned long long)st->pages_scanned,
		 (unsigned long long)st->pages_referenced,
		 (unsigned long long)st->pages_queued,
		 (unsigned long long)st->pages_migrated,
		 (unsigned long long)st->pages_failed,
		 (unsigned long long)st->pages_remaining,
		 (unsigned long long)st->skipped[0], (unsigned long long)st->skipped[1],
		 (unsigned long long)st->skipped[2], (unsigned long long)st->skipped[3],
		 (unsigned long long)st->skipped[4], (unsigned long long)st->skipped[5],
		 (unsigned long long)st->skipped[6],
		 (unsigned long long)st->thp_split, (unsigned long long)st->batches,
		 (unsigned long long)st->rechecks, st->batch_pages, st->sleep_ms,
		 st->cpu_pct,
		 (unsigned long long)st->walk_done_ns / 1000000,
		 (unsigned long long)st->elapsed_ns / 1000000,
		 (unsigned long long)st->cpu_ns / 1000000,
		 (unsigned long long)st->sleep_ns / 1000000);
	return buf;
}

static inline __u64 nm_start(struct __test_metadata *_metadata, int fd,
			     struct numamig_migrate *m)
{
	int ret;

	m->job_id = 0;
	ret = nm_ioctl(fd, NUMAMIG_IOC_MIGRATE, m);
	ASSERT_EQ(0, ret) TH_LOG("MIGRATE pid %d -> node %u policy %u: %s",
				 m->pid, m->dst_node, m->policy, strerror(-ret));
	return m->job_id;
}

static inline void nm_status(struct __test_metadata *_metadata, int fd,
			     __u64 id, struct numamig_job_status *st)
{
	int ret;

	memset(st, 0, sizeof(*st));
	st->job_id = id;
	ret = nm_ioctl(fd, NUMAMIG_IOC_STATUS, st);
	ASSERT_EQ(0, ret) TH_LOG("STATUS job %llu: %s",
				 (unsigned long long)id, strerror(-ret));
}

/* WAIT; returns 0 or -errno, the state in *state either way. */
static inline int nm_wait(int fd, __u64 id, __u64 timeout_ms, __u32 *state)
{
	struct numamig_wait w = { .job_id = id, .timeout_ms = timeout_ms };
	int ret;

	ret = nm_ioctl(fd, NUMAMIG_IOC_WAIT, &w);
	if (state)
		*state = w.state;
	return ret;
}

/* Wait for a job that must end within timeout_ms, and read its status. */
static inline void nm_wait_end(struct __test_metadata *_metadata, int fd,
			       __u64 id, __u64 timeout_ms,
			       struct numamig_job_status *st)
{
	__u32 state;
	int ret = nm_wait(fd, id, timeout_ms, &state);

	nm_status(_metadata, fd, id, st);
	ASSERT_EQ(0, ret) TH_LOG("WAIT %llums: %s; %s",
				 (unsigned long long)timeout_ms, strerror(-ret),
				 nm_status_str(st));
	ASSERT_NE(NUMAMIG_STATE_RUNNING, st->state) TH_LOG("%s", nm_status_str(st));
	ASSERT_EQ(state, st->state) TH_LOG("WAIT said %s", nm_state_name(state));
}

static inline int nm_cancel(int fd, __u64 id)
{
	struct numamig_job_ref r = { .job_id = id };

	return nm_ioctl(fd, NUMAMIG_IOC_CANCEL, &r);
}

static inline int nm_set(int fd, __u64 id, __u64 flags, __u32 batch,
			 __u32 sleep_ms, __u32 cpu_pct)
{
	struct numamig_throttle t = {
		.job_id = id, .flags = flags, .batch_pages = batch,
		.sleep_ms = sleep_ms, .cpu_pct = cpu_pct,
	};

	return nm_ioctl(fd, NUMAMIG_IOC_SET, &t);
}

/* Number of jobs the module holds. */
static inline __u32 nm_list_count(struct __test_metadata *_metadata, int fd)
{
	struct numamig_list l = { 0 };
	int ret = nm_ioctl(fd, NUMAMIG_IOC_LIST, &l);

	ASSERT_EQ(0, ret) TH_LOG("LIST count: %s", strerror(-ret));
	return l.count;
}

/* Poll a running job until it has done min_batches batches. */
static inline void nm_wait_batches(struct __test_metadata *_metadata, int fd,
				   __u64 id, __u64 min_batches,
				   unsigned int timeout_ms,
				   struct numamig_job_status *st)
{
	uint64_t end = nm_now_ns() + timeout_ms * 1000000ULL;

	for (;;) {
		nm_status(_metadata, fd, id, st);
		if (st->batches >= min_batches && st->pages_migrated > 0)
			return;
		ASSERT_EQ(NUMAMIG_STATE_RUNNING, st->state)
			TH_LOG("job ended before %llu batches: %s",
			       (unsigned long long)min_batches, nm_status_str(st));
		ASSERT_LT(nm_now_ns(), end)
			TH_LOG("no batch within %ums: %s", timeout_ms,
			       nm_status_str(st));
		nm_sleep_ms(10);
	}
}

/* -------------------------------------------------------------------------
 * Nodes and placement
 */

/* Online with memory (numamig's ENODEV test), whether we may use it or not. */
static inline bool nm_node_has_memory(int node)
{
	if (node < 0 || node > numa_max_possible_node())
		return false;
	return numa_node_size64(node, NULL) > 0;
}

/* The first two nodes with memory we may allocate on: targets fill src,
 * jobs move to dst. */
static inline int nm_pick_nodes(int *src, int *dst)
{
	int n, found = 0;

	if (numa_available() < 0)
		return -ENODEV;
	for (n = 0; n <= numa_max_node() && n < NM_NODES && found < 2; n++) {
		if (!nm_node_has_memory(n) ||
		    !numa_bitmask_isbitset(numa_all_nodes_ptr, n))
			continue;
		if (!found++)
			*src = n;
		else
			*dst = n;
	}
	return found == 2 ? 0 : -ENODEV;
}

static inline int nm_bind(int node)
{
	unsigned long mask[NUMAMIG_NODE_WORDS] = { 0 };

	if (node < 0)
		return set_mempolicy(MPOL_DEFAULT, NULL, 0) ? -errno : 0;
	mask[node / 64] = 1UL << (node % 64);
	return set_mempolicy(MPOL_BIND, mask, NUMAMIG_MAX_NODES + 1) ? -errno : 0;
}

struct nm_place {
	size_t sampled;
	size_t on[NM_NODES];
	size_t unplaced;	/* move_pages() status < 0 */
	int first_err;
};

/*
 * Where every step-th page of [addr, addr + npages pages) of pid is, by
 * move_pages(2) with no target nodes.  0 or -errno.
 */
static inline int nm_place(pid_t pid, uint64_t addr, size_t npages, size_t step,
			   struct nm_place *pl)
{
	enum { CHUNK = 512 };
	void *pages[CHUNK];
	int status[CHUNK];
	size_t i = 0, n, k;

	memset(pl, 0, sizeof(*pl));
	while (i < npages) {
		for (n = 0; n < CHUNK && i < npages; i += step)
			pages[n++] = (void *)(uintptr_t)(addr + i * NM_PAGE_SIZE);
		if (move_pages(pid, n, pages, NULL, status, 0))
			return -errno;
		for (k = 0; k < n; k++) {
			if (status[k] >= 0 && status[k] < NM_NODES) {
				pl->on[status[k]]++;
			} else {
				pl->unplaced++;
				if (!pl->first_err)
					pl->first_err = status[k];
			}
		}
		pl->sampled += n;
	}
	return 0;
}

/* Sample so that about 2048 pages of a range are looked at. */
static inline size_t nm_step(size_t npages)
{
	return npages > 2048 ? npages / 2048 : 1;
}

/* Assert at least min_pct percent of a range of pid is on node. */
#define nm_assert_on_node(pid, addr, npages, node, min_pct) do {		\
	struct nm_place __pl;							\
	int __r = nm_place(pid, addr, npages, nm_step(npages), &__pl);	\
	ASSERT_EQ(0, __r) TH_LOG("move_pages(%d): %s", pid, strerror(-__r));	\
	ASSERT_GE(__pl.on[node] * 100, (size_t)(min_pct) * __pl.sampled)	\
		TH_LOG("%zu of %zu sampled pages on node %d, %zu unplaced "	\
		       "(first status %d), wanted %d%%", __pl.on[node],		\
		       __pl.sampled, (int)(node), __pl.unplaced,		\
		       __pl.first_err, (int)(min_pct));			\
} while (0)

/* Node of each page of a range; 0 or -errno. */
static inline int nm_nodes_of(pid_t pid, uint64_t addr, size_t npages, int *nodes)
{
	void **pages = calloc(npages, sizeof(*pages));
	size_t i;
	int ret = 0;

	if (!pages)
		return -ENOMEM;
	for (i = 0; i < npages; i++)
		pages[i] = (void *)(uintptr_t)(addr + i * NM_PAGE_SIZE);
	if (move_pages(pid, npages, pages, NULL, nodes, 0))
		ret = -errno;
	free(pages);
	return ret;
}

/* -------------------------------------------------------------------------
 * Test environment: device, nodes, NUMA balancing, targets
 */

struct nm_target_opts {
	size_t size;		/* private anonymous bytes */
	int node;		/* node they are filled on */
	bool thp;		/* 2 MiB aligned and MADV_HUGEPAGE */
	uid_t uid;		/* not 0: become this user (and gid) first */
	const char *file;	/* map this file three ways, see nm_child_setup */
	size_t file_size;
	const char *open_file;	/* keep this file open, not mapped */
	size_t shm_size;	/* MAP_SHARED | MAP_ANONYMOUS bytes, filled */
	bool cow_sibling;	/* fork a child that shares the buffer COW */
	int cpu_node;		/* >= 0: run on this node's CPUs */
};

/* What a target reports once its memory is filled. */
struct nm_target_info {
	int err;		/* errno of the failed setup step, or 0 */
	char what[60];		/* the failed step */
	pid_t sibling;
	uint64_t buf, size;	/* the private anonymous buffer */
	uint64_t file_ro;	/* MAP_PRIVATE, PROT_READ, read once */
	uint64_t file_shared;	/* MAP_SHARED, read once */
	uint64_t file_cow;	/* MAP_PRIVATE, first half written (COW) */
	uint64_t file_size;
	uint64_t shm, shm_size;
	uint64_t seed;
};

struct nm_target {
	pid_t pid;
	int cmd, resp;		/* pipe to, pipe from the target */
	struct nm_target_info info;
};

struct nm_env {
	int fd;			/* /dev/numamig, handshake done */
	struct numamig_api api;
	int src, dst;
	int balancing;		/* numa_balancing to restore, -1: untouched */
	struct nm_target t[NM_MAX_TARGETS];
};

enum nm_op {
	NM_CMD_WRITE = 1,	/* thread rewrites pages [a, b) over and over */
	NM_CMD_TOUCH,		/* thread reads+writes back pages [a, b) */
	NM_CMD_PROGRESS,	/* reply: pages the thread has gone through */
	NM_CMD_STOP,		/* stop the thread; reply: its progress */
	NM_CMD_TOUCH_ONCE,	/* read+write back every buffer page once */
	NM_CMD_VERIFY,		/* stop the thread, check all data */
	NM_CMD_EXEC,		/* exec /bin/sleep: the reply pipe closes */
	NM_CMD_EXIT,
};

struct nm_cmd {
	uint32_t op;
	uint32_t pad;
	uint64_t a, b;
};

struct nm_reply {
	int64_t val;
	uint64_t addr;		/* VERIFY: first bad word */
	uint64_t got, want;	/* VERIFY: its value and the expected one */
};

/* The target's side. */
struct nm_child {
	struct nm_target_info *info;
	uint32_t *gen;		/* per page: times the writer rewrote it */
	pthread_t thread;
	bool running;
	int op;
	size_t from, to;	/* pages of the thread's range */
	atomic_bool stop;
	atomic_ulong progress;
};

static void *nm_child_thread(void *arg)
{
	struct nm_child *c = arg;
	char *buf = (char *)(uintptr_t)c->info->buf;
	size_t p;

	while (!atomic_load(&c->stop)) {
		for (p = c->from; p < c->to && !atomic_load(&c->stop); p++) {
			char *page = buf + p * NM_PAGE_SIZE;

			if (c->op == NM_CMD_WRITE) {
				/* gen first: a stop never falls inside a page */
				uint32_t g = ++c->gen[p];

				nm_fill(page, NM_PAGE_SIZE, c->info->seed + g);
			} else {
				volatile uint64_t *w = (volatile uint64_t *)page;

				*w = *w;
			}
			atomic_fetch_add(&c->progress, 1);
		}
		if (c->op == NM_CMD_TOUCH)
			usleep(1000);
	}
	return NULL;
}

static inline void nm_child_stop(struct nm_child *c)
{
	if (!c->running)
		return;
	atomic_store(&c->stop, true);
	pthread_join(c->thread, NULL);
	c->running = false;
}

static inline bool nm_check(const void *buf, size_t len, uint64_t seed,
			    struct nm_reply *r)
{
	const uint64_t *p = buf, *end = (const uint64_t *)((const char *)buf + len);

	for (; p < end; p++) {
		if (*p != nm_pattern(p, seed)) {
			if (!r->val++) {
				r->addr = (uintptr_t)p;
				r->got = *p;
				r->want = nm_pattern(p, seed);
			}
		}
	}
	return !r->val;
}

static inline void nm_check_file(const void *map, size_t len, struct nm_reply *r)
{
	const uint64_t *p = map;
	size_t i;

	for (i = 0; i < len / 8; i++) {
		if (p[i] != nm_file_word(i * 8) && !r->val++) {
			r->addr = (uintptr_t)&p[i];
			r->got = p[i];
			r->want = nm_file_word(i * 8);
		}
	}
}

static inline void nm_child_verify(struct nm_child *c, struct nm_reply *r)
{
	struct nm_target_info *in = c->info;
	char *buf = (char *)(uintptr_t)in->buf;
	size_t p, half;

	memset(r, 0, sizeof(*r));
	for (p = 0; p < in->size / NM_PAGE_SIZE; p++)
		nm_check(buf + p * NM_PAGE_SIZE, NM_PAGE_SIZE,
			 in->seed + c->gen[p], r);
	if (in->shm)
		nm_check((void *)(uintptr_t)in->shm, in->shm_size,
			 in->seed ^ NM_SEED_SHM, r);
	if (!in->file_ro)
		return;
	nm_check_file((void *)(uintptr_t)in->file_ro, in->file_size, r);
	nm_check_file((void *)(uintptr_t)in->file_shared, in->file_size, r);
	half = in->file_size / 2;
	nm_check((void *)(uintptr_t)in->file_cow, half, in->seed ^ NM_SEED_COW, r);
	/* the unwritten half still shows the file */
	for (p = half / 8; p < in->file_size / 8; p++) {
		const uint64_t *w = (const uint64_t *)(uintptr_t)in->file_cow + p;

		if (*w != nm_file_word(p * 8) && !r->val++) {
			r->addr = (uintptr_t)w;
			r->got = *w;
			r->want = nm_file_word(p * 8);
		}
	}
}

static inline void nm_touch_pages(volatile char *buf, size_t len)
{
	size_t off;

	for (off = 0; off < len; off += NM_PAGE_SIZE)
		*(volatile uint64_t *)(buf + off) = *(volatile uint64_t *)(buf + off);
}

#define NM_FAIL(step) do {						\
	info->err = errno ? errno : EINVAL;				\
	snprintf(info->what, sizeof(info->what), "%s", step);		\
	return -1;							\
} while (0)

static inline void *nm_child_map_file(struct nm_target_info *info, int fd,
				      int prot, int flags)
{
	void *p = mmap(NULL, info->file_size, prot, flags, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

/*
 * Become the target: drop to o->uid, map and fill the memory bound to
 * o->node, then go back to the default policy so that nothing but numamig
 * decides where the pages go.
 */
static inline int nm_child_setup(const struct nm_target_opts *o,
				 struct nm_target_info *info, struct nm_child *c)
{
	size_t map_size = o->size + (o->thp ? NM_THP_SIZE : 0);
	volatile uint64_t sum = 0;
	char *p;
	size_t i;
	int fd;

	if (o->uid) {
		if (setgroups(0, NULL) || setresgid(o->uid, o->uid, o->uid) ||
		    setresuid(o->uid, o->uid, o->uid))
			NM_FAIL("drop privileges");
		/* a uid change makes us undumpable: other processes of the
		 * same user could not ptrace-read us any more */
		if (prctl(PR_SET_DUMPABLE, 1))
			NM_FAIL("PR_SET_DUMPABLE");
	}
	/* after the uid change, which clears it */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL))
		NM_FAIL("PR_SET_PDEATHSIG");
	if (o->cpu_node >= 0 && numa_run_on_node(o->cpu_node))
		NM_FAIL("numa_run_on_node");
	info->seed = (uint64_t)getpid() << 32 | 0x1234;

	p = mmap(NULL, map_size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		NM_FAIL("mmap buffer");
	if (o->thp) {
		p = (char *)(((uintptr_t)p + NM_THP_SIZE - 1) & ~(NM_THP_SIZE - 1));
		if (madvise(p, o->size, MADV_HUGEPAGE))
			NM_FAIL("MADV_HUGEPAGE");
	} else if (madvise(p, o->size, MADV_NOHUGEPAGE)) {
		NM_FAIL("MADV_NOHUGEPAGE");
	}
	info->buf = (uintptr_t)p;
	info->size = o->size;
	c->gen = calloc(o->size / NM_PAGE_SIZE, sizeof(*c->gen));
	if (!c->gen)
		NM_FAIL("calloc gen");

	errno = 0;
	if (nm_bind(o->node))
		NM_FAIL("MPOL_BIND");
	nm_fill(p, o->size, info->seed);

	if (o->shm_size) {
		p = mmap(NULL, o->shm_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			NM_FAIL("mmap shm");
		info->shm = (uintptr_t)p;
		info->shm_size = o->shm_size;
		nm_fill(p, o->shm_size, info->seed ^ NM_SEED_SHM);
	}

	if (o->file) {
		fd = open(o->file, O_RDWR);
		if (fd < 0)
			NM_FAIL("open file");
		info->file_size = o->file_size;
		p = nm_child_map_file(info, fd, PROT_READ, MAP_PRIVATE);
		if (!p)
			NM_FAIL("mmap file private");
		info->file_ro = (uintptr_t)p;
		for (i = 0; i < o->file_size; i += NM_PAGE_SIZE)
			sum += *(uint64_t *)(p + i);
		p = nm_child_map_file(info, fd, PROT_READ | PROT_WRITE, MAP_SHARED);
		if (!p)
			NM_FAIL("mmap file shared");
		info->file_shared = (uintptr_t)p;
		for (i = 0; i < o->file_size; i += NM_PAGE_SIZE)
			sum += *(uint64_t *)(p + i);
		p = nm_child_map_file(info, fd, PROT_READ | PROT_WRITE, MAP_PRIVATE);
		if (!p)
			NM_FAIL("mmap file cow");
		info->file_cow = (uintptr_t)p;
		nm_fill(p, o->file_size / 2, info->seed ^ NM_SEED_COW);
		for (i = o->file_size / 2; i < o->file_size; i += NM_PAGE_SIZE)
			sum += *(uint64_t *)(p + i);
		close(fd);
	}

	if (nm_bind(-1))
		NM_FAIL("MPOL_DEFAULT");
	if (o->open_file && open(o->open_file, O_RDONLY) < 0)
		NM_FAIL("open open_file");

	if (o->cow_sibling) {
		pid_t pid = fork();

		if (pid < 0)
			NM_FAIL("fork sibling");
		if (!pid) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			for (;;)
				pause();
		}
		info->sibling = pid;
	}
	return 0;
}
#undef NM_FAIL

static inline void nm_child_main(const struct nm_target_opts *o, int cmd, int resp)
{
	struct nm_target_info info;
	struct nm_child c;
	struct nm_reply r;
	struct nm_cmd m;

	memset(&info, 0, sizeof(info));
	memset(&c, 0, sizeof(c));
	c.info = &info;
	nm_child_setup(o, &info, &c);
	if (nm_write_full(resp, &info, sizeof(info)) || info.err)
		_exit(1);

	while (!nm_read_full(cmd, &m, sizeof(m))) {
		memset(&r, 0, sizeof(r));
		switch (m.op) {
		case NM_CMD_WRITE:
		case NM_CMD_TOUCH:
			nm_child_stop(&c);
			c.op = m.op;
			c.from = m.a;
			c.to = m.b;
			atomic_store(&c.stop, false);
			atomic_store(&c.progress, 0);
			r.val = -pthread_create(&c.thread, NULL, nm_child_thread, &c);
			c.running = !r.val;
			break;
		case NM_CMD_PROGRESS:
			r.val = atomic_load(&c.progress);
			break;
		case NM_CMD_STOP:
			nm_child_stop(&c);
			r.val = atomic_load(&c.progress);
			break;
		case NM_CMD_TOUCH_ONCE:
			nm_touch_pages((char *)(uintptr_t)info.buf, info.size);
			break;
		case NM_CMD_VERIFY:
			nm_child_stop(&c);
			nm_child_verify(&c, &r);
			break;
		case NM_CMD_EXEC:
			nm_child_stop(&c);
			execl("/bin/sleep", "sleep", "60", (char *)NULL);
			r.val = -errno;
			break;
		case NM_CMD_EXIT:
			_exit(0);
		default:
			r.val = -EINVAL;
		}
		if (nm_write_full(resp, &r, sizeof(r)))
			break;
	}
	_exit(0);
}

/*
 * Fork a target and wait until its memory is filled; assert that its
 * buffer is on o->node, which every test takes as its starting point.
 */
static inline void nm_target_start(struct __test_metadata *_metadata,
				   struct nm_target *t,
				   const struct nm_target_opts *o)
{
	int cmd[2], resp[2], fd, ret;
	pid_t pid;

	ASSERT_EQ(0, pipe2(cmd, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(resp, O_CLOEXEC));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		/* hold nothing of the parent's: no other pipe, not the device */
		for (fd = 3; fd < 1024; fd++)
			if (fd != cmd[0] && fd != resp[1])
				close(fd);
		nm_child_main(o, cmd[0], resp[1]);
	}
	close(cmd[0]);
	close(resp[1]);
	t->pid = pid;
	t->cmd = cmd[1];
	t->resp = resp[0];
	ret = nm_read_full(t->resp, &t->info, sizeof(t->info));
	ASSERT_EQ(0, ret) TH_LOG("target %d died during setup", pid);
	ASSERT_EQ(0, t->info.err) TH_LOG("target setup: %s: %s",
					 t->info.what, strerror(t->info.err));
	nm_assert_on_node(t->pid, t->info.buf, t->info.size / NM_PAGE_SIZE,
			  o->node, 100);
}

static inline struct nm_reply nm_target_cmd(struct __test_metadata *_metadata,
					    struct nm_target *t, uint32_t op,
					    uint64_t a, uint64_t b)
{
	struct nm_cmd m = { .op = op, .a = a, .b = b };
	struct nm_reply r;
	int ret;

	memset(&r, 0, sizeof(r));
	ret = nm_write_full(t->cmd, &m, sizeof(m));
	ASSERT_EQ(0, ret) TH_LOG("target %d: command %u: %s", t->pid, op,
				 strerror(-ret));
	ret = nm_read_full(t->resp, &r, sizeof(r));
	ASSERT_EQ(0, ret) TH_LOG("target %d: reply to %u: %s", t->pid, op,
				 strerror(-ret));
	return r;
}

/* Ask the target to check all its data; assert it is intact. */
static inline void nm_target_verify(struct __test_metadata *_metadata,
				    struct nm_target *t)
{
	struct nm_reply r = nm_target_cmd(_metadata, t, NM_CMD_VERIFY, 0, 0);

	ASSERT_EQ(0, r.val)
		TH_LOG("target %d: %lld bad words, first at %#llx: %#llx, wanted %#llx",
		       t->pid, (long long)r.val, (unsigned long long)r.addr,
		       (unsigned long long)r.got, (unsigned long long)r.want);
}

static inline void nm_target_kill(struct nm_target *t)
{
	if (t->pid <= 0)
		return;
	kill(t->pid, SIGKILL);
	waitpid(t->pid, NULL, 0);
	close(t->cmd);
	close(t->resp);
	t->pid = 0;
}

static inline size_t nm_target_pages(const struct nm_target *t)
{
	return t->info.size / NM_PAGE_SIZE;
}

/* Set kernel.numa_balancing for this test; teardown restores it. */
static inline void nm_balancing(struct __test_metadata *_metadata,
				struct nm_env *e, int val)
{
	char buf[16];
	int old = 0, ret;

	ret = nm_read_int(NM_BALANCING, &old);
	if (ret == -ENOENT && !val)
		return;		/* no NUMA balancing in this kernel */
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", NM_BALANCING, strerror(-ret));
	snprintf(buf, sizeof(buf), "%d", val);
	ret = nm_write_str(NM_BALANCING, buf);
	ASSERT_EQ(0, ret) TH_LOG("write %s: %s", NM_BALANCING, strerror(-ret));
	if (e->balancing < 0)
		e->balancing = old;
}

static inline void nm_setup(struct __test_metadata *_metadata, struct nm_env *e)
{
	int ret;

	e->fd = -1;
	e->balancing = -1;
	signal(SIGPIPE, SIG_IGN);
	if (access(NUMAMIG_DEVICE, F_OK))
		NM_SETUP_SKIP("%s absent: numamig not loaded", NUMAMIG_DEVICE);
	if (nm_pick_nodes(&e->src, &e->dst))
		NM_SETUP_SKIP("needs 2 NUMA nodes with memory");
	ret = nm_open_dev(&e->fd, &e->api);
	if (ret == -EACCES || ret == -EPERM)
		NM_SETUP_SKIP("%s: %s (run as root)", NUMAMIG_DEVICE, strerror(-ret));
	ASSERT_EQ(0, ret) TH_LOG("open + NUMAMIG_IOC_API: %s", strerror(-ret));
	ASSERT_EQ(NUMAMIG_API, e->api.api);
}

static inline void nm_teardown(struct nm_env *e)
{
	char buf[16];
	int i;

	for (i = 0; i < NM_MAX_TARGETS; i++)
		nm_target_kill(&e->t[i]);
	if (e->balancing >= 0) {
		snprintf(buf, sizeof(buf), "%d", e->balancing);
		nm_write_str(NM_BALANCING, buf);
	}
	if (e->fd >= 0)
		close(e->fd);
}

/* Default target: size bytes filled on the env's source node. */
static inline struct nm_target_opts nm_opts(const struct nm_env *e, size_t size)
{
	struct nm_target_opts o;

	memset(&o, 0, sizeof(o));
	o.size = size;
	o.node = e->src;
	o.cpu_node = -1;
	return o;
}

/* Checks every finished job passes, whatever its policy. */
static inline void nm_assert_done(struct __test_metadata *_metadata,
				  const struct numamig_job_status *st,
				  size_t min_pages)
{
	ASSERT_EQ(NUMAMIG_STATE_DONE, st->state) TH_LOG("%s", nm_status_str(st));
	ASSERT_EQ(0, st->error) TH_LOG("%s", nm_status_str(st));
	ASSERT_GE(st->pages_migrated, min_pages) TH_LOG("%s", nm_status_str(st));
	ASSERT_EQ(0, st->pages_remaining) TH_LOG("%s", nm_status_str(st));
	ASSERT_GE(st->pages_queued, st->pages_migrated) TH_LOG("%s", nm_status_str(st));
	ASSERT_GE(st->pages_scanned, st->pages_migrated) TH_LOG("%s", nm_status_str(st));
	ASSERT_GT(st->elapsed_ns, 0) TH_LOG("%s", nm_status_str(st));
	ASSERT_GT(st->cpu_ns, 0) TH_LOG("%s", nm_status_str(st));
	ASSERT_GE(st->batches, 1) TH_LOG("%s", nm_status_str(st));
	/* one thread: it cannot run or sleep longer than the job lasted */
	ASSERT_LE(st->cpu_ns + st->sleep_ns, st->elapsed_ns + st->elapsed_ns / 20 + 10000000)
		TH_LOG("%s", nm_status_str(st));
	ASSERT_LE(st->walk_done_ns, st->elapsed_ns) TH_LOG("%s", nm_status_str(st));
}

/* A process that has exited but is not reaped (ESRCH for numamig). */
static inline pid_t nm_zombie(void)
{
	siginfo_t si;
	pid_t pid = fork();

	if (!pid)
		_exit(0);
	if (pid > 0)
		waitid(P_PID, pid, &si, WEXITED | WNOWAIT);
	return pid;
}

/* The pid of a kernel thread (kthreadd is 2 in the initial namespace). */
static inline pid_t nm_kthread(void)
{
	char path[64], buf[512], *p;
	unsigned long flags;
	pid_t pid;
	int fd;
	ssize_t n;

	for (pid = 2; pid < 4096; pid++) {
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = 0;
		p = strrchr(buf, ')');
		/* ") S ppid pgrp session tty tpgid flags" */
		if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %lu", &flags) == 1 &&
		    (flags & 0x00200000 /* PF_KTHREAD */))
			return pid;
	}
	return -1;
}

/* A pid no process has: pid_max itself is never handed out. */
static inline pid_t nm_unused_pid(void)
{
	int max = 32768;

	nm_read_int("/proc/sys/kernel/pid_max", &max);
	return max;
}

/* kB of AnonHugePages in /proc/PID/smaps_rollup, or -errno. */
static inline long nm_anon_huge_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", pid);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* Clear the Accessed bits and PG_referenced of all pages of pid. */
static inline int nm_clear_refs(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/clear_refs", pid);
	return nm_write_str(path, "1");
}

#endif /* NUMAMIG_HELPERS_H */
