// SPDX-License-Identifier: GPL-2.0
/*
 * The page-cache dumper: for each file a process has open or mapped, the
 * runs of cached pages by LRU class, so that another host can prefetch the
 * hot ones (PAPERS.md, 001/003).
 *
 * The cache is read under RCU straight from the mapping's xarray: no folio
 * reference is taken and no LRU state changes, so dumping does not make the
 * cache look hotter.  Records are built in a kernel buffer and copied out
 * with no lock held.  Each call rebuilds the file list and resumes from a
 * cursor, so no allocation grows with the whole result.
 */
#define pr_fmt(fmt) "numamig: " fmt

#include <linux/dcache.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kdev_t.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/pagemap.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/stat.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>
#include "numamig.h"
#include "numamig_compat.h"

#define NUMAMIG_HC_KBUF		(256U << 10)	/* records built per copy */
#define NUMAMIG_HC_RCU_BATCH	256		/* entries per RCU section */

/* The files of one dump, each once, with how the target holds them. */
struct numamig_hc_files {
	struct file **file;
	u32 *how;		/* NUMAMIG_HC_OPEN / _MAPPED */
	unsigned int nr;
	unsigned int cap;
	struct xarray seen;	/* real inode pointer -> index */
};

/*
 * The inode that holds @file's page cache.  A file opened through a
 * stacking file system (overlayfs) has the overlay's inode, whose mapping
 * stays empty: the cache is on the upper or lower inode, d_real_inode().
 * A file that overlayfs itself opened on the real inode (what an mmap of
 * an overlay file maps) carries that inode already.  The open file pins
 * its dentry, which pins the real one.
 */
static struct inode *numamig_hc_real_inode(struct file *file)
{
	struct inode *inode = file_inode(file);

	if (inode == d_inode(file->f_path.dentry))
		inode = d_real_inode(file->f_path.dentry);
	return inode;
}

/* Add @file once per real inode: an fd and an mmap of it are one file. */
static int numamig_hc_add(struct numamig_hc_files *fl, struct file *file,
			  u32 how, gfp_t gfp)
{
	struct inode *inode = numamig_hc_real_inode(file);
	unsigned long key = (unsigned long)inode;
	void *old;

	if (!S_ISREG(inode->i_mode))
		return 0;
	old = xa_load(&fl->seen, key);
	if (old) {
		fl->how[xa_to_value(old)] |= how;
		return 0;
	}
	if (fl->nr == fl->cap)
		return -ENOSPC;
	if (xa_err(xa_store(&fl->seen, key, xa_mk_value(fl->nr), gfp)))
		return -ENOMEM;
	fl->file[fl->nr] = get_file(file);
	fl->how[fl->nr++] = how;
	return 0;
}

static int numamig_hc_grow(struct numamig_hc_files *fl, unsigned int cap)
{
	struct file **file;
	u32 *how;

	if (cap <= fl->cap)
		return 0;
	file = kvcalloc(cap, sizeof(*file), GFP_KERNEL);
	how = kvcalloc(cap, sizeof(*how), GFP_KERNEL);
	if (!file || !how) {
		kvfree(file);
		kvfree(how);
		return -ENOMEM;
	}
	memcpy(file, fl->file, fl->nr * sizeof(*file));
	memcpy(how, fl->how, fl->nr * sizeof(*how));
	kvfree(fl->file);
	kvfree(fl->how);
	fl->file = file;
	fl->how = how;
	fl->cap = cap;
	return 0;
}

static void numamig_hc_files_free(struct numamig_hc_files *fl)
{
	unsigned int i;

	for (i = 0; i < fl->nr; i++)
		fput(fl->file[i]);
	kvfree(fl->file);
	kvfree(fl->how);
	xa_destroy(&fl->seen);
}

/* iterate_fd() callback, under the fd table's spinlock: no sleeping. */
static int numamig_hc_add_fd(const void *data, struct file *file,
			     unsigned int fd)
{
	return numamig_hc_add((struct numamig_hc_files *)data, file,
			      NUMAMIG_HC_OPEN, GFP_ATOMIC);
}

static int numamig_hc_count_fd(const void *data, struct file *file,
			       unsigned int fd)
{
	(*(unsigned int *)data)++;
	return 0;
}

/* Open files of @task, in fd order. */
static int numamig_hc_collect_fds(struct task_struct *task,
				  struct numamig_hc_files *fl)
{
	unsigned int count = 0;
	int ret;

	task_lock(task);	/* keeps task->files from going away */
	if (task->files)
		iterate_fd(task->files, 0, numamig_hc_count_fd, &count);
	task_unlock(task);

	ret = numamig_hc_grow(fl, fl->nr + count + 64);
	if (ret)
		return ret;
	task_lock(task);
	if (task->files)
		ret = iterate_fd(task->files, 0, numamig_hc_add_fd, fl);
	task_unlock(task);
	/* Files opened since the count are left for the next dump. */
	return ret == -ENOSPC ? 0 : ret;
}

/* File mappings of @task, in address order. */
static int numamig_hc_collect_maps(struct task_struct *task,
				   struct numamig_hc_files *fl)
{
	struct vm_area_struct *vma;
	struct mm_struct *mm;
	unsigned long addr = 0;
	int ret = 0;

	mm = get_task_mm(task);
	if (!mm)
		return 0;	/* exited: its mappings are gone */
	mmap_read_lock(mm);
	while (!ret && (vma = find_vma(mm, addr))) {
		addr = vma->vm_end;
		if (!vma->vm_file)
			continue;
		if (fl->nr == fl->cap)
			ret = numamig_hc_grow(fl, fl->cap * 2 + 64);
		if (!ret)
			ret = numamig_hc_add(fl, vma->vm_file,
					     NUMAMIG_HC_MAPPED, GFP_KERNEL);
	}
	mmap_read_unlock(mm);
	mmput(mm);
	return ret;
}

/*
 * The class of a cached folio, from its flags alone.  With the multi-gen
 * LRU (gen bits set) PG_active is not used: a folio read through the file
 * gets PG_referenced on the first access, PG_workingset on the second and a
 * tier count after that (folio_inc_refs()), so "more than once" is hot.
 */
static u32 numamig_hc_class(unsigned long flags)
{
	if (flags & BIT(PG_active))
		return NUMAMIG_CACHE_ACTIVE;
#ifdef CONFIG_LRU_GEN
	if ((flags & LRU_GEN_MASK) &&
	    (flags & (LRU_REFS_MASK | BIT(PG_workingset))))
		return NUMAMIG_CACHE_ACTIVE;
#endif
	if (flags & BIT(PG_referenced))
		return NUMAMIG_CACHE_REFERENCED;
	return NUMAMIG_CACHE_INACTIVE;
}

/* Where a record is being built. */
struct numamig_hc_rec {
	struct numamig_hc_file *hdr;
	struct numamig_hc_range *range;	/* next free slot */
	struct numamig_hc_range *end;	/* end of the room */
	bool open;			/* range[-1] may still grow */
};

static void numamig_hc_account(struct numamig_hc_rec *rec, unsigned long flags,
			       u32 class, u32 n)
{
	rec->hdr->pages[class] += n;
	if (flags & BIT(PG_dirty))
		rec->hdr->dirty += n;
	if (flags & BIT(PG_writeback))
		rec->hdr->writeback += n;
}

/* Add [index, index + n) of @class; false when the record is full. */
static bool numamig_hc_put(struct numamig_hc_rec *rec, pgoff_t index, u32 n,
			   u32 class)
{
	struct numamig_hc_range *last = rec->range - 1;

	if (rec->open && last->class == class &&
	    last->start + last->npages == index &&
	    last->npages <= U32_MAX - n) {
		last->npages += n;
		return true;
	}
	if (rec->range == rec->end)
		return false;
	rec->range->start = index;
	rec->range->npages = n;
	rec->range->class = class;
	rec->range++;
	rec->open = true;
	rec->hdr->nr_ranges++;
	return true;
}

/*
 * Fill @rec with the cached runs of @mapping from *@index on.  Sets *@index
 * to where the next record must start, or ULONG_MAX when the file is done.
 */
static void numamig_hc_ranges(struct address_space *mapping,
			      struct numamig_hc_rec *rec, pgoff_t *index)
{
	XA_STATE(xas, &mapping->i_pages, *index);
	unsigned int batch = 0;
	struct folio *folio;
	unsigned long flags;
	pgoff_t first, start;
	u32 n;

	rcu_read_lock();
	xas_for_each(&xas, folio, ULONG_MAX) {
		if (xas_retry(&xas, folio) || xa_is_value(folio))
			continue;	/* shadow entries are evicted pages */
		flags = READ_ONCE(folio->flags);
		/* A folio freed under us no longer belongs here: skip it. */
		if (READ_ONCE(folio->mapping) != mapping)
			continue;
		/*
		 * Page-cache folios are naturally aligned; xa_index may lie
		 * inside one when the walk resumed there.
		 */
		n = min_t(unsigned long, folio_nr_pages(folio), HPAGE_PMD_NR);
		first = xas.xa_index & ~((pgoff_t)n - 1);
		start = max_t(pgoff_t, first, *index);
		if (start >= first + n)
			continue;
		n = first + n - start;
		if (!numamig_hc_put(rec, start, n, numamig_hc_class(flags))) {
			*index = start;
			goto out;
		}
		numamig_hc_account(rec, flags, numamig_hc_class(flags), n);
		if (++batch % NUMAMIG_HC_RCU_BATCH == 0) {
			xas_pause(&xas);
			rcu_read_unlock();
			cond_resched();
			rcu_read_lock();
		}
	}
	*index = ULONG_MAX;
out:
	rcu_read_unlock();
}

/* Identity and path of @file into a fresh header; returns its size. */
static int numamig_hc_header(struct file *file, u32 how, void *buf,
			     size_t room)
{
	const struct path *user_path = numamig_file_user_path(file);
	struct numamig_hc_file *hdr = buf;
	char *path = buf + sizeof(*hdr);
	size_t max_path = min_t(size_t, room - sizeof(*hdr), PATH_MAX);
	struct kstat st;
	char *p;
	int ret;

	memset(hdr, 0, sizeof(*hdr));
	ret = vfs_getattr(user_path, &st, STATX_BASIC_STATS,
			  AT_STATX_SYNC_AS_STAT);
	if (ret)
		return ret;
	hdr->dev = new_encode_dev(st.dev);
	hdr->ino = st.ino;
	hdr->size = st.size;
	hdr->mtime_sec = st.mtime.tv_sec;
	hdr->mtime_nsec = st.mtime.tv_nsec;
	hdr->flags = how;
	if (!st.nlink)
		hdr->flags |= NUMAMIG_HC_DELETED;

	p = d_path(user_path, path, max_path);
	if (IS_ERR(p))
		p = "?";
	hdr->path_len = strlen(p) + 1;
	memmove(path, p, hdr->path_len);
	memset(path + hdr->path_len, 0, ALIGN(hdr->path_len, 8) - hdr->path_len);
	return sizeof(*hdr) + ALIGN(hdr->path_len, 8);
}

/* Smallest room in which a record of any path and one range fits. */
#define NUMAMIG_HC_REC_MIN (sizeof(struct numamig_hc_file) + PATH_MAX + \
			    sizeof(struct numamig_hc_range))

/*
 * Write records from the cursor on until the user buffer is full or every
 * file is done.  Records are built in @kbuf and copied with no lock held.
 */
static int numamig_hc_emit(struct numamig_hotcache *req,
			   struct numamig_hc_files *fl, void *kbuf,
			   size_t kbuf_size)
{
	void __user *ubuf = u64_to_user_ptr(req->buf_ptr);
	u64 fileno = req->cursor[0];
	pgoff_t index = req->cursor[1];
	struct numamig_hc_rec rec;
	size_t off = 0, room;
	struct file *file;
	int hlen;

	while (fileno < fl->nr) {
		room = min_t(size_t, req->buf_size - off, kbuf_size);
		if (room < NUMAMIG_HC_REC_MIN)
			break;
		file = fl->file[fileno];
		if ((req->flags & NUMAMIG_HOTCACHE_SYNC) && index == 0)
			vfs_fsync(file, 1);	/* data, best effort */
		hlen = numamig_hc_header(file, fl->how[fileno], kbuf, room);
		if (hlen < 0) {		/* cannot stat it: leave it out */
			fileno++;
			index = 0;
			continue;
		}
		rec.hdr = kbuf;
		rec.range = kbuf + hlen;
		rec.end = rec.range + (room - hlen) / sizeof(*rec.range);
		rec.open = false;
		numamig_hc_ranges(numamig_hc_real_inode(file)->i_mapping,
				  &rec, &index);
		if (index != ULONG_MAX)
			rec.hdr->flags |= NUMAMIG_HC_CONTINUED;
		rec.hdr->rec_size = (void *)rec.range - kbuf;
		if (copy_to_user(ubuf + off, kbuf, rec.hdr->rec_size))
			return -EFAULT;
		off += rec.hdr->rec_size;
		req->nr_files++;
		if (index == ULONG_MAX) {
			fileno++;
			index = 0;
		}
	}
	req->cursor[0] = fileno;
	req->cursor[1] = index;
	req->bytes = off;
	req->done = fileno >= fl->nr;
	return 0;
}

static int numamig_hc_collect(struct numamig_hotcache *req,
			      struct numamig_hc_files *fl)
{
	struct task_struct *task;
	struct file *file;
	int ret;

	if (req->flags & NUMAMIG_HOTCACHE_FD) {
		file = fget(req->fd);
		if (!file)
			return -EBADF;
		ret = numamig_hc_grow(fl, 1);
		if (!ret)
			ret = numamig_hc_add(fl, file, NUMAMIG_HC_OPEN,
					     GFP_KERNEL);
		fput(file);
		return ret;
	}
	ret = numamig_target_task(req->pid, &task);
	if (ret)
		return ret;
	ret = numamig_hc_collect_fds(task, fl);
	if (!ret)
		ret = numamig_hc_collect_maps(task, fl);
	put_task_struct(task);
	return ret;
}

/**
 * numamig_hotcache() - dump the page cache of a process's files
 * @req: the validated request: pid or fd, buffer and cursor in; bytes,
 *       nr_files, done and the new cursor out.
 *
 * Context: process context of the ioctl caller; may sleep.
 * Return: 0, -EBADF, -EFAULT, -ENOMEM, or the errors of
 * numamig_target_task().
 */
int numamig_hotcache(struct numamig_hotcache *req)
{
	struct numamig_hc_files fl = { };
	size_t kbuf_size = min_t(u64, req->buf_size, NUMAMIG_HC_KBUF);
	void *kbuf;
	int ret;

	xa_init(&fl.seen);
	ret = numamig_hc_collect(req, &fl);
	if (ret)
		goto out;
	ret = -ENOMEM;
	kbuf = kvmalloc(kbuf_size, GFP_KERNEL);
	if (!kbuf)
		goto out;
	req->nr_files = 0;
	ret = numamig_hc_emit(req, &fl, kbuf, kbuf_size);
	kvfree(kbuf);
out:
	numamig_hc_files_free(&fl);
	return ret;
}
