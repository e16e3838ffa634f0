// SPDX-License-Identifier: GPL-2.0
/* numamigctl: strict parsing of numbers, policies and NUMA nodes. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <numa.h>

#include "args.h"
#include "nmctl_ioctl.h"

int parse_u64(const char *s, unsigned long long min, unsigned long long max,
	      unsigned long long *out)
{
	unsigned long long v;
	char *end;

	/* strtoull() skips spaces and accepts signs: refuse both up front. */
	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end != '\0')
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int parse_policy(const char *s)
{
	for (int p = 0; p < NUMAMIG_POLICY_MAX; p++)
		if (strcmp(s, nmctl_policy_name((__u32)p)) == 0)
			return p;
	return -1;
}

/*
 * libnuma reports parse problems through numa_warn() and syscall trouble
 * through numa_error(), printing to stderr by default.  Both are meant to
 * be overridden by the program (numa(3)): keep the last warning so that
 * our single error line can carry it, and print nothing ourselves.
 */
static char numa_last_warning[256];

void numa_warn(int num, char *fmt, ...)
{
	va_list ap;
	size_t n;

	(void)num;
	va_start(ap, fmt);
	vsnprintf(numa_last_warning, sizeof(numa_last_warning), fmt, ap);
	va_end(ap);
	n = strlen(numa_last_warning);
	while (n > 0 && isspace((unsigned char)numa_last_warning[n - 1]))
		numa_last_warning[--n] = '\0';
}

void numa_error(char *where)
{
	(void)where;
}

/* libnuma's globals are valid only after numa_available() (numa(3)). */
static bool numa_ok(void)
{
	static int avail = -2;

	if (avail == -2)
		avail = numa_available();
	return avail >= 0;
}

static bool node_configured(unsigned int node)
{
	/* Without NUMA support in the kernel, node 0 is all there is. */
	if (!numa_ok())
		return node == 0;
	return node <= (unsigned int)numa_max_node() &&
	       numa_bitmask_isbitset(numa_nodes_ptr, node);
}

void configured_nodes(char *buf, size_t len)
{
	unsigned int max = numa_ok() ? (unsigned int)numa_max_node() : 0;
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned int n = 0; n <= max; n++) {
		unsigned int end = n;
		int w;

		if (!node_configured(n))
			continue;
		while (end + 1 <= max && node_configured(end + 1))
			end++;
		if (end == n)
			w = snprintf(buf + used, len - used, "%s%u",
				     used ? "," : "", n);
		else
			w = snprintf(buf + used, len - used, "%s%u-%u",
				     used ? "," : "", n, end);
		if (w < 0 || (size_t)w >= len - used)
			return;
		used += (size_t)w;
		n = end;
	}
}

int parse_node(const char *s, unsigned int *node, char *why, size_t whylen)
{
	unsigned long long v;
	char nodes[128];
	int ret;

	ret = parse_u64(s, 0, NUMAMIG_MAX_NODES - 1, &v);
	if (ret == -EINVAL) {
		snprintf(why, whylen, "not a node number");
		return ret;
	}
	if (ret == 0 && node_configured((unsigned int)v)) {
		*node = (unsigned int)v;
		return 0;
	}
	configured_nodes(nodes, sizeof(nodes));
	snprintf(why, whylen, "no such node (configured: %s)", nodes);
	return -ERANGE;
}

int parse_nodelist(const char *s, __u64 words[NUMAMIG_NODE_WORDS],
		   char *why, size_t whylen)
{
	struct bitmask *mask;
	bool any = false;

	memset(words, 0, NUMAMIG_NODE_WORDS * sizeof(words[0]));
	if (!numa_ok()) {
		snprintf(why, whylen, "NUMA is not available on this system");
		return -EINVAL;
	}
	/*
	 * The _all variant checks against every node the kernel exposes,
	 * not our own cpuset: the target's pages may sit on nodes this
	 * process is not allowed to allocate from.
	 */
	numa_last_warning[0] = '\0';
	mask = numa_parse_nodestring_all(s);
	if (!mask) {
		snprintf(why, whylen, "%s", numa_last_warning[0] ?
			 numa_last_warning : "not a node list");
		return -EINVAL;
	}
	for (unsigned int n = 0; n < mask->size; n++) {
		if (!numa_bitmask_isbitset(mask, n))
			continue;
		if (n >= NUMAMIG_MAX_NODES) {
			numa_bitmask_free(mask);
			snprintf(why, whylen, "node %u is beyond the module's %d nodes",
				 n, NUMAMIG_MAX_NODES);
			return -ERANGE;
		}
		words[n / 64] |= 1ULL << (n % 64);
		any = true;
	}
	numa_bitmask_free(mask);
	if (!any) {
		snprintf(why, whylen, "empty node list");
		return -EINVAL;
	}
	return 0;
}
