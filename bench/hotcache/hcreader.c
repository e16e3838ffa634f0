// SPDX-License-Identifier: GPL-2.0
/*
 * hcreader - the workload of the page-cache carry-over benchmark: random
 * reads of one file with a skewed pattern, counted per read as page-cache
 * hits or misses.
 *
 * The file is cut into --bs blocks.  --hot-frac of them form --regions hot
 * regions, one placed at a random block offset inside each of --regions
 * equal slots of the file (the placement depends on --layout-seed only, so
 * the source and the destination read the same hot set).  Each read picks
 * a hot block with probability --hot-share, otherwise a block uniformly
 * among the others, and reads it with one pread(2).  Before the read,
 * mincore(2) on a mapping of the file says how many of its pages are
 * cached: a read whose pages were all cached is a hit.  The file is opened
 * with POSIX_FADV_RANDOM, so a miss reads exactly the block and nothing
 * around it.
 *
 * Modes:
 *   hcreader [options] FILE          read until --duration or --count
 *   hcreader --layout [options] FILE print the hot regions (block ranges)
 *   hcreader --resident [options] FILE
 *                                    count the file's cached pages, in and
 *                                    out of the hot regions
 *
 * The summary is one line of key=value pairs on stdout; --timeline writes
 * the cumulative counters every --interval ms (kept in memory during the
 * run, written at the end).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

static const char *prog = "hcreader";

struct sample {
	uint64_t t_ns;
	uint64_t reads, bytes, hit_reads, pages, hit_pages;
	uint64_t hot_reads, hot_hit_pages;
};

struct opts {
	uint64_t bs;
	double hot_frac, hot_share;
	unsigned int regions;
	uint64_t layout_seed, seed;
	double duration;
	uint64_t count;
	int stop;
	const char *timeline;
	unsigned int interval_ms;
	int mincore, fadv_random;
};

static void die(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(errno));
	exit(1);
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: %s [options] FILE\n"
"       %s --layout|--resident [options] FILE\n"
"\n"
"  --bs BYTES        bytes per read, a multiple of the page size (65536)\n"
"  --hot-frac F      share of the file's blocks that are hot (0.2)\n"
"  --hot-share F     share of the reads that go to hot blocks (0.8)\n"
"  --regions N       hot regions (8)\n"
"  --layout-seed S   seed of the hot regions' placement (1)\n"
"  --seed S          seed of the read sequence (default: time and pid)\n"
"  --duration S      stop issuing reads after S seconds\n"
"  --count N         stop after N reads\n"
"  --stop            when done, stop (SIGSTOP) before printing and exiting\n"
"  --timeline FILE   cumulative counters every --interval ms, CSV\n"
"  --interval MS     (100)\n"
"  --no-mincore      do not classify reads as hits or misses\n"
"  --readahead       leave the kernel's readahead on (default: FADV_RANDOM)\n"
"  --layout          print the hot regions as block ranges and exit\n"
"  --resident        print the cached pages of FILE and exit\n"
"  -h, --help\n",
		prog, prog);
}

/* splitmix64: seeding and a fast, good enough generator. */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rng_below(uint64_t *s, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)rng_next(s) * n) >> 64);
}

static double rng_unit(uint64_t *s)
{
	return (rng_next(s) >> 11) * 0x1.0p-53;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static double parse_double(const char *s, const char *opt, double lo, double hi)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi)) {
		fprintf(stderr, "%s: invalid %s '%s'\n", prog, opt, s);
		exit(2);
	}
	return v;
}

static uint64_t parse_u64(const char *s, const char *opt)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || *s == '-') {
		fprintf(stderr, "%s: invalid %s '%s'\n", prog, opt, s);
		exit(2);
	}
	return v;
}

/*
 * The hot set: hot[0..nhot) and cold[0..ncold) list block numbers; is_hot
 * marks the blocks.  Region r covers blocks [rstart[r], rstart[r] + rlen[r]).
 */
struct layout {
	uint64_t nblocks, nhot, ncold;
	uint64_t *hot, *cold;
	unsigned char *is_hot;
	unsigned int nregions;
	uint64_t *rstart, *rlen;
};

static void make_layout(struct layout *l, uint64_t nblocks, const struct opts *o)
{
	uint64_t seed = o->layout_seed, slot, b, h = 0, c = 0;
	unsigned int r;

	l->nblocks = nblocks;
	l->nregions = o->regions;
	l->nhot = (uint64_t)(o->hot_frac * nblocks + 0.5);
	slot = nblocks / o->regions;
	if (l->nhot > slot * o->regions)
		l->nhot = slot * o->regions;
	l->ncold = nblocks - l->nhot;
	l->hot = calloc(l->nhot ? l->nhot : 1, sizeof(*l->hot));
	l->cold = calloc(l->ncold ? l->ncold : 1, sizeof(*l->cold));
	l->is_hot = calloc(nblocks, 1);
	l->rstart = calloc(o->regions, sizeof(*l->rstart));
	l->rlen = calloc(o->regions, sizeof(*l->rlen));
	if (!l->hot || !l->cold || !l->is_hot || !l->rstart || !l->rlen)
		die("calloc");

	for (r = 0; r < o->regions; r++) {
		uint64_t len = l->nhot / o->regions + (r < l->nhot % o->regions);

		l->rlen[r] = len;
		l->rstart[r] = r * slot + rng_below(&seed, slot - len + 1);
		for (b = l->rstart[r]; b < l->rstart[r] + len; b++)
			l->is_hot[b] = 1;
	}
	for (b = 0; b < nblocks; b++) {
		if (l->is_hot[b])
			l->hot[h++] = b;
		else
			l->cold[c++] = b;
	}
}

static void write_timeline(const char *path, const struct sample *s, size_t n)
{
	FILE *f = fopen(path, "w");
	size_t i;

	if (!f)
		die(path);
	fprintf(f, "t_s,reads,bytes,hit_reads,pages,hit_pages,hot_reads,hot_hit_pages\n");
	for (i = 0; i < n; i++)
		fprintf(f, "%.3f,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
			",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n",
			s[i].t_ns / 1e9, s[i].reads, s[i].bytes, s[i].hit_reads,
			s[i].pages, s[i].hit_pages, s[i].hot_reads,
			s[i].hot_hit_pages);
	if (fclose(f))
		die(path);
}

int main(int argc, char **argv)
{
	enum { O_BS = 256, O_HOTFRAC, O_HOTSHARE, O_REGIONS, O_LSEED, O_SEED,
	       O_DURATION, O_COUNT, O_STOP, O_TIMELINE, O_INTERVAL,
	       O_NOMINCORE, O_READAHEAD, O_LAYOUT, O_RESIDENT };
	static const struct option longopts[] = {
		{ "bs",		 required_argument, NULL, O_BS },
		{ "hot-frac",	 required_argument, NULL, O_HOTFRAC },
		{ "hot-share",	 required_argument, NULL, O_HOTSHARE },
		{ "regions",	 required_argument, NULL, O_REGIONS },
		{ "layout-seed", required_argument, NULL, O_LSEED },
		{ "seed",	 required_argument, NULL, O_SEED },
		{ "duration",	 required_argument, NULL, O_DURATION },
		{ "count",	 required_argument, NULL, O_COUNT },
		{ "stop",	 no_argument,	    NULL, O_STOP },
		{ "timeline",	 required_argument, NULL, O_TIMELINE },
		{ "interval",	 required_argument, NULL, O_INTERVAL },
		{ "no-mincore",	 no_argument,	    NULL, O_NOMINCORE },
		{ "readahead",	 no_argument,	    NULL, O_READAHEAD },
		{ "layout",	 no_argument,	    NULL, O_LAYOUT },
		{ "resident",	 no_argument,	    NULL, O_RESIDENT },
		{ "help",	 no_argument,	    NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct opts o = {
		.bs = 65536, .hot_frac = 0.2, .hot_share = 0.8, .regions = 8,
		.layout_seed = 1, .interval_ms = 100, .mincore = 1,
		.fadv_random = 1,
	};
	int mode = 0, c, fd, seeded = 0;
	long psz = sysconf(_SC_PAGESIZE);
	const char *path;
	struct stat st;
	struct layout l;
	unsigned char *vec;
	char *map, *buf;
	uint64_t pages_per_block, rs;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case O_BS:	 o.bs = parse_u64(optarg, "--bs"); break;
		case O_HOTFRAC:	 o.hot_frac = parse_double(optarg, "--hot-frac", 0, 1); break;
		case O_HOTSHARE: o.hot_share = parse_double(optarg, "--hot-share", 0, 1); break;
		case O_REGIONS:	 o.regions = parse_u64(optarg, "--regions"); break;
		case O_LSEED:	 o.layout_seed = parse_u64(optarg, "--layout-seed"); break;
		case O_SEED:	 o.seed = parse_u64(optarg, "--seed"); seeded = 1; break;
		case O_DURATION: o.duration = parse_double(optarg, "--duration", 0, 1e6); break;
		case O_COUNT:	 o.count = parse_u64(optarg, "--count"); break;
		case O_STOP:	 o.stop = 1; break;
		case O_TIMELINE: o.timeline = optarg; break;
		case O_INTERVAL: o.interval_ms = parse_u64(optarg, "--interval"); break;
		case O_NOMINCORE: o.mincore = 0; break;
		case O_READAHEAD: o.fadv_random = 0; break;
		case O_LAYOUT:	 mode = O_LAYOUT; break;
		case O_RESIDENT: mode = O_RESIDENT; break;
		case 'h':	 usage(stdout); return 0;
		default:
			fprintf(stderr, "Try '%s --help'.\n", prog);
			return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	path = argv[optind];
	if (!o.bs || o.bs % psz || o.regions < 1 || o.interval_ms < 1) {
		fprintf(stderr, "%s: --bs must be a multiple of %ld, --regions and --interval at least 1\n",
			prog, psz);
		return 2;
	}
	if (!mode && !o.duration && !o.count) {
		fprintf(stderr, "%s: give --duration or --count\n", prog);
		return 2;
	}

	fd = open(path, O_RDONLY | O_NOATIME);
	if (fd < 0)
		fd = open(path, O_RDONLY);
	if (fd < 0)
		die(path);
	if (fstat(fd, &st))
		die("fstat");
	if ((uint64_t)st.st_size / o.bs < o.regions) {
		fprintf(stderr, "%s: %s is too small for %u regions of %" PRIu64 "-byte blocks\n",
			prog, path, o.regions, o.bs);
		return 1;
	}
	make_layout(&l, st.st_size / o.bs, &o);
	pages_per_block = o.bs / psz;

	if (mode == O_LAYOUT) {
		unsigned int r;

		printf("# block_size=%" PRIu64 " page_size=%ld blocks=%" PRIu64
		       " hot_blocks=%" PRIu64 "\n# region first_block blocks\n",
		       o.bs, psz, l.nblocks, l.nhot);
		for (r = 0; r < l.nregions; r++)
			printf("%u %" PRIu64 " %" PRIu64 "\n", r, l.rstart[r], l.rlen[r]);
		return 0;
	}

	map = mmap(NULL, st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		die("mmap");
	vec = malloc((st.st_size + psz - 1) / psz + pages_per_block);
	if (!vec)
		die("malloc");

	if (mode == O_RESIDENT) {
		uint64_t npages = (st.st_size + psz - 1) / psz, i, res = 0, hot = 0;

		if (mincore(map, st.st_size, vec))
			die("mincore");
		for (i = 0; i < npages; i++) {
			if (!(vec[i] & 1))
				continue;
			res++;
			if (i / pages_per_block < l.nblocks && l.is_hot[i / pages_per_block])
				hot++;
		}
		printf("file_pages=%" PRIu64 " resident_pages=%" PRIu64
		       " hot_pages=%" PRIu64 " hot_resident_pages=%" PRIu64 "\n",
		       npages, res, l.nhot * pages_per_block, hot);
		return 0;
	}

	if (o.fadv_random && posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM))
		fprintf(stderr, "%s: posix_fadvise(RANDOM) failed\n", prog);
	buf = aligned_alloc(psz, o.bs);
	if (!buf)
		die("aligned_alloc");
	rs = seeded ? o.seed : (now_ns() ^ ((uint64_t)getpid() << 32));

	{
		size_t cap = o.duration ? (size_t)(o.duration * 1000 / o.interval_ms) + 4 : 4096;
		size_t ns = 0;
		struct sample *tl = calloc(cap, sizeof(*tl));
		struct sample cur = { 0 };
		uint64_t t0 = now_ns(), next = (uint64_t)o.interval_ms * 1000000ULL;
		uint64_t deadline = o.duration ? (uint64_t)(o.duration * 1e9) : UINT64_MAX;
		uint64_t step = (uint64_t)o.interval_ms * 1000000ULL, t = 0;
		uint64_t first_read = 0;	/* ns from start to the first read's end */

		if (!tl)
			die("calloc");
		for (;;) {
			int is_hot = rng_unit(&rs) < o.hot_share && l.nhot;
			uint64_t blk, off, hp = 0, i;
			ssize_t n;

			if (!l.ncold)
				is_hot = 1;
			blk = is_hot ? l.hot[rng_below(&rs, l.nhot)]
				     : l.cold[rng_below(&rs, l.ncold)];
			off = blk * o.bs;
			if (o.mincore) {
				if (mincore(map + off, o.bs, vec))
					die("mincore");
				for (i = 0; i < pages_per_block; i++)
					hp += vec[i] & 1;
			}
			n = pread(fd, buf, o.bs, off);
			if (n < 0)
				die("pread");
			cur.reads++;
			cur.bytes += n;
			cur.pages += pages_per_block;
			cur.hit_pages += hp;
			cur.hit_reads += hp == pages_per_block;
			if (is_hot) {
				cur.hot_reads++;
				cur.hot_hit_pages += hp;
			}
			t = now_ns() - t0;
			if (!first_read)
				first_read = t ? t : 1;
			while (t >= next) {
				if (ns == cap) {
					cap *= 2;
					tl = realloc(tl, cap * sizeof(*tl));
					if (!tl)
						die("realloc");
				}
				tl[ns] = cur;
				tl[ns++].t_ns = next;
				next += step;
			}
			if ((o.count && cur.reads >= o.count) || t >= deadline)
				break;
		}
		cur.t_ns = t;
		if (o.stop)
			raise(SIGSTOP);
		if (o.timeline) {
			if (ns == cap)
				tl = realloc(tl, (cap + 1) * sizeof(*tl));
			if (!tl)
				die("realloc");
			tl[ns++] = cur;
			write_timeline(o.timeline, tl, ns);
		}
		printf("elapsed_s=%.3f reads=%" PRIu64 " bytes=%" PRIu64
		       " hit_reads=%" PRIu64 " pages=%" PRIu64 " hit_pages=%" PRIu64
		       " hot_reads=%" PRIu64 " hot_hit_pages=%" PRIu64
		       " file_blocks=%" PRIu64 " hot_blocks=%" PRIu64
		       " first_read_ms=%.3f\n",
		       cur.t_ns / 1e9, cur.reads, cur.bytes, cur.hit_reads,
		       cur.pages, cur.hit_pages, cur.hot_reads, cur.hot_hit_pages,
		       l.nblocks, l.nhot, first_read / 1e6);
	}
	return 0;
}
