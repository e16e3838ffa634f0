// SPDX-License-Identifier: GPL-2.0
/*
 * test_thp_target - a process on transparent huge pages, for
 * test_thp_guest.sh.
 *
 * Maps SIZE MiB 2 MiB-aligned with MADV_HUGEPAGE (or MADV_NOHUGEPAGE with
 * -n), writes every page (its index and a pattern), optionally mprotects
 * half of the first huge page (-p: it becomes PTE-mapped), prints "ready",
 * then keeps reading (or with -w writing) the first HOT percent.  On
 * SIGUSR1 it checks every word and writes to the -o file:
 *   verify ok|bad N
 *   hot H_ON_NODE H_TOTAL
 *   cold C_ON_NODE C_TOTAL
 * where X_ON_NODE counts the pages of each part on node -N (move_pages(2)
 * with NULL nodes).
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <numaif.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define THP_SIZE	(2UL << 20)
#define MAGIC		0x6e756d616d696700ULL	/* "numamig\0" */

static volatile sig_atomic_t report_asked;

static void on_usr1(int sig)
{
	(void)sig;
	report_asked = 1;
}

/* Pages of [first, first + n) on @node. */
static long on_node(char *buf, long page, size_t first, size_t n, int node)
{
	enum { CHUNK = 4096 };
	void *pages[CHUNK];
	int status[CHUNK];
	long count = 0;

	for (size_t i = 0; i < n; i += CHUNK) {
		size_t k = n - i < CHUNK ? n - i : CHUNK;

		for (size_t j = 0; j < k; j++)
			pages[j] = buf + (first + i + j) * page;
		if (move_pages(0, k, pages, NULL, status, 0))
			return -errno;
		for (size_t j = 0; j < k; j++)
			count += status[j] == node;
	}
	return count;
}

static void report(const char *out, char *buf, long page, size_t npages,
		   size_t hot, int node)
{
	size_t words = page / sizeof(uint64_t), bad = 0;
	FILE *f;

	for (size_t i = 0; i < npages; i++) {
		uint64_t *w = (uint64_t *)(buf + i * page);

		bad += w[0] != (MAGIC | (i & 0xff)) || w[1] != i;
		for (size_t k = 3; k < words; k++)
			bad += w[k] != (i ^ k);
	}
	f = fopen(out, "w");
	if (!f)
		return;
	if (bad)
		fprintf(f, "verify bad %zu\n", bad);
	else
		fprintf(f, "verify ok\n");
	fprintf(f, "hot %ld %zu\n", on_node(buf, page, 0, hot, node), hot);
	fprintf(f, "cold %ld %zu\n", on_node(buf, page, hot, npages - hot, node),
		npages - hot);
	fclose(f);
}

int main(int argc, char **argv)
{
	unsigned long size_mib = 64, hot_pct = 10;
	const char *out = "/dev/null";
	bool nohuge = false, ptemap = false, write = false;
	long page = sysconf(_SC_PAGESIZE);
	size_t npages, hot, words;
	int node = 1, c;
	char *raw, *buf;

	while ((c = getopt(argc, argv, "m:H:o:N:npw")) != -1) {
		switch (c) {
		case 'm': size_mib = strtoul(optarg, NULL, 0); break;
		case 'H': hot_pct = strtoul(optarg, NULL, 0); break;
		case 'o': out = optarg; break;
		case 'N': node = atoi(optarg); break;
		case 'n': nohuge = true; break;
		case 'p': ptemap = true; break;
		case 'w': write = true; break;
		default:
			fprintf(stderr, "usage: %s [-m MIB] [-H PCT] [-o FILE] [-N NODE] [-n] [-p] [-w]\n",
				argv[0]);
			return 2;
		}
	}
	npages = (size_mib << 20) / page;
	hot = npages * hot_pct / 100;
	words = page / sizeof(uint64_t);
	raw = mmap(NULL, (size_mib << 20) + THP_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	buf = (char *)(((uintptr_t)raw + THP_SIZE - 1) & ~(THP_SIZE - 1));
	if (madvise(buf, size_mib << 20, nohuge ? MADV_NOHUGEPAGE : MADV_HUGEPAGE)) {
		perror("madvise");
		return 1;
	}
	for (size_t i = 0; i < npages; i++) {
		uint64_t *w = (uint64_t *)(buf + i * page);

		w[0] = MAGIC | (i & 0xff);
		w[1] = i;
		w[2] = 0;
		for (size_t k = 3; k < words; k++)
			w[k] = i ^ k;
	}
	/* Half of the first THP read-only: the PMD splits, the folio stays. */
	if (ptemap && mprotect(buf, THP_SIZE / 2, PROT_READ)) {
		perror("mprotect");
		return 1;
	}
	signal(SIGUSR1, on_usr1);
	printf("ready\n");
	fflush(stdout);
	for (uint64_t pass = 0;; pass++) {
		volatile uint64_t sum = 0;

		for (size_t i = ptemap ? THP_SIZE / page : 0; i < hot; i++) {
			uint64_t *w = (uint64_t *)(buf + i * page);

			if (write)
				w[2] = pass;	/* a word the check ignores */
			else
				sum += w[2];
		}
		if (report_asked) {
			report_asked = 0;
			report(out, buf, page, npages, hot, node);
		}
		if (!hot)
			usleep(10000);
	}
}
