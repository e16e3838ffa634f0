// SPDX-License-Identifier: GPL-2.0
/*
 * numamig selftests: NUMAMIG_IOC_HOTCACHE, the page-cache dump.  Files
 * are written in /tmp and holes punched in them, so which pages are
 * cached is known; every record of a dump is parsed and checked.
 */
#include "kselftest_harness.h"
#include "numamig_helpers.h"

#include <linux/falloc.h>

#define HC_BUF		(256 * 1024)

FIXTURE(hotcache)
{
	struct nm_env env;
	char path[2][64];	/* files to unlink at the end */
	int fd[2];
	char *buf;
};

FIXTURE_SETUP(hotcache)
{
	nm_setup(_metadata, &self->env);
	if (!(self->env.api.features & NUMAMIG_FEATURE_HOTCACHE))
		NM_SETUP_SKIP("no NUMAMIG_FEATURE_HOTCACHE");
	self->fd[0] = self->fd[1] = -1;
	self->buf = malloc(HC_BUF);
	ASSERT_NE(NULL, self->buf);
}

FIXTURE_TEARDOWN(hotcache)
{
	int i;

	nm_teardown(&self->env);
	for (i = 0; i < 2; i++) {
		if (self->path[i][0])
			unlink(self->path[i]);
		if (self->fd[i] >= 0)
			close(self->fd[i]);
	}
	free(self->buf);
}

/* A /tmp file of npages pages, all cached, then holes punched at odd pages if asked. */
static int make_file(struct __test_metadata *_metadata, char *path,
		     size_t npages, bool odd_holes)
{
	char page[NM_PAGE_SIZE];
	size_t i;
	int fd;

	strcpy(path, "/tmp/numamig-hc-XXXXXX");
	fd = mkstemp(path);
	ASSERT_GE(fd, 0) TH_LOG("mkstemp: %s", strerror(errno));
	for (i = 0; i < npages; i++) {
		memset(page, (int)i + 1, sizeof(page));
		ASSERT_EQ((ssize_t)sizeof(page), write(fd, page, sizeof(page)));
	}
	for (i = 1; odd_holes && i < npages; i += 2)
		ASSERT_EQ(0, fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				       i * NM_PAGE_SIZE, NM_PAGE_SIZE))
			TH_LOG("punch hole: %s", strerror(errno));
	return fd;
}

/* Everything a dump said about one file, its records joined. */
struct hc_seen {
	__u64 dev, ino;
	unsigned int records;	/* records of the file */
	unsigned int chains;	/* of which not a continuation */
	__u32 flags;		/* of the first record */
	__u64 size;
	__s64 mtime_sec;
	__u32 mtime_nsec;
	char path[256];
	__u64 pages[NUMAMIG_CACHE_CLASSES];
	__u64 next;		/* page index after the last range seen */
	unsigned char *cached;	/* per page: 1 + class, 0 = not in a range */
	size_t npages;
};

/*
 * Check the framing of every record in buf and fold the ones of file s
 * (by dev and ino) into it.  *continued carries "the last record had
 * NUMAMIG_HC_CONTINUED" from one call to the next.
 */
static void hc_parse(struct __test_metadata *_metadata, const char *buf,
		     const struct numamig_hotcache *hc, struct hc_seen *s,
		     bool *continued)
{
	const char *p = buf, *end = buf + hc->bytes;
	__u32 n = 0;

	while (p < end) {
		const struct numamig_hc_file *f = (const void *)p;
		const char *path = p + sizeof(*f);
		const struct numamig_hc_range *r;
		__u64 pages[NUMAMIG_CACHE_CLASSES] = { 0 }, total, i, k;
		bool mine;

		n++;
		ASSERT_LE(p + sizeof(*f), end);
		ASSERT_EQ(0, f->rec_size % 8) TH_LOG("record %u", n);
		ASSERT_GT(f->path_len, 1);
		ASSERT_EQ(f->rec_size, sizeof(*f) + ((f->path_len + 7) & ~7u) +
			  f->nr_ranges * sizeof(*r)) TH_LOG("record %u", n);
		ASSERT_LE(p + f->rec_size, end);
		ASSERT_EQ(0, path[f->path_len - 1]);
		ASSERT_EQ(f->path_len - 1, strlen(path)) TH_LOG("%s", path);
		ASSERT_EQ(0, f->reserved[0]);
		ASSERT_EQ(0, f->reserved[1]);
		ASSERT_EQ(0, f->flags & ~(NUMAMIG_HC_OPEN | NUMAMIG_HC_MAPPED |
					  NUMAMIG_HC_DELETED | NUMAMIG_HC_CONTINUED));
		r = (const void *)(path + ((f->path_len + 7) & ~7u));
		for (i = 0; i < f->nr_ranges; i++) {
			ASSERT_LT(r[i].class, NUMAMIG_CACHE_CLASSES);
			ASSERT_GT(r[i].npages, 0);
			if (i)	/* index order, no overlap */
				ASSERT_LE(r[i - 1].start + r[i - 1].npages, r[i].start)
					TH_LOG("%s: range %llu", path, i);
			pages[r[i].class] += r[i].npages;
		}
		for (k = 0, total = 0; k < NUMAMIG_CACHE_CLASSES; k++) {
			ASSERT_EQ(pages[k], f->pages[k]) TH_LOG("%s class %llu", path, k);
			total += pages[k];
		}
		ASSERT_LE(f->dirty, total);
		ASSERT_LE(f->writeback, total);

		mine = f->dev == s->dev && f->ino == s->ino;
		if (mine) {
			if (!s->records || !*continued) {
				s->chains++;
				s->flags = f->flags & ~NUMAMIG_HC_CONTINUED;
				s->size = f->size;
				s->mtime_sec = f->mtime_sec;
				s->mtime_nsec = f->mtime_nsec;
				snprintf(s->path, sizeof(s->path), "%s", path);
			}
			s->records++;
			for (i = 0; i < f->nr_ranges; i++) {
				ASSERT_GE(r[i].start, s->next) TH_LOG("ranges repeated");
				for (k = r[i].start; k < r[i].start + r[i].npages &&
						     k < s->npages; k++)
					s->cached[k] = 1 + r[i].class;
				s->next = r[i].start + r[i].npages;
			}
			for (k = 0; k < NUMAMIG_CACHE_CLASSES; k++)
				s->pages[k] += f->pages[k];
		}
		*continued = mine && (f->flags & NUMAMIG_HC_CONTINUED);
		p += f->rec_size;
	}
	ASSERT_EQ(hc->nr_files, n);
}

static void hc_seen_init(struct __test_metadata *_metadata, struct hc_seen *s,
			 int fd, size_t npages)
{
	struct stat st;

	ASSERT_EQ(0, fstat(fd, &st));
	memset(s, 0, sizeof(*s));
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	s->npages = npages;
	s->cached = calloc(npages, 1);
	ASSERT_NE(NULL, s->cached);
}

/*
 * Dump until done, buf_size bytes per call.  reuse: send back the struct
 * exactly as the previous call left it (what the header says to do);
 * otherwise only the cursor is carried over.  Returns the calls made.
 */
static int hc_dump(struct __test_metadata *_metadata, int dev_fd,
		   struct numamig_hotcache *req, char *buf, size_t buf_size,
		   bool reuse, struct hc_seen *s)
{
	struct numamig_hotcache hc = *req;
	bool continued = false;
	int calls = 0, ret;

	hc.buf_ptr = (uintptr_t)buf;
	hc.buf_size = buf_size;
	do {
		if (!reuse && calls) {
			struct numamig_hotcache next = *req;

			next.buf_ptr = hc.buf_ptr;
			next.buf_size = hc.buf_size;
			next.cursor[0] = hc.cursor[0];
			next.cursor[1] = hc.cursor[1];
			hc = next;
		}
		ret = nm_ioctl(dev_fd, NUMAMIG_IOC_HOTCACHE, &hc);
		calls++;
		ASSERT_EQ(0, ret) TH_LOG("HOTCACHE call %d (%s struct): %s", calls,
					 reuse ? "reused" : "fresh", strerror(-ret));
		ASSERT_LE(hc.bytes, buf_size);
		ASSERT_LE(hc.done, 1);
		ASSERT_TRUE(hc.done || hc.bytes) TH_LOG("no progress in call %d", calls);
		hc_parse(_metadata, buf, &hc, s, &continued);
		ASSERT_LT(calls, 10000);
	} while (!hc.done);
	ASSERT_FALSE(continued) TH_LOG("last record says more follows");
	return calls;
}

/* A user relies on: a dump of a file lists exactly its cached pages and the file's identity. */
TEST_F_TIMEOUT(hotcache, fd_dump_matches_page_cache, NM_TEST_TIMEOUT)
{
	struct nm_env *e = &self->env;
	const size_t npages = 256;
	struct numamig_hotcache req = { .flags = NUMAMIG_HOTCACHE_FD };
	struct hc_seen s;
	struct stat st;
	size_t i;
	int fd;

	fd = self->fd[0] = make_file(_metadata, self->path[0], npages, false);
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			       64 * NM_PAGE_SIZE, 64 * NM_PAGE_SIZE));
	ASSERT_EQ(0, fstat(fd, &st));
	req.fd = fd;

	hc_seen_init(_metadata, &s, fd, npages);
	ASSERT_EQ(1, hc_dump(_metadata, e->fd, &req, self->buf, HC_BUF, false, &s));
	ASSERT_EQ(1, s.records);
	ASSERT_STREQ(self->path[0], s.path);
	ASSERT_EQ((__u64)st.st_size, s.size);
	ASSERT_EQ(st.st_mtim.tv_sec, s.mtime_sec);
	ASSERT_EQ((__u32)st.st_mtim.tv_nsec, s.mtime_nsec);
	ASSERT_EQ(NUMAMIG_HC_OPEN, s.flags);
	for (i = 0; i < npages; i++)
		ASSERT_EQ(i < 64 || i >= 128, !!s.cached[i]) TH_LOG("page %zu", i);
	ASSERT_EQ(npages - 64, s.pages[0] + s.pages[1] + s.pages[2]);

	/* unlinked: still dumped, now marked deleted */
	ASSERT_EQ(0, unlink(self->path[0]));
	self->path[0][0] = 0;
	hc_seen_init(_metadata, &s, fd, npages);
	hc_dump(_metadata, e->fd, &req, self->buf, HC_BUF, false, &s);
	ASSERT_EQ(1, s.records);
	ASSERT_EQ(NUMAMIG_HC_OPEN | NUMAMIG_HC_DELETED, s.flags);
}

/* A user relies on: a process dump lists each open or mapped file once, with its pages. */
TEST_F_TIMEOUT(hotcache, pid_dump_lists_files, NM_TEST_TIMEOUT)
{
	struct nm_env *e = &self->env;
	struct nm_target *t = &e->t[0];
	struct nm_target_opts o = nm_opts(e, 1 * MiB);
	struct numamig_hotcache req = { 0 };
	struct hc_seen opened, mapped;
	size_t i;

	self->fd[0] = make_file(_metadata, self->path[0], 64, false);
	self->fd[1] = make_file(_metadata, self->path[1], 256, false);
	o.open_file = self->path[0];
	o.file = self->path[1];
	o.file_size = 256 * NM_PAGE_SIZE;
	nm_target_start(_metadata, t, &o);
	req.pid = t->pid;

	hc_seen_init(_metadata, &opened, self->fd[0], 64);
	hc_dump(_metadata, e->fd, &req, self->buf, HC_BUF, false, &opened);
	hc_seen_init(_metadata, &mapped, self->fd[1], 256);
	hc_dump(_metadata, e->fd, &req, self->buf, HC_BUF, false, &mapped);

	ASSERT_EQ(1, opened.chains) TH_LOG("open file listed %u times", opened.chains);
	ASSERT_EQ(NUMAMIG_HC_OPEN, opened.flags);
	ASSERT_STREQ(self->path[0], opened.path);
	ASSERT_EQ(64, opened.pages[0] + opened.pages[1] + opened.pages[2]);

	/* mapped three times (fd closed): one file, mapped */
	ASSERT_EQ(1, mapped.chains) TH_LOG("mapped file listed %u times", mapped.chains);
	ASSERT_EQ(NUMAMIG_HC_MAPPED, mapped.flags);
	ASSERT_STREQ(self->path[1], mapped.path);
	for (i = 0; i < 256; i++)
		ASSERT_TRUE(mapped.cached[i]) TH_LOG("page %zu not listed", i);
	ASSERT_EQ(256, mapped.pages[0] + mapped.pages[1] + mapped.pages[2]);
}

/* A user relies on: a dump bigger than the buffer goes on from the struct the last call left. */
TEST_F_TIMEOUT(hotcache, dump_continues_at_cursor, NM_TEST_TIMEOUT)
{
	struct nm_env *e = &self->env;
	const size_t npages = 1024;
	struct numamig_hotcache req = { .flags = NUMAMIG_HOTCACHE_FD };
	struct hc_seen s;
	size_t i;
	int calls;

	/* 512 one-page ranges: more than one 8 KiB buffer holds */
	self->fd[0] = make_file(_metadata, self->path[0], npages, true);
	req.fd = self->fd[0];

	hc_seen_init(_metadata, &s, self->fd[0], npages);
	calls = hc_dump(_metadata, e->fd, &req, self->buf,
			NUMAMIG_HOTCACHE_MIN_BUF, false, &s);
	ASSERT_GE(calls, 2);
	ASSERT_GE(s.records, 2);
	ASSERT_EQ(1, s.chains) TH_LOG("the continued file restarted");
	for (i = 0; i < npages; i++)
		ASSERT_EQ(!(i & 1), !!s.cached[i]) TH_LOG("page %zu", i);
	ASSERT_EQ(npages / 2, s.pages[0] + s.pages[1] + s.pages[2]);

	/* the same, sending back the struct as the last call left it */
	hc_seen_init(_metadata, &s, self->fd[0], npages);
	calls = hc_dump(_metadata, e->fd, &req, self->buf,
			NUMAMIG_HOTCACHE_MIN_BUF, true, &s);
	ASSERT_GE(calls, 2);
	ASSERT_EQ(npages / 2, s.pages[0] + s.pages[1] + s.pages[2]);
}

/* A user relies on: HOTCACHE checks its input and writes nothing when it fails. */
TEST_F_TIMEOUT(hotcache, rejects_bad_input, NM_TEST_TIMEOUT)
{
	struct nm_env *e = &self->env;
	struct numamig_hotcache base = { 0 }, hc;
	char *guard;
	int i;

	self->fd[0] = make_file(_metadata, self->path[0], 16, false);
	base.flags = NUMAMIG_HOTCACHE_FD;
	base.fd = self->fd[0];
	base.buf_ptr = (uintptr_t)self->buf;
	base.buf_size = HC_BUF;
	hc = base;
	ASSERT_EQ(0, nm_ioctl(e->fd, NUMAMIG_IOC_HOTCACHE, &hc));
	ASSERT_EQ(1, hc.nr_files);

#define HOTCACHE_REJECTED(err, stmt) do {				\
	hc = base;							\
	stmt;								\
	ASSERT_EQ(-(err), nm_ioctl(e->fd, NUMAMIG_IOC_HOTCACHE, &hc))	\
		TH_LOG("%s", #stmt);					\
	ASSERT_EQ(0, hc.bytes) TH_LOG("%s wrote bytes", #stmt);	\
	ASSERT_EQ(0, hc.done) TH_LOG("%s wrote done", #stmt);		\
} while (0)

	HOTCACHE_REJECTED(EINVAL, hc.flags |= NUMAMIG_HOTCACHE_FLAGS_ALL + 1);
	HOTCACHE_REJECTED(EINVAL, hc.flags |= 1ULL << 63);
	for (i = 0; i < 4; i++)
		HOTCACHE_REJECTED(EINVAL, hc.reserved[i] = 1);
	HOTCACHE_REJECTED(EINVAL, hc.buf_size = NUMAMIG_HOTCACHE_MIN_BUF - 1);
	HOTCACHE_REJECTED(EINVAL, hc.buf_size = 0);
	HOTCACHE_REJECTED(EINVAL, hc.pid = getpid());		/* FD and pid */
	HOTCACHE_REJECTED(EINVAL, hc.flags = 0; hc.fd = 0; hc.pid = 0);
	HOTCACHE_REJECTED(EINVAL, hc.flags = 0; hc.fd = 0; hc.pid = -1);
	HOTCACHE_REJECTED(EINVAL, hc.flags = 0; hc.pid = getpid());	/* fd set */
	close(1000);
	HOTCACHE_REJECTED(EBADF, hc.fd = 1000);
	HOTCACHE_REJECTED(ESRCH, hc.flags = 0; hc.fd = 0; hc.pid = nm_unused_pid());
	HOTCACHE_REJECTED(EFAULT, hc.buf_ptr = 8);
	guard = mmap(NULL, HC_BUF, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, guard);
	HOTCACHE_REJECTED(EFAULT, hc.buf_ptr = (uintptr_t)guard);
	ASSERT_EQ(-EFAULT, nm_ioctl(e->fd, NUMAMIG_IOC_HOTCACHE, NULL));
	ASSERT_EQ(-EFAULT, nm_ioctl(e->fd, NUMAMIG_IOC_HOTCACHE, guard));
	munmap(guard, HC_BUF);
}

TEST_HARNESS_MAIN
