// SPDX-License-Identifier: GPL-2.0
/*
 * workload - a process with a hot and a cold part, for the numamig demo.
 *
 * Allocates SIZE MiB of anonymous memory, writes every page once, prints
 * "ready" and then keeps touching the first HOT percent of it, page by page,
 * until SIGINT or SIGTERM. Its placement is whatever the caller chose with
 * numactl; it never moves anything itself.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *out, const char *prog)
{
	fprintf(out,
		"Usage: %s [options]\n"
		"\n"
		"Options:\n"
		"  -m, --size MIB     memory to allocate (default 256)\n"
		"  -H, --hot PERCENT  part touched again and again (default 50)\n"
		"  -s, --sleep MS     pause between passes over the hot part (default 0)\n"
		"  -h, --help         show this help\n",
		prog);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "size",  required_argument, NULL, 'm' },
		{ "hot",   required_argument, NULL, 'H' },
		{ "sleep", required_argument, NULL, 's' },
		{ "help",  no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long size_mib = 256, hot_pct = 50, sleep_ms = 0;
	long page = sysconf(_SC_PAGESIZE);
	unsigned long long passes = 0;
	size_t size, hot, off;
	struct sigaction sa;
	double t0;
	char *mem;
	int c;

	while ((c = getopt_long(argc, argv, "m:H:s:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			size_mib = strtoul(optarg, NULL, 0);
			break;
		case 'H':
			hot_pct = strtoul(optarg, NULL, 0);
			break;
		case 's':
			sleep_ms = strtoul(optarg, NULL, 0);
			break;
		case 'h':
			usage(stdout, argv[0]);
			return 0;
		default:
			fprintf(stderr, "Try '%s --help'.\n", argv[0]);
			return 1;
		}
	}
	if (optind < argc || size_mib == 0 || hot_pct > 100) {
		usage(stderr, argv[0]);
		return 1;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	size = size_mib << 20;
	hot = size / 100 * hot_pct;
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		fprintf(stderr, "workload: mmap %lu MiB: %s\n", size_mib, strerror(errno));
		return 1;
	}
	/* Base pages, so that the hot part is a precise set of pages. */
	madvise(mem, size, MADV_NOHUGEPAGE);

	for (off = 0; off < size; off += page)
		mem[off] = (char)off;

	printf("workload: pid %d ready, %lu MiB at %p, hot %lu MiB\n",
	       (int)getpid(), size_mib, (void *)mem, (unsigned long)(hot >> 20));
	fflush(stdout);

	t0 = now();
	while (!stop) {
		for (off = 0; off < hot && !stop; off += page)
			mem[off]++;
		passes++;
		if (sleep_ms)
			usleep(sleep_ms * 1000);
	}

	printf("workload: %llu passes over the hot part in %.1f s\n", passes, now() - t0);
	return 0;
}
