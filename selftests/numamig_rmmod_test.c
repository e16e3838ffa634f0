// SPDX-License-Identifier: GPL-2.0
/*
 * numamig selftests: unloading the module under a running job.  Reloads
 * the module from $NUMAMIG_KO, so it runs last and only where that is set.
 */
#include "kselftest_harness.h"
#include "numamig_helpers.h"

#include <sys/syscall.h>

#define MODULE_NAME	"numamig"
#define SYS_MODULE	"/sys/module/" MODULE_NAME

static int delete_module(const char *name)
{
	return syscall(SYS_delete_module, name, O_NONBLOCK) ? -errno : 0;
}

static int load_module(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	return ret;
}

FIXTURE(rmmod)
{
	struct nm_env env;
	const char *ko;
};

FIXTURE_SETUP(rmmod)
{
	self->ko = getenv("NUMAMIG_KO");
	if (!self->ko || !*self->ko)
		NM_SETUP_SKIP("NUMAMIG_KO not set: no module to reload");
	nm_setup(_metadata, &self->env);
}

FIXTURE_TEARDOWN(rmmod)
{
	nm_teardown(&self->env);
	/* leave the module loaded whatever happened */
	if (access(SYS_MODULE, F_OK))
		load_module(self->ko);
}

/* A user relies on: rmmod is refused while the fd is open, else stops jobs; reload works. */
TEST_F_TIMEOUT(rmmod, unload_during_job, NM_TEST_TIMEOUT)
{
	struct nm_env *e = &self->env;
	struct nm_target *t = &e->t[0];
	struct nm_target_opts o = nm_opts(e, 16 * MiB);
	struct numamig_job_status st;
	struct numamig_migrate m;
	struct nm_place pl, pl2;
	size_t npages;
	uint64_t t0;
	__u64 id;
	int ret, i;

	nm_balancing(_metadata, e, 0);
	nm_target_start(_metadata, t, &o);
	npages = nm_target_pages(t);
	/* 64 batches a second apart */
	m = nm_job(t->pid, e->dst, NUMAMIG_POLICY_PERIODICAL, 64, 1000);
	id = nm_start(_metadata, e->fd, &m);
	nm_wait_batches(_metadata, e->fd, id, 1, 20000, &st);

	/* our open file holds the module */
	ASSERT_EQ(-EWOULDBLOCK, delete_module(MODULE_NAME));
	nm_status(_metadata, e->fd, id, &st);
	ASSERT_EQ(NUMAMIG_STATE_RUNNING, st.state) TH_LOG("%s", nm_status_str(&st));

	close(e->fd);
	e->fd = -1;
	t0 = nm_now_ns();
	ret = delete_module(MODULE_NAME);
	ASSERT_EQ(0, ret) TH_LOG("delete_module with a running job: %s", strerror(-ret));
	ASSERT_LT(nm_now_ns() - t0, 10000000000ULL) TH_LOG("rmmod took over 10 s");
	ASSERT_NE(0, access(SYS_MODULE, F_OK));

	/* the job's thread is gone: nothing moves any more */
	ASSERT_EQ(0, nm_place(t->pid, t->info.buf, npages, 1, &pl));
	nm_sleep_ms(1500);
	ASSERT_EQ(0, nm_place(t->pid, t->info.buf, npages, 1, &pl2));
	ASSERT_EQ(pl.on[e->dst], pl2.on[e->dst]) TH_LOG("pages still moving after rmmod");
	ASSERT_GT(pl.on[e->dst], 0);
	ASSERT_LT(pl.on[e->dst], npages);
	ASSERT_EQ(npages, pl.on[e->src] + pl.on[e->dst]);
	ASSERT_EQ(0, kill(t->pid, 0));
	nm_target_verify(_metadata, t);

	ret = load_module(self->ko);
	ASSERT_EQ(0, ret) TH_LOG("finit_module(%s): %s", self->ko, strerror(-ret));
	for (i = 0; i < 500 && access(NUMAMIG_DEVICE, F_OK); i++)
		nm_sleep_ms(10);
	ret = nm_open_dev(&e->fd, &e->api);
	ASSERT_EQ(0, ret) TH_LOG("after reload: %s", strerror(-ret));
	ASSERT_EQ(0, nm_list_count(_metadata, e->fd)) TH_LOG("jobs survived rmmod");

	/* and it works */
	m = nm_job(t->pid, e->dst, NUMAMIG_POLICY_EAGER, 0, 0);
	id = nm_start(_metadata, e->fd, &m);
	nm_wait_end(_metadata, e->fd, id, NM_WAIT_MS, &st);
	nm_assert_done(_metadata, &st, npages - pl.on[e->dst]);
	nm_assert_on_node(t->pid, t->info.buf, npages, e->dst, 100);
	nm_target_verify(_metadata, t);
}

TEST_HARNESS_MAIN
