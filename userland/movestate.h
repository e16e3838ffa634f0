/* SPDX-License-Identifier: GPL-2.0 */
/*
 * numamigctl: the state of container moves, kept under /run/numamig/moves.
 *
 * A move ("numamigctl move") spans several jobs and several cpuset writes
 * and outlives the numamigctl that started it, so its state lives in a
 * file, mN, written only by whoever holds mN.lock (flock): the move's
 * helper process while it runs.  A lock that can be taken while the state
 * still says "running" means the helper died: any later numamigctl then
 * takes over (move_recover()).
 */
#ifndef NMCTL_MOVESTATE_H
#define NMCTL_MOVESTATE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <linux/numamig.h>

#include "cpuset.h"

/*
 * The group id (struct numamig_migrate.group) of every job of move "mN":
 * this tag bit or'ed with N, so that any numamigctl can tell a job's move.
 */
#define NMCTL_MOVE_GROUP_TAG	(1ULL << 63)
#define NMCTL_MOVE_GROUP(n)	(NMCTL_MOVE_GROUP_TAG | (unsigned long long)(n))

/* How far a move got: what a rollback has to undo. */
enum move_phase {
	MOVE_PREPARED = 0,	/* nothing written yet */
	MOVE_CPUS_SET = 1,	/* cpuset.cpus is the destination's */
	MOVE_MEMS_WIDE = 2,	/* cpuset.mems is old + destination */
	MOVE_MIGRATING = 3,	/* jobs started */
	MOVE_NARROWED = 4,	/* cpuset.mems is the destination: the end */
};

enum move_result {
	MOVE_RUNNING = 0,
	MOVE_DONE,
	MOVE_FAILED,
	MOVE_CANCELLED,
};

struct move_job {
	__u64 job;
	pid_t pid;
	bool dropped;	/* its process left the cgroup: cancelled by us */
};

struct move_state {
	unsigned int id;
	enum move_phase phase;
	enum move_result result;
	char reason[256];		/* why it failed, "" otherwise */
	char cgroup[PATH_MAX];
	char container[256];		/* the id the user gave, or "" */
	struct cpuset cs;
	/* The files before the move: what cancel and failure put back. */
	char old_cpus[CPUSET_LIST_MAX];
	char old_mems[CPUSET_LIST_MAX];
	int old_memory_migrate;		/* v1 only, else -1 */
	char new_cpus[CPUSET_LIST_MAX];	/* "" when the CPUs stay */
	char wide_mems[CPUSET_LIST_MAX];
	unsigned int to;
	struct numamig_migrate req;	/* the job template: policy, throttle */
	pid_t helper;
	unsigned int rounds;		/* helper rounds so far */
	long long started, ended;	/* CLOCK_REALTIME seconds */
	size_t nr_jobs;
	struct move_job *jobs;
	size_t nr_covered;		/* pids that share a moved mm */
	pid_t *covered;
};

/* The state directory: $NUMAMIGCTL_STATE_DIR, else /run/numamig/moves. */
const char *move_dir(void);

/* "m7" -> 7.  Return: 0, or -1 when @s is not a move id. */
int move_parse_id(const char *s, unsigned int *id);
bool move_is_id(const char *s);

/* A new move id, and the state directory if missing.  Return: 0 or -errno. */
int move_new_id(unsigned int *id);

/* Load/store mN.  Return: 0 or -errno (-ENOENT: no such move). */
int move_load(unsigned int id, struct move_state *m);
int move_save(const struct move_state *m);
void move_free(struct move_state *m);

/* Every move on file, by id.  *ids malloc'ed. */
int move_ids(unsigned int **ids, size_t *n);

/*
 * Take mN.lock: @wait blocks until the holder is gone.  Return: the lock
 * fd (close it to let go), -EWOULDBLOCK when held, or another -errno.
 */
int move_lock(unsigned int id, bool wait);

/* Ask a running move to stop (the helper polls for it). */
int move_request_cancel(unsigned int id);
bool move_cancel_requested(unsigned int id);

/*
 * Start the helper that carries move @m out, detached from this process
 * (it survives SIGKILL of its starter), handing it @lockfd, which this
 * process then closes.  Return: 0 or -errno.
 */
int move_spawn_helper(struct move_state *m, int lockfd);

/*
 * Resume every move whose helper died (its lock is free but its state
 * says running) with a new helper.  Cheap when there is none.
 */
void move_recover(void);

/*
 * Forget ended moves but the newest @keep (their files), as the module
 * forgets finished jobs: "list" stays short on a machine that moves often.
 */
void move_prune(size_t keep);

int move_add_job(struct move_state *m, __u64 job, pid_t pid);
int move_add_covered(struct move_state *m, pid_t pid);

const char *move_result_name(enum move_result r);

/* The polling pause of the helper and of the commands that watch it. */
void movestate_sleep_ms(unsigned int ms);

#endif
