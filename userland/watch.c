// SPDX-License-Identifier: GPL-2.0
/* numamigctl: waiting for jobs, with progress, and how they ended. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "json.h"
#include "msg.h"
#include "show.h"
#include "watch.h"

#define WAIT_POLL_MS	200	/* progress refresh: ~5 per second */
#define PLAIN_EVERY_NS	1000000000LL	/* plain progress: once a second */
#define CANCEL_SETTLE_MS 2000	/* how long to let a cancel land */

/*
 * DONE is success; EXITED too (the target went away, nothing is left to
 * move) but worth a warning; FAILED, CANCELLED, or not knowing is failure.
 */
int job_outcome(const struct job *j, bool quiet_cancel)
{
	unsigned long long id = (unsigned long long)j->id;

	if (j->lost || !j->have_st)
		return EXIT_FAIL;
	switch (j->st.state) {
	case NUMAMIG_STATE_DONE:
		return EXIT_OK;
	case NUMAMIG_STATE_EXITED:
		nm_warn("job %llu: process %d exited before all its pages were moved",
			id, j->st.pid);
		return EXIT_OK;
	case NUMAMIG_STATE_FAILED:
		if (j->st.error > 0)
			nm_err(j->st.error, NULL, "job %llu failed", id);
		else
			nm_msg("job %llu failed", id);
		return EXIT_FAIL;
	case NUMAMIG_STATE_CANCELLED:
		if (!quiet_cancel)
			nm_msg("job %llu was cancelled", id);
		return EXIT_FAIL;
	case NUMAMIG_STATE_RUNNING:
		nm_msg("job %llu is still running", id);
		return EXIT_FAIL;
	default:
		nm_msg("job %llu ended in unknown state %u", id, j->st.state);
		return EXIT_FAIL;
	}
}

void print_statuses(const struct job *jobs, size_t n, bool json)
{
	struct json j;
	bool first = true;

	if (json) {
		json_init(&j, stdout);
		json_begin_object(&j, NULL);
		json_begin_array(&j, "jobs");
	}
	for (size_t i = 0; i < n; i++) {
		if (!jobs[i].have_st)
			continue;
		if (json) {
			show_status_json(&j, &jobs[i].st);
			continue;
		}
		if (!first)
			fputc('\n', stdout);
		show_status_text(stdout, &jobs[i].st);
		first = false;
	}
	if (json) {
		json_end_array(&j);
		json_end_object(&j);
	}
}


static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

bool sigint_caught(void)
{
	return interrupted;
}

struct view {
	bool tty;
	int lines;		/* lines drawn last time (tty) */
	int max_lines;		/* more jobs than this: one summary line */
	int cols;
	long long last_plain;	/* CLOCK_MONOTONIC ns of the last plain line */
};

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void view_init(struct view *v)
{
	struct winsize ws;

	memset(v, 0, sizeof(*v));
	v->tty = isatty(STDERR_FILENO);
	v->cols = 80;
	v->max_lines = 16;
	if (v->tty && ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col) {
		v->cols = ws.ws_col;
		/* Cursor-up cannot reach above the screen: keep it on it. */
		v->max_lines = ws.ws_row > 2 ? ws.ws_row - 1 : 1;
	}
	v->last_plain = now_ns();
}

static void job_line(char *buf, size_t len, const struct job *j, bool bar)
{
	struct progress p = { 0 };
	char prog[160];

	progress_add(&p, &j->st);
	format_progress(prog, sizeof(prog), &p, bar);
	/* State first: a line cut to the terminal's width keeps it. */
	snprintf(buf, len, "job %llu %-9s %s", (unsigned long long)j->id,
		 j->lost ? "lost" : nmctl_state_name(j->st.state), prog);
}

static void summary_line(char *buf, size_t len, const struct job *jobs,
			 size_t n, bool bar)
{
	struct progress p = { 0 };
	char prog[160];
	size_t running = 0;

	for (size_t i = 0; i < n; i++) {
		progress_add(&p, &jobs[i].st);
		running += !jobs[i].finished && !jobs[i].lost;
	}
	format_progress(prog, sizeof(prog), &p, bar);
	snprintf(buf, len, "%zu jobs, %zu running %s", n, running, prog);
}

/* Redraw the bars in place: up over the last drawing, then line by line. */
static void draw_tty(struct view *v, const struct job *jobs, size_t n)
{
	bool per_job = n <= (size_t)v->max_lines;
	int lines = per_job ? (int)n : 1;
	char buf[256];

	if (v->lines)
		fprintf(stderr, "\033[%dA", v->lines);
	for (int i = 0; i < lines; i++) {
		if (per_job)
			job_line(buf, sizeof(buf), &jobs[i], true);
		else
			summary_line(buf, sizeof(buf), jobs, n, true);
		/* A wrapped line would break cursor-up; cut it instead. */
		if (v->cols > 1 && strlen(buf) >= (size_t)v->cols)
			buf[v->cols - 1] = '\0';
		fprintf(stderr, "\r\033[K%s\n", buf);
	}
	v->lines = lines;
	fflush(stderr);
}

static void draw_plain(struct view *v, const struct job *jobs, size_t n)
{
	long long now = now_ns();
	char buf[256];

	if (now - v->last_plain < PLAIN_EVERY_NS)
		return;
	v->last_plain = now;
	if (n > (size_t)v->max_lines) {
		summary_line(buf, sizeof(buf), jobs, n, false);
		fprintf(stderr, "%s\n", buf);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (jobs[i].finished || jobs[i].lost)
			continue;
		job_line(buf, sizeof(buf), &jobs[i], false);
		fprintf(stderr, "%s\n", buf);
	}
}

static void refresh(struct nmctl_dev *dev, struct job *jobs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct job *j = &jobs[i];
		int r;

		if (j->finished || j->lost)
			continue;
		r = nmctl_status(dev, j->id, &j->st);
		if (r < 0) {
			job_error(-r, "status of", j->id);
			j->lost = true;
			continue;
		}
		j->have_st = true;
		j->finished = j->st.state != NUMAMIG_STATE_RUNNING;
	}
}

static struct job *first_running(struct job *jobs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!jobs[i].finished && !jobs[i].lost)
			return &jobs[i];
	return NULL;
}

/* Ctrl-C: cancel what still runs and give the module a moment to stop it. */
static void cancel_running(struct nmctl_dev *dev, struct job *jobs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int r;

		if (jobs[i].finished || jobs[i].lost)
			continue;
		r = nmctl_cancel(dev, jobs[i].id);
		if (r < 0)
			job_error(-r, "cancel", jobs[i].id);
	}
	for (size_t i = 0; i < n; i++)
		if (!jobs[i].finished && !jobs[i].lost)
			nmctl_wait(dev, jobs[i].id, CANCEL_SETTLE_MS, NULL);
}

/* No SA_RESTART: the signal must interrupt NUMAMIG_IOC_WAIT (EINTR). */
void sigint_catch(struct sigaction *old)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, old);
}

int wait_jobs(struct nmctl_dev *dev, struct job *jobs, size_t n,
	      bool json, const struct sigaction *old_sa)
{
	int r, ret = EXIT_OK;
	struct view v;
	struct job *j;

	view_init(&v);
	for (;;) {
		refresh(dev, jobs, n);
		if (v.tty)
			draw_tty(&v, jobs, n);
		else
			draw_plain(&v, jobs, n);
		if (interrupted)
			break;
		j = first_running(jobs, n);
		if (!j)
			break;
		/* Returns when j finishes, at the timeout, or on a signal. */
		r = nmctl_wait(dev, j->id, WAIT_POLL_MS, NULL);
		if (r < 0 && r != -ETIMEDOUT && r != -EINTR) {
			job_error(-r, "wait for", j->id);
			j->lost = true;
		}
	}

	/* A second Ctrl-C should kill us, not wait for the cancel. */
	sigaction(SIGINT, old_sa, NULL);
	if (interrupted) {
		cancel_running(dev, jobs, n);
		refresh(dev, jobs, n);
		if (v.tty)
			draw_tty(&v, jobs, n);
	}

	print_statuses(jobs, n, json);
	if (finish_stdout() != EXIT_OK)
		ret = EXIT_FAIL;
	if (interrupted) {
		nm_msg("interrupted: running jobs cancelled");
		ret = EXIT_FAIL;
	}
	for (size_t i = 0; i < n; i++)
		if (job_outcome(&jobs[i], interrupted) != EXIT_OK)
			ret = EXIT_FAIL;
	return ret;
}
