// SPDX-License-Identifier: GPL-2.0
/* numamigctl: the processes of a cgroup, one per distinct mm. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/kcmp.h>

#include "args.h"
#include "cgroup.h"

static bool seen(const pid_t *pids, size_t n, pid_t pid)
{
	for (size_t i = 0; i < n; i++)
		if (pids[i] == pid)
			return true;
	return false;
}

static int add_pid(pid_t **pids, size_t *n, size_t *cap, pid_t pid)
{
	if (seen(*pids, *n, pid))
		return 0;
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		pid_t *np = realloc(*pids, ncap * sizeof(*np));

		if (!np)
			return -ENOMEM;
		*pids = np;
		*cap = ncap;
	}
	(*pids)[(*n)++] = pid;
	return 0;
}

int read_pids(const char *path, pid_t **pids, size_t *n)
{
	size_t cap = 0, len = 0;
	char *line = NULL;
	int ret = 0;
	FILE *f;

	*pids = NULL;
	*n = 0;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	errno = 0;
	while (getline(&line, &len, f) > 0) {
		unsigned long long v;

		line[strcspn(line, "\n")] = '\0';
		if (parse_u64(line, 1, INT_MAX, &v) < 0) {
			ret = -EINVAL;
			break;
		}
		ret = add_pid(pids, n, &cap, (pid_t)v);
		if (ret < 0)
			break;
	}
	if (ret == 0 && ferror(f))
		ret = errno ? -errno : -EIO;
	free(line);
	fclose(f);
	if (ret < 0) {
		free(*pids);
		*pids = NULL;
		*n = 0;
	}
	return ret;
}

/* Return: 1 same mm, 0 different (or cannot tell), -errno if kcmp is unusable. */
static int same_mm(pid_t a, pid_t b)
{
	long r = syscall(SYS_kcmp, a, b, KCMP_VM, 0UL, 0UL);

	if (r == 0)
		return 1;
	if (r > 0)
		return 0;
	/* A pid that exited meanwhile: its MIGRATE will report ESRCH. */
	if (errno == ESRCH)
		return 0;
	return -errno;
}

void distinct_mms(pid_t *pids, size_t *n, bool *kcmp_ok)
{
	bool have_kcmp = true;
	size_t kept = 0;

	*kcmp_ok = true;
	for (size_t i = 0; i < *n; i++) {
		bool dup = false;

		for (size_t k = 0; k < kept && have_kcmp && !dup; k++) {
			int r = same_mm(pids[i], pids[k]);

			/*
			 * Without the syscall nothing can be compared; a pair
			 * we may not inspect (EPERM) just counts as distinct.
			 */
			if (r == -ENOSYS)
				have_kcmp = false;
			if (r < 0)
				*kcmp_ok = false;
			dup = r == 1;
		}
		if (!dup)
			pids[kept++] = pids[i];
	}
	*n = kept;
}
