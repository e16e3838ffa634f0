// SPDX-License-Identifier: GPL-2.0
/*
 * numamigctl hotcache: dump the hot page cache of a process (its files and
 * the runs of pages on the active LRU) at the source host, and prefetch it
 * at the destination after a migration (PAPERS.md, 001/003).
 *
 *   dump      NUMAMIG_IOC_HOTCACHE in a loop -> a dump file (hcdump.c)
 *   show      list a dump
 *   prefetch  read a dump's ranges into the page cache (prefetch.c)
 *   diff      what a second dump adds or drops
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "args.h"
#include "cgroup.h"
#include "cli.h"
#include "hcdump.h"
#include "json.h"
#include "msg.h"
#include "nmctl_ioctl.h"
#include "prefetch.h"

#define DUMP_BUF	(1U << 20)	/* bytes of records per ioctl */
#define DUMP_MAX_FILE	(1ULL << 31)	/* bytes: the largest dump we read */
#define MIB		(1024.0 * 1024.0)

static const char usage_hotcache[] =
"Usage:\n"
" numamigctl hotcache <command> [options]\n"
"\n"
"Carry the hot page cache of a process to another host: dump the runs of\n"
"hot (active) page-cache pages of its files here, prefetch them there.\n"
"\n"
"Commands:\n"
" dump (--pid PID... | --cgroup DIR | --file PATH) [--sync]\n"
"      [--all-resident] [-o FILE] [--json]\n"
"                     write a dump of the hot page cache\n"
" show FILE [--json]  list a dump\n"
" prefetch FILE [--root DIR] [--jobs N] [--rate MBPS] [--verify-identity]\n"
"                     read the dumped ranges into the page cache\n"
" diff OLD NEW [--json]\n"
"                     pages a second dump adds or drops\n"
"\n"
"Run 'numamigctl hotcache <command> --help' for the options of a command.\n"
"Exit status: 0 success, 1 failure, 2 usage error.  See numamigctl(8).\n";

static const char usage_dump[] =
"Usage:\n"
" numamigctl hotcache dump (--pid PID... | --cgroup DIR | --file PATH)\n"
"                         [--sync] [--all-resident] [-o FILE] [--json]\n"
"\n"
"Dump the page cache of the files a process has open or mapped: per file\n"
"its identity and the runs of hot pages (on the active LRU list).  Writes\n"
"the binary dump (HOTCACHE-FORMAT.md) to FILE or to standard output when\n"
"that is not a terminal, a summary line to standard error.\n"
"\n"
"Options:\n"
"     --pid PID         the process; repeat it for several (files shared\n"
"                       by several are listed once)\n"
"     --cgroup DIR      every process in DIR/cgroup.procs; files shared by\n"
"                       several processes are listed once\n"
"     --file PATH       one file\n"
"     --sync            write dirty pages back first (fsync), so that the\n"
"                       destination reads current data\n"
"     --all-resident    every cached page with its class (active,\n"
"                       referenced, inactive), not only the hot ones\n"
" -o, --output FILE     write the dump to FILE (replaced atomically; -:\n"
"                       standard output)\n"
"     --json            write JSON instead of the binary dump\n"
" -h, --help            display this help\n";

static const char usage_show[] =
"Usage:\n"
" numamigctl hotcache show FILE [--json]\n"
"\n"
"List a dump (FILE - reads standard input): where and when it was taken,\n"
"then one line per file.\n"
"Columns: PAGES MIB RANGES SIZE MTIME DEV:INODE FILE; dumps taken with\n"
"--all-resident add ACTIVE REFERENCED INACTIVE after PAGES.\n"
"\n"
"Options:\n"
"     --json            print JSON, ranges included\n"
" -h, --help            display this help\n";

static const char usage_prefetch[] =
"Usage:\n"
" numamigctl hotcache prefetch FILE [--root DIR] [--jobs N] [--rate MBPS]\n"
"                             [--verify-identity]\n"
"\n"
"Read the ranges listed in a dump (FILE - reads standard input) into the\n"
"page cache; pages already cached are skipped.  A file whose size or\n"
"mtime differs from the dump gets a warning and only the ranges within\n"
"its current size.  Reports on standard error.\n"
"\n"
"Options:\n"
"     --root DIR        look the paths up under DIR (the container's root\n"
"                       as this host sees it); symlinks stay inside DIR\n"
"     --jobs N          worker threads, 1..256 (default: 4)\n"
"     --rate MBPS       read at most MBPS MiB per second in all\n"
"     --verify-identity skip files whose size or mtime (and on the same\n"
"                       host, device and inode) differ from the dump\n"
" -h, --help            display this help\n";

static const char usage_diff[] =
"Usage:\n"
" numamigctl hotcache diff OLD NEW [--json]\n"
"\n"
"Per file (by path), the pages NEW lists that OLD does not (+) and those\n"
"OLD lists that NEW does not (-), as ranges of page indices, then totals.\n"
"Classes are ignored: a dump lists a set of pages.\n"
"\n"
"Options:\n"
"     --json            print JSON\n"
" -h, --help            display this help\n";

/* ------------------------------------------------------------------ */
/* Common helpers                                                     */
/* ------------------------------------------------------------------ */

/* Exactly @n positional arguments (FILE, OLD NEW) after the options. */
static int files_args(const char *cmd, int argc, char **argv, int n,
		      const char *what, const char **out)
{
	if (argc - optind < n) {
		nm_msg("%s: missing %s (see numamigctl %s --help)", cmd, what, cmd);
		return -1;
	}
	if (argc - optind > n) {
		nm_msg("%s: unexpected argument '%s'", cmd, argv[optind + n]);
		return -1;
	}
	for (int i = 0; i < n; i++)
		out[i] = argv[optind + i];
	return 0;
}

static double mib(uint64_t pages, uint32_t page_size)
{
	return (double)pages * page_size / MIB;
}

/* Read all of @path ("-": standard input), at most DUMP_MAX_FILE bytes. */
static int read_all(const char *path, unsigned char **bufp, size_t *lenp)
{
	size_t len = 0, cap = 1 << 16;
	unsigned char *buf = NULL;
	int fd, err = 0;

	fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n;

		if (len == cap || !buf) {
			unsigned char *nb;

			if (buf)
				cap *= 2;
			if (cap > DUMP_MAX_FILE + 1)
				cap = DUMP_MAX_FILE + 1;
			nb = realloc(buf, cap);
			if (!nb) {
				err = ENOMEM;
				break;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = errno;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > DUMP_MAX_FILE) {
			err = EFBIG;
			break;
		}
	}
	if (fd != STDIN_FILENO)
		close(fd);
	if (err) {
		free(buf);
		return -err;
	}
	*bufp = buf;
	*lenp = len;
	return 0;
}

/* Read and validate a dump; prints the one error line itself. */
static int load_dump(const char *path, struct hc_dump *d)
{
	const char *name = strcmp(path, "-") ? path : "standard input";
	unsigned char *buf = NULL;
	char why[256];
	size_t len = 0;
	int r;

	r = read_all(path, &buf, &len);
	if (r == -EFBIG) {
		nm_msg("%s: invalid hotcache dump: larger than %llu bytes", name,
		       DUMP_MAX_FILE);
		return -1;
	}
	if (r < 0) {
		nm_err(-r, NULL, "cannot read %s", name);
		return -1;
	}
	r = hc_decode(buf, len, d, why, sizeof(why));
	free(buf);
	if (r < 0) {
		nm_msg("%s: invalid hotcache dump: %s", name, why);
		return -1;
	}
	return 0;
}

/* A path on one line: control characters as \xNN. */
static void put_path(FILE *f, const char *p)
{
	for (; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c < 0x20 || c == 0x7f || c == '\\')
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
}

static void utc_time(char *buf, size_t len, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "%" PRId64, t);
}

/* ------------------------------------------------------------------ */
/* Output of a dump: a file replaced atomically, or standard output   */
/* ------------------------------------------------------------------ */

struct output {
	const char *path;	/* NULL: standard output */
	char *tmp;		/* the temporary file renamed to path */
	FILE *f;
};

static int output_open(struct output *o, const char *path)
{
	struct stat st;
	mode_t mask;
	int fd;

	memset(o, 0, sizeof(*o));
	o->path = path;
	if (!path) {
		o->f = stdout;
		return 0;
	}
	/* A device or a FIFO (-o /dev/stdout) is written in place. */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		o->f = fopen(path, "we");
		if (!o->f) {
			nm_err(errno, NULL, "cannot open %s", path);
			return -1;
		}
		return 0;
	}
	if (asprintf(&o->tmp, "%s.XXXXXX", path) < 0) {
		o->tmp = NULL;
		nm_err(ENOMEM, NULL, "cannot write %s", path);
		return -1;
	}
	fd = mkostemp(o->tmp, O_CLOEXEC);
	if (fd < 0) {
		nm_err(errno, NULL, "cannot create %s", o->tmp);
		free(o->tmp);
		o->tmp = NULL;
		return -1;
	}
	mask = umask(0);
	umask(mask);
	if (fchmod(fd, 0666 & ~mask) < 0 || !(o->f = fdopen(fd, "w"))) {
		nm_err(errno, NULL, "cannot write %s", o->tmp);
		close(fd);
		unlink(o->tmp);
		free(o->tmp);
		o->tmp = NULL;
		return -1;
	}
	return 0;
}

/* Return: EXIT_OK or EXIT_FAIL (after the error line). */
static int output_close(struct output *o, bool ok)
{
	const char *name = o->tmp ? o->tmp : o->path;
	int ret = EXIT_OK;

	if (!o->path)
		return ok ? finish_stdout() : EXIT_FAIL;
	if (fflush(o->f) != 0 || ferror(o->f)) {
		if (ok)
			nm_err(errno ? errno : EIO, NULL, "cannot write %s", name);
		ok = false;
	}
	if (fclose(o->f) != 0 && ok) {
		nm_err(errno, NULL, "cannot write %s", name);
		ok = false;
	}
	if (o->tmp) {
		if (ok && rename(o->tmp, o->path) < 0) {
			nm_err(errno, NULL, "cannot rename %s to %s", o->tmp, o->path);
			ok = false;
		}
		if (!ok)
			unlink(o->tmp);
		free(o->tmp);
	}
	if (!ok)
		ret = EXIT_FAIL;
	return ret;
}

/* ------------------------------------------------------------------ */
/* JSON of a dump (dump --json, show --json)                          */
/* ------------------------------------------------------------------ */

static void json_dump(FILE *out, const struct hc_dump *d)
{
	struct json j;

	json_init(&j, out);
	json_begin_object(&j, NULL);
	json_u64(&j, "version", HC_VERSION);
	json_u64(&j, "page_size", d->page_size);
	json_string(&j, "hostname", d->hostname);
	json_i64(&j, "created", d->created);
	json_bool(&j, "all_resident", d->flags & HC_DUMP_ALL_RESIDENT);
	json_bool(&j, "synced", d->flags & HC_DUMP_SYNCED);
	json_u64(&j, "total_files", d->nr);
	json_u64(&j, "total_pages", hc_dump_pages(d));
	json_begin_array(&j, "files");
	for (size_t i = 0; i < d->nr; i++) {
		const struct hc_file *f = &d->f[i];

		json_begin_object(&j, NULL);
		json_string(&j, "path", f->path);
		json_u64(&j, "dev", f->dev);
		json_u64(&j, "ino", f->ino);
		json_u64(&j, "size", f->size);
		json_i64(&j, "mtime_sec", f->mtime_sec);
		json_u64(&j, "mtime_nsec", f->mtime_nsec);
		json_bool(&j, "open", f->flags & HC_FILE_OPEN);
		json_bool(&j, "mapped", f->flags & HC_FILE_MAPPED);
		json_u64(&j, "pages", hc_file_pages(f));
		for (unsigned int c = 0; c < HC_CLASSES; c++)
			json_u64(&j, hc_class_name(c), hc_file_class_pages(f, c));
		json_begin_array(&j, "ranges");
		for (size_t k = 0; k < f->nr; k++) {
			json_begin_object(&j, NULL);
			json_u64(&j, "start", f->r[k].start);
			json_u64(&j, "pages", f->r[k].npages);
			json_string(&j, "class", hc_class_name(f->r[k].class));
			json_end_object(&j);
		}
		json_end_array(&j);
		json_end_object(&j);
	}
	json_end_array(&j);
	json_end_object(&j);
}

/* ------------------------------------------------------------------ */
/* dump                                                               */
/* ------------------------------------------------------------------ */

struct dump_ctx {
	struct hc_dump d;
	unsigned char *buf;
	uint64_t deleted;	/* files left out: unlinked */
	uint64_t unnamed;	/* files left out: no path */
	size_t cont;		/* 1 + the file a CONTINUED record goes on with */
};

/*
 * Check the framing of the records the module wrote (uAPI header) and
 * add them to the dump.  Return: 0, -EBADMSG (malformed) or -ENOMEM.
 */
static int add_records(struct dump_ctx *c, const unsigned char *buf,
		       size_t bytes, unsigned int nr_files)
{
	const size_t hsz = sizeof(struct numamig_hc_file);
	size_t off = 0;
	unsigned int n = 0;

	while (off < bytes) {
		struct numamig_hc_file h;
		const unsigned char *rec = buf + off;
		const char *path = (const char *)rec + hsz;
		struct hc_file *f;
		size_t plen, room;

		if (bytes - off < hsz)
			return -EBADMSG;
		memcpy(&h, rec, hsz);
		room = bytes - off;
		plen = ((size_t)h.path_len + 7) & ~(size_t)7;
		if (h.rec_size % 8 || h.rec_size > room || h.path_len < 1 ||
		    h.path_len > room - hsz || h.nr_ranges > room ||
		    h.rec_size != hsz + plen + h.nr_ranges *
				  sizeof(struct numamig_hc_range) ||
		    path[h.path_len - 1] != '\0')
			return -EBADMSG;
		off += h.rec_size;
		n++;
		if (h.flags & NUMAMIG_HC_DELETED) {
			if (!(h.flags & NUMAMIG_HC_CONTINUED))
				c->deleted++;
			c->cont = 0;
			continue;
		}
		if (path[0] != '/' || strlen(path) > HC_PATH_MAX) {
			if (!(h.flags & NUMAMIG_HC_CONTINUED))
				c->unnamed++;
			c->cont = 0;
			continue;
		}
		/* A continuation goes on with the same file: append to it. */
		f = c->cont ? &c->d.f[c->cont - 1] : NULL;
		if (!f || f->dev != h.dev || f->ino != h.ino) {
			f = hc_add_file(&c->d, path, strlen(path));
			if (!f)
				return -ENOMEM;
			f->dev = h.dev;
			f->ino = h.ino;
			f->size = h.size;
			f->mtime_sec = h.mtime_sec;
			f->mtime_nsec = h.mtime_nsec;
		}
		f->flags |= h.flags & (HC_FILE_OPEN | HC_FILE_MAPPED);
		for (__u64 k = 0; k < h.nr_ranges; k++) {
			struct numamig_hc_range r;

			memcpy(&r, rec + hsz + plen + k * sizeof(r), sizeof(r));
			if (r.class >= NUMAMIG_CACHE_CLASSES || !r.npages)
				return -EBADMSG;
			if (hc_add_range(f, r.start, r.npages, r.class) < 0)
				return -ENOMEM;
		}
		c->cont = (h.flags & NUMAMIG_HC_CONTINUED) ?
			  (size_t)(f - c->d.f) + 1 : 0;
	}
	return n == nr_files ? 0 : -EBADMSG;
}

/* Dump one process (@fd < 0) or one file (@fd). Return: 0 or -errno. */
static int dump_source(struct nmctl_dev *dev, struct dump_ctx *c, __u64 flags,
		       pid_t pid, int fd)
{
	struct numamig_hotcache hc;
	int r;

	memset(&hc, 0, sizeof(hc));
	hc.flags = flags | (fd >= 0 ? NUMAMIG_HOTCACHE_FD : 0);
	hc.pid = fd >= 0 ? 0 : pid;
	hc.fd = fd >= 0 ? fd : 0;
	hc.buf_ptr = (__u64)(uintptr_t)c->buf;
	hc.buf_size = DUMP_BUF;
	c->cont = 0;
	for (;;) {
		r = nmctl_hotcache(dev, &hc);
		if (r < 0)
			return r;
		if (hc.bytes > hc.buf_size)
			return -EBADMSG;
		r = add_records(c, c->buf, hc.bytes, hc.nr_files);
		if (r < 0)
			return r;
		if (hc.done)
			return 0;
		if (!hc.nr_files)	/* no progress: would loop for ever */
			return -EBADMSG;
	}
}

static const char *dump_hint(int err, bool is_pid)
{
	if (err == EBADMSG)
		return "the module returned a malformed dump";
	if (err == EBADF)
		return "numamigctl bug: the file was not open";
	return is_pid ? nmctl_pid_hint(err) : nmctl_common_hint(err);
}

#define DUMP_MAX_PIDS	4096

struct dump_args {
	pid_t pid;		/* the first --pid */
	pid_t *pids;		/* every --pid, nr_pids of them */
	size_t nr_pids;
	const char *cgroup;
	const char *file;
	const char *output;
	bool sync, all_resident, json;
};

static const struct option dump_opts[] = {
	{ "pid",          required_argument, NULL, OPT_PID },
	{ "cgroup",       required_argument, NULL, OPT_CGROUP },
	{ "file",         required_argument, NULL, OPT_FILE },
	{ "sync",         no_argument,       NULL, OPT_SYNC },
	{ "all-resident", no_argument,       NULL, OPT_ALL_RESIDENT },
	{ "output",       required_argument, NULL, 'o' },
	{ "json",         no_argument,       NULL, OPT_JSON },
	{ "help",         no_argument,       NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Return: -1 to go on, else the exit status. */
static int dump_parse(int argc, char **argv, struct dump_args *a)
{
	const char *cmd = "hotcache dump";
	int c, sources;

	memset(a, 0, sizeof(*a));
	while ((c = next_opt_short(cmd, argc, argv, ":ho:", dump_opts)) != -1) {
		switch (c) {
		case 'h':
			return help(usage_dump);
		case OPT_PID: {
			static pid_t pids[DUMP_MAX_PIDS];

			if (opt_pid(cmd, optarg, &pids[a->nr_pids]) < 0)
				return EXIT_USAGE;
			if (a->nr_pids + 1 == DUMP_MAX_PIDS) {
				nm_msg("%s: at most %d --pid", cmd, DUMP_MAX_PIDS - 1);
				return EXIT_USAGE;
			}
			a->pids = pids;
			a->pid = pids[0];
			a->nr_pids++;
			break;
		}
		case OPT_CGROUP:
			a->cgroup = optarg;
			break;
		case OPT_FILE:
			a->file = optarg;
			break;
		case OPT_SYNC:
			a->sync = true;
			break;
		case OPT_ALL_RESIDENT:
			a->all_resident = true;
			break;
		case 'o':
			a->output = optarg;
			break;
		case OPT_JSON:
			a->json = true;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (no_positional(cmd, argc, argv) < 0)
		return EXIT_USAGE;
	sources = !!a->pid + !!a->cgroup + !!a->file;
	if (sources != 1) {
		nm_msg("%s: give exactly one of --pid, --cgroup and --file", cmd);
		return EXIT_USAGE;
	}
	if ((a->cgroup && !*a->cgroup) || (a->file && !*a->file) ||
	    (a->output && !*a->output)) {
		nm_msg("%s: empty path", cmd);
		return EXIT_USAGE;
	}
	if (a->output && !strcmp(a->output, "-"))
		a->output = NULL;	/* standard output */
	if (!a->output && !a->json && isatty(STDOUT_FILENO)) {
		nm_msg("%s: refusing to write a binary dump to a terminal (use -o FILE or --json)",
		       cmd);
		return EXIT_USAGE;
	}
	return -1;
}

/* Every process of a cgroup; files shared by several are merged later. */
static int dump_cgroup(struct nmctl_dev *dev, struct dump_ctx *c, __u64 flags,
		       const char *dir, unsigned int *dumped)
{
	char *procs = NULL;
	size_t n = 0;
	pid_t *pids;
	int r;

	if (asprintf(&procs, "%s/cgroup.procs", dir) < 0) {
		nm_err(ENOMEM, NULL, "hotcache dump of cgroup %s", dir);
		return -1;
	}
	r = read_pids(procs, &pids, &n);
	if (r < 0) {
		nm_err(-r, r == -EINVAL ? "not a cgroup.procs file" : NULL,
		       "cannot read %s", procs);
		free(procs);
		return -1;
	}
	free(procs);
	for (size_t i = 0; i < n; i++) {
		r = dump_source(dev, c, flags, pids[i], -1);
		if (r == -ESRCH) {
			nm_warn("pid %d skipped: it exited", pids[i]);
			continue;
		}
		if (r < 0) {
			nm_err(-r, dump_hint(-r, true), "hotcache dump of pid %d",
			       pids[i]);
			free(pids);
			return -1;
		}
		(*dumped)++;
	}
	free(pids);
	if (!*dumped) {
		nm_msg("hotcache dump: no process of cgroup %s could be dumped", dir);
		return -1;
	}
	return 0;
}

/*
 * Several processes (e.g. the tree CRIU checkpoints): like a cgroup, a pid
 * that exited is skipped, and at least one must be dumped.
 */
static int dump_pids(struct nmctl_dev *dev, struct dump_ctx *c, __u64 flags,
		     const pid_t *pids, size_t n, unsigned int *dumped)
{
	int r;

	for (size_t i = 0; i < n; i++) {
		r = dump_source(dev, c, flags, pids[i], -1);
		if (r == -ESRCH) {
			nm_warn("pid %d skipped: it exited", pids[i]);
			continue;
		}
		if (r < 0) {
			nm_err(-r, dump_hint(-r, true), "hotcache dump of pid %d",
			       pids[i]);
			return -1;
		}
		(*dumped)++;
	}
	if (!*dumped) {
		nm_msg("hotcache dump: none of the %zu processes could be dumped", n);
		return -1;
	}
	return 0;
}

static void dump_summary(const struct dump_ctx *c, const struct dump_args *a,
			 uint64_t cached, uint64_t hot, unsigned int procs)
{
	const struct hc_dump *d = &c->d;
	char extra[160] = "";
	size_t used = 0;

	if (a->cgroup || a->nr_pids > 1)
		used += (size_t)snprintf(extra + used, sizeof(extra) - used,
					 ", %u process%s", procs, procs == 1 ? "" : "es");
	if (c->deleted || c->unnamed)
		snprintf(extra + used, sizeof(extra) - used,
			 "; left out: %" PRIu64 " deleted, %" PRIu64 " without a path",
			 c->deleted, c->unnamed);
	if (a->all_resident)
		nm_msg("hotcache dump: %zu file%s, %" PRIu64 " cached pages (%.1f MiB), %"
		       PRIu64 " of them hot (%.1f MiB)%s", d->nr, d->nr == 1 ? "" : "s", cached,
		       mib(cached, d->page_size), hot, mib(hot, d->page_size), extra);
	else
		nm_msg("hotcache dump: %zu file%s, %" PRIu64 " hot pages (%.1f MiB) of %"
		       PRIu64 " cached (%.1f MiB)%s", d->nr, d->nr == 1 ? "" : "s", hot,
		       mib(hot, d->page_size), cached, mib(cached, d->page_size),
		       extra);
}

static int hc_dump_cmd(int argc, char **argv)
{
	struct dump_ctx c = { 0 };
	struct dump_args a;
	struct nmctl_dev dev;
	struct output out;
	unsigned int procs = 0;
	uint64_t cached = 0, hot = 0;
	unsigned char *enc = NULL;
	size_t enc_len = 0;
	char host[HC_HOSTNAME_LEN];
	__u64 flags;
	long ps;
	int r, fd = -1, ret = EXIT_FAIL;

	r = dump_parse(argc, argv, &a);
	if (r >= 0)
		return r;
	flags = a.sync ? NUMAMIG_HOTCACHE_SYNC : 0;
	if (a.file) {
		fd = open(a.file, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			nm_err(errno, NULL, "cannot open %s", a.file);
			return EXIT_FAIL;
		}
	}
	c.buf = malloc(DUMP_BUF);
	if (!c.buf) {
		nm_err(ENOMEM, NULL, "hotcache dump");
		goto out_fd;
	}
	if (nmctl_open(&dev, NUMAMIG_FEATURE_HOTCACHE) < 0)
		goto out_buf;

	if (a.cgroup) {
		r = dump_cgroup(&dev, &c, flags, a.cgroup, &procs);
	} else if (a.nr_pids > 1) {
		r = dump_pids(&dev, &c, flags, a.pids, a.nr_pids, &procs);
	} else {
		r = dump_source(&dev, &c, flags, a.pid, fd);
		if (r < 0) {
			if (a.file)
				nm_err(-r, dump_hint(-r, false), "hotcache dump of %s",
				       a.file);
			else
				nm_err(-r, dump_hint(-r, true),
				       "hotcache dump of pid %d", a.pid);
		}
		procs = 1;
	}
	nmctl_close(&dev);
	if (r < 0)
		goto out;

	if (hc_merge_same_files(&c.d) < 0) {
		nm_err(ENOMEM, NULL, "hotcache dump");
		goto out;
	}
	for (size_t i = 0; i < c.d.nr; i++) {
		cached += hc_file_pages(&c.d.f[i]);
		hot += hc_file_class_pages(&c.d.f[i], HC_ACTIVE);
	}
	hc_filter(&c.d, a.all_resident ? (1U << HC_CLASSES) - 1 : 1U << HC_ACTIVE);
	ps = sysconf(_SC_PAGESIZE);
	c.d.page_size = ps > 0 ? (uint32_t)ps : 4096;
	c.d.flags = (a.all_resident ? HC_DUMP_ALL_RESIDENT : 0) |
		    (a.sync ? HC_DUMP_SYNCED : 0);
	c.d.created = (int64_t)time(NULL);
	if (gethostname(host, sizeof(host) - 1) == 0) {
		host[sizeof(host) - 1] = '\0';
		memcpy(c.d.hostname, host, sizeof(host));
	}

	if (!a.json) {
		r = hc_encode(&c.d, &enc, &enc_len);
		if (r < 0) {
			nm_err(-r, NULL, "hotcache dump: encoding");
			goto out;
		}
	}
	if (output_open(&out, a.output) < 0)
		goto out;
	if (a.json)
		json_dump(out.f, &c.d);
	else
		fwrite(enc, 1, enc_len, out.f);
	ret = output_close(&out, true);
	if (ret == EXIT_OK)
		dump_summary(&c, &a, cached, hot, procs);
out:
	free(enc);
	hc_free(&c.d);
out_buf:
	free(c.buf);
out_fd:
	if (fd >= 0)
		close(fd);
	return ret;
}

/* ------------------------------------------------------------------ */
/* show                                                               */
/* ------------------------------------------------------------------ */

static void show_text(FILE *out, const char *name, const struct hc_dump *d)
{
	bool all = d->flags & HC_DUMP_ALL_RESIDENT;
	uint64_t total = 0, ranges = 0;
	char t[64];

	utc_time(t, sizeof(t), d->created);
	fprintf(out, "dump:      ");
	put_path(out, name);
	fprintf(out, "\nfrom host: ");
	put_path(out, d->hostname[0] ? d->hostname : "?");
	fprintf(out, "\ncreated:   %s\n", t);
	fprintf(out, "contents:  %s, page size %" PRIu32 "%s\n",
		all ? "every cached page" : "hot pages only", d->page_size,
		d->flags & HC_DUMP_SYNCED ? ", files synced first" : "");
	fprintf(out, "\n%10s ", "PAGES");
	if (all)
		fprintf(out, "%10s %10s %10s ", "ACTIVE", "REFERENCED", "INACTIVE");
	fprintf(out, "%9s %7s %13s %-20s %-17s %s\n", "MIB", "RANGES", "SIZE",
		"MTIME", "DEV:INODE", "FILE");
	for (size_t i = 0; i < d->nr; i++) {
		const struct hc_file *f = &d->f[i];
		uint64_t pages = hc_file_pages(f);
		char id[64];

		utc_time(t, sizeof(t), f->mtime_sec);
		snprintf(id, sizeof(id), "%u:%u:%" PRIu64, major((dev_t)f->dev),
			 minor((dev_t)f->dev), f->ino);
		fprintf(out, "%10" PRIu64 " ", pages);
		if (all)
			for (unsigned int c = 0; c < HC_CLASSES; c++)
				fprintf(out, "%10" PRIu64 " ",
					hc_file_class_pages(f, c));
		fprintf(out, "%9.1f %7zu %13" PRIu64 " %-20s %-17s ",
			mib(pages, d->page_size), f->nr, f->size, t, id);
		put_path(out, f->path);
		fputc('\n', out);
		total += pages;
		ranges += f->nr;
	}
	fprintf(out, "\ntotal: %zu file%s, %" PRIu64 " pages (%.1f MiB), %" PRIu64
		" range%s\n", d->nr, d->nr == 1 ? "" : "s", total,
		mib(total, d->page_size), ranges, ranges == 1 ? "" : "s");
}

static int hc_show_cmd(int argc, char **argv)
{
	const char *cmd = "hotcache show", *file;
	struct hc_dump d;
	bool json = false;
	int c;

	static const struct option opts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};

	while ((c = next_opt(cmd, argc, argv, opts)) != -1) {
		if (c == 'h')
			return help(usage_show);
		if (c != OPT_JSON)
			return EXIT_USAGE;
		json = true;
	}
	if (files_args(cmd, argc, argv, 1, "FILE", &file) < 0)
		return EXIT_USAGE;
	if (load_dump(file, &d) < 0)
		return EXIT_FAIL;
	if (json)
		json_dump(stdout, &d);
	else
		show_text(stdout, strcmp(file, "-") ? file : "(standard input)", &d);
	hc_free(&d);
	return finish_stdout();
}

/* ------------------------------------------------------------------ */
/* prefetch                                                           */
/* ------------------------------------------------------------------ */

static int env_method(enum pf_method *m)
{
	const char *s = getenv("NUMAMIGCTL_PREFETCH_METHOD");

	if (!s || !*s || !strcmp(s, "readahead"))
		*m = PF_READAHEAD;
	else if (!strcmp(s, "fadvise"))
		*m = PF_FADVISE;
	else if (!strcmp(s, "pread"))
		*m = PF_PREAD;
	else
		return -1;
	return 0;
}

static int hc_prefetch_cmd(int argc, char **argv)
{
	const char *cmd = "hotcache prefetch", *file, *s;
	struct pf_opts o = { .jobs = 4, .chunk = 4ULL << 20 };
	unsigned long long v;
	struct hc_dump d;
	int c, ret;

	static const struct option opts[] = {
		{ "root",            required_argument, NULL, OPT_ROOT },
		{ "jobs",            required_argument, NULL, OPT_JOBS },
		{ "rate",            required_argument, NULL, OPT_RATE },
		{ "verify-identity", no_argument,       NULL, OPT_VERIFY_IDENTITY },
		{ "help",            no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};

	while ((c = next_opt(cmd, argc, argv, opts)) != -1) {
		switch (c) {
		case 'h':
			return help(usage_prefetch);
		case OPT_ROOT:
			if (!*optarg) {
				nm_msg("%s: empty --root", cmd);
				return EXIT_USAGE;
			}
			o.root = optarg;
			break;
		case OPT_JOBS:
			if (opt_number(cmd, "--jobs", optarg, 1, 256, &v) < 0)
				return EXIT_USAGE;
			o.jobs = (unsigned int)v;
			break;
		case OPT_RATE:
			if (opt_number(cmd, "--rate", optarg, 1, 1000000, &o.rate) < 0)
				return EXIT_USAGE;
			break;
		case OPT_VERIFY_IDENTITY:
			o.verify_identity = true;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (files_args(cmd, argc, argv, 1, "FILE", &file) < 0)
		return EXIT_USAGE;
	if (env_method(&o.method) < 0) {
		nm_msg("%s: invalid NUMAMIGCTL_PREFETCH_METHOD: must be readahead, fadvise or pread",
		       cmd);
		return EXIT_USAGE;
	}
	s = getenv("NUMAMIGCTL_PREFETCH_CHUNK_KB");
	if (s && *s) {
		if (parse_u64(s, 4, 1 << 20, &v) < 0) {
			nm_msg("%s: invalid NUMAMIGCTL_PREFETCH_CHUNK_KB '%s': must be 4..1048576",
			       cmd, s);
			return EXIT_USAGE;
		}
		o.chunk = v << 10;
	}
	if (load_dump(file, &d) < 0)
		return EXIT_FAIL;
	ret = hc_prefetch(&d, &o);
	hc_free(&d);
	return ret;
}

/* ------------------------------------------------------------------ */
/* diff                                                               */
/* ------------------------------------------------------------------ */

static int path_cmp(const void *a, const void *b)
{
	const struct hc_file *x = *(struct hc_file *const *)a;
	const struct hc_file *y = *(struct hc_file *const *)b;
	int r = strcmp(x->path, y->path);

	if (r)
		return r;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The file of @idx (sorted by path) with @path, or NULL. */
static struct hc_file *by_path(struct hc_file **idx, size_t n, const char *path)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(idx[mid]->path, path);

		if (r == 0) {
			while (mid > 0 && !strcmp(idx[mid - 1]->path, path))
				mid--;
			return idx[mid];
		}
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static bool same_identity(const struct hc_file *a, const struct hc_file *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime_sec == b->mtime_sec && a->mtime_nsec == b->mtime_nsec;
}

struct diff_totals {
	uint64_t added, dropped;
	size_t new_files, gone_files, changed, unchanged;
};

static uint64_t ranges_pages(const struct hc_range *r, size_t n)
{
	uint64_t p = 0;

	for (size_t i = 0; i < n; i++)
		p += r[i].npages;
	return p;
}

static void print_ranges(FILE *out, char sign, const struct hc_range *r,
			 size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (r[i].npages == 1)
			fprintf(out, "    %c %" PRIu64 "\n", sign, r[i].start);
		else
			fprintf(out, "    %c %" PRIu64 "-%" PRIu64 "\n", sign,
				r[i].start, r[i].start + r[i].npages - 1);
	}
}

static void json_ranges(struct json *j, const char *key,
			const struct hc_range *r, size_t n)
{
	json_begin_array(j, key);
	for (size_t i = 0; i < n; i++) {
		json_begin_object(j, NULL);
		json_u64(j, "start", r[i].start);
		json_u64(j, "pages", r[i].npages);
		json_end_object(j);
	}
	json_end_array(j);
}

/*
 * One file: @o (old) or @n (new) may be NULL.  Prints it when something
 * changed.  Return: 0 or -ENOMEM.
 */
static int diff_file(FILE *out, struct json *j, const struct hc_file *o,
		     const struct hc_file *n, uint32_t ps, struct diff_totals *t)
{
	static const struct hc_file empty;
	struct hc_range *add = NULL, *drop = NULL;
	size_t nadd = 0, ndrop = 0;
	uint64_t padd, pdrop;
	const char *status;
	bool ident;

	if (hc_subtract(n ? n : &empty, o ? o : &empty, &add, &nadd) < 0 ||
	    hc_subtract(o ? o : &empty, n ? n : &empty, &drop, &ndrop) < 0) {
		free(add);
		return -ENOMEM;
	}
	padd = ranges_pages(add, nadd);
	pdrop = ranges_pages(drop, ndrop);
	ident = o && n && !same_identity(o, n);
	t->added += padd;
	t->dropped += pdrop;
	status = !o ? "new" : !n ? "gone" : (padd || pdrop || ident) ?
		 "changed" : NULL;
	if (!o)
		t->new_files++;
	else if (!n)
		t->gone_files++;
	else if (status)
		t->changed++;
	else
		t->unchanged++;
	if (status && j) {
		json_begin_object(j, NULL);
		json_string(j, "path", (n ? n : o)->path);
		json_string(j, "status", status);
		json_bool(j, "identity_changed", ident);
		json_u64(j, "added", padd);
		json_u64(j, "dropped", pdrop);
		json_ranges(j, "added_ranges", add, nadd);
		json_ranges(j, "dropped_ranges", drop, ndrop);
		json_end_object(j);
	} else if (status) {
		fputc(!o ? '+' : !n ? '-' : '~', out);
		fputc(' ', out);
		put_path(out, (n ? n : o)->path);
		fprintf(out, "%s: %" PRIu64 " pages added (%.1f MiB), %" PRIu64
			" dropped (%.1f MiB)%s\n",
			!o ? " (new file)" : !n ? " (gone)" : "", padd,
			mib(padd, ps), pdrop, mib(pdrop, ps),
			ident ? "; size, mtime or inode changed" : "");
		print_ranges(out, '+', add, nadd);
		print_ranges(out, '-', drop, ndrop);
	}
	free(add);
	free(drop);
	return 0;
}

static int hc_diff_cmd(int argc, char **argv)
{
	const char *cmd = "hotcache diff", *files[2];
	struct hc_file **oidx = NULL, **nidx = NULL;
	struct diff_totals t = { 0 };
	struct hc_dump od, nd;
	struct json j, *jp = NULL;
	bool json = false;
	int c, ret = EXIT_FAIL;

	static const struct option opts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};

	while ((c = next_opt(cmd, argc, argv, opts)) != -1) {
		if (c == 'h')
			return help(usage_diff);
		if (c != OPT_JSON)
			return EXIT_USAGE;
		json = true;
	}
	if (files_args(cmd, argc, argv, 2, "OLD and NEW", files) < 0)
		return EXIT_USAGE;
	if (!strcmp(files[0], "-") && !strcmp(files[1], "-")) {
		nm_msg("%s: OLD and NEW cannot both be standard input", cmd);
		return EXIT_USAGE;
	}
	if (load_dump(files[0], &od) < 0)
		return EXIT_FAIL;
	if (load_dump(files[1], &nd) < 0) {
		hc_free(&od);
		return EXIT_FAIL;
	}
	if (od.page_size != nd.page_size) {
		nm_msg("%s: the dumps have different page sizes (%" PRIu32 " and %"
		       PRIu32 ")", cmd, od.page_size, nd.page_size);
		goto out;
	}
	oidx = malloc((od.nr + 1) * sizeof(*oidx));
	nidx = malloc((nd.nr + 1) * sizeof(*nidx));
	if (!oidx || !nidx) {
		nm_err(ENOMEM, NULL, "%s", cmd);
		goto out;
	}
	for (size_t i = 0; i < od.nr; i++)
		oidx[i] = &od.f[i];
	for (size_t i = 0; i < nd.nr; i++)
		nidx[i] = &nd.f[i];
	qsort(oidx, od.nr, sizeof(*oidx), path_cmp);
	qsort(nidx, nd.nr, sizeof(*nidx), path_cmp);
	if (json) {
		json_init(&j, stdout);
		json_begin_object(&j, NULL);
		json_u64(&j, "page_size", nd.page_size);
		json_begin_array(&j, "files");
		jp = &j;
	}
	/* NEW's files in its order, then the files only OLD has. */
	for (size_t i = 0; i < nd.nr; i++) {
		struct hc_file *o = by_path(oidx, od.nr, nd.f[i].path);

		if (by_path(nidx, nd.nr, nd.f[i].path) != &nd.f[i])
			continue;	/* a second file of the same path */
		if (diff_file(stdout, jp, o, &nd.f[i], nd.page_size, &t) < 0)
			goto nomem;
	}
	for (size_t i = 0; i < od.nr; i++) {
		if (by_path(oidx, od.nr, od.f[i].path) != &od.f[i] ||
		    by_path(nidx, nd.nr, od.f[i].path))
			continue;
		if (diff_file(stdout, jp, &od.f[i], NULL, nd.page_size, &t) < 0)
			goto nomem;
	}
	if (json) {
		json_end_array(&j);
		json_u64(&j, "new_files", t.new_files);
		json_u64(&j, "gone_files", t.gone_files);
		json_u64(&j, "changed_files", t.changed);
		json_u64(&j, "unchanged_files", t.unchanged);
		json_u64(&j, "added_pages", t.added);
		json_u64(&j, "dropped_pages", t.dropped);
		json_end_object(&j);
	} else {
		printf("total: %zu new, %zu gone, %zu changed, %zu unchanged files; %"
		       PRIu64 " pages added (%.1f MiB), %" PRIu64
		       " dropped (%.1f MiB)\n", t.new_files, t.gone_files,
		       t.changed, t.unchanged, t.added, mib(t.added, nd.page_size),
		       t.dropped, mib(t.dropped, nd.page_size));
	}
	ret = finish_stdout();
	goto out;
nomem:
	fflush(stdout);
	nm_err(ENOMEM, NULL, "%s", cmd);
out:
	free(oidx);
	free(nidx);
	hc_free(&od);
	hc_free(&nd);
	return ret;
}

/* ------------------------------------------------------------------ */
/* hotcache                                                           */
/* ------------------------------------------------------------------ */

int cmd_hotcache(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int argc, char **argv);
	} sub[] = {
		{ "dump", hc_dump_cmd },
		{ "show", hc_show_cmd },
		{ "prefetch", hc_prefetch_cmd },
		{ "diff", hc_diff_cmd },
	};
	const char *name = argc > 1 ? argv[1] : NULL;

	if (!name) {
		nm_msg("hotcache: missing command (see numamigctl hotcache --help)");
		return EXIT_USAGE;
	}
	if (!strcmp(name, "-h") || !strcmp(name, "--help"))
		return help(usage_hotcache);
	for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
		if (strcmp(name, sub[i].name))
			continue;
		optind = 0;
		return sub[i].fn(argc - 1, argv + 1);
	}
	if (name[0] == '-')
		nm_msg("hotcache: invalid option '%s' (see numamigctl hotcache --help)",
		       name);
	else
		nm_msg("hotcache: unknown command '%s' (see numamigctl hotcache --help)",
		       name);
	return EXIT_USAGE;
}
