// SPDX-License-Identifier: GPL-2.0
/*
 * A page-cache helper for the hotcache tests (test_cli.sh,
 * test_hotcache_guest.sh).  Page ranges are written as SPEC:
 * "START+COUNT,START+COUNT,..." in pages of this kernel, "-" when empty.
 *
 *   test_pagecache resident FILE        the cached pages of FILE (mincore)
 *   test_pagecache evict FILE           write back and drop its cache;
 *                                       exit 1 if pages stay cached
 *   test_pagecache read FILE SPEC N [SPEC N]...
 *                                       read each SPEC N times (no
 *                                       readahead), print "ready", wait
 *                                       for a signal; SIGUSR1 reads the
 *                                       first SPEC N times again and
 *                                       prints "ready" again
 *   test_pagecache map FILE SPEC [keepfd]
 *                                       touch SPEC through a shared
 *                                       mapping, close the fd unless
 *                                       keepfd, print "ready", wait
 *   test_pagecache dumped DUMP PATH     the pages a dump lists for PATH
 *   test_pagecache cmp WANT GOT         "common=C missing=M extra=E":
 *                                       pages of WANT in GOT, of WANT not
 *                                       in GOT, of GOT not in WANT
 */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "hcdump.h"

static long ps;

static int die(const char *what)
{
	fprintf(stderr, "test_pagecache: %s: %s\n", what, strerror(errno));
	return 2;
}

static int usage(void)
{
	fprintf(stderr, "usage: test_pagecache resident|evict|read|dumped|cmp ...\n");
	return 2;
}

/* SPEC into @f's ranges, normalised. */
static int parse_spec(const char *spec, struct hc_file *f)
{
	const char *p = spec;

	memset(f, 0, sizeof(*f));
	if (!strcmp(spec, "-") || !*spec)
		return 0;
	while (*p) {
		unsigned long long s, n;
		char *end;

		s = strtoull(p, &end, 10);
		if (*end != '+')
			return -1;
		n = strtoull(end + 1, &end, 10);
		if ((*end && *end != ',') || !n)
			return -1;
		if (hc_add_range(f, s, n, HC_ACTIVE))
			return -1;
		p = *end ? end + 1 : end;
	}
	return hc_normalize(f);
}

static void print_ranges(const struct hc_range *r, size_t n)
{
	if (!n)
		fputs("-", stdout);
	for (size_t i = 0; i < n; i++)
		printf("%s%llu+%llu", i ? "," : "", (unsigned long long)r[i].start,
		       (unsigned long long)r[i].npages);
	putchar('\n');
}

/* Class-blind: join touching ranges. */
static void print_file(const struct hc_file *f)
{
	struct hc_range *r = malloc((f->nr + 1) * sizeof(*r));
	size_t n = 0;

	for (size_t i = 0; i < f->nr; i++) {
		if (n && r[n - 1].start + r[n - 1].npages == f->r[i].start)
			r[n - 1].npages += f->r[i].npages;
		else
			r[n++] = f->r[i];
	}
	print_ranges(r, n);
	free(r);
}

static int resident(const char *path)
{
	struct hc_file f = { 0 };
	unsigned char *vec;
	struct stat st;
	size_t n, i = 0;
	void *m;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st) < 0)
		return die(path);
	n = ((size_t)st.st_size + ps - 1) / ps;
	if (!n) {
		print_ranges(NULL, 0);
		return 0;
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	vec = malloc(n);
	if (m == MAP_FAILED || !vec || mincore(m, (size_t)st.st_size, vec) < 0)
		return die("mincore");
	while (i < n) {
		size_t a;

		if (!(vec[i] & 1)) {
			i++;
			continue;
		}
		for (a = i; i < n && (vec[i] & 1); i++)
			;
		hc_add_range(&f, a, i - a, HC_ACTIVE);
	}
	print_file(&f);
	return 0;
}

static int evict(const char *path)
{
	unsigned char *vec;
	struct stat st;
	size_t n;
	void *m;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st) < 0)
		return die(path);
	if (fdatasync(fd) < 0 || posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED))
		return die("evict");
	n = ((size_t)st.st_size + ps - 1) / ps;
	if (!n)
		return 0;
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	vec = malloc(n);
	if (m == MAP_FAILED || !vec || mincore(m, (size_t)st.st_size, vec) < 0)
		return die("mincore");
	for (size_t i = 0; i < n; i++)
		if (vec[i] & 1)
			return 1;	/* e.g. tmpfs: DONTNEED drops nothing */
	return 0;
}

/* Read each page of @f @times times with pread(2). */
static int read_spec(int fd, char *buf, const struct hc_file *f, int times)
{
	for (int t = 0; t < times; t++) {
		for (size_t i = 0; i < f->nr; i++) {
			off_t off = (off_t)(f->r[i].start * ps);
			off_t end = (off_t)((f->r[i].start + f->r[i].npages) * ps);

			while (off < end) {
				size_t len = end - off < (64 << 10) ?
					     (size_t)(end - off) : 64 << 10;
				ssize_t r = pread(fd, buf, len, off);

				if (r <= 0)
					return die("pread");
				off += r;
			}
		}
	}
	return 0;
}

static void ready(void)
{
	printf("ready\n");
	fflush(stdout);
}

static int do_read(int argc, char **argv)
{
	char *buf = malloc(64 << 10);
	int fd = open(argv[0], O_RDONLY);
	struct hc_file first;
	sigset_t usr1;
	int sig;

	if (fd < 0 || !buf)
		return die(argv[0]);
	/* SIGUSR1 is taken with sigwait(); other signals end the process. */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	/* Exactly the pages asked for: no readahead around them. */
	posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);
	for (int a = 1; a + 1 < argc; a += 2) {
		struct hc_file f;

		if (parse_spec(argv[a], &f) < 0)
			return usage();
		if (a == 1)
			first = f;
		if (read_spec(fd, buf, &f, atoi(argv[a + 1])))
			return 1;
	}
	ready();
	for (;;) {
		if (sigwait(&usr1, &sig))
			continue;
		if (read_spec(fd, buf, &first, atoi(argv[2])))
			return 1;
		ready();
	}
}

static int do_map(const char *path, const char *spec, bool keepfd)
{
	volatile unsigned char sum = 0;
	struct hc_file f;
	struct stat st;
	unsigned char *m;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st) < 0)
		return die(path);
	if (parse_spec(spec, &f) < 0)
		return usage();
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return die("mmap");
	/* No fault-around or readahead beyond the pages touched. */
	madvise(m, (size_t)st.st_size, MADV_RANDOM);
	for (size_t i = 0; i < f.nr; i++)
		for (uint64_t p = f.r[i].start; p < f.r[i].start + f.r[i].npages; p++)
			sum += m[p * ps];
	if (!keepfd)
		close(fd);
	ready();
	for (;;)
		pause();
}

static int dumped(const char *dump, const char *path)
{
	static unsigned char buf[64 << 20];
	struct hc_dump d;
	char why[256];
	ssize_t len;
	int fd;

	fd = open(dump, O_RDONLY);
	if (fd < 0)
		return die(dump);
	len = read(fd, buf, sizeof(buf));
	if (len < 0)
		return die(dump);
	if (hc_decode(buf, (size_t)len, &d, why, sizeof(why)) < 0) {
		fprintf(stderr, "test_pagecache: %s: %s\n", dump, why);
		return 2;
	}
	for (size_t i = 0; i < d.nr; i++) {
		if (!strcmp(d.f[i].path, path)) {
			print_file(&d.f[i]);
			return 0;
		}
	}
	print_ranges(NULL, 0);
	return 0;
}

static int cmp(const char *want, const char *got)
{
	struct hc_range *r;
	struct hc_file w, g;
	size_t n;
	unsigned long long all = 0, missing = 0, extra = 0;

	if (parse_spec(want, &w) < 0 || parse_spec(got, &g) < 0)
		return usage();
	for (size_t i = 0; i < w.nr; i++)
		all += w.r[i].npages;
	hc_subtract(&w, &g, &r, &n);
	for (size_t i = 0; i < n; i++)
		missing += r[i].npages;
	free(r);
	hc_subtract(&g, &w, &r, &n);
	for (size_t i = 0; i < n; i++)
		extra += r[i].npages;
	free(r);
	printf("common=%llu missing=%llu extra=%llu\n", all - missing, missing,
	       extra);
	return 0;
}

int main(int argc, char **argv)
{
	ps = sysconf(_SC_PAGESIZE);
	if (argc == 3 && !strcmp(argv[1], "resident"))
		return resident(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "evict"))
		return evict(argv[2]);
	if (argc >= 5 && !strcmp(argv[1], "read"))
		return do_read(argc - 2, argv + 2);
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "map"))
		return do_map(argv[2], argv[3],
			      argc == 5 && !strcmp(argv[4], "keepfd"));
	if (argc == 4 && !strcmp(argv[1], "dumped"))
		return dumped(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "cmp"))
		return cmp(argv[2], argv[3]);
	return usage();
}
