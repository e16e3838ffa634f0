// SPDX-License-Identifier: GPL-2.0
/* numamigctl: option parsing helpers and messages shared by the subcommands. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "cli.h"
#include "msg.h"
#include "nmctl_ioctl.h"

int next_opt(const char *cmd, int argc, char **argv,
	     const struct option *longopts)
{
	return next_opt_short(cmd, argc, argv, ":h", longopts);
}

int next_opt_short(const char *cmd, int argc, char **argv,
		   const char *shortopts, const struct option *longopts)
{
	int c;

	opterr = 0;
	c = getopt_long(argc, argv, shortopts, longopts, NULL);
	if (c == '?') {
		if (optopt > 0 && optopt < 256)
			nm_msg("%s: invalid option '-%c' (see numamigctl %s --help)",
			       cmd, optopt, cmd);
		else
			nm_msg("%s: invalid option '%s' (see numamigctl %s --help)",
			       cmd, argv[optind - 1], cmd);
		return 0;
	}
	if (c == ':') {
		nm_msg("%s: option '%s' requires an argument", cmd, argv[optind - 1]);
		return 0;
	}
	return c;
}

int help(const char *text)
{
	fputs(text, stdout);
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
}

int opt_number(const char *cmd, const char *opt, const char *val,
	       unsigned long long min, unsigned long long max,
	       unsigned long long *out)
{
	int r = parse_u64(val, min, max, out);

	if (r == -EINVAL)
		nm_msg("%s: invalid %s '%s': not a number", cmd, opt, val);
	else if (r == -ERANGE)
		nm_msg("%s: invalid %s '%s': must be %llu..%llu", cmd, opt, val,
		       min, max);
	return r;
}

int opt_u32(const char *cmd, const char *opt, const char *val,
	    unsigned long long min, unsigned long long max, __u32 *out)
{
	unsigned long long v;
	int r = opt_number(cmd, opt, val, min, max, &v);

	if (r == 0)
		*out = (__u32)v;
	return r;
}

int opt_pid(const char *cmd, const char *val, pid_t *pid)
{
	unsigned long long v;
	int r = opt_number(cmd, "--pid", val, 1, INT_MAX, &v);

	if (r == 0)
		*pid = (pid_t)v;
	return r;
}

int positional(const char *cmd, int argc, char **argv, bool optional,
	       const char **arg)
{
	*arg = NULL;
	if (optind < argc)
		*arg = argv[optind++];
	if (optind < argc) {
		nm_msg("%s: unexpected argument '%s'", cmd, argv[optind]);
		return -1;
	}
	if (!*arg && !optional) {
		nm_msg("%s: missing JOB (see numamigctl %s --help)", cmd, cmd);
		return -1;
	}
	return 0;
}

int no_positional(const char *cmd, int argc, char **argv)
{
	if (optind < argc) {
		nm_msg("%s: unexpected argument '%s'", cmd, argv[optind]);
		return -1;
	}
	return 0;
}

int parse_job(const char *cmd, const char *s, __u64 *job)
{
	unsigned long long v;

	if (parse_u64(s, 1, ULLONG_MAX, &v) < 0) {
		nm_msg("%s: invalid JOB '%s': must be a positive integer", cmd, s);
		return -1;
	}
	*job = v;
	return 0;
}

void job_error(int err, const char *what, __u64 job)
{
	unsigned long long id = (unsigned long long)job;
	char hint[96];

	if (err == ENOENT)
		snprintf(hint, sizeof(hint), "no such job %llu", id);
	else if (err == ESRCH)
		snprintf(hint, sizeof(hint), "job %llu has already finished", id);
	else
		snprintf(hint, sizeof(hint), "%s",
			 nmctl_common_hint(err) ? nmctl_common_hint(err) : "");
	nm_err(err, hint, "%s job %llu", what, id);
}

int finish_stdout(void)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		nm_err(errno ? errno : EIO, NULL, "write error on stdout");
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
