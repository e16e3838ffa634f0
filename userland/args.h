/* SPDX-License-Identifier: GPL-2.0 */
/* numamigctl: strict parsing of numbers, policies and NUMA nodes. */
#ifndef NMCTL_ARGS_H
#define NMCTL_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/numamig.h>

/*
 * Parse a decimal number in [min, max].  No sign, no spaces, no suffix:
 * "-1" must not wrap to 2^64-1 as strtoull() would let it.
 * Return: 0, -EINVAL (not a number) or -ERANGE (outside [min, max]).
 */
int parse_u64(const char *s, unsigned long long min, unsigned long long max,
	      unsigned long long *out);

/* Return: enum numamig_policy for a policy name, or -1. */
int parse_policy(const char *s);

/*
 * Parse a destination node: a number that names a configured node.
 * On failure write a short reason into @why.
 */
int parse_node(const char *s, unsigned int *node, char *why, size_t whylen);

/*
 * Parse a libnuma node list ("1", "0-2,4", "all", "!1") into the module's
 * src_nodes words.  An empty list is refused: the module would read it as
 * "every node", the opposite of what the user typed.
 * On failure write a short reason into @why.
 */
int parse_nodelist(const char *s, __u64 words[NUMAMIG_NODE_WORDS],
		   char *why, size_t whylen);

static inline bool node_word_isset(const __u64 *words, unsigned int node)
{
	return node < NUMAMIG_MAX_NODES &&
	       (words[node / 64] >> (node % 64)) & 1;
}

/* Configured nodes as a list like "0-1,3" (for error messages). */
void configured_nodes(char *buf, size_t len);

#endif
