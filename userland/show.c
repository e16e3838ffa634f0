// SPDX-License-Identifier: GPL-2.0
/* numamigctl: rendering jobs and locality for people (text) and scripts (JSON). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <numa.h>

#include "nmctl_ioctl.h"
#include "show.h"

#define NSEC_PER_SEC 1000000000ULL
#define NSEC_PER_MSEC 1000000ULL
#define PROGRESS_BAR 16

/* The module counts base pages of the running kernel. */
static unsigned long long page_size(void)
{
	static long ps;

	if (!ps)
		ps = sysconf(_SC_PAGESIZE);
	return ps > 0 ? (unsigned long long)ps : 4096;
}

double pages_mib(unsigned long long pages)
{
	return (double)pages * (double)page_size() / (1024.0 * 1024.0);
}

void format_duration(char *buf, size_t len, unsigned long long ns)
{
	unsigned long long s = ns / NSEC_PER_SEC;

	if (s < 60)
		snprintf(buf, len, "%.1fs", (double)ns / NSEC_PER_SEC);
	else if (s < 3600)
		snprintf(buf, len, "%llum%02llus", s / 60, s % 60);
	else
		snprintf(buf, len, "%lluh%02llum%02llus", s / 3600,
			 s / 60 % 60, s % 60);
}

void format_state(char *buf, size_t len, const struct numamig_job_status *st)
{
	if (st->state == NUMAMIG_STATE_FAILED && st->error > 0)
		snprintf(buf, len, "failed (%s)", strerror(st->error));
	else
		snprintf(buf, len, "%s", nmctl_state_name(st->state));
}

void progress_add(struct progress *p, const struct numamig_job_status *st)
{
	p->migrated += st->pages_migrated;
	p->failed += st->pages_failed;
	p->queued += st->pages_queued;
	p->remaining += st->pages_remaining;
	if (st->elapsed_ns > p->elapsed_ns)
		p->elapsed_ns = st->elapsed_ns;
}

/*
 * Done is what has been tried (migrated or failed); pages_remaining
 * already includes the module's estimate of the not yet walked part, so
 * tried / (tried + remaining) is the best fraction we can show.
 */
static double progress_pct(const struct progress *p)
{
	unsigned long long tried = p->migrated + p->failed;
	unsigned long long total = tried + p->remaining;

	return total ? 100.0 * (double)tried / (double)total : 0.0;
}

void format_progress(char *buf, size_t len, const struct progress *p, bool bar)
{
	char barbuf[PROGRESS_BAR + 3] = "", elapsed[32];
	double pct = progress_pct(p);

	if (bar) {
		int fill = (int)(pct * PROGRESS_BAR / 100.0 + 0.5);

		barbuf[0] = '[';
		for (int i = 0; i < PROGRESS_BAR; i++)
			barbuf[1 + i] = i < fill ? '#' : '-';
		barbuf[PROGRESS_BAR + 1] = ']';
		barbuf[PROGRESS_BAR + 2] = '\0';
	}
	format_duration(elapsed, sizeof(elapsed), p->elapsed_ns);
	snprintf(buf, len, "%s%s%5.1f%% %llu/%llu pages %.1f MiB %s",
		 barbuf, bar ? " " : "", pct, p->migrated, p->queued,
		 pages_mib(p->migrated), elapsed);
}

static void migrate_flags_text(char *buf, size_t len, unsigned long long flags)
{
	static const struct {
		unsigned long long bit;
		const char *name;
	} names[] = {
		{ NUMAMIG_MIGRATE_MOVE_SHARED, "move-shared" },
		{ NUMAMIG_MIGRATE_ALL_SOURCES, "all-sources" },
		{ NUMAMIG_MIGRATE_KEEP_HUGE, "keep-huge" },
	};
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(flags & names[i].bit) || used >= len)
			continue;
		used += snprintf(buf + used, len - used, "%s%s",
				 used ? ", " : "", names[i].name);
	}
}

static void throttle_text(char *buf, size_t len, const struct numamig_job_status *st)
{
	if (st->policy == NUMAMIG_POLICY_EAGER)
		snprintf(buf, len, "none (eager)");
	else if (st->cpu_pct)
		/* The module derives the sleep from the budget: t is unused. */
		snprintf(buf, len, "batch %u pages, cpu budget %u%%",
			 st->batch_pages, st->cpu_pct);
	else
		snprintf(buf, len, "batch %u pages, sleep %u ms",
			 st->batch_pages, st->sleep_ms);
}

static void skipped_text(char *buf, size_t len, const struct numamig_job_status *st)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned int r = 0; r < NUMAMIG_SKIP_MAX && used < len; r++) {
		const char *name = nmctl_skip_name(r);

		if (!st->skipped[r])
			continue;
		used += (size_t)snprintf(buf + used, len - used, "%s%s %llu",
					 used ? ", " : "", name ? name : "other",
					 (unsigned long long)st->skipped[r]);
	}
	if (!used)
		snprintf(buf, len, "none");
}

#define FIELD "  %-18s "

void show_status_text(FILE *f, const struct numamig_job_status *st)
{
	char buf[256], t[32];
	double share;

	fprintf(f, "job %llu\n", (unsigned long long)st->job_id);
	fprintf(f, FIELD "%d\n", "pid:", st->pid);
	format_state(buf, sizeof(buf), st);
	fprintf(f, FIELD "%s\n", "state:", buf);
	fprintf(f, FIELD "%s\n", "policy:", nmctl_policy_name(st->policy));
	fprintf(f, FIELD "%u\n", "to node:", st->dst_node);
	if (st->group)
		fprintf(f, FIELD "%llu\n", "group:", (unsigned long long)st->group);
	migrate_flags_text(buf, sizeof(buf), st->migrate_flags);
	if (buf[0])
		fprintf(f, FIELD "%s\n", "flags:", buf);
	throttle_text(buf, sizeof(buf), st);
	fprintf(f, FIELD "%s\n", "throttle:", buf);
	fprintf(f, FIELD "%llu\n", "pages scanned:", (unsigned long long)st->pages_scanned);
	fprintf(f, FIELD "%llu\n", "pages referenced:", (unsigned long long)st->pages_referenced);
	fprintf(f, FIELD "%llu\n", "pages queued:", (unsigned long long)st->pages_queued);
	fprintf(f, FIELD "%llu (%.1f MiB)\n", "pages migrated:",
		(unsigned long long)st->pages_migrated, pages_mib(st->pages_migrated));
	fprintf(f, FIELD "%llu\n", "pages failed:", (unsigned long long)st->pages_failed);
	fprintf(f, FIELD "%llu\n", "pages remaining:", (unsigned long long)st->pages_remaining);
	skipped_text(buf, sizeof(buf), st);
	fprintf(f, FIELD "%s\n", "skipped:", buf);
	fprintf(f, FIELD "%llu\n", "thp split:", (unsigned long long)st->thp_split);
	if (st->migrate_flags & NUMAMIG_MIGRATE_KEEP_HUGE)
		fprintf(f, FIELD "%llu moved whole (%llu pages), %llu small on arrival, %llu split\n",
			"huge pages:", (unsigned long long)st->huge_moved,
			(unsigned long long)st->huge_pages,
			(unsigned long long)st->huge_small,
			(unsigned long long)st->huge_split);
	fprintf(f, FIELD "%llu\n", "batches:", (unsigned long long)st->batches);
	if (st->policy == NUMAMIG_POLICY_SEVERE || st->rechecks)
		fprintf(f, FIELD "%llu\n", "rechecks:", (unsigned long long)st->rechecks);
	if (st->walk_done_ns) {
		format_duration(t, sizeof(t), st->walk_done_ns);
		fprintf(f, FIELD "%s\n", "first walk:", t);
	} else {
		fprintf(f, FIELD "%s\n", "first walk:",
			st->state == NUMAMIG_STATE_RUNNING ? "in progress" : "not finished");
	}
	format_duration(t, sizeof(t), st->elapsed_ns);
	fprintf(f, FIELD "%s\n", "elapsed:", t);
	share = st->elapsed_ns ? 100.0 * (double)st->cpu_ns / (double)st->elapsed_ns : 0.0;
	fprintf(f, FIELD "%llu ms (%.1f%% of one CPU)\n", "cpu time:",
		(unsigned long long)(st->cpu_ns / NSEC_PER_MSEC), share);
	fprintf(f, FIELD "%llu ms\n", "sleep time:",
		(unsigned long long)(st->sleep_ns / NSEC_PER_MSEC));
}

void show_status_json(struct json *j, const struct numamig_job_status *st)
{
	json_begin_object(j, NULL);
	json_u64(j, "job", st->job_id);
	json_i64(j, "pid", st->pid);
	json_string(j, "state", nmctl_state_name(st->state));
	json_i64(j, "error", st->error);
	if (st->error > 0)
		json_string(j, "error_text", strerror(st->error));
	else
		json_null(j, "error_text");
	json_string(j, "policy", nmctl_policy_name(st->policy));
	json_u64(j, "dst_node", st->dst_node);
	json_u64(j, "group", st->group);
	json_u64(j, "migrate_flags", st->migrate_flags);
	json_u64(j, "batch_pages", st->batch_pages);
	json_u64(j, "sleep_ms", st->sleep_ms);
	json_u64(j, "cpu_pct", st->cpu_pct);
	json_u64(j, "pages_scanned", st->pages_scanned);
	json_u64(j, "pages_referenced", st->pages_referenced);
	json_u64(j, "pages_queued", st->pages_queued);
	json_u64(j, "pages_migrated", st->pages_migrated);
	json_u64(j, "pages_failed", st->pages_failed);
	json_u64(j, "pages_remaining", st->pages_remaining);
	json_begin_object(j, "skipped");
	for (unsigned int r = 0; r < NUMAMIG_SKIP_MAX; r++)
		if (nmctl_skip_name(r))
			json_u64(j, nmctl_skip_name(r), st->skipped[r]);
	json_end_object(j);
	json_u64(j, "thp_split", st->thp_split);
	json_bool(j, "keep_huge", st->migrate_flags & NUMAMIG_MIGRATE_KEEP_HUGE);
	json_u64(j, "huge_moved", st->huge_moved);
	json_u64(j, "huge_pages", st->huge_pages);
	json_u64(j, "huge_small", st->huge_small);
	json_u64(j, "huge_split", st->huge_split);
	json_u64(j, "batches", st->batches);
	json_u64(j, "rechecks", st->rechecks);
	json_u64(j, "walk_done_ns", st->walk_done_ns);
	json_u64(j, "elapsed_ns", st->elapsed_ns);
	json_u64(j, "cpu_ns", st->cpu_ns);
	json_u64(j, "sleep_ns", st->sleep_ns);
	json_u64(j, "page_size", page_size());
	json_end_object(j);
}

#define LIST_FMT "%8s %8s %-9s %-10s %4s %10s %10s %9s\n"

void show_list_header(FILE *f)
{
	fprintf(f, LIST_FMT, "JOB", "PID", "STATE", "POLICY", "TO",
		"MIGRATED", "QUEUED", "ELAPSED");
}

void show_list_row(FILE *f, const struct numamig_job_status *st)
{
	char job[24], pid[16], to[12], mig[24], q[24], t[32];

	snprintf(job, sizeof(job), "%llu", (unsigned long long)st->job_id);
	snprintf(pid, sizeof(pid), "%d", st->pid);
	snprintf(to, sizeof(to), "%u", st->dst_node);
	snprintf(mig, sizeof(mig), "%llu", (unsigned long long)st->pages_migrated);
	snprintf(q, sizeof(q), "%llu", (unsigned long long)st->pages_queued);
	format_duration(t, sizeof(t), st->elapsed_ns);
	fprintf(f, LIST_FMT, job, pid, nmctl_state_name(st->state),
		nmctl_policy_name(st->policy), to, mig, q, t);
}

void show_list_json(struct json *j, const struct numamig_job_status *st)
{
	json_begin_object(j, NULL);
	json_u64(j, "job", st->job_id);
	json_i64(j, "pid", st->pid);
	json_string(j, "state", nmctl_state_name(st->state));
	json_string(j, "policy", nmctl_policy_name(st->policy));
	json_u64(j, "dst_node", st->dst_node);
	json_u64(j, "pages_migrated", st->pages_migrated);
	json_u64(j, "pages_queued", st->pages_queued);
	json_u64(j, "elapsed_ns", st->elapsed_ns);
	json_end_object(j);
}

static unsigned int locality_nodes(const struct numamig_locality *loc)
{
	return loc->nr_nodes < NUMAMIG_LOCALITY_NODES ?
	       loc->nr_nodes : NUMAMIG_LOCALITY_NODES;
}

/* Show configured nodes even when empty; any node that has pages. */
static bool locality_row_wanted(const struct numamig_locality *loc, unsigned int n)
{
	if (loc->pages[n] || loc->referenced[n])
		return true;
	if (numa_available() < 0)
		return n == 0;
	return numa_bitmask_isbitset(numa_nodes_ptr, n);
}

#define LOC_FMT "%-6s %12s %10s %12s %8s\n"

static void locality_row(FILE *f, const char *name, unsigned long long pages,
			 unsigned long long refd, unsigned long long total)
{
	char p[24], mib[24], r[24], pct[16];

	snprintf(p, sizeof(p), "%llu", pages);
	snprintf(mib, sizeof(mib), "%.1f", pages_mib(pages));
	snprintf(r, sizeof(r), "%llu", refd);
	snprintf(pct, sizeof(pct), "%.1f%%",
		 total ? 100.0 * (double)pages / (double)total : 0.0);
	fprintf(f, LOC_FMT, name, p, mib, r, pct);
}

void show_locality_text(FILE *f, const struct numamig_locality *loc)
{
	unsigned long long total = 0, refd = 0;
	unsigned int nodes = locality_nodes(loc);
	char name[16];

	for (unsigned int n = 0; n < nodes; n++) {
		total += loc->pages[n];
		refd += loc->referenced[n];
	}
	fprintf(f, LOC_FMT, "NODE", "PAGES", "MIB", "REFERENCED", "PERCENT");
	for (unsigned int n = 0; n < nodes; n++) {
		if (!locality_row_wanted(loc, n))
			continue;
		snprintf(name, sizeof(name), "%u", n);
		locality_row(f, name, loc->pages[n], loc->referenced[n], total);
	}
	locality_row(f, "total", total, refd, total);
}

void show_locality_json(struct json *j, pid_t pid,
			const struct numamig_locality *loc)
{
	unsigned long long total = 0, refd = 0;
	unsigned int nodes = locality_nodes(loc);

	json_begin_object(j, NULL);
	json_i64(j, "pid", pid);
	json_u64(j, "page_size", page_size());
	json_begin_array(j, "nodes");
	for (unsigned int n = 0; n < nodes; n++) {
		total += loc->pages[n];
		refd += loc->referenced[n];
		if (!locality_row_wanted(loc, n))
			continue;
		json_begin_object(j, NULL);
		json_u64(j, "node", n);
		json_u64(j, "pages", loc->pages[n]);
		json_u64(j, "referenced", loc->referenced[n]);
		json_end_object(j);
	}
	json_end_array(j);
	json_begin_object(j, "total");
	json_u64(j, "pages", total);
	json_u64(j, "referenced", refd);
	json_end_object(j);
	json_end_object(j);
}
