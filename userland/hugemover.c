// SPDX-License-Identifier: GPL-2.0
/*
 * The mover of a KEEP_HUGE job.  The module's engine cannot move a
 * transparent huge page whole (migrate_vma_*() splits it, and the paths
 * that do not are not exported), but move_pages(2) can.  So each job
 * started with NUMAMIG_MIGRATE_KEEP_HUGE gets one detached process that
 * takes the large folios the job hands over, in the job's hot-first
 * order and at its pace (NUMAMIG_IOC_HUGE), and moves them with
 * move_pages(2), with the rights of the user who started the job.
 *
 * The mover ends when the job does.  If it dies, the job notices (its
 * file closes) and splits the rest as it would without the flag.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <numa.h>
#include <numaif.h>

#include "hugemover.h"

bool huge_keep_request(const struct nmctl_dev *dev, struct numamig_migrate *m,
		       bool split)
{
	if (split || !(dev->api.features & NUMAMIG_FEATURE_KEEP_HUGE))
		return false;
	m->flags |= NUMAMIG_MIGRATE_KEEP_HUGE;
	return true;
}

/* One hand-off: move every folio to @node; status as the module wants. */
static void mover_move(pid_t pid, const __u64 *addrs, __s32 *status,
		       unsigned int n, int node, int flags)
{
	void *pages[NUMAMIG_HUGE_BATCH] = { NULL };
	int nodes[NUMAMIG_HUGE_BATCH] = { 0 };
	int st[NUMAMIG_HUGE_BATCH] = { 0 };

	for (unsigned int i = 0; i < n; i++) {
		pages[i] = (void *)(uintptr_t)addrs[i];
		nodes[i] = node;
		st[i] = -EAGAIN;
	}
	if (numa_move_pages(pid, n, pages, nodes, st, flags) < 0) {
		int err = errno;

		for (unsigned int i = 0; i < n; i++)
			st[i] = -err;
	}
	for (unsigned int i = 0; i < n; i++)
		status[i] = st[i];
	/*
	 * A folio the target was writing may have been busy for all of the
	 * kernel's retries: try those once more before the job splits them.
	 */
	for (unsigned int i = 0; i < n; i++) {
		if (status[i] != -EBUSY && status[i] != -EAGAIN)
			continue;
		if (!numa_move_pages(pid, 1, &pages[i], &nodes[i], &st[i], flags))
			status[i] = st[i];
	}
}

/* The mover's whole life; never returns. */
static void __attribute__((noreturn)) mover_run(const struct numamig_migrate *m)
{
	static __u64 addrs[NUMAMIG_HUGE_BATCH];
	static __s32 status[NUMAMIG_HUGE_BATCH];
	int flags = (m->flags & NUMAMIG_MIGRATE_MOVE_SHARED) ?
		    MPOL_MF_MOVE_ALL : MPOL_MF_MOVE;
	struct numamig_huge h;
	struct nmctl_dev dev;

	if (nmctl_open_quiet(&dev, NUMAMIG_FEATURE_KEEP_HUGE) < 0)
		_exit(1);
	memset(&h, 0, sizeof(h));
	h.job_id = m->job_id;
	h.addrs_ptr = (uintptr_t)addrs;
	h.status_ptr = (uintptr_t)status;
	h.capacity = NUMAMIG_HUGE_BATCH;
	for (;;) {
		if (ioctl(dev.fd, NUMAMIG_IOC_HUGE, &h)) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		if (!h.count || h.count > NUMAMIG_HUGE_BATCH)
			_exit(0);
		mover_move(m->pid, addrs, status, h.count, (int)m->dst_node,
			   flags);
		h.flags = NUMAMIG_HUGE_RESULT;	/* h.count stays */
	}
}

/*
 * Detach: own session, no terminal, stdio on /dev/null, and none of the
 * caller's files (a move helper's lock must not live on in the mover).
 */
static void mover_detach(void)
{
	int fd;

	for (fd = STDERR_FILENO + 1; fd < 1024; fd++)
		close(fd);
	setsid();
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
}

int huge_mover_start(const struct numamig_migrate *m)
{
	pid_t child, w;
	int status;

	if (!(m->flags & NUMAMIG_MIGRATE_KEEP_HUGE))
		return 0;
	fflush(NULL);
	child = fork();
	if (child < 0)
		return -errno;
	if (!child) {
		/* Fork again, so the mover is nobody's child to reap. */
		pid_t mover = fork();

		if (mover < 0)
			_exit(1);
		if (mover)
			_exit(0);
		mover_detach();
		mover_run(m);
	}
	do
		w = waitpid(child, &status, 0);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return -errno;
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -ECHILD;
}
