// SPDX-License-Identifier: GPL-2.0
/*
 * A stand-in for the numamig module, for host tests of numamigctl only:
 * an LD_PRELOAD library that answers the numamig ioctls (magic 0xB7) on
 * any file, e.g. NUMAMIGCTL_DEVICE=/dev/null.  It checks the rules of
 * the uAPI header that a caller can break (handshake first, zeroed
 * reserved fields and padding, known flags, ranges) and fails with the
 * documented errno, so the tests catch a tool that breaks them.
 *
 * Each run of numamigctl is a new process, so the state is set up from
 * the environment:
 *   FAKEDEV_JOBS="ID:STATE[:ERRNO],..."  jobs that exist from the start
 *                                        (STATE: running done cancelled
 *                                        failed exited)
 *   FAKEDEV_END=STATE[:ERRNO]   how jobs started by MIGRATE end (default
 *                               done); "never" keeps them running
 *   FAKEDEV_FEATURES=N          feature bits the module has (default all)
 *   FAKEDEV_MIGRATE_ERR=ERRNO   MIGRATE fails with this errno
 *   FAKEDEV_ESRCH_PIDS="P,..."  MIGRATE of these pids fails with ESRCH
 *   FAKEDEV_LOG=FILE            append one line per MIGRATE/SET/CANCEL/
 *                               HOTCACHE call
 * Time is simulated: every WAIT moves running jobs forward one step.
 *
 * HOTCACHE (page-cache dumps) of a pid lists the files of
 *   FAKEDEV_HC_<pid>, else FAKEDEV_HC = "FILE;FILE;..." where FILE is
 *   PATH[=S+N:C,S+N:C...][@FLAGS]: ranges of pages (C: a active,
 *   r referenced, i inactive); without "=", the pages of PATH that are
 *   really cached (mincore), all active.  FLAGS: o open (default), m
 *   mapped, d deleted.  A PATH that does not exist gets a made-up identity
 *   (dev 1, an inode derived from the path).
 * With NUMAMIG_HOTCACHE_FD the caller's file is dumped, its cached pages
 * active.
 *   FAKEDEV_HC_MAXRANGES=N  ranges per record (default 1000): more make
 *                           CONTINUED records
 *   FAKEDEV_HC_PERCALL=N    records per call (default: as many as fit), to
 *                           exercise the cursor
 *   FAKEDEV_HC_BAD=1        write a malformed record
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <linux/numamig.h>

#define MAX_FJOBS 64
#define STEPS 5			/* WAIT steps until a job ends */
#define STEP_NS 200000000ULL	/* simulated time per step */

struct fjob {
	struct numamig_job_status st;
	int step;
	__u32 end_state;
	__s32 end_error;
};

static struct fjob jobs[MAX_FJOBS];
static int njobs;
static bool handshaken, loaded;
static __u64 next_id = 100;

static bool zero(const void *p, size_t len)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < len; i++)
		if (c[i])
			return false;
	return true;
}

static void logf_(const char *fmt, ...)
{
	const char *path = getenv("FAKEDEV_LOG");
	va_list ap;
	FILE *f;

	if (!path || !(f = fopen(path, "a")))
		return;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fclose(f);
}

static int state_of(const char *s)
{
	static const char *const names[] = {
		"running", "done", "cancelled", "failed", "exited",
	};

	for (int i = 0; i < 5; i++)
		if (!strncmp(s, names[i], strlen(names[i])))
			return i;
	return -1;
}

static struct fjob *new_job(__u64 id)
{
	struct fjob *j;

	if (njobs == MAX_FJOBS)
		return NULL;
	j = &jobs[njobs++];
	memset(j, 0, sizeof(*j));
	j->st.job_id = id;
	j->st.pid = 4242;
	j->st.policy = NUMAMIG_POLICY_MILD;
	j->st.batch_pages = NUMAMIG_DEFAULT_BATCH;
	j->st.sleep_ms = NUMAMIG_DEFAULT_SLEEP;
	j->st.pages_remaining = 1000;
	j->end_state = NUMAMIG_STATE_DONE;
	return j;
}

/* Fill a job's counters as if it had run @step steps. */
static void set_progress(struct fjob *j)
{
	__u64 total = 1000;

	j->st.pages_scanned = 1200;
	j->st.pages_referenced = 300;
	j->st.pages_queued = total;
	j->st.pages_migrated = total * (__u64)j->step / STEPS;
	j->st.pages_remaining = total - j->st.pages_migrated;
	j->st.skipped[NUMAMIG_SKIP_FILE] = 150;
	j->st.skipped[NUMAMIG_SKIP_PINNED] = 2;
	j->st.batches = (__u64)j->step;
	j->st.elapsed_ns = STEP_NS * (__u64)j->step;
	j->st.cpu_ns = j->st.elapsed_ns / 20;
	j->st.sleep_ns = j->st.elapsed_ns / 2;
	if (j->step > 0)
		j->st.walk_done_ns = STEP_NS / 2;
}

static void load(void)
{
	const char *env = getenv("FAKEDEV_JOBS");
	char *copy, *tok, *save = NULL;

	loaded = true;
	if (!env)
		return;
	copy = strdup(env);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *c1 = strchr(tok, ':');
		struct fjob *j;
		int s;

		if (!c1 || (s = state_of(c1 + 1)) < 0 || !(j = new_job(strtoull(tok, NULL, 10))))
			continue;
		j->st.state = (__u32)s;
		j->step = s == NUMAMIG_STATE_RUNNING ? 2 : STEPS;
		set_progress(j);
		if (strchr(c1 + 1, ':'))
			j->st.error = atoi(strchr(c1 + 1, ':') + 1);
		j->end_state = NUMAMIG_STATE_DONE;
	}
	free(copy);
}

static struct fjob *find(__u64 id)
{
	for (int i = 0; i < njobs; i++)
		if (jobs[i].st.job_id == id)
			return &jobs[i];
	return NULL;
}

static void advance(struct fjob *j)
{
	if (j->st.state != NUMAMIG_STATE_RUNNING || j->end_state == (__u32)-1)
		return;
	j->step++;
	set_progress(j);
	if (j->step >= STEPS) {
		j->st.state = j->end_state;
		j->st.error = j->end_state == NUMAMIG_STATE_FAILED ? j->end_error : 0;
	}
}

static int do_api(struct numamig_api *a)
{
	const char *f = getenv("FAKEDEV_FEATURES");
	__u64 have = f ? strtoull(f, NULL, 0) : NUMAMIG_FEATURES_ALL;

	if (!zero(a->reserved, sizeof(a->reserved)) || a->api == 0 || a->api > NUMAMIG_API)
		return EINVAL;
	if (a->features & ~have) {
		a->features = have;	/* written back even on failure */
		return EINVAL;
	}
	a->api = NUMAMIG_API;
	a->features = have;
	a->ioctls = (1ULL << (_NUMAMIG_HOTCACHE + 1)) - 1;
	a->max_jobs = NUMAMIG_MAX_JOBS;
	handshaken = true;
	return 0;
}

static bool pid_listed(const char *env, int pid)
{
	char buf[32];
	const char *p = env;
	size_t len;

	snprintf(buf, sizeof(buf), "%d", pid);
	len = strlen(buf);
	while (p && *p) {
		if (!strncmp(p, buf, len) && (p[len] == ',' || !p[len]))
			return true;
		p = strchr(p, ',');
		p = p ? p + 1 : NULL;
	}
	return false;
}

static int do_migrate(struct numamig_migrate *m)
{
	const char *err = getenv("FAKEDEV_MIGRATE_ERR");
	const char *end = getenv("FAKEDEV_END");
	struct fjob *j;

	if (m->flags & ~NUMAMIG_MIGRATE_FLAGS_ALL || !zero(m->reserved, sizeof(m->reserved)) ||
	    m->job_id || m->pid <= 0 || m->policy >= NUMAMIG_POLICY_MAX ||
	    m->batch_pages > NUMAMIG_MAX_BATCH || m->sleep_ms > NUMAMIG_MAX_SLEEP ||
	    m->cpu_pct > 100 || m->dst_node >= NUMAMIG_MAX_NODES ||
	    (m->src_nodes[m->dst_node / 64] >> (m->dst_node % 64) & 1))
		return EINVAL;
	if (pid_listed(getenv("FAKEDEV_ESRCH_PIDS"), m->pid))
		return ESRCH;
	if (err)
		return atoi(err);
	j = new_job(next_id++);
	if (!j)
		return EBUSY;
	j->st.pid = m->pid;
	j->st.dst_node = m->dst_node;
	j->st.policy = m->policy;
	j->st.batch_pages = m->batch_pages ? m->batch_pages : NUMAMIG_DEFAULT_BATCH;
	j->st.sleep_ms = m->sleep_ms || (m->flags & NUMAMIG_MIGRATE_SLEEP_SET) ?
			 m->sleep_ms : NUMAMIG_DEFAULT_SLEEP;
	j->st.cpu_pct = m->cpu_pct;
	j->st.group = m->group;
	j->st.migrate_flags = m->flags;
	if (end && !strcmp(end, "never"))
		j->end_state = (__u32)-1;
	else if (end && state_of(end) >= 0)
		j->end_state = (__u32)state_of(end);
	if (end && strchr(end, ':'))
		j->end_error = atoi(strchr(end, ':') + 1);
	m->job_id = j->st.job_id;
	logf_("migrate pid=%d dst=%u policy=%u batch=%u sleep=%u cpu=%u group=%llu src0=%llx flags=%llx",
	      m->pid, m->dst_node, m->policy, m->batch_pages, m->sleep_ms, m->cpu_pct,
	      (unsigned long long)m->group, (unsigned long long)m->src_nodes[0],
	      (unsigned long long)m->flags);
	return 0;
}

static int do_status(struct numamig_job_status *st)
{
	struct fjob *j;

	if (st->flags)
		return EINVAL;
	j = find(st->job_id);
	if (!j)
		return ENOENT;
	*st = j->st;
	return 0;
}

static int do_list(struct numamig_list *l)
{
	__u64 *ids = (__u64 *)(unsigned long)l->ids_ptr;

	if (l->flags || !zero(l->reserved, sizeof(l->reserved)))
		return EINVAL;
	for (int i = 0; i < njobs && (__u32)i < l->capacity; i++)
		ids[i] = jobs[i].st.job_id;
	l->count = (__u32)njobs;
	return 0;
}

static int do_cancel(struct numamig_job_ref *r)
{
	struct fjob *j;

	if (r->flags || !zero(r->reserved, sizeof(r->reserved)))
		return EINVAL;
	j = find(r->job_id);
	if (!j)
		return ENOENT;
	if (j->st.state == NUMAMIG_STATE_RUNNING)
		j->st.state = NUMAMIG_STATE_CANCELLED;
	logf_("cancel job=%llu", (unsigned long long)r->job_id);
	return 0;
}

static int do_set(struct numamig_throttle *t)
{
	struct fjob *j;

	if (!t->flags || t->flags & ~NUMAMIG_THROTTLE_FLAGS_ALL || t->__pad ||
	    !zero(t->reserved, sizeof(t->reserved)) ||
	    (t->flags & NUMAMIG_THROTTLE_BATCH &&
	     (t->batch_pages < 1 || t->batch_pages > NUMAMIG_MAX_BATCH)) ||
	    (t->flags & NUMAMIG_THROTTLE_SLEEP && t->sleep_ms > NUMAMIG_MAX_SLEEP) ||
	    (t->flags & NUMAMIG_THROTTLE_CPU && t->cpu_pct > 100))
		return EINVAL;
	j = find(t->job_id);
	if (!j)
		return ENOENT;
	if (j->st.state != NUMAMIG_STATE_RUNNING)
		return ESRCH;
	if (t->flags & NUMAMIG_THROTTLE_BATCH)
		j->st.batch_pages = t->batch_pages;
	if (t->flags & NUMAMIG_THROTTLE_SLEEP)
		j->st.sleep_ms = t->sleep_ms;
	if (t->flags & NUMAMIG_THROTTLE_CPU)
		j->st.cpu_pct = t->cpu_pct;
	logf_("set job=%llu flags=%llu batch=%u sleep=%u cpu=%u",
	      (unsigned long long)t->job_id, (unsigned long long)t->flags,
	      t->batch_pages, t->sleep_ms, t->cpu_pct);
	return 0;
}

static int do_wait(struct numamig_wait *w)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	struct fjob *j;

	if (w->flags || w->__pad || !zero(w->reserved, sizeof(w->reserved)))
		return EINVAL;
	j = find(w->job_id);
	if (!j)
		return ENOENT;
	for (;;) {
		if (j->st.state != NUMAMIG_STATE_RUNNING) {
			w->state = j->st.state;
			return 0;
		}
		if (w->timeout_ms == 0) {
			w->state = j->st.state;
			return ETIMEDOUT;
		}
		if (nanosleep(&ts, NULL) < 0)
			return EINTR;
		for (int i = 0; i < njobs; i++)
			advance(&jobs[i]);
		if (w->timeout_ms != ~0ULL && j->st.state == NUMAMIG_STATE_RUNNING) {
			w->state = j->st.state;
			return ETIMEDOUT;
		}
	}
}

static int do_locality(struct numamig_locality *l)
{
	if (l->pid <= 0 || l->__pad || l->__pad2 ||
	    l->flags & ~NUMAMIG_LOCALITY_FLAGS_ALL ||
	    !zero(l->reserved, sizeof(l->reserved)))
		return EINVAL;
	if (pid_listed(getenv("FAKEDEV_ESRCH_PIDS"), l->pid))
		return ESRCH;
	l->nr_nodes = 2;
	l->pages[0] = 1000;
	l->pages[1] = 3000;
	l->referenced[0] = 100;
	l->referenced[1] = 50;
	return 0;
}

/* ---- HOTCACHE ------------------------------------------------------- */

#define HC_MAX_FILES 64

struct hc_ffile {
	struct numamig_hc_file h;	/* identity, flags */
	char path[4096];
	struct numamig_hc_range *r;
	size_t nr;
};

static struct hc_ffile hc_files[HC_MAX_FILES];
static size_t hc_nfiles;

static void hc_reset(void)
{
	for (size_t i = 0; i < hc_nfiles; i++)
		free(hc_files[i].r);
	hc_nfiles = 0;
}

static void hc_range(struct hc_ffile *f, __u64 start, __u32 n, __u32 class)
{
	f->r = realloc(f->r, (f->nr + 1) * sizeof(*f->r));
	f->r[f->nr].start = start;
	f->r[f->nr].npages = n;
	f->r[f->nr].class = class;
	f->nr++;
}

/* The pages of @fd that are really cached, as active runs. */
static void hc_mincore(struct hc_ffile *f, int fd, __u64 size)
{
	long ps = sysconf(_SC_PAGESIZE);
	size_t n = (size + ps - 1) / ps, i = 0;
	unsigned char *vec;
	void *m;

	if (!n)
		return;
	m = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	vec = malloc(n);
	if (m != MAP_FAILED && vec && mincore(m, size, vec) == 0) {
		while (i < n) {
			size_t a;

			if (!(vec[i] & 1)) {
				i++;
				continue;
			}
			for (a = i; i < n && (vec[i] & 1); i++)
				;
			hc_range(f, a, (__u32)(i - a), NUMAMIG_CACHE_ACTIVE);
		}
	}
	if (m != MAP_FAILED)
		munmap(m, size);
	free(vec);
}

static void hc_identity(struct hc_ffile *f, const struct stat *st)
{
	f->h.dev = st->st_dev;
	f->h.ino = st->st_ino;
	f->h.size = (__u64)st->st_size;
	f->h.mtime_sec = st->st_mtim.tv_sec;
	f->h.mtime_nsec = (__u32)st->st_mtim.tv_nsec;
}

/* One FILE of FAKEDEV_HC (see the top of this file). */
static void hc_parse_file(char *spec)
{
	char *at = strrchr(spec, '@'), *eq = strchr(spec, '=');
	struct hc_ffile *f;
	struct stat st;

	if (hc_nfiles == HC_MAX_FILES)
		return;
	f = &hc_files[hc_nfiles++];
	memset(f, 0, sizeof(*f));
	f->h.flags = NUMAMIG_HC_OPEN;
	if (at) {
		*at = '\0';
		f->h.flags = 0;
		for (char *c = at + 1; *c; c++)
			f->h.flags |= *c == 'o' ? NUMAMIG_HC_OPEN :
				      *c == 'm' ? NUMAMIG_HC_MAPPED :
				      *c == 'd' ? NUMAMIG_HC_DELETED : 0;
	}
	if (eq)
		*eq = '\0';
	snprintf(f->path, sizeof(f->path), "%s%s", spec,
		 f->h.flags & NUMAMIG_HC_DELETED ? " (deleted)" : "");
	if (stat(spec, &st) == 0) {
		hc_identity(f, &st);
	} else {
		/* Made up, the same for the same path (FNV-1a). */
		f->h.ino = 14695981039346656037ULL;
		for (const char *c = spec; *c; c++)
			f->h.ino = (f->h.ino ^ (unsigned char)*c) * 1099511628211ULL;
		f->h.dev = 1;
		f->h.size = 1 << 20;
		f->h.mtime_sec = 1;
	}
	if (eq) {
		char *tok, *save = NULL;

		for (tok = strtok_r(eq + 1, ",", &save); tok;
		     tok = strtok_r(NULL, ",", &save)) {
			unsigned long long a = 0, n = 0;
			char c = 'a';

			if (sscanf(tok, "%llu+%llu:%c", &a, &n, &c) >= 2)
				hc_range(f, a, (__u32)n, c == 'r' ? NUMAMIG_CACHE_REFERENCED :
					 c == 'i' ? NUMAMIG_CACHE_INACTIVE :
					 NUMAMIG_CACHE_ACTIVE);
		}
	} else {
		int fd = open(spec, O_RDONLY);

		if (fd >= 0) {
			hc_mincore(f, fd, f->h.size);
			close(fd);
		}
	}
}

static void hc_load(__s32 pid)
{
	char name[32], *copy, *tok, *save = NULL;
	const char *env;

	hc_reset();
	snprintf(name, sizeof(name), "FAKEDEV_HC_%d", pid);
	env = getenv(name);
	if (!env)
		env = getenv("FAKEDEV_HC");
	if (!env)
		return;
	copy = strdup(env);
	for (tok = strtok_r(copy, ";", &save); tok; tok = strtok_r(NULL, ";", &save))
		hc_parse_file(tok);
	free(copy);
}

static int hc_load_fd(int fd)
{
	struct hc_ffile *f;
	char link[64];
	struct stat st;
	ssize_t n;

	hc_reset();
	if (fstat(fd, &st) < 0)
		return EBADF;
	if (!S_ISREG(st.st_mode))
		return 0;
	f = &hc_files[hc_nfiles++];
	memset(f, 0, sizeof(*f));
	f->h.flags = NUMAMIG_HC_OPEN;
	hc_identity(f, &st);
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, f->path, sizeof(f->path) - 1);
	if (n < 0)
		n = 0;
	f->path[n] = '\0';
	hc_mincore(f, fd, f->h.size);
	return 0;
}

static unsigned long env_ul(const char *name, unsigned long def)
{
	const char *v = getenv(name);

	return v && *v ? strtoul(v, NULL, 0) : def;
}

static int do_hotcache(struct numamig_hotcache *hc)
{
	unsigned long maxr = env_ul("FAKEDEV_HC_MAXRANGES", 1000);
	unsigned long percall = env_ul("FAKEDEV_HC_PERCALL", ~0UL);
	char *buf = (char *)(unsigned long)hc->buf_ptr;
	__u64 fileno = hc->cursor[0], ri = hc->cursor[1], off = 0;
	__u32 written = 0;
	int err;

	if (hc->flags & ~NUMAMIG_HOTCACHE_FLAGS_ALL ||
	    !zero(hc->reserved, sizeof(hc->reserved)) ||
	    hc->buf_size < NUMAMIG_HOTCACHE_MIN_BUF || !hc->buf_ptr)
		return EINVAL;
	if (hc->flags & NUMAMIG_HOTCACHE_FD) {
		if (hc->pid || hc->fd < 0)
			return EINVAL;
		if (fcntl(hc->fd, F_GETFD) < 0)
			return EBADF;
	} else if (hc->pid <= 0 || hc->fd) {
		return EINVAL;
	}
	if (!(hc->flags & NUMAMIG_HOTCACHE_FD) &&
	    pid_listed(getenv("FAKEDEV_ESRCH_PIDS"), hc->pid))
		return ESRCH;
	logf_("hotcache pid=%d fd=%d flags=%llx cursor=%llu,%llu", hc->pid,
	      hc->fd,
	      (unsigned long long)hc->flags, (unsigned long long)fileno,
	      (unsigned long long)ri);
	if (hc->flags & NUMAMIG_HOTCACHE_FD) {
		err = hc_load_fd(hc->fd);
		if (err)
			return err;
	} else {
		hc_load(hc->pid);
	}
	if (fileno > hc_nfiles || (fileno < hc_nfiles && ri > hc_files[fileno].nr))
		return EINVAL;	/* not a cursor we handed out */
	while (fileno < hc_nfiles && written < percall) {
		struct hc_ffile *f = &hc_files[fileno];
		size_t plen = strlen(f->path) + 1, pal = (plen + 7) & ~7UL;
		size_t left = f->nr - ri, n = left < maxr ? left : maxr, rec;
		struct numamig_hc_file h = f->h;

		if (hc->buf_size - off < sizeof(h) + pal + sizeof(*f->r))
			break;
		if (n > (hc->buf_size - off - sizeof(h) - pal) / sizeof(*f->r))
			n = (hc->buf_size - off - sizeof(h) - pal) / sizeof(*f->r);
		rec = sizeof(h) + pal + n * sizeof(*f->r);
		h.rec_size = (__u32)rec;
		h.path_len = (__u32)plen;
		h.nr_ranges = n;
		for (size_t k = 0; k < n; k++)
			h.pages[f->r[ri + k].class] += f->r[ri + k].npages;
		if (ri + n < f->nr)
			h.flags |= NUMAMIG_HC_CONTINUED;
		if (getenv("FAKEDEV_HC_BAD"))
			h.rec_size += 8;	/* claims more than it holds */
		memcpy(buf + off, &h, sizeof(h));
		memset(buf + off + sizeof(h), 0, pal);
		memcpy(buf + off + sizeof(h), f->path, plen);
		memcpy(buf + off + sizeof(h) + pal, f->r + ri, n * sizeof(*f->r));
		off += rec;
		written++;
		ri += n;
		if (ri == f->nr) {
			fileno++;
			ri = 0;
		}
	}
	hc->cursor[0] = fileno;
	hc->cursor[1] = ri;
	hc->bytes = off;
	hc->nr_files = written;
	hc->done = fileno >= hc_nfiles;
	return 0;
}

static int dispatch(unsigned long cmd, void *arg)
{
	if (!loaded)
		load();
	if (cmd == NUMAMIG_IOC_API)
		return do_api(arg);
	if (!handshaken)
		return EPROTO;
	switch (cmd) {
	case NUMAMIG_IOC_MIGRATE:	return do_migrate(arg);
	case NUMAMIG_IOC_STATUS:	return do_status(arg);
	case NUMAMIG_IOC_LIST:		return do_list(arg);
	case NUMAMIG_IOC_CANCEL:	return do_cancel(arg);
	case NUMAMIG_IOC_SET:		return do_set(arg);
	case NUMAMIG_IOC_WAIT:		return do_wait(arg);
	case NUMAMIG_IOC_LOCALITY:	return do_locality(arg);
	case NUMAMIG_IOC_HOTCACHE:	return do_hotcache(arg);
	default:			return ENOTTY;
	}
}

int ioctl(int fd, unsigned long cmd, ...)
{
	static int (*real)(int, unsigned long, ...);
	void *arg;
	va_list ap;
	int err;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (_IOC_TYPE(cmd) != NUMAMIG_IOC_MAGIC) {
		if (!real)
			real = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
		return real(fd, cmd, arg);
	}
	err = dispatch(cmd, arg);
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}
