/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the parts of the module share: the job, the job
 * registry, the migration engine, the page-table walker and target lookup.
 */
#ifndef _NUMAMIG_H
#define _NUMAMIG_H

#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mm_types.h>
#include <linux/mutex.h>
#include <linux/nodemask.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/numamig.h>	/* from ../uapi: the ioctl contract */

/**
 * struct numamig_handoff - large folios handed to a KEEP_HUGE job's mover
 * @lock:   protects every field below (a mutex: the mover copies to user
 *          space under it).
 * @mover:  the file that claimed the job (identity only, never
 *          dereferenced), or NULL.
 * @lost:   no mover came, or it closed its file or stalled: the engine
 *          moves large folios itself from then on.
 * @state:  NUMAMIG_HANDOFF_*.
 * @nr:     entries of the current hand-off.
 * @addr:   one address per folio, for the mover.
 * @status: per entry, what the mover's move_pages(2) reported.
 * @wq:     the engine waits here for results, the mover for folios.
 */
struct numamig_handoff {
	struct mutex lock;	/* everything in this struct */
	const struct file *mover;
	bool lost;
	u32 state;
	u32 nr;
	u64 addr[NUMAMIG_HUGE_BATCH];
	s32 status[NUMAMIG_HUGE_BATCH];
	wait_queue_head_t wq;
};

/* numamig_handoff.state */
#define NUMAMIG_HANDOFF_IDLE	0	/* nothing to move */
#define NUMAMIG_HANDOFF_READY	1	/* folios wait for the mover */
#define NUMAMIG_HANDOFF_TAKEN	2	/* the mover is moving them */
#define NUMAMIG_HANDOFF_DONE	3	/* results are in */

/**
 * struct numamig_job - one migration of one mm to one node
 * @list:     entry in the registry; protected by numamig_jobs_lock.
 * @ref:      users: the registry holds one, each ioctl in flight one.  The
 *            thread holds none: release joins it with kthread_stop().
 * @id:       job id, set once by the registry, then read-only.
 * @thread:   the job's kthread (a task reference is held).
 * @mm:       the target's mm, held with mmgrab(): the address space itself
 *            may go away (the target exits), which the engine notices.
 * @pid:      target pid as the starter named it (for reports only).
 * @dst:      destination node.
 * @src:      source nodes.
 * @policy:   enum numamig_policy.
 * @flags:    numamig_migrate.flags.
 * @group:    numamig_migrate.group.
 * @lock:     protects @batch_pages, @sleep_ms, @cpu_pct, @kicked and @st.
 * @batch_pages: n, may change while the job runs.
 * @sleep_ms: t, may change while the job runs.
 * @cpu_pct:  CPU budget in percent of one CPU, 0 = off.
 * @kicked:   the throttle changed or a stop was asked: end the sleep.
 * @st:       the status the job last published.
 * @stop:     cancel requested; read locklessly by the engine.
 * @kick_wq:  the thread sleeps here between batches.
 * @done_wq:  NUMAMIG_IOC_WAIT callers sleep here until @st.state changes.
 * @start_ns: ktime of the start, read-only.
 * @handoff:  KEEP_HUGE jobs: the exchange with the mover.
 */
struct numamig_job {
	struct list_head list;
	struct kref ref;
	u64 id;
	struct task_struct *thread;
	struct mm_struct *mm;
	pid_t pid;
	int dst;
	nodemask_t src;
	u32 policy;
	u64 flags;
	u64 group;

	spinlock_t lock;	/* throttle, @kicked, @st */
	u32 batch_pages;
	u32 sleep_ms;
	u32 cpu_pct;
	bool kicked;
	struct numamig_job_status st;

	bool stop;
	wait_queue_head_t kick_wq;
	wait_queue_head_t done_wq;
	u64 start_ns;
	struct numamig_handoff handoff;
};

/* job.c: the registry and the life of a job */
int numamig_job_start(const struct numamig_migrate *req, struct mm_struct *mm,
		      u64 *id);
struct numamig_job *numamig_job_get(u64 id);
void numamig_job_put(struct numamig_job *job);
void numamig_job_status(struct numamig_job *job, struct numamig_job_status *st);
int numamig_job_cancel(struct numamig_job *job);
int numamig_job_set_throttle(struct numamig_job *job,
			     const struct numamig_throttle *req);
int numamig_job_wait(struct numamig_job *job, u64 timeout_ms, u32 *state);
u32 numamig_job_list(u64 *ids, u32 capacity);
bool numamig_job_should_stop(struct numamig_job *job);
void numamig_job_publish(struct numamig_job *job,
			 const struct numamig_job_status *st);
void numamig_jobs_shutdown(void);
void numamig_jobs_drop_mover(const struct file *file);

/* handoff.c: large folios moved whole by a mover in user space */
void numamig_handoff_init(struct numamig_handoff *h);
int numamig_handoff_move(struct numamig_job *job, const unsigned long *addr,
			 u32 nr, s32 *status);
void numamig_handoff_end(struct numamig_job *job);
bool numamig_handoff_drop(struct numamig_job *job, const struct file *file);
int numamig_handoff_ioctl(struct numamig_job *job, const struct file *file,
			  struct numamig_huge *req);

/* migrate.c: the engine, run on the job's thread */
int numamig_migrate_run(struct numamig_job *job, int *error);

/* pgwalk.c: page-table walking shared by the engine and locality */

/* What a walk callback learns about one present, normal page. */
struct numamig_pte_info {
	unsigned long addr;
	struct page *page;
	int nid;
	bool young;		/* PTE/PMD Accessed bit (cleared if asked) */
	bool referenced;	/* young || PG_referenced */
	unsigned int nr;	/* base pages: 1, or HPAGE_PMD_NR for a THP */
	bool thp;
	bool anon;		/* an anonymous page (else: page cache) */
};

/**
 * typedef numamig_page_fn - called for each present page of a range
 * @info: the page; valid only during the call, under the PTE lock (or,
 *        for a THP, without a lock: only flags and node are read).
 * @data: the caller's cookie.
 *
 * Return: 0 to go on, non-zero to stop the walk (returned by it).
 */
typedef int (*numamig_page_fn)(const struct numamig_pte_info *info,
			       void *data);

/* numamig_walk_range() flags */
#define NUMAMIG_WALK_CLEAR_YOUNG	BIT(0)	/* test-and-clear Accessed */
#define NUMAMIG_WALK_ANON_ONLY		BIT(1)	/* leave page-cache pages be */

int numamig_walk_range(struct mm_struct *mm, unsigned long start,
		       unsigned long end, unsigned int flags,
		       numamig_page_fn fn, void *data,
		       unsigned long *not_present);
bool numamig_vma_migratable(struct vm_area_struct *vma);
int numamig_vma_skip_reason(struct vm_area_struct *vma);
void numamig_mmap_yield(struct mm_struct *mm);

/* target.c: who may be targeted */
int numamig_target_task(pid_t pid, struct task_struct **taskp);
int numamig_target_mm(pid_t pid, bool move_shared, struct mm_struct **mmp);

/* hotcache.c */
int numamig_hotcache(struct numamig_hotcache *req);

/* locality.c */
int numamig_locality(struct numamig_locality *loc);

#endif /* _NUMAMIG_H */
