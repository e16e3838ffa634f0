// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit test of --container resolution: hand-made cgroup trees of
 * plain directories in a temporary directory, with the namings of
 * Docker, podman, CRI-O, containerd and runc, systemd and cgroupfs
 * drivers.  No cgroup file system, no daemon, no root needed.
 * Output is TAP.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container.h"

static int done, failures;
static char base[] = "/tmp/numamigctl-container-XXXXXX";
static char root[PATH_MAX], runc[PATH_MAX], outside[PATH_MAX];

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

/* A 64-hex id starting with @seed, the rest a fixed filler. */
static const char *hex_id(const char *seed)
{
	static char ids[32][65];
	static int next;
	static const char fill[] = "0123456789abcdef";
	char *id = ids[next++ % 32];
	size_t n = strlen(seed);

	memcpy(id, seed, n);
	for (size_t i = n; i < 64; i++)
		id[i] = fill[i % 16];
	id[64] = '\0';
	return id;
}

/* mkdir -p @top/@rel, where @rel may be built with printf formats. */
static void mkdirs(const char *top, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void mkdirs(const char *top, const char *fmt, ...)
{
	char path[PATH_MAX];
	size_t n;
	va_list ap;

	n = (size_t)snprintf(path, sizeof(path), "%s/", top);
	va_start(ap, fmt);
	vsnprintf(path + n, sizeof(path) - n, fmt, ap);
	va_end(ap);
	for (char *p = path + n; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	if (mkdir(path, 0755) < 0 && errno != EEXIST) {
		printf("Bail out! mkdir %s: %s\n", path, strerror(errno));
		exit(1);
	}
}

/* container_resolve() with its stderr caught in @err. */
static int resolve(const char *id, char **dir, char *err, size_t size)
{
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO), r;
	size_t n = 0;

	if (!tmp || saved < 0) {
		printf("Bail out! tmpfile/dup: %s\n", strerror(errno));
		exit(1);
	}
	dup2(fileno(tmp), STDERR_FILENO);
	r = container_resolve(id, dir);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	n = fread(err, 1, size - 1, tmp);
	err[n] = '\0';
	fclose(tmp);
	return r;
}

/* Exactly one line, in the house format. */
static int one_line(const char *err)
{
	const char *nl = strchr(err, '\n');

	return !strncmp(err, "numamigctl: ", 12) && nl && nl[1] == '\0';
}

static void expect_dir(const char *id, const char *rel, const char *what)
{
	char err[2048], want[PATH_MAX];
	char *dir = NULL;
	int r;

	snprintf(want, sizeof(want), "%s%s", root, rel);
	r = resolve(id, &dir, err, sizeof(err));
	ok(r == 0 && dir && !strcmp(dir, want) && !err[0],
	   "%s: %.12s -> %s", what, id,
	   dir ? dir + strlen(root) : err[0] ? err : "(null)");
	free(dir);
}

/* Fails with one line that holds @want. */
static void expect_err(const char *id, const char *want, const char *what)
{
	char err[2048];
	char *dir = (char *)1;
	int r;

	r = resolve(id, &dir, err, sizeof(err));
	ok(r == -1 && !dir && one_line(err) && strstr(err, want),
	   "%s: %.*s", what, (int)strcspn(err, "\n"), err);
}

static void expect_unknown(const char *id, const char *what)
{
	char want[PATH_MAX + 256];

	snprintf(want, sizeof(want),
		 "numamigctl: no container matches '%s' under %s (looked for docker-, libpod-, crio-, cri-containerd-, runc- scopes, docker/, kubepods/ and runc directories)\n",
		 id, root);
	expect_err(id, want, what);
}

/* ---- the tree --------------------------------------------------- */

#define POD_U	"1f2e3d4c-5b6a-7980-a1b2-c3d4e5f60718"
#define POD_S	"1f2e3d4c_5b6a_7980_a1b2_c3d4e5f60718"

static const char *docker_s, *libpod_s, *conmon_only, *containerd_s, *crio_s;
static const char *docker_c, *libpod_c, *kube_b, *kube_e, *kube_g, *crio_c;
static const char *amb1, *amb2, *feed, *nested, *outer, *inner, *linked;
static const char *machine_s;

static void make_systemd(void)
{
	docker_s = hex_id("d0c4e1");
	mkdirs(root, "system.slice/docker-%s.scope", docker_s);
	libpod_s = hex_id("1b0d51");
	mkdirs(root, "user.slice/user-1000.slice/user@1000.service/user.slice/libpod-%s.scope",
	       libpod_s);
	mkdirs(root, "user.slice/user-1000.slice/user@1000.service/user.slice/libpod-conmon-%s.scope",
	       libpod_s);
	machine_s = hex_id("3ac41e");
	mkdirs(root, "machine.slice/libpod-%s.scope/container", machine_s);
	mkdirs(root, "machine.slice/libpod-conmon-%s.scope", machine_s);
	conmon_only = hex_id("c0a3c0");
	mkdirs(root, "machine.slice/libpod-conmon-%s.scope", conmon_only);
	containerd_s = hex_id("c0d1a5");
	mkdirs(root, "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod%s.slice/cri-containerd-%s.scope",
	       POD_S, containerd_s);
	crio_s = hex_id("c210a5");
	mkdirs(root, "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod%s.slice/crio-%s.scope/container",
	       POD_S, crio_s);
	mkdirs(root, "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod%s.slice/crio-conmon-%s.scope",
	       POD_S, crio_s);
	/* runc --systemd-cgroup's default cgroupsPath system.slice:runc:ID */
	mkdirs(root, "system.slice/runc-mybox.scope");
	mkdirs(root, "system.slice/containerd.service");
}

static void make_cgroupfs(void)
{
	docker_c = hex_id("dcf5a0");
	mkdirs(root, "docker/%s", docker_c);
	libpod_c = hex_id("9f0d00");
	mkdirs(root, "libpod_parent/libpod-%s", libpod_c);
	kube_b = hex_id("b0b5e1");
	mkdirs(root, "kubepods/burstable/pod%s/%s", POD_U, kube_b);
	kube_e = hex_id("be57e1");
	mkdirs(root, "kubepods/besteffort/pod%s/%s", POD_U, kube_e);
	kube_g = hex_id("6a4a4e");
	mkdirs(root, "kubepods/pod%s/%s", POD_U, kube_g);
	crio_c = hex_id("c4c4c4");
	mkdirs(root, "kubepods/besteffort/pod%s/crio-%s", POD_U, crio_c);
}

static void make_runc(void)
{
	mkdirs(root, "webapp");
	mkdirs(root, "dbsrv");
	mkdirs(runc, "dbsrv");
	mkdirs(root, "xyz");
	mkdirs(root, "nest/nest");
}

static void make_tricky(void)
{
	amb1 = hex_id("abcd01");
	mkdirs(root, "docker/%s", amb1);
	amb2 = hex_id("abcd02");
	mkdirs(root, "system.slice/docker-%s.scope", amb2);
	/* runc's /feed and a Docker id starting with feed */
	feed = hex_id("feed00");
	mkdirs(root, "feed");
	mkdirs(root, "docker/%s", feed);
	/* a scope with a sub-cgroup named after the same container */
	nested = hex_id("ae57ed");
	mkdirs(root, "system.slice/docker-%s.scope/%s", nested, nested);
	/* kind: a node container with pods inside it */
	outer = hex_id("0e7e70");
	inner = hex_id("1e1e1e");
	mkdirs(root, "system.slice/docker-%s.scope/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod%s.slice/cri-containerd-%s.scope",
	       outer, POD_S, inner);
	/* a container reachable only through a symlink */
	linked = hex_id("5e1f11");
	mkdirs(outside, "docker-%s.scope", linked);
	/* an unreadable directory (root reads it anyway) */
	mkdirs(root, "locked/docker-%s.scope", hex_id("10c4ed"));
}

static void build(void)
{
	char link[PATH_MAX + 16];

	if (!mkdtemp(base)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		exit(1);
	}
	snprintf(root, sizeof(root), "%s/cgroup", base);
	snprintf(runc, sizeof(runc), "%s/runc", base);
	snprintf(outside, sizeof(outside), "%s/outside", base);
	mkdirs(base, "cgroup");
	mkdirs(base, "runc");
	mkdirs(base, "outside");
	make_systemd();
	make_cgroupfs();
	make_runc();
	make_tricky();
	snprintf(link, sizeof(link), "%s/linked", root);
	if (symlink(outside, link) < 0) {
		printf("Bail out! symlink: %s\n", strerror(errno));
		exit(1);
	}
	snprintf(link, sizeof(link), "%s/locked", root);
	chmod(link, 0);
	setenv("NUMAMIGCTL_CGROUP_ROOT", root, 1);
	setenv("NUMAMIGCTL_RUNC_ROOT", runc, 1);
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 ? -1 : 0;
}

static void clean(void)
{
	char link[PATH_MAX + 16];

	snprintf(link, sizeof(link), "%s/locked", root);
	chmod(link, 0755);
	nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- the cases -------------------------------------------------- */

static char rel[32][PATH_MAX];

static const char *R(int i, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static const char *R(int i, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel[i], sizeof(rel[i]), fmt, ap);
	va_end(ap);
	return rel[i];
}

static void test_systemd(void)
{
	const char *p;

	p = R(0, "/system.slice/docker-%s.scope", docker_s);
	expect_dir(docker_s, p, "docker systemd scope, full id");
	expect_dir("d0c4", p, "docker systemd scope, 4-char prefix");
	p = R(1, "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-%s.scope",
	      libpod_s);
	expect_dir(libpod_s, p, "rootless podman scope, full id, conmon beside it");
	expect_dir("1b0d5", p, "rootless podman scope, prefix");
	expect_dir(machine_s, R(2, "/machine.slice/libpod-%s.scope", machine_s),
		   "podman machine.slice scope, not its payload sub-cgroup");
	expect_unknown(conmon_only, "libpod-conmon scope never matches");
	p = R(3, "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod%s.slice/cri-containerd-%s.scope",
	      POD_S, containerd_s);
	expect_dir(containerd_s, p, "containerd in a kubepods slice, full id");
	expect_dir("c0d1a", p, "containerd in a kubepods slice, prefix");
	p = R(4, "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod%s.slice/crio-%s.scope",
	      POD_S, crio_s);
	expect_dir(crio_s, p, "CRI-O scope, not crio-conmon, full id");
	expect_dir("c210", p, "CRI-O scope, prefix");
	expect_dir("mybox", "/system.slice/runc-mybox.scope",
		   "runc systemd scope, full non-hex id");
	expect_dir("mybo", "/system.slice/runc-mybox.scope",
		   "runc systemd scope, prefix");
}

static void test_cgroupfs(void)
{
	expect_dir(docker_c, R(0, "/docker/%s", docker_c),
		   "docker cgroupfs, full id");
	expect_dir("dcf5", R(0, "/docker/%s", docker_c),
		   "docker cgroupfs, prefix");
	expect_dir("9f0d0", R(1, "/libpod_parent/libpod-%s", libpod_c),
		   "podman cgroupfs libpod_parent, prefix");
	expect_dir(kube_b, R(2, "/kubepods/burstable/pod%s/%s", POD_U, kube_b),
		   "kubepods cgroupfs burstable, full id");
	expect_dir("be57", R(3, "/kubepods/besteffort/pod%s/%s", POD_U, kube_e),
		   "kubepods cgroupfs besteffort, prefix");
	expect_dir("6a4a4", R(4, "/kubepods/pod%s/%s", POD_U, kube_g),
		   "kubepods cgroupfs guaranteed, prefix");
	expect_dir(crio_c, R(5, "/kubepods/besteffort/pod%s/crio-%s", POD_U,
			     crio_c), "CRI-O cgroupfs crio-ID, full id");
	expect_unknown("pod" POD_U, "a cgroupfs pod directory is no container");
	expect_unknown("kubepods-burstable-pod" POD_S ".slice",
		       "a kubepods pod slice is no container");
}

static void test_runc(void)
{
	expect_dir("webapp", "/webapp", "runc /ID by its full name");
	expect_unknown("weba", "runc /ID prefix without a state directory");
	expect_dir("dbsr", "/dbsrv", "runc /ID prefix with a state directory");
	expect_dir("xyz", "/xyz", "a 3-char name matched exactly");
	expect_dir("nest", "/nest", "runc /ID/ID: the outermost");
	expect_unknown("syst", "bare system.slice not matched by a prefix");
	expect_unknown("system.slice", "a slice is not a runc container");
	expect_unknown("docker", "an engine's parent is not a container");
}

static void test_rules(void)
{
	char err[2048], want1[512], want2[512];
	char *dir = NULL;
	int r;

	r = resolve("abcd", &dir, err, sizeof(err));
	snprintf(want1, sizeof(want1), "/docker/%s", amb1);
	snprintf(want2, sizeof(want2), "/system.slice/docker-%s.scope", amb2);
	ok(r == -1 && !dir && one_line(err) &&
	   !strncmp(err, "numamigctl: container abcd is ambiguous: matches /", 50) &&
	   strstr(err, want1) && strstr(err, want2) && strstr(err, ", "),
	   "ambiguous prefix lists both: %.*s", (int)strcspn(err, "\n"), err);
	expect_dir("abcd01", R(0, "/docker/%s", amb1), "longer prefix is unique");
	expect_dir("feed", "/feed", "exact runc name wins over a prefix match");
	expect_dir("feed0", R(1, "/docker/%s", feed), "longer id: the Docker one");
	expect_dir(nested, R(2, "/system.slice/docker-%s.scope", nested),
		   "same id nested: the outermost");
	expect_dir("1e1e", R(3, "/system.slice/docker-%s.scope/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod%s.slice/cri-containerd-%s.scope",
			     outer, POD_S, inner),
		   "a container inside a kind node container");
	expect_dir(outer, R(4, "/system.slice/docker-%s.scope", outer),
		   "the kind node container itself");
	expect_unknown(linked, "symlinks are not followed");
	expect_dir(docker_s, R(5, "/system.slice/docker-%s.scope", docker_s),
		   "an unreadable directory does not stop the walk");
	expect_unknown("ffff0000", "unknown id, one line naming the root");
	expect_err("ab", "numamigctl: container id 'ab' is too short",
		   "too-short id");
	expect_err("a/b", "is not valid", "'/' refused");
	expect_err("../x", "is not valid", "'../x' refused");
	expect_err("x y", "is not valid", "a blank refused");
	expect_err("", "needs a container id", "empty id refused");
}

static void test_root(void)
{
	char slash[PATH_MAX + 2];
	const char *r;

	snprintf(slash, sizeof(slash), "%s/", root);
	setenv("NUMAMIGCTL_CGROUP_ROOT", slash, 1);
	ok(!strcmp(nmctl_cgroup_root(), slash), "NUMAMIGCTL_CGROUP_ROOT wins");
	expect_dir("dcf5", R(0, "/docker/%s", docker_c),
		   "root with a trailing slash: no double slash");
	unsetenv("NUMAMIGCTL_CGROUP_ROOT");
	r = nmctl_cgroup_root();
	ok(r && r[0] == '/' && r == nmctl_cgroup_root(),
	   "system root is an absolute, static path: %s", r ? r : "(null)");
	setenv("NUMAMIGCTL_CGROUP_ROOT", root, 1);
}

int main(void)
{
	const int planned = 12 + 9 + 8 + 15 + 3;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..%d\n", planned);
	build();
	test_systemd();
	test_cgroupfs();
	test_runc();
	test_rules();
	test_root();
	clean();
	if (done != planned) {
		printf("# planned %d tests but ran %d\n", planned, done);
		return 1;
	}
	return failures ? 1 : 0;
}
