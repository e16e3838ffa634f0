/* SPDX-License-Identifier: GPL-2.0 */
/* numamigctl: rendering jobs and locality for people (text) and scripts (JSON). */
#ifndef NMCTL_SHOW_H
#define NMCTL_SHOW_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include <linux/numamig.h>

#include "json.h"

/* Page counts and times that a progress line summarises. */
struct progress {
	unsigned long long migrated, failed, queued, remaining;
	unsigned long long elapsed_ns;
};

void progress_add(struct progress *p, const struct numamig_job_status *st);
/* "[####----]  40.0% 1234/3000 pages 4.8 MiB 12.3s" (@bar adds the bar) */
void format_progress(char *buf, size_t len, const struct progress *p, bool bar);
/* "12.3s", "5m03s", "2h05m07s" */
void format_duration(char *buf, size_t len, unsigned long long ns);
double pages_mib(unsigned long long pages);

/* "running", or "failed (Cannot allocate memory)" */
void format_state(char *buf, size_t len, const struct numamig_job_status *st);

void show_status_text(FILE *f, const struct numamig_job_status *st);
void show_status_json(struct json *j, const struct numamig_job_status *st);

void show_list_header(FILE *f);
void show_list_row(FILE *f, const struct numamig_job_status *st);
void show_list_json(struct json *j, const struct numamig_job_status *st);

void show_locality_text(FILE *f, const struct numamig_locality *loc);
void show_locality_json(struct json *j, pid_t pid,
			const struct numamig_locality *loc);

#endif
