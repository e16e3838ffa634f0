// SPDX-License-Identifier: GPL-2.0
/*
 * numamigctl hotcache prefetch: read the ranges of a dump into the page
 * cache, in parallel, optionally rate-capped, skipping what is cached.
 *
 * The ranges become pieces (byte runs in local pages, clipped to the
 * file's current size) grouped into chunks: the pieces of one file inside
 * one aligned window of pf_opts.chunk bytes.  Worker threads take chunks
 * in dump order.  Per chunk: mincore() on a mapping of the window tells
 * what is cached; the missing runs are read with readahead(2) (default),
 * posix_fadvise(WILLNEED) or pread(2).  The first two only start the I/O,
 * so a worker checks each chunk again a few chunks later: runs still not
 * cached then are read with pread(2), which waits for I/O in flight and
 * reads what readahead dropped (it is capped per call at the device's
 * limits, FACTS.md "Page cache").  Pages are counted as read when mincore
 * finally sees them cached.  Every file is opened with FADV_RANDOM so that
 * pread() reads exactly the pages asked for, with no readahead around
 * them.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <linux/openat2.h>

#include "cli.h"
#include "msg.h"
#include "prefetch.h"

#define MIB		(1024.0 * 1024.0)
#define INFLIGHT	(32ULL << 20)	/* bytes a worker leaves unchecked */
#define RA_DEFAULT	(128ULL << 10)	/* readahead cap when sysfs is mute */

struct pf_file {
	const struct hc_file *hf;
	char *name;		/* for messages: DIR + path */
	int fd;
	uint64_t ra_unit;	/* bytes per readahead call */
	atomic_int err;		/* first read error */
};

struct pf_piece {
	uint64_t off, len;	/* bytes, local page aligned */
};

struct pf_chunk {
	size_t file;
	size_t piece, npieces;
	uint64_t span_off, span_len;	/* from the first piece to the last */
};

struct pf_ctx {
	const struct pf_opts *o;
	uint64_t ps;			/* local page size */
	struct pf_file *files;
	size_t nfiles;
	struct pf_piece *pieces;
	size_t npieces, cap_pieces;
	struct pf_chunk *chunks;
	size_t nchunks, cap_chunks;
	atomic_size_t next;		/* next chunk to take */
	pthread_mutex_t rate_lock;
	uint64_t rate_next_ns;		/* when the next byte may go */
};

struct pf_stats {
	uint64_t resident, read, failed;
};

struct pending {
	size_t chunk;
	unsigned char *vec;		/* mincore() before the reads */
};

struct pf_worker {
	struct pf_ctx *c;
	pthread_t thread;
	struct pf_stats st;
	unsigned char *scratch;		/* pread() target, one chunk */
	unsigned char *vec;		/* mincore() vector, one chunk */
	struct pending *ring;
	size_t lag, head, count;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------------ */
/* The workers                                                        */
/* ------------------------------------------------------------------ */

/* A token bucket without burst: reserve @bytes, sleep until their turn. */
static void rate_wait(struct pf_ctx *c, uint64_t bytes)
{
	uint64_t now, at;
	struct timespec ts;

	if (!c->o->rate)
		return;
	pthread_mutex_lock(&c->rate_lock);
	now = now_ns();
	at = c->rate_next_ns > now ? c->rate_next_ns : now;
	c->rate_next_ns = at + (uint64_t)((double)bytes * 1e9 /
					  ((double)c->o->rate * MIB));
	pthread_mutex_unlock(&c->rate_lock);
	if (at <= now)
		return;
	ts.tv_sec = (time_t)(at / 1000000000ULL);
	ts.tv_nsec = (long)(at % 1000000000ULL);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* Which pages of [off, off + len) are cached.  Return: 0 or -errno. */
static int cached(int fd, uint64_t off, uint64_t len, unsigned char *vec)
{
	void *m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, (off_t)off);
	int r;

	if (m == MAP_FAILED)
		return -errno;
	r = mincore(m, len, vec) < 0 ? -errno : 0;
	munmap(m, len);
	return r;
}

/* pread() all of it.  Return: bytes read (short at EOF or on error). */
static uint64_t pread_full(struct pf_file *pf, unsigned char *buf,
			   uint64_t off, uint64_t len)
{
	uint64_t done = 0;

	while (done < len) {
		ssize_t n = pread(pf->fd, buf + done, len - done,
				  (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int zero = 0;

			atomic_compare_exchange_strong(&pf->err, &zero, errno);
		}
		if (n <= 0)
			break;
		done += (uint64_t)n;
	}
	return done;
}

/* Start reading [off, off + len); false when only pread() will do. */
static bool start_read(struct pf_worker *w, struct pf_file *pf, uint64_t off,
		       uint64_t len)
{
	enum pf_method m = w->c->o->method;

	for (uint64_t o = 0; o < len; o += pf->ra_unit) {
		uint64_t l = len - o < pf->ra_unit ? len - o : pf->ra_unit;

		if (m == PF_READAHEAD &&
		    readahead(pf->fd, (off64_t)(off + o), (size_t)l) < 0)
			return false;
		if (m == PF_FADVISE &&
		    posix_fadvise(pf->fd, (off_t)(off + o), (off_t)l,
				  POSIX_FADV_WILLNEED) != 0)
			return false;
	}
	return true;
}

/* Runs of pages of a chunk's pieces that pass a test (next_run()). */
enum run_test {
	RUN_ALL,		/* every page */
	RUN_CACHED,		/* a[i] & 1 */
	RUN_MISSING,		/* !(a[i] & 1) */
	RUN_STILL_MISSING,	/* !(a[i] & 1) && !(b[i] & 1) */
};

struct run_iter {
	const struct pf_ctx *c;
	const struct pf_chunk *ch;
	size_t piece;		/* next piece to load */
	size_t i, end;		/* pages of the span, in the current piece */
};

static void runs_begin(struct run_iter *it, const struct pf_ctx *c,
		       const struct pf_chunk *ch)
{
	it->c = c;
	it->ch = ch;
	it->piece = ch->piece;
	it->i = it->end = 0;
}

static bool run_want(enum run_test t, const unsigned char *a,
		     const unsigned char *b, size_t i)
{
	switch (t) {
	case RUN_CACHED:
		return a[i] & 1;
	case RUN_MISSING:
		return !(a[i] & 1);
	case RUN_STILL_MISSING:
		return !(a[i] & 1) && !(b[i] & 1);
	default:
		return true;
	}
}

/* The next run [*ra, *rb) of span pages passing @t; false at the end. */
static bool next_run(struct run_iter *it, enum run_test t,
		     const unsigned char *a, const unsigned char *b,
		     size_t *ra, size_t *rb)
{
	for (;;) {
		if (it->i >= it->end) {
			const struct pf_piece *pc;

			if (it->piece == it->ch->piece + it->ch->npieces)
				return false;
			pc = &it->c->pieces[it->piece++];
			it->i = (size_t)((pc->off - it->ch->span_off) / it->c->ps);
			it->end = it->i + (size_t)(pc->len / it->c->ps);
			continue;
		}
		if (!run_want(t, a, b, it->i)) {
			it->i++;
			continue;
		}
		*ra = it->i;
		while (it->i < it->end && run_want(t, a, b, it->i))
			it->i++;
		*rb = it->i;
		return true;
	}
}

static uint64_t count_pages(const struct pf_ctx *c, const struct pf_chunk *ch,
			    enum run_test t, const unsigned char *a,
			    const unsigned char *b)
{
	struct run_iter it;
	uint64_t n = 0;
	size_t ra, rb;

	runs_begin(&it, c, ch);
	while (next_run(&it, t, a, b, &ra, &rb))
		n += rb - ra;
	return n;
}

/*
 * Finish a chunk whose missing pages (!(vec0[i] & 1)) were asked for:
 * when @retry, pread() what is still missing; then count.
 */
static void finish_chunk(struct pf_worker *w, size_t ci,
			 const unsigned char *vec0, bool retry)
{
	struct pf_ctx *c = w->c;
	const struct pf_chunk *ch = &c->chunks[ci];
	struct pf_file *pf = &c->files[ch->file];
	unsigned char *vec = w->vec;
	uint64_t missing, still;
	struct run_iter it;
	size_t ra, rb;

	missing = count_pages(c, ch, RUN_MISSING, vec0, NULL);
	if (!missing)
		return;
	if (cached(pf->fd, ch->span_off, ch->span_len, vec) < 0) {
		w->st.read += missing;	/* cannot look: believe the reads */
		return;
	}
	if (retry && count_pages(c, ch, RUN_STILL_MISSING, vec0, vec)) {
		runs_begin(&it, c, ch);
		while (next_run(&it, RUN_STILL_MISSING, vec0, vec, &ra, &rb))
			pread_full(pf, w->scratch, ch->span_off + ra * c->ps,
				   (rb - ra) * c->ps);
		if (cached(pf->fd, ch->span_off, ch->span_len, vec) < 0) {
			w->st.read += missing;
			return;
		}
	}
	still = count_pages(c, ch, RUN_STILL_MISSING, vec0, vec);
	w->st.read += missing - still;
	w->st.failed += still;
}

static void finish_oldest(struct pf_worker *w)
{
	struct pending *p = &w->ring[w->head];

	finish_chunk(w, p->chunk, p->vec, true);
	w->head = (w->head + 1) % w->lag;
	w->count--;
}

static void do_chunk(struct pf_worker *w, size_t ci)
{
	struct pf_ctx *c = w->c;
	const struct pf_chunk *ch = &c->chunks[ci];
	struct pf_file *pf = &c->files[ch->file];
	size_t npages = (size_t)(ch->span_len / c->ps), ra, rb;
	bool async = c->o->method != PF_PREAD, known, started = true;
	struct pending *p = NULL;
	unsigned char *vec0;
	struct run_iter it;

	if (async) {
		if (w->count == w->lag)
			finish_oldest(w);
		p = &w->ring[(w->head + w->count) % w->lag];
		vec0 = p->vec;
	} else {
		vec0 = w->vec + c->o->chunk / c->ps;	/* second half */
	}
	known = cached(pf->fd, ch->span_off, ch->span_len, vec0) == 0;
	if (!known)
		memset(vec0, 0, npages);
	w->st.resident += count_pages(c, ch, RUN_CACHED, vec0, NULL);

	runs_begin(&it, c, ch);
	while (next_run(&it, RUN_MISSING, vec0, NULL, &ra, &rb)) {
		uint64_t off = ch->span_off + ra * c->ps;
		uint64_t len = (rb - ra) * c->ps;

		rate_wait(c, len);
		if (async && known && started)
			started = start_read(w, pf, off, len);
		if (!async || !known || !started)
			pread_full(pf, w->scratch, off, len);
	}

	if (!known) {
		/* No mapping to look at: pread() did it all, believe it. */
		w->st.read += count_pages(c, ch, RUN_ALL, NULL, NULL);
		return;
	}
	if (async && started) {
		p->chunk = ci;
		w->count++;
		return;
	}
	finish_chunk(w, ci, vec0, async);
}

static void *worker(void *arg)
{
	struct pf_worker *w = arg;
	struct pf_ctx *c = w->c;
	size_t ci;

	while ((ci = atomic_fetch_add(&c->next, 1)) < c->nchunks)
		do_chunk(w, ci);
	while (w->count)
		finish_oldest(w);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Files, pieces, chunks                                              */
/* ------------------------------------------------------------------ */

static uint64_t read_kb(const char *fmt, unsigned int maj, unsigned int min,
			bool *found)
{
	unsigned long long v = 0;
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), fmt, maj, min);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fscanf(f, "%llu", &v) == 1)
		*found = true;
	fclose(f);
	return v;
}

/*
 * The most readahead(2) reads per call on @dev: max(io_pages, ra_pages)
 * (mm/readahead.c, force_page_cache_ra()), i.e. the larger of the
 * queue's max_sectors_kb and read_ahead_kb (a partition's are its disk's).
 */
static uint64_t ra_cap(dev_t dev)
{
	static const char *const dirs[] = {
		"/sys/dev/block/%u:%u/queue/",
		"/sys/dev/block/%u:%u/../queue/",
	};
	unsigned int maj = major(dev), min = minor(dev);
	uint64_t io = 0, ra = 0, cap;
	bool found = false;
	char fmt[96];

	for (size_t i = 0; i < 2 && !found; i++) {
		snprintf(fmt, sizeof(fmt), "%smax_sectors_kb", dirs[i]);
		io = read_kb(fmt, maj, min, &found);
		snprintf(fmt, sizeof(fmt), "%sread_ahead_kb", dirs[i]);
		ra = read_kb(fmt, maj, min, &found);
	}
	if (!found)	/* not a block device: NFS, FUSE, ... have a bdi */
		ra = read_kb("/sys/class/bdi/%u:%u/read_ahead_kb", maj, min, &found);
	cap = (io > ra ? io : ra) << 10;
	return cap ? cap : RA_DEFAULT;
}

static int add_piece(struct pf_ctx *c, size_t file, uint64_t off, uint64_t len)
{
	uint64_t win = off / c->o->chunk;
	struct pf_chunk *ch;
	struct pf_piece *last;

	if (c->npieces == c->cap_pieces) {
		size_t cap = c->cap_pieces ? c->cap_pieces * 2 : 256;
		struct pf_piece *n = realloc(c->pieces, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		c->pieces = n;
		c->cap_pieces = cap;
	}
	if (c->nchunks == c->cap_chunks) {
		size_t cap = c->cap_chunks ? c->cap_chunks * 2 : 256;
		struct pf_chunk *n = realloc(c->chunks, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		c->chunks = n;
		c->cap_chunks = cap;
	}
	ch = c->nchunks ? &c->chunks[c->nchunks - 1] : NULL;
	if (!ch || ch->file != file || ch->span_off / c->o->chunk != win) {
		/* A new window: a new chunk. */
		ch = &c->chunks[c->nchunks++];
		ch->file = file;
		ch->piece = c->npieces;
		ch->npieces = 0;
		ch->span_off = off;
	}
	last = ch->npieces ? &c->pieces[c->npieces - 1] : NULL;
	if (last && last->off + last->len == off) {
		last->len += len;	/* touching: one piece */
	} else {
		c->pieces[c->npieces].off = off;
		c->pieces[c->npieces].len = len;
		c->npieces++;
		ch->npieces++;
	}
	ch->span_len = off + len - ch->span_off;
	return 0;
}

/*
 * The dump's ranges of one file as pieces: bytes in local pages, within
 * the current size, cut at chunk windows.  *beyond counts local pages of
 * the dump past the end of the file.
 */
static int add_file_pieces(struct pf_ctx *c, size_t file, uint32_t dps,
			   uint64_t size, uint64_t *requested, uint64_t *beyond)
{
	const struct hc_file *hf = c->files[file].hf;
	uint64_t ps = c->ps, limit = (size + ps - 1) / ps * ps, prev_end = 0;

	for (size_t i = 0; i < hf->nr; i++) {
		uint64_t s = hf->r[i].start * dps;
		uint64_t e = s + hf->r[i].npages * dps;
		uint64_t want = e - s;

		if (e > limit)
			e = limit;
		if (s > e)
			s = e;
		*beyond += (want - (e - s)) / ps;
		s = s / ps * ps;
		e = (e + ps - 1) / ps * ps;
		if (s < prev_end)	/* dump pages smaller than ours */
			s = prev_end;
		while (s < e) {
			uint64_t wend = (s / c->o->chunk + 1) * c->o->chunk;
			uint64_t pe = e < wend ? e : wend;

			if (add_piece(c, file, s, pe - s) < 0)
				return -ENOMEM;
			*requested += (pe - s) / ps;
			s = pe;
		}
		if (e > prev_end)
			prev_end = e;
	}
	return 0;
}

/* open() with O_NOATIME when allowed; under @rootfd with RESOLVE_IN_ROOT. */
static int open_file(int rootfd, const char *root, const char *path)
{
	int flags = O_RDONLY | O_CLOEXEC | O_NOATIME | O_NOCTTY | O_NONBLOCK;
	char *full;
	int fd;

	for (int pass = 0; pass < 2; pass++) {
		if (rootfd >= 0) {
			struct open_how how = {
				.flags = (uint64_t)flags,
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
			};

			fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
			if (fd < 0 && errno == ENOSYS) {
				/* Before 5.6: symlinks may leave the root. */
				if (asprintf(&full, "%s%s", root, path) < 0)
					return -1;
				fd = open(full, flags);
				free(full);
			}
		} else {
			fd = open(path, flags);
		}
		if (fd >= 0 || errno != EPERM || !(flags & O_NOATIME))
			break;
		flags &= ~O_NOATIME;	/* not the owner, no CAP_FOWNER */
	}
	return fd;
}

struct pf_counts {
	size_t ok, missing, unreadable, changed;
	uint64_t requested, beyond;
};

/* How @st differs from the dump; "" if it does not. */
static void identity_diff(char *buf, size_t len, const struct hc_file *hf,
			  const struct stat *st, bool same_host)
{
	size_t used = 0;

	buf[0] = '\0';
	if ((uint64_t)st->st_size != hf->size)
		used += (size_t)snprintf(buf + used, len - used,
					 "size %" PRIu64 " -> %lld", hf->size,
					 (long long)st->st_size);
	if (used < len && (st->st_mtim.tv_sec != hf->mtime_sec ||
			   (uint64_t)st->st_mtim.tv_nsec != hf->mtime_nsec))
		used += (size_t)snprintf(buf + used, len - used, "%smtime",
					 used ? ", " : "");
	if (used < len && same_host &&
	    ((uint64_t)st->st_dev != hf->dev || (uint64_t)st->st_ino != hf->ino))
		snprintf(buf + used, len - used, "%sdevice or inode",
			 used ? ", " : "");
}

static int prepare(struct pf_ctx *c, const struct hc_dump *d,
		   struct pf_counts *n)
{
	const struct pf_opts *o = c->o;
	char host[HC_HOSTNAME_LEN] = "", diff[128];
	struct { dev_t dev; uint64_t cap; } cache[16];
	size_t ncache = 0;
	size_t rlen = o->root ? strlen(o->root) : 0;
	int rootfd = -1;
	bool same_host;

	while (rlen > 0 && o->root[rlen - 1] == '/')
		rlen--;		/* "DIR/" + "/path": one slash */

	if (gethostname(host, sizeof(host) - 1) < 0)
		host[0] = '\0';
	same_host = d->hostname[0] && !strcmp(host, d->hostname);
	if (o->root) {
		rootfd = open(o->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (rootfd < 0) {
			nm_err(errno, NULL, "hotcache prefetch: cannot open root %s",
			       o->root);
			return -1;
		}
	}
	for (size_t i = 0; i < d->nr; i++) {
		const struct hc_file *hf = &d->f[i];
		struct pf_file *pf = &c->files[c->nfiles];
		uint64_t cap = 0;
		struct stat st;
		int e;

		memset(pf, 0, sizeof(*pf));
		pf->fd = -1;
		pf->hf = hf;
		if (asprintf(&pf->name, "%.*s%s", (int)rlen, o->root ? o->root : "",
			     hf->path) < 0) {
			pf->name = NULL;
			nm_err(ENOMEM, NULL, "hotcache prefetch");
			goto fail;
		}
		c->nfiles++;
		pf->fd = open_file(rootfd, o->root, hf->path);
		if (pf->fd < 0) {
			e = errno;
			if (e == ENOENT || e == ENOTDIR) {
				n->missing++;
				nm_warn("%s: missing, skipped", pf->name);
			} else {
				n->unreadable++;
				nm_warn("cannot open %s: %s", pf->name, strerror(e));
			}
			continue;
		}
		if (fstat(pf->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			n->unreadable++;
			nm_warn("%s: not a regular file, skipped", pf->name);
			goto skip;
		}
		/* O_NONBLOCK only kept open() from hanging on a FIFO. */
		fcntl(pf->fd, F_SETFL, fcntl(pf->fd, F_GETFL) & ~O_NONBLOCK);
		identity_diff(diff, sizeof(diff), hf, &st, same_host);
		if (diff[0]) {
			n->changed++;
			if (o->verify_identity) {
				nm_warn("%s changed since the dump (%s), skipped",
					pf->name, diff);
				goto skip;
			}
			nm_warn("%s changed since the dump (%s): prefetching within its current size",
				pf->name, diff);
		}
		posix_fadvise(pf->fd, 0, 0, POSIX_FADV_RANDOM);
		for (size_t k = 0; k < ncache && !cap; k++)
			if (cache[k].dev == st.st_dev)
				cap = cache[k].cap;
		if (!cap) {
			cap = ra_cap(st.st_dev);
			if (ncache < 16)
				cache[ncache++] = (typeof(cache[0])){ st.st_dev, cap };
		}
		pf->ra_unit = cap < o->chunk ? cap : o->chunk;
		pf->ra_unit = pf->ra_unit / c->ps * c->ps;
		if (!pf->ra_unit)
			pf->ra_unit = c->ps;
		if (add_file_pieces(c, c->nfiles - 1, d->page_size,
				    (uint64_t)st.st_size, &n->requested,
				    &n->beyond) < 0) {
			nm_err(ENOMEM, NULL, "hotcache prefetch");
			goto fail;
		}
		n->ok++;
		continue;
skip:
		close(pf->fd);
		pf->fd = -1;
	}
	if (rootfd >= 0)
		close(rootfd);
	return 0;
fail:
	if (rootfd >= 0)
		close(rootfd);
	return -1;
}

/* ------------------------------------------------------------------ */
/* The command                                                        */
/* ------------------------------------------------------------------ */

static int run_workers(struct pf_ctx *c, struct pf_stats *total)
{
	size_t nw = c->o->jobs < c->nchunks ? c->o->jobs : c->nchunks;
	size_t chunk_pages = (size_t)(c->o->chunk / c->ps);
	struct pf_worker *w;
	size_t started = 0;
	int ret = 0;

	if (!nw)
		return 0;
	w = calloc(nw, sizeof(*w));
	if (!w)
		return -ENOMEM;
	for (size_t i = 0; i < nw; i++) {
		w[i].c = c;
		w[i].lag = INFLIGHT / c->o->chunk ? INFLIGHT / c->o->chunk : 1;
		w[i].scratch = malloc(c->o->chunk);
		w[i].vec = malloc(2 * chunk_pages);
		w[i].ring = calloc(w[i].lag, sizeof(*w[i].ring));
		if (!w[i].scratch || !w[i].vec || !w[i].ring) {
			ret = -ENOMEM;
			goto out;
		}
		for (size_t k = 0; k < w[i].lag; k++) {
			w[i].ring[k].vec = malloc(chunk_pages);
			if (!w[i].ring[k].vec) {
				ret = -ENOMEM;
				goto out;
			}
		}
	}
	for (; started < nw; started++) {
		ret = -pthread_create(&w[started].thread, NULL, worker, &w[started]);
		if (ret)
			break;
	}
	if (started)
		ret = 0;	/* fewer threads still get it all done */
	for (size_t i = 0; i < started; i++) {
		pthread_join(w[i].thread, NULL);
		total->resident += w[i].st.resident;
		total->read += w[i].st.read;
		total->failed += w[i].st.failed;
	}
out:
	for (size_t i = 0; i < nw; i++) {
		for (size_t k = 0; w[i].ring && k < w[i].lag; k++)
			free(w[i].ring[k].vec);
		free(w[i].ring);
		free(w[i].scratch);
		free(w[i].vec);
	}
	free(w);
	return ret;
}

int hc_prefetch(const struct hc_dump *d, const struct pf_opts *o)
{
	struct pf_ctx c = { .o = o };
	struct pf_counts n = { 0 };
	struct pf_stats st = { 0 };
	struct pf_opts opts = *o;
	uint64_t t0 = now_ns(), ns;
	char changed[48] = "";
	long ps = sysconf(_SC_PAGESIZE);
	double secs, rate;
	int r, ret = EXIT_FAIL;

	c.o = &opts;
	c.ps = ps > 0 ? (uint64_t)ps : 4096;
	opts.chunk = (opts.chunk + c.ps - 1) / c.ps * c.ps;
	pthread_mutex_init(&c.rate_lock, NULL);
	c.files = calloc(d->nr + 1, sizeof(*c.files));
	if (!c.files) {
		nm_err(ENOMEM, NULL, "hotcache prefetch");
		return EXIT_FAIL;
	}
	if (prepare(&c, d, &n) < 0)
		goto out;
	r = run_workers(&c, &st);
	if (r < 0) {
		nm_err(-r, NULL, "hotcache prefetch: starting workers");
		goto out;
	}
	for (size_t i = 0; i < c.nfiles; i++)
		if (c.files[i].err)
			nm_warn("reading %s: %s", c.files[i].name,
				strerror(c.files[i].err));
	ns = now_ns() - t0;
	secs = (double)ns / 1e9;
	rate = secs > 0 ? (double)st.read * (double)c.ps / MIB / secs : 0.0;
	if (n.changed)
		snprintf(changed, sizeof(changed), ", %zu changed%s", n.changed,
			 o->verify_identity ? " (skipped)" : "");
	nm_msg("hotcache prefetch: %zu of %zu file%s (%zu missing, %zu unreadable%s), %"
	       PRIu64 " pages requested (%.1f MiB): %" PRIu64 " already resident, %"
	       PRIu64 " read, %" PRIu64 " not read%s; %.3f s, %.1f MiB/s",
	       n.ok, d->nr, d->nr == 1 ? "" : "s", n.missing, n.unreadable,
	       changed, n.requested,
	       (double)n.requested * (double)c.ps / MIB, st.resident, st.read,
	       st.failed, n.beyond ? " (some past the end of a file)" : "",
	       secs, rate);
	if (d->nr && !n.ok)
		nm_msg("hotcache prefetch: no file of the dump could be read");
	else
		ret = EXIT_OK;
out:
	for (size_t i = 0; i < c.nfiles; i++) {
		if (c.files[i].fd >= 0)
			close(c.files[i].fd);
		free(c.files[i].name);
	}
	free(c.files);
	free(c.pieces);
	free(c.chunks);
	pthread_mutex_destroy(&c.rate_lock);
	return ret;
}
