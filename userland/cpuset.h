/* SPDX-License-Identifier: GPL-2.0 */
/* numamigctl: a cgroup's cpuset files (v1 and v2), read, written, computed. */
#ifndef NMCTL_CPUSET_H
#define NMCTL_CPUSET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Long enough for any cpu or node list the kernel prints. */
#define CPUSET_LIST_MAX	4096

struct cpuset {
	bool v2;		/* on the unified hierarchy */
	bool has_cpuset;	/* the cpuset controller covers this cgroup */
	bool is_root;		/* the hierarchy's root: its files are fixed */
};

/*
 * What kind of cgroup @dir is.
 * Return: 0; -ENOTDIR for a file, -ENOENT, or -EINVAL when @dir is not
 * on a cgroup file system (or has no cgroup.procs).
 */
int cpuset_probe(const char *dir, struct cpuset *cs);

/* Read @dir/@name without its trailing newline.  Return: 0 or -errno. */
int cg_read(const char *dir, const char *name, char *buf, size_t len);
/* Write @val to @dir/@name in one write(2).  Return: 0 or -errno. */
int cg_write(const char *dir, const char *name, const char *val);

/*
 * The list parent(@dir) allows: v2 "cpuset.cpus.effective" or
 * "cpuset.mems.effective" of the parent, v1 the parent's own file.
 * @what is "cpus" or "mems".
 */
int cpuset_parent_allows(const char *dir, const struct cpuset *cs,
			 const char *what, char *buf, size_t len);
/* What @dir uses now: v2 the .effective file, v1 the file itself. */
int cpuset_effective(const char *dir, const struct cpuset *cs,
		     const char *what, char *buf, size_t len);

/*
 * List arithmetic on "0-3,8"-style lists; @out gets the canonical list
 * ("" when empty).  Return: 0, or -EINVAL for a list that does not parse.
 */
int list_and(const char *a, const char *b, char *out, size_t len);
int list_or(const char *a, const char *b, char *out, size_t len);
bool list_has(const char *list, unsigned int bit);

/* The CPUs of NUMA node @node as a list ("" for a memory-only node). */
int node_cpulist(unsigned int node, char *out, size_t len);

/*
 * A cgroup's processes, its descendants' too (for @recursive), one pid
 * each, malloc'ed into *pids.  Return: 0 or -errno.
 */
int cgroup_procs(const char *dir, bool recursive, pid_t **pids, size_t *n);

#endif
