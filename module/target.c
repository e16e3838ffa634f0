// SPDX-License-Identifier: GPL-2.0
/*
 * Turn a pid into an mm the caller is allowed to migrate.
 *
 * The rights are those of migrate_pages(2).  Its ptrace check
 * (ptrace_may_access(), with the LSM hooks) is not exported, so we let the
 * kernel make it: opening /proc/PID/pagemap runs the same check for the
 * opener, resolves PID in the caller's pid namespace and follows the
 * caller's root.  The uid rule and CAP_SYS_NICE are checked here.
 */
#define pr_fmt(fmt) "numamig: " fmt

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/proc_fs.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include "numamig.h"

/*
 * Let procfs run the ptrace-read check for the current caller, on the
 * process that @pid names now (@want).  The /proc we open must belong to
 * the caller's pid namespace and still name @want afterwards, so the check
 * and the lookup cannot land on different processes (pid reuse, a /proc of
 * another namespace).
 */
static int numamig_ptrace_check(pid_t pid, struct pid *want)
{
	char path[32];
	struct file *file;
	bool same;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	file = filp_open(path, O_RDONLY, 0);
	if (IS_ERR(file)) {
		switch (PTR_ERR(file)) {
		case -ENOENT:
			return -ESRCH;
		case -EACCES:
		case -EPERM:
			return -EPERM;
		default:
			return PTR_ERR(file);
		}
	}
	same = proc_pid_ns(file_inode(file)->i_sb) ==
	       task_active_pid_ns(current);
	filp_close(file, NULL);
	rcu_read_lock();
	same = same && find_vpid(pid) == want;
	rcu_read_unlock();
	return same ? 0 : -ESRCH;
}

/* Same user as the caller (real or effective), as migrate_pages(2) had it. */
static bool numamig_same_user(struct task_struct *task)
{
	const struct cred *cred = current_cred();
	const struct cred *tcred;
	bool same;

	rcu_read_lock();
	tcred = __task_cred(task);
	same = uid_eq(cred->euid, tcred->suid) ||
	       uid_eq(cred->euid, tcred->uid) ||
	       uid_eq(cred->uid, tcred->suid) ||
	       uid_eq(cred->uid, tcred->uid);
	rcu_read_unlock();
	return same;
}

/*
 * A thread of @leader's process that still has its mm (and so its files):
 * the leader itself may have exited (pthread_exit() in main) while other
 * threads run on.  The leader when none has, so a zombie stays a zombie.
 * Called under rcu_read_lock().
 */
static struct task_struct *numamig_live_thread(struct task_struct *leader)
{
	struct task_struct *t;

	if (!leader)
		return NULL;
	for_each_thread(leader, t) {
		if (READ_ONCE(t->mm))
			return t;
	}
	return leader;
}

/**
 * numamig_target_task() - find the task of @pid if the caller may act on it
 * @pid:  a pid in the caller's pid namespace.
 * @taskp: (out) a live thread of its process (the leader may have
 *         exited), with a reference (put_task_struct() it).
 *
 * Context: process context of the ioctl caller; may sleep.
 * Return: 0; -EINVAL for @pid <= 0; -ESRCH when there is no such process
 * (or /proc is not mounted in the caller's root for its pid namespace);
 * -EPERM when the caller may not ptrace-read the target, or the target
 * belongs to another user and the caller lacks CAP_SYS_NICE.
 */
int numamig_target_task(pid_t pid, struct task_struct **taskp)
{
	struct task_struct *task;
	struct pid *want;
	int ret;

	if (pid <= 0)
		return -EINVAL;
	rcu_read_lock();
	want = get_pid(find_vpid(pid));
	rcu_read_unlock();
	if (!want)
		return -ESRCH;
	ret = numamig_ptrace_check(pid, want);
	if (ret)
		goto out_put_pid;

	ret = -ESRCH;
	rcu_read_lock();
	task = numamig_live_thread(pid_task(want, PIDTYPE_PID));
	if (task)
		get_task_struct(task);
	rcu_read_unlock();
	if (!task)
		goto out_put_pid;

	if (!numamig_same_user(task) && !capable(CAP_SYS_NICE)) {
		put_task_struct(task);
		ret = -EPERM;
		goto out_put_pid;
	}
	*taskp = task;
	ret = 0;
out_put_pid:
	put_pid(want);
	return ret;
}

/**
 * numamig_target_mm() - find the mm of @pid if the caller may migrate it
 * @pid:         a pid in the caller's pid namespace.
 * @move_shared: the caller wants pages shared with other processes too.
 * @mmp:         (out) the mm, with a mm_users reference (mmput() it).
 *
 * Context: process context of the ioctl caller; may sleep.
 * Return: 0, the errors of numamig_target_task(), -ESRCH when the target
 * has no mm (kernel thread, zombie), or -EPERM for @move_shared without
 * CAP_SYS_NICE.
 */
int numamig_target_mm(pid_t pid, bool move_shared, struct mm_struct **mmp)
{
	struct task_struct *task;
	struct mm_struct *mm;
	int ret;

	if (pid <= 0)
		return -EINVAL;
	if (move_shared && !capable(CAP_SYS_NICE))
		return -EPERM;
	ret = numamig_target_task(pid, &task);
	if (ret)
		return ret;
	mm = get_task_mm(task);	/* NULL for kernel threads and zombies */
	put_task_struct(task);
	if (!mm)
		return -ESRCH;
	*mmp = mm;
	return 0;
}
