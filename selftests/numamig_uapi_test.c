// SPDX-License-Identifier: GPL-2.0
/*
 * numamig selftests: the ioctl contract of uapi/linux/numamig.h.  Every
 * documented errno, and that a rejected call changes nothing.
 */
#include "kselftest_harness.h"
#include "numamig_helpers.h"

#include <termios.h>

FIXTURE(uapi)
{
	struct nm_env env;
	void *guard;		/* a PROT_NONE page: a pointer that faults */
};

FIXTURE_SETUP(uapi)
{
	nm_setup(_metadata, &self->env);
	self->guard = mmap(NULL, 2 * NM_PAGE_SIZE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->guard);
	ASSERT_EQ(0, mprotect((char *)self->guard + NM_PAGE_SIZE, NM_PAGE_SIZE,
			      PROT_NONE));
}

FIXTURE_TEARDOWN(uapi)
{
	nm_teardown(&self->env);
}

/* The start of a struct of size bytes whose end runs into the guard page. */
static void *straddle(void *guard, size_t size)
{
	return (char *)guard + NM_PAGE_SIZE - size + 8;
}

/* A target and a slow job on it: 16 MiB in 64 batches 1 s apart. */
static __u64 slow_job(struct __test_metadata *_metadata, struct nm_env *e,
		      struct nm_target *t)
{
	struct nm_target_opts o = nm_opts(e, 16 * MiB);
	struct numamig_migrate m;

	nm_target_start(_metadata, t, &o);
	m = nm_job(t->pid, e->dst, NUMAMIG_POLICY_PERIODICAL, 64, 1000);
	return nm_start(_metadata, e->fd, &m);
}

static __u64 done_job(struct __test_metadata *_metadata, struct nm_env *e,
		      struct nm_target *t)
{
	struct nm_target_opts o = nm_opts(e, 1 * MiB);
	struct numamig_job_status st;
	struct numamig_migrate m;
	__u64 id;

	nm_target_start(_metadata, t, &o);
	m = nm_job(t->pid, e->dst, NUMAMIG_POLICY_EAGER, 0, 0);
	id = nm_start(_metadata, e->fd, &m);
	nm_wait_end(_metadata, e->fd, id, NM_WAIT_MS, &st);
	ASSERT_EQ(NUMAMIG_STATE_DONE, st.state) TH_LOG("%s", nm_status_str(&st));
	return id;
}

/* A user relies on: nothing works before the API handshake; a failed one does not count. */
TEST_F_TIMEOUT(uapi, handshake_first, NM_TEST_TIMEOUT)
{
	struct numamig_api api = { .api = 0 };
	struct numamig_migrate m = nm_job(getpid(), self->env.dst,
					  NUMAMIG_POLICY_PERIODICAL, 0, 0);
	struct numamig_job_status st = { .job_id = 1 };
	struct numamig_list l = { 0 };
	struct numamig_job_ref r = { .job_id = 1 };
	struct numamig_throttle t = { .job_id = 1, .flags = NUMAMIG_THROTTLE_SLEEP };
	struct numamig_wait w = { .job_id = 1 };
	struct numamig_locality loc = { .pid = getpid() };
	struct numamig_hotcache hc = { .pid = getpid(), .buf_size = NUMAMIG_HOTCACHE_MIN_BUF };
	char buf[NUMAMIG_HOTCACHE_MIN_BUF];
	__u32 count = nm_list_count(_metadata, self->env.fd);
	int fd, i;

	fd = open(NUMAMIG_DEVICE, O_RDWR);
	ASSERT_GE(fd, 0);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(-EPROTO, nm_ioctl(fd, NUMAMIG_IOC_MIGRATE, &m));
		ASSERT_EQ(-EPROTO, nm_ioctl(fd, NUMAMIG_IOC_STATUS, &st));
		ASSERT_EQ(-EPROTO, nm_ioctl(fd, NUMAMIG_IOC_LIST, &l));
		ASSERT_EQ(-EPROTO, nm_ioctl(fd, NUMAMIG_IOC_CANCEL, &r));
		ASSERT_EQ(-EPROTO, nm_ioctl(fd, NUMAMIG_IOC_SET, &t));
		ASSERT_EQ(-EPROTO, nm_ioctl(fd, NUMAMIG_IOC_WAIT, &w));
		if (self->env.api.features & NUMAMIG_FEATURE_LOCALITY)
			ASSERT_EQ(-EPROTO, nm_ioctl(fd, NUMAMIG_IOC_LOCALITY, &loc));
		hc.buf_ptr = (uintptr_t)buf;
		if (self->env.api.features & NUMAMIG_FEATURE_HOTCACHE)
			ASSERT_EQ(-EPROTO, nm_ioctl(fd, NUMAMIG_IOC_HOTCACHE, &hc));
		/* a rejected handshake leaves the file as it was */
		memset(&api, 0, sizeof(api));
		ASSERT_EQ(-EINVAL, nm_ioctl(fd, NUMAMIG_IOC_API, &api));
	}
	ASSERT_EQ(count, nm_list_count(_metadata, self->env.fd));

	api.api = NUMAMIG_API;
	ASSERT_EQ(0, nm_ioctl(fd, NUMAMIG_IOC_API, &api));
	memset(&l, 0, sizeof(l));
	ASSERT_EQ(0, nm_ioctl(fd, NUMAMIG_IOC_LIST, &l));
	ASSERT_EQ(count, l.count);
	close(fd);
}

/* A user relies on: the handshake tells version, features, commands; refuses what it lacks. */
TEST_F_TIMEOUT(uapi, api_handshake, NM_TEST_TIMEOUT)
{
	const struct numamig_api *have = &self->env.api;
	struct numamig_api api;
	int fd, i;

	ASSERT_EQ(NUMAMIG_API, have->api);
	ASSERT_EQ(NUMAMIG_MAX_JOBS, have->max_jobs);
	ASSERT_EQ(0, have->features & ~NUMAMIG_FEATURES_ALL);
	for (i = _NUMAMIG_API; i <= _NUMAMIG_WAIT; i++)
		ASSERT_TRUE(have->ioctls & (1ULL << i)) TH_LOG("command %d missing", i);
	ASSERT_EQ(!!(have->features & NUMAMIG_FEATURE_LOCALITY),
		  !!(have->ioctls & (1ULL << _NUMAMIG_LOCALITY)));
	ASSERT_EQ(!!(have->features & NUMAMIG_FEATURE_HOTCACHE),
		  !!(have->ioctls & (1ULL << _NUMAMIG_HOTCACHE)));
	ASSERT_EQ(!!(have->features & NUMAMIG_FEATURE_KEEP_HUGE),
		  !!(have->ioctls & (1ULL << _NUMAMIG_HUGE)));
	ASSERT_EQ(0, have->ioctls & ~((1ULL << (_NUMAMIG_HUGE + 1)) - 1));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, have->reserved[i]);

#define API_REJECTED(stmt) do {						\
	memset(&api, 0, sizeof(api));					\
	api.api = NUMAMIG_API;						\
	stmt;								\
	fd = open(NUMAMIG_DEVICE, O_RDWR);				\
	ASSERT_GE(fd, 0);						\
	ASSERT_EQ(-EINVAL, nm_ioctl(fd, NUMAMIG_IOC_API, &api)) TH_LOG("%s", #stmt); \
	ASSERT_EQ(-EPROTO, nm_ioctl(fd, NUMAMIG_IOC_CANCEL, &(struct numamig_job_ref){ 0 })) \
		TH_LOG("%s was taken as a handshake", #stmt);		\
	close(fd);							\
} while (0)

	API_REJECTED(api.api = 0);
	API_REJECTED(api.api = NUMAMIG_API + 1);
	API_REJECTED(api.api = 999);
	API_REJECTED(api.features = NUMAMIG_FEATURES_ALL + 1);
	API_REJECTED(api.features = 1ULL << 63);
	for (i = 0; i < 4; i++)
		API_REJECTED(api.reserved[i] = 1);

	/* asking for a missing feature still tells which ones exist */
	memset(&api, 0, sizeof(api));
	api.api = NUMAMIG_API;
	api.features = 1ULL << 63 | have->features;
	fd = open(NUMAMIG_DEVICE, O_RDWR);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(-EINVAL, nm_ioctl(fd, NUMAMIG_IOC_API, &api));
	ASSERT_EQ(have->features, api.features);
	/* the features it has are granted */
	memset(&api, 0, sizeof(api));
	api.api = NUMAMIG_API;
	api.features = have->features;
	ASSERT_EQ(0, nm_ioctl(fd, NUMAMIG_IOC_API, &api));
	ASSERT_EQ(have->features, api.features);
	ASSERT_EQ(have->ioctls, api.ioctls);
	close(fd);
}

/* A user relies on: a bad MIGRATE request gets its documented errno and starts nothing. */
TEST_F_TIMEOUT(uapi, migrate_rejects_bad_input, NM_TEST_TIMEOUT)
{
	struct nm_env *e = &self->env;
	struct nm_target *t = &e->t[0];
	struct nm_target_opts o = nm_opts(e, 1 * MiB);
	struct numamig_migrate base, m;
	__u32 count;
	pid_t pid;
	int i, node;

	nm_balancing(_metadata, e, 0);
	nm_target_start(_metadata, t, &o);
	base = nm_job(t->pid, e->dst, NUMAMIG_POLICY_PERIODICAL, 0, 0);
	count = nm_list_count(_metadata, e->fd);

#define MIGRATE_REJECTED(err, stmt) do {				\
	m = base;							\
	stmt;								\
	ASSERT_EQ(-(err), nm_ioctl(e->fd, NUMAMIG_IOC_MIGRATE, &m))	\
		TH_LOG("%s", #stmt);					\
	ASSERT_EQ(0, m.job_id) TH_LOG("%s wrote job_id", #stmt);	\
	ASSERT_EQ(count, nm_list_count(_metadata, e->fd))		\
		TH_LOG("%s started a job", #stmt);			\
} while (0)

	MIGRATE_REJECTED(EINVAL, m.flags = NUMAMIG_MIGRATE_FLAGS_ALL + 1);
	MIGRATE_REJECTED(EINVAL, m.flags = 1ULL << 63);
	for (i = 0; i < 6; i++)
		MIGRATE_REJECTED(EINVAL, m.reserved[i] = 1);
	MIGRATE_REJECTED(EINVAL, m.pid = 0);
	MIGRATE_REJECTED(EINVAL, m.pid = -1);
	MIGRATE_REJECTED(EINVAL, m.pid = INT32_MIN);
	MIGRATE_REJECTED(ESRCH, m.pid = nm_unused_pid());
	pid = nm_kthread();
	ASSERT_GT(pid, 0) TH_LOG("no kernel thread found in /proc");
	MIGRATE_REJECTED(ESRCH, m.pid = pid);
	pid = nm_zombie();
	ASSERT_GT(pid, 0);
	MIGRATE_REJECTED(ESRCH, m.pid = pid);
	waitpid(pid, NULL, 0);
	MIGRATE_REJECTED(ESRCH, m.pid = pid);	/* reaped now */
	MIGRATE_REJECTED(EINVAL, m.dst_node = NUMAMIG_MAX_NODES);
	MIGRATE_REJECTED(EINVAL, m.dst_node = 5000);
	MIGRATE_REJECTED(EINVAL, m.dst_node = ~0u);
	if (!nm_node_has_memory(NUMAMIG_MAX_NODES - 1))
		MIGRATE_REJECTED(ENODEV, m.dst_node = NUMAMIG_MAX_NODES - 1);
	for (node = 0; node < NUMAMIG_MAX_NODES - 1; node++)
		if (!nm_node_has_memory(node))
			break;
	MIGRATE_REJECTED(ENODEV, m.dst_node = node);
	MIGRATE_REJECTED(EINVAL, m.policy = NUMAMIG_POLICY_MAX);
	MIGRATE_REJECTED(EINVAL, m.policy = ~0u);
	MIGRATE_REJECTED(EINVAL, m.batch_pages = NUMAMIG_MAX_BATCH + 1);
	MIGRATE_REJECTED(EINVAL, m.sleep_ms = NUMAMIG_MAX_SLEEP + 1);
	MIGRATE_REJECTED(EINVAL, m.cpu_pct = 101);
	MIGRATE_REJECTED(EINVAL, m.cpu_pct = ~0u);
	MIGRATE_REJECTED(EINVAL, m.src_nodes[e->dst / 64] = 1ULL << (e->dst % 64));
	MIGRATE_REJECTED(EINVAL, m.src_nodes[e->src / 64] |= 1ULL << (e->src % 64);
			 m.src_nodes[e->dst / 64] |= 1ULL << (e->dst % 64));
	ASSERT_EQ(-EFAULT, nm_ioctl(e->fd, NUMAMIG_IOC_MIGRATE, NULL));
	ASSERT_EQ(-EFAULT, nm_ioctl(e->fd, NUMAMIG_IOC_MIGRATE,
				    straddle(self->guard, sizeof(m))));
	ASSERT_EQ(count, nm_list_count(_metadata, e->fd));

	/* nothing of it moved */
	nm_sleep_ms(100);
	nm_assert_on_node(t->pid, t->info.buf, nm_target_pages(t), e->src, 100);
	/* and the base request itself is good */
	m = base;
	ASSERT_EQ(0, nm_ioctl(e->fd, NUMAMIG_IOC_MIGRATE, &m));
	ASSERT_NE(0, m.job_id);
	ASSERT_EQ(0, nm_cancel(e->fd, m.job_id));
}

/* A user relies on: STATUS checks its input and writes nothing when it fails. */
TEST_F_TIMEOUT(uapi, status_rejects_bad_input, NM_TEST_TIMEOUT)
{
	struct nm_env *e = &self->env;
	struct numamig_job_status st;
	__u64 id = done_job(_metadata, e, &e->t[0]);
	int i;

#define STATUS_REJECTED(err, stmt) do {					\
	memset(&st, 0, sizeof(st));					\
	st.job_id = id;							\
	stmt;								\
	ASSERT_EQ(-(err), nm_ioctl(e->fd, NUMAMIG_IOC_STATUS, &st)) TH_LOG("%s", #stmt); \
	ASSERT_EQ(0, st.state) TH_LOG("%s wrote state", #stmt);	\
	ASSERT_EQ(0, st.pages_migrated) TH_LOG("%s wrote pages_migrated", #stmt); \
} while (0)

	STATUS_REJECTED(ENOENT, st.job_id = id + 1000000);
	STATUS_REJECTED(ENOENT, st.job_id = ~0ULL);
	STATUS_REJECTED(EINVAL, st.flags = 1);
	STATUS_REJECTED(EINVAL, st.flags = 1ULL << 63);
	ASSERT_EQ(-EFAULT, nm_ioctl(e->fd, NUMAMIG_IOC_STATUS, NULL));
	ASSERT_EQ(-EFAULT, nm_ioctl(e->fd, NUMAMIG_IOC_STATUS,
				    straddle(self->guard, sizeof(st))));

	/* the good request reports the finished job */
	memset(&st, 0, sizeof(st));
	st.job_id = id;
	ASSERT_EQ(0, nm_ioctl(e->fd, NUMAMIG_IOC_STATUS, &st));
	ASSERT_EQ(NUMAMIG_STATE_DONE, st.state);
	ASSERT_EQ(0, st.error);
	ASSERT_EQ(e->t[0].pid, st.pid);
	ASSERT_EQ(0, st.migrate_flags);
	for (i = 0; i < (int)(sizeof(st.reserved) / sizeof(st.reserved[0])); i++)
		ASSERT_EQ(0, st.reserved[i]);
	for (i = NUMAMIG_SKIP_SPECIAL + 1; i < NUMAMIG_SKIP_MAX; i++)
		ASSERT_EQ(0, st.skipped[i]);
}

/* A user relies on: LIST reports every job, oldest first, and never writes past capacity. */
TEST_F_TIMEOUT(uapi, list_reports_jobs, NM_TEST_TIMEOUT)
{
	struct nm_env *e = &self->env;
	struct numamig_list l;
	__u64 a, b, *ids;
	__u32 i, count, ia = ~0u, ib = ~0u;

	a = done_job(_metadata, e, &e->t[0]);
	b = slow_job(_metadata, e, &e->t[1]);
	ASSERT_NE(a, b);

	memset(&l, 0, sizeof(l));
	ASSERT_EQ(0, nm_ioctl(e->fd, NUMAMIG_IOC_LIST, &l));
	count = l.count;
	ASSERT_GE(count, 2);
	ASSERT_LE(count, NUMAMIG_MAX_JOBS);

	ids = malloc((count + 4) * sizeof(*ids));
	ASSERT_NE(NULL, ids);
	for (i = 0; i < count + 4; i++)
		ids[i] = NM_SENTINEL;
	memset(&l, 0, sizeof(l));
	l.ids_ptr = (uintptr_t)ids;
	l.capacity = count + 4;
	ASSERT_EQ(0, nm_ioctl(e->fd, NUMAMIG_IOC_LIST, &l));
	ASSERT_EQ(count, l.count);
	for (i = 0; i < count; i++) {
		if (ids[i] == a)
			ia = i;
		if (ids[i] == b)
			ib = i;
	}
	ASSERT_LT(ia, count) TH_LOG("finished job %llu not listed", (unsigned long long)a);
	ASSERT_LT(ib, count) TH_LOG("running job %llu not listed", (unsigned long long)b);
	ASSERT_LT(ia, ib) TH_LOG("not oldest first");
	for (i = count; i < count + 4; i++)
		ASSERT_EQ(NM_SENTINEL, ids[i]) TH_LOG("wrote past count at %u", i);

	/* capacity 1: count is still all of them, one id is written */
	ids[0] = ids[1] = NM_SENTINEL;
	memset(&l, 0, sizeof(l));
	l.ids_ptr = (uintptr_t)ids;
	l.capacity = 1;
	ASSERT_EQ(0, nm_ioctl(e->fd, NUMAMIG_IOC_LIST, &l));
	ASSERT_EQ(count, l.count);
	ASSERT_NE(NM_SENTINEL, ids[0]);
	ASSERT_EQ(NM_SENTINEL, ids[1]) TH_LOG("wrote past capacity");

	ASSERT_EQ(0, nm_cancel(e->fd, b));
	free(ids);
}

/* A user relies on: LIST checks its input; a bad array is EFAULT. */
TEST_F_TIMEOUT(uapi, list_rejects_bad_input, NM_TEST_TIMEOUT)
{
	struct nm_env *e = &self->env;
	struct numamig_list l;
	__u64 *ids = (__u64 *)((char *)self->guard + NM_PAGE_SIZE) - 1;
	int i;

	done_job(_metadata, e, &e->t[0]);
	done_job(_metadata, e, &e->t[1]);

#define LIST_REJECTED(err, stmt) do {					\
	memset(&l, 0, sizeof(l));					\
	stmt;								\
	ASSERT_EQ(-(err), nm_ioctl(e->fd, NUMAMIG_IOC_LIST, &l)) TH_LOG("%s", #stmt); \
} while (0)

	LIST_REJECTED(EINVAL, l.flags = 1);
	for (i = 0; i < 3; i++)
		LIST_REJECTED(EINVAL, l.reserved[i] = 1);
	LIST_REJECTED(EINVAL, l.flags = 1; l.capacity = 0);
	ASSERT_EQ(0, l.count) TH_LOG("count written on failure");
	LIST_REJECTED(EFAULT, l.capacity = 1);
	LIST_REJECTED(EFAULT, l.capacity = 1; l.ids_ptr = 8);
	/* room for one id before the guard page, and at least two jobs */
	LIST_REJECTED(EFAULT, l.capacity = 2; l.ids_ptr = (uintptr_t)ids);
	ASSERT_EQ(-EFAULT, nm_ioctl(e->fd, NUMAMIG_IOC_LIST, NULL));

	/* capacity 0 never touches ids_ptr */
	memset(&l, 0, sizeof(l));
	l.ids_ptr = 8;
	ASSERT_EQ(0, nm_ioctl(e->fd, NUMAMIG_IOC_LIST, &l));
	ASSERT_GE(l.count, 2);
	memset(&l, 0, sizeof(l));
	l.capacity = 1;
	l.ids_ptr = (uintptr_t)ids;
	ASSERT_EQ(0, nm_ioctl(e->fd, NUMAMIG_IOC_LIST, &l));
}

/* A user relies on: CANCEL checks its input. */
TEST_F_TIMEOUT(uapi, cancel_rejects_bad_input, NM_TEST_TIMEOUT)
{
	struct nm_env *e = &self->env;
	struct numamig_job_status st;
	struct numamig_job_ref r;
	__u64 id = slow_job(_metadata, e, &e->t[0]);
	int i;

#define CANCEL_REJECTED(err, stmt) do {					\
	memset(&r, 0, sizeof(r));					\
	r.job_id = id;							\
	stmt;								\
	ASSERT_EQ(-(err), nm_ioctl(e->fd, NUMAMIG_IOC_CANCEL, &r)) TH_LOG("%s", #stmt); \
	nm_status(_metadata, e->fd, id, &st);				\
	ASSERT_EQ(NUMAMIG_STATE_RUNNING, st.state) TH_LOG("%s cancelled", #stmt); \
} while (0)

	CANCEL_REJECTED(ENOENT, r.job_id = id + 1000000);
	CANCEL_REJECTED(EINVAL, r.flags = 1);
	for (i = 0; i < 2; i++)
		CANCEL_REJECTED(EINVAL, r.reserved[i] = 1);
	ASSERT_EQ(-EFAULT, nm_ioctl(e->fd, NUMAMIG_IOC_CANCEL, NULL));
	ASSERT_EQ(-EFAULT, nm_ioctl(e->fd, NUMAMIG_IOC_CANCEL,
				    straddle(self->guard, sizeof(r))));
	nm_status(_metadata, e->fd, id, &st);
	ASSERT_EQ(NUMAMIG_STATE_RUNNING, st.state);
	ASSERT_EQ(0, nm_cancel(e->fd, id));
}

/* A user relies on: SET checks its input, and a rejected SET leaves the throttle as it was. */
TEST_F_TIMEOUT(uapi, set_rejects_bad_input, NM_TEST_TIMEOUT)
{
	struct nm_env *e = &self->env;
	struct numamig_job_status st;
	struct numamig_throttle t;
	__u64 id = slow_job(_metadata, e, &e->t[0]);
	__u64 done = done_job(_metadata, e, &e->t[1]);
	int i;

#define SET_REJECTED(err, stmt) do {					\
	memset(&t, 0, sizeof(t));					\
	t.job_id = id;							\
	t.flags = NUMAMIG_THROTTLE_FLAGS_ALL;				\
	t.batch_pages = 8;						\
	t.sleep_ms = 5;							\
	t.cpu_pct = (e->api.features & NUMAMIG_FEATURE_CPU_BUDGET) ? 10 : 0; \
	if (!t.cpu_pct)							\
		t.flags &= ~NUMAMIG_THROTTLE_CPU;			\
	stmt;								\
	ASSERT_EQ(-(err), nm_ioctl(e->fd, NUMAMIG_IOC_SET, &t)) TH_LOG("%s", #stmt); \
	nm_status(_metadata, e->fd, id, &st);				\
	ASSERT_EQ(64, st.batch_pages) TH_LOG("%s changed n", #stmt);	\
	ASSERT_EQ(1000, st.sleep_ms) TH_LOG("%s changed t", #stmt);	\
	ASSERT_EQ(0, st.cpu_pct) TH_LOG("%s changed cpu_pct", #stmt);	\
	ASSERT_EQ(NUMAMIG_STATE_RUNNING, st.state);			\
} while (0)

	SET_REJECTED(ENOENT, t.job_id = id + 1000000);
	SET_REJECTED(ENOENT, t.job_id = ~0ULL);
	SET_REJECTED(ESRCH, t.job_id = done);
	SET_REJECTED(EINVAL, t.flags = 0);
	SET_REJECTED(EINVAL, t.flags |= NUMAMIG_THROTTLE_FLAGS_ALL + 1);
	SET_REJECTED(EINVAL, t.flags |= 1ULL << 63);
	SET_REJECTED(EINVAL, t.batch_pages = 0);
	SET_REJECTED(EINVAL, t.batch_pages = NUMAMIG_MAX_BATCH + 1);
	SET_REJECTED(EINVAL, t.sleep_ms = NUMAMIG_MAX_SLEEP + 1);
	SET_REJECTED(EINVAL, t.flags |= NUMAMIG_THROTTLE_CPU; t.cpu_pct = 101);
	SET_REJECTED(EINVAL, t.__pad = 1);
	for (i = 0; i < 2; i++)
		SET_REJECTED(EINVAL, t.reserved[i] = 1);
	ASSERT_EQ(-EFAULT, nm_ioctl(e->fd, NUMAMIG_IOC_SET, NULL));
	ASSERT_EQ(-EFAULT, nm_ioctl(e->fd, NUMAMIG_IOC_SET,
				    straddle(self->guard, sizeof(t))));
	ASSERT_EQ(0, nm_cancel(e->fd, id));
}

/* A user relies on: WAIT checks input; timeouts give ETIMEDOUT + state; finished jobs give 0. */
TEST_F_TIMEOUT(uapi, wait_semantics, NM_TEST_TIMEOUT)
{
	struct nm_env *e = &self->env;
	struct numamig_wait w;
	__u64 id = slow_job(_metadata, e, &e->t[0]);
	__u64 done = done_job(_metadata, e, &e->t[1]);
	uint64_t t0, ms;
	int i;

#define WAIT_REJECTED(err, stmt) do {					\
	memset(&w, 0, sizeof(w));					\
	w.job_id = done;						\
	stmt;								\
	ASSERT_EQ(-(err), nm_ioctl(e->fd, NUMAMIG_IOC_WAIT, &w)) TH_LOG("%s", #stmt); \
	ASSERT_EQ(0, w.state) TH_LOG("%s wrote state", #stmt);	\
} while (0)

	WAIT_REJECTED(ENOENT, w.job_id = done + 1000000);
	WAIT_REJECTED(EINVAL, w.flags = 1);
	WAIT_REJECTED(EINVAL, w.__pad = 1);
	for (i = 0; i < 2; i++)
		WAIT_REJECTED(EINVAL, w.reserved[i] = 1);
	ASSERT_EQ(-EFAULT, nm_ioctl(e->fd, NUMAMIG_IOC_WAIT, NULL));
	ASSERT_EQ(-EFAULT, nm_ioctl(e->fd, NUMAMIG_IOC_WAIT,
				    straddle(self->guard, sizeof(w))));

	/* timeout 0 on a running job: ETIMEDOUT at once, state written */
	memset(&w, 0, sizeof(w));
	w.job_id = id;
	w.state = 0;
	t0 = nm_now_ns();
	ASSERT_EQ(-ETIMEDOUT, nm_ioctl(e->fd, NUMAMIG_IOC_WAIT, &w));
	ASSERT_EQ(NUMAMIG_STATE_RUNNING, w.state);
	ASSERT_LT(nm_now_ns() - t0, 1000000000ULL) TH_LOG("timeout 0 blocked");

	/* a real timeout waits that long */
	w.timeout_ms = 300;
	t0 = nm_now_ns();
	ASSERT_EQ(-ETIMEDOUT, nm_ioctl(e->fd, NUMAMIG_IOC_WAIT, &w));
	ms = (nm_now_ns() - t0) / 1000000;
	ASSERT_EQ(NUMAMIG_STATE_RUNNING, w.state);
	ASSERT_GE(ms, 290);
	ASSERT_LT(ms, 3000);

	/* finished job: 0 without blocking, whatever the timeout */
	memset(&w, 0, sizeof(w));
	w.job_id = done;
	ASSERT_EQ(0, nm_ioctl(e->fd, NUMAMIG_IOC_WAIT, &w));
	ASSERT_EQ(NUMAMIG_STATE_DONE, w.state);
	memset(&w, 0, sizeof(w));
	w.job_id = done;
	w.timeout_ms = ~0ULL;
	ASSERT_EQ(0, nm_ioctl(e->fd, NUMAMIG_IOC_WAIT, &w));
	ASSERT_EQ(NUMAMIG_STATE_DONE, w.state);
	ASSERT_EQ(0, nm_cancel(e->fd, id));
}

static void on_usr1(int sig)
{
	(void)sig;
}

struct intr_waiter {
	int fd;
	__u64 id;
	int ret;
	atomic_bool done;
};

static void *intr_wait_fn(void *arg)
{
	struct intr_waiter *w = arg;

	w->ret = nm_wait(w->fd, w->id, ~0ULL, NULL);
	atomic_store(&w->done, true);
	return NULL;
}

/* A user relies on: a signal interrupts WAIT with EINTR, so a waiting tool can be stopped. */
TEST_F_TIMEOUT(uapi, wait_interrupted, NM_TEST_TIMEOUT)
{
	struct nm_env *e = &self->env;
	struct sigaction sa = { .sa_handler = on_usr1 };	/* no SA_RESTART */
	struct intr_waiter w = { 0 };
	__u64 id = slow_job(_metadata, e, &e->t[0]);
	pthread_t thread;
	int i;

	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	w.fd = e->fd;
	w.id = id;
	ASSERT_EQ(0, pthread_create(&thread, NULL, intr_wait_fn, &w));
	nm_sleep_ms(200);
	ASSERT_FALSE(atomic_load(&w.done));
	for (i = 0; i < 50 && !atomic_load(&w.done); i++) {
		pthread_kill(thread, SIGUSR1);
		nm_sleep_ms(100);
	}
	if (!atomic_load(&w.done)) {
		nm_cancel(e->fd, id);	/* let the thread go */
		nm_sleep_ms(100);
	}
	ASSERT_TRUE(atomic_load(&w.done)) TH_LOG("WAIT ignores signals");
	pthread_join(thread, NULL);
	ASSERT_EQ(-EINTR, w.ret) TH_LOG("WAIT: %s", strerror(-w.ret));
	ASSERT_EQ(0, nm_cancel(e->fd, id));
}

/* A user relies on: LOCALITY checks its input like MIGRATE. */
TEST_F_TIMEOUT(uapi, locality_rejects_bad_input, NM_TEST_TIMEOUT)
{
	struct nm_env *e = &self->env;
	struct nm_target_opts o = nm_opts(e, 1 * MiB);
	struct numamig_locality loc;
	pid_t pid;
	int i;

	if (!(e->api.features & NUMAMIG_FEATURE_LOCALITY))
		SKIP(return, "no NUMAMIG_FEATURE_LOCALITY");
	nm_target_start(_metadata, &e->t[0], &o);

#define LOCALITY_REJECTED(err, stmt) do {				\
	memset(&loc, 0, sizeof(loc));					\
	loc.pid = e->t[0].pid;						\
	stmt;								\
	ASSERT_EQ(-(err), nm_ioctl(e->fd, NUMAMIG_IOC_LOCALITY, &loc)) TH_LOG("%s", #stmt); \
	ASSERT_EQ(0, loc.nr_nodes) TH_LOG("%s wrote nr_nodes", #stmt);	\
} while (0)

	LOCALITY_REJECTED(EINVAL, loc.pid = 0);
	LOCALITY_REJECTED(EINVAL, loc.pid = -1);
	LOCALITY_REJECTED(ESRCH, loc.pid = nm_unused_pid());
	pid = nm_kthread();
	ASSERT_GT(pid, 0);
	LOCALITY_REJECTED(ESRCH, loc.pid = pid);
	pid = nm_zombie();
	ASSERT_GT(pid, 0);
	LOCALITY_REJECTED(ESRCH, loc.pid = pid);
	waitpid(pid, NULL, 0);
	LOCALITY_REJECTED(EINVAL, loc.flags = NUMAMIG_LOCALITY_FLAGS_ALL + 1);
	LOCALITY_REJECTED(EINVAL, loc.flags = 1ULL << 63);
	LOCALITY_REJECTED(EINVAL, loc.__pad = 1);
	LOCALITY_REJECTED(EINVAL, loc.__pad2 = 1);
	for (i = 0; i < 4; i++)
		LOCALITY_REJECTED(EINVAL, loc.reserved[i] = 1);
	ASSERT_EQ(-EFAULT, nm_ioctl(e->fd, NUMAMIG_IOC_LOCALITY, NULL));
	ASSERT_EQ(-EFAULT, nm_ioctl(e->fd, NUMAMIG_IOC_LOCALITY,
				    straddle(self->guard, sizeof(loc))));

	/* the good request */
	memset(&loc, 0, sizeof(loc));
	loc.pid = e->t[0].pid;
	ASSERT_EQ(0, nm_ioctl(e->fd, NUMAMIG_IOC_LOCALITY, &loc));
	ASSERT_GE(loc.pages[e->src], nm_target_pages(&e->t[0]));
	ASSERT_EQ(0, loc.__pad2);
}

/* A user relies on: unknown commands are ENOTTY, bad pointers EFAULT. */
TEST_F_TIMEOUT(uapi, unknown_command_and_bad_pointers, NM_TEST_TIMEOUT)
{
	struct nm_env *e = &self->env;
	struct termios tio;
	__u64 word = 0;
	int fd;

	ASSERT_EQ(-ENOTTY, nm_ioctl(e->fd, _IO(NUMAMIG_IOC_MAGIC, _NUMAMIG_HUGE + 1),
				    NULL));
	ASSERT_EQ(-ENOTTY, nm_ioctl(e->fd, _IOWR(NUMAMIG_IOC_MAGIC, _NUMAMIG_HUGE + 1,
						 struct numamig_api), &word));
	ASSERT_EQ(-ENOTTY, nm_ioctl(e->fd, _IOWR(NUMAMIG_IOC_MAGIC, 0xff, __u64), &word));
	/* a known number with another size or direction is another command */
	ASSERT_EQ(-ENOTTY, nm_ioctl(e->fd, _IOWR(NUMAMIG_IOC_MAGIC, _NUMAMIG_STATUS,
						 __u64), &word));
	ASSERT_EQ(-ENOTTY, nm_ioctl(e->fd, _IOR(NUMAMIG_IOC_MAGIC, _NUMAMIG_CANCEL,
						struct numamig_job_ref), &word));
	ASSERT_EQ(-ENOTTY, nm_ioctl(e->fd, TCGETS, &tio));

	/* the handshake itself */
	fd = open(NUMAMIG_DEVICE, O_RDWR);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(-EFAULT, nm_ioctl(fd, NUMAMIG_IOC_API, NULL));
	ASSERT_EQ(-EFAULT, nm_ioctl(fd, NUMAMIG_IOC_API,
				    straddle(self->guard, sizeof(struct numamig_api))));
	ASSERT_EQ(-EPROTO, nm_ioctl(fd, NUMAMIG_IOC_CANCEL,
				    &(struct numamig_job_ref){ .job_id = 1 }));
	close(fd);
	/* the other commands' bad pointers are in their own tests */
}

/* A user relies on: a struct filled in by an earlier call can be sent again as it is. */
TEST_F_TIMEOUT(uapi, out_fields_ignored_on_input, NM_TEST_TIMEOUT)
{
	struct nm_env *e = &self->env;
	struct nm_target *t = &e->t[0];
	struct nm_target_opts o = nm_opts(e, 1 * MiB);
	struct numamig_job_status st;
	struct numamig_migrate m;
	struct numamig_locality loc;
	struct numamig_list l;
	struct numamig_wait w;
	__u64 first, ids[NUMAMIG_MAX_JOBS];

	nm_target_start(_metadata, t, &o);
	m = nm_job(t->pid, e->dst, NUMAMIG_POLICY_EAGER, 0, 0);
	first = nm_start(_metadata, e->fd, &m);
	ASSERT_EQ(first, m.job_id);

	/* WAIT again with state DONE from the first call */
	memset(&w, 0, sizeof(w));
	w.job_id = first;
	w.timeout_ms = NM_WAIT_MS;
	ASSERT_EQ(0, nm_ioctl(e->fd, NUMAMIG_IOC_WAIT, &w));
	ASSERT_EQ(NUMAMIG_STATE_DONE, w.state);
	EXPECT_EQ(0, nm_ioctl(e->fd, NUMAMIG_IOC_WAIT, &w))
		TH_LOG("WAIT refuses its own answer in state");

	/* STATUS again, every out field set */
	memset(&st, 0, sizeof(st));
	st.job_id = first;
	ASSERT_EQ(0, nm_ioctl(e->fd, NUMAMIG_IOC_STATUS, &st));
	memset(&st.state, 0xa5, sizeof(st) - offsetof(struct numamig_job_status, state));
	memset(st.reserved, 0, sizeof(st.reserved));
	EXPECT_EQ(0, nm_ioctl(e->fd, NUMAMIG_IOC_STATUS, &st))
		TH_LOG("STATUS refuses a reused struct");

	/* LIST: ask for the count, then the ids with the same struct */
	memset(&l, 0, sizeof(l));
	ASSERT_EQ(0, nm_ioctl(e->fd, NUMAMIG_IOC_LIST, &l));
	ASSERT_GE(l.count, 1);
	l.ids_ptr = (uintptr_t)ids;
	l.capacity = NUMAMIG_MAX_JOBS;
	EXPECT_EQ(0, nm_ioctl(e->fd, NUMAMIG_IOC_LIST, &l))
		TH_LOG("LIST refuses the count it wrote itself");

	/* LOCALITY again, counts from the first call in place */
	if (e->api.features & NUMAMIG_FEATURE_LOCALITY) {
		memset(&loc, 0, sizeof(loc));
		loc.pid = t->pid;
		ASSERT_EQ(0, nm_ioctl(e->fd, NUMAMIG_IOC_LOCALITY, &loc));
		EXPECT_EQ(0, nm_ioctl(e->fd, NUMAMIG_IOC_LOCALITY, &loc))
			TH_LOG("LOCALITY refuses a reused struct");
	}

	/* MIGRATE again with the first job's id in job_id */
	EXPECT_EQ(0, nm_ioctl(e->fd, NUMAMIG_IOC_MIGRATE, &m))
		TH_LOG("MIGRATE refuses a reused request (job_id %llu)",
		       (unsigned long long)m.job_id);
	EXPECT_NE(first, m.job_id);
	if (m.job_id != first)
		nm_wait(e->fd, m.job_id, NM_WAIT_MS, NULL);
}

/* A user relies on: MAX_JOBS jobs can run, one more is EBUSY; the oldest finished go first. */
TEST_F_TIMEOUT(uapi, job_table_limits, 2 * NM_TEST_TIMEOUT)
{
	struct nm_env *e = &self->env;
	struct nm_target *t = &e->t[0];
	struct nm_target_opts o = nm_opts(e, 4 * MiB);
	struct numamig_job_status st;
	struct numamig_migrate m;
	const unsigned int max = NUMAMIG_MAX_JOBS;
	__u64 *ids, first, last;
	unsigned int i;
	__u32 state;

	ids = calloc(max + 1, sizeof(*ids));
	ASSERT_NE(NULL, ids);
	nm_balancing(_metadata, e, 0);
	nm_target_start(_metadata, t, &o);

	/* MAX_JOBS running: each queues 1024 pages, moves one, sleeps 60 s */
	for (i = 0; i < max; i++) {
		m = nm_job(t->pid, e->dst, NUMAMIG_POLICY_PERIODICAL, 1,
			   NUMAMIG_MAX_SLEEP);
		ASSERT_EQ(0, nm_ioctl(e->fd, NUMAMIG_IOC_MIGRATE, &m))
			TH_LOG("job %u of %u: %s", i + 1, max, strerror(errno));
		ids[i] = m.job_id;
	}
	ASSERT_EQ(max, nm_list_count(_metadata, e->fd));
	for (i = 0; i < max; i++) {
		nm_status(_metadata, e->fd, ids[i], &st);
		ASSERT_EQ(NUMAMIG_STATE_RUNNING, st.state)
			TH_LOG("job %u: %s", i, nm_status_str(&st));
	}
	m = nm_job(t->pid, e->dst, NUMAMIG_POLICY_PERIODICAL, 1, NUMAMIG_MAX_SLEEP);
	ASSERT_EQ(-EBUSY, nm_ioctl(e->fd, NUMAMIG_IOC_MIGRATE, &m));
	ASSERT_EQ(0, m.job_id);
	ASSERT_EQ(max, nm_list_count(_metadata, e->fd));

	for (i = 0; i < max; i++)
		ASSERT_EQ(0, nm_cancel(e->fd, ids[i]));
	for (i = 0; i < max; i++) {
		ASSERT_EQ(0, nm_wait(e->fd, ids[i], 10000, &state)) TH_LOG("job %u", i);
		ASSERT_EQ(NUMAMIG_STATE_CANCELLED, state);
	}

	/* MAX_JOBS finished jobs held; each new one pushes the oldest out */
	first = ids[0];
	m = nm_job(t->pid, e->dst, NUMAMIG_POLICY_EAGER, 0, 0);
	last = nm_start(_metadata, e->fd, &m);
	nm_wait_end(_metadata, e->fd, last, NM_WAIT_MS, &st);
	memset(&st, 0, sizeof(st));
	st.job_id = first;
	ASSERT_EQ(-ENOENT, nm_ioctl(e->fd, NUMAMIG_IOC_STATUS, &st))
		TH_LOG("oldest finished job still held after %u newer", max);
	nm_status(_metadata, e->fd, ids[1], &st);
	ASSERT_EQ(NUMAMIG_STATE_CANCELLED, st.state);
	ASSERT_EQ(max, nm_list_count(_metadata, e->fd));
	free(ids);
}

TEST_HARNESS_MAIN
