// SPDX-License-Identifier: GPL-2.0
/*
 * numamig selftests: controlling jobs while they run (SET, CANCEL, WAIT),
 * jobs whose target goes away, and NUMAMIG_IOC_LOCALITY.
 */
#include "kselftest_harness.h"
#include "numamig_helpers.h"

FIXTURE(control)
{
	struct nm_env env;
};

FIXTURE_SETUP(control)
{
	nm_setup(_metadata, &self->env);
}

FIXTURE_TEARDOWN(control)
{
	nm_teardown(&self->env);
}

/* A thread blocked in NUMAMIG_IOC_WAIT with no timeout. */
struct waiter {
	int fd;
	__u64 id;
	int ret;
	__u32 state;
	atomic_bool done;
	pthread_t thread;
};

static void *waiter_fn(void *arg)
{
	struct waiter *w = arg;

	w->ret = nm_wait(w->fd, w->id, ~0ULL, &w->state);
	atomic_store(&w->done, true);
	return NULL;
}

static int waiter_start(struct waiter *w, int fd, __u64 id)
{
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->id = id;
	return pthread_create(&w->thread, NULL, waiter_fn, w);
}

/* true once the waiter returned, false if it still blocks after timeout_ms */
static bool waiter_join(struct waiter *w, unsigned int timeout_ms)
{
	uint64_t end = nm_now_ns() + timeout_ms * 1000000ULL;

	while (!atomic_load(&w->done) && nm_now_ns() < end)
		nm_sleep_ms(5);
	if (!atomic_load(&w->done))
		return false;
	pthread_join(w->thread, NULL);
	return true;
}

/* A job that would take a minute: 64 batches of 64 pages, 1 s apart. */
static __u64 start_slow_job(struct __test_metadata *_metadata, struct nm_env *e,
			    struct nm_target *t)
{
	struct nm_target_opts o = nm_opts(e, 16 * MiB);
	struct numamig_job_status st;
	struct numamig_migrate m;
	__u64 id;

	nm_target_start(_metadata, t, &o);
	m = nm_job(t->pid, e->dst, NUMAMIG_POLICY_PERIODICAL, 64, 1000);
	id = nm_start(_metadata, e->fd, &m);
	nm_wait_batches(_metadata, e->fd, id, 1, 20000, &st);
	return id;
}

/* A user relies on: SET acts at once: status shows it, a long t halts, t = 0 finishes. */
TEST_F_TIMEOUT(control, set_throttle_running_job, NM_TEST_TIMEOUT)
{
	struct nm_env *e = &self->env;
	struct nm_target *t = &e->t[0];
	struct nm_target_opts o = nm_opts(e, 16 * MiB);
	struct numamig_job_status st;
	struct numamig_migrate m;
	__u64 id, m0, m1;
	size_t npages;
	uint64_t t0;

	nm_balancing(_metadata, e, 0);
	nm_target_start(_metadata, t, &o);
	npages = nm_target_pages(t);
	/* 64 batches 500 ms apart: 32 s unless SET speeds it up */
	m = nm_job(t->pid, e->dst, NUMAMIG_POLICY_PERIODICAL, 64, 500);
	id = nm_start(_metadata, e->fd, &m);
	nm_wait_batches(_metadata, e->fd, id, 1, 20000, &st);

	ASSERT_EQ(0, nm_set(e->fd, id, NUMAMIG_THROTTLE_BATCH | NUMAMIG_THROTTLE_SLEEP,
			    16, NUMAMIG_MAX_SLEEP, 0));
	nm_status(_metadata, e->fd, id, &st);
	ASSERT_EQ(16, st.batch_pages) TH_LOG("%s", nm_status_str(&st));
	ASSERT_EQ(NUMAMIG_MAX_SLEEP, st.sleep_ms) TH_LOG("%s", nm_status_str(&st));
	ASSERT_EQ(NUMAMIG_STATE_RUNNING, st.state);

	/* woken by SET it may do one batch of 16, then it sleeps a minute */
	nm_sleep_ms(300);
	nm_status(_metadata, e->fd, id, &st);
	m0 = st.pages_migrated;
	nm_sleep_ms(1200);
	nm_status(_metadata, e->fd, id, &st);
	m1 = st.pages_migrated;
	ASSERT_LE(m1 - m0, 16) TH_LOG("moved %llu pages in 1.2 s with t = 60 s: %s",
				      (unsigned long long)(m1 - m0), nm_status_str(&st));
	ASSERT_LT(m1, npages / 2) TH_LOG("%s", nm_status_str(&st));

	if (e->api.features & NUMAMIG_FEATURE_CPU_BUDGET) {
		ASSERT_EQ(0, nm_set(e->fd, id, NUMAMIG_THROTTLE_CPU, 0, 0, 50));
		nm_status(_metadata, e->fd, id, &st);
		ASSERT_EQ(50, st.cpu_pct) TH_LOG("%s", nm_status_str(&st));
		ASSERT_EQ(16, st.batch_pages) TH_LOG("only cpu_pct was asked for");
		ASSERT_EQ(0, nm_set(e->fd, id, NUMAMIG_THROTTLE_CPU, 0, 0, 0));
		nm_status(_metadata, e->fd, id, &st);
		ASSERT_EQ(0, st.cpu_pct) TH_LOG("%s", nm_status_str(&st));
	}

	/* the sleeping job wakes and finishes long before its 60 s sleep */
	t0 = nm_now_ns();
	ASSERT_EQ(0, nm_set(e->fd, id, NUMAMIG_THROTTLE_BATCH | NUMAMIG_THROTTLE_SLEEP,
			    4096, 0, 0));
	nm_wait_end(_metadata, e->fd, id, 10000, &st);
	ASSERT_LT(nm_now_ns() - t0, 10000000000ULL);
	nm_assert_done(_metadata, &st, npages);
	ASSERT_EQ(4096, st.batch_pages) TH_LOG("%s", nm_status_str(&st));
	ASSERT_EQ(0, st.sleep_ms) TH_LOG("%s", nm_status_str(&st));
	nm_assert_on_node(t->pid, t->info.buf, npages, e->dst, 100);
	nm_target_verify(_metadata, t);
}

/* A user relies on: CANCEL stops a job at once, wakes waiters, keeps data and moved pages. */
TEST_F_TIMEOUT(control, cancel_running_job, NM_TEST_TIMEOUT)
{
	struct nm_env *e = &self->env;
	struct nm_target *t = &e->t[0];
	struct numamig_job_status st, st2;
	struct waiter w;
	struct nm_place pl;
	size_t npages;
	__u64 id;

	nm_balancing(_metadata, e, 0);
	id = start_slow_job(_metadata, e, t);
	npages = nm_target_pages(t);

	ASSERT_EQ(0, waiter_start(&w, e->fd, id));
	ASSERT_FALSE(waiter_join(&w, 300)) TH_LOG("WAIT returned %d on a running job",
						  w.ret);
	ASSERT_EQ(0, nm_cancel(e->fd, id));
	ASSERT_TRUE(waiter_join(&w, 20000)) TH_LOG("WAIT still blocked after CANCEL");
	ASSERT_EQ(0, w.ret) TH_LOG("WAIT: %s", strerror(-w.ret));
	ASSERT_EQ(NUMAMIG_STATE_CANCELLED, w.state) TH_LOG("%s", nm_state_name(w.state));

	nm_status(_metadata, e->fd, id, &st);
	ASSERT_EQ(NUMAMIG_STATE_CANCELLED, st.state) TH_LOG("%s", nm_status_str(&st));
	ASSERT_EQ(0, st.error);
	ASSERT_GT(st.pages_migrated, 0) TH_LOG("%s", nm_status_str(&st));
	ASSERT_LT(st.pages_migrated, npages) TH_LOG("%s", nm_status_str(&st));

	/* nothing moves after the cancel */
	nm_sleep_ms(1500);
	nm_status(_metadata, e->fd, id, &st2);
	ASSERT_EQ(st.pages_migrated, st2.pages_migrated) TH_LOG("%s", nm_status_str(&st2));
	ASSERT_EQ(st.batches, st2.batches);
	ASSERT_EQ(st.elapsed_ns, st2.elapsed_ns) TH_LOG("elapsed must stop at the end");

	ASSERT_EQ(0, nm_place(t->pid, t->info.buf, npages, 1, &pl));
	ASSERT_EQ(npages, pl.on[e->src] + pl.on[e->dst])
		TH_LOG("%zu unplaced, first status %d", pl.unplaced, pl.first_err);
	ASSERT_GT(pl.on[e->dst], 0);
	ASSERT_LE(pl.on[e->dst], st.pages_migrated) TH_LOG("%zu on dst: %s",
							   pl.on[e->dst], nm_status_str(&st));
	nm_target_verify(_metadata, t);

	/* cancelling again changes nothing */
	ASSERT_EQ(0, nm_cancel(e->fd, id));
	nm_status(_metadata, e->fd, id, &st2);
	ASSERT_EQ(NUMAMIG_STATE_CANCELLED, st2.state);
	ASSERT_EQ(st.pages_migrated, st2.pages_migrated);
}

/* A user relies on: cancelling a finished job is harmless; an unknown id is ENOENT. */
TEST_F_TIMEOUT(control, cancel_finished_and_unknown, NM_TEST_TIMEOUT)
{
	struct nm_env *e = &self->env;
	struct nm_target *t = &e->t[0];
	struct nm_target_opts o = nm_opts(e, 4 * MiB);
	struct numamig_job_status st, st2;
	struct numamig_migrate m;
	__u64 id;

	nm_target_start(_metadata, t, &o);
	m = nm_job(t->pid, e->dst, NUMAMIG_POLICY_EAGER, 0, 0);
	id = nm_start(_metadata, e->fd, &m);
	nm_wait_end(_metadata, e->fd, id, NM_WAIT_MS, &st);
	ASSERT_EQ(NUMAMIG_STATE_DONE, st.state) TH_LOG("%s", nm_status_str(&st));

	ASSERT_EQ(0, nm_cancel(e->fd, id));
	nm_status(_metadata, e->fd, id, &st2);
	ASSERT_EQ(NUMAMIG_STATE_DONE, st2.state) TH_LOG("cancel turned DONE into %s",
							nm_state_name(st2.state));
	ASSERT_EQ(st.pages_migrated, st2.pages_migrated);
	ASSERT_EQ(st.elapsed_ns, st2.elapsed_ns);

	ASSERT_EQ(-ENOENT, nm_cancel(e->fd, id + 1000000));
	ASSERT_EQ(-ENOENT, nm_cancel(e->fd, ~0ULL));
}

/* A user relies on: a job whose target dies ends EXITED and its waiters wake. */
TEST_F_TIMEOUT(control, target_exits, NM_TEST_TIMEOUT)
{
	struct nm_env *e = &self->env;
	struct nm_target *t = &e->t[0];
	struct numamig_job_status st;
	struct waiter w;
	__u64 id;

	id = start_slow_job(_metadata, e, t);
	ASSERT_EQ(0, waiter_start(&w, e->fd, id));
	ASSERT_FALSE(waiter_join(&w, 200));
	nm_target_kill(t);
	ASSERT_TRUE(waiter_join(&w, 20000)) TH_LOG("WAIT still blocked after the target died");
	ASSERT_EQ(0, w.ret) TH_LOG("WAIT: %s", strerror(-w.ret));
	ASSERT_EQ(NUMAMIG_STATE_EXITED, w.state) TH_LOG("%s", nm_state_name(w.state));
	nm_status(_metadata, e->fd, id, &st);
	ASSERT_EQ(NUMAMIG_STATE_EXITED, st.state) TH_LOG("%s", nm_status_str(&st));
	ASSERT_EQ(0, st.error) TH_LOG("%s", nm_status_str(&st));
	ASSERT_GT(st.pages_migrated, 0);

	ASSERT_EQ(0, nm_cancel(e->fd, id));
	ASSERT_EQ(-ESRCH, nm_set(e->fd, id, NUMAMIG_THROTTLE_SLEEP, 0, 10, 0));
	nm_status(_metadata, e->fd, id, &st);
	ASSERT_EQ(NUMAMIG_STATE_EXITED, st.state);
}

/* A user relies on: an exec ends the job; the new program's memory is not its business. */
TEST_F_TIMEOUT(control, target_execs, NM_TEST_TIMEOUT)
{
	struct nm_env *e = &self->env;
	struct nm_target *t = &e->t[0];
	struct numamig_job_status st;
	struct nm_cmd cmd = { .op = NM_CMD_EXEC };
	struct nm_reply r;
	struct waiter w;
	__u64 id;

	if (access("/bin/sleep", X_OK))
		SKIP(return, "no /bin/sleep to exec");
	id = start_slow_job(_metadata, e, t);
	ASSERT_EQ(0, waiter_start(&w, e->fd, id));
	ASSERT_FALSE(waiter_join(&w, 200));

	/* the reply pipe is O_CLOEXEC: end of file means the exec happened */
	ASSERT_EQ(0, nm_write_full(t->cmd, &cmd, sizeof(cmd)));
	ASSERT_EQ(-EPIPE, nm_read_full(t->resp, &r, sizeof(r)))
		TH_LOG("exec failed: %s", strerror(-r.val));

	ASSERT_TRUE(waiter_join(&w, 20000)) TH_LOG("WAIT still blocked after exec");
	ASSERT_EQ(0, w.ret) TH_LOG("WAIT: %s", strerror(-w.ret));
	ASSERT_EQ(NUMAMIG_STATE_EXITED, w.state) TH_LOG("%s", nm_state_name(w.state));
	nm_status(_metadata, e->fd, id, &st);
	ASSERT_EQ(NUMAMIG_STATE_EXITED, st.state) TH_LOG("%s", nm_status_str(&st));
	ASSERT_EQ(0, kill(t->pid, 0)) TH_LOG("the exec'd process must live on");
}

static __u64 sum(const __u64 *v, __u32 n)
{
	__u64 s = 0;
	__u32 i;

	for (i = 0; i < n; i++)
		s += v[i];
	return s;
}

static void locality(struct __test_metadata *_metadata, int fd, pid_t pid,
		     __u64 flags, struct numamig_locality *loc)
{
	__u32 n;
	int ret;

	memset(loc, 0, sizeof(*loc));
	loc->pid = pid;
	loc->flags = flags;
	ret = nm_ioctl(fd, NUMAMIG_IOC_LOCALITY, loc);
	ASSERT_EQ(0, ret) TH_LOG("LOCALITY %d: %s", pid, strerror(-ret));
	ASSERT_GE(loc->nr_nodes, 2);
	ASSERT_LE(loc->nr_nodes, NUMAMIG_LOCALITY_NODES);
	for (n = 0; n < loc->nr_nodes; n++)
		ASSERT_LE(loc->referenced[n], loc->pages[n]) TH_LOG("node %u", n);
	for (; n < NUMAMIG_LOCALITY_NODES; n++) {
		ASSERT_EQ(0, loc->pages[n]);
		ASSERT_EQ(0, loc->referenced[n]);
	}
}

/* A user relies on: LOCALITY counts anon pages and used pages per node; only CLEAR resets. */
TEST_F_TIMEOUT(control, locality_counts, NM_TEST_TIMEOUT)
{
	struct nm_env *e = &self->env;
	struct nm_target *t = &e->t[0];
	struct nm_target_opts o = nm_opts(e, 16 * MiB);
	/* the target's stack, heap and pages still shared with us */
	const size_t slack = 8 * MiB / NM_PAGE_SIZE;
	struct numamig_locality loc;
	struct numamig_job_status st;
	struct numamig_migrate m;
	size_t npages;
	__u64 id;

	if (!(e->api.features & NUMAMIG_FEATURE_LOCALITY))
		SKIP(return, "no NUMAMIG_FEATURE_LOCALITY");
	nm_balancing(_metadata, e, 0);
	nm_target_start(_metadata, t, &o);
	npages = nm_target_pages(t);

	locality(_metadata, e->fd, t->pid, 0, &loc);
	ASSERT_GT(loc.nr_nodes, (__u32)e->dst);
	ASSERT_GE(loc.pages[e->src], npages);
	ASSERT_LE(sum(loc.pages, loc.nr_nodes), npages + slack)
		TH_LOG("%llu pages", (unsigned long long)sum(loc.pages, loc.nr_nodes));
	/* just filled: referenced, and looking does not clear it */
	ASSERT_GE(loc.referenced[e->src], npages * 9 / 10);
	locality(_metadata, e->fd, t->pid, 0, &loc);
	ASSERT_GE(loc.referenced[e->src], npages * 9 / 10)
		TH_LOG("LOCALITY without CLEAR cleared Accessed bits");

	locality(_metadata, e->fd, t->pid, NUMAMIG_LOCALITY_CLEAR, &loc);
	ASSERT_GE(loc.pages[e->src], npages);
	locality(_metadata, e->fd, t->pid, 0, &loc);
	ASSERT_LT(sum(loc.referenced, loc.nr_nodes), npages / 10)
		TH_LOG("%llu referenced after CLEAR, target idle",
		       (unsigned long long)sum(loc.referenced, loc.nr_nodes));
	ASSERT_GE(loc.pages[e->src], npages);

	ASSERT_EQ(0, nm_target_cmd(_metadata, t, NM_CMD_TOUCH_ONCE, 0, 0).val);
	locality(_metadata, e->fd, t->pid, 0, &loc);
	ASSERT_GE(loc.referenced[e->src], npages * 9 / 10)
		TH_LOG("%llu referenced after touching %zu",
		       (unsigned long long)loc.referenced[e->src], npages);

	m = nm_job(t->pid, e->dst, NUMAMIG_POLICY_EAGER, 0, 0);
	id = nm_start(_metadata, e->fd, &m);
	nm_wait_end(_metadata, e->fd, id, NM_WAIT_MS, &st);
	ASSERT_EQ(NUMAMIG_STATE_DONE, st.state) TH_LOG("%s", nm_status_str(&st));
	locality(_metadata, e->fd, t->pid, 0, &loc);
	ASSERT_GE(loc.pages[e->dst], npages);
	ASSERT_LE(loc.pages[e->src], slack);
	nm_target_verify(_metadata, t);
}

TEST_HARNESS_MAIN
