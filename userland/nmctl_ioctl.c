// SPDX-License-Identifier: GPL-2.0
/* numamigctl: thin wrappers over the /dev/numamig ioctls. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "msg.h"
#include "nmctl_ioctl.h"

static const char *const state_names[] = {
	[NUMAMIG_STATE_RUNNING] = "running",
	[NUMAMIG_STATE_DONE] = "done",
	[NUMAMIG_STATE_CANCELLED] = "cancelled",
	[NUMAMIG_STATE_FAILED] = "failed",
	[NUMAMIG_STATE_EXITED] = "exited",
};

static const char *const policy_names[] = {
	[NUMAMIG_POLICY_EAGER] = "eager",
	[NUMAMIG_POLICY_PERIODICAL] = "periodical",
	[NUMAMIG_POLICY_SEVERE] = "severe",
	[NUMAMIG_POLICY_MILD] = "mild",
};

static const char *const skip_names[NUMAMIG_SKIP_MAX] = {
	[NUMAMIG_SKIP_FILE] = "file",
	[NUMAMIG_SKIP_SHARED] = "shared",
	[NUMAMIG_SKIP_HUGETLB] = "hugetlb",
	[NUMAMIG_SKIP_PINNED] = "pinned",
	[NUMAMIG_SKIP_NOMEM] = "nomem",
	[NUMAMIG_SKIP_SWAPPED] = "swapped",
	[NUMAMIG_SKIP_SPECIAL] = "special",
};

static const char *const feature_names[] = {
	"cpu-budget",	/* NUMAMIG_FEATURE_CPU_BUDGET */
	"move-shared",	/* NUMAMIG_FEATURE_MOVE_SHARED */
	"locality",	/* NUMAMIG_FEATURE_LOCALITY */
	"hotcache",	/* NUMAMIG_FEATURE_HOTCACHE */
	"keep-huge",	/* NUMAMIG_FEATURE_KEEP_HUGE */
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

const char *nmctl_state_name(__u32 state)
{
	return state < ARRAY_SIZE(state_names) ? state_names[state] : "unknown";
}

const char *nmctl_policy_name(__u32 policy)
{
	return policy < ARRAY_SIZE(policy_names) ? policy_names[policy] : "unknown";
}

const char *nmctl_skip_name(unsigned int reason)
{
	return reason < ARRAY_SIZE(skip_names) ? skip_names[reason] : NULL;
}

const char *nmctl_feature_name(unsigned int bit)
{
	return bit < ARRAY_SIZE(feature_names) ? feature_names[bit] : NULL;
}

const char *nmctl_common_hint(int err)
{
	switch (err) {
	case ENOTTY:
		return "the module does not support this command";
	case EPROTO:
		return "no API handshake on this file: numamigctl bug";
	case EINVAL:
		return "the module rejected the request";
	case EFAULT:
		return "bad address passed to the module: numamigctl bug";
	default:
		return NULL;
	}
}

const char *nmctl_pid_hint(int err)
{
	switch (err) {
	case ESRCH:
		return "no such process, or it has no memory: kernel thread or zombie";
	case EPERM:
		return "need ptrace access to the process, and CAP_SYS_NICE for another user's process";
	case EBUSY:
		return "too many running jobs; wait for some to finish";
	default:
		return nmctl_common_hint(err);
	}
}

const char *nmctl_device_path(void)
{
	const char *p = getenv("NUMAMIGCTL_DEVICE");

	return p && *p ? p : NUMAMIG_DEVICE;
}

static int xioctl(struct nmctl_dev *dev, unsigned long cmd, void *arg)
{
	return ioctl(dev->fd, cmd, arg) < 0 ? -errno : 0;
}

static const char *open_hint(int err)
{
	switch (err) {
	case ENOENT:
	case ENXIO:
	case ENODEV:
		return "numamig module not loaded?";
	case EACCES:
	case EPERM:
		return "run as root, or get access to the device";
	default:
		return NULL;
	}
}

/* Name the features we asked for and the module lacks. */
static void missing_features(__u64 wanted, __u64 have, char *buf, size_t len)
{
	__u64 missing = wanted & ~have;
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned int bit = 0; bit < 64 && used < len; bit++) {
		const char *name = nmctl_feature_name(bit);

		if (!(missing & (1ULL << bit)))
			continue;
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
					 used ? ", " : "", name ? name : "?");
	}
}

static int handshake(struct nmctl_dev *dev, const char *path, __u64 features,
		     bool report)
{
	char hint[160], missing[96];
	int ret;

	memset(&dev->api, 0, sizeof(dev->api));
	dev->api.api = NUMAMIG_API;
	dev->api.features = features;
	ret = xioctl(dev, NUMAMIG_IOC_API, &dev->api);
	if (ret == 0 || !report)
		return ret;
	/*
	 * On EINVAL the module writes back the features it has: if some we
	 * need are missing, say which; otherwise it is an API mismatch.
	 */
	if (ret == -EINVAL && (features & ~dev->api.features)) {
		missing_features(features, dev->api.features, missing,
				 sizeof(missing));
		snprintf(hint, sizeof(hint), "the module lacks: %s", missing);
	} else if (ret == -EINVAL) {
		snprintf(hint, sizeof(hint),
			 "module refused API %llu: numamigctl and module do not match",
			 (unsigned long long)NUMAMIG_API);
	} else if (ret == -ENOTTY) {
		snprintf(hint, sizeof(hint), "not a numamig device?");
	} else {
		snprintf(hint, sizeof(hint), "%s", open_hint(-ret) ? open_hint(-ret) : "");
	}
	nm_err(-ret, hint, "API handshake on %s", path);
	return ret;
}

static int do_open(struct nmctl_dev *dev, __u64 features, bool report)
{
	const char *path = nmctl_device_path();
	int ret;

	dev->fd = open(path, O_RDWR | O_CLOEXEC);
	if (dev->fd < 0) {
		ret = -errno;
		if (report)
			nm_err(-ret, open_hint(-ret), "cannot open %s", path);
		return ret;
	}
	ret = handshake(dev, path, features, report);
	if (ret < 0) {
		nmctl_close(dev);
		return ret;
	}
	return 0;
}

int nmctl_open(struct nmctl_dev *dev, __u64 features)
{
	return do_open(dev, features, true);
}

int nmctl_open_quiet(struct nmctl_dev *dev, __u64 features)
{
	return do_open(dev, features, false);
}

void nmctl_close(struct nmctl_dev *dev)
{
	if (dev->fd >= 0)
		close(dev->fd);
	dev->fd = -1;
}

int nmctl_migrate(struct nmctl_dev *dev, struct numamig_migrate *m)
{
	memset(m->reserved, 0, sizeof(m->reserved));
	m->job_id = 0;
	return xioctl(dev, NUMAMIG_IOC_MIGRATE, m);
}

int nmctl_status(struct nmctl_dev *dev, __u64 job,
		 struct numamig_job_status *st)
{
	memset(st, 0, sizeof(*st));
	st->job_id = job;
	return xioctl(dev, NUMAMIG_IOC_STATUS, st);
}

int nmctl_list(struct nmctl_dev *dev, __u64 **ids, size_t *n)
{
	/* Start from the module's limit; jobs may appear between calls. */
	size_t cap = dev->api.max_jobs ? dev->api.max_jobs : NUMAMIG_MAX_JOBS;
	struct numamig_list l;
	__u64 *buf = NULL;
	int ret;

	for (int tries = 0; tries < 8; tries++) {
		__u64 *nbuf = realloc(buf, cap * sizeof(*buf));

		if (!nbuf) {
			free(buf);
			return -ENOMEM;
		}
		buf = nbuf;
		memset(&l, 0, sizeof(l));
		l.ids_ptr = (__u64)(unsigned long)buf;
		l.capacity = (__u32)cap;
		ret = xioctl(dev, NUMAMIG_IOC_LIST, &l);
		if (ret < 0) {
			free(buf);
			return ret;
		}
		if (l.count <= cap) {
			*ids = buf;
			*n = l.count;
			return 0;
		}
		cap = l.count;
	}
	free(buf);
	return -EAGAIN;
}

int nmctl_cancel(struct nmctl_dev *dev, __u64 job)
{
	struct numamig_job_ref ref;

	memset(&ref, 0, sizeof(ref));
	ref.job_id = job;
	return xioctl(dev, NUMAMIG_IOC_CANCEL, &ref);
}

int nmctl_set(struct nmctl_dev *dev, __u64 job, __u64 flags, __u32 batch,
	      __u32 sleep_ms, __u32 cpu_pct)
{
	struct numamig_throttle t;

	memset(&t, 0, sizeof(t));
	t.job_id = job;
	t.flags = flags;
	t.batch_pages = batch;
	t.sleep_ms = sleep_ms;
	t.cpu_pct = cpu_pct;
	return xioctl(dev, NUMAMIG_IOC_SET, &t);
}

int nmctl_wait(struct nmctl_dev *dev, __u64 job, __u64 timeout_ms,
	       __u32 *state)
{
	struct numamig_wait w;
	int ret;

	memset(&w, 0, sizeof(w));
	w.job_id = job;
	w.timeout_ms = timeout_ms;
	ret = xioctl(dev, NUMAMIG_IOC_WAIT, &w);
	if (state && (ret == 0 || ret == -ETIMEDOUT))
		*state = w.state;
	return ret;
}

int nmctl_locality(struct nmctl_dev *dev, pid_t pid, __u64 flags,
		   struct numamig_locality *loc)
{
	memset(loc, 0, sizeof(*loc));
	loc->pid = pid;
	loc->flags = flags;
	return xioctl(dev, NUMAMIG_IOC_LOCALITY, loc);
}

int nmctl_hotcache(struct nmctl_dev *dev, struct numamig_hotcache *hc)
{
	memset(hc->reserved, 0, sizeof(hc->reserved));
	hc->bytes = 0;
	hc->nr_files = 0;
	hc->done = 0;
	return xioctl(dev, NUMAMIG_IOC_HOTCACHE, hc);
}
