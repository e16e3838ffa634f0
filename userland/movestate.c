// SPDX-License-Identifier: GPL-2.0
/* numamigctl: the state files of container moves (see movestate.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "movestate.h"

#define STATE_DIR	"/run/numamig/moves"

const char *move_dir(void)
{
	const char *d = getenv("NUMAMIGCTL_STATE_DIR");

	return d && *d ? d : STATE_DIR;
}

int move_parse_id(const char *s, unsigned int *id)
{
	unsigned long long v;

	if (s[0] != 'm' || parse_u64(s + 1, 1, 0x7fffffff, &v) < 0)
		return -1;
	*id = (unsigned int)v;
	return 0;
}

bool move_is_id(const char *s)
{
	unsigned int id;

	return move_parse_id(s, &id) == 0;
}

static int mkdirs(const char *path)
{
	char buf[PATH_MAX];

	if ((size_t)snprintf(buf, sizeof(buf), "%s", path) >= sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int state_path(char *buf, size_t len, unsigned int id, const char *suffix)
{
	if ((size_t)snprintf(buf, len, "%s/m%u%s", move_dir(), id, suffix) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* The counter file "next", under an flock of its own. */
int move_new_id(unsigned int *id)
{
	char path[PATH_MAX], buf[32];
	unsigned long long v = 1;
	ssize_t r;
	int fd, ret = 0;

	ret = mkdirs(move_dir());
	if (ret < 0)
		return ret;
	if ((size_t)snprintf(path, sizeof(path), "%s/next", move_dir()) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX) < 0) {
		ret = -errno;
		goto out;
	}
	r = pread(fd, buf, sizeof(buf) - 1, 0);
	if (r > 0) {
		buf[r] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		if (parse_u64(buf, 1, 0x7ffffffe, &v) < 0)
			v = 1;
	}
	*id = (unsigned int)v;
	r = snprintf(buf, sizeof(buf), "%llu\n", v + 1);
	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)r, 0) != r)
		ret = -errno;
out:
	close(fd);
	return ret;
}

const char *move_result_name(enum move_result r)
{
	switch (r) {
	case MOVE_RUNNING:
		return "running";
	case MOVE_DONE:
		return "done";
	case MOVE_FAILED:
		return "failed";
	case MOVE_CANCELLED:
		return "cancelled";
	}
	return "unknown";
}

static int result_from_name(const char *s)
{
	for (int r = MOVE_RUNNING; r <= MOVE_CANCELLED; r++)
		if (!strcmp(s, move_result_name(r)))
			return r;
	return -1;
}

/*
 * The file is "key value" lines; strings run to the end of the line (no
 * newline can be in them: paths with one are refused before a move).
 */
int move_save(const struct move_state *m)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	const struct numamig_migrate *q = &m->req;
	FILE *f;
	int ret;

	ret = state_path(path, sizeof(path), m->id, "");
	if (ret < 0)
		return ret;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	fprintf(f, "id %u\nphase %d\nresult %s\nreason %s\ncgroup %s\n"
		"container %s\nv2 %d\nhas_cpuset %d\nold_cpus %s\nold_mems %s\n"
		"old_memory_migrate %d\nnew_cpus %s\nwide_mems %s\nto %u\n",
		m->id, m->phase, move_result_name(m->result), m->reason,
		m->cgroup, m->container, m->cs.v2, m->cs.has_cpuset,
		m->old_cpus, m->old_mems, m->old_memory_migrate, m->new_cpus,
		m->wide_mems, m->to);
	fprintf(f, "policy %u\nbatch %u\nsleep %u\ncpu %u\nreq_flags %llu\n",
		q->policy, q->batch_pages, q->sleep_ms, q->cpu_pct,
		(unsigned long long)q->flags);
	for (int w = 0; w < NUMAMIG_NODE_WORDS; w++)
		fprintf(f, "src %d %llu\n", w, (unsigned long long)q->src_nodes[w]);
	fprintf(f, "helper %d\nrounds %u\nstarted %lld\nended %lld\n",
		m->helper, m->rounds, m->started, m->ended);
	for (size_t i = 0; i < m->nr_jobs; i++)
		fprintf(f, "job %llu %d %d\n", (unsigned long long)m->jobs[i].job,
			m->jobs[i].pid, m->jobs[i].dropped);
	for (size_t i = 0; i < m->nr_covered; i++)
		fprintf(f, "covered %d\n", m->covered[i]);
	if (ferror(f)) {
		fclose(f);
		unlink(tmp);
		return -EIO;
	}
	if (fclose(f) != 0) {
		ret = -errno;
		unlink(tmp);
		return ret;
	}
	/* Readers see the old or the new file, never half of one. */
	if (rename(tmp, path) < 0) {
		ret = -errno;
		unlink(tmp);
		return ret;
	}
	return 0;
}

static void copy_str(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src);
}

static int load_line(struct move_state *m, const char *key, char *val)
{
	struct numamig_migrate *q = &m->req;
	unsigned long long a, b;
	int c, r;

	if (!strcmp(key, "job")) {
		if (sscanf(val, "%llu %llu %d", &a, &b, &c) != 3)
			return -EINVAL;
		r = move_add_job(m, a, (pid_t)b);
		if (r == 0)
			m->jobs[m->nr_jobs - 1].dropped = c;
		return r;
	}
	if (!strcmp(key, "covered"))
		return move_add_covered(m, (pid_t)atoi(val));
	if (!strcmp(key, "src")) {
		if (sscanf(val, "%llu %llu", &a, &b) != 2 || a >= NUMAMIG_NODE_WORDS)
			return -EINVAL;
		q->src_nodes[a] = b;
		return 0;
	}
	if (!strcmp(key, "result")) {
		r = result_from_name(val);
		if (r < 0)
			return -EINVAL;
		m->result = r;
		return 0;
	}
#define STR(k, field) if (!strcmp(key, k)) { copy_str(field, sizeof(field), val); return 0; }
#define NUM(k, field) if (!strcmp(key, k)) { field = strtoll(val, NULL, 10); return 0; }
	STR("reason", m->reason)
	STR("cgroup", m->cgroup)
	STR("container", m->container)
	STR("old_cpus", m->old_cpus)
	STR("old_mems", m->old_mems)
	STR("new_cpus", m->new_cpus)
	STR("wide_mems", m->wide_mems)
	NUM("id", m->id)
	NUM("phase", m->phase)
	NUM("v2", m->cs.v2)
	NUM("has_cpuset", m->cs.has_cpuset)
	NUM("old_memory_migrate", m->old_memory_migrate)
	NUM("to", m->to)
	NUM("policy", q->policy)
	NUM("batch", q->batch_pages)
	NUM("sleep", q->sleep_ms)
	NUM("cpu", q->cpu_pct)
	NUM("req_flags", q->flags)
	NUM("helper", m->helper)
	NUM("rounds", m->rounds)
	NUM("started", m->started)
	NUM("ended", m->ended)
#undef STR
#undef NUM
	return 0;	/* a key from a newer numamigctl: ignore it */
}

int move_load(unsigned int id, struct move_state *m)
{
	char path[PATH_MAX], *line = NULL;
	size_t len = 0;
	ssize_t got;
	int ret;
	FILE *f;

	memset(m, 0, sizeof(*m));
	ret = state_path(path, sizeof(path), id, "");
	if (ret < 0)
		return ret;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while ((got = getline(&line, &len, f)) > 0) {
		char *sp;

		line[strcspn(line, "\n")] = '\0';
		sp = strchr(line, ' ');
		if (!sp)
			continue;
		*sp = '\0';
		ret = load_line(m, line, sp + 1);
		if (ret < 0)
			break;
	}
	free(line);
	fclose(f);
	if (ret == 0 && m->id != id)
		ret = -EINVAL;
	if (ret < 0)
		move_free(m);
	return ret;
}

void move_free(struct move_state *m)
{
	free(m->jobs);
	free(m->covered);
	m->jobs = NULL;
	m->covered = NULL;
	m->nr_jobs = 0;
	m->nr_covered = 0;
}

static int cmp_uint(const void *a, const void *b)
{
	unsigned int x = *(const unsigned int *)a, y = *(const unsigned int *)b;

	return x < y ? -1 : x > y;
}

int move_ids(unsigned int **ids, size_t *n)
{
	size_t cap = 0;
	struct dirent *de;
	DIR *d;

	*ids = NULL;
	*n = 0;
	d = opendir(move_dir());
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		unsigned int id;

		if (move_parse_id(de->d_name, &id) < 0)
			continue;
		if (*n == cap) {
			unsigned int *nv;

			cap = cap ? cap * 2 : 16;
			nv = realloc(*ids, cap * sizeof(*nv));
			if (!nv) {
				closedir(d);
				free(*ids);
				*ids = NULL;
				return -ENOMEM;
			}
			*ids = nv;
		}
		(*ids)[(*n)++] = id;
	}
	closedir(d);
	if (*n)
		qsort(*ids, *n, sizeof(**ids), cmp_uint);
	return 0;
}

int move_lock(unsigned int id, bool wait)
{
	char path[PATH_MAX];
	int fd, ret;

	ret = state_path(path, sizeof(path), id, ".lock");
	if (ret < 0)
		return ret;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
		ret = -errno;
		if (ret == -EINTR && wait)
			continue;
		close(fd);
		return ret == -EAGAIN ? -EWOULDBLOCK : ret;
	}
	return fd;
}

int move_request_cancel(unsigned int id)
{
	char path[PATH_MAX];
	int fd, ret;

	ret = state_path(path, sizeof(path), id, ".cancel");
	if (ret < 0)
		return ret;
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

bool move_cancel_requested(unsigned int id)
{
	char path[PATH_MAX];

	if (state_path(path, sizeof(path), id, ".cancel") < 0)
		return false;
	return access(path, F_OK) == 0;
}

int move_add_job(struct move_state *m, __u64 job, pid_t pid)
{
	struct move_job *nj = realloc(m->jobs, (m->nr_jobs + 1) * sizeof(*nj));

	if (!nj)
		return -ENOMEM;
	m->jobs = nj;
	nj[m->nr_jobs].job = job;
	nj[m->nr_jobs].pid = pid;
	nj[m->nr_jobs].dropped = false;
	m->nr_jobs++;
	return 0;
}

int move_add_covered(struct move_state *m, pid_t pid)
{
	pid_t *nc = realloc(m->covered, (m->nr_covered + 1) * sizeof(*nc));

	if (!nc)
		return -ENOMEM;
	m->covered = nc;
	nc[m->nr_covered++] = pid;
	return 0;
}

static void move_unlink(unsigned int id)
{
	static const char *const suffixes[] = { "", ".lock", ".cancel" };
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
		if (state_path(path, sizeof(path), id, suffixes[i]) == 0)
			unlink(path);
}

void move_prune(size_t keep)
{
	unsigned int *ids;
	size_t n, ended = 0;

	if (move_ids(&ids, &n) < 0)
		return;
	/* Newest first: the ids grow. */
	for (size_t i = n; i-- > 0;) {
		struct move_state m;
		int fd;

		if (move_load(ids[i], &m) < 0)
			continue;
		if (m.result != MOVE_RUNNING && ++ended > keep) {
			/* Under its lock: nobody is resuming or waiting on it. */
			fd = move_lock(ids[i], false);
			if (fd >= 0) {
				move_unlink(ids[i]);
				close(fd);
			}
		}
		move_free(&m);
	}
	free(ids);
}

void movestate_sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}
