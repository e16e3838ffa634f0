// SPDX-License-Identifier: GPL-2.0
/*
 * The migration engine: walk a job's mm, queue the pages that
 * are on a source node, and move them n at a time with a sleep of t ms in
 * between (PAPERS.md, 000).
 *
 * Two address lists, as in the paper: @hot (the paper's pagelist: moved as
 * soon as it holds n pages) and @rem (the remlist: moved after the walk).
 * Periodical and eager queue every page on @hot; mild and severe queue only
 * referenced pages there.  Lists hold virtual addresses, not struct pages,
 * so nothing is pinned between batches and a page that went away is simply
 * not found again.
 *
 * Pages move with the exported migrate_vma_*() calls, one span of
 * consecutive pages inside one PMD at a time: the cost of a span is paid
 * per page in it, and spans keep unrelated pages out of the unmap.
 *
 * KEEP_HUGE jobs queue large folios on lists of their own (@hot_l,
 * @rem_l: one entry per folio, in the same hot/rem order) and hand them
 * to the mover in user space (handoff.c), which moves them whole.
 */
#define pr_fmt(fmt) "numamig: " fmt

#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/timekeeping.h>
#include "numamig.h"
#include "numamig_compat.h"

#define NUMAMIG_SPAN_PAGES	(PMD_SIZE >> PAGE_SHIFT)
#define NUMAMIG_STEP_BYTES	(64UL << 20)	/* VA walked per lock hold */
#define NUMAMIG_EAGER_BATCH	8192		/* pages between reschedules */
#define NUMAMIG_WINDOW_MIN_MS	50		/* hot-page sampling window */
#define NUMAMIG_WINDOW_MAX_MS	1000
#define NUMAMIG_LIST_MIN	1024

/* Destination pages: never wake the OOM killer, never warn. */
#define NUMAMIG_GFP (GFP_HIGHUSER_MOVABLE | __GFP_THISNODE | \
		     __GFP_NORETRY | __GFP_NOWARN)

/* Walk callback results that stop a walk early. */
#define NUMAMIG_WALK_FULL	1	/* @hot holds a batch */
#define NUMAMIG_WALK_GROW	2	/* a list needs room: grow, resume */

struct numamig_addrs {
	unsigned long *addr;
	size_t nr;
	size_t cap;
};

/* A large folio, or the part of it one walk saw. */
struct numamig_large {
	unsigned long addr;		/* first page seen */
	const struct folio *folio;	/* identity only, never dereferenced */
	u32 nr;				/* pages queued */
	bool thp;			/* PMD-mapped */
};

struct numamig_larges {
	struct numamig_large *v;
	size_t nr;
	size_t cap;
	u64 pages;		/* sum of v[].nr */
};

/* Everything the engine thread owns; nobody else touches it. */
struct numamig_run {
	struct numamig_job *job;
	struct mm_struct *mm;
	struct numamig_job_status st;	/* counters, published by batch */
	struct numamig_addrs hot;
	struct numamig_addrs rem;
	size_t rem_head;		/* rem[0..rem_head) are done */
	struct numamig_larges hot_l;	/* KEEP_HUGE: hot large folios */
	struct numamig_larges rem_l;	/* KEEP_HUGE: the other ones */
	size_t rem_l_head;		/* rem_l.v[0..rem_l_head) are done */
	u64 rem_l_done;			/* pages in them */
	struct numamig_addrs *grow;	/* the list that asked for room */
	struct numamig_larges *grow_l;	/* or the large list that did */
	unsigned long resume;		/* where a stopped walk goes on */
	unsigned long cursor;		/* next address the walk looks at */
	bool walk_done;
	bool prioritized;		/* mild, severe */
	bool move_shared;
	bool keep_huge;			/* NUMAMIG_MIGRATE_KEEP_HUGE */
	bool gone;			/* the address space is gone */
	u32 batch;			/* n for the current batch */
	u64 cpu_start;
	u64 est_anon;			/* anon pages at start, an estimate */
	u64 batch_start_ns;
	unsigned long src_pfns[NUMAMIG_SPAN_PAGES];
	unsigned long dst_pfns[NUMAMIG_SPAN_PAGES];
	struct page *dpages[NUMAMIG_SPAN_PAGES];
	unsigned long split_addr[NUMAMIG_SPAN_PAGES];	/* a folio split */
	unsigned long h_addr[NUMAMIG_HUGE_BATCH];	/* one hand-off */
	s32 h_status[NUMAMIG_HUGE_BATCH];
};

static int numamig_addrs_reserve(struct numamig_addrs *a, size_t want)
{
	size_t cap = max_t(size_t, a->cap, NUMAMIG_LIST_MIN);
	unsigned long *addr;

	if (a->nr + want <= a->cap)
		return 0;
	while (cap < a->nr + want)
		cap *= 2;
	addr = kvmalloc_array(cap, sizeof(*addr), GFP_KERNEL | __GFP_NOWARN);
	if (!addr)
		return -ENOMEM;
	if (a->nr)
		memcpy(addr, a->addr, a->nr * sizeof(*addr));
	kvfree(a->addr);
	a->addr = addr;
	a->cap = cap;
	return 0;
}

static void numamig_addrs_free(struct numamig_addrs *a)
{
	kvfree(a->addr);
	a->addr = NULL;
	a->nr = 0;
	a->cap = 0;
}

static int numamig_larges_grow(struct numamig_larges *l)
{
	size_t cap = max_t(size_t, l->cap * 2, NUMAMIG_LIST_MIN);
	struct numamig_large *v;

	v = kvmalloc_array(cap, sizeof(*v), GFP_KERNEL | __GFP_NOWARN);
	if (!v)
		return -ENOMEM;
	if (l->nr)
		memcpy(v, l->v, l->nr * sizeof(*v));
	kvfree(l->v);
	l->v = v;
	l->cap = cap;
	return 0;
}

static void numamig_larges_free(struct numamig_larges *l)
{
	kvfree(l->v);
	memset(l, 0, sizeof(*l));
}

/* Pages waiting on @hot, small and large: what a batch is measured in. */
static u64 numamig_hot_pages(const struct numamig_run *run)
{
	return run->hot.nr + run->hot_l.pages;
}

/*
 * Does @hot hold a batch?  Eager does not throttle: its batch only bounds
 * the work between two reschedules, so its large folios go to the mover
 * as many at a time as one hand-off takes (each move_pages(2) call drains
 * every CPU's LRU caches and waits for an RCU grace period).
 */
static bool numamig_hot_full(const struct numamig_run *run)
{
	if (run->hot_l.nr >= NUMAMIG_HUGE_BATCH)
		return true;
	if (run->job->policy == NUMAMIG_POLICY_EAGER)
		return run->hot.nr >= run->batch;
	return numamig_hot_pages(run) >= run->batch;
}

/* Publish the counters so status shows progress. */
static void numamig_run_publish(struct numamig_run *run)
{
	u64 left = numamig_hot_pages(run) + (run->rem.nr - run->rem_head) +
		   (run->rem_l.pages - run->rem_l_done);

	if (!run->walk_done && run->est_anon > run->st.pages_scanned)
		left += run->est_anon - run->st.pages_scanned;
	run->st.pages_remaining = left;
	run->st.cpu_ns = numamig_thread_cpu_ns() - run->cpu_start;
	numamig_job_publish(run->job, &run->st);
}

static u32 numamig_run_batch(struct numamig_run *run)
{
	u32 batch;

	if (run->job->policy == NUMAMIG_POLICY_EAGER)
		return NUMAMIG_EAGER_BATCH;
	spin_lock(&run->job->lock);
	batch = run->job->batch_pages;
	spin_unlock(&run->job->lock);
	return batch;
}

static bool numamig_kicked(struct numamig_job *job)
{
	return READ_ONCE(job->kicked) || numamig_job_should_stop(job);
}

/*
 * Sleep for the throttle.  With a CPU budget the sleep is the batch's cost
 * scaled so that cost / (cost + sleep) = budget; the cost is wall time
 * since the last sleep, which is at least the CPU time, so the budget
 * holds even when the thread was preempted.  A throttle change or a cancel
 * ends the sleep at once.
 */
static void numamig_throttle(struct numamig_run *run, unsigned int min_ms)
{
	struct numamig_job *job = run->job;
	u64 now = ktime_get_ns();
	u64 cost = now - run->batch_start_ns;
	u64 sleep_ns;
	u32 pct;

	spin_lock(&job->lock);
	pct = job->cpu_pct;
	sleep_ns = (u64)job->sleep_ms * NSEC_PER_MSEC;
	job->kicked = false;
	spin_unlock(&job->lock);

	if (job->policy == NUMAMIG_POLICY_EAGER)
		sleep_ns = 0;
	else if (pct)
		sleep_ns = min_t(u64, div_u64(cost * (100 - pct), pct),
				 (u64)NUMAMIG_MAX_SLEEP * NSEC_PER_MSEC);
	sleep_ns = max_t(u64, sleep_ns, (u64)min_ms * NSEC_PER_MSEC);

	if (sleep_ns) {
		wait_event_interruptible_timeout(job->kick_wq,
						 numamig_kicked(job),
						 nsecs_to_jiffies(sleep_ns) + 1);
		run->st.sleep_ns += ktime_get_ns() - now;
	} else {
		cond_resched();
	}
	run->batch_start_ns = ktime_get_ns();
}

/* ---- moving pages ---- */

static unsigned int numamig_alloc_dst(struct numamig_run *run,
				      unsigned int npages)
{
	unsigned int i;

	for (i = 0; i < npages; i++) {
		run->dpages[i] = alloc_pages_node(run->job->dst, NUMAMIG_GFP,
						  0);
		if (!run->dpages[i])
			break;
	}
	return i;
}

/* Fill dst_pfns for the collected pages; returns how many will move. */
static unsigned int numamig_prepare_span(struct numamig_run *run,
					 unsigned int npages, bool hot)
{
	unsigned int i, moving = 0;
	struct page *spage, *dpage;

	for (i = 0; i < npages; i++) {
		unsigned long src = run->src_pfns[i];

		run->dst_pfns[i] = 0;
		spage = migrate_pfn_to_page(src);
		if (!(src & MIGRATE_PFN_MIGRATE)) {
			run->st.skipped[NUMAMIG_SKIP_PINNED]++;
			continue;
		}
		if (!spage) {		/* unmapped since the walk */
			run->st.skipped[NUMAMIG_SKIP_SWAPPED]++;
			continue;
		}
		/*
		 * The page is locked now, so these hold.  The address may map
		 * page cache by now (MADV_DONTNEED, then a read): never move
		 * that here.  A page under writeback (swap-out) would BUG in
		 * migrate_folio().
		 */
		if (!folio_test_anon(page_folio(spage))) {
			run->st.skipped[NUMAMIG_SKIP_FILE]++;
			continue;
		}
		if (folio_test_writeback(page_folio(spage))) {
			run->st.skipped[NUMAMIG_SKIP_PINNED]++;
			continue;
		}
		if (!node_isset(page_to_nid(spage), run->job->src))
			continue;	/* NUMA balancing was faster */
		dpage = run->dpages[i];
		run->dpages[i] = NULL;
		lock_page(dpage);
		copy_highpage(dpage, spage);
		/*
		 * 6.1 maps the new page with the Accessed bit clear; hand what
		 * the walk saw to reclaim through PG_referenced instead.
		 */
		if (hot)
			folio_set_referenced(page_folio(dpage));
		run->dst_pfns[i] = migrate_pfn(page_to_pfn(dpage));
		if (src & MIGRATE_PFN_WRITE)
			run->dst_pfns[i] |= MIGRATE_PFN_WRITE;
		moving++;
	}
	return moving;
}

/*
 * Move the pages of [start, start + npages) inside one VMA and one PMD.
 * Destination pages are allocated first, so a full node costs no unmap.
 * Called with mmap_read_lock held.
 */
static void numamig_migrate_span(struct numamig_run *run,
				 struct vm_area_struct *vma,
				 unsigned long start, unsigned int npages,
				 bool hot)
{
	struct migrate_vma args = {
		.vma = vma,
		.start = start,
		.src = run->src_pfns,
		.dst = run->dst_pfns,
		.flags = MIGRATE_VMA_SELECT_SYSTEM,
	};
	unsigned int got, i;

	got = numamig_alloc_dst(run, npages);
	if (got < npages) {
		run->st.skipped[NUMAMIG_SKIP_NOMEM] += npages - got;
		npages = got;
	}
	if (!npages)
		return;

	args.end = start + ((unsigned long)npages << PAGE_SHIFT);
	if (migrate_vma_setup(&args)) {
		run->st.pages_failed += npages;
		goto out_free;
	}
	numamig_prepare_span(run, npages, hot);
	migrate_vma_pages(&args);
	for (i = 0; i < npages; i++) {
		if (!run->dst_pfns[i])
			continue;
		if (run->src_pfns[i] & MIGRATE_PFN_MIGRATE)
			run->st.pages_migrated++;
		else
			run->st.pages_failed++;
	}
	migrate_vma_finalize(&args);
out_free:
	for (i = 0; i < npages; i++) {
		if (run->dpages[i])
			__free_page(run->dpages[i]);
		run->dpages[i] = NULL;
	}
}

static int numamig_cmp_addr(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a;
	unsigned long y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

/* Pages from addr[0] on that form one span: consecutive, same PMD. */
static unsigned int numamig_span_len(const unsigned long *addr, size_t nr,
				     unsigned long limit)
{
	unsigned int n = 1;

	while (n < nr && addr[n] == addr[n - 1] + PAGE_SIZE && addr[n] < limit)
		n++;
	return n;
}

/**
 * numamig_migrate_list() - move the pages at a sorted list of addresses
 * @run:  the engine.
 * @addr: page addresses, ascending.
 * @nr:   entries.
 * @hot:  the pages were found referenced.
 *
 * Return: entries dealt with; fewer than @nr when the job must stop or
 * the address space is gone.
 */
static size_t numamig_migrate_list(struct numamig_run *run,
				   const unsigned long *addr, size_t nr,
				   bool hot)
{
	struct mm_struct *mm = run->mm;
	struct vm_area_struct *vma;
	unsigned long limit;
	size_t i = 0;
	unsigned int n;

	if (!mmget_not_zero(mm)) {
		run->gone = true;
		return 0;
	}
	mmap_read_lock(mm);
	while (i < nr && !numamig_job_should_stop(run->job)) {
		vma = find_vma(mm, addr[i]);
		if (!vma || vma->vm_start > addr[i] ||
		    !numamig_vma_migratable(vma)) {
			run->st.skipped[NUMAMIG_SKIP_SWAPPED]++; /* unmapped */
			i++;
			continue;
		}
		limit = min(vma->vm_end, pmd_addr_end(addr[i], vma->vm_end));
		n = numamig_span_len(addr + i, nr - i, limit);
		numamig_migrate_span(run, vma, addr[i], n, hot);
		i += n;
		numamig_mmap_yield(mm);
	}
	mmap_read_unlock(mm);
	mmput(mm);
	return i;
}

/* ---- large folios (KEEP_HUGE) ---- */

/* Probe callback: what maps the first page of a moved folio now. */
struct numamig_probe {
	bool seen;
	bool large;
	int nid;
};

static int numamig_probe_page(const struct numamig_pte_info *info,
			      void *data)
{
	struct numamig_probe *p = data;

	p->seen = true;
	p->large = info->thp || folio_test_large(page_folio(info->page));
	p->nid = info->nid;
	return 1;
}

/* Count the folios the mover moved: still large on the destination? */
static void numamig_count_moved(struct numamig_run *run,
				const struct numamig_large *v, size_t k)
{
	struct mm_struct *mm = run->mm;
	struct vm_area_struct *vma;
	struct numamig_probe p;
	size_t j;

	if (!mmget_not_zero(mm))
		return;
	mmap_read_lock(mm);
	for (j = 0; j < k; j++) {
		if (run->h_status[j] != run->job->dst)
			continue;
		run->st.pages_migrated += v[j].nr;
		run->st.huge_pages += v[j].nr;
		memset(&p, 0, sizeof(p));
		vma = find_vma(mm, v[j].addr);
		if (vma && vma->vm_start <= v[j].addr)
			numamig_walk_range(mm, v[j].addr, v[j].addr + PAGE_SIZE,
					   0, numamig_probe_page, &p, NULL);
		if (p.seen && p.large)
			run->st.huge_moved++;
		else
			run->st.huge_small++;
	}
	mmap_read_unlock(mm);
	mmput(mm);
}

/* The mover could not move @e: split it here (migrate_vma does). */
static void numamig_split_large(struct numamig_run *run,
				const struct numamig_large *e, bool hot)
{
	u32 i;

	run->st.huge_split++;
	if (e->thp)
		run->st.thp_split++;
	for (i = 0; i < e->nr; i++)
		run->split_addr[i] = e->addr + i * PAGE_SIZE;
	numamig_migrate_list(run, run->split_addr, e->nr, hot);
}

/*
 * Hand @v[0..@nr) to the mover, NUMAMIG_HUGE_BATCH at a time, and split
 * what it did not move.  Called without mmap_lock.
 * Return: entries dealt with; fewer than @nr when the job must stop.
 */
static size_t numamig_move_larges(struct numamig_run *run,
				  const struct numamig_large *v, size_t nr,
				  bool hot)
{
	size_t i = 0, k, j;
	int ret;
	s32 s;

	while (i < nr && !numamig_job_should_stop(run->job) && !run->gone) {
		k = min_t(size_t, nr - i, NUMAMIG_HUGE_BATCH);
		for (j = 0; j < k; j++)
			run->h_addr[j] = v[i + j].addr;
		ret = numamig_handoff_move(run->job, run->h_addr, k,
					   run->h_status);
		if (ret == -EINTR)
			break;
		for (j = 0; j < k && ret; j++)
			run->h_status[j] = ret;
		numamig_count_moved(run, v + i, k);
		for (j = 0; j < k; j++) {
			s = run->h_status[j];
			if (s == run->job->dst)
				continue;
			if (s == -ENOENT || s == -EFAULT)	/* unmapped */
				run->st.skipped[NUMAMIG_SKIP_SWAPPED] += v[i + j].nr;
			else
				numamig_split_large(run, &v[i + j], hot);
		}
		i += k;
	}
	return i;
}

/* Entries of @l from @head whose pages make at most one batch (>= 1). */
static size_t numamig_larges_take(const struct numamig_larges *l, size_t head,
				  u32 batch)
{
	u64 pages = 0;
	size_t k = 0;

	while (head + k < l->nr && (!k || pages + l->v[head + k].nr <= batch)) {
		pages += l->v[head + k].nr;
		k++;
	}
	return k;
}

/* Move the whole @hot list as one batch. */
static void numamig_flush_hot(struct numamig_run *run)
{
	if (run->hot.nr) {
		sort(run->hot.addr, run->hot.nr, sizeof(unsigned long),
		     numamig_cmp_addr, NULL);
		numamig_migrate_list(run, run->hot.addr, run->hot.nr, true);
		run->hot.nr = 0;
	}
	if (run->hot_l.nr) {
		numamig_move_larges(run, run->hot_l.v, run->hot_l.nr, true);
		run->hot_l.nr = 0;
		run->hot_l.pages = 0;
	}
}

/* ---- walking ---- */

/* Walk callback part for a page of a large folio (KEEP_HUGE). */
static int numamig_collect_large(struct numamig_run *run,
				 const struct numamig_pte_info *info)
{
	struct numamig_larges *list = (run->prioritized && !info->referenced) ?
				      &run->rem_l : &run->hot_l;
	const struct folio *folio = page_folio(info->page);
	struct numamig_large *last = list->nr ? &list->v[list->nr - 1] : NULL;
	bool extend;

	/* A PTE-mapped folio shows up page by page: one entry for all. */
	extend = last && last->folio == folio &&
		 last->addr + (unsigned long)last->nr * PAGE_SIZE == info->addr &&
		 last->nr + info->nr <= NUMAMIG_SPAN_PAGES;
	if (!extend && list->nr == list->cap) {
		run->grow_l = list;
		run->resume = info->addr;
		return NUMAMIG_WALK_GROW;
	}
	run->st.pages_scanned += info->nr;
	if (info->referenced)
		run->st.pages_referenced += info->nr;
	if (!run->move_shared && numamig_page_shared(info->page)) {
		run->st.skipped[NUMAMIG_SKIP_SHARED] += info->nr;
		return 0;
	}
	if (extend) {
		last->nr += info->nr;
	} else {
		last = &list->v[list->nr++];
		last->addr = info->addr;
		last->folio = folio;
		last->nr = info->nr;
		last->thp = info->thp;
	}
	list->pages += info->nr;
	run->st.pages_queued += info->nr;
	run->resume = info->addr + info->nr * PAGE_SIZE;
	return numamig_hot_full(run) ? NUMAMIG_WALK_FULL : 0;
}

/* Walk callback: queue a page that is on a source node. */
static int numamig_collect_page(const struct numamig_pte_info *info,
				void *data)
{
	struct numamig_run *run = data;
	struct numamig_addrs *list;
	unsigned int i;

	if (!node_isset(info->nid, run->job->src)) {
		run->st.pages_scanned += info->nr;
		return 0;
	}
	if (!info->anon) {	/* page cache in a private file mapping */
		run->st.skipped[NUMAMIG_SKIP_FILE] += info->nr;
		return 0;
	}
	if (run->keep_huge &&
	    (info->thp || folio_test_large(page_folio(info->page))))
		return numamig_collect_large(run, info);
	list = (run->prioritized && !info->referenced) ? &run->rem : &run->hot;
	if (list->nr + info->nr > list->cap) {
		run->grow = list;
		run->resume = info->addr;
		return NUMAMIG_WALK_GROW;
	}
	run->st.pages_scanned += info->nr;
	if (info->referenced)
		run->st.pages_referenced += info->nr;
	if (!run->move_shared && numamig_page_shared(info->page)) {
		run->st.skipped[NUMAMIG_SKIP_SHARED] += info->nr;
		return 0;
	}
	if (info->thp)
		run->st.thp_split++;	/* migrate_vma_setup() splits it */
	for (i = 0; i < info->nr; i++)
		list->addr[list->nr++] = info->addr + i * PAGE_SIZE;
	run->st.pages_queued += info->nr;
	run->resume = info->addr + info->nr * PAGE_SIZE;
	return numamig_hot_full(run) ? NUMAMIG_WALK_FULL : 0;
}

/* Walk callback for mappings we do not move: count why. */
struct numamig_skip_ctx {
	struct numamig_run *run;
	int reason;
};

static int numamig_count_skipped(const struct numamig_pte_info *info,
				 void *data)
{
	struct numamig_skip_ctx *ctx = data;

	if (node_isset(info->nid, ctx->run->job->src))
		ctx->run->st.skipped[ctx->reason] += info->nr;
	return 0;
}

static void numamig_skip_vma(struct numamig_run *run,
			     struct vm_area_struct *vma,
			     unsigned long start, unsigned long end)
{
	struct numamig_skip_ctx ctx = {
		.run = run, .reason = numamig_vma_skip_reason(vma),
	};

	/* hugetlb PMDs are not THPs: report the mapping's size instead. */
	if (ctx.reason == NUMAMIG_SKIP_HUGETLB) {
		run->st.skipped[ctx.reason] += (end - start) >> PAGE_SHIFT;
		return;
	}
	if (vma->vm_flags & (VM_IO | VM_PFNMAP))
		return;
	numamig_walk_range(run->mm, start, end, 0, numamig_count_skipped,
			   &ctx, NULL);
}

/*
 * One step of the walk under one mmap_read_lock hold: at most
 * NUMAMIG_STEP_BYTES of address space, less when @hot fills up.
 */
static int numamig_walk_step(struct numamig_run *run)
{
	struct mm_struct *mm = run->mm;
	unsigned long limit = run->cursor + NUMAMIG_STEP_BYTES;
	unsigned long end, np = 0;
	struct vm_area_struct *vma;
	int ret = 0;

	if (!mmget_not_zero(mm)) {
		run->gone = true;
		return 0;
	}
	mmap_read_lock(mm);
	while (run->cursor < limit) {
		vma = find_vma(mm, run->cursor);
		if (!vma) {
			run->walk_done = true;
			break;
		}
		run->cursor = max(run->cursor, vma->vm_start);
		end = min(vma->vm_end, max(limit, run->cursor + PMD_SIZE));
		if (!numamig_vma_migratable(vma)) {
			numamig_skip_vma(run, vma, run->cursor, end);
			run->cursor = end;
			continue;
		}
		ret = numamig_walk_range(mm, run->cursor, end, 0,
					 numamig_collect_page, run, &np);
		if (ret == NUMAMIG_WALK_GROW) {
			run->cursor = run->resume;
			if (run->grow_l)
				ret = numamig_larges_grow(run->grow_l);
			else
				ret = numamig_addrs_reserve(run->grow,
							    HPAGE_PMD_NR);
			run->grow_l = NULL;
			if (ret)
				break;
			continue;
		}
		if (ret == NUMAMIG_WALK_FULL) {
			run->cursor = run->resume;
			ret = 0;
			break;
		}
		run->cursor = end;
	}
	mmap_read_unlock(mm);
	mmput(mm);
	run->st.skipped[NUMAMIG_SKIP_SWAPPED] += np;
	return ret;
}

/* ---- the hot-page sampling window (mild, severe) ---- */

static int numamig_nop_page(const struct numamig_pte_info *info, void *data)
{
	return 0;
}

/*
 * Clear every Accessed bit of the migratable mappings, then wait one
 * window: afterwards a set bit means "used during the window".  Without
 * this every page ever faulted in would look referenced (the bit is set
 * at fault time).  The window is t clamped to [50 ms, 1 s].
 */
static void numamig_sample_window(struct numamig_run *run)
{
	struct mm_struct *mm = run->mm;
	struct vm_area_struct *vma;
	unsigned long addr = 0, end;
	unsigned int window;

	if (!mmget_not_zero(mm)) {
		run->gone = true;
		return;
	}
	mmap_read_lock(mm);
	while ((vma = find_vma(mm, addr)) &&
	       !numamig_job_should_stop(run->job)) {
		addr = max(addr, vma->vm_start);
		end = min(vma->vm_end, addr + NUMAMIG_STEP_BYTES);
		if (numamig_vma_migratable(vma))
			numamig_walk_range(mm, addr, end,
					   NUMAMIG_WALK_CLEAR_YOUNG |
					   NUMAMIG_WALK_ANON_ONLY,
					   numamig_nop_page, NULL, NULL);
		addr = end;
		numamig_mmap_yield(mm);
	}
	mmap_read_unlock(mm);
	numamig_flush_tlb_mm(mm);
	mmput(mm);

	spin_lock(&run->job->lock);
	window = clamp_t(u32, run->job->sleep_ms, NUMAMIG_WINDOW_MIN_MS,
			 NUMAMIG_WINDOW_MAX_MS);
	spin_unlock(&run->job->lock);
	wait_event_interruptible_timeout(run->job->kick_wq,
					 numamig_job_should_stop(run->job),
					 msecs_to_jiffies(window));
	run->batch_start_ns = ktime_get_ns();
}

/* ---- the severe policy's recheck ---- */

struct numamig_recheck {
	struct numamig_run *run;
	size_t first;		/* rem index of the range's first page */
	unsigned long start;	/* its address */
	unsigned long end;
};

/* Recheck callback: a page of @rem used since: move it to @hot. */
static int numamig_recheck_page(const struct numamig_pte_info *info,
				void *data)
{
	struct numamig_recheck *rc = data;
	struct numamig_run *run = rc->run;
	unsigned long a = max(info->addr, rc->start);
	unsigned long e = min(info->addr + info->nr * PAGE_SIZE, rc->end);
	size_t idx;

	run->st.rechecks += (e - a) >> PAGE_SHIFT;
	if (!info->young)
		return 0;
	for (; a < e; a += PAGE_SIZE) {
		idx = rc->first + ((a - rc->start) >> PAGE_SHIFT);
		run->hot.addr[run->hot.nr++] = a;
		run->rem.addr[idx] |= 1;	/* taken; addresses are aligned */
	}
	return run->hot.nr >= run->batch ? NUMAMIG_WALK_FULL : 0;
}

/* Drop the entries the recheck took from @rem. */
static void numamig_rem_compact(struct numamig_run *run)
{
	size_t i, out = run->rem_head;

	for (i = run->rem_head; i < run->rem.nr; i++)
		if (!(run->rem.addr[i] & 1))
			run->rem.addr[out++] = run->rem.addr[i];
	run->rem.nr = out;
}

/*
 * Severe: test-and-clear the Accessed bit of every page still on @rem and
 * queue the ones used since on @hot (up to n).  O(N) per round, O(N^2 / n)
 * for the job, as the paper says.
 */
static int numamig_severe_recheck(struct numamig_run *run)
{
	struct numamig_recheck rc = { .run = run };
	struct mm_struct *mm = run->mm;
	struct vm_area_struct *vma;
	size_t i = run->rem_head, n;
	unsigned long limit;
	int ret;

	ret = numamig_addrs_reserve(&run->hot, run->batch + HPAGE_PMD_NR);
	if (ret)
		return ret;
	if (!mmget_not_zero(mm)) {
		run->gone = true;
		return 0;
	}
	mmap_read_lock(mm);
	while (i < run->rem.nr && run->hot.nr < run->batch) {
		vma = find_vma(mm, run->rem.addr[i]);
		if (!vma || vma->vm_start > run->rem.addr[i]) {
			i++;	/* unmapped: the migration step counts it */
			continue;
		}
		limit = min(vma->vm_end,
			    pmd_addr_end(run->rem.addr[i], vma->vm_end));
		n = numamig_span_len(run->rem.addr + i, run->rem.nr - i, limit);
		rc.first = i;
		rc.start = run->rem.addr[i];
		rc.end = rc.start + n * PAGE_SIZE;
		numamig_walk_range(mm, rc.start, rc.end,
				   NUMAMIG_WALK_CLEAR_YOUNG | NUMAMIG_WALK_ANON_ONLY,
				   numamig_recheck_page, &rc, NULL);
		i += n;
		numamig_mmap_yield(mm);
	}
	mmap_read_unlock(mm);
	numamig_flush_tlb_mm(mm);
	mmput(mm);
	numamig_rem_compact(run);
	return 0;
}

/* ---- the phases ---- */

static int numamig_run_state(struct numamig_run *run)
{
	if (run->gone)
		return NUMAMIG_STATE_EXITED;
	if (numamig_job_should_stop(run->job))
		return NUMAMIG_STATE_CANCELLED;
	return NUMAMIG_STATE_RUNNING;
}

/* Phase 1: walk the address space, moving @hot whenever it is full. */
static int numamig_walk_phase(struct numamig_run *run, int *error)
{
	int state, ret;

	while (!run->walk_done) {
		run->batch = numamig_run_batch(run);
		ret = numamig_addrs_reserve(&run->hot, HPAGE_PMD_NR);
		if (!ret)
			ret = numamig_walk_step(run);
		if (ret) {
			*error = -ret;
			return NUMAMIG_STATE_FAILED;
		}
		state = numamig_run_state(run);
		if (state != NUMAMIG_STATE_RUNNING)
			return state;
		if (numamig_hot_full(run) ||
		    (run->walk_done && numamig_hot_pages(run))) {
			numamig_flush_hot(run);
			run->st.batches++;
			numamig_run_publish(run);
			/* No sleep after the very last batch. */
			if (!run->walk_done || run->rem_head < run->rem.nr ||
			    run->rem_l_head < run->rem_l.nr)
				numamig_throttle(run, 0);
		} else {
			numamig_run_publish(run);
			cond_resched();
		}
	}
	run->st.walk_done_ns = ktime_get_ns() - run->job->start_ns;
	return numamig_run_state(run);
}

/* One batch of the large folios left on @rem_l. */
static void numamig_rem_larges(struct numamig_run *run)
{
	size_t k, done, j;

	k = numamig_larges_take(&run->rem_l, run->rem_l_head, run->batch);
	done = numamig_move_larges(run, run->rem_l.v + run->rem_l_head, k,
				   false);
	for (j = 0; j < done; j++)
		run->rem_l_done += run->rem_l.v[run->rem_l_head + j].nr;
	run->rem_l_head += done;
}

/* Phase 2 (mild, severe): move @rem n pages at a time. */
static int numamig_rem_phase(struct numamig_run *run, int *error)
{
	size_t take, done;
	int state, ret;

	while (run->rem_l_head < run->rem_l.nr) {
		run->batch = numamig_run_batch(run);
		numamig_rem_larges(run);
		run->st.batches++;
		state = numamig_run_state(run);
		if (state != NUMAMIG_STATE_RUNNING)
			return state;
		numamig_run_publish(run);
		if (run->rem_l_head < run->rem_l.nr ||
		    run->rem_head < run->rem.nr)
			numamig_throttle(run, 0);
	}
	while (run->rem_head < run->rem.nr) {
		run->batch = numamig_run_batch(run);
		take = run->batch;
		if (run->job->policy == NUMAMIG_POLICY_SEVERE) {
			ret = numamig_severe_recheck(run);
			if (ret) {
				*error = -ret;
				return NUMAMIG_STATE_FAILED;
			}
			take -= min_t(size_t, run->hot.nr, take);
			numamig_flush_hot(run);
		}
		take = min_t(size_t, take, run->rem.nr - run->rem_head);
		done = numamig_migrate_list(run, run->rem.addr + run->rem_head,
					    take, false);
		run->rem_head += done;
		run->st.batches++;
		state = numamig_run_state(run);
		if (state != NUMAMIG_STATE_RUNNING)
			return state;
		numamig_run_publish(run);
		if (run->rem_head < run->rem.nr)
			numamig_throttle(run, 0);
	}
	return NUMAMIG_STATE_RUNNING;
}

static struct numamig_run *numamig_run_alloc(struct numamig_job *job)
{
	struct numamig_run *run;

	run = kvzalloc(sizeof(*run), GFP_KERNEL);
	if (!run)
		return NULL;
	run->job = job;
	run->mm = job->mm;
	run->prioritized = job->policy == NUMAMIG_POLICY_MILD ||
			   job->policy == NUMAMIG_POLICY_SEVERE;
	run->move_shared = job->flags & NUMAMIG_MIGRATE_MOVE_SHARED;
	run->keep_huge = job->flags & NUMAMIG_MIGRATE_KEEP_HUGE;
	run->est_anon = numamig_mm_anon_pages(job->mm);
	run->cpu_start = numamig_thread_cpu_ns();
	run->batch_start_ns = ktime_get_ns();
	return run;
}

/**
 * numamig_migrate_run() - run a job to its end, on the job's thread
 * @job:   the job.
 * @error: (out) positive errno when the result is NUMAMIG_STATE_FAILED.
 *
 * Return: the final enum numamig_state.
 */
int numamig_migrate_run(struct numamig_job *job, int *error)
{
	struct numamig_run *run;
	int state;

	run = numamig_run_alloc(job);
	if (!run) {
		*error = ENOMEM;
		return NUMAMIG_STATE_FAILED;
	}
	if (run->prioritized)
		numamig_sample_window(run);
	state = numamig_run_state(run);
	if (state == NUMAMIG_STATE_RUNNING)
		state = numamig_walk_phase(run, error);
	if (state == NUMAMIG_STATE_RUNNING)
		state = numamig_rem_phase(run, error);
	if (state == NUMAMIG_STATE_RUNNING) {
		state = NUMAMIG_STATE_DONE;
		if (run->st.skipped[NUMAMIG_SKIP_NOMEM]) {
			state = NUMAMIG_STATE_FAILED;
			*error = ENOMEM;
		}
	}
	numamig_run_publish(run);
	numamig_addrs_free(&run->hot);
	numamig_addrs_free(&run->rem);
	numamig_larges_free(&run->hot_l);
	numamig_larges_free(&run->rem_l);
	kvfree(run);
	return state;
}
