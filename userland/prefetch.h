/* SPDX-License-Identifier: GPL-2.0 */
/* numamigctl hotcache prefetch: read a dump's ranges into the page cache. */
#ifndef NMCTL_PREFETCH_H
#define NMCTL_PREFETCH_H

#include <stdbool.h>

#include "hcdump.h"

/* How pages are read (NUMAMIGCTL_PREFETCH_METHOD). */
enum pf_method { PF_READAHEAD, PF_FADVISE, PF_PREAD };

struct pf_opts {
	const char *root;		/* NULL, or what paths are under */
	unsigned int jobs;		/* worker threads */
	unsigned long long rate;	/* MiB/s over all threads, 0 = no cap */
	bool verify_identity;		/* skip files that changed */
	enum pf_method method;
	unsigned long long chunk;	/* bytes per work item */
};

/*
 * Read the ranges of @d into the page cache, skipping pages already
 * there; warnings per file and one report line go to stderr.
 * Return: the exit status (EXIT_FAIL when the dump names files and none
 * of them could be read).
 */
int hc_prefetch(const struct hc_dump *d, const struct pf_opts *o);

#endif
