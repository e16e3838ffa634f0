/* SPDX-License-Identifier: GPL-2.0 */
/* numamigctl: the processes of a cgroup, one per distinct mm. */
#ifndef NMCTL_CGROUP_H
#define NMCTL_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Read the pids listed in @path (a cgroup.procs file), without duplicates,
 * in file order.  *pids is malloc'ed.
 * Return: 0, -errno from reading, or -EINVAL for a line that is not a pid.
 */
int read_pids(const char *path, pid_t **pids, size_t *n);

/*
 * Keep one pid per address space: processes created with CLONE_VM but
 * without CLONE_THREAD share an mm, and one job moves it for all of them.
 * Compares with kcmp(KCMP_VM); when kcmp is unusable (no
 * CONFIG_CHECKPOINT_RESTORE, seccomp, no ptrace access) every pid counts
 * as distinct and *kcmp_ok is set to false.  Compacts @pids in place.
 */
void distinct_mms(pid_t *pids, size_t *n, bool *kcmp_ok);

#endif
