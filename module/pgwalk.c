// SPDX-License-Identifier: GPL-2.0
/*
 * Walk a process's page tables and report each present page,
 * with its node and whether it was referenced.
 *
 * walk_page_range() is not exported, so the walk goes PMD by PMD: a huge
 * PMD (THP) is reported whole, a PTE table is handed to the exported
 * apply_to_existing_page_range(), which takes the PTE lock for us and
 * skips empty PTEs.  That helper WARNs on a huge PMD, so it only ever sees
 * PMDs we found pointing to a table; under mmap_read_lock a table cannot
 * turn into a huge PMD (khugepaged collapses under mmap_write_lock).
 */
#define pr_fmt(fmt) "numamig: " fmt

#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/huge_mm.h>
#include <linux/hugetlb.h>
#include <linux/page-flags.h>
#include "numamig.h"
#include "numamig_compat.h"

static bool numamig_page_referenced(struct page *page)
{
	return folio_test_referenced(page_folio(page));
}

struct numamig_walk_ctx {
	numamig_page_fn fn;
	void *data;
	unsigned int flags;
	unsigned long not_present;
};

/* Find the PMD covering @addr, or NULL when no table reaches it. */
static pmd_t *numamig_find_pmd(struct mm_struct *mm, unsigned long addr)
{
	pgd_t *pgd;
	p4d_t *p4d;
	pud_t *pud;

	pgd = pgd_offset(mm, addr);
	if (pgd_none(*pgd) || pgd_bad(*pgd))
		return NULL;
	p4d = p4d_offset(pgd, addr);
	if (p4d_none(*p4d) || p4d_bad(*p4d))
		return NULL;
	pud = pud_offset(p4d, addr);
	if (pud_none(*pud) || pud_bad(*pud))
		return NULL;
	return pmd_offset(pud, addr);
}

/*
 * Reclaim and the Accessed bit.  Clearing a bit takes away what reclaim
 * would have read from it (folio_referenced()).  We keep reclaim's view of
 * *hot* pages intact this way: the engine clears the bits once, at the
 * start of a sampling window, and afterwards only tests them, so every page
 * used during the window shows the bit to reclaim exactly as before.  What
 * the clear consumed is the bit of pages left untouched for the whole
 * window, which reclaim's own aging would have consumed in the same way.
 * The severe policy's recheck clears bits again, but only to move the pages
 * it finds young right away; the engine then sets PG_referenced on their
 * new pages, and migration on 6.1 does not carry the Accessed bit anyway.
 */
static int numamig_walk_pte(pte_t *ptep, unsigned long addr, void *data)
{
	struct numamig_walk_ctx *ctx = data;
	struct numamig_pte_info info;
	pte_t pte = ptep_get(ptep);
	unsigned long pfn;

	if (!pte_present(pte)) {
		ctx->not_present++;
		return 0;
	}
	pfn = pte_pfn(pte);
	if (pte_special(pte) || is_zero_pfn(pfn) || !pfn_valid(pfn))
		return 0;

	info.addr = addr;
	info.page = pfn_to_page(pfn);
	info.anon = folio_test_anon(page_folio(info.page));
	if (!info.anon && (ctx->flags & NUMAMIG_WALK_ANON_ONLY))
		return 0;
	info.nid = page_to_nid(info.page);
	info.nr = 1;
	info.thp = false;
	if (ctx->flags & NUMAMIG_WALK_CLEAR_YOUNG)
		info.young = numamig_ptep_clear_young(ptep);
	else
		info.young = pte_young(pte);
	info.referenced = info.young || numamig_page_referenced(info.page);
	return ctx->fn(&info, ctx->data);
}

/*
 * Report the part of a huge PMD inside [start, end) as one unit.  Under
 * the PMD lock, so the THP cannot be zapped and freed while we look.
 */
static int numamig_walk_thp(struct mm_struct *mm, pmd_t *pmdp,
			    unsigned long start, unsigned long end,
			    struct numamig_walk_ctx *ctx)
{
	unsigned long pmd_start = start & HPAGE_PMD_MASK;
	struct numamig_pte_info info;
	spinlock_t *ptl;	/* the PMD's lock: guards *pmdp */
	pmd_t pmdval;

	ptl = pmd_lock(mm, pmdp);
	pmdval = *pmdp;
	if (!pmd_trans_huge(pmdval)) {	/* split meanwhile: next time */
		spin_unlock(ptl);
		return 0;
	}
	info.page = pmd_page(pmdval);
	/* The huge zero page is not anonymous: nothing to move there. */
	if (!folio_test_anon(page_folio(info.page))) {
		spin_unlock(ptl);
		return 0;
	}
	info.addr = start;
	info.anon = true;
	info.nid = page_to_nid(info.page);
	info.nr = (min(end, pmd_start + HPAGE_PMD_SIZE) - start) >> PAGE_SHIFT;
	info.thp = true;
	info.young = pmd_young(pmdval);
	if (ctx->flags & NUMAMIG_WALK_CLEAR_YOUNG)
		/* Same atomic bit as in a PTE (x86). */
		info.young = test_and_clear_bit(_PAGE_BIT_ACCESSED,
						(unsigned long *)pmdp);
	info.referenced = info.young || numamig_page_referenced(info.page);
	spin_unlock(ptl);
	/* Flags and node only from here: a stale view is harmless. */
	return ctx->fn(&info, ctx->data);
}

/**
 * numamig_walk_range() - report every present page in [@start, @end)
 * @mm:          the address space; the caller holds mmap_read_lock and a
 *               mm_users reference.
 * @start:       page-aligned start, inside one VMA.
 * @end:         end, inside the same VMA.
 * @flags:       NUMAMIG_WALK_*.
 * @fn:          called per page (per THP for a huge PMD).
 * @data:        passed to @fn.
 * @not_present: if not NULL, increased by the non-present PTEs seen
 *               (swapped out, migration entries).
 *
 * A THP is reported as one unit, clipped to [@start, @end).
 * @fn must return 0 or a positive value.
 *
 * Return: 0, or the first non-zero value returned by @fn.
 */
int numamig_walk_range(struct mm_struct *mm, unsigned long start,
		       unsigned long end, unsigned int flags,
		       numamig_page_fn fn, void *data,
		       unsigned long *not_present)
{
	struct numamig_walk_ctx ctx = {
		.fn = fn, .data = data, .flags = flags,
	};
	unsigned long addr, next;
	pmd_t *pmdp;
	pmd_t pmdval;
	int ret = 0;

	for (addr = start; addr < end; addr = next) {
		next = pmd_addr_end(addr, end);
		pmdp = numamig_find_pmd(mm, addr);
		if (!pmdp)
			continue;
		pmdval = numamig_pmdp_get(pmdp);
		if (pmd_none(pmdval))
			continue;
		if (pmd_trans_huge(pmdval)) {
			ret = numamig_walk_thp(mm, pmdp, addr, next, &ctx);
		} else if (!pmd_present(pmdval) || pmd_bad(pmdval)) {
			/* A THP being migrated or split right now. */
			ctx.not_present += (next - addr) >> PAGE_SHIFT;
		} else {
			ret = apply_to_existing_page_range(mm, addr,
							   next - addr,
							   numamig_walk_pte,
							   &ctx);
			/*
			 * Callbacks only return >= 0: a negative value means
			 * the table went away under us (6.5+ retracts file
			 * tables without mmap_lock).  Skip this PMD.
			 */
			if (ret < 0)
				ret = 0;
		}
		if (ret)
			break;
	}
	if (not_present)
		*not_present += ctx.not_present;
	return ret;
}

/**
 * numamig_vma_migratable() - may @vma hold pages the engine moves?
 * @vma: the VMA.
 *
 * Anonymous pages only, in private mappings: anonymous VMAs and the
 * copied-on-write pages of private file mappings (a library's written
 * data).  The file pages of such a mapping are never queued: on them
 * migrate_vma_*() would bypass the file system's own migrate callback.
 *
 * Return: true when the VMA's anonymous pages may be moved.
 */
bool numamig_vma_migratable(struct vm_area_struct *vma)
{
	if (vma->vm_flags & (VM_SHARED | VM_HUGETLB | VM_IO | VM_PFNMAP |
			     VM_MIXEDMAP))
		return false;
	/* A private file mapping never written to has no anon_vma. */
	return vma_is_anonymous(vma) || (vma->vm_file && vma->anon_vma);
}

/**
 * numamig_vma_skip_reason() - why the pages of @vma are not moved
 * @vma: a VMA for which numamig_vma_migratable() is false.
 *
 * Return: an enum numamig_skip index.
 */
int numamig_vma_skip_reason(struct vm_area_struct *vma)
{
	if (is_vm_hugetlb_page(vma))
		return NUMAMIG_SKIP_HUGETLB;
	if (vma->vm_flags & (VM_IO | VM_PFNMAP | VM_MIXEDMAP))
		return NUMAMIG_SKIP_SPECIAL;
	if (vma->vm_flags & VM_SHARED)
		return NUMAMIG_SKIP_SHARED;
	if (vma->vm_file)
		return NUMAMIG_SKIP_FILE;
	return NUMAMIG_SKIP_SPECIAL;	/* [vdso], [vvar] and the like */
}

/**
 * numamig_mmap_yield() - let mmap writers and the scheduler in
 * @mm: an mm whose mmap_read_lock the caller holds.
 *
 * Long walks call this between steps: the target's own mmap()/munmap()
 * must not wait behind us, and 6.1 queues its page faults behind them.
 * VMA pointers are stale afterwards: look them up again.
 */
void numamig_mmap_yield(struct mm_struct *mm)
{
	if (mmap_lock_is_contended(mm) || need_resched()) {
		mmap_read_unlock(mm);
		cond_resched();
		mmap_read_lock(mm);
	}
}
