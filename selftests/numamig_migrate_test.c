// SPDX-License-Identifier: GPL-2.0
/*
 * numamig selftests: what a migration job does to a target's memory.
 * Every job runs on a live target process; placement is read with
 * move_pages(2) and the target checks its own data.
 */
#include "kselftest_harness.h"
#include "numamig_helpers.h"

#include <sched.h>

FIXTURE(migrate)
{
	struct nm_env env;
};

FIXTURE_VARIANT(migrate)
{
	__u32 policy;
	bool throttled;		/* honours batch_pages and sleep_ms */
};

FIXTURE_VARIANT_ADD(migrate, eager)
{
	.policy = NUMAMIG_POLICY_EAGER,
	.throttled = false,
};

FIXTURE_VARIANT_ADD(migrate, periodical)
{
	.policy = NUMAMIG_POLICY_PERIODICAL,
	.throttled = true,
};

FIXTURE_VARIANT_ADD(migrate, severe)
{
	.policy = NUMAMIG_POLICY_SEVERE,
	.throttled = true,
};

FIXTURE_VARIANT_ADD(migrate, mild)
{
	.policy = NUMAMIG_POLICY_MILD,
	.throttled = true,
};

FIXTURE_SETUP(migrate)
{
	nm_setup(_metadata, &self->env);
}

FIXTURE_TEARDOWN(migrate)
{
	nm_teardown(&self->env);
}

/* A user relies on: when a job is DONE every page is on dst, data intact, counters add up. */
TEST_F_TIMEOUT(migrate, moves_every_page, NM_TEST_TIMEOUT)
{
	struct nm_env *e = &self->env;
	struct nm_target *t = &e->t[0];
	struct nm_target_opts o = nm_opts(e, 32 * MiB);
	const __u32 batch = 1024, sleep_ms = 10;
	struct numamig_job_status st;
	struct numamig_migrate m;
	size_t npages;
	__u64 id;

	nm_balancing(_metadata, e, 0);
	nm_target_start(_metadata, t, &o);
	npages = nm_target_pages(t);

	m = nm_job(t->pid, e->dst, variant->policy, batch, sleep_ms);
	m.group = 0x6e6d;
	id = nm_start(_metadata, e->fd, &m);
	nm_wait_end(_metadata, e->fd, id, NM_WAIT_MS, &st);

	nm_assert_done(_metadata, &st, npages);
	ASSERT_EQ(id, st.job_id);
	ASSERT_EQ(t->pid, st.pid);
	ASSERT_EQ((__u32)e->dst, st.dst_node);
	ASSERT_EQ(variant->policy, st.policy);
	ASSERT_EQ(0x6e6d, st.group);
	ASSERT_EQ(0, st.migrate_flags);
	ASSERT_EQ(0, st.cpu_pct);
	if (variant->throttled) {
		ASSERT_EQ(batch, st.batch_pages);
		ASSERT_EQ(sleep_ms, st.sleep_ms);
		ASSERT_GE(st.batches, npages / batch) TH_LOG("%s", nm_status_str(&st));
		ASSERT_GE(st.sleep_ns, (npages / batch - 1) * sleep_ms * 900000ULL)
			TH_LOG("%s", nm_status_str(&st));
	}
	ASSERT_EQ(0, st.skipped[NUMAMIG_SKIP_NOMEM]) TH_LOG("%s", nm_status_str(&st));
	ASSERT_EQ(0, st.thp_split) TH_LOG("MADV_NOHUGEPAGE buffer: %s",
					  nm_status_str(&st));

	nm_assert_on_node(t->pid, t->info.buf, npages, e->dst, 100);
	nm_target_verify(_metadata, t);
	/* a second look at the end: nothing moved back or got lost */
	nm_assert_on_node(t->pid, t->info.buf, npages, e->dst, 100);
}

/* A user relies on: writes the target makes while its pages move are never lost. */
TEST_F_TIMEOUT(migrate, target_writes_during_migration, NM_TEST_TIMEOUT)
{
	struct nm_env *e = &self->env;
	struct nm_target *t = &e->t[0];
	struct nm_target_opts o = nm_opts(e, 32 * MiB);
	struct numamig_job_status st;
	struct numamig_migrate m;
	struct nm_reply before, after;
	size_t npages;
	__u64 id;

	nm_balancing(_metadata, e, 0);
	nm_target_start(_metadata, t, &o);
	npages = nm_target_pages(t);

	/* a thread rewrites page after page, each with its own generation */
	before = nm_target_cmd(_metadata, t, NM_CMD_WRITE, 0, npages);
	ASSERT_EQ(0, before.val);
	nm_sleep_ms(50);
	before = nm_target_cmd(_metadata, t, NM_CMD_PROGRESS, 0, 0);

	m = nm_job(t->pid, e->dst, variant->policy, 512, 20);
	id = nm_start(_metadata, e->fd, &m);
	nm_wait_end(_metadata, e->fd, id, NM_WAIT_MS, &st);
	after = nm_target_cmd(_metadata, t, NM_CMD_STOP, 0, 0);

	ASSERT_GT(after.val, before.val)
		TH_LOG("premise: the writer made no progress during the job");
	ASSERT_EQ(NUMAMIG_STATE_DONE, st.state) TH_LOG("%s", nm_status_str(&st));
	ASSERT_EQ(0, st.error);
	ASSERT_EQ(0, st.pages_remaining) TH_LOG("%s", nm_status_str(&st));
	/* pages busy under the writer may fail a round, not most of them */
	ASSERT_GE(st.pages_migrated, npages * 9 / 10) TH_LOG("%s", nm_status_str(&st));
	nm_assert_on_node(t->pid, t->info.buf, npages, e->dst, 90);
	nm_target_verify(_metadata, t);
	TH_LOG("writer rewrote %lld pages during the job; %s",
	       (long long)(after.val - before.val), nm_status_str(&st));
}

/* A user relies on: a job of X pages takes at least (X/n - 1) * t; eager never sleeps. */
TEST_F_TIMEOUT(migrate, throttle_holds, NM_TEST_TIMEOUT)
{
	struct nm_env *e = &self->env;
	struct nm_target *t = &e->t[0];
	struct nm_target_opts o = nm_opts(e, 16 * MiB);
	const __u32 batch = 256, sleep_ms = 100;
	struct numamig_job_status st;
	struct numamig_migrate m;
	uint64_t min_ns, start, wall;
	size_t npages;
	__u64 id;

	nm_balancing(_metadata, e, 0);
	nm_target_start(_metadata, t, &o);
	npages = nm_target_pages(t);
	min_ns = (npages / batch - 1) * sleep_ms * 1000000ULL;

	m = nm_job(t->pid, e->dst, variant->policy, batch, sleep_ms);
	start = nm_now_ns();
	id = nm_start(_metadata, e->fd, &m);
	nm_wait_end(_metadata, e->fd, id, NM_WAIT_MS, &st);
	wall = nm_now_ns() - start;
	nm_assert_done(_metadata, &st, npages);
	ASSERT_LE(st.elapsed_ns, wall) TH_LOG("%s", nm_status_str(&st));

	if (variant->throttled) {
		ASSERT_GE(st.elapsed_ns, min_ns * 9 / 10)
			TH_LOG("throttle not held: %s", nm_status_str(&st));
		ASSERT_GE(st.sleep_ns, min_ns * 9 / 10) TH_LOG("%s", nm_status_str(&st));
		ASSERT_GE(st.batches, npages / batch) TH_LOG("%s", nm_status_str(&st));
	} else {
		ASSERT_LT(st.sleep_ns, 1000000ULL)
			TH_LOG("eager slept: %s", nm_status_str(&st));
	}
	nm_assert_on_node(t->pid, t->info.buf, npages, e->dst, 100);
	nm_target_verify(_metadata, t);
}

/*
 * Hot-first order.  The target keeps touching the second half of its
 * buffer, which address order would move last.
 */
FIXTURE(order)
{
	struct nm_env env;
};

FIXTURE_VARIANT(order)
{
	__u32 policy;
	bool hot_first;
};

FIXTURE_VARIANT_ADD(order, periodical)
{
	.policy = NUMAMIG_POLICY_PERIODICAL,
	.hot_first = false,
};

FIXTURE_VARIANT_ADD(order, severe)
{
	.policy = NUMAMIG_POLICY_SEVERE,
	.hot_first = true,
};

FIXTURE_VARIANT_ADD(order, mild)
{
	.policy = NUMAMIG_POLICY_MILD,
	.hot_first = true,
};

FIXTURE_SETUP(order)
{
	nm_setup(_metadata, &self->env);
}

FIXTURE_TEARDOWN(order)
{
	nm_teardown(&self->env);
}

#define ORDER_SAMPLES	1024

/* A user relies on: severe/mild move the pages in use first; periodical goes by address. */
TEST_F_TIMEOUT(order, hot_pages_first, NM_TEST_TIMEOUT)
{
	struct nm_env *e = &self->env;
	struct nm_target *t = &e->t[0];
	struct nm_target_opts o = nm_opts(e, 32 * MiB);
	static unsigned char hot[ORDER_SAMPLES], cold[ORDER_SAMPLES];
	struct numamig_locality loc;
	struct numamig_job_status st;
	struct numamig_migrate m;
	struct nm_place pl;
	size_t npages, half, n = 0, i, ref = 0;
	bool hot_ahead = false, cold_ahead = false, broken = false;
	char trace[ORDER_SAMPLES * 8 + 1] = "", *tp = trace;
	__u64 id;
	int ret;

	nm_balancing(_metadata, e, 0);
	nm_target_start(_metadata, t, &o);
	npages = nm_target_pages(t);
	half = npages / 2;

	/* Forget the fill: only what the target touches from now on is hot. */
	ASSERT_EQ(0, nm_clear_refs(t->pid));
	ASSERT_EQ(0, nm_target_cmd(_metadata, t, NM_CMD_TOUCH, half, npages).val);
	nm_sleep_ms(200);
	if (e->api.features & NUMAMIG_FEATURE_LOCALITY) {
		memset(&loc, 0, sizeof(loc));
		loc.pid = t->pid;
		ASSERT_EQ(0, nm_ioctl(e->fd, NUMAMIG_IOC_LOCALITY, &loc));
		for (i = 0; i < loc.nr_nodes; i++)
			ref += loc.referenced[i];
		/* premise: the touched half is referenced, the rest is not */
		ASSERT_GE(ref, half * 9 / 10) TH_LOG("referenced %zu", ref);
		ASSERT_LE(ref, half + half / 10) TH_LOG("referenced %zu", ref);
	}

	/* 16 batches 150 ms apart: a state holds long enough to be seen */
	m = nm_job(t->pid, e->dst, variant->policy, 512, 150);
	id = nm_start(_metadata, e->fd, &m);
	for (;;) {
		nm_status(_metadata, e->fd, id, &st);
		if (st.state != NUMAMIG_STATE_RUNNING || n == ORDER_SAMPLES)
			break;
		ret = nm_place(t->pid, t->info.buf, half, 4, &pl);
		ASSERT_EQ(0, ret);
		cold[n] = pl.on[e->dst] * 100 / pl.sampled;
		ret = nm_place(t->pid, t->info.buf + half * NM_PAGE_SIZE, half, 4, &pl);
		ASSERT_EQ(0, ret);
		hot[n] = pl.on[e->dst] * 100 / pl.sampled;
		tp += sprintf(tp, " %u/%u", hot[n], cold[n]);
		n++;
		nm_sleep_ms(40);
	}
	nm_wait_end(_metadata, e->fd, id, NM_WAIT_MS, &st);
	nm_assert_done(_metadata, &st, npages);
	ASSERT_GE(n, 10) TH_LOG("job too fast to watch: %s", nm_status_str(&st));

	/* percent on dst, hot/cold, in the log if anything below fails */
	for (i = 0; i < n; i++) {
		if (hot[i] >= 90 && cold[i] <= 25)
			hot_ahead = true;
		if (cold[i] >= 90 && hot[i] <= 25)
			cold_ahead = true;
		if (variant->hot_first && cold[i] >= 50 && hot[i] < 90)
			broken = true;
	}
	if (variant->hot_first) {
		ASSERT_TRUE(hot_ahead) TH_LOG("hot/cold %% on dst:%s; %s", trace,
					      nm_status_str(&st));
		ASSERT_FALSE(broken) TH_LOG("cold half overtook: %s", trace);
		ASSERT_GE(st.pages_referenced, half * 9 / 10) TH_LOG("%s", nm_status_str(&st));
	} else {
		ASSERT_TRUE(cold_ahead) TH_LOG("hot/cold %% on dst:%s", trace);
		ASSERT_FALSE(hot_ahead) TH_LOG("hot/cold %% on dst:%s", trace);
	}
	nm_assert_on_node(t->pid, t->info.buf, npages, e->dst, 95);
	nm_target_verify(_metadata, t);
	TH_LOG("hot/cold %% on dst every 40 ms:%s", trace);
}

/* Jobs without variants. */
FIXTURE(job)
{
	struct nm_env env;
};

FIXTURE_SETUP(job)
{
	nm_setup(_metadata, &self->env);
}

FIXTURE_TEARDOWN(job)
{
	nm_teardown(&self->env);
}

/* A user relies on: cpu_pct holds the job's thread to a share of a CPU, and it finishes. */
TEST_F_TIMEOUT(job, cpu_budget_holds, NM_TEST_TIMEOUT)
{
	struct nm_env *e = &self->env;
	struct nm_target *t = &e->t[0];
	struct nm_target_opts o = nm_opts(e, 16 * MiB);
	struct numamig_job_status st;
	struct numamig_migrate m;
	size_t npages;
	__u64 id;

	if (!(e->api.features & NUMAMIG_FEATURE_CPU_BUDGET))
		SKIP(return, "no NUMAMIG_FEATURE_CPU_BUDGET");
	nm_balancing(_metadata, e, 0);
	nm_target_start(_metadata, t, &o);
	npages = nm_target_pages(t);

	/* with a budget sleep_ms is ignored: a minute per batch if it were not */
	m = nm_job(t->pid, e->dst, NUMAMIG_POLICY_PERIODICAL, 256, NUMAMIG_MAX_SLEEP);
	m.cpu_pct = 20;
	id = nm_start(_metadata, e->fd, &m);
	nm_wait_end(_metadata, e->fd, id, 60000, &st);

	nm_assert_done(_metadata, &st, npages);
	ASSERT_EQ(20, st.cpu_pct);
	ASSERT_GE(st.batches, npages / 256) TH_LOG("%s", nm_status_str(&st));
	/* 20% of a CPU means sleeping most of the time */
	ASSERT_LT(st.cpu_ns * 100, st.elapsed_ns * 60)
		TH_LOG("over budget: %s", nm_status_str(&st));
	ASSERT_GT(st.sleep_ns * 100, st.elapsed_ns * 40)
		TH_LOG("did not sleep for the budget: %s", nm_status_str(&st));
	nm_assert_on_node(t->pid, t->info.buf, npages, e->dst, 100);
	nm_target_verify(_metadata, t);
}

/* A user relies on: a 2 MiB THP is split, moved whole, and its data survives. */
TEST_F_TIMEOUT(job, thp_split_and_moved, NM_TEST_TIMEOUT)
{
	struct nm_env *e = &self->env;
	struct nm_target *t = &e->t[0];
	struct nm_target_opts o = nm_opts(e, 8 * MiB);
	struct numamig_job_status st;
	struct numamig_migrate m;
	char mode[128] = "";
	long kb;
	__u64 id;
	int fd;

	fd = open("/sys/kernel/mm/transparent_hugepage/enabled", O_RDONLY);
	if (fd < 0)
		SKIP(return, "no transparent huge pages");
	ASSERT_GT(read(fd, mode, sizeof(mode) - 1), 0);
	close(fd);
	if (strstr(mode, "[never]"))
		SKIP(return, "transparent huge pages disabled");

	nm_balancing(_metadata, e, 0);
	o.thp = true;
	nm_target_start(_metadata, t, &o);
	kb = nm_anon_huge_kb(t->pid);
	ASSERT_GE(kb, 0) TH_LOG("smaps_rollup: %s", strerror(-kb));
	if (kb < 2048)
		SKIP(return, "no THP could be allocated (AnonHugePages %ld kB)", kb);

	m = nm_job(t->pid, e->dst, NUMAMIG_POLICY_EAGER, 0, 0);
	id = nm_start(_metadata, e->fd, &m);
	nm_wait_end(_metadata, e->fd, id, NM_WAIT_MS, &st);

	nm_assert_done(_metadata, &st, nm_target_pages(t));
	ASSERT_GE(st.thp_split, 1) TH_LOG("AnonHugePages was %ld kB: %s", kb,
					  nm_status_str(&st));
	nm_assert_on_node(t->pid, t->info.buf, nm_target_pages(t), e->dst, 100);
	nm_target_verify(_metadata, t);
}

/* Start a THP-backed target; SKIP where no THP can be had. */
static void thp_target(struct __test_metadata *_metadata, struct nm_env *e,
		       struct nm_target *t, size_t size)
{
	struct nm_target_opts o = nm_opts(e, size);
	char mode[128] = "";
	long kb;
	int fd;

	fd = open("/sys/kernel/mm/transparent_hugepage/enabled", O_RDONLY);
	if (fd < 0)
		SKIP(return, "no transparent huge pages");
	ASSERT_GT(read(fd, mode, sizeof(mode) - 1), 0);
	close(fd);
	if (strstr(mode, "[never]"))
		SKIP(return, "transparent huge pages disabled");
	nm_balancing(_metadata, e, 0);
	o.thp = true;
	nm_target_start(_metadata, t, &o);
	kb = nm_anon_huge_kb(t->pid);
	ASSERT_GE(kb, 0) TH_LOG("smaps_rollup: %s", strerror(-kb));
	if (kb < 4096)
		SKIP(return, "no THP could be allocated (AnonHugePages %ld kB)", kb);
}

static int huge_call(int fd, __u64 id, __u64 flags, __u64 *addrs,
		     __s32 *status, __u32 count)
{
	struct numamig_huge h = {
		.job_id = id, .flags = flags,
		.addrs_ptr = (uintptr_t)addrs, .status_ptr = (uintptr_t)status,
		.capacity = NUMAMIG_HUGE_BATCH, .count = count,
	};
	int ret = nm_ioctl(fd, NUMAMIG_IOC_HUGE, &h);

	return ret ? ret : (int)h.count;
}

/*
 * A user relies on: a KEEP_HUGE job hands its huge pages to one mover
 * (another file is refused), takes results back, splits what the mover
 * could not move, and without a mover still moves everything.
 */
TEST_F_TIMEOUT(job, keep_huge_handoff, 2 * NM_TEST_TIMEOUT)
{
	static __u64 addrs[NUMAMIG_HUGE_BATCH];
	static __s32 status[NUMAMIG_HUGE_BATCH];
	struct nm_env *e = &self->env;
	struct nm_target *t = &e->t[0];
	struct numamig_job_status st;
	struct numamig_migrate m;
	struct numamig_huge h;
	__u64 id, plain;
	int fd2, got;

	thp_target(_metadata, e, t, 8 * MiB);

	/*
	 * Not a KEEP_HUGE job, no such job, bad fields: refused.  (The plain
	 * job moves this process, not the target, whose pages must all be
	 * left to the KEEP_HUGE job.)
	 */
	m = nm_job(getpid(), e->dst, NUMAMIG_POLICY_PERIODICAL, 512, 60000);
	plain = nm_start(_metadata, e->fd, &m);
	ASSERT_EQ(-EINVAL, huge_call(e->fd, plain, 0, addrs, status, 0));
	ASSERT_EQ(0, nm_cancel(e->fd, plain));
	ASSERT_EQ(-ENOENT, huge_call(e->fd, ~0ULL, 0, addrs, status, 0));

	m = nm_job(t->pid, e->dst, NUMAMIG_POLICY_PERIODICAL, 512, 60000);
	m.flags |= NUMAMIG_MIGRATE_KEEP_HUGE;
	id = nm_start(_metadata, e->fd, &m);
	memset(&h, 0, sizeof(h));
	h.job_id = id;
	h.capacity = NUMAMIG_HUGE_BATCH;
	h.flags = NUMAMIG_HUGE_FLAGS_ALL + 1;
	ASSERT_EQ(-EINVAL, nm_ioctl(e->fd, NUMAMIG_IOC_HUGE, &h));
	h.flags = 0;
	h.reserved[2] = 1;
	ASSERT_EQ(-EINVAL, nm_ioctl(e->fd, NUMAMIG_IOC_HUGE, &h));
	h.reserved[2] = 0;
	h.capacity = NUMAMIG_HUGE_BATCH - 1;
	ASSERT_EQ(-EINVAL, nm_ioctl(e->fd, NUMAMIG_IOC_HUGE, &h));

	/* The first hand-off: one huge page per batch of 512 pages. */
	got = huge_call(e->fd, id, 0, addrs, status, 0);
	ASSERT_EQ(1, got) TH_LOG("hand-off of %d", got);
	ASSERT_EQ(0, addrs[0] % NM_THP_SIZE);
	fd2 = open(NUMAMIG_DEVICE, O_RDWR | O_CLOEXEC);
	ASSERT_GE(fd2, 0);
	ASSERT_EQ(0, nm_ioctl(fd2, NUMAMIG_IOC_API, &e->api));
	ASSERT_EQ(-EBUSY, huge_call(fd2, id, 0, addrs, status, 0));
	close(fd2);
	/* A result must answer the hand-off it belongs to. */
	ASSERT_EQ(-EINVAL, huge_call(e->fd, id, NUMAMIG_HUGE_RESULT, addrs,
				     status, 2));
	/* "Could not move it": the job splits that one itself, then hands on. */
	status[0] = -EACCES;
	ASSERT_EQ(0, nm_set(e->fd, id, NUMAMIG_THROTTLE_SLEEP, 0, 0, 0));
	got = huge_call(e->fd, id, NUMAMIG_HUGE_RESULT, addrs, status, 1);
	ASSERT_GE(got, 1);
	nm_status(_metadata, e->fd, id, &st);
	ASSERT_EQ(1, st.huge_split) TH_LOG("%s", nm_status_str(&st));
	ASSERT_EQ(1, st.thp_split) TH_LOG("%s", nm_status_str(&st));
	/* The mover closes without answering: the job splits the rest. */
	close(e->fd);
	e->fd = open(NUMAMIG_DEVICE, O_RDWR | O_CLOEXEC);
	ASSERT_GE(e->fd, 0);
	ASSERT_EQ(0, nm_ioctl(e->fd, NUMAMIG_IOC_API, &e->api));
	nm_wait_end(_metadata, e->fd, id, NM_WAIT_MS, &st);
	nm_assert_done(_metadata, &st, nm_target_pages(t));
	ASSERT_EQ(0, st.huge_moved);
	ASSERT_GE(st.huge_split, 2) TH_LOG("%s", nm_status_str(&st));
	nm_assert_on_node(t->pid, t->info.buf, nm_target_pages(t), e->dst, 100);
	nm_target_verify(_metadata, t);
	/* The job has ended: a call returns at once with nothing. */
	ASSERT_EQ(0, huge_call(e->fd, id, 0, addrs, status, 0));
}

/* A user relies on: a KEEP_HUGE job nobody moves for still moves it all. */
TEST_F_TIMEOUT(job, keep_huge_without_mover, NM_TEST_TIMEOUT)
{
	struct nm_env *e = &self->env;
	struct nm_target *t = &e->t[0];
	struct numamig_job_status st;
	struct numamig_migrate m;
	__u64 id;

	thp_target(_metadata, e, t, 8 * MiB);
	m = nm_job(t->pid, e->dst, NUMAMIG_POLICY_EAGER, 0, 0);
	m.flags |= NUMAMIG_MIGRATE_KEEP_HUGE;
	id = nm_start(_metadata, e->fd, &m);
	nm_wait_end(_metadata, e->fd, id, NM_WAIT_MS, &st);
	nm_assert_done(_metadata, &st, nm_target_pages(t));
	ASSERT_GE(st.huge_split, 1) TH_LOG("%s", nm_status_str(&st));
	ASSERT_EQ(st.huge_split, st.thp_split) TH_LOG("%s", nm_status_str(&st));
	nm_assert_on_node(t->pid, t->info.buf, nm_target_pages(t), e->dst, 100);
	nm_target_verify(_metadata, t);
}

/* Write the test file's words into fd, its page cache on node. */
static void write_file(struct __test_metadata *_metadata, int fd, size_t size,
		       int node)
{
	uint64_t *buf = malloc(size);
	size_t i;

	ASSERT_NE(NULL, buf);
	for (i = 0; i < size / 8; i++)
		buf[i] = nm_file_word(i * 8);
	ASSERT_EQ(0, nm_bind(node));
	ASSERT_EQ((ssize_t)size, pwrite(fd, buf, size, 0));
	ASSERT_EQ(0, nm_bind(-1));
	free(buf);
}

static bool file_intact(int fd, size_t size)
{
	uint64_t *buf = malloc(size);
	bool ok = buf && pread(fd, buf, size, 0) == (ssize_t)size;
	size_t i;

	for (i = 0; ok && i < size / 8; i++)
		ok = buf[i] == nm_file_word(i * 8);
	free(buf);
	return ok;
}

#define FILE_SIZE	(1 * MiB)
#define FILE_PAGES	(FILE_SIZE / NM_PAGE_SIZE)
#define COW_PAGES	(FILE_PAGES / 2)	/* written through the COW map */
#define SHM_SIZE	(1 * MiB)

/*
 * A target with a 4 MiB buffer that also maps a /tmp file privately
 * read-only, shared, and privately with the first half written (COW),
 * plus 1 MiB of MAP_SHARED | MAP_ANONYMOUS, all of it on src.  The file
 * is unlinked; returns an fd to read it back.
 */
static int start_file_target(struct __test_metadata *_metadata,
			     struct nm_env *e, struct nm_target *t)
{
	struct nm_target_opts o = nm_opts(e, 4 * MiB);
	char path[] = "/tmp/numamig-test-XXXXXX";
	int fd;

	fd = mkstemp(path);
	ASSERT_GE(fd, 0) TH_LOG("mkstemp in /tmp: %s", strerror(errno));
	write_file(_metadata, fd, FILE_SIZE, e->src);
	o.file = path;
	o.file_size = FILE_SIZE;
	o.shm_size = SHM_SIZE;
	nm_target_start(_metadata, t, &o);
	unlink(path);

	/* premise: all of it starts on src */
	nm_assert_on_node(t->pid, t->info.file_ro, FILE_PAGES, e->src, 100);
	nm_assert_on_node(t->pid, t->info.file_shared, FILE_PAGES, e->src, 100);
	nm_assert_on_node(t->pid, t->info.file_cow, FILE_PAGES, e->src, 100);
	nm_assert_on_node(t->pid, t->info.shm, SHM_SIZE / NM_PAGE_SIZE, e->src, 100);
	return fd;
}

/* A user relies on: file pages and shared memory stay put, counted skipped; files unchanged. */
TEST_F_TIMEOUT(job, file_and_shared_pages_stay, NM_TEST_TIMEOUT)
{
	struct nm_env *e = &self->env;
	struct nm_target *t = &e->t[0];
	struct numamig_job_status st;
	struct numamig_migrate m;
	/* page cache pages: the read-only map, the shared map, the COW
	 * map's unwritten half */
	uint64_t maps[3];
	size_t len[3] = { FILE_PAGES, FILE_PAGES, FILE_PAGES - COW_PAGES };
	int *before[3], *after[3], fd, ret;
	size_t i, k;
	__u64 id;

	nm_balancing(_metadata, e, 0);
	fd = start_file_target(_metadata, e, t);
	maps[0] = t->info.file_ro;
	maps[1] = t->info.file_shared;
	maps[2] = t->info.file_cow + COW_PAGES * NM_PAGE_SIZE;
	for (k = 0; k < 3; k++) {
		before[k] = calloc(len[k], sizeof(int));
		after[k] = calloc(len[k], sizeof(int));
		ASSERT_TRUE(before[k] && after[k]);
		ret = nm_nodes_of(t->pid, maps[k], len[k], before[k]);
		ASSERT_EQ(0, ret);
	}

	m = nm_job(t->pid, e->dst, NUMAMIG_POLICY_PERIODICAL, 1024, 10);
	id = nm_start(_metadata, e->fd, &m);
	nm_wait_end(_metadata, e->fd, id, NM_WAIT_MS, &st);
	nm_assert_done(_metadata, &st, nm_target_pages(t));

	for (k = 0; k < 3; k++) {
		ret = nm_nodes_of(t->pid, maps[k], len[k], after[k]);
		ASSERT_EQ(0, ret);
		for (i = 0; i < len[k]; i++)
			ASSERT_EQ(before[k][i], after[k][i])
				TH_LOG("file page %zu of map %zu moved", i, k);
	}
	nm_assert_on_node(t->pid, t->info.shm, SHM_SIZE / NM_PAGE_SIZE, e->src, 100);
	nm_assert_on_node(t->pid, t->info.buf, nm_target_pages(t), e->dst, 100);

	ASSERT_GT(st.skipped[NUMAMIG_SKIP_FILE], 0) TH_LOG("%s", nm_status_str(&st));
	ASSERT_GT(st.skipped[NUMAMIG_SKIP_SHARED], 0) TH_LOG("%s", nm_status_str(&st));
	/* every present page of those maps is one skipped page */
	ASSERT_GE(st.skipped[NUMAMIG_SKIP_FILE] + st.skipped[NUMAMIG_SKIP_SHARED],
		  len[0] + len[1] + len[2] + SHM_SIZE / NM_PAGE_SIZE)
		TH_LOG("%s", nm_status_str(&st));
	ASSERT_GE(st.skipped[NUMAMIG_SKIP_SHARED], SHM_SIZE / NM_PAGE_SIZE)
		TH_LOG("MAP_SHARED|MAP_ANONYMOUS counts as shared: %s",
		       nm_status_str(&st));

	nm_target_verify(_metadata, t);
	nm_target_kill(t);
	ASSERT_TRUE(file_intact(fd, FILE_SIZE)) TH_LOG("the file changed");
	close(fd);
	for (k = 0; k < 3; k++) {
		free(before[k]);
		free(after[k]);
	}
}

/* A user relies on: pages written in a private file map are anonymous memory and move. */
TEST_F_TIMEOUT(job, private_file_copies_move, NM_TEST_TIMEOUT)
{
	struct nm_env *e = &self->env;
	struct nm_target *t = &e->t[0];
	struct numamig_job_status st;
	struct numamig_migrate m;
	__u64 id;
	int fd;

	nm_balancing(_metadata, e, 0);
	fd = start_file_target(_metadata, e, t);

	m = nm_job(t->pid, e->dst, NUMAMIG_POLICY_PERIODICAL, 1024, 10);
	id = nm_start(_metadata, e->fd, &m);
	nm_wait_end(_metadata, e->fd, id, NM_WAIT_MS, &st);
	ASSERT_EQ(NUMAMIG_STATE_DONE, st.state) TH_LOG("%s", nm_status_str(&st));
	nm_assert_on_node(t->pid, t->info.file_cow, COW_PAGES, e->dst, 100);
	nm_assert_on_node(t->pid, t->info.file_cow + COW_PAGES * NM_PAGE_SIZE,
			  FILE_PAGES - COW_PAGES, e->src, 100);
	ASSERT_GE(st.pages_migrated, nm_target_pages(t) + COW_PAGES)
		TH_LOG("%s", nm_status_str(&st));
	nm_target_verify(_metadata, t);
	nm_target_kill(t);
	ASSERT_TRUE(file_intact(fd, FILE_SIZE)) TH_LOG("COW writes reached the file");
	close(fd);
}

/* A user relies on: pages other processes map stay, unless MOVE_SHARED moves them for all. */
TEST_F_TIMEOUT(job, shared_pages_need_move_shared, NM_TEST_TIMEOUT)
{
	struct nm_env *e = &self->env;
	struct nm_target *t = &e->t[0];
	struct nm_target_opts o = nm_opts(e, 8 * MiB);
	struct numamig_job_status st;
	struct numamig_migrate m;
	size_t npages;
	__u64 id;

	if (!(e->api.features & NUMAMIG_FEATURE_MOVE_SHARED))
		SKIP(return, "no NUMAMIG_FEATURE_MOVE_SHARED");
	nm_balancing(_metadata, e, 0);
	o.cow_sibling = true;
	nm_target_start(_metadata, t, &o);
	npages = nm_target_pages(t);

	m = nm_job(t->pid, e->dst, NUMAMIG_POLICY_EAGER, 0, 0);
	id = nm_start(_metadata, e->fd, &m);
	nm_wait_end(_metadata, e->fd, id, NM_WAIT_MS, &st);
	ASSERT_EQ(NUMAMIG_STATE_DONE, st.state) TH_LOG("%s", nm_status_str(&st));
	ASSERT_GE(st.skipped[NUMAMIG_SKIP_SHARED], npages) TH_LOG("%s", nm_status_str(&st));
	nm_assert_on_node(t->pid, t->info.buf, npages, e->src, 100);
	nm_assert_on_node(t->info.sibling, t->info.buf, npages, e->src, 100);

	m = nm_job(t->pid, e->dst, NUMAMIG_POLICY_EAGER, 0, 0);
	m.flags = NUMAMIG_MIGRATE_MOVE_SHARED;
	id = nm_start(_metadata, e->fd, &m);
	nm_wait_end(_metadata, e->fd, id, NM_WAIT_MS, &st);
	nm_assert_done(_metadata, &st, npages);
	ASSERT_EQ(NUMAMIG_MIGRATE_MOVE_SHARED, st.migrate_flags);
	nm_assert_on_node(t->pid, t->info.buf, npages, e->dst, 100);
	nm_assert_on_node(t->info.sibling, t->info.buf, npages, e->dst, 100);
	nm_target_verify(_metadata, t);
}

/* A user relies on: with NUMA balancing on too, the job ends DONE and no data is harmed. */
TEST_F_TIMEOUT(job, numa_balancing_on, NM_TEST_TIMEOUT)
{
	struct nm_env *e = &self->env;
	struct nm_target *t = &e->t[0];
	struct nm_target_opts o = nm_opts(e, 16 * MiB);
	struct numamig_job_status st;
	struct numamig_migrate m;
	size_t npages;
	__u64 id;

	if (access(NM_BALANCING, F_OK))
		SKIP(return, "kernel without NUMA balancing");
	nm_balancing(_metadata, e, 1);
	/* run on src: balancing wants the pages there, numamig on dst */
	o.cpu_node = e->src;
	nm_target_start(_metadata, t, &o);
	npages = nm_target_pages(t);
	ASSERT_EQ(0, nm_target_cmd(_metadata, t, NM_CMD_WRITE, 0, npages).val);
	nm_sleep_ms(1500);	/* past numa_balancing_scan_delay_ms */

	m = nm_job(t->pid, e->dst, NUMAMIG_POLICY_PERIODICAL, 256, 100);
	id = nm_start(_metadata, e->fd, &m);
	nm_wait_end(_metadata, e->fd, id, NM_WAIT_MS, &st);
	ASSERT_EQ(NUMAMIG_STATE_DONE, st.state) TH_LOG("%s", nm_status_str(&st));
	ASSERT_EQ(0, st.error) TH_LOG("%s", nm_status_str(&st));
	ASSERT_EQ(0, st.pages_remaining) TH_LOG("%s", nm_status_str(&st));
	ASSERT_GT(st.pages_migrated, 0) TH_LOG("%s", nm_status_str(&st));
	nm_target_verify(_metadata, t);
}

/* A user relies on: several jobs run side by side and all finish. */
TEST_F_TIMEOUT(job, many_jobs_at_once, NM_TEST_TIMEOUT)
{
	static const __u32 policies[NM_MAX_TARGETS] = {
		NUMAMIG_POLICY_PERIODICAL, NUMAMIG_POLICY_SEVERE,
		NUMAMIG_POLICY_MILD, NUMAMIG_POLICY_PERIODICAL,
	};
	struct nm_env *e = &self->env;
	struct nm_target_opts o = nm_opts(e, 8 * MiB);
	struct numamig_job_status st;
	struct numamig_migrate m;
	__u64 id[NM_MAX_TARGETS];
	int i, k;

	nm_balancing(_metadata, e, 0);
	for (i = 0; i < NM_MAX_TARGETS; i++)
		nm_target_start(_metadata, &e->t[i], &o);
	for (i = 0; i < NM_MAX_TARGETS; i++) {
		m = nm_job(e->t[i].pid, e->dst, policies[i], 256, 100);
		id[i] = nm_start(_metadata, e->fd, &m);
		for (k = 0; k < i; k++)
			ASSERT_NE(id[k], id[i]);
	}
	/* 8 batches 100 ms apart each: all four are running now */
	for (i = 0; i < NM_MAX_TARGETS; i++) {
		nm_status(_metadata, e->fd, id[i], &st);
		ASSERT_EQ(NUMAMIG_STATE_RUNNING, st.state) TH_LOG("%s", nm_status_str(&st));
		ASSERT_EQ(e->t[i].pid, st.pid);
	}
	for (i = 0; i < NM_MAX_TARGETS; i++) {
		nm_wait_end(_metadata, e->fd, id[i], NM_WAIT_MS, &st);
		nm_assert_done(_metadata, &st, nm_target_pages(&e->t[i]));
	}
	for (i = 0; i < NM_MAX_TARGETS; i++) {
		nm_assert_on_node(e->t[i].pid, e->t[i].info.buf,
				  nm_target_pages(&e->t[i]), e->dst, 100);
		nm_target_verify(_metadata, &e->t[i]);
	}
}

/*
 * A hog: a child bound to one node that takes that node's free memory,
 * mlocked, down to a level it is given, and holds it until killed.
 */
#define HOG_CHUNK	(8 * MiB)
#define HOG_SLACK_KB	(8 * 1024L)	/* stop this far above the high watermark */
#define HOG_MAX_KB	(4096 * 1024L)	/* fill no node with more free than this */

struct hog_info {
	int err;		/* errno of the failed step, or 0 */
	char what[60];		/* the failed step */
	long filled_kb;
	long free_kb;		/* MemFree of the node once full */
	bool locked;		/* all of it mlocked */
};

/* A field of node's meminfo ("MemFree", "Active(file)", ...) in kB, or -errno. */
static long node_meminfo_kb(int node, const char *name)
{
	char path[64], line[256], key[32];
	long kb = -ENOENT, v;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/meminfo", node);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Node %*d %31[^:]: %ld", key, &v) == 2 &&
		    !strcmp(key, name)) {
			kb = v;
			break;
		}
	}
	fclose(f);
	return kb;
}

/* A watermark ("min", "low", "high", boost included) of node in kB, or -errno. */
static long node_wmark_kb(int node, const char *name)
{
	char line[256], key[16];
	long pages = 0, v;
	bool in = false;
	FILE *f;
	int n;

	f = fopen("/proc/zoneinfo", "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Node %d, zone", &n) == 1)
			in = n == node;
		else if (in && sscanf(line, " %15s %ld", key, &v) == 2 &&
			 !strcmp(key, name))
			pages += v;
	}
	fclose(f);
	return pages * (long)(NM_PAGE_SIZE / 1024);
}

/* The oom_kill counter of /proc/vmstat, or -errno. */
static long oom_kills(void)
{
	char line[256];
	long n = -ENOENT;
	FILE *f;

	f = fopen("/proc/vmstat", "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "oom_kill %ld", &n) == 1)
			break;
	fclose(f);
	return n;
}

#define HOG_FAIL(step) do {						\
	h.err = errno ? errno : EINVAL;					\
	snprintf(h.what, sizeof(h.what), "%s", step);			\
	goto out;							\
} while (0)

/*
 * Allocate on node chunk by chunk while its MemFree stays above stop_kb:
 * the hog's own page faults never go below the watermarks, so they can
 * neither wake reclaim nor the OOM killer.  Free pages on the per-CPU
 * lists do not count in MemFree; taking the chunks on every CPU in turn
 * uses them up first.
 */
static void hog_main(int node, long stop_kb, int cmd, int resp)
{
	int cpus[CPU_SETSIZE], ncpus = 0, i, k;
	struct hog_info h;
	cpu_set_t set;
	long free_kb;
	size_t len;
	char *p, c;

	memset(&h, 0, sizeof(h));
	h.locked = true;
	errno = 0;
	if (prctl(PR_SET_PDEATHSIG, SIGKILL))
		HOG_FAIL("PR_SET_PDEATHSIG");
	if (sched_getaffinity(0, sizeof(set), &set))
		HOG_FAIL("sched_getaffinity");
	for (k = 0; k < CPU_SETSIZE; k++)
		if (CPU_ISSET(k, &set))
			cpus[ncpus++] = k;
	if (nm_bind(node))
		HOG_FAIL("MPOL_BIND");
	for (i = 0;; i++) {
		free_kb = node_meminfo_kb(node, "MemFree");
		if (free_kb < 0) {
			errno = -free_kb;
			HOG_FAIL("node meminfo");
		}
		if (free_kb < stop_kb + 1024)
			break;
		CPU_ZERO(&set);
		CPU_SET(cpus[i % ncpus], &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			HOG_FAIL("sched_setaffinity");
		len = (free_kb - stop_kb) * 1024UL;
		len = (len < HOG_CHUNK ? len : HOG_CHUNK) & ~(NM_PAGE_SIZE - 1);
		p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			HOG_FAIL("mmap");
		if (madvise(p, len, MADV_NOHUGEPAGE))
			HOG_FAIL("MADV_NOHUGEPAGE");
		/* mlock faults the pages in; without it, memset does */
		if (h.locked && mlock(p, len))
			h.locked = false;
		memset(p, 0x68, len);
		h.filled_kb += len / 1024;
	}
	h.free_kb = free_kb;
out:
	if (nm_write_full(resp, &h, sizeof(h)) || h.err)
		_exit(1);
	/* hold the memory until the parent closes the pipe or kills us */
	while (read(cmd, &c, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}
#undef HOG_FAIL

/*
 * Fork a hog that fills node down to stop_kb of MemFree.  It lives in a
 * struct nm_target so that teardown kills it and waits for it: its memory
 * is free again before the next test starts.
 */
static void hog_start(struct __test_metadata *_metadata, struct nm_target *t,
		      int node, long stop_kb, struct hog_info *h)
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
		for (fd = 3; fd < 1024; fd++)
			if (fd != cmd[0] && fd != resp[1])
				close(fd);
		hog_main(node, stop_kb, cmd[0], resp[1]);
	}
	close(cmd[0]);
	close(resp[1]);
	t->pid = pid;
	t->cmd = cmd[1];
	t->resp = resp[0];
	ret = nm_read_full(t->resp, h, sizeof(*h));
	ASSERT_EQ(0, ret) TH_LOG("hog %d died while filling node %d", pid, node);
	ASSERT_EQ(0, h->err) TH_LOG("hog: %s: %s", h->what, strerror(h->err));
}

/*
 * Memory on node a full node still yields to an allocation that may go
 * down to the min watermark and reclaim: free pages above min, page cache
 * and reclaimable slab.  In kB, or -errno.
 */
static long node_room_kb(int node, long min_kb)
{
	static const char * const fields[] = {
		"Active(file)", "Inactive(file)", "KReclaimable",
	};
	long kb = node_meminfo_kb(node, "MemFree"), v;
	size_t i;

	if (kb < 0)
		return kb;
	kb -= min_kb;
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		v = node_meminfo_kb(node, fields[i]);
		if (v < 0)
			return v;
		kb += v;
	}
	return kb;
}

/* A user relies on: a full dst node ends the job FAILED/ENOMEM, pages counted, nobody OOM-killed. */
TEST_F_TIMEOUT(job, full_node_fails_enomem, NM_TEST_TIMEOUT)
{
	struct nm_env *e = &self->env;
	struct nm_target *t = &e->t[0], *hog = &e->t[1];
	struct nm_target_opts o = nm_opts(e, 128 * MiB);
	long free_kb, min_kb, high_kb, room_kb, oom_before, oom_after;
	size_t npages, i, on_src = 0, on_dst = 0;
	struct numamig_job_status st;
	struct numamig_migrate m;
	struct hog_info hi;
	__u64 id, nomem;
	int *nodes, status = 0, ret;

	nm_balancing(_metadata, e, 0);
	free_kb = node_meminfo_kb(e->dst, "MemFree");
	ASSERT_GE(free_kb, 0) TH_LOG("node %d meminfo: %s", e->dst, strerror(-free_kb));
	if (free_kb > HOG_MAX_KB)
		SKIP(return, "node %d has %ld MiB free: too much to fill",
		     e->dst, free_kb / 1024);
	min_kb = node_wmark_kb(e->dst, "min");
	ASSERT_GT(min_kb, 0) TH_LOG("/proc/zoneinfo: %s", strerror(-min_kb));
	high_kb = node_wmark_kb(e->dst, "high");
	ASSERT_GT(high_kb, min_kb) TH_LOG("/proc/zoneinfo: %s", strerror(-high_kb));
	oom_before = oom_kills();
	ASSERT_GE(oom_before, 0) TH_LOG("/proc/vmstat oom_kill: %s", strerror(-oom_before));

	nm_target_start(_metadata, t, &o);
	npages = nm_target_pages(t);
	hog_start(_metadata, hog, e->dst, high_kb + HOG_SLACK_KB, &hi);
	room_kb = node_room_kb(e->dst, min_kb);
	ASSERT_GE(room_kb, 0) TH_LOG("node %d meminfo: %s", e->dst, strerror(-room_kb));
	TH_LOG("hog holds %ld MiB of node %d (mlocked: %s); %ld MiB free, "
	       "watermarks min %ld high %ld MiB; room %ld MiB",
	       hi.filled_kb / 1024, e->dst, hi.locked ? "yes" : "no",
	       hi.free_kb / 1024, min_kb / 1024, high_kb / 1024, room_kb / 1024);
	/* premise: the full node has room for under half the target */
	ASSERT_LT(room_kb * 1024, (long)(o.size / 2))
		TH_LOG("node %d still has room for %ld MiB", e->dst, room_kb / 1024);

	m = nm_job(t->pid, e->dst, NUMAMIG_POLICY_EAGER, 0, 0);
	id = nm_start(_metadata, e->fd, &m);
	nm_wait_end(_metadata, e->fd, id, NM_WAIT_MS, &st);
	nomem = st.skipped[NUMAMIG_SKIP_NOMEM];
	TH_LOG("%s", nm_status_str(&st));

	ASSERT_EQ(NUMAMIG_STATE_FAILED, st.state) TH_LOG("%s", nm_status_str(&st));
	ASSERT_EQ(ENOMEM, st.error) TH_LOG("%s", nm_status_str(&st));
	ASSERT_GT(nomem, 0) TH_LOG("%s", nm_status_str(&st));
	/* it went on to the end rather than stopping at the first failure */
	ASSERT_EQ(0, st.pages_remaining) TH_LOG("%s", nm_status_str(&st));
	ASSERT_GE(st.pages_queued, npages) TH_LOG("%s", nm_status_str(&st));
	/* every queued page was moved or counted as not moved */
	ASSERT_EQ(st.pages_queued, st.pages_migrated + st.pages_failed + nomem +
		  st.skipped[NUMAMIG_SKIP_PINNED])
		TH_LOG("%s", nm_status_str(&st));

	/* every page of the buffer is on src or dst, as the counters say */
	nodes = calloc(npages, sizeof(*nodes));
	ASSERT_NE(NULL, nodes);
	ret = nm_nodes_of(t->pid, t->info.buf, npages, nodes);
	ASSERT_EQ(0, ret) TH_LOG("move_pages: %s", strerror(-ret));
	for (i = 0; i < npages; i++) {
		if (nodes[i] == e->src)
			on_src++;
		else if (nodes[i] == e->dst)
			on_dst++;
	}
	free(nodes);
	ASSERT_EQ(npages, on_src + on_dst)
		TH_LOG("%zu on src, %zu on dst of %zu", on_src, on_dst, npages);
	ASSERT_GT(on_src, 0) TH_LOG("%s", nm_status_str(&st));
	ASSERT_LE(on_dst, st.pages_migrated) TH_LOG("%zu on dst; %s", on_dst,
						    nm_status_str(&st));
	ASSERT_LE(on_src, nomem + st.pages_failed + st.skipped[NUMAMIG_SKIP_PINNED])
		TH_LOG("%zu on src; %s", on_src, nm_status_str(&st));
	nm_target_verify(_metadata, t);

	ASSERT_EQ(0, kill(hog->pid, 0)) TH_LOG("hog %d: %s", hog->pid, strerror(errno));
	ASSERT_EQ(0, waitpid(hog->pid, &status, WNOHANG))
		TH_LOG("hog %d ended: status %#x", hog->pid, status);
	oom_after = oom_kills();
	ASSERT_EQ(oom_before, oom_after)
		TH_LOG("the OOM killer killed %ld processes", oom_after - oom_before);
}

TEST_HARNESS_MAIN
