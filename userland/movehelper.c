// SPDX-License-Identifier: GPL-2.0
/*
 * numamigctl move, the background part: one detached helper process per
 * move carries it out and is the only writer of its state file.
 *
 * The order of the cgroup writes is the point of "move".  Narrowing
 * cpuset.mems makes the kernel migrate every page at once (cgroup v2
 * always, v1 with cpuset.memory_migrate=1): the eager copy numamig exists
 * to avoid.  So: the CPUs go first (new allocations land on the
 * destination, and NUMA balancing pulls towards it instead of back),
 * cpuset.mems is only widened to old + destination, numamig's jobs move
 * the memory lazily, and only when they are done is cpuset.mems narrowed
 * to the destination - when almost nothing is left for the kernel to copy.
 *
 * Failure, cancel and SIGTERM put the files back as they were.  A helper
 * that dies (SIGKILL, OOM) leaves its lock free; the next numamigctl that
 * looks at moves resumes it (move_recover()).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/kcmp.h>

#include "cpuset.h"
#include "hugemover.h"
#include "movestate.h"
#include "msg.h"
#include "nmctl_ioctl.h"

#define ROUND_MS	200	/* how often the helper looks at the cgroup */

static volatile sig_atomic_t helper_stop;

static void on_term(int sig)
{
	(void)sig;
	helper_stop = 1;
}

static void fail(struct move_state *m, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(struct move_state *m, int err, const char *fmt, ...)
{
	size_t used;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m->reason, sizeof(m->reason), fmt, ap);
	va_end(ap);
	used = strlen(m->reason);
	if (err && used < sizeof(m->reason))
		snprintf(m->reason + used, sizeof(m->reason) - used, ": %s",
			 strerror(err));
	m->result = MOVE_FAILED;
}

static bool cgroup_gone(const struct move_state *m)
{
	char path[PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s/cgroup.procs", m->cgroup);
	return access(path, F_OK) < 0 && errno == ENOENT;
}

/* Apply the move's first two steps, as far as they have not been yet. */
static int move_prepare(struct move_state *m)
{
	int r;

	if (!m->cs.has_cpuset) {
		m->phase = MOVE_MEMS_WIDE;
		return 0;
	}
	if (m->phase < MOVE_CPUS_SET) {
		r = m->new_cpus[0] ? cg_write(m->cgroup, "cpuset.cpus", m->new_cpus) : 0;
		if (r < 0) {
			fail(m, -r, "cannot set %s/cpuset.cpus to %s", m->cgroup, m->new_cpus);
			return r;
		}
		m->phase = MOVE_CPUS_SET;
		move_save(m);
	}
	if (m->phase < MOVE_MEMS_WIDE) {
		/* v1: a mems write must not migrate anything, now or at the end. */
		if (!m->cs.v2 && m->old_memory_migrate > 0) {
			r = cg_write(m->cgroup, "cpuset.memory_migrate", "0");
			if (r < 0) {
				fail(m, -r, "cannot clear %s/cpuset.memory_migrate", m->cgroup);
				return r;
			}
		}
		r = cg_write(m->cgroup, "cpuset.mems", m->wide_mems);
		if (r < 0) {
			fail(m, -r, "cannot widen %s/cpuset.mems to %s", m->cgroup, m->wide_mems);
			return r;
		}
		m->phase = MOVE_MEMS_WIDE;
		move_save(m);
	}
	return 0;
}

/* Undo what move_prepare() did; the cgroup may be gone (then nothing to do). */
static void move_restore(struct move_state *m)
{
	char num[16];

	if (!m->cs.has_cpuset || cgroup_gone(m))
		return;
	if (m->phase >= MOVE_MEMS_WIDE)
		cg_write(m->cgroup, "cpuset.mems", m->old_mems);
	if (m->phase >= MOVE_CPUS_SET && m->new_cpus[0])
		cg_write(m->cgroup, "cpuset.cpus", m->old_cpus);
	if (!m->cs.v2 && m->old_memory_migrate > 0) {
		snprintf(num, sizeof(num), "%d", m->old_memory_migrate);
		cg_write(m->cgroup, "cpuset.memory_migrate", num);
	}
}

static void cancel_jobs(struct move_state *m, struct nmctl_dev *dev)
{
	for (size_t i = 0; i < m->nr_jobs; i++)
		if (!m->jobs[i].dropped)
			nmctl_cancel(dev, m->jobs[i].job);
}

/* The last step: memory only on the destination from now on. */
static int move_narrow(struct move_state *m)
{
	char to[16], num[16];
	int r;

	if (cgroup_gone(m)) {
		fail(m, 0, "cgroup %s was removed", m->cgroup);
		return -ENOENT;
	}
	if (!m->cs.has_cpuset)
		return 0;
	snprintf(to, sizeof(to), "%u", m->to);
	r = cg_write(m->cgroup, "cpuset.mems", to);
	if (r < 0) {
		fail(m, -r, "cannot narrow %s/cpuset.mems to %s", m->cgroup, to);
		return r;
	}
	if (!m->cs.v2 && m->old_memory_migrate > 0) {
		snprintf(num, sizeof(num), "%d", m->old_memory_migrate);
		cg_write(m->cgroup, "cpuset.memory_migrate", num);
	}
	return 0;
}

static bool pid_in(const pid_t *pids, size_t n, pid_t pid)
{
	for (size_t i = 0; i < n; i++)
		if (pids[i] == pid)
			return true;
	return false;
}

static bool tracked(const struct move_state *m, pid_t pid)
{
	for (size_t i = 0; i < m->nr_jobs; i++)
		if (m->jobs[i].pid == pid && !m->jobs[i].dropped)
			return true;
	return pid_in(m->covered, m->nr_covered, pid);
}

/* Does @pid share its mm with a process we already have a job for? */
static bool shares_moved_mm(const struct move_state *m, pid_t pid)
{
	for (size_t i = 0; i < m->nr_jobs; i++) {
		if (m->jobs[i].dropped)
			continue;
		if (syscall(SYS_kcmp, pid, m->jobs[i].pid, KCMP_VM, 0UL, 0UL) == 0)
			return true;
	}
	return false;
}

/* Start a job for every process of the cgroup that has none yet. */
static int start_new_jobs(struct move_state *m, struct nmctl_dev *dev,
			  const pid_t *pids, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct numamig_migrate req = m->req;
		int r;

		if (tracked(m, pids[i]))
			continue;
		if (shares_moved_mm(m, pids[i])) {
			move_add_covered(m, pids[i]);
			continue;
		}
		req.pid = pids[i];
		req.dst_node = m->to;
		req.group = NMCTL_MOVE_GROUP(m->id);
		huge_keep_request(dev, &req, false);
		r = nmctl_migrate(dev, &req);
		/* Gone, a zombie, or not ours to move: not part of the move. */
		if (r == -ESRCH || r == -EPERM) {
			move_add_covered(m, pids[i]);
			continue;
		}
		if (r < 0) {
			fail(m, -r, "cannot start a job for pid %d", pids[i]);
			return r;
		}
		/* Without a mover the job splits huge pages: not fatal. */
		huge_mover_start(&req);
		r = move_add_job(m, req.job_id, pids[i]);
		if (r < 0) {
			nmctl_cancel(dev, req.job_id);
			fail(m, -r, "move state");
			return r;
		}
	}
	return 0;
}

/*
 * Look at every job.  Return: 1 when all have finished, 0 while some
 * run, <0 when one failed (the move fails with it).
 */
static int check_jobs(struct move_state *m, struct nmctl_dev *dev,
		      const pid_t *pids, size_t n)
{
	bool all_done = true;

	for (size_t i = 0; i < m->nr_jobs; i++) {
		struct move_job *j = &m->jobs[i];
		struct numamig_job_status st;
		int r;

		if (j->dropped)
			continue;
		r = nmctl_status(dev, j->job, &st);
		if (r == -ENOENT)	/* pushed out of the registry: long over */
			continue;
		if (r < 0) {
			fail(m, -r, "status of job %llu", (unsigned long long)j->job);
			return r;
		}
		switch (st.state) {
		case NUMAMIG_STATE_RUNNING:
			if (!pid_in(pids, n, j->pid)) {
				/* It left the cgroup: no longer ours to move. */
				nmctl_cancel(dev, j->job);
				j->dropped = true;
				continue;
			}
			all_done = false;
			break;
		case NUMAMIG_STATE_FAILED:
			if (st.error == ENOMEM)
				fail(m, ENOMEM, "node %u is full (job %llu, pid %d)",
				     m->to, (unsigned long long)j->job, j->pid);
			else
				fail(m, st.error > 0 ? st.error : 0,
				     "job %llu (pid %d) failed",
				     (unsigned long long)j->job, j->pid);
			return -EIO;
		case NUMAMIG_STATE_CANCELLED:
			/* rmmod, or someone cancelled the job directly. */
			fail(m, 0, "job %llu (pid %d) was cancelled outside the move",
			     (unsigned long long)j->job, j->pid);
			return -ECANCELED;
		default:	/* DONE, EXITED */
			break;
		}
	}
	return all_done;
}

/* One look at the cgroup.  Return: 1 done, 0 go on, <0 failed. */
static int move_round(struct move_state *m, struct nmctl_dev *dev)
{
	pid_t *pids;
	size_t n;
	int r;

	if (cgroup_gone(m)) {
		fail(m, 0, "cgroup %s was removed", m->cgroup);
		return -ENOENT;
	}
	r = cgroup_procs(m->cgroup, true, &pids, &n);
	if (r < 0) {
		if (cgroup_gone(m)) {
			fail(m, 0, "cgroup %s was removed", m->cgroup);
			return -ENOENT;
		}
		fail(m, -r, "cannot read the processes of %s", m->cgroup);
		return r;
	}
	r = start_new_jobs(m, dev, pids, n);
	if (r == 0)
		r = check_jobs(m, dev, pids, n);
	/* A job started in this round is seen running by check_jobs. */
	free(pids);
	m->rounds++;
	return r;
}

static void move_finish(struct move_state *m, struct nmctl_dev *dev,
			enum move_result result)
{
	if (result != MOVE_DONE) {
		cancel_jobs(m, dev);
		move_restore(m);
	}
	if (m->result == MOVE_RUNNING)
		m->result = result;
	m->ended = time(NULL);
	move_save(m);
}

/* The helper's whole life.  @m is loaded; we hold its lock. */
static void move_run(struct move_state *m)
{
	struct nmctl_dev dev;
	int r;

	if (nmctl_open_quiet(&dev, m->req.cpu_pct ? NUMAMIG_FEATURE_CPU_BUDGET : 0) < 0) {
		fail(m, ENODEV, "cannot open %s", nmctl_device_path());
		dev.fd = -1;
		move_finish(m, &dev, MOVE_FAILED);
		return;
	}
	if (move_cancel_requested(m->id) || helper_stop) {
		move_finish(m, &dev, MOVE_CANCELLED);
		goto out;
	}
	if (move_prepare(m) < 0) {
		move_finish(m, &dev, MOVE_FAILED);
		goto out;
	}
	m->phase = MOVE_MIGRATING;
	for (;;) {
		if (move_cancel_requested(m->id) || helper_stop) {
			move_finish(m, &dev, MOVE_CANCELLED);
			break;
		}
		r = move_round(m, &dev);
		if (r < 0) {
			move_finish(m, &dev, MOVE_FAILED);
			break;
		}
		if (r == 1) {
			if (move_narrow(m) < 0) {
				move_finish(m, &dev, MOVE_FAILED);
				break;
			}
			m->phase = MOVE_NARROWED;
			move_finish(m, &dev, MOVE_DONE);
			break;
		}
		move_save(m);
		movestate_sleep_ms(ROUND_MS);
	}
out:
	nmctl_close(&dev);
}

static void helper_main(struct move_state *m)
{
	struct sigaction sa;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	if (chdir("/") < 0) {
		/* Only keeps a mount busy otherwise. */
	}
	m->helper = getpid();
	move_save(m);
	move_run(m);
}

int move_spawn_helper(struct move_state *m, int lockfd)
{
	pid_t pid, mid;
	int status;

	fflush(NULL);
	mid = fork();
	if (mid < 0) {
		close(lockfd);
		return -errno;
	}
	if (mid == 0) {
		/* A new session, then a grandchild: no terminal, no parent to wait. */
		setsid();
		pid = fork();
		if (pid != 0)
			_exit(pid < 0 ? 1 : 0);
		helper_main(m);
		_exit(0);
	}
	/* The grandchild holds the lock now (same open file description). */
	close(lockfd);
	while (waitpid(mid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ECHILD;
}

void move_recover(void)
{
	unsigned int *ids;
	size_t n;

	if (move_ids(&ids, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		struct move_state m;
		int fd;

		if (move_load(ids[i], &m) < 0)
			continue;
		if (m.result != MOVE_RUNNING) {
			move_free(&m);
			continue;
		}
		fd = move_lock(ids[i], false);
		if (fd < 0) {	/* its helper is alive */
			move_free(&m);
			continue;
		}
		/* Read again under the lock: it may have ended meanwhile. */
		move_free(&m);
		if (move_load(ids[i], &m) == 0 && m.result == MOVE_RUNNING) {
			nm_warn("move m%u: its helper (pid %d) died; resuming it",
				m.id, m.helper);
			move_spawn_helper(&m, fd);
		} else {
			close(fd);
		}
		move_free(&m);
	}
	free(ids);
}
