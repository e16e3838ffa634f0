/* SPDX-License-Identifier: GPL-2.0 */
/* numamigctl: a container id (Docker, podman, CRI-O, containerd, runc) to its cgroup. */
#ifndef NMCTL_CONTAINER_H
#define NMCTL_CONTAINER_H

/*
 * The cgroup tree searched: $NUMAMIGCTL_CGROUP_ROOT when set (tests),
 * else /sys/fs/cgroup when it is cgroup v2, else the cgroup v1 cpuset
 * hierarchy's mount point.  Never NULL.
 */
const char *nmctl_cgroup_root(void);

/*
 * Resolve @id (a full container id, or a unique prefix of at least 4
 * characters) to the cgroup directory of that container, from the cgroup
 * tree alone (no daemon).  *dir is malloc'ed, absolute.
 *
 * The tree under nmctl_cgroup_root() is walked (16 levels, no symlinks,
 * unreadable directories skipped) for the names the engines give:
 *   <engine>-ID.scope   engine: docker, libpod, crio, cri-containerd, runc
 *                       (never libpod-conmon-ID.scope, crio-conmon-ID.scope)
 *   libpod-ID, crio-ID  cgroupfs driver, ID of 64 hex digits
 *   ID                  64 hex digits: docker/ID, kubepods/.../podUID/ID
 *   NAME                runc's cgroupfs /ID: by its full name; by a prefix
 *                       only if $NUMAMIGCTL_RUNC_ROOT (/run/runc)/NAME is
 *                       a directory.  Slices, scopes and other units, pod
 *                       directories and the engines' parents (docker,
 *                       kubepods, ...) only with that state directory.
 * A full-id match wins over prefix matches; a cgroup inside a match and
 * named after the same id is that container's, not another.
 *
 * Return: 0; -1 after printing one error line (unknown id, ambiguous
 * prefix with the matches, prefix too short, characters outside
 * [A-Za-z0-9_.-]).
 */
int container_resolve(const char *id, char **dir);

#endif
