/* SPDX-License-Identifier: GPL-2.0 */
/* numamigctl top: what one sample measures, per cgroup or per process. */
#ifndef NMCTL_TOPSTAT_H
#define NMCTL_TOPSTAT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <linux/numamig.h>

#include "nmctl_ioctl.h"
#include "show.h"

/* A module job that moves memory of an item and has not finished. */
struct top_move {
	__u64 job;
	bool tagged;		/* the job belongs to move "m<move>" */
	unsigned long long move;
	__u32 to;		/* destination node */
	__u32 state;
	struct progress prog;
};

/* Raw perf counter readings of one item: instructions, LLC misses. */
struct top_perf {
	int *fd;		/* pairs: [2k] instructions, [2k + 1] misses */
	unsigned long long (*last)[3];	/* value, enabled, running */
	size_t n;		/* fds */
	long long since;	/* CLOCK_MONOTONIC ns of the last reading */
};

/*
 * One row: a cgroup (with its descendants, or, for the default list, its
 * own processes only) or a process.  The per-node arrays have
 * top_ctx.nr_nodes entries, in bytes.
 */
struct top_item {
	char *cgroup;		/* directory; NULL for a process */
	const char *container;	/* --container ID as given, or NULL */
	pid_t pid;		/* -p: the process */
	unsigned long long start;	/* -p: its start time, against pid reuse */
	bool own_only;		/* only the cgroup's own cgroup.procs */
	bool gone;		/* -p: the process has exited */
	bool mark;		/* default list: still there in this scan */

	pid_t *pids;		/* processes in this sample */
	size_t npids;
	pid_t *mms;		/* one of them per address space */
	size_t nmms;

	unsigned long long *mem, *hot;
	unsigned long long mem_total;
	bool use_maps;		/* memory from numa_maps, not memory.numa_stat */
	bool hot_known;
	struct top_move *moves;
	size_t nmoves;

	struct top_perf perf;
	bool have_perf;		/* llc_* below hold this interval's values */
	bool have_mpki;		/* ... and instructions ran: mpki is defined */
	double mpki;		/* LLC misses per 1000 instructions */
	double bw;		/* bytes/s: misses x 64 B / interval */
};

enum top_perf_state { TOP_PERF_OFF, TOP_PERF_ON };

struct top_ctx {
	unsigned int nr_nodes;	/* highest possible node + 1 */
	bool all;		/* default list: every cgroup with processes */
	struct top_item **items;
	size_t n;

	struct nmctl_dev dev;
	bool have_dev;		/* list/status: moves are known */
	bool have_hot;		/* NUMAMIG_IOC_LOCALITY works */
	pid_t *primed;		/* mms CLEARed by the previous sample, sorted */
	size_t nprimed;

	enum top_perf_state perf;	/* ON: the machine has the counters */
	bool perf_user_only;	/* no right to count kernel mode */
	bool perf_full;		/* out of fds: no counters for new items */
	bool warned_kcmp, warned_hot, warned_maps, warned_perf;
};

/* Nodes, the module (warns once without it).  Return: 0 or -1. */
int top_init(struct top_ctx *c, bool all);
void top_free(struct top_ctx *c);

/*
 * Add an item: a cgroup directory (checked: exists, has cgroup.procs) or
 * a live process.  Prints one error line and returns -1 if not.
 */
int top_add_cgroup(struct top_ctx *c, const char *dir, const char *container);
int top_add_pid(struct top_ctx *c, pid_t pid);

/* Open the module and the perf counters (warns once about each lack). */
void top_start(struct top_ctx *c);

/*
 * Take a sample of every item.  @prime: only reset the interval (CLEAR
 * the Accessed bits, read the counters), measure nothing else.
 * Gone processes (-p) are dropped; the default list is rescanned and
 * sorted by memory, largest first.  Return: 0, or -1 (printed).
 */
int top_sample(struct top_ctx *c, bool prime);

/* Is node @n worth a column: it has memory, or an item has pages there. */
bool top_node_shown(const struct top_ctx *c, unsigned int n);

#endif
