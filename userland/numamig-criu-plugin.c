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
 *
 * The script gets CRIU's environment plus CRTOOLS_SCRIPT_ACTION,
 * CRTOOLS_IMAGE_DIR (/proc/CRIU-PID/fd/N), CRTOOLS_INIT_PID (the root
 * task), NUMAMIG_CRIU_PIDS (every task, space-separated) and
 * NUMAMIG_CRIU_CALLER=plugin; init sets NUMAMIG_CRIU_PLUGIN=1 in CRIU's
 * own environment, so that a copy of the script that CRIU runs as an
 * --action-script knows the plugin does the work.
 *
 * Environment (CRIU's, i.e. that of runc/podman/criu):
 *   NUMAMIG_HOTCACHE=off       do nothing
 *   NUMAMIG_CRIU_ACTION_PATH   the action script (default: the installed
 *                              one, NUMAMIG_CRIU_ACTION at build time)
 *   NUMAMIG_CRIU_TIMEOUT       seconds the script may run before it is
 *                              killed (default 600; 0: no limit)
 * and every variable of numamig-criu-action itself.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <criu/criu-plugin.h>

#ifndef NUMAMIG_CRIU_ACTION
#define NUMAMIG_CRIU_ACTION "/usr/local/lib/numamig/numamig-criu-action"
#endif

#define PREFIX "numamig-criu-plugin: "
#define MAX_TASKS 4096
#define SCRIPT_TIMEOUT 600	/* s: NUMAMIG_CRIU_TIMEOUT */

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

/* "NAME=value" in a new string, or NULL (reported). */
static char *env_entry(const char *name, const char *value)
{
	char *e;

	if (asprintf(&e, "%s=%s", name, value) < 0) {
		warn("asprintf");
		return NULL;
	}
	return e;
}

/*
 * CRIU's environment with the action script's variables set (replaced
 * where CRIU already has them: a plugin run inside an action script's
 * CRIU).  Built before fork(): the child only calls async-signal-safe
 * functions.  Returns a NULL-terminated array whose last @nr_new entries
 * are to be freed, or NULL.
 */
static char **script_env(char **set, int nr_new)
{
	extern char **environ;
	size_t n = 0, k = 0;
	char **env;
	int i;

	while (environ[n])
		n++;
	env = calloc(n + (size_t)nr_new + 1, sizeof(*env));
	if (!env) {
		warn("calloc");
		return NULL;
	}
	for (size_t j = 0; j < n; j++) {
		const char *eq = strchr(environ[j], '=');
		size_t len = eq ? (size_t)(eq - environ[j]) + 1 : 0;

		for (i = 0; i < nr_new; i++)
			if (len && !strncmp(environ[j], set[i], len))
				break;
		if (i == nr_new)
			env[k++] = environ[j];
	}
	for (i = 0; i < nr_new; i++)
		env[k++] = set[i];
	return env;
}

/* In the child: a clean process for the script, then exec it. */
static void exec_script(const char *script, char **env)
{
	char *argv[] = { (char *)script, NULL };
	struct sigaction sa;
	sigset_t none;
	int sig;

	/*
	 * CRIU blocks signals and handles or ignores some (SIGCHLD, SIGPIPE):
	 * an ignored disposition survives execve, and a shell that ignores
	 * SIGCHLD cannot wait for its commands.  Give the script defaults.
	 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL);	/* fails for KILL, STOP: fine */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/*
	 * CRIU's descriptors (images, service fds, the RPC socket of runc)
	 * are not the script's business; a background prefetch holding them
	 * would outlive CRIU with them.  The images stay reachable through
	 * /proc/CRIU-PID/fd/N.
	 */
	if (close_range(3, ~0U, 0) < 0)
		for (int fd = 3; fd < 65536; fd++)
			close(fd);
	execve(script, argv, env);
	/* Only stderr: no stdio buffers shared with CRIU. */
	dprintf(STDERR_FILENO, PREFIX "cannot run %s: %s\n", script,
		strerror(errno));
	_exit(127);
}

/*
 * Wait for the script, at most NUMAMIG_CRIU_TIMEOUT seconds (default
 * SCRIPT_TIMEOUT; 0: for ever): a script that hangs must not hang CRIU,
 * which has the tree frozen meanwhile.  Polls: CRIU owns SIGCHLD.
 */
static void wait_script(pid_t child, const char *action)
{
	const char *v = getenv("NUMAMIG_CRIU_TIMEOUT");
	long limit = v && *v ? strtol(v, NULL, 10) : SCRIPT_TIMEOUT;
	struct timespec tick = { 0, 20 * 1000 * 1000 };
	long waited = 0;	/* in ticks of 20 ms */
	int status;
	pid_t r;

	for (;;) {
		r = waitpid(child, &status, limit > 0 ? WNOHANG : 0);
		if (r == child)
			break;
		if (r < 0) {
			/* ECHILD: CRIU ignores SIGCHLD, the kernel reaped it. */
			if (errno != EINTR && errno != ECHILD)
				warn("waitpid");
			if (errno != EINTR)
				return;
			continue;
		}
		if (limit > 0 && waited++ >= limit * 50) {
			fprintf(stderr, PREFIX "%s: the action script runs for more than %ld s: killed (NUMAMIG_CRIU_TIMEOUT)\n",
				action, limit);
			kill(child, SIGKILL);
			limit = 0;	/* now reap it */
			continue;
		}
		nanosleep(&tick, NULL);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status))
		fprintf(stderr, PREFIX "%s: the action script exited with status %d\n",
			action, WEXITSTATUS(status));
	else if (WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL)
		fprintf(stderr, PREFIX "%s: the action script was killed by signal %d\n",
			action, WTERMSIG(status));
}

/* Run the action script for @action with @root and @pids; wait for it. */
static void run_action(const char *action, long root, const long *pids,
		       int n)
{
	const char *script = getenv("NUMAMIG_CRIU_ACTION_PATH");
	char images[64], rootstr[24], *list, *set[5] = { NULL }, **env;
	size_t len = 0;
	pid_t child;
	int dirfd, i;

	if (!script || !*script)
		script = NUMAMIG_CRIU_ACTION;
	dirfd = criu_get_image_dir();
	if (dirfd < 0) {
		fprintf(stderr, PREFIX "%s: CRIU has no images directory open: nothing done\n",
			action);
		return;
	}
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
	set[0] = env_entry("CRTOOLS_SCRIPT_ACTION", action);
	set[1] = env_entry("CRTOOLS_IMAGE_DIR", images);
	set[2] = env_entry("CRTOOLS_INIT_PID", rootstr);
	set[3] = env_entry("NUMAMIG_CRIU_PIDS", list);
	set[4] = env_entry("NUMAMIG_CRIU_CALLER", "plugin");
	free(list);
	env = NULL;
	if (set[0] && set[1] && set[2] && set[3] && set[4])
		env = script_env(set, 5);
	if (!env)
		goto out;

	fflush(stderr);		/* nothing buffered twice */
	child = fork();
	if (child < 0)
		warn("fork");
	else if (child == 0)
		exec_script(script, env);
	else
		wait_script(child, action);
	free(env);
out:
	for (i = 0; i < 5; i++)
		free(set[i]);
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
