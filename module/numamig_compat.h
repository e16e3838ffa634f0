/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one place where kernel versions differ.
 *
 * numamig builds on Debian 12's 6.1 and 6.12 kernels.  Everything that
 * is spelled differently between them lives here, so the rest of the
 * module reads as plain kernel code.
 */
#ifndef _NUMAMIG_COMPAT_H
#define _NUMAMIG_COMPAT_H

#include <linux/version.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/pgtable.h>
#include <linux/sched.h>
#include <linux/smp.h>
#include <asm/tlbflush.h>

/*
 * Test and clear the Accessed bit of a PTE whose page-table lock we hold.
 * ptep_test_and_clear_young() is out of line on x86 and not exported; it
 * is a single atomic bit operation there, which we repeat.  The atomic op
 * matters: the CPU may set Dirty in the same word concurrently.  Like the
 * kernel's version it does not flush the TLB: callers that need the bit to
 * come back on the next access flush once per pass with
 * numamig_flush_tlb_mm().
 */
#ifdef CONFIG_X86
static inline bool numamig_ptep_clear_young(pte_t *ptep)
{
	if (!pte_young(ptep_get(ptep)))
		return false;
	return test_and_clear_bit(_PAGE_BIT_ACCESSED,
				  (unsigned long *)&ptep->pte);
}

static void numamig_flush_tlb_local(void *unused)
{
	__flush_tlb_all();
}

/*
 * Make the CPUs that run @mm forget its translations, so a page used after
 * its Accessed bit was cleared sets the bit again.  flush_tlb_mm_range() is
 * not exported; the exported __flush_tlb_all() on each CPU of the mm (one
 * IPI each) does the same job a little more broadly, once per pass.
 */
static inline void numamig_flush_tlb_mm(struct mm_struct *mm)
{
	on_each_cpu_mask(mm_cpumask(mm), numamig_flush_tlb_local, NULL, true);
}
#else
#error "numamig: numamig_ptep_clear_young() needs a port to this architecture"
#endif

/*
 * Is this anonymous page mapped by another process too (fork, KSM)?  6.1
 * counts mappings per page; 6.12 only per folio, where a PTE-mapped THP
 * has one mapping per page, so it asks the folio's own estimate.
 */
static inline bool numamig_page_shared(struct page *page)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
	return folio_likely_mapped_shared(page_folio(page));
#else
	return page_mapcount(page) > 1;
#endif
}

/* Anonymous resident pages: an estimate of what a walk will find. */
static inline unsigned long numamig_mm_anon_pages(struct mm_struct *mm)
{
	return get_mm_counter(mm, MM_ANONPAGES);
}

/* CPU time the current thread has consumed, exact at the last switch. */
static inline u64 numamig_thread_cpu_ns(void)
{
	return current->se.sum_exec_runtime;
}

/* pmdp_get() appeared in 6.5; READ_ONCE() is what it does. */
static inline pmd_t numamig_pmdp_get(pmd_t *pmdp)
{
	return READ_ONCE(*pmdp);
}

/*
 * The path the process sees for @file.  What an mmap of an overlayfs file
 * maps is a file overlayfs opened on the real inode: 6.1 opens it with
 * open_with_fake_path(), so its f_path is the overlay's already; 6.8 made
 * it a backing file whose f_path is the real (layer) path and which keeps
 * the overlay's as its user path (FMODE_BACKING came with it).
 */
static inline const struct path *numamig_file_user_path(struct file *file)
{
#ifdef FMODE_BACKING
	return file_user_path(file);
#else
	return &file->f_path;
#endif
}

#endif /* _NUMAMIG_COMPAT_H */
