// SPDX-License-Identifier: GPL-2.0
/*
 * ckwork - the workload of the residual-checkpoint benchmark: SIZE MiB of
 * private anonymous memory, page i filled with a function of (i, its
 * generation).  It answers signals by replacing its STATE file:
 *   start        "ready PAGES"
 *   SIGUSR1      rewrite the first SHARE% of the pages: "dirtied K MS"
 *                (MS: the milliseconds the writes took: soft-dirty
 *                tracking makes the first write to each page fault).
 *                Contiguous on purpose: the kernel tracks a transparent
 *                huge page as one unit, so writes scattered over every
 *                2 MiB would dirty all of the memory.
 *   SIGUSR2      check every page: "verify ok PAGES" or "verify bad N"
 *
 * Usage: ckwork STATE SIZE_MIB SHARE_PERCENT
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#define PG 4096

static char *mem;
static unsigned char *gen;
static long npages;
static const char *state;

static uint64_t word(long i)
{
	return (uint64_t)i * 0x9E3779B97F4A7C15ull ^ gen[i];
}

static void fill(long i)
{
	uint64_t *w = (uint64_t *)(mem + i * PG), v = word(i);

	for (int k = 0; k < PG / 8; k++)
		w[k] = v + k;
}

static void say(const char *what, long a, double b)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", state);
	f = fopen(tmp, "w");
	if (!f)
		exit(1);
	fprintf(f, "%s %ld %.1f\n", what, a, b);
	fclose(f);
	rename(tmp, state);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	long i, k, bad, share;
	sigset_t set;
	double t0;
	int sig;

	if (argc != 4)
		return 2;
	state = argv[1];
	npages = atol(argv[2]) * 1024 * 1024 / PG;
	share = npages * atol(argv[3]) / 100;
	mem = mmap(NULL, npages * PG, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	gen = calloc(npages, 1);
	if (mem == MAP_FAILED || !gen || share < 1)
		return 1;
	madvise(mem, npages * PG, MADV_NOHUGEPAGE);
	for (i = 0; i < npages; i++)
		fill(i);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	say("ready", npages, 0);
	for (;;) {
		if (sigwait(&set, &sig))
			continue;
		if (sig == SIGUSR1) {
			t0 = now_ms();
			for (i = k = 0; i < share; i++, k++) {
				gen[i]++;
				fill(i);
			}
			say("dirtied", k, now_ms() - t0);
			continue;
		}
		for (i = bad = 0; i < npages; i++) {
			uint64_t *w = (uint64_t *)(mem + i * PG), v = word(i);

			for (k = 0; k < PG / 8 && w[k] == v + k; k++)
				;
			bad += k < PG / 8;
		}
		if (bad)
			say("verify bad", bad, 0);
		else
			say("verify ok", npages, 0);
	}
}
