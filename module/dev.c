// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/numamig: module init/exit, the per-file handshake and the
 * ioctl entry.  Each command copies its struct in once, checks the fields
 * every command shares (flags, padding, reserved), calls one function and
 * copies the result out only on success.
 */
#define pr_fmt(fmt) "numamig: " fmt

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/nodemask.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include "numamig.h"

#define NUMAMIG_IOCTLS	(BIT_ULL(_NUMAMIG_API) | BIT_ULL(_NUMAMIG_MIGRATE) | \
			 BIT_ULL(_NUMAMIG_STATUS) | BIT_ULL(_NUMAMIG_LIST) | \
			 BIT_ULL(_NUMAMIG_CANCEL) | BIT_ULL(_NUMAMIG_SET) | \
			 BIT_ULL(_NUMAMIG_WAIT) | BIT_ULL(_NUMAMIG_LOCALITY) | \
			 BIT_ULL(_NUMAMIG_HOTCACHE) | BIT_ULL(_NUMAMIG_HUGE))

/**
 * struct numamig_file - state of one open /dev/numamig
 * @api_done: NUMAMIG_IOC_API succeeded on this file.  Written once from
 *            false to true; a racing reader at worst sees EPROTO.
 */
struct numamig_file {
	bool api_done;
};

static bool numamig_zero(const void *p, size_t size)
{
	return !memchr_inv(p, 0, size);
}

/**
 * numamig_ioctl_api() - NUMAMIG_IOC_API: version and feature handshake
 * @nf: the open file.
 * @arg: user pointer to struct numamig_api.
 *
 * Return: 0, -EFAULT, or -EINVAL (see struct numamig_api).
 */
static long numamig_ioctl_api(struct numamig_file *nf,
			      struct numamig_api __user *arg)
{
	struct numamig_api api;
	bool ok;

	if (copy_from_user(&api, arg, sizeof(api)))
		return -EFAULT;
	if (!numamig_zero(api.reserved, sizeof(api.reserved)))
		return -EINVAL;
	ok = api.api && api.api <= NUMAMIG_API &&
	     !(api.features & ~NUMAMIG_FEATURES_ALL);
	api.api = NUMAMIG_API;
	api.features = NUMAMIG_FEATURES_ALL;
	api.ioctls = NUMAMIG_IOCTLS;
	api.max_jobs = NUMAMIG_MAX_JOBS;
	/* The answer goes back even on EINVAL, so a caller can adapt. */
	if (copy_to_user(arg, &api, sizeof(api)))
		return -EFAULT;
	if (!ok)
		return -EINVAL;
	WRITE_ONCE(nf->api_done, true);
	return 0;
}

static int numamig_check_migrate(const struct numamig_migrate *req)
{
	int node;

	if (req->flags & ~NUMAMIG_MIGRATE_FLAGS_ALL ||
	    !numamig_zero(req->reserved, sizeof(req->reserved)) ||
	    req->pid <= 0 ||
	    req->policy >= NUMAMIG_POLICY_MAX ||
	    req->batch_pages > NUMAMIG_MAX_BATCH ||
	    req->sleep_ms > NUMAMIG_MAX_SLEEP || req->cpu_pct > 100 ||
	    req->dst_node >= NUMAMIG_MAX_NODES)
		return -EINVAL;
	if (req->src_nodes[req->dst_node / 64] & BIT_ULL(req->dst_node % 64))
		return -EINVAL;
	/* Source nodes the kernel cannot even name are a caller's bug. */
	for (node = MAX_NUMNODES; node < NUMAMIG_MAX_NODES; node++)
		if (req->src_nodes[node / 64] & BIT_ULL(node % 64))
			return -EINVAL;
	if (req->dst_node >= MAX_NUMNODES ||
	    !node_state(req->dst_node, N_MEMORY))
		return -ENODEV;
	return 0;
}

/**
 * numamig_ioctl_migrate() - NUMAMIG_IOC_MIGRATE: start a job
 * @arg: user pointer to struct numamig_migrate.
 *
 * Return: 0 with job_id written, or the errors of struct numamig_migrate.
 */
static long numamig_ioctl_migrate(struct numamig_migrate __user *arg)
{
	struct numamig_migrate req;
	struct mm_struct *mm;
	int ret;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	ret = numamig_check_migrate(&req);
	if (ret)
		return ret;
	ret = numamig_target_mm(req.pid,
				req.flags & NUMAMIG_MIGRATE_MOVE_SHARED, &mm);
	if (ret)
		return ret;
	ret = numamig_job_start(&req, mm, &req.job_id);
	mmput(mm);
	if (ret)
		return ret;
	/* The job runs even if this copy fails; list finds it. */
	if (put_user(req.job_id, &arg->job_id))
		return -EFAULT;
	return 0;
}

/**
 * numamig_ioctl_status() - NUMAMIG_IOC_STATUS: one job's status
 * @arg: user pointer to struct numamig_job_status.
 *
 * Return: 0, -EFAULT, -EINVAL (flags), or -ENOENT (no such job).
 */
static long numamig_ioctl_status(struct numamig_job_status __user *arg)
{
	struct numamig_job_status st;
	struct numamig_job *job;

	if (copy_from_user(&st, arg, sizeof(st)))
		return -EFAULT;
	if (st.flags)
		return -EINVAL;
	job = numamig_job_get(st.job_id);
	if (!job)
		return -ENOENT;
	numamig_job_status(job, &st);
	numamig_job_put(job);
	return copy_to_user(arg, &st, sizeof(st)) ? -EFAULT : 0;
}

/**
 * numamig_ioctl_list() - NUMAMIG_IOC_LIST: ids of the jobs held
 * @arg: user pointer to struct numamig_list.
 *
 * Return: 0, -EFAULT, -EINVAL, or -ENOMEM.
 */
static long numamig_ioctl_list(struct numamig_list __user *arg)
{
	struct numamig_list req;
	u64 *ids = NULL;
	u32 cap;
	int ret = 0;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if (req.flags || !numamig_zero(req.reserved, sizeof(req.reserved)))
		return -EINVAL;
	cap = min_t(u32, req.capacity, NUMAMIG_MAX_JOBS);
	if (cap) {
		ids = kcalloc(cap, sizeof(*ids), GFP_KERNEL);
		if (!ids)
			return -ENOMEM;
	}
	req.count = numamig_job_list(ids, cap);
	if (cap && copy_to_user(u64_to_user_ptr(req.ids_ptr), ids,
				min(req.count, cap) * sizeof(*ids)))
		ret = -EFAULT;
	else if (put_user(req.count, &arg->count))
		ret = -EFAULT;
	kfree(ids);
	return ret;
}

/**
 * numamig_ioctl_cancel() - NUMAMIG_IOC_CANCEL: ask a job to stop
 * @arg: user pointer to struct numamig_job_ref.
 *
 * Return: 0 (also for a finished job), -EFAULT, -EINVAL, or -ENOENT.
 */
static long numamig_ioctl_cancel(struct numamig_job_ref __user *arg)
{
	struct numamig_job_ref req;
	struct numamig_job *job;
	int ret;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if (req.flags || !numamig_zero(req.reserved, sizeof(req.reserved)))
		return -EINVAL;
	job = numamig_job_get(req.job_id);
	if (!job)
		return -ENOENT;
	ret = numamig_job_cancel(job);
	numamig_job_put(job);
	return ret;
}

/**
 * numamig_ioctl_set() - NUMAMIG_IOC_SET: change a running job's throttle
 * @arg: user pointer to struct numamig_throttle.
 *
 * Return: 0, -EFAULT, -EINVAL, -ENOENT, or -ESRCH (job finished).
 */
static long numamig_ioctl_set(struct numamig_throttle __user *arg)
{
	struct numamig_throttle req;
	struct numamig_job *job;
	int ret;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if (!req.flags || req.flags & ~NUMAMIG_THROTTLE_FLAGS_ALL ||
	    req.__pad || !numamig_zero(req.reserved, sizeof(req.reserved)))
		return -EINVAL;
	if ((req.flags & NUMAMIG_THROTTLE_BATCH &&
	     (!req.batch_pages || req.batch_pages > NUMAMIG_MAX_BATCH)) ||
	    (req.flags & NUMAMIG_THROTTLE_SLEEP &&
	     req.sleep_ms > NUMAMIG_MAX_SLEEP) ||
	    (req.flags & NUMAMIG_THROTTLE_CPU && req.cpu_pct > 100))
		return -EINVAL;
	job = numamig_job_get(req.job_id);
	if (!job)
		return -ENOENT;
	ret = numamig_job_set_throttle(job, &req);
	numamig_job_put(job);
	return ret;
}

/**
 * numamig_ioctl_wait() - NUMAMIG_IOC_WAIT: wait for a job to finish
 * @arg: user pointer to struct numamig_wait.
 *
 * Return: 0, -EFAULT, -EINVAL, -ENOENT, -ETIMEDOUT (state written), -EINTR.
 */
static long numamig_ioctl_wait(struct numamig_wait __user *arg)
{
	struct numamig_wait req;
	struct numamig_job *job;
	int ret;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if (req.flags || req.__pad ||
	    !numamig_zero(req.reserved, sizeof(req.reserved)))
		return -EINVAL;
	job = numamig_job_get(req.job_id);
	if (!job)
		return -ENOENT;
	ret = numamig_job_wait(job, req.timeout_ms, &req.state);
	numamig_job_put(job);
	if (ret && ret != -ETIMEDOUT)
		return ret;
	if (put_user(req.state, &arg->state))
		return -EFAULT;
	return ret;
}

/**
 * numamig_ioctl_locality() - NUMAMIG_IOC_LOCALITY: pages per node
 * @arg: user pointer to struct numamig_locality.
 *
 * Return: 0, -EFAULT, -EINVAL, or the errors of NUMAMIG_IOC_MIGRATE for
 * the pid.
 */
static long numamig_ioctl_locality(struct numamig_locality __user *arg)
{
	struct numamig_locality *loc;
	long ret;

	loc = kmalloc(sizeof(*loc), GFP_KERNEL);
	if (!loc)
		return -ENOMEM;
	ret = -EFAULT;
	if (copy_from_user(loc, arg, sizeof(*loc)))
		goto out_free;
	ret = -EINVAL;
	if (loc->flags & ~NUMAMIG_LOCALITY_FLAGS_ALL || loc->__pad ||
	    loc->__pad2 || !numamig_zero(loc->reserved, sizeof(loc->reserved)))
		goto out_free;
	ret = numamig_locality(loc);
	if (!ret && copy_to_user(arg, loc, sizeof(*loc)))
		ret = -EFAULT;
out_free:
	kfree(loc);
	return ret;
}

/**
 * numamig_ioctl_huge() - NUMAMIG_IOC_HUGE: move a job's large folios whole
 * @file: the caller's file, which becomes the job's mover.
 * @arg:  user pointer to struct numamig_huge.
 *
 * Return: 0 with count written, or the errors of struct numamig_huge.
 */
static long numamig_ioctl_huge(struct file *file,
			       struct numamig_huge __user *arg)
{
	struct numamig_job *job;
	struct numamig_huge req;
	int ret;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if (req.flags & ~NUMAMIG_HUGE_FLAGS_ALL ||
	    !numamig_zero(req.reserved, sizeof(req.reserved)))
		return -EINVAL;
	job = numamig_job_get(req.job_id);
	if (!job)
		return -ENOENT;
	ret = numamig_handoff_ioctl(job, file, &req);
	numamig_job_put(job);
	if (ret)
		return ret;
	if (put_user(req.count, &arg->count))
		return -EFAULT;
	return 0;
}

/**
 * numamig_ioctl_hotcache() - NUMAMIG_IOC_HOTCACHE: dump cached pages
 * @arg: user pointer to struct numamig_hotcache.
 *
 * Return: 0, or the errors listed at struct numamig_hotcache.
 */
static long numamig_ioctl_hotcache(struct numamig_hotcache __user *arg)
{
	struct numamig_hotcache req;
	bool by_fd;
	int ret;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	by_fd = req.flags & NUMAMIG_HOTCACHE_FD;
	if (req.flags & ~NUMAMIG_HOTCACHE_FLAGS_ALL ||
	    !numamig_zero(req.reserved, sizeof(req.reserved)) ||
	    req.buf_size < NUMAMIG_HOTCACHE_MIN_BUF ||
	    (by_fd ? req.pid : req.fd || req.pid <= 0) ||
	    (by_fd && req.cursor[0] > 1))
		return -EINVAL;
	ret = numamig_hotcache(&req);
	if (ret)
		return ret;
	return copy_to_user(arg, &req, sizeof(req)) ? -EFAULT : 0;
}

/**
 * numamig_ioctl() - the ioctl entry of /dev/numamig
 * @file: the open device.
 * @cmd:  NUMAMIG_IOC_*.
 * @arg:  user pointer to the command's struct.
 *
 * Unknown commands fail with -ENOTTY; known ones before a successful
 * NUMAMIG_IOC_API on this file with -EPROTO.
 *
 * Return: the command's result.
 */
static long numamig_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	struct numamig_file *nf = file->private_data;
	void __user *uarg = (void __user *)arg;

	if (cmd == NUMAMIG_IOC_API)
		return numamig_ioctl_api(nf, uarg);

	switch (cmd) {
	case NUMAMIG_IOC_MIGRATE:
	case NUMAMIG_IOC_STATUS:
	case NUMAMIG_IOC_LIST:
	case NUMAMIG_IOC_CANCEL:
	case NUMAMIG_IOC_SET:
	case NUMAMIG_IOC_WAIT:
	case NUMAMIG_IOC_LOCALITY:
	case NUMAMIG_IOC_HOTCACHE:
	case NUMAMIG_IOC_HUGE:
		if (!READ_ONCE(nf->api_done))
			return -EPROTO;
		break;
	default:
		return -ENOTTY;
	}

	switch (cmd) {
	case NUMAMIG_IOC_MIGRATE:
		return numamig_ioctl_migrate(uarg);
	case NUMAMIG_IOC_STATUS:
		return numamig_ioctl_status(uarg);
	case NUMAMIG_IOC_LIST:
		return numamig_ioctl_list(uarg);
	case NUMAMIG_IOC_CANCEL:
		return numamig_ioctl_cancel(uarg);
	case NUMAMIG_IOC_SET:
		return numamig_ioctl_set(uarg);
	case NUMAMIG_IOC_WAIT:
		return numamig_ioctl_wait(uarg);
	case NUMAMIG_IOC_HOTCACHE:
		return numamig_ioctl_hotcache(uarg);
	case NUMAMIG_IOC_HUGE:
		return numamig_ioctl_huge(file, uarg);
	default:
		return numamig_ioctl_locality(uarg);
	}
}

/**
 * numamig_open() - open /dev/numamig: a file starts without a handshake
 * @inode: the device inode.
 * @file:  the new file.
 *
 * Return: 0 or -ENOMEM.
 */
static int numamig_open(struct inode *inode, struct file *file)
{
	struct numamig_file *nf;

	nf = kzalloc(sizeof(*nf), GFP_KERNEL);
	if (!nf)
		return -ENOMEM;
	file->private_data = nf;
	return 0;
}

/**
 * numamig_release() - close /dev/numamig; jobs live on (they are global),
 *                     but split huge pages if this file was their mover
 * @inode: the device inode.
 * @file:  the file.
 *
 * Return: 0.
 */
static int numamig_release(struct inode *inode, struct file *file)
{
	numamig_jobs_drop_mover(file);
	kfree(file->private_data);
	return 0;
}

static const struct file_operations numamig_fops = {
	.owner = THIS_MODULE,
	.open = numamig_open,
	.release = numamig_release,
	.unlocked_ioctl = numamig_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice numamig_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "numamig",
	.fops = &numamig_fops,
	.mode = 0600,
};

static int __init numamig_init(void)
{
	int ret;

	ret = misc_register(&numamig_misc);
	if (ret) {
		pr_err("cannot register /dev/numamig: %d\n", ret);
		return ret;
	}
	pr_info("loaded, api %llu\n", NUMAMIG_API);
	return 0;
}

static void __exit numamig_exit(void)
{
	/* No file is open (each holds a module reference): no new jobs. */
	misc_deregister(&numamig_misc);
	numamig_jobs_shutdown();
}

module_init(numamig_init);
module_exit(numamig_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("numamig: throttled, hot-first NUMA migration");
MODULE_AUTHOR("numamig developers");
MODULE_VERSION("0.1.0");
