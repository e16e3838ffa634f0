/* SPDX-License-Identifier: GPL-2.0 */
/* numamigctl: thin wrappers over the /dev/numamig ioctls. */
#ifndef NMCTL_IOCTL_H
#define NMCTL_IOCTL_H

#include <stddef.h>
#include <sys/types.h>
#include <linux/numamig.h>

struct nmctl_dev {
	int fd;
	struct numamig_api api;	/* the module's answer to the handshake */
};

/* NUMAMIG_IOC_WAIT without a timeout. */
#define NMCTL_WAIT_FOREVER (~0ULL)

/*
 * Open the device (NUMAMIGCTL_DEVICE in the environment overrides
 * NUMAMIG_DEVICE) and do the NUMAMIG_IOC_API handshake asking for
 * @features.  Prints the one-line error itself.
 * Return: 0, or -errno.
 */
int nmctl_open(struct nmctl_dev *dev, __u64 features);
/* The same without printing anything (for --version). */
int nmctl_open_quiet(struct nmctl_dev *dev, __u64 features);
void nmctl_close(struct nmctl_dev *dev);
const char *nmctl_device_path(void);

/*
 * The wrappers below zero everything the caller does not set (reserved
 * fields, padding, flags), so that the module never sees stray bytes.
 * Return: 0, or -errno; output is valid only on 0 (and for wait, also
 * on -ETIMEDOUT, as the header documents).
 */
int nmctl_migrate(struct nmctl_dev *dev, struct numamig_migrate *m);
int nmctl_status(struct nmctl_dev *dev, __u64 job,
		 struct numamig_job_status *st);
/* *ids is malloc'ed (free it); the ids are oldest first. */
int nmctl_list(struct nmctl_dev *dev, __u64 **ids, size_t *n);
int nmctl_cancel(struct nmctl_dev *dev, __u64 job);
int nmctl_set(struct nmctl_dev *dev, __u64 job, __u64 flags, __u32 batch,
	      __u32 sleep_ms, __u32 cpu_pct);
int nmctl_wait(struct nmctl_dev *dev, __u64 job, __u64 timeout_ms,
	       __u32 *state);
int nmctl_locality(struct nmctl_dev *dev, pid_t pid, __u64 flags,
		   struct numamig_locality *loc);
/*
 * One NUMAMIG_IOC_HOTCACHE call: flags, pid, fd, buf_ptr, buf_size and
 * cursor of @hc in; bytes, nr_files, done and the cursor out.
 */
int nmctl_hotcache(struct nmctl_dev *dev, struct numamig_hotcache *hc);

/* Names as shown to users and in JSON; "unknown" for values we lack. */
const char *nmctl_state_name(__u32 state);
const char *nmctl_policy_name(__u32 policy);
const char *nmctl_skip_name(unsigned int reason);	/* NULL if unused */
const char *nmctl_feature_name(unsigned int bit);	/* NULL if unknown */

/*
 * A hint for an errno returned by a command that names a process
 * (migrate, locality), or NULL when strerror() says it all.
 */
const char *nmctl_pid_hint(int err);
/* A hint for errors every command can return, or NULL. */
const char *nmctl_common_hint(int err);

#endif
