// SPDX-License-Identifier: GPL-2.0
/*
 * numamigctl: hotcache dumps in memory and in their file format.  The
 * format is described in HOTCACHE-FORMAT.md; the decoder trusts nothing:
 * every size, count, offset and index is checked before it is used.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hcdump.h"

static const char *const class_names[HC_CLASSES] = {
	[HC_ACTIVE] = "active",
	[HC_REFERENCED] = "referenced",
	[HC_INACTIVE] = "inactive",
};

const char *hc_class_name(unsigned int class)
{
	return class < HC_CLASSES ? class_names[class] : "unknown";
}

uint64_t hc_file_pages(const struct hc_file *f)
{
	uint64_t n = 0;

	for (size_t i = 0; i < f->nr; i++)
		n += f->r[i].npages;
	return n;
}

uint64_t hc_file_class_pages(const struct hc_file *f, unsigned int class)
{
	uint64_t n = 0;

	for (size_t i = 0; i < f->nr; i++)
		if (f->r[i].class == class)
			n += f->r[i].npages;
	return n;
}

uint64_t hc_dump_pages(const struct hc_dump *d)
{
	uint64_t n = 0;

	for (size_t i = 0; i < d->nr; i++)
		n += hc_file_pages(&d->f[i]);
	return n;
}

/* ------------------------------------------------------------------ */
/* Building                                                           */
/* ------------------------------------------------------------------ */

struct hc_file *hc_add_file(struct hc_dump *d, const char *path,
			    size_t path_len)
{
	struct hc_file *f;
	char *p;

	if (d->nr == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct hc_file *nf = realloc(d->f, cap * sizeof(*nf));

		if (!nf)
			return NULL;
		d->f = nf;
		d->cap = cap;
	}
	p = malloc(path_len + 1);
	if (!p)
		return NULL;
	memcpy(p, path, path_len);
	p[path_len] = '\0';
	f = &d->f[d->nr];
	memset(f, 0, sizeof(*f));
	f->path = p;
	f->seq = d->nr++;
	return f;
}

int hc_add_range(struct hc_file *f, uint64_t start, uint64_t npages,
		 unsigned int class)
{
	if (f->nr == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 8;
		struct hc_range *nr = realloc(f->r, cap * sizeof(*nr));

		if (!nr)
			return -ENOMEM;
		f->r = nr;
		f->cap = cap;
	}
	f->r[f->nr].start = start;
	f->r[f->nr].npages = npages;
	f->r[f->nr].class = (uint8_t)class;
	f->nr++;
	return 0;
}

static void file_free(struct hc_file *f)
{
	free(f->path);
	free(f->r);
	memset(f, 0, sizeof(*f));
}

void hc_free(struct hc_dump *d)
{
	for (size_t i = 0; i < d->nr; i++)
		file_free(&d->f[i]);
	free(d->f);
	memset(d, 0, sizeof(*d));
}

/* ------------------------------------------------------------------ */
/* Range algebra                                                      */
/* ------------------------------------------------------------------ */

struct event {
	uint64_t pos;
	int delta;		/* +1 a range starts, -1 it ends */
	unsigned int class;
};

static int event_cmp(const void *a, const void *b)
{
	const struct event *x = a, *y = b;

	if (x->pos != y->pos)
		return x->pos < y->pos ? -1 : 1;
	return 0;
}

/* Append [start, start + n) to out[], joining a touching run of the class. */
static void emit(struct hc_range *out, size_t *nout, uint64_t start,
		 uint64_t n, unsigned int class)
{
	struct hc_range *last = *nout ? &out[*nout - 1] : NULL;

	if (last && last->class == class && last->start + last->npages == start) {
		last->npages += n;
		return;
	}
	out[*nout].start = start;
	out[*nout].npages = n;
	out[*nout].class = (uint8_t)class;
	(*nout)++;
}

static bool sorted_disjoint(const struct hc_file *f)
{
	for (size_t i = 1; i < f->nr; i++)
		if (f->r[i].start < f->r[i - 1].start + f->r[i - 1].npages)
			return false;
	return true;
}

int hc_normalize(struct hc_file *f)
{
	uint64_t count[HC_CLASSES] = { 0 }, prev;
	size_t nout = 0, nev = 0, room = 2 * f->nr;
	struct hc_range *out;
	struct event *ev;

	if (sorted_disjoint(f)) {
		/* The usual case: only touching runs to join, in place. */
		for (size_t i = 0; i < f->nr; i++)
			if (f->r[i].npages)
				emit(f->r, &nout, f->r[i].start, f->r[i].npages,
				     f->r[i].class);
		f->nr = nout;
		return 0;
	}
	/*
	 * A sweep over range boundaries: between two boundaries the pages
	 * have the hottest class of the ranges covering them.  At most
	 * 2n - 1 pieces come out of n ranges.
	 */
	ev = malloc(room * sizeof(*ev));
	out = malloc(room * sizeof(*out));
	if (!ev || !out) {
		free(ev);
		free(out);
		return -ENOMEM;
	}
	for (size_t i = 0; i < f->nr; i++) {
		if (!f->r[i].npages)
			continue;
		ev[nev++] = (struct event){ f->r[i].start, 1, f->r[i].class };
		ev[nev++] = (struct event){ f->r[i].start + f->r[i].npages, -1,
					    f->r[i].class };
	}
	qsort(ev, nev, sizeof(*ev), event_cmp);
	prev = nev ? ev[0].pos : 0;
	for (size_t i = 0; i < nev;) {
		uint64_t pos = ev[i].pos;

		if (pos > prev) {
			for (unsigned int c = 0; c < HC_CLASSES; c++) {
				if (count[c]) {
					emit(out, &nout, prev, pos - prev, c);
					break;
				}
			}
		}
		for (; i < nev && ev[i].pos == pos; i++)
			count[ev[i].class] += (uint64_t)(int64_t)ev[i].delta;
		prev = pos;
	}
	free(ev);
	free(f->r);
	f->r = out;
	f->nr = nout;
	f->cap = room;
	return 0;
}

static int same_file_cmp(const void *a, const void *b)
{
	const struct hc_file *x = *(struct hc_file *const *)a;
	const struct hc_file *y = *(struct hc_file *const *)b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Move the ranges of @from to the end of @to. */
static int take_ranges(struct hc_file *to, struct hc_file *from)
{
	if (to->nr + from->nr > to->cap) {
		size_t cap = to->nr + from->nr;
		struct hc_range *nr = realloc(to->r, cap * sizeof(*nr));

		if (!nr)
			return -ENOMEM;
		to->r = nr;
		to->cap = cap;
	}
	memcpy(to->r + to->nr, from->r, from->nr * sizeof(*from->r));
	to->nr += from->nr;
	from->nr = 0;
	return 0;
}

int hc_merge_same_files(struct hc_dump *d)
{
	struct hc_file **idx;
	size_t kept = 0;
	int ret = 0;

	if (d->nr < 2)
		return d->nr ? hc_normalize(&d->f[0]) : 0;
	idx = malloc(d->nr * sizeof(*idx));
	if (!idx)
		return -ENOMEM;
	for (size_t i = 0; i < d->nr; i++) {
		d->f[i].seq = i;
		idx[i] = &d->f[i];
	}
	qsort(idx, d->nr, sizeof(*idx), same_file_cmp);
	for (size_t i = 0; i < d->nr && !ret;) {
		struct hc_file *first = idx[i];
		size_t k = i + 1;

		for (; k < d->nr && idx[k]->dev == first->dev &&
		       idx[k]->ino == first->ino && !ret; k++) {
			ret = take_ranges(first, idx[k]);
			first->flags |= idx[k]->flags;
			idx[k]->flags = UINT32_MAX;	/* to drop */
		}
		if (!ret)
			ret = hc_normalize(first);
		i = k;
	}
	free(idx);
	if (ret)
		return ret;
	for (size_t i = 0; i < d->nr; i++) {
		if (d->f[i].flags == UINT32_MAX) {
			file_free(&d->f[i]);
			continue;
		}
		d->f[kept] = d->f[i];
		d->f[kept].seq = kept;
		kept++;
	}
	d->nr = kept;
	return 0;
}

void hc_filter(struct hc_dump *d, unsigned int class_mask)
{
	size_t kept = 0;

	for (size_t i = 0; i < d->nr; i++) {
		struct hc_file *f = &d->f[i];
		size_t n = 0;

		for (size_t k = 0; k < f->nr; k++)
			if (class_mask & (1U << f->r[k].class))
				f->r[n++] = f->r[k];
		f->nr = n;
		if (!n) {
			file_free(f);
			continue;
		}
		d->f[kept++] = *f;
	}
	d->nr = kept;
}

int hc_subtract(const struct hc_file *b, const struct hc_file *a,
		struct hc_range **out, size_t *nout)
{
	struct hc_range *o;
	size_t n = 0, j = 0;

	/* Each range of @a splits at most one piece off a range of @b. */
	o = malloc((a->nr + b->nr + 1) * sizeof(*o));
	if (!o)
		return -ENOMEM;
	for (size_t i = 0; i < b->nr; i++) {
		uint64_t s = b->r[i].start, e = s + b->r[i].npages;
		unsigned int c = b->r[i].class;
		size_t k;

		while (j < a->nr && a->r[j].start + a->r[j].npages <= s)
			j++;
		for (k = j; s < e; k++) {
			uint64_t as, ae;

			if (k >= a->nr || a->r[k].start >= e) {
				emit(o, &n, s, e - s, c);
				break;
			}
			as = a->r[k].start;
			ae = as + a->r[k].npages;
			if (as > s)
				emit(o, &n, s, as - s, c);
			if (ae > s)
				s = ae;
		}
	}
	*out = o;
	*nout = n;
	return 0;
}

/* ------------------------------------------------------------------ */
/* CRC-32 and little-endian helpers                                   */
/* ------------------------------------------------------------------ */

uint32_t hc_crc32(uint32_t crc, const void *buf, size_t len)
{
	static uint32_t table[256];
	const unsigned char *p = buf;

	if (!table[1]) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;

			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0xEDB88320U ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
	}
	crc = ~crc;
	while (len--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static size_t uleb_len(uint64_t v)
{
	size_t n = 1;

	while (v >>= 7)
		n++;
	return n;
}

static size_t uleb_put(unsigned char *p, uint64_t v)
{
	size_t n = 0;

	do {
		unsigned char b = v & 0x7f;

		v >>= 7;
		p[n++] = v ? b | 0x80 : b;
	} while (v);
	return n;
}

/*
 * Read one unsigned LEB128 number of at most 64 bits, in its shortest
 * form only.  Return: 0, or -1 (runs past @end, too long, not shortest).
 */
static int uleb_get(const unsigned char **pp, const unsigned char *end,
		    uint64_t *v)
{
	const unsigned char *p = *pp;
	uint64_t val = 0;
	unsigned int shift = 0;

	for (;;) {
		unsigned char b;

		if (p >= end || shift > 63)
			return -1;
		b = *p++;
		if (shift == 63 && (b & 0x7e))
			return -1;	/* bits beyond 64 */
		val |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			if (b == 0 && shift)
				return -1;	/* a needless zero byte */
			break;
		}
		shift += 7;
	}
	*pp = p;
	*v = val;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Encoding                                                           */
/* ------------------------------------------------------------------ */

/* Header offsets (HOTCACHE-FORMAT.md). */
enum {
	H_MAGIC = 0, H_VERSION = 8, H_HEADER_SIZE = 12, H_RECORD_SIZE = 16,
	H_PAGE_SIZE = 20, H_FLAGS = 24, H_HEADER_CRC = 28, H_CREATED = 32,
	H_NR_FILES = 40, H_TOTAL_PAGES = 48, H_BODY_SIZE = 56, H_BODY_CRC = 64,
	H_RESERVED = 68, H_HOSTNAME = 72,
};

/* Record offsets. */
enum {
	R_SIZE = 0, R_FLAGS = 8, R_PATH_LEN = 12, R_DEV = 16, R_INO = 24,
	R_FSIZE = 32, R_MTIME_SEC = 40, R_MTIME_NSEC = 48, R_RESERVED = 52,
	R_NR_RANGES = 56, R_PAGES = 64,
};

static size_t record_size(const struct hc_file *f)
{
	size_t n = HC_RECORD_HEADER_SIZE + strlen(f->path);
	uint64_t prev_end = 0;

	for (size_t i = 0; i < f->nr; i++) {
		n += uleb_len(f->r[i].start - prev_end);
		n += uleb_len(f->r[i].npages << 2 | f->r[i].class);
		prev_end = f->r[i].start + f->r[i].npages;
	}
	return n;
}

int hc_encode(const struct hc_dump *d, unsigned char **bufp, size_t *lenp)
{
	size_t len = HC_HEADER_SIZE, hlen;
	unsigned char *buf, *p;

	for (size_t i = 0; i < d->nr; i++) {
		if (strlen(d->f[i].path) > HC_PATH_MAX)
			return -EOVERFLOW;
		len += record_size(&d->f[i]);
	}
	buf = calloc(1, len);
	if (!buf)
		return -ENOMEM;
	p = buf + HC_HEADER_SIZE;
	for (size_t i = 0; i < d->nr; i++) {
		const struct hc_file *f = &d->f[i];
		size_t plen = strlen(f->path);
		uint64_t prev_end = 0;
		unsigned char *rec = p;

		put64(rec + R_SIZE, record_size(f));
		put32(rec + R_FLAGS, f->flags);
		put32(rec + R_PATH_LEN, (uint32_t)plen);
		put64(rec + R_DEV, f->dev);
		put64(rec + R_INO, f->ino);
		put64(rec + R_FSIZE, f->size);
		put64(rec + R_MTIME_SEC, (uint64_t)f->mtime_sec);
		put32(rec + R_MTIME_NSEC, f->mtime_nsec);
		put64(rec + R_NR_RANGES, f->nr);
		put64(rec + R_PAGES, hc_file_pages(f));
		p += HC_RECORD_HEADER_SIZE;
		memcpy(p, f->path, plen);
		p += plen;
		for (size_t k = 0; k < f->nr; k++) {
			p += uleb_put(p, f->r[k].start - prev_end);
			p += uleb_put(p, f->r[k].npages << 2 | f->r[k].class);
			prev_end = f->r[k].start + f->r[k].npages;
		}
	}
	memcpy(buf + H_MAGIC, HC_MAGIC, 8);
	put32(buf + H_VERSION, HC_VERSION);
	put32(buf + H_HEADER_SIZE, HC_HEADER_SIZE);
	put32(buf + H_RECORD_SIZE, HC_RECORD_HEADER_SIZE);
	put32(buf + H_PAGE_SIZE, d->page_size);
	put32(buf + H_FLAGS, d->flags);
	put64(buf + H_CREATED, (uint64_t)d->created);
	put64(buf + H_NR_FILES, d->nr);
	put64(buf + H_TOTAL_PAGES, hc_dump_pages(d));
	put64(buf + H_BODY_SIZE, len - HC_HEADER_SIZE);
	put32(buf + H_BODY_CRC, hc_crc32(0, buf + HC_HEADER_SIZE,
					 len - HC_HEADER_SIZE));
	hlen = strnlen(d->hostname, HC_HOSTNAME_LEN - 1);
	memcpy(buf + H_HOSTNAME, d->hostname, hlen);
	put32(buf + H_HEADER_CRC, hc_crc32(0, buf, HC_HEADER_SIZE));
	*bufp = buf;
	*lenp = len;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Decoding                                                           */
/* ------------------------------------------------------------------ */

#define WHY(...) (snprintf(why, whylen, __VA_ARGS__), -EINVAL)

static bool all_zero(const unsigned char *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

static int decode_header(const unsigned char *buf, size_t len,
			 struct hc_dump *d, uint64_t *nr_files,
			 uint64_t *total, char *why, size_t whylen)
{
	unsigned char hdr[HC_HEADER_SIZE];
	uint32_t v, crc, stored;
	uint64_t body;
	size_t hlen;

	if (len < 8 || memcmp(buf, HC_MAGIC, 8))
		return WHY("not a hotcache dump (%s)",
			   len < 8 ? "too short" : "bad magic");
	if (len < 12)
		return WHY("truncated: %zu bytes, the header alone is %d",
			   len, HC_HEADER_SIZE);
	v = get32(buf + H_VERSION);
	if (v != HC_VERSION)
		return WHY("unsupported format version %" PRIu32
			   " (this numamigctl reads version %d)", v, HC_VERSION);
	if (len < HC_HEADER_SIZE)
		return WHY("truncated: %zu bytes, the header alone is %d",
			   len, HC_HEADER_SIZE);
	memcpy(hdr, buf, HC_HEADER_SIZE);
	stored = get32(hdr + H_HEADER_CRC);
	put32(hdr + H_HEADER_CRC, 0);
	crc = hc_crc32(0, hdr, HC_HEADER_SIZE);
	if (crc != stored)
		return WHY("bad header CRC (stored %08" PRIx32 ", computed %08"
			   PRIx32 "): the dump is corrupted", stored, crc);
	if (get32(hdr + H_HEADER_SIZE) != HC_HEADER_SIZE ||
	    get32(hdr + H_RECORD_SIZE) != HC_RECORD_HEADER_SIZE)
		return WHY("header or record size %" PRIu32 "/%" PRIu32
			   " is not version 1's %d/%d",
			   get32(hdr + H_HEADER_SIZE), get32(hdr + H_RECORD_SIZE),
			   HC_HEADER_SIZE, HC_RECORD_HEADER_SIZE);
	d->page_size = get32(hdr + H_PAGE_SIZE);
	if (d->page_size < 512 || d->page_size > (1U << 20) ||
	    (d->page_size & (d->page_size - 1)))
		return WHY("bad page size %" PRIu32, d->page_size);
	d->flags = get32(hdr + H_FLAGS);
	if (d->flags & ~HC_DUMP_FLAGS_ALL)
		return WHY("unknown flags %#" PRIx32, d->flags);
	if (get32(hdr + H_RESERVED))
		return WHY("reserved header field is not zero");
	hlen = strnlen((const char *)hdr + H_HOSTNAME, HC_HOSTNAME_LEN);
	if (hlen == HC_HOSTNAME_LEN ||
	    !all_zero(hdr + H_HOSTNAME + hlen, HC_HOSTNAME_LEN - hlen))
		return WHY("bad host name field");
	memcpy(d->hostname, hdr + H_HOSTNAME, HC_HOSTNAME_LEN);
	d->created = (int64_t)get64(hdr + H_CREATED);
	*nr_files = get64(hdr + H_NR_FILES);
	*total = get64(hdr + H_TOTAL_PAGES);
	body = get64(hdr + H_BODY_SIZE);
	if (body > len - HC_HEADER_SIZE)
		return WHY("truncated: %zu bytes of files, the header says %" PRIu64,
			   len - HC_HEADER_SIZE, body);
	if (body < len - HC_HEADER_SIZE)
		return WHY("%zu bytes of trailing garbage",
			   (size_t)(len - HC_HEADER_SIZE - body));
	crc = hc_crc32(0, buf + HC_HEADER_SIZE, body);
	stored = get32(hdr + H_BODY_CRC);
	if (crc != stored)
		return WHY("bad CRC of the file list (stored %08" PRIx32
			   ", computed %08" PRIx32 "): the dump is corrupted",
			   stored, crc);
	if (*nr_files > body / HC_RECORD_HEADER_SIZE)
		return WHY("%" PRIu64 " files cannot fit in %" PRIu64 " bytes",
			   *nr_files, body);
	return 0;
}

/* One record at *pp; on success *pp moves past it. */
static int decode_record(const unsigned char **pp, const unsigned char *end,
			 struct hc_dump *d, uint64_t n, char *why,
			 size_t whylen)
{
	const unsigned char *rec = *pp, *p, *rend;
	uint64_t size, nr, pages, sum = 0, prev_end = 0, max_end;
	uint32_t plen;
	struct hc_file *f;

	max_end = (uint64_t)INT64_MAX / d->page_size;
	if ((size_t)(end - rec) < HC_RECORD_HEADER_SIZE)
		return WHY("file #%" PRIu64 ": record header runs past the end", n);
	size = get64(rec + R_SIZE);
	plen = get32(rec + R_PATH_LEN);
	nr = get64(rec + R_NR_RANGES);
	pages = get64(rec + R_PAGES);
	if (size > (uint64_t)(end - rec) || size < HC_RECORD_HEADER_SIZE)
		return WHY("file #%" PRIu64 ": record size %" PRIu64
			   " out of bounds", n, size);
	if (plen == 0 || plen > HC_PATH_MAX ||
	    plen > size - HC_RECORD_HEADER_SIZE)
		return WHY("file #%" PRIu64 ": bad path length %" PRIu32, n, plen);
	if (memchr(rec + HC_RECORD_HEADER_SIZE, '\0', plen))
		return WHY("file #%" PRIu64 ": NUL byte in the path", n);
	if (get32(rec + R_FLAGS) & ~HC_FILE_FLAGS_ALL)
		return WHY("file #%" PRIu64 ": unknown flags %#" PRIx32, n,
			   get32(rec + R_FLAGS));
	if (get32(rec + R_MTIME_NSEC) >= 1000000000U)
		return WHY("file #%" PRIu64 ": bad mtime nanoseconds", n);
	if (get32(rec + R_RESERVED))
		return WHY("file #%" PRIu64 ": reserved field is not zero", n);
	rend = rec + size;
	p = rec + HC_RECORD_HEADER_SIZE + plen;
	/* Every range takes at least two bytes. */
	if (nr > (uint64_t)(rend - p) / 2)
		return WHY("file #%" PRIu64 ": %" PRIu64
			   " ranges cannot fit in its record", n, nr);
	f = hc_add_file(d, (const char *)rec + HC_RECORD_HEADER_SIZE, plen);
	if (!f)
		return -ENOMEM;
	f->flags = get32(rec + R_FLAGS);
	f->dev = get64(rec + R_DEV);
	f->ino = get64(rec + R_INO);
	f->size = get64(rec + R_FSIZE);
	f->mtime_sec = (int64_t)get64(rec + R_MTIME_SEC);
	f->mtime_nsec = get32(rec + R_MTIME_NSEC);
	if (nr) {
		f->r = malloc(nr * sizeof(*f->r));
		if (!f->r)
			return -ENOMEM;
		f->cap = nr;
	}
	for (uint64_t i = 0; i < nr; i++) {
		uint64_t gap, v, cnt;

		if (uleb_get(&p, rend, &gap) || uleb_get(&p, rend, &v))
			return WHY("file #%" PRIu64 ": range %" PRIu64
				   " is badly encoded", n, i);
		cnt = v >> 2;
		if ((v & 3) >= HC_CLASSES || cnt == 0)
			return WHY("file #%" PRIu64 ": range %" PRIu64
				   " has a bad class or length", n, i);
		if (gap > max_end - prev_end || cnt > max_end - prev_end - gap)
			return WHY("file #%" PRIu64 ": range %" PRIu64
				   " lies beyond the largest file offset", n, i);
		f->r[f->nr].start = prev_end + gap;
		f->r[f->nr].npages = cnt;
		f->r[f->nr].class = (uint8_t)(v & 3);
		f->nr++;
		prev_end += gap + cnt;
		sum += cnt;
	}
	if (p != rend)
		return WHY("file #%" PRIu64 ": %zu stray bytes after its ranges",
			   n, (size_t)(rend - p));
	if (sum != pages)
		return WHY("file #%" PRIu64 ": ranges hold %" PRIu64
			   " pages, the record says %" PRIu64, n, sum, pages);
	*pp = rend;
	return 0;
}

static int dev_ino_cmp(const void *a, const void *b)
{
	const struct hc_file *x = *(struct hc_file *const *)a;
	const struct hc_file *y = *(struct hc_file *const *)b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return 0;
}

/* A file listed twice would be prefetched twice and confuse diff. */
static int check_unique(struct hc_dump *d, char *why, size_t whylen)
{
	struct hc_file **idx;
	int ret = 0;

	if (d->nr < 2)
		return 0;
	idx = malloc(d->nr * sizeof(*idx));
	if (!idx)
		return -ENOMEM;
	for (size_t i = 0; i < d->nr; i++)
		idx[i] = &d->f[i];
	qsort(idx, d->nr, sizeof(*idx), dev_ino_cmp);
	for (size_t i = 1; i < d->nr && !ret; i++)
		if (!dev_ino_cmp(&idx[i - 1], &idx[i]))
			ret = WHY("file #%" PRIu64 " is listed twice (dev %" PRIu64
				  ", inode %" PRIu64 ")",
				  (uint64_t)(idx[i]->seq > idx[i - 1]->seq ?
					     idx[i]->seq : idx[i - 1]->seq),
				  idx[i]->dev, idx[i]->ino);
	free(idx);
	return ret;
}

int hc_decode(const unsigned char *buf, size_t len, struct hc_dump *d,
	      char *why, size_t whylen)
{
	const unsigned char *p, *end = buf + len;
	uint64_t nr_files = 0, total = 0, sum;
	int ret;

	memset(d, 0, sizeof(*d));
	ret = decode_header(buf, len, d, &nr_files, &total, why, whylen);
	p = buf + HC_HEADER_SIZE;
	for (uint64_t i = 0; i < nr_files && !ret; i++)
		ret = decode_record(&p, end, d, i, why, whylen);
	if (!ret && p != end)
		ret = WHY("%zu bytes after the last of %" PRIu64 " files",
			  (size_t)(end - p), nr_files);
	if (!ret && (sum = hc_dump_pages(d)) != total)
		ret = WHY("files hold %" PRIu64 " pages, the header says %" PRIu64,
			  sum, total);
	if (!ret)
		ret = check_unique(d, why, whylen);
	if (ret == -ENOMEM)
		snprintf(why, whylen, "%s", strerror(ENOMEM));
	if (ret)
		hc_free(d);
	return ret;
}
