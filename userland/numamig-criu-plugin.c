// SPDX-License-Identifier: GPL-2.0
/*
 * numamig-criu-plugin - carry the hot page cache through every CRIU run.
 *
 * runc, podman and CRI-O drive CRIU over its RPC interface, where CRIU does
 * not run an action script; but CRIU loads every plugin in /usr/lib/criu/
 * in every mode.  This plugin is a thin shim: at the two moments that
 * matter it runs numamig-criu-action, where all the logic is, with the
 * environment CRIU gives an action script.
 *
 *  - the end of the dump stage (CRIU calls the plugin's exit before the
 *    post-dump script, with the tasks still seized and alive and their page
 *    cache still here): "post-dump", to dump the hot cache into the images;
 *  - RESUME_DEVICES_LATE of a restore (the tree is restored and stopped,
 *    just before CRIU lets it run): "pre-resume", to prefetch under the
 *    restored root's root directory (/proc/PID/root: the container's root
 *    file system, nobody has to name it) and to start the memory-change
 *    tracking that makes the next checkpoint incremental.
 *
 * The tasks are those ptrace-attached to this CRIU process (TracerPid).
 * Nothing here ever fails CRIU: problems are one line on stderr.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <criu/criu-plugin.h>

#ifndef NUMAMIG_CRIU_ACTION
#define NUMAMIG_CRIU_ACTION "/usr/local/lib/numamig/numamig-criu-action"
#endif

#define PREFIX "numamig-criu-plugin: "
#define MAX_TASKS 4096

static void warn(const char *what)
{
	fprintf(stderr, PREFIX "%s: %s\n", what, strerror(errno));
}

/* Field @key of /proc/@pid/status, or -1. */
static long status_field(long pid, const char *key)
{
	char path[64], line[256];
	size_t len = strlen(key);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, len) && line[len] == ':') {
			v = strtol(line + len + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/*
 * The processes this CRIU has seized, into @pids; the root (the one whose
 * parent is not among them) first.  Returns how many.
 */
static int seized_tasks(long *pids, int max)
{
	long me = getpid(), pid, tmp;
	struct dirent *de;
	int n = 0, i, k;
	DIR *d;

	d = opendir("/proc");
	if (!d) {
		warn("/proc");
		return 0;
	}
	while (n < max && (de = readdir(d))) {
		pid = strtol(de->d_name, NULL, 10);
		if (pid > 0 && status_field(pid, "TracerPid") == me)
			pids[n++] = pid;
	}
	closedir(d);
	for (i = 0; i < n; i++) {
		long ppid = status_field(pids[i], "PPid");

		for (k = 0; k < n && pids[k] != ppid; k++)
			;
		if (k == n) {		/* parent not seized: the root */
			tmp = pids[0];
			pids[0] = pids[i];
			pids[i] = tmp;
			break;
		}
	}
	return n;
}

/* Run the action script for @action; wait for it. */
static void run_action(const char *action, long root, const long *pids,
		       int n)
{
	const char *script = getenv("NUMAMIG_CRIU_ACTION_PATH");
	char images[64], rootstr[24], *list;
	size_t len = 0;
	pid_t child;
	int dirfd, status, i;

	if (!script || !*script)
		script = NUMAMIG_CRIU_ACTION;
	dirfd = criu_get_image_dir();
	snprintf(images, sizeof(images), "/proc/%d/fd/%d", (int)getpid(),
		 dirfd);
	snprintf(rootstr, sizeof(rootstr), "%ld", root);
	list = malloc((size_t)n * 21 + 1);
	if (!list) {
		warn("malloc");
		return;
	}
	list[0] = '\0';
	for (i = 0; i < n; i++)
		len += (size_t)sprintf(list + len, "%s%ld", i ? " " : "",
				       pids[i]);

	child = fork();
	if (child < 0) {
		warn("fork");
		free(list);
		return;
	}
	if (child == 0) {
		sigset_t none;

		/* CRIU blocks and catches signals: give the script defaults. */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGCHLD, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		setenv("CRTOOLS_SCRIPT_ACTION", action, 1);
		setenv("CRTOOLS_IMAGE_DIR", images, 1);
		setenv("CRTOOLS_INIT_PID", rootstr, 1);
		setenv("NUMAMIG_CRIU_PIDS", list, 1);
		setenv("NUMAMIG_CRIU_CALLER", "plugin", 1);
		execl(script, script, (char *)NULL);
		fprintf(stderr, PREFIX "cannot run %s: %s\n", script,
			strerror(errno));
		_exit(127);
	}
	free(list);
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
}

static bool disabled(void)
{
	const char *v = getenv("NUMAMIG_HOTCACHE");

	return v && !strcmp(v, "off");
}

static int numamig_init(int stage)
{
	/* An action script run by this CRIU leaves the work to us. */
	setenv("NUMAMIG_CRIU_PLUGIN", "1", 1);
	(void)stage;
	return 0;
}

static void numamig_exit(int stage, int ret)
{
	long pids[MAX_TASKS];
	int n;

	if (stage != CR_PLUGIN_STAGE__DUMP || ret || disabled())
		return;
	n = seized_tasks(pids, MAX_TASKS);
	if (n)
		run_action("post-dump", pids[0], pids, n);
}

static int numamig_resume_devices_late(int pid)
{
	long pids[MAX_TASKS], tmp;
	int n, i;

	if (disabled())
		return 0;
	n = seized_tasks(pids, MAX_TASKS);
	for (i = 0; i < n && pids[i] != pid; i++)
		;
	if (i == n) {		/* not seized (any more): the root alone */
		pids[0] = pid;
		n = 1;
	}
	tmp = pids[0];
	pids[0] = pids[i < n ? i : 0];
	pids[i < n ? i : 0] = tmp;
	run_action("pre-resume", pid, pids, n);
	return 0;
}

CR_PLUGIN_REGISTER("numamig", numamig_init, numamig_exit)
CR_PLUGIN_REGISTER_HOOK(CR_PLUGIN_HOOK__RESUME_DEVICES_LATE,
			numamig_resume_devices_late)
