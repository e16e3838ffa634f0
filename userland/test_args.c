// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests for numamigctl's parsing and JSON writing: no kernel
 * module needed.  Output is TAP.
 */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <numa.h>

#include "args.h"
#include "cgroup.h"
#include "json.h"
#include "nmctl_ioctl.h"

static int planned, done, failures;

static void ok(int cond, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void ok(int cond, const char *fmt, ...)
{
	va_list ap;

	done++;
	printf("%sok %d - ", cond ? "" : "not ", done);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!cond)
		failures++;
}

static void skip(const char *why, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void skip(const char *why, const char *fmt, ...)
{
	va_list ap;

	done++;
	printf("ok %d - ", done);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" # SKIP %s\n", why);
}

/* ---- numbers ---------------------------------------------------- */

struct num_case {
	const char *s;
	unsigned long long min, max;
	int ret;
	unsigned long long val;
};

static const struct num_case num_cases[] = {
	{ "0", 0, 10, 0, 0 },
	{ "10", 0, 10, 0, 10 },
	{ "007", 0, 10, 0, 7 },		/* decimal, not octal */
	{ "11", 0, 10, -ERANGE, 0 },
	{ "0", 1, 10, -ERANGE, 0 },
	{ "-1", 0, ULLONG_MAX, -EINVAL, 0 },	/* strtoull would wrap it */
	{ "+1", 0, 10, -EINVAL, 0 },
	{ " 1", 0, 10, -EINVAL, 0 },
	{ "1 ", 0, 10, -EINVAL, 0 },
	{ "", 0, 10, -EINVAL, 0 },
	{ "1x", 0, 10, -EINVAL, 0 },
	{ "0x10", 0, 100, -EINVAL, 0 },
	{ "1e3", 0, 10000, -EINVAL, 0 },
	{ "18446744073709551615", 0, ULLONG_MAX, 0, ULLONG_MAX },
	{ "18446744073709551616", 0, ULLONG_MAX, -ERANGE, 0 },
	{ "99999999999999999999999", 0, ULLONG_MAX, -ERANGE, 0 },
	{ "16777216", 1, NUMAMIG_MAX_BATCH, 0, NUMAMIG_MAX_BATCH },
	{ "16777217", 1, NUMAMIG_MAX_BATCH, -ERANGE, 0 },
	{ "60001", 0, NUMAMIG_MAX_SLEEP, -ERANGE, 0 },
};

static void test_numbers(void)
{
	for (size_t i = 0; i < sizeof(num_cases) / sizeof(num_cases[0]); i++) {
		const struct num_case *c = &num_cases[i];
		unsigned long long v = 12345;
		int r = parse_u64(c->s, c->min, c->max, &v);

		ok(r == c->ret && (r != 0 || v == c->val),
		   "parse_u64(\"%s\", %llu..%llu) = %d (want %d)", c->s,
		   c->min, c->max, r, c->ret);
	}
	{
		unsigned long long v = 42;

		parse_u64("x", 0, 10, &v);
		ok(v == 42, "parse_u64 leaves the output alone on error");
	}
}

/* ---- policies and names ----------------------------------------- */

static void test_names(void)
{
	ok(parse_policy("eager") == NUMAMIG_POLICY_EAGER, "policy eager");
	ok(parse_policy("periodical") == NUMAMIG_POLICY_PERIODICAL, "policy periodical");
	ok(parse_policy("severe") == NUMAMIG_POLICY_SEVERE, "policy severe");
	ok(parse_policy("mild") == NUMAMIG_POLICY_MILD, "policy mild");
	ok(parse_policy("Mild") < 0 && parse_policy("") < 0 &&
	   parse_policy("unknown") < 0, "bad policy names are refused");
	ok(!strcmp(nmctl_state_name(NUMAMIG_STATE_EXITED), "exited") &&
	   !strcmp(nmctl_state_name(99), "unknown"), "state names");
	ok(nmctl_skip_name(NUMAMIG_SKIP_SPECIAL) &&
	   !strcmp(nmctl_skip_name(NUMAMIG_SKIP_SPECIAL), "special") &&
	   !nmctl_skip_name(NUMAMIG_SKIP_MAX - 1) &&
	   !nmctl_skip_name(NUMAMIG_SKIP_MAX), "skip reason names");
}

/* ---- nodes ------------------------------------------------------ */

static void test_nodes(void)
{
	__u64 words[NUMAMIG_NODE_WORDS];
	char why[160];
	unsigned int node = 77;
	int r;

	/* Node 0 exists on every Linux system, NUMA or not. */
	r = parse_node("0", &node, why, sizeof(why));
	ok(r == 0 && node == 0, "--to 0 is a configured node");
	r = parse_node("zero", &node, why, sizeof(why));
	ok(r == -EINVAL && strstr(why, "not a node number"), "--to zero: %s", why);
	r = parse_node("1023", &node, why, sizeof(why));
	ok(r == -ERANGE || (r == 0 && node == 1023),
	   "--to 1023 refused unless configured: %s", r ? why : "configured");
	r = parse_node("1024", &node, why, sizeof(why));
	ok(r == -ERANGE && strstr(why, "configured: 0"), "--to 1024: %s", why);
	r = parse_node("-1", &node, why, sizeof(why));
	ok(r == -EINVAL, "--to -1 refused");

	if (numa_available() < 0) {
		for (int i = 0; i < 5; i++)
			skip("no NUMA support in this kernel", "node list test %d", i);
		return;
	}
	r = parse_nodelist("0", words, why, sizeof(why));
	ok(r == 0 && words[0] == 1 && words[1] == 0, "--from 0 sets bit 0");
	r = parse_nodelist("all", words, why, sizeof(why));
	ok(r == 0 && node_word_isset(words, 0), "--from all includes node 0");
	r = parse_nodelist("", words, why, sizeof(why));
	ok(r < 0, "--from '' refused: %s", why);
	r = parse_nodelist("x-y", words, why, sizeof(why));
	ok(r < 0 && why[0], "--from x-y refused: %s", why);
	r = parse_nodelist("1000", words, why, sizeof(why));
	ok(r < 0 && why[0], "--from 1000 refused: %s", why);
}

/* ---- JSON ------------------------------------------------------- */

/* Run @fn on a memory stream and compare what it wrote with @want. */
static void json_case(void (*fn)(FILE *f), const char *want, const char *what)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f) {
		ok(0, "%s: open_memstream: %s", what, strerror(errno));
		return;
	}
	fn(f);
	fclose(f);
	/* Compare everything, but keep the TAP line one line. */
	ok(buf && !strcmp(buf, want), "%s: got %.*s", what,
	   buf ? (int)strcspn(buf, "\n") : 6, buf ? buf : "(null)");
	free(buf);
}

static void esc_plain(FILE *f)   { json_write_string(f, "plain"); }
static void esc_quote(FILE *f)   { json_write_string(f, "a\"b\\c/d"); }
static void esc_ctrl(FILE *f)    { json_write_string(f, "\n\t\r\b\f\x01\x1f\x7f"); }
static void esc_utf8(FILE *f)    { json_write_string(f, "n\xc5\x8d" "de"); }
static void esc_empty(FILE *f)   { json_write_string(f, ""); }

static void doc_nested(FILE *f)
{
	struct json j;

	json_init(&j, f);
	json_begin_object(&j, NULL);
	json_begin_array(&j, "jobs");
	json_begin_object(&j, NULL);
	json_u64(&j, "job", 18446744073709551615ULL);
	json_i64(&j, "pid", -1);
	json_end_object(&j);
	json_begin_object(&j, NULL);
	json_string(&j, "state", "done");
	json_null(&j, "error_text");
	json_begin_object(&j, "skipped");
	json_end_object(&j);
	json_end_object(&j);
	json_end_array(&j);
	json_u64(&j, "n", 0);
	json_end_object(&j);
}

static void doc_empty_array(FILE *f)
{
	struct json j;

	json_init(&j, f);
	json_begin_array(&j, NULL);
	json_end_array(&j);
}

static void test_json(void)
{
	json_case(esc_plain, "\"plain\"", "plain string");
	json_case(esc_quote, "\"a\\\"b\\\\c/d\"", "quote and backslash escaped");
	json_case(esc_ctrl, "\"\\n\\t\\r\\b\\f\\u0001\\u001f\\u007f\"",
		  "control characters escaped");
	json_case(esc_utf8, "\"n\xc5\x8d" "de\"", "UTF-8 passes through");
	json_case(esc_empty, "\"\"", "empty string");
	json_case(doc_nested,
		  "{\"jobs\":[{\"job\":18446744073709551615,\"pid\":-1},"
		  "{\"state\":\"done\",\"error_text\":null,\"skipped\":{}}],"
		  "\"n\":0}\n", "nested document, commas, newline at the end");
	json_case(doc_empty_array, "[]\n", "empty top-level array");
}

/* ---- cgroup.procs ----------------------------------------------- */

static int write_procs(char *path, const char *content)
{
	int fd = mkstemp(path);
	ssize_t len = (ssize_t)strlen(content);

	if (fd < 0)
		return -1;
	if (write(fd, content, (size_t)len) != len) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int child_pause(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return 0;
}

static void test_cgroup(void)
{
	char path[] = "/tmp/numamigctl-test-XXXXXX", content[128];
	static char stack[64 * 1024] __attribute__((aligned(16)));
	pid_t *pids, forked, shared;
	bool kcmp_ok;
	size_t n;
	int r;

	forked = fork();
	if (forked == 0)
		child_pause(NULL);
	/* Shares our mm, not our thread group: what kcmp(KCMP_VM) finds. */
	shared = clone(child_pause, stack + sizeof(stack), CLONE_VM | SIGCHLD, NULL);
	snprintf(content, sizeof(content), "%d\n%d\n%d\n%d\n", getpid(),
		 forked, getpid(), shared);
	if (forked < 0 || shared < 0 || write_procs(path, content) < 0) {
		ok(0, "test setup: %s", strerror(errno));
		return;
	}
	r = read_pids(path, &pids, &n);
	ok(r == 0 && n == 3 && pids[0] == getpid() && pids[1] == forked &&
	   pids[2] == shared, "read_pids keeps file order, drops duplicates");
	if (r == 0) {
		distinct_mms(pids, &n, &kcmp_ok);
		if (!kcmp_ok)
			skip("kcmp unavailable", "distinct_mms merges CLONE_VM processes");
		else
			ok(n == 2 && pids[0] == getpid() && pids[1] == forked,
			   "distinct_mms merges CLONE_VM processes (n = %zu)", n);
		free(pids);
	}
	kill(forked, SIGKILL);
	kill(shared, SIGKILL);
	waitpid(forked, NULL, 0);
	waitpid(shared, NULL, 0);
	unlink(path);

	strcpy(path, "/tmp/numamigctl-test-XXXXXX");
	if (write_procs(path, "12\nabc\n") == 0) {
		r = read_pids(path, &pids, &n);
		ok(r == -EINVAL && pids == NULL, "read_pids refuses a non-pid line");
		unlink(path);
	}
	strcpy(path, "/tmp/numamigctl-test-XXXXXX");
	if (write_procs(path, "") == 0) {
		r = read_pids(path, &pids, &n);
		ok(r == 0 && n == 0, "read_pids of an empty cgroup");
		free(pids);
		unlink(path);
	}
	r = read_pids("/nonexistent/cgroup.procs", &pids, &n);
	ok(r == -ENOENT, "read_pids of a missing file: ENOENT");
}

int main(void)
{
	planned = (int)(sizeof(num_cases) / sizeof(num_cases[0])) + 1 +
		  7 + 10 + 7 + 5;
	printf("1..%d\n", planned);
	test_numbers();
	test_names();
	test_nodes();
	test_json();
	test_cgroup();
	if (done != planned) {
		printf("# planned %d tests but ran %d\n", planned, done);
		return 1;
	}
	return failures ? 1 : 0;
}
