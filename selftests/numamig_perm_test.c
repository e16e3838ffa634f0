// SPDX-License-Identifier: GPL-2.0
/*
 * numamig selftests: who may use /dev/numamig on which process.  The
 * device is opened by root; a forked child then drops to an unprivileged
 * user and keeps the open file, as a daemon handing out its fd would.
 */
#include "kselftest_harness.h"
#include "numamig_helpers.h"

#define OTHER_USER	(NM_NOBODY - 1)

FIXTURE(perm)
{
	struct nm_env env;
};

FIXTURE_SETUP(perm)
{
	nm_setup(_metadata, &self->env);
}

FIXTURE_TEARDOWN(perm)
{
	nm_teardown(&self->env);
}

/* What the unprivileged child is asked to do and what it saw. */
struct as_user {
	int fd;
	int dst;
	pid_t pid;		/* target */
	__u64 flags;		/* numamig_migrate.flags */
	bool locality;		/* also try NUMAMIG_IOC_LOCALITY */
	bool hotcache;		/* also try NUMAMIG_IOC_HOTCACHE */
	bool wait;		/* wait for the job it started */
	/* results: 0 or -errno */
	int open_err;
	int migrate_err;
	int locality_err;
	int hotcache_err;
	int wait_err;
	__u32 state;
	__u64 job_id;
	uid_t euid;
};

static void as_user_work(struct as_user *u)
{
	struct numamig_migrate m = nm_job(u->pid, u->dst,
					  NUMAMIG_POLICY_PERIODICAL, 0, 10);
	struct numamig_locality loc = { .pid = u->pid };
	static char buf[NUMAMIG_HOTCACHE_MIN_BUF];
	struct numamig_hotcache hc = {
		.pid = u->pid, .buf_ptr = (uintptr_t)buf, .buf_size = sizeof(buf),
	};
	int fd;

	u->euid = geteuid();
	fd = open(NUMAMIG_DEVICE, O_RDWR);
	u->open_err = fd < 0 ? -errno : 0;
	if (fd >= 0)
		close(fd);
	if (!u->pid)
		return;
	m.flags = u->flags;
	u->migrate_err = nm_ioctl(u->fd, NUMAMIG_IOC_MIGRATE, &m);
	u->job_id = m.job_id;
	if (u->locality)
		u->locality_err = nm_ioctl(u->fd, NUMAMIG_IOC_LOCALITY, &loc);
	if (u->hotcache)
		u->hotcache_err = nm_ioctl(u->fd, NUMAMIG_IOC_HOTCACHE, &hc);
	if (u->wait && !u->migrate_err)
		u->wait_err = nm_wait(u->fd, m.job_id, NM_WAIT_MS, &u->state);
}

/* Run as_user_work() in a child that became uid (and gid) with no groups. */
static void run_as(struct __test_metadata *_metadata, uid_t uid,
		   struct as_user *shared)
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		if (setgroups(0, NULL) || setresgid(uid, uid, uid) ||
		    setresuid(uid, uid, uid))
			_exit(2);
		as_user_work(shared);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status)) TH_LOG("could not become uid %u", uid);
	ASSERT_EQ(uid, shared->euid);
}

static struct as_user *as_user_new(struct __test_metadata *_metadata,
				   const struct nm_env *e, pid_t pid)
{
	struct as_user *u = mmap(NULL, sizeof(*u), PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, u);
	u->fd = e->fd;
	u->dst = e->dst;
	u->pid = pid;
	u->locality = e->api.features & NUMAMIG_FEATURE_LOCALITY;
	u->hotcache = e->api.features & NUMAMIG_FEATURE_HOTCACHE;
	return u;
}

/* A user relies on: only root can open /dev/numamig. */
TEST_F_TIMEOUT(perm, nonroot_cannot_open, NM_TEST_TIMEOUT)
{
	struct as_user *u = as_user_new(_metadata, &self->env, 0);
	struct stat st;

	ASSERT_EQ(0, stat(NUMAMIG_DEVICE, &st));
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	ASSERT_EQ(0600, st.st_mode & 07777) TH_LOG("mode %o", st.st_mode & 07777);
	ASSERT_EQ(0, st.st_uid);

	run_as(_metadata, NM_NOBODY, u);
	ASSERT_EQ(-EACCES, u->open_err) TH_LOG("open as uid %u: %s", NM_NOBODY,
					       strerror(-u->open_err));
}

/* A user relies on: the fd alone gives no access to another user's process: EPERM, no job. */
TEST_F_TIMEOUT(perm, cannot_target_other_users, NM_TEST_TIMEOUT)
{
	struct nm_env *e = &self->env;
	struct nm_target_opts o = nm_opts(e, 1 * MiB);
	struct as_user *u;
	__u32 count;
	int i;

	nm_balancing(_metadata, e, 0);
	nm_target_start(_metadata, &e->t[0], &o);	/* root */
	o.uid = OTHER_USER;
	nm_target_start(_metadata, &e->t[1], &o);
	count = nm_list_count(_metadata, e->fd);

	for (i = 0; i < 2; i++) {
		u = as_user_new(_metadata, e, e->t[i].pid);
		run_as(_metadata, NM_NOBODY, u);
		ASSERT_EQ(-EPERM, u->migrate_err)
			TH_LOG("uid %u migrating target %d (uid %u): %s", NM_NOBODY,
			       e->t[i].pid, i ? OTHER_USER : 0,
			       strerror(-u->migrate_err));
		ASSERT_EQ(0, u->job_id);
		if (u->locality)
			ASSERT_EQ(-EPERM, u->locality_err)
				TH_LOG("LOCALITY: %s", strerror(-u->locality_err));
		if (u->hotcache)
			ASSERT_EQ(-EPERM, u->hotcache_err)
				TH_LOG("HOTCACHE: %s", strerror(-u->hotcache_err));
		ASSERT_EQ(count, nm_list_count(_metadata, e->fd));
	}
	nm_sleep_ms(100);
	for (i = 0; i < 2; i++)
		nm_assert_on_node(e->t[i].pid, e->t[i].info.buf,
				  nm_target_pages(&e->t[i]), e->src, 100);
}

/* A user relies on: MOVE_SHARED, which moves other processes' pages, needs CAP_SYS_NICE. */
TEST_F_TIMEOUT(perm, move_shared_needs_cap_sys_nice, NM_TEST_TIMEOUT)
{
	struct nm_env *e = &self->env;
	struct nm_target_opts o = nm_opts(e, 1 * MiB);
	struct as_user *u;
	__u32 count;

	if (!(e->api.features & NUMAMIG_FEATURE_MOVE_SHARED))
		SKIP(return, "no NUMAMIG_FEATURE_MOVE_SHARED");
	o.uid = NM_NOBODY;
	nm_target_start(_metadata, &e->t[0], &o);
	count = nm_list_count(_metadata, e->fd);

	u = as_user_new(_metadata, e, e->t[0].pid);
	u->flags = NUMAMIG_MIGRATE_MOVE_SHARED;
	u->locality = false;
	u->hotcache = false;
	run_as(_metadata, NM_NOBODY, u);
	ASSERT_EQ(-EPERM, u->migrate_err) TH_LOG("%s", strerror(-u->migrate_err));
	ASSERT_EQ(0, u->job_id);
	ASSERT_EQ(count, nm_list_count(_metadata, e->fd));
}

/* A user relies on: an unprivileged user may migrate its own processes. */
TEST_F_TIMEOUT(perm, can_target_own_process, NM_TEST_TIMEOUT)
{
	struct nm_env *e = &self->env;
	struct nm_target_opts o = nm_opts(e, 4 * MiB);
	struct numamig_job_status st;
	struct as_user *u;

	nm_balancing(_metadata, e, 0);
	o.uid = NM_NOBODY;
	nm_target_start(_metadata, &e->t[0], &o);

	u = as_user_new(_metadata, e, e->t[0].pid);
	u->wait = true;
	run_as(_metadata, NM_NOBODY, u);
	ASSERT_EQ(0, u->migrate_err) TH_LOG("MIGRATE own process: %s",
					    strerror(-u->migrate_err));
	if (u->locality)
		ASSERT_EQ(0, u->locality_err) TH_LOG("LOCALITY own process: %s",
						     strerror(-u->locality_err));
	if (u->hotcache)
		ASSERT_EQ(0, u->hotcache_err) TH_LOG("HOTCACHE own process: %s",
						     strerror(-u->hotcache_err));
	ASSERT_EQ(0, u->wait_err) TH_LOG("WAIT: %s", strerror(-u->wait_err));
	ASSERT_EQ(NUMAMIG_STATE_DONE, u->state);

	nm_status(_metadata, e->fd, u->job_id, &st);
	nm_assert_done(_metadata, &st, nm_target_pages(&e->t[0]));
	ASSERT_EQ(e->t[0].pid, st.pid);
	nm_assert_on_node(e->t[0].pid, e->t[0].info.buf, nm_target_pages(&e->t[0]),
			  e->dst, 100);
	nm_target_verify(_metadata, &e->t[0]);
}

TEST_HARNESS_MAIN
