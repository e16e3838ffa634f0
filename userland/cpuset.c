// SPDX-License-Identifier: GPL-2.0
/*
 * numamigctl: a cgroup's cpuset files.  "move" changes them in the order
 * that avoids the kernel's eager migration (move.c); this file only knows
 * how to read, write and combine them, on both cgroup versions.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include <numa.h>

#include "cgroup.h"
#include "cpuset.h"

#define LIST_BITS	8192	/* CPUs or nodes: more than any machine has */
#define CGROUP_DEPTH	32	/* deeper trees are not walked */

int cg_read(const char *dir, const char *name, char *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t r;
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = read(fd, buf, len - 1);
	if (r < 0) {
		r = -errno;
		close(fd);
		return (int)r;
	}
	close(fd);
	buf[r] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

int cg_write(const char *dir, const char *name, const char *val)
{
	char path[PATH_MAX], line[CPUSET_LIST_MAX + 2];
	size_t n;
	ssize_t r;
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return -ENAMETOOLONG;
	/* An empty v2 list is written as "\n": "inherit from the parent". */
	n = (size_t)snprintf(line, sizeof(line), "%s\n", val);
	if (n >= sizeof(line))
		return -E2BIG;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = write(fd, line, n);
	if (r < 0) {
		r = -errno;
		close(fd);
		return (int)r;
	}
	if (close(fd) < 0)
		return -errno;
	return (size_t)r == n ? 0 : -EIO;
}

static bool file_exists(const char *dir, const char *name)
{
	char path[PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return false;
	return access(path, F_OK) == 0;
}

int cpuset_probe(const char *dir, struct cpuset *cs)
{
	char parent[PATH_MAX];
	struct statfs sfs;
	struct stat sb;

	memset(cs, 0, sizeof(*cs));
	if (stat(dir, &sb) < 0)
		return -errno;
	if (!S_ISDIR(sb.st_mode))
		return -ENOTDIR;
	if (statfs(dir, &sfs) < 0)
		return -errno;
	if (sfs.f_type != CGROUP2_SUPER_MAGIC && sfs.f_type != CGROUP_SUPER_MAGIC)
		return -EINVAL;
	if (!file_exists(dir, "cgroup.procs"))
		return -EINVAL;
	cs->v2 = sfs.f_type == CGROUP2_SUPER_MAGIC;
	cs->has_cpuset = file_exists(dir, "cpuset.mems");
	/* The root's parent is another file system (or none). */
	if ((size_t)snprintf(parent, sizeof(parent), "%s/..", dir) >= sizeof(parent))
		return -ENAMETOOLONG;
	cs->is_root = statfs(parent, &sfs) < 0 ||
		      (sfs.f_type != CGROUP2_SUPER_MAGIC &&
		       sfs.f_type != CGROUP_SUPER_MAGIC) ||
		      !file_exists(parent, "cgroup.procs");
	return 0;
}

int cpuset_parent_allows(const char *dir, const struct cpuset *cs,
			 const char *what, char *buf, size_t len)
{
	char parent[PATH_MAX], name[64];

	if ((size_t)snprintf(parent, sizeof(parent), "%s/..", dir) >= sizeof(parent))
		return -ENAMETOOLONG;
	snprintf(name, sizeof(name), "cpuset.%s%s", what,
		 cs->v2 ? ".effective" : "");
	return cg_read(parent, name, buf, len);
}

int cpuset_effective(const char *dir, const struct cpuset *cs,
		     const char *what, char *buf, size_t len)
{
	char name[64];

	snprintf(name, sizeof(name), "cpuset.%s%s", what,
		 cs->v2 ? ".effective" : "");
	return cg_read(dir, name, buf, len);
}

static struct bitmask *list_parse(const char *s)
{
	struct bitmask *b = numa_bitmask_alloc(LIST_BITS);
	char *copy, *tok, *save = NULL;

	copy = strdup(s);
	if (!b || !copy) {
		free(copy);
		if (b)
			numa_bitmask_free(b);
		return NULL;
	}
	/* Not numa_parse_*string(): those clip to this task's cpuset. */
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		unsigned long lo, hi;
		char *end;

		lo = strtoul(tok, &end, 10);
		hi = lo;
		if (*end == '-')
			hi = strtoul(end + 1, &end, 10);
		if (*end || end == tok || hi < lo || hi >= LIST_BITS) {
			numa_bitmask_free(b);
			free(copy);
			return NULL;
		}
		for (unsigned long i = lo; i <= hi; i++)
			numa_bitmask_setbit(b, (unsigned int)i);
	}
	free(copy);
	return b;
}

static void list_format(const struct bitmask *b, char *out, size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	for (unsigned int i = 0; i < LIST_BITS; i++) {
		unsigned int j = i;

		if (!numa_bitmask_isbitset(b, i))
			continue;
		while (j + 1 < LIST_BITS && numa_bitmask_isbitset(b, j + 1))
			j++;
		if (used < len)
			used += (size_t)snprintf(out + used, len - used, "%s%u",
						 used ? "," : "", i);
		if (j > i && used < len)
			used += (size_t)snprintf(out + used, len - used, "-%u", j);
		i = j;
	}
}

static int list_combine(const char *a, const char *b, bool and,
			char *out, size_t len)
{
	struct bitmask *x = list_parse(a), *y = list_parse(b);
	int ret = -EINVAL;

	if (x && y) {
		for (unsigned int i = 0; i < LIST_BITS; i++) {
			bool in = and ? numa_bitmask_isbitset(x, i) && numa_bitmask_isbitset(y, i) :
					numa_bitmask_isbitset(x, i) || numa_bitmask_isbitset(y, i);

			if (in)
				numa_bitmask_setbit(x, i);
			else
				numa_bitmask_clearbit(x, i);
		}
		list_format(x, out, len);
		ret = 0;
	}
	if (x)
		numa_bitmask_free(x);
	if (y)
		numa_bitmask_free(y);
	return ret;
}

int list_and(const char *a, const char *b, char *out, size_t len)
{
	return list_combine(a, b, true, out, len);
}

int list_or(const char *a, const char *b, char *out, size_t len)
{
	return list_combine(a, b, false, out, len);
}

bool list_has(const char *list, unsigned int bit)
{
	struct bitmask *b = list_parse(list);
	bool has = b && bit < LIST_BITS && numa_bitmask_isbitset(b, bit);

	if (b)
		numa_bitmask_free(b);
	return has;
}

int node_cpulist(unsigned int node, char *out, size_t len)
{
	struct bitmask *cpus = numa_allocate_cpumask();
	struct bitmask *b;

	if (!cpus)
		return -ENOMEM;
	if (numa_node_to_cpus((int)node, cpus) < 0) {
		numa_free_cpumask(cpus);
		return -EINVAL;
	}
	b = numa_bitmask_alloc(LIST_BITS);
	if (!b) {
		numa_free_cpumask(cpus);
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < cpus->size && i < LIST_BITS; i++)
		if (numa_bitmask_isbitset(cpus, i))
			numa_bitmask_setbit(b, i);
	list_format(b, out, len);
	numa_bitmask_free(b);
	numa_free_cpumask(cpus);
	return 0;
}

struct pidvec {
	pid_t *v;
	size_t n, cap;
};

static int pidvec_add_file(struct pidvec *pv, const char *dir)
{
	char path[PATH_MAX];
	pid_t *p;
	size_t n;
	int r;

	if ((size_t)snprintf(path, sizeof(path), "%s/cgroup.procs", dir) >= sizeof(path))
		return -ENAMETOOLONG;
	r = read_pids(path, &p, &n);
	if (r < 0)
		return r;
	if (pv->n + n > pv->cap) {
		size_t cap = (pv->n + n) * 2 + 16;
		pid_t *nv = realloc(pv->v, cap * sizeof(*nv));

		if (!nv) {
			free(p);
			return -ENOMEM;
		}
		pv->v = nv;
		pv->cap = cap;
	}
	for (size_t i = 0; i < n; i++)
		pv->v[pv->n++] = p[i];
	free(p);
	return 0;
}

static int pidvec_walk(struct pidvec *pv, const char *dir, int depth)
{
	struct dirent *de;
	DIR *d;
	int r;

	r = pidvec_add_file(pv, dir);
	if (r < 0 || depth >= CGROUP_DEPTH)
		return r;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		char sub[PATH_MAX];

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name) >= sizeof(sub))
			continue;
		r = pidvec_walk(pv, sub, depth + 1);
		/* A child cgroup removed meanwhile is no error. */
		if (r < 0 && r != -ENOENT && r != -ENODEV)
			break;
		r = 0;
	}
	closedir(d);
	return r;
}

int cgroup_procs(const char *dir, bool recursive, pid_t **pids, size_t *n)
{
	struct pidvec pv = { 0 };
	int r;

	r = recursive ? pidvec_walk(&pv, dir, 0) : pidvec_add_file(&pv, dir);
	if (r < 0) {
		free(pv.v);
		return r;
	}
	*pids = pv.v;
	*n = pv.n;
	return 0;
}
