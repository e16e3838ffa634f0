// SPDX-License-Identifier: GPL-2.0
/*
 * numamigctl: a container id to its cgroup directory.
 *
 * No daemon is asked: Docker, containerd, podman, CRI-O and runc all name
 * the container's cgroup after its id, so the cgroup tree alone says where
 * a container lives, on any engine, also when its daemon is down.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include "container.h"
#include "msg.h"

#define CGROUP_MNT	"/sys/fs/cgroup"
#define RUNC_ROOT	"/run/runc"
/* Shorter prefixes match too much to be meant as one container. */
#define ID_MIN_PREFIX	4
/* kind nodes nest pods in a container: 7 levels; leave room for more. */
#define WALK_MAX_DEPTH	16
/* Keeps the ambiguity message one line within msg.c's 1024 bytes. */
#define LIST_MAX	768

/* ---- the root of the search ------------------------------------- */

/* mountinfo writes blanks and backslashes in paths as \ooo. */
static void unescape_octal(char *s)
{
	char *out = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 |
					(s[3] - '0'));
			s += 4;
		} else {
			*out++ = *s++;
		}
	}
	*out = '\0';
}

/* Whether the comma-separated list @opts holds @want as a whole word. */
static bool has_option(const char *opts, const char *want)
{
	size_t len = strlen(want);

	while (*opts) {
		size_t n = strcspn(opts, ",");

		if (n == len && !strncmp(opts, want, len))
			return true;
		opts += n;
		if (*opts == ',')
			opts++;
	}
	return false;
}

/*
 * One /proc/self/mountinfo line, e.g.
 *   34 31 0:31 / /sys/fs/cgroup/cpuset rw shared:13 - cgroup cgroup rw,cpuset
 * Return: 1 and the mount point in @mnt if it is a cgroup v1 cpuset
 * hierarchy (2 if it also shows the hierarchy's root), else 0.
 */
static int cpuset_mount(char *line, char *mnt, size_t size)
{
	char *sep = strstr(line, " - "), *save, *tok, *root, *point;
	char *fstype, *opts;

	if (!sep)
		return 0;
	*sep = '\0';
	fstype = strtok_r(sep + 3, " \n", &save);
	if (!fstype || strcmp(fstype, "cgroup") ||
	    !strtok_r(NULL, " \n", &save))
		return 0;
	opts = strtok_r(NULL, " \n", &save);
	if (!opts || !has_option(opts, "cpuset"))
		return 0;
	/* mount id, parent id, major:minor, root, mount point */
	tok = strtok_r(line, " ", &save);
	for (int i = 0; tok && i < 2; i++)
		tok = strtok_r(NULL, " ", &save);
	root = tok ? strtok_r(NULL, " ", &save) : NULL;
	point = root ? strtok_r(NULL, " ", &save) : NULL;
	if (!point)
		return 0;
	unescape_octal(point);
	if (strlen(point) >= size)
		return 0;
	strcpy(mnt, point);
	return strcmp(root, "/") ? 1 : 2;
}

/*
 * A bind mount of a sub-cgroup (a container's own view) hides the rest
 * of the tree: prefer the mount of the hierarchy's root.
 */
static bool find_cpuset_mount(char *mnt, size_t size)
{
	char *line = NULL, cand[PATH_MAX];
	size_t len = 0;
	bool found = false;
	FILE *f;

	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return false;
	while (getline(&line, &len, f) > 0) {
		int r = cpuset_mount(line, cand, sizeof(cand));

		if (r && (!found || r == 2) &&
		    (size_t)snprintf(mnt, size, "%s", cand) < size)
			found = true;
		if (r == 2 && found)
			break;
	}
	free(line);
	fclose(f);
	return found;
}

const char *nmctl_cgroup_root(void)
{
	static char v1_root[PATH_MAX];
	static bool probed;
	const char *env = getenv("NUMAMIGCTL_CGROUP_ROOT");
	struct statfs st;

	/* Tests point the environment elsewhere between calls: no caching. */
	if (env && *env)
		return env;
	if (!probed) {
		probed = true;
		/* Hybrid or legacy: cpusets are where a move's nodes live. */
		if (statfs(CGROUP_MNT, &st) < 0 ||
		    st.f_type != CGROUP2_SUPER_MAGIC)
			find_cpuset_mount(v1_root, sizeof(v1_root));
	}
	return v1_root[0] ? v1_root : CGROUP_MNT;
}

/* ---- what a directory name says --------------------------------- */

enum name_kind {
	NAME_NONE,	/* never a container: a conmon scope, odd bytes */
	NAME_TAGGED,	/* an engine's naming: docker-ID.scope, libpod-ID */
	NAME_HEX,	/* a bare 64-hex id: docker/ID, kubepods/.../ID */
	NAME_BARE,	/* any other name: maybe runc's /ID */
	NAME_GROUPING,	/* a slice, pod, engine parent: runc's if it says so */
};

/* systemd scopes: docker, podman, CRI-O, containerd, runc's "runc:ID". */
static const char *const scope_prefixes[] = {
	"docker-", "libpod-", "crio-", "cri-containerd-", "runc-",
};

/* cgroupfs driver: podman's libpod_parent/libpod-ID, CRI-O's crio-ID. */
static const char *const dir_prefixes[] = { "libpod-", "crio-" };

/* The monitors next to podman and CRI-O containers: moving them is wrong. */
static const char *const conmon_prefixes[] = {
	"libpod-conmon-", "crio-conmon-",
};

/* The parents the cgroupfs drivers create: a runc id would not be these. */
static const char *const parent_names[] = {
	"docker", "kubepods", "burstable", "besteffort", "libpod_parent",
	"machine", "system", "user", "lxc",
};

static const char *const unit_suffixes[] = {
	".slice", ".scope", ".service", ".socket", ".mount", ".swap",
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static bool starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && !strcmp(s + n - k, suffix);
}

static bool id_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

static bool id_chars(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!id_char(s[i]))
			return false;
	return true;
}

/* The ids Docker, containerd, podman and CRI-O generate. */
static bool hex64(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[i] == '\0';
}

/* cgroupfs pods: "pod" and the pod UID, with dashes or underscores. */
static bool pod_dir(const char *name)
{
	size_t n;

	if (!starts_with(name, "pod"))
		return false;
	name += 3;
	n = strspn(name, "0123456789abcdef-_");
	return name[n] == '\0' && n >= 32 && n <= 36;
}

static bool grouping(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(unit_suffixes); i++)
		if (ends_with(name, unit_suffixes[i]))
			return true;
	for (size_t i = 0; i < ARRAY_SIZE(parent_names); i++)
		if (!strcmp(name, parent_names[i]))
			return true;
	return pod_dir(name);
}

/* "<prefix>ID.scope" and "<prefix>HEX64": the id part in @cid, @len. */
static enum name_kind tagged(const char *name, const char **cid, size_t *len)
{
	size_t n = strlen(name);

	if (ends_with(name, ".scope")) {
		for (size_t i = 0; i < ARRAY_SIZE(scope_prefixes); i++) {
			size_t p = strlen(scope_prefixes[i]);

			if (!starts_with(name, scope_prefixes[i]) ||
			    n <= p + strlen(".scope"))
				continue;
			*cid = name + p;
			*len = n - p - strlen(".scope");
			return id_chars(*cid, *len) ? NAME_TAGGED : NAME_NONE;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(dir_prefixes); i++) {
		size_t p = strlen(dir_prefixes[i]);

		if (starts_with(name, dir_prefixes[i]) && hex64(name + p)) {
			*cid = name + p;
			*len = 64;
			return NAME_TAGGED;
		}
	}
	return NAME_NONE;
}

static enum name_kind classify(const char *name, const char **cid,
			       size_t *len)
{
	enum name_kind kind;

	for (size_t i = 0; i < ARRAY_SIZE(conmon_prefixes); i++)
		if (starts_with(name, conmon_prefixes[i]))
			return NAME_NONE;
	kind = tagged(name, cid, len);
	if (kind == NAME_TAGGED)
		return kind;
	*cid = name;
	*len = strlen(name);
	if (hex64(name))
		return NAME_HEX;
	if (!id_chars(name, *len))
		return NAME_NONE;
	return grouping(name) ? NAME_GROUPING : NAME_BARE;
}

/* ---- the walk --------------------------------------------------- */

struct match {
	char *rel;		/* "/system.slice/docker-ID.scope" */
	char *cid;		/* the container id in that name */
	bool exact;
};

struct walk {
	const char *id;
	size_t idlen;
	const char *runc_root;
	char rel[PATH_MAX];	/* the directory visited, from the root */
	size_t rel_len;
	struct match *m;
	size_t n, cap;
	int err;		/* ENOMEM: the walk stopped */
};

/* runc keeps the state of each container it runs in <root>/<id>. */
static bool runc_state(const struct walk *w, const char *name)
{
	char path[PATH_MAX];
	struct stat st;
	int n;

	n = snprintf(path, sizeof(path), "%s/%s", w->runc_root, name);
	if (n < 0 || (size_t)n >= sizeof(path))
		return false;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/*
 * Whether @name names the container asked for.
 * Return: 2 by its full id, 1 by a prefix of it, 0 not; @cid, @len: the id.
 */
static int match_name(const struct walk *w, const char *name,
		      const char **cid, size_t *len)
{
	enum name_kind kind = classify(name, cid, len);
	bool exact, prefix;

	if (kind == NAME_NONE)
		return 0;
	exact = *len == w->idlen && !memcmp(*cid, w->id, w->idlen);
	prefix = !exact && w->idlen >= ID_MIN_PREFIX && w->idlen < *len &&
		 !memcmp(*cid, w->id, w->idlen);
	if (!exact && !prefix)
		return 0;
	switch (kind) {
	case NAME_TAGGED:
	case NAME_HEX:
		break;
	case NAME_BARE:
		/* Any cgroup name is a prefix of something: ask runc. */
		if (prefix && !runc_state(w, name))
			return 0;
		break;
	default:
		if (!runc_state(w, name))
			return 0;
		break;
	}
	return exact ? 2 : 1;
}

/*
 * Engines may nest cgroups named after the same container inside its
 * own (a scope with a payload sub-cgroup): the outermost is the
 * container.  The walk is pre-order, so the outer one came first.
 */
static bool inside_same(const struct walk *w, const char *cid, size_t len)
{
	for (size_t i = 0; i < w->n; i++) {
		size_t k = strlen(w->m[i].rel);

		if (strlen(w->m[i].cid) == len &&
		    !memcmp(w->m[i].cid, cid, len) &&
		    !strncmp(w->rel, w->m[i].rel, k) && w->rel[k] == '/')
			return true;
	}
	return false;
}

static void add_match(struct walk *w, const char *cid, size_t len, bool exact)
{
	struct match *m;

	if (inside_same(w, cid, len))
		return;
	if (w->n == w->cap) {
		size_t ncap = w->cap ? w->cap * 2 : 4;

		m = realloc(w->m, ncap * sizeof(*m));
		if (!m) {
			w->err = ENOMEM;
			return;
		}
		w->m = m;
		w->cap = ncap;
	}
	m = &w->m[w->n];
	m->rel = strdup(w->rel);
	m->cid = strndup(cid, len);
	m->exact = exact;
	if (!m->rel || !m->cid) {
		free(m->rel);
		free(m->cid);
		w->err = ENOMEM;
		return;
	}
	w->n++;
}

/* d_type says it on cgroupfs; other file systems may leave it unknown. */
static bool subdir(int dfd, const struct dirent *de)
{
	struct stat st;

	if (de->d_type != DT_UNKNOWN)
		return de->d_type == DT_DIR;
	return fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISDIR(st.st_mode);
}

static void walk_dir(struct walk *w, int dfd, int depth);

static void visit(struct walk *w, int pfd, const char *name, int depth)
{
	size_t old = w->rel_len, n = strlen(name);
	const char *cid;
	size_t len;
	int r;

	/* Deeper than PATH_MAX cannot be handed back as a path anyway. */
	if (old + 1 + n >= sizeof(w->rel))
		return;
	w->rel[old] = '/';
	memcpy(w->rel + old + 1, name, n + 1);
	w->rel_len = old + 1 + n;
	r = match_name(w, name, &cid, &len);
	if (r)
		add_match(w, cid, len, r == 2);
	/* Containers nest (docker in docker, kind): look inside too. */
	if (depth < WALK_MAX_DEPTH && !w->err) {
		int fd = openat(pfd, name,
				O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

		if (fd >= 0)
			walk_dir(w, fd, depth + 1);
	}
	w->rel_len = old;
	w->rel[old] = '\0';
}

/* Takes @dfd.  Unreadable directories are skipped: not ours to judge. */
static void walk_dir(struct walk *w, int dfd, int depth)
{
	struct dirent *de;
	DIR *d = fdopendir(dfd);

	if (!d) {
		close(dfd);
		return;
	}
	while (!w->err && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (subdir(dirfd(d), de))
			visit(w, dirfd(d), de->d_name, depth);
	}
	closedir(d);
}

/* ---- the verdict ------------------------------------------------ */

/* A full-id match wins: longer ids it is a prefix of are other containers. */
static void keep_exact(struct walk *w)
{
	size_t kept = 0;

	for (size_t i = 0; i < w->n; i++)
		if (w->m[i].exact)
			kept++;
	if (!kept)
		return;
	kept = 0;
	for (size_t i = 0; i < w->n; i++) {
		if (w->m[i].exact) {
			w->m[kept++] = w->m[i];
		} else {
			free(w->m[i].rel);
			free(w->m[i].cid);
		}
	}
	w->n = kept;
}

static void ambiguous(const struct walk *w)
{
	char list[LIST_MAX];
	size_t used = 0, i;

	list[0] = '\0';
	for (i = 0; i < w->n; i++) {
		int r = snprintf(list + used, sizeof(list) - used, "%s%s",
				 i ? ", " : "", w->m[i].rel);

		if (r < 0 || (size_t)r >= sizeof(list) - used)
			break;
		used += (size_t)r;
	}
	if (i < w->n)
		nm_msg("container %s is ambiguous: matches %s and %zu more",
		       w->id, list, w->n - i);
	else
		nm_msg("container %s is ambiguous: matches %s", w->id, list);
}

static void not_found(const struct walk *w, const char *root)
{
	if (w->idlen < ID_MIN_PREFIX) {
		nm_msg("container id '%s' is too short: give the full id or at least %d characters",
		       w->id, ID_MIN_PREFIX);
		return;
	}
	nm_msg("no container matches '%s' under %s (looked for docker-, libpod-, crio-, cri-containerd-, runc- scopes, docker/, kubepods/ and runc directories)",
	       w->id, root);
}

/* The root as an absolute path without a trailing slash, malloc'ed. */
static char *absolute_root(const char *root)
{
	char *abs;
	size_t n;

	if (root[0] != '/')
		return realpath(root, NULL);
	abs = strdup(root);
	if (!abs)
		return NULL;
	n = strlen(abs);
	while (n > 1 && abs[n - 1] == '/')
		abs[--n] = '\0';
	return abs;
}

static bool id_valid(const char *id)
{
	if (!*id) {
		nm_msg("--container needs a container id");
		return false;
	}
	if (strlen(id) > NAME_MAX) {
		nm_msg("container id '%.32s...' is too long", id);
		return false;
	}
	if (!id_chars(id, strlen(id))) {
		nm_msg("container id '%s' is not valid: letters, digits, '_', '.' and '-' only",
		       id);
		return false;
	}
	return true;
}

static int search(struct walk *w, const char *root, const char *abs)
{
	int fd = open(abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0) {
		nm_err(errno, NULL, "looking for container %s: %s", w->id, root);
		return -1;
	}
	walk_dir(w, fd, 0);
	if (w->err) {
		nm_err(w->err, NULL, "looking for container %s under %s",
		       w->id, root);
		return -1;
	}
	keep_exact(w);
	if (w->n == 0) {
		not_found(w, root);
		return -1;
	}
	if (w->n > 1) {
		ambiguous(w);
		return -1;
	}
	return 0;
}

int container_resolve(const char *id, char **dir)
{
	const char *root = nmctl_cgroup_root();
	const char *runc = getenv("NUMAMIGCTL_RUNC_ROOT");
	struct walk *w;
	char *abs;
	int ret = -1;

	*dir = NULL;
	if (!id_valid(id))
		return -1;
	/* PATH_MAX of relative path: too big for the stack of a CLI. */
	w = calloc(1, sizeof(*w));
	abs = absolute_root(root);
	if (!w || !abs) {
		nm_err(errno, NULL, "looking for container %s: %s", id, root);
		goto out;
	}
	w->id = id;
	w->idlen = strlen(id);
	w->runc_root = runc && *runc ? runc : RUNC_ROOT;
	if (search(w, root, abs) == 0) {
		if (asprintf(dir, "%s%s", strcmp(abs, "/") ? abs : "",
			     w->m[0].rel) < 0) {
			*dir = NULL;
			nm_err(ENOMEM, NULL, "looking for container %s", id);
		} else {
			ret = 0;
		}
	}
out:
	for (size_t i = 0; w && i < w->n; i++) {
		free(w->m[i].rel);
		free(w->m[i].cid);
	}
	if (w)
		free(w->m);
	free(w);
	free(abs);
	return ret;
}
