/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * numamig - throttled, hot-first NUMA migration: the /dev/numamig ioctl uAPI.
 *
 * Rules that hold for every command:
 *  - The first ioctl on an open file must be NUMAMIG_IOC_API; every other
 *    command fails with EPROTO until it succeeded on that file.
 *  - Every struct has a fixed size, explicit padding and reserved fields.
 *    Padding, reserved fields and unknown flag bits must be zero, otherwise
 *    the call fails with EINVAL and changes nothing.
 *  - Fields marked (out) are ignored on input, so a struct may be reused.
 *    They are written back only when the call succeeds (exceptions:
 *    NUMAMIG_IOC_API and NUMAMIG_IOC_WAIT's ETIMEDOUT, see there).
 *  - Errors common to all commands: EFAULT (bad pointer), ENOTTY (unknown
 *    command), EPROTO (no handshake yet), EINVAL (reserved/padding/flags not
 *    zero, or a field out of range as documented per command).
 *  - Job ids are never reused while the module is loaded.  Finished jobs
 *    stay queryable until NUMAMIG_MAX_JOBS newer jobs push them out (oldest
 *    finished first), or until the module is unloaded.
 */
#ifndef _UAPI_LINUX_NUMAMIG_H
#define _UAPI_LINUX_NUMAMIG_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define NUMAMIG_DEVICE		"/dev/numamig"
#define NUMAMIG_API		1ULL	/* version of this header */
#define NUMAMIG_MAX_JOBS	256	/* jobs kept by the module, all states */
#define NUMAMIG_MAX_NODES	1024	/* bits in a node mask */
#define NUMAMIG_NODE_WORDS	(NUMAMIG_MAX_NODES / 64)

/* Feature bits, answered by NUMAMIG_IOC_API. */
#define NUMAMIG_FEATURE_CPU_BUDGET	(1ULL << 0) /* cpu_pct throttle */
#define NUMAMIG_FEATURE_MOVE_SHARED	(1ULL << 1) /* NUMAMIG_MIGRATE_MOVE_SHARED */
#define NUMAMIG_FEATURE_LOCALITY	(1ULL << 2) /* NUMAMIG_IOC_LOCALITY */
#define NUMAMIG_FEATURE_HOTCACHE	(1ULL << 3) /* NUMAMIG_IOC_HOTCACHE */
#define NUMAMIG_FEATURE_KEEP_HUGE	(1ULL << 4) /* NUMAMIG_IOC_HUGE */
#define NUMAMIG_FEATURES_ALL		((1ULL << 5) - 1)

/**
 * struct numamig_api - version and feature handshake
 * @api:      (in) NUMAMIG_API the caller was built with;
 *            (out) NUMAMIG_API of the module.
 * @features: (in) features the caller needs; (out) features the module has.
 * @ioctls:   (out) bit (1 << _NUMAMIG_x) set for every supported command.
 * @max_jobs: (out) NUMAMIG_MAX_JOBS of the module.
 * @reserved: must be zero.
 *
 * Errors: EINVAL when @api is 0 or newer than the module, when @features
 * asks for a bit the module lacks (the supported set is still written
 * back, so a caller can retry), or when @reserved is not zero.
 */
struct numamig_api {
	__u64 api;
	__u64 features;
	__u64 ioctls;
	__u64 max_jobs;
	__u64 reserved[4];
};

/* Policies: the order in which pages move (PAPERS.md, 000). */
enum numamig_policy {
	NUMAMIG_POLICY_EAGER = 0,	/* everything at once, no throttle */
	NUMAMIG_POLICY_PERIODICAL = 1,	/* address order, throttled */
	NUMAMIG_POLICY_SEVERE = 2,	/* referenced first, recheck rest */
	NUMAMIG_POLICY_MILD = 3,	/* referenced first, then the rest */
	NUMAMIG_POLICY_MAX = 4,
};

/* Defaults used when the corresponding field of numamig_migrate is 0. */
#define NUMAMIG_DEFAULT_BATCH	4096	/* pages per batch (16 MiB) */
#define NUMAMIG_DEFAULT_SLEEP	100	/* ms between batches */
#define NUMAMIG_MAX_BATCH	(1U << 24) /* pages */
#define NUMAMIG_MAX_SLEEP	60000	/* ms */

/*
 * numamig_migrate.flags
 * MOVE_SHARED: also move pages mapped by other processes (as
 *              MPOL_MF_MOVE_ALL); needs CAP_SYS_NICE.
 * ALL_SOURCES: ignore src_nodes: every node but dst_node.
 * SLEEP_SET:   sleep_ms is meant as given, 0 (no pause) included.
 * KEEP_HUGE:   hand large folios (THPs, PMD- or PTE-mapped; multi-size
 *              THPs) to a mover in user space that moves them whole with
 *              move_pages(2) (NUMAMIG_IOC_HUGE), in the job's order and
 *              under its throttle, instead of splitting them.  Without a
 *              mover the job splits them as without the flag.
 */
#define NUMAMIG_MIGRATE_MOVE_SHARED	(1ULL << 0)
#define NUMAMIG_MIGRATE_ALL_SOURCES	(1ULL << 1)
#define NUMAMIG_MIGRATE_SLEEP_SET	(1ULL << 2)
#define NUMAMIG_MIGRATE_KEEP_HUGE	(1ULL << 3)
#define NUMAMIG_MIGRATE_FLAGS_ALL	((1ULL << 4) - 1)

/**
 * struct numamig_migrate - start a migration job (NUMAMIG_IOC_MIGRATE)
 * @flags:       (in) NUMAMIG_MIGRATE_*.
 * @pid:         (in) target process, in the caller's pid namespace; all its
 *               threads share the mm that moves.
 * @dst_node:    (in) destination node: online and with memory.
 * @policy:      (in) enum numamig_policy.
 * @batch_pages: (in) n: pages per batch, 0 = NUMAMIG_DEFAULT_BATCH,
 *               at most NUMAMIG_MAX_BATCH.
 * @sleep_ms:    (in) t: sleep after each batch, at most NUMAMIG_MAX_SLEEP;
 *               0 = NUMAMIG_DEFAULT_SLEEP unless @cpu_pct or the SLEEP_SET
 *               flag is set.
 * @cpu_pct:     (in) 0 = use @sleep_ms; 1..100 = hold the job's thread to
 *               this percent of one CPU by sleeping in proportion to the
 *               measured cost of each batch (@sleep_ms then is ignored).
 * @group:       (in) 0, or an id the caller chooses to tie jobs together
 *               (e.g. every process of one cgroup); reported by status.
 * @src_nodes:   (in) bitmask of source nodes; all zero (or the
 *               ALL_SOURCES flag) = every node but @dst_node.  Must not
 *               contain @dst_node.
 * @reserved:    must be zero.
 * @job_id:      (out) id of the new job.
 *
 * The eager policy ignores @batch_pages, @sleep_ms and @cpu_pct.
 *
 * Errors: EINVAL (bad field, as above; pid <= 0), ESRCH (no such process,
 * or it has no mm: a kernel thread or a zombie; also when the caller's
 * root has no /proc of its pid namespace, which the rights check uses),
 * EPERM (the caller may not
 * ptrace-read the target; the target belongs to another user and the
 * caller lacks CAP_SYS_NICE; MOVE_SHARED without CAP_SYS_NICE), ENODEV
 * (@dst_node offline or without memory), EBUSY (NUMAMIG_MAX_JOBS jobs are
 * running), ENOMEM.
 */
struct numamig_migrate {
	__u64 flags;
	__s32 pid;
	__u32 dst_node;
	__u32 policy;
	__u32 batch_pages;
	__u32 sleep_ms;
	__u32 cpu_pct;
	__u64 group;
	__u64 src_nodes[NUMAMIG_NODE_WORDS];
	__u64 reserved[6];
	__u64 job_id;
};

/* Job states. */
enum numamig_state {
	NUMAMIG_STATE_RUNNING = 0,
	NUMAMIG_STATE_DONE = 1,		/* every page was tried */
	NUMAMIG_STATE_CANCELLED = 2,	/* NUMAMIG_IOC_CANCEL or rmmod */
	NUMAMIG_STATE_FAILED = 3,	/* see numamig_job_status.error */
	NUMAMIG_STATE_EXITED = 4,	/* the target exited (or exec'd) */
};

/* Why a page was not moved: index into numamig_job_status.skipped. */
enum numamig_skip {
	NUMAMIG_SKIP_FILE = 0,	  /* page cache of a private file mapping */
	NUMAMIG_SKIP_SHARED = 1,  /* MAP_SHARED, or mapped by another mm */
	NUMAMIG_SKIP_HUGETLB = 2, /* hugetlbfs mapping (base pages) */
	NUMAMIG_SKIP_PINNED = 3,  /* could not isolate: pinned, busy, locked */
	NUMAMIG_SKIP_NOMEM = 4,	  /* no free page on the destination node */
	NUMAMIG_SKIP_SWAPPED = 5, /* not present: swapped out or in flux */
	NUMAMIG_SKIP_SPECIAL = 6, /* VM_IO / VM_PFNMAP / VM_MIXEDMAP */
	NUMAMIG_SKIP_MAX = 8,	  /* size of the array: 7 reasons, 1 spare */
};

/**
 * struct numamig_job_status - one job (NUMAMIG_IOC_STATUS)
 * @job_id:           (in) the job.
 * @flags:            (in) must be zero.
 *
 * Everything below is (out):
 * @state:            enum numamig_state.
 * @error:            positive errno when @state is FAILED, else 0.
 * @pid:              target pid, in the starting caller's namespace.
 * @dst_node:         destination node.
 * @policy:           enum numamig_policy.
 * @batch_pages:      current n.
 * @sleep_ms:         current t.
 * @cpu_pct:          current CPU budget (0 = none).
 * @group:            group id given at start.
 * @migrate_flags:    numamig_migrate.flags given at start.
 * @pages_scanned:    present pages the walk looked at (all nodes).
 * @pages_referenced: pages found referenced by the walk.
 * @pages_queued:     pages found on a source node and queued to move.
 * @pages_migrated:   pages now on the destination node.
 * @pages_failed:     pages migrate_vma_pages() did not move (raced).
 * @pages_remaining:  pages queued and not yet tried; while the walk runs
 *                    it adds an estimate of the unwalked anonymous pages.
 * @skipped:          pages not moved, by enum numamig_skip.
 * @thp_split:        transparent huge pages split to be moved.
 * @batches:          batches migrated.
 * @rechecks:         severe: pages whose Accessed bit was rechecked.
 * @walk_done_ns:     time from start to the end of the first walk.
 * @elapsed_ns:       time since start (to the end when finished).
 * @cpu_ns:           CPU time the job's kernel thread consumed.
 * @sleep_ns:         time the thread slept for the throttle.
 * @huge_moved:       KEEP_HUGE: large folios the mover moved, still large
 *                    on the destination.
 * @huge_pages:       KEEP_HUGE: base pages in them (also in
 *                    @pages_migrated).
 * @huge_small:       KEEP_HUGE: large folios the mover moved that are
 *                    small on the destination (it had no free huge page:
 *                    move_pages(2) split them).
 * @huge_split:       KEEP_HUGE: large folios the mover could not move
 *                    (none came, it failed, the destination is outside
 *                    the target's cpuset): the job split and moved them
 *                    itself (PMD-mapped; also in @thp_split) or, for
 *                    PTE-mapped ones, counted them as pinned.
 * @reserved:         zero.
 */
struct numamig_job_status {
	__u64 job_id;
	__u64 flags;
	__u32 state;
	__s32 error;
	__s32 pid;
	__u32 dst_node;
	__u32 policy;
	__u32 batch_pages;
	__u32 sleep_ms;
	__u32 cpu_pct;
	__u64 group;
	__u64 migrate_flags;
	__u64 pages_scanned;
	__u64 pages_referenced;
	__u64 pages_queued;
	__u64 pages_migrated;
	__u64 pages_failed;
	__u64 pages_remaining;
	__u64 skipped[NUMAMIG_SKIP_MAX];
	__u64 thp_split;
	__u64 batches;
	__u64 rechecks;
	__u64 walk_done_ns;
	__u64 elapsed_ns;
	__u64 cpu_ns;
	__u64 sleep_ns;
	__u64 huge_moved;
	__u64 huge_pages;
	__u64 huge_small;
	__u64 huge_split;
	__u64 reserved[4];
};

/**
 * struct numamig_list - ids of the jobs the module holds (NUMAMIG_IOC_LIST)
 * @ids_ptr:  (in) user pointer to an array of @capacity __u64, or 0.
 * @capacity: (in) entries @ids_ptr can hold (0 to ask for the count).
 * @count:    (out) jobs held, even when more than @capacity; the first
 *            min(@count, @capacity) ids are written, oldest first.
 * @flags:    (in) must be zero.
 * @reserved: must be zero.
 *
 * Errors: EFAULT when @ids_ptr cannot take min(@count, @capacity) ids.
 */
struct numamig_list {
	__u64 ids_ptr;
	__u32 capacity;
	__u32 count;
	__u64 flags;
	__u64 reserved[3];
};

/**
 * struct numamig_job_ref - name one job (NUMAMIG_IOC_CANCEL)
 * @job_id:   (in) the job.
 * @flags:    (in) must be zero.
 * @reserved: must be zero.
 *
 * Cancelling a finished job succeeds and changes nothing.
 * Errors: ENOENT (no such job).
 */
struct numamig_job_ref {
	__u64 job_id;
	__u64 flags;
	__u64 reserved[2];
};

/* numamig_throttle.flags: which fields to change */
#define NUMAMIG_THROTTLE_BATCH	(1ULL << 0)
#define NUMAMIG_THROTTLE_SLEEP	(1ULL << 1)
#define NUMAMIG_THROTTLE_CPU	(1ULL << 2)
#define NUMAMIG_THROTTLE_FLAGS_ALL ((1ULL << 3) - 1)

/**
 * struct numamig_throttle - change the throttle of a job (NUMAMIG_IOC_SET)
 * @job_id:      (in) the job.
 * @flags:       (in) NUMAMIG_THROTTLE_*: at least one.
 * @batch_pages: (in) new n, 1..NUMAMIG_MAX_BATCH.
 * @sleep_ms:    (in) new t, 0..NUMAMIG_MAX_SLEEP.
 * @cpu_pct:     (in) new budget, 0 (off) ..100.
 * @__pad:       must be zero.
 * @reserved:    must be zero.
 *
 * Takes effect at once: a sleeping job wakes and uses the new values.
 * Errors: ENOENT (no such job), ESRCH (the job has finished), EINVAL.
 */
struct numamig_throttle {
	__u64 job_id;
	__u64 flags;
	__u32 batch_pages;
	__u32 sleep_ms;
	__u32 cpu_pct;
	__u32 __pad;
	__u64 reserved[2];
};

/**
 * struct numamig_wait - wait for a job to finish (NUMAMIG_IOC_WAIT)
 * @job_id:     (in) the job.
 * @timeout_ms: (in) 0 = do not block; 0xffffffff (about 49 days) or
 *              more = no timeout.
 * @flags:      (in) must be zero.
 * @state:      (out) the job's state when the call returned.
 * @__pad:      must be zero.
 * @reserved:   must be zero.
 *
 * Returns 0 once the job is no longer RUNNING.
 * Errors: ENOENT (no such job), ETIMEDOUT (still running at the timeout;
 * @state is written), EINTR (a signal arrived).
 */
struct numamig_wait {
	__u64 job_id;
	__u64 timeout_ms;
	__u64 flags;
	__u32 state;
	__u32 __pad;
	__u64 reserved[2];
};

/**
 * struct numamig_locality - where a process's anonymous pages are
 *                           (NUMAMIG_IOC_LOCALITY)
 * @pid:        (in) the process (same rights as NUMAMIG_IOC_MIGRATE).
 * @__pad:      must be zero.
 * @flags:      (in) NUMAMIG_LOCALITY_*.
 * @nr_nodes:   (out) nodes covered by the arrays (highest possible + 1,
 *              at most NUMAMIG_LOCALITY_NODES: pages on nodes 64 and up
 *              are not counted).
 * @__pad2:     zero.
 * @pages:      (out) present anonymous pages per node (also the copied-on-
 *              write pages of private file mappings).
 * @referenced: (out) of those, pages with the Accessed bit or
 *              PG_referenced set.
 * @reserved:   must be zero.
 *
 * Read-only: Accessed bits are tested, not cleared, unless
 * NUMAMIG_LOCALITY_CLEAR is given (then "referenced" means "since the
 * last CLEAR", which is how numamigctl locality samples the hot set).
 * Errors: as NUMAMIG_IOC_MIGRATE for @pid.
 */
#define NUMAMIG_LOCALITY_NODES	64
#define NUMAMIG_LOCALITY_CLEAR	(1ULL << 0)
#define NUMAMIG_LOCALITY_FLAGS_ALL ((1ULL << 1) - 1)
struct numamig_locality {
	__s32 pid;
	__u32 __pad;
	__u64 flags;
	__u32 nr_nodes;
	__u32 __pad2;
	__u64 pages[NUMAMIG_LOCALITY_NODES];
	__u64 referenced[NUMAMIG_LOCALITY_NODES];
	__u64 reserved[4];
};

/*
 * Page-cache dumps (NUMAMIG_IOC_HOTCACHE).
 *
 * A dump is a stream of file records, each 8-byte aligned:
 *   struct numamig_hc_file, then path_len bytes of path (NUL included),
 *   zero-padded to 8 bytes, then nr_ranges struct numamig_hc_range.
 * rec_size is the whole record's size.  Ranges are runs of cached pages of
 * one class, in index order.  Classes:
 *   ACTIVE:     hot.  Classic LRU: PG_active.  Multi-gen LRU: the folio was
 *               accessed more than once through the file (PG_workingset or
 *               a tier count), i.e. it would be promoted on aging.
 *   REFERENCED: inactive, accessed once since it was last aged
 *               (PG_referenced).
 *   INACTIVE:   resident, not referenced.
 * Reading the flags neither takes a folio reference nor changes LRU state.
 */
enum numamig_cache_class {
	NUMAMIG_CACHE_ACTIVE = 0,
	NUMAMIG_CACHE_REFERENCED = 1,
	NUMAMIG_CACHE_INACTIVE = 2,
	NUMAMIG_CACHE_CLASSES = 3,
};

/*
 * numamig_hc_file.flags: OPEN, the target has the file open; MAPPED, it
 * maps it; DELETED, unlinked (nlink == 0); CONTINUED, more ranges of this
 * file follow in the next record (the same file, same identity).
 */
#define NUMAMIG_HC_OPEN		(1U << 0)
#define NUMAMIG_HC_MAPPED	(1U << 1)
#define NUMAMIG_HC_DELETED	(1U << 2)
#define NUMAMIG_HC_CONTINUED	(1U << 3)

/**
 * struct numamig_hc_file - one file of a page-cache dump
 * @rec_size:   bytes of the whole record (header, path, ranges).
 * @path_len:   bytes of the path, NUL included.  The path is d_path()
 *              from the caller's root; " (deleted)" ends it for an
 *              unlinked file.  A file the caller cannot reach from its
 *              root (another mount namespace) is named from the top of
 *              that namespace's mount tree: the target's own view for a
 *              container whose root was set with pivot_root (runc) on a
 *              host that is not itself chrooted.
 * @dev:        st_dev as stat(2) reports it.
 * @ino:        st_ino.
 * @size:       st_size, bytes.
 * @mtime_sec:  st_mtim.tv_sec.
 * @mtime_nsec: st_mtim.tv_nsec.
 * @flags:      NUMAMIG_HC_*.
 * @nr_ranges:  ranges in this record.
 * @pages:      cached pages per class in this record's ranges.
 * @dirty:      of those, dirty pages.
 * @writeback:  of those, pages under writeback.
 * @reserved:   zero.
 */
struct numamig_hc_file {
	__u32 rec_size;
	__u32 path_len;
	__u64 dev;
	__u64 ino;
	__u64 size;
	__s64 mtime_sec;
	__u32 mtime_nsec;
	__u32 flags;
	__u64 nr_ranges;
	__u64 pages[NUMAMIG_CACHE_CLASSES];
	__u64 dirty;
	__u64 writeback;
	__u64 reserved[2];
};

/**
 * struct numamig_hc_range - cached pages [start, start + npages) of a file
 * @start:  first page index (file offset / page size).
 * @npages: pages in the run.
 * @class:  enum numamig_cache_class.
 */
struct numamig_hc_range {
	__u64 start;
	__u32 npages;
	__u32 class;
};

/* numamig_hotcache.flags */
#define NUMAMIG_HOTCACHE_FD	(1ULL << 0) /* dump the caller's @fd, not @pid */
#define NUMAMIG_HOTCACHE_SYNC	(1ULL << 1) /* fsync each file first */
#define NUMAMIG_HOTCACHE_FLAGS_ALL ((1ULL << 2) - 1)
#define NUMAMIG_HOTCACHE_MIN_BUF 8192	/* bytes: one record always fits */

/**
 * struct numamig_hotcache - dump the page cache of a process's files
 *                           (NUMAMIG_IOC_HOTCACHE)
 * @flags:     (in) NUMAMIG_HOTCACHE_*.
 * @pid:       (in) target: its open files and file mappings, each file
 *             once (open files in fd order, then mappings in address
 *             order); 0 with NUMAMIG_HOTCACHE_FD.
 * @fd:        (in) with NUMAMIG_HOTCACHE_FD: a file of the caller; else 0.
 * @buf_ptr:   (in) user buffer for records.
 * @buf_size:  (in) its size, at least NUMAMIG_HOTCACHE_MIN_BUF.
 * @cursor:    (in/out) where the dump goes on: {0, 0} to start; pass back
 *             what the previous call returned.  {file number, page index}.
 * @bytes:     (out) bytes of records written.
 * @nr_files:  (out) records written.
 * @done:      (out) 1 when the dump is complete, 0 if more calls are needed.
 * @reserved:  must be zero.
 *
 * Each call rebuilds the target's file list, so a file opened or closed
 * between calls may shift the numbering: a dump is exact for a stopped
 * target (e.g. frozen by CRIU), best effort for a running one.  No lock is
 * held while records are copied out.  A target that has exited (a
 * zombie) has no files or mappings left: its dump is empty and done.
 *
 * Errors: EINVAL (fields), EFAULT, ESRCH/EPERM as NUMAMIG_IOC_MIGRATE,
 * EBADF (@fd is not open, negative included), ENOMEM.
 */
struct numamig_hotcache {
	__u64 flags;
	__s32 pid;
	__s32 fd;
	__u64 buf_ptr;
	__u64 buf_size;
	__u64 cursor[2];
	__u64 bytes;
	__u32 nr_files;
	__u32 done;
	__u64 reserved[4];
};

/*
 * The most large folios one NUMAMIG_IOC_HUGE hand-off holds, and the
 * least numamig_huge.capacity.
 */
#define NUMAMIG_HUGE_BATCH	256

/* numamig_huge.flags */
#define NUMAMIG_HUGE_RESULT	(1ULL << 0) /* @status_ptr holds results */
#define NUMAMIG_HUGE_FLAGS_ALL	((1ULL << 1) - 1)

/**
 * struct numamig_huge - be a KEEP_HUGE job's mover (NUMAMIG_IOC_HUGE)
 * @job_id:     (in) a job started with NUMAMIG_MIGRATE_KEEP_HUGE.
 * @flags:      (in) NUMAMIG_HUGE_*.
 * @addrs_ptr:  (in) user pointer to @capacity __u64: (out) one address in
 *              each large folio to move, in the target's address space.
 * @status_ptr: (in) user pointer to @capacity __s32: with
 *              NUMAMIG_HUGE_RESULT, (in) for each address of the previous
 *              hand-off what move_pages(2) reported: the node the folio
 *              is on now, or a negative errno.
 * @capacity:   (in) entries each array holds, >= NUMAMIG_HUGE_BATCH.
 * @count:      (in) with NUMAMIG_HUGE_RESULT: the previous hand-off's
 *              count; (out) addresses written, 0 when the job finished.
 * @reserved:   must be zero.
 *
 * The first call makes the calling file the job's mover; the job waits
 * for one (a few seconds) before it moves its first large folio, and
 * splits large folios itself once its mover closed the file or stalled.
 * Each call returns the results of the last hand-off (if any), then
 * sleeps until the job hands over the next folios, which the caller
 * moves with move_pages(2) to the job's node, or until the job ends.
 *
 * Errors: ENOENT (no such job), EINVAL (the job has no KEEP_HUGE, unknown
 * flags, non-zero @reserved, @capacity too small, a result whose @count
 * is not the hand-off's), EBUSY (another file is the job's mover), EFAULT,
 * EINTR (a signal; nothing is lost: call again).
 */
struct numamig_huge {
	__u64 job_id;
	__u64 flags;
	__u64 addrs_ptr;
	__u64 status_ptr;
	__u32 capacity;
	__u32 count;
	__u64 reserved[3];
};

#define NUMAMIG_IOC_MAGIC	0xB7

enum {
	_NUMAMIG_API = 0x00,
	_NUMAMIG_MIGRATE = 0x01,
	_NUMAMIG_STATUS = 0x02,
	_NUMAMIG_LIST = 0x03,
	_NUMAMIG_CANCEL = 0x04,
	_NUMAMIG_SET = 0x05,
	_NUMAMIG_WAIT = 0x06,
	_NUMAMIG_LOCALITY = 0x07,
	_NUMAMIG_HOTCACHE = 0x08,
	_NUMAMIG_HUGE = 0x09,
};

#define NUMAMIG_IOC_API \
	_IOWR(NUMAMIG_IOC_MAGIC, _NUMAMIG_API, struct numamig_api)
#define NUMAMIG_IOC_MIGRATE \
	_IOWR(NUMAMIG_IOC_MAGIC, _NUMAMIG_MIGRATE, struct numamig_migrate)
#define NUMAMIG_IOC_STATUS \
	_IOWR(NUMAMIG_IOC_MAGIC, _NUMAMIG_STATUS, struct numamig_job_status)
#define NUMAMIG_IOC_LIST \
	_IOWR(NUMAMIG_IOC_MAGIC, _NUMAMIG_LIST, struct numamig_list)
#define NUMAMIG_IOC_CANCEL \
	_IOW(NUMAMIG_IOC_MAGIC, _NUMAMIG_CANCEL, struct numamig_job_ref)
#define NUMAMIG_IOC_SET \
	_IOW(NUMAMIG_IOC_MAGIC, _NUMAMIG_SET, struct numamig_throttle)
#define NUMAMIG_IOC_WAIT \
	_IOWR(NUMAMIG_IOC_MAGIC, _NUMAMIG_WAIT, struct numamig_wait)
#define NUMAMIG_IOC_LOCALITY \
	_IOWR(NUMAMIG_IOC_MAGIC, _NUMAMIG_LOCALITY, struct numamig_locality)
#define NUMAMIG_IOC_HOTCACHE \
	_IOWR(NUMAMIG_IOC_MAGIC, _NUMAMIG_HOTCACHE, struct numamig_hotcache)
#define NUMAMIG_IOC_HUGE \
	_IOWR(NUMAMIG_IOC_MAGIC, _NUMAMIG_HUGE, struct numamig_huge)

#endif /* _UAPI_LINUX_NUMAMIG_H */
