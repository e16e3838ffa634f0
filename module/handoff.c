// SPDX-License-Identifier: GPL-2.0
/*
 * Keeping huge pages huge.  migrate_vma_setup() splits every THP it
 * collects (6.1 and 6.12), and the kernel paths that move a folio whole
 * (migrate_pages(), move_pages(2)) are not exported.  So a KEEP_HUGE job
 * hands its large folios, in its own order and under its own throttle, to
 * a mover in user space (numamigctl starts one per job), which moves them
 * whole with move_pages(2) and its own rights; the job waits for the
 * results and splits only what the mover could not move.
 *
 * The exchange is one slot per job: the engine fills it (READY), the
 * mover takes it (TAKEN) and hands results back (DONE), the engine
 * empties it (IDLE).  A mover that never comes, closes its file or
 * stalls is "lost": the engine then splits as it would without the flag.
 */
#define pr_fmt(fmt) "numamig: " fmt

#include <linux/sched/signal.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>
#include "numamig.h"

/* numamigctl starts the mover right after the job: wait this long for it. */
#define NUMAMIG_HANDOFF_CLAIM_MS	3000
/* A hand-off not answered in this time means the mover is gone. */
#define NUMAMIG_HANDOFF_STALL_MS	30000

/**
 * numamig_handoff_init() - an empty exchange, no mover yet
 * @h: the job's exchange.
 */
void numamig_handoff_init(struct numamig_handoff *h)
{
	mutex_init(&h->lock);
	init_waitqueue_head(&h->wq);
	h->state = NUMAMIG_HANDOFF_IDLE;
}

/* Wait for the first mover, from the job's start; true if there is one. */
static bool numamig_handoff_claimed(struct numamig_job *job)
{
	struct numamig_handoff *h = &job->handoff;
	u64 waited_ms = div_u64(ktime_get_ns() - job->start_ns, NSEC_PER_MSEC);
	bool claimed;

	if (waited_ms < NUMAMIG_HANDOFF_CLAIM_MS)
		wait_event_interruptible_timeout(h->wq,
			READ_ONCE(h->mover) || READ_ONCE(h->lost) ||
			numamig_job_should_stop(job),
			msecs_to_jiffies(NUMAMIG_HANDOFF_CLAIM_MS - waited_ms));
	mutex_lock(&h->lock);
	if (!h->mover)
		h->lost = true;
	claimed = !h->lost;
	mutex_unlock(&h->lock);
	return claimed;
}

/**
 * numamig_handoff_move() - have the mover move large folios, and wait
 * @job:    the job, on its own thread, without the target's mmap_lock
 *          (move_pages(2) takes it).
 * @addr:   one address in each folio.
 * @nr:     entries, at most NUMAMIG_HUGE_BATCH.
 * @status: (out) per folio, the node it is on now or a negative errno.
 *
 * Return: 0 with @status filled, -ENODEV when there is no mover (any
 * more), -EINTR when the job must stop.
 */
int numamig_handoff_move(struct numamig_job *job, const unsigned long *addr,
			 u32 nr, s32 *status)
{
	struct numamig_handoff *h = &job->handoff;
	u32 i;
	int ret;

	if (!READ_ONCE(h->mover) && !numamig_handoff_claimed(job))
		return numamig_job_should_stop(job) ? -EINTR : -ENODEV;

	mutex_lock(&h->lock);
	if (h->lost) {
		mutex_unlock(&h->lock);
		return -ENODEV;
	}
	for (i = 0; i < nr; i++)
		h->addr[i] = addr[i];
	h->nr = nr;
	h->state = NUMAMIG_HANDOFF_READY;
	mutex_unlock(&h->lock);
	wake_up_all(&h->wq);

	wait_event_interruptible_timeout(h->wq,
		READ_ONCE(h->state) == NUMAMIG_HANDOFF_DONE ||
		READ_ONCE(h->lost) || numamig_job_should_stop(job),
		msecs_to_jiffies(NUMAMIG_HANDOFF_STALL_MS));

	mutex_lock(&h->lock);
	if (h->state == NUMAMIG_HANDOFF_DONE) {
		memcpy(status, h->status, nr * sizeof(*status));
		ret = 0;
	} else if (numamig_job_should_stop(job)) {
		ret = -EINTR;
	} else {
		if (!h->lost)
			pr_warn_ratelimited("job %llu: mover stalled, splitting huge pages\n",
					    job->id);
		h->lost = true;
		ret = -ENODEV;
	}
	h->state = NUMAMIG_HANDOFF_IDLE;
	h->nr = 0;
	mutex_unlock(&h->lock);
	return ret;
}

/**
 * numamig_handoff_end() - the job has ended: send its mover home
 * @job: the job, its final state published.
 */
void numamig_handoff_end(struct numamig_job *job)
{
	struct numamig_handoff *h = &job->handoff;

	mutex_lock(&h->lock);
	h->lost = true;
	h->state = NUMAMIG_HANDOFF_IDLE;
	mutex_unlock(&h->lock);
	wake_up_all(&h->wq);
}

/**
 * numamig_handoff_drop() - @file closed: if it was the job's mover, the
 *                          job splits its large folios from now on
 * @job:  the job.
 * @file: the file being released.
 *
 * Return: true when @file was the mover.
 */
bool numamig_handoff_drop(struct numamig_job *job, const struct file *file)
{
	struct numamig_handoff *h = &job->handoff;
	bool was = false;

	mutex_lock(&h->lock);
	if (h->mover == file) {
		h->mover = NULL;
		h->lost = true;
		was = true;
	}
	mutex_unlock(&h->lock);
	if (was)
		wake_up_all(&h->wq);
	return was;
}

/* Results of the hand-off @file took; dropped if the engine gave up on it. */
static int numamig_handoff_results(struct numamig_handoff *h,
				   const struct numamig_huge *req)
{
	s32 __user *ustatus = u64_to_user_ptr(req->status_ptr);

	if (h->state != NUMAMIG_HANDOFF_TAKEN)
		return 0;
	if (req->count != h->nr)
		return -EINVAL;
	if (copy_from_user(h->status, ustatus, h->nr * sizeof(*h->status)))
		return -EFAULT;
	h->state = NUMAMIG_HANDOFF_DONE;
	return 1;
}

/**
 * numamig_handoff_ioctl() - NUMAMIG_IOC_HUGE for one job
 * @job:  the job (a reference held).
 * @file: the caller's file: the first call makes it the mover.
 * @req:  the checked request; @req->count is set on success.
 *
 * Return: 0, -EINVAL, -EBUSY, -EFAULT or -EINTR (struct numamig_huge).
 */
int numamig_handoff_ioctl(struct numamig_job *job, const struct file *file,
			  struct numamig_huge *req)
{
	struct numamig_handoff *h = &job->handoff;
	u64 __user *uaddr = u64_to_user_ptr(req->addrs_ptr);
	int ret = 0;

	if (!(job->flags & NUMAMIG_MIGRATE_KEEP_HUGE) ||
	    req->capacity < NUMAMIG_HUGE_BATCH)
		return -EINVAL;

	mutex_lock(&h->lock);
	if (h->mover && h->mover != file) {
		ret = -EBUSY;
		goto out_unlock;
	}
	if (!h->mover && !h->lost)
		h->mover = file;
	if (req->flags & NUMAMIG_HUGE_RESULT) {
		ret = numamig_handoff_results(h, req);
		if (ret < 0)
			goto out_unlock;
	}
	mutex_unlock(&h->lock);
	wake_up_all(&h->wq);

	if (wait_event_interruptible(h->wq,
				     READ_ONCE(h->state) == NUMAMIG_HANDOFF_READY ||
				     READ_ONCE(h->lost) ||
				     READ_ONCE(h->mover) != file))
		return -EINTR;

	mutex_lock(&h->lock);
	req->count = 0;		/* the job ended, or it split without us */
	ret = 0;
	if (h->state == NUMAMIG_HANDOFF_READY && h->mover == file) {
		if (copy_to_user(uaddr, h->addr, h->nr * sizeof(*h->addr))) {
			ret = -EFAULT;
			goto out_unlock;
		}
		h->state = NUMAMIG_HANDOFF_TAKEN;
		req->count = h->nr;
	}
out_unlock:
	mutex_unlock(&h->lock);
	return ret;
}
