/* SPDX-License-Identifier: GPL-2.0 */
/*
 * numamigctl: hotcache dumps in memory and in their file format
 * (HOTCACHE-FORMAT.md): the files of a process's page cache with the runs
 * of cached pages to prefetch elsewhere.
 */
#ifndef NMCTL_HCDUMP_H
#define NMCTL_HCDUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The file format. */
#define HC_MAGIC		"NMHOTC\0\0"
#define HC_VERSION		1
#define HC_HEADER_SIZE		144	/* of version 1 */
#define HC_RECORD_HEADER_SIZE	72	/* of version 1 */
#define HC_HOSTNAME_LEN		72	/* field size, NUL included */
#define HC_PATH_MAX		4096	/* bytes of a path, NUL excluded */

/* Header flags. */
#define HC_DUMP_ALL_RESIDENT	(1U << 0) /* every cached range, not only hot */
#define HC_DUMP_SYNCED		(1U << 1) /* files were fsync'ed first */
#define HC_DUMP_FLAGS_ALL	((1U << 2) - 1)

/* File flags: the module's NUMAMIG_HC_OPEN/MAPPED/DELETED values. */
#define HC_FILE_OPEN		(1U << 0)
#define HC_FILE_MAPPED		(1U << 1)
#define HC_FILE_DELETED		(1U << 2)
#define HC_FILE_FLAGS_ALL	((1U << 3) - 1)

/* Classes: the module's enum numamig_cache_class. */
enum { HC_ACTIVE = 0, HC_REFERENCED = 1, HC_INACTIVE = 2, HC_CLASSES = 3 };

/* Pages [start, start + npages) of one class, in page_size units. */
struct hc_range {
	uint64_t start;
	uint64_t npages;
	uint8_t class;
};

struct hc_file {
	uint64_t dev, ino, size;	/* dev as stat(2)'s st_dev */
	int64_t mtime_sec;
	uint32_t mtime_nsec;
	uint32_t flags;			/* HC_FILE_* */
	char *path;			/* as the dumped process saw it */
	struct hc_range *r;		/* index order, no overlap */
	size_t nr, cap;
	uint64_t seq;			/* order of first appearance */
};

struct hc_dump {
	uint32_t page_size;
	uint32_t flags;			/* HC_DUMP_* */
	int64_t created;		/* seconds since the epoch */
	char hostname[HC_HOSTNAME_LEN];
	struct hc_file *f;
	size_t nr, cap;
};

const char *hc_class_name(unsigned int class);	/* "active", ... */

/* Pages of a file (all classes), or of one class. */
uint64_t hc_file_pages(const struct hc_file *f);
uint64_t hc_file_class_pages(const struct hc_file *f, unsigned int class);
uint64_t hc_dump_pages(const struct hc_dump *d);

/* A new file at the end of @d (zeroed, path copied); NULL on ENOMEM. */
struct hc_file *hc_add_file(struct hc_dump *d, const char *path,
			    size_t path_len);
int hc_add_range(struct hc_file *f, uint64_t start, uint64_t npages,
		 unsigned int class);
void hc_free(struct hc_dump *d);

/*
 * Sort a file's ranges into index order, resolve overlaps (a page seen
 * twice gets its hottest class: ACTIVE < REFERENCED < INACTIVE) and join
 * touching runs of one class.  Return: 0 or -ENOMEM.
 */
int hc_normalize(struct hc_file *f);

/*
 * Join the files of @d with the same dev and ino into the first of them
 * (ranges united as hc_normalize() does, flags or'ed), keeping the order
 * of first appearance.  Return: 0 or -ENOMEM.
 */
int hc_merge_same_files(struct hc_dump *d);

/*
 * Keep only the ranges whose class is in @class_mask (1 << class), then
 * drop files left without a range.
 */
void hc_filter(struct hc_dump *d, unsigned int class_mask);

/* Serialise @d.  *buf is malloc'ed.  Return: 0 or -ENOMEM / -EOVERFLOW. */
int hc_encode(const struct hc_dump *d, unsigned char **buf, size_t *len);

/*
 * Parse and validate a whole dump file.  On failure, @why gets a short
 * reason ("truncated: ...", "bad CRC ...") and -EINVAL or -ENOMEM is
 * returned; @d is then empty.  Never reads outside [buf, buf + len).
 */
int hc_decode(const unsigned char *buf, size_t len, struct hc_dump *d,
	      char *why, size_t whylen);

/* CRC-32 as zlib's crc32() (IEEE 802.3, reflected, ~0 in and out). */
uint32_t hc_crc32(uint32_t crc, const void *buf, size_t len);

/*
 * Ranges of @b's pages that are not in @a, classes ignored, into *out
 * (malloc'ed, class of @b).  Both must be normalised.
 * Return: 0 or -ENOMEM.
 */
int hc_subtract(const struct hc_file *b, const struct hc_file *a,
		struct hc_range **out, size_t *nout);

#endif
