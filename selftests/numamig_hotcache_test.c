// SPDX-License-Identifier: GPL-2.0
/*
 * numamig selftests: NUMAMIG_IOC_HOTCACHE, the page-cache dump.
 *
 * The page-cache tests need a file system with a real page cache (tmpfs
 * and 9p have none that behaves like a disk's): they work in a directory
 * named by $NUMAMIG_EXT4_DIR (ext4 or xfs; guest-check.sh mounts an ext4
 * disk in the test VM) and skip without it.  Every file is written, synced
 * and dropped from the cache with POSIX_FADV_DONTNEED first, and read with
 * POSIX_FADV_RANDOM (no readahead), so a test knows which pages it cached.
 * LRU batches are drained before a dump (see hc_drain_lru()), so the flags
 * the dump reads are the ones the LRU will act on.  The class tests run
 * with the classic LRU and with the multi-gen LRU (FIXTURE_VARIANT).
 *
 * The interface tests (fixture hotcache_api: arguments, rights, targets
 * that exit or live in a mount namespace, large folios) need no block file
 * system and use $TMPDIR.
 *
 * Every dump a test makes is parsed by hc_parse(), which asserts the record
 * format (sizes, path, padding, sorted runs, per-class sums) and joins the
 * records of a file split with NUMAMIG_HC_CONTINUED.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "kselftest_harness.h"
#include "numamig_helpers.h"

#include <ftw.h>
#include <limits.h>
#include <sys/eventfd.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <linux/falloc.h>
#include <linux/magic.h>

#define PG			NM_PAGE_SIZE
#define HC_BIG_BUF		(4 * MiB)	/* one call holds every dump here */
#define HC_MIN_BUF		NUMAMIG_HOTCACHE_MIN_BUF
#define HC_LRU_GEN		"/sys/kernel/mm/lru_gen/enabled"
#define HC_TIMEOUT		60
#define HC_NO_CLASS		0xff		/* in a page map: not cached */
#define HC_MANY_FILES		300

/* -------------------------------------------------------------------------
 * Files
 */

struct hc_span {
	size_t first, n;	/* pages */
};

/* Drop every cached page of fd (written back first); assert none is left. */
static void hc_uncache(struct __test_metadata *_metadata, int fd)
{
	struct stat st;
	unsigned char *vec;
	size_t npages, i, left = 0;
	void *map;
	int tries;

	ASSERT_EQ(0, fstat(fd, &st));
	npages = (st.st_size + PG - 1) / PG;
	ASSERT_EQ(0, fsync(fd)) TH_LOG("fsync: %s", strerror(errno));
	if (!npages)
		return;
	vec = malloc(npages);
	ASSERT_NE(NULL, vec);
	map = mmap(NULL, npages * PG, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map) TH_LOG("mmap: %s", strerror(errno));
	/* Pages still in a per-CPU LRU batch may resist once (fadvise drains). */
	for (tries = 0; tries < 3; tries++) {
		ASSERT_EQ(0, posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED));
		ASSERT_EQ(0, mincore(map, npages * PG, vec));
		for (i = 0, left = 0; i < npages; i++)
			left += vec[i] & 1;
		if (!left)
			break;
	}
	munmap(map, npages * PG);
	free(vec);
	ASSERT_EQ(0, left) TH_LOG("%zu pages stay cached after DONTNEED", left);
}

/*
 * Create dir/name of size bytes: written with data (a byte per page that
 * names the page) when data, else sparse (ftruncate).  Synced and out of
 * the cache.  Returns an O_RDWR fd with POSIX_FADV_RANDOM; path gets the
 * file's path.
 */
static int hc_make_file(struct __test_metadata *_metadata, const char *dir,
			const char *name, off_t size, bool data, char *path)
{
	static char chunk[64 * 1024];
	off_t off;
	size_t n, i;
	int fd;

	snprintf(path, PATH_MAX, "%s/%s", dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ASSERT_GE(fd, 0) TH_LOG("create %s: %s", path, strerror(errno));
	for (off = 0; data && off < size; off += n) {
		n = size - off < (off_t)sizeof(chunk) ? (size_t)(size - off) : sizeof(chunk);
		for (i = 0; i < n; i += PG)
			memset(chunk + i, (int)((off + i) / PG) | 1, PG);
		ASSERT_EQ((ssize_t)n, pwrite(fd, chunk, n, off))
			TH_LOG("write %s: %s", path, strerror(errno));
	}
	ASSERT_EQ(0, ftruncate(fd, size)) TH_LOG("truncate %s: %s", path, strerror(errno));
	if (data)	/* a sparse file has nothing cached (mincore would be slow) */
		hc_uncache(_metadata, fd);
	ASSERT_EQ(0, posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM));
	return fd;
}

/* pread pages [first, first + n) in 64 KiB calls; 0 or -errno. */
static int hc_read_pages(int fd, size_t first, size_t n)
{
	static char buf[64 * 1024];
	size_t off = first * PG, end = (first + n) * PG, len;
	ssize_t got;

	for (; off < end; off += len) {
		len = end - off < sizeof(buf) ? end - off : sizeof(buf);
		got = pread(fd, buf, len, off);
		if (got < 0)
			return -errno;
		if ((size_t)got != len)
			return -EIO;
	}
	return 0;
}

/*
 * Make the LRU state of every cached page visible in its flags.  Pages
 * wait in per-CPU batches (a new page for its LRU, a read-twice page for
 * activation) until 15 gather; until then a classic-LRU page lacks
 * PG_active and a multi-gen page its generation.  move_pages(2) with a
 * node list starts with lru_cache_disable(), which drains every CPU's
 * batches; with no pages it moves nothing.
 */
static void hc_drain_lru(struct __test_metadata *_metadata)
{
	int node = 0;
	long ret = syscall(__NR_move_pages, 0, 0UL, NULL, &node, NULL, 0);

	ASSERT_TRUE(!ret || errno == ENOSYS) TH_LOG("move_pages: %s", strerror(errno));
}

/* Per page of fd: 1 if mincore(2) says it is cached. */
static unsigned char *hc_mincore(struct __test_metadata *_metadata, int fd,
				 size_t npages)
{
	unsigned char *vec = calloc(npages + 1, 1);
	void *map;
	size_t i;

	ASSERT_NE(NULL, vec);
	if (!npages)
		return vec;
	map = mmap(NULL, npages * PG, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map) TH_LOG("mmap: %s", strerror(errno));
	ASSERT_EQ(0, mincore(map, npages * PG, vec)) TH_LOG("mincore: %s", strerror(errno));
	munmap(map, npages * PG);
	for (i = 0; i < npages; i++)
		vec[i] &= 1;
	return vec;
}

static int hc_rm_one(const char *path, const struct stat *st, int type,
		     struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	remove(path);
	return 0;
}

/* -------------------------------------------------------------------------
 * Targets: forked children that set something up, say so, and wait
 */

struct hc_target {
	pid_t pid;
	int cmd;	/* closing it ends the target */
	int resp;	/* the target's setup result */
};

/* Runs in the target; 0 or a positive errno. */
typedef int (*hc_target_fn)(void *arg);

/*
 * Fork a target that runs fn(arg) with no file of the test open (only
 * 0-2 and its two pipes), reports fn's result and then waits until cmd is
 * closed; so the files it holds are exactly what fn opened or mapped.
 */
static int hc_target_spawn(struct __test_metadata *_metadata,
			   struct hc_target *t, hc_target_fn fn, void *arg)
{
	int cmd[2], resp[2], err = 0, ret, fd;
	char c;

	ASSERT_EQ(0, pipe2(cmd, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(resp, O_CLOEXEC));
	fflush(stdout);
	fflush(stderr);
	t->pid = fork();
	ASSERT_GE(t->pid, 0);
	if (!t->pid) {
		for (fd = 3; fd < 1024; fd++)
			if (fd != cmd[0] && fd != resp[1])
				close(fd);
		err = fn(arg);
		if (write(resp[1], &err, sizeof(err)) != sizeof(err))
			_exit(1);
		while (read(cmd[0], &c, 1) > 0)
			;
		_exit(0);
	}
	close(cmd[0]);
	close(resp[1]);
	t->cmd = cmd[1];
	t->resp = resp[0];
	ret = nm_read_full(t->resp, &err, sizeof(err));
	ASSERT_EQ(0, ret) TH_LOG("target %d died in its setup", t->pid);
	return err;
}

static void hc_target_start(struct __test_metadata *_metadata,
			    struct hc_target *t, hc_target_fn fn, void *arg)
{
	int err = hc_target_spawn(_metadata, t, fn, arg);

	ASSERT_EQ(0, err) TH_LOG("target setup: %s", strerror(err));
}

static void hc_target_kill(struct hc_target *t)
{
	if (t->pid <= 0)
		return;
	close(t->cmd);
	close(t->resp);
	kill(t->pid, SIGKILL);
	waitpid(t->pid, NULL, 0);
	t->pid = 0;
}

/* A target that reads spans of a file: hot ones passes times, cold once. */
struct hc_reader {
	const char *path;
	const struct hc_span *hot, *cold;
	size_t nhot, ncold;
	int passes;
};

static int hc_reader_fn(void *arg)
{
	const struct hc_reader *r = arg;
	size_t i;
	int fd, p, ret;

	fd = open(r->path, O_RDONLY);
	if (fd < 0)
		return errno;
	if (posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM))
		return EINVAL;
	for (p = 0; p < r->passes; p++)
		for (i = 0; i < r->nhot; i++)
			if ((ret = hc_read_pages(fd, r->hot[i].first, r->hot[i].n)))
				return -ret;
	for (i = 0; i < r->ncold; i++)
		if ((ret = hc_read_pages(fd, r->cold[i].first, r->cold[i].n)))
			return -ret;
	return 0;	/* fd stays open */
}

/* -------------------------------------------------------------------------
 * Dumps
 */

/* The records of a whole dump, every call's concatenated. */
struct hc_stream {
	char *buf;
	size_t len, cap;
	unsigned int calls, records;
	unsigned int max_records;	/* most records one call returned */
};

/* One file of a dump, its records (a CONTINUED chain) joined. */
struct hc_file {
	struct numamig_hc_file hdr;	/* the first record's, CONTINUED cleared */
	char path[PATH_MAX];
	unsigned int records;
	unsigned int order;		/* place in the dump */
	size_t nr_ranges;
	struct numamig_hc_range *r;
	__u64 pages[NUMAMIG_CACHE_CLASSES];
	__u64 dirty, writeback;
};

struct hc_dump {
	struct hc_file *f;
	size_t n;
};

static void hc_stream_free(struct hc_stream *s)
{
	free(s->buf);
	memset(s, 0, sizeof(*s));
}

static void hc_dump_free(struct hc_dump *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		free(d->f[i].r);
	free(d->f);
	memset(d, 0, sizeof(*d));
}

/* A request for the dump of pid, or of fd with NUMAMIG_HOTCACHE_FD. */
static struct numamig_hotcache hc_req(__u64 flags, pid_t pid, int fd,
				      void *buf, size_t buf_size)
{
	struct numamig_hotcache hc;

	memset(&hc, 0, sizeof(hc));
	hc.flags = flags;
	hc.pid = pid;
	hc.fd = fd;
	hc.buf_ptr = (uintptr_t)buf;
	hc.buf_size = buf_size;
	return hc;
}

/* Count the records of one call's output, checking only their framing. */
static unsigned int hc_count_records(struct __test_metadata *_metadata,
				     const char *buf, size_t bytes)
{
	const struct numamig_hc_file *f;
	unsigned int n = 0;
	size_t off = 0;

	while (off < bytes) {
		ASSERT_LE(off + sizeof(*f), bytes) TH_LOG("record %u cut short", n);
		f = (const void *)(buf + off);
		ASSERT_GE(f->rec_size, sizeof(*f)) TH_LOG("record %u", n);
		ASSERT_EQ(0, f->rec_size % 8) TH_LOG("record %u: rec_size %u", n, f->rec_size);
		ASSERT_LE(off + f->rec_size, bytes) TH_LOG("record %u overruns", n);
		off += f->rec_size;
		n++;
	}
	return n;
}

/*
 * One call; on success checks the answer and appends its records to s.
 * Returns 0 or -errno (the struct as the call left it in *hc).
 */
static int hc_call(struct __test_metadata *_metadata, int dev,
		   struct numamig_hotcache *hc, struct hc_stream *s)
{
	const char *buf = (const char *)(uintptr_t)hc->buf_ptr;
	unsigned int n;
	int ret;

	ret = nm_ioctl(dev, NUMAMIG_IOC_HOTCACHE, hc);
	if (ret)
		return ret;
	s->calls++;
	ASSERT_LE(hc->bytes, hc->buf_size);
	ASSERT_LE(hc->done, 1);
	n = hc_count_records(_metadata, buf, hc->bytes);
	ASSERT_EQ(hc->nr_files, n) TH_LOG("nr_files %u, records %u", hc->nr_files, n);
	ASSERT_TRUE(hc->done || n) TH_LOG("call %u: no record and not done", s->calls);
	if (s->len + hc->bytes > s->cap) {
		s->cap = (s->len + hc->bytes) * 2 + 4096;
		s->buf = realloc(s->buf, s->cap);
		ASSERT_NE(NULL, s->buf);
	}
	memcpy(s->buf + s->len, buf, hc->bytes);
	s->len += hc->bytes;
	s->records += n;
	if (n > s->max_records)
		s->max_records = n;
	return 0;
}

/*
 * A whole dump, buf_size bytes a call, each call starting at the cursor
 * the previous one returned (the other fields as for the first call).
 */
static void hc_dump_stream(struct __test_metadata *_metadata, int dev,
			   __u64 flags, pid_t pid, int fd, size_t buf_size,
			   struct hc_stream *s)
{
	char *buf = malloc(buf_size);
	struct numamig_hotcache hc = hc_req(flags, pid, fd, buf, buf_size);
	__u64 cursor[2] = { 0, 0 };
	int ret;

	ASSERT_NE(NULL, buf);
	memset(s, 0, sizeof(*s));
	for (;;) {
		hc = hc_req(flags, pid, fd, buf, buf_size);
		hc.cursor[0] = cursor[0];
		hc.cursor[1] = cursor[1];
		ret = hc_call(_metadata, dev, &hc, s);
		ASSERT_EQ(0, ret) TH_LOG("HOTCACHE call %u (cursor %llu:%llu): %s",
					 s->calls + 1, (unsigned long long)cursor[0],
					 (unsigned long long)cursor[1], strerror(-ret));
		if (hc.done)
			break;
		/* the cursor moves forward */
		ASSERT_TRUE(hc.cursor[0] > cursor[0] ||
			    (hc.cursor[0] == cursor[0] && hc.cursor[1] > cursor[1]))
			TH_LOG("cursor %llu:%llu after %llu:%llu",
			       (unsigned long long)hc.cursor[0],
			       (unsigned long long)hc.cursor[1],
			       (unsigned long long)cursor[0],
			       (unsigned long long)cursor[1]);
		cursor[0] = hc.cursor[0];
		cursor[1] = hc.cursor[1];
		ASSERT_LT(s->calls, 100000);
	}
	free(buf);
}

static bool hc_zero(const void *p, size_t len)
{
	const unsigned char *c = p;

	while (len--)
		if (*c++)
			return false;
	return true;
}

/*
 * Check every record of a dump and join continued ones into files:
 *  - rec_size is a multiple of 8 and the sum of header, path (NUL
 *    included, zero-padded to 8) and ranges;
 *  - the path is NUL-terminated at path_len - 1 and nowhere before;
 *  - only known flags, reserved zero;
 *  - ranges non-empty, of a known class, in index order, not overlapping,
 *    and runs: two touching ranges differ in class;
 *  - pages[] are the sums of the ranges' npages by class; dirty and
 *    writeback are at most the record's pages;
 *  - a record after a CONTINUED one is the same file (dev, ino, path,
 *    size) and goes on after its last range;
 *  - each file (dev, ino) is in one chain only.
 */
static void hc_parse(struct __test_metadata *_metadata,
		     const struct hc_stream *s, struct hc_dump *d)
{
	const __u32 known = NUMAMIG_HC_OPEN | NUMAMIG_HC_MAPPED |
			    NUMAMIG_HC_DELETED | NUMAMIG_HC_CONTINUED;
	struct hc_file *cur = NULL;
	bool continued = false;
	size_t off = 0, i, j, cap = 0;
	unsigned int rec = 0;

	memset(d, 0, sizeof(*d));
	while (off < s->len) {
		const struct numamig_hc_file *f = (const void *)(s->buf + off);
		const char *path = (const char *)(f + 1);
		const struct numamig_hc_range *r;
		__u64 pages[NUMAMIG_CACHE_CLASSES] = { 0 }, total = 0;
		size_t plen;

		rec++;
		ASSERT_LE(off + sizeof(*f), s->len);
		ASSERT_EQ(0, f->rec_size % 8) TH_LOG("record %u", rec);
		ASSERT_GE(f->path_len, 2) TH_LOG("record %u: path_len %u", rec, f->path_len);
		ASSERT_LE(f->path_len, PATH_MAX) TH_LOG("record %u", rec);
		plen = (f->path_len + 7) & ~7u;
		ASSERT_EQ(f->rec_size, sizeof(*f) + plen + f->nr_ranges * sizeof(*r))
			TH_LOG("record %u: rec_size %u path_len %u nr_ranges %llu", rec,
			       f->rec_size, f->path_len, (unsigned long long)f->nr_ranges);
		ASSERT_LE(off + f->rec_size, s->len) TH_LOG("record %u", rec);
		ASSERT_EQ(0, path[f->path_len - 1]) TH_LOG("record %u: path not NUL-terminated", rec);
		ASSERT_EQ(f->path_len - 1, strlen(path)) TH_LOG("record %u: %s", rec, path);
		ASSERT_TRUE(hc_zero(path + f->path_len, plen - f->path_len))
			TH_LOG("%s: padding after the path not zero", path);
		ASSERT_EQ(0, f->flags & ~known) TH_LOG("%s: flags %#x", path, f->flags);
		ASSERT_TRUE(hc_zero(f->reserved, sizeof(f->reserved))) TH_LOG("%s", path);

		r = (const void *)(path + plen);
		for (i = 0; i < f->nr_ranges; i++) {
			ASSERT_LT(r[i].class, NUMAMIG_CACHE_CLASSES)
				TH_LOG("%s: range %zu class %u", path, i, r[i].class);
			ASSERT_GT(r[i].npages, 0) TH_LOG("%s: range %zu empty", path, i);
			ASSERT_GE(r[i].start + r[i].npages, r[i].start) TH_LOG("%s", path);
			if (i) {
				ASSERT_LE(r[i - 1].start + r[i - 1].npages, r[i].start)
					TH_LOG("%s: range %zu [%llu,+%u) overlaps or precedes [%llu,+%u)",
					       path, i, (unsigned long long)r[i].start, r[i].npages,
					       (unsigned long long)r[i - 1].start, r[i - 1].npages);
				ASSERT_FALSE(r[i - 1].start + r[i - 1].npages == r[i].start &&
					     r[i - 1].class == r[i].class)
					TH_LOG("%s: ranges %zu and %zu are one run", path, i - 1, i);
			}
			pages[r[i].class] += r[i].npages;
		}
		for (j = 0; j < NUMAMIG_CACHE_CLASSES; j++) {
			ASSERT_EQ(pages[j], f->pages[j]) TH_LOG("%s: class %zu", path, j);
			total += pages[j];
		}
		ASSERT_LE(f->dirty, total) TH_LOG("%s", path);
		ASSERT_LE(f->writeback, total) TH_LOG("%s", path);

		if (continued) {
			/* the same file goes on */
			ASSERT_EQ(cur->hdr.dev, f->dev) TH_LOG("%s", path);
			ASSERT_EQ(cur->hdr.ino, f->ino) TH_LOG("%s", path);
			ASSERT_EQ(cur->hdr.size, f->size) TH_LOG("%s", path);
			ASSERT_EQ(cur->hdr.flags, f->flags & ~NUMAMIG_HC_CONTINUED);
			ASSERT_STREQ(cur->path, path);
			if (cur->nr_ranges && f->nr_ranges)
				ASSERT_LE(cur->r[cur->nr_ranges - 1].start +
					  cur->r[cur->nr_ranges - 1].npages, r[0].start)
					TH_LOG("%s: continued record goes back", path);
		} else {
			for (i = 0; i < d->n; i++)
				ASSERT_FALSE(d->f[i].hdr.dev == f->dev && d->f[i].hdr.ino == f->ino)
					TH_LOG("%s listed twice (also as %s)", path, d->f[i].path);
			if (d->n == cap) {
				cap = cap * 2 + 16;
				d->f = realloc(d->f, cap * sizeof(*d->f));
				ASSERT_NE(NULL, d->f);
			}
			cur = &d->f[d->n];
			memset(cur, 0, sizeof(*cur));
			cur->hdr = *f;
			cur->hdr.flags &= ~NUMAMIG_HC_CONTINUED;
			cur->order = d->n++;
			snprintf(cur->path, sizeof(cur->path), "%s", path);
		}
		cur->records++;
		if (f->nr_ranges) {
			cur->r = realloc(cur->r, (cur->nr_ranges + f->nr_ranges) * sizeof(*r));
			ASSERT_NE(NULL, cur->r);
			memcpy(cur->r + cur->nr_ranges, r, f->nr_ranges * sizeof(*r));
			cur->nr_ranges += f->nr_ranges;
		}
		for (j = 0; j < NUMAMIG_CACHE_CLASSES; j++)
			cur->pages[j] += f->pages[j];
		cur->dirty += f->dirty;
		cur->writeback += f->writeback;
		continued = f->flags & NUMAMIG_HC_CONTINUED;
		off += f->rec_size;
	}
	ASSERT_EQ(s->records, rec);
	ASSERT_FALSE(continued) TH_LOG("the last record says more follows");
}

/* Dump and parse in one go. */
static void hc_dump(struct __test_metadata *_metadata, int dev, __u64 flags,
		    pid_t pid, int fd, size_t buf_size, struct hc_dump *d)
{
	struct hc_stream s;

	hc_dump_stream(_metadata, dev, flags, pid, fd, buf_size, &s);
	hc_parse(_metadata, &s, d);
	hc_stream_free(&s);
}

static struct hc_file *hc_find(const struct hc_dump *d, int fd)
{
	struct stat st;
	size_t i;

	if (fstat(fd, &st))
		return NULL;
	for (i = 0; i < d->n; i++)
		if (d->f[i].hdr.dev == (__u64)st.st_dev &&
		    d->f[i].hdr.ino == (__u64)st.st_ino)
			return &d->f[i];
	return NULL;
}

/* The file of fd in d, which must be there once. */
#define hc_get(d, fd) ({						\
	struct hc_file *__f = hc_find(d, fd);				\
	ASSERT_NE(NULL, __f) TH_LOG("fd %d not in the dump (%zu files)", \
				    (int)(fd), (d)->n);			\
	__f;								\
})

static __u64 hc_cached(const struct hc_file *f)
{
	return f->pages[0] + f->pages[1] + f->pages[2];
}

/*
 * Page map of a dumped file: class per page, HC_NO_CLASS when in no range.
 * Every range must lie within npages.
 */
static unsigned char *hc_map(struct __test_metadata *_metadata,
			     const struct hc_file *f, size_t npages)
{
	unsigned char *map = malloc(npages + 1);
	size_t i;
	__u64 k;

	ASSERT_NE(NULL, map);
	memset(map, HC_NO_CLASS, npages + 1);
	for (i = 0; i < f->nr_ranges; i++) {
		ASSERT_LE(f->r[i].start + f->r[i].npages, npages)
			TH_LOG("%s: range [%llu,+%u) past page %zu", f->path,
			       (unsigned long long)f->r[i].start, f->r[i].npages, npages);
		for (k = f->r[i].start; k < f->r[i].start + f->r[i].npages; k++)
			map[k] = f->r[i].class;
	}
	return map;
}

/* Assert the file's cached pages are exactly what mincore(2) says. */
static void hc_assert_mincore(struct __test_metadata *_metadata,
			      const struct hc_file *f, int fd, size_t npages)
{
	unsigned char *map = hc_map(_metadata, f, npages);
	unsigned char *vec = hc_mincore(_metadata, fd, npages);
	size_t i;

	for (i = 0; i < npages; i++)
		ASSERT_EQ(vec[i], map[i] != HC_NO_CLASS)
			TH_LOG("%s page %zu: mincore %s, dump %s", f->path, i,
			       vec[i] ? "cached" : "not cached",
			       map[i] != HC_NO_CLASS ? "cached" : "not listed");
	free(map);
	free(vec);
}

/* Assert the identity a record gives for fd: dev, ino, size, mtime, path. */
static void hc_assert_identity(struct __test_metadata *_metadata,
			       const struct hc_file *f, int fd, const char *path)
{
	struct stat st;

	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_EQ((__u64)st.st_dev, f->hdr.dev);
	ASSERT_EQ((__u64)st.st_ino, f->hdr.ino);
	ASSERT_EQ((__u64)st.st_size, f->hdr.size) TH_LOG("%s", path);
	ASSERT_EQ(st.st_mtim.tv_sec, f->hdr.mtime_sec) TH_LOG("%s", path);
	ASSERT_EQ((__u32)st.st_mtim.tv_nsec, f->hdr.mtime_nsec) TH_LOG("%s", path);
	ASSERT_STREQ(path, f->path);
}

/* -------------------------------------------------------------------------
 * The page-cache fixture: a directory on a block file system, one LRU mode
 */

FIXTURE(hotcache)
{
	int dev;			/* /dev/numamig, handshake done */
	char dir[PATH_MAX];		/* this test's directory */
	char lru_gen[32];		/* lru_gen/enabled to restore, "" = none */
	struct hc_target t[2];
};

FIXTURE_VARIANT(hotcache)
{
	bool mglru;
};

FIXTURE_VARIANT_ADD(hotcache, classic_lru)
{
	.mglru = false,
};

FIXTURE_VARIANT_ADD(hotcache, multigen_lru)
{
	.mglru = true,
};

static int hc_read_str(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

/* Switch the multi-gen LRU on or off (its core bit), saving the old value. */
static void hc_set_lru(struct __test_metadata *_metadata, char *saved,
		       bool mglru)
{
	char now[32] = "";
	unsigned long caps;
	int ret;

	if (access(HC_LRU_GEN, F_OK))
		return;		/* no multi-gen LRU: classic it is */
	ret = hc_read_str(HC_LRU_GEN, saved, 32);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", HC_LRU_GEN, strerror(-ret));
	ret = nm_write_str(HC_LRU_GEN, mglru ? "1" : "0");
	if (ret)
		saved[0] = 0;
	ASSERT_EQ(0, ret) TH_LOG("write %s: %s", HC_LRU_GEN, strerror(-ret));
	hc_read_str(HC_LRU_GEN, now, sizeof(now));
	caps = strtoul(now, NULL, 0);
	if (!!(caps & 1) != mglru) {
		nm_write_str(HC_LRU_GEN, saved);
		saved[0] = 0;
	}
	ASSERT_EQ(mglru, !!(caps & 1)) TH_LOG("%s reads %s", HC_LRU_GEN, now);
}

/* Open /dev/numamig with the handshake, or skip. */
static void hc_open_dev(struct __test_metadata *_metadata, int *dev)
{
	struct numamig_api api = { 0 };
	int ret;

	*dev = -1;
	if (access(NUMAMIG_DEVICE, F_OK))
		NM_SETUP_SKIP("%s absent: numamig not loaded", NUMAMIG_DEVICE);
	ret = nm_open_dev(dev, &api);
	if (ret == -EACCES || ret == -EPERM)
		NM_SETUP_SKIP("%s: %s (run as root)", NUMAMIG_DEVICE, strerror(-ret));
	ASSERT_EQ(0, ret) TH_LOG("open + NUMAMIG_IOC_API: %s", strerror(-ret));
	if (!(api.features & NUMAMIG_FEATURE_HOTCACHE))
		NM_SETUP_SKIP("no NUMAMIG_FEATURE_HOTCACHE");
}

FIXTURE_SETUP(hotcache)
{
	const char *base = getenv("NUMAMIG_EXT4_DIR");
	struct statfs sfs;

	signal(SIGPIPE, SIG_IGN);
	hc_open_dev(_metadata, &self->dev);
	if (!base || !*base)
		NM_SETUP_SKIP("NUMAMIG_EXT4_DIR is not set: a directory on ext4 or xfs is needed");
	if (statfs(base, &sfs))
		NM_SETUP_SKIP("NUMAMIG_EXT4_DIR %s: %s", base, strerror(errno));
	if (sfs.f_type == TMPFS_MAGIC || sfs.f_type == V9FS_MAGIC ||
	    sfs.f_type == OVERLAYFS_SUPER_MAGIC)
		NM_SETUP_SKIP("NUMAMIG_EXT4_DIR %s is not on a block file system", base);
	if (variant->mglru && access(HC_LRU_GEN, F_OK))
		NM_SETUP_SKIP("no multi-gen LRU (%s)", HC_LRU_GEN);
	snprintf(self->dir, sizeof(self->dir), "%s/numamig-hc.XXXXXX", base);
	ASSERT_NE(NULL, mkdtemp(self->dir)) TH_LOG("mkdtemp in %s: %s", base, strerror(errno));
	hc_set_lru(_metadata, self->lru_gen, variant->mglru);
}

FIXTURE_TEARDOWN(hotcache)
{
	int i;

	for (i = 0; i < 2; i++)
		hc_target_kill(&self->t[i]);
	if (self->lru_gen[0])
		nm_write_str(HC_LRU_GEN, self->lru_gen);
	if (self->dir[0])
		nftw(self->dir, hc_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	if (self->dev >= 0)
		close(self->dev);
}

/* The hot/cold file: spans read 8 times and spans read once. */
#define HC_HC_PAGES	1024
#define HC_PASSES	8
#define HC_SLACK	8	/* readahead pages allowed after a span */

static const struct hc_span hc_hot[] = {
	{ 0, 16 }, { 128, 16 }, { 400, 16 }, { 800, 16 },
};
static const struct hc_span hc_cold[] = {
	{ 64, 16 }, { 256, 16 }, { 600, 16 }, { 1000, 16 },
};

/* 'h' hot page, 'c' cold page, 's' within HC_SLACK after a span, 0 else. */
static char hc_kind(size_t page)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(hc_hot); i++)
		if (page >= hc_hot[i].first && page < hc_hot[i].first + hc_hot[i].n)
			return 'h';
	for (i = 0; i < ARRAY_SIZE(hc_cold); i++)
		if (page >= hc_cold[i].first && page < hc_cold[i].first + hc_cold[i].n)
			return 'c';
	for (i = 0; i < ARRAY_SIZE(hc_hot); i++)
		if (page >= hc_hot[i].first + hc_hot[i].n &&
		    page < hc_hot[i].first + hc_hot[i].n + HC_SLACK)
			return 's';
	for (i = 0; i < ARRAY_SIZE(hc_cold); i++)
		if (page >= hc_cold[i].first + hc_cold[i].n &&
		    page < hc_cold[i].first + hc_cold[i].n + HC_SLACK)
			return 's';
	return 0;
}

/* Write the hot/cold file and start a reader of it in self->t[0]. */
static int hc_start_reader(struct __test_metadata *_metadata,
			   FIXTURE_DATA(hotcache) *self, char *path)
{
	struct hc_reader r = {
		.path = path,
		.hot = hc_hot, .nhot = ARRAY_SIZE(hc_hot),
		.cold = hc_cold, .ncold = ARRAY_SIZE(hc_cold),
		.passes = HC_PASSES,
	};
	int fd;

	fd = hc_make_file(_metadata, self->dir, "hotcold", HC_HC_PAGES * PG, true, path);
	hc_target_start(_metadata, &self->t[0], hc_reader_fn, &r);
	hc_drain_lru(_metadata);
	return fd;
}

/*
 * Hot pages ACTIVE, cold pages cached and not ACTIVE, no other page
 * cached except up to HC_SLACK pages of readahead after a span.
 */
static void hc_assert_hot_cold(struct __test_metadata *_metadata,
			       const struct hc_file *f)
{
	static const char * const names[] = { "active", "referenced", "inactive", "absent" };
	unsigned char *map = hc_map(_metadata, f, HC_HC_PAGES);
	size_t n[3][4] = { { 0 } }, i, k;
	char counts[256];
	int c;

	for (i = 0; i < HC_HC_PAGES; i++) {
		k = hc_kind(i) == 'h' ? 0 : hc_kind(i) == 'c' ? 1 : 2;
		n[k][map[i] == HC_NO_CLASS ? 3 : map[i]]++;
		if (hc_kind(i) == 0)
			ASSERT_EQ(HC_NO_CLASS, map[i]) TH_LOG("page %zu, read by no one, is cached", i);
	}
	for (c = 0, k = 0; k < 3; k++)
		c += snprintf(counts + c, sizeof(counts) - c, "%s: %zu %s %zu %s %zu %s %zu %s; ",
			      k == 0 ? "hot" : k == 1 ? "cold" : "other",
			      n[k][0], names[0], n[k][1], names[1],
			      n[k][2], names[2], n[k][3], names[3]);
	ASSERT_EQ(4 * 16, n[0][NUMAMIG_CACHE_ACTIVE]) TH_LOG("%s", counts);
	ASSERT_EQ(0, n[1][NUMAMIG_CACHE_ACTIVE]) TH_LOG("%s", counts);
	ASSERT_EQ(0, n[1][3]) TH_LOG("%s", counts);
	ASSERT_EQ(0, n[2][NUMAMIG_CACHE_ACTIVE]) TH_LOG("%s", counts);
	free(map);
}

/*
 * A user relies on: pages a process read many times are ACTIVE and pages
 * it read once are cached but not ACTIVE, in the dump of the process and
 * in the dump of an fd of the file.
 */
TEST_F_TIMEOUT(hotcache, repeated_reads_are_active, HC_TIMEOUT)
{
	char path[PATH_MAX];
	struct hc_dump by_pid, by_fd;
	struct hc_file *f, *g;
	unsigned char *m1, *m2;
	int fd;

	fd = hc_start_reader(_metadata, self, path);
	hc_dump(_metadata, self->dev, 0, self->t[0].pid, 0, HC_BIG_BUF, &by_pid);
	hc_dump(_metadata, self->dev, NUMAMIG_HOTCACHE_FD, 0, fd, HC_BIG_BUF, &by_fd);

	f = hc_get(&by_pid, fd);
	hc_assert_identity(_metadata, f, fd, path);
	ASSERT_EQ(NUMAMIG_HC_OPEN, f->hdr.flags);
	hc_assert_hot_cold(_metadata, f);

	ASSERT_EQ(1, by_fd.n);
	g = hc_get(&by_fd, fd);
	hc_assert_identity(_metadata, g, fd, path);
	ASSERT_EQ(NUMAMIG_HC_OPEN, g->hdr.flags);
	m1 = hc_map(_metadata, f, HC_HC_PAGES);
	m2 = hc_map(_metadata, g, HC_HC_PAGES);
	ASSERT_EQ(0, memcmp(m1, m2, HC_HC_PAGES)) TH_LOG("pid and fd dumps differ");
	free(m1);
	free(m2);
	hc_dump_free(&by_pid);
	hc_dump_free(&by_fd);
}

/*
 * A user relies on: dumping does not warm the cache: dumps of a quiescent
 * process are byte-identical, and pages read once stay not ACTIVE however
 * often they are dumped.
 */
TEST_F_TIMEOUT(hotcache, dump_leaves_cache_alone, HC_TIMEOUT)
{
	struct hc_stream warm, a, c, fa, fb;
	char path[PATH_MAX];
	struct hc_dump d;
	pid_t pid;
	int fd;

	fd = hc_start_reader(_metadata, self, path);
	pid = self->t[0].pid;
	/* The first dump runs code that later ones only repeat. */
	hc_dump_stream(_metadata, self->dev, 0, pid, 0, HC_BIG_BUF, &warm);
	hc_dump_stream(_metadata, self->dev, 0, pid, 0, HC_BIG_BUF, &a);
	hc_dump_stream(_metadata, self->dev, NUMAMIG_HOTCACHE_FD, 0, fd, HC_BIG_BUF, &fa);
	hc_drain_lru(_metadata);	/* whatever the dumps queued shows now */
	hc_dump_stream(_metadata, self->dev, 0, pid, 0, HC_BIG_BUF, &c);
	hc_dump_stream(_metadata, self->dev, NUMAMIG_HOTCACHE_FD, 0, fd, HC_BIG_BUF, &fb);

	ASSERT_EQ(a.len, c.len);
	ASSERT_EQ(0, memcmp(a.buf, c.buf, a.len)) TH_LOG("a later dump differs");
	ASSERT_EQ(fa.len, fb.len);
	ASSERT_EQ(0, memcmp(fa.buf, fb.buf, fa.len)) TH_LOG("a later fd dump differs");
	hc_parse(_metadata, &c, &d);
	hc_assert_hot_cold(_metadata, hc_get(&d, fd));
	hc_dump_free(&d);
	hc_stream_free(&warm);
	hc_stream_free(&a);
	hc_stream_free(&c);
	hc_stream_free(&fa);
	hc_stream_free(&fb);
}

/*
 * A user relies on: the ranges of all classes together are exactly the
 * file's resident pages, as mincore(2) reports them, page by page: pages
 * read, faulted in through a mapping (with fault-around) and written.
 */
TEST_F_TIMEOUT(hotcache, ranges_match_mincore, HC_TIMEOUT)
{
	const size_t npages = 2048;
	char path[PATH_MAX], page[PG];
	volatile char *map;
	struct hc_dump d, self_d;
	struct hc_file *f;
	unsigned int x = 12345;
	size_t i, sum = 0;
	int fd;

	fd = hc_make_file(_metadata, self->dir, "mixed", npages * PG, true, path);
	for (i = 0; i < 400; i++) {	/* scattered single pages, some twice */
		x = x * 1103515245 + 12345;
		ASSERT_EQ(0, hc_read_pages(fd, (x >> 8) % 1400, 1));
	}
	ASSERT_EQ(0, hc_read_pages(fd, 1400, 37));
	map = mmap(NULL, npages * PG, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	for (i = 1500; i < 1700; i += 50)	/* faults read around */
		sum += map[i * PG];
	memset(page, 7, sizeof(page));
	for (i = 1900; i < 1910; i++)
		ASSERT_EQ((ssize_t)PG, pwrite(fd, page, PG, i * PG));
	hc_drain_lru(_metadata);

	hc_dump(_metadata, self->dev, NUMAMIG_HOTCACHE_FD, 0, fd, HC_BIG_BUF, &d);
	f = hc_get(&d, fd);
	ASSERT_GT(hc_cached(f), 400 / 2 + 37 + 4 + 10);
	hc_assert_mincore(_metadata, f, fd, npages);

	/* the same through the dump of this process, which maps the file */
	hc_dump(_metadata, self->dev, 0, getpid(), 0, HC_BIG_BUF, &self_d);
	f = hc_get(&self_d, fd);
	ASSERT_EQ(NUMAMIG_HC_OPEN | NUMAMIG_HC_MAPPED, f->hdr.flags);
	hc_assert_mincore(_metadata, f, fd, npages);
	munmap((void *)map, npages * PG);
	hc_dump_free(&d);
	hc_dump_free(&self_d);
	(void)sum;
}

/*
 * A user relies on: dirty pages are counted, and NUMAMIG_HOTCACHE_SYNC
 * writes them back before the dump.
 */
TEST_F_TIMEOUT(hotcache, dirty_pages_and_sync, HC_TIMEOUT)
{
	char path[PATH_MAX], page[PG];
	struct hc_dump d;
	struct hc_file *f;
	size_t i;
	int fd;

	fd = hc_make_file(_metadata, self->dir, "dirty", 64 * PG, true, path);
	memset(page, 3, sizeof(page));
	for (i = 10; i < 20; i++)
		ASSERT_EQ((ssize_t)PG, pwrite(fd, page, PG, i * PG));

	hc_dump(_metadata, self->dev, NUMAMIG_HOTCACHE_FD, 0, fd, HC_BIG_BUF, &d);
	f = hc_get(&d, fd);
	ASSERT_EQ(10, hc_cached(f));
	/* the flusher leaves pages alone for 30 s (dirty_expire_centisecs) */
	ASSERT_EQ(10, f->dirty + f->writeback) TH_LOG("dirty %llu writeback %llu",
		  (unsigned long long)f->dirty, (unsigned long long)f->writeback);
	hc_dump_free(&d);

	hc_dump(_metadata, self->dev, NUMAMIG_HOTCACHE_FD | NUMAMIG_HOTCACHE_SYNC,
		0, fd, HC_BIG_BUF, &d);
	f = hc_get(&d, fd);
	ASSERT_EQ(10, hc_cached(f));
	ASSERT_EQ(0, f->dirty);
	ASSERT_EQ(0, f->writeback);
	hc_assert_mincore(_metadata, f, fd, 64);
	hc_dump_free(&d);
}

/* A reader of pages [2, 10) of a file that is then deleted. */
static const struct hc_span hc_deleted_span[] = { { 2, 8 } };

/*
 * A user relies on: a file that is open but deleted is still dumped, with
 * NUMAMIG_HC_DELETED and its path ending in " (deleted)".
 */
TEST_F_TIMEOUT(hotcache, deleted_file_is_flagged, HC_TIMEOUT)
{
	struct hc_reader r = {
		.cold = hc_deleted_span, .ncold = 1,
	};
	char path[PATH_MAX], gone[PATH_MAX + 16];
	struct hc_dump d;
	struct hc_file *f;
	unsigned char *map;
	size_t i;
	int fd;

	fd = hc_make_file(_metadata, self->dir, "deleted", 32 * PG, true, path);
	r.path = path;
	hc_target_start(_metadata, &self->t[0], hc_reader_fn, &r);
	ASSERT_EQ(0, unlink(path));
	snprintf(gone, sizeof(gone), "%s (deleted)", path);
	hc_drain_lru(_metadata);

	hc_dump(_metadata, self->dev, 0, self->t[0].pid, 0, HC_BIG_BUF, &d);
	f = hc_get(&d, fd);
	ASSERT_EQ(NUMAMIG_HC_OPEN | NUMAMIG_HC_DELETED, f->hdr.flags);
	ASSERT_STREQ(gone, f->path);
	map = hc_map(_metadata, f, 32);
	for (i = 0; i < 32; i++)
		ASSERT_EQ(i >= 2 && i < 10, map[i] != HC_NO_CLASS) TH_LOG("page %zu", i);
	free(map);
	hc_dump_free(&d);

	hc_dump(_metadata, self->dev, NUMAMIG_HOTCACHE_FD, 0, fd, HC_BIG_BUF, &d);
	f = hc_get(&d, fd);
	ASSERT_EQ(NUMAMIG_HC_OPEN | NUMAMIG_HC_DELETED, f->hdr.flags);
	ASSERT_STREQ(gone, f->path);
	ASSERT_EQ(8, hc_cached(f));
	hc_dump_free(&d);
}

/*
 * A user relies on: after a truncate the dump lists no page past the new
 * end of the file (the last partial page stays), and the new size.
 */
TEST_F_TIMEOUT(hotcache, truncated_file_ends_at_size, HC_TIMEOUT)
{
	const off_t size = 100 * PG + 100;
	char path[PATH_MAX];
	struct hc_dump d;
	struct hc_file *f;
	unsigned char *map;
	size_t i;
	int fd;

	fd = hc_make_file(_metadata, self->dir, "truncated", 256 * PG, true, path);
	ASSERT_EQ(0, hc_read_pages(fd, 0, 256));
	ASSERT_EQ(0, ftruncate(fd, size));
	hc_drain_lru(_metadata);

	hc_dump(_metadata, self->dev, NUMAMIG_HOTCACHE_FD, 0, fd, HC_BIG_BUF, &d);
	f = hc_get(&d, fd);
	hc_assert_identity(_metadata, f, fd, path);
	ASSERT_EQ((__u64)size, f->hdr.size);
	map = hc_map(_metadata, f, 101);	/* asserts nothing past page 100 */
	for (i = 0; i < 101; i++)
		ASSERT_NE(HC_NO_CLASS, map[i]) TH_LOG("page %zu", i);
	free(map);
	hc_assert_mincore(_metadata, f, fd, 101);
	hc_dump_free(&d);

	ASSERT_EQ(0, ftruncate(fd, 0));
	hc_dump(_metadata, self->dev, NUMAMIG_HOTCACHE_FD, 0, fd, HC_BIG_BUF, &d);
	f = hc_get(&d, fd);
	ASSERT_EQ(0, f->hdr.size);
	ASSERT_EQ(0, f->nr_ranges);
	hc_dump_free(&d);
}

/*
 * A user relies on: a huge sparse file with a few cached pages gives just
 * those pages, and quickly (the dump walks the cache, not the file).
 */
TEST_F_TIMEOUT(hotcache, sparse_file_dumps_fast, HC_TIMEOUT)
{
	const __u64 npages = (64ULL << 30) / PG, last = npages - 1;
	char path[PATH_MAX];
	struct hc_dump d;
	struct hc_file *f;
	uint64_t t0, ms;
	int fd;

	fd = hc_make_file(_metadata, self->dir, "sparse", 64LL << 30, false, path);
	ASSERT_EQ(0, hc_read_pages(fd, 0, 2));
	ASSERT_EQ(0, hc_read_pages(fd, 777, 1));
	ASSERT_EQ(0, hc_read_pages(fd, 1 << 20, 1));
	ASSERT_EQ(0, hc_read_pages(fd, last, 1));
	hc_drain_lru(_metadata);

	t0 = nm_now_ns();
	hc_dump(_metadata, self->dev, NUMAMIG_HOTCACHE_FD, 0, fd, HC_BIG_BUF, &d);
	ms = (nm_now_ns() - t0) / 1000000;
	ASSERT_LT(ms, 1000) TH_LOG("the dump of a 64 GiB sparse file took %llu ms",
				   (unsigned long long)ms);
	f = hc_get(&d, fd);
	ASSERT_EQ(64ULL << 30, f->hdr.size);
	ASSERT_EQ(4, f->nr_ranges);
	ASSERT_EQ(0, f->r[0].start);
	ASSERT_EQ(2, f->r[0].npages);
	ASSERT_EQ(777, f->r[1].start);
	ASSERT_EQ(1, f->r[1].npages);
	ASSERT_EQ(1 << 20, f->r[2].start);
	ASSERT_EQ(1, f->r[2].npages);
	ASSERT_EQ(last, f->r[3].start);
	ASSERT_EQ(1, f->r[3].npages);
	hc_dump_free(&d);
}

/*
 * A user relies on: an open file with no cached page still has its
 * record, with no range (so the file list is complete).
 */
TEST_F_TIMEOUT(hotcache, uncached_file_has_empty_record, HC_TIMEOUT)
{
	char path[PATH_MAX], empty[PATH_MAX];
	const struct numamig_hc_file *h;
	struct hc_stream s;
	int fd, fd0;

	fd = hc_make_file(_metadata, self->dir, "cold", 32 * PG, true, path);
	fd0 = hc_make_file(_metadata, self->dir, "empty", 0, true, empty);

	hc_dump_stream(_metadata, self->dev, NUMAMIG_HOTCACHE_FD, 0, fd, HC_BIG_BUF, &s);
	ASSERT_EQ(1, s.records);
	h = (const void *)s.buf;
	ASSERT_EQ(0, h->nr_ranges);
	ASSERT_EQ(0, h->pages[0] + h->pages[1] + h->pages[2]);
	ASSERT_EQ(32 * PG, h->size);
	ASSERT_EQ(sizeof(*h) + ((h->path_len + 7) & ~7u), h->rec_size);
	ASSERT_STREQ(path, (const char *)(h + 1));
	hc_stream_free(&s);

	hc_dump_stream(_metadata, self->dev, NUMAMIG_HOTCACHE_FD, 0, fd0, HC_BIG_BUF, &s);
	ASSERT_EQ(1, s.records);
	h = (const void *)s.buf;
	ASSERT_EQ(0, h->nr_ranges);
	ASSERT_EQ(0, h->size);
	ASSERT_STREQ(empty, (const char *)(h + 1));
	hc_stream_free(&s);
}

/* What the holder target opens and maps. */
struct hc_holder {
	const char *a, *a_link, *b, *c, *dir;
};

static int hc_holder_fn(void *arg)
{
	const struct hc_holder *h = arg;
	int fd, sv[2], p[2];
	volatile char *m;
	char sum = 0;

	/* a: open twice, once more through a hard link, mapped two ways */
	if (open(h->a, O_RDONLY) < 0 || (fd = open(h->a, O_RDWR)) < 0 ||
	    open(h->a_link, O_RDONLY) < 0)
		return errno;
	m = mmap(NULL, 4 * PG, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return errno;
	sum += m[0];
	m = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED)
		return errno;
	m[PG] = sum;	/* a private copy of page 1 */
	/* b: only mapped shared, c: only mapped private; fds closed */
	if ((fd = open(h->b, O_RDONLY)) < 0)
		return errno;
	m = mmap(NULL, 4 * PG, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return errno;
	sum += m[2 * PG];
	close(fd);
	if ((fd = open(h->c, O_RDONLY)) < 0)
		return errno;
	m = mmap(NULL, 4 * PG, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED)
		return errno;
	sum += m[3 * PG];
	close(fd);
	/* files that are no regular file */
	if (pipe(p) || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) ||
	    open("/dev/null", O_RDWR) < 0 || eventfd(0, 0) < 0 ||
	    open(h->dir, O_RDONLY | O_DIRECTORY) < 0)
		return errno;
	return 0;
}

/*
 * A user relies on: each file is listed once however the process holds it
 * (open twice, through a hard link, mapped shared and private), with OPEN
 * and MAPPED saying how; open files come before mapped-only ones; pipes,
 * sockets, devices, directories and anonymous inodes are not listed.
 */
TEST_F_TIMEOUT(hotcache, each_file_listed_once, HC_TIMEOUT)
{
	char a[PATH_MAX], a_link[PATH_MAX], b[PATH_MAX], c[PATH_MAX];
	struct hc_holder h = { a, a_link, b, c, self->dir };
	struct hc_file *fa, *fb, *fc;
	struct hc_stream s;
	struct stat st;
	struct hc_dump d;
	size_t i, mine = 0;
	int fda, fdb, fdc, p[2];

	fda = hc_make_file(_metadata, self->dir, "a", 16 * PG, true, a);
	fdb = hc_make_file(_metadata, self->dir, "b", 16 * PG, true, b);
	fdc = hc_make_file(_metadata, self->dir, "c", 16 * PG, true, c);
	ASSERT_LT(snprintf(a_link, sizeof(a_link), "%s/a-link", self->dir), (int)sizeof(a_link));
	ASSERT_EQ(0, link(a, a_link));
	hc_target_start(_metadata, &self->t[0], hc_holder_fn, &h);

	hc_dump(_metadata, self->dev, 0, self->t[0].pid, 0, HC_BIG_BUF, &d);
	fa = hc_get(&d, fda);
	fb = hc_get(&d, fdb);
	fc = hc_get(&d, fdc);
	ASSERT_EQ(1, fa->records);
	ASSERT_EQ(NUMAMIG_HC_OPEN | NUMAMIG_HC_MAPPED, fa->hdr.flags);
	ASSERT_STREQ(a, fa->path);	/* the first fd's name */
	ASSERT_EQ(NUMAMIG_HC_MAPPED, fb->hdr.flags);
	ASSERT_STREQ(b, fb->path);
	ASSERT_EQ(NUMAMIG_HC_MAPPED, fc->hdr.flags);
	ASSERT_STREQ(c, fc->path);
	ASSERT_LT(fa->order, fb->order);
	ASSERT_LT(fa->order, fc->order);
	/* the pages the holder touched */
	ASSERT_GE(hc_cached(fa), 1);
	ASSERT_GE(hc_cached(fb), 1);
	ASSERT_GE(hc_cached(fc), 1);

	ASSERT_EQ(0, stat(self->dir, &st));
	for (i = 0; i < d.n; i++) {
		const char *name = d.f[i].path;

		ASSERT_NE(0, strncmp(name, "pipe:", 5)) TH_LOG("%s listed", name);
		ASSERT_NE(0, strncmp(name, "socket:", 7)) TH_LOG("%s listed", name);
		ASSERT_NE(0, strncmp(name, "anon_inode:", 11)) TH_LOG("%s listed", name);
		ASSERT_STRNE("/dev/null", name);
		ASSERT_FALSE(d.f[i].hdr.ino == st.st_ino && d.f[i].hdr.dev == st.st_dev)
			TH_LOG("the directory %s is listed", name);
		mine += d.f[i].hdr.dev == (__u64)st.st_dev;
	}
	ASSERT_EQ(3, mine) TH_LOG("files on the test's file system: %zu", mine);
	hc_dump_free(&d);

	/* the fd of something else than a regular file: an empty dump */
	ASSERT_EQ(0, pipe(p));
	p[1] = open("/dev/null", O_RDONLY);
	ASSERT_GE(p[1], 0);
	for (i = 0; i < 2; i++) {
		hc_dump_stream(_metadata, self->dev, NUMAMIG_HOTCACHE_FD, 0, p[i],
			       HC_BIG_BUF, &s);
		ASSERT_EQ(0, s.records) TH_LOG("fd %d", p[i]);
		hc_stream_free(&s);
	}
}

/* The many-files target: opens files[i] for i < n and reads pattern i % 3. */
struct hc_many {
	char (*path)[PATH_MAX];
	size_t n;
};

/* Pages of file i that the many-files target reads (of 3). */
static bool hc_many_read(size_t i, size_t page)
{
	switch (i % 3) {
	case 0:
		return page == 0;
	case 1:
		return page >= 1;
	default:
		return page != 1;
	}
}

static int hc_many_fn(void *arg)
{
	const struct hc_many *m = arg;
	size_t i, k;
	int fd, ret;

	for (i = 0; i < m->n; i++) {
		fd = open(m->path[i], O_RDONLY);
		if (fd < 0)
			return errno;
		if (posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM))
			return EINVAL;
		for (k = 0; k < 3; k++)
			if (hc_many_read(i, k) && (ret = hc_read_pages(fd, k, 1)))
				return -ret;
	}
	return 0;
}

/* Write n files of 3 pages in dir, sync them and drop them from the cache. */
static void hc_make_many(struct __test_metadata *_metadata, const char *dir,
			 size_t n, struct hc_many *m)
{
	char name[32];
	size_t i;
	int fd;

	m->n = n;
	m->path = calloc(n, sizeof(*m->path));
	ASSERT_NE(NULL, m->path);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "many-%03zu", i);
		fd = hc_make_file(_metadata, dir, name, 3 * PG, true, m->path[i]);
		close(fd);
	}
}

/*
 * A user relies on: with the smallest buffer, calls resumed at the
 * returned cursor until done give the same files and ranges, in the same
 * order, as one call with a big buffer.
 */
TEST_F_TIMEOUT(hotcache, small_buffer_resumes, HC_TIMEOUT)
{
	struct hc_stream big_s, small_s;
	struct hc_dump big, small;
	struct hc_many m;
	struct hc_file *f, *g;
	unsigned char *mf, *mg;
	unsigned int last = 0;
	struct stat st;
	size_t i, k;
	int fd;

	hc_make_many(_metadata, self->dir, HC_MANY_FILES, &m);
	hc_target_start(_metadata, &self->t[0], hc_many_fn, &m);
	hc_drain_lru(_metadata);

	hc_dump_stream(_metadata, self->dev, 0, self->t[0].pid, 0, HC_BIG_BUF, &big_s);
	hc_dump_stream(_metadata, self->dev, 0, self->t[0].pid, 0, HC_MIN_BUF, &small_s);
	ASSERT_EQ(1, big_s.calls);
	ASSERT_GT(small_s.calls, HC_MANY_FILES * 100 / HC_MIN_BUF);
	hc_parse(_metadata, &big_s, &big);
	hc_parse(_metadata, &small_s, &small);

	for (i = 0; i < m.n; i++) {
		fd = open(m.path[i], O_RDONLY);
		ASSERT_GE(fd, 0);
		ASSERT_EQ(0, fstat(fd, &st));
		f = hc_get(&big, fd);
		g = hc_get(&small, fd);
		close(fd);
		ASSERT_STREQ(m.path[i], f->path);
		ASSERT_STREQ(m.path[i], g->path);
		ASSERT_EQ(f->hdr.flags, g->hdr.flags);
		ASSERT_EQ(NUMAMIG_HC_OPEN, f->hdr.flags);
		mf = hc_map(_metadata, f, 3);
		mg = hc_map(_metadata, g, 3);
		for (k = 0; k < 3; k++) {
			ASSERT_EQ(hc_many_read(i, k), mf[k] != HC_NO_CLASS)
				TH_LOG("%s page %zu", m.path[i], k);
			ASSERT_EQ(mf[k], mg[k]) TH_LOG("%s page %zu", m.path[i], k);
		}
		free(mf);
		free(mg);
		/* opened in this order: fd order */
		if (i)
			ASSERT_GT(g->order, last) TH_LOG("%s out of fd order", m.path[i]);
		last = g->order;
	}
	hc_stream_free(&big_s);
	hc_stream_free(&small_s);
	hc_dump_free(&big);
	hc_dump_free(&small);
}

/*
 * A user relies on: a file with more ranges than a buffer holds comes in
 * several records flagged NUMAMIG_HC_CONTINUED but the last, which joined
 * give every range once, as one big record does.
 */
TEST_F_TIMEOUT(hotcache, long_file_split_in_records, HC_TIMEOUT)
{
	const size_t npages = 64 * MiB / PG;
	char path[PATH_MAX];
	struct hc_dump small, big, by_pid;
	struct hc_file *f, *g, *p;
	unsigned char *mf, *mg, *mp;
	size_t i;
	int fd;

	fd = hc_make_file(_metadata, self->dir, "long", npages * PG, false, path);
	for (i = 0; i < npages; i += 2)
		ASSERT_EQ(0, hc_read_pages(fd, i, 1));
	hc_drain_lru(_metadata);

	hc_dump(_metadata, self->dev, NUMAMIG_HOTCACHE_FD, 0, fd, HC_MIN_BUF, &small);
	hc_dump(_metadata, self->dev, NUMAMIG_HOTCACHE_FD, 0, fd, HC_BIG_BUF, &big);
	hc_dump(_metadata, self->dev, 0, getpid(), 0, HC_MIN_BUF, &by_pid);
	f = hc_get(&small, fd);
	g = hc_get(&big, fd);
	p = hc_get(&by_pid, fd);
	ASSERT_GT(f->records, npages / 2 * sizeof(struct numamig_hc_range) / HC_MIN_BUF);
	ASSERT_EQ(1, g->records);
	ASSERT_GT(p->records, 1);
	ASSERT_EQ(npages / 2, f->nr_ranges);
	ASSERT_EQ(npages / 2, g->nr_ranges);
	ASSERT_EQ(npages / 2, p->nr_ranges);
	mf = hc_map(_metadata, f, npages);
	mg = hc_map(_metadata, g, npages);
	mp = hc_map(_metadata, p, npages);
	for (i = 0; i < npages; i++)
		ASSERT_EQ(!(i & 1), mf[i] != HC_NO_CLASS) TH_LOG("page %zu", i);
	ASSERT_EQ(0, memcmp(mf, mg, npages));
	ASSERT_EQ(0, memcmp(mf, mp, npages));
	free(mf);
	free(mg);
	free(mp);
	hc_dump_free(&small);
	hc_dump_free(&big);
	hc_dump_free(&by_pid);
}

/*
 * A user relies on: the records of a process with many kinds of files
 * (deleted, empty, mapped, continued) keep the format, whatever the buffer
 * size (hc_parse() checks it).
 */
TEST_F_TIMEOUT(hotcache, records_well_formed, HC_TIMEOUT)
{
	char path[PATH_MAX];
	struct hc_dump d;
	size_t sizes[] = { HC_MIN_BUF, HC_MIN_BUF + 8, 3 * HC_MIN_BUF - 24, HC_BIG_BUF };
	size_t i;
	void *map;
	int fd, ranges;

	fd = hc_make_file(_metadata, self->dir, "deleted", 64 * PG, true, path);
	ASSERT_EQ(0, hc_read_pages(fd, 3, 5));
	ASSERT_EQ(0, unlink(path));
	hc_make_file(_metadata, self->dir, "empty", 0, true, path);
	fd = hc_make_file(_metadata, self->dir, "mapped", 64 * PG, true, path);
	map = mmap(NULL, 64 * PG, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	fd = hc_make_file(_metadata, self->dir, "striped", 4096 * PG, false, path);
	for (ranges = 0; ranges < 2048; ranges++)
		ASSERT_EQ(0, hc_read_pages(fd, 2 * ranges, 1));

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		hc_dump(_metadata, self->dev, 0, getpid(), 0, sizes[i], &d);
		ASSERT_EQ(2048, hc_get(&d, fd)->nr_ranges) TH_LOG("buffer %zu", sizes[i]);
		hc_dump_free(&d);
	}
	munmap(map, 64 * PG);
}

/* -------------------------------------------------------------------------
 * The interface fixture: arguments, rights, targets that go away.  Needs
 * no block file system: its files are in $TMPDIR (tmpfs in the VM).
 */

FIXTURE(hotcache_api)
{
	int dev;
	char dir[PATH_MAX];		/* this test's directory in $TMPDIR */
	char mnt[PATH_MAX];		/* a tmpfs a test mounted, "" = none */
	struct hc_target t[2];
};

FIXTURE_SETUP(hotcache_api)
{
	const char *tmp = getenv("TMPDIR");

	signal(SIGPIPE, SIG_IGN);
	hc_open_dev(_metadata, &self->dev);
	snprintf(self->dir, sizeof(self->dir), "%s/numamig-hc.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	ASSERT_NE(NULL, mkdtemp(self->dir)) TH_LOG("mkdtemp: %s", strerror(errno));
}

FIXTURE_TEARDOWN(hotcache_api)
{
	int i;

	for (i = 0; i < 2; i++)
		hc_target_kill(&self->t[i]);
	if (self->mnt[0])
		umount2(self->mnt, MNT_DETACH);
	if (self->dir[0])
		nftw(self->dir, hc_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	if (self->dev >= 0)
		close(self->dev);
}

/* A file of npages pages in dir, all cached (written). */
static int hc_tmp_file(struct __test_metadata *_metadata, const char *dir,
		       const char *name, size_t npages, char *path)
{
	char page[PG];
	size_t i;
	int fd;

	snprintf(path, PATH_MAX, "%s/%s", dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ASSERT_GE(fd, 0) TH_LOG("create %s: %s", path, strerror(errno));
	for (i = 0; i < npages; i++) {
		memset(page, (int)i | 1, sizeof(page));
		ASSERT_EQ((ssize_t)PG, pwrite(fd, page, PG, i * PG));
	}
	return fd;
}

/*
 * A user relies on: HOTCACHE checks its arguments, fails with the
 * documented errno, and then writes neither the struct nor the buffer.
 */
TEST_F_TIMEOUT(hotcache_api, rejects_bad_input, HC_TIMEOUT)
{
	struct numamig_hotcache base, hc;
	char path[PATH_MAX], *buf, *guard;
	int fd, nodev, i;

	fd = hc_tmp_file(_metadata, self->dir, "f", 16, path);
	buf = malloc(HC_BIG_BUF);
	ASSERT_NE(NULL, buf);
	base = hc_req(NUMAMIG_HOTCACHE_FD, 0, fd, buf, HC_BIG_BUF);
	hc = base;
	ASSERT_EQ(0, nm_ioctl(self->dev, NUMAMIG_IOC_HOTCACHE, &hc));
	ASSERT_EQ(1, hc.nr_files);
	ASSERT_EQ(1, hc.done);

#define HOTCACHE_REJECTED(err, stmt) do {					\
	hc = base;								\
	stmt;									\
	memset(buf, 0x5a, HC_MIN_BUF);						\
	ASSERT_EQ(-(err), nm_ioctl(self->dev, NUMAMIG_IOC_HOTCACHE, &hc))	\
		TH_LOG("%s", #stmt);						\
	ASSERT_EQ(0, hc.bytes) TH_LOG("%s wrote bytes", #stmt);		\
	ASSERT_EQ(0, hc.nr_files) TH_LOG("%s wrote nr_files", #stmt);		\
	ASSERT_EQ(0, hc.done) TH_LOG("%s wrote done", #stmt);			\
	ASSERT_EQ(0, hc.cursor[0] | hc.cursor[1]) TH_LOG("%s moved the cursor", #stmt); \
	ASSERT_EQ(0x5a, buf[0]) TH_LOG("%s wrote the buffer", #stmt);		\
} while (0)

	HOTCACHE_REJECTED(EINVAL, hc.buf_size = NUMAMIG_HOTCACHE_MIN_BUF - 1);
	HOTCACHE_REJECTED(EINVAL, hc.buf_size = 0);
	HOTCACHE_REJECTED(EINVAL, hc.flags |= NUMAMIG_HOTCACHE_FLAGS_ALL + 1);
	HOTCACHE_REJECTED(EINVAL, hc.flags |= 1ULL << 63);
	for (i = 0; i < 4; i++)
		HOTCACHE_REJECTED(EINVAL, hc.reserved[i] = 1);
	HOTCACHE_REJECTED(EINVAL, hc.flags = 0; hc.fd = 0; hc.pid = 0);
	HOTCACHE_REJECTED(EINVAL, hc.flags = 0; hc.fd = 0; hc.pid = -1);
	HOTCACHE_REJECTED(EINVAL, hc.pid = getpid());		/* FD and a pid */
	HOTCACHE_REJECTED(EINVAL, hc.flags = 0; hc.pid = getpid()); /* no FD, an fd */
	nodev = dup(fd);
	ASSERT_GE(nodev, 0);
	close(nodev);
	HOTCACHE_REJECTED(EBADF, hc.fd = nodev);
	HOTCACHE_REJECTED(ESRCH, hc.flags = 0; hc.fd = 0; hc.pid = nm_unused_pid());
	HOTCACHE_REJECTED(EFAULT, hc.buf_ptr = 8);
	guard = mmap(NULL, HC_MIN_BUF, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, guard);
	HOTCACHE_REJECTED(EFAULT, hc.buf_ptr = (uintptr_t)guard; hc.buf_size = HC_MIN_BUF);
	ASSERT_EQ(-EFAULT, nm_ioctl(self->dev, NUMAMIG_IOC_HOTCACHE, NULL));
	ASSERT_EQ(-EFAULT, nm_ioctl(self->dev, NUMAMIG_IOC_HOTCACHE, guard));
	munmap(guard, HC_MIN_BUF);
#undef HOTCACHE_REJECTED

	/* no handshake on this open file yet */
	nodev = open(NUMAMIG_DEVICE, O_RDWR | O_CLOEXEC);
	ASSERT_GE(nodev, 0);
	hc = base;
	ASSERT_EQ(-EPROTO, nm_ioctl(nodev, NUMAMIG_IOC_HOTCACHE, &hc));
	ASSERT_EQ(0, hc.bytes);
	close(nodev);
	free(buf);
}

/* What the unprivileged child tries, and what it got (0 or -errno). */
struct hc_as_nobody {
	int dev;
	pid_t root_target;
	uid_t euid;
	int err_parent, err_target, err_self;
};

static int hc_idle_fn(void *arg)
{
	(void)arg;
	return 0;
}

/*
 * A user relies on: a caller handed an open /dev/numamig cannot dump a
 * process it may not ptrace (EPERM), only its own kind.
 */
TEST_F_TIMEOUT(hotcache_api, unprivileged_caller_gets_eperm, HC_TIMEOUT)
{
	struct hc_as_nobody *u;
	char *buf;
	int status;
	pid_t pid;

	hc_target_start(_metadata, &self->t[0], hc_idle_fn, NULL);
	u = mmap(NULL, sizeof(*u), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, u);
	buf = malloc(HC_MIN_BUF);
	ASSERT_NE(NULL, buf);
	u->dev = self->dev;
	u->root_target = self->t[0].pid;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		struct numamig_hotcache hc;

		if (setgroups(0, NULL) || setresgid(NM_NOBODY, NM_NOBODY, NM_NOBODY) ||
		    setresuid(NM_NOBODY, NM_NOBODY, NM_NOBODY))
			_exit(2);
		/* the uid change made it undumpable: /proc/self would be root's */
		prctl(PR_SET_DUMPABLE, 1);
		u->euid = geteuid();
		hc = hc_req(0, getppid(), 0, buf, HC_MIN_BUF);
		u->err_parent = nm_ioctl(u->dev, NUMAMIG_IOC_HOTCACHE, &hc);
		hc = hc_req(0, u->root_target, 0, buf, HC_MIN_BUF);
		u->err_target = nm_ioctl(u->dev, NUMAMIG_IOC_HOTCACHE, &hc);
		hc = hc_req(0, getpid(), 0, buf, HC_MIN_BUF);
		u->err_self = nm_ioctl(u->dev, NUMAMIG_IOC_HOTCACHE, &hc);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status)) TH_LOG("could not become uid %u", NM_NOBODY);
	ASSERT_EQ(NM_NOBODY, u->euid);
	ASSERT_EQ(-EPERM, u->err_parent) TH_LOG("root test process: %s", strerror(-u->err_parent));
	ASSERT_EQ(-EPERM, u->err_target) TH_LOG("root target: %s", strerror(-u->err_target));
	ASSERT_EQ(0, u->err_self) TH_LOG("itself: %s", strerror(-u->err_self));
	munmap(u, sizeof(*u));
	free(buf);
}

/*
 * A user relies on: when the target exits between two calls of a dump,
 * the next call fails with ESRCH or ends the dump; no crash, no junk.
 */
TEST_F_TIMEOUT(hotcache_api, target_exits_between_calls, HC_TIMEOUT)
{
	struct numamig_hotcache hc;
	struct hc_stream s = { 0 };
	struct hc_dump d;
	struct hc_many m;
	char name[32], *buf;
	siginfo_t si;
	__u64 cursor[2];
	size_t i;
	pid_t pid;
	int ret, fd;

	m.n = 100;
	m.path = calloc(m.n, sizeof(*m.path));
	ASSERT_NE(NULL, m.path);
	for (i = 0; i < m.n; i++) {
		snprintf(name, sizeof(name), "f%03zu", i);
		fd = hc_tmp_file(_metadata, self->dir, name, 3, m.path[i]);
		close(fd);
	}
	hc_target_start(_metadata, &self->t[0], hc_many_fn, &m);
	pid = self->t[0].pid;
	buf = malloc(HC_MIN_BUF);
	ASSERT_NE(NULL, buf);

	hc = hc_req(0, pid, 0, buf, HC_MIN_BUF);
	ASSERT_EQ(0, hc_call(_metadata, self->dev, &hc, &s));
	ASSERT_EQ(0, hc.done) TH_LOG("100 files fit in %d bytes?", HC_MIN_BUF);
	cursor[0] = hc.cursor[0];
	cursor[1] = hc.cursor[1];

	/* a zombie: exited, not reaped */
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(0, waitid(P_PID, pid, &si, WEXITED | WNOWAIT));
	hc = hc_req(0, pid, 0, buf, HC_MIN_BUF);
	hc.cursor[0] = cursor[0];
	hc.cursor[1] = cursor[1];
	ret = hc_call(_metadata, self->dev, &hc, &s);
	ASSERT_TRUE(ret == -ESRCH || (!ret && hc.done))
		TH_LOG("zombie, resumed: %s, done %u", strerror(-ret), hc.done);
	ksft_print_msg("zombie target, resumed dump: %s, %u records, done %u\n",
		       ret ? strerror(-ret) : "ok", ret ? 0 : hc.nr_files, hc.done);
	hc = hc_req(0, pid, 0, buf, HC_MIN_BUF);
	ret = hc_call(_metadata, self->dev, &hc, &s);
	ASSERT_TRUE(ret == -ESRCH || !ret) TH_LOG("zombie, new dump: %s", strerror(-ret));
	ksft_print_msg("zombie target, new dump: %s, %u records, done %u\n",
		       ret ? strerror(-ret) : "ok", ret ? 0 : hc.nr_files, hc.done);

	/* reaped */
	ASSERT_EQ(pid, waitpid(pid, NULL, 0));
	self->t[0].pid = 0;
	hc = hc_req(0, pid, 0, buf, HC_MIN_BUF);
	hc.cursor[0] = cursor[0];
	hc.cursor[1] = cursor[1];
	ret = hc_call(_metadata, self->dev, &hc, &s);
	ASSERT_TRUE(ret == -ESRCH || (!ret && hc.done))
		TH_LOG("reaped, resumed: %s, done %u", strerror(-ret), hc.done);
	hc_parse(_metadata, &s, &d);	/* whatever came is well formed */
	hc_dump_free(&d);
	hc_stream_free(&s);
	free(buf);
}

/*
 * A user relies on: "Fields marked (out) are ignored on input, so a struct
 * may be reused": a dump goes on by passing back the struct as the last
 * call left it (bytes, nr_files, done and all).
 */
TEST_F_TIMEOUT(hotcache_api, resume_with_returned_struct, HC_TIMEOUT)
{
	struct numamig_hotcache hc;
	struct hc_stream s = { 0 };
	char path[PATH_MAX], *buf;
	struct hc_dump d;
	int fd, ret;

	fd = hc_tmp_file(_metadata, self->dir, "striped", 2048, path);
	for (ret = 1; ret < 2048; ret += 2)	/* 1024 one-page ranges */
		ASSERT_EQ(0, fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				       ret * PG, PG));
	buf = malloc(HC_MIN_BUF);
	ASSERT_NE(NULL, buf);
	hc = hc_req(NUMAMIG_HOTCACHE_FD, 0, fd, buf, HC_MIN_BUF);
	do {
		ret = hc_call(_metadata, self->dev, &hc, &s);
		ASSERT_EQ(0, ret) TH_LOG("call %u with the struct the last call returned "
					 "(bytes %llu, nr_files %u): %s", s.calls + 1,
					 (unsigned long long)hc.bytes, hc.nr_files,
					 strerror(-ret));
	} while (!hc.done);
	ASSERT_GT(s.calls, 1);
	hc_parse(_metadata, &s, &d);
	ASSERT_EQ(1024, hc_get(&d, fd)->nr_ranges);
	hc_dump_free(&d);
	hc_stream_free(&s);
	free(buf);
}

/* kB of a /proc/meminfo line, or -1. */
static long hc_meminfo_kb(const char *key)
{
	char line[128];
	size_t len = strlen(key);
	long kb = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, len) && line[len] == ':') {
			kb = strtol(line + len + 1, NULL, 10);
			break;
		}
	fclose(f);
	return kb;
}

/*
 * A user relies on: a dump that starts at a page index inside a large
 * folio (a cursor, or a file that changed between calls) lists only the
 * pages from there on, each once: the ranges still do not overlap.
 */
TEST_F_TIMEOUT(hotcache_api, cursor_inside_large_folio, HC_TIMEOUT)
{
	const size_t npages = 4 * MiB / PG;
	static const size_t starts[] = { 0, 100, 512 + 7, 1023 };
	struct numamig_hotcache hc;
	struct hc_stream s = { 0 };
	char path[PATH_MAX], *buf;
	struct hc_dump d;
	struct hc_file *f;
	long before, after;
	size_t i;
	int fd;

	ASSERT_LT(snprintf(self->mnt, sizeof(self->mnt), "%s/thp", self->dir),
		  (int)sizeof(self->mnt));
	ASSERT_EQ(0, mkdir(self->mnt, 0700));
	if (mount("numamig-hc", self->mnt, "tmpfs", 0, "huge=always,size=16m")) {
		self->mnt[0] = 0;
		SKIP(return, "cannot mount a tmpfs with huge=always: %s", strerror(errno));
	}
	before = hc_meminfo_kb("ShmemHugePages");
	fd = hc_tmp_file(_metadata, self->mnt, "huge", npages, path);
	after = hc_meminfo_kb("ShmemHugePages");
	if (before < 0 || after - before < 4096)
		SKIP(return, "no huge pages in the tmpfs (ShmemHugePages %ld -> %ld kB)",
		     before, after);
	buf = malloc(HC_BIG_BUF);
	ASSERT_NE(NULL, buf);

	for (i = 0; i < ARRAY_SIZE(starts); i++) {
		memset(&s, 0, sizeof(s));
		hc = hc_req(NUMAMIG_HOTCACHE_FD, 0, fd, buf, HC_BIG_BUF);
		hc.cursor[1] = starts[i];
		ASSERT_EQ(0, hc_call(_metadata, self->dev, &hc, &s));
		ASSERT_EQ(1, hc.done);
		hc_parse(_metadata, &s, &d);
		f = hc_get(&d, fd);
		ASSERT_GE(f->nr_ranges, 1);
		ASSERT_EQ(starts[i], f->r[0].start) TH_LOG("dump from page %zu", starts[i]);
		ASSERT_EQ(npages - starts[i], hc_cached(f)) TH_LOG("dump from page %zu", starts[i]);
		free(hc_map(_metadata, f, npages));	/* nothing past the end */
		hc_dump_free(&d);
		hc_stream_free(&s);
	}
	free(buf);
}

static void *hc_linger(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

/* 'R', 'S', 'Z', ... of /proc/PID/stat, or 0. */
static char hc_proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

/*
 * A user relies on: a live process is dumped whole even when its main
 * thread has exited (pthread_exit() in main) and another thread holds on.
 */
TEST_F_TIMEOUT(hotcache_api, main_thread_exited, HC_TIMEOUT)
{
	char path[PATH_MAX], c;
	struct hc_dump d;
	struct hc_file *f;
	int ready[2], fd, i, mapped;
	pid_t pid;

	fd = hc_tmp_file(_metadata, self->dir, "held", 4, path);
	ASSERT_EQ(0, pipe2(ready, O_CLOEXEC));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {	/* holds fd, inherited */
		pthread_t th;

		if (pthread_create(&th, NULL, hc_linger, NULL) ||
		    write(ready[1], "x", 1) != 1)
			_exit(1);
		syscall(SYS_exit, 0);	/* this thread only */
	}
	self->t[0].pid = pid;
	self->t[0].cmd = self->t[0].resp = -1;
	close(ready[1]);
	ASSERT_EQ(1, read(ready[0], &c, 1));
	close(ready[0]);
	for (i = 0; i < 500 && hc_proc_state(pid) != 'Z'; i++)
		nm_sleep_ms(10);
	ASSERT_EQ('Z', hc_proc_state(pid)) TH_LOG("the main thread did not exit");

	hc_dump(_metadata, self->dev, 0, pid, 0, HC_BIG_BUF, &d);
	f = hc_find(&d, fd);
	ASSERT_NE(NULL, f) TH_LOG("a process whose main thread exited: %zu files listed", d.n);
	ASSERT_EQ(NUMAMIG_HC_OPEN, f->hdr.flags & NUMAMIG_HC_OPEN);
	/* Its mappings (this test binary, libc) are listed too. */
	for (mapped = 0, i = 0; i < (int)d.n; i++)
		mapped += !!(d.f[i].hdr.flags & NUMAMIG_HC_MAPPED);
	ASSERT_LT(0, mapped) TH_LOG("no mapping listed");
	hc_dump_free(&d);
}

/* A target in its own mount namespace, rooted (pivot_root) at arg. */
static int hc_container_fn(void *arg)
{
	const char *root = arg;

	if (unshare(CLONE_NEWNS) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount(root, root, NULL, MS_BIND, NULL) || chdir(root) ||
	    syscall(SYS_pivot_root, ".", "old") || chdir("/") ||
	    umount2("/old", MNT_DETACH))
		return errno;
	return open("/inside", O_RDONLY) < 0 ? errno : 0;
}

/* Are we chrooted (our "/" is not init's)?  Then d_path() sees more. */
static bool hc_in_chroot(void)
{
	struct stat a, b;

	if (stat("/", &a) || stat("/proc/1/root/", &b))
		return false;
	return a.st_dev != b.st_dev || a.st_ino != b.st_ino;
}

/*
 * A user relies on: the path of a file of a containerized process (its
 * root is its mount namespace's root) is the one the process sees.
 */
TEST_F_TIMEOUT(hotcache_api, container_path_is_its_own, HC_TIMEOUT)
{
	char root[PATH_MAX], old[PATH_MAX + 8], path[PATH_MAX];
	struct hc_dump d;
	struct hc_file *f;
	int fd, err;

	if (hc_in_chroot())
		SKIP(return, "this test runs chrooted: d_path() names other namespaces from the real root");
	ASSERT_LT(snprintf(root, sizeof(root), "%s/root", self->dir), (int)sizeof(root));
	ASSERT_EQ(0, mkdir(root, 0755));
	snprintf(old, sizeof(old), "%s/old", root);
	ASSERT_EQ(0, mkdir(old, 0755));
	fd = hc_tmp_file(_metadata, root, "inside", 2, path);
	err = hc_target_spawn(_metadata, &self->t[0], hc_container_fn, root);
	if (err == EPERM || err == EINVAL || err == ENOSYS)
		SKIP(return, "no mount namespace with pivot_root here: %s", strerror(err));
	ASSERT_EQ(0, err) TH_LOG("container setup: %s", strerror(err));

	hc_dump(_metadata, self->dev, 0, self->t[0].pid, 0, HC_BIG_BUF, &d);
	f = hc_get(&d, fd);
	ASSERT_STREQ("/inside", f->path) TH_LOG("this process calls it %s", path);
	hc_dump_free(&d);
}

TEST_HARNESS_MAIN
