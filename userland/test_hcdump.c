// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of the hotcache dump format and range algebra
 * (hcdump.c): round trips, every validation rule, and a fuzzer that
 * truncates and flips bits of valid dumps; the decoder must reject each
 * damaged dump with a reason and never read out of bounds (run it under
 * -fsanitize=address,undefined to be sure).  Output is TAP, the plan last.
 *
 *   test_hcdump [ITERATIONS]   fuzz iterations (default 20000)
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hcdump.h"

static int done, failures;

static void ok(int cond, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void ok(int cond, const char *fmt, ...)
{
	va_list ap;

	done++;
	printf("%sok %d - ", cond ? "" : "not ", done);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!cond)
		failures++;
}

/* xorshift64*: reproducible without libc's rand() state. */
static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545F4914F6CDD1DULL;
}

/* ---- building dumps --------------------------------------------- */

static struct hc_file *file(struct hc_dump *d, const char *path, uint64_t dev,
			    uint64_t ino)
{
	struct hc_file *f = hc_add_file(d, path, strlen(path));

	if (!f)
		abort();
	f->dev = dev;
	f->ino = ino;
	f->size = 1ULL << 40;
	f->mtime_sec = 1700000000;
	f->mtime_nsec = 123456789;
	f->flags = HC_FILE_OPEN;
	return f;
}

static void range(struct hc_file *f, uint64_t start, uint64_t n,
		  unsigned int class)
{
	if (hc_add_range(f, start, n, class))
		abort();
}

/* A dump with a little of everything the format can hold. */
static void sample(struct hc_dump *d)
{
	struct hc_file *f;

	memset(d, 0, sizeof(*d));
	d->page_size = 4096;
	d->flags = HC_DUMP_ALL_RESIDENT | HC_DUMP_SYNCED;
	d->created = 1800000000;
	strcpy(d->hostname, "source-host");
	f = file(d, "/var/lib/db/data.db", 0x10301, 12);
	range(f, 0, 16, HC_ACTIVE);
	range(f, 16, 4, HC_INACTIVE);
	range(f, 100, 1, HC_REFERENCED);
	range(f, 1ULL << 30, 70000, HC_ACTIVE);
	f = file(d, "/usr/lib/x86_64-linux-gnu/libc.so.6", 0x10301, 13);
	f->flags = HC_FILE_MAPPED;
	f->mtime_sec = -5;	/* before the epoch */
	range(f, 3, 200, HC_ACTIVE);
	/* Largest index: the byte offset of the end fits in an off_t. */
	f = file(d, "/big", 7, 1);
	range(f, (uint64_t)INT64_MAX / 4096 - 10, 10, HC_INACTIVE);
}

static bool same_dump(const struct hc_dump *a, const struct hc_dump *b)
{
	if (a->page_size != b->page_size || a->flags != b->flags ||
	    a->created != b->created || strcmp(a->hostname, b->hostname) ||
	    a->nr != b->nr)
		return false;
	for (size_t i = 0; i < a->nr; i++) {
		const struct hc_file *x = &a->f[i], *y = &b->f[i];

		if (strcmp(x->path, y->path) || x->dev != y->dev ||
		    x->ino != y->ino || x->size != y->size ||
		    x->mtime_sec != y->mtime_sec ||
		    x->mtime_nsec != y->mtime_nsec || x->flags != y->flags ||
		    x->nr != y->nr)
			return false;
		for (size_t k = 0; k < x->nr; k++)
			if (x->r[k].start != y->r[k].start ||
			    x->r[k].npages != y->r[k].npages ||
			    x->r[k].class != y->r[k].class)
				return false;
	}
	return true;
}

static void le32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void le64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* Make both CRCs right again after an edit (to test the other checks). */
static void fix_crcs(unsigned char *buf, size_t len)
{
	le32(buf + 64, hc_crc32(0, buf + HC_HEADER_SIZE, len - HC_HEADER_SIZE));
	le64(buf + 56, len - HC_HEADER_SIZE);
	le32(buf + 28, 0);
	le32(buf + 28, hc_crc32(0, buf, HC_HEADER_SIZE));
}

/* Decode a copy of @buf; true when rejected with a reason containing @want. */
static bool rejects(const unsigned char *buf, size_t len, const char *want,
		    char *why, size_t whylen)
{
	unsigned char *copy = malloc(len ? len : 1);
	struct hc_dump d;
	int r;

	memcpy(copy, buf, len);
	why[0] = '\0';
	r = hc_decode(copy, len, &d, why, whylen);
	free(copy);
	if (r == 0) {
		hc_free(&d);
		snprintf(why, whylen, "(accepted)");
		return false;
	}
	return r == -EINVAL && why[0] && (!want || strstr(why, want));
}

/* ---- tests ------------------------------------------------------ */

static void test_crc(void)
{
	/* The check value of CRC-32/ISO-HDLC (zlib.crc32(b"123456789")). */
	ok(hc_crc32(0, "123456789", 9) == 0xCBF43926, "CRC-32 check value");
	ok(hc_crc32(hc_crc32(0, "1234", 4), "56789", 5) == 0xCBF43926,
	   "CRC-32 can be computed in pieces");
}

static void test_round_trip(void)
{
	struct hc_dump d, e = { 0 };
	unsigned char *buf, *buf2;
	size_t len, len2;
	char why[256];
	int r;

	sample(&d);
	r = hc_encode(&d, &buf, &len);
	ok(r == 0, "encode a sample dump");
	ok(len < HC_HEADER_SIZE + 3 * HC_RECORD_HEADER_SIZE + 120 + 40,
	   "ranges are compact: %zu bytes in all", len);
	r = hc_decode(buf, len, &e, why, sizeof(why));
	ok(r == 0, "decode it back (%s)", r ? why : "ok");
	ok(r == 0 && same_dump(&d, &e), "the round trip keeps everything");
	r = hc_encode(&e, &buf2, &len2);
	ok(r == 0 && len2 == len && !memcmp(buf, buf2, len),
	   "encoding is deterministic");
	if (!r)
		free(buf2);
	free(buf);
	hc_free(&e);
	hc_free(&d);

	memset(&d, 0, sizeof(d));
	d.page_size = 65536;
	r = hc_encode(&d, &buf, &len);
	ok(r == 0 && len == HC_HEADER_SIZE, "an empty dump is just a header");
	r = hc_decode(buf, len, &e, why, sizeof(why));
	ok(r == 0 && e.nr == 0 && e.page_size == 65536, "and decodes");
	hc_free(&e);
	free(buf);
}

struct edit {
	const char *what;
	size_t off;		/* from the start of the file */
	int width;		/* 1, 2, 4 or 8 bytes */
	uint64_t value;
	bool fix;		/* recompute the CRCs after the edit */
	const char *want;	/* in the reason */
};

static void test_rejects(void)
{
	/* Offsets into the sample: header 144, first record 72 + 19 path. */
	const size_t r0 = HC_HEADER_SIZE, p0 = r0 + HC_RECORD_HEADER_SIZE;
	const size_t g0 = p0 + strlen("/var/lib/db/data.db");
	const struct edit edits[] = {
		{ "bad magic", 0, 1, 'X', false, "bad magic" },
		{ "version 2", 8, 4, 2, false, "unsupported format version 2" },
		{ "header size", 12, 4, 152, true, "header or record size" },
		{ "record header size", 16, 4, 80, true, "header or record size" },
		{ "page size not a power of two", 20, 4, 4097, true, "page size" },
		{ "page size 0", 20, 4, 0, true, "page size" },
		{ "unknown dump flag", 24, 4, 1U << 7, true, "unknown flags" },
		{ "header CRC", 28, 4, 1, false, "bad header CRC" },
		{ "created changed, header CRC kept", 32, 1, 0x55, false, "bad header CRC" },
		{ "file count too high", 40, 8, 4, true, "" },
		{ "file count absurd", 40, 8, 1ULL << 60, true, "cannot fit" },
		{ "total pages wrong", 48, 8, 1, true, "the header says" },
		{ "a changed byte of the file list", p0, 1, 'X', false, "bad CRC of the file list" },
		{ "reserved header field", 68, 4, 1, true, "reserved" },
		{ "record size too small", r0, 8, 8, true, "record size" },
		{ "record size too large", r0, 8, 1ULL << 40, true, "record size" },
		{ "unknown file flag", r0 + 8, 4, 1U << 9, true, "unknown flags" },
		{ "path length 0", r0 + 12, 4, 0, true, "path length" },
		{ "path length too long", r0 + 12, 4, 5000, true, "path length" },
		{ "mtime nanoseconds", r0 + 48, 4, 1000000000, true, "nanoseconds" },
		{ "reserved record field", r0 + 52, 4, 1, true, "reserved" },
		{ "range count too high", r0 + 56, 8, 1ULL << 40, true, "ranges cannot fit" },
		{ "range count one more", r0 + 56, 8, 5, true, "file #0" },
		{ "record pages wrong", r0 + 64, 8, 1, true, "the record says" },
		{ "NUL in the path", p0 + 3, 1, 0, true, "NUL byte" },
		{ "range length 0 (class active)", g0 + 1, 1, 0, true, "file #0: range 0" },
		{ "class 3", g0 + 1, 1, 16 << 2 | 3, true, "bad class" },
		{ "varint not in its shortest form", g0, 2, 0x0080, true, "badly encoded" },
	};
	unsigned char *buf, *copy;
	struct hc_dump d;
	char why[256];
	size_t len;

	sample(&d);
	if (hc_encode(&d, &buf, &len))
		abort();
	hc_free(&d);
	copy = malloc(len + 16);
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		const struct edit *e = &edits[i];

		memcpy(copy, buf, len);
		if (e->width == 1) {
			copy[e->off] = (unsigned char)e->value;
		} else if (e->width == 2) {
			copy[e->off] = (unsigned char)e->value;
			copy[e->off + 1] = (unsigned char)(e->value >> 8);
		} else if (e->width == 4)
			le32(copy + e->off, (uint32_t)e->value);
		else
			le64(copy + e->off, e->value);
		if (e->fix)
			fix_crcs(copy, len);
		ok(rejects(copy, len, e->want, why, sizeof(why)),
		   "rejects %s: %s", e->what, why);
	}
	memcpy(copy, buf, len);
	memset(copy + 72, 'A', HC_HOSTNAME_LEN);
	fix_crcs(copy, len);
	ok(rejects(copy, len, "host name", why, sizeof(why)),
	   "rejects a host name without NUL: %s", why);
	ok(rejects(buf, 0, "too short", why, sizeof(why)), "rejects an empty file: %s", why);
	ok(rejects(buf, 100, "truncated", why, sizeof(why)),
	   "rejects a truncated header: %s", why);
	ok(rejects(buf, len - 1, "truncated", why, sizeof(why)),
	   "rejects a truncated file list: %s", why);
	memcpy(copy, buf, len);
	memset(copy + len, 0, 16);
	ok(rejects(copy, len + 16, "trailing garbage", why, sizeof(why)),
	   "rejects trailing garbage: %s", why);
	/* Bytes after the last file, accounted in body_size and the CRC. */
	fix_crcs(copy, len + 16);
	ok(rejects(copy, len + 16, "after the last", why, sizeof(why)),
	   "rejects bytes after the last file: %s", why);
	free(copy);
	free(buf);

	/* A file listed twice. */
	sample(&d);
	d.f[1].dev = d.f[0].dev;
	d.f[1].ino = d.f[0].ino;
	if (hc_encode(&d, &buf, &len))
		abort();
	ok(rejects(buf, len, "listed twice", why, sizeof(why)),
	   "rejects a file listed twice: %s", why);
	free(buf);
	hc_free(&d);

	/* A range past the largest offset. */
	sample(&d);
	d.f[2].r[0].npages = 11;
	if (hc_encode(&d, &buf, &len))
		abort();
	ok(rejects(buf, len, "beyond the largest", why, sizeof(why)),
	   "rejects a range past the largest file offset: %s", why);
	free(buf);
	hc_free(&d);
}

static void test_fuzz(unsigned long iterations)
{
	unsigned long trunc_bad = 0, flip_bad = 0, fixed_bad = 0, fixed_ok = 0;
	unsigned char *buf, *copy;
	struct hc_dump d;
	char why[256];
	size_t len;

	sample(&d);
	if (hc_encode(&d, &buf, &len))
		abort();
	hc_free(&d);
	copy = malloc(len);
	for (unsigned long it = 0; it < iterations; it++) {
		size_t cut = rnd() % len;
		int flips = 1 + (int)(rnd() % 4);

		/* Any truncation must fail, with a reason. */
		if (!rejects(buf, cut, NULL, why, sizeof(why)))
			trunc_bad++;

		/* Flipped bits: the CRCs catch them. */
		memcpy(copy, buf, len);
		for (int k = 0; k < flips; k++)
			copy[rnd() % len] ^= (unsigned char)(1U << (rnd() % 8));
		if (memcmp(copy, buf, len) &&
		    !rejects(copy, len, NULL, why, sizeof(why)))
			flip_bad++;

		/*
		 * Flipped bits with the CRCs made right: the structural
		 * checks alone.  Accepting is fine if the result is a valid
		 * dump that encodes back to the same bytes.
		 */
		memcpy(copy, buf, len);
		for (int k = 0; k < flips; k++)
			copy[HC_HEADER_SIZE + rnd() % (len - HC_HEADER_SIZE)] ^=
				(unsigned char)(1U << (rnd() % 8));
		fix_crcs(copy, len);
		if (hc_decode(copy, len, &d, why, sizeof(why)) == 0) {
			unsigned char *again = NULL;
			size_t alen = 0;

			if (hc_encode(&d, &again, &alen) ||
			    alen != len || memcmp(again, copy, len))
				fixed_bad++;
			else
				fixed_ok++;
			free(again);
			hc_free(&d);
		} else if (!why[0]) {
			fixed_bad++;
		}
	}
	free(copy);
	free(buf);
	ok(!trunc_bad, "fuzz: %lu random truncations all rejected (%lu accepted)",
	   iterations, trunc_bad);
	ok(!flip_bad, "fuzz: %lu dumps with 1-4 flipped bits all rejected (%lu accepted)",
	   iterations, flip_bad);
	ok(!fixed_bad, "fuzz: flips behind good CRCs: rejected with a reason or "
	   "re-encoded identically (%lu accepted as valid, %lu bad)",
	   fixed_ok, fixed_bad);
}

static bool ranges_are(const struct hc_file *f, const uint64_t (*want)[3],
		       size_t n)
{
	if (f->nr != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (f->r[i].start != want[i][0] || f->r[i].npages != want[i][1] ||
		    f->r[i].class != want[i][2])
			return false;
	return true;
}

static void test_algebra(void)
{
	struct hc_dump d = { 0 };
	struct hc_file *f, *g, *h;
	struct hc_range *out;
	size_t n;

	/* Overlaps: the hottest class wins, touching runs join. */
	f = file(&d, "/a", 1, 1);
	range(f, 10, 10, HC_INACTIVE);		/* 10-19 */
	range(f, 0, 5, HC_ACTIVE);		/*  0-4  */
	range(f, 15, 10, HC_ACTIVE);		/* 15-24 */
	range(f, 5, 5, HC_ACTIVE);		/*  5-9  */
	range(f, 30, 5, HC_REFERENCED);
	range(f, 32, 5, HC_REFERENCED);
	ok(hc_normalize(f) == 0 &&
	   ranges_are(f, (const uint64_t[][3]){ { 0, 10, HC_ACTIVE },
		{ 10, 5, HC_INACTIVE }, { 15, 10, HC_ACTIVE },
		{ 30, 7, HC_REFERENCED } }, 4),
	   "normalize: sorted, overlaps resolved to the hottest class, joined");

	/* The same file from three processes (dev+ino), another between. */
	hc_free(&d);
	f = file(&d, "/x", 1, 7);
	range(f, 0, 4, HC_ACTIVE);
	g = file(&d, "/y", 1, 8);
	range(g, 0, 1, HC_ACTIVE);
	h = file(&d, "/x", 1, 7);
	h->flags = HC_FILE_MAPPED;
	range(h, 2, 6, HC_ACTIVE);
	range(h, 20, 1, HC_INACTIVE);
	ok(hc_merge_same_files(&d) == 0 && d.nr == 2 &&
	   !strcmp(d.f[0].path, "/x") && !strcmp(d.f[1].path, "/y") &&
	   d.f[0].flags == (HC_FILE_OPEN | HC_FILE_MAPPED) &&
	   ranges_are(&d.f[0], (const uint64_t[][3]){ { 0, 8, HC_ACTIVE },
		{ 20, 1, HC_INACTIVE } }, 2),
	   "merge: one file per dev+ino, ranges united, first order kept");

	hc_filter(&d, 1U << HC_INACTIVE);
	ok(d.nr == 1 && !strcmp(d.f[0].path, "/x") && d.f[0].nr == 1 &&
	   d.f[0].r[0].start == 20, "filter: keeps a class, drops empty files");
	hc_free(&d);

	f = file(&d, "/old", 1, 1);
	range(f, 0, 10, HC_ACTIVE);
	range(f, 20, 10, HC_ACTIVE);
	g = file(&d, "/new", 1, 2);
	range(g, 5, 10, HC_ACTIVE);
	range(g, 15, 3, HC_INACTIVE);
	range(g, 25, 10, HC_ACTIVE);
	ok(hc_subtract(&d.f[1], &d.f[0], &out, &n) == 0 && n == 3 &&
	   out[0].start == 10 && out[0].npages == 5 &&	/* 10-14 */
	   out[1].start == 15 && out[1].npages == 3 &&	/* another class */
	   out[2].start == 30 && out[2].npages == 5, "subtract: NEW minus OLD");
	free(out);
	ok(hc_subtract(&d.f[0], &d.f[1], &out, &n) == 0 && n == 2 &&
	   out[0].start == 0 && out[0].npages == 5 &&
	   out[1].start == 20 && out[1].npages == 5, "subtract: OLD minus NEW");
	free(out);
	hc_free(&d);
}

int main(int argc, char **argv)
{
	unsigned long iterations = argc > 1 ? strtoul(argv[1], NULL, 10) : 20000;

	test_crc();
	test_round_trip();
	test_rejects();
	test_algebra();
	test_fuzz(iterations);
	printf("1..%d\n", done);
	return failures ? 1 : 0;
}
