/* SPDX-License-Identifier: GPL-2.0 */
/* numamigctl: what the subcommand files share: exit codes, options, helpers. */
#ifndef NMCTL_CLI_H
#define NMCTL_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <sys/types.h>
#include <linux/numamig.h>

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* Long-only options get values outside the char range (see next_opt()). */
enum {
	OPT_PID = 256, OPT_CGROUP, OPT_TO, OPT_FROM, OPT_POLICY, OPT_BATCH,
	OPT_SLEEP, OPT_CPU, OPT_WAIT, OPT_JSON, OPT_CLEAR, OPT_FILE, OPT_SYNC,
	OPT_ALL_RESIDENT, OPT_ROOT, OPT_JOBS, OPT_RATE, OPT_VERIFY_IDENTITY,
	OPT_CONTAINER, OPT_INTERVAL, OPT_COUNT, OPT_SPLIT_HUGE,
};

/*
 * getopt_long() with our one-line messages instead of its own (which
 * would name the subcommand as the program).  Returns the option, -1 at
 * the end, or 0 after a usage error was printed.
 */
int next_opt(const char *cmd, int argc, char **argv,
	     const struct option *longopts);
/* The same with short options besides -h: @shortopts as getopt's, e.g. ":ho:". */
int next_opt_short(const char *cmd, int argc, char **argv,
		   const char *shortopts, const struct option *longopts);

/* Print a usage text on stdout for --help; returns the exit status. */
int help(const char *text);

/* Numeric option values; print the usage error and return <0 if bad. */
int opt_number(const char *cmd, const char *opt, const char *val,
	       unsigned long long min, unsigned long long max,
	       unsigned long long *out);
int opt_u32(const char *cmd, const char *opt, const char *val,
	    unsigned long long min, unsigned long long max, __u32 *out);
int opt_pid(const char *cmd, const char *val, pid_t *pid);

/* At most one positional argument, into *arg; required unless @optional. */
int positional(const char *cmd, int argc, char **argv, bool optional,
	       const char **arg);
/* No positional argument at all. */
int no_positional(const char *cmd, int argc, char **argv);
int parse_job(const char *cmd, const char *s, __u64 *job);

/* The one-line error for a command that names a job. */
void job_error(int err, const char *what, __u64 job);

/* Flush stdout; a failed write is a failure (e.g. a full disk). */
int finish_stdout(void);

/*
 * --from NODES for a move to @to, into the module's src_nodes words
 * (the destination taken out).  Prints the usage error; returns <0.
 */
int opt_from_nodes(const char *cmd, const char *arg, unsigned int to,
		   __u64 words[NUMAMIG_NODE_WORDS]);

/* Subcommands that live in their own file. */
int cmd_migrate(int argc, char **argv);
int cmd_hotcache(int argc, char **argv);
int cmd_move(int argc, char **argv);
int cmd_top(int argc, char **argv);

#endif
