/* SPDX-License-Identifier: GPL-2.0 */
/* numamigctl: waiting for jobs, with progress, and how they ended. */
#ifndef NMCTL_WATCH_H
#define NMCTL_WATCH_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <linux/numamig.h>

#include "nmctl_ioctl.h"

struct job {
	__u64 id;
	pid_t pid;
	struct numamig_job_status st;
	bool have_st;	/* st holds at least one successful STATUS */
	bool finished;	/* st.state is no longer RUNNING */
	bool lost;	/* STATUS/WAIT failed: the outcome is unknown */
};

/*
 * The exit status a finished job stands for, printing why it is not 0
 * (or the warning for EXITED).  @quiet_cancel: we cancelled it ourselves.
 */
int job_outcome(const struct job *j, bool quiet_cancel);

/* Final status of @jobs on stdout, as text blocks or {"jobs":[...]}. */
void print_statuses(const struct job *jobs, size_t n, bool json);

/*
 * Catch SIGINT from before the first job starts, so that no job outlives
 * an interrupted "migrate --wait"; the previous disposition goes to @old.
 */
void sigint_catch(struct sigaction *old);
bool sigint_caught(void);

/*
 * Wait for @jobs to finish, drawing progress on stderr, then print their
 * final status.  Ctrl-C cancels them.  Restores SIGINT to @old_sa.
 * Return: the exit status.
 */
int wait_jobs(struct nmctl_dev *dev, struct job *jobs, size_t n, bool json,
	      const struct sigaction *old_sa);

#endif
