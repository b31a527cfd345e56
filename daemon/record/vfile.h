/* vfile.h - a virtual file as a list of extents, each either bytes held in
 * memory or a byte range of a store file. Its size is known when it is
 * built, every range reads the same on every read, and file ranges can be
 * answered zero-copy. Refcounted: handles keep it after the name is gone.
 *
 * Store files are held open through one process-wide pool bounded in fds
 * (vfile_set_fd_budget): the least recently used fd is closed when the pool
 * is full and opened again, the same file checked by its identity, when a
 * read needs it. A vfile holds fds only while a handle has it open. */
#ifndef CAMFS_VFILE_H
#define CAMFS_VFILE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct vfile_extent {
	uint64_t start;          /* offset in the virtual file */
	uint64_t len;
	const uint8_t *data;     /* in-memory bytes, or NULL for a file range */
	int src;                 /* file range: the vfile's source (vfile_pin) */
	uint64_t pos;            /* file range: offset in that file */
};

struct vfile_source;

struct vfile {
	atomic_int refs;
	uint64_t size;
	struct vfile_extent *ext;
	size_t n_ext, cap_ext;
	uint8_t **owned;         /* memory the extents point into */
	size_t n_owned, cap_owned;
	struct vfile_source **src; /* the files the extents read */
	size_t n_src, cap_src;
	int handles;             /* open handles; guarded by the pool's lock */
};

/* An empty vfile with refs = 1, or NULL. */
struct vfile *vfile_new(void);
struct vfile *vfile_ref(struct vfile *v);
/* Drops a reference; frees memory and closes fds on the last. NULL ok. */
void vfile_unref(struct vfile **v);

/* Appends len bytes of data, which the vfile takes ownership of (freed
 * with it). On failure data is freed too. 0 or -ENOMEM. */
int vfile_add_owned(struct vfile *v, uint8_t *data, size_t len);
/* Takes ownership of fd, held until the vfile is freed and never opened
 * again (a file with no name: tests). Returns its source slot for
 * vfile_add_range, or -ENOMEM (fd closed). */
int vfile_add_fd(struct vfile *v, int fd);
/* Takes ownership of fd, an open of store file path (vfile_open_file),
 * into the pool: it may be closed when the pool is full and reopened by
 * path. Returns its source slot, or negative errno (fd closed). */
int vfile_add_file(struct vfile *v, const char *store, const char *path, int fd);
/* Appends bytes [pos, pos+len) of the file in slot; merged with the
 * previous extent when it continues it. 0 or -ENOMEM. */
int vfile_add_range(struct vfile *v, int slot, uint64_t pos, uint64_t len);

/* The pieces covering [off, off+size) clipped to the file: fills out (at
 * most max) with extents whose start/len/pos are trimmed to the request.
 * Returns the number of pieces (0 at or past the end). With out NULL, fills
 * nothing and returns how many pieces the whole range needs (max ignored):
 * a clip has one extent per segment, so a read can need any number. */
size_t vfile_slice(const struct vfile *v, uint64_t off, size_t size,
		   struct vfile_extent *out, size_t max);

/* The fd of source src, opened again if the pool closed it, kept open until
 * vfile_unpin. -EMFILE when the pool is full of pinned fds, -EIO when the
 * file is gone or another file has its name (logged). */
int vfile_pin(struct vfile *v, int src);
void vfile_unpin(struct vfile *v, int src);
/* A handle (an open file) begins or stops using v. The first opens v's
 * files as far as the pool's budget allows (what is open stays readable if
 * retention deletes it); when the last one stops, v's pooled fds are closed
 * (a later read opens them again). */
void vfile_handle_open(struct vfile *v);
void vfile_handle_close(struct vfile *v);
/* Closes v's pooled fds if no handle holds v: a build kept for lookups
 * holds no fd. */
void vfile_close_fds(struct vfile *v);
/* The identity of source src (device, inode, birth time), for validators. */
void vfile_source_id(const struct vfile *v, int src, uint64_t id[4]);

/* Opens store file path (store_open_file) for vfile_add_file, making room
 * in the pool first; at EMFILE/ENFILE closes pooled fds nobody reads and
 * tries again. Negative errno when even that fails. */
int vfile_open_file(const char *store, const char *path);
/* The most fds the pool holds (default: no bound). */
void vfile_set_fd_budget(size_t n);
size_t vfile_fds_budget(void);
/* Fds the pool holds now (tests). */
size_t vfile_fds_open(void);
/* Closes up to n pooled fds nobody is reading, handle-less vfiles' first,
 * for an fd more urgent (the writer's next segment). How many it closed. */
size_t vfile_shed_fds(size_t n);

#endif
