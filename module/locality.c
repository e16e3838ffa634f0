// SPDX-License-Identifier: GPL-2.0
/*
 * Where a process's anonymous pages are, and which of them
 * are referenced: what numamigctl locality shows while a job runs.
 */
#define pr_fmt(fmt) "numamig: " fmt

#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/sched/mm.h>
#include "numamig.h"
#include "numamig_compat.h"

#define NUMAMIG_LOCALITY_STEP	(64UL << 20)	/* VA per lock check */

struct numamig_locality_ctx {
	struct numamig_locality *loc;
	bool since_clear;
};

static int numamig_locality_page(const struct numamig_pte_info *info,
				 void *data)
{
	struct numamig_locality_ctx *ctx = data;
	bool referenced = ctx->since_clear ? info->young : info->referenced;

	if (info->nid >= NUMAMIG_LOCALITY_NODES)
		return 0;
	ctx->loc->pages[info->nid] += info->nr;
	if (referenced)
		ctx->loc->referenced[info->nid] += info->nr;
	return 0;
}

/**
 * numamig_locality() - count a process's anonymous pages per node
 * @loc: the validated request; @loc->pid in, the counts out.
 *
 * Context: process context of the ioctl caller; may sleep.
 * Return: 0 or the errors of numamig_target_mm().
 */
int numamig_locality(struct numamig_locality *loc)
{
	struct numamig_locality_ctx ctx = {
		.loc = loc,
		.since_clear = loc->flags & NUMAMIG_LOCALITY_CLEAR,
	};
	unsigned int flags = NUMAMIG_WALK_ANON_ONLY;
	struct vm_area_struct *vma;
	struct mm_struct *mm;
	unsigned long addr = 0, end;
	int ret;

	ret = numamig_target_mm(loc->pid, false, &mm);
	if (ret)
		return ret;

	loc->nr_nodes = min_t(u32, nr_node_ids, NUMAMIG_LOCALITY_NODES);
	memset(loc->pages, 0, sizeof(loc->pages));
	memset(loc->referenced, 0, sizeof(loc->referenced));

	if (ctx.since_clear)
		flags |= NUMAMIG_WALK_CLEAR_YOUNG;
	ret = mmap_read_lock_killable(mm);
	if (ret)
		goto out_put;
	while ((vma = find_vma(mm, addr))) {
		addr = max(addr, vma->vm_start);
		end = min(vma->vm_end, addr + NUMAMIG_LOCALITY_STEP);
		if (numamig_vma_migratable(vma))
			numamig_walk_range(mm, addr, end, flags,
					   numamig_locality_page, &ctx, NULL);
		addr = end;
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		numamig_mmap_yield(mm);
	}
	mmap_read_unlock(mm);
	if (ctx.since_clear)
		numamig_flush_tlb_mm(mm);
out_put:
	mmput(mm);
	return ret;
}
