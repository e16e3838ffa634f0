// SPDX-License-Identifier: GPL-2.0
/*
 * The job registry and the life of a job: start, status, throttle
 * changes, cancel, wait, and the kthread each job runs on.
 *
 * Jobs are global, not tied to the file that started them, so that one
 * numamigctl run can start a job and a later one query or cancel it.
 * Finished jobs are kept for status until NUMAMIG_MAX_JOBS newer ones push
 * them out, oldest first.
 */
#define pr_fmt(fmt) "numamig: " fmt

#include <linux/kthread.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include "numamig.h"
#include "numamig_compat.h"

/* Protects numamig_jobs, numamig_nr_jobs and numamig_next_id. */
static DEFINE_MUTEX(numamig_jobs_lock);
static LIST_HEAD(numamig_jobs);		/* oldest first */
static unsigned int numamig_nr_jobs;
static u64 numamig_next_id = 1;		/* ids are never reused */

static bool numamig_state_final(u32 state)
{
	return state != NUMAMIG_STATE_RUNNING;
}

/* Last reference gone: join the thread (it has returned or never ran). */
static void numamig_job_release(struct kref *ref)
{
	struct numamig_job *job = container_of(ref, struct numamig_job, ref);

	if (job->thread) {
		kthread_stop(job->thread);
		put_task_struct(job->thread);
	}
	mmdrop(job->mm);
	kfree(job);
}

/**
 * numamig_job_put() - drop a reference taken by numamig_job_get()
 * @job: the job.
 */
void numamig_job_put(struct numamig_job *job)
{
	kref_put(&job->ref, numamig_job_release);
}

/**
 * numamig_job_get() - look a job up by id
 * @id: job id.
 *
 * Return: the job with a reference held, or NULL.
 */
struct numamig_job *numamig_job_get(u64 id)
{
	struct numamig_job *job;

	mutex_lock(&numamig_jobs_lock);
	list_for_each_entry(job, &numamig_jobs, list) {
		if (job->id == id) {
			kref_get(&job->ref);
			mutex_unlock(&numamig_jobs_lock);
			return job;
		}
	}
	mutex_unlock(&numamig_jobs_lock);
	return NULL;
}

static bool numamig_job_finished(struct numamig_job *job)
{
	bool done;

	spin_lock(&job->lock);
	done = numamig_state_final(job->st.state);
	spin_unlock(&job->lock);
	return done;
}

/*
 * Make room for one more job: push out the oldest finished job.
 * Called with numamig_jobs_lock held; the caller puts *evicted unlocked.
 */
static int numamig_jobs_make_room(struct numamig_job **evicted)
{
	struct numamig_job *job;

	*evicted = NULL;
	if (numamig_nr_jobs < NUMAMIG_MAX_JOBS)
		return 0;
	list_for_each_entry(job, &numamig_jobs, list) {
		if (numamig_job_finished(job)) {
			list_del(&job->list);
			numamig_nr_jobs--;
			*evicted = job;
			return 0;
		}
	}
	return -EBUSY;
}

/* The kthread: run the engine, publish the end, wake the waiters. */
static int numamig_job_thread(void *data)
{
	struct numamig_job *job = data;
	int error = 0;
	int state;

	state = numamig_migrate_run(job, &error);

	spin_lock(&job->lock);
	job->st.state = state;
	job->st.error = error;
	job->st.elapsed_ns = ktime_get_ns() - job->start_ns;
	spin_unlock(&job->lock);
	wake_up_all(&job->done_wq);
	numamig_handoff_end(job);
	return 0;
}

static struct numamig_job *numamig_job_alloc(const struct numamig_migrate *req,
					     struct mm_struct *mm)
{
	struct numamig_job *job;
	int node;

	job = kzalloc(sizeof(*job), GFP_KERNEL);
	if (!job)
		return NULL;
	kref_init(&job->ref);
	spin_lock_init(&job->lock);
	init_waitqueue_head(&job->kick_wq);
	init_waitqueue_head(&job->done_wq);
	numamig_handoff_init(&job->handoff);
	mmgrab(mm);
	job->mm = mm;
	job->pid = req->pid;
	job->dst = req->dst_node;
	job->policy = req->policy;
	job->flags = req->flags;
	job->group = req->group;
	job->batch_pages = req->batch_pages ?: NUMAMIG_DEFAULT_BATCH;
	job->cpu_pct = req->cpu_pct;
	job->sleep_ms = req->sleep_ms;
	if (!req->sleep_ms && !req->cpu_pct &&
	    !(req->flags & NUMAMIG_MIGRATE_SLEEP_SET))
		job->sleep_ms = NUMAMIG_DEFAULT_SLEEP;

	nodes_clear(job->src);
	for_each_node_state(node, N_MEMORY) {
		if (node == job->dst)
			continue;
		if ((req->flags & NUMAMIG_MIGRATE_ALL_SOURCES) ||
		    !memchr_inv(req->src_nodes, 0, sizeof(req->src_nodes)) ||
		    (req->src_nodes[node / 64] & BIT_ULL(node % 64)))
			node_set(node, job->src);
	}

	job->st.state = NUMAMIG_STATE_RUNNING;
	job->st.pid = job->pid;
	job->st.dst_node = job->dst;
	job->st.policy = job->policy;
	job->st.group = job->group;
	job->st.migrate_flags = job->flags;
	job->st.pages_remaining = numamig_mm_anon_pages(mm);
	job->start_ns = ktime_get_ns();
	return job;
}

/**
 * numamig_job_start() - register a job and start its thread
 * @req: the validated request.
 * @mm:  the target's mm (the caller keeps its own reference).
 * @id:  (out) the new job's id.
 *
 * Return: 0, -ENOMEM, -EBUSY (NUMAMIG_MAX_JOBS jobs running), or the
 * error of kthread creation.
 */
int numamig_job_start(const struct numamig_migrate *req, struct mm_struct *mm,
		      u64 *id)
{
	struct numamig_job *job, *evicted;
	struct task_struct *thread;
	int ret;

	job = numamig_job_alloc(req, mm);
	if (!job)
		return -ENOMEM;

	thread = kthread_create(numamig_job_thread, job, "numamig/%d",
				req->pid);
	if (IS_ERR(thread)) {
		ret = PTR_ERR(thread);
		goto err_free;
	}
	get_task_struct(thread);
	job->thread = thread;

	mutex_lock(&numamig_jobs_lock);
	ret = numamig_jobs_make_room(&evicted);
	if (ret) {
		mutex_unlock(&numamig_jobs_lock);
		goto err_free;	/* release stops the thread before it ran */
	}
	job->id = numamig_next_id++;
	job->st.job_id = job->id;
	list_add_tail(&job->list, &numamig_jobs);
	numamig_nr_jobs++;
	*id = job->id;
	wake_up_process(thread);
	mutex_unlock(&numamig_jobs_lock);

	if (evicted)
		numamig_job_put(evicted);
	return 0;

err_free:
	numamig_job_put(job);
	return ret;
}

/**
 * numamig_job_status() - a consistent copy of the job's status
 * @job: the job.
 * @st:  (out) the status; the caller keeps st->flags as given.
 */
void numamig_job_status(struct numamig_job *job, struct numamig_job_status *st)
{
	u64 flags = st->flags;

	spin_lock(&job->lock);
	*st = job->st;
	st->batch_pages = job->batch_pages;
	st->sleep_ms = job->sleep_ms;
	st->cpu_pct = job->cpu_pct;
	if (!numamig_state_final(st->state))
		st->elapsed_ns = ktime_get_ns() - job->start_ns;
	spin_unlock(&job->lock);
	st->flags = flags;
}

/**
 * numamig_job_publish() - make the engine's counters visible to status
 * @job: the job.
 * @st:  the engine's counters; state, identity and throttle are ignored.
 */
void numamig_job_publish(struct numamig_job *job,
			 const struct numamig_job_status *st)
{
	struct numamig_job_status *pub = &job->st;

	spin_lock(&job->lock);
	pub->pages_scanned = st->pages_scanned;
	pub->pages_referenced = st->pages_referenced;
	pub->pages_queued = st->pages_queued;
	pub->pages_migrated = st->pages_migrated;
	pub->pages_failed = st->pages_failed;
	pub->pages_remaining = st->pages_remaining;
	memcpy(pub->skipped, st->skipped, sizeof(pub->skipped));
	pub->thp_split = st->thp_split;
	pub->batches = st->batches;
	pub->rechecks = st->rechecks;
	pub->walk_done_ns = st->walk_done_ns;
	pub->cpu_ns = st->cpu_ns;
	pub->sleep_ns = st->sleep_ns;
	pub->huge_moved = st->huge_moved;
	pub->huge_pages = st->huge_pages;
	pub->huge_small = st->huge_small;
	pub->huge_split = st->huge_split;
	spin_unlock(&job->lock);
}

/* Wake the thread from its throttle sleep. */
static void numamig_job_kick(struct numamig_job *job)
{
	spin_lock(&job->lock);
	job->kicked = true;
	spin_unlock(&job->lock);
	wake_up(&job->kick_wq);
}

/**
 * numamig_job_should_stop() - has the job been cancelled or the module
 *                             asked to unload?
 * @job: the job, on its own thread.
 *
 * Return: true when the engine must stop at the next safe point.
 */
bool numamig_job_should_stop(struct numamig_job *job)
{
	return kthread_should_stop() || READ_ONCE(job->stop);
}

/**
 * numamig_job_cancel() - ask a job to stop
 * @job: the job.
 *
 * The job ends CANCELLED at its next safe point (between two spans of at
 * most 512 pages); a finished job is left alone.
 *
 * Return: 0.
 */
int numamig_job_cancel(struct numamig_job *job)
{
	WRITE_ONCE(job->stop, true);
	numamig_job_kick(job);
	return 0;
}

/**
 * numamig_job_set_throttle() - change n, t or the CPU budget of a job
 * @job: the job.
 * @req: the validated request.
 *
 * Return: 0, or -ESRCH when the job has finished.
 */
int numamig_job_set_throttle(struct numamig_job *job,
			     const struct numamig_throttle *req)
{
	spin_lock(&job->lock);
	if (numamig_state_final(job->st.state)) {
		spin_unlock(&job->lock);
		return -ESRCH;
	}
	if (req->flags & NUMAMIG_THROTTLE_BATCH)
		job->batch_pages = req->batch_pages;
	if (req->flags & NUMAMIG_THROTTLE_SLEEP)
		job->sleep_ms = req->sleep_ms;
	if (req->flags & NUMAMIG_THROTTLE_CPU)
		job->cpu_pct = req->cpu_pct;
	job->kicked = true;
	spin_unlock(&job->lock);
	wake_up(&job->kick_wq);
	return 0;
}

/**
 * numamig_job_wait() - sleep until a job finishes
 * @job:        the job.
 * @timeout_ms: 0 = poll, U64_MAX = forever.
 * @state:      (out) the state when the call returned.
 *
 * Return: 0 when finished, -ETIMEDOUT, or -EINTR on a signal.
 */
int numamig_job_wait(struct numamig_job *job, u64 timeout_ms, u32 *state)
{
	long left;
	int ret = 0;

	/* Beyond UINT_MAX ms (49 days) msecs_to_jiffies() cannot count. */
	if (timeout_ms >= UINT_MAX) {
		if (wait_event_interruptible(job->done_wq,
					     numamig_job_finished(job)))
			ret = -EINTR;
	} else if (timeout_ms) {
		unsigned int ms = timeout_ms;

		left = wait_event_interruptible_timeout(job->done_wq,
							numamig_job_finished(job),
							msecs_to_jiffies(ms));
		if (left < 0)
			ret = -EINTR;
	}
	spin_lock(&job->lock);
	*state = job->st.state;
	spin_unlock(&job->lock);
	if (!ret && !numamig_state_final(*state))
		ret = -ETIMEDOUT;
	return ret;
}

/**
 * numamig_job_list() - ids of the jobs held, oldest first
 * @ids:      array of @capacity entries (may be NULL if @capacity is 0).
 * @capacity: entries @ids can take.
 *
 * Return: the number of jobs held, which may exceed @capacity.
 */
u32 numamig_job_list(u64 *ids, u32 capacity)
{
	struct numamig_job *job;
	u32 n = 0;

	mutex_lock(&numamig_jobs_lock);
	list_for_each_entry(job, &numamig_jobs, list) {
		if (n < capacity)
			ids[n] = job->id;
		n++;
	}
	mutex_unlock(&numamig_jobs_lock);
	return n;
}

/**
 * numamig_jobs_shutdown() - cancel and join every job (module unload)
 */
void numamig_jobs_shutdown(void)
{
	struct numamig_job *job, *tmp;
	LIST_HEAD(jobs);

	mutex_lock(&numamig_jobs_lock);
	list_splice_init(&numamig_jobs, &jobs);
	numamig_nr_jobs = 0;
	mutex_unlock(&numamig_jobs_lock);

	list_for_each_entry(job, &jobs, list)
		numamig_job_cancel(job);
	list_for_each_entry_safe(job, tmp, &jobs, list) {
		list_del(&job->list);
		numamig_job_put(job);
	}
}

/**
 * numamig_jobs_drop_mover() - a file closed: jobs it moved huge pages for
 *                             split them from now on
 * @file: the file being released.
 */
void numamig_jobs_drop_mover(const struct file *file)
{
	struct numamig_job *job;

	mutex_lock(&numamig_jobs_lock);
	list_for_each_entry(job, &numamig_jobs, list)
		if (job->flags & NUMAMIG_MIGRATE_KEEP_HUGE)
			numamig_handoff_drop(job, file);
	mutex_unlock(&numamig_jobs_lock);
}
